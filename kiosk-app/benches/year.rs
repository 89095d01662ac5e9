//! A year of a busy kiosk: 200,000 paid orders over 365 days, each day closed by a Z, with
//! their journal, print jobs and payments, made once through the engine (and kept in the
//! target folder for the next runs). On a copy of that database and on a fresh one, the same
//! figures are printed side by side: the app's start to its first frame, an approval commit,
//! an X report and a Z close (each with the journal check before it); then what grows. Target:
//! none more than 20 % worse on the year-old database.
//!
//! Run with `cargo bench -p kiosk-app --bench year` (the first run makes the year: minutes).

#![allow(clippy::float_arithmetic, reason = "statistics of timings")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use common::{at, median_mib, millis, selling_engine, start_ups};
use kiosk_engine::kiosk_core::cart::{Cart, CartLine};
use kiosk_engine::kiosk_core::menu::ConsumptionMode;
use kiosk_engine::{Actor, FixedClock, PaymentOutcome};

const ORDERS: u64 = 200_000;
const DAYS: u64 = 365;
/// Rounds of the day's measurements: a few sales, an X report, a Z close.
const ROUNDS: usize = 15;
const SALES_A_ROUND: usize = 20;
const STARTS: usize = 5;

/// Noon on the `day`th day of the year, which starts on 1 December 2025.
fn noon(day: u64) -> String {
    let date = NaiveDate::from_ymd_opt(2025, 12, 1).expect("a date") + Days::new(day);
    format!("{}T12:00:00+01:00", date.format("%Y-%m-%d"))
}

/// A lunch: a salad and a large cola, to take away.
fn lunch() -> Cart {
    let mut cola = CartLine::item("cola", 1);
    cola.modifiers.insert("taille-boisson".into(), vec!["50cl".into()]);
    Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1), cola])
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let year = runtime.block_on(year_of_orders())?;
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let (fresh, old) = (scratch.path().join("fresh"), scratch.path().join("year"));
    std::fs::create_dir_all(&fresh)?;
    copy_folder(&year, &old)?;
    let measured = measure(&runtime, [("fresh", &fresh), ("a year old", &old)])?;
    println!("\n{:<44} {:>12} {:>12} {:>8}", "median of the day's figures", "fresh", "a year old", "ratio");
    for ((what, new), (_, old)) in measured[0].1.timings().into_iter().zip(measured[1].1.timings()) {
        let ratio = old.as_secs_f64() / new.as_secs_f64();
        println!("{what:<44} {:>9.2} ms {:>9.2} ms {ratio:>7.2}x", millis(new), millis(old));
    }
    println!("(target: none more than 1.20x)\n\nwhat grows:");
    for (name, figures) in &measured {
        println!(
            "  {name:<11} database {:>7.1} MiB, app PSS {:.1} MiB, whole journal verify {:>8.1} ms over {} entries",
            figures.database_mib,
            figures.pss_mib,
            millis(figures.whole_journal),
            figures.journal_entries
        );
    }
    Ok(())
}

/// The year's database, made once: on tmpfs when the machine has one (600,000 commits need
/// no disk flush to make a fixture), then kept in the target folder.
async fn year_of_orders() -> anyhow::Result<PathBuf> {
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("year-of-{ORDERS}-orders"));
    if kept.join("complete").exists() {
        return Ok(kept);
    }
    let _ = std::fs::remove_dir_all(&kept);
    let shm = Path::new("/dev/shm");
    let work =
        if shm.is_dir() { tempfile::tempdir_in(shm)? } else { tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))? };
    println!("making a year of {ORDERS} orders in {} (once)", work.path().display());
    let started = Instant::now();
    let clock = Arc::new(FixedClock::at(&noon(0)));
    let engine = selling_engine(work.path(), clock.clone()).await?;
    let cart = lunch();
    for day in 0..DAYS {
        clock.set(&noon(day));
        for _ in ORDERS * day / DAYS..ORDERS * (day + 1) / DAYS {
            let (_, outcome) = engine.checkout(&cart).await?;
            anyhow::ensure!(matches!(outcome, PaymentOutcome::Paid { .. }), "a sale was not paid: {outcome:?}");
        }
        engine.close_day(&Actor::Admin).await?;
        if day % 30 == 29 {
            println!("  day {} of {DAYS}, {:.0} s", day + 1, started.elapsed().as_secs_f64());
        }
    }
    engine.store().close().await;
    drop(engine);
    copy_folder(work.path(), &kept)?;
    std::fs::write(kept.join("complete"), "")?;
    Ok(kept)
}

fn copy_folder(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && entry.file_name() != "complete" {
            let copy = to.join(entry.file_name());
            std::fs::copy(entry.path(), &copy)?;
            // On disk before the figures are taken: the copy's write-back would slow their fsyncs.
            std::fs::File::open(&copy)?.sync_all()?;
        }
    }
    Ok(())
}

#[derive(Debug)]
struct Figures {
    first_frame: Duration,
    approval: Duration,
    x_report: Duration,
    z_close: Duration,
    whole_journal: Duration,
    journal_entries: usize,
    database_mib: f64,
    pss_mib: f64,
}

impl Figures {
    fn timings(&self) -> [(&'static str, Duration); 4] {
        [
            ("app start to its first frame", self.first_frame),
            ("approval commit (one sale)", self.approval),
            ("X report, journal check included", self.x_report),
            ("Z close, journal check included", self.z_close),
        ]
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    at(&samples, 0.5)
}

/// The day's figures on the two kiosks, the day after the year. Each figure is taken on
/// one kiosk then the other, turn by turn, so that both see the disk in the same state
/// (its fsync times wander over minutes).
fn measure(
    runtime: &tokio::runtime::Runtime,
    kiosks: [(&'static str, &Path); 2],
) -> anyhow::Result<Vec<(&'static str, Figures)>> {
    let mut starts = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for _ in 0..STARTS {
        for ((_, dir), (firsts, pss)) in kiosks.iter().zip(&mut starts) {
            let (first, memory) = start_ups(&dir.join("kiosk.db"), 1)?;
            firsts.extend(first);
            pss.extend(memory);
        }
    }
    runtime.block_on(async {
        let mut engines = Vec::new();
        for (_, dir) in kiosks {
            engines.push(selling_engine(dir, Arc::new(FixedClock::at(&noon(DAYS)))).await?);
        }
        let cart = lunch();
        let mut reports = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
        for _ in 0..ROUNDS {
            for (engine, (x_reports, z_closes)) in engines.iter().zip(&mut reports) {
                for _ in 0..SALES_A_ROUND {
                    engine.checkout(&cart).await?;
                }
                let started = Instant::now();
                let report = engine.x_report(&Actor::Admin).await?;
                x_reports.push(started.elapsed());
                anyhow::ensure!(report.sales.count as usize == SALES_A_ROUND, "the X covers the round's sales");
                let started = Instant::now();
                engine.close_day(&Actor::Admin).await?;
                z_closes.push(started.elapsed());
            }
        }
        let mut measured = Vec::new();
        for (((name, dir), engine), ((firsts, pss), (x_reports, z_closes))) in
            kiosks.into_iter().zip(engines).zip(starts.into_iter().zip(reports))
        {
            let started = Instant::now();
            let check = engine.verify_journal(None).await?;
            let whole_journal = started.elapsed();
            let database = std::fs::metadata(dir.join("kiosk.db"))?.len() + wal_size(dir);
            let figures = Figures {
                first_frame: median(firsts),
                approval: median(engine.approval_commit_times()),
                x_report: median(x_reports),
                z_close: median(z_closes),
                whole_journal,
                journal_entries: check.entries,
                database_mib: database as f64 / (1024.0 * 1024.0),
                pss_mib: median_mib(&pss),
            };
            measured.push((name, figures));
        }
        Ok(measured)
    })
}

fn wal_size(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("kiosk.db-wal")).map_or(0, |meta| meta.len())
}
