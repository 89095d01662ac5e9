//! Update figures, printed: publishing an app release until it is committed (served over HTTP
//! on loopback, the real app restarted headless and gated), a failed gate until the old
//! release serves again, the agent's memory while idle, and the bytes a delta saves.
//!
//! Usage: `cargo build --release --workspace --bins && target/release/update-bench [OLD NEW]`.
//! OLD and NEW: two kiosk-app builds differing by a small code change, for the delta figure of
//! a real change (`scripts/delta-figure.sh` makes them and runs this).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use kiosk_agent::archive;
use kiosk_agent::catalog::{Kind, Version};
use kiosk_agent::config::AgentConfig;
use kiosk_agent::effects::{AppLink, AppSocket, CommandServices, Kioskctl};
use kiosk_agent::releases::Releases;
use kiosk_agent::source::{Fetcher, Location, Source};
use kiosk_agent::updater::{Outcome, Updater};
use kiosk_protocol::{Answer, Command};
use kiosk_tests::http_server::StaticServer;
use kiosk_tests::updates::{Repo, agent_config, app_release};

const GATE_SECONDS: u64 = 10;

fn version(text: &str) -> Version {
    Version::parse(text).expect("a version")
}

fn strip(binary: &Path, to: &Path) -> Result<()> {
    let status = std::process::Command::new("strip").arg("-o").arg(to).arg(binary).status()?;
    ensure!(status.success(), "strip failed on {}", binary.display());
    Ok(())
}

async fn answering(app: &AppSocket) -> Option<String> {
    match app.ask(Command::State).await {
        Ok(Answer::State(summary)) => Some(summary.release),
        _ => None,
    }
}

fn pss_kib(pid: u32) -> Result<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    rollup
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no Pss line")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let beside = |name: &str| -> Result<PathBuf> {
        let path = std::env::current_exe()?.with_file_name(name);
        ensure!(path.is_file(), "{} is missing: cargo build --release --workspace --bins", path.display());
        Ok(path)
    };
    let (app_binary, agent_binary, kioskctl) = (beside("kiosk-app")?, beside("kiosk-agent")?, beside("kioskctl")?);
    let root = tempfile::tempdir()?;
    let root = root.path();
    let scratch = root.join("scratch");
    std::fs::create_dir_all(&scratch)?;
    let app = scratch.join("kiosk-app");
    strip(&app_binary, &app)?;

    // The repository, served over HTTP on loopback.
    let repo = Repo::create(root).await;
    let server = StaticServer::start(repo.dir.clone()).await;

    // The device: release 1.0.0 committed and running headless on simulated devices.
    let device = root.join("device");
    let releases = Releases::at(&device.join("releases"));
    std::fs::create_dir_all(releases.dir())?;
    let first = app_release(&scratch, "1.0.0", &app);
    repo.add(Kind::App, "1.0.0", &first).await;
    releases.install(&version("1.0.0"), &archive::tar(&first)?)?;
    releases.switch(&version("1.0.0"))?;
    let menu = std::env::current_exe()?
        .ancestors()
        .find_map(|dir| Some(dir.join("menus/brasserie/menu.toml")).filter(|menu| menu.is_file()))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/brasserie/menu.toml"));
    let restart = root.join("restart-app.sh");
    std::fs::write(
        &restart,
        format!(
            "#!/bin/sh\nd=\"{d}\"\nif [ -f \"$d/app.pid\" ]; then kill \"$(cat \"$d/app.pid\")\" 2>/dev/null; fi\n\
             \"$d/releases/current/bin/kiosk-app\" --headless --dev --db \"$d/kiosk.db\" --config \"$d/kiosk.toml\" \
             --socket \"$d/app.sock\" --menu \"{menu}\" >/dev/null 2>&1 </dev/null &\necho $! > \"$d/app.pid\"\n",
            d = device.display(),
            menu = menu.display()
        ),
    )?;
    let config_text = agent_config(&device, &server.url, &repo.root_of_trust(), &kioskctl, 3600, GATE_SECONDS)
        + &format!(
            "\n[service]\nrestart_app = [\"sh\", \"{}\"]\nrestart_agent = [\"true\"]\nstart_helper = []\n\n\
             [health]\nmetrics_listen = \"127.0.0.1:0\"\n",
            restart.display()
        );
    let config_path = root.join("agent.toml");
    std::fs::write(&config_path, &config_text)?;
    let config = AgentConfig::parse(&config_text)?;
    let socket = AppSocket { path: device.join("app.sock"), patience: Duration::from_secs(10) };
    let services = Arc::new(CommandServices {
        commands: config.service.clone(),
        agent_config: config_path.clone(),
        agent_flags: vec!["--dev".into()],
    });
    services_restart(&restart)?;
    wait_for_release(&socket, "1.0.0", Duration::from_secs(30)).await?;
    let updater = Updater {
        device_id: "bench-01".into(),
        source: Source {
            location: Location::parse(&server.url)?,
            trusted_root: repo.root_of_trust(),
            datastore: device.join("agent/tuf"),
            fetcher: Fetcher::new(&device.join("agent/downloads"))?,
        },
        app_releases: releases.clone(),
        service: services,
        app: Arc::new(socket.clone()),
        database: Arc::new(Kioskctl {
            program: kioskctl.clone(),
            db: device.join("kiosk.db"),
            device_config: device.join("kiosk.toml"),
            development: true,
        }),
        clock: Arc::new(kiosk_engine::SystemClock),
        config,
    };

    // 1. Publishing to committed.
    let started = Instant::now();
    repo.add(Kind::App, "1.1.0", &app_release(&scratch, "1.1.0", &app)).await;
    let published = started.elapsed();
    let report = updater.poll().await;
    let Some(Outcome::Installed { downloaded, .. }) = report.outcomes.get(&Kind::App) else {
        bail!("release 1.1.0 was not installed: {report:?}");
    };
    let committed = started.elapsed();
    let full = repo.target_length("app-1.1.0.tar.zst");
    println!("publish to committed (HTTP on loopback, real app restarted and gated, poll interval excluded):");
    println!(
        "  {:.2} s = publish {:.2} s (compress, delta, sign) + poll {:.2} s (download, unpack, backup, switch, restart, gate)",
        committed.as_secs_f64(),
        published.as_secs_f64(),
        (committed - published).as_secs_f64()
    );
    println!(
        "  downloaded {downloaded} bytes (a delta) for a {full}-byte archive: {:.4} of it (release name only changed)",
        ratio(*downloaded, full)
    );

    // 2. A failed gate until the old release serves again.
    let crashing = scratch.join("crashing");
    std::fs::write(&crashing, "#!/bin/sh\nexit 3\n")?;
    repo.add(Kind::App, "1.2.0", &app_release(&scratch, "1.2.0", &crashing)).await;
    let watcher = {
        let socket = socket.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let mut gone = None;
            loop {
                let release = answering(&socket).await;
                match (&gone, release.as_deref()) {
                    (None, answer) if answer != Some("1.1.0") => gone = Some(started.elapsed()),
                    (Some(gone), Some("1.1.0")) => return (*gone, started.elapsed()),
                    _ => {}
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let report = updater.poll().await;
    ensure!(matches!(report.outcomes.get(&Kind::App), Some(Outcome::RolledBack { .. })), "{report:?}");
    let (gone, back) = tokio::time::timeout(Duration::from_secs(30), watcher).await??;
    let rollback = back.saturating_sub(gone).saturating_sub(Duration::from_secs(GATE_SECONDS));
    println!(
        "failed gate to the old release serving again: {:.2} s after the {GATE_SECONDS} s gate deadline",
        rollback.as_secs_f64()
    );

    // 3. The agent's memory while idle: the real daemon, after its first poll and heartbeat.
    let mut agent = std::process::Command::new(&agent_binary)
        .arg("--dev")
        .arg("--config")
        .arg(&config_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pss = pss_kib(agent.id());
    agent.kill()?;
    agent.wait()?;
    let pss = pss?;
    println!("agent idle (after its first poll and heartbeat): PSS {pss} KiB ({:.1} MiB)", mib(pss));
    let _ =
        std::process::Command::new("sh").arg("-c").arg(format!("kill $(cat {}/app.pid)", device.display())).status();

    // 4. A delta between two real builds, when given.
    let args: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if let [old, new] = args.as_slice() {
        let (old_stripped, new_stripped) = (scratch.join("old-app"), scratch.join("new-app"));
        strip(old, &old_stripped)?;
        strip(new, &new_stripped)?;
        let old_tar = archive::tar(&app_release(&scratch, "2.0.0", &old_stripped))?;
        let new_tar = archive::tar(&app_release(&scratch, "2.0.1", &new_stripped))?;
        let full = archive::compress(&new_tar)?.len();
        let patch = archive::patch(&old_tar, &new_tar)?.len();
        println!(
            "delta for a small code change: {patch} bytes against a {full}-byte archive: {:.4} of it",
            ratio(patch as u64, full as u64)
        );
    }
    Ok(())
}

fn services_restart(script: &Path) -> Result<()> {
    let status = std::process::Command::new("sh").arg(script).status()?;
    ensure!(status.success(), "the restart script failed");
    Ok(())
}

async fn wait_for_release(socket: &AppSocket, release: &str, limit: Duration) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if answering(socket).await.as_deref() == Some(release) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("release {release} did not answer within {} s", limit.as_secs())
}

#[allow(clippy::cast_precision_loss, clippy::float_arithmetic, reason = "a printed ratio")]
fn ratio(part: u64, whole: u64) -> f64 {
    part as f64 / whole.max(1) as f64
}

#[allow(clippy::cast_precision_loss, clippy::float_arithmetic, reason = "a printed figure")]
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
