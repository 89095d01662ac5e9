//! The releases on the device, side by side, and which one runs:
//!
//! ```text
//! releases/1.4.0/           an unpacked release: bin/kiosk-app, RELEASE, assets
//! releases/1.5.0/
//! releases/current -> 1.5.0 the one the service starts (switched by an atomic rename)
//! releases/state.json       the committed release, the one before it, the one being tried
//! ```
//!
//! A release is tried before it is committed: `state.json` names it as tried before `current`
//! is switched to it, and as committed only after it passed its health gate. An agent that
//! stops anywhere in between (a crash, a power cut) finds at its next start a release being
//! tried and switches back to the committed one: exactly one release is committed and runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::catalog::Version;

/// How many times a release is tried after the agent stopped while trying it, before it is
/// given up as failed (it may be what stops the agent).
pub const MAX_TRIES: u32 = 3;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub committed: Version,
    /// The release committed before, kept as a fallback.
    #[serde(default)]
    pub previous: Option<Version>,
    /// The release being installed or tried.
    #[serde(default)]
    pub trying: Option<Version>,
    /// How many times each release not yet committed nor failed was tried.
    #[serde(default)]
    pub tries: BTreeMap<String, u32>,
    /// Releases that failed, with why: not tried again (a fixed release gets a new version).
    #[serde(default)]
    pub failed: BTreeMap<String, String>,
}

/// A folder of releases of one program (the app's, or the agent's).
#[derive(Clone, Debug)]
pub struct Releases {
    dir: PathBuf,
}

/// What [`Releases::recover`] found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// Nothing was under way.
    Clean,
    /// A release was being installed or tried; the committed one is current again and should
    /// be (re)started, and the release may be tried again.
    Interrupted { version: Version, given_up: bool },
}

impl Releases {
    pub fn at(dir: &Path) -> Releases {
        Releases { dir: dir.to_owned() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn folder(&self, version: &Version) -> PathBuf {
        self.dir.join(version.as_str())
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The release `current` points at.
    pub fn current(&self) -> Result<Version> {
        let link = self.dir.join("current");
        let target =
            std::fs::read_link(&link).with_context(|| format!("{} is not a link to a release", link.display()))?;
        let name = target.file_name().and_then(|name| name.to_str()).unwrap_or_default();
        Version::parse(name).map_err(anyhow::Error::msg)
    }

    /// The state, or, on a device where none was written yet (a fresh image), the release
    /// `current` points at as the committed one.
    pub fn state(&self) -> Result<State> {
        match std::fs::read(self.state_path()) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", self.state_path().display()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(State {
                committed: self.current()?,
                previous: None,
                trying: None,
                tries: BTreeMap::new(),
                failed: BTreeMap::new(),
            }),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", self.state_path().display())),
        }
    }

    pub fn save(&self, state: &State) -> Result<()> {
        write_atomically(&self.state_path(), &serde_json::to_vec_pretty(state)?)
    }

    /// Points `current` at `version`, in one rename.
    pub fn switch(&self, version: &Version) -> Result<()> {
        if !self.folder(version).join("RELEASE").is_file() {
            bail!("release {version} is not installed in {}", self.dir.display());
        }
        let staged = self.dir.join("current.next");
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(version.as_str(), &staged)?;
        std::fs::rename(&staged, self.dir.join("current")).context("cannot switch the current release")?;
        sync_dir(&self.dir)
    }

    /// Unpacks the tar of release `version` beside the others: into a scratch folder first,
    /// renamed into place once whole and checked (its `RELEASE` says `version`).
    pub fn install(&self, version: &Version, tar: &[u8]) -> Result<PathBuf> {
        let folder = self.folder(version);
        let scratch = self.dir.join(format!(".unpacking-{version}"));
        let _ = std::fs::remove_dir_all(&scratch);
        if let Err(error) = crate::archive::unpack(tar, &scratch) {
            // A full disk, most likely: leave the space as it was.
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(error.context(format!("cannot unpack release {version}")));
        }
        let named = std::fs::read_to_string(scratch.join("RELEASE")).unwrap_or_default();
        if named.trim() != version.as_str() {
            let _ = std::fs::remove_dir_all(&scratch);
            bail!("the archive of release {version} says it is {:?}", named.trim());
        }
        if folder.exists() {
            std::fs::remove_dir_all(&folder)?;
        }
        std::fs::rename(&scratch, &folder)?;
        sync_dir(&self.dir)?;
        Ok(folder)
    }

    /// At the agent's start: puts things back as committed after an interrupted update.
    pub fn recover(&self) -> Result<Recovery> {
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if name.to_string_lossy().starts_with(".unpacking-") {
                std::fs::remove_dir_all(self.dir.join(&name))?;
            }
        }
        let mut state = self.state()?;
        let recovery = match state.trying.take() {
            None => Recovery::Clean,
            Some(version) => {
                let tries = state.tries.get(version.as_str()).copied().unwrap_or(0);
                let given_up = tries >= MAX_TRIES;
                if given_up {
                    state.tries.remove(version.as_str());
                    state
                        .failed
                        .insert(version.to_string(), format!("the agent stopped {tries} times while trying it"));
                }
                Recovery::Interrupted { version, given_up }
            }
        };
        if self.current().ok().as_ref() != Some(&state.committed) {
            self.switch(&state.committed)?;
        }
        self.save(&state)?;
        Ok(recovery)
    }

    /// Removes the releases that are neither committed, the fallback, nor being tried.
    pub fn prune(&self) -> Result<()> {
        let state = self.state()?;
        let keep: Vec<&Version> =
            [Some(&state.committed), state.previous.as_ref(), state.trying.as_ref()].into_iter().flatten().collect();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let release = Version::parse(&name).ok();
            if entry.file_type()?.is_dir() && release.is_some_and(|release| !keep.contains(&&release)) {
                std::fs::remove_dir_all(entry.path())?;
            }
        }
        Ok(())
    }
}

/// Writes a file so that a crash leaves the old content or the new, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let staged = path.with_extension("next");
    let mut file = std::fs::File::create(&staged).with_context(|| format!("cannot write {}", staged.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&staged, path).with_context(|| format!("cannot write {}", path.display()))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)?.sync_all().with_context(|| format!("cannot sync {}", dir.display()))
}
