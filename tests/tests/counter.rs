//! Paying at the counter and voiding unpaid orders: held stock, settlement by staff, expiry,
//! and the journal entries each one leaves.

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::order::OrderStatus;
use kiosk_core::staff::{Pin, Role};
use kiosk_engine::{Actor, CounterPayment, EngineError};
use kiosk_tests::TestKiosk;

fn salads(quantity: u32) -> Cart {
    Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", quantity)])
}

async fn salad_stock(kiosk: &TestKiosk) -> (u32, u32) {
    let entry = kiosk.engine.stock().await.unwrap().into_iter().find(|e| e.item.as_str() == "salade-nicoise").unwrap();
    (entry.level.on_hand, entry.level.held)
}

async fn journal_kinds(kiosk: &TestKiosk) -> Vec<&'static str> {
    let entries = kiosk_store::journal::all(&mut kiosk.engine.store().read().await.unwrap()).await.unwrap();
    entries.iter().map(|e| e.kind.code()).collect()
}

#[tokio::test]
async fn staff_settle_a_counter_order_in_cash() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let engine = &kiosk.engine;
    let placed = engine.place_counter_order(&salads(2)).await.unwrap();
    assert_eq!(salad_stock(&kiosk).await, (15, 2), "held while the customer walks to the counter");
    // Another customer cannot take the held units.
    assert!(engine.quote(&salads(14)).await.is_err());

    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &Pin::parse("1234").unwrap(), None).await.unwrap();
    let marie = Actor::Staff(engine.sign_in("Marie", &Pin::parse("1234").unwrap()).await.unwrap());
    engine.settle_counter_order(&marie, placed.id, CounterPayment::Cash).await.unwrap();

    let details = engine.order_by_number(&placed.number).await.unwrap();
    assert_eq!(details.order.status, OrderStatus::Paid);
    assert_eq!(details.attempts[0].method, "counter_cash");
    assert_eq!(salad_stock(&kiosk).await, (13, 0));
    assert_eq!(journal_kinds(&kiosk).await, ["order_paid"]);
    engine.verify_journal(None).await.unwrap();
    let settle = engine.recent_actions(1).await.unwrap().remove(0);
    assert_eq!((settle.actor.as_str(), settle.action.as_str()), ("Marie (staff #1)", "order.settle"));

    let again = engine.settle_counter_order(&marie, placed.id, CounterPayment::Card).await.unwrap_err();
    assert!(matches!(again, EngineError::NotACounterOrder { .. }), "{again}");
}

#[tokio::test]
async fn a_counter_order_is_not_paid_on_the_kiosk_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let placed = kiosk.engine.place_counter_order(&salads(2)).await.unwrap();
    let again = kiosk.engine.pay(placed.id).await.unwrap_err();
    assert_eq!(
        again.to_string(),
        format!("order {} is waiting to be paid at the counter and cannot be paid", placed.number)
    );
    assert_eq!(salad_stock(&kiosk).await, (15, 2), "held once, for the counter");
}

#[tokio::test]
async fn an_unpaid_counter_order_expires_and_its_stock_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let placed = kiosk.engine.place_counter_order(&salads(3)).await.unwrap();
    kiosk.clock.set("2026-12-01T12:29:00+01:00");
    assert!(kiosk.engine.expire_counter_orders().await.unwrap().is_empty(), "30 minutes by default");
    kiosk.clock.set("2026-12-01T12:31:00+01:00");
    assert_eq!(kiosk.engine.expire_counter_orders().await.unwrap(), vec![placed.number.clone()]);
    assert_eq!(salad_stock(&kiosk).await, (15, 0));
    let order = kiosk.engine.order_by_number(&placed.number).await.unwrap().order;
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(journal_kinds(&kiosk).await, ["order_voided"]);
    let late = kiosk.engine.settle_counter_order(&Actor::Admin, placed.id, CounterPayment::Cash).await;
    assert!(matches!(late, Err(EngineError::NotACounterOrder { .. })));
}

#[tokio::test]
async fn a_card_order_is_not_settled_at_the_counter_and_voids_are_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let placed = kiosk.engine.place_order(&salads(1)).await.unwrap();
    let refused = kiosk.engine.settle_counter_order(&Actor::Admin, placed.id, CounterPayment::Cash).await;
    assert!(matches!(refused, Err(EngineError::NotACounterOrder { .. })));
    kiosk.engine.change_order_status(&Actor::Admin, placed.id, OrderStatus::Cancelled).await.unwrap();
    kiosk.terminal.script([kiosk_devices::terminal::SimOutcome::Decline]);
    kiosk.engine.checkout(&salads(1)).await.unwrap();
    assert_eq!(journal_kinds(&kiosk).await, ["order_voided", "order_voided"], "a declined order is voided too");
    kiosk.engine.verify_journal(None).await.unwrap();
}
