//! The agent updates itself with the real binaries: an agent release is unpacked beside the
//! running agent and handed to the swap helper (the running binary, apart from the agent's
//! service), which switches, restarts the agent and commits the release once the new agent
//! reports; a release that never reports is rolled back by the helper, and the agent that
//! worked runs again. A shell script stands in for `systemctl restart kiosk-agent`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Device, Repo, agent_binary, app_release, crashing_binary, v};
use kiosk_agent::archive::Entry;
use kiosk_agent::catalog::Kind;
use kiosk_agent::releases::Releases;

fn agent_release(scratch: &Path, version: &str, binary: &Path) -> Vec<Entry> {
    let release = scratch.join(format!("AGENT-RELEASE-{version}"));
    std::fs::write(&release, format!("{version}\n")).unwrap();
    vec![
        Entry { source: binary.to_owned(), inside: "bin/kiosk-agent".into(), executable: true },
        Entry { source: release, inside: "RELEASE".into(), executable: false },
    ]
}

/// Waits until `done` holds, for up to a minute; then fails with the agents' log.
async fn wait_for(dir: &Path, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > Duration::from_secs(60) {
            let log = std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default();
            panic!("waited a minute for {what}; the agents said:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn running_agent(dir: &Path) -> Option<std::path::PathBuf> {
    let pid = std::fs::read_to_string(dir.join("agent.pid")).ok()?;
    std::fs::read_link(format!("/proc/{}/exe", pid.trim())).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_swaps_itself_and_a_release_that_never_reports_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let repo = Repo::create(dir.path()).await;
    let device = Device::new(dir.path());
    let app = scratch.join("kiosk-app");
    std::fs::write(&app, "#!/bin/sh\n").unwrap();
    device.install_as_image("1.0.0", &app_release(&scratch, "1.0.0", &app));
    let agents = Releases::at(&device.dir.join("agent-releases"));
    std::fs::create_dir_all(agents.dir()).unwrap();
    let first = agent_release(&scratch, "1.0.0", &agent_binary());
    agents.install(&v("1.0.0"), &kiosk_agent::archive::tar(&first).unwrap()).unwrap();
    agents.switch(&v("1.0.0")).unwrap();
    repo.add(Kind::Agent, "1.0.0", &first).await;
    repo.add(Kind::Agent, "1.1.0", &agent_release(&scratch, "1.1.0", &agent_binary())).await;

    let restart = dir.path().join("restart-agent.sh");
    std::fs::write(
        &restart,
        "#!/bin/sh\n# Stands in for `systemctl restart kiosk-agent`.\ndir=\"$1\"\n\
         if [ -f \"$dir/agent.pid\" ]; then kill \"$(cat \"$dir/agent.pid\")\" 2>/dev/null; fi\n\
         \"$dir/device/agent-releases/current/bin/kiosk-agent\" --dev --config \"$dir/agent.toml\" \
         >>\"$dir/agent.log\" 2>&1 </dev/null &\necho $! > \"$dir/agent.pid\"\n",
    )
    .unwrap();
    let restart_command = format!("[\"sh\", \"{}\", \"{}\"]", restart.display(), dir.path().display());
    let config = device.config_text(&repo.dir.display().to_string(), &repo.root_of_trust(), 5)
        + &format!("\n[service]\nrestart_app = [\"true\"]\nrestart_agent = {restart_command}\nstart_helper = []\n")
        + "\n[health]\nmetrics_listen = \"127.0.0.1:0\"\n";
    std::fs::write(dir.path().join("agent.toml"), config).unwrap();
    let status = std::process::Command::new("sh").arg(&restart).arg(dir.path()).status().unwrap();
    assert!(status.success());

    let ready = device.dir.join("agent/agent-ready");
    wait_for(dir.path(), "agent 1.1.0 committed and reporting", || {
        agents.state().is_ok_and(|state| state.committed == v("1.1.0") && state.trying.is_none())
            && std::fs::read_to_string(&ready).is_ok_and(|release| release == "1.1.0")
    })
    .await;
    assert_eq!(agents.current().unwrap(), v("1.1.0"));
    let running = running_agent(dir.path()).expect("an agent runs");
    assert!(running.ends_with("agent-releases/1.1.0/bin/kiosk-agent"), "{}", running.display());
    assert_eq!(agents.state().unwrap().previous, Some(v("1.0.0")), "the old agent is kept as fallback");

    // Agent 1.2.0 cannot start: the helper waits for it, rolls it back and restarts 1.1.0.
    repo.add(Kind::Agent, "1.2.0", &agent_release(&scratch, "1.2.0", &crashing_binary(&scratch))).await;
    wait_for(dir.path(), "agent 1.2.0 rolled back", || {
        agents.state().is_ok_and(|state| state.failed.contains_key("1.2.0") && state.trying.is_none())
    })
    .await;
    let state = agents.state().unwrap();
    assert_eq!(state.committed, v("1.1.0"));
    assert!(state.failed["1.2.0"].contains("did not report within 5 s"), "{:?}", state.failed);
    assert_eq!(agents.current().unwrap(), v("1.1.0"));
    wait_for(dir.path(), "agent 1.1.0 reporting again", || std::fs::read_to_string(&ready).is_ok_and(|r| r == "1.1.0"))
        .await;
    assert!(running_agent(dir.path()).is_some_and(|exe| exe.ends_with("agent-releases/1.1.0/bin/kiosk-agent")));
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill $(cat {}/agent.pid)", dir.path().display()))
        .status();
}
