//! Payment attempts, each under its idempotency key, written before the terminal is asked.

use kiosk_core::money::Money;
use kiosk_core::payment::{Approval, AttemptKey, NotCharged, PaymentState};

use crate::{Connection, Result, StoreError, doing};

#[derive(sqlx::FromRow)]
struct AttemptRow {
    key: String,
    order_id: i64,
    amount_minor: i64,
    state: String,
    reference: Option<String>,
    scheme: Option<String>,
    last_four: Option<String>,
    not_charged: Option<String>,
    created_at: String,
    updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAttempt {
    pub key: AttemptKey,
    pub order_id: i64,
    pub amount: Money,
    pub state: PaymentState,
    pub created_at: String,
    pub updated_at: String,
}

impl TryFrom<AttemptRow> for StoredAttempt {
    type Error = StoreError;
    fn try_from(row: AttemptRow) -> Result<StoredAttempt> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("payment attempt {}: {what}", row.key));
        let state = match row.state.as_str() {
            "requested" => PaymentState::Requested,
            "in_doubt" => PaymentState::InDoubt,
            "approved" => PaymentState::Approved(Approval::new(
                row.reference
                    .clone()
                    .ok_or_else(|| corrupt("approved without a reference"))?,
                row.scheme.clone().unwrap_or_default(),
                row.last_four.clone(),
            )),
            "not_charged" => {
                let reason = row
                    .not_charged
                    .as_deref()
                    .ok_or_else(|| corrupt("not charged without a reason"))?;
                PaymentState::NotCharged(
                    serde_json::from_str(reason).map_err(|_| corrupt("unreadable reason"))?,
                )
            }
            other => return Err(corrupt(&format!("unknown state {other:?}"))),
        };
        Ok(StoredAttempt {
            key: AttemptKey::from_stored(row.key),
            order_id: row.order_id,
            amount: Money::from_minor(row.amount_minor),
            state,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// Records an attempt as requested: it must be durable before the terminal is asked.
pub async fn insert(
    conn: &mut Connection,
    key: &AttemptKey,
    order_id: i64,
    amount: Money,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO payment_attempts (key, order_id, amount_minor, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(key.as_str())
    .bind(order_id)
    .bind(amount.to_minor())
    .bind(PaymentState::Requested.code())
    .bind(now)
    .bind(now)
    .execute(conn)
    .await
    .map_err(doing("recording a payment attempt"))?;
    Ok(())
}

/// Stores the state an attempt has reached.
pub async fn set_state(
    conn: &mut Connection,
    key: &AttemptKey,
    state: &PaymentState,
    now: &str,
) -> Result<()> {
    let (approval, not_charged) = match state {
        PaymentState::Approved(approval) => (Some(approval), None),
        PaymentState::NotCharged(why) => (None, Some(why)),
        _ => (None, None),
    };
    let not_charged = not_charged
        .map(|why: &NotCharged| serde_json::to_string(why).expect("a reason serializes"));
    sqlx::query(
        "UPDATE payment_attempts SET state = ?, reference = ?, scheme = ?, last_four = ?, not_charged = ?, updated_at = ? \
         WHERE key = ?",
    )
    .bind(state.code())
    .bind(approval.map(|a| a.reference.as_str()))
    .bind(approval.map(|a| a.scheme.as_str()))
    .bind(approval.and_then(|a| a.last_four.as_deref()))
    .bind(not_charged)
    .bind(now)
    .bind(key.as_str())
    .execute(conn)
    .await
    .map_err(doing("updating a payment attempt"))?;
    Ok(())
}

/// Attempts whose outcome is not known yet (requested or in doubt), oldest first.
pub async fn unresolved(conn: &mut Connection) -> Result<Vec<StoredAttempt>> {
    let rows: Vec<AttemptRow> =
        sqlx::query_as("SELECT * FROM payment_attempts WHERE state IN ('requested', 'in_doubt') ORDER BY created_at, key")
            .fetch_all(conn)
            .await
            .map_err(doing("reading unresolved payments"))?;
    rows.into_iter().map(StoredAttempt::try_from).collect()
}

pub async fn for_order(conn: &mut Connection, order_id: i64) -> Result<Vec<StoredAttempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT * FROM payment_attempts WHERE order_id = ? ORDER BY created_at, key",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await
    .map_err(doing("reading an order's payments"))?;
    rows.into_iter().map(StoredAttempt::try_from).collect()
}

/// Every approved attempt, oldest first.
pub async fn approved(conn: &mut Connection) -> Result<Vec<StoredAttempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(
        "SELECT * FROM payment_attempts WHERE state = 'approved' ORDER BY created_at, key",
    )
    .fetch_all(conn)
    .await
    .map_err(doing("reading approved payments"))?;
    rows.into_iter().map(StoredAttempt::try_from).collect()
}
