//! `kiosk-agent`: the device agent's daemon. Reads its config, builds what the agent acts on
//! (systemd, the app's socket, `kioskctl` as the database's owner, the update repository) and
//! runs [`kiosk_agent::daemon::run`] until SIGTERM.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use kiosk_agent::catalog::Version;
use kiosk_agent::config::AgentConfig;
use kiosk_agent::daemon::{Agent, run};
use kiosk_agent::effects::{AppSocket, CommandServices, Kioskctl};
use kiosk_agent::health::{Fleet, HttpFleet};
use kiosk_agent::lockdown::Enforcement;
use kiosk_agent::releases::Releases;
use kiosk_agent::source::{Fetcher, Location, Source};
use kiosk_agent::swap::swap;
use kiosk_agent::updater::Updater;
use kiosk_engine::devices::{WebClient, WebGate};
use kiosk_engine::service::ServiceNotifier;
use kiosk_engine::{Locations, SystemClock};

#[derive(Parser, Debug)]
#[command(version, about = "The kiosk's device agent: signed updates with rollback, health")]
struct Args {
    /// The agent's config.
    #[arg(long, env = "KIOSK_AGENT_CONFIG", default_value = "/etc/kiosk/agent.toml")]
    config: PathBuf,
    /// A development kiosk: its device config may name simulated devices.
    #[arg(long)]
    dev: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// The swap helper: switch the agent to an unpacked release, restart it, and commit the
    /// release once it reports, or roll it back (started by the agent, not by hand).
    Swap {
        #[arg(long)]
        to: Version,
    },
}

fn main() -> Result<()> {
    let release = kiosk_engine::service::release_name(env!("CARGO_PKG_VERSION"));
    kiosk_engine::logging::init_service(log::LevelFilter::Info, &release);
    let args = Args::parse();
    let config = AgentConfig::load(&args.config)?;
    let locations = Locations::new(args.dev, Some(config.paths.db.clone()), Some(config.paths.device_config.clone()));
    let device = locations.device_config()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let web = WebGate::default();
    let mut flags = Vec::new();
    if args.dev {
        flags.push("--dev".to_owned());
    }
    let services = Arc::new(CommandServices {
        commands: config.service.clone(),
        agent_config: args.config.clone(),
        agent_flags: flags,
    });
    if let Some(Command::Swap { to }) = &args.command {
        let releases = Releases::at(&config.paths.agent_releases);
        let swapped =
            runtime.block_on(swap(&releases, &config.paths.state, &*services, to, config.agent_gate_deadline()))?;
        log::info!("agent release {to}: {swapped:?}");
        return Ok(());
    }
    let source = Source {
        location: Location::parse(&config.updates.repository)?,
        trusted_root: config.updates.trusted_root.clone(),
        datastore: config.paths.state.join("tuf"),
        fetcher: Fetcher::new(&config.paths.state.join("downloads"))?.gated(web.clone()),
    };
    let updater = Updater {
        device_id: device.kiosk_id.clone(),
        source,
        app_releases: Releases::at(&config.paths.app_releases),
        service: services,
        app: Arc::new(AppSocket { path: config.paths.app_socket.clone(), patience: Duration::from_secs(20) }),
        database: Arc::new(Kioskctl {
            program: config.paths.kioskctl.clone(),
            db: config.paths.db.clone(),
            device_config: config.paths.device_config.clone(),
            development: args.dev,
        }),
        clock: Arc::new(SystemClock),
        config,
    };
    let fleet = match &updater.config.health.fleet_url {
        Some(url) => {
            let fleet = HttpFleet { client: WebClient::new(reqwest::Client::new(), web.clone()), url: url.parse()? };
            Some(Arc::new(fleet) as Arc<dyn Fleet>)
        }
        None => None,
    };
    // A development kiosk enforces nothing of the policy on the machine it runs on, but holds
    // its own HTTP calls to the web allowlist all the same.
    let scratch = updater.config.paths.state.clone();
    let own_endpoints: Vec<String> =
        [Some(&updater.config.updates.repository), updater.config.health.fleet_url.as_ref()]
            .into_iter()
            .flatten()
            .filter(|url| url.starts_with("http"))
            .cloned()
            .collect();
    let enforcement = if args.dev {
        Enforcement { web, own_endpoints, scratch, ..Enforcement::default() }
    } else {
        Enforcement::device(&scratch, web, own_endpoints)
    };
    let agent = Agent::new(updater, ServiceNotifier::from_env(), fleet, enforcement);
    runtime.block_on(async {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        let shutdown = async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        };
        run(agent, shutdown).await
    })
}
