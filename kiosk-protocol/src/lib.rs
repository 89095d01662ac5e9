//! The messages between the kiosk app, the device agent and (later) the fleet console: what
//! the app says of itself, and what it is asked to do. Plain serde types, no I/O; every
//! message carries the protocol's version, and a reader refuses a version it does not know.

use kiosk_core::money::{Currency, Money};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The version of these messages. A change that an older reader would misread gets a new
/// number; new optional fields do not.
pub const VERSION: u32 = 1;

/// Where the touch app serves these messages on a device: a Unix socket, one request and one
/// reply a line, open to the agent's group only.
pub const APP_SOCKET: &str = "/run/kiosk/app.sock";

/// What the touch app is doing, as the agent and the fleet see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Waiting for a customer.
    Attract,
    /// A customer is choosing.
    Ordering,
    /// A customer is paying (on the terminal, or choosing how).
    Paying,
    /// A member of staff is signed in.
    Staff,
    /// Taken out of service: no order can be started.
    OutOfService,
}

/// Where the payment of the order in progress stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentPhase {
    /// Not paying yet.
    None,
    /// The terminal is asked; the customer presents a card.
    OnTerminal,
    /// The terminal has not said whether it charged: the order waits for it.
    InDoubt,
    /// The payment did not go through; the customer chooses what next.
    NotCharged,
    /// Paid, or to be paid at the counter: the order number is on screen.
    Done,
}

/// The order a customer is building or paying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderInProgress {
    /// Its number, once placed.
    pub number: Option<String>,
    pub total: Money,
    pub currency: Currency,
    pub lines: u32,
    pub phase: PaymentPhase,
    /// A training sale.
    pub training: bool,
}

/// The app's state for the outside, read by the agent over the app's local socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSummary {
    /// The app's release (not `version`: that is the protocol's, beside it in a message).
    pub release: String,
    pub activity: Activity,
    /// When the app entered this activity, RFC 3339.
    pub since: String,
    pub order: Option<OrderInProgress>,
    /// When the app last drew a frame, RFC 3339: a frozen screen shows as an old one.
    pub last_frame: Option<String>,
    /// Sales are training sales.
    pub training: bool,
    /// Why the kiosk was asked to go out of service, while it is out of service or while a
    /// payment in progress finishes first.
    pub out_of_service: Option<String>,
}

/// What the agent asks of the app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Say how things stand: a [`StateSummary`].
    State,
    /// Stop taking orders, with why (shown to staff and in the logs, not to customers); a
    /// payment in progress finishes first.
    OutOfService { reason: String },
    /// Take orders again.
    BackInService,
    /// Render the screen as it is now to PNG, anything that could be card data masked.
    Screenshot,
    /// Read the menu in use again now (after the agent imported one), not at the next poll.
    ReloadMenu,
    /// The update health gate's question: price a test order (a quote, no fiscal trace), and
    /// reach the receipt printer and the payment terminal.
    SelfCheck,
}

/// One check of a [`SelfCheckReport`]: passed or not, and what was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

/// How a release's self check went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfCheckReport {
    /// The release that answered.
    pub release: String,
    /// The test order's total, or why nothing could be priced.
    pub test_order: Check,
    pub receipt_printer: Check,
    pub terminal: Check,
}

impl SelfCheckReport {
    pub fn passed(&self) -> bool {
        self.test_order.ok && self.receipt_printer.ok && self.terminal.ok
    }

    /// What failed, in a sentence for logs and health reports.
    pub fn failures(&self) -> String {
        let checks = [
            ("test order", &self.test_order),
            ("receipt printer", &self.receipt_printer),
            ("terminal", &self.terminal),
        ];
        let failed: Vec<String> = checks
            .iter()
            .filter(|(_, check)| !check.ok)
            .map(|(name, check)| format!("{name}: {}", check.detail))
            .collect();
        failed.join("; ")
    }
}

/// The app's answer to a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// How things stand, after the command.
    State(StateSummary),
    /// How the self check went.
    SelfCheck(SelfCheckReport),
    /// The screen as PNG.
    Screenshot {
        #[serde(with = "base64_bytes")]
        png: Vec<u8>,
    },
    /// The command could not be carried out, and why.
    Refused { reason: String },
}

/// What the agent reports of its kiosk to the fleet at every heartbeat: a JSON POST of a
/// [`Message`] of this to the fleet endpoint (see docs/heartbeat.md). Whatever could not be
/// read is absent, with the reason beside it when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub device_id: String,
    pub site: Option<String>,
    /// When it was taken, RFC 3339 (a heartbeat queued while offline arrives later).
    pub taken_at: String,
    pub versions: Versions,
    pub system: System,
    pub app: AppHealth,
    /// How the day stands, read from the database.
    pub day: Option<kiosk_core::status::DayStatus>,
    pub day_error: Option<String>,
    pub update: UpdateStatus,
    /// The ways out of the kiosk app the agent checks closed (virtual terminals, Ctrl+Alt+Del,
    /// SysRq, a shell, a terminal emulator), each with whether it is open.
    #[serde(default)]
    pub escape_routes: Vec<EscapeRoute>,
    /// The policy as the agent last enforced it.
    #[serde(default)]
    pub lockdown: Option<LockdownStatus>,
    /// What became of the fleet's commands since the last heartbeat.
    #[serde(default)]
    pub acks: Vec<CommandAck>,
    /// The kiosk is in maintenance (out of service on the fleet's command), and why.
    #[serde(default)]
    pub maintenance: Option<String>,
}

/// How enforcing the policy went: what failed, and what the policy keeps out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockdownStatus {
    /// No policy, or one that cannot be read: nothing was enforced.
    pub policy_error: Option<String>,
    /// The network allowlist could not be loaded (the previous one stays in force).
    pub firewall_error: Option<String>,
    /// USB devices present that the policy does not allow (left unauthorized when it enforces).
    pub usb_not_allowed: Vec<String>,
    pub usb_error: Option<String>,
    /// Wi-Fi networks found configured that the policy does not trust, removed.
    pub wifi_removed: Vec<String>,
    pub wifi_error: Option<String>,
    /// Staff accounts the policy added or changed.
    #[serde(default)]
    pub staff_changed: Vec<String>,
    #[serde(default)]
    pub staff_error: Option<String>,
}

/// One escape route and whether it is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscapeRoute {
    pub name: String,
    pub open: bool,
    /// What was seen.
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    /// The app release committed (the one that runs).
    pub app: String,
    pub agent: String,
    pub menu: Option<String>,
    pub policy: Option<String>,
    /// The operating system and kernel.
    pub os: String,
}

/// The machine, from /proc and /sys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct System {
    pub uptime_seconds: u64,
    /// The one-minute load average, in hundredths (150: one and a half cores busy).
    pub load_hundredths: u32,
    pub cpus: u32,
    pub memory_total_kib: u64,
    pub memory_available_kib: u64,
    /// The data partition (where the database and releases are).
    pub disk_total_bytes: u64,
    pub disk_free_bytes: u64,
    /// The warmest thermal zone, in thousandths of a degree Celsius, where one is readable.
    pub temperature_millicelsius: Option<i64>,
}

/// The app as the agent sees it over its socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppHealth {
    pub reachable: bool,
    pub state: Option<StateSummary>,
    /// The self check: a test order priced, the receipt printer and the terminal reached.
    pub self_check: Option<SelfCheckReport>,
    pub error: Option<String>,
}

/// Where updates stand on the kiosk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateStatus {
    /// When the repository was last read, RFC 3339.
    pub last_poll_at: Option<String>,
    /// What each offer came to at that poll: kind, version, outcome and why.
    pub offers: Vec<OfferStatus>,
    /// The repository could not be read or was refused, and why.
    pub last_error: Option<String>,
    /// Releases that failed their health gate, with why.
    pub failed_releases: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferStatus {
    pub kind: String,
    pub version: String,
    /// up to date, installed, waiting, rolled back, failed before, refused.
    pub outcome: String,
    pub detail: Option<String>,
}

/// The fleet's answer to a heartbeat: commands for the kiosk, each a [`SignedCommand`] (see
/// docs/remote-actions.md). Kept as JSON values here so that one the agent cannot read is
/// refused and reported on its own, not the whole reply with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatReply {
    #[serde(default)]
    pub commands: Vec<serde_json::Value>,
}

/// A [`RemoteCommand`] as the fleet signed it: its JSON text exactly as signed, and an
/// Ed25519 signature of those bytes (base64). Anything may come here; the agent checks it all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCommand {
    pub command: String,
    pub signature: String,
}

/// A remote action for one kiosk: carried out once, in order of `seq` (each kiosk's commands
/// are numbered upwards, a number never used twice), and never after `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteCommand {
    pub device_id: String,
    pub seq: u64,
    /// RFC 3339.
    pub expires_at: String,
    #[serde(flatten)]
    pub action: RemoteAction,
}

/// What the fleet can ask of a kiosk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RemoteAction {
    /// Restart the touch app (after the payment under way).
    RestartApp,
    /// Restart the machine, once this command's acknowledgement is sent.
    Reboot,
    /// Upload the app's own render of its screen, card data masked.
    Screenshot,
    /// Upload the last `lines` lines of the kiosk's logs.
    UploadLogs {
        lines: u32,
    },
    /// Show the out-of-service screen until told to leave maintenance.
    EnterMaintenance {
        reason: String,
    },
    LeaveMaintenance,
    /// Multi-app mode: this app owns the screen until told otherwise; none: back to the
    /// policy's schedule.
    ShowApp {
        app: Option<String>,
    },
    /// Back to factory state: data, keys and enrolment removed. The fiscal journal and the Z
    /// archive are uploaded first and the fleet must confirm it holds them, unless forced with
    /// a reason (logged and reported).
    Wipe {
        force_reason: Option<String>,
    },
}

impl RemoteAction {
    pub fn name(&self) -> &'static str {
        match self {
            RemoteAction::RestartApp => "restart_app",
            RemoteAction::Reboot => "reboot",
            RemoteAction::Screenshot => "screenshot",
            RemoteAction::UploadLogs { .. } => "upload_logs",
            RemoteAction::EnterMaintenance { .. } => "enter_maintenance",
            RemoteAction::LeaveMaintenance => "leave_maintenance",
            RemoteAction::ShowApp { .. } => "show_app",
            RemoteAction::Wipe { .. } => "wipe",
        }
    }
}

/// What became of a remote command, sent back in the next heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAck {
    /// The command's number, when it could be read.
    pub seq: Option<u64>,
    /// The action's name, when it could be read.
    pub action: Option<String>,
    pub outcome: AckOutcome,
    /// What was done or uploaded, or why not.
    pub detail: String,
    /// RFC 3339.
    pub at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckOutcome {
    /// Carried out.
    Done,
    /// Not carried out: the command failed its checks (signature, device, number, expiry,
    /// what it asks).
    Refused,
    /// Checked and accepted, but carrying it out failed.
    Failed,
}

/// One message: a command or an answer, with the protocol's version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message<T> {
    pub version: u32,
    #[serde(flatten)]
    pub body: T,
}

pub type Request = Message<Command>;
pub type Reply = Message<Answer>;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("not a kiosk protocol message: {0}")]
    Malformed(String),
    #[error("protocol version {found} is not {VERSION}, the one this release speaks")]
    Version { found: u32 },
}

impl<T: Serialize + DeserializeOwned> Message<T> {
    pub fn new(body: T) -> Message<T> {
        Message { version: VERSION, body }
    }

    /// Reads a message (one line of JSON), refusing another version of the protocol before
    /// reading the rest.
    pub fn parse(text: &str) -> Result<Message<T>, ProtocolError> {
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let malformed = |e: serde_json::Error| ProtocolError::Malformed(e.to_string());
        let versioned: Versioned = serde_json::from_str(text).map_err(malformed)?;
        if versioned.version != VERSION {
            return Err(ProtocolError::Version { found: versioned.version });
        }
        serde_json::from_str(text).map_err(malformed)
    }

    /// The message as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol messages serialize")
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_their_version_and_another_is_refused() {
        let request = Request::new(Command::OutOfService { reason: "printer out of paper".into() });
        let text = request.to_json();
        assert_eq!(text, r#"{"version":1,"command":"out_of_service","reason":"printer out of paper"}"#);
        assert_eq!(Request::parse(&text), Ok(request));
        assert_eq!(Request::parse(r#"{"version":2,"command":"state"}"#), Err(ProtocolError::Version { found: 2 }));
        assert!(matches!(Request::parse(r#"{"version":1,"command":"reboot"}"#), Err(ProtocolError::Malformed(_))));
        assert!(matches!(Request::parse("state"), Err(ProtocolError::Malformed(_))));
    }

    #[test]
    fn a_summary_reads_as_the_agent_expects() {
        let summary = StateSummary {
            release: "1.4.0".into(),
            activity: Activity::Paying,
            since: "2026-12-02T12:00:00+01:00".into(),
            order: Some(OrderInProgress {
                number: Some("A042".into()),
                total: Money::parse_price("12.90").unwrap(),
                currency: Currency::Eur,
                lines: 2,
                phase: PaymentPhase::OnTerminal,
                training: false,
            }),
            last_frame: Some("2026-12-02T12:00:03+01:00".into()),
            training: false,
            out_of_service: Some("printer out of paper".into()),
        };
        let reply = Reply::new(Answer::State(summary));
        let json: serde_json::Value = serde_json::from_str(&reply.to_json()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["answer"], "state");
        assert_eq!(json["activity"], "paying");
        assert_eq!(json["release"], "1.4.0");
        assert_eq!(json["order"]["total"], "12.90");
        assert_eq!(json["order"]["phase"], "on_terminal");
        assert_eq!(Reply::parse(&reply.to_json()), Ok(reply));
    }

    #[test]
    fn a_screenshot_travels_as_base64() {
        let reply = Reply::new(Answer::Screenshot { png: vec![0x89, b'P', b'N', b'G'] });
        assert_eq!(reply.to_json(), r#"{"version":1,"answer":"screenshot","png":"iVBORw=="}"#);
        assert_eq!(Reply::parse(&reply.to_json()), Ok(reply));
        let garbled = r#"{"version":1,"answer":"screenshot","png":"not base64!"}"#;
        assert!(matches!(Reply::parse(garbled), Err(ProtocolError::Malformed(_))));
    }
}
