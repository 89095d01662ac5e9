//! Stock rules: what can be sold, and when a sale crosses the low-stock threshold.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::menu::Id;

/// The live stock of one counted item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StockLevel {
    /// Units on the shelf (seats left for a showtime).
    pub on_hand: u32,
    /// Units held by payments in progress.
    pub held: u32,
    pub low_threshold: u32,
    /// Marked sold out by staff, whatever the count says.
    pub sold_out: bool,
}

impl StockLevel {
    /// Units a new sale may take.
    pub fn available(&self) -> u32 {
        if self.sold_out { 0 } else { self.on_hand.saturating_sub(self.held) }
    }
}

/// The stock of every counted item; items not in it are not counted and never run out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockLevels(BTreeMap<Id, StockLevel>);

impl StockLevels {
    pub fn new(levels: BTreeMap<Id, StockLevel>) -> StockLevels {
        StockLevels(levels)
    }

    /// Units available, or `None` for an item that is not counted.
    pub fn available(&self, item: &str) -> Option<u32> {
        self.0.get(item).map(StockLevel::available)
    }

    pub fn get(&self, item: &str) -> Option<&StockLevel> {
        self.0.get(item)
    }
}

/// Units of each item a cart needs.
pub type StockNeeds = BTreeMap<Id, u32>;

/// Why some units cannot be held.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Shortage {
    #[error("\"{0}\" is sold out")]
    SoldOut(Id),
    #[error("only {left} of \"{item}\" left")]
    NotEnough { item: Id, left: u32 },
}

/// Checks that every need can be held now.
pub fn check_available(needs: &StockNeeds, levels: &StockLevels) -> Result<(), Shortage> {
    for (item, &wanted) in needs {
        match levels.available(item.as_str()) {
            Some(0) => return Err(Shortage::SoldOut(item.clone())),
            Some(left) if left < wanted => {
                return Err(Shortage::NotEnough { item: item.clone(), left });
            }
            _ => {}
        }
    }
    Ok(())
}

/// What a sale did to an item's stock that staff should hear about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StockAlert {
    /// The count fell to or below the threshold.
    Low,
    /// The count reached zero: the item is sold out.
    Out,
}

impl StockAlert {
    pub fn as_str(self) -> &'static str {
        match self {
            StockAlert::Low => "low",
            StockAlert::Out => "out",
        }
    }
}

/// The alert, if any, when a sale takes the count from `before` to `after`. Only a crossing
/// alerts, so that each sale below the threshold does not repeat it.
pub fn alert_after_sale(before: u32, after: u32, low_threshold: u32) -> Option<StockAlert> {
    if after == 0 && before > 0 {
        Some(StockAlert::Out)
    } else if after <= low_threshold && before > low_threshold {
        Some(StockAlert::Low)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_only_on_crossing() {
        assert_eq!(alert_after_sale(6, 5, 5), Some(StockAlert::Low));
        assert_eq!(alert_after_sale(5, 4, 5), None);
        assert_eq!(alert_after_sale(2, 0, 5), Some(StockAlert::Out));
        assert_eq!(alert_after_sale(10, 9, 0), None);
        assert_eq!(alert_after_sale(1, 0, 0), Some(StockAlert::Out));
    }

    #[test]
    fn held_units_and_sold_out_flag_reduce_availability() {
        let level = StockLevel { on_hand: 5, held: 3, low_threshold: 1, sold_out: false };
        assert_eq!(level.available(), 2);
        assert_eq!(StockLevel { sold_out: true, ..level }.available(), 0);
        assert_eq!(StockLevel { held: 9, ..level }.available(), 0);
    }
}
