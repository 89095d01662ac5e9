//! 200 SIGKILLs of the real agent in the middle of an app update; after each, the next agent
//! start leaves exactly one release committed and running, the database intact, and the update
//! completed or cleanly retried (see `kiosk_tests::update_crash`). To run more and print the
//! counts: `cargo build --workspace --bins && cargo run -p kiosk-tests --bin update-crash-test -- 1000`.

use std::path::Path;

use kiosk_tests::update_crash::{Programs, describe, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_agent_mid_update_never_bricks_the_kiosk() {
    let dir = tempfile::tempdir().unwrap();
    let programs = Programs::beside(Path::new(env!("CARGO_BIN_EXE_stand-in-app"))).unwrap();
    let started = std::time::Instant::now();
    let report = run(&programs, dir.path(), 200, 20261203, |_, _| {}).await.unwrap();
    println!("{}", describe(&report, started.elapsed()));
    assert_eq!((report.kills, report.rounds_completed), (200, 200));
    assert!(report.while_tried > 0, "no kill landed while a release was tried: recovery went untested");
    assert!(report.unpacked_not_tried + report.before_unpacked > 0, "no kill landed before the switch");
}
