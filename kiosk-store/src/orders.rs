//! Orders and the per-day counter behind their short numbers.

use chrono::{DateTime, FixedOffset, Utc};
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::money::{Currency, Money};
use kiosk_core::order::OrderStatus;
use kiosk_core::pricing::Quote;

use crate::{Connection, Result, StoreError, doing};

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    number: String,
    business_date: String,
    status: String,
    mode: String,
    menu_version: i64,
    currency: String,
    total_minor: i64,
    tax_minor: i64,
    quote: String,
    counter_until: Option<i64>,
    created_at: String,
    updated_at: String,
    receipt_token: Option<String>,
    training: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredOrder {
    pub id: i64,
    pub number: String,
    pub business_date: String,
    pub status: OrderStatus,
    pub mode: ConsumptionMode,
    pub menu_version: i64,
    pub currency: Currency,
    pub total: Money,
    pub tax: Money,
    /// The quote the customer accepted.
    pub quote: Quote,
    /// For an order to pay at the counter: when its held stock goes back if unpaid.
    pub counter_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    /// The unguessable part of the order's e-receipt link.
    pub receipt_token: Option<String>,
    /// A training sale: out of the fiscal journal and the X and Z totals.
    pub training: bool,
}

impl TryFrom<OrderRow> for StoredOrder {
    type Error = StoreError;
    fn try_from(row: OrderRow) -> Result<StoredOrder> {
        let corrupt = |what: String| StoreError::Corrupt(format!("order {}: {what}", row.number));
        let status = OrderStatus::parse(&row.status).ok_or_else(|| corrupt(format!("status {:?}", row.status)))?;
        let mode = ConsumptionMode::parse(&row.mode).ok_or_else(|| corrupt(format!("mode {:?}", row.mode)))?;
        let currency = Currency::parse(&row.currency).ok_or_else(|| corrupt(format!("currency {:?}", row.currency)))?;
        let quote = serde_json::from_str(&row.quote).map_err(|error| corrupt(format!("unreadable quote: {error}")))?;
        let time =
            |text: &str| DateTime::parse_from_rfc3339(text).map_err(|error| corrupt(format!("time {text:?}: {error}")));
        let counter_until = match row.counter_until {
            Some(seconds) => {
                Some(DateTime::from_timestamp(seconds, 0).ok_or_else(|| corrupt(format!("counter time {seconds}")))?)
            }
            None => None,
        };
        Ok(StoredOrder {
            status,
            mode,
            currency,
            quote,
            counter_until,
            created_at: time(&row.created_at)?,
            updated_at: time(&row.updated_at)?,
            id: row.id,
            number: row.number,
            business_date: row.business_date,
            menu_version: row.menu_version,
            total: Money::from_minor(row.total_minor),
            tax: Money::from_minor(row.tax_minor),
            receipt_token: row.receipt_token,
            training: row.training,
        })
    }
}

#[derive(Debug)]
pub struct NewOrder<'a> {
    pub number: &'a str,
    pub business_date: &'a str,
    pub menu_version: i64,
    pub quote: &'a Quote,
    pub counter_until: Option<DateTime<Utc>>,
    pub receipt_token: &'a str,
    pub training: bool,
    pub now: &'a str,
}

/// The next order sequence of a business day, starting at 1.
pub async fn next_sequence(conn: &mut Connection, business_date: &str) -> Result<u32> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO order_counters (business_date, last) VALUES (?, 1) \
         ON CONFLICT (business_date) DO UPDATE SET last = last + 1 RETURNING last",
    )
    .bind(business_date)
    .fetch_one(conn)
    .await
    .map_err(doing("numbering an order"))?;
    u32::try_from(last).map_err(|_| StoreError::Corrupt(format!("order counter {last}")))
}

/// Records a placed order; returns its id.
pub async fn insert(conn: &mut Connection, order: NewOrder<'_>) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO orders (number, business_date, status, mode, menu_version, currency, total_minor, tax_minor, quote, \
         counter_until, receipt_token, training, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(order.number)
    .bind(order.business_date)
    .bind(OrderStatus::Placed.code())
    .bind(order.quote.mode.as_str())
    .bind(order.menu_version)
    .bind(order.quote.currency.code())
    .bind(order.quote.total.to_minor())
    .bind(order.quote.total_tax.to_minor())
    .bind(serde_json::to_string(order.quote).expect("a quote serializes"))
    .bind(order.counter_until.map(|until| until.timestamp()))
    .bind(order.receipt_token)
    .bind(order.training)
    .bind(order.now)
    .bind(order.now)
    .fetch_one(conn)
    .await
    .map_err(doing("recording an order"))
}

pub async fn set_status(conn: &mut Connection, id: i64, status: OrderStatus, now: &str) -> Result<()> {
    sqlx::query("UPDATE orders SET status = ?, updated_at = ? WHERE id = ?")
        .bind(status.code())
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map_err(doing("changing an order's status"))?;
    Ok(())
}

pub async fn get(conn: &mut Connection, id: i64) -> Result<Option<StoredOrder>> {
    let row: Option<OrderRow> = sqlx::query_as("SELECT * FROM orders WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(doing("reading an order"))?;
    row.map(StoredOrder::try_from).transpose()
}

/// The latest order shown to customers as `number`.
pub async fn by_number(conn: &mut Connection, number: &str) -> Result<Option<StoredOrder>> {
    let row: Option<OrderRow> = sqlx::query_as("SELECT * FROM orders WHERE number = ? ORDER BY id DESC LIMIT 1")
        .bind(number)
        .fetch_optional(conn)
        .await
        .map_err(doing("reading an order"))?;
    row.map(StoredOrder::try_from).transpose()
}

/// The latest orders, newest first.
pub async fn latest(conn: &mut Connection, limit: u32) -> Result<Vec<StoredOrder>> {
    let rows: Vec<OrderRow> = sqlx::query_as("SELECT * FROM orders ORDER BY id DESC LIMIT ?")
        .bind(limit)
        .fetch_all(conn)
        .await
        .map_err(doing("listing orders"))?;
    rows.into_iter().map(StoredOrder::try_from).collect()
}

/// Orders waiting to be paid at the counter whose time ran out before `now`.
pub async fn expired_counter_orders(conn: &mut Connection, now: DateTime<Utc>) -> Result<Vec<StoredOrder>> {
    let rows: Vec<OrderRow> = sqlx::query_as(
        "SELECT * FROM orders WHERE status = 'placed' AND counter_until IS NOT NULL AND counter_until < ?",
    )
    .bind(now.timestamp())
    .fetch_all(conn)
    .await
    .map_err(doing("finding expired counter orders"))?;
    rows.into_iter().map(StoredOrder::try_from).collect()
}

/// Real (not training) orders paid on a business day: how many, what they came to, and when
/// the last was placed.
pub async fn paid_on(conn: &mut Connection, business_date: &str) -> Result<(u32, Money, Option<String>)> {
    let (count, total, last): (i64, i64, Option<String>) = sqlx::query_as(
        "SELECT count(*), coalesce(sum(total_minor), 0), max(created_at) FROM orders \
         WHERE business_date = ? AND training = 0 AND status IN ('paid', 'sent_to_kitchen', 'completed')",
    )
    .bind(business_date)
    .fetch_one(&mut *conn)
    .await
    .map_err(doing("counting the day's paid orders"))?;
    Ok((u32::try_from(count).unwrap_or(u32::MAX), Money::from_minor(total), last))
}
