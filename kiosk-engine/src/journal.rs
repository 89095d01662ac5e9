//! The fiscal journal as the engine keeps it: the device key that signs every entry (a file
//! outside the database) and the public key registered at first start, verification against
//! anchors (whole, or fast from the last verified anchor before a report), and sealed
//! archives an auditor can verify without the kiosk.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use kiosk_core::alert::AlertKind;
use kiosk_core::journal::{self, ArchiveSeal, ChainBreak, ChainTail, EntryKind, JournalEntry};
use kiosk_store::{commit, meta};
use serde::{Deserialize, Serialize};

use crate::clock::timestamp;
use crate::process::random_bytes;
use crate::{Engine, EngineError, Result};

/// Reads the device's journal key, or makes one (readable by its owner only) when the file
/// does not exist yet. An unreadable or malformed key is an error: it is never replaced.
pub fn load_or_create_key(path: &Path) -> Result<SigningKey> {
    let problem = |message: String| EngineError::JournalKey { path: path.to_owned(), message };
    match fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
            bytes
                .map(|b| SigningKey::from_bytes(&b))
                .ok_or_else(|| problem("is not a key (64 hex digits expected)".into()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let secret = random_bytes::<32>().map_err(|e| problem(format!("cannot draw a new key: {e}")))?;
            write_private(path, &format!("{}\n", hex::encode(secret)))
                .map_err(|e| problem(format!("cannot be written: {e}")))?;
            log::warn!("made a new journal key at {}", path.display());
            Ok(SigningKey::from_bytes(&secret))
        }
        Err(error) => Err(problem(format!("cannot be read: {error}"))),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes = hex::decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok())?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Reads the public key registered at the kiosk's first start, or registers `key`'s when none
/// is: at the first start, or on a journal `key` demonstrably signed (its `last` entry). A
/// missing registration beside a journal the key did not sign is refused: the key was
/// replaced. Verification uses the registered key, so a journal key replaced later, and a
/// journal re-signed with it, is named for what it is. An empty file is a place kept for the
/// first start's registration (the device image gives the app that file alone to write, once).
pub fn register_public_key(path: &Path, key: &SigningKey, last: Option<&JournalEntry>) -> Result<VerifyingKey> {
    let problem = |message: String| EngineError::JournalKey { path: path.to_owned(), message };
    let registered = match fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Err(std::io::ErrorKind::NotFound.into()),
        other => other,
    };
    match registered {
        Ok(text) => {
            parse_public_key(&text).ok_or_else(|| problem("is not a public key (64 hex digits expected)".into()))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let public = key.verifying_key();
            if let Some(last) = last.filter(|last| !last.signed_by(&public)) {
                return Err(problem(format!(
                    "is missing, and the journal key did not sign the journal (entry {}): it was replaced; restore \
                     journal.pub from a backup, or have the journal looked into",
                    last.seq
                )));
            }
            write_private(path, &format!("{}\n", hex::encode(public.as_bytes()))).map_err(|e| {
                problem(format!("cannot be written: {e} (the journal's public key is registered there at first start)"))
            })?;
            log::warn!("registered the journal's public key {} at {}", journal::fingerprint(&public), path.display());
            Ok(public)
        }
        Err(error) => Err(problem(format!("cannot be read: {error}"))),
    }
}

/// The journal of a period, sealed: the entries with what they are (kiosk, period, first and
/// last entries, the previous period's closing anchor) signed as a whole by the device key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalArchive {
    #[serde(flatten)]
    pub seal: ArchiveSeal,
    /// The seal's signature by the device key, hex.
    pub signature: String,
    pub entries: Vec<JournalEntry>,
}

/// A journal that verified: how many entries, and its last sequence number and hash (the
/// anchor to keep for next time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JournalCheck {
    pub entries: usize,
    pub last: Option<ChainTail>,
}

impl JournalArchive {
    /// Reads and verifies an archive against the kiosk's registered public key (hex) and, when
    /// given, an anchor taken earlier (a Z ticket's). The key the archive carries says which
    /// kiosk it claims to be from; only the registered one proves it.
    pub fn verify_file(path: &Path, public_key: &str, anchor: Option<&ChainTail>) -> Result<JournalCheck> {
        let text = fs::read_to_string(path).map_err(|error| EngineError::File { path: path.to_owned(), error })?;
        let archive: JournalArchive = serde_json::from_str(&text).map_err(|e| EngineError::JournalArchive {
            path: path.to_owned(),
            message: format!("not a sealed journal archive: {e}"),
        })?;
        let key = parse_public_key(public_key).ok_or_else(|| EngineError::JournalArchive {
            path: path.to_owned(),
            message: format!("\"{public_key}\" is not a public key"),
        })?;
        // An archive sealed with another key is named for what it is.
        if let Some(sealed_with) = parse_public_key(&archive.seal.public_key).filter(|sealed| *sealed != key) {
            let (registered, found) = (journal::fingerprint(&key), journal::fingerprint(&sealed_with));
            return Err(ChainBreak::KeyReplaced { registered, found }.into());
        }
        let last = archive.seal.check(&archive.signature, &archive.entries, &key, anchor)?;
        Ok(JournalCheck { entries: archive.entries.len(), last })
    }
}

/// The `kiosk_meta` names of the journal's last verified anchor, and of the last failed
/// check's break while no check has passed since.
const VERIFIED: &str = "journal_verified";
const FULL_CHECK: &str = "journal_check_failed";

impl Engine {
    /// The public half of the device's journal key, hex.
    pub fn journal_public_key(&self) -> String {
        hex::encode(self.journal_key.verifying_key().as_bytes())
    }

    /// The registered journal key's fingerprint, as Z tickets print it.
    pub fn journal_key_fingerprint(&self) -> String {
        journal::fingerprint(&self.registered_key)
    }

    /// Fails when the key signing the journal is not the one registered at first start.
    pub(crate) fn check_journal_key(&self) -> Result<()> {
        let found = self.journal_key.verifying_key();
        if found == self.registered_key {
            return Ok(());
        }
        Err(ChainBreak::KeyReplaced {
            registered: journal::fingerprint(&self.registered_key),
            found: journal::fingerprint(&found),
        }
        .into())
    }

    /// Verifies the whole journal with the registered key and, when given, an anchor taken
    /// earlier (from a Z ticket or a heartbeat).
    pub async fn verify_journal(&self, anchor: Option<&ChainTail>) -> Result<JournalCheck> {
        let checked = async {
            self.check_journal_key()?;
            let entries = kiosk_store::journal::all(&mut *self.store.read().await?).await?;
            let last = journal::verify_whole(&entries, &self.registered_key, anchor)?;
            Ok(JournalCheck { entries: entries.len(), last })
        };
        let check = self.journal_checked(checked.await).await?;
        self.remember_verified(check.last.as_ref()).await?;
        Ok(check)
    }

    /// Verifies what an X or Z report is about to read, before it trusts it: the journal
    /// from the last day close on (the close included), or from the last verified anchor when
    /// that is older; never verified yet, all of it. Fast however long the journal grew: a
    /// report reads one day's entries.
    pub(crate) async fn verify_recent(&self) -> Result<Option<ChainTail>> {
        let checked = async {
            self.check_journal_key()?;
            let mut conn = self.store.read().await?;
            let anchor = meta::get(&mut conn, VERIFIED).await?.as_deref().and_then(ChainTail::parse);
            let close = kiosk_store::journal::last_of_kind(&mut conn, EntryKind::DayClosed).await?;
            let failed_before = meta::get(&mut conn, FULL_CHECK).await?.is_some();
            let from = match (&anchor, close) {
                (Some(anchor), Some(close)) if !failed_before => anchor.seq.min(close.seq),
                _ => 1,
            };
            let last = if from <= 1 {
                let entries = kiosk_store::journal::all(&mut conn).await?;
                journal::verify_whole(&entries, &self.registered_key, anchor.as_ref())?
            } else {
                let entries = kiosk_store::journal::since(&mut conn, from - 1).await?;
                journal::verify_from(&entries, &self.registered_key, anchor.as_ref(), from)?
            };
            Ok(last)
        };
        let last = self.journal_checked(checked.await).await?;
        self.remember_verified(last.as_ref()).await?;
        Ok(last)
    }

    /// A failed check raises the broken-journal alert, and until a check passes the journal
    /// is read whole (against the verified anchor still, which catches a cut tail); a good one
    /// clears the alert.
    async fn journal_checked<T>(&self, outcome: Result<T>) -> Result<T> {
        match &outcome {
            Err(EngineError::Journal(chain_break)) => {
                let mut tx = self.store.write().await?;
                meta::set(&mut tx, FULL_CHECK, &chain_break.to_string()).await?;
                commit(tx, "recording a failed journal check").await?;
                let message = format!("{chain_break}: no X or Z report until the journal is looked into");
                self.raise_alert(AlertKind::JournalBroken, "journal", &message).await?;
            }
            Ok(_) => self.clear_alerts(AlertKind::JournalBroken).await?,
            Err(_) => {}
        }
        outcome
    }

    async fn remember_verified(&self, last: Option<&ChainTail>) -> Result<()> {
        let mut tx = self.store.write().await?;
        if let Some(last) = last {
            meta::set(&mut tx, VERIFIED, &last.to_string()).await?;
        }
        meta::remove(&mut tx, FULL_CHECK).await?;
        commit(tx, "recording the journal's verified anchor").await?;
        Ok(())
    }

    /// Writes the entries of the business days `from` to `to` ("YYYY-MM-DD") to `out` as a
    /// sealed archive (JSON).
    pub async fn export_journal(&self, from: &str, to: &str, out: &Path) -> Result<JournalCheck> {
        self.check_journal_key()?;
        let mut conn = self.store.read().await?;
        let entries = kiosk_store::journal::between(&mut conn, from, to).await?;
        let previous = match entries.first() {
            Some(first) => kiosk_store::journal::before(&mut conn, first.seq).await?,
            None => kiosk_store::journal::last_before_day(&mut conn, from).await?,
        };
        drop(conn);
        let last = journal::verify(&entries, &self.registered_key, None)?;
        let exported_at = timestamp(&self.now());
        let seal =
            ArchiveSeal::of(&self.device.kiosk_id, (from, to), &exported_at, &self.registered_key, &entries, previous);
        let archive = JournalArchive { signature: seal.sign(&self.journal_key), seal, entries };
        let text = serde_json::to_string_pretty(&archive).expect("an archive serializes");
        fs::write(out, text).map_err(|error| EngineError::File { path: out.to_owned(), error })?;
        Ok(JournalCheck { entries: archive.entries.len(), last })
    }
}

/// Where the journal key lives by default: beside the database, never inside it.
pub fn default_key_path(db_path: &Path) -> PathBuf {
    db_path.with_file_name("journal.key")
}

/// Where the journal's public key is registered by default: beside the database (the device
/// keeps it in its config folder, `/etc/kiosk/journal.pub`).
pub fn default_registered_key_path(db_path: &Path) -> PathBuf {
    db_path.with_file_name("journal.pub")
}
