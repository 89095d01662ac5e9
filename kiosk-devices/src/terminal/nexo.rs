//! A semi-integrated payment terminal on the local network speaking nexo Retailer as Adyen's
//! Terminal API does: JSON `SaleToPOIRequest` messages posted to the terminal's `/nexo`
//! endpoint. Payments are `PaymentRequest`s, refunds `ReversalRequest`s of the original
//! transaction, cancels `AbortRequest`s, and a payment in doubt is resolved with a
//! `TransactionStatusRequest` naming the request's `ServiceID`.
//!
//! The kiosk's idempotency key is the sale's `TransactionID`; the `ServiceID` (at most ten
//! characters in nexo) is derived from the key, so a status query after a restart can name
//! it again.

use std::time::Duration;

use async_trait::async_trait;
use kiosk_core::money::Money;
use kiosk_core::payment::{Approval, AttemptKey, NotCharged, PayReply, StatusReply};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{PaymentRequest, PaymentTerminal, RefundRequest};

/// A terminal reached over HTTP(S).
#[derive(Debug)]
pub struct NexoTerminal {
    client: reqwest::Client,
    /// Such as `https://192.0.2.20:8443/nexo`.
    endpoint: String,
    /// This kiosk, as the terminal knows it.
    sale_id: String,
    /// The terminal's id ("V400m-123456789").
    poi_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot set up the terminal client: {0}")]
pub struct NexoError(String);

/// The nexo `ServiceID` of a key: ten hex digits of its hash.
pub fn service_id(key: &AttemptKey) -> String {
    hex::encode(Sha256::digest(key.as_str().as_bytes()))[..10].to_owned()
}

impl NexoTerminal {
    /// `timeout` bounds one exchange with the terminal, the customer's time at the reader
    /// included.
    pub fn new(endpoint: &str, sale_id: &str, poi_id: &str, timeout: Duration) -> Result<NexoTerminal, NexoError> {
        let client = reqwest::Client::builder().timeout(timeout).build().map_err(|e| NexoError(e.to_string()))?;
        Ok(NexoTerminal {
            client,
            endpoint: endpoint.to_owned(),
            sale_id: sale_id.to_owned(),
            poi_id: poi_id.to_owned(),
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

    /// Posts a request; `Ok(None)` for an answer without a body (an abort is acknowledged so).
    async fn post(&self, request: Value) -> Result<Option<Value>, String> {
        let response = self
            .client
            .post(&self.endpoint)
            .json(&json!({ "SaleToPOIRequest": request }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("the terminal answered HTTP {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        if body.is_empty() {
            return Ok(None);
        }
        let value: Value = serde_json::from_slice(&body).map_err(|e| format!("unreadable answer: {e}"))?;
        Ok(Some(value["SaleToPOIResponse"].clone()))
    }

    async fn status_of(&self, key: &AttemptKey, category: &str, body: &str) -> StatusReply {
        let request = json!({
            "MessageHeader": self.header("TransactionStatus", &fresh_service_id(key, "status")),
            "TransactionStatusRequest": {
                "ReceiptReprintFlag": false,
                "MessageReference": { "MessageCategory": category, "SaleID": self.sale_id, "ServiceID": service_id(key) },
            },
        });
        let answer = match self.post(request).await {
            Ok(Some(answer)) => answer,
            Ok(None) => return StatusReply::Unreachable("empty status answer".into()),
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
            let reference = match body["POIData"]["POITransactionID"]["TransactionID"].as_str() {
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
            PayReply::Approved(Approval::new(reference.to_owned(), scheme.to_owned(), last_four))
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
                        .map_or_else(|| condition.to_owned(), |r| r.replace("%20", " "));
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
            "MessageHeader": self.header("Payment", &service_id(&request.key)),
            "PaymentRequest": {
                "SaleData": { "SaleTransactionID": { "TransactionID": request.key.as_str(), "TimeStamp": "1970-01-01T00:00:00Z" } },
                "PaymentTransaction": {
                    "AmountsReq": { "Currency": request.currency.code(), "RequestedAmount": wire_amount(request.amount) },
                },
            },
        });
        match self.post(body).await {
            Ok(Some(answer)) => read_result(&answer["PaymentResponse"], request.key.as_str()),
            Ok(None) => PayReply::NoAnswer("empty answer".into()),
            Err(error) => PayReply::NoAnswer(error),
        }
    }

    async fn refund(&self, request: &RefundRequest) -> PayReply {
        let body = json!({
            "MessageHeader": self.header("Reversal", &service_id(&request.key)),
            "ReversalRequest": {
                "OriginalPOITransaction": { "POITransactionID": { "TransactionID": request.original_reference, "TimeStamp": "1970-01-01T00:00:00Z" } },
                "ReversalReason": "MerchantCancel",
                "ReversedAmount": wire_amount(request.amount),
                "SaleData": { "SaleTransactionID": { "TransactionID": request.key.as_str(), "TimeStamp": "1970-01-01T00:00:00Z" } },
            },
        });
        match self.post(body).await {
            Ok(Some(answer)) => read_result(&answer["ReversalResponse"], request.key.as_str()),
            Ok(None) => PayReply::NoAnswer("empty answer".into()),
            Err(error) => PayReply::NoAnswer(error),
        }
    }

    async fn cancel(&self, key: &AttemptKey) {
        let body = json!({
            "MessageHeader": self.header("Abort", &fresh_service_id(key, "abort")),
            "AbortRequest": {
                "AbortReason": "MerchantAbort",
                "MessageReference": { "MessageCategory": "Payment", "SaleID": self.sale_id, "ServiceID": service_id(key) },
            },
        });
        if let Err(error) = self.post(body).await {
            log::warn!("terminal abort of {key} not delivered: {error}");
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
