//! The payment flow as a pure state machine: an event goes in, the new state and the
//! effects to carry out come out. `kiosk-engine` carries the effects out in order and feeds
//! the terminal's answers back as events.
//!
//! The rule that keeps a customer from paying twice: an attempt is recorded durably
//! ([`Effect::RecordAttempt`]) before the terminal is asked, and any answer that is not a
//! definite yes or no leaves the attempt [`PaymentState::InDoubt`] until the terminal says
//! what happened to its idempotency key.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The idempotency key of one payment attempt, unique across the venue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttemptKey(String);

impl AttemptKey {
    /// The key of attempt number `attempt` of order `order_id` in database `database_id` of
    /// kiosk `kiosk_id`: unique across the venue, and never reused even when a kiosk's
    /// database is reset (its new id differs).
    pub fn new(kiosk_id: &str, database_id: &str, order_id: i64, attempt: u32) -> AttemptKey {
        AttemptKey(format!("{kiosk_id}-{database_id}-{order_id}-{attempt}"))
    }

    /// A key read back from storage or a terminal.
    pub fn from_stored(key: String) -> AttemptKey {
        AttemptKey(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttemptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the terminal tells us when it approves. The kiosk never sees a card number: at most
/// the scheme and the last four digits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The terminal's own reference for the transaction.
    pub reference: String,
    pub scheme: String,
    pub last_four: Option<String>,
    /// When the terminal says the transaction happened, as it wrote it: a refund names the
    /// payment by its reference and this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_time: Option<String>,
}

impl Approval {
    /// Keeps `last_four` only when it is exactly four digits: anything longer could be more of
    /// a card number than the kiosk may hold.
    pub fn new(reference: String, scheme: String, last_four: Option<String>) -> Approval {
        let last_four = last_four.filter(|d| d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()));
        Approval { reference, scheme, last_four, terminal_time: None }
    }

    /// The same approval with the terminal's time of the transaction.
    pub fn at(self, terminal_time: Option<String>) -> Approval {
        Approval { terminal_time, ..self }
    }
}

/// Why no money was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "detail")]
pub enum NotCharged {
    Declined(String),
    /// The customer did not present a card in time.
    TimedOut,
    Cancelled,
    /// The terminal never received the request (known after a status query).
    NeverReceived,
    /// The terminal refused the request without acting on it, saying why.
    Rejected(String),
}

impl fmt::Display for NotCharged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotCharged::Declined(reason) => write!(f, "declined: {reason}"),
            NotCharged::TimedOut => write!(f, "timed out on the terminal"),
            NotCharged::Cancelled => write!(f, "cancelled"),
            NotCharged::NeverReceived => write!(f, "the terminal never received the request"),
            NotCharged::Rejected(reason) => write!(f, "the terminal refused the request: {reason}"),
        }
    }
}

/// The terminal's answer to a payment request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayReply {
    Approved(Approval),
    NotCharged(NotCharged),
    /// No usable answer: the response was lost, the connection dropped, or the terminal did
    /// not answer in time. The card may or may not have been charged.
    NoAnswer(String),
}

/// The terminal's answer to "what happened to this key?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusReply {
    Approved(Approval),
    NotCharged(NotCharged),
    /// The terminal is still working on it (customer at the card reader).
    InProgress,
    /// The terminal could not be asked.
    Unreachable(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PaymentState {
    /// Not started yet.
    New,
    /// Recorded and sent to the terminal.
    Requested,
    /// We do not know whether the terminal charged the card.
    InDoubt,
    Approved(Approval),
    NotCharged(NotCharged),
}

impl PaymentState {
    /// The name stored in the database for a state an attempt can be left in.
    pub fn code(&self) -> &'static str {
        match self {
            PaymentState::New => "new",
            PaymentState::Requested => "requested",
            PaymentState::InDoubt => "in_doubt",
            PaymentState::Approved(_) => "approved",
            PaymentState::NotCharged(_) => "not_charged",
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self, PaymentState::Approved(_) | PaymentState::NotCharged(_))
    }
}

/// How an order's payment stands, read from the states of its payment attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// An attempt was approved.
    Paid,
    /// Every attempt ended without a charge (or none was made): no money was taken.
    NotCharged,
    /// An attempt's outcome is not known yet: nothing may be said to the customer.
    Unresolved,
}

impl Standing {
    pub fn of<'a>(attempts: impl IntoIterator<Item = &'a PaymentState>) -> Standing {
        let mut standing = Standing::NotCharged;
        for state in attempts {
            match state {
                PaymentState::Approved(_) => return Standing::Paid,
                state if !state.is_final() => standing = Standing::Unresolved,
                _ => {}
            }
        }
        standing
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentEvent {
    /// The customer chose to pay.
    Start,
    /// The customer pressed cancel while the terminal was waiting for the card.
    CancelRequested,
    Paid(PayReply),
    Status(StatusReply),
    /// The process started again with this attempt unresolved.
    Restarted,
}

/// What the engine must do, in this order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Durably record the attempt and hold the stock before anything leaves the kiosk.
    RecordAttempt,
    /// Ask the terminal to take the amount under the attempt's key.
    RequestPayment,
    /// Ask the terminal to abandon the key (it answers through the pending payment).
    RequestCancel,
    /// Ask the terminal what happened to the key.
    QueryStatus,
    /// Record that the attempt is in doubt and keep the stock held.
    RecordInDoubt,
    /// In one transaction: the approval, the paid order, the stock taken, the journal entry.
    CommitApproval(Approval),
    /// Record why nothing was charged and release the held stock.
    ReleaseHold(NotCharged),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("payment {key}: {event} cannot happen while it is {state}")]
pub struct UnexpectedEvent {
    pub key: AttemptKey,
    /// The state's code, as stored.
    pub state: &'static str,
    /// The event, as debug text.
    pub event: String,
}

/// One payment attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub key: AttemptKey,
    pub amount: Money,
    pub state: PaymentState,
}

impl Payment {
    pub fn new(key: AttemptKey, amount: Money) -> Payment {
        Payment { key, amount, state: PaymentState::New }
    }

    /// Applies an event and returns the effects to carry out.
    pub fn apply(&mut self, event: PaymentEvent) -> Result<Vec<Effect>, UnexpectedEvent> {
        use PaymentEvent as E;
        use PaymentState as S;
        let (state, effects) = match (&self.state, &event) {
            (S::New, E::Start) => (S::Requested, vec![Effect::RecordAttempt, Effect::RequestPayment]),
            (S::Requested, E::CancelRequested) => (S::Requested, vec![Effect::RequestCancel]),
            (S::Requested, E::Paid(PayReply::Approved(approval))) => {
                (S::Approved(approval.clone()), vec![Effect::CommitApproval(approval.clone())])
            }
            (S::Requested, E::Paid(PayReply::NotCharged(why))) => {
                (S::NotCharged(why.clone()), vec![Effect::ReleaseHold(why.clone())])
            }
            // No answer: the terminal may still be waiting for a card while the screen has moved
            // on. Abort it first, then settle by status.
            (S::Requested, E::Paid(PayReply::NoAnswer(_)) | E::Restarted) => {
                (S::InDoubt, vec![Effect::RecordInDoubt, Effect::RequestCancel, Effect::QueryStatus])
            }
            (S::InDoubt, E::Restarted) => (S::InDoubt, vec![Effect::RecordInDoubt, Effect::QueryStatus]),
            (S::InDoubt, E::Status(StatusReply::Approved(approval))) => {
                (S::Approved(approval.clone()), vec![Effect::CommitApproval(approval.clone())])
            }
            (S::InDoubt, E::Status(StatusReply::NotCharged(why))) => {
                (S::NotCharged(why.clone()), vec![Effect::ReleaseHold(why.clone())])
            }
            // Still unknown: keep the stock held and ask again later; never ask to pay again.
            (S::InDoubt, E::Status(StatusReply::InProgress | StatusReply::Unreachable(_))) => (S::InDoubt, vec![]),
            _ => {
                return Err(UnexpectedEvent {
                    key: self.key.clone(),
                    state: self.state.code(),
                    event: format!("{event:?}"),
                });
            }
        };
        self.state = state;
        Ok(effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval() -> Approval {
        Approval::new("T-1".into(), "VISA".into(), Some("4242".into()))
    }

    fn run(events: Vec<PaymentEvent>) -> (PaymentState, Vec<Effect>) {
        let mut payment = Payment::new(AttemptKey::new("k1", "d1", 7, 1), Money::from_minor(1290));
        let mut effects = Vec::new();
        for event in events {
            effects.extend(payment.apply(event).expect("a valid transition"));
        }
        (payment.state, effects)
    }

    #[test]
    fn table_of_flows() {
        use Effect::*;
        use PaymentEvent::*;
        let cases: Vec<(&str, Vec<PaymentEvent>, PaymentState, Vec<Effect>)> = vec![
            (
                "approved",
                vec![Start, Paid(PayReply::Approved(approval()))],
                PaymentState::Approved(approval()),
                vec![RecordAttempt, RequestPayment, CommitApproval(approval())],
            ),
            (
                "declined",
                vec![Start, Paid(PayReply::NotCharged(NotCharged::Declined("insufficient funds".into())))],
                PaymentState::NotCharged(NotCharged::Declined("insufficient funds".into())),
                vec![RecordAttempt, RequestPayment, ReleaseHold(NotCharged::Declined("insufficient funds".into()))],
            ),
            (
                "lost response, then the terminal says approved",
                vec![Start, Paid(PayReply::NoAnswer("lost".into())), Status(StatusReply::Approved(approval()))],
                PaymentState::Approved(approval()),
                vec![
                    RecordAttempt,
                    RequestPayment,
                    RecordInDoubt,
                    RequestCancel,
                    QueryStatus,
                    CommitApproval(approval()),
                ],
            ),
            (
                "disconnect, then the terminal never saw it",
                vec![
                    Start,
                    Paid(PayReply::NoAnswer("reset".into())),
                    Status(StatusReply::NotCharged(NotCharged::NeverReceived)),
                ],
                PaymentState::NotCharged(NotCharged::NeverReceived),
                vec![
                    RecordAttempt,
                    RequestPayment,
                    RecordInDoubt,
                    RequestCancel,
                    QueryStatus,
                    ReleaseHold(NotCharged::NeverReceived),
                ],
            ),
            (
                "a timeout aborts the payment on the terminal; status unreachable keeps it in doubt",
                vec![
                    Start,
                    Paid(PayReply::NoAnswer("timeout".into())),
                    Status(StatusReply::Unreachable("down".into())),
                ],
                PaymentState::InDoubt,
                vec![RecordAttempt, RequestPayment, RecordInDoubt, RequestCancel, QueryStatus],
            ),
            (
                "crash after recording: restart aborts, asks the status, and only asks again later",
                vec![
                    Start,
                    Restarted,
                    Status(StatusReply::InProgress),
                    Restarted,
                    Status(StatusReply::NotCharged(NotCharged::TimedOut)),
                ],
                PaymentState::NotCharged(NotCharged::TimedOut),
                vec![
                    RecordAttempt,
                    RequestPayment,
                    RecordInDoubt,
                    RequestCancel,
                    QueryStatus,
                    RecordInDoubt,
                    QueryStatus,
                    ReleaseHold(NotCharged::TimedOut),
                ],
            ),
            (
                "a request the terminal refused took nothing, and says why",
                vec![Start, Paid(PayReply::NotCharged(NotCharged::Rejected("message format".into())))],
                PaymentState::NotCharged(NotCharged::Rejected("message format".into())),
                vec![RecordAttempt, RequestPayment, ReleaseHold(NotCharged::Rejected("message format".into()))],
            ),
            (
                "cancel asks the terminal; its answer ends the attempt",
                vec![Start, CancelRequested, Paid(PayReply::NotCharged(NotCharged::Cancelled))],
                PaymentState::NotCharged(NotCharged::Cancelled),
                vec![RecordAttempt, RequestPayment, RequestCancel, ReleaseHold(NotCharged::Cancelled)],
            ),
        ];
        for (name, events, state, effects) in cases {
            assert_eq!(run(events), (state, effects), "{name}");
        }
    }

    #[test]
    fn final_states_take_no_more_events() {
        let mut payment = Payment::new(AttemptKey::new("k1", "d1", 1, 1), Money::from_minor(100));
        payment.apply(PaymentEvent::Start).unwrap();
        payment.apply(PaymentEvent::Paid(PayReply::Approved(approval()))).unwrap();
        // A second approval or a restart must never lead to a second charge or commit.
        assert!(payment.apply(PaymentEvent::Paid(PayReply::Approved(approval()))).is_err());
        assert!(payment.apply(PaymentEvent::Restarted).is_err());
        assert!(payment.apply(PaymentEvent::Start).is_err());
    }

    #[test]
    fn an_orders_standing_follows_its_attempts() {
        let declined = PaymentState::NotCharged(NotCharged::Declined("insufficient funds".into()));
        let approved = PaymentState::Approved(approval());
        assert_eq!(Standing::of([]), Standing::NotCharged);
        assert_eq!(Standing::of([&declined]), Standing::NotCharged);
        // A declined card, then another approved: paid, whatever the order of the answers.
        assert_eq!(Standing::of([&declined, &approved]), Standing::Paid);
        assert_eq!(Standing::of([&approved, &PaymentState::InDoubt]), Standing::Paid);
        // One unanswered attempt is enough to say nothing yet.
        assert_eq!(Standing::of([&declined, &PaymentState::InDoubt]), Standing::Unresolved);
        assert_eq!(Standing::of([&PaymentState::Requested, &declined]), Standing::Unresolved);
    }

    #[test]
    fn only_four_digits_are_kept() {
        let full = Approval::new("r".into(), "VISA".into(), Some("4111111111111111".into()));
        assert_eq!(full.last_four, None);
        assert_eq!(approval().last_four.as_deref(), Some("4242"));
    }
}
