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
    /// "pending", "printed", or "expired" (given up: a kitchen ticket too old to cook from).
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub printed_at: Option<String>,
    /// The engine sending it now, if any, and since when (Unix seconds).
    pub claimed_by: Option<String>,
    pub claimed_at: Option<i64>,
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

/// Takes a pending job for `owner`, from nobody or from `previous` (a holder the caller
/// found gone or stale); false when another engine took it first.
pub async fn claim(conn: &mut Connection, id: i64, owner: &str, previous: Option<&str>, now_unix: i64) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE print_jobs SET claimed_by = ?, claimed_at = ? WHERE id = ? AND state = 'pending' AND claimed_by IS ?",
    )
    .bind(owner)
    .bind(now_unix)
    .bind(id)
    .bind(previous)
    .execute(conn)
    .await
    .map_err(doing("claiming a print job"))?;
    Ok(result.rows_affected() == 1)
}

/// The job is on paper; its claim ends. False when the claim was no longer `owner`'s.
pub async fn mark_printed(conn: &mut Connection, id: i64, owner: &str, now: &str) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE print_jobs SET state = 'printed', attempts = attempts + 1, printed_at = ?, claimed_by = NULL, \
         claimed_at = NULL WHERE id = ? AND claimed_by = ?",
    )
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(conn)
    .await
    .map_err(doing("marking a job printed"))?;
    Ok(result.rows_affected() == 1)
}

/// The job did not print and waits for the next round; its claim ends. False when the claim
/// was no longer `owner`'s.
pub async fn record_failure(conn: &mut Connection, id: i64, owner: &str, error: &str) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE print_jobs SET attempts = attempts + 1, last_error = ?, claimed_by = NULL, claimed_at = NULL \
         WHERE id = ? AND claimed_by = ?",
    )
    .bind(error)
    .bind(id)
    .bind(owner)
    .execute(conn)
    .await
    .map_err(doing("recording a print failure"))?;
    Ok(result.rows_affected() == 1)
}

/// The job is given up unprinted, with why; its claim ends.
pub async fn expire(conn: &mut Connection, id: i64, owner: &str, reason: &str) -> Result<()> {
    sqlx::query(
        "UPDATE print_jobs SET state = 'expired', last_error = ?, claimed_by = NULL, claimed_at = NULL \
         WHERE id = ? AND claimed_by = ?",
    )
    .bind(reason)
    .bind(id)
    .bind(owner)
    .execute(conn)
    .await
    .map_err(doing("giving up a print job"))?;
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
