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

/// One block of a ticket, top to bottom. Blocks say what to show; [`Document::layout`] fits
/// them to a printer's width.
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
    /// Rows of cells under header rows: the first column on the left, the others aligned
    /// right (the VAT breakdown).
    Table {
        header: Vec<Vec<String>>,
        rows: Vec<Vec<String>>,
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

/// A document laid out for one printer width: what goes on paper, line by line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Printed {
    /// One line that fits the width (half of it when large, each character being twice as
    /// wide).
    Line {
        text: String,
        align: Align,
        bold: bool,
        large: bool,
    },
    Qr {
        data: String,
    },
    Feed {
        lines: u8,
    },
    Cut,
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

    /// The same document with every text passed through `change` (a printer's code page).
    pub fn map_text(&self, change: impl Fn(&str) -> String) -> Document {
        let cells = |rows: &Vec<Vec<String>>| -> Vec<Vec<String>> {
            rows.iter().map(|row| row.iter().map(|cell| change(cell)).collect()).collect()
        };
        let blocks = self
            .blocks
            .iter()
            .map(|block| match block {
                Block::Text { text, align, bold } => Block::Text { text: change(text), align: *align, bold: *bold },
                Block::Large { text } => Block::Large { text: change(text) },
                Block::Columns { left, right, bold } => {
                    Block::Columns { left: change(left), right: change(right), bold: *bold }
                }
                Block::Table { header, rows } => Block::Table { header: cells(header), rows: cells(rows) },
                other => other.clone(),
            })
            .collect();
        Document { blocks }
    }

    /// The document laid out `width` characters wide: texts wrap at spaces (a word longer
    /// than a line is cut across lines), a columns block's left text wraps beside its amount,
    /// a table's columns are sized to their cells. Every line fits.
    pub fn layout(&self, width: usize) -> Vec<Printed> {
        let width = width.max(8);
        let line = |text: String, align: Align, bold: bool| Printed::Line { text, align, bold, large: false };
        let mut out = Vec::new();
        for block in &self.blocks {
            match block {
                Block::Text { text, align, bold } => {
                    out.extend(wrap(text, width).into_iter().map(|piece| line(piece, *align, *bold)));
                }
                Block::Large { text } => out.extend(wrap(text, width / 2).into_iter().map(|text| Printed::Line {
                    text,
                    align: Align::Center,
                    bold: false,
                    large: true,
                })),
                Block::Columns { left, right, bold } => out.extend(
                    columns_wrapped(left, right, width).into_iter().map(|piece| line(piece, Align::Left, *bold)),
                ),
                Block::Table { header, rows } => {
                    out.extend(table(header, rows, width).into_iter().map(|piece| line(piece, Align::Left, false)));
                }
                Block::Rule => out.push(line("-".repeat(width), Align::Left, false)),
                Block::Qr { data } => out.push(Printed::Qr { data: data.clone() }),
                Block::Feed { lines } => out.push(Printed::Feed { lines: *lines }),
                Block::Cut => out.push(Printed::Cut),
            }
        }
        out
    }

    /// Renders the document as plain text `width` characters wide (a large line shows
    /// spaced out twice, a QR code by its content, the cut by a line of scissors).
    pub fn to_text(&self, width: usize) -> String {
        let mut out = String::new();
        for printed in self.layout(width) {
            match printed {
                Printed::Line { text, align, large: false, .. } => {
                    let _ = writeln!(out, "{}", aligned(&text, align, width));
                }
                Printed::Line { text, align, large: true, .. } => {
                    let spaced: String = text.chars().flat_map(|c| [c, ' ']).collect();
                    let line = aligned(spaced.trim_end(), align, width);
                    let _ = writeln!(out, "{line}\n{line}");
                }
                Printed::Qr { data } => {
                    let _ = writeln!(out, "{}", aligned(&format!("[QR {data}]"), Align::Center, width));
                }
                Printed::Feed { lines } => out.push_str(&"\n".repeat(usize::from(lines))),
                Printed::Cut => {
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

/// A text in lines of at most `width` characters, broken at spaces; a word longer than a
/// line is cut across lines. A text that fits stays as it is (spaces inside it too); wrapped
/// lines keep its indentation.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_hanging(text, width, 0)
}

/// [`wrap`], with the lines after the first indented `hang` more.
fn wrap_hanging(text: &str, width: usize, hang: usize) -> Vec<String> {
    let width = width.max(1);
    if text.chars().count() <= width {
        return vec![text.to_owned()];
    }
    let indent = text.chars().take_while(|c| *c == ' ').count().min(width / 2);
    let hang = hang.min((width - indent) / 2);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let room = width - indent - if lines.is_empty() { 0 } else { hang };
            let used = current.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= room {
                if gap == 1 {
                    current.push(' ');
                }
                current.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            // A word longer than a whole line.
            let rest = word.split_off(room);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(index, line)| format!("{}{line}", " ".repeat(indent + if index == 0 { 0 } else { hang })))
        .collect()
}

/// A left text and a right text on one line of `width` characters: the left one wraps in the
/// room the right one leaves; a right text too wide to share a line gets its own.
fn columns_wrapped(left: &str, right: &str, width: usize) -> Vec<String> {
    let right_len = right.chars().count();
    if right.is_empty() {
        return wrap(left, width);
    }
    if right_len + 1 + 4 > width {
        let mut lines = wrap(left, width);
        lines.extend(wrap(right, width).into_iter().map(|piece| aligned(&piece, Align::Right, width)));
        return lines;
    }
    // The lines after the first are indented a little, so that an item's name running on
    // does not read as another item.
    let mut lines = wrap_hanging(left, width - right_len - 1, 4);
    let first = &lines[0];
    let gap = width - first.chars().count() - right_len;
    lines[0] = format!("{first}{}{right}", " ".repeat(gap));
    lines
}

/// Header rows and rows of cells in columns sized to their widest cell, the first aligned
/// left and the others right; the room left is shared between the gaps. Cells are cut when
/// even that does not fit.
fn table(header: &[Vec<String>], rows: &[Vec<String>], width: usize) -> Vec<String> {
    let all: Vec<&Vec<String>> = header.iter().chain(rows).collect();
    let count = all.iter().map(|row| row.len()).max().unwrap_or(0);
    if count == 0 {
        return Vec::new();
    }
    let mut widths: Vec<usize> = (0..count)
        .map(|c| all.iter().filter_map(|row| row.get(c)).map(|cell| cell.chars().count()).max().unwrap_or(0))
        .collect();
    let needed = widths.iter().sum::<usize>() + count - 1;
    if needed > width {
        // Share the width out evenly: values this wide are no longer read at a glance anyway.
        let each = ((width + 1) / count).saturating_sub(1).max(1);
        widths.iter_mut().for_each(|w| *w = (*w).min(each));
    }
    let extra = width.saturating_sub(widths.iter().sum::<usize>() + count - 1);
    let gaps = (count - 1).max(1);
    // Each gap gets its share of the room; the first takes what does not divide.
    let gap = |index: usize| 1 + extra / gaps + if index == 1 { extra % gaps } else { 0 };
    all.iter()
        .map(|row| {
            let mut line = String::new();
            for (index, column_width) in widths.iter().enumerate() {
                let cell: String = row.get(index).map_or("", String::as_str).chars().take(*column_width).collect();
                if index == 0 {
                    line.push_str(&format!("{cell:<column_width$}"));
                } else {
                    line.push_str(&format!("{}{cell:>column_width$}", " ".repeat(gap(index))));
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
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
    /// A training sale (a simulated terminal, or training mode): the ticket says it has no
    /// value.
    pub training: bool,
}

/// What a training ticket says at its top and bottom.
const TRAINING: [&str; 2] = ["*** FORMATION / TRAINING ***", "Ticket sans valeur / No value"];

fn training_banner(doc: &mut Document) {
    doc.push(Block::Rule);
    for line in TRAINING {
        doc.centered(line, true);
    }
    doc.push(Block::Rule);
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
    if facts.training {
        training_banner(&mut doc);
    }
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
    let words = |words: [&str; 4]| words.map(str::to_owned).to_vec();
    doc.push(Block::Table {
        header: vec![words(["Taux", "HT", "TVA", "TTC"]), words(["Rate", "Net", "VAT", "Total"])],
        rows: quote
            .taxes
            .iter()
            .map(|tax| vec![tax.rate.to_string(), tax.base.to_string(), tax.tax.to_string(), tax.total.to_string()])
            .collect(),
    });
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
    if facts.training {
        training_banner(&mut doc);
    }
    doc.push(Block::Feed { lines: 3 });
    doc.push(Block::Cut);
    doc
}

/// What a kitchen (or bar) ticket is made from.
#[derive(Clone, Debug)]
pub struct KitchenFacts<'a> {
    pub order_number: &'a str,
    /// Local date and time, as printed.
    pub when: &'a str,
    pub quote: &'a Quote,
    /// The quote's lines this printer prepares.
    pub lines: &'a [usize],
    pub language: &'a str,
    /// A training order: the kitchen sees it is practice.
    pub training: bool,
}

/// A kitchen (or bar) ticket: the order number large and what to prepare, no prices.
pub fn kitchen_ticket(facts: &KitchenFacts<'_>) -> Document {
    let KitchenFacts { order_number, when, quote, lines, language, training } = *facts;
    let mut doc = Document::default();
    if training {
        doc.centered(TRAINING[0], true);
    }
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
