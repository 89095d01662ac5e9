//! Facts about the kiosk kept beside its data (`kiosk_meta`): the database id, the journal's
//! last verified anchor, the training switch.

use crate::{Connection, Result, doing};

/// A value by name, if set.
pub async fn get(conn: &mut Connection, name: &str) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT value FROM kiosk_meta WHERE name = ?")
        .bind(name)
        .fetch_optional(conn)
        .await
        .map_err(doing("reading the kiosk's settings"))
}

/// Sets a value, replacing the one before.
pub async fn set(conn: &mut Connection, name: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO kiosk_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(value)
    .execute(conn)
    .await
    .map_err(doing("recording the kiosk's settings"))?;
    Ok(())
}

/// Forgets a value.
pub async fn remove(conn: &mut Connection, name: &str) -> Result<()> {
    sqlx::query("DELETE FROM kiosk_meta WHERE name = ?")
        .bind(name)
        .execute(conn)
        .await
        .map_err(doing("recording the kiosk's settings"))?;
    Ok(())
}
