//! The agent reads a repository written by python-tuf, the reference TUF implementation, as
//! it reads its own: a release installed from it, a root rotation signed by the old root
//! followed, and one signed by the new key alone refused. `scripts/setup.sh` installs
//! python-tuf (from PyPI) into /var/tmp/kiosk-pytuf, or where KIOSK_PYTUF says.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{CountingServices, Device, RecordingDatabase, SimulatedApp, app_release, published, v};
use kiosk_agent::archive;
use kiosk_agent::catalog::{CUSTOM_KEY, Channel, Digest256, Kind, Published};
use kiosk_agent::updater::{Outcome, PollReport};

fn python() -> PathBuf {
    let venv = std::env::var_os("KIOSK_PYTUF").map_or_else(|| PathBuf::from("/var/tmp/kiosk-pytuf"), PathBuf::from);
    let python = venv.join("bin/python");
    assert!(python.is_file(), "{} is missing: run scripts/setup.sh, which installs python-tuf", python.display());
    python
}

/// An app release archive and its target entry for the spec.
fn target(scratch: &Path, version: &str, after_rotation: bool) -> serde_json::Value {
    let binary = scratch.join(format!("kiosk-app-{version}"));
    std::fs::write(&binary, format!("#!/bin/sh\n# {version}\n")).unwrap();
    let tar = archive::tar(&app_release(scratch, version, &binary)).unwrap();
    let name = format!("app-{version}.tar.zst");
    let file = scratch.join(&name);
    std::fs::write(&file, archive::compress(&tar).unwrap()).unwrap();
    let published =
        Published { content: Some(Digest256::of(&tar)), ..published(Kind::App, version, Channel::Stable, 100) };
    serde_json::json!({
        "name": name,
        "file": file,
        "custom": { CUSTOM_KEY: published },
        "after_rotation": after_rotation,
    })
}

/// How python-tuf lays the repository out.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// Snapshot and timestamp carry the next role's length and hash, not only its version.
    meta_hashes: bool,
    /// Files named by version and hash.
    consistent_snapshot: bool,
}

/// Writes a repository with python-tuf and polls it from a device running release 1.0.0.
async fn poll_python_repo(rotation: &str, layout: Layout) -> (tempfile::TempDir, Device, PollReport) {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let spec = serde_json::json!({
        "targets": [target(&scratch, "1.1.0", false), target(&scratch, "1.2.0", true)],
        "rotation": rotation,
        "meta_hashes": layout.meta_hashes,
        "consistent_snapshot": layout.consistent_snapshot,
    });
    let spec_path = scratch.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let repo = dir.path().join("python-repo");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python_tuf/write_repo.py");
    let output = std::process::Command::new(python()).arg(script).arg(&repo).arg(&spec_path).output().unwrap();
    assert!(output.status.success(), "python-tuf failed: {}", String::from_utf8_lossy(&output.stderr));

    let device = Device::new(dir.path());
    let image = scratch.join("image-app");
    std::fs::write(&image, "#!/bin/sh\n").unwrap();
    device.install_as_image("1.0.0", &app_release(&scratch, "1.0.0", &image));
    let updater = device.updater(
        device.config(&repo.display().to_string(), &repo.join("metadata/1.root.json"), 2),
        &repo.join("metadata/1.root.json"),
        Arc::new(CountingServices::default()),
        Arc::new(SimulatedApp::new(device.releases())),
        Arc::new(RecordingDatabase::default()),
    );
    let report = updater.poll().await;
    (dir, device, report)
}

#[tokio::test]
async fn a_python_tuf_repository_and_its_root_rotation_are_read_as_our_own() {
    // Snapshot and timestamp naming the next role by version alone (python-tuf's default) or
    // with its length and hash too; files named by hash (consistent snapshots) or not.
    for (meta_hashes, consistent_snapshot) in [(false, true), (true, true), (false, false)] {
        let (_dir, device, report) = poll_python_repo("trusted", Layout { meta_hashes, consistent_snapshot }).await;
        assert!(report.repository_error.is_none(), "{report:?}");
        let installed = report.outcomes.get(&Kind::App);
        assert!(matches!(installed, Some(Outcome::Installed { version, .. }) if *version == v("1.2.0")), "{report:?}");
        assert_eq!(device.releases().current().unwrap(), v("1.2.0"));
    }
}

#[tokio::test]
async fn a_python_tuf_root_rotation_without_the_old_key_is_refused() {
    let layout = Layout { meta_hashes: false, consistent_snapshot: true };
    let (_dir, device, report) = poll_python_repo("untrusted", layout).await;
    let error = report.repository_error.expect("the repository is refused");
    assert!(error.contains("Signature threshold of 1 not met for role root"), "{error}");
    assert_eq!(device.releases().current().unwrap(), v("1.0.0"));
}
