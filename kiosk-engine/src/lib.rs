//! The shared order/payment engine. App, agent and `kioskctl` call it; it carries out
//! `kiosk-core`'s decisions against the store and the devices: menu import, quoting,
//! checkout with crash-safe payments, stock.
//!
//! Opening an engine resolves every payment left in doubt by an earlier run before anything
//! else can happen.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_core::config::{ConfigError, DeviceConfig};
use kiosk_core::menu_file::MenuError;
use kiosk_core::order::OrderStatus;
use kiosk_core::payment::{AttemptKey, UnexpectedEvent};
use kiosk_core::pricing::QuoteError;
use kiosk_core::stock::Shortage;
use kiosk_devices::printer::ConfiguredPrinter;
use kiosk_devices::terminal::PaymentTerminal;
use kiosk_store::journal::Chain;
use kiosk_store::{Store, StoreError};

mod alerts;
mod books;
mod checkout;
mod clock;
mod counter;
mod health;
mod journal;
pub mod logging;
mod menu;
mod open;
mod printing;
mod process;
mod refund;
mod reports;
pub mod service;
mod staff;
mod stock;
mod training;

pub use alerts::Alert;
pub use books::BooksCheck;
pub use checkout::{OrderDetails, PaymentOutcome, PlacedOrder, RecoveryReport};
pub use clock::{Clock, FixedClock, SystemClock};
pub use counter::CounterPayment;
pub use health::SelfCheck;
pub use journal::{
    JournalArchive, JournalCheck, default_key_path, default_registered_key_path, load_or_create_key,
    register_public_key,
};
pub use menu::{ActiveMenu, ImportOutcome, MenuFile, Shelf};
pub use open::{EngineBuilder, Locations, load_development_config, load_device_config};
pub use printing::{PrintRound, PrinterState};
pub use reports::ZReport;
pub use staff::{Actor, Provisioned, ProvisionedAccount, Scanned, Session, StaffMember};
pub use stock::StockEntry;
pub use training::Training;

/// The core's types (money, menus, carts, quotes, orders, staff roles...), which the engine's
/// API speaks in.
pub use kiosk_core;
pub use kiosk_store::orders::StoredOrder;
pub use kiosk_store::payments::StoredAttempt;
pub use kiosk_store::staff::ActionRow;
pub use kiosk_store::stock::StockChange;

/// The devices the app and the agent reach beside the engine: the barcode scanner, the
/// accessibility keypad, the headphone jack and the speech the app uses, the USB devices the
/// agent lists, how a development kiosk's simulated terminal answers, the paper width tickets
/// are shown at, and the web-allowlisted HTTP client.
pub mod devices {
    pub use kiosk_devices::access::{AccessDecoder, AccessError, AccessEvent, read_headphone_jack, read_keypad};
    pub use kiosk_devices::input::InputMatch;
    pub use kiosk_devices::printer::COLUMNS;
    pub use kiosk_devices::scanner::{Layout as KeyboardLayout, ScanRules, read_scans};
    pub use kiosk_devices::speech::{Espeak, RecordingSpeaker, Speaker, Spoken, Utterance, espeak_command};
    pub use kiosk_devices::terminal::SimOutcome;
    pub use kiosk_devices::usb::{UsbDevice, UsbKind, list as usb_devices};
    pub use kiosk_devices::web::{WebClient, WebGate};
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Menu(#[from] MenuError),
    #[error("cannot read {path}: {error}")]
    File { path: PathBuf, error: std::io::Error },
    #[error("{path}: image \"{image}\" is {size} bytes, more than the {limit} bytes allowed")]
    ImageTooLarge { path: PathBuf, image: String, size: u64, limit: u64 },
    #[error("{path}: {what} are more than the {limit} bytes allowed")]
    TooLarge { path: PathBuf, what: &'static str, limit: u64 },
    #[error("no menu has been imported yet: import one with `kioskctl menu import FILE`")]
    NoMenu,
    #[error(transparent)]
    Quote(#[from] QuoteError),
    #[error("a payment is in progress or in doubt; try again once it is resolved")]
    PaymentInProgress,
    #[error("order {0} not found")]
    OrderNotFound(String),
    #[error("order {number} is {status} and cannot be paid")]
    OrderNotPayable { number: String, status: String },
    #[error("order {0} has a payment in doubt: it is being checked with the terminal, do not pay again")]
    PaymentInDoubt(String),
    #[error("order {0} has no payment waiting on the terminal")]
    NoPaymentToCancel(String),
    #[error(transparent)]
    Stock(#[from] Shortage),
    #[error("\"{0}\" is not an item of the menu in use")]
    UnknownItem(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "no device config at {}: a kiosk sells only with its config (kiosk id, payment terminal, printers); write one (see the README's \"Device config\"), or run with --dev for a development kiosk on simulated devices",
        .0.display()
    )]
    NoDeviceConfig(PathBuf),
    #[error(transparent)]
    Payment(#[from] UnexpectedEvent),
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Report(#[from] kiosk_core::report::ReportError),
    #[error("there is no Z report number {0}")]
    NoSuchZ(u64),
    #[error("order {number} is {status}: it was never paid, so it has no receipt")]
    NoReceipt { number: String, status: OrderStatus },
    #[error("order {number} is {status} and cannot be refunded")]
    NotRefundable { number: String, status: String },
    #[error(transparent)]
    Refund(#[from] kiosk_core::refund::RefundError),
    #[error("order {number} is {status}, not an order waiting to be paid at the counter")]
    NotACounterOrder { number: String, status: String },
    #[error("no active staff account is named \"{0}\"")]
    UnknownStaff(String),
    #[error("this badge belongs to no active staff account")]
    UnknownBadge,
    #[error("wrong PIN for {name}: {tries_before_lock} more wrong PIN(s) lock the account")]
    WrongPin { name: String, tries_before_lock: u32 },
    #[error(
        "{name}'s account is locked after too many wrong PINs: try again in {seconds} s, or ask a manager to reset the PIN"
    )]
    Locked { name: String, seconds: i64 },
    #[error("{who} may not {action}: ask a manager")]
    Forbidden { who: String, action: kiosk_core::staff::Permission },
    #[error("journal check failed: {0}")]
    Journal(kiosk_core::journal::ChainBreak),
    #[error("cannot open the simulated terminal training sales are paid on: {0}")]
    TrainingTerminal(#[from] kiosk_devices::terminal::SimTerminalError),
    #[error("cannot open the payment terminal: {0}")]
    OpenTerminal(#[from] kiosk_devices::terminal::OpenTerminalError),
    #[error("this engine was opened without payments: it cannot {0}")]
    NoPayments(&'static str),

    #[error("journal key {path} {message}")]
    JournalKey { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    JournalArchive { path: PathBuf, message: String },
    #[error("order {number} is {from} and cannot become {to}")]
    OrderStatusChange { number: String, from: OrderStatus, to: OrderStatus },
    #[error("there is no open alert {0}")]
    NoSuchAlert(i64),
    #[error("a {kind} alert clears by itself once its cause is gone: it cannot be cleared by hand")]
    AlertStays { kind: kiosk_core::alert::AlertKind },
}

pub type Result<T> = std::result::Result<T, EngineError>;

// Not `#[from]`: the message already carries the break, and a source would print it twice.
impl From<kiosk_core::journal::ChainBreak> for EngineError {
    fn from(chain_break: kiosk_core::journal::ChainBreak) -> Self {
        EngineError::Journal(chain_break)
    }
}

#[derive(Debug)]
pub struct Engine {
    store: Store,
    device: DeviceConfig,
    /// The terminals payments go to; none in an engine opened without payments.
    terminals: Option<Terminals>,
    /// The kiosk's terminal is a simulator: every sale is a training sale.
    simulated_till: bool,
    clock: Arc<dyn Clock>,
    status_retry_delay: Duration,
    /// The parsed menu in use, kept until a newer version is imported.
    menu_cache: Mutex<Option<Arc<ActiveMenu>>>,
    printers: BTreeMap<String, ConfiguredPrinter>,
    /// This engine, as recorded on the payment attempts it makes (see `process`).
    owner: String,
    /// Attempts this engine is carrying out right now: recovery leaves them alone.
    in_flight: Mutex<HashSet<AttemptKey>>,
    /// Signs every journal entry; read from a file outside the database.
    journal_key: ed25519_dalek::SigningKey,
    /// The journal's public key registered at first start: what verification trusts.
    registered_key: ed25519_dalek::VerifyingKey,
    /// The end of each journal as this process last wrote it; a chain missing here is read
    /// from the store.
    journal_tails: Mutex<HashMap<Chain, Option<kiosk_core::journal::ChainTail>>>,
    /// How long the latest approval transactions took, oldest first.
    approval_commits: Mutex<VecDeque<Duration>>,
    /// The web allowlist e-receipt links are held to.
    web: kiosk_devices::web::WebGate,
}

/// How many approval commit times are kept.
const COMMIT_TIMES_KEPT: usize = 1024;

/// Where payments go: the kiosk's terminal, and the simulator that pays training sales.
#[derive(Debug)]
struct Terminals {
    till: Arc<dyn PaymentTerminal>,
    /// Pays training sales: never real money.
    training: Arc<dyn PaymentTerminal>,
}

impl Engine {
    pub fn device(&self) -> &DeviceConfig {
        &self.device
    }

    /// The store, for checks and tests that look underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn now(&self) -> chrono::DateTime<chrono::FixedOffset> {
        self.clock.now()
    }

    /// Copies the database to `to` while the kiosk sells: the agent's backup before an update.
    pub async fn backup(&self, to: &std::path::Path) -> Result<()> {
        Ok(self.store.backup_to(to).await?)
    }

    /// How long the latest approval transactions took (paid order, stock, journal entry:
    /// the database's round trip from `BEGIN` to the end of `COMMIT`), oldest first.
    pub fn approval_commit_times(&self) -> Vec<Duration> {
        self.approval_commits.lock().expect("commit times lock").iter().copied().collect()
    }

    fn record_approval_commit(&self, took: Duration) {
        let mut times = self.approval_commits.lock().expect("commit times lock");
        if times.len() == COMMIT_TIMES_KEPT {
            times.pop_front();
        }
        times.push_back(took);
    }
}
