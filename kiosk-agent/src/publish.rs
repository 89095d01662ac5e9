//! The IT side of updates (`kioskctl repo ...`): signing keys, and a signed repository in a
//! folder that any static web server, object store or CDN can serve, or a USB stick carry.
//!
//! The repository follows The Update Framework with consistent snapshots:
//!
//! ```text
//! REPO/metadata/1.root.json, 2.root.json ...  every root, each signed by the one before
//! REPO/metadata/N.targets.json                what is offered, with hashes and the `kiosk` metadata
//! REPO/metadata/N.snapshot.json               which targets version is current
//! REPO/metadata/timestamp.json                which snapshot is current; short-lived
//! REPO/targets/<sha256>.<name>                the files: app-1.2.0.tar.zst, menu-2026.12.1.tar.zst ...
//! ```
//!
//! Files are written beside their final place and renamed into it, the timestamp last, so a
//! kiosk polling during a publication sees the old state or the new one.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use async_trait::async_trait;
use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use tough::editor::RepositoryEditor;
use tough::editor::signed::{PathExists, SignedRole};
use tough::key_source::KeySource;
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::{KeyHolder, RoleKeys, RoleType, Root, Target};
use tough::sign::Sign;
use tough::{ExpirationEnforcement, RepositoryLoader, TargetName};

use crate::catalog::{CUSTOM_KEY, Kind, Published, Version};

/// How long each role's signature holds, in days. The timestamp is short so that a kiosk
/// cannot be kept on an old state (a freeze attack): re-sign it with `kioskctl repo refresh`
/// more often than that, from cron.
#[derive(Clone, Copy, Debug)]
pub struct Expiry {
    pub root_days: i64,
    pub targets_days: i64,
    pub snapshot_days: i64,
    pub timestamp_days: i64,
}

impl Default for Expiry {
    fn default() -> Expiry {
        Expiry { root_days: 365, targets_days: 90, snapshot_days: 90, timestamp_days: 14 }
    }
}

/// The keys of each role, as files made by [`generate_key`], and how many root signatures a
/// new root needs.
#[derive(Clone, Debug)]
pub struct Roles {
    pub root: Vec<PathBuf>,
    pub root_threshold: u64,
    pub targets: Vec<PathBuf>,
    pub snapshot: Vec<PathBuf>,
    pub timestamp: Vec<PathBuf>,
}

/// A private key in a PEM file (PKCS#8), as [`generate_key`] writes it.
#[derive(Debug)]
struct PemKey(PathBuf);

#[async_trait]
impl KeySource for PemKey {
    async fn as_sign(&self) -> Result<Box<dyn Sign>, Box<dyn std::error::Error + Send + Sync + 'static>> {
        let der = read_pem(&self.0)?;
        Ok(Box::new(tough::sign::parse_keypair(&der)?))
    }

    async fn write(&self, _: &str, _: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        Err("kioskctl never rewrites a key file".into())
    }
}

fn read_pem(path: &Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))?;
    let body: String = text.lines().filter(|line| !line.starts_with("-----")).collect();
    if !text.contains("-----BEGIN PRIVATE KEY-----") {
        bail!("{} is not a private key in PEM (kioskctl repo keygen writes one)", path.display());
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .with_context(|| format!("{} is not a private key in PEM", path.display()))
}

fn key_sources(paths: &[PathBuf]) -> Vec<Box<dyn KeySource>> {
    paths.iter().map(|path| Box::new(PemKey(path.clone())) as Box<dyn KeySource>).collect()
}

async fn public_key(path: &Path) -> Result<(Decoded<Hex>, tough::schema::key::Key)> {
    let sign = PemKey(path.to_owned()).as_sign().await.map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let key = sign.tuf_key();
    Ok((key.key_id()?, key))
}

/// Writes a new Ed25519 signing key to `path` (readable by its owner only) and returns its
/// TUF key id. Refuses to replace an existing file.
pub async fn generate_key(path: &Path) -> Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| anyhow!("the system gave no randomness for a key"))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the key {} (an existing key is never replaced)", path.display()))?;
    file.write_all(pem.as_bytes())?;
    file.sync_all()?;
    Ok(hex::encode(public_key(path).await?.0))
}

fn days_from_now(days: i64) -> Result<jiff::Timestamp> {
    Ok(jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(days * 24))?)
}

fn metadata_dir(repo: &Path) -> PathBuf {
    repo.join("metadata")
}

fn targets_dir(repo: &Path) -> PathBuf {
    repo.join("targets")
}

/// The newest root of a repository and its version.
fn latest_root(repo: &Path) -> Result<(u64, PathBuf)> {
    let dir = metadata_dir(repo);
    let listing = std::fs::read_dir(&dir).with_context(|| format!("{} is not an update repository", repo.display()))?;
    let mut newest = None;
    for entry in listing {
        let name = entry?.file_name();
        let version = name.to_str().and_then(|n| n.strip_suffix(".root.json")).and_then(|v| v.parse::<u64>().ok());
        if let Some(version) = version
            && newest.as_ref().is_none_or(|(newest, _)| version > *newest)
        {
            newest = Some((version, dir.join(name)));
        }
    }
    newest.with_context(|| format!("{} has no root metadata (kioskctl repo init makes it)", dir.display()))
}

/// A root listing each role's keys.
async fn root_of(roles: &Roles, version: u64, expiry: &Expiry) -> Result<Root> {
    if roles.root_threshold == 0 || roles.root_threshold > roles.root.len() as u64 {
        bail!("the root threshold {} needs between 1 and {} root keys", roles.root_threshold, roles.root.len());
    }
    let mut keys = HashMap::new();
    let mut role_keys = HashMap::new();
    for (role, paths, threshold) in [
        (RoleType::Root, &roles.root, roles.root_threshold),
        (RoleType::Targets, &roles.targets, 1),
        (RoleType::Snapshot, &roles.snapshot, 1),
        (RoleType::Timestamp, &roles.timestamp, 1),
    ] {
        if paths.is_empty() {
            bail!("the {role} role needs a key");
        }
        let mut keyids = Vec::new();
        for path in paths {
            let (id, key) = public_key(path).await?;
            keys.insert(id.clone(), key);
            keyids.push(id);
        }
        let threshold = NonZeroU64::new(threshold).expect("checked above");
        role_keys.insert(role, RoleKeys { keyids, threshold, _extra: HashMap::new() });
    }
    Ok(Root {
        spec_version: "1.0.0".into(),
        consistent_snapshot: true,
        version: NonZeroU64::new(version).context("a root version starts at 1")?,
        expires: days_from_now(expiry.root_days)?,
        keys,
        roles: role_keys,
        _extra: HashMap::new(),
    })
}

/// Creates a repository at `repo` (an empty or missing folder): root version 1 signed by the
/// root keys, and empty targets, snapshot and timestamp. `metadata/1.root.json` is the root of
/// trust to install on the kiosks (`/etc/kiosk/trust/root.json`).
pub async fn init(repo: &Path, roles: &Roles, expiry: &Expiry) -> Result<()> {
    if metadata_dir(repo).exists() {
        bail!("{} already holds a repository", repo.display());
    }
    let root = root_of(roles, 1, expiry).await?;
    let signed =
        SignedRole::new(root.clone(), &KeyHolder::Root(root), &key_sources(&roles.root), &SystemRandom::new()).await?;
    let staging = staging_dir(repo)?;
    signed.write(&staging, true).await?;
    std::fs::create_dir_all(targets_dir(repo))?;
    let online: Vec<PathBuf> =
        [&roles.targets, &roles.snapshot, &roles.timestamp].into_iter().flatten().cloned().collect();
    let mut editor = RepositoryEditor::new(staging.join("1.root.json")).await?;
    let one = NonZeroU64::MIN;
    editor.targets_version(one)?.targets_expires(days_from_now(expiry.targets_days)?)?;
    editor.snapshot_version(one).snapshot_expires(days_from_now(expiry.snapshot_days)?);
    editor.timestamp_version(one).timestamp_expires(days_from_now(expiry.timestamp_days)?);
    let signed = editor.sign(&key_sources(&online)).await.context("cannot sign the first metadata")?;
    signed.write(&staging).await?;
    move_metadata_in(&staging, repo)
}

/// A file to add to the repository as a target.
#[derive(Clone, Debug)]
pub struct NewTarget {
    pub name: String,
    pub file: PathBuf,
    pub published: Published,
}

/// A change to what a repository offers.
#[derive(Clone, Debug)]
pub enum Change {
    Add(NewTarget),
    /// Offer a published release to another share of its channel (a staged rollout's next wave).
    Rollout {
        kind: Kind,
        version: Version,
        percent: u8,
    },
}

/// Applies `changes` and signs a new targets, snapshot and timestamp with `keys` (no change:
/// only re-signs, pushing every expiry back).
pub async fn publish(repo: &Path, keys: &[PathBuf], changes: Vec<Change>, expiry: &Expiry) -> Result<()> {
    let (_, root_path) = latest_root(repo)?;
    let scratch = tempfile::tempdir()?;
    let current = load(repo, scratch.path()).await?;
    let staging = staging_dir(repo)?;
    let signed = sign_onto(repo, current, &root_path, keys, changes, expiry, &staging).await;
    if signed.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    signed?;
    move_metadata_in(&staging, repo)
}

/// Signs the next targets, snapshot and timestamp after `current`, under the root at
/// `root_path`, into `staging`; copies new target files into the repository.
async fn sign_onto(
    repo: &Path,
    current: tough::Repository,
    root_path: &Path,
    keys: &[PathBuf],
    changes: Vec<Change>,
    expiry: &Expiry,
    staging: &Path,
) -> Result<()> {
    let versions = (
        current.targets().signed.version.get(),
        current.snapshot().signed.version.get(),
        current.timestamp().signed.version.get(),
    );
    let mut targets = current.targets().signed.targets.clone();
    let mut files = Vec::new();
    for change in changes {
        match change {
            Change::Add(new) => {
                let name = TargetName::new(new.name.clone())?;
                let taken = targets.values().filter_map(published_of).any(|p| {
                    p.kind == new.published.kind && p.version == new.published.version && p.patch_from.is_none()
                });
                if targets.contains_key(&name) || (new.published.patch_from.is_none() && taken) {
                    bail!(
                        "{} {} is already published: a new release needs a new version",
                        new.published.kind,
                        new.published.version
                    );
                }
                let mut target = Target::from_path(&new.file).await?;
                target.custom.insert(CUSTOM_KEY.into(), serde_json::to_value(&new.published)?);
                targets.insert(name.clone(), target);
                files.push((new.file, name));
            }
            Change::Rollout { kind, version, percent } => {
                let found = targets.values_mut().find(|target| {
                    published_of(target)
                        .is_some_and(|p| p.kind == kind && p.version == version && p.patch_from.is_none())
                });
                let target = found.with_context(|| format!("no {kind} {version} is published"))?;
                let mut published = published_of(target).expect("found by it");
                published.rollout = percent;
                target.custom.insert(CUSTOM_KEY.into(), serde_json::to_value(&published)?);
            }
        }
    }
    let mut editor = RepositoryEditor::from_repo(root_path, current).await?;
    editor.clear_targets()?;
    for (name, target) in targets {
        editor.add_target(name, target)?;
    }
    let next = |version: u64| NonZeroU64::new(version + 1).expect("above zero");
    editor.targets_version(next(versions.0))?.targets_expires(days_from_now(expiry.targets_days)?)?;
    editor.snapshot_version(next(versions.1)).snapshot_expires(days_from_now(expiry.snapshot_days)?);
    editor.timestamp_version(next(versions.2)).timestamp_expires(days_from_now(expiry.timestamp_days)?);
    let signed = editor.sign(&key_sources(keys)).await.context("cannot sign: are these the repository's keys?")?;
    for (file, name) in &files {
        signed.copy_target(file, &targets_dir(repo), PathExists::Skip, Some(name)).await?;
    }
    signed.write(staging).await?;
    Ok(())
}

/// Replaces the root: version N+1 lists `roles`' keys and is signed by the old root's keys
/// (`old_root_keys`, as many as its threshold) and by the new root keys, so that a kiosk
/// trusting root N accepts it. The other roles are re-signed under the new root.
pub async fn rotate_root(
    repo: &Path,
    old_root_keys: &[PathBuf],
    roles: &Roles,
    online_keys: &[PathBuf],
    expiry: &Expiry,
) -> Result<()> {
    let (version, old_path) = latest_root(repo)?;
    let scratch = tempfile::tempdir()?;
    let current = load(repo, scratch.path()).await?;
    let old: tough::schema::Signed<Root> = serde_json::from_slice(&std::fs::read(&old_path)?)?;
    let new_root = root_of(roles, version + 1, expiry).await?;
    let random = SystemRandom::new();
    let by_new =
        SignedRole::new(new_root.clone(), &KeyHolder::Root(new_root.clone()), &key_sources(&roles.root), &random)
            .await?;
    let old_threshold = old.signed.roles.get(&RoleType::Root).map_or(1, |keys| keys.threshold.get());
    let too_few = || anyhow!("the old root needs {old_threshold} of its keys to sign its successor");
    let by_old = SignedRole::new(new_root, &KeyHolder::Root(old.signed.clone()), &key_sources(old_root_keys), &random)
        .await
        .map_err(|_| too_few())?;
    if (by_old.signed().signatures.len() as u64) < old_threshold {
        return Err(too_few());
    }
    let signed = by_new.add_old_signatures(by_old.signed().signatures.clone())?;
    // The other roles are signed again under the new root before any of it is published: a
    // kiosk reading the repository meanwhile sees the old state whole, or the new one.
    let staging = staging_dir(repo)?;
    signed.write(&staging, true).await?;
    let new_root_path = staging.join(format!("{}.root.json", version + 1));
    let resigned = sign_onto(repo, current, &new_root_path, online_keys, Vec::new(), expiry, &staging).await;
    if resigned.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    resigned?;
    move_metadata_in(&staging, repo)
}

/// The repository as a kiosk would read it, expiry aside (its owner may be renewing it).
pub async fn load(repo: &Path, datastore: &Path) -> Result<tough::Repository> {
    let root = std::fs::read(metadata_dir(repo).join("1.root.json"))
        .with_context(|| format!("{} has no 1.root.json: not an update repository", repo.display()))?;
    let url = |dir: PathBuf| {
        let dir = dir.canonicalize().with_context(|| format!("cannot open {}", dir.display()))?;
        url::Url::from_directory_path(&dir).map_err(|()| anyhow!("{} is not a folder path", dir.display()))
    };
    RepositoryLoader::new(&root, url(metadata_dir(repo))?, url(targets_dir(repo))?)
        .datastore(datastore)
        .expiration_enforcement(ExpirationEnforcement::Unsafe)
        .load()
        .await
        .with_context(|| format!("cannot read the repository {}", repo.display()))
}

/// The `kiosk` metadata of a target, if it has readable one.
pub fn published_of(target: &Target) -> Option<Published> {
    target.custom.get(CUSTOM_KEY).and_then(|value| serde_json::from_value(value.clone()).ok())
}

fn staging_dir(repo: &Path) -> Result<PathBuf> {
    let staging = repo.join(format!(".staging-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    Ok(staging)
}

/// Renames the staged metadata into `metadata/`: roots, then targets, then snapshot, then
/// the timestamp that makes them current.
fn move_metadata_in(staging: &Path, repo: &Path) -> Result<()> {
    let metadata = metadata_dir(repo);
    std::fs::create_dir_all(&metadata)?;
    let mut names: Vec<String> = std::fs::read_dir(staging)?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_>>()?;
    let rank = |name: &str| {
        ["root.json", "targets.json", "snapshot.json", "timestamp.json"].iter().position(|end| name.ends_with(end))
    };
    names.sort_by_key(|name| rank(name));
    for name in names {
        std::fs::rename(staging.join(&name), metadata.join(&name))
            .with_context(|| format!("cannot write {}", metadata.join(&name).display()))?;
    }
    std::fs::remove_dir(staging)?;
    Ok(())
}

/// Packs a release or a menu (`entries`) as `kind` `version` into `scratch`, and a delta
/// against the newest of that kind already published, when there is one: the targets to add.
pub async fn release_targets(
    repo: &Path,
    published: Published,
    entries: &[crate::archive::Entry],
    scratch: &Path,
) -> Result<Vec<Change>> {
    let tar = crate::archive::tar(entries)?;
    let archive = crate::archive::compress(&tar)?;
    let kind = published.kind;
    let full = NewTarget {
        name: format!("{kind}-{}.tar.zst", published.version),
        file: scratch.join(format!("{kind}-{}.tar.zst", published.version)),
        published: Published { content: Some(crate::catalog::Digest256::of(&tar)), patch_from: None, ..published },
    };
    std::fs::write(&full.file, &archive)?;
    let mut changes = vec![Change::Add(full.clone())];
    let datastore = tempfile::tempdir()?;
    let current = load(repo, datastore.path()).await?;
    let previous = current
        .targets()
        .signed
        .targets
        .iter()
        .filter_map(|(name, target)| Some((name, published_of(target)?)))
        .filter(|(_, p)| p.kind == kind && p.patch_from.is_none() && p.version < full.published.version)
        .max_by(|a, b| a.1.version.cmp(&b.1.version));
    if let Some((name, previous)) = previous {
        let stream = current.read_target(name).await?.with_context(|| format!("{name:?} is listed but missing"))?;
        let old_archive = tough::IntoVec::into_vec(stream).await?;
        let old_tar = crate::archive::decompress(&old_archive)?;
        let patch = crate::archive::patch(&old_tar, &tar)?;
        let delta = NewTarget {
            name: format!("{kind}-{}-from-{}.patch.zst", full.published.version, previous.version),
            file: scratch.join(format!("{kind}-{}-from-{}.patch.zst", full.published.version, previous.version)),
            published: Published { patch_from: Some(previous.version), ..full.published },
        };
        std::fs::write(&delta.file, patch)?;
        changes.push(Change::Add(delta));
    }
    Ok(changes)
}
