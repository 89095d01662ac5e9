//! The agent enforces the policy in force: the network allowlist loaded into a network
//! namespace of the test's own, USB devices of a fake sysfs tree authorized as listed, Wi-Fi
//! profiles kept for the trusted networks only, staff accounts provisioned; what it found is in
//! the heartbeat. A policy
//! that cannot be read enforces nothing new and says why. Runs as root (as CI does);
//! elsewhere it says it was skipped.

mod common;

use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

use common::netns::Namespaces;
use common::{CountingServices, RecordingDatabase, SimulatedApp};
use kiosk_agent::daemon::Agent;
use kiosk_agent::lockdown::Enforcement;

const POLICY: &str = r#"
[network]
[[network.allow]]
host = "10.231.0.2"
ports = [8080]
[[network.allow]]
host = "localhost"
ports = [9]

[usb]
enforce = true
allow_classes = ["printer"]

[[wifi.trusted]]
ssid = "Venue-Kiosks"
passphrase = "correct horse battery"

[[staff]]
name = "Marie"
role = "manager"
pin_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"
"#;

#[tokio::test]
async fn the_policy_in_force_is_enforced_and_reported() {
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (repo, device) = common::device_on_its_first_release(dir.path()).await;
    let config = device.config(&repo.dir.display().to_string(), &repo.root_of_trust(), 2);
    let policy_path = config.paths.policy.clone();
    let updater = device.updater(
        config,
        &repo.root_of_trust(),
        Arc::new(CountingServices::default()),
        Arc::new(SimulatedApp::new(device.releases())),
        Arc::new(RecordingDatabase::default()),
    );
    // A keyboard on a fake sysfs, and a Wi-Fi network someone added by hand.
    let sysfs = dir.path().join("sys");
    let keyboard = sysfs.join("1-2");
    std::fs::create_dir_all(&keyboard).unwrap();
    for (file, text) in [("idVendor", "046d"), ("idProduct", "c31c"), ("bDeviceClass", "00"), ("authorized", "1")] {
        std::fs::write(keyboard.join(file), text).unwrap();
    }
    std::fs::create_dir_all(sysfs.join("1-2:1.0")).unwrap();
    std::fs::write(sysfs.join("1-2:1.0/bInterfaceClass"), "03").unwrap();
    let profiles = dir.path().join("iwd");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(profiles.join("Cafe Free WiFi.open"), "").unwrap();

    let mut spaces = Namespaces::new();
    spaces.serve("10.231.0.2");
    spaces.serve("10.231.0.3");
    let enforcement = Enforcement {
        nft: Some(spaces.nft()),
        usb_sysfs: Some(sysfs.clone()),
        wifi_profiles: Some(profiles.clone()),
        systemd: Some((dir.path().join("systemd"), vec!["true".into()])),
        scratch: dir.path().to_owned(),
        ..Enforcement::default()
    };
    let agent = Agent::new(updater, Default::default(), None, enforcement);

    let status = agent.enforce_policy().await;
    assert!(status.policy_error.as_deref().is_some_and(|why| why.starts_with("no policy at")), "{status:?}");
    let kiosk = spaces.kiosk.clone();
    assert!(spaces.reaches(&kiosk, "10.231.0.3"), "no policy: nothing enforced");

    std::fs::write(&policy_path, POLICY).unwrap();
    let status = agent.enforce_policy().await;
    assert_eq!(
        (status.policy_error, status.firewall_error, status.usb_error, status.wifi_error),
        (None, None, None, None)
    );
    assert!(spaces.reaches(&kiosk, "10.231.0.2") && !spaces.reaches(&kiosk, "10.231.0.3"));
    let set = std::process::Command::new("ip")
        .args(["netns", "exec", &kiosk, "nft", "list", "set", "inet", "kiosk_agent", "target_1_v4"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&set.stdout).contains("127.0.0.1"), "a host name, resolved into its set");
    assert_eq!(status.usb_not_allowed, ["1-2 046d:c31c"]);
    assert_eq!(std::fs::read_to_string(keyboard.join("authorized")).unwrap(), "0", "the keyboard gets no driver");
    assert_eq!(status.wifi_removed, ["Cafe Free WiFi"]);
    assert_eq!(status.staff_changed, ["Marie"], "the accounts provisioned as the database's owner");
    assert!(profiles.join("Venue-Kiosks.psk").is_file());
    let wall = std::fs::read_to_string(dir.path().join("systemd/kiosk-app.service.d/50-kiosk-allowlist.conf")).unwrap();
    assert!(wall.contains("IPAddressDeny=any") && wall.contains("IPAddressAllow=10.231.0.2\n"), "{wall}");

    // The heartbeat carries what was enforced.
    agent.heartbeat().await;
    let queued = std::fs::read_dir(dir.path().join("device/agent/heartbeats")).unwrap().next().unwrap().unwrap();
    let beat: kiosk_protocol::Message<kiosk_protocol::Heartbeat> =
        serde_json::from_slice(&std::fs::read(queued.path()).unwrap()).unwrap();
    assert_eq!(beat.body.lockdown.unwrap().usb_not_allowed, ["1-2 046d:c31c"]);

    // A policy that cannot be read (edited by hand) enforces nothing new: the allowlist stays.
    std::fs::write(&policy_path, "[network]\nresolvers = [\"dns\"]\n").unwrap();
    let status = agent.enforce_policy().await;
    assert!(status.policy_error.as_deref().is_some_and(|why| why.contains("policy.toml is refused")), "{status:?}");
    assert!(spaces.reaches(&kiosk, "10.231.0.2") && !spaces.reaches(&kiosk, "10.231.0.3"));
}

/// The agent runs in the kiosk's namespace (one thread moved into it), asks the DNS server on
/// the far side through the policy's resolver, and follows a name whose address moves once
/// its TTL runs out: the new address opens, the old one closes. Names resolve for the kiosk's
/// other programs too: by name, the listed target answers and the other cannot be reached.
#[test]
fn a_host_name_is_followed_when_its_address_moves() {
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: network namespaces need root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records.json");
    let point = |terminal: &str| {
        let zone = format!(r#"{{"terminal.venue.test": ["{terminal}", 1], "other.venue.test": ["10.231.0.3", 60]}}"#);
        std::fs::write(&records, zone).unwrap();
    };
    point("10.231.0.2");
    let mut spaces = Namespaces::new();
    for address in ["10.231.0.2", "10.231.0.3", "10.231.0.5"] {
        spaces.serve(address);
    }
    spaces.serve_dns("10.231.0.4", &records);
    let kiosk = spaces.kiosk.clone();
    let namespace = std::fs::File::open(format!("/run/netns/{kiosk}")).unwrap();

    std::thread::scope(|scope| {
        let agent_thread = scope.spawn(|| {
            use std::os::fd::AsFd;
            rustix::thread::move_into_link_name_space(
                namespace.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let (repo, device) = common::device_on_its_first_release(dir.path()).await;
                let config = device.config(&repo.dir.display().to_string(), &repo.root_of_trust(), 2);
                let policy = "[network]\nresolvers = [\"10.231.0.4\"]\n[[network.allow]]\n\
                              host = \"terminal.venue.test\"\nports = [8080]\n";
                std::fs::write(&config.paths.policy, policy).unwrap();
                let updater = device.updater(
                    config,
                    &repo.root_of_trust(),
                    Arc::new(CountingServices::default()),
                    Arc::new(SimulatedApp::new(device.releases())),
                    Arc::new(RecordingDatabase::default()),
                );
                let enforcement =
                    Enforcement { nft: Some(spaces.nft()), scratch: dir.path().to_owned(), ..Enforcement::default() };
                let agent = Agent::new(updater, Default::default(), None, enforcement);

                let status = agent.enforce_policy().await;
                assert_eq!((status.policy_error, status.firewall_error), (None, None));
                assert!(spaces.reaches(&kiosk, "terminal.venue.test"), "the listed name answers");
                assert!(!spaces.reaches(&kiosk, "other.venue.test"), "a name not listed resolves, but is dropped");
                assert!(!spaces.reaches(&kiosk, "10.231.0.3") && !spaces.reaches(&kiosk, "10.231.0.5"));

                // The terminal moves; the agent follows once the TTL (raised to the shortest
                // refresh) runs out, as its loop does: an `Event::Resolve` when the name is due.
                point("10.231.0.5");
                let due = agent.next_name_refresh().await.expect("a name is followed");
                assert!(due > tokio::time::Instant::now(), "not before its TTL runs out");
                tokio::time::sleep_until(due).await;
                agent.handle(kiosk_agent::daemon::Event::Resolve).await;
                assert!(spaces.reaches(&kiosk, "10.231.0.5"), "the new address opens");
                assert!(!spaces.reaches(&kiosk, "10.231.0.2"), "the old one closes");
                assert!(spaces.reaches(&kiosk, "terminal.venue.test"), "by name, as the kiosk's programs see it");
            });
        });
        agent_thread.join().unwrap();
    });
}
