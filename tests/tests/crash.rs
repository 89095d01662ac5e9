//! 200 SIGKILLs of a process in the middle of placing and paying orders; after each one
//! the restarted kiosk agrees with the terminal's ledger (see `kiosk_tests::crash`).
//! To run 1,000 and print the counts: `cargo build --release -p kiosk-tests --bins && cargo run
//! --release -p kiosk-tests --bin crash-test -- 1000`.

use std::path::Path;

#[tokio::test]
async fn killing_the_kiosk_mid_payment_never_loses_or_doubles_a_charge() {
    let dir = tempfile::tempdir().unwrap();
    let child = Path::new(env!("CARGO_BIN_EXE_checkout-loop"));
    let report = kiosk_tests::crash::run(child, dir.path(), 200, 20261130, |_, _| {}).await.unwrap();
    println!("{report:#?}");
    assert_eq!(report.kills, 200);
    assert!(report.paid_orders > 0, "the loop paid no order: the kills came too early to test anything");
    assert!(
        report.resolved_paid_at_restart + report.resolved_not_charged_at_restart > 0,
        "no kill landed during a payment: the test did not exercise recovery"
    );
    assert!(kiosk_tests::crash::ledger_keys_are_unique(dir.path()).unwrap());
}
