//! Quoting a cart against a menu: every line checked, priced and split across VAT rates.
//!
//! Tax is computed once per rate on the sum of the amounts at that rate (not per line), so
//! the VAT lines always add up to the total VAT and the quote does not depend on line order.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cart::MAX_QUANTITY;
use crate::cart::{Cart, CartLine, Choices};
use crate::menu::{Combo, ConsumptionMode, Date, Discount, Id, Item, LocalMoment, Menu, Product, PromoTarget, Text};
use crate::money::{Currency, Money, Rounding, TaxRate, split_proportionally};
use crate::stock::{StockLevels, StockNeeds};

/// What the sale depends on besides the menu: when it happens and what is left.
#[derive(Clone, Copy, Debug)]
pub struct SaleContext<'a> {
    pub moment: LocalMoment,
    pub stock: &'a StockLevels,
    /// How often the cart's promo code was used already.
    pub promo_uses: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: Currency,
    pub mode: ConsumptionMode,
    pub prices_include_tax: bool,
    pub lines: Vec<QuoteLine>,
    /// The promotion applied, as its own line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<DiscountLine>,
    /// One line per rate, lowest rate first, after the discount.
    pub taxes: Vec<TaxLine>,
    pub total_tax: Money,
    /// What the customer pays.
    pub total: Money,
    /// Units of each counted or uncounted item the cart takes.
    pub needs: StockNeeds,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub product: Id,
    pub name: Text,
    pub category: Id,
    pub quantity: u32,
    /// One unit with its options and supplements (net of tax when prices exclude it).
    pub unit_price: Money,
    pub amount: Money,
    pub options: Vec<QuotedOption>,
    /// The chosen items of a combo, in slot order; empty for an item.
    pub parts: Vec<QuotedPart>,
    /// The line's amount by tax rate.
    pub by_rate: Vec<(TaxRate, Money)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotedOption {
    pub group: Id,
    pub option: Id,
    pub name: Text,
    pub price: Money,
    /// Counted under its id: the line takes a unit of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counted: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotedPart {
    pub slot: Id,
    pub item: Id,
    pub name: Text,
    pub supplement: Money,
    pub options: Vec<QuotedOption>,
    pub rate: TaxRate,
    /// This part's share of one combo: the combo's whole price (supplements and options
    /// included) split in proportion to the parts' own selling prices.
    pub share: Money,
}

/// A discount, shown as its own line and split across the VAT rates of what it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountLine {
    pub code: String,
    pub name: Text,
    /// Taken off the total (a positive amount).
    pub amount: Money,
    pub by_rate: Vec<(TaxRate, Money)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxLine {
    pub rate: TaxRate,
    /// Amount without tax.
    pub base: Money,
    pub tax: Money,
    /// Amount with tax.
    pub total: Money,
}

/// A cart that cannot be quoted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("the cart is empty")]
    Empty,
    #[error("line {line} ({product}): {problem}")]
    Line { line: usize, product: String, problem: LineProblem },
    #[error("promo code \"{code}\" {problem}")]
    Promo { code: String, problem: PromoProblem },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PromoProblem {
    #[error("is unknown")]
    Unknown,
    #[error("is valid from {0} only")]
    NotYet(Date),
    #[error("expired on {0}")]
    Expired(Date),
    #[error("has been used up")]
    UsedUp,
    #[error("needs a basket of at least {0}")]
    BasketTooSmall(Money),
    #[error("applies to {0}, and the cart has none")]
    NothingToDiscount(PromoTarget),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineProblem {
    UnknownProduct,
    BadQuantity(u32),
    Unavailable,
    SoldOut { item: Id },
    NotEnoughStock { item: Id, left: u32 },
    UnknownGroup { group: String },
    UnknownOption { group: Id, option: String },
    OptionTwice { group: Id, option: Id },
    TooFewOptions { group: Id, min: u32 },
    TooManyOptions { group: Id, max: u32 },
    ChoicesOnItem,
    ModifiersOnCombo,
    MissingSlot { slot: Id },
    UnknownSlot { slot: String },
    NotAllowedInSlot { slot: Id, item: String },
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineProblem::UnknownProduct => write!(f, "no such item or combo on the menu"),
            LineProblem::BadQuantity(q) => {
                write!(f, "quantity {q} is not between 1 and {MAX_QUANTITY}")
            }
            LineProblem::Unavailable => write!(f, "not available at this time"),
            LineProblem::SoldOut { item } => write!(f, "\"{item}\" is sold out"),
            LineProblem::NotEnoughStock { item, left } => {
                write!(f, "only {left} of \"{item}\" left")
            }
            LineProblem::UnknownGroup { group } => {
                write!(f, "\"{group}\" is not an option group of this item")
            }
            LineProblem::UnknownOption { group, option } => {
                write!(f, "\"{option}\" is not an option of \"{group}\"")
            }
            LineProblem::OptionTwice { group, option } => {
                write!(f, "\"{option}\" is chosen twice in \"{group}\"")
            }
            LineProblem::TooFewOptions { group, min } => {
                write!(f, "\"{group}\" needs at least {min} choice(s)")
            }
            LineProblem::TooManyOptions { group, max } => {
                write!(f, "\"{group}\" allows at most {max} choice(s)")
            }
            LineProblem::ChoicesOnItem => {
                write!(f, "combo choices given for an item that is not a combo")
            }
            LineProblem::ModifiersOnCombo => write!(f, "options belong to the combo's chosen items, not to the combo"),
            LineProblem::MissingSlot { slot } => write!(f, "nothing chosen for \"{slot}\""),
            LineProblem::UnknownSlot { slot } => {
                write!(f, "\"{slot}\" is not a slot of this combo")
            }
            LineProblem::NotAllowedInSlot { slot, item } => {
                write!(f, "\"{item}\" cannot be chosen for \"{slot}\"")
            }
        }
    }
}

/// Prices a cart: checks every line against the menu, the time and the stock, and computes
/// lines, VAT per rate and the total.
pub fn quote(menu: &Menu, cart: &Cart, context: SaleContext<'_>) -> Result<Quote, QuoteError> {
    if cart.lines.is_empty() {
        return Err(QuoteError::Empty);
    }
    let mut lines = Vec::with_capacity(cart.lines.len());
    let mut needs = StockNeeds::new();
    let mut first_line_of: BTreeMap<Id, usize> = BTreeMap::new();
    for (index, cart_line) in cart.lines.iter().enumerate() {
        let error = |problem| QuoteError::Line { line: index + 1, product: cart_line.product.clone(), problem };
        let line = quote_line(menu, cart.mode, cart_line, context.moment).map_err(error)?;
        for (item, units) in line.needs() {
            *needs.entry(item.clone()).or_default() += units;
            first_line_of.entry(item.clone()).or_insert(index);
        }
        lines.push(line);
    }
    if let Err(shortage) = crate::stock::check_available(&needs, context.stock) {
        let (item, problem) = match shortage {
            crate::stock::Shortage::SoldOut(item) => (item.clone(), LineProblem::SoldOut { item }),
            crate::stock::Shortage::NotEnough { item, left } => {
                (item.clone(), LineProblem::NotEnoughStock { item, left })
            }
        };
        let index = first_line_of[&item];
        return Err(QuoteError::Line { line: index + 1, product: cart.lines[index].product.clone(), problem });
    }
    let mut by_rate: BTreeMap<TaxRate, Money> = BTreeMap::new();
    for line in &lines {
        for &(rate, amount) in &line.by_rate {
            *by_rate.entry(rate).or_default() += amount;
        }
    }
    let discount = match &cart.promo {
        Some(code) => Some(
            discount(menu, code, &lines, context)
                .map_err(|problem| QuoteError::Promo { code: code.trim().to_ascii_uppercase(), problem })?,
        ),
        None => None,
    };
    for &(rate, amount) in discount.iter().flat_map(|d| &d.by_rate) {
        *by_rate.entry(rate).or_default() = by_rate[&rate] - amount;
    }
    let include = menu.venue.prices_include_tax;
    let taxes: Vec<TaxLine> = by_rate
        .into_iter()
        .map(|(rate, amount)| {
            if include {
                let tax = rate.tax_included_in(amount);
                TaxLine { rate, base: amount - tax, tax, total: amount }
            } else {
                let tax = rate.tax_on(amount);
                TaxLine { rate, base: amount, tax, total: amount + tax }
            }
        })
        .collect();
    Ok(Quote {
        currency: menu.venue.currency,
        mode: cart.mode,
        prices_include_tax: include,
        total_tax: taxes.iter().map(|t| t.tax).sum(),
        total: taxes.iter().map(|t| t.total).sum(),
        discount,
        taxes,
        lines,
        needs,
    })
}

impl QuoteLine {
    /// What the line takes from stock, `quantity` units each: its item or its combo's parts,
    /// and the counted options chosen for them.
    pub fn needs(&self) -> impl Iterator<Item = (&Id, u32)> {
        let items: Vec<&Id> = if self.parts.is_empty() {
            vec![&self.product]
        } else {
            self.parts.iter().map(|part| &part.item).collect()
        };
        let options = self.options.iter().chain(self.parts.iter().flat_map(|part| &part.options));
        let counted = options.filter(|option| option.counted).map(|option| &option.option);
        items.into_iter().chain(counted).map(|id| (id, self.quantity))
    }
}

fn quote_line(
    menu: &Menu,
    mode: ConsumptionMode,
    line: &CartLine,
    moment: LocalMoment,
) -> Result<QuoteLine, LineProblem> {
    let product = menu.product(&line.product).ok_or(LineProblem::UnknownProduct)?;
    if line.quantity == 0 || line.quantity > MAX_QUANTITY {
        return Err(LineProblem::BadQuantity(line.quantity));
    }
    if !product.info().is_available_at(moment) {
        return Err(LineProblem::Unavailable);
    }
    match product {
        Product::Item(item) => {
            if !line.choices.is_empty() {
                return Err(LineProblem::ChoicesOnItem);
            }
            let options = chosen_options(menu, item, &line.modifiers)?;
            let unit_price = item.info.price + options.iter().map(|o| o.price).sum();
            let rate = item_rate(menu, item, mode);
            Ok(QuoteLine {
                product: item.info.id.clone(),
                category: item.info.category.clone(),
                name: item.info.name.clone(),
                quantity: line.quantity,
                unit_price,
                amount: unit_price * line.quantity,
                options,
                parts: Vec::new(),
                by_rate: vec![(rate, unit_price * line.quantity)],
            })
        }
        Product::Combo(combo) => {
            if !line.modifiers.is_empty() {
                return Err(LineProblem::ModifiersOnCombo);
            }
            let parts = combo_parts(menu, combo, line, mode, moment)?;
            let unit_price = parts.iter().map(|p| p.share).sum();
            let mut by_rate: BTreeMap<TaxRate, Money> = BTreeMap::new();
            for part in &parts {
                *by_rate.entry(part.rate).or_default() += part.share * line.quantity;
            }
            Ok(QuoteLine {
                product: combo.info.id.clone(),
                category: combo.info.category.clone(),
                name: combo.info.name.clone(),
                quantity: line.quantity,
                unit_price,
                amount: unit_price * line.quantity,
                options: Vec::new(),
                parts,
                by_rate: by_rate.into_iter().collect(),
            })
        }
    }
}

fn item_rate(menu: &Menu, item: &Item, mode: ConsumptionMode) -> TaxRate {
    menu.tax(item.tax.as_str()).expect("a parsed menu's items name known taxes").rate(mode)
}

fn chosen_options(menu: &Menu, item: &Item, chosen: &Choices) -> Result<Vec<QuotedOption>, LineProblem> {
    if let Some(group) = chosen.keys().find(|g| !item.modifier_groups.iter().any(|id| id.as_str() == g.as_str())) {
        return Err(LineProblem::UnknownGroup { group: group.clone() });
    }
    let mut options = Vec::new();
    for group_id in &item.modifier_groups {
        let group = menu.modifier_group(group_id.as_str()).expect("a parsed menu's items name known groups");
        let picked = chosen.get(group_id.as_str()).map_or(&[][..], Vec::as_slice);
        if picked.len() < group.min as usize {
            return Err(LineProblem::TooFewOptions { group: group.id.clone(), min: group.min });
        }
        if picked.len() > group.max as usize {
            return Err(LineProblem::TooManyOptions { group: group.id.clone(), max: group.max });
        }
        let first = options.len();
        for option_id in picked {
            let option = group
                .option(option_id)
                .ok_or_else(|| LineProblem::UnknownOption { group: group.id.clone(), option: option_id.clone() })?;
            if options[first..].iter().any(|o: &QuotedOption| o.option == option.id) {
                return Err(LineProblem::OptionTwice { group: group.id.clone(), option: option.id.clone() });
            }
            options.push(QuotedOption {
                group: group.id.clone(),
                option: option.id.clone(),
                name: option.name.clone(),
                price: option.price,
                counted: option.stock.is_some(),
            });
        }
    }
    Ok(options)
}

fn combo_parts(
    menu: &Menu,
    combo: &Combo,
    line: &CartLine,
    mode: ConsumptionMode,
    moment: LocalMoment,
) -> Result<Vec<QuotedPart>, LineProblem> {
    if let Some(slot) = line.choices.keys().find(|s| !combo.slots.iter().any(|slot| slot.id.as_str() == s.as_str())) {
        return Err(LineProblem::UnknownSlot { slot: slot.clone() });
    }
    let mut chosen = Vec::with_capacity(combo.slots.len());
    for slot in &combo.slots {
        let choice =
            line.choices.get(slot.id.as_str()).ok_or_else(|| LineProblem::MissingSlot { slot: slot.id.clone() })?;
        let allowed = slot
            .choices
            .iter()
            .find(|c| c.item.as_str() == choice.item)
            .ok_or_else(|| LineProblem::NotAllowedInSlot { slot: slot.id.clone(), item: choice.item.clone() })?;
        let item = menu.item(allowed.item.as_str()).expect("a parsed menu's combo choices name known items");
        if !item.info.is_available_at(moment) {
            return Err(LineProblem::NotAllowedInSlot { slot: slot.id.clone(), item: choice.item.clone() });
        }
        let options = chosen_options(menu, item, &choice.modifiers)?;
        chosen.push((slot, item, allowed.supplement, options));
    }
    // A formula sold at one price is split as a whole, supplements and options included, in
    // proportion to what each part would sell for on its own (its price with its options).
    let options_price = |options: &[QuotedOption]| options.iter().map(|o| o.price).sum::<Money>();
    let paid =
        combo.info.price + chosen.iter().map(|(_, _, supplement, options)| *supplement + options_price(options)).sum();
    let weights: Vec<Money> =
        chosen.iter().map(|(_, item, _, options)| item.info.price + options_price(options)).collect();
    let splits = split_proportionally(paid, &weights);
    Ok(chosen
        .into_iter()
        .zip(splits)
        .map(|((slot, item, supplement, options), share)| QuotedPart {
            slot: slot.id.clone(),
            item: item.info.id.clone(),
            name: item.info.name.clone(),
            supplement,
            share,
            options,
            rate: item_rate(menu, item, mode),
        })
        .collect())
}

/// The discount a promo code gives on quoted lines, checked against its dates, uses and
/// minimum basket, and split across the VAT rates of the lines it applies to in proportion
/// to their amounts.
fn discount(
    menu: &Menu,
    code: &str,
    lines: &[QuoteLine],
    context: SaleContext<'_>,
) -> Result<DiscountLine, PromoProblem> {
    let promo = menu.promo(code).ok_or(PromoProblem::Unknown)?;
    let today = context.moment.date;
    if let Some(from) = promo.valid_from.filter(|from| today < *from) {
        return Err(PromoProblem::NotYet(from));
    }
    if let Some(until) = promo.valid_until.filter(|until| today > *until) {
        return Err(PromoProblem::Expired(until));
    }
    if promo.max_uses.is_some_and(|max| context.promo_uses >= max) {
        return Err(PromoProblem::UsedUp);
    }
    let basket: Money = lines.iter().map(|l| l.amount).sum();
    if let Some(min) = promo.min_basket.filter(|min| basket < *min) {
        return Err(PromoProblem::BasketTooSmall(min));
    }
    let applies = |line: &QuoteLine| match &promo.target {
        PromoTarget::Order => true,
        PromoTarget::Item(item) => &line.product == item,
        PromoTarget::Category(category) => &line.category == category,
    };
    let mut base_by_rate: BTreeMap<TaxRate, Money> = BTreeMap::new();
    for line in lines.iter().filter(|l| applies(l)) {
        for &(rate, amount) in &line.by_rate {
            *base_by_rate.entry(rate).or_default() += amount;
        }
    }
    let base: Money = base_by_rate.values().copied().sum();
    if base.is_zero() {
        return Err(PromoProblem::NothingToDiscount(promo.target.clone()));
    }
    let amount = match promo.discount {
        Discount::Percent(percent) => {
            Money::round(base.as_decimal() * percent / rust_decimal::Decimal::ONE_HUNDRED, Rounding::Commercial)
        }
        Discount::Amount(amount) => amount.min(base),
    };
    let weights: Vec<Money> = base_by_rate.values().copied().collect();
    let shares = split_proportionally(amount, &weights);
    Ok(DiscountLine {
        code: promo.code.clone(),
        name: promo.name.clone(),
        amount,
        by_rate: base_by_rate.into_keys().zip(shares).collect(),
    })
}
