//! The child of the crash test: places orders with random payment outcomes until killed.
//! Usage: checkout-loop DIR SEED

use std::path::PathBuf;
use std::time::Duration;

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::config::DeviceConfig;
use kiosk_core::menu::ConsumptionMode;
use kiosk_devices::terminal::{SimOutcome, SimTerminal};
use kiosk_tests::TestKiosk;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: checkout-loop DIR SEED"));
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).expect("usage: checkout-loop DIR SEED");
    let mut rng = fastrand::Rng::with_seed(seed);

    let terminal = SimTerminal::open(&TestKiosk::ledger_path(&dir), SimOutcome::Approve)
        .expect("the ledger opens")
        .with_card_delay(Duration::from_millis(2));
    let outcomes = [
        SimOutcome::Approve,
        SimOutcome::Approve,
        SimOutcome::Approve,
        SimOutcome::Approve,
        SimOutcome::Decline,
        SimOutcome::LostResponse,
        SimOutcome::LostResponse,
        SimOutcome::Disconnect,
        SimOutcome::Timeout,
    ];
    terminal.script((0..100_000).map(|_| outcomes[rng.usize(..outcomes.len())]));
    let kiosk = TestKiosk::open_with(&dir, DeviceConfig::development(), terminal).await;

    loop {
        let mut cola = CartLine::item("cola", 1);
        cola.modifiers.insert("taille-boisson".into(), vec!["33cl".into()]);
        let mut lines = vec![CartLine::item("salade-nicoise", rng.u32(1..3)), cola];
        if rng.bool() {
            lines.push(CartLine::item("mousse-chocolat", rng.u32(1..3)));
        }
        let cart = Cart::new(ConsumptionMode::TakeAway, lines);
        if let Err(error) = kiosk.engine.checkout(&cart).await {
            eprintln!("checkout-loop: {error}");
            std::process::exit(1);
        }
    }
}
