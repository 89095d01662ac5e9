//! Payment attempts, each under its idempotency key, written before the terminal is asked.

use std::collections::BTreeMap;

use kiosk_core::journal::JournalEntry;
use kiosk_core::menu::Id;
use kiosk_core::money::Money;
use kiosk_core::payment::{Approval, AttemptKey, NotCharged, PaymentState};
use sqlx::Row;

use crate::journal::Chain;
use crate::stock::{Taken, count};
use crate::{Broke, Connection, Result, Store, StoreError, broke, doing};

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
    method: String,
    purpose: String,
    refund: Option<String>,
    owner: String,
    created_at: String,
    updated_at: String,
    terminal_time: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAttempt {
    pub key: AttemptKey,
    pub order_id: i64,
    pub amount: Money,
    pub state: PaymentState,
    /// "terminal", "counter_cash" or "counter_card".
    pub method: String,
    /// What a refund gives back (as the engine wrote it, JSON); `None` for a payment.
    pub refund: Option<String>,
    /// The process that asked the terminal, as given to [`insert`].
    pub owner: String,
    pub created_at: String,
    pub updated_at: String,
}

impl TryFrom<AttemptRow> for StoredAttempt {
    type Error = StoreError;
    fn try_from(row: AttemptRow) -> Result<StoredAttempt> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("payment attempt {}: {what}", row.key));
        let state = match row.state.as_str() {
            "requested" => PaymentState::Requested,
            "in_doubt" => PaymentState::InDoubt,
            "approved" => PaymentState::Approved(
                Approval::new(
                    row.reference.clone().ok_or_else(|| corrupt("approved without a reference"))?,
                    row.scheme.clone().unwrap_or_default(),
                    row.last_four.clone(),
                )
                .at(row.terminal_time.clone()),
            ),
            "not_charged" => {
                let reason = row.not_charged.as_deref().ok_or_else(|| corrupt("not charged without a reason"))?;
                PaymentState::NotCharged(serde_json::from_str(reason).map_err(|_| corrupt("unreadable reason"))?)
            }
            other => return Err(corrupt(&format!("unknown state {other:?}"))),
        };
        Ok(StoredAttempt {
            key: AttemptKey::from_stored(row.key),
            order_id: row.order_id,
            amount: Money::from_minor(row.amount_minor),
            state,
            method: row.method,
            refund: if row.purpose == "refund" { Some(row.refund.unwrap_or_default()) } else { None },
            owner: row.owner,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A new attempt: a payment (money in) or a refund (money out).
#[derive(Debug)]
pub struct NewAttempt<'a> {
    pub key: &'a AttemptKey,
    pub order_id: i64,
    pub amount: Money,
    /// "terminal", "counter_cash" or "counter_card".
    pub method: &'a str,
    /// A refund's details (JSON, as the engine writes them); `None` for a payment.
    pub refund: Option<&'a str>,
    /// Who carries it out: an engine (see the engine's process ownership) or a person.
    pub owner: &'a str,
    pub now: &'a str,
}

/// Records an attempt as requested: it must be durable before the terminal is asked.
pub async fn insert(conn: &mut Connection, attempt: &NewAttempt<'_>) -> Result<()> {
    let purpose = if attempt.refund.is_some() { "refund" } else { "payment" };
    sqlx::query(
        "INSERT INTO payment_attempts (key, order_id, amount_minor, state, method, purpose, refund, owner, created_at, \
         updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(attempt.key.as_str())
    .bind(attempt.order_id)
    .bind(attempt.amount.to_minor())
    .bind(PaymentState::Requested.code())
    .bind(attempt.method)
    .bind(purpose)
    .bind(attempt.refund)
    .bind(attempt.owner)
    .bind(attempt.now)
    .bind(attempt.now)
    .execute(conn)
    .await
    .map_err(|error| match broke(&error) {
        Some(Broke::PrimaryKey | Broke::Unique) => StoreError::AttemptExists(attempt.key.as_str().to_owned()),
        _ => doing("recording a payment attempt")(error),
    })?;
    Ok(())
}

/// Stores the state an attempt has reached.
pub async fn set_state(conn: &mut Connection, key: &AttemptKey, state: &PaymentState, now: &str) -> Result<()> {
    let (approval, not_charged) = match state {
        PaymentState::Approved(approval) => (Some(approval), None),
        PaymentState::NotCharged(why) => (None, Some(why)),
        _ => (None, None),
    };
    let not_charged = not_charged.map(|why: &NotCharged| serde_json::to_string(why).expect("a reason serializes"));
    sqlx::query(
        "UPDATE payment_attempts SET state = ?, reference = ?, scheme = ?, last_four = ?, terminal_time = ?, \
         not_charged = ?, updated_at = ? WHERE key = ?",
    )
    .bind(state.code())
    .bind(approval.map(|a| a.reference.as_str()))
    .bind(approval.map(|a| a.scheme.as_str()))
    .bind(approval.and_then(|a| a.last_four.as_deref()))
    .bind(approval.and_then(|a| a.terminal_time.as_deref()))
    .bind(not_charged)
    .bind(now)
    .bind(key.as_str())
    .execute(conn)
    .await
    .map_err(|error| settled_or(error, key, "updating a payment attempt"))?;
    Ok(())
}

/// Attempts whose outcome is not known yet (requested or in doubt), oldest first.
pub async fn unresolved(conn: &mut Connection) -> Result<Vec<StoredAttempt>> {
    let rows: Vec<AttemptRow> =
        sqlx::query_as("SELECT * FROM payment_attempts WHERE state IN ('requested', 'in_doubt') AND method = 'terminal' ORDER BY rowid")
            .fetch_all(conn)
            .await
            .map_err(doing("reading unresolved payments"))?;
    rows.into_iter().map(StoredAttempt::try_from).collect()
}

pub async fn for_order(conn: &mut Connection, order_id: i64) -> Result<Vec<StoredAttempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as("SELECT * FROM payment_attempts WHERE order_id = ? ORDER BY rowid")
        .bind(order_id)
        .fetch_all(conn)
        .await
        .map_err(doing("reading an order's payments"))?;
    rows.into_iter().map(StoredAttempt::try_from).collect()
}

/// The error of the `payment_attempts_settled` trigger (the only trigger these statements can
/// fire), or the query error.
fn settled_or(error: sqlx::Error, key: &AttemptKey, doing_what: &'static str) -> StoreError {
    match broke(&error) {
        Some(Broke::Trigger) => StoreError::AttemptSettled(key.as_str().to_owned()),
        _ => doing(doing_what)(error),
    }
}

/// Everything an approval changes.
#[derive(Debug)]
pub struct ApprovalWrite<'a> {
    pub key: &'a AttemptKey,
    pub approval: &'a Approval,
    pub order_id: i64,
    /// The promo code the order used, counted as used once more.
    pub promo: Option<&'a str>,
    /// The journal entry recording the sale, linked to the tail the caller believes current,
    /// and the chain it goes to.
    pub entry: &'a JournalEntry,
    pub chain: Chain,
    pub now: &'a str,
}

/// The approval as one transaction sent in one round trip to SQLite: the attempt approved,
/// the held units taken from stock (never below zero: an approved payment must always
/// commit), the holds gone, the order paid, the journal entry appended. Each statement
/// through sqlx costs a hop to the connection's thread, so one batch keeps the commit close
/// to the cost of the disk's fsync. The values come as one JSON parameter, `?1`, because
/// sqlx binds numbered parameters per statement of a batch only when each statement uses
/// them from `?1` without gaps. The journal table is the chain's; a training sale (its chain)
/// takes no stock and uses up no promotion, its holds only going.
macro_rules! approval_batch {
    ($journal:literal) => {
        concat!("\
BEGIN IMMEDIATE;
UPDATE payment_attempts SET state = 'approved', reference = ?1 ->> '$.reference', scheme = ?1 ->> '$.scheme',
    last_four = ?1 ->> '$.last_four', terminal_time = ?1 ->> '$.terminal_time', not_charged = NULL,
    updated_at = ?1 ->> '$.now'
    WHERE key = ?1 ->> '$.key';
UPDATE stock SET on_hand = MAX(stock.on_hand - h.quantity, 0), updated_at = ?1 ->> '$.now' FROM stock_holds AS h
    WHERE h.holder = ?1 ->> '$.key' AND h.item_id = stock.item_id AND ?1 ->> '$.training' = 0
    RETURNING 'after' AS what, stock.item_id AS item_id, stock.on_hand AS units, stock.low_threshold AS low;
DELETE FROM stock_holds WHERE holder = ?1 ->> '$.key'
    RETURNING 'held' AS what, item_id, quantity AS units, 0 AS low;
UPDATE orders SET status = 'paid', updated_at = ?1 ->> '$.now' WHERE id = ?1 ->> '$.order_id';
INSERT INTO promo_uses (code, uses) SELECT ?1 ->> '$.promo', 1 WHERE ?1 ->> '$.promo' IS NOT NULL
    AND ?1 ->> '$.training' = 0
    ON CONFLICT (code) DO UPDATE SET uses = uses + 1;
INSERT INTO ", $journal, " (seq, kind, at, payload, prev_hash, hash, signature)
    VALUES (?1 ->> '$.seq', ?1 ->> '$.kind', ?1 ->> '$.at', ?1 ->> '$.payload', ?1 ->> '$.prev_hash', ?1 ->> '$.hash',
        ?1 ->> '$.signature');
COMMIT;")
    };
}

/// The approval batch of each chain, written once.
const FISCAL_APPROVAL: &str = approval_batch!("journal");
const TRAINING_APPROVAL: &str = approval_batch!("training_journal");

/// Commits an approval (see `approval_batch!`) and returns what it took from stock. When
/// another writer appended to the journal first, nothing is written and the error is
/// [`StoreError::JournalMoved`]: link the entry to the new tail and try again.
pub async fn commit_approval(store: &Store, write: &ApprovalWrite<'_>) -> Result<Vec<Taken>> {
    let values = serde_json::json!({
        "key": write.key.as_str(),
        "reference": write.approval.reference,
        "scheme": write.approval.scheme,
        "last_four": write.approval.last_four,
        "terminal_time": write.approval.terminal_time,
        "now": write.now,
        "order_id": write.order_id,
        "promo": write.promo,
        "training": write.chain == Chain::Training,
        "seq": write.entry.seq,
        "kind": write.entry.kind.code(),
        "at": write.entry.at,
        "payload": write.entry.payload,
        "prev_hash": write.entry.prev_hash,
        "hash": write.entry.hash,
        "signature": write.entry.signature,
    });
    let mut conn = store.pool.acquire().await.map_err(doing("getting a connection"))?;
    let batch = match write.chain {
        Chain::Fiscal => FISCAL_APPROVAL,
        Chain::Training => TRAINING_APPROVAL,
    };
    let result = sqlx::query(batch).bind(values.to_string()).fetch_all(&mut *conn).await;
    let rows = match result {
        Ok(rows) => rows,
        Err(error) => {
            // The batch stopped part-way inside its transaction: undo it before the
            // connection goes back to the pool. (Nothing is open if BEGIN itself failed.)
            if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                log::debug!("rollback after a failed approval batch: {rollback}");
            }
            // The journal's seq is the one primary key the batch chooses itself.
            return Err(if broke(&error) == Some(Broke::PrimaryKey) {
                StoreError::JournalMoved
            } else {
                settled_or(error, write.key, "committing an approval")
            });
        }
    };
    let mut held: BTreeMap<String, u32> = BTreeMap::new();
    let mut after: Vec<(String, u32, u32)> = Vec::new();
    for row in rows {
        let what: String = row.try_get("what").map_err(doing("reading an approval's stock"))?;
        let item: String = row.try_get("item_id").map_err(doing("reading an approval's stock"))?;
        let units = count(row.try_get("units").map_err(doing("reading an approval's stock"))?, "units")?;
        if what == "held" {
            held.insert(item, units);
        } else {
            let low = count(row.try_get("low").map_err(doing("reading an approval's stock"))?, "low threshold")?;
            after.push((item, units, low));
        }
    }
    after
        .into_iter()
        .map(|(item_id, after, low_threshold)| {
            let item = Id::parse(&item_id).ok_or_else(|| StoreError::Corrupt(format!("stock item id {item_id:?}")))?;
            let before = after + held.get(&item_id).copied().unwrap_or(0);
            Ok(Taken { item, before, after, low_threshold })
        })
        .collect()
}
