//! The touch UI's figures, printed (no timing is asserted):
//! - a full repaint of the menu screen at 1080x1920 with the software renderer;
//! - from a tap on "Add to order" to the next frame drawn with the new total (the engine's
//!   quote included);
//! - from process start to the first frame, and the proportional memory (PSS) on the menu
//!   screen with the demo images, read from fresh `kiosk-app --report-startup` processes.
//!
//! Run with `cargo bench -p kiosk-app --bench ui`.

#![allow(clippy::float_arithmetic, reason = "statistics of timings")]

mod common;

use std::time::{Duration, Instant};

use common::{report, start_ups, tap};
use kiosk_app::headless::{Headless, wait_until};
use kiosk_app::{Kiosk, MenuAdapter, ProductAdapter, Screen, Session};
use slint::ComponentHandle;

const FRAMES: usize = 60;
const TAPS: usize = 40;
const STARTS: usize = 5;

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let common::Demo { runtime: _runtime, headless, kiosk, .. } = common::demo_kiosk(dir.path())?;
    let (repaints, taps) = headless.clone().run(async move {
        assert!(wait_until(Duration::from_secs(10), || kiosk.is_ready()).await, "the menu did not load");
        let ui = kiosk.window();
        ui.global::<Session>().invoke_start("en".into());
        ui.global::<Session>().invoke_choose_mode(false);
        let repaints: Vec<Duration> = (0..FRAMES).map(|_| headless.render()).collect();
        let mut taps = Vec::new();
        for _ in 0..TAPS {
            taps.push(tap_to_frame(&kiosk, &headless).await);
        }
        (repaints, taps)
    })?;
    report("full repaint of the menu screen, 1080x1920, software renderer", &repaints, "target < 8 ms");
    report("tap on \"Add to order\" to the next frame with the new total", &taps, "target < 16 ms");
    let scratch = tempfile::tempdir()?;
    let (firsts, pss) = start_ups(&scratch.path().join("kiosk.db"), STARTS)?;
    report("process start (main) to the first frame of the attract screen, menu loaded", &firsts, "target < 100 ms");
    println!(
        "proportional memory (PSS) on the menu screen with the demo images: median {:.1} MiB over {} starts (target < 30 MiB)",
        common::median_mib(&pss),
        pss.len()
    );
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
    let before = ui.global::<MenuAdapter>().get_cart_count();
    let started = Instant::now();
    tap(ui, "Add to order");
    let quoted = wait_until(Duration::from_secs(5), || ui.global::<MenuAdapter>().get_cart_count() > before).await;
    assert!(quoted, "the tap did not add the line");
    headless.render();
    let elapsed = started.elapsed();
    assert!(!ui.global::<ProductAdapter>().get_name().is_empty());
    elapsed
}
