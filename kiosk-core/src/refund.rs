//! Refunds: what may be refunded of a paid order, for how much, at which VAT rates, and what
//! goes back on the shelf.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::money::{Money, Rounding, TaxRate};
use crate::pricing::{Quote, QuoteLine};
use crate::stock::StockNeeds;

/// Units of one line of the order (numbered from 1, as on the receipt).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineUnits {
    pub line: usize,
    pub quantity: u32,
}

/// What is refunded: everything not refunded yet, or some units of some lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundScope {
    Whole,
    Lines(Vec<LineUnits>),
}

/// A refund worked out against the order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundPlan {
    pub amount: Money,
    pub lines: Vec<LineUnits>,
    /// The amount by VAT rate, for the reports.
    pub by_rate: Vec<(TaxRate, Money)>,
    /// What goes back into stock when the refund restocks.
    pub returns: StockNeeds,
    /// Whether this refund leaves nothing of the order unrefunded.
    pub completes_order: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("the order has no line {0}")]
    NoSuchLine(usize),
    #[error("line {line} has {left} unit(s) left to refund, not {asked}")]
    TooMany { line: usize, left: u32, asked: u32 },
    #[error("nothing to refund: the order is refunded already")]
    Nothing,
    #[error("line {0} is named twice")]
    LineTwice(usize),
}

/// Works out a refund of `scope` from an order's `quote`, given the units of each line and
/// the money at each VAT rate refunded before. At each rate, the refunded lines' prices are
/// scaled to what was paid at that rate (after a discount, with tax added on top), and the
/// refund that completes the order gives back exactly what is left at each rate: refunds
/// never add up to more or less than was paid, rate by rate.
pub fn plan_refund(
    quote: &Quote,
    refunded_before: &[LineUnits],
    refunded_by_rate_before: &BTreeMap<TaxRate, Money>,
    scope: &RefundScope,
) -> Result<RefundPlan, RefundError> {
    let mut left: Vec<u32> = quote.lines.iter().map(|l| l.quantity).collect();
    for earlier in refunded_before {
        if let Some(units) = earlier.line.checked_sub(1).and_then(|i| left.get_mut(i)) {
            *units = units.saturating_sub(earlier.quantity);
        }
    }
    let lines: Vec<LineUnits> = match scope {
        RefundScope::Whole => left
            .iter()
            .enumerate()
            .filter(|(_, units)| **units > 0)
            .map(|(index, &units)| LineUnits { line: index + 1, quantity: units })
            .collect(),
        RefundScope::Lines(lines) => {
            let mut seen = Vec::new();
            for asked in lines {
                let available =
                    asked.line.checked_sub(1).and_then(|i| left.get(i)).ok_or(RefundError::NoSuchLine(asked.line))?;
                if seen.contains(&asked.line) {
                    return Err(RefundError::LineTwice(asked.line));
                }
                seen.push(asked.line);
                if asked.quantity == 0 || asked.quantity > *available {
                    return Err(RefundError::TooMany { line: asked.line, left: *available, asked: asked.quantity });
                }
            }
            lines.clone()
        }
    };
    if lines.is_empty() {
        return Err(RefundError::Nothing);
    }
    let mut by_rate: BTreeMap<TaxRate, Money> = BTreeMap::new();
    let mut returns = StockNeeds::new();
    for units in &lines {
        let line: &QuoteLine = &quote.lines[units.line - 1];
        for &(rate, line_amount) in &line.by_rate {
            // A line's amount at a rate is its per-unit share times its quantity: exact.
            let per_unit = Money::from_minor(line_amount.to_minor() / i64::from(line.quantity));
            *by_rate.entry(rate).or_default() += per_unit * units.quantity;
        }
        for (item, _) in line.needs() {
            *returns.entry(item.clone()).or_default() += units.quantity;
        }
    }
    let refunded_now: BTreeMap<usize, u32> = lines.iter().map(|l| (l.line, l.quantity)).collect();
    let completes_order =
        left.iter().enumerate().all(|(index, &units)| refunded_now.get(&(index + 1)).copied().unwrap_or(0) == units);
    // What the customer paid at each rate, and what the lines were priced at.
    let paid: BTreeMap<TaxRate, Money> = quote.taxes.iter().map(|t| (t.rate, t.total)).collect();
    let mut priced: BTreeMap<TaxRate, Money> = BTreeMap::new();
    for line in &quote.lines {
        for &(rate, amount) in &line.by_rate {
            *priced.entry(rate).or_default() += amount;
        }
    }
    let by_rate: Vec<(TaxRate, Money)> = paid
        .iter()
        .filter_map(|(&rate, &paid_at_rate)| {
            let left_at_rate = paid_at_rate - refunded_by_rate_before.get(&rate).copied().unwrap_or_default();
            let refund = if completes_order {
                left_at_rate
            } else {
                let asked = by_rate.get(&rate).copied().unwrap_or_default();
                let priced_at_rate = priced.get(&rate).copied().unwrap_or_default();
                if priced_at_rate.is_zero() {
                    Money::ZERO
                } else {
                    let scaled = asked.as_decimal() * paid_at_rate.as_decimal() / priced_at_rate.as_decimal();
                    Money::round(scaled, Rounding::Commercial).min(left_at_rate)
                }
            };
            (!refund.is_zero()).then_some((rate, refund))
        })
        .collect();
    let amount = by_rate.iter().map(|(_, amount)| *amount).sum();
    Ok(RefundPlan { amount, lines, by_rate, returns, completes_order })
}
