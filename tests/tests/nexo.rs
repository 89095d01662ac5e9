//! The nexo (Adyen Terminal API) driver against the fake terminal of `kiosk_tests`: an
//! approval, a refusal, a response lost and recovered by a transaction status query, an
//! abort, and a refund.

use std::time::Duration;

use kiosk_core::money::{Currency, Money};
use kiosk_core::payment::{AttemptKey, NotCharged, PayReply, StatusReply};
use kiosk_devices::terminal::{NexoTerminal, PaymentRequest, PaymentTerminal, RefundRequest, service_id};
use kiosk_tests::fake_terminal::{self, Ledger};
use tokio::net::TcpListener;

fn request(key: &str, amount: &str) -> PaymentRequest {
    PaymentRequest {
        key: AttemptKey::from_stored(key.into()),
        amount: Money::parse_price(amount).unwrap(),
        currency: Currency::Eur,
    }
}

async fn terminal() -> (NexoTerminal, Ledger) {
    let (endpoint, ledger) = fake_terminal::start().await;
    (NexoTerminal::new(&endpoint, "KIOSK-A", "V400m-324688179", Duration::from_secs(5)).unwrap(), ledger)
}

#[tokio::test]
async fn an_approval_carries_the_reference_scheme_and_last_four_only() {
    let (terminal, _) = terminal().await;
    let key = request("lyon-01-ab12-7-1", "12.90");
    let PayReply::Approved(approval) = terminal.pay(&key).await else { panic!("expected an approval") };
    assert_eq!(approval.reference, format!("TX-{}", service_id(&key.key)));
    assert_eq!((approval.scheme.as_str(), approval.last_four.as_deref()), ("mc", Some("9999")));
}

#[tokio::test]
async fn a_refusal_says_why() {
    let (terminal, _) = terminal().await;
    let reply = terminal.pay(&request("lyon-01-ab12-8-1", "6.66")).await;
    assert_eq!(reply, PayReply::NotCharged(NotCharged::Declined("Not enough balance".into())));
}

#[tokio::test]
async fn a_lost_response_is_recovered_by_a_status_query() {
    let (terminal, _) = terminal().await;
    let lost = request("lyon-01-ab12-9-1", "7.77");
    assert!(matches!(terminal.pay(&lost).await, PayReply::NoAnswer(_)));
    assert!(matches!(terminal.status(&lost.key).await, StatusReply::Approved(_)));
    let never = AttemptKey::from_stored("lyon-01-ab12-10-1".into());
    assert_eq!(terminal.status(&never).await, StatusReply::NotCharged(NotCharged::NeverReceived));
}

#[tokio::test]
async fn an_abort_and_a_refund() {
    let (terminal, ledger) = terminal().await;
    terminal.cancel(&AttemptKey::from_stored("lyon-01-ab12-11-1".into())).await;
    let paid = request("lyon-01-ab12-12-1", "12.90");
    let PayReply::Approved(approval) = terminal.pay(&paid).await else { panic!("expected an approval") };
    let refund = RefundRequest {
        key: AttemptKey::from_stored("lyon-01-ab12-12-2".into()),
        amount: Money::parse_price("12.90").unwrap(),
        currency: Currency::Eur,
        original_reference: approval.reference,
    };
    let PayReply::Approved(refunded) = terminal.refund(&refund).await else { panic!("expected a refund") };
    assert_eq!(refunded.reference, format!("RV-{}", service_id(&refund.key)));
    // A refund in doubt is found by its own key, as a reversal.
    assert!(matches!(terminal.status(&refund.key).await, StatusReply::Approved(_)));
    assert_eq!(ledger.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_terminal_that_is_off_gives_no_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/nexo", listener.local_addr().unwrap());
    drop(listener);
    let terminal = NexoTerminal::new(&endpoint, "KIOSK-A", "V400m", Duration::from_millis(500)).unwrap();
    let key = request("lyon-01-ab12-13-1", "12.90");
    assert!(matches!(terminal.pay(&key).await, PayReply::NoAnswer(_)));
    assert!(matches!(terminal.status(&key.key).await, StatusReply::Unreachable(_)));
}
