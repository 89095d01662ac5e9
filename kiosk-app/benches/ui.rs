//! The touch UI's figures, printed (no timing is asserted):
//! - a full repaint of the menu screen at 1080x1920 with the software renderer;
//! - from a tap on "Add to order" to the next frame drawn with the new total (the engine's
//!   quote included);
//! - from process start to the first frame, and the proportional memory (PSS) on the menu
//!   screen with the demo images, read from fresh `kiosk-app --report-startup` processes.
//!
//! Run with `cargo bench -p kiosk-app --bench ui`.

#![allow(clippy::float_arithmetic, reason = "statistics of timings")]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::ElementHandle;
use kiosk_app::headless::{Headless, wait_until};
use kiosk_app::{Kiosk, KioskOptions, MenuAdapter, ProductAdapter, Screen, Session};
use kiosk_engine::kiosk_core::config::DeviceConfig;
use kiosk_engine::{EngineBuilder, FixedClock};
use slint::ComponentHandle;
use slint::platform::{PointerEventButton, WindowEvent};

const FRAMES: usize = 60;
const TAPS: usize = 40;
const STARTS: usize = 5;

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let engine = runtime.block_on(async {
        let (engine, _) = EngineBuilder::new(&dir.path().join("kiosk.db"), DeviceConfig::development())
            .clock(Arc::new(FixedClock::at("2026-11-30T12:30:00+01:00")))
            .open()
            .await?;
        engine.import_menu(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/brasserie/menu.toml")).await?;
        anyhow::Ok(Arc::new(engine))
    })?;
    let headless = Headless::install()?;
    headless.resize(1080, 1920);
    let kiosk = Kiosk::new(engine, runtime.handle().clone(), &KioskOptions::default())?;
    let (repaints, taps) = headless.clone().run(async move {
        assert!(wait_until(Duration::from_secs(10), || kiosk.is_ready()).await, "the menu did not load");
        let ui = kiosk.window();
        ui.global::<Session>().invoke_start("en".into());
        ui.global::<Session>().invoke_choose_mode(false);
        let repaints: Vec<Duration> = (0..FRAMES).map(|_| headless.render().1).collect();
        let mut taps = Vec::new();
        for _ in 0..TAPS {
            taps.push(tap_to_frame(&kiosk, &headless).await);
        }
        (repaints, taps)
    })?;
    report("full repaint of the menu screen, 1080x1920, software renderer", &repaints, "target < 8 ms");
    report("tap on \"Add to order\" to the next frame with the new total", &taps, "target < 16 ms");
    startup()?;
    Ok(())
}

/// Opens a baguette's sheet, taps "Add to order" where it is drawn, and waits for the quote
/// to reach the screen and the frame to be drawn.
async fn tap_to_frame(kiosk: &Kiosk, headless: &Headless) -> Duration {
    let ui = kiosk.window();
    ui.global::<Session>().invoke_abandon();
    ui.global::<Session>().invoke_start("en".into());
    ui.global::<Session>().invoke_choose_mode(false);
    ui.global::<MenuAdapter>().invoke_open_product("jambon-beurre".into());
    assert_eq!(ui.global::<Session>().get_screen(), Screen::Product);
    headless.render();
    let add = ElementHandle::find_by_accessible_label(ui, "Add to order").next().expect("the add button");
    let position = add.absolute_position();
    let size = add.size();
    let center = slint::LogicalPosition::new(position.x + size.width / 2.0, position.y + size.height / 2.0);
    let before = ui.global::<MenuAdapter>().get_cart_count();
    let started = Instant::now();
    let window = ui.window();
    window.dispatch_event(WindowEvent::PointerPressed { position: center, button: PointerEventButton::Left });
    window.dispatch_event(WindowEvent::PointerReleased { position: center, button: PointerEventButton::Left });
    let quoted = wait_until(Duration::from_secs(5), || ui.global::<MenuAdapter>().get_cart_count() > before).await;
    assert!(quoted, "the tap did not add the line");
    headless.render();
    let elapsed = started.elapsed();
    assert!(!ui.global::<ProductAdapter>().get_name().is_empty());
    elapsed
}

fn report(what: &str, samples: &[Duration], target: &str) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}: median {:.2} ms, p90 {:.2} ms, min {:.2} ms over {} runs ({target})",
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        sorted[0].as_secs_f64() * 1e3,
        sorted.len()
    );
}

/// Starts the app binary (release) several times; each reports its first frame and its PSS.
fn startup() -> anyhow::Result<()> {
    let binary = env!("CARGO_BIN_EXE_kiosk-app");
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("kiosk.db");
    let menu = Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/brasserie/menu.toml");
    let mut firsts = Vec::new();
    let mut pss = Vec::new();
    // The first run imports the menu; the measured runs start on a database in use.
    for run in 0..=STARTS {
        let output = Command::new(binary)
            .args(["--report-startup", "--dev", "--config"])
            .arg(dir.path().join("kiosk.toml"))
            .arg("--db")
            .arg(&db)
            .arg("--menu")
            .arg(&menu)
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
    report("process start (main) to the first frame of the attract screen, menu loaded", &firsts, "target < 100 ms");
    pss.sort_by(f64::total_cmp);
    println!(
        "proportional memory (PSS) on the menu screen with the demo images: median {:.1} MiB, max {:.1} MiB over {} starts (target < 30 MiB)",
        pss[pss.len() / 2] / 1024.0,
        pss[pss.len() - 1] / 1024.0,
        pss.len()
    );
    Ok(())
}
