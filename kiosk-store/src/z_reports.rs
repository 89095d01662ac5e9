//! Z reports as closed: numbered, with the report and the journal anchor of the close.

use crate::{Broke, Connection, Result, StoreError, broke, doing};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredZ {
    pub number: i64,
    pub journal_seq: i64,
    pub journal_hash: String,
    /// The report, as JSON.
    pub report: String,
    pub closed_at: String,
    pub closed_by: String,
    pub key_fingerprint: String,
}

pub async fn get(conn: &mut Connection, number: i64) -> Result<Option<StoredZ>> {
    sqlx::query_as("SELECT * FROM z_reports WHERE number = ?")
        .bind(number)
        .fetch_optional(conn)
        .await
        .map_err(doing("reading a Z report"))
}

/// Every Z report, oldest first.
pub async fn all(conn: &mut Connection) -> Result<Vec<StoredZ>> {
    sqlx::query_as("SELECT * FROM z_reports ORDER BY number")
        .fetch_all(conn)
        .await
        .map_err(doing("reading the Z reports"))
}

pub async fn insert(conn: &mut Connection, z: &StoredZ) -> Result<()> {
    sqlx::query(
        "INSERT INTO z_reports (number, journal_seq, journal_hash, report, closed_at, closed_by, key_fingerprint) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(z.number)
    .bind(z.journal_seq)
    .bind(&z.journal_hash)
    .bind(&z.report)
    .bind(&z.closed_at)
    .bind(&z.closed_by)
    .bind(&z.key_fingerprint)
    .execute(conn)
    .await
    .map_err(|error| match broke(&error) {
        Some(Broke::PrimaryKey | Broke::Unique) => {
            StoreError::Duplicate(format!("Z report {} exists already", z.number))
        }
        _ => doing("recording a Z report")(error),
    })?;
    Ok(())
}
