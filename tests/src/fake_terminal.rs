//! A payment terminal on loopback speaking nexo as Adyen's Terminal API does, for tests: it
//! answers with messages shaped like the protocol's published samples, by the amount asked
//! (12.90 approves, 6.66 is refused, 7.77 approves but the answer is lost), keeps what it
//! answered each payment for status queries, and takes reversals and aborts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The fake terminal's memory: the answer it gave each payment's ServiceID.
pub type Ledger = Arc<Mutex<HashMap<String, Value>>>;

fn payment_success(transaction: &str) -> Value {
    json!({
        "Response": { "Result": "Success", "AdditionalResponse": "tid=47069832&transactionType=GOODS_SERVICES" },
        "POIData": { "POITransactionID": { "TimeStamp": "2026-12-01T11:04:39.000Z", "TransactionID": transaction } },
        "SaleData": { "SaleTransactionID": { "TimeStamp": "2026-12-01T11:04:37.000Z", "TransactionID": "kiosk" } },
        "PaymentResult": {
            "PaymentInstrumentData": {
                "CardData": { "EntryMode": ["Contactless"], "PaymentBrand": "mc", "MaskedPan": "541333 **** 9999" },
                "PaymentInstrumentType": "Card",
            },
            "AmountsResp": { "AuthorizedAmount": 12.9, "Currency": "EUR" },
        },
    })
}

fn payment_refused() -> Value {
    json!({
        "Response": {
            "Result": "Failure",
            "ErrorCondition": "Refusal",
            "AdditionalResponse": "refusalReason=Not%20enough%20balance&errors=Refused",
        },
        "POIData": { "POITransactionID": { "TimeStamp": "2026-12-01T11:04:39.000Z", "TransactionID": "none" } },
    })
}

/// Answers one request, the way the terminal would for the amounts it is sent: 12.90
/// approves, 6.66 refuses, 7.77 approves but the answer is lost (the connection closes).
fn answer(request: &Value, ledger: &Ledger) -> Option<Value> {
    let request = &request["SaleToPOIRequest"];
    let header = &request["MessageHeader"];
    let service = header["ServiceID"].as_str().unwrap_or_default().to_owned();
    let reply_header = json!({ "MessageCategory": header["MessageCategory"], "ServiceID": service });
    match header["MessageCategory"].as_str() {
        Some("Payment") => {
            // The amount as the wire carries it, a JSON number.
            let amount = request["PaymentRequest"]["PaymentTransaction"]["AmountsReq"]["RequestedAmount"].to_string();
            let body = match amount.as_str() {
                "6.66" => payment_refused(),
                _ => payment_success(&format!("TX-{service}")),
            };
            ledger.lock().unwrap().insert(service.clone(), body.clone());
            if amount == "7.77" {
                return None;
            }
            Some(json!({ "SaleToPOIResponse": { "MessageHeader": reply_header, "PaymentResponse": body } }))
        }
        Some("Reversal") => {
            let body = json!({
                "Response": { "Result": "Success" },
                "POIData": { "POITransactionID": { "TimeStamp": "2026-12-01T12:00:00.000Z", "TransactionID": format!("RV-{service}") } },
            });
            ledger.lock().unwrap().insert(service, body.clone());
            Some(json!({ "SaleToPOIResponse": { "MessageHeader": reply_header, "ReversalResponse": body } }))
        }
        Some("TransactionStatus") => {
            let asked = &request["TransactionStatusRequest"]["MessageReference"];
            let known = ledger.lock().unwrap().get(asked["ServiceID"].as_str().unwrap_or_default()).cloned();
            let body_name = if asked["MessageCategory"] == "Reversal" { "ReversalResponse" } else { "PaymentResponse" };
            let status = match known {
                Some(body) => json!({
                    "Response": { "Result": "Success" },
                    "RepeatedMessageResponse": {
                        "MessageHeader": { "MessageCategory": asked["MessageCategory"], "ServiceID": asked["ServiceID"] },
                        "RepeatedResponseMessageBody": { body_name: body },
                    },
                }),
                None => json!({ "Response": { "Result": "Failure", "ErrorCondition": "NotFound" } }),
            };
            Some(json!({ "SaleToPOIResponse": { "MessageHeader": reply_header, "TransactionStatusResponse": status } }))
        }
        // An abort is acknowledged without a body.
        _ => Some(Value::Null),
    }
}

/// Starts a terminal on 127.0.0.1; returns its endpoint and its memory.
pub async fn start() -> (String, Ledger) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/nexo", listener.local_addr().unwrap());
    let ledger: Ledger = Arc::default();
    let kept = ledger.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let ledger = kept.clone();
            tokio::spawn(async move {
                let mut received = Vec::new();
                let mut buffer = [0u8; 4096];
                let body = loop {
                    let n = stream.read(&mut buffer).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    received.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&received).into_owned();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        if received.len() >= end + 4 + length {
                            break received[end + 4..end + 4 + length].to_vec();
                        }
                    }
                };
                let request: Value = serde_json::from_slice(&body).unwrap();
                let Some(reply) = answer(&request, &ledger) else { return };
                let text = if reply.is_null() { String::new() } else { reply.to_string() };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (endpoint, ledger)
}
