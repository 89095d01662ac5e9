//! What an attacker, a broken mirror or a bad network can do to an update, and how the agent
//! refuses it with the running release untouched (TUF, through `tough`): a bad signature, a
//! wrong hash or length, expired metadata, an older repository state (rollback), metadata
//! versions mixed, an untrusted root rotation, a download cut short. And what the agent does
//! with what it is rightly offered: waves, channels, the maintenance window, a busy kiosk.
//! The app here is simulated; `updates.rs` runs the real one.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{CountingServices, Device, RecordingDatabase, Repo, SimulatedApp, app_release, published, v};
use kiosk_agent::archive::Entry;
use kiosk_agent::catalog::{Channel, Kind, place_in_waves};
use kiosk_agent::publish::{self, Change, Expiry, NewTarget, Roles};
use kiosk_agent::updater::{Outcome, PollReport, Updater};
use kiosk_tests::http_server::StaticServer;

/// A repository with release 1.0.0, a device running it, and an agent pointed at the repository.
struct Setup {
    dir: tempfile::TempDir,
    repo: Repo,
    device: Device,
    app: Arc<SimulatedApp>,
    services: Arc<CountingServices>,
    database: Arc<RecordingDatabase>,
}

impl Setup {
    async fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::create(dir.path()).await;
        let device = Device::new(dir.path());
        let first = release(dir.path(), "1.0.0");
        repo.add(Kind::App, "1.0.0", &first).await;
        device.install_as_image("1.0.0", &first);
        let app = Arc::new(SimulatedApp::new(device.releases()));
        Setup { dir, repo, device, app, services: Arc::default(), database: Arc::default() }
    }

    fn updater_at(&self, repository: &str, window: Option<&str>) -> Updater {
        let mut config = self.device.config(repository, &self.repo.root_of_trust(), 2);
        config.updates.maintenance_window = window.map(str::to_owned);
        self.device.updater(
            config,
            &self.repo.root_of_trust(),
            self.services.clone(),
            self.app.clone(),
            self.database.clone(),
        )
    }

    fn updater(&self) -> Updater {
        self.updater_at(&self.repo.dir.display().to_string(), None)
    }

    async fn publish(&self, version: &str) {
        self.repo.add(Kind::App, version, &release(self.dir.path(), version)).await;
    }

    fn metadata(&self, name: &str) -> PathBuf {
        self.repo.dir.join("metadata").join(name)
    }

    /// The newest metadata file of a role (`targets`, `snapshot`).
    fn newest(&self, role: &str) -> PathBuf {
        let suffix = format!(".{role}.json");
        let newest = std::fs::read_dir(self.repo.dir.join("metadata"))
            .unwrap()
            .filter_map(|entry| {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                let version: u64 = name.strip_suffix(&suffix)?.parse().ok()?;
                Some((version, name))
            })
            .max()
            .unwrap();
        self.metadata(&newest.1)
    }

    fn target_file(&self, name_ends: &str) -> PathBuf {
        std::fs::read_dir(self.repo.dir.join("targets"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| path.to_string_lossy().ends_with(name_ends))
            .unwrap()
    }

    /// Release 1.0.0 still committed, current and never restarted.
    fn untouched(&self) {
        let state = self.device.releases().state().unwrap();
        assert_eq!((state.committed, state.trying), (v("1.0.0"), None));
        assert_eq!(self.device.releases().current().unwrap(), v("1.0.0"));
        assert_eq!(*self.services.restarts.lock().unwrap(), 0, "the app was never restarted");
    }
}

/// A small release: a script standing for the app, and its RELEASE file.
fn release(dir: &Path, version: &str) -> Vec<Entry> {
    let binary = dir.join(format!("kiosk-app-{version}"));
    std::fs::write(&binary, format!("#!/bin/sh\n# kiosk app {version}\n{}", "padding\n".repeat(2000))).unwrap();
    app_release(dir, version, &binary)
}

fn refused_repository(report: &PollReport) -> &str {
    report.repository_error.as_deref().unwrap_or_else(|| panic!("the repository is refused: {report:?}"))
}

fn app_outcome(report: &PollReport) -> &Outcome {
    report.outcomes.get(&Kind::App).unwrap_or_else(|| panic!("an app outcome: {report:?}"))
}

#[tokio::test]
async fn a_release_offered_rightly_is_installed_and_committed() {
    let setup = Setup::new().await;
    setup.publish("1.1.0").await;
    let report = setup.updater().poll().await;
    assert!(matches!(app_outcome(&report), Outcome::Installed { version, .. } if *version == v("1.1.0")), "{report:?}");
    assert_eq!(setup.device.releases().current().unwrap(), v("1.1.0"));
    assert_eq!(*setup.services.restarts.lock().unwrap(), 1);
    assert_eq!(setup.database.backups.lock().unwrap().len(), 1, "the database is backed up before the switch");
}

#[tokio::test]
async fn a_missing_repository_folder_or_a_stick_without_one_is_refused() {
    // Only an automount point without its stick is quiet (source.rs tests that answer); a
    // folder that is not there, or a stick with no repository on it, is an error to report.
    let setup = Setup::new().await;
    let mount_point = setup.dir.path().join("kiosk-updates");
    let report = setup.updater_at(&mount_point.display().to_string(), None).poll().await;
    assert!(refused_repository(&report).contains("kiosk-updates cannot be opened"), "{report:?}");
    std::fs::create_dir(&mount_point).unwrap();
    let report = setup.updater_at(&mount_point.display().to_string(), None).poll().await;
    assert!(refused_repository(&report).contains("kiosk-updates"), "{report:?}");
    setup.untouched();
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let setup = Setup::new().await;
    setup.publish("1.1.0").await;
    // An attacker stretches the timestamp's life (to keep kiosks on this state) without its key.
    let timestamp = setup.metadata("timestamp.json");
    let text = std::fs::read_to_string(&timestamp).unwrap();
    assert!(text.contains("\"expires\": \"20"));
    std::fs::write(&timestamp, text.replacen("\"expires\": \"20", "\"expires\": \"21", 1)).unwrap();
    let report = setup.updater().poll().await;
    let error = refused_repository(&report);
    assert!(error.contains("Signature threshold of 1 not met for role timestamp"), "{error}");
    setup.untouched();
}

#[tokio::test]
async fn tampered_targets_metadata_is_refused() {
    let setup = Setup::new().await;
    setup.publish("1.1.0").await;
    // Offer the release to fewer kiosks than the signed metadata says: the snapshot's hash of
    // the targets metadata no longer matches.
    let targets = setup.newest("targets");
    let text = std::fs::read_to_string(&targets).unwrap();
    std::fs::write(&targets, text.replacen("\"rollout\": 100", "\"rollout\": 99", 1)).unwrap();
    let report = setup.updater().poll().await;
    let error = refused_repository(&report);
    assert!(error.contains("targets.json") && error.contains("Hash mismatch"), "{error}");
    setup.untouched();
}

#[tokio::test]
async fn a_wrong_hash_or_length_is_refused() {
    let setup = Setup::new().await;
    setup.publish("1.1.0").await;
    let archive = setup.target_file("app-1.1.0.tar.zst");
    let good = std::fs::read(&archive).unwrap();
    for (what, tampered, reason) in [
        ("same length, other bytes", good.iter().map(|b| b ^ 0x5a).collect::<Vec<u8>>(), "Hash mismatch"),
        ("longer", [good.as_slice(), b"appended"].concat(), "(specified by targets.json) exceeded"),
        ("shorter", good[..good.len() / 2].to_vec(), "Hash mismatch"),
    ] {
        std::fs::write(&archive, &tampered).unwrap();
        // The delta from 1.0.0 is tampered the same way, so neither path gets through.
        let delta = setup.target_file("app-1.1.0-from-1.0.0.patch.zst");
        let delta_good = std::fs::read(&delta).unwrap();
        std::fs::write(&delta, b"not the signed patch").unwrap();
        let report = setup.updater().poll().await;
        let Outcome::Refused { why, .. } = app_outcome(&report) else { panic!("{what}: refused, not {report:?}") };
        assert!(why.starts_with("app-1.1.0.tar.zst is refused") && why.contains(reason), "{what}: {why}");
        std::fs::write(&delta, delta_good).unwrap();
        setup.untouched();
    }
}

#[tokio::test]
async fn expired_metadata_is_refused() {
    let setup = Setup::new().await;
    let expired = Expiry { timestamp_days: -1, ..Expiry::default() };
    let offered = published(Kind::App, "1.1.0", Channel::Stable, 100);
    setup.repo.add_signed(offered, &release(setup.dir.path(), "1.1.0"), &expired).await;
    let report = setup.updater().poll().await;
    assert!(refused_repository(&report).ends_with("timestamp metadata is expired"), "{report:?}");
    setup.untouched();
}

#[tokio::test]
async fn an_older_repository_state_is_refused_once_a_newer_was_seen() {
    let setup = Setup::new().await;
    let old_metadata = setup.dir.path().join("old-metadata");
    copy_folder(&setup.repo.dir.join("metadata"), &old_metadata);
    setup.repo.sign(Vec::new(), &Expiry::default()).await;
    let updater = setup.updater();
    assert!(updater.poll().await.repository_error.is_none(), "the newer state is read");
    // A mirror (or an attacker) serves the state from before: every version went back.
    std::fs::remove_dir_all(setup.repo.dir.join("metadata")).unwrap();
    copy_folder(&old_metadata, &setup.repo.dir.join("metadata"));
    let report = updater.poll().await;
    let error = refused_repository(&report);
    assert!(
        error.contains("Found version 2 of timestamp metadata when we had previously fetched version 3"),
        "{error}"
    );
    setup.untouched();
}

#[tokio::test]
async fn metadata_of_different_versions_mixed_is_refused() {
    let setup = Setup::new().await;
    let older_snapshot = std::fs::read(setup.newest("snapshot")).unwrap();
    setup.publish("1.1.0").await;
    // The new timestamp names the new snapshot; the file served under its name is the old one.
    std::fs::write(setup.newest("snapshot"), older_snapshot).unwrap();
    let report = setup.updater().poll().await;
    let error = refused_repository(&report);
    assert!(error.contains("snapshot.json") && error.contains("Hash mismatch"), "{error}");
    setup.untouched();
}

#[tokio::test]
async fn a_root_rotation_is_followed_only_when_the_old_root_signed_it() {
    let setup = Setup::new().await;
    let keys = setup.dir.path().join("new-keys");
    std::fs::create_dir_all(&keys).unwrap();
    let mut new_roles = Vec::new();
    for role in ["root", "targets", "snapshot", "timestamp"] {
        let key = keys.join(format!("{role}.pem"));
        publish::generate_key(&key).await.unwrap();
        new_roles.push(key);
    }
    let roles = Roles {
        root: vec![new_roles[0].clone()],
        root_threshold: 1,
        targets: vec![new_roles[1].clone()],
        snapshot: vec![new_roles[2].clone()],
        timestamp: vec![new_roles[3].clone()],
    };
    let online = new_roles[1..].to_vec();

    // kioskctl refuses to rotate without the old root's key.
    let error = publish::rotate_root(&setup.repo.dir, &[new_roles[0].clone()], &roles, &online, &Expiry::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("the old root needs 1 of its keys"), "{error}");
    // An attacker's root 2, signed by the new root key only: a real rotation on a copy, the old
    // root's signature taken off.
    let untrusted = setup.dir.path().join("untrusted");
    copy_folder(&setup.repo.dir, &untrusted);
    publish::rotate_root(&untrusted, &[setup.repo.key("root")], &roles, &online, &Expiry::default()).await.unwrap();
    let first: serde_json::Value =
        serde_json::from_slice(&std::fs::read(untrusted.join("metadata/1.root.json")).unwrap()).unwrap();
    let old_root_key = first["signed"]["roles"]["root"]["keyids"][0].clone();
    let second_path = untrusted.join("metadata/2.root.json");
    let mut second: serde_json::Value = serde_json::from_slice(&std::fs::read(&second_path).unwrap()).unwrap();
    second["signatures"].as_array_mut().unwrap().retain(|signature| signature["keyid"] != old_root_key);
    assert_eq!(second["signatures"].as_array().unwrap().len(), 1, "the new key's signature stays");
    std::fs::write(&second_path, serde_json::to_vec_pretty(&second).unwrap()).unwrap();
    let report = setup.updater_at(&untrusted.display().to_string(), None).poll().await;
    let error = refused_repository(&report);
    assert!(error.contains("Signature threshold of 1 not met for role root"), "{error}");
    setup.untouched();

    // The real rotation, signed by the old root key too: followed, and releases signed by the
    // new keys are taken.
    publish::rotate_root(&setup.repo.dir, &[setup.repo.key("root")], &roles, &online, &Expiry::default())
        .await
        .unwrap();
    let rotated = Repo { dir: setup.repo.dir.clone(), keys };
    rotated.add(Kind::App, "1.1.0", &release(setup.dir.path(), "1.1.0")).await;
    let report = setup.updater().poll().await;
    assert!(matches!(app_outcome(&report), Outcome::Installed { .. }), "{report:?}");
    // The old online keys no longer sign anything the kiosk accepts.
    let refused = publish::publish(&setup.repo.dir, &setup.repo.online_keys(), Vec::new(), &Expiry::default()).await;
    assert!(refused.is_err(), "signing with keys the new root does not list fails");
}

#[tokio::test]
async fn a_download_cut_short_is_refused_then_resumed() {
    let setup = Setup::new().await;
    setup.publish("1.1.0").await;
    // The delta is what this kiosk asks for; cut it, and the whole archive, halfway.
    let server = StaticServer::start(setup.repo.dir.clone()).await;
    let updater = setup.updater_at(&server.url, None);
    let delta = setup.target_file("app-1.1.0-from-1.0.0.patch.zst");
    let half = usize::try_from(std::fs::metadata(&delta).unwrap().len() / 2).unwrap();
    server.cut_next(".patch.zst", half);
    let archive = std::fs::metadata(setup.target_file("app-1.1.0.tar.zst")).unwrap().len();
    let report = updater.poll().await;
    // The delta failed; the whole archive was fetched instead and the release installed.
    assert!(
        matches!(app_outcome(&report), Outcome::Installed { downloaded, .. } if *downloaded == archive),
        "{report:?}"
    );

    // Next release: the cut falls on the only file, the poll fails, the next one resumes.
    setup.publish("1.2.0").await;
    let delta = setup.target_file("app-1.2.0-from-1.1.0.patch.zst");
    let length = std::fs::metadata(&delta).unwrap().len();
    server.cut_next("app-1.2.0-from-1.1.0.patch.zst", usize::try_from(length / 2).unwrap());
    std::fs::write(setup.target_file("app-1.2.0.tar.zst"), b"this mirror lost the whole archive").unwrap();
    let report = updater.poll().await;
    assert!(matches!(app_outcome(&report), Outcome::Refused { .. }), "{report:?}");
    assert_eq!(setup.device.releases().current().unwrap(), v("1.1.0"), "the running release is untouched");
    server.clear_log();
    let report = updater.poll().await;
    assert!(matches!(app_outcome(&report), Outcome::Installed { .. }), "resumed and installed: {report:?}");
    let resumed: Vec<_> = server.served().into_iter().filter(|served| served.status == 206).collect();
    assert_eq!(resumed.len(), 1, "the rest of the delta was asked for with Range: {:?}", server.served());
    assert_eq!(resumed[0].bytes as u64, length - length / 2);
}

#[tokio::test]
async fn an_older_release_is_never_installed() {
    let setup = Setup::new().await;
    setup.publish("0.9.0").await;
    let report = setup.updater().poll().await;
    assert_eq!(app_outcome(&report), &Outcome::UpToDate { version: v("1.0.0") });
    setup.untouched();
}

#[tokio::test]
async fn waves_and_channels_decide_who_is_offered_what() {
    let setup = Setup::new().await;
    let place = u8::try_from(place_in_waves(common::DEVICE_ID)).unwrap();
    let scratch = setup.dir.path();
    // Just outside this kiosk's place in the waves, and a pilot release: neither offered.
    for (version, channel, rollout) in [("1.1.0", Channel::Stable, place.max(1)), ("1.2.0", Channel::Pilot, 100)] {
        setup.repo.add_as(published(Kind::App, version, channel, rollout), &release(scratch, version)).await;
    }
    if place > 0 {
        let report = setup.updater().poll().await;
        assert_eq!(app_outcome(&report), &Outcome::UpToDate { version: v("1.0.0") }, "outside the wave");
        setup.untouched();
    }
    // The next wave takes this kiosk in.
    let next = Change::Rollout { kind: Kind::App, version: v("1.1.0"), percent: place + 1 };
    setup.repo.sign(vec![next], &Expiry::default()).await;
    let report = setup.updater().poll().await;
    assert!(matches!(app_outcome(&report), Outcome::Installed { version, .. } if *version == v("1.1.0")), "{report:?}");
    // A pilot kiosk takes the pilot release.
    let mut pilot = setup.updater();
    pilot.config.channel = Channel::Pilot;
    let report = pilot.poll().await;
    assert!(matches!(app_outcome(&report), Outcome::Installed { version, .. } if *version == v("1.2.0")), "{report:?}");
}

#[tokio::test]
async fn software_waits_for_the_maintenance_window_and_an_idle_kiosk() {
    let setup = Setup::new().await;
    setup.publish("1.1.0").await;
    // The agent's clock says 03:00.
    let report = setup.updater_at(&setup.repo.dir.display().to_string(), Some("22:00-02:00")).poll().await;
    assert!(
        matches!(app_outcome(&report), Outcome::Waiting { why, .. } if why == "outside the maintenance window 22:00-02:00"),
        "{report:?}"
    );
    setup.untouched();
    assert!(setup.device.releases().folder(&v("1.1.0")).join("RELEASE").is_file(), "downloaded meanwhile");
    setup.app.busy.store(true, Ordering::SeqCst);
    let report = setup.updater_at(&setup.repo.dir.display().to_string(), Some("02:00-05:00")).poll().await;
    assert!(matches!(app_outcome(&report), Outcome::Waiting { why, .. } if why.contains("busy")), "{report:?}");
    setup.untouched();
    // The policy's window, when it names one, wins over the agent config's.
    let policy = setup.device.dir.join("policy.toml");
    std::fs::write(&policy, "maintenance_window = \"04:00-05:00\"\n").unwrap();
    setup.app.busy.store(false, Ordering::SeqCst);
    let report = setup.updater_at(&setup.repo.dir.display().to_string(), Some("02:00-05:00")).poll().await;
    assert!(
        matches!(app_outcome(&report), Outcome::Waiting { why, .. } if why == "outside the maintenance window 04:00-05:00"),
        "{report:?}"
    );
    std::fs::remove_file(&policy).unwrap();
    let report = setup.updater_at(&setup.repo.dir.display().to_string(), Some("02:00-05:00")).poll().await;
    assert!(
        matches!(app_outcome(&report), Outcome::Installed { downloaded: 0, .. }),
        "installed from what was downloaded: {report:?}"
    );
}

#[tokio::test]
async fn a_release_failing_its_gate_is_rolled_back() {
    let setup = Setup::new().await;
    setup.publish("1.1.0").await;
    setup.app.broken.lock().unwrap().push("1.1.0".into());
    let report = setup.updater().poll().await;
    let Outcome::RolledBack { why, .. } = app_outcome(&report) else { panic!("{report:?}") };
    assert!(why.ends_with("receipt printer: unreachable"), "{why}");
    assert_eq!(setup.device.releases().current().unwrap(), v("1.0.0"));
    assert_eq!(*setup.services.restarts.lock().unwrap(), 2, "started, then the old release restarted");
}

#[tokio::test]
async fn a_menu_waits_for_the_payment_in_progress_and_a_policy_is_put_in_place() {
    let setup = Setup::new().await;
    let menu = setup.dir.path().join("menu");
    copy_folder(&common::workspace("menus/brasserie"), &menu);
    setup.repo.add(Kind::Menu, "2026.12.1", &Entry::folder(&menu, Path::new("")).unwrap()).await;
    let policy = setup.dir.path().join("policy.toml");
    std::fs::write(&policy, "[kiosk]\nmode = \"single-app\"\n").unwrap();
    let add_policy = Change::Add(NewTarget {
        name: "policy-3.toml".into(),
        file: policy,
        published: published(Kind::Policy, "3", Channel::Stable, 100),
    });
    setup.repo.sign(vec![add_policy], &Expiry::default()).await;
    setup.database.payment_in_progress.store(true, Ordering::SeqCst);
    let updater = setup.updater();
    let report = updater.poll().await;
    assert!(
        matches!(report.outcomes.get(&Kind::Menu), Some(Outcome::Waiting { why, .. }) if why == "a payment is in progress")
    );
    assert!(matches!(report.outcomes.get(&Kind::Policy), Some(Outcome::Installed { .. })), "{report:?}");
    assert_eq!(
        std::fs::read_to_string(setup.device.dir.join("policy.toml")).unwrap(),
        "[kiosk]\nmode = \"single-app\"\n"
    );
    setup.database.payment_in_progress.store(false, Ordering::SeqCst);
    let report = updater.poll().await;
    assert!(matches!(report.outcomes.get(&Kind::Menu), Some(Outcome::Installed { downloaded: 0, .. })), "{report:?}");
    let imported = setup.database.menus.lock().unwrap().clone();
    assert_eq!(imported, [setup.device.dir.join("menus/2026.12.1/menu.toml")]);
    assert_eq!(*setup.app.reloads.lock().unwrap(), 1, "the app is told to read the new menu");
    let report = updater.poll().await;
    assert!(matches!(report.outcomes.get(&Kind::Menu), Some(Outcome::UpToDate { .. })));

    // A signed policy the agent cannot read whole is refused; the one in force stays.
    let bad = setup.dir.path().join("bad-policy.toml");
    std::fs::write(&bad, "[kiosk]\nmode = \"multi-app\"\n").unwrap();
    let add_bad = Change::Add(NewTarget {
        name: "policy-4.toml".into(),
        file: bad,
        published: published(Kind::Policy, "4", Channel::Stable, 100),
    });
    setup.repo.sign(vec![add_bad], &Expiry::default()).await;
    let report = updater.poll().await;
    let Some(Outcome::Refused { why, .. }) = report.outcomes.get(&Kind::Policy) else { panic!("{report:?}") };
    assert!(why.starts_with("policy-4.toml: kiosk.apps: multi-app mode needs"), "{why}");
    assert_eq!(
        std::fs::read_to_string(setup.device.dir.join("policy.toml")).unwrap(),
        "[kiosk]\nmode = \"single-app\"\n"
    );
    let report = updater.poll().await;
    assert!(matches!(report.outcomes.get(&Kind::Policy), Some(Outcome::FailedBefore { .. })), "not tried again");
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[tokio::test]
async fn an_agent_swap_cut_short_is_undone_at_the_next_start() {
    let setup = Setup::new().await;
    let agents = kiosk_agent::releases::Releases::at(&setup.device.dir.join("agent-releases"));
    std::fs::create_dir_all(agents.dir()).unwrap();
    for version in ["1.0.0", "1.1.0"] {
        agents.install(&v(version), &kiosk_agent::archive::tar(&release(setup.dir.path(), version)).unwrap()).unwrap();
    }
    agents.switch(&v("1.0.0")).unwrap();
    let mut state = agents.state().unwrap();
    state.trying = Some(v("1.1.0"));
    state.tries.insert("1.1.0".into(), 1);
    agents.save(&state).unwrap();
    // The helper had switched to 1.1.0 when the power went: no helper runs now.
    agents.switch(&v("1.1.0")).unwrap();
    let agent = kiosk_agent::daemon::Agent::new(setup.updater(), Default::default(), None, Default::default());
    let error = agent.recover().await.unwrap_err();
    assert!(error.to_string().contains("a swap to agent 1.1.0 was cut short: agent 1.0.0 is current again"), "{error}");
    assert_eq!(agents.current().unwrap(), v("1.0.0"));
    assert_eq!(agents.state().unwrap().trying, None);
    // The committed agent, started again, finds nothing to undo.
    assert!(agent.recover().await.is_ok());
    setup.untouched();
}
