//! The append-only journal tables; their hashing rules are in `kiosk_core::journal`. The
//! fiscal journal is `journal`; training sales chain apart in `training_journal`. Reading a
//! journal (for reports, verification, archives) is the fiscal one's business only.

use kiosk_core::journal::{ChainTail, EntryKind, JournalEntry};

use crate::{Broke, Connection, Result, StoreError, broke, doing};

/// Which chain an entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Chain {
    /// The fiscal journal: real sales, refunds, voids and day closes.
    Fiscal,
    /// Training sales, kept apart.
    Training,
}

impl Chain {
    pub fn of(training: bool) -> Chain {
        if training { Chain::Training } else { Chain::Fiscal }
    }

    pub fn table(self) -> &'static str {
        match self {
            Chain::Fiscal => "journal",
            Chain::Training => "training_journal",
        }
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    kind: String,
    at: String,
    payload: String,
    prev_hash: String,
    hash: String,
    signature: String,
}

impl TryFrom<EntryRow> for JournalEntry {
    type Error = StoreError;
    fn try_from(row: EntryRow) -> Result<JournalEntry> {
        let kind = EntryKind::parse(&row.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("journal entry {} has kind {:?}", row.seq, row.kind)))?;
        let seq = u64::try_from(row.seq).map_err(|_| StoreError::Corrupt(format!("journal sequence {}", row.seq)))?;
        Ok(JournalEntry {
            seq,
            kind,
            at: row.at,
            payload: row.payload,
            prev_hash: row.prev_hash,
            hash: row.hash,
            signature: row.signature,
        })
    }
}

/// The last entry's sequence number and hash, or `None` for an empty journal.
pub async fn tail(conn: &mut Connection, chain: Chain) -> Result<Option<ChainTail>> {
    let sql = format!("SELECT seq, hash FROM {} ORDER BY seq DESC LIMIT 1", chain.table());
    let row: Option<(i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(conn).await.map_err(doing("reading the journal"))?;
    row.map(|(seq, hash)| Ok(ChainTail { seq: sequence(seq)?, hash })).transpose()
}

fn sequence(seq: i64) -> Result<u64> {
    u64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("journal sequence {seq}")))
}

/// Appends an entry; [`StoreError::JournalMoved`] when its sequence number is taken.
pub async fn append(conn: &mut Connection, chain: Chain, entry: &JournalEntry) -> Result<()> {
    let sql = format!(
        "INSERT INTO {} (seq, kind, at, payload, prev_hash, hash, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
        chain.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::try_from(entry.seq).map_err(|_| StoreError::Corrupt(format!("journal sequence {}", entry.seq)))?)
        .bind(entry.kind.code())
        .bind(&entry.at)
        .bind(&entry.payload)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .bind(&entry.signature)
        .execute(conn)
        .await
        .map_err(|error| match broke(&error) {
            Some(Broke::PrimaryKey) => StoreError::JournalMoved,
            _ => doing("appending to the journal")(error),
        })?;
    Ok(())
}

pub async fn all(conn: &mut Connection) -> Result<Vec<JournalEntry>> {
    let rows: Vec<EntryRow> = sqlx::query_as("SELECT * FROM journal ORDER BY seq")
        .fetch_all(conn)
        .await
        .map_err(doing("reading the journal"))?;
    rows.into_iter().map(JournalEntry::try_from).collect()
}

/// The entries of the business days `from` to `to` (dates "YYYY-MM-DD", inclusive), by the
/// local date their time carries.
pub async fn between(conn: &mut Connection, from: &str, to: &str) -> Result<Vec<JournalEntry>> {
    let rows: Vec<EntryRow> =
        sqlx::query_as("SELECT * FROM journal WHERE substr(at, 1, 10) BETWEEN ? AND ? ORDER BY seq")
            .bind(from)
            .bind(to)
            .fetch_all(conn)
            .await
            .map_err(doing("reading the journal"))?;
    rows.into_iter().map(JournalEntry::try_from).collect()
}

/// The entries after `after_seq`, in order.
pub async fn since(conn: &mut Connection, after_seq: u64) -> Result<Vec<JournalEntry>> {
    let after = i64::try_from(after_seq).map_err(|_| StoreError::Corrupt(format!("journal sequence {after_seq}")))?;
    let rows: Vec<EntryRow> = sqlx::query_as("SELECT * FROM journal WHERE seq > ? ORDER BY seq")
        .bind(after)
        .fetch_all(conn)
        .await
        .map_err(doing("reading the journal"))?;
    rows.into_iter().map(JournalEntry::try_from).collect()
}

/// The latest entry of a kind (the last day close, say).
pub async fn last_of_kind(conn: &mut Connection, kind: EntryKind) -> Result<Option<JournalEntry>> {
    let row: Option<EntryRow> = sqlx::query_as("SELECT * FROM journal WHERE kind = ? ORDER BY seq DESC LIMIT 1")
        .bind(kind.code())
        .fetch_optional(conn)
        .await
        .map_err(doing("reading the journal"))?;
    row.map(JournalEntry::try_from).transpose()
}

/// The entry just before `seq`, as an anchor: where a run starting at `seq` links to.
pub async fn before(conn: &mut Connection, seq: u64) -> Result<Option<ChainTail>> {
    let seq = i64::try_from(seq).map_err(|_| StoreError::Corrupt(format!("journal sequence {seq}")))?;
    let row: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM journal WHERE seq = ? - 1")
        .bind(seq)
        .fetch_optional(conn)
        .await
        .map_err(doing("reading the journal"))?;
    row.map(|(seq, hash)| Ok(ChainTail { seq: sequence(seq)?, hash })).transpose()
}

/// The last entry of the business days before `day` ("YYYY-MM-DD"), as an anchor.
pub async fn last_before_day(conn: &mut Connection, day: &str) -> Result<Option<ChainTail>> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM journal WHERE substr(at, 1, 10) < ? ORDER BY seq DESC LIMIT 1")
            .bind(day)
            .fetch_optional(conn)
            .await
            .map_err(doing("reading the journal"))?;
    row.map(|(seq, hash)| Ok(ChainTail { seq: sequence(seq)?, hash })).transpose()
}

/// The last entry of a chain.
pub async fn last(conn: &mut Connection, chain: Chain) -> Result<Option<JournalEntry>> {
    let sql = format!("SELECT * FROM {} ORDER BY seq DESC LIMIT 1", chain.table());
    let row: Option<EntryRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(conn).await.map_err(doing("reading the journal"))?;
    row.map(JournalEntry::try_from).transpose()
}
