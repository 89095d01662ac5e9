//! Staff accounts and the record of who did what.

use kiosk_core::staff::Role;

use crate::{Broke, Connection, Result, StoreError, broke, doing};

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: i64,
    name: String,
    role: String,
    pin_hash: String,
    failures: i64,
    locked_until: Option<i64>,
    created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredStaff {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub pin_hash: String,
    /// Wrong PINs in a row.
    pub failures: u32,
    /// Unix seconds until which the account refuses PINs.
    pub locked_until: Option<i64>,
    pub created_at: String,
}

impl TryFrom<StaffRow> for StoredStaff {
    type Error = StoreError;
    fn try_from(row: StaffRow) -> Result<StoredStaff> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| StoreError::Corrupt(format!("staff {} has role {:?}", row.id, row.role)))?;
        Ok(StoredStaff {
            id: row.id,
            name: row.name,
            role,
            pin_hash: row.pin_hash,
            failures: u32::try_from(row.failures).unwrap_or(u32::MAX),
            locked_until: row.locked_until,
            created_at: row.created_at,
        })
    }
}

const COLUMNS: &str = "id, name, role, pin_hash, failures, locked_until, created_at";

/// Adds an account; an active account with the same name or badge is refused.
pub async fn insert(
    conn: &mut Connection,
    name: &str,
    role: Role,
    pin_hash: &str,
    badge_digest: Option<&str>,
    now: &str,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO staff (name, role, pin_hash, badge_digest, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(name)
    .bind(role.code())
    .bind(pin_hash)
    .bind(badge_digest)
    .bind(now)
    .fetch_one(conn)
    .await
    .map_err(|error| match broke(&error) {
        Some(Broke::Unique) => {
            StoreError::Duplicate(format!("an active account already has the name \"{name}\" or this badge"))
        }
        _ => doing("adding a staff account")(error),
    })
}

/// The active accounts, by name.
pub async fn list(conn: &mut Connection) -> Result<Vec<StoredStaff>> {
    let sql = format!("SELECT {COLUMNS} FROM staff WHERE removed_at IS NULL ORDER BY name");
    let rows: Vec<StaffRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(conn).await.map_err(doing("listing staff"))?;
    rows.into_iter().map(StoredStaff::try_from).collect()
}

/// The active account matching `condition` with one parameter.
async fn find<'q, T>(conn: &mut Connection, condition: &'static str, value: T) -> Result<Option<StoredStaff>>
where
    T: sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + 'q,
{
    let sql = format!("SELECT {COLUMNS} FROM staff WHERE removed_at IS NULL AND {condition}");
    let row: Option<StaffRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_optional(conn)
        .await
        .map_err(doing("reading a staff account"))?;
    row.map(StoredStaff::try_from).transpose()
}

/// The active account of that name, in any case.
pub async fn by_name(conn: &mut Connection, name: &str) -> Result<Option<StoredStaff>> {
    find(conn, "name = ? COLLATE NOCASE", name).await
}

pub async fn by_id(conn: &mut Connection, id: i64) -> Result<Option<StoredStaff>> {
    find(conn, "id = ?", id).await
}

pub async fn by_badge(conn: &mut Connection, badge_digest: &str) -> Result<Option<StoredStaff>> {
    find(conn, "badge_digest = ?", badge_digest).await
}

/// Removes an active account (it stays on record); false when there is none by that name.
pub async fn remove(conn: &mut Connection, name: &str, now: &str) -> Result<bool> {
    let result = sqlx::query("UPDATE staff SET removed_at = ? WHERE name = ? COLLATE NOCASE AND removed_at IS NULL")
        .bind(now)
        .bind(name)
        .execute(conn)
        .await
        .map_err(doing("removing a staff account"))?;
    Ok(result.rows_affected() == 1)
}

/// Sets a new PIN and clears failures and lock.
pub async fn set_pin(conn: &mut Connection, id: i64, pin_hash: &str) -> Result<()> {
    sqlx::query("UPDATE staff SET pin_hash = ?, failures = 0, locked_until = NULL WHERE id = ?")
        .bind(pin_hash)
        .bind(id)
        .execute(conn)
        .await
        .map_err(doing("setting a PIN"))?;
    Ok(())
}

/// Gives an account another role and badge (its PIN has [`set_pin`]).
pub async fn update_account(conn: &mut Connection, id: i64, role: Role, badge_digest: Option<&str>) -> Result<()> {
    sqlx::query("UPDATE staff SET role = ?, badge_digest = ? WHERE id = ?")
        .bind(role.code())
        .bind(badge_digest)
        .bind(id)
        .execute(conn)
        .await
        .map_err(|error| match broke(&error) {
            Some(Broke::Unique) => StoreError::Duplicate("another active account has this badge".into()),
            _ => doing("changing a staff account")(error),
        })?;
    Ok(())
}

/// Counts one more wrong PIN, atomically; returns the count.
pub async fn count_failure(conn: &mut Connection, id: i64) -> Result<u32> {
    let failures: i64 = sqlx::query_scalar("UPDATE staff SET failures = failures + 1 WHERE id = ? RETURNING failures")
        .bind(id)
        .fetch_one(conn)
        .await
        .map_err(doing("counting a wrong PIN"))?;
    Ok(u32::try_from(failures).unwrap_or(u32::MAX))
}

/// Locks an account until a Unix time.
pub async fn lock_until(conn: &mut Connection, id: i64, until: i64) -> Result<()> {
    sqlx::query("UPDATE staff SET locked_until = ? WHERE id = ?")
        .bind(until)
        .bind(id)
        .execute(conn)
        .await
        .map_err(doing("locking an account"))?;
    Ok(())
}

/// Clears the wrong-PIN count after a right one.
pub async fn clear_failures(conn: &mut Connection, id: i64) -> Result<()> {
    sqlx::query("UPDATE staff SET failures = 0 WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await
        .map_err(doing("clearing wrong PINs"))?;
    Ok(())
}

/// Records an action: `actor` names who did it (an account, or the admin tool).
pub async fn record_action(
    conn: &mut Connection,
    actor: &str,
    staff_id: Option<i64>,
    action: &str,
    detail: &str,
    at: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO staff_actions (actor, staff_id, action, detail, at) VALUES (?, ?, ?, ?, ?)")
        .bind(actor)
        .bind(staff_id)
        .bind(action)
        .bind(detail)
        .bind(at)
        .execute(conn)
        .await
        .map_err(doing("recording an action"))?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ActionRow {
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub at: String,
}

/// The latest actions, newest first.
pub async fn actions(conn: &mut Connection, limit: u32) -> Result<Vec<ActionRow>> {
    sqlx::query_as("SELECT actor, action, detail, at FROM staff_actions ORDER BY id DESC LIMIT ?")
        .bind(limit)
        .fetch_all(conn)
        .await
        .map_err(doing("reading actions"))
}
