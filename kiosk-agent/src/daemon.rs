//! The agent's loop: one closed set of events, each handled in turn. Everything it acts on
//! comes in through [`Agent`], built by the binary's thin `main` on a device and by tests
//! with simulators.

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use kiosk_engine::service::ServiceNotifier;

use crate::releases::Recovery;
use crate::updater::{PollReport, Updater};

/// Everything that makes the agent act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Time to read the update repository.
    Poll,
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
}

impl Agent {
    /// Puts an interrupted update back as committed: run once at start, before anything else.
    pub async fn recover(&self) -> Result<Recovery> {
        let recovery = self.updater.app_releases.recover()?;
        if let Recovery::Interrupted { version, given_up } = &recovery {
            let next = if *given_up { "given up" } else { "to be tried again" };
            log::warn!(
                "an update to release {version} was interrupted: back on the committed release, {version} {next}"
            );
            self.updater.service.restart_app().await?;
        }
        Ok(recovery)
    }

    /// Carries out one event; `false` once the agent should stop.
    pub async fn handle(&self, event: Event) -> bool {
        match event {
            Event::Poll => {
                let report = self.updater.poll().await;
                self.notifier.status(&status_line(&report));
            }
            Event::Watchdog => self.notifier.ping(),
            Event::Shutdown => return false,
        }
        true
    }

    /// How long until the next poll: the configured interval and up to the jitter more.
    fn next_poll(&self) -> Duration {
        let updates = &self.updater.config.updates;
        Duration::from_secs(updates.poll_seconds)
            + Duration::from_millis(fastrand::u64(0..=updates.jitter_seconds * 1000))
    }
}

/// Runs the agent until `shutdown` completes: recovers, says it is ready, polls at once and
/// then every interval, and pings the watchdog.
pub async fn run(agent: Agent, shutdown: impl Future<Output = ()>) -> Result<()> {
    agent.recover().await?;
    agent.notifier.ready("watching for updates");
    let watchdog_every = agent.notifier.watchdog_interval().unwrap_or(Duration::from_secs(3600));
    let mut watchdog = tokio::time::interval(watchdog_every);
    let poll = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(shutdown, poll);
    loop {
        let event = tokio::select! {
            () = &mut shutdown => Event::Shutdown,
            () = &mut poll => Event::Poll,
            _ = watchdog.tick() => Event::Watchdog,
        };
        if event == Event::Poll {
            poll.as_mut().reset(tokio::time::Instant::now() + agent.next_poll());
        }
        if !agent.handle(event).await {
            return Ok(());
        }
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
