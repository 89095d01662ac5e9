//! Runs the crash test with as many kills as asked and prints the counts.
//! Usage: crash-test [KILLS] [SEED]  (defaults: 1000 kills, seed from the clock). It runs the
//! `checkout-loop` binary beside it: `cargo build --release -p kiosk-tests --bins` first.

use anyhow::{Context, Result};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let kills: u32 = args.next().map_or(Ok(1000), |k| k.parse()).context("KILLS is a number")?;
    let seed: u64 = match args.next() {
        Some(seed) => seed.parse().context("SEED is a number")?,
        None => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs(),
    };
    let child = std::env::current_exe()?.with_file_name("checkout-loop");
    if !child.exists() {
        anyhow::bail!(
            "{} is missing: build it first with `cargo build --release -p kiosk-tests --bins`",
            child.display()
        );
    }
    let dir = tempfile::tempdir()?;
    println!("crash test: {kills} kills, seed {seed}, in {}", dir.path().display());
    let report = kiosk_tests::crash::run(&child, dir.path(), kills, seed, |round, report| {
        if round % 100 == 0 {
            println!("  {round} kills: {} paid orders so far", report.paid_orders);
        }
    })
    .await?;
    println!("kills:                               {}", report.kills);
    println!("paid orders:                         {}", report.paid_orders);
    println!("approvals in the terminal's ledger:  {}", report.approvals_in_ledger);
    println!("attempts not charged:                {}", report.not_charged_attempts);
    println!("unresolved at a kill, found paid:    {}", report.resolved_paid_at_restart);
    println!("unresolved at a kill, not charged:   {}", report.resolved_not_charged_at_restart);
    println!("every restart: integrity ok, ledger and paid orders one to one, no hold left, stock = initial - sold");
    Ok(())
}
