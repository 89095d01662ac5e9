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
    store.close().await;
    // Opening again applies nothing twice.
    Store::open(&dir.path().join("nested/kiosk.db")).await.unwrap();
}

#[test]
fn migrations_only_add() {
    // A rolled-back release must still read a database a newer release migrated: no
    // migration may drop, rename or rewrite what an earlier one created.
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        let sql = std::fs::read_to_string(&path).unwrap().to_uppercase();
        let code: String = sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
        for forbidden in ["DROP ", "RENAME ", "ALTER COLUMN", "DELETE FROM", "UPDATE "] {
            assert!(
                !code.contains(forbidden),
                "{} contains {forbidden:?}: migrations are additive only",
                path.display()
            );
        }
    }
}
