//! Remote actions: commands the fleet carries in its heartbeat replies. Each is checked before
//! anything is done: signed with the fleet's command key (Ed25519, its public key in the
//! agent's config), meant for this kiosk, numbered above the last one carried out (so that a
//! command replayed, here or from another kiosk, is refused), and not expired. It is then
//! carried out once, and its acknowledgement goes back in the next heartbeat, sent at once.
//! What the agent remembers (the last number, maintenance, the app commanded on screen, the
//! acknowledgements not yet sent) is kept in one file, so that a reboot loses none of it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine as _;
use kiosk_protocol::{AckOutcome, CommandAck, RemoteAction, RemoteCommand, SignedCommand};
use serde::{Deserialize, Serialize};

use crate::config::AgentConfig;
use crate::releases::write_atomically;

/// The most log lines one command may ask for.
pub const MAX_LOG_LINES: u32 = 10_000;

/// The fleet's public key remote commands are checked against.
#[derive(Clone, Debug)]
pub struct CommandKey(Vec<u8>);

impl CommandKey {
    /// Reads the key from a file of 64 hex digits (as `kioskctl fleet keygen` prints it).
    pub fn load(path: &Path) -> Result<CommandKey> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        CommandKey::from_hex(text.trim()).with_context(|| format!("{} is refused", path.display()))
    }

    pub fn from_hex(text: &str) -> Result<CommandKey> {
        let bytes = hex::decode(text).map_err(|_| anyhow!("an Ed25519 public key is 64 hex digits"))?;
        if bytes.len() != 32 {
            bail!("an Ed25519 public key is 64 hex digits, not {}", text.len());
        }
        Ok(CommandKey(bytes))
    }

    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0).verify(message, signature).is_ok()
    }
}

/// Reads a signing key as `kioskctl fleet keygen` writes it (PKCS#8 in PEM).
pub fn read_key_pair(path: &Path) -> Result<Ed25519KeyPair> {
    let pem = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let encoded: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| anyhow!("{} is not a PEM key", path.display()))?;
    Ed25519KeyPair::from_pkcs8(&der).map_err(|_| anyhow!("{} is not an Ed25519 key", path.display()))
}

/// The public key of a signing key, as the kiosk's `command_key` file holds it.
pub fn public_key_hex(key: &Ed25519KeyPair) -> String {
    hex::encode(key.public_key().as_ref())
}

/// Signs a command as the fleet does (for `kioskctl fleet sign`, and tests).
pub fn sign(command: &RemoteCommand, key: &Ed25519KeyPair) -> SignedCommand {
    let text = serde_json::to_string(command).expect("a command serializes");
    let signature = key.sign(text.as_bytes());
    SignedCommand { command: text, signature: base64::engine::general_purpose::STANDARD.encode(signature.as_ref()) }
}

/// Why a command was not carried out, with what it claimed to be when that could be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub seq: Option<u64>,
    pub action: Option<String>,
    pub reason: String,
}

impl Refusal {
    pub fn ack(self) -> CommandAck {
        acknowledge(self.seq, self.action, AckOutcome::Refused, self.reason)
    }
}

pub fn acknowledge(seq: Option<u64>, action: Option<String>, outcome: AckOutcome, detail: String) -> CommandAck {
    CommandAck { seq, action, outcome, detail, at: crate::health::now_rfc3339() }
}

/// Checks one command of a heartbeat reply: readable, signed with `key`, for `device_id`,
/// numbered above `last_seq`, not expired at `now`, and asking something that can be done.
pub fn check(
    value: &serde_json::Value,
    key: Result<&CommandKey, &str>,
    device_id: &str,
    last_seq: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<RemoteCommand, Refusal> {
    let refuse = |seq, action, reason: String| Refusal { seq, action, reason };
    let signed: SignedCommand = serde_json::from_value(value.clone())
        .map_err(|error| refuse(None, None, format!("not a signed command: {error}")))?;
    let command: RemoteCommand = serde_json::from_str(&signed.command)
        .map_err(|error| refuse(None, None, format!("the command cannot be read: {error}")))?;
    let refuse = |reason: String| refuse(Some(command.seq), Some(command.action.name().to_owned()), reason);
    let key = key.map_err(|why| refuse(format!("remote commands are off: {why}")))?;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(&signed.signature)
        .map_err(|_| refuse("the signature is not base64".into()))?;
    if !key.verifies(signed.command.as_bytes(), &signature) {
        return Err(refuse("the signature does not verify with the fleet's command key".into()));
    }
    if command.device_id != device_id {
        return Err(refuse(format!("the command is for {}, not this kiosk ({device_id})", command.device_id)));
    }
    if command.seq <= last_seq {
        return Err(refuse(format!(
            "command {} was replayed: commands up to {last_seq} have been carried out",
            command.seq
        )));
    }
    let expires = chrono::DateTime::parse_from_rfc3339(&command.expires_at)
        .map_err(|_| refuse(format!("expires_at {} is not an RFC 3339 time", command.expires_at)))?;
    if expires < now {
        return Err(refuse(format!("the command expired at {}", command.expires_at)));
    }
    match &command.action {
        RemoteAction::UploadLogs { lines } if !(1..=MAX_LOG_LINES).contains(lines) => {
            Err(refuse(format!("upload_logs: lines must be 1 to {MAX_LOG_LINES}, not {lines}")))
        }
        RemoteAction::EnterMaintenance { reason } if reason.trim().is_empty() => {
            Err(refuse("enter_maintenance: a reason is needed (staff see it)".into()))
        }
        RemoteAction::Wipe { force_reason: Some(reason) } if reason.trim().is_empty() => {
            Err(refuse("wipe: a forced wipe needs a reason, which is logged".into()))
        }
        _ => Ok(command),
    }
}

/// What the agent keeps of remote actions between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteState {
    /// The number of the last command carried out.
    pub last_seq: u64,
    /// In maintenance on the fleet's command, and why.
    pub maintenance: Option<String>,
    /// Multi-app mode: the app the fleet put on screen, over the schedule.
    pub screen: Option<String>,
    /// Acknowledgements not yet in a heartbeat.
    pub pending: Vec<CommandAck>,
}

impl RemoteState {
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("remote.json")
    }

    /// None there: nothing done yet. One that cannot be read is an error: starting again
    /// from nothing would let old commands be replayed.
    pub fn load(path: &Path) -> Result<RemoteState> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("{} cannot be read", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(RemoteState::default()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomically(path, &serde_json::to_vec_pretty(self).expect("the state serializes"))
    }
}

/// What a wipe removes: the database and its journal keys, the backups, the menus received,
/// the policy, the device config (the kiosk's enrolment: its id, its terminal), the heartbeats
/// not sent and the record of what was installed. The releases stay (signed software, updated
/// as ever), and so do the update metadata trusted and the record of commands carried out, so
/// that no old command can be replayed on the wiped kiosk.
pub fn wipe_targets(config: &AgentConfig) -> Vec<PathBuf> {
    let paths = &config.paths;
    let beside_db = |suffix: &str| PathBuf::from(format!("{}{suffix}", paths.db.display()));
    vec![
        paths.db.clone(),
        beside_db("-wal"),
        beside_db("-shm"),
        kiosk_engine::default_key_path(&paths.db),
        kiosk_engine::default_registered_key_path(&paths.db),
        paths.db.with_file_name("sim-terminal.jsonl"),
        paths.backups.clone(),
        paths.menus.clone(),
        paths.policy.clone(),
        paths.device_config.clone(),
        paths.state.join("heartbeats"),
        paths.state.join("installed.json"),
    ]
}

/// Removes `targets` (files or folders); the ones already gone are fine.
pub fn remove_all(targets: &[PathBuf]) -> Result<()> {
    let mut failed = Vec::new();
    for target in targets {
        let removed = match std::fs::symlink_metadata(target) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(target),
            Ok(_) => std::fs::remove_file(target),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error),
        };
        if let Err(error) = removed {
            failed.push(format!("{}: {error}", target.display()));
        }
    }
    if !failed.is_empty() {
        bail!("could not remove {}", failed.join("; "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;

    fn key_pair() -> Ed25519KeyPair {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    fn command(seq: u64, action: RemoteAction) -> RemoteCommand {
        RemoteCommand { device_id: "K1".into(), seq, expires_at: "2026-12-03T13:00:00Z".into(), action }
    }

    fn now() -> chrono::DateTime<chrono::Utc> {
        "2026-12-03T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn each_bad_command_is_refused_with_why() {
        let fleet = key_pair();
        let key = CommandKey::from_hex(&public_key_hex(&fleet)).unwrap();
        let check = |value: serde_json::Value, last_seq| check(&value, Ok(&key), "K1", last_seq, now());
        let signed = |command: &RemoteCommand| serde_json::to_value(sign(command, &fleet)).unwrap();

        let good = check(signed(&command(5, RemoteAction::Reboot)), 4).unwrap();
        assert_eq!(good, command(5, RemoteAction::Reboot));

        let reason = |value, last_seq| check(value, last_seq).unwrap_err().reason;
        assert!(reason(serde_json::json!({"command": "screenshot"}), 0).starts_with("not a signed command"));
        assert!(reason(serde_json::json!({"command": "{", "signature": ""}), 0).starts_with("the command cannot be"));
        assert!(reason(signed(&command(5, RemoteAction::Reboot)), 5).contains("replayed"), "the same number again");
        assert!(reason(signed(&command(3, RemoteAction::Reboot)), 5).contains("replayed"), "an older one");
        let mut other_kiosk = command(6, RemoteAction::Reboot);
        other_kiosk.device_id = "K2".into();
        assert!(reason(signed(&other_kiosk), 5).contains("is for K2, not this kiosk"));
        let mut expired = command(6, RemoteAction::Reboot);
        expired.expires_at = "2026-12-03T11:59:59Z".into();
        assert!(reason(signed(&expired), 5).starts_with("the command expired"));

        // Forged: signed by another key, or changed after signing.
        let forged = serde_json::to_value(sign(&command(6, RemoteAction::Wipe { force_reason: None }), &key_pair()));
        let refusal = check(forged.unwrap(), 5).unwrap_err();
        assert_eq!((refusal.seq, refusal.action.as_deref()), (Some(6), Some("wipe")));
        assert!(refusal.reason.contains("does not verify"), "{}", refusal.reason);
        let mut altered = sign(&command(6, RemoteAction::RestartApp), &fleet);
        altered.command = altered.command.replace("restart_app", "reboot");
        assert!(reason(serde_json::to_value(altered).unwrap(), 5).contains("does not verify"));

        assert!(reason(signed(&command(6, RemoteAction::UploadLogs { lines: 0 })), 5).contains("lines must be"));
        let silent = RemoteAction::EnterMaintenance { reason: " ".into() };
        assert!(reason(signed(&command(6, silent)), 5).contains("a reason is needed"));
        let unexplained = RemoteAction::Wipe { force_reason: Some(String::new()) };
        assert!(reason(signed(&command(6, unexplained)), 5).contains("needs a reason"));

        let off = super::check(&signed(&command(6, RemoteAction::Reboot)), Err("no command_key"), "K1", 5, now());
        assert_eq!(off.unwrap_err().reason, "remote commands are off: no command_key");
    }

    #[test]
    fn the_state_survives_and_an_unreadable_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = RemoteState::path(dir.path());
        assert_eq!(RemoteState::load(&path).unwrap(), RemoteState::default(), "nothing yet");
        let state = RemoteState { last_seq: 9, maintenance: Some("new terminal".into()), ..RemoteState::default() };
        state.save(&path).unwrap();
        assert_eq!(RemoteState::load(&path).unwrap(), state);
        std::fs::write(&path, "{").unwrap();
        assert!(RemoteState::load(&path).unwrap_err().to_string().contains("cannot be read"));
    }
}
