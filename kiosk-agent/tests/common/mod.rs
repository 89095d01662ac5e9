//! What the update tests share: a signed repository with its keys, a static HTTP server on
//! loopback, a device's folders, and the app either simulated or run for real under a small
//! supervisor (these machines run no systemd).

#![allow(dead_code, unused_imports, reason = "each test binary uses part of it")]

pub mod netns;

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use async_trait::async_trait;
use kiosk_agent::archive::{self, Entry};
use kiosk_agent::catalog::Version;
use kiosk_agent::config::AgentConfig;
use kiosk_agent::effects::{AppLink, AppSocket, Database, FISCAL_JOURNAL, MenuImport, ServiceManager, Z_ARCHIVE};
use kiosk_agent::releases::Releases;
use kiosk_agent::source::{Fetcher, Location, Source};
use kiosk_agent::updater::Updater;
use kiosk_engine::FixedClock;
use kiosk_engine::kiosk_core::journal::ChainTail;
use kiosk_engine::kiosk_core::money::{Currency, Money};
use kiosk_engine::kiosk_core::status::DayStatus;
use kiosk_protocol::{Activity, Answer, Check, Command, SelfCheckReport, StateSummary};

pub const DEVICE_ID: &str = "lyon-01";

pub fn workspace(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// The real `kiosk-app` binary, built beside `kioskctl` by `cargo test --workspace`, stripped
/// as a release is shipped (a debug build's symbols would triple what each test compresses).
pub fn app_binary() -> PathBuf {
    static STRIPPED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    STRIPPED.get_or_init(|| stripped("kiosk-app")).clone()
}

/// The real `kiosk-agent` binary, stripped.
pub fn agent_binary() -> PathBuf {
    static STRIPPED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    STRIPPED.get_or_init(|| stripped("kiosk-agent")).clone()
}

fn stripped(binary: &str) -> PathBuf {
    let built = Path::new(env!("CARGO_BIN_EXE_kioskctl")).with_file_name(binary);
    assert!(built.is_file(), "{} is missing: build it first (cargo build --workspace --bins)", built.display());
    let stripped = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{binary}-stripped"));
    let status = std::process::Command::new("strip").arg("-o").arg(&stripped).arg(&built).status();
    assert!(status.is_ok_and(|status| status.success()), "strip (binutils) makes a release binary");
    stripped
}

pub use kiosk_tests::updates::{Repo, agent_config, app_release, published, v};

/// A repository that published release 1.0.0 (a script standing for the app), and a device
/// running it as its image shipped it.
pub async fn device_on_its_first_release(dir: &Path) -> (Repo, Device) {
    let repo = Repo::create(dir).await;
    let device = Device::new(dir);
    let binary = dir.join("kiosk-app");
    std::fs::write(&binary, "#!/bin/sh\n").unwrap();
    let first = app_release(dir, "1.0.0", &binary);
    repo.add(kiosk_agent::catalog::Kind::App, "1.0.0", &first).await;
    device.install_as_image("1.0.0", &first);
    (repo, device)
}

/// A release that migrates the database (adds a table, records its migration as sqlx does)
/// and then cannot start: the release rolled back to must run on the newer schema. Started
/// as the supervisor starts the app, the database's path is its fourth argument.
pub fn migrating_then_crashing_binary(scratch: &Path) -> PathBuf {
    let path = scratch.join("migrating-kiosk-app");
    let script = r#"#!/bin/sh
python3 - "$4" <<'PYTHON'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS loyalty_cards (code TEXT PRIMARY KEY)")
db.execute("INSERT OR IGNORE INTO _sqlx_migrations (version, description, success, checksum, execution_time) "
           "VALUES (99990101000000, 'loyalty cards', 1, x'00', 1)")
db.commit()
PYTHON
exit 3
"#;
    std::fs::write(&path, script).unwrap();
    path
}

/// A release whose app cannot start: what a broken build looks like to the health gate.
pub fn crashing_binary(scratch: &Path) -> PathBuf {
    let path = scratch.join("crashing-kiosk-app");
    std::fs::write(&path, "#!/bin/sh\necho 'kiosk-app: cannot start' >&2\nexit 3\n").unwrap();
    path
}

/// A device's folders, as the image lays them out.
pub struct Device {
    pub dir: PathBuf,
}

impl Device {
    pub fn new(at: &Path) -> Device {
        let device = Device { dir: at.join("device") };
        std::fs::create_dir_all(device.dir.join("releases")).unwrap();
        device
    }

    pub fn releases(&self) -> Releases {
        Releases::at(&self.dir.join("releases"))
    }

    /// Puts a release in place as the image does: installed, current, committed.
    pub fn install_as_image(&self, version: &str, entries: &[Entry]) {
        let releases = self.releases();
        releases.install(&v(version), &archive::tar(entries).unwrap()).unwrap();
        releases.switch(&v(version)).unwrap();
    }

    pub fn config(&self, repository: &str, trusted_root: &Path, gate_seconds: u64) -> AgentConfig {
        AgentConfig::parse(&self.config_text(repository, trusted_root, gate_seconds)).unwrap()
    }

    /// The agent's config file for this device, polling every second (sections may be added
    /// after it).
    pub fn config_text(&self, repository: &str, trusted_root: &Path, gate_seconds: u64) -> String {
        let kioskctl = Path::new(env!("CARGO_BIN_EXE_kioskctl"));
        agent_config(&self.dir, repository, trusted_root, kioskctl, 1, gate_seconds)
    }

    pub fn updater(
        &self,
        config: AgentConfig,
        trusted_root: &Path,
        service: Arc<dyn ServiceManager>,
        app: Arc<dyn AppLink>,
        database: Arc<dyn Database>,
    ) -> Updater {
        let source = Source {
            location: Location::parse(&config.updates.repository).unwrap(),
            trusted_root: trusted_root.to_owned(),
            datastore: config.paths.state.join("tuf"),
            fetcher: Fetcher::new(&config.paths.state.join("downloads")).unwrap(),
        };
        Updater {
            device_id: DEVICE_ID.into(),
            source,
            app_releases: Releases::at(&config.paths.app_releases),
            service,
            app,
            database,
            clock: Arc::new(FixedClock::at("2026-12-03T03:00:00+01:00")),
            config,
        }
    }
}

/// The app as the agent sees it, simulated: it answers as the release `current` points at,
/// healthy unless that release is listed as broken.
#[derive(Debug)]
pub struct SimulatedApp {
    pub releases: Releases,
    /// Releases whose receipt printer does not answer.
    pub broken: Mutex<Vec<String>>,
    pub busy: AtomicBool,
    /// The app does not answer at all.
    pub down: AtomicBool,
    pub reloads: Mutex<u32>,
    pub out_of_service: Mutex<Option<String>>,
}

impl SimulatedApp {
    pub fn new(releases: Releases) -> SimulatedApp {
        SimulatedApp {
            releases,
            broken: Mutex::default(),
            busy: AtomicBool::new(false),
            down: AtomicBool::new(false),
            reloads: Mutex::default(),
            out_of_service: Mutex::default(),
        }
    }
}

#[async_trait]
impl AppLink for SimulatedApp {
    async fn ask(&self, command: Command) -> Result<Answer> {
        if self.down.load(Ordering::SeqCst) {
            anyhow::bail!("the app does not answer");
        }
        let release = self.releases.current()?.to_string();
        let healthy = !self.broken.lock().unwrap().contains(&release);
        let ok = |detail: &str| Check { ok: true, detail: detail.into() };
        Ok(match command {
            Command::SelfCheck => Answer::SelfCheck(SelfCheckReport {
                release,
                test_order: ok("10.50"),
                receipt_printer: if healthy { ok("ready") } else { Check { ok: false, detail: "unreachable".into() } },
                terminal: ok("answers"),
            }),
            Command::ReloadMenu => {
                *self.reloads.lock().unwrap() += 1;
                Answer::Refused { reason: "simulated".into() }
            }
            Command::OutOfService { reason } => {
                *self.out_of_service.lock().unwrap() = Some(reason);
                Answer::Refused { reason: "simulated".into() }
            }
            Command::Screenshot => Answer::Screenshot { png: SIMULATED_SCREENSHOT.to_vec() },
            Command::BackInService => {
                *self.out_of_service.lock().unwrap() = None;
                Answer::Refused { reason: "simulated".into() }
            }
            _ => Answer::State(StateSummary {
                release,
                activity: if self.busy.load(Ordering::SeqCst) { Activity::Paying } else { Activity::Attract },
                since: "2026-12-03T03:00:00Z".into(),
                order: None,
                last_frame: None,
                training: true,
                out_of_service: self.out_of_service.lock().unwrap().clone(),
            }),
        })
    }
}

/// What the simulated app renders its screen as.
pub const SIMULATED_SCREENSHOT: &[u8] = b"\x89PNG the attract screen";

/// A service manager that only counts restarts (the simulated app follows `current` itself)
/// and records the agent swaps it was asked for.
#[derive(Debug, Default)]
pub struct CountingServices {
    pub restarts: Mutex<u32>,
    pub swaps: Mutex<Vec<Version>>,
    /// The apps shown in multi-app mode, in turn.
    pub shown: Mutex<Vec<String>>,
    pub stops: Mutex<u32>,
    pub reboots: Mutex<u32>,
}

#[async_trait]
impl ServiceManager for CountingServices {
    async fn restart_app(&self) -> Result<()> {
        *self.restarts.lock().unwrap() += 1;
        Ok(())
    }

    async fn restart_agent(&self) -> Result<()> {
        anyhow::bail!("the agent is not restarted in these tests")
    }

    async fn start_agent_swap(&self, to: &Version) -> Result<()> {
        self.swaps.lock().unwrap().push(to.clone());
        Ok(())
    }

    async fn show_app(&self, app: &str, _: &[String]) -> Result<()> {
        self.shown.lock().unwrap().push(app.to_owned());
        Ok(())
    }

    async fn stop_app(&self) -> Result<()> {
        *self.stops.lock().unwrap() += 1;
        Ok(())
    }

    async fn reboot(&self) -> Result<()> {
        *self.reboots.lock().unwrap() += 1;
        Ok(())
    }

    async fn recent_logs(&self, lines: u32) -> Result<String> {
        Ok((1..=lines).map(|line| format!("2026-12-03T12:00:00+0100 kiosk-app[42]: line {line}\n")).collect())
    }
}

/// A database that records what it was asked.
#[derive(Debug, Default)]
pub struct RecordingDatabase {
    pub backups: Mutex<Vec<PathBuf>>,
    pub menus: Mutex<Vec<PathBuf>>,
    pub provisioned_from: Mutex<Vec<PathBuf>>,
    pub payment_in_progress: AtomicBool,
}

/// What the recording database's fiscal archive holds.
pub const FISCAL_JOURNAL_TEXT: &str = "{\"entries\": [\"sale 1\", \"sale 2\"]}";

#[async_trait]
impl Database for RecordingDatabase {
    async fn backup(&self, to: &Path) -> Result<()> {
        std::fs::write(to, b"backup")?;
        self.backups.lock().unwrap().push(to.to_owned());
        Ok(())
    }

    async fn import_menu(&self, menu: &Path) -> Result<MenuImport> {
        if self.payment_in_progress.load(Ordering::SeqCst) {
            return Ok(MenuImport::PaymentInProgress);
        }
        self.menus.lock().unwrap().push(menu.to_owned());
        Ok(MenuImport::Imported)
    }

    async fn provision_staff(&self, policy: &Path) -> Result<Vec<String>> {
        self.provisioned_from.lock().unwrap().push(policy.to_owned());
        Ok(vec!["Marie".into()])
    }

    async fn fiscal_archive(&self, folder: &Path) -> Result<Vec<PathBuf>> {
        let files = [(FISCAL_JOURNAL, FISCAL_JOURNAL_TEXT), (Z_ARCHIVE, "[{\"number\": 1}]")];
        files
            .iter()
            .map(|(name, text)| {
                std::fs::write(folder.join(name), text)?;
                Ok(folder.join(name))
            })
            .collect()
    }

    async fn day_status(&self) -> Result<DayStatus> {
        Ok(DayStatus {
            business_day: "2026-12-03".into(),
            paid_orders: 3,
            revenue: Money::parse_price("42.30").unwrap(),
            currency: Some(Currency::Eur),
            last_order_at: Some("2026-12-03T02:55:00+01:00".into()),
            journal_last: Some(ChainTail { seq: 17, hash: "ab".repeat(32) }),
            journal_key_fingerprint: "f1f2f3f4".into(),
            menu_version: Some(2),
            menu_label: Some("Hiver".into()),
        })
    }
}

/// The fleet at `url` over HTTP, nothing held back by a web allowlist.
pub fn http_fleet(url: &str) -> Arc<dyn kiosk_agent::health::Fleet> {
    let client = kiosk_engine::devices::WebClient::new(reqwest::Client::new(), Default::default());
    Arc::new(kiosk_agent::health::HttpFleet { client, url: url.parse().unwrap() })
}

/// Starts the real app from `releases/current`, as systemd would on the device: headless, on
/// simulated devices (`--dev`), its database and socket in the device's folder.
#[derive(Debug)]
pub struct Supervisor {
    pub device: PathBuf,
    pub child: Mutex<Option<Child>>,
    pub restarts: Mutex<u32>,
}

impl Supervisor {
    pub fn new(device: &Path) -> Supervisor {
        Supervisor { device: device.to_owned(), child: Mutex::default(), restarts: Mutex::default() }
    }

    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop();
    }
}

#[async_trait]
impl ServiceManager for Supervisor {
    async fn restart_app(&self) -> Result<()> {
        self.stop();
        let dir = &self.device;
        let child = std::process::Command::new(dir.join("releases/current/bin/kiosk-app"))
            .arg("--headless")
            .arg("--dev")
            .arg("--db")
            .arg(dir.join("kiosk.db"))
            .arg("--config")
            .arg(dir.join("kiosk.toml"))
            .arg("--socket")
            .arg(dir.join("app.sock"))
            .arg("--menu")
            .arg(workspace("menus/brasserie/menu.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        *self.child.lock().unwrap() = Some(child);
        *self.restarts.lock().unwrap() += 1;
        Ok(())
    }

    async fn restart_agent(&self) -> Result<()> {
        anyhow::bail!("the supervisor runs the app only")
    }

    async fn start_agent_swap(&self, _: &Version) -> Result<()> {
        anyhow::bail!("the supervisor runs the app only")
    }

    async fn show_app(&self, _: &str, _: &[String]) -> Result<()> {
        anyhow::bail!("the supervisor runs the kiosk app only")
    }

    async fn stop_app(&self) -> Result<()> {
        self.stop();
        Ok(())
    }

    async fn reboot(&self) -> Result<()> {
        anyhow::bail!("the supervisor does not restart the machine")
    }

    async fn recent_logs(&self, _: u32) -> Result<String> {
        anyhow::bail!("the supervisor keeps no logs")
    }
}

/// The app's socket in a device folder, patient enough for a debug build.
pub fn app_socket(device: &Path) -> AppSocket {
    AppSocket { path: device.join("app.sock"), patience: Duration::from_secs(10) }
}

/// Asks the app for its state until it answers, for up to `limit`.
pub async fn wait_for_state(app: &dyn AppLink, limit: Duration) -> Option<StateSummary> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if let Ok(Answer::State(summary)) = app.ask(Command::State).await {
            return Some(summary);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
