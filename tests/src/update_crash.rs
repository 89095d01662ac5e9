//! The update crash harness: the real `kiosk-agent` installs an app release and is killed
//! with SIGKILL at a random moment of it (download, unpack, backup, switch, restart, gate,
//! commit). The next agent start must leave exactly one release committed and running, the
//! database intact, and the update completed or cleanly retried. Each round starts from
//! release 1.0.0 committed, as a fresh device would.
//!
//! The app is `stand-in-app` (it answers the agent as its release, at once), restarted by a
//! shell script standing in for systemd; the agent runs `kioskctl` for the database backup.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use kiosk_agent::catalog::{Kind, Version};
use kiosk_agent::effects::{AppLink, AppSocket};
use kiosk_agent::releases::{Releases, State};
use kiosk_protocol::{Answer, Command as AppCommand};

use crate::TestKiosk;
use crate::updates::{Repo, agent_config, app_release};

/// The programs a round runs, built by `cargo test --workspace` (or `cargo build --bins`).
#[derive(Clone, Debug)]
pub struct Programs {
    pub agent: PathBuf,
    pub kioskctl: PathBuf,
    pub stand_in_app: PathBuf,
}

impl Programs {
    /// The programs beside `stand_in_app` in the target folder.
    pub fn beside(stand_in_app: &Path) -> Result<Programs> {
        let programs = Programs {
            agent: stand_in_app.with_file_name("kiosk-agent"),
            kioskctl: stand_in_app.with_file_name("kioskctl"),
            stand_in_app: stand_in_app.to_owned(),
        };
        for program in [&programs.agent, &programs.kioskctl, &programs.stand_in_app] {
            ensure!(
                program.is_file(),
                "{} is missing: build it first (cargo build --workspace --bins)",
                program.display()
            );
        }
        Ok(programs)
    }
}

/// Where a kill landed, as the device's folders showed it right after.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateCrashReport {
    pub kills: u32,
    /// Nothing of the new release on disk yet (reading the repository, downloading).
    pub before_unpacked: u32,
    /// Unpacked beside the running one, not yet tried (unpack, backup, the idle check).
    pub unpacked_not_tried: u32,
    /// Being tried: `current` switched or about to be, the app restarting, the gate.
    pub while_tried: u32,
    /// Committed already: the kill came after the update completed.
    pub after_commit: u32,
    /// Rounds whose next agent start rolled a tried release back before trying it again.
    pub rolled_back_at_restart: u32,
    /// Every round ended with 1.1.0 committed and running: completed, or retried and completed.
    pub rounds_completed: u32,
}

const OLD: &str = "1.0.0";
const NEW: &str = "1.1.0";

struct Device {
    root: PathBuf,
    programs: Programs,
    config: PathBuf,
    orders: i64,
}

impl Device {
    fn folder(&self) -> PathBuf {
        self.root.join("device")
    }

    fn releases(&self) -> Releases {
        Releases::at(&self.folder().join("releases"))
    }

    fn app(&self) -> AppSocket {
        AppSocket { path: self.folder().join("app.sock"), patience: Duration::from_secs(5) }
    }

    fn start_agent(&self) -> Result<Child> {
        Command::new(&self.programs.agent)
            .arg("--dev")
            .arg("--config")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start kiosk-agent")
    }

    fn restart_app(&self) -> Result<()> {
        let status = Command::new("sh").arg(self.root.join("restart-app.sh")).arg(self.folder()).status()?;
        ensure!(status.success(), "the restart script failed");
        Ok(())
    }

    /// Back to release 1.0.0 committed and running, as the image ships it.
    async fn reset(&self) -> Result<()> {
        let releases = self.releases();
        releases.switch(&version(OLD))?;
        releases.save(&State {
            committed: version(OLD),
            previous: None,
            trying: None,
            tries: Default::default(),
            failed: Default::default(),
        })?;
        let new = releases.folder(&version(NEW));
        if new.exists() {
            std::fs::remove_dir_all(new)?;
        }
        self.restart_app()?;
        self.wait_until_running(OLD, Duration::from_secs(10)).await
    }

    async fn running(&self) -> Option<String> {
        match self.app().ask(AppCommand::State).await {
            Ok(Answer::State(summary)) => Some(summary.release),
            _ => None,
        }
    }

    async fn wait_until_running(&self, release: &str, limit: Duration) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.running().await.as_deref() == Some(release) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("release {release} is not running after {} s", limit.as_secs())
    }

    /// Waits for the agent to have release 1.1.0 committed, current and running.
    async fn wait_until_updated(&self, limit: Duration) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < limit {
            let state = self.releases().state()?;
            if state.committed == version(NEW)
                && state.trying.is_none()
                && self.releases().current()? == version(NEW)
                && self.running().await.as_deref() == Some(NEW)
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("the update did not complete within {} s: {:?}", limit.as_secs(), self.releases().state()?)
    }

    /// The database: SQLite's check passes, and every order placed before the rounds is there.
    async fn check_database(&self) -> Result<()> {
        let kiosk = TestKiosk::open(&self.folder()).await;
        let store = kiosk.engine.store();
        ensure!(store.integrity_check().await? == Ok(()), "the database fails its integrity check");
        let mut conn = store.read().await?;
        let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&mut *conn).await?;
        ensure!(orders == self.orders, "{orders} orders, {} before the updates", self.orders);
        drop(conn);
        store.close().await;
        Ok(())
    }

    fn where_the_kill_landed(&self, report: &mut UpdateCrashReport) -> Result<()> {
        let state = self.releases().state()?;
        if state.committed == version(NEW) {
            report.after_commit += 1;
        } else if state.trying.is_some() {
            report.while_tried += 1;
        } else if self.releases().folder(&version(NEW)).join("RELEASE").is_file() {
            report.unpacked_not_tried += 1;
        } else {
            report.before_unpacked += 1;
        }
        Ok(())
    }
}

fn version(text: &str) -> Version {
    Version::parse(text).expect("a version")
}

/// A repository with releases 1.0.0 and 1.1.0 of the stand-in app, a device on 1.0.0 with a
/// database of a few paid orders, and the agent's config.
async fn prepare(root: &Path, programs: &Programs) -> Result<Device> {
    let repo = Repo::create(root).await;
    let device_folder = root.join("device");
    let releases = Releases::at(&device_folder.join("releases"));
    std::fs::create_dir_all(releases.dir())?;
    for release in [OLD, NEW] {
        let entries = app_release(root, release, &programs.stand_in_app);
        repo.add(Kind::App, release, &entries).await;
        if release == OLD {
            releases.install(&version(OLD), &kiosk_agent::archive::tar(&entries)?)?;
            releases.switch(&version(OLD))?;
        }
    }
    let kiosk = TestKiosk::with_demo_menu(&device_folder).await;
    for _ in 0..3 {
        kiosk.engine.checkout(&crate::cart("menus/brasserie/carts/demo.json")).await?;
    }
    let mut conn = kiosk.engine.store().read().await?;
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&mut *conn).await?;
    drop(conn);
    kiosk.engine.store().close().await;
    std::fs::write(
        root.join("restart-app.sh"),
        "#!/bin/sh\n# Stands in for `systemctl restart kiosk-app`: stop the app, start releases/current.\n\
         dir=\"$1\"\n\
         if [ -f \"$dir/app.pid\" ]; then kill \"$(cat \"$dir/app.pid\")\" 2>/dev/null; fi\n\
         \"$dir/releases/current/bin/kiosk-app\" --socket \"$dir/app.sock\" >/dev/null 2>&1 </dev/null &\n\
         echo $! > \"$dir/app.pid\"\n",
    )?;
    let config = root.join("agent.toml");
    let repository = repo.dir.display().to_string();
    let text = agent_config(&device_folder, &repository, &repo.root_of_trust(), &programs.kioskctl, 3600, 10)
        + &format!(
            "\n[service]\nrestart_app = [\"sh\", \"{}\", \"{}\"]\n",
            root.join("restart-app.sh").display(),
            device_folder.display()
        );
    std::fs::write(&config, text)?;
    Ok(Device { root: root.to_owned(), programs: programs.clone(), config, orders })
}

/// Runs `kills` rounds: reset to 1.0.0, start the agent, SIGKILL it at a random moment of the
/// update, start it again and check what it leaves. The first, uninterrupted round measures
/// how long an update takes; kills fall anywhere within 1.2 times that.
pub async fn run(
    programs: &Programs,
    root: &Path,
    kills: u32,
    seed: u64,
    mut progress: impl FnMut(u32, &UpdateCrashReport),
) -> Result<UpdateCrashReport> {
    let device = prepare(root, programs).await?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut report = UpdateCrashReport::default();
    device.reset().await?;
    let started = Instant::now();
    let mut agent = device.start_agent()?;
    device.wait_until_updated(Duration::from_secs(30)).await?;
    let update_took = started.elapsed();
    agent.kill()?;
    agent.wait()?;
    let window = update_took.mul_f64(1.2);
    for round in 0..kills {
        device.reset().await?;
        let mut agent = device.start_agent()?;
        tokio::time::sleep(window.mul_f64(rng.f64())).await;
        agent.kill()?;
        agent.wait()?;
        report.kills += 1;
        device.where_the_kill_landed(&mut report)?;
        let tried = device.releases().state()?.trying.is_some();
        let mut next = device.start_agent()?;
        let outcome = device.wait_until_updated(Duration::from_secs(30)).await;
        next.kill()?;
        next.wait()?;
        outcome.with_context(|| format!("round {round}"))?;
        if tried {
            report.rolled_back_at_restart += 1;
        }
        device.check_database().await.with_context(|| format!("round {round}"))?;
        let leftovers = std::fs::read_dir(device.releases().dir())?
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name().to_string_lossy().starts_with('.'))
            .count();
        ensure!(leftovers == 0, "round {round}: a scratch folder was left in the releases");
        report.rounds_completed += 1;
        progress(round + 1, &report);
    }
    let _ = Command::new("sh").arg("-c").arg(format!("kill $(cat {}/app.pid)", device.folder().display())).status();
    Ok(report)
}

/// How long one round takes, for the figures.
pub fn describe(report: &UpdateCrashReport, took: Duration) -> String {
    format!(
        "kills: {}\n  before the release was unpacked:   {}\n  unpacked, not yet tried:           {}\n  \
         while tried (switch, restart, gate): {}\n  after the commit:                  {}\n\
         tried releases rolled back at the next start, then retried: {}\n\
         rounds ending with 1.1.0 committed and running, the database intact: {}\n\
         took {:.1} s",
        report.kills,
        report.before_unpacked,
        report.unpacked_not_tried,
        report.while_tried,
        report.after_commit,
        report.rolled_back_at_restart,
        report.rounds_completed,
        took.as_secs_f64()
    )
}
