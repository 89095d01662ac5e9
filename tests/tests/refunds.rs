//! Refunds: whole or by line, on the terminal or at the counter, with restocking, the
//! journal, the manager-only rule, and the same in-doubt recovery as payments.

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::money::Money;
use kiosk_core::order::OrderStatus;
use kiosk_core::payment::NotCharged;
use kiosk_core::refund::{LineUnits, RefundError, RefundScope};
use kiosk_core::staff::{Pin, Role};
use kiosk_devices::terminal::{LedgerKind, LedgerOutcome, SimOutcome, SimTerminal};
use kiosk_engine::{Actor, CounterPayment, EngineError, PaymentOutcome};
use kiosk_tests::TestKiosk;

/// Two salads (11.90 each, stock counted) and a cola (3.20): 27.00.
fn lunch() -> Cart {
    let mut cola = CartLine::item("cola", 1);
    cola.modifiers.insert("taille-boisson".into(), vec!["33cl".into()]);
    Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 2), cola])
}

async fn salads_on_hand(kiosk: &TestKiosk) -> u32 {
    let stock = kiosk.engine.stock().await.unwrap();
    stock.into_iter().find(|e| e.item.as_str() == "salade-nicoise").unwrap().level.on_hand
}

fn money(text: &str) -> Money {
    Money::parse_price(text).unwrap()
}

#[tokio::test]
async fn a_line_then_the_rest_refunded_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let (placed, _) = kiosk.engine.checkout(&lunch()).await.unwrap();
    assert_eq!(salads_on_hand(&kiosk).await, 13);

    let one_salad = RefundScope::Lines(vec![LineUnits { line: 1, quantity: 1 }]);
    let outcome = kiosk.engine.refund(&Actor::Admin, placed.id, &one_salad, true).await.unwrap();
    assert!(matches!(outcome, PaymentOutcome::Paid { .. }), "{outcome:?}");
    assert_eq!(salads_on_hand(&kiosk).await, 14, "restocked");
    let order = kiosk.engine.order_by_number(&placed.number).await.unwrap();
    assert_eq!(order.order.status, OrderStatus::Paid, "partly refunded, still paid");

    let too_many = RefundScope::Lines(vec![LineUnits { line: 1, quantity: 2 }]);
    let error = kiosk.engine.refund(&Actor::Admin, placed.id, &too_many, false).await.unwrap_err();
    assert!(matches!(error, EngineError::Refund(RefundError::TooMany { line: 1, left: 1, asked: 2 })), "{error}");

    kiosk.engine.refund(&Actor::Admin, placed.id, &RefundScope::Whole, false).await.unwrap();
    let order = kiosk.engine.order_by_number(&placed.number).await.unwrap();
    assert_eq!(order.order.status, OrderStatus::Refunded);
    assert_eq!(salads_on_hand(&kiosk).await, 14, "the second refund did not restock");
    let nothing = kiosk.engine.refund(&Actor::Admin, placed.id, &RefundScope::Whole, false).await.unwrap_err();
    assert!(matches!(nothing, EngineError::NotRefundable { .. }), "{nothing}");

    let ledger = SimTerminal::read_ledger(&TestKiosk::ledger_path(dir.path())).unwrap();
    let refunds: Vec<i64> = ledger.iter().filter(|e| e.kind == LedgerKind::Refund).map(|e| e.amount_minor).collect();
    // 11.90, then the rest: 11.90 and the cola, 3.20.
    assert_eq!(refunds, vec![1190, 1510]);
    let entries = kiosk_store::journal::all(&mut kiosk.engine.store().read().await.unwrap()).await.unwrap();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.code()).collect();
    assert_eq!(kinds, ["order_paid", "refund", "refund"]);
    assert!(entries[1].payload.contains("\"amount\":\"11.90\""));
    kiosk.engine.verify_journal(None).await.unwrap();
}

#[tokio::test]
async fn a_declined_refund_changes_nothing_and_a_lost_one_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let (placed, _) = kiosk.engine.checkout(&lunch()).await.unwrap();

    kiosk.terminal.script([SimOutcome::Decline]);
    let declined = kiosk.engine.refund(&Actor::Admin, placed.id, &RefundScope::Whole, true).await.unwrap();
    assert!(matches!(declined, PaymentOutcome::NotCharged { reason: NotCharged::Declined(_) }), "{declined:?}");
    assert_eq!(salads_on_hand(&kiosk).await, 13);

    kiosk.terminal.script([SimOutcome::LostResponse]);
    kiosk.terminal.set_reachable(false);
    let unsure = kiosk.engine.refund(&Actor::Admin, placed.id, &RefundScope::Whole, true).await.unwrap();
    assert_eq!(unsure, PaymentOutcome::InDoubt);
    let again = kiosk.engine.refund(&Actor::Admin, placed.id, &RefundScope::Whole, true).await.unwrap_err();
    assert!(matches!(again, EngineError::PaymentInDoubt(_)), "never refund twice while one is in doubt");
    kiosk.engine.store().close().await;
    drop(kiosk);

    let restarted = TestKiosk::open(dir.path()).await;
    assert_eq!(restarted.recovery.refunded, vec![placed.number.clone()]);
    assert_eq!(salads_on_hand(&restarted).await, 15);
    let order = restarted.engine.order_by_number(&placed.number).await.unwrap().order;
    assert_eq!(order.status, OrderStatus::Refunded);
    let ledger = SimTerminal::read_ledger(&TestKiosk::ledger_path(dir.path())).unwrap();
    let approved_refunds =
        ledger.iter().filter(|e| e.kind == LedgerKind::Refund && e.outcome == LedgerOutcome::Approved).count();
    assert_eq!(approved_refunds, 1);
}

#[tokio::test]
async fn counter_money_goes_back_at_the_counter_and_only_managers_refund() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let engine = &kiosk.engine;
    let placed = engine.place_counter_order(&lunch()).await.unwrap();
    engine.settle_counter_order(&Actor::Admin, placed.id, CounterPayment::Cash).await.unwrap();

    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &Pin::parse("1234").unwrap(), None).await.unwrap();
    let marie = Actor::Staff(engine.sign_in("Marie", &Pin::parse("1234").unwrap()).await.unwrap());
    let refused = engine.refund(&marie, placed.id, &RefundScope::Whole, false).await.unwrap_err();
    assert_eq!(refused.to_string(), "Marie may not refund: ask a manager");

    let outcome = engine.refund(&Actor::Admin, placed.id, &RefundScope::Whole, false).await.unwrap();
    let PaymentOutcome::Paid { approval } = outcome else { panic!("expected a refund, got {outcome:?}") };
    assert_eq!(approval.scheme, "counter_cash");
    let details = engine.order_by_number(&placed.number).await.unwrap();
    assert_eq!(details.order.status, OrderStatus::Refunded);
    let refund = details.attempts.iter().find(|a| a.refund.is_some()).unwrap();
    assert_eq!((refund.method.as_str(), refund.amount), ("counter_cash", money("27.00")));
    assert!(SimTerminal::read_ledger(&TestKiosk::ledger_path(dir.path())).unwrap().is_empty(), "no terminal involved");
}

#[tokio::test]
async fn a_counted_option_is_sold_and_restocked_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let eggs = async || kiosk.engine.stock().await.unwrap().into_iter().find(|e| e.item.as_str() == "oeuf").unwrap();
    assert_eq!(
        (eggs().await.name, eggs().await.level.on_hand),
        ("Œuf au plat".to_owned(), 24),
        "listed with the items"
    );
    let mut burgers = CartLine::item("burger-classic", 2);
    burgers.modifiers.insert("cuisson".into(), vec!["a-point".into()]);
    burgers.modifiers.insert("extras".into(), vec!["oeuf".into()]);
    let (placed, _) = kiosk.engine.checkout(&Cart::new(ConsumptionMode::DineIn, vec![burgers])).await.unwrap();
    assert_eq!(eggs().await.level.on_hand, 22, "an egg for each burger");
    let one = RefundScope::Lines(vec![LineUnits { line: 1, quantity: 1 }]);
    kiosk.engine.refund(&Actor::Admin, placed.id, &one, true).await.unwrap();
    assert_eq!(eggs().await.level.on_hand, 23, "the refunded burger's egg is back");
}
