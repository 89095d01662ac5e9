//! A semi-integrated payment terminal on the local network speaking nexo Retailer as Adyen's
//! Terminal API does: `SaleToPOIRequest` messages posted to the terminal's `/nexo` endpoint
//! over TLS (the vendor's root, the terminal's name: see `nexo_tls`), each encrypted with the
//! key shared with the terminal (`nexo_crypto`). Payments are `PaymentRequest`s, refunds
//! `ReversalRequest`s of the original transaction, cancels `AbortRequest`s, and a payment in
//! doubt is resolved with a `TransactionStatusRequest` naming the request's `ServiceID`.
//!
//! The kiosk's idempotency key is the sale's `TransactionID`; the `ServiceID` (at most ten
//! characters in nexo) is derived from the key, so a status query after a restart can name
//! it again. A request the terminal refuses (a reject notice, or an error it names) was not
//! acted on: the payment is not charged, and the terminal's reason is kept.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use kiosk_core::money::Money;
use kiosk_core::payment::{Approval, AttemptKey, NotCharged, PayReply, StatusReply};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::nexo_crypto::{self, NexoKey};
use super::{PaymentRequest, PaymentTerminal, RefundRequest, nexo_tls};
use crate::web::{WebClient, WebGate};

/// Everything needed to reach and trust one terminal.
#[derive(Clone, Debug)]
pub struct NexoSettings {
    /// The terminal on the venue's network.
    pub address: SocketAddr,
    /// This kiosk, as the terminal knows it.
    pub sale_id: String,
    /// The terminal's id ("V400m-324688179").
    pub poi_id: String,
    /// The name its certificate must carry.
    pub certificate_name: String,
    /// The vendor's root certificate, PEM.
    pub root_certificate: Vec<u8>,
    pub key: NexoKey,
    /// Bounds one exchange with the terminal, the customer's time at the reader included.
    pub timeout: Duration,
    /// The web allowlist the terminal's URL must be on.
    pub web: WebGate,
}

/// A terminal reached over HTTPS with encrypted messages.
#[derive(Debug)]
pub struct NexoTerminal {
    client: WebClient,
    endpoint: String,
    sale_id: String,
    poi_id: String,
    key: NexoKey,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set up the terminal client: {0}")]
pub struct NexoError(pub String);

/// The nexo `ServiceID` of a key: ten hex digits of its hash.
pub fn service_id(key: &AttemptKey) -> String {
    hex::encode(Sha256::digest(key.as_str().as_bytes()))[..10].to_owned()
}

/// What the terminal made of a request.
enum Answer {
    /// Its response message, decrypted.
    Response(Value),
    /// An acknowledgement without a body (an abort).
    Empty,
    /// It refused the request, saying why (a reject notice): this copy was not acted on.
    Refused(String),
    /// It could not read the request at all (a key it does not have, a malformed message):
    /// nothing was acted on.
    Unreadable(String),
}

impl NexoTerminal {
    pub fn new(settings: NexoSettings) -> Result<NexoTerminal, NexoError> {
        let tls = nexo_tls::client_config(&settings.root_certificate, &settings.certificate_name).map_err(NexoError)?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(settings.timeout)
            .build()
            .map_err(|e| NexoError(e.to_string()))?;
        Ok(NexoTerminal {
            client: WebClient::new(client, settings.web),
            endpoint: format!("https://{}/nexo", settings.address),
            sale_id: settings.sale_id,
            poi_id: settings.poi_id,
            key: settings.key,
        })
    }

    fn header(&self, category: &str, service_id: &str) -> Value {
        json!({
            "ProtocolVersion": "3.0",
            "MessageClass": "Service",
            "MessageCategory": category,
            "MessageType": "Request",
            "ServiceID": service_id,
            "SaleID": self.sale_id,
            "POIID": self.poi_id,
        })
    }

    /// Sends one request, encrypted, and reads the terminal's answer to it. `Err` when nothing
    /// usable came back: the terminal may or may not have acted.
    async fn exchange(&self, category: &str, service_id: &str, body_name: &str, body: Value) -> Result<Answer, String> {
        let header = self.header(category, service_id);
        let clear = json!({ "SaleToPOIRequest": { "MessageHeader": header, body_name: body } });
        let sealed = nexo_crypto::seal(&clear, &self.key).map_err(|e| e.to_string())?;
        let request = match self.client.request(reqwest::Method::POST, &self.endpoint) {
            Ok(request) => request,
            // Never sent: certainly not acted on.
            Err(refused) => return Ok(Answer::Unreadable(refused.to_string())),
        };
        let response = request.json(&sealed).send().await.map_err(|e| connection_problem(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| connection_problem(&e))?;
        if bytes.is_empty() || bytes.as_ref() == b"ok" {
            return if status.is_success() {
                Ok(Answer::Empty)
            } else {
                Err(format!("the terminal answered HTTP {status}"))
            };
        }
        let message: Value = serde_json::from_slice(&bytes).map_err(|e| format!("unreadable answer: {e}"))?;
        // The terminal's nexo service names what it could not read (a bad key, a malformed
        // message) in a list of errors, with an HTTP error: it did not act on the request.
        if let Some(errors) = message.get("errors").and_then(Value::as_array) {
            let said: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
            return Ok(Answer::Unreadable(said.join("; ")));
        }
        if !status.is_success() {
            return Err(format!("the terminal answered HTTP {status}"));
        }
        let sealed = nexo_crypto::is_sealed(&message);
        let message = if sealed { nexo_crypto::open(&message, &self.key).map_err(|e| e.to_string())? } else { message };
        if let Some(reason) = refusal(&message, service_id) {
            return Ok(Answer::Refused(reason));
        }
        if !sealed {
            // A clear answer is read only for a refusal: anything else could be anybody's.
            return Err("the terminal answered unencrypted".into());
        }
        let response = &message["SaleToPOIResponse"];
        let answered = &response["MessageHeader"];
        if answered["ServiceID"] != service_id || answered["MessageCategory"] != category {
            return Err("the terminal's answer is to another request".into());
        }
        Ok(Answer::Response(response.clone()))
    }

    async fn status_of(&self, key: &AttemptKey, category: &str, body: &str) -> StatusReply {
        let request = json!({
            "ReceiptReprintFlag": false,
            "MessageReference": { "MessageCategory": category, "SaleID": self.sale_id, "ServiceID": service_id(key) },
        });
        let service = fresh_service_id(key, "status");
        let answer = match self.exchange("TransactionStatus", &service, "TransactionStatusRequest", request).await {
            Ok(Answer::Response(answer)) => answer,
            Ok(Answer::Empty) => return StatusReply::Unreachable("empty status answer".into()),
            Ok(Answer::Refused(reason) | Answer::Unreadable(reason)) => {
                return StatusReply::Unreachable(format!("status query refused: {reason}"));
            }
            Err(error) => return StatusReply::Unreachable(error),
        };
        let status = &answer["TransactionStatusResponse"];
        match status["Response"]["Result"].as_str() {
            Some("Success") => {
                let repeated = &status["RepeatedMessageResponse"]["RepeatedResponseMessageBody"][body];
                match read_result(repeated, key.as_str()) {
                    PayReply::Approved(approval) => StatusReply::Approved(approval),
                    PayReply::NotCharged(why) => StatusReply::NotCharged(why),
                    PayReply::NoAnswer(why) => StatusReply::Unreachable(why),
                }
            }
            _ => match status["Response"]["ErrorCondition"].as_str() {
                Some("InProgress") => StatusReply::InProgress,
                Some("NotFound") => StatusReply::NotCharged(NotCharged::NeverReceived),
                other => StatusReply::Unreachable(format!("status refused: {}", other.unwrap_or("no reason"))),
            },
        }
    }

    /// A payment or a reversal: its answer read from the body named `response`. A refused
    /// request is checked against the key's status first: the terminal may have refused only
    /// this copy of a request it already carried out (a ServiceID it saw before), and then the
    /// key's outcome is the one it gave the first time.
    async fn transact(&self, category: &str, key: &AttemptKey, request: (&str, Value), response: &str) -> PayReply {
        match self.exchange(category, &service_id(key), request.0, request.1).await {
            Ok(Answer::Response(answer)) => read_result(&answer[response], key.as_str()),
            Ok(Answer::Refused(reason)) => match self.status(key).await {
                StatusReply::NotCharged(NotCharged::NeverReceived) => {
                    PayReply::NotCharged(NotCharged::Rejected(reason))
                }
                StatusReply::Approved(approval) => PayReply::Approved(approval),
                StatusReply::NotCharged(why) => PayReply::NotCharged(why),
                StatusReply::InProgress | StatusReply::Unreachable(_) => {
                    PayReply::NoAnswer(format!("the terminal refused the request ({reason}) and cannot say its status"))
                }
            },
            Ok(Answer::Unreadable(reason)) => PayReply::NotCharged(NotCharged::Rejected(reason)),
            Ok(Answer::Empty) => PayReply::NoAnswer("empty answer".into()),
            Err(error) => PayReply::NoAnswer(error),
        }
    }
}

/// The reason of a reject notice of the request `service_id` (an `EventNotification` of a
/// `Reject`, its details written `message=...` form-encoded), or of a response refusing it
/// for its format.
fn refusal(message: &Value, service_id: &str) -> Option<String> {
    let notice = &message["SaleToPOIRequest"];
    let event = &notice["EventNotification"];
    let about = notice["MessageHeader"]["ServiceID"].as_str();
    if event["EventToNotify"] == "Reject" && about.is_none_or(|about| about == service_id) {
        let details = event["EventDetails"].as_str().unwrap_or("");
        let said = details.split('&').find_map(|pair| pair.strip_prefix("message=")).unwrap_or(details);
        return Some(form_decoded(said));
    }
    let response = message["SaleToPOIResponse"].as_object()?.values().find_map(|body| body.get("Response"))?;
    (response["Result"] == "Failure" && response["ErrorCondition"] == "MessageFormat").then(|| {
        let detail = response["AdditionalResponse"].as_str().unwrap_or("the message format");
        form_decoded(detail)
    })
}

/// A form-encoded text ("Did+not+receive%20it") as words.
fn form_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let digits = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match digits.and_then(|digits| u8::from_str_radix(digits, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What went wrong reaching the terminal, with the TLS reason in words when it is one.
fn connection_problem(error: &reqwest::Error) -> String {
    match tls_error(error) {
        Some(tls) => nexo_tls::describe(tls),
        None if error.is_timeout() => "no answer from the terminal in time".into(),
        None => error.to_string(),
    }
}

/// The TLS error among an error's causes. It comes wrapped in I/O errors, whose `source`
/// skips what they wrap.
fn tls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let wrapped = error.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
    match wrapped {
        Some(inner) => tls_error(inner),
        None => error.source().and_then(tls_error),
    }
}

/// A ServiceID for a request about `key` that is not the payment itself (a status query, an
/// abort): new at every request, since a terminal refuses a ServiceID it saw in the last 48
/// hours; short, as nexo wants.
fn fresh_service_id(key: &AttemptKey, purpose: &str) -> String {
    static SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let digest = hex::encode(Sha256::digest(format!("{purpose}:{}:{now}:{count}", key.as_str()).as_bytes()));
    digest[..10].to_owned()
}

/// An amount as a JSON number, as nexo wants it. The shortest decimal form of a two-decimal
/// amount survives the trip through a double exactly ("12.9" for 12.90), and the terminal
/// reads the text.
fn wire_amount(amount: Money) -> Value {
    use rust_decimal::prelude::ToPrimitive;
    amount.as_decimal().to_f64().map_or(Value::Null, Value::from)
}

/// Reads a `PaymentResponse` or `ReversalResponse` body. `fallback_reference` (the sale's
/// own TransactionID) stands in when the terminal names no transaction of its own.
fn read_result(body: &Value, fallback_reference: &str) -> PayReply {
    let response = &body["Response"];
    match response["Result"].as_str() {
        // The kiosk never asks for partial approvals; a partial one is not the sale's amount.
        Some("Partial") => PayReply::NoAnswer("the terminal approved only part of the amount".into()),
        Some("Success") => {
            let transaction = &body["POIData"]["POITransactionID"];
            let reference = match transaction["TransactionID"].as_str() {
                Some(reference) if !reference.is_empty() => reference,
                _ => {
                    log::error!("terminal approval without a transaction id: kept as {fallback_reference}");
                    fallback_reference
                }
            };
            let card = &body["PaymentResult"]["PaymentInstrumentData"]["CardData"];
            let scheme = card["PaymentBrand"].as_str().unwrap_or("card");
            let last_four = card["MaskedPan"]
                .as_str()
                .map(|pan| pan.chars().rev().take(4).collect::<Vec<_>>())
                .map(|digits| digits.into_iter().rev().collect::<String>());
            let time = transaction["TimeStamp"].as_str().map(str::to_owned);
            PayReply::Approved(Approval::new(reference.to_owned(), scheme.to_owned(), last_four).at(time))
        }
        Some("Failure") => {
            let condition = response["ErrorCondition"].as_str().unwrap_or("Refusal");
            match condition {
                "Aborted" | "Cancel" => PayReply::NotCharged(NotCharged::Cancelled),
                "UnavailableService" | "Busy" | "InProgress" => {
                    PayReply::NoAnswer(format!("the terminal is {condition}"))
                }
                _ => {
                    let detail = response["AdditionalResponse"].as_str().unwrap_or("");
                    let reason = detail
                        .split('&')
                        .find_map(|pair| pair.strip_prefix("refusalReason="))
                        .map_or_else(|| condition.to_owned(), form_decoded);
                    PayReply::NotCharged(NotCharged::Declined(reason))
                }
            }
        }
        _ => PayReply::NoAnswer("the terminal's answer has no result".into()),
    }
}

#[async_trait]
impl PaymentTerminal for NexoTerminal {
    fn is_simulated(&self) -> bool {
        false
    }

    async fn pay(&self, request: &PaymentRequest) -> PayReply {
        let body = json!({
            "SaleData": { "SaleTransactionID": { "TransactionID": request.key.as_str(), "TimeStamp": request.at } },
            "PaymentTransaction": {
                "AmountsReq": { "Currency": request.currency.code(), "RequestedAmount": wire_amount(request.amount) },
            },
        });
        self.transact("Payment", &request.key, ("PaymentRequest", body), "PaymentResponse").await
    }

    async fn refund(&self, request: &RefundRequest) -> PayReply {
        // The terminal names a transaction by its id and its own time; a payment recorded
        // without that time is asked about to learn it.
        let original_time = match (&request.original_time, &request.original_key) {
            (Some(time), _) => Some(time.clone()),
            (None, Some(key)) => match self.status(key).await {
                StatusReply::Approved(approval) => approval.terminal_time,
                _ => None,
            },
            (None, None) => None,
        };
        let Some(original_time) = original_time else {
            return PayReply::NotCharged(NotCharged::Rejected(format!(
                "the terminal no longer says when payment {} was made: refund it on the terminal itself",
                request.original_reference
            )));
        };
        let body = json!({
            "OriginalPOITransaction": {
                "POITransactionID": { "TransactionID": request.original_reference, "TimeStamp": original_time },
            },
            "ReversalReason": "MerchantCancel",
            "ReversedAmount": wire_amount(request.amount),
            "SaleData": { "SaleTransactionID": { "TransactionID": request.key.as_str(), "TimeStamp": request.at } },
        });
        self.transact("Reversal", &request.key, ("ReversalRequest", body), "ReversalResponse").await
    }

    async fn cancel(&self, key: &AttemptKey) {
        let body = json!({
            "AbortReason": "MerchantAbort",
            "MessageReference": { "MessageCategory": "Payment", "SaleID": self.sale_id, "ServiceID": service_id(key) },
        });
        let service = fresh_service_id(key, "abort");
        match self.exchange("Abort", &service, "AbortRequest", body).await {
            Ok(Answer::Refused(reason) | Answer::Unreadable(reason)) => {
                log::warn!("terminal refused the abort of {key}: {reason}")
            }
            Ok(_) => {}
            Err(error) => log::warn!("terminal abort of {key} not delivered: {error}"),
        }
    }

    async fn status(&self, key: &AttemptKey) -> StatusReply {
        match self.status_of(key, "Payment", "PaymentResponse").await {
            StatusReply::NotCharged(NotCharged::NeverReceived) => {
                self.status_of(key, "Reversal", "ReversalResponse").await
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_read_in_words() {
        let reject = json!({ "SaleToPOIRequest": { "EventNotification": {
            "EventToNotify": "Reject", "EventDetails": "message=Did+not+receive+a+response%2C+sorry",
            "TimeStamp": "2026-12-01T12:00:00Z" } } });
        assert_eq!(refusal(&reject, "a1").as_deref(), Some("Did not receive a response, sorry"));
        let other = json!({ "SaleToPOIRequest": { "MessageHeader": { "ServiceID": "b2" },
            "EventNotification": { "EventToNotify": "Reject", "EventDetails": "message=no" } } });
        assert_eq!(refusal(&other, "a1"), None, "a reject of another request is not this one's");
        let format = json!({ "SaleToPOIResponse": { "PaymentResponse": { "Response": {
            "Result": "Failure", "ErrorCondition": "MessageFormat", "AdditionalResponse": "errors=missing%20TimeStamp" } } } });
        assert_eq!(refusal(&format, "a1").as_deref(), Some("errors=missing TimeStamp"));
        let declined = json!({ "SaleToPOIResponse": { "PaymentResponse": { "Response": {
            "Result": "Failure", "ErrorCondition": "Refusal" } } } });
        assert_eq!(refusal(&declined, "a1"), None, "a decline is an answer, not a refusal of the request");
        assert_eq!(form_decoded("50%"), "50%");
    }
}
