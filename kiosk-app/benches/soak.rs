//! A kiosk runs for months: orders driven one after another through the touch app (its model
//! and the headless UI, every screen drawn) against a real engine on a temporary database,
//! each paid on the terminal and its order number shown. Prints the memory (PSS) after the
//! first order, after the first few hundred and every thousand (target: growth under 2 MiB),
//! and the tap on "Add to order" to its frame, by thousand orders (target: no slowdown).
//!
//! Run with `cargo bench -p kiosk-app --bench soak` (10,000 orders; a number after `--`
//! runs that many).

#![allow(clippy::float_arithmetic, reason = "statistics of timings")]

mod common;

use std::time::{Duration, Instant};

use common::{at, millis, report, tap};
use kiosk_app::headless::{Headless, proportional_memory_kib, wait_until};
use kiosk_app::{CartAdapter, DoneAdapter, Kiosk, MenuAdapter, PaymentAdapter, Screen, Session, UpsellAdapter};
use slint::ComponentHandle;

const ORDERS: usize = 10_000;
/// Orders after which every screen, receipt and QR code was drawn a good many times: memory
/// is read after the first order and after these too.
const WARM_UP: usize = 200;
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> anyhow::Result<()> {
    let orders = std::env::args().skip(1).find_map(|arg| arg.parse().ok()).unwrap_or(ORDERS);
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let common::Demo { runtime, engine, headless, kiosk } = common::demo_kiosk(dir.path())?;
    let started = Instant::now();
    let (taps, memory) = headless.clone().run(async move {
        assert!(wait_until(PATIENCE, || kiosk.is_ready()).await, "the menu did not load");
        let mut taps = Vec::with_capacity(orders);
        let mut memory = Vec::new();
        for order in 1..=orders {
            taps.push(one_order(&kiosk, &headless).await);
            if order == 1 || order == WARM_UP.min(orders) || order % 1000 == 0 || order == orders {
                memory.push((order, proportional_memory_kib().expect("memory")));
            }
        }
        (taps, memory)
    })?;
    let paid = runtime.block_on(engine.latest_orders(1))?;
    println!("{orders} orders in {:.0} s; the last one: {:?}", started.elapsed().as_secs_f64(), paid[0].number);
    for (order, kib) in &memory {
        println!("  after {order:>6} orders: PSS {:.2} MiB", *kib as f64 / 1024.0);
    }
    let last = memory[memory.len() - 1];
    for start in [memory[0], memory[1.min(memory.len() - 1)]] {
        println!(
            "PSS growth from order {} to order {}: {:+.2} MiB (target: under 2 MiB)",
            start.0,
            last.0,
            (last.1 as f64 - start.1 as f64) / 1024.0
        );
    }
    for (index, chunk) in taps.chunks(1000).enumerate() {
        let mut sorted = chunk.to_vec();
        sorted.sort();
        println!(
            "  tap to frame, orders {:>5}-{:<5}: median {:.2} ms, p99 {:.2} ms",
            index * 1000 + 1,
            index * 1000 + chunk.len(),
            millis(at(&sorted, 0.5)),
            millis(at(&sorted, 0.99))
        );
    }
    report("tap on \"Add to order\" to the next frame, whole run", &taps, "target: no slowdown");
    Ok(())
}

/// One customer: English, eat in, a baguette added by a tap (timed to its frame), the meal
/// declined, the cart, paid by card, the order number, finished.
async fn one_order(kiosk: &Kiosk, headless: &Headless) -> Duration {
    let ui = kiosk.window();
    let session = ui.global::<Session>();
    let menu = ui.global::<MenuAdapter>();
    session.invoke_start("en".into());
    session.invoke_choose_mode(false);
    headless.render();
    menu.invoke_open_product("jambon-beurre".into());
    headless.render();
    let started = Instant::now();
    tap(ui, "Add to order");
    assert!(wait_until(PATIENCE, || menu.get_cart_count() > 0).await, "the tap did not add the line");
    headless.render();
    let tap_to_frame = started.elapsed();
    ui.global::<UpsellAdapter>().invoke_decline();
    menu.invoke_view_cart();
    headless.render();
    ui.global::<CartAdapter>().invoke_pay_card();
    headless.render();
    let paid = wait_until(PATIENCE, || session.get_screen() == Screen::Done).await;
    assert!(paid, "the payment did not end: {:?}", ui.global::<PaymentAdapter>().get_phase());
    headless.render();
    ui.global::<DoneAdapter>().invoke_finish();
    assert!(wait_until(PATIENCE, || menu.get_cart_count() == 0).await, "the cart was not emptied");
    headless.render();
    tap_to_frame
}
