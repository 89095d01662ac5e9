//! The nexo (Adyen Terminal API) driver against the fake terminal of `kiosk_tests`, over TLS
//! with encrypted messages: an approval, a decline, a lost answer recovered by a status
//! query, an abort, a refund naming its payment; what the terminal refuses, said in words;
//! and the terminals the kiosk must not trust.

use std::time::Duration;

use kiosk_core::money::{Currency, Money};
use kiosk_core::payment::{AttemptKey, NotCharged, PayReply, StatusReply};
use kiosk_devices::terminal::nexo_crypto::{DerivedKey, NexoKey};
use kiosk_devices::terminal::{NexoSettings, NexoTerminal, PaymentRequest, PaymentTerminal, RefundRequest};
use kiosk_devices::web::WebGate;
use kiosk_tests::fake_terminal::{FakeTerminal, POI_ID, pki};
use serde_json::Value;
use tokio::net::TcpListener;

const NOW: &str = "2026-12-01T12:04:37+01:00";

fn request(key: &str, amount: &str) -> PaymentRequest {
    PaymentRequest {
        key: AttemptKey::from_stored(key.into()),
        amount: Money::parse_price(amount).unwrap(),
        currency: Currency::Eur,
        at: NOW.into(),
    }
}

async fn terminal() -> (NexoTerminal, FakeTerminal) {
    let fake = FakeTerminal::start().await;
    (NexoTerminal::new(fake.settings("KIOSK-A", Duration::from_secs(5))).unwrap(), fake)
}

/// The requests of a category the terminal read, decrypted.
fn sent(fake: &FakeTerminal, category: &str) -> Vec<Value> {
    let requests = fake.received();
    requests
        .into_iter()
        .filter(|r| r["SaleToPOIRequest"]["MessageHeader"]["MessageCategory"] == category)
        .map(|r| r["SaleToPOIRequest"].clone())
        .collect()
}

#[tokio::test]
async fn an_approval_carries_the_reference_the_terminal_time_scheme_and_last_four_only() {
    let (terminal, fake) = terminal().await;
    let PayReply::Approved(approval) = terminal.pay(&request("lyon-01-ab12-7-1", "12.90")).await else {
        panic!("expected an approval: {:?}", fake.refused())
    };
    assert_eq!(approval.reference, "TX-0001");
    assert_eq!((approval.scheme.as_str(), approval.last_four.as_deref()), ("mc", Some("9999")));
    assert!(approval.terminal_time.as_deref().is_some_and(|t| t.ends_with('Z')), "{approval:?}");
    let payment = &sent(&fake, "Payment")[0];
    let header = &payment["MessageHeader"];
    assert_eq!((header["SaleID"].as_str(), header["POIID"].as_str()), (Some("KIOSK-A"), Some(POI_ID)));
    let sale = &payment["PaymentRequest"]["SaleData"]["SaleTransactionID"];
    assert_eq!((sale["TransactionID"].as_str(), sale["TimeStamp"].as_str()), (Some("lyon-01-ab12-7-1"), Some(NOW)));
    assert_eq!(fake.refused(), Vec::<String>::new());
}

#[tokio::test]
async fn a_decline_says_why() {
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
async fn a_payment_waiting_for_a_card_is_aborted_then_known_as_cancelled() {
    let fake = FakeTerminal::start().await;
    let terminal = NexoTerminal::new(fake.settings("KIOSK-A", Duration::from_millis(400))).unwrap();
    fake.hold_next_payment();
    let waiting = request("lyon-01-ab12-11-1", "9.99");
    assert!(matches!(terminal.pay(&waiting).await, PayReply::NoAnswer(_)), "nobody presents a card in time");
    assert_eq!(terminal.status(&waiting.key).await, StatusReply::InProgress, "the terminal still waits");
    terminal.cancel(&waiting.key).await;
    let mut status = terminal.status(&waiting.key).await;
    for _ in 0..20 {
        if status != StatusReply::InProgress {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        status = terminal.status(&waiting.key).await;
    }
    assert_eq!(status, StatusReply::NotCharged(NotCharged::Cancelled));
    let abort = &sent(&fake, "Abort")[0]["AbortRequest"]["MessageReference"];
    assert_eq!(abort["ServiceID"], sent(&fake, "Payment")[0]["MessageHeader"]["ServiceID"]);
}

#[tokio::test]
async fn a_refund_names_its_payment_by_the_terminal_s_id_and_time() {
    let (terminal, fake) = terminal().await;
    let PayReply::Approved(approval) = terminal.pay(&request("lyon-01-ab12-12-1", "12.90")).await else {
        panic!("expected an approval")
    };
    let refund = |original_time: Option<String>, key: &str| RefundRequest {
        key: AttemptKey::from_stored(key.into()),
        amount: Money::parse_price("12.90").unwrap(),
        currency: Currency::Eur,
        original_key: Some(AttemptKey::from_stored("lyon-01-ab12-12-1".into())),
        original_reference: approval.reference.clone(),
        original_time,
        at: "2026-12-01T12:30:00+01:00".into(),
    };
    // With the kiosk's own time instead of the terminal's, the terminal knows no such payment.
    let wrong = terminal.refund(&refund(Some(NOW.into()), "lyon-01-ab12-12-2")).await;
    match wrong {
        PayReply::NotCharged(NotCharged::Rejected(reason)) => {
            assert!(reason.contains("Original transaction not found"), "{reason}")
        }
        other => panic!("expected the reversal refused, got {other:?}"),
    }
    let right = refund(approval.terminal_time.clone(), "lyon-01-ab12-12-3");
    let PayReply::Approved(refunded) = terminal.refund(&right).await else { panic!("expected a refund") };
    assert!(refunded.reference.starts_with("RV-"));
    // A refund in doubt is found by its own key, as a reversal.
    assert!(matches!(terminal.status(&right.key).await, StatusReply::Approved(_)));
    // A payment recorded before the terminal's times were kept: its time is asked for.
    let PayReply::Approved(second) = terminal.pay(&request("lyon-01-ab12-14-1", "12.90")).await else {
        panic!("expected an approval")
    };
    let older = RefundRequest {
        original_key: Some(AttemptKey::from_stored("lyon-01-ab12-14-1".into())),
        original_reference: second.reference.clone(),
        ..refund(None, "lyon-01-ab12-14-2")
    };
    assert!(matches!(terminal.refund(&older).await, PayReply::Approved(_)), "{:?}", fake.refused());
}

#[tokio::test]
async fn what_the_terminal_refuses_is_not_charged_and_says_why() {
    let (terminal, fake) = terminal().await;
    // A placeholder time, as the driver once sent: the terminal refuses the request.
    let reply = terminal.pay(&PaymentRequest { at: "1970-01-01T00:00:00Z".into(), ..request("k-1-1", "12.90") }).await;
    match reply {
        PayReply::NotCharged(NotCharged::Rejected(reason)) => {
            assert!(reason.contains("SaleTransactionID.TimeStamp 1970-01-01T00:00:00Z is not a real time"), "{reason}")
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    // The same payment again (the same key, so the same ServiceID): the terminal refuses the
    // copy, and the key's outcome is the first one, found by its status. Never charged twice.
    let first = terminal.pay(&request("k-2-1", "12.90")).await;
    assert!(matches!(first, PayReply::Approved(_)));
    assert_eq!(terminal.pay(&request("k-2-1", "12.90")).await, first);
    assert!(fake.refused().last().is_some_and(|why| why.contains("used in the last 48 hours")), "{:?}", fake.refused());

    // A kiosk with the wrong key: the terminal cannot read its messages.
    let mut settings = fake.settings("KIOSK-A", Duration::from_secs(5));
    settings.key = NexoKey { derived: DerivedKey::from_passphrase("not the passphrase"), ..settings.key };
    let stranger = NexoTerminal::new(settings).unwrap();
    let reply = stranger.pay(&request("k-3-1", "12.90")).await;
    assert!(
        matches!(&reply, PayReply::NotCharged(NotCharged::Rejected(why)) if why.contains("crypto error")),
        "{reply:?}"
    );
    assert_eq!(fake.refused().len(), 3, "{:?}", fake.refused());
}

#[tokio::test]
async fn only_the_terminal_itself_is_trusted() {
    // The terminal's certificate by its common name alone (no alternative names): trusted.
    let fake = FakeTerminal::presenting("terminal-cn-only").await;
    let terminal = NexoTerminal::new(fake.settings("KIOSK-A", Duration::from_secs(5))).unwrap();
    assert!(matches!(terminal.pay(&request("t-1-1", "12.90")).await, PayReply::Approved(_)));

    for (certificate, why) in
        [("other-terminal", "not for this terminal"), ("impostor", "not issued under the configured root")]
    {
        let fake = FakeTerminal::presenting(certificate).await;
        let terminal = NexoTerminal::new(fake.settings("KIOSK-A", Duration::from_secs(5))).unwrap();
        match terminal.pay(&request("t-2-1", "12.90")).await {
            PayReply::NoAnswer(reason) => assert!(reason.contains(why), "{certificate}: {reason}"),
            other => panic!("{certificate}: expected no answer, got {other:?}"),
        }
        assert!(fake.received().is_empty(), "{certificate}: nothing was sent to it");
    }
    let mut settings = FakeTerminal::start().await.settings("KIOSK-A", Duration::from_secs(5));
    settings.root_certificate = b"not a certificate".to_vec();
    assert!(NexoTerminal::new(settings).is_err());
    assert!(std::fs::read(pki("vendor-root.pem")).is_ok());
}

#[tokio::test]
async fn a_terminal_that_is_off_gives_no_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = FakeTerminal::start().await.settings("KIOSK-A", Duration::from_millis(500));
    settings.address = listener.local_addr().unwrap();
    drop(listener);
    let terminal = NexoTerminal::new(settings).unwrap();
    let key = request("lyon-01-ab12-13-1", "12.90");
    assert!(matches!(terminal.pay(&key).await, PayReply::NoAnswer(_)));
    assert!(matches!(terminal.status(&key.key).await, StatusReply::Unreachable(_)));
}

/// The terminal's URL is held to the policy's web allowlist: outside it, nothing is sent and
/// the payment is refused (not charged) with the reason; once the policy lists it, it pays.
#[tokio::test]
async fn a_terminal_outside_the_web_allowlist_is_never_called() {
    let fake = FakeTerminal::start().await;
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[web]\nallow = [\"https://fleet.example.com/api/\"]\n").unwrap();
    let settings =
        NexoSettings { web: WebGate::following(&policy), ..fake.settings("KIOSK-A", Duration::from_secs(5)) };
    let terminal = NexoTerminal::new(settings).unwrap();
    let reply = terminal.pay(&request("lyon-01-ab12-20-1", "12.90")).await;
    let expected =
        format!("https://{}/nexo is outside the kiosk's web allowlist (the policy's web.allow)", fake.address);
    assert_eq!(reply, PayReply::NotCharged(NotCharged::Rejected(expected)));
    assert!(fake.received().is_empty(), "nothing left the kiosk");

    std::fs::write(&policy, format!("[web]\nallow = [\"https://{}/nexo\"]\n", fake.address)).unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(2);
    std::fs::File::options().write(true).open(&policy).unwrap().set_modified(later).unwrap();
    assert!(matches!(terminal.pay(&request("lyon-01-ab12-20-2", "12.90")).await, PayReply::Approved(_)));
}
