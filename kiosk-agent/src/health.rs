//! The kiosk's health: collected from the machine (/proc, /sys), the app (its socket), the
//! database (`kioskctl status`, as its owner) and the updater; sent to the fleet as a
//! heartbeat, queued on disk while the fleet cannot be reached; and the same figures in
//! Prometheus text format for a scraper on loopback.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use kiosk_protocol::{
    AppHealth, Heartbeat, HeartbeatReply, LockdownStatus, Message, OfferStatus, StateSummary, System, UpdateStatus,
    Versions,
};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use sha2::Digest as _;

use kiosk_engine::devices::WebClient;

use crate::effects::AppLink;
use crate::releases::write_atomically;
use crate::updater::{Outcome, PollReport, Updater};

/// The last poll, as the heartbeat reports it.
#[derive(Clone, Debug)]
pub struct LastPoll {
    pub at: String,
    pub report: PollReport,
}

/// Gathers a heartbeat now.
pub async fn collect(
    updater: &Updater,
    site: Option<&str>,
    last_poll: Option<&LastPoll>,
    lockdown: Option<LockdownStatus>,
    remote: &crate::remote::RemoteState,
) -> Heartbeat {
    let paths = &updater.config.paths;
    let data_dir = paths.db.parent().unwrap_or(Path::new("/"));
    let releases = updater.app_releases.state();
    let installed = updater.installed().unwrap_or_default();
    let (day, day_error) = match updater.database.day_status().await {
        Ok(day) => (Some(day), None),
        Err(error) => (None, Some(format!("{error:#}"))),
    };
    Heartbeat {
        device_id: updater.device_id.clone(),
        site: site.map(str::to_owned),
        taken_at: now_rfc3339(),
        versions: Versions {
            app: releases.as_ref().map_or_else(|e| format!("unknown: {e:#}"), |state| state.committed.to_string()),
            agent: kiosk_engine::service::release_name(env!("CARGO_PKG_VERSION")),
            menu: installed.menu.map(|v| v.to_string()),
            policy: installed.policy.map(|v| v.to_string()),
            os: operating_system(),
        },
        system: system(data_dir),
        app: app_health(&*updater.app).await,
        day,
        day_error,
        update: UpdateStatus {
            last_poll_at: last_poll.map(|poll| poll.at.clone()),
            offers: last_poll.map(|poll| offer_statuses(&poll.report)).unwrap_or_default(),
            last_error: last_poll.and_then(|poll| poll.report.repository_error.clone()),
            failed_releases: releases.map(|state| state.failed.into_iter().collect()).unwrap_or_default(),
        },
        escape_routes: crate::escape::check(Path::new("/"), &updater.config.service.kiosk_user),
        lockdown,
        acks: remote.pending.clone(),
        maintenance: remote.maintenance.clone(),
    }
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn offer_statuses(report: &PollReport) -> Vec<OfferStatus> {
    report
        .outcomes
        .iter()
        .map(|(kind, outcome)| {
            let (version, detail) = match outcome {
                Outcome::UpToDate { version } => (version, None),
                Outcome::Installed { version, downloaded } | Outcome::Handed { version, downloaded } => {
                    (version, Some(format!("{downloaded} bytes downloaded")))
                }
                Outcome::Waiting { version, why }
                | Outcome::RolledBack { version, why }
                | Outcome::FailedBefore { version, why }
                | Outcome::Refused { version, why } => (version, Some(why.clone())),
            };
            OfferStatus { kind: kind.to_string(), version: version.to_string(), outcome: outcome.name().into(), detail }
        })
        .collect()
}

async fn app_health(app: &dyn AppLink) -> AppHealth {
    use kiosk_protocol::{Answer, Command};
    let state: Result<StateSummary> = match app.ask(Command::State).await {
        Ok(Answer::State(summary)) => Ok(summary),
        Ok(other) => Err(anyhow::anyhow!("the app answered {other:?}")),
        Err(error) => Err(error),
    };
    let state = match state {
        Ok(state) => state,
        Err(error) => {
            return AppHealth { reachable: false, state: None, self_check: None, error: Some(format!("{error:#}")) };
        }
    };
    let self_check = match app.ask(Command::SelfCheck).await {
        Ok(Answer::SelfCheck(report)) => Some(report),
        _ => None,
    };
    AppHealth { reachable: true, state: Some(state), self_check, error: None }
}

/// The machine's figures; what cannot be read stays at zero (or absent, the temperature).
pub fn system(data_dir: &Path) -> System {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let first_number = |text: &str| text.split_whitespace().next().unwrap_or("0").to_owned();
    let uptime_seconds = first_number(&read("/proc/uptime")).split('.').next().unwrap_or("0").parse().unwrap_or(0);
    let load = first_number(&read("/proc/loadavg"));
    let (whole, fraction) = load.split_once('.').unwrap_or((&load, "0"));
    let hundredths = format!("{fraction:0<2}")[..2].parse::<u32>().unwrap_or(0);
    let meminfo = read("/proc/meminfo");
    let memory = |key: &str| {
        meminfo
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    let (disk_total_bytes, disk_free_bytes) = rustix::fs::statvfs(data_dir)
        .map(|fs| (fs.f_blocks * fs.f_frsize, fs.f_bavail * fs.f_frsize))
        .unwrap_or((0, 0));
    System {
        uptime_seconds,
        load_hundredths: whole.parse::<u32>().unwrap_or(0) * 100 + hundredths,
        cpus: std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX)),
        memory_total_kib: memory("MemTotal:"),
        memory_available_kib: memory("MemAvailable:"),
        disk_total_bytes,
        disk_free_bytes,
        temperature_millicelsius: warmest_zone(Path::new("/sys/class/thermal")),
    }
}

fn warmest_zone(thermal: &Path) -> Option<i64> {
    std::fs::read_dir(thermal)
        .ok()?
        .filter_map(|zone| std::fs::read_to_string(zone.ok()?.path().join("temp")).ok()?.trim().parse::<i64>().ok())
        .max()
}

fn operating_system() -> String {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let name = release
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map_or("Linux", |name| name.trim_matches('"'))
        .to_owned();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{name}, kernel {}", kernel.trim())
}

/// The fleet endpoint heartbeats go to.
#[async_trait]
pub trait Fleet: Send + Sync + std::fmt::Debug {
    /// Sends one heartbeat (a JSON message) and returns the fleet's reply.
    async fn send(&self, heartbeat: &[u8]) -> Result<HeartbeatReply>;
    /// Uploads a file a remote command asked for; returns once the fleet confirms it holds
    /// exactly these bytes.
    async fn upload(&self, device_id: &str, seq: u64, name: &str, bytes: &[u8]) -> Result<()>;
}

/// What the fleet answers an upload with: the SHA-256 of what it stored, in hex.
#[derive(Debug, serde::Deserialize)]
struct UploadReceipt {
    sha256: String,
}

/// The fleet over HTTPS (HTTP on loopback for tests): a POST of the JSON message.
#[derive(Clone, Debug)]
pub struct HttpFleet {
    /// Held to the web allowlist.
    pub client: WebClient,
    pub url: url::Url,
}

#[async_trait]
impl Fleet for HttpFleet {
    async fn send(&self, heartbeat: &[u8]) -> Result<HeartbeatReply> {
        let response = self
            .client
            .request(reqwest::Method::POST, self.url.as_str())?
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(heartbeat.to_vec())
            .send()
            .await
            .with_context(|| format!("the fleet at {} cannot be reached", self.url))?;
        let status = response.status();
        if !status.is_success() {
            bail!("the fleet at {} answered {status}", self.url);
        }
        let body = response.bytes().await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(HeartbeatReply::default());
        }
        let reply: Message<HeartbeatReply> =
            serde_json::from_slice(&body).context("the fleet's reply is not a heartbeat reply")?;
        Ok(reply.body)
    }

    /// POSTs the bytes to `uploads/DEVICE/SEQ/NAME` beside the heartbeat endpoint.
    async fn upload(&self, device_id: &str, seq: u64, name: &str, bytes: &[u8]) -> Result<()> {
        let mut url = self.url.clone();
        url.path_segments_mut().map_err(|()| anyhow::anyhow!("{} cannot take a path", self.url))?.pop().extend([
            "uploads",
            device_id,
            &seq.to_string(),
            name,
        ]);
        let response = self
            .client
            .request(reqwest::Method::POST, url.as_str())?
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await
            .with_context(|| format!("the fleet at {url} cannot be reached"))?;
        let status = response.status();
        if !status.is_success() {
            bail!("the fleet answered {status} to the upload of {name}");
        }
        let receipt: UploadReceipt = serde_json::from_slice(&response.bytes().await?)
            .with_context(|| format!("the fleet did not say it holds {name}"))?;
        let sent = hex::encode(sha2::Sha256::digest(bytes));
        if !receipt.sha256.eq_ignore_ascii_case(&sent) {
            bail!("the fleet holds another {name} than the one sent (SHA-256 {} for {sent})", receipt.sha256);
        }
        Ok(())
    }
}

/// Heartbeats not yet sent, one file each, oldest first; the oldest are dropped beyond `max`
/// so that a kiosk offline for weeks does not fill its disk.
#[derive(Clone, Debug)]
pub struct HeartbeatQueue {
    pub dir: PathBuf,
    pub max: usize,
}

impl HeartbeatQueue {
    fn files(&self) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(&self.dir)?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        Ok(files)
    }

    pub fn len(&self) -> usize {
        self.files().map_or(0, |files| files.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push(&self, heartbeat: &Heartbeat) -> Result<()> {
        let files = self.files()?;
        let next =
            files.last().and_then(|last| last.file_stem()?.to_str()?.parse::<u64>().ok()).map_or(1, |last| last + 1);
        let bytes = Message::new(heartbeat.clone()).to_json();
        write_atomically(&self.dir.join(format!("{next:020}.json")), bytes.as_bytes())?;
        let mut files = self.files()?;
        while files.len() > self.max {
            std::fs::remove_file(files.remove(0))?;
        }
        Ok(())
    }

    /// Sends what waits, oldest first, until the fleet fails; returns the replies.
    pub async fn flush(&self, fleet: &dyn Fleet) -> Result<Vec<HeartbeatReply>> {
        let mut replies = Vec::new();
        for file in self.files()? {
            let bytes = std::fs::read(&file)?;
            replies.push(fleet.send(&bytes).await?);
            std::fs::remove_file(&file)?;
        }
        Ok(replies)
    }
}

/// The heartbeat's figures in Prometheus text format.
pub fn metrics(heartbeat: &Heartbeat, queued: usize) -> String {
    let mut registry = Registry::with_prefix("kiosk");
    let mut gauge = |name: &str, help: &str, value: i64| {
        let metric = Gauge::<i64>::default();
        metric.set(value);
        registry.register(name, help, metric);
    };
    let bytes = |kib: u64| i64::try_from(kib.saturating_mul(1024)).unwrap_or(i64::MAX);
    let number = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let flag = |on: bool| i64::from(on);
    let system = &heartbeat.system;
    gauge("uptime_seconds", "Seconds since the machine started", number(system.uptime_seconds));
    gauge("load1_hundredths", "One-minute load average, in hundredths", i64::from(system.load_hundredths));
    gauge("memory_total_bytes", "Memory of the machine", bytes(system.memory_total_kib));
    gauge("memory_available_bytes", "Memory available to programs", bytes(system.memory_available_kib));
    gauge("disk_total_bytes", "Size of the data partition", number(system.disk_total_bytes));
    gauge("disk_free_bytes", "Free space on the data partition", number(system.disk_free_bytes));
    if let Some(temperature) = system.temperature_millicelsius {
        gauge("temperature_millicelsius", "The warmest thermal zone", temperature);
    }
    let app = &heartbeat.app;
    let check = |pick: fn(&kiosk_protocol::SelfCheckReport) -> bool| flag(app.self_check.as_ref().is_some_and(pick));
    gauge("app_reachable", "The app answers on its socket", flag(app.reachable));
    gauge("app_self_check_ok", "The app prices a test order and reaches its devices", check(|c| c.passed()));
    gauge("printer_ok", "The receipt printer takes jobs", check(|c| c.receipt_printer.ok));
    gauge("terminal_ok", "The payment terminal answers", check(|c| c.terminal.ok));
    if let Some(day) = &heartbeat.day {
        gauge("orders_paid_today", "Real orders paid today", i64::from(day.paid_orders));
        gauge("revenue_today_minor", "What today's paid orders came to, in minor units", day.revenue.to_minor());
        if let Some(last) = day.last_order_at.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
            gauge("last_order_timestamp_seconds", "When the last paid order was placed", last.timestamp());
        }
        let sequence = day.journal_last.as_ref().map_or(0, |last| number(last.seq));
        gauge("journal_last_sequence", "The fiscal journal's last entry", sequence);
    }
    let update = &heartbeat.update;
    gauge(
        "update_repository_ok",
        "The update repository was read and trusted at the last poll",
        flag(update.last_error.is_none()),
    );
    gauge(
        "update_failed_releases",
        "Releases that failed their health gate",
        number(update.failed_releases.len() as u64),
    );
    gauge("heartbeats_queued", "Heartbeats waiting for the fleet", number(queued as u64));
    let open = heartbeat.escape_routes.iter().filter(|route| route.open).count();
    gauge("escape_routes_open", "Ways out of the kiosk app found open", number(open as u64));
    let versions = &heartbeat.versions;
    let info = Family::<Vec<(String, String)>, Gauge>::default();
    let labels = vec![
        ("app".to_owned(), versions.app.clone()),
        ("agent".to_owned(), versions.agent.clone()),
        ("menu".to_owned(), versions.menu.clone().unwrap_or_default()),
        ("policy".to_owned(), versions.policy.clone().unwrap_or_default()),
    ];
    info.get_or_create(&labels).set(1);
    registry.register("release_info", "What runs on the kiosk", info);
    let mut text = String::new();
    encode(&mut text, &registry).expect("writing to a String does not fail");
    text
}

/// Serves `metrics` (the latest text) to GET requests on `listener`, a loopback address.
pub async fn serve_metrics(listener: tokio::net::TcpListener, metrics: std::sync::Arc<std::sync::Mutex<String>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    while let Ok((mut stream, _)) = listener.accept().await {
        let text = metrics.lock().expect("metrics lock").clone();
        tokio::spawn(async move {
            let mut head = [0; 1024];
            let read = stream.read(&mut head).await.unwrap_or(0);
            let found = head[..read].starts_with(b"GET /metrics ");
            let (status, body) = if found { ("200 OK", text) } else { ("404 Not Found", "GET /metrics\n".to_owned()) };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}
