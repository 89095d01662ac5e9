//! What the touch app's benchmarks share: a kiosk selling for real on a fresh database, taps
//! where a control is drawn, figures printed as percentiles, and start-up figures read from
//! fresh `kiosk-app --report-startup` processes.

#![allow(dead_code, reason = "each bench uses a part of it")]
#![allow(clippy::float_arithmetic, reason = "statistics of timings")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use i_slint_backend_testing::ElementHandle;
use kiosk_app::headless::Headless;
use kiosk_app::{Kiosk, KioskOptions, KioskWindow};
use kiosk_engine::kiosk_core::config::DeviceConfig;
use kiosk_engine::{Actor, Clock, Engine, EngineBuilder, FixedClock, StockChange};
use kiosk_tests::Approver;
use slint::ComponentHandle;
use slint::platform::{PointerEventButton, WindowEvent};

/// The demo menu the benchmarks sell from.
pub fn demo_menu() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/brasserie/menu.toml")
}

/// An engine on `dir/kiosk.db` selling for real (fiscal sales, on a terminal that approves
/// at once and keeps no ledger in this process) from the demo menu, with plenty of baguettes
/// and salads.
pub async fn selling_engine(dir: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<Engine> {
    let (engine, _) = EngineBuilder::new(&dir.join("kiosk.db"), DeviceConfig::development())
        .terminal(Arc::new(Approver::default()))
        .clock(clock)
        .open()
        .await?;
    if engine.active_menu().await.is_err() {
        engine.import_menu(&demo_menu()).await?;
    }
    let plenty = StockChange { on_hand: Some(1_000_000), ..StockChange::default() };
    for item in ["jambon-beurre", "salade-nicoise"] {
        engine.change_stock(&Actor::Admin, item, &plenty).await?;
    }
    Ok(engine)
}

/// A kiosk selling from the demo menu at 12:30 on a Monday (see [`selling_engine`]), drawn
/// at 1080x1920 without a display.
pub struct Demo {
    pub runtime: tokio::runtime::Runtime,
    pub engine: Arc<Engine>,
    pub headless: Headless,
    pub kiosk: Kiosk,
}

pub fn demo_kiosk(dir: &Path) -> anyhow::Result<Demo> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let clock = Arc::new(FixedClock::at("2026-11-30T12:30:00+01:00"));
    let engine = Arc::new(runtime.block_on(selling_engine(dir, clock))?);
    let headless = Headless::install()?;
    headless.resize(1080, 1920);
    let kiosk = Kiosk::new(engine.clone(), runtime.handle().clone(), &KioskOptions::default())?;
    Ok(Demo { runtime, engine, headless, kiosk })
}

/// Presses and releases the pointer in the middle of the control labelled `label`.
pub fn tap(ui: &KioskWindow, label: &str) {
    let control = ElementHandle::find_by_accessible_label(ui, label).next();
    let control = control.unwrap_or_else(|| panic!("no control labelled {label:?} on screen"));
    let (position, size) = (control.absolute_position(), control.size());
    let center = slint::LogicalPosition::new(position.x + size.width / 2.0, position.y + size.height / 2.0);
    let window = ui.window();
    window.dispatch_event(WindowEvent::PointerPressed { position: center, button: PointerEventButton::Left });
    window.dispatch_event(WindowEvent::PointerReleased { position: center, button: PointerEventButton::Left });
}

/// The sample at quantile `q` of sorted samples.
pub fn at<T: Copy>(sorted: &[T], q: f64) -> T {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Prints the median, p90, p99 and the least of timings.
pub fn report(what: &str, samples: &[Duration], target: &str) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    println!(
        "{what}: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, min {:.2} ms over {} runs ({target})",
        millis(at(&sorted, 0.5)),
        millis(at(&sorted, 0.9)),
        millis(at(&sorted, 0.99)),
        millis(sorted[0]),
        sorted.len()
    );
}

/// Starts the app binary (release) `runs` times on the database `db` with a development
/// config beside it; each run reports its first frame and its PSS on the menu screen. A run
/// before them imports the menu if the database has none, and reads the binary from disk.
pub fn start_ups(db: &Path, runs: usize) -> anyhow::Result<(Vec<Duration>, Vec<f64>)> {
    let binary = env!("CARGO_BIN_EXE_kiosk-app");
    forget_cached_pages(Path::new(binary))?;
    let mut firsts = Vec::new();
    let mut pss = Vec::new();
    for run in 0..=runs {
        let output = Command::new(binary)
            .args(["--report-startup", "--dev", "--config"])
            .arg(db.with_file_name("kiosk.toml"))
            .arg("--db")
            .arg(db)
            .arg("--menu")
            .arg(demo_menu())
            .env("RUST_LOG", "warn")
            .output()?;
        anyhow::ensure!(output.status.success(), "kiosk-app failed: {}", String::from_utf8_lossy(&output.stderr));
        let text = String::from_utf8(output.stdout)?;
        let value = |key: &str| -> anyhow::Result<f64> {
            let field = text
                .split_whitespace()
                .find_map(|f| f.strip_prefix(key))
                .ok_or_else(|| anyhow::anyhow!("no {key} in {text}"))?;
            Ok(field.parse()?)
        };
        if run > 0 {
            firsts.push(Duration::from_secs_f64(value("first_frame_ms=")? / 1e3));
            pss.push(value("menu_pss_kib=")?);
        }
    }
    Ok((firsts, pss))
}

/// Drops the file's pages from the page cache, so that the runs map the binary as a kiosk does
/// after boot, from pages read off the disk. A binary wholly in the cache, as one just linked
/// is, has more of its pages mapped by each fault, which read up to 2 MiB more PSS.
fn forget_cached_pages(path: &Path) -> anyhow::Result<()> {
    let file = std::fs::File::open(path)?;
    file.sync_all()?;
    rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed)?;
    Ok(())
}

/// The median of KiB figures, in MiB.
pub fn median_mib(kib: &[f64]) -> f64 {
    let mut sorted = kib.to_vec();
    sorted.sort_by(f64::total_cmp);
    at(&sorted, 0.5) / 1024.0
}
