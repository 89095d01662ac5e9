//! Remote actions through a fake fleet endpoint on loopback: each command the fleet signs and
//! carries in a heartbeat reply is carried out once and acknowledged in the heartbeat sent
//! straight after; a replayed, forged, foreign or expired command is refused, reported, and
//! changes nothing; a wipe hands the fiscal archive over first, and refuses without it unless
//! forced with a reason.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::Ed25519KeyPair;
use common::{CountingServices, DEVICE_ID, FISCAL_JOURNAL_TEXT, RecordingDatabase, SIMULATED_SCREENSHOT, SimulatedApp};
use kiosk_agent::daemon::Agent;
use kiosk_agent::lockdown::Enforcement;
use kiosk_agent::remote::{public_key_hex, sign};
use kiosk_protocol::{AckOutcome, CommandAck, Heartbeat, Message, RemoteAction, RemoteCommand};
use kiosk_tests::http_server::FleetServer;

struct Setup {
    dir: tempfile::TempDir,
    device: std::path::PathBuf,
    agent: Agent,
    fleet: FleetServer,
    fleet_key: Ed25519KeyPair,
    app: Arc<SimulatedApp>,
    services: Arc<CountingServices>,
}

fn key_pair() -> Ed25519KeyPair {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
}

/// An agent that takes commands signed with the key the setup holds.
async fn setup() -> Setup {
    setup_with(Some("fleet-command.pub")).await
}

/// An agent whose config names the fleet's public key in `key_file` (written), or none.
async fn setup_with(key_file: Option<&str>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (repo, device) = common::device_on_its_first_release(dir.path()).await;
    let fleet = FleetServer::start().await;
    let fleet_key = key_pair();
    let mut config = device.config(&repo.dir.display().to_string(), &repo.root_of_trust(), 2);
    config.health.command_key = key_file.map(|name| {
        let path = dir.path().join(name);
        std::fs::write(&path, public_key_hex(&fleet_key)).unwrap();
        path
    });
    let app = Arc::new(SimulatedApp::new(device.releases()));
    let services = Arc::new(CountingServices::default());
    let updater = device.updater(
        config,
        &repo.root_of_trust(),
        services.clone(),
        app.clone(),
        Arc::new(RecordingDatabase::default()),
    );
    let agent = Agent::new(updater, Default::default(), Some(common::http_fleet(&fleet.url)), Enforcement::default());
    Setup { device: device.dir.clone(), dir, agent, fleet, fleet_key, app, services }
}

fn command(seq: u64, action: RemoteAction) -> RemoteCommand {
    let expires_at = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
    RemoteCommand { device_id: DEVICE_ID.into(), seq, expires_at, action }
}

impl Setup {
    /// The fleet answers the next heartbeat with these commands, signed with `key`.
    fn reply_with(&self, commands: &[RemoteCommand], key: &Ed25519KeyPair) {
        let signed: Vec<_> = commands.iter().map(|command| sign(command, key)).collect();
        let reply = serde_json::json!({ "version": 1, "commands": signed });
        self.fleet.replies.lock().unwrap().push_back(reply.to_string());
    }

    /// The fleet sends these commands, the agent takes a heartbeat: the acknowledgements the
    /// fleet received in return.
    async fn send(&self, commands: &[RemoteCommand]) -> Vec<CommandAck> {
        self.reply_with(commands, &self.fleet_key);
        self.exchange().await
    }

    async fn exchange(&self) -> Vec<CommandAck> {
        let before = self.fleet.received.lock().unwrap().len();
        self.agent.heartbeat().await;
        self.heartbeats()[before..].iter().flat_map(|beat| beat.acks.clone()).collect()
    }

    fn heartbeats(&self) -> Vec<Heartbeat> {
        let received = self.fleet.received.lock().unwrap();
        received.iter().map(|body| serde_json::from_slice::<Message<Heartbeat>>(body).unwrap().body).collect()
    }
}

fn outcomes(acks: &[CommandAck]) -> Vec<(Option<u64>, AckOutcome)> {
    acks.iter().map(|ack| (ack.seq, ack.outcome)).collect()
}

#[tokio::test]
async fn each_action_is_carried_out_once_and_acknowledged() {
    let setup = setup().await;

    let acks = setup
        .send(&[
            command(1, RemoteAction::RestartApp),
            command(2, RemoteAction::Screenshot),
            command(3, RemoteAction::UploadLogs { lines: 3 }),
        ])
        .await;
    assert_eq!(
        outcomes(&acks),
        [(Some(1), AckOutcome::Done), (Some(2), AckOutcome::Done), (Some(3), AckOutcome::Done)]
    );
    assert_eq!(*setup.services.restarts.lock().unwrap(), 1);
    assert_eq!(setup.fleet.uploaded("/lyon-01/2/screenshot.png"), [SIMULATED_SCREENSHOT]);
    let logs = String::from_utf8(setup.fleet.uploaded("/lyon-01/3/logs.txt").remove(0)).unwrap();
    assert_eq!(logs.lines().count(), 3, "{logs}");
    assert_eq!(acks[2].detail, "logs.txt uploaded (3 lines)");

    // Maintenance: the out-of-service screen, kept through an app restart, reported, then left.
    let acks = setup.send(&[command(4, RemoteAction::EnterMaintenance { reason: "new terminal".into() })]).await;
    assert_eq!(outcomes(&acks), [(Some(4), AckOutcome::Done)]);
    assert_eq!(setup.app.out_of_service.lock().unwrap().as_deref(), Some("maintenance: new terminal"));
    *setup.app.out_of_service.lock().unwrap() = None; // the app restarted and forgot
    setup.agent.heartbeat().await;
    assert_eq!(setup.app.out_of_service.lock().unwrap().as_deref(), Some("maintenance: new terminal"));
    assert_eq!(setup.heartbeats().last().unwrap().maintenance.as_deref(), Some("new terminal"));
    let acks = setup.send(&[command(5, RemoteAction::LeaveMaintenance)]).await;
    assert_eq!(outcomes(&acks), [(Some(5), AckOutcome::Done)]);
    assert_eq!(*setup.app.out_of_service.lock().unwrap(), None);

    // Reboot: not while a customer pays; else once the acknowledgement is with the fleet.
    setup.app.busy.store(true, Ordering::SeqCst);
    let acks = setup.send(&[command(6, RemoteAction::Reboot)]).await;
    assert_eq!(outcomes(&acks), [(Some(6), AckOutcome::Failed)]);
    assert!(acks[0].detail.starts_with("a customer is paying"), "{}", acks[0].detail);
    assert_eq!(*setup.services.reboots.lock().unwrap(), 0);
    setup.app.busy.store(false, Ordering::SeqCst);
    let acks = setup.send(&[command(7, RemoteAction::Reboot)]).await;
    assert_eq!(outcomes(&acks), [(Some(7), AckOutcome::Done)]);
    assert_eq!(*setup.services.reboots.lock().unwrap(), 1);

    // Each acknowledgement went once: none is sent again.
    assert!(setup.exchange().await.is_empty());
}

#[tokio::test]
async fn replayed_forged_foreign_and_expired_commands_are_refused_and_reported() {
    let setup = setup().await;
    let restart = command(1, RemoteAction::RestartApp);
    assert_eq!(outcomes(&setup.send(std::slice::from_ref(&restart)).await), [(Some(1), AckOutcome::Done)]);

    // The same signed command again: refused, not carried out a second time.
    let acks = setup.send(&[restart]).await;
    assert_eq!(outcomes(&acks), [(Some(1), AckOutcome::Refused)]);
    assert!(acks[0].detail.contains("replayed"), "{}", acks[0].detail);

    // Forged (another key), for another kiosk, expired, and not a command at all.
    setup.reply_with(&[command(2, RemoteAction::RestartApp)], &key_pair());
    let forged = setup.exchange().await;
    let mut foreign = command(3, RemoteAction::RestartApp);
    foreign.device_id = "paris-07".into();
    let mut expired = command(4, RemoteAction::RestartApp);
    expired.expires_at = "2026-01-01T00:00:00Z".into();
    let refused = setup.send(&[foreign, expired]).await;
    setup.fleet.replies.lock().unwrap().push_back(r#"{"version":1,"commands":[{"action":"wipe"}]}"#.into());
    let unreadable = setup.exchange().await;
    let details: Vec<&str> = forged.iter().chain(&refused).chain(&unreadable).map(|ack| ack.detail.as_str()).collect();
    assert_eq!(details.len(), 4, "{details:?}");
    assert!(details[0].contains("does not verify"), "{}", details[0]);
    assert!(details[1].contains("is for paris-07, not this kiosk"), "{}", details[1]);
    assert!(details[2].starts_with("the command expired"), "{}", details[2]);
    assert!(details[3].starts_with("not a signed command"), "{}", details[3]);
    assert!(forged.iter().chain(&refused).chain(&unreadable).all(|ack| ack.outcome == AckOutcome::Refused));
    assert_eq!(*setup.services.restarts.lock().unwrap(), 1, "nothing refused was carried out");

    // A refused command does not use its number up: the real command 2 is carried out.
    assert_eq!(outcomes(&setup.send(&[command(2, RemoteAction::RestartApp)]).await), [(Some(2), AckOutcome::Done)]);
}

#[tokio::test]
async fn commands_are_refused_without_a_command_key() {
    let setup = setup_with(None).await;
    let acks = setup.send(&[command(1, RemoteAction::RestartApp)]).await;
    assert_eq!(outcomes(&acks), [(Some(1), AckOutcome::Refused)]);
    assert!(acks[0].detail.starts_with("remote commands are off: no health.command_key"), "{}", acks[0].detail);
    assert_eq!(*setup.services.restarts.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_wipe_hands_the_fiscal_archive_over_first() {
    let setup = setup().await;
    let data = ["kiosk.db", "kiosk.toml", "policy.toml", "journal.key"].map(|name| setup.device.join(name));
    for file in &data {
        std::fs::write(file, "data").unwrap();
    }

    // The fleet cannot take the archive: the wipe is refused and nothing is lost.
    setup.fleet.uploads_down.store(true, Ordering::SeqCst);
    let acks = setup.send(&[command(1, RemoteAction::Wipe { force_reason: None })]).await;
    assert_eq!(outcomes(&acks), [(Some(1), AckOutcome::Refused)]);
    assert!(acks[0].detail.contains("are not in the fleet's hands"), "{}", acks[0].detail);
    assert!(data.iter().all(|file| file.exists()), "nothing wiped");
    assert_eq!((*setup.services.stops.lock().unwrap(), *setup.services.reboots.lock().unwrap()), (0, 0));

    // The fleet holds it: the kiosk is wiped to factory state and restarts; the software stays.
    setup.fleet.uploads_down.store(false, Ordering::SeqCst);
    let acks = setup.send(&[command(2, RemoteAction::Wipe { force_reason: None })]).await;
    assert_eq!(outcomes(&acks), [(Some(2), AckOutcome::Done)]);
    assert!(acks[0].detail.starts_with("the fleet confirmed it holds fiscal-journal.json and z-reports.json"));
    assert_eq!(setup.fleet.uploaded("/lyon-01/2/fiscal-journal.json"), [FISCAL_JOURNAL_TEXT.as_bytes()]);
    assert_eq!(setup.fleet.uploaded("/lyon-01/2/z-reports.json").len(), 1);
    assert!(data.iter().all(|file| !file.exists()), "data, keys and enrolment removed");
    assert!(setup.device.join("releases/current").exists(), "the software stays");
    assert_eq!((*setup.services.stops.lock().unwrap(), *setup.services.reboots.lock().unwrap()), (1, 1));
    assert!(!setup.dir.path().join("device/agent/heartbeats").read_dir().unwrap().any(|_| true), "all sent");
}

#[tokio::test]
async fn a_forced_wipe_goes_ahead_without_the_archive_and_says_why() {
    let setup = setup().await;
    std::fs::write(setup.device.join("kiosk.db"), "data").unwrap();
    setup.fleet.uploads_down.store(true, Ordering::SeqCst);
    let reason = "kiosk stolen; archive recovered from the nightly backup";
    let wipe = RemoteAction::Wipe { force_reason: Some(reason.into()) };
    let acks = setup.send(&[command(1, wipe)]).await;
    assert_eq!(outcomes(&acks), [(Some(1), AckOutcome::Done)]);
    assert!(acks[0].detail.starts_with("forced without the fiscal archive"), "{}", acks[0].detail);
    assert!(acks[0].detail.contains(reason));
    assert!(!setup.device.join("kiosk.db").exists());
}

#[tokio::test]
async fn the_fleet_switches_the_screen_in_multi_app_mode() {
    let setup = setup().await;
    let policy = "[kiosk]\nmode = \"multi-app\"\napps = [\"kiosk-app\", \"order-board\"]\n";
    std::fs::write(&setup.agent.updater.config.paths.policy, policy).unwrap();
    setup.agent.enforce_policy().await;
    setup.agent.heartbeat().await;
    assert_eq!(setup.services.shown.lock().unwrap().last().map(String::as_str), Some("kiosk-app"));

    let board = RemoteAction::ShowApp { app: Some("order-board".into()) };
    let browser = RemoteAction::ShowApp { app: Some("firefox".into()) };
    let acks = setup.send(&[command(1, board), command(2, browser)]).await;
    assert_eq!(outcomes(&acks), [(Some(1), AckOutcome::Done), (Some(2), AckOutcome::Refused)]);
    assert!(acks[1].detail.starts_with("firefox is not one of the policy's apps"), "{}", acks[1].detail);
    setup.agent.heartbeat().await;
    assert_eq!(setup.services.shown.lock().unwrap().last().map(String::as_str), Some("order-board"), "it stays");

    let acks = setup.send(&[command(3, RemoteAction::ShowApp { app: None })]).await;
    assert_eq!(acks[0].detail, "back to the policy's schedule: kiosk-app owns the screen");
    assert_eq!(*setup.services.shown.lock().unwrap(), ["kiosk-app", "order-board", "kiosk-app"]);
}

#[test]
fn wipe_targets_leave_the_software_and_the_command_record() {
    let config = kiosk_agent::config::AgentConfig::parse("[updates]\nrepository = \"/media/usb\"\n").unwrap();
    let targets = kiosk_agent::remote::wipe_targets(&config);
    for kept in ["/var/lib/kiosk/releases", "/var/lib/kiosk-agent/releases", "/var/lib/kiosk-agent/remote.json"] {
        assert!(!targets.iter().any(|target| Path::new(kept).starts_with(target)), "{kept} is kept");
    }
    for removed in ["/var/lib/kiosk/kiosk.db", "/var/lib/kiosk/journal.key", "/etc/kiosk/kiosk.toml"] {
        assert!(targets.iter().any(|target| target == Path::new(removed)), "{removed} is removed");
    }
}
