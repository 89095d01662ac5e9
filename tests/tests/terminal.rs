//! The engine paying on a nexo terminal (the fake one of `kiosk_tests`, over TLS with
//! encrypted messages): the engine's time in every request, a payment nobody answers aborted
//! on the terminal before its status is asked, and a refund naming its payment as the
//! terminal did.

use std::sync::Arc;
use std::time::Duration;

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::config::DeviceConfig;
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::order::OrderStatus;
use kiosk_core::payment::NotCharged;
use kiosk_core::refund::RefundScope;
use kiosk_devices::terminal::NexoTerminal;
use kiosk_engine::{Actor, Engine, EngineBuilder, FixedClock, PaymentOutcome};
use kiosk_tests::fake_terminal::FakeTerminal;
use kiosk_tests::{DEMO_MENU, TUESDAY_NOON, workspace_path};

async fn kiosk_paying_on(fake: &FakeTerminal, dir: &std::path::Path) -> Engine {
    let mut device = DeviceConfig::development();
    device.terminal_timeout_seconds = 1;
    let terminal = NexoTerminal::new(fake.settings(&device.kiosk_id, Duration::from_secs(1))).unwrap();
    let (engine, _) = EngineBuilder::new(&dir.join("kiosk.db"), device)
        .terminal(Arc::new(terminal))
        .clock(Arc::new(FixedClock::at(TUESDAY_NOON)))
        .status_retry_delay(Duration::from_millis(50))
        .open()
        .await
        .unwrap();
    engine.import_menu(&workspace_path(DEMO_MENU)).await.unwrap();
    engine
}

fn salad() -> Cart {
    Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1)])
}

#[tokio::test]
async fn a_payment_nobody_answers_is_aborted_on_the_terminal_then_settled_by_status() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTerminal::start().await;
    let engine = kiosk_paying_on(&fake, dir.path()).await;
    fake.hold_next_payment();
    let (placed, outcome) = engine.checkout(&salad()).await.unwrap();
    assert_eq!(outcome, PaymentOutcome::NotCharged { reason: NotCharged::Cancelled });
    assert_eq!(fake.categories()[..3], ["Payment", "Abort", "TransactionStatus"], "abort first, then the status");
    let order = engine.order_by_number(&placed.number).await.unwrap();
    assert_eq!(order.order.status, OrderStatus::Cancelled, "nothing was charged");
    let sent = &fake.received()[0]["SaleToPOIRequest"]["PaymentRequest"]["SaleData"]["SaleTransactionID"];
    assert_eq!(sent["TimeStamp"], TUESDAY_NOON, "the engine's clock, not a placeholder");
    assert_eq!(fake.refused(), Vec::<String>::new());
}

#[tokio::test]
async fn a_refund_names_the_payment_as_the_terminal_recorded_it() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTerminal::start().await;
    let engine = kiosk_paying_on(&fake, dir.path()).await;
    let (placed, outcome) = engine.checkout(&salad()).await.unwrap();
    let PaymentOutcome::Paid { approval } = outcome else { panic!("expected a payment: {:?}", fake.refused()) };
    assert!(approval.terminal_time.is_some(), "the terminal's time of the payment is kept");
    let refunded = engine.refund(&Actor::Admin, placed.id, &RefundScope::Whole, false).await.unwrap();
    assert!(matches!(refunded, PaymentOutcome::Paid { .. }), "{refunded:?}: {:?}", fake.refused());
    let reversal = &fake.received()[1]["SaleToPOIRequest"]["ReversalRequest"];
    assert_eq!(reversal["OriginalPOITransaction"]["POITransactionID"]["TimeStamp"], approval.terminal_time.unwrap());
    assert_eq!(engine.order_by_number(&placed.number).await.unwrap().order.status, OrderStatus::Refunded);
}
