//! What the update tests, the update crash harness and the update figures share: a signed
//! repository with its keys, and app releases to publish into it. Helpers panic on failure,
//! as test fixtures do.

use std::path::{Path, PathBuf};

use kiosk_agent::archive::Entry;
use kiosk_agent::catalog::{Channel, Kind, Published, Version};
use kiosk_agent::publish::{self, Change, Expiry, Roles};

pub fn v(text: &str) -> Version {
    Version::parse(text).unwrap()
}

/// A repository and the keys that sign it.
#[derive(Clone, Debug)]
pub struct Repo {
    pub dir: PathBuf,
    pub keys: PathBuf,
}

impl Repo {
    pub async fn create(at: &Path) -> Repo {
        let repo = Repo { dir: at.join("repo"), keys: at.join("keys") };
        std::fs::create_dir_all(&repo.keys).unwrap();
        for role in ["root", "targets", "snapshot", "timestamp"] {
            publish::generate_key(&repo.key(role)).await.unwrap();
        }
        publish::init(&repo.dir, &repo.roles(), &Expiry::default()).await.unwrap();
        repo
    }

    pub fn key(&self, role: &str) -> PathBuf {
        self.keys.join(format!("{role}.pem"))
    }

    pub fn roles(&self) -> Roles {
        Roles {
            root: vec![self.key("root")],
            root_threshold: 1,
            targets: vec![self.key("targets")],
            snapshot: vec![self.key("snapshot")],
            timestamp: vec![self.key("timestamp")],
        }
    }

    pub fn online_keys(&self) -> Vec<PathBuf> {
        vec![self.key("targets"), self.key("snapshot"), self.key("timestamp")]
    }

    pub fn root_of_trust(&self) -> PathBuf {
        self.dir.join("metadata/1.root.json")
    }

    /// Publishes `entries` as `kind` `version` for every stable kiosk, with a delta from the
    /// newest of its kind already there.
    pub async fn add(&self, kind: Kind, version: &str, entries: &[Entry]) {
        self.add_as(published(kind, version, Channel::Stable, 100), entries).await;
    }

    /// Publishes `entries` as `published` says, with a delta from the newest of its kind.
    pub async fn add_as(&self, published: Published, entries: &[Entry]) {
        self.add_signed(published, entries, &Expiry::default()).await;
    }

    /// Publishes `entries` with metadata expiring as `expiry` says.
    pub async fn add_signed(&self, published: Published, entries: &[Entry], expiry: &Expiry) {
        let scratch = tempfile::tempdir().unwrap();
        let changes = publish::release_targets(&self.dir, published, entries, scratch.path()).await.unwrap();
        self.sign(changes, expiry).await;
    }

    pub async fn sign(&self, changes: Vec<Change>, expiry: &Expiry) {
        publish::publish(&self.dir, &self.online_keys(), changes, expiry).await.unwrap();
    }

    /// The size of a published target file.
    pub fn target_length(&self, name_ends: &str) -> u64 {
        let found = std::fs::read_dir(self.dir.join("targets"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| path.to_string_lossy().ends_with(name_ends))
            .unwrap_or_else(|| panic!("no target ends with {name_ends}"));
        std::fs::metadata(found).unwrap().len()
    }
}

/// An app release: `binary` as bin/kiosk-app and its RELEASE file, written under `scratch`.
pub fn app_release(scratch: &Path, version: &str, binary: &Path) -> Vec<Entry> {
    let release = scratch.join(format!("RELEASE-{version}"));
    std::fs::write(&release, format!("{version}\n")).unwrap();
    vec![
        Entry { source: binary.to_owned(), inside: "bin/kiosk-app".into(), executable: true },
        Entry { source: release, inside: "RELEASE".into(), executable: false },
    ]
}

/// What a target offers: `kind` `version` to `rollout`% of the `channel`'s kiosks.
pub fn published(kind: Kind, version: &str, channel: Channel, rollout: u8) -> Published {
    Published { kind, version: v(version), channel, rollout, content: None, patch_from: None }
}

/// The agent's config for a device laid out under `device` as the image lays it out, reading
/// `repository` against `trusted_root` every `poll_seconds`, with `gate_seconds` for both
/// gates. Sections (`[service]`, `[health]`) may be appended.
pub fn agent_config(
    device: &Path,
    repository: &str,
    trusted_root: &Path,
    kioskctl: &Path,
    poll_seconds: u64,
    gate_seconds: u64,
) -> String {
    let d = device.display();
    format!(
        r#"[updates]
repository = "{repository}"
trusted_root = "{trusted_root}"
poll_seconds = {poll_seconds}
jitter_seconds = 0
gate_seconds = {gate_seconds}
agent_gate_seconds = {gate_seconds}

[paths]
device_config = "{d}/kiosk.toml"
db = "{d}/kiosk.db"
app_releases = "{d}/releases"
agent_releases = "{d}/agent-releases"
backups = "{d}/backups"
menus = "{d}/menus"
state = "{d}/agent"
policy = "{d}/policy.toml"
app_socket = "{d}/app.sock"
kioskctl = "{kioskctl}"
"#,
        trusted_root = trusted_root.display(),
        kioskctl = kioskctl.display(),
    )
}
