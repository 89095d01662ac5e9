//! One look at the update repository, and what follows: menus imported through the engine,
//! the policy put in place, and app releases installed beside the running one, switched to,
//! proven by a health gate, then committed or rolled back.
//!
//! Downloads happen at any time; software is installed only inside the maintenance window
//! while the app waits for a customer; a menu is imported whenever no payment is under way.
//! Every file is checked by TUF against the device's root of trust before anything is
//! unpacked, and what fails is refused with the running release, the menu in use and the data
//! untouched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use kiosk_engine::Clock;
use kiosk_protocol::{Activity, Answer, Command};
use serde::{Deserialize, Serialize};

use crate::archive;
use crate::catalog::{Digest256, Kind, Version};
use crate::config::AgentConfig;
use crate::effects::{AppLink, Database, MenuImport, ServiceManager};
use crate::releases::{Releases, write_atomically};
use crate::source::{Offer, Source, offers, read_verified};

/// What became of one offer at one poll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The kiosk already has it, or something newer.
    UpToDate { version: Version },
    /// Installed and committed (a release), imported (a menu), put in place (a policy);
    /// `downloaded` bytes were fetched for it (less than the archive for a delta).
    Installed { version: Version, downloaded: u64 },
    /// Downloaded and waiting for its moment.
    Waiting { version: Version, why: String },
    /// Tried and given back: the previous release runs again.
    RolledBack { version: Version, why: String },
    /// Failed before (not tried again: a fix comes with a new version).
    FailedBefore { version: Version, why: String },
    /// Refused or failed before anything changed.
    Refused { version: Version, why: String },
    /// An agent release, unpacked and handed to the swap helper, which restarts the agent.
    Handed { version: Version, downloaded: u64 },
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::UpToDate { .. } => "up to date",
            Outcome::Installed { .. } => "installed",
            Outcome::Waiting { .. } => "waiting",
            Outcome::RolledBack { .. } => "rolled back",
            Outcome::FailedBefore { .. } => "failed before",
            Outcome::Refused { .. } => "refused",
            Outcome::Handed { .. } => "handed to the swap helper",
        }
    }
}

/// What one poll found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PollReport {
    /// The repository could not be read or was refused, and why.
    pub repository_error: Option<String>,
    pub outcomes: BTreeMap<Kind, Outcome>,
}

/// What the agent installed besides app releases, kept across restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installed {
    pub menu: Option<Version>,
    pub policy: Option<Version>,
    /// Menus and policies that failed, by "kind version", with why.
    #[serde(default)]
    pub failed: BTreeMap<String, String>,
}

/// The agent's update side, with what it acts on.
#[derive(Debug)]
pub struct Updater {
    pub device_id: String,
    pub config: AgentConfig,
    pub source: Source,
    pub app_releases: Releases,
    pub service: Arc<dyn ServiceManager>,
    pub app: Arc<dyn AppLink>,
    pub database: Arc<dyn Database>,
    pub clock: Arc<dyn Clock>,
}

impl Updater {
    fn installed_path(&self) -> PathBuf {
        self.config.paths.state.join("installed.json")
    }

    pub fn installed(&self) -> Result<Installed> {
        match std::fs::read(self.installed_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes).context("the agent's record of what it installed is damaged"),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Installed::default()),
            Err(error) => Err(error.into()),
        }
    }

    fn save_installed(&self, installed: &Installed) -> Result<()> {
        std::fs::create_dir_all(&self.config.paths.state)?;
        write_atomically(&self.installed_path(), &serde_json::to_vec_pretty(installed)?)
    }

    /// Reads the repository and acts on what it offers this kiosk, in this order: the app
    /// release, the agent release, the menu, the policy.
    pub async fn poll(&self) -> PollReport {
        if self.source.location.is_unplugged() {
            log::debug!("updates: nothing at {} (no stick plugged in)", self.source.location);
            return PollReport { repository_error: None, outcomes: BTreeMap::new() };
        }
        let repo = match self.source.load().await {
            Ok(repo) => repo,
            Err(error) => {
                log::warn!("updates: {error:#}");
                return PollReport { repository_error: Some(format!("{error:#}")), outcomes: BTreeMap::new() };
            }
        };
        let offered = offers(&repo, &self.device_id, self.config.channel);
        let mut outcomes = BTreeMap::new();
        for (kind, offer) in &offered {
            let outcome = match kind {
                Kind::Menu => self.menu(&repo, offer).await,
                Kind::Policy => self.policy(&repo, offer).await,
                Kind::App => self.app_release(&repo, offer).await,
                Kind::Agent => self.agent_release(&repo, offer).await,
            };
            let outcome = outcome.unwrap_or_else(|error| Outcome::Refused {
                version: offer.published.version.clone(),
                why: format!("{error:#}"),
            });
            log_outcome(*kind, &outcome);
            outcomes.insert(*kind, outcome);
        }
        PollReport { repository_error: None, outcomes }
    }

    async fn menu(&self, repo: &tough::Repository, offer: &Offer) -> Result<Outcome> {
        let version = offer.published.version.clone();
        let mut installed = self.installed()?;
        if installed.menu.as_ref().is_some_and(|menu| *menu >= version) {
            return Ok(Outcome::UpToDate { version });
        }
        if let Some(why) = installed.failed.get(&format!("menu {version}")) {
            return Ok(Outcome::FailedBefore { version, why: why.clone() });
        }
        let folder = self.config.paths.menus.join(version.as_str());
        let downloaded = if unpacked_matches(&folder, offer) {
            0
        } else {
            let (tar, downloaded) = full_tar(repo, offer).await?;
            unpack_replacing(&tar, &folder)?;
            downloaded
        };
        match self.database.import_menu(&folder.join("menu.toml")).await {
            Ok(MenuImport::Imported) => {}
            Ok(MenuImport::PaymentInProgress) => {
                return Ok(Outcome::Waiting { version, why: "a payment is in progress".into() });
            }
            Err(error) => {
                let why = format!("{error:#}");
                installed.failed.insert(format!("menu {version}"), why.clone());
                self.save_installed(&installed)?;
                return Ok(Outcome::Refused { version, why });
            }
        }
        // The app re-reads the menu at its next poll anyway; this makes it at once.
        if let Err(error) = self.app.ask(Command::ReloadMenu).await {
            log::info!("the app was not told of the new menu now: {error:#}");
        }
        installed.menu = Some(version.clone());
        self.save_installed(&installed)?;
        Ok(Outcome::Installed { version, downloaded })
    }

    async fn policy(&self, repo: &tough::Repository, offer: &Offer) -> Result<Outcome> {
        let version = offer.published.version.clone();
        let mut installed = self.installed()?;
        if installed.policy.as_ref().is_some_and(|policy| *policy >= version) {
            return Ok(Outcome::UpToDate { version });
        }
        if let Some(why) = installed.failed.get(&format!("policy {version}")) {
            return Ok(Outcome::FailedBefore { version, why: why.clone() });
        }
        let bytes = read_verified(repo, &offer.name).await?;
        // Signed is not enough: a policy the agent cannot read whole is refused, and the one
        // in force stays.
        let checked = std::str::from_utf8(&bytes)
            .map_err(|_| anyhow::anyhow!("it is not UTF-8 text"))
            .and_then(crate::policy::Policy::parse);
        if let Err(error) = checked {
            let why = format!("{}: {error:#}", offer.name.raw());
            installed.failed.insert(format!("policy {version}"), why.clone());
            self.save_installed(&installed)?;
            return Ok(Outcome::Refused { version, why });
        }
        write_atomically(&self.config.paths.policy, &bytes)?;
        installed.policy = Some(version.clone());
        self.save_installed(&installed)?;
        Ok(Outcome::Installed { version, downloaded: bytes.len() as u64 })
    }

    async fn app_release(&self, repo: &tough::Repository, offer: &Offer) -> Result<Outcome> {
        let version = offer.published.version.clone();
        let mut state = self.app_releases.state()?;
        if version <= state.committed {
            return Ok(Outcome::UpToDate { version: state.committed });
        }
        if let Some(why) = state.failed.get(version.as_str()) {
            return Ok(Outcome::FailedBefore { version, why: why.clone() });
        }
        let downloaded = self.stage(repo, offer, &self.app_releases, &state.committed).await?;
        std::fs::create_dir_all(&self.config.paths.backups)?;
        let backup = self.config.paths.backups.join(format!("kiosk-before-{version}.db"));
        self.database.backup(&backup).await.context("cannot back up the database before the update")?;
        if let Err(why) = self.idle_in_window().await {
            return Ok(Outcome::Waiting { version, why });
        }
        let committed = state.committed.clone();
        state.trying = Some(version.clone());
        *state.tries.entry(version.to_string()).or_default() += 1;
        self.app_releases.save(&state)?;
        log::info!("switching the app from release {committed} to {version}");
        let tried = async {
            self.app_releases.switch(&version).map_err(|e| format!("{e:#}"))?;
            self.service.restart_app().await.map_err(|e| format!("{e:#}"))?;
            self.gate(&version).await
        };
        let result = tried.await;
        state.trying = None;
        state.tries.remove(version.as_str());
        match result {
            Ok(()) => {
                state.previous = Some(committed);
                state.committed = version.clone();
                self.app_releases.save(&state)?;
                if let Err(error) = self.app_releases.prune() {
                    log::warn!("old releases could not be removed: {error:#}");
                }
                Ok(Outcome::Installed { version, downloaded })
            }
            Err(why) => {
                log::error!("release {version} is rolled back: {why}");
                self.app_releases.switch(&committed)?;
                self.service.restart_app().await?;
                state.failed.insert(version.to_string(), why.clone());
                self.app_releases.save(&state)?;
                if let Err(still) = self.gate(&committed).await {
                    log::error!("release {committed}, rolled back to, is not healthy either: {still}");
                }
                Ok(Outcome::RolledBack { version, why })
            }
        }
    }

    /// An agent release: unpacked beside the running agent, then handed to the swap helper
    /// (see [`crate::swap`]), inside the maintenance window like any software.
    async fn agent_release(&self, repo: &tough::Repository, offer: &Offer) -> Result<Outcome> {
        let version = offer.published.version.clone();
        let releases = Releases::at(&self.config.paths.agent_releases);
        if !releases.dir().join("current").exists() {
            let why =
                format!("this agent does not run from {}: it is updated with its image", releases.dir().display());
            return Ok(Outcome::Refused { version, why });
        }
        let mut state = releases.state()?;
        if version <= state.committed {
            return Ok(Outcome::UpToDate { version: state.committed });
        }
        if let Some(why) = state.failed.get(version.as_str()) {
            return Ok(Outcome::FailedBefore { version, why: why.clone() });
        }
        if state.trying.as_ref() == Some(&version) && crate::swap::helper_alive(&self.config.paths.state) {
            return Ok(Outcome::Waiting { version, why: "the swap helper is at work".into() });
        }
        let downloaded = self.stage(repo, offer, &releases, &state.committed).await?;
        if let Err(why) = self.idle_in_window().await {
            return Ok(Outcome::Waiting { version, why });
        }
        state.trying = Some(version.clone());
        *state.tries.entry(version.to_string()).or_default() += 1;
        releases.save(&state)?;
        if let Err(error) = self.service.start_agent_swap(&version).await {
            state.trying = None;
            releases.save(&state)?;
            return Err(error);
        }
        Ok(Outcome::Handed { version, downloaded })
    }

    /// Makes sure the offered release is unpacked in `releases`; returns the bytes downloaded.
    async fn stage(
        &self,
        repo: &tough::Repository,
        offer: &Offer,
        releases: &Releases,
        installed: &Version,
    ) -> Result<u64> {
        if unpacked_matches(&releases.folder(&offer.published.version), offer) {
            return Ok(0);
        }
        let (tar, downloaded) = release_tar(repo, offer, installed, &releases.folder(installed)).await?;
        releases.install(&offer.published.version, &tar)?;
        Ok(downloaded)
    }

    /// Whether software may be installed now: inside the maintenance window, the app waiting
    /// for a customer (or not answering: then nobody is being served); else why not.
    async fn idle_in_window(&self) -> Result<(), String> {
        // The policy's window when it names one, else the agent config's.
        let from_policy = crate::policy::Policy::load(&self.config.paths.policy)
            .ok()
            .and_then(|policy| policy.maintenance_window)
            .and_then(|window| crate::config::DailyWindow::parse(&window).ok());
        if let Some(window) = from_policy.or(self.config.maintenance_window()) {
            let now = self.clock.now().time();
            if !window.contains(now) {
                return Err(format!(
                    "outside the maintenance window {}-{}",
                    window.start.format("%H:%M"),
                    window.end.format("%H:%M")
                ));
            }
        }
        match self.app.ask(Command::State).await {
            Ok(Answer::State(summary)) if summary.activity == Activity::Attract => Ok(()),
            Ok(Answer::State(summary)) => Err(format!("the kiosk is busy ({:?})", summary.activity).to_lowercase()),
            Ok(other) => Err(format!("the app answered {other:?}")),
            Err(error) => {
                log::warn!("installing while the app does not answer: {error:#}");
                Ok(())
            }
        }
    }

    /// The health gate: within the deadline, release `version` answers on the app socket,
    /// prices a test order and reaches its printer and terminal.
    async fn gate(&self, version: &Version) -> Result<(), String> {
        let deadline = self.config.gate_deadline();
        let started = Instant::now();
        let mut last = "the app never answered".to_owned();
        while started.elapsed() < deadline {
            match self.app.ask(Command::SelfCheck).await {
                Ok(Answer::SelfCheck(report)) if report.release != version.as_str() => {
                    last = format!("release {} answered, not {version}", report.release);
                }
                Ok(Answer::SelfCheck(report)) if report.passed() => return Ok(()),
                Ok(Answer::SelfCheck(report)) => last = report.failures(),
                Ok(other) => last = format!("the app answered {other:?}"),
                Err(error) => last = format!("{error:#}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("release {version} did not pass its health gate within {} s: {last}", deadline.as_secs()))
    }
}

/// Whether `folder` holds the files of the offered archive already (downloaded at an earlier
/// poll, waiting for its moment), by the signed hash of their tar.
fn unpacked_matches(folder: &Path, offer: &Offer) -> bool {
    let Some(content) = &offer.published.content else { return false };
    folder.is_dir()
        && archive::Entry::folder(folder, Path::new(""))
            .and_then(|entries| archive::tar(&entries))
            .is_ok_and(|tar| Digest256::of(&tar) == *content)
}

/// The tar of the offered release: rebuilt from a delta against the installed release (its
/// files in `folder`) when the repository has one, else from the whole archive. Either way
/// its hash is the one signed in the release's metadata.
async fn release_tar(
    repo: &tough::Repository,
    offer: &Offer,
    installed: &Version,
    folder: &Path,
) -> Result<(Vec<u8>, u64)> {
    let content = offer.published.content.as_ref().context("the release has no signed content hash")?;
    if let Some((delta, _)) = offer.deltas.get(installed) {
        let rebuilt = async {
            let base = archive::tar(&archive::Entry::folder(folder, Path::new(""))?)?;
            let patch = read_verified(repo, delta).await?;
            let tar = archive::apply_patch(&base, &patch)?;
            anyhow::ensure!(Digest256::of(&tar) == *content, "the rebuilt release differs from the signed one");
            Ok((tar, patch.len() as u64))
        };
        match rebuilt.await {
            Ok(rebuilt) => return Ok(rebuilt),
            Err(error) => log::warn!("the delta {} is not used: {error:#}; downloading the whole release", delta.raw()),
        }
    }
    full_tar(repo, offer).await
}

/// The offered archive, downloaded whole and checked, as its tar; and the bytes downloaded.
async fn full_tar(repo: &tough::Repository, offer: &Offer) -> Result<(Vec<u8>, u64)> {
    let archive = read_verified(repo, &offer.name).await?;
    let tar = archive::decompress(&archive)?;
    if let Some(content) = &offer.published.content
        && Digest256::of(&tar) != *content
    {
        bail!("the archive's files differ from their signed hash");
    }
    Ok((tar, archive.len() as u64))
}

/// Unpacks into `folder`, replacing what an earlier, interrupted try left there.
fn unpack_replacing(tar: &[u8], folder: &Path) -> Result<()> {
    let parent = folder.parent().context("a folder has a parent")?;
    std::fs::create_dir_all(parent)?;
    let scratch = parent.join(format!(".unpacking-{}", folder.file_name().unwrap_or_default().to_string_lossy()));
    let _ = std::fs::remove_dir_all(&scratch);
    archive::unpack(tar, &scratch)?;
    if folder.exists() {
        std::fs::remove_dir_all(folder)?;
    }
    std::fs::rename(&scratch, folder)?;
    Ok(())
}

fn log_outcome(kind: Kind, outcome: &Outcome) {
    match outcome {
        Outcome::UpToDate { .. } => log::debug!("updates: {kind} up to date"),
        Outcome::Installed { version, downloaded } => {
            log::info!("updates: {kind} {version} installed ({downloaded} bytes downloaded)")
        }
        Outcome::Waiting { version, why } => log::info!("updates: {kind} {version} waits: {why}"),
        Outcome::RolledBack { version, why } => log::error!("updates: {kind} {version} rolled back: {why}"),
        Outcome::FailedBefore { .. } => log::debug!("updates: {kind} failed before, not tried again"),
        Outcome::Refused { version, why } => log::error!("updates: {kind} {version} refused: {why}"),
        Outcome::Handed { version, .. } => log::info!("updates: {kind} {version} handed to the swap helper"),
    }
}
