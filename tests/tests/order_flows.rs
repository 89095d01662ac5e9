//! Whole order flows through the engine, the store and the simulated terminal: each payment
//! outcome, in-doubt recovery across a restart, stock holds and alerts, order numbers.

use std::sync::Arc;
use std::time::Duration;

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::config::DeviceConfig;
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::money::Money;
use kiosk_core::order::{OrderPrefix, OrderStatus};
use kiosk_core::payment::{NotCharged, PaymentState, Standing};
use kiosk_devices::terminal::{SimOutcome, SimTerminal};
use kiosk_engine::{Actor, EngineBuilder, EngineError, PaymentOutcome, StockChange};
use kiosk_tests::{TestKiosk, cart};

fn salads(quantity: u32) -> Cart {
    Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", quantity)])
}

async fn on_hand(kiosk: &TestKiosk, item: &str) -> (u32, u32) {
    let entry = kiosk.engine.stock().await.unwrap().into_iter().find(|e| e.item.as_str() == item).unwrap();
    (entry.level.on_hand, entry.level.held)
}

#[tokio::test]
async fn an_approved_payment_pays_the_order_takes_stock_and_journals_it() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let (placed, outcome) = kiosk.engine.checkout(&cart("menus/brasserie/carts/burger-meal.json")).await.unwrap();
    let PaymentOutcome::Paid { approval } = outcome else { panic!("expected paid, got {outcome:?}") };
    assert_eq!(approval.last_four.as_deref(), Some("4242"));
    assert_eq!(placed.number, "A001");
    // Menu Burger 13.90 + bacon-cheese 1.50 + beer 1.50 supplements + crème brûlée 5.50.
    assert_eq!(placed.quote.total, Money::parse_price("22.40").unwrap());

    let details = kiosk.engine.order_by_number("A001").await.unwrap();
    assert_eq!(details.order.status, OrderStatus::Paid);
    assert!(matches!(details.attempts[..], [ref attempt] if matches!(attempt.state, PaymentState::Approved(_))));
    assert_eq!(on_hand(&kiosk, "creme-brulee").await, (19, 0));
    let entries = kiosk_store::journal::all(&mut kiosk.engine.store().read().await.unwrap()).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].payload.contains("\"order\":\"A001\""));
}

#[tokio::test]
async fn declines_and_timeouts_charge_nothing_and_release_the_stock() {
    for (outcome, reason) in [
        (SimOutcome::Decline, NotCharged::Declined("card declined by the issuer".into())),
        (SimOutcome::Timeout, NotCharged::TimedOut),
        (SimOutcome::Disconnect, NotCharged::NeverReceived),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
        kiosk.terminal.script([outcome]);
        let (placed, result) = kiosk.engine.checkout(&salads(2)).await.unwrap();
        assert_eq!(result, PaymentOutcome::NotCharged { reason }, "{outcome:?}");
        assert_eq!(on_hand(&kiosk, "salade-nicoise").await, (15, 0), "{outcome:?}");
        let order = kiosk.engine.order_by_number(&placed.number).await.unwrap().order;
        assert_eq!(order.status, OrderStatus::Cancelled, "{outcome:?}");
    }
}

#[tokio::test]
async fn a_lost_response_is_resolved_by_asking_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    kiosk.terminal.script([SimOutcome::LostResponse]);
    let (_, outcome) = kiosk.engine.checkout(&salads(1)).await.unwrap();
    assert!(matches!(outcome, PaymentOutcome::Paid { .. }), "{outcome:?}");
    assert_eq!(on_hand(&kiosk, "salade-nicoise").await, (14, 0));
}

#[tokio::test]
async fn a_payment_in_doubt_keeps_its_stock_and_is_settled_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    kiosk.terminal.script([SimOutcome::LostResponse]);
    kiosk.terminal.set_reachable(false);
    let placed = kiosk.engine.place_order(&salads(3)).await.unwrap();
    assert_eq!(kiosk.engine.pay(placed.id).await.unwrap(), PaymentOutcome::InDoubt);
    assert_eq!(on_hand(&kiosk, "salade-nicoise").await, (15, 3), "the stock stays held");

    // The customer is never asked to pay again, the order cannot be cancelled, and no menu
    // is imported while the payment is in doubt.
    assert!(matches!(kiosk.engine.pay(placed.id).await, Err(EngineError::PaymentInDoubt(_))));
    let cancel = kiosk.engine.change_order_status(&Actor::Admin, placed.id, OrderStatus::Cancelled).await;
    assert!(matches!(cancel, Err(EngineError::PaymentInDoubt(_))));
    let demo = kiosk_tests::workspace_path(kiosk_tests::DEMO_MENU);
    assert!(matches!(kiosk.engine.import_menu(&demo).await, Err(EngineError::PaymentInProgress)));
    kiosk.engine.store().close().await;
    drop(kiosk);

    // Restart with the terminal reachable: the approval it recorded becomes a paid order.
    let restarted = TestKiosk::open(dir.path()).await;
    assert_eq!(restarted.recovery.paid, vec![placed.number.clone()]);
    assert_eq!(on_hand(&restarted, "salade-nicoise").await, (12, 0));
    let order = restarted.engine.order_by_number(&placed.number).await.unwrap().order;
    assert_eq!(order.status, OrderStatus::Paid);
}

#[tokio::test]
async fn stock_is_held_while_the_customer_is_at_the_terminal_and_cancel_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    TestKiosk::with_demo_menu(dir.path()).await.engine.store().close().await;
    let slow = SimTerminal::open(&TestKiosk::ledger_path(dir.path()), SimOutcome::Approve)
        .unwrap()
        .with_card_delay(Duration::from_secs(30));
    let kiosk = Arc::new(TestKiosk::open_with(dir.path(), DeviceConfig::development(), slow).await);
    let placed = kiosk.engine.place_order(&salads(15)).await.unwrap();
    let paying = {
        let kiosk = kiosk.clone();
        tokio::spawn(async move { kiosk.engine.pay(placed.id).await })
    };
    while on_hand(&kiosk, "salade-nicoise").await != (15, 15) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Meanwhile every unit is held: another customer cannot buy one.
    let error = kiosk.engine.quote(&salads(1)).await.unwrap_err();
    assert_eq!(error.to_string(), "line 1 (salade-nicoise): \"salade-nicoise\" is sold out");

    kiosk.engine.cancel_payment(placed.id).await.unwrap();
    let outcome = paying.await.unwrap().unwrap();
    assert_eq!(outcome, PaymentOutcome::NotCharged { reason: NotCharged::Cancelled });
    assert_eq!(on_hand(&kiosk, "salade-nicoise").await, (15, 0));
}

#[tokio::test]
async fn selling_past_the_threshold_records_alerts_and_zero_means_sold_out() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    kiosk.engine.checkout(&salads(12)).await.unwrap();
    kiosk.engine.checkout(&salads(3)).await.unwrap();
    let alerts = kiosk_store::stock::alerts(&mut kiosk.engine.store().read().await.unwrap()).await.unwrap();
    let seen: Vec<(&str, &str, i64)> =
        alerts.iter().map(|a| (a.item_id.as_str(), a.alert.as_str(), a.on_hand)).collect();
    assert_eq!(seen, vec![("salade-nicoise", "low", 3), ("salade-nicoise", "out", 0)]);
    let error = kiosk.engine.checkout(&salads(1)).await.unwrap_err();
    assert_eq!(error.to_string(), "line 1 (salade-nicoise): \"salade-nicoise\" is sold out");
}

#[tokio::test]
async fn staff_stock_changes_and_sold_out_marks_apply_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let sold_out = StockChange { sold_out: Some(true), ..StockChange::default() };
    kiosk.engine.change_stock(&Actor::Admin, "creme-brulee", &sold_out).await.unwrap();
    let error = kiosk
        .engine
        .quote(&Cart::new(ConsumptionMode::DineIn, vec![CartLine::item("creme-brulee", 1)]))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("is sold out"), "{error}");

    // An uncounted item starts being counted when staff give it a count.
    let count = StockChange { on_hand: Some(2), ..StockChange::default() };
    let entry = kiosk.engine.change_stock(&Actor::Admin, "expresso", &count).await.unwrap();
    assert_eq!((entry.level.on_hand, entry.level.available()), (2, 2));
    assert!(matches!(
        kiosk.engine.change_stock(&Actor::Admin, "caviar", &count).await,
        Err(EngineError::UnknownItem(_))
    ));
    // Units received or thrown away move the count from where it is now, never below zero.
    let thrown_away = StockChange { adjust: Some(-5), ..StockChange::default() };
    let entry = kiosk.engine.change_stock(&Actor::Admin, "expresso", &thrown_away).await.unwrap();
    assert_eq!(entry.level.on_hand, 0);
    let received = StockChange { adjust: Some(3), ..StockChange::default() };
    let entry = kiosk.engine.change_stock(&Actor::Admin, "expresso", &received).await.unwrap();
    assert_eq!(entry.level.on_hand, 3);
    let entry = kiosk.engine.change_stock(&Actor::Admin, "the-glace", &received).await.unwrap();
    assert_eq!(entry.level.on_hand, 3, "an uncounted item starts from the units received");
    let no_count = StockChange { low_threshold: Some(1), ..StockChange::default() };
    assert!(matches!(
        kiosk.engine.change_stock(&Actor::Admin, "cola", &no_count).await,
        Err(EngineError::UnknownItem(_))
    ));
}

#[tokio::test]
async fn order_numbers_carry_the_kiosk_prefix_and_restart_each_day() {
    let dir = tempfile::tempdir().unwrap();
    let device = DeviceConfig { order_prefix: OrderPrefix::parse("K2").unwrap(), ..DeviceConfig::development() };
    let terminal = SimTerminal::open(&TestKiosk::ledger_path(dir.path()), SimOutcome::Approve).unwrap();
    let kiosk = TestKiosk::open_with(dir.path(), device, terminal).await;
    kiosk.engine.import_menu(&kiosk_tests::workspace_path(kiosk_tests::DEMO_MENU)).await.unwrap();
    let first = kiosk.engine.place_order(&salads(1)).await.unwrap();
    let second = kiosk.engine.place_order(&salads(1)).await.unwrap();
    kiosk.clock.set("2026-12-02T12:00:00+01:00");
    let next_day = kiosk.engine.place_order(&salads(1)).await.unwrap();
    assert_eq!([first.number, second.number, next_day.number], ["K2001", "K2002", "K2001"]);
}

#[tokio::test]
async fn items_outside_their_hours_cannot_be_ordered() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let breakfast = Cart::new(ConsumptionMode::DineIn, vec![CartLine::item("croissant", 1)]);
    let error = kiosk.engine.quote(&breakfast).await.unwrap_err();
    assert_eq!(error.to_string(), "line 1 (croissant): not available at this time");
    kiosk.clock.set("2026-12-01T08:30:00+01:00");
    assert!(kiosk.engine.quote(&breakfast).await.is_ok());
}

#[tokio::test]
async fn two_engines_on_one_database_keep_one_journal_chain() {
    // The app and the agent both write through the engine: each caches the journal's end
    // and must relink its entry when the other appended first.
    let dir = tempfile::tempdir().unwrap();
    let first = TestKiosk::with_demo_menu(dir.path()).await;
    let second = TestKiosk::open(dir.path()).await;
    for round in 0..3 {
        first.engine.checkout(&salads(1)).await.unwrap();
        second.engine.checkout(&salads(1)).await.unwrap();
        let (_, outcome) = if round % 2 == 0 {
            first.engine.checkout(&salads(1)).await
        } else {
            second.engine.checkout(&salads(1)).await
        }
        .unwrap();
        assert!(matches!(outcome, PaymentOutcome::Paid { .. }));
    }
    let journal = first.engine.verify_journal(None).await.unwrap();
    assert_eq!(journal.entries, 9);
    assert_eq!(on_hand(&first, "salade-nicoise").await, (6, 0));
}

#[tokio::test]
async fn staff_move_orders_on_but_never_pay_them() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let (paid, _) = kiosk.engine.checkout(&salads(1)).await.unwrap();
    let unpaid = kiosk.engine.place_order(&salads(1)).await.unwrap();
    let engine = &kiosk.engine;

    let refused = engine.change_order_status(&Actor::Admin, unpaid.id, OrderStatus::Paid).await.unwrap_err();
    assert_eq!(refused.to_string(), format!("order {} is placed and cannot become paid", unpaid.number));
    let refused = engine.change_order_status(&Actor::Admin, paid.id, OrderStatus::Cancelled).await.unwrap_err();
    assert_eq!(refused.to_string(), format!("order {} is paid and cannot become cancelled", paid.number));

    engine.change_order_status(&Actor::Admin, paid.id, OrderStatus::SentToKitchen).await.unwrap();
    engine.change_order_status(&Actor::Admin, paid.id, OrderStatus::Completed).await.unwrap();
    engine.change_order_status(&Actor::Admin, unpaid.id, OrderStatus::Cancelled).await.unwrap();
    let statuses = [&paid.number, &unpaid.number].map(|n| n.to_owned());
    for (number, expected) in statuses.iter().zip([OrderStatus::Completed, OrderStatus::Cancelled]) {
        assert_eq!(engine.order_by_number(number).await.unwrap().order.status, expected);
    }
    assert!(matches!(engine.pay(unpaid.id).await, Err(EngineError::OrderNotPayable { .. })));
}

/// A kiosk whose terminal keeps the customer at the reader for `card_delay`.
async fn slow_kiosk(dir: &std::path::Path, device: DeviceConfig, card_delay: Duration) -> Arc<TestKiosk> {
    let slow =
        SimTerminal::open(&TestKiosk::ledger_path(dir), SimOutcome::Approve).unwrap().with_card_delay(card_delay);
    Arc::new(TestKiosk::open_with(dir, device, slow).await)
}

#[tokio::test]
async fn opening_a_second_engine_leaves_a_payment_in_progress_to_its_owner() {
    // kioskctl opening the database while the app takes a payment must not "recover" it.
    let dir = tempfile::tempdir().unwrap();
    TestKiosk::with_demo_menu(dir.path()).await.engine.store().close().await;
    let app = slow_kiosk(dir.path(), DeviceConfig::development(), Duration::from_secs(30)).await;
    let placed = app.engine.place_order(&salads(2)).await.unwrap();
    let paying = {
        let app = app.clone();
        tokio::spawn(async move { app.engine.pay(placed.id).await })
    };
    while on_hand(&app, "salade-nicoise").await != (15, 2) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let admin = TestKiosk::open(dir.path()).await;
    assert_eq!(admin.recovery.running_elsewhere, vec![placed.number.clone()]);
    assert_eq!(
        admin.engine.resolve_unresolved_payments().await.unwrap().running_elsewhere,
        vec![placed.number.clone()]
    );
    assert_eq!(on_hand(&admin, "salade-nicoise").await, (15, 2), "the holds stay");

    app.engine.cancel_payment(placed.id).await.unwrap();
    assert_eq!(paying.await.unwrap().unwrap(), PaymentOutcome::NotCharged { reason: NotCharged::Cancelled });
}

#[tokio::test]
async fn a_terminal_that_does_not_answer_in_time_is_cancelled_then_asked() {
    let dir = tempfile::tempdir().unwrap();
    TestKiosk::with_demo_menu(dir.path()).await.engine.store().close().await;
    let device = DeviceConfig { terminal_timeout_seconds: 1, ..DeviceConfig::development() };
    let kiosk = slow_kiosk(dir.path(), device, Duration::from_secs(30)).await;
    let (_, outcome) = kiosk.engine.checkout(&salads(1)).await.unwrap();
    assert_eq!(outcome, PaymentOutcome::NotCharged { reason: NotCharged::NeverReceived });
    assert_eq!(on_hand(&kiosk, "salade-nicoise").await, (15, 0));
}

#[tokio::test]
async fn a_settled_payment_never_changes() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let (placed, _) = kiosk.engine.checkout(&salads(1)).await.unwrap();
    let attempt = kiosk.engine.order_by_number(&placed.number).await.unwrap().attempts.remove(0);
    let mut conn = kiosk.engine.store().read().await.unwrap();
    let undo = PaymentState::NotCharged(NotCharged::Cancelled);
    let error = kiosk_store::payments::set_state(&mut conn, &attempt.key, &undo, "2026-12-01T12:01:00+01:00").await;
    assert!(matches!(error, Err(kiosk_store::StoreError::AttemptSettled(_))), "{error:?}");
}

#[tokio::test]
async fn an_engine_without_payments_never_asks_the_terminal_nor_settles_a_payment() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    kiosk.terminal.script([SimOutcome::LostResponse]);
    kiosk.terminal.set_reachable(false);
    let doubtful = kiosk.engine.place_order(&salads(1)).await.unwrap();
    assert_eq!(kiosk.engine.pay(doubtful.id).await.unwrap(), PaymentOutcome::InDoubt);
    let unpaid = kiosk.engine.place_order(&salads(1)).await.unwrap();
    kiosk.engine.store().close().await;
    drop(kiosk);

    // The admin tool's engine: no terminal, and the payment in doubt is left to the app.
    let admin = EngineBuilder::new(&TestKiosk::db_path(dir.path()), DeviceConfig::development())
        .open_without_payments()
        .await
        .unwrap();
    assert_eq!(admin.order_by_number(&doubtful.number).await.unwrap().payment(), Standing::Unresolved);
    // Each payment is refused before anything is recorded.
    let refusals = [
        admin.pay(unpaid.id).await.map(drop),
        admin.checkout(&salads(1)).await.map(drop),
        admin.cancel_payment(doubtful.id).await,
        admin.resolve_unresolved_payments().await.map(drop),
    ];
    for refused in refusals {
        assert!(matches!(refused, Err(EngineError::NoPayments(_))), "{refused:?}");
    }
    assert!(admin.order_by_number(&unpaid.number).await.unwrap().attempts.is_empty());
    assert_eq!(admin.latest_orders(10).await.unwrap().len(), 2, "the refused checkout placed no order");
    // Bookkeeping goes on: stock, and voiding the unpaid order.
    let restocked = StockChange { adjust: Some(5), ..StockChange::default() };
    assert_eq!(admin.change_stock(&Actor::Admin, "salade-nicoise", &restocked).await.unwrap().level.on_hand, 20);
    admin.change_order_status(&Actor::Admin, unpaid.id, OrderStatus::Cancelled).await.unwrap();
    admin.store().close().await;
    drop(admin);

    // The next engine that takes payments settles the one in doubt.
    let restarted = TestKiosk::open(dir.path()).await;
    assert_eq!(restarted.recovery.paid, vec![doubtful.number.clone()]);
}
