//! The database is opened safely and migrations stay additive.

use kiosk_store::Store;

#[tokio::test]
async fn opens_in_wal_with_full_sync_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("nested/kiosk.db")).await.unwrap();
    let mut conn = store.read().await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut *conn).await.unwrap();
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&mut *conn).await.unwrap();
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await.unwrap();
    assert_eq!((mode.as_str(), synchronous, foreign_keys), ("wal", 2, 1));
    drop(conn);
    assert_eq!(store.integrity_check().await.unwrap(), Ok(()));
    let id = store.database_id().to_owned();
    assert_eq!(id.len(), 12);
    store.close().await;
    // Opening again applies nothing twice and keeps the id; another database has another.
    assert_eq!(Store::open(&dir.path().join("nested/kiosk.db")).await.unwrap().database_id(), id);
    assert_ne!(Store::open(&dir.path().join("other.db")).await.unwrap().database_id(), id);
}

#[test]
fn migrations_only_add() {
    // A rolled-back release must still read a database a newer release migrated: a migration
    // may create tables, indexes and triggers, add columns and insert rows, nothing else.
    let allowed = [
        "CREATE TABLE ",
        "CREATE INDEX ",
        "CREATE UNIQUE INDEX ",
        "CREATE TRIGGER ",
        "ALTER TABLE ",
        "INSERT ",
        "SELECT RAISE(", // inside a trigger
        "END",           // the end of a trigger
    ];
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("--")).collect();
        for statement in code.join("\n").split(';').map(|s| s.trim().to_uppercase()).filter(|s| !s.is_empty()) {
            let known = allowed.iter().any(|start| statement.starts_with(start));
            let adds_only = !statement.starts_with("ALTER TABLE ") || statement.contains(" ADD COLUMN ");
            assert!(known && adds_only, "{}: migrations are additive only, found: {statement}", path.display());
        }
    }
}

#[tokio::test]
async fn an_older_release_opens_a_database_a_newer_one_migrated() {
    // Release N+1 added a table and recorded its migration; N, rolled back to, knows nothing
    // of it and must still open the database (and keep the newer migration's work).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk.db");
    let store = Store::open(&path).await.unwrap();
    let mut conn = store.read().await.unwrap();
    sqlx::query("CREATE TABLE loyalty_cards (code TEXT PRIMARY KEY)").execute(&mut *conn).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'loyalty cards', 1, x'00', 1)",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    drop(conn);
    store.close().await;
    let reopened = Store::open(&path).await.expect("an older release opens the newer schema");
    let mut conn = reopened.read().await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'loyalty_cards'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(tables, 1);
}
