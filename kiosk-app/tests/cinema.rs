//! A cinema lobby: the kiosk opens on the showtimes with their seats left (no eat-in
//! question), and tickets and popcorn are paid in one cart.

mod common;

use std::rc::Rc;

use common::{PATIENCE, Till, fixture};
use kiosk_app::headless::wait_until;
use kiosk_app::{CartAdapter, MenuAdapter, Screen};
use kiosk_engine::kiosk_core::menu::ConsumptionMode;
use kiosk_engine::kiosk_core::order::OrderStatus;
use slint::ComponentHandle;

#[test]
fn tickets_and_popcorn_in_one_order() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let fixture = Rc::new(fixture(dir.path(), "menus/cinema/menu.toml", Till::Simulator));
    common::run(fixture.clone(), async |fixture| {
        // A kiosk on the simulated terminal: every screen says its sales are training sales.
        assert!(fixture.ui().global::<kiosk_app::Session>().get_training());
        assert!(fixture.shown("FORMATION / TRAINING"));
        let seats = fixture.available("gardiens-du-phare-1400").unwrap();
        fixture.tap("English").await;
        fixture.reach(Screen::Menu).await;
        let menu = fixture.ui().global::<MenuAdapter>();
        let first = slint::Model::row_data(&menu.get_cards(), 0).unwrap();
        assert_eq!(first.showtime, "14:00 · Salle 1 · VF", "showtimes come first; the 10:30 one has started");
        assert_eq!(first.seats_left, i32::try_from(seats).unwrap());

        fixture.tap("The Lighthouse Keepers — 14:00").await;
        fixture.tap("More The Lighthouse Keepers — 14:00").await;
        fixture.tap("Add to order").await;
        fixture.reach(Screen::Upsell).await;
        fixture.tap("No, thank you").await;
        fixture.tap("Popcorn & snacks").await;
        fixture.tap("Sweet popcorn").await;
        fixture.tap("Medium (3 L)").await;
        fixture.tap("Add to order").await;
        fixture.reach(Screen::Upsell).await;
        fixture.tap("No, thank you").await;
        fixture.tap("View order").await;
        let cart = fixture.ui().global::<CartAdapter>();
        assert!(wait_until(PATIENCE, || slint::Model::row_count(&cart.get_lines()) == 2).await);
        fixture.tap("Pay by card").await;
        fixture.reach(Screen::Done).await;

        let number = fixture.ui().global::<kiosk_app::DoneAdapter>().get_number();
        let order = fixture.engine(fixture.engine.order_by_number(&number)).unwrap().order;
        assert_eq!(order.status, OrderStatus::Paid);
        assert_eq!(order.mode, ConsumptionMode::TakeAway, "a cinema sells to take away");
        assert!(order.training && order.number.starts_with('T'), "a training sale, numbered apart: {order:?}");
        assert_eq!(fixture.available("gardiens-du-phare-1400"), Some(seats), "practice takes no real seat");
        fixture.tap("Finish").await;
        fixture.reach(Screen::Attract).await;
    });
}
