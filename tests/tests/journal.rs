//! The fiscal journal against the attacks it exists for: each one made on the database as
//! an attacker with the file (but not the device key) would, and each detected and named.

use ed25519_dalek::SigningKey;
use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::journal::{ChainBreak, ChainTail, JournalEntry, entry_hash, next_entry};
use kiosk_core::menu::ConsumptionMode;
use kiosk_engine::{EngineError, JournalArchive};
use kiosk_tests::TestKiosk;
use sqlx::Row;

/// A kiosk with `orders` paid orders, and the anchor after them.
async fn journal_with(dir: &std::path::Path, orders: usize) -> (TestKiosk, ChainTail) {
    let kiosk = TestKiosk::with_demo_menu(dir).await;
    let cart = Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1)]);
    for _ in 0..orders {
        kiosk.engine.checkout(&cart).await.unwrap();
    }
    let check = kiosk.engine.verify_journal(None).await.unwrap();
    assert_eq!(check.entries, orders);
    (kiosk, check.last.unwrap())
}

/// Runs SQL as an attacker: the append-only triggers are dropped first.
async fn tamper(kiosk: &TestKiosk, sql: &str) {
    let mut conn = kiosk.engine.store().read().await.unwrap();
    sqlx::raw_sql("DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete;").execute(&mut *conn).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut *conn).await.unwrap();
}

async fn broken(kiosk: &TestKiosk, anchor: Option<&ChainTail>) -> ChainBreak {
    match kiosk.engine.verify_journal(anchor).await {
        Err(EngineError::Journal(chain_break)) => chain_break,
        other => panic!("expected a broken journal, got {other:?}"),
    }
}

#[tokio::test]
async fn honest_code_cannot_edit_or_delete_entries() {
    let dir = tempfile::tempdir().unwrap();
    let (kiosk, _) = journal_with(dir.path(), 1).await;
    let mut conn = kiosk.engine.store().read().await.unwrap();
    for sql in ["UPDATE journal SET payload = '{}'", "DELETE FROM journal"] {
        let error = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await.unwrap_err();
        assert!(error.to_string().contains("the journal is append-only"), "{error}");
    }
}

#[tokio::test]
async fn every_attack_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();

    let (kiosk, _) = journal_with(&dir.path().join("edit"), 4).await;
    tamper(
        &kiosk,
        "UPDATE journal SET payload = replace(payload, '\"total\":\"11.90\"', '\"total\":\"1.90\"') WHERE seq = 2",
    )
    .await;
    assert_eq!(broken(&kiosk, None).await, ChainBreak::Altered { seq: 2 });

    let (kiosk, _) = journal_with(&dir.path().join("head"), 4).await;
    tamper(&kiosk, "DELETE FROM journal WHERE seq <= 2").await;
    assert_eq!(broken(&kiosk, None).await, ChainBreak::HeadMissing { first: 3 });

    let (kiosk, _) = journal_with(&dir.path().join("middle"), 4).await;
    tamper(&kiosk, "DELETE FROM journal WHERE seq = 2").await;
    assert_eq!(broken(&kiosk, None).await, ChainBreak::Gap { previous: 1, found: 3 });

    let (kiosk, anchor) = journal_with(&dir.path().join("tail"), 4).await;
    tamper(&kiosk, "DELETE FROM journal WHERE seq >= 3").await;
    assert!(kiosk.engine.verify_journal(None).await.is_ok(), "without an anchor a cut tail looks whole");
    assert_eq!(broken(&kiosk, Some(&anchor)).await, ChainBreak::Cut { last: 2, anchor });

    let (kiosk, _) = journal_with(&dir.path().join("reorder"), 4).await;
    tamper(
        &kiosk,
        "UPDATE journal SET seq = -seq WHERE seq IN (2, 3); UPDATE journal SET seq = 5 + seq WHERE seq IN (-2, -3);",
    )
    .await;
    // The sequence number is part of the hash: the entry now numbered 2 is not the one signed.
    assert_eq!(broken(&kiosk, None).await, ChainBreak::Altered { seq: 2 });

    // Lower the total of entry 2 and recompute every hash after it: consistent, but unsigned.
    let (kiosk, _) = journal_with(&dir.path().join("rewrite"), 4).await;
    let mut entries: Vec<JournalEntry> =
        kiosk_store::journal::all(&mut kiosk.engine.store().read().await.unwrap()).await.unwrap();
    entries[1].payload = entries[1].payload.replace("\"total\":\"11.90\"", "\"total\":\"1.90\"");
    let mut updates = String::new();
    for index in 1..entries.len() {
        let prev = entries[index - 1].hash.clone();
        let entry = &mut entries[index];
        entry.prev_hash = prev;
        entry.hash = entry_hash(&entry.prev_hash, entry.seq, entry.kind, &entry.at, &entry.payload);
        updates += &format!(
            "UPDATE journal SET payload = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {};",
            entry.payload, entry.prev_hash, entry.hash, entry.seq
        );
    }
    tamper(&kiosk, &updates).await;
    assert_eq!(broken(&kiosk, None).await, ChainBreak::Forged { seq: 2 });
}

#[tokio::test]
async fn an_exported_period_verifies_without_the_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let (kiosk, anchor) = journal_with(dir.path(), 3).await;
    let archive = dir.path().join("journal-2026-12.json");
    kiosk.engine.export_journal("2026-12-01", "2026-12-31", &archive).await.unwrap();
    let registered = kiosk.engine.journal_public_key();
    let check = JournalArchive::verify_file(&archive, &registered).unwrap();
    assert_eq!((check.entries, check.last), (3, Some(anchor)));

    // A period with nothing in it is empty, not an error.
    let empty = dir.path().join("empty.json");
    assert_eq!(kiosk.engine.export_journal("2025-01-01", "2025-01-31", &empty).await.unwrap().entries, 0);

    // A forger rebuilds the period with lower totals and signs it with a key of their own,
    // which the archive then carries: it holds together, but not against the registered key.
    let mut forged: JournalArchive = serde_json::from_str(&std::fs::read_to_string(&archive).unwrap()).unwrap();
    let forger = SigningKey::from_bytes(&[9; 32]);
    let mut rebuilt: Vec<JournalEntry> = Vec::new();
    for entry in &forged.entries {
        let payload = entry.payload.replace("\"total\":\"11.90\"", "\"total\":\"1.90\"");
        let tail = rebuilt.last().map(JournalEntry::tail);
        rebuilt.push(next_entry(tail.as_ref(), entry.kind, entry.at.clone(), payload, &forger));
    }
    forged.entries = rebuilt;
    forged.public_key = hex::encode(forger.verifying_key().as_bytes());
    std::fs::write(&archive, serde_json::to_string(&forged).unwrap()).unwrap();
    assert!(JournalArchive::verify_file(&archive, &forged.public_key).is_ok(), "self-consistent");
    assert!(matches!(
        JournalArchive::verify_file(&archive, &registered),
        Err(EngineError::Journal(ChainBreak::Forged { seq: 1 }))
    ));
    let rows = sqlx::query("SELECT COUNT(*) AS n FROM journal")
        .fetch_one(&mut *kiosk.engine.store().read().await.unwrap())
        .await
        .unwrap();
    assert_eq!(rows.get::<i64, _>("n"), 3);
}
