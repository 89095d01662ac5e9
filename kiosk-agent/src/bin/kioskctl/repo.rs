//! `kioskctl repo ...`: keys and the signed update repository (see `kiosk_agent::publish`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use kiosk_agent::archive::Entry;
use kiosk_agent::catalog::{Channel, Kind, Published, Version};
use kiosk_agent::publish::{self, Change, Expiry, Roles};
use kiosk_engine::MenuFile;

#[derive(Subcommand, Debug)]
pub enum RepoCommand {
    /// Write a new Ed25519 signing key (PEM, readable by you only) and print its key id.
    Keygen { file: PathBuf },
    /// Create a repository in a new folder; its metadata/1.root.json is the root of trust to
    /// install on the kiosks (/etc/kiosk/trust/root.json).
    Init {
        repo: PathBuf,
        #[command(flatten)]
        roles: RoleArgs,
        #[command(flatten)]
        expiry: ExpiryArgs,
    },
    /// Publish an app release: the kiosk-app binary and its assets, zstd-compressed, and a
    /// delta against the newest app release already published.
    AddApp {
        repo: PathBuf,
        #[command(flatten)]
        release: ReleaseArgs,
        /// The kiosk-app binary (built with --features linuxkms for a device).
        #[arg(long)]
        binary: PathBuf,
        /// A folder of assets, placed under share/ in the release (repeatable).
        #[arg(long)]
        asset: Vec<PathBuf>,
    },
    /// Publish an agent release: kiosk-agent and kioskctl.
    AddAgent {
        repo: PathBuf,
        #[command(flatten)]
        release: ReleaseArgs,
        /// The folder holding the kiosk-agent and kioskctl binaries.
        #[arg(long)]
        binaries: PathBuf,
    },
    /// Publish a menu: the menu file and everything in its folder (images), checked first.
    AddMenu {
        repo: PathBuf,
        #[command(flatten)]
        release: ReleaseArgs,
        menu: PathBuf,
    },
    /// Publish a policy file (docs/policy.md), checked first.
    AddPolicy {
        repo: PathBuf,
        #[command(flatten)]
        release: ReleaseArgs,
        policy: PathBuf,
    },
    /// Offer a published release to another share of its channel (a staged rollout's next wave).
    Rollout {
        repo: PathBuf,
        #[arg(long, value_parser = parse_kind)]
        kind: Kind,
        #[arg(long, value_parser = parse_version)]
        version: Version,
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
        percent: u8,
        #[command(flatten)]
        signing: SigningArgs,
    },
    /// Re-sign targets, snapshot and timestamp with new expiry dates (run it from cron more
    /// often than the timestamp expires: a kiosk refuses expired metadata).
    Refresh {
        repo: PathBuf,
        #[command(flatten)]
        signing: SigningArgs,
    },
    /// Replace the root: the new root lists new keys and is signed by the old root's keys and
    /// the new ones, so that kiosks trusting the old root accept it.
    RotateRoot {
        repo: PathBuf,
        /// Keys of the root being replaced (as many as its threshold).
        #[arg(long = "old-root-key", required = true)]
        old_root_keys: Vec<PathBuf>,
        #[command(flatten)]
        roles: RoleArgs,
    },
    /// What the repository offers, and until when its metadata holds.
    List { repo: PathBuf },
}

#[derive(Args, Debug)]
pub struct RoleArgs {
    /// A root key (repeatable: keep them offline, apart).
    #[arg(long = "root-key", required = true)]
    root_keys: Vec<PathBuf>,
    /// How many root keys must sign a new root.
    #[arg(long, default_value_t = 1)]
    root_threshold: u64,
    #[arg(long)]
    targets_key: PathBuf,
    #[arg(long)]
    snapshot_key: PathBuf,
    #[arg(long)]
    timestamp_key: PathBuf,
}

impl RoleArgs {
    fn roles(&self) -> Roles {
        Roles {
            root: self.root_keys.clone(),
            root_threshold: self.root_threshold,
            targets: vec![self.targets_key.clone()],
            snapshot: vec![self.snapshot_key.clone()],
            timestamp: vec![self.timestamp_key.clone()],
        }
    }

    fn online_keys(&self) -> Vec<PathBuf> {
        vec![self.targets_key.clone(), self.snapshot_key.clone(), self.timestamp_key.clone()]
    }
}

#[derive(Args, Debug)]
pub struct ExpiryArgs {
    /// Days until the targets and snapshot metadata expire.
    #[arg(long, default_value_t = 90)]
    targets_days: i64,
    /// Days until the timestamp expires.
    #[arg(long, default_value_t = 14)]
    timestamp_days: i64,
}

impl ExpiryArgs {
    fn expiry(&self) -> Expiry {
        Expiry {
            targets_days: self.targets_days,
            snapshot_days: self.targets_days,
            timestamp_days: self.timestamp_days,
            ..Expiry::default()
        }
    }
}

#[derive(Args, Debug)]
pub struct SigningArgs {
    /// The targets, snapshot and timestamp keys (repeat --key for each).
    #[arg(long = "key", required = true)]
    keys: Vec<PathBuf>,
    #[command(flatten)]
    expiry: ExpiryArgs,
}

#[derive(Args, Debug)]
pub struct ReleaseArgs {
    #[arg(long, value_parser = parse_version)]
    version: Version,
    /// Pilot kiosks take pilot and stable releases; the others stable ones only.
    #[arg(long, default_value = "stable", value_parser = parse_channel)]
    channel: Channel,
    /// The share of the channel's kiosks offered it, 1 to 100 (a kiosk's place is fixed by its id).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=100))]
    rollout: u8,
    #[command(flatten)]
    signing: SigningArgs,
}

impl ReleaseArgs {
    fn published(&self, kind: Kind) -> Published {
        Published {
            kind,
            version: self.version.clone(),
            channel: self.channel,
            rollout: self.rollout,
            content: None,
            patch_from: None,
        }
    }
}

fn parse_version(text: &str) -> Result<Version, String> {
    Version::parse(text)
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    Kind::ALL
        .into_iter()
        .find(|kind| kind.name() == text)
        .ok_or_else(|| format!("\"{text}\" is not app, agent, menu or policy"))
}

fn parse_channel(text: &str) -> Result<Channel, String> {
    match text {
        "stable" => Ok(Channel::Stable),
        "pilot" => Ok(Channel::Pilot),
        other => Err(format!("\"{other}\" is not a channel (stable, pilot)")),
    }
}

pub async fn run(command: RepoCommand) -> Result<()> {
    match command {
        RepoCommand::Keygen { file } => println!("{}", publish::generate_key(&file).await?),
        RepoCommand::Init { repo, roles, expiry } => {
            publish::init(&repo, &roles.roles(), &expiry.expiry()).await?;
            println!("repository created; install {} on the kiosks", repo.join("metadata/1.root.json").display());
        }
        RepoCommand::AddApp { repo, release, binary, asset } => {
            let scratch = tempfile::tempdir()?;
            let mut entries =
                vec![executable(&binary, "bin/kiosk-app")?, release_file(scratch.path(), &release.version)?];
            for folder in &asset {
                let name = folder.file_name().with_context(|| format!("{} names no folder", folder.display()))?;
                entries.extend(Entry::folder(folder, &Path::new("share").join(name))?);
            }
            publish_release(&repo, &release, Kind::App, &entries, scratch.path()).await?;
        }
        RepoCommand::AddAgent { repo, release, binaries } => {
            let scratch = tempfile::tempdir()?;
            let entries = vec![
                executable(&binaries.join("kiosk-agent"), "bin/kiosk-agent")?,
                executable(&binaries.join("kioskctl"), "bin/kioskctl")?,
                release_file(scratch.path(), &release.version)?,
            ];
            publish_release(&repo, &release, Kind::Agent, &entries, scratch.path()).await?;
        }
        RepoCommand::AddMenu { repo, release, menu } => {
            MenuFile::load(&menu)?;
            if menu.file_name().is_none_or(|name| name != "menu.toml") {
                bail!("{}: a published menu is a folder's menu.toml, with its images beside it", menu.display());
            }
            let folder = menu.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let scratch = tempfile::tempdir()?;
            publish_release(&repo, &release, Kind::Menu, &Entry::folder(folder, Path::new(""))?, scratch.path())
                .await?;
        }
        RepoCommand::AddPolicy { repo, release, policy } => {
            kiosk_agent::policy::Policy::load(&policy)?;
            let change = Change::Add(publish::NewTarget {
                name: format!("policy-{}.toml", release.version),
                file: policy,
                published: release.published(Kind::Policy),
            });
            publish::publish(&repo, &release.signing.keys, vec![change], &release.signing.expiry.expiry()).await?;
            println!("policy {} published", release.version);
        }
        RepoCommand::Rollout { repo, kind, version, percent, signing } => {
            let change = Change::Rollout { kind, version: version.clone(), percent };
            publish::publish(&repo, &signing.keys, vec![change], &signing.expiry.expiry()).await?;
            println!("{kind} {version} offered to {percent}% of its channel");
        }
        RepoCommand::Refresh { repo, signing } => {
            publish::publish(&repo, &signing.keys, Vec::new(), &signing.expiry.expiry()).await?;
            println!("metadata re-signed");
        }
        RepoCommand::RotateRoot { repo, old_root_keys, roles } => {
            publish::rotate_root(&repo, &old_root_keys, &roles.roles(), &roles.online_keys(), &Expiry::default())
                .await?;
            println!("root replaced");
        }
        RepoCommand::List { repo } => list(&repo).await?,
    }
    Ok(())
}

async fn publish_release(
    repo: &Path,
    release: &ReleaseArgs,
    kind: Kind,
    entries: &[Entry],
    scratch: &Path,
) -> Result<()> {
    let changes = publish::release_targets(repo, release.published(kind), entries, scratch).await?;
    let delta = changes.len() > 1;
    publish::publish(repo, &release.signing.keys, changes, &release.signing.expiry.expiry()).await?;
    let with_delta = if delta { ", with a delta from the previous release" } else { "" };
    println!("{kind} {} published on {:?} for {}%{with_delta}", release.version, release.channel, release.rollout);
    Ok(())
}

fn executable(source: &Path, inside: &str) -> Result<Entry> {
    if !source.is_file() {
        bail!("{} is not a file", source.display());
    }
    Ok(Entry { source: source.to_owned(), inside: inside.into(), executable: true })
}

/// The `RELEASE` file that tells a running binary which release it is.
fn release_file(scratch: &Path, version: &Version) -> Result<Entry> {
    let source = scratch.join("RELEASE");
    std::fs::write(&source, format!("{version}\n"))?;
    Ok(Entry { source, inside: "RELEASE".into(), executable: false })
}

async fn list(repo: &Path) -> Result<()> {
    let datastore = tempfile::tempdir()?;
    let loaded = publish::load(repo, datastore.path()).await?;
    let mut rows: Vec<(Published, String, u64)> = loaded
        .all_targets()
        .filter_map(|(name, target)| Some((publish::published_of(target)?, name.raw().to_owned(), target.length)))
        .collect();
    rows.sort_by(|a, b| (a.0.kind, &a.0.version).cmp(&(b.0.kind, &b.0.version)));
    for (published, name, length) in rows {
        let delta = published.patch_from.map(|from| format!(" delta from {from}")).unwrap_or_default();
        println!(
            "{:<7} {:<12} {:<7} {:>3}% {:>10} B  {name}{delta}",
            published.kind.name(),
            published.version,
            format!("{:?}", published.channel).to_lowercase(),
            published.rollout,
            length
        );
    }
    println!("timestamp expires {}", loaded.timestamp().signed.expires);
    println!("snapshot expires  {}", loaded.snapshot().signed.expires);
    println!("targets expire    {}", loaded.targets().signed.expires);
    Ok(())
}
