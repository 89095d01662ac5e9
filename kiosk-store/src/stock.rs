//! Live stock of counted items, the units held by payments in progress, and alerts.

use kiosk_core::menu::Id;
use kiosk_core::stock::{StockAlert, StockLevel, StockLevels};

use crate::{Connection, Result, StoreError, doing};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
struct StockRow {
    item_id: String,
    on_hand: i64,
    held: i64,
    low_threshold: i64,
    sold_out: bool,
}

/// One item's level, as listed to staff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemStock {
    pub item: Id,
    pub level: StockLevel,
}

pub(crate) fn count(value: i64, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value} is out of range")))
}

/// Every counted item with the units held for unresolved payments.
pub async fn list(conn: &mut Connection) -> Result<Vec<ItemStock>> {
    let rows: Vec<StockRow> = sqlx::query_as(
        "SELECT s.item_id, s.on_hand, s.low_threshold, s.sold_out, \
                COALESCE((SELECT SUM(h.quantity) FROM stock_holds h WHERE h.item_id = s.item_id), 0) AS held \
         FROM stock s ORDER BY s.item_id",
    )
    .fetch_all(conn)
    .await
    .map_err(doing("reading stock"))?;
    rows.into_iter()
        .map(|row| {
            let item = Id::parse(&row.item_id)
                .ok_or_else(|| StoreError::Corrupt(format!("stock item id {:?}", row.item_id)))?;
            let level = StockLevel {
                on_hand: count(row.on_hand, "on hand")?,
                held: count(row.held, "held")?,
                low_threshold: count(row.low_threshold, "low threshold")?,
                sold_out: row.sold_out,
            };
            Ok(ItemStock { item, level })
        })
        .collect()
}

pub async fn levels(conn: &mut Connection) -> Result<StockLevels> {
    Ok(StockLevels::new(list(conn).await?.into_iter().map(|s| (s.item, s.level)).collect()))
}

/// Starts counting an item at `initial` units, or, for an item already counted, keeps its
/// live count and only updates the threshold.
pub async fn start_counting(
    conn: &mut Connection,
    item: &Id,
    initial: u32,
    low_threshold: u32,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO stock (item_id, on_hand, low_threshold, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (item_id) DO UPDATE SET low_threshold = excluded.low_threshold",
    )
    .bind(item.as_str())
    .bind(initial)
    .bind(low_threshold)
    .bind(now)
    .execute(conn)
    .await
    .map_err(doing("counting an item"))?;
    Ok(())
}

/// What staff change on an item: the count (set, or moved by units received or thrown
/// away), the threshold, the sold-out mark.
#[derive(Clone, Debug, Default)]
pub struct StockChange {
    pub on_hand: Option<u32>,
    /// Units added (or, negative, taken away) after `on_hand` is applied; the count never goes
    /// below zero. Relative, so sales made meanwhile are not undone.
    pub adjust: Option<i64>,
    pub low_threshold: Option<u32>,
    pub sold_out: Option<bool>,
}

/// Applies a change to a counted item; false when the item is not counted.
pub async fn change(conn: &mut Connection, item: &Id, change: &StockChange, now: &str) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE stock SET on_hand = MAX(0, COALESCE(?, on_hand) + COALESCE(?, 0)), \
         low_threshold = COALESCE(?, low_threshold), sold_out = COALESCE(?, sold_out), updated_at = ? \
         WHERE item_id = ?",
    )
    .bind(change.on_hand)
    .bind(change.adjust)
    .bind(change.low_threshold)
    .bind(change.sold_out)
    .bind(now)
    .bind(item.as_str())
    .execute(conn)
    .await
    .map_err(doing("changing stock"))?;
    Ok(result.rows_affected() == 1)
}

/// Holds units of an item for `holder` (a payment attempt's key, or "counter:<order id>").
pub async fn hold(conn: &mut Connection, holder: &str, item: &Id, quantity: u32) -> Result<()> {
    sqlx::query("INSERT INTO stock_holds (holder, item_id, quantity) VALUES (?, ?, ?)")
        .bind(holder)
        .bind(item.as_str())
        .bind(quantity)
        .execute(conn)
        .await
        .map_err(doing("holding stock"))?;
    Ok(())
}

pub async fn release(conn: &mut Connection, holder: &str) -> Result<()> {
    sqlx::query("DELETE FROM stock_holds WHERE holder = ?")
        .bind(holder)
        .execute(conn)
        .await
        .map_err(doing("releasing held stock"))?;
    Ok(())
}

/// Turns a holder's units into a sale: the counts drop (never below zero) and the holds go.
/// (A card approval does the same inside [`crate::payments::commit_approval`].)
pub async fn take(conn: &mut Connection, holder: &str, now: &str) -> Result<Vec<Taken>> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT h.item_id, h.quantity, s.on_hand, s.low_threshold FROM stock_holds h \
         JOIN stock s ON s.item_id = h.item_id WHERE h.holder = ?",
    )
    .bind(holder)
    .fetch_all(&mut *conn)
    .await
    .map_err(doing("reading held stock"))?;
    let mut taken = Vec::with_capacity(rows.len());
    for (item_id, quantity, on_hand, low_threshold) in rows {
        let item = Id::parse(&item_id).ok_or_else(|| StoreError::Corrupt(format!("stock item id {item_id:?}")))?;
        let before = count(on_hand, "on hand")?;
        let after = before.saturating_sub(count(quantity, "held")?);
        sqlx::query("UPDATE stock SET on_hand = ?, updated_at = ? WHERE item_id = ?")
            .bind(after)
            .bind(now)
            .bind(&item_id)
            .execute(&mut *conn)
            .await
            .map_err(doing("taking held stock"))?;
        taken.push(Taken { item, before, after, low_threshold: count(low_threshold, "low threshold")? });
    }
    release(conn, holder).await?;
    Ok(taken)
}

/// Puts refunded units back on the shelf (counted items only).
pub async fn give_back(conn: &mut Connection, returns: &std::collections::BTreeMap<Id, u32>, now: &str) -> Result<()> {
    for (item, units) in returns {
        sqlx::query("UPDATE stock SET on_hand = on_hand + ?, updated_at = ? WHERE item_id = ?")
            .bind(units)
            .bind(now)
            .bind(item.as_str())
            .execute(&mut *conn)
            .await
            .map_err(doing("restocking"))?;
    }
    Ok(())
}

/// A counted item's count before and after a sale took its held units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    pub item: Id,
    pub before: u32,
    pub after: u32,
    pub low_threshold: u32,
}

pub async fn record_alert(conn: &mut Connection, item: &Id, alert: StockAlert, on_hand: u32, now: &str) -> Result<()> {
    sqlx::query("INSERT INTO stock_alerts (item_id, alert, on_hand, created_at) VALUES (?, ?, ?, ?)")
        .bind(item.as_str())
        .bind(alert.as_str())
        .bind(on_hand)
        .bind(now)
        .execute(conn)
        .await
        .map_err(doing("recording a stock alert"))?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertRow {
    pub item_id: String,
    pub alert: String,
    pub on_hand: i64,
    pub created_at: String,
}

pub async fn alerts(conn: &mut Connection) -> Result<Vec<AlertRow>> {
    sqlx::query_as("SELECT item_id, alert, on_hand, created_at FROM stock_alerts ORDER BY id")
        .fetch_all(conn)
        .await
        .map_err(doing("reading stock alerts"))
}
