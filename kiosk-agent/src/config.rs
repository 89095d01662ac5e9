//! The agent's config, `/etc/kiosk/agent.toml`. Every key has a default fit for the image but
//! the repository's location; a bad file is refused with the key and the reason.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::NaiveTime;
use serde::Deserialize;

use crate::catalog::Channel;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Pilot kiosks take what is published for `pilot` as well as `stable`.
    #[serde(default)]
    pub channel: Channel,
    pub updates: UpdatesConfig,
    #[serde(default)]
    pub paths: Paths,
    #[serde(default)]
    pub service: ServiceConfig,
    /// Where the kiosk is, as the fleet shows it.
    #[serde(default)]
    pub site: Option<String>,
    #[serde(default)]
    pub health: HealthConfig,
}

/// Heartbeats to the fleet and metrics on loopback.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    /// Where heartbeats are POSTed (https://...); absent: none are sent (metrics still are).
    pub fleet_url: Option<String>,
    pub heartbeat_seconds: u64,
    /// Heartbeats kept while the fleet cannot be reached; the oldest are dropped beyond.
    pub queue_max: usize,
    /// The loopback address metrics are served on (GET /metrics); absent: not served.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The public key (64 hex digits) the fleet's remote commands are signed with; absent:
    /// every remote command is refused.
    pub command_key: Option<PathBuf>,
}

impl Default for HealthConfig {
    fn default() -> HealthConfig {
        HealthConfig {
            fleet_url: None,
            heartbeat_seconds: 60,
            queue_max: 1440,
            metrics_listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 9464))),
            command_key: None,
        }
    }
}

/// How the agent has the service manager restart the app and itself.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    /// The command that restarts the app from its `releases/current` (program and arguments).
    pub restart_app: Vec<String>,
    /// The command that restarts the agent from its `releases/current`.
    pub restart_agent: Vec<String>,
    /// The command that starts the agent's swap helper as a unit of its own (`{version}` is
    /// replaced by the release it swaps to), so that restarting the agent's service does not
    /// stop it; empty: this binary started as a detached process (development, tests).
    pub start_helper: Vec<String>,
    /// The user the app runs as: it must have no shell.
    pub kiosk_user: String,
    /// How units are started and stopped (the action and the unit are added), for the apps of
    /// multi-app mode.
    pub systemctl: Vec<String>,
    /// The command that stops the app (before a wipe).
    pub stop_app: Vec<String>,
    /// The command that restarts the machine.
    pub reboot: Vec<String>,
    /// The command that prints the kiosk's recent logs; the number of lines is added.
    pub logs: Vec<String>,
}

impl Default for ServiceConfig {
    fn default() -> ServiceConfig {
        let owned = |words: &[&str]| words.iter().map(|word| (*word).to_owned()).collect();
        ServiceConfig {
            restart_app: owned(&["systemctl", "restart", "--no-block", "kiosk-app.service"]),
            restart_agent: owned(&["systemctl", "restart", "--no-block", "kiosk-agent.service"]),
            start_helper: owned(&["systemctl", "start", "--no-block", "kiosk-agent-swap@{version}.service"]),
            kiosk_user: "kiosk".into(),
            systemctl: owned(&["systemctl", "--no-block"]),
            stop_app: owned(&["systemctl", "stop", "kiosk-app.service"]),
            reboot: owned(&["systemctl", "reboot"]),
            logs: owned(&[
                "journalctl",
                "--no-pager",
                "--output=short-iso",
                "--unit=kiosk-app.service",
                "--unit=kiosk-agent.service",
                "--lines",
            ]),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatesConfig {
    /// The signed repository: an `https://` URL, or a folder (a mounted USB stick).
    pub repository: String,
    /// The root of trust the repository's metadata is checked against.
    #[serde(default = "default_trusted_root")]
    pub trusted_root: PathBuf,
    /// How often the repository is read.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// Up to this much is added to each wait at random, so that a fleet does not poll at once.
    #[serde(default = "default_jitter_seconds")]
    pub jitter_seconds: u64,
    /// When software may be installed, local time, as "02:00-05:00" (may wrap midnight);
    /// absent: any time the app is idle. Menus are imported at any time.
    #[serde(default)]
    pub maintenance_window: Option<String>,
    /// How long a new app release has to pass its health gate.
    #[serde(default = "default_gate_seconds")]
    pub gate_seconds: u64,
    /// How long a new agent release has to start and report before it is rolled back.
    #[serde(default = "default_gate_seconds")]
    pub agent_gate_seconds: u64,
}

/// Where things are on the device.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Paths {
    pub device_config: PathBuf,
    pub db: PathBuf,
    /// The app's releases and the `current` link its service starts.
    pub app_releases: PathBuf,
    /// The agent's own releases and the `current` link its service starts.
    pub agent_releases: PathBuf,
    /// Database copies taken before each app update (writable by the database's owner).
    pub backups: PathBuf,
    /// Menus received, unpacked (readable by the database's owner, who imports them).
    pub menus: PathBuf,
    /// The agent's own state: trusted metadata, downloads, what it installed.
    pub state: PathBuf,
    pub policy: PathBuf,
    pub app_socket: PathBuf,
    /// The admin tool the agent runs as the database's owner.
    pub kioskctl: PathBuf,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths {
            device_config: "/etc/kiosk/kiosk.toml".into(),
            db: "/var/lib/kiosk/kiosk.db".into(),
            app_releases: "/var/lib/kiosk/releases".into(),
            agent_releases: "/var/lib/kiosk-agent/releases".into(),
            backups: "/var/lib/kiosk/backups".into(),
            menus: "/var/lib/kiosk/menus".into(),
            state: "/var/lib/kiosk-agent".into(),
            policy: "/etc/kiosk/policy.toml".into(),
            app_socket: kiosk_protocol::APP_SOCKET.into(),
            kioskctl: "/usr/lib/kiosk/kioskctl".into(),
        }
    }
}

fn default_trusted_root() -> PathBuf {
    "/etc/kiosk/trust/root.json".into()
}

fn default_poll_seconds() -> u64 {
    900
}

fn default_jitter_seconds() -> u64 {
    120
}

fn default_gate_seconds() -> u64 {
    60
}

impl AgentConfig {
    pub fn load(path: &Path) -> Result<AgentConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        AgentConfig::parse(&text).with_context(|| format!("{} is refused", path.display()))
    }

    pub fn parse(text: &str) -> Result<AgentConfig> {
        let config: AgentConfig =
            toml::from_str(text).map_err(|error| anyhow::anyhow!("{}", error.to_string().trim()))?;
        crate::source::Location::parse(&config.updates.repository).context("updates.repository")?;
        if let Some(window) = &config.updates.maintenance_window {
            DailyWindow::parse(window).context("updates.maintenance_window")?;
        }
        if let Some(url) = &config.health.fleet_url {
            let parsed = url::Url::parse(url).with_context(|| format!("health.fleet_url: {url} is not a URL"))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                bail!("health.fleet_url: {url}: heartbeats go over https");
            }
        }
        if config.health.metrics_listen.is_some_and(|address| !address.ip().is_loopback()) {
            bail!("health.metrics_listen: metrics are served on loopback only (127.0.0.1 or ::1)");
        }
        if config.health.heartbeat_seconds == 0 {
            bail!("health.heartbeat_seconds: a heartbeat at least every few seconds, not 0");
        }
        for (key, command) in [
            ("restart_app", &config.service.restart_app),
            ("restart_agent", &config.service.restart_agent),
            ("stop_app", &config.service.stop_app),
            ("reboot", &config.service.reboot),
            ("logs", &config.service.logs),
        ] {
            if command.is_empty() {
                bail!("service.{key}: a command is needed");
            }
        }
        if config.updates.poll_seconds == 0 {
            bail!("updates.poll_seconds: the repository is read at least every few seconds, not 0");
        }
        Ok(config)
    }

    pub fn maintenance_window(&self) -> Option<DailyWindow> {
        self.updates.maintenance_window.as_deref().and_then(|text| DailyWindow::parse(text).ok())
    }

    pub fn gate_deadline(&self) -> Duration {
        Duration::from_secs(self.updates.gate_seconds)
    }

    pub fn agent_gate_deadline(&self) -> Duration {
        Duration::from_secs(self.updates.agent_gate_seconds)
    }
}

/// Local times between which something happens every day (software installed, an app shown),
/// the end excluded; it may wrap midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DailyWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl DailyWindow {
    pub fn parse(text: &str) -> Result<DailyWindow> {
        let (start, end) = text.split_once('-').with_context(|| format!("{text:?} is not a window as 02:00-05:00"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M").with_context(|| format!("{t:?} is not a time as 02:00"))
        };
        let window = DailyWindow { start: time(start)?, end: time(end)? };
        if window.start == window.end {
            bail!("{text:?} is empty: the window starts and ends at the same time");
        }
        Ok(window)
    }

    pub fn contains(&self, time: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_needs_only_the_repository() {
        let config = AgentConfig::parse("[updates]\nrepository = \"https://updates.example.com/kiosk\"\n").unwrap();
        assert_eq!(config.channel, Channel::Stable);
        assert_eq!(config.updates.poll_seconds, 900);
        assert_eq!(config.paths.db, Path::new("/var/lib/kiosk/kiosk.db"));
        assert_eq!(config.maintenance_window(), None);
    }

    #[test]
    fn a_bad_config_says_which_key_and_why() {
        let cases = [
            ("[updates]\nrepository = \"ftp://x\"\n", "updates.repository"),
            ("[updates]\nrepository = \"/media/usb\"\nmaintenance_window = \"2h-5h\"\n", "updates.maintenance_window"),
            ("[updates]\nrepository = \"/media/usb\"\npoll_seconds = 0\n", "updates.poll_seconds"),
            ("channel = \"beta\"\n[updates]\nrepository = \"/media/usb\"\n", "channel"),
            ("[updates]\nrepository = \"/media/usb\"\npoll = 5\n", "poll"),
            ("[paths]\ndb = \"/tmp/x.db\"\n", "updates"),
            ("[updates]\nrepository = \"/media/usb\"\n[service]\nrestart_app = []\n", "service.restart_app"),
            ("[updates]\nrepository = \"/media/usb\"\n[service]\nlogs = []\n", "service.logs"),
            ("[updates]\nrepository = \"/m\"\n[health]\nmetrics_listen = \"0.0.0.0:9464\"\n", "health.metrics_listen"),
            ("[updates]\nrepository = \"/m\"\n[health]\nfleet_url = \"fleet.example.com\"\n", "health.fleet_url"),
        ];
        for (text, key) in cases {
            let error = format!("{:#}", AgentConfig::parse(text).unwrap_err());
            assert!(error.contains(key), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_window_may_wrap_midnight() {
        let at = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").unwrap();
        let night = DailyWindow::parse("23:30-04:00").unwrap();
        assert!(night.contains(at("23:45")) && night.contains(at("01:00")) && !night.contains(at("04:00")));
        let early = DailyWindow::parse("02:00-05:00").unwrap();
        assert!(early.contains(at("02:00")) && !early.contains(at("05:30")) && !early.contains(at("01:59")));
        assert!(DailyWindow::parse("03:00-03:00").is_err());
    }
}
