//! Staff accounts: PINs, badges, locks after wrong PINs, permissions by role, and the record
//! of who did what.

use kiosk_core::staff::{BadgeCode, Permission, Pin, Role};
use kiosk_engine::{Actor, EngineError, StockChange};
use kiosk_tests::TestKiosk;

fn pin(text: &str) -> Pin {
    Pin::parse(text).unwrap()
}

#[tokio::test]
async fn accounts_sign_in_and_act_within_their_role() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let engine = &kiosk.engine;
    let badge = BadgeCode::parse("BADGE-0042").unwrap();
    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &pin("1234"), Some(&badge)).await.unwrap();
    engine.add_staff(&Actor::Admin, "Paul", Role::Manager, &pin("987654"), None).await.unwrap();
    let names: Vec<String> = engine.staff().await.unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["Marie", "Paul"]);

    let duplicate = engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &pin("1111"), None).await.unwrap_err();
    assert!(duplicate.to_string().contains("already has the name \"Marie\""), "{duplicate}");

    let marie = Actor::Staff(engine.sign_in_with_badge(&badge).await.unwrap());
    let restock = StockChange { on_hand: Some(40), ..StockChange::default() };
    engine.change_stock(&marie, "croissant", &restock).await.unwrap();
    let refused = engine.add_staff(&marie, "Eve", Role::Manager, &pin("0000"), None).await.unwrap_err();
    assert_eq!(refused.to_string(), "Marie may not manage staff accounts: ask a manager");
    assert!(matches!(engine.require(&marie, Permission::Refund).await, Err(EngineError::Forbidden { .. })));

    let paul = Actor::Staff(engine.sign_in("Paul", &pin("987654")).await.unwrap());
    engine.reset_pin(&paul, "Marie", &pin("4321")).await.unwrap();
    assert!(engine.sign_in("Marie", &pin("4321")).await.is_ok());
    engine.remove_staff(&paul, "Marie").await.unwrap();
    assert!(matches!(engine.sign_in("Marie", &pin("4321")).await, Err(EngineError::UnknownStaff(_))));
    assert!(matches!(engine.sign_in_with_badge(&badge).await, Err(EngineError::UnknownBadge)));

    let actions: Vec<(String, String, String)> =
        engine.recent_actions(20).await.unwrap().into_iter().rev().map(|a| (a.actor, a.action, a.detail)).collect();
    let expected = [
        ("admin", "staff.add", "Marie as staff"),
        ("admin", "staff.add", "Paul as manager"),
        ("Marie (staff #1)", "staff.sign_in", "badge"),
        ("Marie (staff #1)", "stock.change", "croissant: count 40"),
        ("Paul (manager #2)", "staff.sign_in", "pin"),
        ("Paul (manager #2)", "staff.reset_pin", "Marie"),
        ("Marie (staff #1)", "staff.sign_in", "pin"),
        ("Paul (manager #2)", "staff.remove", "Marie"),
    ];
    let expected: Vec<(String, String, String)> =
        expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(actions, expected);
}

#[tokio::test]
async fn five_wrong_pins_lock_the_account_for_a_growing_time() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let engine = &kiosk.engine;
    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &pin("1234"), None).await.unwrap();
    for left in (1..=4).rev() {
        let error = engine.sign_in("Marie", &pin("0000")).await.unwrap_err();
        assert_eq!(error.to_string(), format!("wrong PIN for Marie: {left} more wrong PIN(s) lock the account"));
    }
    let locked = engine.sign_in("Marie", &pin("0000")).await.unwrap_err();
    assert!(matches!(locked, EngineError::Locked { seconds: 60, .. }), "{locked}");
    // Even the right PIN waits out the lock.
    assert!(matches!(engine.sign_in("Marie", &pin("1234")).await, Err(EngineError::Locked { .. })));

    kiosk.clock.set("2026-12-01T12:01:01+01:00");
    for _ in 0..4 {
        assert!(matches!(engine.sign_in("Marie", &pin("0000")).await, Err(EngineError::WrongPin { .. })));
    }
    let longer = engine.sign_in("Marie", &pin("0000")).await.unwrap_err();
    assert!(matches!(longer, EngineError::Locked { seconds: 120, .. }), "{longer}");

    kiosk.clock.set("2026-12-01T12:03:02+01:00");
    assert_eq!(engine.sign_in("Marie", &pin("1234")).await.unwrap().name, "Marie");
    // A success starts the count again.
    assert!(matches!(
        engine.sign_in("Marie", &pin("0000")).await,
        Err(EngineError::WrongPin { tries_before_lock: 4, .. })
    ));
}

#[tokio::test]
async fn rights_follow_the_account_as_it_is_now() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let engine = &kiosk.engine;
    let badge = BadgeCode::parse("BADGE-0042").unwrap();
    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &pin("1234"), Some(&badge)).await.unwrap();
    // Names are one in any case, and trimmed.
    let clash = engine.add_staff(&Actor::Admin, "MARIE", Role::Manager, &pin("1111"), None).await;
    assert!(clash.is_err());
    let marie = Actor::Staff(engine.sign_in(" marie ", &pin("1234")).await.unwrap());

    // Staff cannot void: a void instead of a sale would hide cash.
    let placed = engine.place_order(&kiosk_tests::cart("menus/brasserie/carts/demo.json")).await.unwrap();
    let void = engine.change_order_status(&marie, placed.id, kiosk_core::order::OrderStatus::Cancelled).await;
    assert_eq!(void.unwrap_err().to_string(), "Marie may not void an order: ask a manager");

    // A removed member's open session loses its rights at once.
    engine.remove_staff(&Actor::Admin, "Marie").await.unwrap();
    let restock = StockChange { on_hand: Some(3), ..StockChange::default() };
    assert!(matches!(engine.change_stock(&marie, "croissant", &restock).await, Err(EngineError::Forbidden { .. })));
    // The kiosk on its own holds no staff permission.
    assert!(matches!(engine.require(&Actor::Kiosk, Permission::Refund).await, Err(EngineError::Forbidden { .. })));
}

#[tokio::test]
async fn a_locked_account_cannot_badge_in_and_parallel_guesses_all_count() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = std::sync::Arc::new(TestKiosk::with_demo_menu(dir.path()).await);
    let badge = BadgeCode::parse("BADGE-0042").unwrap();
    kiosk.engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &pin("1234"), Some(&badge)).await.unwrap();
    let guesses: Vec<_> = (0..5)
        .map(|_| {
            let kiosk = kiosk.clone();
            tokio::spawn(async move { kiosk.engine.sign_in("Marie", &pin("0000")).await })
        })
        .collect();
    for guess in guesses {
        assert!(guess.await.unwrap().is_err());
    }
    assert!(matches!(kiosk.engine.sign_in("Marie", &pin("1234")).await, Err(EngineError::Locked { .. })));
    assert!(matches!(kiosk.engine.sign_in_with_badge(&badge).await, Err(EngineError::Locked { .. })));
}

#[tokio::test]
async fn a_scan_is_a_staff_badge_a_promo_code_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kiosk = TestKiosk::with_demo_menu(dir.path()).await;
    let badge = BadgeCode::parse("BADGE-0042").unwrap();
    kiosk.engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &pin("1234"), Some(&badge)).await.unwrap();
    let staff = kiosk.engine.scanned("BADGE-0042").await.unwrap();
    assert!(matches!(staff, kiosk_engine::Scanned::Staff(ref session) if session.name == "Marie"), "{staff:?}");
    assert_eq!(kiosk.engine.scanned("dessert2").await.unwrap(), kiosk_engine::Scanned::Promo("DESSERT2".into()));
    assert_eq!(kiosk.engine.scanned("3017620422003").await.unwrap(), kiosk_engine::Scanned::Unknown);
}
