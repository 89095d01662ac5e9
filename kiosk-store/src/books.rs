//! The counts a check of the books compares: payments approved, orders settled by them, the
//! journal's paid entries, stock held by no sale in progress (see the engine's
//! `Engine::check_books`).

use std::collections::BTreeMap;

use crate::{Connection, Result, doing};

/// What the database says of its payments and orders, read in one transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Books {
    /// Approved payments on the kiosk's card terminal: attempt key and amount (minor units).
    pub terminal_approvals: BTreeMap<String, i64>,
    /// Approved payments of every method (terminal and counter).
    pub approvals: u64,
    /// Distinct orders those approvals pay.
    pub orders_with_approval: u64,
    /// Orders past payment: paid, sent to the kitchen, completed or refunded.
    pub settled_orders: u64,
    /// Approved payments of training orders (a simulated terminal, or training switched on).
    pub training_approvals: u64,
    /// The fiscal journal's entries of paid orders.
    pub paid_entries: u64,
    /// The training journal's entries of paid orders.
    pub training_paid_entries: u64,
    /// Payment attempts not approved: the terminal declined or never charged them.
    pub not_charged: u64,
    /// Attempts (payments or refunds) whose outcome is not known yet.
    pub unresolved: u64,
    /// Stock holds whose holder is neither an unresolved attempt nor an order waiting to be
    /// paid at the counter: units kept from sale by nothing.
    pub orphan_holds: u64,
}

/// Reads the [`Books`] in one read transaction, so the counts agree with each other.
pub async fn read(conn: &mut Connection) -> Result<Books> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(doing("reading the books"))?;
    let terminal_approvals: Vec<(String, i64)> = sqlx::query_as(
        "SELECT key, amount_minor FROM payment_attempts \
         WHERE state = 'approved' AND purpose = 'payment' AND method = 'terminal'",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(doing("reading approved payments"))?;
    let books = Books {
        terminal_approvals: terminal_approvals.into_iter().collect(),
        approvals: count(
            &mut tx,
            "counting approved payments",
            "SELECT COUNT(*) FROM payment_attempts WHERE state = 'approved' AND purpose = 'payment'",
        )
        .await?,
        orders_with_approval: count(
            &mut tx,
            "counting paid orders",
            "SELECT COUNT(DISTINCT order_id) FROM payment_attempts WHERE state = 'approved' AND purpose = 'payment'",
        )
        .await?,
        settled_orders: count(
            &mut tx,
            "counting settled orders",
            "SELECT COUNT(*) FROM orders WHERE status IN ('paid', 'sent_to_kitchen', 'completed', 'refunded')",
        )
        .await?,
        training_approvals: count(
            &mut tx,
            "counting approved training payments",
            "SELECT COUNT(*) FROM payment_attempts a JOIN orders o ON o.id = a.order_id \
             WHERE a.state = 'approved' AND a.purpose = 'payment' AND o.training = 1",
        )
        .await?,
        paid_entries: count(
            &mut tx,
            "counting the journal's paid entries",
            "SELECT COUNT(*) FROM journal WHERE kind = 'order_paid'",
        )
        .await?,
        training_paid_entries: count(
            &mut tx,
            "counting the training journal's paid entries",
            "SELECT COUNT(*) FROM training_journal WHERE kind = 'order_paid'",
        )
        .await?,
        not_charged: count(
            &mut tx,
            "counting payments not charged",
            "SELECT COUNT(*) FROM payment_attempts WHERE state = 'not_charged' AND purpose = 'payment'",
        )
        .await?,
        unresolved: count(
            &mut tx,
            "counting unresolved payments",
            "SELECT COUNT(*) FROM payment_attempts WHERE state IN ('requested', 'in_doubt')",
        )
        .await?,
        orphan_holds: count(
            &mut tx,
            "counting stock holds",
            "SELECT COUNT(*) FROM stock_holds h \
             WHERE NOT EXISTS (SELECT 1 FROM payment_attempts a \
                               WHERE a.key = h.holder AND a.state IN ('requested', 'in_doubt')) \
               AND NOT EXISTS (SELECT 1 FROM orders o \
                               WHERE h.holder = 'counter:' || o.id AND o.status = 'placed')",
        )
        .await?,
    };
    tx.commit().await.map_err(doing("reading the books"))?;
    Ok(books)
}

/// One `SELECT COUNT(*)` in the books' transaction.
async fn count(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    doing_what: &'static str,
    sql: &'static str,
) -> Result<u64> {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut **tx).await.map_err(doing(doing_what))?;
    Ok(u64::try_from(n).unwrap_or_default())
}
