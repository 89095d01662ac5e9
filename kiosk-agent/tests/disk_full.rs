//! A full disk refuses an update and leaves the running release as it was: the releases
//! folder is a 1 MiB tmpfs in a mount namespace of the test's own (never the host's), and the
//! real agent is offered a release that does not fit. Runs as root (as CI does); elsewhere it
//! says it was skipped.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::{Device, Repo, app_release};
use kiosk_agent::catalog::Kind;

#[tokio::test]
async fn a_full_disk_refuses_the_update_and_keeps_the_running_release() {
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        eprintln!("skipped: a mount namespace needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let repo = Repo::create(dir.path()).await;
    let device = Device::new(dir.path());
    let small = dir.path().join("kiosk-app-small");
    std::fs::write(&small, "#!/bin/sh\n").unwrap();
    let first = app_release(dir.path(), "1.0.0", &small);
    repo.add(Kind::App, "1.0.0", &first).await;
    device.install_as_image("1.0.0", &first);
    // 3 MiB that do not compress: more than the whole releases folder can hold.
    let large = dir.path().join("kiosk-app-large");
    let bytes: Vec<u8> = (0..3u32 << 20).map(|n| (n.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    std::fs::write(&large, bytes).unwrap();
    repo.add(Kind::App, "1.1.0", &app_release(dir.path(), "1.1.0", &large)).await;

    let config = device.config_text(&repo.dir.display().to_string(), &repo.root_of_trust(), 5)
        + "\n[service]\nrestart_app = [\"true\"]\nrestart_agent = [\"true\"]\nstart_helper = []\n"
        + "\n[health]\nmetrics_listen = \"127.0.0.1:0\"\n";
    let config_path = dir.path().join("agent.toml");
    std::fs::write(&config_path, config).unwrap();
    let releases = device.dir.join("releases");
    let log = dir.path().join("agent.log");
    let script = format!(
        r#"set -e
cp -a "{releases}" "{releases}.image"
mount -t tmpfs -o size=1m tmpfs "{releases}"
cp -a "{releases}.image/." "{releases}/"
"{agent}" --dev --config "{config}" >"{log}" 2>&1 &
agent=$!
for _ in $(seq 300); do grep -q "refused" "{log}" && break; sleep 0.1; done
kill $agent
echo "current=$(readlink "{releases}/current")"
ls -a "{releases}"
"#,
        releases = releases.display(),
        agent = env!("CARGO_BIN_EXE_kiosk-agent"),
        config = config_path.display(),
        log = log.display(),
    );
    let output =
        std::process::Command::new("unshare").arg("--mount").arg("sh").arg("-c").arg(&script).output().unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(output.status.success(), "{output:?}\n{said}");
    assert!(said.contains("refused") && said.contains("No space left on device"), "{said}");
    assert!(printed.contains("current=1.0.0"), "the running release stays current: {printed}");
    assert!(!printed.contains(".unpacking") && !printed.contains("1.1.0"), "nothing left half unpacked: {printed}");
    assert_eq!(device.releases().current().unwrap(), common::v("1.0.0"), "the folder outside the namespace too");
}
