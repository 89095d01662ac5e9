//! Promo codes through the engine: counted when an order is paid, refused once used up,
//! and refunds of a discounted order give back what was paid, not the list price.

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::money::Money;
use kiosk_core::refund::{LineUnits, RefundScope};
use kiosk_devices::terminal::SimOutcome;
use kiosk_engine::{Actor, CounterPayment, EngineError, PaymentOutcome};
use kiosk_tests::TestKiosk;

fn money(text: &str) -> Money {
    Money::parse_price(text).unwrap()
}

/// A mousse (4.90) and a crème brûlée (5.50) with DESSERT2: 2.00 off the desserts.
fn desserts() -> Cart {
    let lines = vec![CartLine::item("mousse-chocolat", 1), CartLine::item("creme-brulee", 1)];
    Cart { promo: Some("dessert2".into()), ..Cart::new(ConsumptionMode::DineIn, lines) }
}

async fn uses(kiosk: &TestKiosk, code: &str) -> u32 {
    kiosk_store::promos::uses(&mut kiosk.engine.store().read().await.unwrap(), code).await.unwrap()
}

#[tokio::test]
async fn a_code_counts_once_per_paid_order() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let (placed, _) = kiosk.engine.checkout(&desserts()).await.unwrap();
    assert_eq!(placed.quote.total, money("8.40"));
    assert_eq!(uses(&kiosk, "DESSERT2").await, 1);

    kiosk.terminal.script([SimOutcome::Decline]);
    kiosk.engine.checkout(&desserts()).await.unwrap();
    assert_eq!(uses(&kiosk, "DESSERT2").await, 1, "a declined order uses nothing");

    let counter = kiosk.engine.place_counter_order(&desserts()).await.unwrap();
    kiosk.engine.settle_counter_order(&Actor::Admin, counter.id, CounterPayment::Card).await.unwrap();
    assert_eq!(uses(&kiosk, "DESSERT2").await, 2);

    let unknown = Cart { promo: Some("FREEFOOD".into()), ..desserts() };
    let error = kiosk.engine.quote(&unknown).await.unwrap_err();
    assert!(matches!(error, EngineError::Quote(_)));
    assert_eq!(error.to_string(), "promo code \"FREEFOOD\" is unknown");
}

#[tokio::test]
async fn refunds_of_a_discounted_order_give_back_what_was_paid() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let (placed, _) = kiosk.engine.checkout(&desserts()).await.unwrap();
    let mousse = RefundScope::Lines(vec![LineUnits { line: 1, quantity: 1 }]);
    let first = kiosk.engine.refund(&Actor::Admin, placed.id, &mousse, false).await.unwrap();
    assert!(matches!(first, PaymentOutcome::Paid { .. }));
    kiosk.engine.refund(&Actor::Admin, placed.id, &RefundScope::Whole, false).await.unwrap();
    let details = kiosk.engine.order_by_number(&placed.number).await.unwrap();
    let refunded: Vec<Money> = details.attempts.iter().filter(|a| a.refund.is_some()).map(|a| a.amount).collect();
    // 4.90 x 8.40 / 10.40 = 3.9577 -> 3.96, then the rest: 4.44; together what was paid.
    assert_eq!(refunded, vec![money("3.96"), money("4.44")]);
}

#[tokio::test]
async fn a_free_order_is_paid_without_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(kiosk_tests::workspace_path(kiosk_tests::DEMO_MENU)).unwrap();
    let menu_dir = dir.path().join("menu");
    std::fs::create_dir_all(menu_dir.join("images")).unwrap();
    for image in std::fs::read_dir(kiosk_tests::workspace_path("menus/brasserie/images")).unwrap() {
        let image = image.unwrap();
        std::fs::copy(image.path(), menu_dir.join("images").join(image.file_name())).unwrap();
    }
    let free =
        source.replace("amount = \"2.00\"\ncategory = \"desserts\"", "percent = \"100\"\ncategory = \"desserts\"");
    std::fs::write(menu_dir.join("menu.toml"), free).unwrap();
    let kiosk = TestKiosk::open(&dir.path().join("kiosk")).await;
    kiosk.engine.import_menu(&menu_dir.join("menu.toml")).await.unwrap();
    let (placed, outcome) = kiosk.engine.checkout(&desserts()).await.unwrap();
    assert_eq!(placed.quote.total, Money::ZERO);
    let PaymentOutcome::Paid { approval } = outcome else { panic!("expected paid, got {outcome:?}") };
    assert_eq!(approval.scheme, "none");
    let ledger = kiosk_devices::terminal::SimTerminal::read_ledger(&TestKiosk::ledger_path(&dir.path().join("kiosk")));
    assert!(ledger.unwrap().is_empty(), "the terminal was not asked for 0.00");
}
