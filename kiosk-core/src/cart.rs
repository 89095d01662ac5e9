//! What the customer asks for, as it comes from the UI or a cart file (docs/cart-format.md).
//! Ids here are plain strings: nothing is trusted until [`crate::pricing::quote`] checks it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::menu::ConsumptionMode;

/// Chosen options by modifier group id.
pub type Choices = BTreeMap<String, Vec<String>>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cart {
    pub mode: ConsumptionMode,
    pub lines: Vec<CartLine>,
    /// A promo code the customer typed or scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    /// An item or a combo id.
    pub product: String,
    #[serde(default = "one")]
    pub quantity: u32,
    /// Options of an item.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub modifiers: Choices,
    /// For a combo: the item chosen for each slot, by slot id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, SlotChoice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotChoice {
    pub item: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub modifiers: Choices,
}

/// The most units of one line; more is almost always a slip of the finger (the quote refuses it).
pub const MAX_QUANTITY: u32 = 99;

fn one() -> u32 {
    1
}

impl Cart {
    /// A cart without a promo code.
    pub fn new(mode: ConsumptionMode, lines: Vec<CartLine>) -> Cart {
        Cart { mode, lines, promo: None }
    }

    /// Adds a line, merged into the same product with the same choices when the cart has it
    /// (up to [`MAX_QUANTITY`]).
    pub fn add(&mut self, line: CartLine) {
        match self.lines.iter_mut().find(|other| other.same_choice(&line)) {
            Some(same) => same.quantity = (same.quantity + line.quantity).min(MAX_QUANTITY),
            None => self.lines.push(line),
        }
    }

    /// "Make it a meal": the combo `meal` takes the place of as many of `made_from` (the
    /// item just added, now in the meal) as it has, that line going once none is left.
    pub fn make_a_meal(&mut self, made_from: &CartLine, meal: CartLine) {
        if let Some(index) = self.lines.iter().position(|line| line.same_choice(made_from)) {
            let line = &mut self.lines[index];
            if line.quantity > meal.quantity {
                line.quantity -= meal.quantity;
            } else {
                self.lines.remove(index);
            }
        }
        self.add(meal);
    }

    /// Sets a line's quantity, between 1 and [`MAX_QUANTITY`]; no such line changes nothing.
    pub fn set_quantity(&mut self, index: usize, quantity: u32) {
        if let Some(line) = self.lines.get_mut(index) {
            line.quantity = quantity.clamp(1, MAX_QUANTITY);
        }
    }

    /// Takes a line out; no such line changes nothing.
    pub fn remove(&mut self, index: usize) {
        if index < self.lines.len() {
            self.lines.remove(index);
        }
    }
}

impl CartLine {
    /// A line for `quantity` of an item without options.
    pub fn item(product: &str, quantity: u32) -> CartLine {
        CartLine { product: product.to_owned(), quantity, modifiers: Choices::new(), choices: BTreeMap::new() }
    }

    /// The same product with the same choices, whatever the quantities.
    pub fn same_choice(&self, other: &CartLine) -> bool {
        self.product == other.product && self.modifiers == other.modifiers && self.choices == other.choices
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn burger(cooking: &str, quantity: u32) -> CartLine {
        let mut line = CartLine::item("burger", quantity);
        line.modifiers.insert("cooking".into(), vec![cooking.into()]);
        line
    }

    fn meal(quantity: u32) -> CartLine {
        let mut line = CartLine::item("menu", quantity);
        line.choices
            .insert("main".into(), SlotChoice { item: "burger".into(), modifiers: burger("rare", 1).modifiers });
        line
    }

    #[test]
    fn the_same_choice_is_one_line() {
        let mut cart = Cart::new(ConsumptionMode::DineIn, Vec::new());
        cart.add(burger("rare", 2));
        cart.add(burger("well-done", 1));
        cart.add(burger("rare", 1));
        assert_eq!(cart.lines, [burger("rare", 3), burger("well-done", 1)]);
        cart.add(burger("rare", 98));
        assert_eq!(cart.lines[0].quantity, MAX_QUANTITY, "a line stops at the most the quote takes");
        cart.set_quantity(1, 0);
        assert_eq!(cart.lines[1].quantity, 1, "at least one");
        cart.set_quantity(7, 5);
        cart.remove(7);
        cart.remove(1);
        assert_eq!(cart.lines.len(), 1, "a line that is not there changes nothing");
    }

    #[test]
    fn a_meal_takes_the_place_of_what_it_was_made_from() {
        let mut cart = Cart::new(ConsumptionMode::DineIn, vec![burger("rare", 3), CartLine::item("cola", 1)]);
        cart.make_a_meal(&burger("rare", 1), meal(1));
        assert_eq!(cart.lines, [burger("rare", 2), CartLine::item("cola", 1), meal(1)]);
        cart.make_a_meal(&burger("rare", 2), meal(2));
        assert_eq!(cart.lines, [CartLine::item("cola", 1), meal(3)], "no burger left alone: its line goes");
        // Made from a line no longer there (the customer removed it meanwhile): just added.
        cart.make_a_meal(&burger("well-done", 1), meal(1));
        assert_eq!(cart.lines, [CartLine::item("cola", 1), meal(4)]);
    }
}
