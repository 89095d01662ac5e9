//! Alerts for staff and the health report: one open alert per kind and subject.

use crate::{Connection, Result, doing};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAlert {
    pub id: i64,
    /// `kiosk_core::alert::AlertKind`'s code.
    pub kind: String,
    /// What it is about ("journal", "order A012 kitchen"): one open alert per kind and subject.
    pub subject: String,
    pub message: String,
    pub raised_at: String,
    pub cleared_at: Option<String>,
    pub cleared_by: Option<String>,
}

/// Raises an alert; one open already for the kind and subject takes the new message.
pub async fn raise(conn: &mut Connection, kind: &str, subject: &str, message: &str, now: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO alerts (kind, subject, message, raised_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (kind, subject) WHERE cleared_at IS NULL DO UPDATE SET message = excluded.message",
    )
    .bind(kind)
    .bind(subject)
    .bind(message)
    .bind(now)
    .execute(conn)
    .await
    .map_err(doing("raising an alert"))?;
    Ok(())
}

/// The open alerts, oldest first.
pub async fn open(conn: &mut Connection) -> Result<Vec<StoredAlert>> {
    sqlx::query_as("SELECT * FROM alerts WHERE cleared_at IS NULL ORDER BY id")
        .fetch_all(conn)
        .await
        .map_err(doing("reading alerts"))
}

/// Clears one open alert; false when there is no such open alert.
pub async fn clear(conn: &mut Connection, id: i64, by: &str, now: &str) -> Result<bool> {
    let result = sqlx::query("UPDATE alerts SET cleared_at = ?, cleared_by = ? WHERE id = ? AND cleared_at IS NULL")
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(conn)
        .await
        .map_err(doing("clearing an alert"))?;
    Ok(result.rows_affected() == 1)
}

/// Clears the open alerts of a kind (its cause is gone).
pub async fn clear_kind(conn: &mut Connection, kind: &str, by: &str, now: &str) -> Result<()> {
    sqlx::query("UPDATE alerts SET cleared_at = ?, cleared_by = ? WHERE kind = ? AND cleared_at IS NULL")
        .bind(now)
        .bind(by)
        .bind(kind)
        .execute(conn)
        .await
        .map_err(doing("clearing alerts"))?;
    Ok(())
}
