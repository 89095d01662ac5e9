//! A payment terminal on loopback speaking nexo as Adyen's Terminal API does, for tests. It
//! serves TLS with a certificate of the test PKI (`tests/fixtures/terminal-tls`), takes only
//! messages encrypted under its key, and refuses what a real terminal refuses: a message it
//! cannot decrypt (an error list, HTTP 400), and, as a reject notice, a header field missing
//! or wrong, a ServiceID too long or used before, a missing or made-up timestamp, a reversal
//! that does not name a transaction it made by its id and time.
//!
//! It answers by the amount asked: 6.66 is declined, 7.77 is approved but the answer is lost
//! (the connection closes), anything else is approved; after [`FakeTerminal::hold_next_payment`]
//! the next payment waits for a card that never comes until it is aborted. It keeps what it
//! answered each payment for status queries.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_devices::terminal::NexoSettings;
use kiosk_devices::terminal::nexo_crypto::{self, DerivedKey, NexoKey};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The terminal's id, as its certificate names it.
pub const POI_ID: &str = "V400m-324688179";
pub const KEY_IDENTIFIER: &str = "kiosk-key";
pub const KEY_VERSION: u32 = 1;
pub const PASSPHRASE: &str = "correct horse battery staple";

/// A file of the test PKI.
pub fn pki(name: &str) -> PathBuf {
    crate::workspace_path(&format!("tests/fixtures/terminal-tls/{name}"))
}

/// What the terminal remembers.
#[derive(Debug, Default)]
struct State {
    /// The answer each payment or reversal got, by its ServiceID.
    answered: HashMap<String, Value>,
    /// Every ServiceID it was sent: it refuses one it saw before.
    service_ids: HashSet<String>,
    /// The requests it read, decrypted, in order.
    received: Vec<Value>,
    /// Why it refused what it refused, in order.
    refused: Vec<String>,
    /// Payments waiting for a card, by ServiceID, until aborted.
    waiting: HashSet<String>,
    /// The next payment waits for a card.
    hold_next: bool,
    /// How many transactions it made, for their ids.
    transactions: u32,
}

#[derive(Debug, Clone)]
pub struct FakeTerminal {
    pub address: SocketAddr,
    key: NexoKey,
    state: Arc<Mutex<State>>,
    aborted: Arc<Notify>,
}

impl FakeTerminal {
    /// A terminal with its own certificate (`terminal.pem`, named for [`POI_ID`]).
    pub async fn start() -> FakeTerminal {
        FakeTerminal::presenting("terminal").await
    }

    /// A terminal presenting the certificate `<name>.pem` of the test PKI.
    pub async fn presenting(certificate: &str) -> FakeTerminal {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(pki(&format!("{certificate}.pem")))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(pki(&format!("{certificate}.key"))).unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let terminal = FakeTerminal {
            address: listener.local_addr().unwrap(),
            key: NexoKey {
                identifier: KEY_IDENTIFIER.into(),
                version: KEY_VERSION,
                derived: DerivedKey::from_passphrase(PASSPHRASE),
            },
            state: Arc::default(),
            aborted: Arc::default(),
        };
        let serving = terminal.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, terminal) = (acceptor.clone(), serving.clone());
                tokio::spawn(async move {
                    // A client that does not trust this certificate hangs up here.
                    if let Ok(stream) = acceptor.accept(stream).await {
                        terminal.serve(stream).await;
                    }
                });
            }
        });
        terminal
    }

    /// How a kiosk reaches this terminal: the vendor's root of the test PKI, its name, its key.
    pub fn settings(&self, sale_id: &str, timeout: Duration) -> NexoSettings {
        NexoSettings {
            address: self.address,
            sale_id: sale_id.into(),
            poi_id: POI_ID.into(),
            certificate_name: format!("{POI_ID}.test.terminal.adyen.com"),
            root_certificate: std::fs::read(pki("vendor-root.pem")).unwrap(),
            key: self.key.clone(),
            timeout,
            web: kiosk_devices::web::WebGate::default(),
        }
    }

    /// The `[terminal]` section of a device config for this terminal, its passphrase written
    /// to a file in `dir`.
    pub fn config_section(&self, dir: &Path) -> String {
        let passphrase = dir.join("terminal.passphrase");
        std::fs::write(&passphrase, format!("{PASSPHRASE}\n")).unwrap();
        format!(
            "[terminal]\nkind = \"nexo\"\naddress = \"{}\"\npoi_id = \"{POI_ID}\"\nenvironment = \"test\"\n\
             root_certificate = \"{}\"\nkey_identifier = \"{KEY_IDENTIFIER}\"\nkey_version = {KEY_VERSION}\n\
             passphrase_file = \"{}\"\n",
            self.address,
            pki("vendor-root.pem").display(),
            passphrase.display()
        )
    }

    /// The next payment waits for a card that never comes, until it is aborted.
    pub fn hold_next_payment(&self) {
        self.state.lock().unwrap().hold_next = true;
    }

    /// The categories of the requests it read, in order ("Payment", "Abort"...).
    pub fn categories(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        let category = |request: &Value| request["SaleToPOIRequest"]["MessageHeader"]["MessageCategory"].to_string();
        state.received.iter().map(|request| category(request).trim_matches('"').to_owned()).collect()
    }

    /// The requests it read, decrypted.
    pub fn received(&self) -> Vec<Value> {
        self.state.lock().unwrap().received.clone()
    }

    /// Why it refused what it refused.
    pub fn refused(&self) -> Vec<String> {
        self.state.lock().unwrap().refused.clone()
    }

    /// Answers the HTTP requests of one connection.
    async fn serve(&self, mut stream: impl AsyncRead + AsyncWrite + Unpin) {
        let Some(body) = read_request(&mut stream).await else { return };
        let (status, reply) = match self.answer(&body).await {
            Reply::Message(message) => ("200 OK", nexo_crypto::seal(&message, &self.key).unwrap().to_string()),
            Reply::Empty => ("200 OK", String::new()),
            Reply::Errors(errors) => ("400 Bad Request", json!({ "errors": errors }).to_string()),
            // The answer is lost: the connection closes without one.
            Reply::Lost => return,
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    async fn answer(&self, body: &[u8]) -> Reply {
        let Ok(envelope) = serde_json::from_slice::<Value>(body) else {
            return self.errors("At toplevel: not JSON");
        };
        if !nexo_crypto::is_sealed(&envelope) {
            return self.errors("Nexo Service: Direct API REQUIRES payload crypto");
        }
        let request = match nexo_crypto::open(&envelope, &self.key) {
            Ok(request) => request,
            Err(error) => return self.errors(&format!("Nexo Service: crypto error ({error})")),
        };
        self.state.lock().unwrap().received.push(request.clone());
        let message = &request["SaleToPOIRequest"];
        let header = &message["MessageHeader"];
        if let Err(problem) = self.check_header(header) {
            return self.reject(header, &problem);
        }
        let service = header["ServiceID"].as_str().unwrap_or_default().to_owned();
        let category = header["MessageCategory"].as_str().unwrap_or_default().to_owned();
        let reply_header = json!({
            "ProtocolVersion": "3.0", "MessageClass": "Service", "MessageCategory": category,
            "MessageType": "Response", "ServiceID": service, "SaleID": header["SaleID"], "POIID": POI_ID,
        });
        let respond = |name: &str, body: Value| {
            Reply::Message(json!({ "SaleToPOIResponse": { "MessageHeader": reply_header, name: body } }))
        };
        match category.as_str() {
            "Payment" => match self.payment(&service, &message["PaymentRequest"]).await {
                Ok(Some(body)) => respond("PaymentResponse", body),
                Ok(None) => Reply::Lost,
                Err(problem) => self.reject(header, &problem),
            },
            "Reversal" => match self.reversal(&service, &message["ReversalRequest"]) {
                Ok(body) => respond("ReversalResponse", body),
                Err(problem) => self.reject(header, &problem),
            },
            "TransactionStatus" => match check_reference(&message["TransactionStatusRequest"], header) {
                Ok(()) => respond("TransactionStatusResponse", self.status(&message["TransactionStatusRequest"])),
                Err(problem) => self.reject(header, &problem),
            },
            "Abort" => {
                if let Err(problem) = check_reference(&message["AbortRequest"], header) {
                    return self.reject(header, &problem);
                }
                if message["AbortRequest"]["AbortReason"].as_str().is_none() {
                    return self.reject(header, "AbortReason is missing");
                }
                let asked = message["AbortRequest"]["MessageReference"]["ServiceID"].as_str().unwrap_or_default();
                let mut state = self.state.lock().unwrap();
                if state.waiting.remove(asked) {
                    state.answered.insert(asked.to_owned(), failure("Aborted", "message=Transaction%20aborted"));
                    self.aborted.notify_waiters();
                }
                Reply::Empty
            }
            other => self.reject(header, &format!("MessageCategory {other} is not supported")),
        }
    }

    fn check_header(&self, header: &Value) -> Result<(), String> {
        let expect = |field: &str, value: &str| {
            (header[field] == value).then_some(()).ok_or_else(|| format!("{field} must be {value}"))
        };
        expect("ProtocolVersion", "3.0")?;
        expect("MessageClass", "Service")?;
        expect("MessageType", "Request")?;
        expect("POIID", POI_ID)?;
        if header["SaleID"].as_str().is_none_or(str::is_empty) {
            return Err("SaleID is missing".into());
        }
        let service = header["ServiceID"].as_str().unwrap_or_default();
        if service.is_empty() || service.len() > 10 || !service.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("ServiceID {service:?} must be 1 to 10 letters or digits"));
        }
        if !self.state.lock().unwrap().service_ids.insert(service.to_owned()) {
            return Err(format!("ServiceID {service} was used in the last 48 hours"));
        }
        Ok(())
    }

    /// Answers a payment; `None` when the answer is to be lost.
    async fn payment(&self, service: &str, request: &Value) -> Result<Option<Value>, String> {
        let sale = &request["SaleData"]["SaleTransactionID"];
        if sale["TransactionID"].as_str().is_none_or(str::is_empty) {
            return Err("SaleTransactionID.TransactionID is missing".into());
        }
        check_time(&sale["TimeStamp"], "SaleTransactionID.TimeStamp")?;
        let amounts = &request["PaymentTransaction"]["AmountsReq"];
        let amount = amounts["RequestedAmount"].to_string();
        if !amounts["RequestedAmount"].as_f64().is_some_and(|a| a > 0.0) || amounts["Currency"].as_str().is_none() {
            return Err("AmountsReq needs a Currency and a positive RequestedAmount".into());
        }
        let hold = std::mem::take(&mut self.state.lock().unwrap().hold_next);
        if hold {
            self.state.lock().unwrap().waiting.insert(service.to_owned());
            loop {
                let aborted = self.aborted.notified();
                if let Some(body) = self.state.lock().unwrap().answered.get(service) {
                    return Ok(Some(body.clone()));
                }
                aborted.await;
            }
        }
        let body = match amount.as_str() {
            "6.66" => failure("Refusal", "refusalReason=Not%20enough%20balance&errors=Refused"),
            _ => self.approval(amounts),
        };
        self.state.lock().unwrap().answered.insert(service.to_owned(), body.clone());
        Ok((amount != "7.77").then_some(body))
    }

    /// A transaction made now, with its id and this terminal's time.
    fn approval(&self, amounts: &Value) -> Value {
        let number = {
            let mut state = self.state.lock().unwrap();
            state.transactions += 1;
            state.transactions
        };
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        json!({
            "Response": { "Result": "Success", "AdditionalResponse": "tid=47069832&transactionType=GOODS_SERVICES" },
            "POIData": { "POITransactionID": { "TimeStamp": time, "TransactionID": format!("TX-{number:04}") } },
            "PaymentResult": {
                "PaymentInstrumentData": {
                    "CardData": { "EntryMode": ["Contactless"], "PaymentBrand": "mc", "MaskedPan": "541333 **** 9999" },
                    "PaymentInstrumentType": "Card",
                },
                "AmountsResp": { "AuthorizedAmount": amounts["RequestedAmount"], "Currency": amounts["Currency"] },
            },
        })
    }

    /// Answers a reversal of a transaction this terminal made, named by its id and time.
    fn reversal(&self, service: &str, request: &Value) -> Result<Value, String> {
        check_time(&request["SaleData"]["SaleTransactionID"]["TimeStamp"], "SaleTransactionID.TimeStamp")?;
        let reasons = ["CustCancel", "Malfunction", "MerchantCancel", "Unable2Compl"];
        if !reasons.iter().any(|reason| request["ReversalReason"] == *reason) {
            return Err(format!("ReversalReason {} is not one of {reasons:?}", request["ReversalReason"]));
        }
        let original = &request["OriginalPOITransaction"]["POITransactionID"];
        let mut state = self.state.lock().unwrap();
        let made = state.answered.values().any(|answer| {
            answer["Response"]["Result"] == "Success" && answer["POIData"]["POITransactionID"] == *original
        });
        if !made {
            return Err(format!("Original transaction not found: {original}"));
        }
        state.transactions += 1;
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let body = json!({
            "Response": { "Result": "Success" },
            "POIData": { "POITransactionID": { "TimeStamp": time, "TransactionID": format!("RV-{:04}", state.transactions) } },
        });
        state.answered.insert(service.to_owned(), body.clone());
        Ok(body)
    }

    fn status(&self, request: &Value) -> Value {
        let asked = &request["MessageReference"];
        let state = self.state.lock().unwrap();
        let service = asked["ServiceID"].as_str().unwrap_or_default();
        let body_name = if asked["MessageCategory"] == "Reversal" { "ReversalResponse" } else { "PaymentResponse" };
        match state.answered.get(service) {
            Some(body) => json!({
                "Response": { "Result": "Success" },
                "RepeatedMessageResponse": {
                    "MessageHeader": { "MessageCategory": asked["MessageCategory"], "ServiceID": service },
                    "RepeatedResponseMessageBody": { body_name: body },
                },
            }),
            None if state.waiting.contains(service) => json!({ "Response": {
                "Result": "Failure", "ErrorCondition": "InProgress", "AdditionalResponse": "message=Uncompleted%20transaction" } }),
            None => json!({ "Response": { "Result": "Failure", "ErrorCondition": "NotFound" } }),
        }
    }

    /// Refuses a message it could read: a reject notice, encrypted.
    fn reject(&self, header: &Value, problem: &str) -> Reply {
        self.state.lock().unwrap().refused.push(problem.to_owned());
        let details = format!("message={}", problem.replace(' ', "+"));
        Reply::Message(json!({ "SaleToPOIRequest": {
            "MessageHeader": {
                "ProtocolVersion": "3.0", "MessageClass": "Event", "MessageCategory": "Event",
                "MessageType": "Notification", "ServiceID": header["ServiceID"], "SaleID": header["SaleID"], "POIID": POI_ID,
            },
            "EventNotification": {
                "EventToNotify": "Reject",
                "EventDetails": details,
                "TimeStamp": chrono::Utc::now().to_rfc3339(),
            },
        } }))
    }

    /// Refuses a message it could not read: its nexo service's error list.
    fn errors(&self, problem: &str) -> Reply {
        self.state.lock().unwrap().refused.push(problem.to_owned());
        Reply::Errors(vec![problem.to_owned()])
    }
}

enum Reply {
    Message(Value),
    Empty,
    Errors(Vec<String>),
    Lost,
}

fn failure(condition: &str, detail: &str) -> Value {
    json!({
        "Response": { "Result": "Failure", "ErrorCondition": condition, "AdditionalResponse": detail },
        "POIData": { "POITransactionID": { "TimeStamp": chrono::Utc::now().to_rfc3339(), "TransactionID": "none" } },
    })
}

/// A status query or an abort names the request it is about: of this sale system, a payment
/// or a reversal, by its ServiceID.
fn check_reference(request: &Value, header: &Value) -> Result<(), String> {
    let reference = &request["MessageReference"];
    if reference["SaleID"] != header["SaleID"] {
        return Err("MessageReference.SaleID is not this sale system's".into());
    }
    if !(reference["MessageCategory"] == "Payment" || reference["MessageCategory"] == "Reversal") {
        return Err(format!(
            "MessageReference.MessageCategory {} is not Payment or Reversal",
            reference["MessageCategory"]
        ));
    }
    if reference["ServiceID"].as_str().is_none_or(str::is_empty) {
        return Err("MessageReference.ServiceID is missing".into());
    }
    Ok(())
}

/// A transaction's time must be a date and time, of this century (not a placeholder).
fn check_time(value: &Value, field: &str) -> Result<(), String> {
    let text = value.as_str().ok_or_else(|| format!("{field} is missing"))?;
    let time =
        chrono::DateTime::parse_from_rfc3339(text).map_err(|_| format!("{field} {text:?} is not a date-time"))?;
    if time.timestamp() < 946_684_800 {
        return Err(format!("{field} {text} is not a real time"));
    }
    Ok(())
}

/// Reads one HTTP request and returns its body.
async fn read_request(stream: &mut (impl AsyncRead + Unpin)) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).await.unwrap_or(0);
        if n == 0 {
            return None;
        }
        received.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return Some(received[end + 4..end + 4 + length].to_vec());
            }
        }
    }
}
