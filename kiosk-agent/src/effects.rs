//! What the agent does to the world, behind traits, so that its logic runs in tests against
//! fakes and simulators (these machines run no systemd) and on the device against the real
//! thing: the service manager, the app's socket, and the database.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use kiosk_engine::kiosk_core::status::DayStatus;

use crate::catalog::Version;
use crate::config::ServiceConfig;
use kiosk_protocol::{Answer, Command, Reply, Request};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Starts and stops the kiosk's services.
#[async_trait]
pub trait ServiceManager: Send + Sync + std::fmt::Debug {
    /// Restarts the app, which runs from `releases/current`; returns once asked, not once up.
    async fn restart_app(&self) -> Result<()>;
    /// Restarts the agent, which runs from its own `releases/current`.
    async fn restart_agent(&self) -> Result<()>;
    /// Starts the swap helper (`kiosk-agent swap --to VERSION`) apart from the agent's service,
    /// so that it lives on while the agent is restarted.
    async fn start_agent_swap(&self, to: &Version) -> Result<()>;
    /// Multi-app mode: starts `app`'s unit and stops the `others`', so that it alone owns the
    /// screen.
    async fn show_app(&self, app: &str, others: &[String]) -> Result<()>;
    /// Stops the app (before a wipe); returns once it is stopped.
    async fn stop_app(&self) -> Result<()>;
    /// Restarts the machine.
    async fn reboot(&self) -> Result<()>;
    /// The last `lines` lines of the app's and the agent's logs.
    async fn recent_logs(&self, lines: u32) -> Result<String>;
}

/// The service manager, through commands: `systemctl restart --no-block kiosk-app.service`,
/// `systemctl start kiosk-agent-swap@VERSION.service` for the helper on a device (the agent's
/// config may name others).
#[derive(Debug, Clone)]
pub struct CommandServices {
    pub commands: ServiceConfig,
    /// The agent's config, handed to the swap helper.
    pub agent_config: PathBuf,
    /// The agent's own flags the helper needs too (`--dev`).
    pub agent_flags: Vec<String>,
}

/// Runs a command and returns what it printed; an error says what it said when it failed.
async fn run_command(command: &[String]) -> Result<Vec<u8>> {
    let (program, args) = command.split_first().context("an empty command")?;
    let output = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        bail!("{} failed ({}): {}", command.join(" "), output.status, said.trim());
    }
    Ok(output.stdout)
}

#[async_trait]
impl ServiceManager for CommandServices {
    async fn restart_app(&self) -> Result<()> {
        run_command(&self.commands.restart_app).await.map(drop)
    }

    async fn restart_agent(&self) -> Result<()> {
        run_command(&self.commands.restart_agent).await.map(drop)
    }

    async fn stop_app(&self) -> Result<()> {
        run_command(&self.commands.stop_app).await.map(drop)
    }

    async fn reboot(&self) -> Result<()> {
        run_command(&self.commands.reboot).await.map(drop)
    }

    async fn recent_logs(&self, lines: u32) -> Result<String> {
        let mut command = self.commands.logs.clone();
        command.push(lines.to_string());
        Ok(String::from_utf8_lossy(&run_command(&command).await?).into_owned())
    }

    async fn show_app(&self, app: &str, others: &[String]) -> Result<()> {
        let unit = |action: &str, app: &str| {
            let mut command = self.commands.systemctl.clone();
            command.extend([action.to_owned(), format!("{app}.service")]);
            command
        };
        for other in others {
            run_command(&unit("stop", other)).await?;
        }
        run_command(&unit("start", app)).await.map(drop)
    }

    async fn start_agent_swap(&self, to: &Version) -> Result<()> {
        if !self.commands.start_helper.is_empty() {
            let version = to.to_string();
            let command: Vec<String> =
                self.commands.start_helper.iter().map(|word| word.replace("{version}", &version)).collect();
            return run_command(&command).await.map(drop);
        }
        // No service manager to hand it to: this very binary (the release known to work,
        // whatever `current` says), a process of its own in its own process group.
        use std::os::unix::process::CommandExt;
        let me = std::env::current_exe().context("cannot find the agent's own binary")?;
        std::process::Command::new(me)
            .args(&self.agent_flags)
            .arg("--config")
            .arg(&self.agent_config)
            .args(["swap", "--to", &to.to_string()])
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .spawn()
            .context("cannot start the swap helper")?;
        Ok(())
    }
}

/// The touch app, asked over its local socket.
#[async_trait]
pub trait AppLink: Send + Sync + std::fmt::Debug {
    async fn ask(&self, command: Command) -> Result<Answer>;
}

/// The app's Unix socket (`kiosk-protocol` messages, one a line).
#[derive(Debug, Clone)]
pub struct AppSocket {
    pub path: PathBuf,
    /// How long an answer may take: the self check waits on the printer and the terminal.
    pub patience: Duration,
}

#[async_trait]
impl AppLink for AppSocket {
    async fn ask(&self, command: Command) -> Result<Answer> {
        let exchange = async {
            let stream = tokio::net::UnixStream::connect(&self.path)
                .await
                .with_context(|| format!("the app does not answer on {}", self.path.display()))?;
            let (reading, mut writing) = stream.into_split();
            writing.write_all((Request::new(command).to_json() + "\n").as_bytes()).await?;
            let mut line = String::new();
            BufReader::new(reading).read_line(&mut line).await?;
            let reply = Reply::parse(line.trim_end()).context("the app's answer is not a reply of this protocol")?;
            anyhow::Ok(reply.body)
        };
        tokio::time::timeout(self.patience, exchange)
            .await
            .with_context(|| format!("the app did not answer within {} s", self.patience.as_secs()))?
    }
}

/// `kioskctl`'s exit code when a payment in progress holds a change back.
pub const EXIT_PAYMENT_IN_PROGRESS: u8 = 6;

/// What became of a menu import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MenuImport {
    Imported,
    /// Refused while a payment is in progress or in doubt: to try again later.
    PaymentInProgress,
}

/// The kiosk's database, written as its owner.
#[async_trait]
pub trait Database: Send + Sync + std::fmt::Debug {
    /// Copies the database to `to`, consistent while the app runs (SQLite's `VACUUM INTO`).
    async fn backup(&self, to: &Path) -> Result<()>;
    /// Makes a menu file the menu in use, through the engine (all or nothing; refused while a
    /// payment is in progress).
    async fn import_menu(&self, menu: &Path) -> Result<MenuImport>;
    /// How the day stands (for the heartbeat).
    async fn day_status(&self) -> Result<DayStatus>;
    /// Makes the staff accounts the policy at `policy` lists exist as it says; returns the
    /// names added or changed.
    async fn provision_staff(&self, policy: &Path) -> Result<Vec<String>>;
    /// Writes what the venue must keep before a wipe into `folder` (writable by the
    /// database's owner): the whole fiscal journal, sealed, and every Z report; returns the
    /// files written.
    async fn fiscal_archive(&self, folder: &Path) -> Result<Vec<PathBuf>>;
}

/// `kioskctl`, run as the database file's owner (the `kiosk` user on a device) when the agent
/// runs as root: nothing the agent writes there belongs to root and locks the app out.
#[derive(Debug, Clone)]
pub struct Kioskctl {
    pub program: PathBuf,
    pub db: PathBuf,
    pub device_config: PathBuf,
    /// A development kiosk (`--dev`): simulated devices.
    pub development: bool,
}

impl Kioskctl {
    /// Runs kioskctl and returns what it printed; `None` when it held back for a payment in
    /// progress.
    async fn run(&self, args: &[&std::ffi::OsStr]) -> Result<Option<Vec<u8>>> {
        use std::os::unix::fs::MetadataExt;
        let mut command = tokio::process::Command::new(&self.program);
        command.arg("--db").arg(&self.db).arg("--config").arg(&self.device_config);
        if self.development {
            command.arg("--dev");
        }
        command.args(args).kill_on_drop(true);
        let owner = std::fs::metadata(&self.db).with_context(|| format!("cannot read {}", self.db.display()))?;
        let me = std::fs::metadata("/proc/self").context("cannot read /proc/self")?;
        if me.uid() == 0 && owner.uid() != 0 {
            command.uid(owner.uid()).gid(owner.gid());
        }
        let output = command.output().await.with_context(|| format!("cannot run {}", self.program.display()))?;
        if output.status.code() == Some(i32::from(EXIT_PAYMENT_IN_PROGRESS)) {
            return Ok(None);
        }
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            bail!("{}", said.trim().trim_start_matches("error: "));
        }
        Ok(Some(output.stdout))
    }
}

#[async_trait]
impl Database for Kioskctl {
    async fn backup(&self, to: &Path) -> Result<()> {
        self.run(&["db".as_ref(), "backup".as_ref(), to.as_os_str()]).await.map(|_| ())
    }

    async fn import_menu(&self, menu: &Path) -> Result<MenuImport> {
        let done = self.run(&["menu".as_ref(), "import".as_ref(), menu.as_os_str()]).await?;
        Ok(if done.is_some() { MenuImport::Imported } else { MenuImport::PaymentInProgress })
    }

    async fn day_status(&self) -> Result<DayStatus> {
        let printed = self.run(&["--json".as_ref(), "status".as_ref()]).await?.unwrap_or_default();
        serde_json::from_slice(&printed).context("kioskctl status printed no day status")
    }

    async fn provision_staff(&self, policy: &Path) -> Result<Vec<String>> {
        let args = ["--json".as_ref(), "staff".as_ref(), "provision".as_ref(), "--policy".as_ref(), policy.as_os_str()];
        let printed = self.run(&args).await?.unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct Provisioned {
            added: Vec<String>,
            updated: Vec<String>,
        }
        let provisioned: Provisioned =
            serde_json::from_slice(&printed).context("kioskctl staff provision printed nothing readable")?;
        Ok(provisioned.added.into_iter().chain(provisioned.updated).collect())
    }

    async fn fiscal_archive(&self, folder: &Path) -> Result<Vec<PathBuf>> {
        let (journal, z_reports) = (folder.join(FISCAL_JOURNAL), folder.join(Z_ARCHIVE));
        let export = ["journal", "export", "--from", "0001-01-01", "--to", "9999-12-31", "--out"].map(OsStr::new);
        self.run(&[&export[..], &[journal.as_os_str()]].concat()).await?;
        self.run(&["report".as_ref(), "archive".as_ref(), "--out".as_ref(), z_reports.as_os_str()]).await?;
        Ok(vec![journal, z_reports])
    }
}

/// The names of the fiscal archive's files, as uploaded before a wipe.
pub const FISCAL_JOURNAL: &str = "fiscal-journal.json";
pub const Z_ARCHIVE: &str = "z-reports.json";
