//! Stock as staff see and change it.

use kiosk_core::menu::Id;
use kiosk_core::stock::StockLevel;
use kiosk_store::commit;
use kiosk_store::stock::{self as stock_table, StockChange};

use crate::clock::timestamp;
use crate::{Actor, Engine, EngineError, Result};
use kiosk_core::staff::Permission;

/// One counted item (or counted option) of the menu in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockEntry {
    pub item: Id,
    /// The name in the venue's first language.
    pub name: String,
    pub level: StockLevel,
}

impl Engine {
    /// The counted items and options of the menu in use, in menu order.
    pub async fn stock(&self) -> Result<Vec<StockEntry>> {
        let menu = self.active_menu().await?;
        let levels = stock_table::levels(&mut *self.store.read().await?).await?;
        let language = menu.menu.venue.languages.first().map_or("", String::as_str);
        Ok(menu
            .menu
            .stockables()
            .filter_map(|counted| {
                let level = *levels.get(counted.id.as_str())?;
                Some(StockEntry { item: counted.id.clone(), name: counted.name.get(language).to_owned(), level })
            })
            .collect())
    }

    /// Changes the count (set, or moved by some units), threshold or sold-out mark of an item
    /// or a counted option. An item of the menu that was not counted starts being counted
    /// when given a count or units.
    pub async fn change_stock(&self, actor: &Actor, item: &str, change: &StockChange) -> Result<StockEntry> {
        self.require(actor, Permission::Restock).await?;
        let menu = self.active_menu().await?;
        let known = menu.menu.stockable(item).ok_or_else(|| EngineError::UnknownItem(item.to_owned()))?;
        let id = known.id.clone();
        let now = timestamp(&self.now());
        let mut tx = self.store.write().await?;
        if !stock_table::change(&mut tx, &id, change, &now).await? {
            // Counting starts from the count given, or from zero when units are added.
            let on_hand = change
                .on_hand
                .or(change.adjust.map(|_| 0))
                .ok_or_else(|| EngineError::UnknownItem(format!("{item} (not counted: give it a count)")))?;
            stock_table::start_counting(&mut tx, &id, on_hand, change.low_threshold.unwrap_or(0), &now).await?;
            stock_table::change(&mut tx, &id, change, &now).await?;
        }
        self.record_action(&mut tx, actor, "stock.change", &describe(&id, change)).await?;
        commit(tx, "changing stock").await?;
        self.stock().await?.into_iter().find(|entry| entry.item == id).ok_or(EngineError::UnknownItem(item.to_owned()))
    }
}

/// "cola: count 5, low 2, sold out" for the action record.
fn describe(item: &Id, change: &StockChange) -> String {
    let mut parts = Vec::new();
    if let Some(count) = change.on_hand {
        parts.push(format!("count {count}"));
    }
    if let Some(units) = change.adjust {
        parts.push(format!("{units:+} units"));
    }
    if let Some(low) = change.low_threshold {
        parts.push(format!("low {low}"));
    }
    match change.sold_out {
        Some(true) => parts.push("sold out".to_owned()),
        Some(false) => parts.push("available".to_owned()),
        None => {}
    }
    format!("{item}: {}", parts.join(", "))
}
