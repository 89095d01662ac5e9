//! Training sales: on a simulated terminal, or while a manager has switched training on. They
//! are recorded (order, payment, a chain of their own), marked on their tickets, paid on a
//! simulator (never the real terminal) and kept out of the fiscal journal and the Z.

use std::sync::Arc;

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::config::DeviceConfig;
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::staff::{Pin, Role};
use kiosk_devices::terminal::{SimOutcome, SimTerminal};
use kiosk_engine::{Actor, Engine, EngineBuilder, EngineError, FixedClock, PaymentOutcome, Training};
use kiosk_store::journal::Chain;
use kiosk_tests::{DEMO_MENU, TUESDAY_NOON, TestKiosk, workspace_path};

fn salad() -> Cart {
    Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 1)])
}

/// How many entries a chain holds.
async fn entries(engine: &Engine, chain: Chain) -> u64 {
    let tail = kiosk_store::journal::tail(&mut engine.store().read().await.unwrap(), chain).await.unwrap();
    tail.map_or(0, |tail| tail.seq)
}

#[tokio::test]
async fn a_sale_in_each_mode_and_only_the_real_one_in_the_z() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let engine = &kiosk.engine;
    assert_eq!(engine.training().await.unwrap(), None, "a real terminal sells for real");

    // A real sale: 11.90.
    let (real, paid) = engine.checkout(&salad()).await.unwrap();
    assert!(matches!(paid, PaymentOutcome::Paid { .. }) && !real.training);

    // Staff may not switch training on; a manager does, and the next sales are training ones.
    let pin = Pin::parse("1234").unwrap();
    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &pin, None).await.unwrap();
    engine.add_staff(&Actor::Admin, "Paul", Role::Manager, &pin, None).await.unwrap();
    let marie = Actor::Staff(engine.sign_in("Marie", &pin).await.unwrap());
    let paul = Actor::Staff(engine.sign_in("Paul", &pin).await.unwrap());
    assert!(matches!(engine.set_training(&marie, true).await, Err(EngineError::Forbidden { .. })));
    engine.set_training(&paul, true).await.unwrap();
    assert!(matches!(engine.training().await.unwrap(), Some(Training::SwitchedOn { .. })));
    let salads = salads_left(engine).await;
    let (practice, paid) = engine.checkout(&salad()).await.unwrap();
    assert!(matches!(paid, PaymentOutcome::Paid { .. }) && practice.training);
    let counter = engine.place_counter_order(&salad()).await.unwrap();
    assert!(counter.training);
    engine.settle_counter_order(&paul, counter.id, kiosk_engine::CounterPayment::Cash).await.unwrap();
    assert_eq!(salads_left(engine).await, salads, "practice takes nothing off the shelf");
    engine.set_training(&paul, false).await.unwrap();
    assert_eq!(engine.training().await.unwrap(), None);
    // Training orders are numbered apart: the real numbering has no gap.
    assert_eq!((practice.number.as_str(), counter.number.as_str()), ("TA001", "TA002"));
    let (next, _) = engine.checkout(&salad()).await.unwrap();
    assert_eq!((real.number.as_str(), next.number.as_str()), ("A001", "A002"));
    assert_eq!(salads_left(engine).await, salads - 1, "a real sale does");

    // The real terminal only ever saw the real sale: the practice one went to the simulator
    // kept beside the database.
    let real_ledger = SimTerminal::read_ledger(&TestKiosk::ledger_path(dir.path())).unwrap();
    assert_eq!(real_ledger.len(), 2, "{real_ledger:?}");
    let practice_ledger = SimTerminal::read_ledger(&dir.path().join("training-terminal.jsonl")).unwrap();
    assert_eq!(practice_ledger.len(), 1);

    // The training sales have a chain of their own; the fiscal journal and the Z have only the
    // real sale.
    assert_eq!((entries(engine, Chain::Fiscal).await, entries(engine, Chain::Training).await), (2, 2));
    let receipt = engine.receipt_document(practice.id).await.unwrap().to_text(42);
    assert!(receipt.contains("FORMATION / TRAINING") && receipt.contains("Ticket sans valeur"), "{receipt}");
    assert!(!engine.receipt_document(real.id).await.unwrap().to_text(42).contains("TRAINING"));
    let z = engine.close_day(&paul).await.unwrap();
    assert_eq!((z.report.sales.count, z.report.sales.total.to_string()), (2, "23.80".into()));
    assert_eq!(z.report.by_method.len(), 1, "the counter's cash was practice: {:?}", z.report.by_method);
    assert_eq!(engine.verify_journal(None).await.unwrap().entries, 3, "the sales and the day close");

    // A training sale refunded stays in training, on the simulator, and puts nothing back.
    engine.refund(&paul, practice.id, &kiosk_core::refund::RefundScope::Whole, true).await.unwrap();
    assert_eq!((entries(engine, Chain::Fiscal).await, entries(engine, Chain::Training).await), (3, 3));
    assert_eq!(salads_left(engine).await, salads - 1);
    let actions = engine.recent_actions(10).await.unwrap();
    assert!(actions.iter().any(|a| a.action == "training" && a.detail == "on" && a.actor.starts_with("Paul")));
}

async fn salads_left(engine: &Engine) -> u32 {
    engine.shelf().await.unwrap().stock.available("salade-nicoise").unwrap()
}

#[tokio::test]
async fn a_training_switch_that_cannot_be_read_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let mut conn = kiosk.engine.store().read().await.unwrap();
    sqlx::query("INSERT INTO kiosk_meta (name, value) VALUES ('training', 'garbled')")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert!(matches!(kiosk.engine.training().await.unwrap(), Some(Training::SwitchedOn { .. })), "fails closed");
    assert!(kiosk.engine.checkout(&salad()).await.unwrap().0.training);
}

#[tokio::test]
async fn every_sale_on_a_simulated_terminal_is_a_training_sale() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = Arc::new(SimTerminal::open(&dir.path().join("sim.jsonl"), SimOutcome::Approve).unwrap());
    let (engine, _) = EngineBuilder::new(&dir.path().join("kiosk.db"), DeviceConfig::development())
        .terminal(terminal)
        .clock(Arc::new(FixedClock::at(TUESDAY_NOON)))
        .open()
        .await
        .unwrap();
    engine.import_menu(&workspace_path(DEMO_MENU)).await.unwrap();
    assert_eq!(engine.training().await.unwrap(), Some(Training::Simulator));
    let (placed, paid) = engine.checkout(&salad()).await.unwrap();
    assert!(placed.training && matches!(paid, PaymentOutcome::Paid { .. }));
    assert!(matches!(engine.set_training(&Actor::Admin, false).await, Err(EngineError::BadInput(_))));
    let x = engine.x_report(&Actor::Admin).await.unwrap();
    assert_eq!(x.sales.count, 0, "no fiscal sale was made");
    assert_eq!((entries(&engine, Chain::Fiscal).await, entries(&engine, Chain::Training).await), (0, 1));
    assert!(engine.shelf().await.unwrap().training, "the screen is told to show its band");
}
