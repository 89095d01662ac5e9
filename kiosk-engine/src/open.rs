//! The one way to build an engine: from a device config (or a kiosk's [`Locations`]), opening
//! the configured terminal and printers. An engine that takes payments settles what an earlier
//! run left unresolved before anything else; one opened without payments (the admin tool's
//! reading and bookkeeping) never touches the terminal.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_core::config::{DeviceConfig, Devices, TerminalConfig};
use kiosk_devices::printer::ConfiguredPrinter;
use kiosk_devices::terminal::{PaymentTerminal, SimOutcome, SimSettings, SimTerminal};
use kiosk_devices::web::WebGate;
use kiosk_store::Store;
use kiosk_store::journal::Chain;

use crate::journal::{default_key_path, default_registered_key_path, load_or_create_key, register_public_key};
use crate::{COMMIT_TIMES_KEPT, Clock, Engine, EngineError, RecoveryReport, Result, SystemClock, Terminals, process};

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

    /// The policy the agent puts in place, beside the device config: its web allowlist holds
    /// the engine's calls out.
    pub fn policy(&self) -> PathBuf {
        self.config.with_file_name("policy.toml")
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
        create_folder_of(path)?;
        std::fs::write(path, kiosk_core::config::DEVELOPMENT_CONFIG).map_err(file_error)?;
        log::info!("wrote the development config {}", path.display());
    }
    let text = std::fs::read_to_string(path).map_err(file_error)?;
    Ok(DeviceConfig::parse(&path.display().to_string(), &text, Devices::MaySimulate)?)
}

fn create_folder_of(path: &Path) -> Result<()> {
    match path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        Some(folder) => {
            std::fs::create_dir_all(folder).map_err(|error| EngineError::File { path: folder.to_owned(), error })
        }
        None => Ok(()),
    }
}

/// Builds an engine. By default everything comes from the device config: the terminal it
/// names (a simulator answers as [`EngineBuilder::simulator`] says), its printers, the system
/// clock, the journal key beside the database.
#[derive(Debug)]
pub struct EngineBuilder {
    db: PathBuf,
    device: DeviceConfig,
    terminal: Option<Arc<dyn PaymentTerminal>>,
    training_terminal: Option<Arc<dyn PaymentTerminal>>,
    simulator: SimSettings,
    printers: Option<BTreeMap<String, ConfiguredPrinter>>,
    clock: Arc<dyn Clock>,
    journal_key: PathBuf,
    registered_key: PathBuf,
    status_retry_delay: Duration,
    web: WebGate,
}

impl EngineBuilder {
    /// An engine on the database at `db` for the device `device` describes.
    pub fn new(db: &Path, device: DeviceConfig) -> EngineBuilder {
        EngineBuilder {
            db: db.to_owned(),
            device,
            terminal: None,
            training_terminal: None,
            simulator: SimSettings {
                ledger: db.with_file_name("sim-terminal.jsonl"),
                outcome: SimOutcome::Approve,
                card_delay: Duration::ZERO,
            },
            printers: None,
            clock: Arc::new(SystemClock),
            journal_key: default_key_path(db),
            registered_key: default_registered_key_path(db),
            status_retry_delay: Duration::from_secs(2),
            web: WebGate::default(),
        }
    }

    /// The engine of the kiosk whose files are at `locations`: its device config is read (and
    /// refused as [`Locations::device_config`] says), the journal key registered beside it.
    pub fn at(locations: &Locations) -> Result<EngineBuilder> {
        let mut builder = EngineBuilder::new(&locations.db, locations.device_config()?);
        builder.simulator.ledger = locations.sim_ledger();
        builder.registered_key = locations.registered_key();
        builder.web = WebGate::following(&locations.policy());
        Ok(builder)
    }

    pub fn device(&self) -> &DeviceConfig {
        &self.device
    }

    /// How a simulated terminal of the device config answers, and how long its customer takes.
    pub fn simulator(mut self, outcome: SimOutcome, card_delay: Duration) -> EngineBuilder {
        self.simulator.outcome = outcome;
        self.simulator.card_delay = card_delay;
        self
    }

    /// Where a simulated terminal of the device config keeps its ledger.
    pub fn simulator_ledger(mut self, ledger: &Path) -> EngineBuilder {
        ledger.clone_into(&mut self.simulator.ledger);
        self
    }

    /// Pays on this terminal instead of the one the device config names (tests, benchmarks).
    pub fn terminal(mut self, terminal: Arc<dyn PaymentTerminal>) -> EngineBuilder {
        self.terminal = Some(terminal);
        self
    }

    /// Pays training sales on this simulator instead of one whose ledger is beside the
    /// database. (A simulated kiosk terminal pays them itself.)
    pub fn training_terminal(mut self, terminal: Arc<dyn PaymentTerminal>) -> EngineBuilder {
        self.training_terminal = Some(terminal);
        self
    }

    /// Prints on these printers instead of the device config's.
    pub fn printers(mut self, printers: BTreeMap<String, ConfiguredPrinter>) -> EngineBuilder {
        self.printers = Some(printers);
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> EngineBuilder {
        self.clock = clock;
        self
    }

    /// The file holding the key that signs the journal (made on first use).
    pub fn journal_key(mut self, path: &Path) -> EngineBuilder {
        path.clone_into(&mut self.journal_key);
        self
    }

    /// The file holding the journal's public key as registered at first start (written then);
    /// the journal is verified against it.
    pub fn registered_key(mut self, path: &Path) -> EngineBuilder {
        path.clone_into(&mut self.registered_key);
        self
    }

    /// How long to wait between questions about a payment in doubt (it is asked a few times
    /// before being left in doubt for later).
    /// The web allowlist the terminal's and the e-receipt links' URLs are held to (by default
    /// none: nothing restricted; [`EngineBuilder::at`] follows the policy beside the config).
    pub fn web(mut self, gate: WebGate) -> EngineBuilder {
        self.web = gate;
        self
    }

    pub fn status_retry_delay(mut self, delay: Duration) -> EngineBuilder {
        self.status_retry_delay = delay;
        self
    }

    /// An engine that takes payments: the terminal is opened, every payment an earlier run
    /// left unresolved is settled with it, then counter orders past their time are voided and
    /// tickets of earlier sales recorded.
    pub async fn open(mut self) -> Result<(Engine, RecoveryReport)> {
        create_folder_of(&self.db)?;
        let till = match self.terminal.take() {
            Some(terminal) => terminal,
            None => {
                let timeout = Duration::from_secs(self.device.terminal_timeout_seconds);
                let device = &self.device;
                kiosk_devices::terminal::open(&device.terminal, &device.kiosk_id, timeout, &self.simulator, &self.web)?
            }
        };
        let training = match self.training_terminal.take() {
            Some(terminal) => terminal,
            None if till.is_simulated() => till.clone(),
            None => {
                Arc::new(SimTerminal::open(&self.db.with_file_name("training-terminal.jsonl"), SimOutcome::Approve)?)
            }
        };
        let simulated_till = till.is_simulated();
        let engine = self.assemble(Some(Terminals { till, training }), simulated_till).await?;
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

    /// An engine for everything but payments (menus, stock, orders and reports, staff, the
    /// journal, devices): no terminal is opened and no payment is settled, so it works while
    /// the terminal is away and never races the app over one. Paying, refunding on the
    /// terminal and settling payments are refused ([`EngineError::NoPayments`]).
    pub async fn open_without_payments(self) -> Result<Engine> {
        create_folder_of(&self.db)?;
        let simulated_till = matches!(self.device.terminal, TerminalConfig::Sim);
        self.assemble(None, simulated_till).await
    }

    async fn assemble(self, terminals: Option<Terminals>, simulated_till: bool) -> Result<Engine> {
        let store = Store::open(&self.db).await?;
        let journal_key = load_or_create_key(&self.journal_key)?;
        let last_entry = kiosk_store::journal::last(&mut *store.read().await?, Chain::Fiscal).await?;
        let registered_key = register_public_key(&self.registered_key, &journal_key, last_entry.as_ref())?;
        let printers =
            self.printers.unwrap_or_else(|| kiosk_devices::printer::open_printers(&self.device.printing.printers));
        Ok(Engine {
            store,
            device: self.device,
            terminals,
            simulated_till,
            clock: self.clock,
            status_retry_delay: self.status_retry_delay,
            menu_cache: Mutex::new(None),
            printers,
            owner: process::new_owner(),
            in_flight: Mutex::new(HashSet::new()),
            journal_key,
            registered_key,
            journal_tails: Mutex::new(HashMap::new()),
            approval_commits: Mutex::new(VecDeque::with_capacity(COMMIT_TIMES_KEPT)),
            web: self.web,
        })
    }
}
