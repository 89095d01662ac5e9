//! The fiscal journal against the attacks it exists for: each one made on the database as
//! an attacker with the file (but not the device key) would, and each detected and named.

use ed25519_dalek::SigningKey;
use kiosk_core::cart::{Cart, CartLine};
use std::path::Path;
use std::sync::Arc;

use kiosk_core::alert::AlertKind;
use kiosk_core::config::DeviceConfig;
use kiosk_core::journal::{ArchiveSeal, ChainBreak, ChainTail, JournalEntry, entry_hash, next_entry};
use kiosk_core::menu::ConsumptionMode;
use kiosk_devices::terminal::{SimOutcome, SimTerminal};
use kiosk_engine::{Actor, EngineBuilder, EngineError, JournalArchive};
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
    sqlx::raw_sql("DROP TRIGGER IF EXISTS journal_no_update; DROP TRIGGER IF EXISTS journal_no_delete;")
        .execute(&mut *conn)
        .await
        .unwrap();
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
    let check = JournalArchive::verify_file(&archive, &registered, None).unwrap();
    assert_eq!((check.entries, check.last.clone()), (3, Some(anchor.clone())));
    let check = JournalArchive::verify_file(&archive, &registered, Some(&anchor)).unwrap();
    assert_eq!(check.entries, 3, "the anchor taken at the end of the period is in it");

    // A period with nothing in it is empty, not an error.
    let empty = dir.path().join("empty.json");
    assert_eq!(kiosk.engine.export_journal("2025-01-01", "2025-01-31", &empty).await.unwrap().entries, 0);
    assert_eq!(JournalArchive::verify_file(&empty, &registered, None).unwrap().entries, 0);

    // A forger rebuilds the period with lower totals, signs and seals it with a key of their
    // own, which the archive then carries: it holds together, but not against the registered
    // key.
    let mut forged = read_archive(&archive);
    let forger = SigningKey::from_bytes(&[9; 32]);
    let mut rebuilt: Vec<JournalEntry> = Vec::new();
    for entry in &forged.entries {
        let payload = entry.payload.replace("\"total\":\"11.90\"", "\"total\":\"1.90\"");
        let tail = rebuilt.last().map(JournalEntry::tail);
        rebuilt.push(next_entry(tail.as_ref(), entry.kind, entry.at.clone(), payload, &forger));
    }
    forged.entries = rebuilt;
    forged.seal = ArchiveSeal::of(
        &forged.seal.kiosk_id,
        ("2026-12-01", "2026-12-31"),
        &forged.seal.exported_at,
        &forger.verifying_key(),
        &forged.entries,
        None,
    );
    forged.signature = forged.seal.sign(&forger);
    write_archive(&archive, &forged);
    assert!(JournalArchive::verify_file(&archive, &forged.seal.public_key, None).is_ok(), "self-consistent");
    assert!(matches!(
        JournalArchive::verify_file(&archive, &registered, None),
        Err(EngineError::Journal(ChainBreak::KeyReplaced { .. }))
    ));
    // Claiming the registered key without its signature does not help.
    forged.seal.public_key = registered.clone();
    write_archive(&archive, &forged);
    assert!(matches!(
        JournalArchive::verify_file(&archive, &registered, None),
        Err(EngineError::Journal(ChainBreak::SealBroken))
    ));
    let rows = sqlx::query("SELECT COUNT(*) AS n FROM journal")
        .fetch_one(&mut *kiosk.engine.store().read().await.unwrap())
        .await
        .unwrap();
    assert_eq!(rows.get::<i64, _>("n"), 3);
}

fn read_archive(path: &Path) -> JournalArchive {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write_archive(path: &Path, archive: &JournalArchive) {
    std::fs::write(path, serde_json::to_string(archive).unwrap()).unwrap();
}

fn archive_break(path: &Path, key: &str, anchor: Option<&ChainTail>) -> ChainBreak {
    match JournalArchive::verify_file(path, key, anchor) {
        Err(EngineError::Journal(chain_break)) => chain_break,
        other => panic!("expected the archive to be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn a_trimmed_or_relabelled_archive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (kiosk, _) = journal_with(dir.path(), 2).await;
    // A second period, exported on its own: it follows the first one's closing anchor.
    let first_period_end = kiosk.engine.verify_journal(None).await.unwrap().last.unwrap();
    kiosk.clock.set("2026-12-02T12:00:00+01:00");
    let cart = Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1)]);
    for _ in 0..4 {
        kiosk.engine.checkout(&cart).await.unwrap();
    }
    let end = kiosk.engine.verify_journal(None).await.unwrap().last.unwrap();
    let path = dir.path().join("journal-2026-12-02.json");
    kiosk.engine.export_journal("2026-12-02", "2026-12-02", &path).await.unwrap();
    let key = kiosk.engine.journal_public_key();
    let honest = read_archive(&path);
    assert_eq!(honest.seal.previous, Some(first_period_end.clone()), "sealed after the previous period");
    assert_eq!(JournalArchive::verify_file(&path, &key, Some(&end)).unwrap().entries, 4);
    assert!(JournalArchive::verify_file(&path, &key, Some(&first_period_end)).is_ok(), "the previous anchor");

    let trimmed = |change: &dyn Fn(&mut JournalArchive)| {
        let mut archive = honest.clone();
        change(&mut archive);
        write_archive(&path, &archive);
    };
    trimmed(&|a| {
        a.entries.drain(..2);
    });
    assert_eq!(archive_break(&path, &key, None), ChainBreak::HeadTrimmed { sealed: 3, found: 5 });
    trimmed(&|a| {
        a.entries.truncate(3);
    });
    assert_eq!(archive_break(&path, &key, None), ChainBreak::TailTrimmed { sealed: 6, found: 5 });
    trimmed(&|a| a.entries.clear());
    assert_eq!(archive_break(&path, &key, None), ChainBreak::ArchiveEmptied { first: 3, last: 6 });
    // Cutting the tail and re-sealing without the key: the seal no longer holds.
    trimmed(&|a| {
        a.entries.truncate(3);
        a.seal.last = a.entries.last().map(JournalEntry::tail);
        a.seal.entry_count = 3;
    });
    assert_eq!(archive_break(&path, &key, None), ChainBreak::SealBroken);
    for relabel in [
        &(|a: &mut JournalArchive| a.seal.kiosk_id = "another-kiosk".into()) as &dyn Fn(&mut JournalArchive),
        &|a| a.seal.from = "2026-11-01".into(),
        &|a| a.seal.to = "2026-12-31".into(),
        &|a| a.seal.previous = None,
        &|a| a.signature = "00".repeat(64),
    ] {
        trimmed(relabel);
        assert_eq!(archive_break(&path, &key, None), ChainBreak::SealBroken);
    }

    // An anchor applies to an archive as to the database.
    write_archive(&path, &honest);
    let later = ChainTail { seq: 9, hash: end.hash.clone() };
    assert_eq!(archive_break(&path, &key, Some(&later)), ChainBreak::Cut { last: 6, anchor: later });
    let wrong = ChainTail { seq: 4, hash: end.hash.clone() };
    assert_eq!(archive_break(&path, &key, Some(&wrong)), ChainBreak::AnchorMismatch { seq: 4, anchor: wrong });
    let before = ChainTail { seq: 1, hash: end.hash.clone() };
    assert!(matches!(archive_break(&path, &key, Some(&before)), ChainBreak::AnchorOutside { first: 3, last: 6, .. }));
}

#[tokio::test]
async fn reports_check_the_journal_first_and_a_broken_one_stops_the_z() {
    let dir = tempfile::tempdir().unwrap();
    let (kiosk, anchor) = journal_with(dir.path(), 4).await;
    let x = kiosk.engine.x_report(&Actor::Admin).await.unwrap();
    assert_eq!(x.sales.count, 4, "an honest journal reports");
    assert!(kiosk.engine.alerts().await.unwrap().is_empty());

    // The last sale is edited in the database: the X and the Z refuse the journal.
    tamper(
        &kiosk,
        "UPDATE journal SET payload = replace(payload, '\"total\":\"11.90\"', '\"total\":\"1.90\"') WHERE seq = 4",
    )
    .await;
    for refused in [
        kiosk.engine.x_report(&Actor::Admin).await.map(|_| ()),
        kiosk.engine.close_day(&Actor::Admin).await.map(|_| ()),
    ] {
        match refused {
            Err(EngineError::Journal(ChainBreak::Altered { seq: 4 })) => {}
            other => panic!("expected the report refused on entry 4, got {other:?}"),
        }
    }
    assert_eq!(
        kiosk.engine.verify_journal(None).await.unwrap_err().to_string(),
        "journal check failed: entry 4 was altered: its content does not match its hash"
    );
    let alerts = kiosk.engine.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "one alert, however often the check fails: {alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::JournalBroken);
    assert!(alerts[0].message.contains("entry 4 was altered"), "{}", alerts[0].message);
    assert!(matches!(kiosk.engine.clear_alert(&Actor::Admin, alerts[0].id).await, Err(EngineError::AlertStays { .. })));
    let entries = kiosk_store::journal::all(&mut kiosk.engine.store().read().await.unwrap()).await.unwrap();
    assert_eq!(entries.last().unwrap().tail().seq, anchor.seq, "no day close was appended");
    assert!(kiosk.engine.z_report(1).await.is_err(), "no Z was made");
}

#[tokio::test]
async fn a_report_checks_every_entry_it_adds_up_and_a_failed_check_is_not_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let (kiosk, _) = journal_with(dir.path(), 2).await;
    kiosk.engine.close_day(&Actor::Admin).await.unwrap();
    let cart = Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1)]);
    for _ in 0..3 {
        kiosk.engine.checkout(&cart).await.unwrap();
    }
    // Entries 1-2 sales, 3 the close, 4-6 sales. An X verifies up to entry 6.
    assert_eq!(kiosk.engine.x_report(&Actor::Admin).await.unwrap().sales.count, 3);

    // A sale of this period is edited after the X: the Z still checks every entry it adds up.
    tamper(
        &kiosk,
        "UPDATE journal SET payload = replace(payload, '\"total\":\"11.90\"', '\"total\":\"1.90\"') WHERE seq = 5",
    )
    .await;
    assert!(matches!(
        kiosk.engine.close_day(&Actor::Admin).await,
        Err(EngineError::Journal(ChainBreak::Altered { seq: 5 }))
    ));

    // Removing the edited entry and those after it leaves a journal ending at 4, short of the
    // entry 6 the X verified: still refused, the alert saying so now.
    tamper(&kiosk, "DELETE FROM journal WHERE seq >= 5").await;
    assert!(matches!(
        kiosk.engine.x_report(&Actor::Admin).await,
        Err(EngineError::Journal(ChainBreak::Cut { last: 4, .. }))
    ));
    let alerts = kiosk.engine.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].message.contains("its tail was cut"), "{}", alerts[0].message);
}

#[tokio::test]
async fn a_break_found_by_a_full_check_stops_the_reports_too() {
    let dir = tempfile::tempdir().unwrap();
    let (kiosk, _) = journal_with(dir.path(), 2).await;
    kiosk.engine.close_day(&Actor::Admin).await.unwrap();
    kiosk.engine.x_report(&Actor::Admin).await.unwrap();
    // An entry of a closed period edited: the X's quick check starts after it...
    tamper(
        &kiosk,
        "UPDATE journal SET payload = replace(payload, '\"total\":\"11.90\"', '\"total\":\"1.90\"') WHERE seq = 2",
    )
    .await;
    assert!(kiosk.engine.x_report(&Actor::Admin).await.is_ok(), "a closed period is the full check's to read");
    // ...but once the full check has found it, no report passes until the journal is whole.
    assert_eq!(broken(&kiosk, None).await, ChainBreak::Altered { seq: 2 });
    assert!(matches!(
        kiosk.engine.x_report(&Actor::Admin).await,
        Err(EngineError::Journal(ChainBreak::Altered { seq: 2 }))
    ));
    assert_eq!(kiosk.engine.alerts().await.unwrap()[0].kind, AlertKind::JournalBroken, "the alert stays");
}

#[tokio::test]
async fn a_replaced_journal_key_is_named_and_stops_sales() {
    let dir = tempfile::tempdir().unwrap();
    let (kiosk, _) = journal_with(dir.path(), 3).await;
    let z = kiosk.engine.close_day(&Actor::Admin).await.unwrap();
    let fingerprint = kiosk.engine.journal_key_fingerprint();
    assert!(z.to_text("fr").contains(&format!("journal key {fingerprint}")), "{}", z.to_text("fr"));
    let registered = std::fs::read_to_string(dir.path().join("journal.pub")).unwrap();
    assert_eq!(registered.trim(), kiosk.engine.journal_public_key(), "registered at first start");

    kiosk.engine.store().close().await;
    drop(kiosk);
    let forger = SigningKey::from_bytes(&[9; 32]);
    let registered_copy = std::fs::read(dir.path().join("journal.pub")).unwrap();
    let open = || {
        let terminal = SimTerminal::open(&TestKiosk::ledger_path(dir.path()), SimOutcome::Approve).unwrap();
        let db = TestKiosk::db_path(dir.path());
        EngineBuilder::new(&db, DeviceConfig::development()).terminal(Arc::new(terminal)).open()
    };

    // A key put in place of journal.key, the registration removed: not registered in its place,
    // since it did not sign the journal.
    std::fs::write(dir.path().join("journal.key"), format!("{}\n", hex::encode(forger.to_bytes()))).unwrap();
    std::fs::remove_file(dir.path().join("journal.pub")).unwrap();
    let refused = open().await.unwrap_err();
    assert!(refused.to_string().contains("the journal key did not sign the journal"), "{refused}");
    assert!(!dir.path().join("journal.pub").exists());
    // Emptied rather than removed: the same.
    std::fs::write(dir.path().join("journal.pub"), "").unwrap();
    let refused = open().await.unwrap_err();
    assert!(refused.to_string().contains("the journal key did not sign the journal"), "{refused}");
    std::fs::write(dir.path().join("journal.pub"), &registered_copy).unwrap();

    // An attacker with the files re-signs the whole journal with that key: the chain holds
    // together under it, but not under the key registered at first start.
    let (kiosk, _) = open().await.unwrap();
    let entries = kiosk_store::journal::all(&mut kiosk.store().read().await.unwrap()).await.unwrap();
    let mut updates = String::new();
    let mut tail: Option<ChainTail> = None;
    for entry in &entries {
        let resigned = next_entry(tail.as_ref(), entry.kind, entry.at.clone(), entry.payload.clone(), &forger);
        updates += &format!("UPDATE journal SET signature = '{}' WHERE seq = {};", resigned.signature, entry.seq);
        tail = Some(resigned.tail());
    }
    let mut conn = kiosk.store().read().await.unwrap();
    sqlx::raw_sql("DROP TRIGGER journal_no_update;").execute(&mut *conn).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(updates)).execute(&mut *conn).await.unwrap();
    drop(conn);
    kiosk.store().close().await;
    drop(kiosk);

    let kiosk = TestKiosk::open(dir.path()).await;
    let broken = kiosk.engine.verify_journal(None).await.unwrap_err();
    assert!(matches!(broken, EngineError::Journal(ChainBreak::KeyReplaced { .. })), "{broken}");
    assert!(broken.to_string().contains(&format!("registered {fingerprint}")), "{broken}");
    let cart = Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1)]);
    assert!(matches!(kiosk.engine.checkout(&cart).await, Err(EngineError::Journal(ChainBreak::KeyReplaced { .. }))));
    assert!(kiosk.engine.close_day(&Actor::Admin).await.is_err());
    assert_eq!(kiosk.engine.alerts().await.unwrap()[0].kind, AlertKind::JournalBroken);
}

/// The device image keeps an empty journal.pub for the app to register its key in at the
/// first start (the only time it may write there).
#[tokio::test]
async fn an_empty_registration_is_the_place_kept_for_the_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let registration = dir.path().join("journal.pub");
    std::fs::write(&registration, "").unwrap();
    let terminal = SimTerminal::open(&TestKiosk::ledger_path(dir.path()), SimOutcome::Approve).unwrap();
    let (engine, _) = EngineBuilder::new(&TestKiosk::db_path(dir.path()), DeviceConfig::development())
        .terminal(Arc::new(terminal))
        .open()
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&registration).unwrap().trim(), engine.journal_public_key());
}
