//! The crash harness: a child process (`checkout-loop`) places orders through the engine and
//! the simulated terminal and is killed with SIGKILL at random moments; after each kill the
//! kiosk is opened again (which resolves what the kill left in doubt) and checked against the
//! terminal's own ledger.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use kiosk_devices::terminal::SimTerminal;
use kiosk_engine::{Actor, StockChange};

use crate::TestKiosk;

/// Units every counted item starts with, so that the loop never sells out.
pub const INITIAL_STOCK: u32 = 1_000_000;

/// What a crash run saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrashReport {
    pub kills: u32,
    pub paid_orders: usize,
    pub approvals_in_ledger: usize,
    pub not_charged_attempts: usize,
    /// Payments a kill left unresolved that the restart found approved.
    pub resolved_paid_at_restart: usize,
    /// Payments a kill left unresolved that the restart found never charged.
    pub resolved_not_charged_at_restart: usize,
}

/// Sets up a kiosk in `dir` with the demo menu and plenty of stock.
pub async fn prepare(dir: &Path) -> Result<BTreeMap<String, u32>> {
    let kiosk = TestKiosk::with_demo_menu(dir).await;
    let mut initial = BTreeMap::new();
    for entry in kiosk.engine.stock().await? {
        let change = StockChange { on_hand: Some(INITIAL_STOCK), ..StockChange::default() };
        kiosk.engine.change_stock(&Actor::Admin, entry.item.as_str(), &change).await?;
        initial.insert(entry.item.as_str().to_owned(), INITIAL_STOCK);
    }
    kiosk.engine.store().close().await;
    Ok(initial)
}

/// Runs `kills` rounds of start, run for a random while, SIGKILL, reopen and check.
pub async fn run(
    child_binary: &Path,
    dir: &Path,
    kills: u32,
    seed: u64,
    mut progress: impl FnMut(u32, &CrashReport),
) -> Result<CrashReport> {
    let initial = prepare(dir).await?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut report = CrashReport::default();
    for round in 0..kills {
        let mut child = Command::new(child_binary)
            .arg(dir)
            .arg(rng.u64(..).to_string())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", child_binary.display()))?;
        std::thread::sleep(Duration::from_millis(rng.u64(5..150)));
        if let Some(status) = child.try_wait()? {
            bail!("the checkout loop stopped by itself with {status} in round {round}");
        }
        child.kill()?;
        child.wait()?;
        report.kills += 1;
        check_after_restart(dir, &initial, &mut report).await.with_context(|| format!("after kill {}", round + 1))?;
        progress(round + 1, &report);
    }
    Ok(report)
}

/// Opens the kiosk as a restart would and checks every invariant against the ledger.
pub async fn check_after_restart(dir: &Path, initial: &BTreeMap<String, u32>, report: &mut CrashReport) -> Result<()> {
    let kiosk = TestKiosk::open(dir).await;
    report.resolved_paid_at_restart += kiosk.recovery.paid.len();
    report.resolved_not_charged_at_restart += kiosk.recovery.not_charged.len();
    ensure!(kiosk.recovery.still_in_doubt.is_empty(), "payments still in doubt: {:?}", kiosk.recovery.still_in_doubt);

    let check = kiosk.engine.check_books(Some(&TestKiosk::ledger_path(dir))).await?;
    ensure!(check.is_sound(), "{}", check.problems.join("; "));

    let store = kiosk.engine.store();
    let mut conn = store.read().await?;
    let paid_orders: Vec<String> =
        sqlx::query_scalar("SELECT quote FROM orders WHERE status = 'paid'").fetch_all(&mut *conn).await?;
    ensure!(paid_orders.len() as u64 == check.books.settled_orders, "orders went past paid in a checkout loop");
    let mut sold: BTreeMap<String, u32> = BTreeMap::new();
    for quote in &paid_orders {
        let quote: serde_json::Value = serde_json::from_str(quote)?;
        for (item, units) in quote["needs"].as_object().context("a quote lists its needs")? {
            *sold.entry(item.clone()).or_default() += units.as_u64().context("units")? as u32;
        }
    }
    for entry in kiosk.engine.stock().await? {
        let item = entry.item.as_str();
        let expected = initial[item] - sold.get(item).copied().unwrap_or(0);
        ensure!(entry.level.on_hand == expected, "{item}: {} on hand, expected {expected}", entry.level.on_hand);
    }

    report.paid_orders = paid_orders.len();
    report.approvals_in_ledger = check.ledger_approvals.unwrap_or_default();
    report.not_charged_attempts = check.books.not_charged as usize;
    drop(conn);
    store.close().await;
    Ok(())
}

/// The distinct keys of a ledger, to show it has no duplicate charge.
pub fn ledger_keys_are_unique(dir: &Path) -> Result<bool> {
    let ledger = SimTerminal::read_ledger(&TestKiosk::ledger_path(dir))?;
    Ok(ledger.iter().map(|e| &e.key).collect::<BTreeSet<_>>().len() == ledger.len())
}
