//! X and Z reports over a day of sales, counter payments, refunds and voids.

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::menu::{ConsumptionMode, Id};
use kiosk_core::money::{Money, TaxRate};
use kiosk_core::refund::{LineUnits, RefundScope};
use kiosk_core::staff::{Pin, Role};
use kiosk_devices::terminal::SimOutcome;
use kiosk_engine::{Actor, CounterPayment, EngineError};
use kiosk_tests::{TestKiosk, cart};

fn money(text: &str) -> Money {
    Money::parse_price(text).unwrap()
}

fn id(text: &str) -> Id {
    Id::parse(text).unwrap()
}

#[tokio::test]
async fn a_day_reported_then_closed() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let engine = &kiosk.engine;
    // 12:00 a burger meal on the terminal (22.40), 13:10 salads paid in cash at the counter
    // (2 x 11.90, take-away), a refund of one salad, and a declined order (voided).
    engine.checkout(&cart("menus/brasserie/carts/burger-meal.json")).await.unwrap();
    kiosk.clock.set("2026-12-01T13:10:00+01:00");
    let salads = Cart::new(ConsumptionMode::TakeAway, vec![CartLine::item("salade-nicoise", 2)]);
    let counter = engine.place_counter_order(&salads).await.unwrap();
    engine.settle_counter_order(&Actor::Admin, counter.id, CounterPayment::Cash).await.unwrap();
    let one = RefundScope::Lines(vec![LineUnits { line: 1, quantity: 1 }]);
    engine.refund(&Actor::Admin, counter.id, &one, true).await.unwrap();
    kiosk.terminal.script([SimOutcome::Decline]);
    engine.checkout(&salads).await.unwrap();

    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &Pin::parse("1234").unwrap(), None).await.unwrap();
    let marie = Actor::Staff(engine.sign_in("Marie", &Pin::parse("1234").unwrap()).await.unwrap());
    let x = engine.x_report(&marie).await.unwrap();
    assert_eq!((x.sales.count, x.sales.total), (2, money("46.20")));
    assert_eq!(x.by_method["terminal"].total, money("22.40"));
    assert_eq!(x.by_method["counter_cash"].total, money("23.80"));
    assert_eq!(x.by_item[&id("salade-nicoise")].quantity, 2);
    assert_eq!(x.by_item[&id("menu-burger")].total, money("16.90"));
    assert_eq!(x.by_item[&id("creme-brulee")].total, money("5.50"));
    assert_eq!(x.by_hour.keys().collect::<Vec<_>>(), ["12", "13"]);
    let vat: Money = x.taxes.values().map(|t| t.tax).sum();
    let vat_total: Money = x.taxes.values().map(|t| t.total).sum();
    assert_eq!(vat_total, x.sales.total, "the VAT lines cover every sale");
    assert!(vat > Money::ZERO);
    assert!(x.taxes.contains_key(&TaxRate::parse("20").unwrap()), "the beer of the meal is at 20%");
    assert_eq!((x.refunds.count, x.refunds.total), (1, money("11.90")));
    assert_eq!((x.voids.count, x.voids.total), (1, money("23.80")));
    assert_eq!(x.net, money("34.30"));
    let csv = x.to_csv();
    assert!(csv.contains("payment,counter_cash,1,,,,23.80") && csv.contains("net,all,,,,,34.30"), "{csv}");

    let refused = engine.close_day(&marie).await.unwrap_err();
    assert!(matches!(refused, EngineError::Forbidden { .. }), "{refused}");
    let z = engine.close_day(&Actor::Admin).await.unwrap();
    assert_eq!((z.number, z.report.clone()), (1, x));
    let journal = engine.verify_journal(Some(&z.anchor)).await.unwrap();
    assert_eq!(journal.last, Some(z.anchor.clone()), "the Z's anchor is the journal's end");
    let ticket = z.to_text("fr");
    assert!(ticket.contains(&format!("journal anchor: entry {}", z.anchor.seq)), "{ticket}");
    let printed = ticket.split_once("journal anchor: entry").unwrap().1;
    let printed = printed.split_once('\n').unwrap().1;
    let hash: String = printed.lines().take(2).flat_map(|line| line.split_whitespace()).collect();
    assert_eq!(hash, z.anchor.hash, "the whole hash is printed, in groups: {ticket}");
    let typed = format!("{}: {}", z.anchor.seq, printed.lines().take(2).collect::<Vec<_>>().join(" "));
    assert_eq!(kiosk_core::journal::ChainTail::parse(&typed), Some(z.anchor.clone()), "read back as printed");

    // After the close the X starts again, and the next Z is number 2.
    assert_eq!(engine.x_report(&Actor::Admin).await.unwrap().sales.count, 0);
    engine.checkout(&cart("menus/brasserie/carts/demo.json")).await.unwrap();
    let second = engine.close_day(&Actor::Admin).await.unwrap();
    assert_eq!((second.number, second.report.sales.count), (2, 1));
    assert_eq!(engine.z_report(1).await.unwrap(), z);
    assert!(matches!(engine.z_report(9).await, Err(EngineError::NoSuchZ(9))));
}
