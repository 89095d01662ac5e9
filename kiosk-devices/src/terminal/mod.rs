//! Payment terminals. The kiosk drives a semi-integrated terminal: it sends an amount under
//! an idempotency key and gets an answer; card data never reaches the kiosk.

use std::fmt::Debug;

use async_trait::async_trait;
use kiosk_core::money::{Currency, Money};
use kiosk_core::payment::{AttemptKey, PayReply, StatusReply};

mod nexo;
pub mod nexo_crypto;
mod nexo_tls;
mod sim;

pub use nexo::{NexoError, NexoSettings, NexoTerminal, service_id};
pub use sim::{LedgerEntry, LedgerKind, LedgerOutcome, SimOutcome, SimTerminal, SimTerminalError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRequest {
    pub key: AttemptKey,
    pub amount: Money,
    pub currency: Currency,
    /// When the kiosk asks, RFC 3339 (the engine's clock).
    pub at: String,
}

/// Money back to the card of an earlier payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundRequest {
    /// The refund's own idempotency key.
    pub key: AttemptKey,
    pub amount: Money,
    pub currency: Currency,
    /// The payment refunded: its key, and as the terminal named it, its reference and its
    /// time (unknown for payments recorded before those times were kept).
    pub original_key: Option<AttemptKey>,
    pub original_reference: String,
    pub original_time: Option<String>,
    /// When the kiosk asks, RFC 3339.
    pub at: String,
}

#[async_trait]
pub trait PaymentTerminal: Send + Sync + Debug {
    /// Whether this is a simulator: every sale it approves is a training sale, kept out of
    /// the fiscal journal and the X and Z totals.
    fn is_simulated(&self) -> bool;

    /// Takes the amount under the request's key. Asking again with a key the terminal has
    /// already seen returns that key's outcome and never charges twice.
    async fn pay(&self, request: &PaymentRequest) -> PayReply;

    /// Gives money back to the card of an earlier payment, under the refund's own key, with
    /// the same idempotency as `pay`: a known key returns its first outcome.
    async fn refund(&self, request: &RefundRequest) -> PayReply;

    /// Asks the terminal to abandon a payment in progress; the pending `pay` then answers
    /// (cancelled, or approved when the card was already accepted).
    async fn cancel(&self, key: &AttemptKey);

    /// What happened to a key: the way to resolve a payment in doubt.
    async fn status(&self, key: &AttemptKey) -> StatusReply;
}

#[derive(Debug, thiserror::Error)]
pub enum OpenTerminalError {
    #[error(transparent)]
    Sim(#[from] SimTerminalError),
    #[error(transparent)]
    Nexo(#[from] NexoError),
}

/// How the simulator behaves when the device config names it.
#[derive(Clone, Debug)]
pub struct SimSettings {
    /// Its ledger: what it approved, kept across restarts.
    pub ledger: std::path::PathBuf,
    /// What it answers unless scripted.
    pub outcome: SimOutcome,
    /// How long the simulated customer takes to present a card.
    pub card_delay: std::time::Duration,
}

/// The terminal the device config names; `timeout` bounds one exchange with a real one, whose
/// URL must be on the web allowlist `web` holds.
pub fn open(
    config: &kiosk_core::config::TerminalConfig,
    sale_id: &str,
    timeout: std::time::Duration,
    sim: &SimSettings,
    web: &crate::web::WebGate,
) -> Result<std::sync::Arc<dyn PaymentTerminal>, OpenTerminalError> {
    use kiosk_core::config::TerminalConfig;
    Ok(match config {
        TerminalConfig::Sim => {
            std::sync::Arc::new(SimTerminal::open(&sim.ledger, sim.outcome)?.with_card_delay(sim.card_delay))
        }
        TerminalConfig::Nexo(nexo) => {
            let settings = NexoSettings { web: web.clone(), ..nexo_settings(nexo, sale_id, timeout)? };
            std::sync::Arc::new(NexoTerminal::new(settings)?)
        }
    })
}

/// Reads what a nexo terminal's config points to: its root certificate and the key's
/// passphrase.
fn nexo_settings(
    config: &kiosk_core::config::NexoConfig,
    sale_id: &str,
    timeout: std::time::Duration,
) -> Result<NexoSettings, NexoError> {
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read(path).map_err(|e| NexoError(format!("cannot read the terminal's {what} {}: {e}", path.display())))
    };
    let root_certificate = read(&config.root_certificate, "root certificate")?;
    let passphrase = String::from_utf8(read(&config.passphrase_file, "key passphrase")?)
        .map_err(|_| NexoError(format!("{} is not text", config.passphrase_file.display())))?;
    let passphrase = passphrase.trim_end_matches(['\n', '\r']);
    if passphrase.is_empty() {
        return Err(NexoError(format!("{} holds no passphrase", config.passphrase_file.display())));
    }
    Ok(NexoSettings {
        address: config.address,
        sale_id: sale_id.to_owned(),
        poi_id: config.poi_id.clone(),
        certificate_name: config.certificate_name(),
        root_certificate,
        key: nexo_crypto::NexoKey {
            identifier: config.key_identifier.clone(),
            version: config.key_version,
            derived: nexo_crypto::DerivedKey::from_passphrase(passphrase),
        },
        timeout,
        web: crate::web::WebGate::default(),
    })
}
