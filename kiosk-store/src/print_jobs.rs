//! Print jobs: recorded in the store so that a ticket is neither lost nor made twice across a
//! crash, and retried until the printer takes it.

use crate::{Connection, Result, doing};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PrintJob {
    pub id: i64,
    pub order_id: i64,
    /// "receipt", "kitchen" or "reprint".
    pub purpose: String,
    pub printer: String,
    /// The document, as JSON.
    pub document: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub printed_at: Option<String>,
}

/// Records a job; a receipt or kitchen ticket already recorded for that order and printer is
/// not recorded again (false).
pub async fn insert_once(
    conn: &mut Connection,
    order_id: i64,
    purpose: &str,
    printer: &str,
    document: &str,
    now: &str,
) -> Result<bool> {
    let result = sqlx::query(
        "INSERT OR IGNORE INTO print_jobs (order_id, purpose, printer, document, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(order_id)
    .bind(purpose)
    .bind(printer)
    .bind(document)
    .bind(now)
    .execute(conn)
    .await
    .map_err(doing("recording a print job"))?;
    Ok(result.rows_affected() == 1)
}

/// Jobs not printed yet, oldest first.
pub async fn pending(conn: &mut Connection) -> Result<Vec<PrintJob>> {
    sqlx::query_as("SELECT * FROM print_jobs WHERE state = 'pending' ORDER BY id")
        .fetch_all(conn)
        .await
        .map_err(doing("reading print jobs"))
}

pub async fn mark_printed(conn: &mut Connection, id: i64, now: &str) -> Result<()> {
    sqlx::query("UPDATE print_jobs SET state = 'printed', attempts = attempts + 1, printed_at = ? WHERE id = ?")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await
        .map_err(doing("marking a job printed"))?;
    Ok(())
}

pub async fn record_failure(conn: &mut Connection, id: i64, error: &str) -> Result<()> {
    sqlx::query("UPDATE print_jobs SET attempts = attempts + 1, last_error = ? WHERE id = ?")
        .bind(error)
        .bind(id)
        .execute(conn)
        .await
        .map_err(doing("recording a print failure"))?;
    Ok(())
}

/// Paid orders of a business day that have no job of `purpose` yet.
pub async fn paid_orders_without(conn: &mut Connection, purpose: &str, business_date: &str) -> Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT o.id FROM orders o WHERE o.business_date = ? AND o.status IN ('paid', 'sent_to_kitchen', 'completed') \
         AND NOT EXISTS (SELECT 1 FROM print_jobs j WHERE j.order_id = o.id AND j.purpose = ?) ORDER BY o.id",
    )
    .bind(business_date)
    .bind(purpose)
    .fetch_all(conn)
    .await
    .map_err(doing("finding orders without tickets"))
}
