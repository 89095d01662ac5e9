//! The agent's loop: one closed set of events, each handled in turn. Everything it acts on
//! comes in through [`Agent`], built by the binary's thin `main` on a device and by tests
//! with simulators.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use kiosk_engine::service::ServiceNotifier;
use kiosk_protocol::{AppHealth, Command, HeartbeatReply, LockdownStatus};

use crate::dns::Names;
use crate::health::{Fleet, HeartbeatQueue, LastPoll};
use crate::lockdown::Enforcement;
use crate::policy::Policy;
use crate::releases::{Recovery, Releases};
use crate::remote::{CommandKey, RemoteState};
use crate::updater::{PollReport, Updater};

/// Everything that makes the agent act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Time to read the update repository.
    Poll,
    /// Time to take a heartbeat: metrics refreshed, the heartbeat queued and sent.
    Heartbeat,
    /// A host name of the policy is due to be resolved again (its TTL ran out).
    Resolve,
    /// Time to tell the service manager the agent is alive.
    Watchdog,
    /// Stop (SIGTERM, or the test is over).
    Shutdown,
}

/// The agent and what it acts on.
#[derive(Debug)]
pub struct Agent {
    pub updater: Updater,
    pub notifier: ServiceNotifier,
    /// Where heartbeats go; none: they are only kept (bounded) and turned into metrics.
    pub fleet: Option<Arc<dyn Fleet>>,
    pub queue: HeartbeatQueue,
    /// The latest figures in Prometheus text format, served on loopback.
    pub metrics: Arc<Mutex<String>>,
    /// Where the policy is enforced.
    pub enforcement: Enforcement,
    last_poll: Mutex<Option<LastPoll>>,
    lockdown: Mutex<Option<LockdownStatus>>,
    /// Heartbeats in a row the app has not answered.
    app_silent: Mutex<u32>,
    /// In multi-app mode, the app shown last.
    pub(crate) screen: Mutex<Option<String>>,
    /// The policy last read and enforced.
    pub(crate) policy: Mutex<Option<Policy>>,
    /// Its host names, followed on their TTL.
    names: tokio::sync::Mutex<Names>,
    /// The fleet's command key, or why remote commands are off.
    pub(crate) command_key: Result<CommandKey, String>,
    /// What the agent keeps of remote actions, and where.
    pub(crate) remote: Mutex<RemoteState>,
    pub(crate) remote_path: PathBuf,
}

/// Heartbeats without an answer before the agent restarts the app.
const APP_SILENT_HEARTBEATS: u32 = 3;

/// How the agent's out-of-service reasons start, so that it puts back only what it took out.
const DEVICE_MISSING: &str = "a required device is missing: ";
pub(crate) const MAINTENANCE: &str = "maintenance: ";

/// Heartbeats sent in a row to acknowledge commands whose replies bring more commands.
const COMMAND_ROUNDS: usize = 3;

/// How long a poll may take beyond the health gates it waits out (downloads, installing, a
/// backup of the database) before the agent takes itself for hung.
const POLL_ALLOWANCE: Duration = Duration::from_secs(15 * 60);

impl Agent {
    pub fn new(
        updater: Updater,
        notifier: ServiceNotifier,
        fleet: Option<Arc<dyn Fleet>>,
        enforcement: Enforcement,
    ) -> Agent {
        let queue =
            HeartbeatQueue { dir: updater.config.paths.state.join("heartbeats"), max: updater.config.health.queue_max };
        let command_key = match &updater.config.health.command_key {
            Some(path) => CommandKey::load(path).map_err(|error| format!("{error:#}")),
            None => Err("no health.command_key in the agent's config".into()),
        };
        let remote_path = RemoteState::path(&updater.config.paths.state);
        let (remote, command_key) = match RemoteState::load(&remote_path) {
            Ok(remote) => (remote, command_key),
            Err(error) => (RemoteState::default(), Err(format!("{error:#}"))),
        };
        if let Err(why) = &command_key {
            log::warn!("remote commands are off: {why}");
        }
        Agent {
            updater,
            notifier,
            fleet,
            queue,
            metrics: Arc::default(),
            enforcement,
            last_poll: Mutex::default(),
            lockdown: Mutex::default(),
            app_silent: Mutex::default(),
            screen: Mutex::default(),
            policy: Mutex::default(),
            names: tokio::sync::Mutex::default(),
            command_key,
            remote: Mutex::new(remote),
            remote_path,
        }
    }

    /// Enforces the policy in force now (see [`crate::lockdown`]).
    /// The policy file is read here, once a poll (when a new one may have come), and the last
    /// one read kept for the heartbeats; one that cannot be read leaves the one in force.
    pub async fn enforce_policy(&self) -> LockdownStatus {
        let path = &self.updater.config.paths.policy;
        let status = match crate::lockdown::load(path) {
            Ok(policy) => {
                let resolved = {
                    let mut names = self.names.lock().await;
                    names.refresh(&crate::firewall::names(&policy), &policy.network.resolvers).await;
                    names.resolved()
                };
                let database = &*self.updater.database;
                let status = crate::lockdown::enforce(&policy, path, &resolved, &self.enforcement, database).await;
                *self.policy.lock().expect("policy lock") = Some(policy);
                status
            }
            Err(policy_error) => LockdownStatus { policy_error: Some(policy_error), ..LockdownStatus::default() },
        };
        *self.lockdown.lock().expect("lockdown lock") = Some(status.clone());
        status
    }

    /// Resolves the policy's host names that are due again and, when one moved, loads the
    /// allowlist with the new addresses.
    pub async fn follow_names(&self) {
        let Some(policy) = self.policy.lock().expect("policy lock").clone() else { return };
        let (moved, resolved) = {
            let mut names = self.names.lock().await;
            let moved = names.refresh(&crate::firewall::names(&policy), &policy.network.resolvers).await;
            (moved, names.resolved())
        };
        if moved {
            let loaded = crate::lockdown::allow_addresses(&policy, &resolved, &self.enforcement);
            if let Some(status) = self.lockdown.lock().expect("lockdown lock").as_mut() {
                status.firewall_error = loaded.err();
            }
        }
    }

    /// When the next host name is due to be resolved again, if any is followed.
    pub async fn next_name_refresh(&self) -> Option<tokio::time::Instant> {
        self.names.lock().await.next_refresh()
    }

    /// Puts an interrupted update back as committed: run once at start, before anything else.
    /// An agent swap cut short (no helper at work) is undone too, and this agent then stops
    /// with an error, for the service manager to start the committed agent instead.
    pub async fn recover(&self) -> Result<Recovery> {
        let recovery = self.updater.app_releases.recover()?;
        if let Recovery::Interrupted { version, given_up } = &recovery {
            let next = if *given_up { "given up" } else { "to be tried again" };
            log::warn!(
                "an update to release {version} was interrupted: back on the committed release, {version} {next}"
            );
            self.updater.service.restart_app().await?;
        }
        let config = &self.updater.config;
        let agents = Releases::at(&config.paths.agent_releases);
        if agents.dir().join("current").exists() && !crate::swap::helper_alive(&config.paths.state) {
            let before = agents.current()?;
            if let Recovery::Interrupted { version, .. } = agents.recover()? {
                let committed = agents.current()?;
                if committed != before {
                    anyhow::bail!(
                        "a swap to agent {version} was cut short: agent {committed} is current again, restart it"
                    );
                }
            }
        }
        Ok(recovery)
    }

    /// Carries out one event; `false` once the agent should stop.
    pub async fn handle(&self, event: Event) -> bool {
        match event {
            Event::Poll => {
                let report = self.updater.poll().await;
                self.notifier.status(&status_line(&report));
                // A new policy, or addresses that moved: enforced again.
                self.enforce_policy().await;
                *self.last_poll.lock().expect("last poll lock") =
                    Some(LastPoll { at: crate::health::now_rfc3339(), report });
            }
            Event::Heartbeat => self.heartbeat().await,
            Event::Resolve => self.follow_names().await,
            Event::Watchdog => self.notifier.ping(),
            Event::Shutdown => return false,
        }
        true
    }

    /// Takes a heartbeat, refreshes the metrics, and sends what waits (this one included). The
    /// fleet's commands in the replies are carried out at once and acknowledged in a heartbeat
    /// sent straight after (and so on for the commands its reply brings, a few rounds at most);
    /// a reboot asked for comes last, once its acknowledgement is queued.
    pub async fn heartbeat(&self) {
        let mut replies = self.send_heartbeat().await;
        for _ in 0..COMMAND_ROUNDS {
            let commands: Vec<serde_json::Value> = replies.into_iter().flat_map(|reply| reply.commands).collect();
            if commands.is_empty() {
                return;
            }
            let reboot = self.carry_out(commands).await;
            replies = self.send_heartbeat().await;
            if reboot {
                log::warn!("restarting the machine, as the fleet asked");
                if let Err(error) = self.updater.service.reboot().await {
                    log::error!("the machine could not be restarted: {error:#}");
                }
                return;
            }
        }
    }

    /// One heartbeat taken, queued with the acknowledgements that wait, and sent with what
    /// waits; returns the fleet's replies.
    async fn send_heartbeat(&self) -> Vec<HeartbeatReply> {
        let last_poll = self.last_poll.lock().expect("last poll lock").clone();
        let lockdown = self.lockdown.lock().expect("lockdown lock").clone();
        let remote = self.remote.lock().expect("remote lock").clone();
        let site = self.updater.config.site.as_deref();
        let heartbeat = crate::health::collect(&self.updater, site, last_poll.as_ref(), lockdown, &remote).await;
        self.watch_app(&heartbeat.app, remote.maintenance.as_deref()).await;
        self.arrange_screen().await;
        match self.queue.push(&heartbeat) {
            Ok(()) if !heartbeat.acks.is_empty() => {
                self.update_remote(|state| state.pending.retain(|ack| !heartbeat.acks.contains(ack)));
            }
            Ok(()) => {}
            Err(error) => log::error!("the heartbeat could not be queued: {error:#}"),
        }
        *self.metrics.lock().expect("metrics lock") = crate::health::metrics(&heartbeat, self.queue.len());
        let Some(fleet) = &self.fleet else { return Vec::new() };
        match self.queue.flush(&**fleet).await {
            Ok(replies) => replies,
            Err(error) => {
                log::warn!("heartbeats wait for the fleet ({} queued): {error:#}", self.queue.len());
                Vec::new()
            }
        }
    }

    /// Changes what the agent keeps of remote actions, on disk at once.
    pub(crate) fn update_remote(&self, change: impl FnOnce(&mut RemoteState)) {
        let mut remote = self.remote.lock().expect("remote lock");
        change(&mut remote);
        if let Err(error) = remote.save(&self.remote_path) {
            log::error!("what was done of the fleet's commands could not be kept: {error:#}");
        }
    }

    /// Keeps the app serving as it should, from what a heartbeat saw of it: an app that has not
    /// answered for three heartbeats in a row is restarted; one in maintenance (the fleet's
    /// command), or whose receipt printer or terminal is missing, is taken out of service
    /// (after the payment under way), and put back once that is over.
    async fn watch_app(&self, app: &AppHealth, maintenance: Option<&str>) {
        let silent = {
            let mut silent = self.app_silent.lock().expect("app silence lock");
            *silent = if app.reachable { 0 } else { *silent + 1 };
            *silent
        };
        if silent >= APP_SILENT_HEARTBEATS {
            log::error!("the app has not answered for {silent} heartbeats: restarting it");
            if let Err(error) = self.updater.service.restart_app().await {
                log::error!("the app could not be restarted: {error:#}");
            }
            *self.app_silent.lock().expect("app silence lock") = 0;
            return;
        }
        let Some(state) = &app.state else { return };
        let missing: Vec<String> = app
            .self_check
            .iter()
            .flat_map(|check| {
                [("receipt printer", &check.receipt_printer), ("payment terminal", &check.terminal)]
                    .into_iter()
                    .filter(|(_, device)| !device.ok)
                    .map(|(name, device)| format!("{name}: {}", device.detail))
            })
            .collect();
        let wanted = match maintenance {
            Some(why) => Some(format!("{MAINTENANCE}{why}")),
            None if !missing.is_empty() => Some(format!("{DEVICE_MISSING}{}", missing.join("; "))),
            None => None,
        };
        let current = state.out_of_service.as_deref();
        let ours = current.is_some_and(|reason| reason.starts_with(DEVICE_MISSING) || reason.starts_with(MAINTENANCE));
        let command = match wanted {
            Some(reason) if current.is_none() || (ours && current != Some(reason.as_str())) => {
                log::warn!("taking the kiosk out of service: {reason}");
                Command::OutOfService { reason }
            }
            None if ours => {
                log::info!("nothing keeps the kiosk out of service now: back in service");
                Command::BackInService
            }
            _ => return,
        };
        if let Err(error) = self.updater.app.ask(command).await {
            log::error!("the app did not take the command: {error:#}");
        }
    }

    /// In multi-app mode, shows the app the fleet commanded, or else the one the policy's
    /// schedule names now, the others stopped.
    pub(crate) async fn arrange_screen(&self) {
        let Some(policy) = self.policy.lock().expect("policy lock").clone() else { return };
        let Some(scheduled) = policy.screen_owner(self.updater.clock.now().time()) else { return };
        let commanded = self.remote.lock().expect("remote lock").screen.clone();
        let owner = commanded.as_deref().filter(|app| policy.kiosk.apps.iter().any(|listed| listed == app));
        let owner = owner.unwrap_or(scheduled);
        if self.screen.lock().expect("screen lock").as_deref() == Some(owner) {
            return;
        }
        let others: Vec<String> = policy.kiosk.apps.iter().filter(|app| *app != owner).cloned().collect();
        match self.updater.service.show_app(owner, &others).await {
            Ok(()) => {
                log::info!("{owner} owns the screen now");
                *self.screen.lock().expect("screen lock") = Some(owner.to_owned());
            }
            Err(error) => log::error!("{owner} could not be shown: {error:#}"),
        }
    }

    /// A poll, pinging the watchdog meanwhile: a poll rightly takes longer than the watchdog's
    /// limit when it waits out health gates (a new release's, then the one rolled back to) or
    /// downloads on a slow line. A poll still running after the longest it may take is taken
    /// for hung: the pings stop, and systemd restarts the agent, which finishes or undoes what
    /// it was doing. The other events are short and ping nothing while they run.
    async fn poll_pinging(&self, watchdog: &mut tokio::time::Interval) -> bool {
        let longest = 2 * self.updater.config.gate_deadline() + POLL_ALLOWANCE;
        let hung = tokio::time::sleep(longest);
        let handled = self.handle(Event::Poll);
        tokio::pin!(hung, handled);
        let mut pinging = true;
        loop {
            tokio::select! {
                keep_going = &mut handled => return keep_going,
                _ = watchdog.tick(), if pinging => self.notifier.ping(),
                () = &mut hung, if pinging => {
                    log::error!("a poll has run for {longest:?}: the watchdog is no longer pinged");
                    pinging = false;
                }
            }
        }
    }

    /// How long until the next poll: the configured interval and up to the jitter more.
    fn next_poll(&self) -> Duration {
        let updates = &self.updater.config.updates;
        Duration::from_secs(updates.poll_seconds)
            + Duration::from_millis(fastrand::u64(0..=updates.jitter_seconds * 1000))
    }
}

/// Runs the agent until `shutdown` completes: recovers, serves metrics, says it is ready,
/// polls at once and then every interval, takes heartbeats, and pings the watchdog.
pub async fn run(agent: Agent, shutdown: impl Future<Output = ()>) -> Result<()> {
    agent.recover().await?;
    if let Some(address) = agent.updater.config.health.metrics_listen {
        match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => {
                tokio::spawn(crate::health::serve_metrics(listener, agent.metrics.clone()));
            }
            Err(error) => log::error!("metrics cannot be served on {address}: {error}"),
        }
    }
    let lockdown = agent.enforce_policy().await;
    if let Some(error) = &lockdown.policy_error {
        log::warn!("lockdown: {error}");
    }
    let kiosk_user = &agent.updater.config.service.kiosk_user;
    for route in crate::escape::check(std::path::Path::new("/"), kiosk_user).iter().filter(|route| route.open) {
        log::warn!("escape route open: {} ({})", route.name, route.detail);
    }
    let release = kiosk_engine::service::release_name(env!("CARGO_PKG_VERSION"));
    crate::swap::report_ready(&agent.updater.config.paths.state, &release)?;
    agent.notifier.ready("watching for updates");
    let watchdog_every = agent.notifier.watchdog_interval().unwrap_or(Duration::from_secs(3600));
    let mut watchdog = tokio::time::interval(watchdog_every);
    let mut heartbeat = tokio::time::interval(Duration::from_secs(agent.updater.config.health.heartbeat_seconds));
    let poll = tokio::time::sleep(Duration::ZERO);
    let resolve = tokio::time::sleep(crate::dns::LONGEST_REFRESH);
    tokio::pin!(shutdown, poll, resolve);
    loop {
        // In this order when several are due: the first poll comes before the first heartbeat.
        let event = tokio::select! {
            biased;
            () = &mut shutdown => Event::Shutdown,
            () = &mut poll => Event::Poll,
            _ = heartbeat.tick() => Event::Heartbeat,
            _ = watchdog.tick() => Event::Watchdog,
            () = &mut resolve => Event::Resolve,
        };
        if event == Event::Poll {
            poll.as_mut().reset(tokio::time::Instant::now() + agent.next_poll());
        }
        let keep_going = match event {
            Event::Poll => agent.poll_pinging(&mut watchdog).await,
            _ => agent.handle(event).await,
        };
        if !keep_going {
            return Ok(());
        }
        let next_resolve = agent.next_name_refresh().await;
        resolve
            .as_mut()
            .reset(next_resolve.unwrap_or_else(|| tokio::time::Instant::now() + crate::dns::LONGEST_REFRESH));
    }
}

fn status_line(report: &PollReport) -> String {
    match &report.repository_error {
        Some(error) => format!("updates: {error}"),
        None if report.outcomes.is_empty() => "updates: nothing offered".into(),
        None => {
            let parts: Vec<String> =
                report.outcomes.iter().map(|(kind, outcome)| format!("{kind} {}", outcome.name())).collect();
            format!("updates: {}", parts.join(", "))
        }
    }
}
