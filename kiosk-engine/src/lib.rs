//! The shared order/payment engine. App, agent and `kioskctl` call it; it carries out
//! `kiosk-core`'s decisions against the store and the devices: menu import, quoting,
//! checkout with crash-safe payments, stock.
//!
//! Opening an engine resolves every payment left in doubt by an earlier run before anything
//! else can happen.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_core::config::{ConfigError, DeviceConfig, Devices};
use kiosk_core::menu_file::MenuError;
use kiosk_core::order::OrderStatus;
use kiosk_core::payment::{AttemptKey, UnexpectedEvent};
use kiosk_core::pricing::QuoteError;
use kiosk_core::stock::Shortage;
use kiosk_devices::printer::ConfiguredPrinter;
use kiosk_devices::terminal::{PaymentTerminal, SimOutcome, SimTerminal};
use kiosk_store::journal::Chain;
use kiosk_store::{Store, StoreError};

mod alerts;
mod checkout;
mod clock;
mod counter;
mod journal;
pub mod logging;
mod menu;
mod printing;
mod process;
mod refund;
mod reports;
mod staff;
mod stock;
mod training;

pub use alerts::Alert;
pub use checkout::{OrderDetails, PaymentOutcome, PlacedOrder, RecoveryReport};
pub use clock::{Clock, FixedClock, SystemClock};
pub use counter::CounterPayment;
pub use journal::{
    JournalArchive, JournalCheck, default_key_path, default_registered_key_path, load_or_create_key,
    register_public_key,
};
pub use menu::{ActiveMenu, ImportOutcome, MenuFile, Shelf};
pub use printing::PrintRound;
pub use reports::ZReport;
pub use staff::{Actor, Scanned, Session, StaffMember};
pub use stock::StockEntry;
pub use training::Training;

pub use kiosk_core;
pub use kiosk_store::stock::StockChange;

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

/// Everything an engine is made of, chosen by the binary that runs it.
#[derive(Debug)]
pub struct EngineOptions {
    pub db_path: PathBuf,
    pub device: DeviceConfig,
    pub terminal: Arc<dyn PaymentTerminal>,
    /// Where training sales are paid when `terminal` is real: a simulator whose ledger is
    /// beside the database unless given. (A simulated `terminal` pays them itself.)
    pub training_terminal: Option<Arc<dyn PaymentTerminal>>,
    pub clock: Arc<dyn Clock>,
    /// The file holding the key that signs the journal (made on first use).
    pub journal_key: PathBuf,
    /// The file holding the journal's public key as registered at first start (written then);
    /// the journal is verified against it.
    pub registered_key: PathBuf,
    /// Receipt and kitchen printers by name (see the device config's `printing`).
    pub printers: BTreeMap<String, ConfiguredPrinter>,
    /// How often a payment in doubt is asked about before it is left in doubt for later.
    pub status_queries: u32,
    pub status_retry_delay: Duration,
}

impl EngineOptions {
    /// The usual settings for a database, device and terminal.
    pub fn new(db_path: &Path, device: DeviceConfig, terminal: Arc<dyn PaymentTerminal>) -> EngineOptions {
        EngineOptions {
            db_path: db_path.to_owned(),
            device,
            terminal,
            training_terminal: None,
            clock: Arc::new(SystemClock),
            journal_key: journal::default_key_path(db_path),
            registered_key: journal::default_registered_key_path(db_path),
            printers: BTreeMap::new(),
            status_queries: 3,
            status_retry_delay: Duration::from_secs(2),
        }
    }
}

#[derive(Debug)]
pub struct Engine {
    store: Store,
    device: DeviceConfig,
    terminal: Arc<dyn PaymentTerminal>,
    /// Pays training sales: never real money.
    training_terminal: Arc<dyn PaymentTerminal>,
    clock: Arc<dyn Clock>,
    status_queries: u32,
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
}

/// How many approval commit times are kept.
const COMMIT_TIMES_KEPT: usize = 1024;

impl Engine {
    /// Opens the database and resolves every payment an earlier run left unresolved.
    pub async fn open(options: EngineOptions) -> Result<(Engine, RecoveryReport)> {
        let store = Store::open(&options.db_path).await?;
        let training_terminal = match options.training_terminal {
            Some(terminal) => terminal,
            None if options.terminal.is_simulated() => options.terminal.clone(),
            None => {
                let ledger = options.db_path.with_file_name("training-terminal.jsonl");
                Arc::new(SimTerminal::open(&ledger, SimOutcome::Approve)?)
            }
        };
        let journal_key = load_or_create_key(&options.journal_key)?;
        let last_entry = kiosk_store::journal::last(&mut *store.read().await?, Chain::Fiscal).await?;
        let registered_key = register_public_key(&options.registered_key, &journal_key, last_entry.as_ref())?;
        let engine = Engine {
            store,
            device: options.device,
            terminal: options.terminal,
            training_terminal,
            clock: options.clock,
            status_queries: options.status_queries.max(1),
            status_retry_delay: options.status_retry_delay,
            menu_cache: Mutex::new(None),
            printers: options.printers,
            owner: process::new_owner(),
            in_flight: Mutex::new(HashSet::new()),
            journal_key,
            registered_key,
            journal_tails: Mutex::new(HashMap::new()),
            approval_commits: Mutex::new(VecDeque::with_capacity(COMMIT_TIMES_KEPT)),
        };
        if let Err(replaced) = engine.check_journal_key() {
            // Sales stop until it is looked into (see `place`); reports and verify name it.
            engine.raise_alert(kiosk_core::alert::AlertKind::JournalBroken, "journal", &replaced.to_string()).await?;
        }
        let mut report = engine.resolve_unresolved_payments().await?;
        report.expired_counter_orders = engine.expire_counter_orders().await?;
        if let Err(error) = engine.recover_tickets().await {
            // Printing never stops the kiosk: the tickets can be reprinted.
            log::error!("tickets of earlier sales not recorded: {error}");
        }
        Ok((engine, report))
    }

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

/// Where a kiosk's files are: as given, else the device's (`/var/lib/kiosk/kiosk.db`,
/// `/etc/kiosk/kiosk.toml`), else for a development kiosk (`--dev`) under `kiosk-data/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locations {
    pub dev: bool,
    pub db: PathBuf,
    pub config: PathBuf,
}

impl Locations {
    pub fn new(dev: bool, db: Option<PathBuf>, config: Option<PathBuf>) -> Locations {
        let (default_db, default_config) = if dev {
            ("kiosk-data/kiosk.db", "kiosk-data/kiosk.toml")
        } else {
            ("/var/lib/kiosk/kiosk.db", "/etc/kiosk/kiosk.toml")
        };
        Locations {
            dev,
            db: db.unwrap_or_else(|| default_db.into()),
            config: config.unwrap_or_else(|| default_config.into()),
        }
    }

    /// The device config: [`load_device_config`], or with `--dev` [`load_development_config`].
    pub fn device_config(&self) -> Result<DeviceConfig> {
        if self.dev { load_development_config(&self.config) } else { load_device_config(&self.config) }
    }

    /// Where the journal's public key is registered: beside the device config.
    pub fn registered_key(&self) -> PathBuf {
        self.config.with_file_name("journal.pub")
    }

    /// Where a simulated terminal keeps its ledger: beside the database.
    pub fn sim_ledger(&self) -> PathBuf {
        self.db.with_file_name("sim-terminal.jsonl")
    }
}

/// Reads the device config of a kiosk selling for real. A missing file, or one naming no
/// terminal or a simulated device, is an error naming the file and what to do: a kiosk never
/// sells on a simulator by accident.
pub fn load_device_config(path: &Path) -> Result<DeviceConfig> {
    let text = std::fs::read_to_string(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => EngineError::NoDeviceConfig(path.to_owned()),
        _ => EngineError::File { path: path.to_owned(), error },
    })?;
    Ok(DeviceConfig::parse(&path.display().to_string(), &text, Devices::Real)?)
}

/// Reads a development kiosk's config (`--dev`), simulators allowed; the first time, the
/// development settings are written there for the developer to change.
pub fn load_development_config(path: &Path) -> Result<DeviceConfig> {
    let file_error = |error| EngineError::File { path: path.to_owned(), error };
    if !path.exists() {
        if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(file_error)?;
        }
        std::fs::write(path, kiosk_core::config::DEVELOPMENT_CONFIG).map_err(file_error)?;
        log::info!("wrote the development config {}", path.display());
    }
    let text = std::fs::read_to_string(path).map_err(file_error)?;
    Ok(DeviceConfig::parse(&path.display().to_string(), &text, Devices::MaySimulate)?)
}
