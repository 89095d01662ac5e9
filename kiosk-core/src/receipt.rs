//! The receipt as a document: what a printed ticket says, independent of any printer. The
//! devices crate turns a document into ESC/POS; `to_text` renders the same document for the
//! screen's preview and for tests.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};
use crate::payment::Approval;
use crate::pricing::Quote;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// One block of a ticket, top to bottom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "block")]
pub enum Block {
    Text {
        text: String,
        align: Align,
        bold: bool,
    },
    /// Double width and height: the order number.
    Large {
        text: String,
    },
    /// A left text and a right-aligned amount on one line.
    Columns {
        left: String,
        right: String,
        bold: bool,
    },
    Rule,
    /// A QR code (the e-receipt link).
    Qr {
        data: String,
    },
    Feed {
        lines: u8,
    },
    Cut,
}

/// A printable document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub blocks: Vec<Block>,
}

impl Document {
    fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    fn text(&mut self, text: impl Into<String>) {
        self.push(Block::Text { text: text.into(), align: Align::Left, bold: false });
    }

    fn centered(&mut self, text: impl Into<String>, bold: bool) {
        self.push(Block::Text { text: text.into(), align: Align::Center, bold });
    }

    fn columns(&mut self, left: impl Into<String>, right: impl Into<String>, bold: bool) {
        self.push(Block::Columns { left: left.into(), right: right.into(), bold });
    }

    /// Renders the document as plain text `width` characters wide (a large block takes two
    /// lines, a QR code is shown by its content, the cut by a line of scissors).
    pub fn to_text(&self, width: usize) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Text { text, align, .. } => {
                    let _ = writeln!(out, "{}", aligned(text, *align, width));
                }
                Block::Large { text } => {
                    let spaced: String = text.chars().flat_map(|c| [c, ' ']).collect();
                    let line = aligned(spaced.trim_end(), Align::Center, width);
                    let _ = writeln!(out, "{line}\n{line}");
                }
                Block::Columns { left, right, .. } => {
                    let _ = writeln!(out, "{}", columns(left, right, width));
                }
                Block::Rule => {
                    let _ = writeln!(out, "{}", "-".repeat(width));
                }
                Block::Qr { data } => {
                    let _ = writeln!(out, "{}", aligned(&format!("[QR {data}]"), Align::Center, width));
                }
                Block::Feed { lines } => out.push_str(&"\n".repeat(usize::from(*lines))),
                Block::Cut => {
                    let _ = writeln!(out, "{}", "✂".repeat(width.min(8)));
                }
            }
        }
        out
    }
}

/// A text placed in a line of `width` characters (cut when longer).
pub fn aligned(text: &str, align: Align, width: usize) -> String {
    let text: String = text.chars().take(width).collect();
    let room = width - text.chars().count();
    match align {
        Align::Left => text,
        Align::Center => format!("{}{text}", " ".repeat(room / 2)),
        Align::Right => format!("{}{text}", " ".repeat(room)),
    }
}

/// A left text and a right text on one line of `width` characters; the left one is cut to
/// make room.
pub fn columns(left: &str, right: &str, width: usize) -> String {
    if right.is_empty() {
        return left.chars().take(width).collect();
    }
    let right_len = right.chars().count();
    let room = width.saturating_sub(right_len + 1);
    let left: String = left.chars().take(room).collect();
    let gap = width.saturating_sub(left.chars().count() + right_len).max(1);
    format!("{left}{}{right}", " ".repeat(gap))
}

/// What a receipt says besides the order: who sells, and the words the law asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptHeader {
    #[serde(default)]
    pub venue: String,
    /// Address, company number, VAT number...
    #[serde(default)]
    pub lines: Vec<String>,
    /// Printed at the bottom (returns policy, thanks...).
    #[serde(default)]
    pub footer: Vec<String>,
}

/// Everything a receipt is made from.
#[derive(Clone, Debug)]
pub struct ReceiptFacts<'a> {
    pub header: &'a ReceiptHeader,
    pub order_number: &'a str,
    /// Local date and time, as printed ("2026-12-01 12:04").
    pub when: &'a str,
    pub quote: &'a Quote,
    /// The language of item names.
    pub language: &'a str,
    /// How it was paid: the terminal's approval, or a counter payment's.
    pub payment: Option<&'a Approval>,
    /// The e-receipt's address, printed as a QR code.
    pub e_receipt: Option<&'a str>,
    /// The journal's sequence number of the sale (fiscal rules ask it to be printed).
    pub journal_seq: Option<u64>,
}

/// An amount with its currency's sign, as receipts print it.
fn money(amount: Money, currency: Currency) -> String {
    match currency {
        Currency::Eur => format!("{amount} €"),
        Currency::Usd => format!("${amount}"),
        Currency::Gbp => format!("£{amount}"),
        Currency::Chf => format!("CHF {amount}"),
    }
}

/// The customer's receipt.
pub fn receipt(facts: &ReceiptFacts<'_>) -> Document {
    let quote = facts.quote;
    let currency = quote.currency;
    let mut doc = Document::default();
    doc.centered(facts.header.venue.clone(), true);
    for line in &facts.header.lines {
        doc.centered(line.clone(), false);
    }
    doc.push(Block::Rule);
    doc.centered("ORDER / COMMANDE", false);
    doc.push(Block::Large { text: facts.order_number.to_owned() });
    let mode = match quote.mode {
        crate::menu::ConsumptionMode::DineIn => "Sur place / Dine in",
        crate::menu::ConsumptionMode::TakeAway => "A emporter / Take away",
    };
    doc.centered(format!("{} - {mode}", facts.when), false);
    doc.push(Block::Rule);
    for line in &quote.lines {
        doc.columns(
            format!("{} x {}", line.quantity, line.name.get(facts.language)),
            money(line.amount, currency),
            false,
        );
        for option in &line.options {
            let price = if option.price.is_zero() { String::new() } else { format!("+{}", option.price) };
            doc.columns(format!("    + {}", option.name.get(facts.language)), price, false);
        }
        for part in &line.parts {
            doc.text(format!("    - {}", part.name.get(facts.language)));
            for option in &part.options {
                doc.text(format!("        + {}", option.name.get(facts.language)));
            }
        }
    }
    if let Some(discount) = &quote.discount {
        doc.columns(
            format!("{} ({})", discount.name.get(facts.language), discount.code),
            discount.amount.as_deduction(),
            false,
        );
    }
    doc.push(Block::Rule);
    doc.columns("TOTAL", money(quote.total, currency), true);
    let included = if quote.prices_include_tax { "TVA incluse / VAT incl." } else { "Taxes" };
    doc.text(included);
    doc.columns("  Taux/Rate   HT/Net    TVA/VAT", "TTC/Total", false);
    for tax in &quote.taxes {
        let left = format!("  {:<8} {:>8} {:>8}", tax.rate.to_string(), tax.base.to_string(), tax.tax.to_string());
        doc.columns(left, tax.total.to_string(), false);
    }
    doc.push(Block::Rule);
    match facts.payment {
        Some(approval) => {
            let card = approval.last_four.as_deref().map(|digits| format!(" **** {digits}")).unwrap_or_default();
            doc.columns(format!("{}{card}", approval.scheme.to_uppercase()), money(quote.total, currency), false);
            doc.text(format!("Ref. {}", approval.reference));
        }
        None => doc.text("A payer au comptoir / Pay at the counter"),
    }
    if let Some(seq) = facts.journal_seq {
        doc.text(format!("Journal no {seq}"));
    }
    if let Some(address) = facts.e_receipt {
        doc.centered("Ticket dematerialise / E-receipt", false);
        doc.push(Block::Qr { data: address.to_owned() });
    }
    for line in &facts.header.footer {
        doc.centered(line.clone(), false);
    }
    doc.push(Block::Feed { lines: 3 });
    doc.push(Block::Cut);
    doc
}

/// A kitchen (or bar) ticket: the order number large and what to prepare, no prices.
pub fn kitchen_ticket(order_number: &str, when: &str, quote: &Quote, lines: &[usize], language: &str) -> Document {
    let mut doc = Document::default();
    doc.push(Block::Large { text: order_number.to_owned() });
    let mode = match quote.mode {
        crate::menu::ConsumptionMode::DineIn => "SUR PLACE / DINE IN",
        crate::menu::ConsumptionMode::TakeAway => "A EMPORTER / TAKE AWAY",
    };
    doc.centered(mode, true);
    doc.centered(when.to_owned(), false);
    doc.push(Block::Rule);
    for &index in lines {
        let Some(line) = quote.lines.get(index) else { continue };
        doc.push(Block::Text {
            text: format!("{} x {}", line.quantity, line.name.get(language)),
            align: Align::Left,
            bold: true,
        });
        for option in &line.options {
            doc.text(format!("    + {}", option.name.get(language)));
        }
        for part in &line.parts {
            doc.text(format!("    - {}", part.name.get(language)));
            for option in &part.options {
                doc.text(format!("        + {}", option.name.get(language)));
            }
        }
    }
    doc.push(Block::Feed { lines: 3 });
    doc.push(Block::Cut);
    doc
}
