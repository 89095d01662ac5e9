//! The fiscal journal as the engine keeps it: the device key that signs every entry (a file
//! outside the database), verification against anchors, and archives an auditor can verify
//! without the kiosk.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use kiosk_core::journal::{self, ChainTail, JournalEntry};
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
    let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes = hex::decode(text.trim()).ok().and_then(|b| <[u8; 32]>::try_from(b).ok())?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// The journal of a period with what it takes to check it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalArchive {
    pub kiosk_id: String,
    /// The device's public key, hex: compare it with the one registered for the kiosk.
    pub public_key: String,
    pub from: String,
    pub to: String,
    pub exported_at: String,
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
    /// Reads and verifies an archive against the kiosk's registered public key (hex). The key
    /// the archive carries says which kiosk it claims to be from; only the registered one
    /// proves it.
    pub fn verify_file(path: &Path, public_key: &str) -> Result<JournalCheck> {
        let text = fs::read_to_string(path).map_err(|error| EngineError::File { path: path.to_owned(), error })?;
        let archive: JournalArchive = serde_json::from_str(&text).map_err(|e| EngineError::JournalArchive {
            path: path.to_owned(),
            message: format!("not a journal archive: {e}"),
        })?;
        let key = parse_public_key(public_key).ok_or_else(|| EngineError::JournalArchive {
            path: path.to_owned(),
            message: format!("\"{public_key}\" is not a public key"),
        })?;
        let last = journal::verify(&archive.entries, &key, None)?;
        Ok(JournalCheck { entries: archive.entries.len(), last })
    }
}

impl Engine {
    /// The public half of the device's journal key, hex.
    pub fn journal_public_key(&self) -> String {
        hex::encode(self.journal_key.verifying_key().as_bytes())
    }

    /// Verifies the whole journal with the device's key and, when given, an anchor taken
    /// earlier (from a Z ticket or a heartbeat).
    pub async fn verify_journal(&self, anchor: Option<&ChainTail>) -> Result<JournalCheck> {
        let entries = kiosk_store::journal::all(&mut *self.store.read().await?).await?;
        let last = journal::verify_whole(&entries, &self.journal_key.verifying_key(), anchor)?;
        Ok(JournalCheck { entries: entries.len(), last })
    }

    /// Writes the entries of the business days `from` to `to` ("YYYY-MM-DD") with the public
    /// key to `out`, as JSON.
    pub async fn export_journal(&self, from: &str, to: &str, out: &Path) -> Result<JournalCheck> {
        let entries = kiosk_store::journal::between(&mut *self.store.read().await?, from, to).await?;
        let last = journal::verify(&entries, &self.journal_key.verifying_key(), None)?;
        let archive = JournalArchive {
            kiosk_id: self.device.kiosk_id.clone(),
            public_key: self.journal_public_key(),
            from: from.to_owned(),
            to: to.to_owned(),
            exported_at: timestamp(&self.now()),
            entries,
        };
        let text = serde_json::to_string_pretty(&archive).expect("an archive serializes");
        fs::write(out, text).map_err(|error| EngineError::File { path: out.to_owned(), error })?;
        Ok(JournalCheck { entries: archive.entries.len(), last })
    }
}

/// Where the journal key lives by default: beside the database, never inside it.
pub fn default_key_path(db_path: &Path) -> PathBuf {
    db_path.with_file_name("journal.key")
}
