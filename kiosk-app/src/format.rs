//! Money and times as a customer reads them in each language.

use kiosk_engine::kiosk_core::money::{Currency, Money, TaxRate};

/// "12,50 €" in French, "€12.50" in English.
pub fn price(amount: Money, currency: Currency, language: &str) -> String {
    let digits = amount.to_string();
    let (sign, digits) = digits.strip_prefix('-').map_or(("", digits.as_str()), |rest| ("-", rest));
    let symbol = match currency {
        Currency::Eur => "€",
        Currency::Usd => "$",
        Currency::Gbp => "£",
        Currency::Chf => "CHF",
    };
    if language == "fr" {
        format!("{sign}{}\u{a0}{symbol}", digits.replace('.', ","))
    } else if currency == Currency::Chf {
        format!("{sign}{symbol}\u{a0}{digits}")
    } else {
        format!("{sign}{symbol}{digits}")
    }
}

/// An option's or supplement's extra cost ("+1,50 €"), or nothing when free.
pub fn supplement(amount: Money, currency: Currency, language: &str) -> String {
    if amount.is_zero() { String::new() } else { format!("+{}", price(amount, currency, language)) }
}

/// "5,5 %" in French, "5.5%" in English.
pub fn rate(rate: TaxRate, language: &str) -> String {
    let number = rate.percent().normalize().to_string();
    if language == "fr" { format!("{}\u{a0}%", number.replace('.', ",")) } else { format!("{number}%") }
}

/// A day of the week ahead as a chip names it: "lun. 8" in French, "Mon 8" in English.
pub fn day(date: chrono::NaiveDate, language: &str) -> String {
    use chrono::Datelike;
    const FRENCH: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
    const ENGLISH: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let names = if language == "fr" { FRENCH } else { ENGLISH };
    let weekday = names[date.weekday().num_days_from_monday() as usize];
    format!("{weekday}\u{a0}{}", date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_as_each_language_writes_them() {
        let amount = Money::parse_price("12.5").unwrap();
        assert_eq!(price(amount, Currency::Eur, "fr"), "12,50\u{a0}€");
        assert_eq!(price(amount, Currency::Eur, "en"), "€12.50");
        assert_eq!(price(Money::from_minor(-150), Currency::Gbp, "en"), "-£1.50");
        assert_eq!(supplement(Money::from_minor(0), Currency::Eur, "fr"), "");
        assert_eq!(supplement(Money::from_minor(150), Currency::Eur, "en"), "+€1.50");
        assert_eq!(rate(TaxRate::parse("5.5").unwrap(), "fr"), "5,5\u{a0}%");
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!((day(monday, "fr"), day(monday, "en")), ("lun.\u{a0}7".to_owned(), "Mon\u{a0}7".to_owned()));
    }
}
