//! The kiosk's SQLite database through sqlx: opening it safely (WAL, `synchronous=FULL`, a
//! busy timeout, foreign keys), embedded additive migrations, and typed reads and writes per
//! table. Functions take a connection so that the engine decides what goes in one
//! transaction; no business rule lives here.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub mod alerts;
pub mod books;
pub mod journal;
pub mod menus;
pub mod meta;
pub mod orders;
pub mod payments;
pub mod print_jobs;
pub mod promos;
pub mod staff;
pub mod stock;
pub mod z_reports;

pub use sqlx::SqliteConnection as Connection;

/// A write transaction, begun with `BEGIN IMMEDIATE` so that two writers queue on the busy
/// timeout instead of failing on a lock upgrade.
pub type WriteTx = Transaction<'static, Sqlite>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {error}")]
    Open { path: PathBuf, error: sqlx::Error },
    #[error("cannot bring the database {path} up to date: {error}")]
    Migrate { path: PathBuf, error: sqlx::migrate::MigrateError },
    #[error("database error while {doing}: {error}")]
    Query { doing: &'static str, error: sqlx::Error },
    #[error("the database holds a value this release cannot read: {0}")]
    Corrupt(String),
    #[error("another writer appended to the journal meanwhile")]
    JournalMoved,
    #[error("{0}")]
    Duplicate(String),
    #[error("payment attempt {0} exists already, or its order has another payment unresolved")]
    AttemptExists(String),
    #[error("payment attempt {0} is already settled: its outcome cannot change")]
    AttemptSettled(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Wraps a sqlx error with what was being done.
pub(crate) fn doing(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| StoreError::Query { doing, error }
}

/// A constraint a statement broke, told apart by SQLite's extended result code (never by
/// the message's text, which SQLite may word differently from one version to the next).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Broke {
    /// A primary key taken already (an explicit `INTEGER PRIMARY KEY` such as a journal's seq).
    PrimaryKey,
    /// A unique column or index.
    Unique,
    /// A trigger's `RAISE(ABORT, ...)`: the schema's own guards (a settled payment attempt,
    /// the append-only journal).
    Trigger,
}

/// The constraint `error` reports broken, if it is one of [`Broke`]'s.
pub(crate) fn broke(error: &sqlx::Error) -> Option<Broke> {
    // Extended result codes of sqlite3.h.
    const SQLITE_CONSTRAINT_PRIMARYKEY: &str = "1555";
    const SQLITE_CONSTRAINT_TRIGGER: &str = "1811";
    const SQLITE_CONSTRAINT_UNIQUE: &str = "2067";
    let sqlx::Error::Database(database) = error else { return None };
    match database.code()?.as_ref() {
        SQLITE_CONSTRAINT_PRIMARYKEY => Some(Broke::PrimaryKey),
        SQLITE_CONSTRAINT_UNIQUE => Some(Broke::Unique),
        SQLITE_CONSTRAINT_TRIGGER => Some(Broke::Trigger),
        _ => None,
    }
}

/// Commits a write transaction; `what` names it in the error.
pub async fn commit(tx: WriteTx, what: &'static str) -> Result<()> {
    tx.commit().await.map_err(doing(what))
}

/// Reads this database's id, making one on first use.
async fn database_id(pool: &SqlitePool) -> Result<String> {
    let mut random = [0u8; 6];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut source| std::io::Read::read_exact(&mut source, &mut random))
        .map_err(|e| doing("making the database id")(sqlx::Error::Io(e)))?;
    let fresh: String = random.iter().map(|b| format!("{b:02x}")).collect();
    sqlx::query("INSERT OR IGNORE INTO kiosk_meta (name, value) VALUES ('database_id', ?)")
        .bind(fresh)
        .execute(pool)
        .await
        .map_err(doing("recording the database id"))?;
    sqlx::query_scalar("SELECT value FROM kiosk_meta WHERE name = 'database_id'")
        .fetch_one(pool)
        .await
        .map_err(doing("reading the database id"))
}

/// How long a writer waits for another one before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    database_id: String,
}

/// Each connection's page cache, in KiB (SQLite's notation: negative). The kiosk reads
/// recent rows; older pages come from the system's file cache. SQLite's default (2 MiB a
/// connection, four connections) made a busy kiosk's memory grow by 6 MiB over its first
/// thousand orders.
const CACHE_SIZE: &str = "-512";

impl Store {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Store> {
        let open_error = |error| StoreError::Open { path: path.to_owned(), error };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_error(sqlx::Error::Io(e)))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_error)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", CACHE_SIZE);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // A local file needs no ping before each use: it would cost a round trip.
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(open_error)?;
        // A newer release's migrations are additive: an older release, rolled back to after an
        // update, runs on the schema they left and ignores the migrations it does not know.
        sqlx::migrate!("./migrations")
            .set_ignore_missing(true)
            .run(&pool)
            .await
            .map_err(|error| StoreError::Migrate { path: path.to_owned(), error })?;
        let database_id = database_id(&pool).await?;
        Ok(Store { pool, database_id })
    }

    /// A random id given to this database when it was created. Payment keys carry it, so that
    /// a kiosk whose database was reset never sends a terminal a key it used before.
    pub fn database_id(&self) -> &str {
        &self.database_id
    }

    /// Begins a write transaction.
    pub async fn write(&self) -> Result<WriteTx> {
        self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(doing("beginning a write transaction"))
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<sqlx::pool::PoolConnection<Sqlite>> {
        self.pool.acquire().await.map_err(doing("getting a connection"))
    }

    /// Copies the database to `to` while it is in use (SQLite's `VACUUM INTO`: one read
    /// transaction, so a consistent copy whatever the writers do meanwhile). An existing file
    /// at `to` is replaced only once the copy is whole; two copies under way (one left by a
    /// killed agent) do not write the same file.
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        let partial = to.with_extension(format!("partial-{}", std::process::id()));
        let _ = std::fs::remove_file(&partial);
        sqlx::query("VACUUM INTO ?")
            .bind(partial.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await
            .map_err(doing("copying the database"))?;
        std::fs::rename(&partial, to)
            .map_err(|e| StoreError::Query { doing: "naming the copy", error: sqlx::Error::Io(e) })
    }

    /// Runs SQLite's own consistency check; `Ok(())` when it answers "ok".
    pub async fn integrity_check(&self) -> Result<std::result::Result<(), String>> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await
            .map_err(doing("checking integrity"))?;
        Ok(if rows == ["ok"] { Ok(()) } else { Err(rows.join("; ")) })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
