//! Runs the update crash test with as many kills as asked and prints the counts.
//! Usage: update-crash-test [KILLS] [SEED]  (defaults: 200 kills, seed from the clock). It runs
//! `kiosk-agent`, `kioskctl` and `stand-in-app` from beside it: `cargo build --workspace --bins`
//! (with `--release` for a release run) first.

use anyhow::{Context, Result};
use kiosk_tests::update_crash::{Programs, describe, run};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let kills: u32 = args.next().map_or(Ok(200), |k| k.parse()).context("KILLS is a number")?;
    let seed: u64 = match args.next() {
        Some(seed) => seed.parse().context("SEED is a number")?,
        None => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs(),
    };
    let programs = Programs::beside(&std::env::current_exe()?.with_file_name("stand-in-app"))?;
    let dir = tempfile::tempdir()?;
    println!("update crash test: {kills} kills, seed {seed}, in {}", dir.path().display());
    let started = std::time::Instant::now();
    let report = run(&programs, dir.path(), kills, seed, |round, report| {
        if round % 50 == 0 {
            println!("  {round} kills, {} while a release was tried", report.while_tried);
        }
    })
    .await?;
    println!("{}", describe(&report, started.elapsed()));
    Ok(())
}
