//! Money as a type: decimal amounts in a currency with two minor digits, and the named
//! rounding rules every computation uses. No float ever touches a price.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Sub};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Digits after the decimal point of every supported currency.
pub const MINOR_DIGITS: u32 = 2;

/// An amount of money, always held at cent precision. In JSON it is a string with the
/// currency's two decimals ("0.00", "12.90"), whatever arithmetic made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

impl Default for Money {
    fn default() -> Self {
        Money::ZERO
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// Reads what [`Serialize`] writes, and the plain decimals of earlier releases ("0");
    /// refuses more than two decimals rather than round them.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        let value = <Decimal as Deserialize>::deserialize(deserializer)?;
        if value.normalize().scale() > MINOR_DIGITS {
            return Err(serde::de::Error::custom(format!("{value} has more than two decimals")));
        }
        Ok(Money::at_cents(value))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("\"{0}\" is not an amount (write it like \"9.50\")")]
    NotAnAmount(String),
    #[error("\"{0}\" has more than two decimals")]
    TooPrecise(String),
    #[error("\"{0}\" is negative")]
    Negative(String),
    #[error("\"{0}\" is too large")]
    TooLarge(String),
}

impl Money {
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, MINOR_DIGITS));

    /// Parses a non-negative price written as text ("9.50", "12", "0.5").
    pub fn parse_price(text: &str) -> Result<Money, MoneyError> {
        let value = Decimal::from_str(text.trim()).map_err(|_| MoneyError::NotAnAmount(text.into()))?;
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative(text.into()));
        }
        if value.normalize().scale() > MINOR_DIGITS {
            return Err(MoneyError::TooPrecise(text.into()));
        }
        if value > Decimal::from(1_000_000_000i64) {
            return Err(MoneyError::TooLarge(text.into()));
        }
        Ok(Money::at_cents(value))
    }

    /// An amount from integer minor units (cents), as stored in the database.
    pub fn from_minor(minor: i64) -> Money {
        Money(Decimal::new(minor, MINOR_DIGITS))
    }

    /// The amount in integer minor units (cents).
    pub fn to_minor(self) -> i64 {
        let mut cents = self.0;
        cents.rescale(MINOR_DIGITS);
        i64::try_from(cents.mantissa()).expect("money amounts stay far below i64 cents")
    }

    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// The amount as something taken off ("-2.00"); nothing taken off reads "0.00", never
    /// "-0.00".
    pub fn as_deduction(self) -> String {
        if self.is_zero() { self.to_string() } else { format!("-{self}") }
    }

    /// Rounds an exact decimal to the cent with [`Rounding::Commercial`].
    pub fn round(value: Decimal, rounding: Rounding) -> Money {
        Money::at_cents(value.round_dp_with_strategy(MINOR_DIGITS, rounding.strategy()))
    }

    fn at_cents(value: Decimal) -> Money {
        let mut value = value;
        value.rescale(MINOR_DIGITS);
        Money(value)
    }
}

/// The rounding rules of the engine, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Half a cent and more goes up, away from zero: the rule for VAT amounts on receipts
    /// in France and most of Europe (and for US sales tax).
    Commercial,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::Commercial => RoundingStrategy::MidpointAwayFromZero,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, other: Money) {
        self.0 += other.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0 - other.0)
    }
}

impl Mul<u32> for Money {
    type Output = Money;
    fn mul(self, quantity: u32) -> Money {
        Money(self.0 * Decimal::from(quantity))
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

/// Splits `total` across parts in proportion to `weights`, to the cent, so that the shares
/// add up exactly to `total` ("largest remainder": every share is rounded down, then the
/// cents left over go to the parts that lost the most, the earlier part first on a tie).
/// With all weights zero the total is split evenly.
pub fn split_proportionally(total: Money, weights: &[Money]) -> Vec<Money> {
    if weights.is_empty() {
        return Vec::new();
    }
    let weight_sum: Decimal = weights.iter().map(|w| w.0).sum();
    let exact: Vec<Decimal> = if weight_sum.is_zero() {
        let parts = Decimal::from(weights.len());
        weights.iter().map(|_| total.0 / parts).collect()
    } else {
        weights.iter().map(|w| total.0 * w.0 / weight_sum).collect()
    };
    let mut shares: Vec<Money> = exact
        .iter()
        .map(|e| Money::at_cents(e.round_dp_with_strategy(MINOR_DIGITS, RoundingStrategy::ToZero)))
        .collect();
    let mut left_cents = (total - shares.iter().copied().sum()).to_minor();
    let mut by_remainder: Vec<usize> = (0..shares.len()).collect();
    by_remainder.sort_by(|&a, &b| (exact[b] - shares[b].0).cmp(&(exact[a] - shares[a].0)).then(a.cmp(&b)));
    for index in by_remainder.into_iter().cycle() {
        if left_cents == 0 {
            break;
        }
        shares[index] += Money::from_minor(1);
        left_cents -= 1;
    }
    shares
}

/// A currency the kiosk can sell in: all have two minor digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "EUR")]
    Eur,
    #[serde(rename = "USD")]
    Usd,
    #[serde(rename = "GBP")]
    Gbp,
    #[serde(rename = "CHF")]
    Chf,
}

impl Currency {
    pub fn parse(code: &str) -> Option<Currency> {
        match code {
            "EUR" => Some(Currency::Eur),
            "USD" => Some(Currency::Usd),
            "GBP" => Some(Currency::Gbp),
            "CHF" => Some(Currency::Chf),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::Eur => "EUR",
            Currency::Usd => "USD",
            Currency::Gbp => "GBP",
            Currency::Chf => "CHF",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A tax rate in percent ("5.5" means 5.5 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaxRate(Decimal);

impl TaxRate {
    /// Parses a rate in percent, between 0 and 100 with at most three decimals.
    pub fn parse(text: &str) -> Option<TaxRate> {
        let value = Decimal::from_str(text.trim()).ok()?;
        let in_range = !value.is_sign_negative() && value <= Decimal::ONE_HUNDRED;
        (in_range && value.normalize().scale() <= 3).then(|| TaxRate(value.normalize()))
    }

    pub fn percent(self) -> Decimal {
        self.0
    }

    /// The tax contained in a tax-inclusive amount, rounded commercially.
    pub fn tax_included_in(self, gross: Money) -> Money {
        Money::round(gross.0 * self.0 / (Decimal::ONE_HUNDRED + self.0), Rounding::Commercial)
    }

    /// The tax to add on top of a net amount, rounded commercially.
    pub fn tax_on(self, net: Money) -> Money {
        Money::round(net.0 * self.0 / Decimal::ONE_HUNDRED, Rounding::Commercial)
    }
}

impl fmt::Display for TaxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str) -> Money {
        Money::parse_price(text).unwrap()
    }

    #[test]
    fn parses_prices_and_refuses_bad_ones() {
        assert_eq!(m("9.5").to_string(), "9.50");
        assert_eq!(m("12").to_minor(), 1200);
        assert_eq!(Money::parse_price("-1.00"), Err(MoneyError::Negative("-1.00".into())));
        assert_eq!(Money::parse_price("1.005"), Err(MoneyError::TooPrecise("1.005".into())));
        assert_eq!(Money::parse_price("abc"), Err(MoneyError::NotAnAmount("abc".into())));
        assert_eq!(Money::parse_price("1.50").unwrap(), Money::from_minor(150));
    }

    #[test]
    fn json_always_carries_two_decimals() {
        let amounts =
            [Money::ZERO, Money::default(), m("12.9"), m("3") * 2, split_proportionally(m("1"), &[m("1")])[0]];
        let json: Vec<String> = amounts.iter().map(|a| serde_json::to_string(a).unwrap()).collect();
        assert_eq!(json, ["\"0.00\"", "\"0.00\"", "\"12.90\"", "\"6.00\"", "\"1.00\""]);
        let read: Money = serde_json::from_str("\"0\"").unwrap();
        assert_eq!(serde_json::to_string(&read).unwrap(), "\"0.00\"", "older payloads read back at cents");
        assert!(serde_json::from_str::<Money>("\"9.999\"").is_err(), "never rounded on the way in");
        assert_eq!(Money::ZERO.as_deduction(), "0.00");
        assert_eq!(m("2").as_deduction(), "-2.00");
    }

    #[test]
    fn vat_included_and_added() {
        let ten = TaxRate::parse("10").unwrap();
        assert_eq!(ten.tax_included_in(m("11.00")), m("1.00"));
        let reduced = TaxRate::parse("5.5").unwrap();
        // 3.00 * 5.5 / 105.5 = 0.15639... -> 0.16
        assert_eq!(reduced.tax_included_in(m("3.00")), m("0.16"));
        let sales_tax = TaxRate::parse("8.875").unwrap();
        // 10.00 * 8.875 % = 0.8875 -> 0.89
        assert_eq!(sales_tax.tax_on(m("10.00")), m("0.89"));
        assert!(TaxRate::parse("101").is_none());
        assert!(TaxRate::parse("-5").is_none());
    }

    #[test]
    fn split_sums_exactly() {
        let shares = split_proportionally(m("10.00"), &[m("1.00"), m("1.00"), m("1.00")]);
        assert_eq!(shares, vec![m("3.34"), m("3.33"), m("3.33")]);
        let shares = split_proportionally(m("12.90"), &[m("9.50"), m("3.90"), m("3.00")]);
        assert_eq!(shares.iter().copied().sum::<Money>(), m("12.90"));
        assert_eq!(split_proportionally(m("1.00"), &[Money::ZERO, Money::ZERO]), vec![m("0.50"), m("0.50")]);
    }
}
