//! Shared pieces of the cross-crate tests: a kiosk on a temporary database with the demo
//! menu, the simulated terminal and a clock the test controls; and the crash harness.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use kiosk_core::cart::Cart;
use kiosk_core::config::DeviceConfig;
use kiosk_core::payment::{Approval, AttemptKey, NotCharged, PayReply, StatusReply};
use kiosk_devices::terminal::{PaymentRequest, RefundRequest};
use kiosk_engine::{Engine, EngineBuilder, FixedClock, RecoveryReport};

/// The simulated terminal, for tests of crates that reach devices only through the engine.
pub use kiosk_devices::terminal::{PaymentTerminal, SimOutcome, SimTerminal};

pub mod crash;
pub mod fake_printer;
pub mod fake_terminal;
pub mod http_server;
pub mod update_crash;
pub mod updates;

/// A path inside the workspace, such as `menus/brasserie/menu.toml`.
pub fn workspace_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

pub const DEMO_MENU: &str = "menus/brasserie/menu.toml";

/// A weekday lunch time, when every demo item and combo can be sold.
pub const TUESDAY_NOON: &str = "2026-12-01T12:00:00+01:00";

/// Reads a cart file of the workspace.
pub fn cart(relative: &str) -> Cart {
    let text = std::fs::read_to_string(workspace_path(relative)).expect("cart file");
    serde_json::from_str(&text).expect("a valid cart")
}

/// The simulator standing in for a real payment terminal: sales on it are real (fiscal)
/// sales, as on a kiosk with its terminal, so that tests see the journal and the reports.
/// (The simulator itself makes training sales.)
#[derive(Debug)]
pub struct StandIn(pub Arc<SimTerminal>);

#[async_trait]
impl PaymentTerminal for StandIn {
    fn is_simulated(&self) -> bool {
        false
    }

    async fn pay(&self, request: &PaymentRequest) -> PayReply {
        self.0.pay(request).await
    }

    async fn refund(&self, request: &RefundRequest) -> PayReply {
        self.0.refund(request).await
    }

    async fn cancel(&self, key: &AttemptKey) {
        self.0.cancel(key).await
    }

    async fn status(&self, key: &AttemptKey) -> StatusReply {
        self.0.status(key).await
    }
}

/// A terminal that approves every payment at once and remembers none, for benchmarks of a
/// kiosk running for months: on a real kiosk the terminal is another device, and the
/// simulator keeps its whole ledger in memory, which would count as the kiosk's. It knows no
/// earlier payment, so it refunds nothing and cannot say what became of a key.
#[derive(Debug, Default)]
pub struct Approver(AtomicU64);

#[async_trait]
impl PaymentTerminal for Approver {
    fn is_simulated(&self) -> bool {
        false
    }

    async fn pay(&self, _: &PaymentRequest) -> PayReply {
        let reference = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        PayReply::Approved(Approval::new(format!("APPROVER-{reference}"), "VISA".into(), Some("4242".into())))
    }

    async fn refund(&self, _: &RefundRequest) -> PayReply {
        PayReply::NotCharged(NotCharged::Rejected("this terminal knows no earlier payment".into()))
    }

    async fn cancel(&self, _: &AttemptKey) {}

    async fn status(&self, _: &AttemptKey) -> StatusReply {
        StatusReply::Unreachable("this terminal keeps no history".into())
    }
}

#[derive(Debug)]
pub struct TestKiosk {
    pub engine: Engine,
    pub terminal: Arc<SimTerminal>,
    pub clock: Arc<FixedClock>,
    pub recovery: RecoveryReport,
    pub dir: PathBuf,
}

impl TestKiosk {
    pub fn db_path(dir: &Path) -> PathBuf {
        dir.join("kiosk.db")
    }

    pub fn ledger_path(dir: &Path) -> PathBuf {
        dir.join("terminal-ledger.jsonl")
    }

    /// Opens (or reopens) the kiosk kept in `dir`, with `terminal` standing in for a real one.
    pub async fn open_with(dir: &Path, device: DeviceConfig, terminal: SimTerminal) -> TestKiosk {
        let terminal = Arc::new(terminal);
        let clock = Arc::new(FixedClock::at(TUESDAY_NOON));
        let stand_in = Arc::new(StandIn(terminal.clone()));
        let (engine, recovery) = EngineBuilder::new(&TestKiosk::db_path(dir), device)
            .terminal(stand_in)
            .clock(clock.clone())
            .status_retry_delay(Duration::ZERO)
            .open()
            .await
            .expect("the engine opens");
        TestKiosk { engine, terminal, clock, recovery, dir: dir.to_owned() }
    }

    /// Opens the kiosk in `dir` with an approving terminal (standing in for a real one) and
    /// the development config.
    pub async fn open(dir: &Path) -> TestKiosk {
        let terminal = SimTerminal::open(&TestKiosk::ledger_path(dir), SimOutcome::Approve).expect("ledger");
        TestKiosk::open_with(dir, DeviceConfig::development(), terminal).await
    }

    /// A new kiosk in `dir` with the demo menu imported.
    pub async fn with_demo_menu(dir: &Path) -> TestKiosk {
        let kiosk = TestKiosk::open(dir).await;
        kiosk.engine.import_menu(&workspace_path(DEMO_MENU)).await.expect("the demo menu imports");
        kiosk
    }
}
