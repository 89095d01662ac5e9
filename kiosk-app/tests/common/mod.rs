//! What the flow tests share: a kiosk on a temporary database with the simulated terminal
//! and printer, and taps on controls found by their accessible labels.

#![allow(dead_code, reason = "each test binary uses a part of it")]

use std::future::Future;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use i_slint_backend_testing::ElementHandle;
use kiosk_app::headless::wait_until;
use kiosk_app::{Kiosk, KioskOptions, KioskWindow, Screen, Session};
use kiosk_engine::kiosk_core::config::{DeviceConfig, ScreenConfig};
use kiosk_engine::kiosk_core::staff::{BadgeCode, Pin, Role};
use kiosk_engine::{Actor, Engine, EngineBuilder, FixedClock};
use kiosk_tests::StandIn;
use kiosk_tests::{PaymentTerminal, SimOutcome, SimTerminal};
use slint::ComponentHandle;
use slint::platform::PointerEventButton;

pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct Fixture {
    pub kiosk: Kiosk,
    pub engine: Arc<Engine>,
    pub terminal: Arc<SimTerminal>,
    pub runtime: tokio::runtime::Runtime,
}

impl Fixture {
    pub fn ui(&self) -> &KioskWindow {
        self.kiosk.window()
    }

    pub fn screen(&self) -> Screen {
        self.ui().global::<Session>().get_screen()
    }

    pub fn shown(&self, label: &str) -> bool {
        ElementHandle::find_by_accessible_label(self.ui(), label).next().is_some()
    }

    /// Taps the control with this label once it is on screen.
    pub async fn tap(&self, label: &str) {
        assert!(
            wait_until(PATIENCE, || self.shown(label)).await,
            "no control labelled {label:?} on {:?}",
            self.screen()
        );
        let control = ElementHandle::find_by_accessible_label(self.ui(), label).next().expect("just seen");
        control.single_click(PointerEventButton::Left).await;
    }

    pub async fn reach(&self, screen: Screen) {
        assert!(
            wait_until(PATIENCE, || self.screen() == screen).await,
            "stuck on {:?}, waiting for {screen:?}",
            self.screen()
        );
    }

    pub fn engine<T>(&self, work: impl Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }

    /// The header's ✕, and "yes" when the kiosk asks before clearing a basket with something
    /// in it: back to the attract screen.
    pub async fn start_again(&self) {
        let french = self.ui().global::<Session>().get_language() == "fr";
        let (start_again, yes) =
            if french { ("Recommencer", "Oui, effacer ma commande") } else { ("Start again", "Yes, clear my order") };
        self.tap(start_again).await;
        if self.ui().global::<Session>().get_clear_asked() {
            self.tap(yes).await;
        }
        self.reach(Screen::Attract).await;
    }

    pub fn available(&self, item: &str) -> Option<u32> {
        self.engine(self.engine.shelf()).expect("shelf").stock.available(item)
    }
}

/// Camille's staff badge.
pub const STAFF_BADGE: &str = "STAFF-0042";

/// The kiosk's payment terminal in a fixture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Till {
    /// The simulator standing in for a real terminal: real (fiscal) sales.
    StandIn,
    /// The simulator as a development kiosk has it: every sale a training sale.
    Simulator,
}

/// A kiosk on a fresh database in `dir` with the menu at `menu` (from the repository root)
/// and two accounts: Camille, staff, PIN 2468, badge [`STAFF_BADGE`]; Dominique, manager,
/// PIN 1357. At 12:30 on a Monday.
pub fn fixture(dir: &Path, menu: &str, till: Till) -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let terminal = Arc::new(
        SimTerminal::open(&dir.join("ledger.jsonl"), SimOutcome::Approve)
            .unwrap()
            .with_card_delay(Duration::from_millis(800)),
    );
    let mut device = DeviceConfig::development();
    device.screen = ScreenConfig { idle_seconds: 5, still_there_seconds: 1, ..ScreenConfig::default() };
    let paying: Arc<dyn PaymentTerminal> = match till {
        Till::StandIn => Arc::new(StandIn(terminal.clone())),
        Till::Simulator => terminal.clone(),
    };
    let builder = EngineBuilder::new(&dir.join("kiosk.db"), device)
        .terminal(paying)
        .clock(Arc::new(FixedClock::at("2026-11-30T12:30:00+01:00")))
        .status_retry_delay(Duration::from_millis(20));
    let engine = runtime.block_on(async {
        let (engine, _) = builder.open().await.unwrap();
        let menu = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(menu);
        engine.import_menu(&menu).await.unwrap();
        let pin = Pin::parse("2468").unwrap();
        let badge = BadgeCode::parse(STAFF_BADGE).unwrap();
        engine.add_staff(&Actor::Admin, "Camille", Role::Staff, &pin, Some(&badge)).await.unwrap();
        let pin = Pin::parse("1357").unwrap();
        engine.add_staff(&Actor::Admin, "Dominique", Role::Manager, &pin, None).await.unwrap();
        Arc::new(engine)
    });
    let options = KioskOptions {
        tick: Duration::from_millis(50),
        refresh: Duration::from_millis(200),
        upkeep: Duration::from_secs(3600),
        in_doubt_retry: Duration::from_millis(200),
    };
    let kiosk = Kiosk::new(engine.clone(), runtime.handle().clone(), &options).unwrap();
    kiosk.window().window().set_size(slint::PhysicalSize::new(1080, 1920));
    Fixture { kiosk, engine, terminal, runtime }
}

/// Runs the scenarios in Slint's event loop (one per process with the testing backend).
pub fn run(fixture: Rc<Fixture>, scenarios: impl AsyncFnOnce(&Fixture) + 'static) {
    let running = fixture.clone();
    slint::spawn_local(async move {
        assert!(wait_until(PATIENCE, || running.kiosk.is_ready()).await, "the menu never loaded");
        scenarios(&running).await;
        slint::quit_event_loop().unwrap();
    })
    .unwrap();
    slint::run_event_loop().unwrap();
}
