//! A simulated terminal with scripted outcomes and its own durable ledger file, the way a
//! real terminal keeps its transactions apart from the kiosk: after the kiosk crashes, the
//! ledger says what was really charged.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use kiosk_core::payment::{Approval, AttemptKey, NotCharged, PayReply, StatusReply};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::{PaymentRequest, PaymentTerminal, RefundRequest};

/// What the simulated customer and network do with the next payment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimOutcome {
    Approve,
    Decline,
    /// The customer never presents a card; the terminal gives up.
    Timeout,
    /// The terminal approves, but its answer never reaches the kiosk.
    LostResponse,
    /// The connection drops before the terminal sees the request.
    Disconnect,
}

impl FromStr for SimOutcome {
    type Err = String;
    fn from_str(text: &str) -> Result<SimOutcome, String> {
        match text {
            "approve" => Ok(SimOutcome::Approve),
            "decline" => Ok(SimOutcome::Decline),
            "timeout" => Ok(SimOutcome::Timeout),
            "lost-response" => Ok(SimOutcome::LostResponse),
            "disconnect" => Ok(SimOutcome::Disconnect),
            other => Err(format!(
                "unknown simulated outcome \"{other}\" (approve, decline, timeout, lost-response, disconnect)"
            )),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerOutcome {
    Approved,
    Declined,
    TimedOut,
    Cancelled,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    #[default]
    Payment,
    Refund,
}

/// One line of the simulator's ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub key: String,
    #[serde(default)]
    pub kind: LedgerKind,
    pub amount_minor: i64,
    pub outcome: LedgerOutcome,
    pub reference: String,
    /// The time the kiosk gave the request, which the simulator keeps as its own.
    #[serde(default)]
    pub at: String,
}

impl LedgerEntry {
    fn pay_reply(&self) -> PayReply {
        match self.outcome {
            LedgerOutcome::Approved => {
                let at = Some(self.at.clone()).filter(|at| !at.is_empty());
                PayReply::Approved(sim_approval(&self.reference).at(at))
            }
            LedgerOutcome::Declined => PayReply::NotCharged(NotCharged::Declined(DECLINE_REASON.into())),
            LedgerOutcome::TimedOut => PayReply::NotCharged(NotCharged::TimedOut),
            LedgerOutcome::Cancelled => PayReply::NotCharged(NotCharged::Cancelled),
        }
    }
}

const DECLINE_REASON: &str = "card declined by the issuer";

fn sim_approval(reference: &str) -> Approval {
    Approval::new(reference.to_owned(), "VISA".into(), Some("4242".into()))
}

#[derive(Debug, thiserror::Error)]
#[error("simulated terminal ledger {path}: {error}")]
pub struct SimTerminalError {
    pub path: PathBuf,
    pub error: io::Error,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, LedgerEntry>,
    /// The number of the last reference handed out.
    last_reference: usize,
    in_progress: HashSet<String>,
    cancelled: HashSet<String>,
    script: VecDeque<SimOutcome>,
}

/// The simulator; share it in an `Arc`.
#[derive(Debug)]
pub struct SimTerminal {
    ledger_path: PathBuf,
    state: Mutex<State>,
    default_outcome: SimOutcome,
    card_delay: Duration,
    reachable: AtomicBool,
    cancel_requested: Notify,
}

impl SimTerminal {
    /// Opens the simulator over its ledger file (created if missing). A line torn by a crash
    /// in the middle of a write is dropped: that transaction never completed.
    pub fn open(ledger_path: &Path, default_outcome: SimOutcome) -> Result<SimTerminal, SimTerminalError> {
        let entries = read_ledger_repairing(ledger_path)
            .map_err(|error| SimTerminalError { path: ledger_path.to_owned(), error })?;
        let state = State {
            last_reference: entries.len(),
            entries: entries.into_iter().map(|e| (e.key.clone(), e)).collect(),
            ..State::default()
        };
        Ok(SimTerminal {
            ledger_path: ledger_path.to_owned(),
            state: Mutex::new(state),
            default_outcome,
            card_delay: Duration::ZERO,
            reachable: AtomicBool::new(true),
            cancel_requested: Notify::new(),
        })
    }

    /// How long the simulated customer takes at the card reader.
    pub fn with_card_delay(self, card_delay: Duration) -> SimTerminal {
        SimTerminal { card_delay, ..self }
    }

    /// Outcomes for the next payments, in order; after them the default outcome applies.
    pub fn script(&self, outcomes: impl IntoIterator<Item = SimOutcome>) {
        self.lock().script.extend(outcomes);
    }

    /// Makes the terminal answer status queries or not (a terminal switched off).
    pub fn set_reachable(&self, reachable: bool) {
        self.reachable.store(reachable, Ordering::SeqCst);
    }

    /// Every entry of a ledger file, for comparing the terminal's side with the kiosk's.
    pub fn read_ledger(path: &Path) -> Result<Vec<LedgerEntry>, SimTerminalError> {
        read_ledger_repairing(path).map_err(|error| SimTerminalError { path: path.to_owned(), error })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Durably records an outcome before anyone is told about it, as a real terminal does.
    async fn record(
        &self,
        request: &PaymentRequest,
        kind: LedgerKind,
        outcome: LedgerOutcome,
    ) -> io::Result<LedgerEntry> {
        let entry = {
            let mut state = self.lock();
            state.last_reference += 1;
            LedgerEntry {
                key: request.key.as_str().to_owned(),
                kind,
                amount_minor: request.amount.to_minor(),
                outcome,
                reference: format!("SIM-{:06}", state.last_reference),
                at: request.at.clone(),
            }
        };
        let path = self.ledger_path.clone();
        let line = entry.clone();
        tokio::task::spawn_blocking(move || append_line(&path, &line)).await.map_err(io::Error::other)??;
        self.lock().entries.insert(entry.key.clone(), entry.clone());
        Ok(entry)
    }

    /// Waits for the customer, or for a cancel of this key.
    async fn wait_for_card(&self, key: &str) -> bool {
        let deadline = tokio::time::sleep(self.card_delay);
        tokio::pin!(deadline);
        loop {
            let notified = self.cancel_requested.notified();
            if self.lock().cancelled.contains(key) {
                return false;
            }
            tokio::select! {
                () = &mut deadline => return !self.lock().cancelled.contains(key),
                () = notified => {}
            }
        }
    }
}

impl SimTerminal {
    /// A payment or a refund: the same script, ledger and idempotency.
    async fn transact(&self, request: &PaymentRequest, kind: LedgerKind) -> PayReply {
        let key = request.key.as_str();
        let outcome = {
            let mut state = self.lock();
            if let Some(known) = state.entries.get(key) {
                if known.amount_minor != request.amount.to_minor() {
                    return PayReply::NotCharged(NotCharged::Declined(
                        "this payment key was already used for another amount".into(),
                    ));
                }
                return known.pay_reply();
            }
            let outcome = state.script.pop_front().unwrap_or(self.default_outcome);
            if outcome == SimOutcome::Disconnect {
                return PayReply::NoAnswer("connection to the terminal lost".into());
            }
            outcome
        };
        // The customer stands at the reader until this call ends, however it ends.
        let _customer = AtTheReader::arrive(self, key);
        let presented = self.wait_for_card(key).await;
        let ledger_outcome = match (presented, outcome) {
            (false, _) => LedgerOutcome::Cancelled,
            (true, SimOutcome::Approve | SimOutcome::LostResponse) => LedgerOutcome::Approved,
            (true, SimOutcome::Decline) => LedgerOutcome::Declined,
            (true, SimOutcome::Timeout | SimOutcome::Disconnect) => LedgerOutcome::TimedOut,
        };
        let entry = match self.record(request, kind, ledger_outcome).await {
            Ok(entry) => entry,
            Err(error) => {
                // Nothing recorded means nothing charged: the status query will say so.
                log::error!("simulated terminal cannot write its ledger {}: {error}", self.ledger_path.display());
                return PayReply::NoAnswer("the terminal failed".into());
            }
        };
        if presented && outcome == SimOutcome::LostResponse {
            return PayReply::NoAnswer("the terminal's answer was lost".into());
        }
        entry.pay_reply()
    }
}

#[async_trait]
impl PaymentTerminal for SimTerminal {
    fn is_simulated(&self) -> bool {
        true
    }

    async fn pay(&self, request: &PaymentRequest) -> PayReply {
        self.transact(request, LedgerKind::Payment).await
    }

    async fn refund(&self, request: &RefundRequest) -> PayReply {
        let original = self.lock().entries.values().find(|e| e.reference == request.original_reference).cloned();
        let refundable = original.is_some_and(|o| {
            o.kind == LedgerKind::Payment
                && o.outcome == LedgerOutcome::Approved
                && o.amount_minor >= request.amount.to_minor()
        });
        if !refundable && !self.lock().entries.contains_key(request.key.as_str()) {
            return PayReply::NotCharged(NotCharged::Declined(format!(
                "no approved payment {} of at least this amount to refund",
                request.original_reference
            )));
        }
        let as_payment = PaymentRequest {
            key: request.key.clone(),
            amount: request.amount,
            currency: request.currency,
            at: request.at.clone(),
        };
        self.transact(&as_payment, LedgerKind::Refund).await
    }

    async fn cancel(&self, key: &AttemptKey) {
        let mut state = self.lock();
        if state.in_progress.contains(key.as_str()) {
            state.cancelled.insert(key.as_str().to_owned());
            self.cancel_requested.notify_waiters();
        }
    }

    async fn status(&self, key: &AttemptKey) -> StatusReply {
        if !self.reachable.load(Ordering::SeqCst) {
            return StatusReply::Unreachable("the terminal does not answer".into());
        }
        let state = self.lock();
        match state.entries.get(key.as_str()) {
            Some(entry) => match entry.pay_reply() {
                PayReply::Approved(approval) => StatusReply::Approved(approval),
                PayReply::NotCharged(why) => StatusReply::NotCharged(why),
                PayReply::NoAnswer(_) => unreachable!("a ledger entry always has an outcome"),
            },
            None if state.in_progress.contains(key.as_str()) => StatusReply::InProgress,
            None => StatusReply::NotCharged(NotCharged::NeverReceived),
        }
    }
}

/// A payment waiting at the reader: its key is in progress until dropped.
struct AtTheReader<'t> {
    terminal: &'t SimTerminal,
    key: String,
}

impl<'t> AtTheReader<'t> {
    fn arrive(terminal: &'t SimTerminal, key: &str) -> AtTheReader<'t> {
        terminal.lock().in_progress.insert(key.to_owned());
        AtTheReader { terminal, key: key.to_owned() }
    }
}

impl Drop for AtTheReader<'_> {
    fn drop(&mut self) {
        let mut state = self.terminal.lock();
        state.in_progress.remove(&self.key);
        state.cancelled.remove(&self.key);
    }
}

fn append_line(path: &Path, entry: &LedgerEntry) -> io::Result<()> {
    let mut line = serde_json::to_string(entry).expect("a ledger entry serializes");
    line.push('\n');
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_data()
}

fn read_ledger_repairing(path: &Path) -> io::Result<Vec<LedgerEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let complete = text.rfind('\n').map_or(0, |end| end + 1);
    if complete < text.len() {
        log::warn!("simulated terminal: dropping a torn last line of {}", path.display());
        let file = File::options().write(true).open(path)?;
        file.set_len(complete as u64)?;
        file.sync_data()?;
    }
    text[..complete]
        .lines()
        .map(|line| serde_json::from_str(line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use kiosk_core::money::{Currency, Money};

    use super::*;

    fn request(key: &str) -> PaymentRequest {
        PaymentRequest {
            key: AttemptKey::from_stored(key.into()),
            amount: Money::from_minor(990),
            currency: Currency::Eur,
            at: "2026-12-01T12:00:00+01:00".into(),
        }
    }

    #[tokio::test]
    async fn scripted_outcomes_and_durable_idempotent_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let terminal = SimTerminal::open(&path, SimOutcome::Approve).unwrap();
        terminal.script([SimOutcome::Decline, SimOutcome::LostResponse, SimOutcome::Disconnect]);

        assert!(matches!(terminal.pay(&request("a")).await, PayReply::NotCharged(NotCharged::Declined(_))));
        assert!(matches!(terminal.pay(&request("b")).await, PayReply::NoAnswer(_)));
        assert!(matches!(terminal.status(&request("b").key).await, StatusReply::Approved(_)));
        assert!(matches!(terminal.pay(&request("c")).await, PayReply::NoAnswer(_)));
        assert_eq!(terminal.status(&request("c").key).await, StatusReply::NotCharged(NotCharged::NeverReceived));
        // Paying again under a known key returns the first answer: no second charge.
        let again = terminal.pay(&request("b")).await;
        assert!(matches!(again, PayReply::Approved(_)));
        let ledger = SimTerminal::read_ledger(&path).unwrap();
        assert_eq!(ledger.iter().filter(|e| e.outcome == LedgerOutcome::Approved).count(), 1);

        // A new simulator over the same file remembers everything.
        let reopened = SimTerminal::open(&path, SimOutcome::Approve).unwrap();
        assert!(matches!(reopened.status(&request("b").key).await, StatusReply::Approved(_)));
        reopened.set_reachable(false);
        assert!(matches!(reopened.status(&request("b").key).await, StatusReply::Unreachable(_)));
    }

    #[tokio::test]
    async fn a_torn_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let terminal = SimTerminal::open(&path, SimOutcome::Approve).unwrap();
        terminal.pay(&request("a")).await;
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"key\":\"b\",\"amo").unwrap();
        let reopened = SimTerminal::open(&path, SimOutcome::Approve).unwrap();
        assert_eq!(reopened.status(&request("b").key).await, StatusReply::NotCharged(NotCharged::NeverReceived));
        assert_eq!(SimTerminal::read_ledger(&path).unwrap().len(), 1);
    }

    #[tokio::test]
    async fn cancel_during_the_card_wait() {
        let dir = tempfile::tempdir().unwrap();
        let terminal = std::sync::Arc::new(
            SimTerminal::open(&dir.path().join("l.jsonl"), SimOutcome::Approve)
                .unwrap()
                .with_card_delay(Duration::from_secs(30)),
        );
        let paying = {
            let terminal = terminal.clone();
            tokio::spawn(async move { terminal.pay(&request("k")).await })
        };
        while terminal.status(&request("k").key).await != StatusReply::InProgress {
            tokio::task::yield_now().await;
        }
        terminal.cancel(&request("k").key).await;
        assert_eq!(paying.await.unwrap(), PayReply::NotCharged(NotCharged::Cancelled));
    }
}
