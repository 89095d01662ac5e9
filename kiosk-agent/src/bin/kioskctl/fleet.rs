//! `kioskctl fleet ...`: the key the fleet signs remote commands with, and commands signed
//! with it (see `kiosk_agent::remote` and docs/remote-actions.md).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use kiosk_agent::remote;
use kiosk_protocol::{RemoteAction, RemoteCommand};

#[derive(Subcommand, Debug)]
pub enum FleetCommand {
    /// Write a new Ed25519 key for signing remote commands (PEM, readable by you only) and
    /// print its public key, for the kiosks' `health.command_key` file.
    Keygen { file: PathBuf },
    /// Print a remote command signed with the key, as the fleet puts it in a heartbeat reply.
    Sign {
        #[arg(long)]
        key: PathBuf,
        /// The kiosk it is for (its kiosk_id).
        #[arg(long)]
        device: String,
        /// Above every number sent to this kiosk before.
        #[arg(long)]
        seq: u64,
        /// Not carried out after this many minutes.
        #[arg(long, default_value_t = 60)]
        valid_minutes: i64,
        /// The action as JSON, e.g. '{"action":"upload_logs","lines":500}' (see
        /// docs/remote-actions.md).
        action: String,
    },
}

pub async fn run(command: FleetCommand) -> Result<()> {
    match command {
        FleetCommand::Keygen { file } => {
            kiosk_agent::publish::generate_key(&file).await?;
            println!("{}", remote::public_key_hex(&remote::read_key_pair(&file)?));
        }
        FleetCommand::Sign { key, device, seq, valid_minutes, action } => {
            let action: RemoteAction = serde_json::from_str(&action)
                .with_context(|| format!("{action} is not a remote action (see docs/remote-actions.md)"))?;
            let expires_at = (chrono::Utc::now() + chrono::Duration::minutes(valid_minutes)).to_rfc3339();
            let command = RemoteCommand { device_id: device, seq, expires_at, action };
            let signed = remote::sign(&command, &remote::read_key_pair(&key)?);
            println!("{}", serde_json::to_string(&signed)?);
        }
    }
    Ok(())
}
