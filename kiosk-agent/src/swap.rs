//! The agent's own updates. The agent cannot switch and restart itself and then judge the
//! result, so a one-shot helper does it: the running (known good) binary, started apart from
//! the agent's service as `kiosk-agent swap --to VERSION`, switches the agent's `current`,
//! restarts the agent's service and waits for the new agent to report (it writes its release
//! into the ready file once it has started and recovered). Within the deadline the release is
//! committed; otherwise the helper switches back, restarts the old agent and records why.
//!
//! A swap cut short (the helper killed, a power cut) is undone at the next agent start, as an
//! interrupted app update is: the committed agent is made current again and restarted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

use crate::catalog::Version;
use crate::effects::ServiceManager;
use crate::releases::{Releases, write_atomically};

/// Where a started agent writes its release once it runs.
pub fn ready_file(state: &Path) -> PathBuf {
    state.join("agent-ready")
}

fn helper_pid_file(state: &Path) -> PathBuf {
    state.join("swap.pid")
}

/// Says this agent runs: its release, into the ready file.
pub fn report_ready(state: &Path, release: &str) -> Result<()> {
    std::fs::create_dir_all(state)?;
    write_atomically(&ready_file(state), release.as_bytes())
}

fn reported(state: &Path) -> Option<String> {
    std::fs::read_to_string(ready_file(state)).ok()
}

/// Whether a swap helper runs now (its pid file names a live process).
pub fn helper_alive(state: &Path) -> bool {
    std::fs::read_to_string(helper_pid_file(state))
        .ok()
        .and_then(|pid| pid.trim().parse::<u32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

/// What a swap came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Swapped {
    Committed,
    RolledBack { why: String },
}

/// The helper's work: switch to `to` (unpacked and marked as tried by the agent), restart
/// the agent, wait for it to report within `deadline`, then commit or roll back.
pub async fn swap(
    releases: &Releases,
    state_dir: &Path,
    services: &dyn ServiceManager,
    to: &Version,
    deadline: Duration,
) -> Result<Swapped> {
    let mut state = releases.state()?;
    ensure!(state.trying.as_ref() == Some(to), "the agent is not trying release {to}: nothing to swap");
    std::fs::create_dir_all(state_dir)?;
    write_atomically(&helper_pid_file(state_dir), std::process::id().to_string().as_bytes())?;
    let old = state.committed.clone();
    let _ = std::fs::remove_file(ready_file(state_dir));
    let started = Instant::now();
    let tried = async {
        releases.switch(to)?;
        services.restart_agent().await?;
        while started.elapsed() < deadline {
            if reported(state_dir).as_deref() == Some(to.as_str()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("agent release {to} did not report within {} s", deadline.as_secs())
    };
    let outcome = match tried.await {
        Ok(()) => {
            state.previous = Some(old);
            state.committed = to.clone();
            Swapped::Committed
        }
        Err(error) => {
            let why = format!("{error:#}");
            releases.switch(&old).context("cannot switch back to the agent that worked")?;
            state.failed.insert(to.to_string(), why.clone());
            Swapped::RolledBack { why }
        }
    };
    state.trying = None;
    state.tries.remove(to.as_str());
    releases.save(&state)?;
    if let Swapped::RolledBack { why } = &outcome {
        log::error!("agent release {to} is rolled back: {why}");
        services.restart_agent().await?;
    } else if let Err(error) = releases.prune() {
        log::warn!("old agent releases could not be removed: {error:#}");
    }
    let _ = std::fs::remove_file(helper_pid_file(state_dir));
    Ok(outcome)
}
