//! How often promo codes were used.

use crate::{Connection, Result, doing};

/// Uses of a code in paid orders so far.
pub async fn uses(conn: &mut Connection, code: &str) -> Result<u32> {
    let uses: Option<i64> = sqlx::query_scalar("SELECT uses FROM promo_uses WHERE code = ?")
        .bind(code)
        .fetch_optional(conn)
        .await
        .map_err(doing("reading promo uses"))?;
    Ok(uses.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
}

/// Counts one more use of a code.
pub async fn count_use(conn: &mut Connection, code: &str) -> Result<()> {
    sqlx::query("INSERT INTO promo_uses (code, uses) VALUES (?, 1) ON CONFLICT (code) DO UPDATE SET uses = uses + 1")
        .bind(code)
        .execute(conn)
        .await
        .map_err(doing("counting a promo use"))?;
    Ok(())
}
