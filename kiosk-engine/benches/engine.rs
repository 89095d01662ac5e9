//! Engine figures, printed: one checkout's approval commit against the raw fsync latency of
//! the same disk, measured in the same run (target: under 1.5x), and importing a 1,000-item
//! menu (target: under 200 ms), `journal verify` over 100,000 entries (target: under 1 s),
//! an X report on such a journal after a Z (its journal check starts at the last verified
//! anchor), and from the payment to the kitchen ticket's first byte at a (fake) network
//! printer (target: under 50 ms). Run: `cargo bench -p kiosk-engine --bench engine`.

// Floats here are timings, never money.
#![allow(clippy::float_arithmetic)]

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::config::DeviceConfig;
use kiosk_core::journal::EntryKind;
use kiosk_core::menu::ConsumptionMode;
use kiosk_devices::printer::ConfiguredPrinter;
use kiosk_engine::{Actor, Engine, EngineBuilder, FixedClock, PaymentOutcome, StockChange};

const ROUNDS: usize = 300;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn percentile_90(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() * 9 / 10]
}

fn micros(d: Duration) -> String {
    format!("{:>9.1} µs", d.as_secs_f64() * 1e6)
}

/// Appends a 4 KiB page and `fdatasync`s it: the least one SQLite WAL commit must cost.
fn raw_fsync(file: &mut std::fs::File) -> Duration {
    let page = [0x5au8; 4096];
    let started = Instant::now();
    file.write_all(&page).unwrap();
    file.sync_data().unwrap();
    started.elapsed()
}

async fn open_engine(dir: &Path) -> Engine {
    EngineBuilder::new(&dir.join("kiosk.db"), DeviceConfig::development())
        .clock(Arc::new(FixedClock::at("2026-12-01T12:00:00+01:00")))
        .open()
        .await
        .unwrap()
        .0
}

/// Runs checkouts and, before each, a raw fsync on the same disk, so that both see the
/// same conditions. Returns (raw fsync times, approval commit times).
async fn commit_and_fsync_times(dir: &Path) -> (Vec<Duration>, Vec<Duration>) {
    let engine = open_engine(dir).await;
    let menu = Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/brasserie/menu.toml");
    engine.import_menu(&menu).await.unwrap();
    let plenty = StockChange { on_hand: Some(1_000_000), ..StockChange::default() };
    engine.change_stock(&Actor::Admin, "salade-nicoise", &plenty).await.unwrap();
    let mut cola = CartLine::item("cola", 2);
    cola.modifiers.insert("taille-boisson".into(), vec!["50cl".into()]);
    let cart = Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1), cola]);
    let mut probe = OpenOptions::new().create(true).append(true).open(dir.join("fsync-probe")).unwrap();
    let mut fsyncs = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        fsyncs.push(raw_fsync(&mut probe));
        let (_, outcome) = engine.checkout(&cart).await.unwrap();
        assert!(matches!(outcome, PaymentOutcome::Paid { .. }));
    }
    (fsyncs, engine.approval_commit_times())
}

/// A menu with `count` items over ten categories, all sharing one image.
fn big_menu(dir: &Path, count: usize, label: &str) -> std::path::PathBuf {
    let mut text = format!(
        "[venue]\nname = {{ fr = \"Banc\", en = \"Bench\" }}\ncurrency = \"EUR\"\nlanguages = [\"fr\", \"en\"]\nversion = \"{label}\"\n\n\
         [[tax]]\nid = \"food\"\ndine_in = \"10\"\ntake_away = \"5.5\"\n\n\
         [[modifier_group]]\nid = \"size\"\nname = {{ fr = \"Taille\", en = \"Size\" }}\nmin = 1\nmax = 1\n\
         option = [{{ id = \"s\", name = {{ fr = \"Petit\", en = \"Small\" }}, price = \"0.00\" }}, \
         {{ id = \"l\", name = {{ fr = \"Grand\", en = \"Large\" }}, price = \"1.00\" }}]\n"
    );
    for category in 0..10 {
        text += &format!(
            "\n[[category]]\nid = \"c{category}\"\nname = {{ fr = \"Rayon {category}\", en = \"Aisle {category}\" }}\n"
        );
    }
    for item in 0..count {
        text += &format!(
            "\n[[item]]\nid = \"item-{item}\"\ncategory = \"c{}\"\nname = {{ fr = \"Article {item}\", en = \"Item {item}\" }}\n\
             description = {{ fr = \"Un article\", en = \"An item\" }}\nprice = \"{}.{:02}\"\nimage = \"item.svg\"\ntax = \"food\"\n\
             allergens = [\"gluten\"]\nmodifiers = [\"size\"]\nstock = 100\nlow_stock = 5\n\
             available = [{{ from = \"06:00\", until = \"23:00\" }}]\n",
            item % 10,
            1 + item % 20,
            item % 100
        );
    }
    std::fs::write(dir.join("item.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 8 8\"/>").unwrap();
    let path = dir.join("big-menu.toml");
    std::fs::write(&path, text).unwrap();
    path
}

async fn import_times(dir: &Path) -> (Vec<Duration>, Vec<Duration>) {
    let engine = open_engine(dir).await;
    let mut imports = Vec::new();
    let mut loads = Vec::new();
    for round in 0..15 {
        let path = big_menu(dir, 1000, &format!("bench {round}"));
        let started = Instant::now();
        kiosk_engine::MenuFile::load(&path).unwrap();
        loads.push(started.elapsed());
        let started = Instant::now();
        let outcome = engine.import_menu(&path).await.unwrap();
        imports.push(started.elapsed());
        assert_eq!(outcome.items, 1000);
    }
    (imports, loads)
}

/// A sale as the journal records it.
fn sale(seq: u64) -> String {
    serde_json::json!({
        "order": format!("A{seq:03}"), "order_id": seq, "business_date": "2026-12-01", "currency": "EUR",
        "total": "9.90", "tax": "0.90", "method": "terminal", "payment_key": format!("k-{seq}"),
        "reference": format!("r-{seq}"), "taxes": [], "lines": [],
    })
    .to_string()
}

/// Fills a fresh kiosk's journal with `count` signed entries, then times verifying it all
/// (read from the database, every hash and link, the signature at the end).
async fn journal_verify_time(dir: &Path, count: u64) -> Duration {
    let engine = open_engine(dir).await;
    let key = kiosk_engine::load_or_create_key(&kiosk_engine::default_key_path(&dir.join("kiosk.db"))).unwrap();
    let mut tx = engine.store().write().await.unwrap();
    let mut tail = None;
    for seq in 1..=count {
        let at = "2026-12-01T12:00:00+01:00".to_owned();
        let entry = kiosk_core::journal::next_entry(tail.as_ref(), EntryKind::OrderPaid, at, sale(seq), &key);
        kiosk_store::journal::append(&mut tx, kiosk_store::journal::Chain::Fiscal, &entry).await.unwrap();
        tail = Some(entry.tail());
    }
    kiosk_store::commit(tx, "filling the journal").await.unwrap();
    let started = Instant::now();
    let check = engine.verify_journal(tail.as_ref()).await.unwrap();
    let took = started.elapsed();
    assert_eq!(check.entries as u64, count);
    took
}

/// On a journal of `count` entries closed by a Z, appends ten more and times the X report:
/// its check of the journal starts at the last verified anchor, so it does not grow with the
/// journal.
async fn x_report_time(dir: &Path, count: u64) -> Duration {
    journal_verify_time(dir, count).await;
    let engine = open_engine(dir).await;
    engine.close_day(&Actor::Admin).await.unwrap();
    let key = kiosk_engine::load_or_create_key(&kiosk_engine::default_key_path(&dir.join("kiosk.db"))).unwrap();
    let mut tx = engine.store().write().await.unwrap();
    let mut tail = kiosk_store::journal::tail(&mut tx, kiosk_store::journal::Chain::Fiscal).await.unwrap();
    for seq in 0..10 {
        let at = "2026-12-02T12:00:00+01:00".to_owned();
        let entry = kiosk_core::journal::next_entry(tail.as_ref(), EntryKind::OrderPaid, at, sale(seq), &key);
        kiosk_store::journal::append(&mut tx, kiosk_store::journal::Chain::Fiscal, &entry).await.unwrap();
        tail = Some(entry.tail());
    }
    kiosk_store::commit(tx, "adding sales").await.unwrap();
    let started = Instant::now();
    let report = engine.x_report(&Actor::Admin).await.unwrap();
    let took = started.elapsed();
    assert_eq!(report.sales.count, 10);
    took
}

/// Pays orders whose kitchen ticket goes to a fake network printer on loopback, and times
/// from asking to pay (the approval comes at once from the simulator) to the ticket's first
/// byte at the printer.
async fn first_byte_times(dir: &Path) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (first_bytes, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let first_bytes = first_bytes.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 3];
                let mut first = [0u8; 1];
                if stream.read_exact(&mut first).await.is_err() {
                    return;
                }
                if first[0] == 0x10 {
                    // Status requests: online, paper present.
                    loop {
                        if stream.read_exact(&mut request[..2]).await.is_err()
                            || stream.write_all(&[0x12]).await.is_err()
                        {
                            return;
                        }
                        if stream.read_exact(&mut first).await.is_err() {
                            return;
                        }
                    }
                }
                let _ = first_bytes.send(Instant::now());
                // The rest of the job, then the status requests that confirm it: answered.
                let mut window = [0u8; 2];
                while stream.read_exact(&mut first).await.is_ok() {
                    if window == [0x10, 0x04] && stream.write_all(&[0x12]).await.is_err() {
                        return;
                    }
                    window = [window[1], first[0]];
                }
            });
        }
    });
    let mut device = DeviceConfig::development();
    device.printing.kitchen_routes = [("salades-sandwiches".to_owned(), "kitchen".to_owned())].into();
    let printer = kiosk_devices::printer::NetworkPrinter { address, timeout: Duration::from_secs(2) };
    let engine = EngineBuilder::new(&dir.join("kiosk.db"), device)
        .clock(Arc::new(FixedClock::at("2026-12-01T12:00:00+01:00")))
        .printers([("kitchen".to_owned(), ConfiguredPrinter { printer: Arc::new(printer), columns: 42 })].into())
        .open()
        .await
        .unwrap()
        .0;
    let menu = Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/brasserie/menu.toml");
    engine.import_menu(&menu).await.unwrap();
    let plenty = StockChange { on_hand: Some(1_000_000), ..StockChange::default() };
    engine.change_stock(&Actor::Admin, "salade-nicoise", &plenty).await.unwrap();
    let cart = Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1)]);
    let mut times = Vec::new();
    for _ in 0..100 {
        let placed = engine.place_order(&cart).await.unwrap();
        let started = Instant::now();
        engine.pay(placed.id).await.unwrap();
        let arrived = arrivals.recv().await.unwrap();
        times.push(arrived - started);
    }
    times
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (fsync, commits) = runtime.block_on(commit_and_fsync_times(scratch.path()));
    let (imports, loads) = runtime.block_on(import_times(&scratch.path().join("import")));
    let verify = runtime.block_on(journal_verify_time(&scratch.path().join("journal"), 100_000));
    let x_report = runtime.block_on(x_report_time(&scratch.path().join("x-report"), 100_000));
    let first_bytes = runtime.block_on(first_byte_times(&scratch.path().join("printing")));

    println!("\nengine figures ({} rounds, disk of {})", ROUNDS, scratch.path().display());
    println!(
        "  raw append + fdatasync          median {}   p90 {}",
        micros(median(fsync.clone())),
        micros(percentile_90(fsync.clone()))
    );
    println!(
        "  approval commit (one checkout)  median {}   p90 {}",
        micros(median(commits.clone())),
        micros(percentile_90(commits.clone()))
    );
    let ratio = median(commits).as_secs_f64() / median(fsync).as_secs_f64();
    println!("  commit / raw fsync              {ratio:>9.2} x      (target: under 1.5 x)");
    println!("  load + check a 1,000-item menu  median {}", micros(median(loads)));
    println!("  import a 1,000-item menu        median {}   (target: under 200 ms)", micros(median(imports)));
    println!("  journal verify, 100,000 entries        {}   (target: under 1 s)", micros(verify));
    println!("  X report after a Z, 100,010 entries    {}   (checked from the last verified anchor)", micros(x_report));
    println!(
        "  pay -> kitchen ticket first byte median {}   p90 {}   (target: under 50 ms)",
        micros(median(first_bytes.clone())),
        micros(percentile_90(first_bytes))
    );
}
