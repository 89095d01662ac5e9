//! What the journal records of each event (the facts, as its entries' payloads), and the X
//! and Z reports built from them: totals by VAT rate, payment method, item, category and
//! hour, with refunds and voids apart. A report depends only on journal entries, so an
//! auditor can rebuild it from an exported archive.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::journal::{EntryKind, JournalEntry};
use crate::menu::{Id, Text};
use crate::money::{Money, TaxRate};
use crate::pricing::{DiscountLine, Quote, TaxLine};
use crate::receipt::{Align, Block, Document};
use crate::refund::LineUnits;

/// A paid order, as journaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SaleFacts {
    pub order: String,
    pub order_id: i64,
    pub business_date: String,
    pub currency: String,
    pub total: Money,
    pub tax: Money,
    /// "terminal", "counter_cash" or "counter_card".
    pub method: String,
    pub payment_key: String,
    pub reference: String,
    pub taxes: Vec<TaxLine>,
    pub lines: Vec<SoldLine>,
    /// The promotion taken off the lines, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<DiscountLine>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SoldLine {
    pub product: Id,
    pub name: Text,
    pub category: Id,
    pub quantity: u32,
    pub amount: Money,
}

impl SoldLine {
    /// The lines of a quote, as a sale records them.
    pub fn from_quote(quote: &Quote) -> Vec<SoldLine> {
        quote
            .lines
            .iter()
            .map(|l| SoldLine {
                product: l.product.clone(),
                name: l.name.clone(),
                category: l.category.clone(),
                quantity: l.quantity,
                amount: l.amount,
            })
            .collect()
    }
}

/// Money given back, as journaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundFacts {
    pub order: String,
    pub order_id: i64,
    pub business_date: String,
    pub currency: String,
    pub amount: Money,
    /// The amount by VAT rate, as the order was priced.
    pub by_rate: Vec<(TaxRate, Money)>,
    pub lines: Vec<LineUnits>,
    pub restocked: bool,
    pub method: String,
    pub refund_key: String,
    pub reference: String,
    pub by: String,
}

/// An order cancelled before it was paid, as journaled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoidFacts {
    pub order: String,
    pub order_id: i64,
    pub business_date: String,
    pub currency: String,
    pub total: Money,
    pub by: String,
}

/// A day closed by a Z report, as journaled: the Z's number and what it covered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CloseFacts {
    pub z_number: u64,
    /// The journal entries the Z covers (none when nothing happened).
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub sales: Money,
    pub refunds: Money,
    pub net: Money,
    pub by: String,
    /// The registered journal key's fingerprint at the close (absent before it was recorded).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key_fingerprint: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    pub count: u32,
    pub total: Money,
}

impl Count {
    fn add(&mut self, amount: Money) {
        self.count += 1;
        self.total += amount;
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    pub quantity: u32,
    pub total: Money,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTotals {
    pub base: Money,
    pub tax: Money,
    pub total: Money,
}

/// An X (running) or Z (closing) report over a run of journal entries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// Time of the first and last entries covered.
    pub from: Option<String>,
    pub to: Option<String>,
    pub currency: Option<String>,
    pub sales: Count,
    pub taxes: BTreeMap<TaxRate, RateTotals>,
    pub by_method: BTreeMap<String, Count>,
    /// By product id; names in `names`.
    pub by_item: BTreeMap<Id, Units>,
    pub by_category: BTreeMap<Id, Units>,
    /// By local hour of the day ("12" for 12:00-12:59).
    pub by_hour: BTreeMap<String, Count>,
    pub names: BTreeMap<Id, Text>,
    /// Promotions, by code: the item and category totals are before them.
    pub discounts: BTreeMap<String, Count>,
    pub refunds: Count,
    pub refunds_by_method: BTreeMap<String, Count>,
    pub refunds_by_rate: BTreeMap<TaxRate, Money>,
    pub voids: Count,
    /// Sales less refunds.
    pub net: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("journal entry {seq} ({kind}) cannot be read: {problem}")]
pub struct ReportError {
    pub seq: u64,
    pub kind: &'static str,
    pub problem: String,
}

fn facts<T: for<'de> Deserialize<'de>>(entry: &JournalEntry) -> Result<T, ReportError> {
    serde_json::from_str(&entry.payload).map_err(|e| ReportError {
        seq: entry.seq,
        kind: entry.kind.code(),
        problem: e.to_string(),
    })
}

/// Builds the report of a run of journal entries (those since the last Z, say).
pub fn build(entries: &[JournalEntry]) -> Result<Report, ReportError> {
    let mut report = Report {
        first_seq: entries.first().map(|e| e.seq),
        last_seq: entries.last().map(|e| e.seq),
        from: entries.first().map(|e| e.at.clone()),
        to: entries.last().map(|e| e.at.clone()),
        ..Report::default()
    };
    for entry in entries {
        match entry.kind {
            EntryKind::OrderPaid => {
                let sale: SaleFacts = facts(entry)?;
                report.currency.get_or_insert(sale.currency.clone());
                report.sales.add(sale.total);
                report.by_method.entry(sale.method.clone()).or_default().add(sale.total);
                let hour = entry.at.get(11..13).unwrap_or("??").to_owned();
                report.by_hour.entry(hour).or_default().add(sale.total);
                for tax in &sale.taxes {
                    let totals = report.taxes.entry(tax.rate).or_default();
                    totals.base += tax.base;
                    totals.tax += tax.tax;
                    totals.total += tax.total;
                }
                if let Some(discount) = &sale.discount {
                    report.discounts.entry(discount.code.clone()).or_default().add(discount.amount);
                }
                for line in sale.lines {
                    add_units(&mut report.by_item, &line.product, line.quantity, line.amount);
                    add_units(&mut report.by_category, &line.category, line.quantity, line.amount);
                    report.names.entry(line.product).or_insert(line.name);
                }
            }
            EntryKind::Refund => {
                let refund: RefundFacts = facts(entry)?;
                report.refunds.add(refund.amount);
                report.refunds_by_method.entry(refund.method).or_default().add(refund.amount);
                for (rate, amount) in refund.by_rate {
                    *report.refunds_by_rate.entry(rate).or_default() += amount;
                }
            }
            EntryKind::OrderVoided => {
                let void: VoidFacts = facts(entry)?;
                report.voids.add(void.total);
            }
            EntryKind::DayClosed => {}
        }
    }
    report.net = report.sales.total - report.refunds.total;
    Ok(report)
}

fn add_units(totals: &mut BTreeMap<Id, Units>, key: &Id, quantity: u32, amount: Money) {
    let units = totals.entry(key.clone()).or_default();
    units.quantity += quantity;
    units.total += amount;
}

impl Report {
    /// The report as CSV: one row per figure, `section,key,count,quantity,base,tax,total`.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("section,key,count,quantity,base,tax,total\n");
        let mut row = |section: &str, key: &str, count: &str, quantity: &str, base: &str, tax: &str, total: &str| {
            let key =
                if key.contains([',', '"']) { format!("\"{}\"", key.replace('"', "\"\"")) } else { key.to_owned() };
            let _ = writeln!(csv, "{section},{key},{count},{quantity},{base},{tax},{total}");
        };
        row("sales", "all", &self.sales.count.to_string(), "", "", "", &self.sales.total.to_string());
        for (rate, totals) in &self.taxes {
            row(
                "vat",
                &rate.to_string(),
                "",
                "",
                &totals.base.to_string(),
                &totals.tax.to_string(),
                &totals.total.to_string(),
            );
        }
        for (method, count) in &self.by_method {
            row("payment", method, &count.count.to_string(), "", "", "", &count.total.to_string());
        }
        for (item, units) in &self.by_item {
            row("item", item.as_str(), "", &units.quantity.to_string(), "", "", &units.total.to_string());
        }
        for (category, units) in &self.by_category {
            row("category", category.as_str(), "", &units.quantity.to_string(), "", "", &units.total.to_string());
        }
        for (hour, count) in &self.by_hour {
            row("hour", hour, &count.count.to_string(), "", "", "", &count.total.to_string());
        }
        for (code, count) in &self.discounts {
            row("discount", code, &count.count.to_string(), "", "", "", &count.total.to_string());
        }
        row("refunds", "all", &self.refunds.count.to_string(), "", "", "", &self.refunds.total.to_string());
        for (method, count) in &self.refunds_by_method {
            row("refund_payment", method, &count.count.to_string(), "", "", "", &count.total.to_string());
        }
        for (rate, amount) in &self.refunds_by_rate {
            row("refund_vat", &rate.to_string(), "", "", "", "", &amount.to_string());
        }
        row("voids", "all", &self.voids.count.to_string(), "", "", "", &self.voids.total.to_string());
        row("net", "all", "", "", "", "", &self.net.to_string());
        csv
    }

    /// The report as a printable document (a title, then one line per figure), to end with
    /// what the caller adds (a Z's anchor) and a cut.
    pub fn to_document(&self, title: &str, language: &str) -> Document {
        let mut blocks = vec![Block::Text { text: title.to_owned(), align: Align::Center, bold: true }];
        let mut line = |left: String, right: String| {
            blocks.push(if right.is_empty() {
                Block::Text { text: left, align: Align::Left, bold: false }
            } else {
                Block::Columns { left, right, bold: false }
            });
        };
        if let (Some(from), Some(to)) = (&self.from, &self.to) {
            let minute = |time: &str| time.chars().take(16).collect::<String>().replace('T', " ");
            line(format!("from {}", minute(from)), String::new());
            line(format!("to   {}", minute(to)), String::new());
        }
        let currency = self.currency.as_deref().unwrap_or("");
        line(format!("SALES ({} orders)", self.sales.count), format!("{} {currency}", self.sales.total));
        for (rate, totals) in &self.taxes {
            line(format!("  VAT {rate} base {}", totals.base), format!("tax {}", totals.tax));
        }
        line("BY PAYMENT".into(), String::new());
        for (method, count) in &self.by_method {
            line(format!("  {method} ({})", count.count), count.total.to_string());
        }
        line("BY CATEGORY".into(), String::new());
        for (category, units) in &self.by_category {
            line(format!("  {category} x{}", units.quantity), units.total.to_string());
        }
        line("BY ITEM".into(), String::new());
        for (item, units) in &self.by_item {
            let name = self.names.get(item).map_or(item.as_str(), |n| n.get(language));
            line(format!("  {name} x{}", units.quantity), units.total.to_string());
        }
        for (code, count) in &self.discounts {
            line(format!("  promo {code} ({})", count.count), count.total.as_deduction());
        }
        line("BY HOUR".into(), String::new());
        for (hour, count) in &self.by_hour {
            line(format!("  {hour}h ({})", count.count), count.total.to_string());
        }
        line(format!("REFUNDS ({})", self.refunds.count), self.refunds.total.as_deduction());
        for (method, count) in &self.refunds_by_method {
            line(format!("  {method} ({})", count.count), count.total.as_deduction());
        }
        line(format!("VOIDS ({})", self.voids.count), self.voids.total.to_string());
        line("NET".into(), format!("{} {currency}", self.net));
        if let (Some(first), Some(last)) = (self.first_seq, self.last_seq) {
            line(format!("journal entries {first} to {last}"), String::new());
        }
        Document { blocks }
    }

    /// The report as text for a 42-column receipt, under `title` ("X REPORT"); `language`
    /// picks item names.
    pub fn to_text(&self, title: &str, language: &str) -> String {
        self.to_document(title, language).to_text(42)
    }
}
