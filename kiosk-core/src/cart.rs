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

fn one() -> u32 {
    1
}

impl Cart {
    /// A cart without a promo code.
    pub fn new(mode: ConsumptionMode, lines: Vec<CartLine>) -> Cart {
        Cart { mode, lines, promo: None }
    }
}

impl CartLine {
    /// A line for `quantity` of an item without options.
    pub fn item(product: &str, quantity: u32) -> CartLine {
        CartLine { product: product.to_owned(), quantity, modifiers: Choices::new(), choices: BTreeMap::new() }
    }
}
