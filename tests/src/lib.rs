//! Shared pieces of the cross-crate tests: a kiosk on a temporary database with the demo
//! menu, the simulated terminal and a clock the test controls; and the crash harness.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::cart::Cart;
use kiosk_core::config::DeviceConfig;
use kiosk_devices::terminal::{SimOutcome, SimTerminal};
use kiosk_engine::{Engine, EngineOptions, FixedClock, RecoveryReport};

pub mod crash;
pub mod fake_printer;

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

    /// Opens (or reopens) the kiosk kept in `dir`, with a terminal built by `terminal`.
    pub async fn open_with(dir: &Path, device: DeviceConfig, terminal: SimTerminal) -> TestKiosk {
        let terminal = Arc::new(terminal);
        let clock = Arc::new(FixedClock::at(TUESDAY_NOON));
        let mut options = EngineOptions::new(&TestKiosk::db_path(dir), device, terminal.clone());
        options.clock = clock.clone();
        options.status_retry_delay = Duration::ZERO;
        let (engine, recovery) = Engine::open(options).await.expect("the engine opens");
        TestKiosk { engine, terminal, clock, recovery, dir: dir.to_owned() }
    }

    /// Opens the kiosk in `dir` with an approving terminal and the development config.
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
