//! A cinema lobby: the kiosk opens on the films with their showings and seats left (no
//! eat-in question); tickets of several types are chosen in one step, popcorn is offered with
//! the order, and the done screen says where to go with a code per ticket.

mod common;

use std::path::{Path, PathBuf};
use std::rc::Rc;

use common::{Fixture, PATIENCE, Till, fixture};
use kiosk_app::headless::wait_until;
use kiosk_app::{CartAdapter, DoneAdapter, MenuAdapter, Screen};
use kiosk_engine::kiosk_core::menu::ConsumptionMode;
use kiosk_engine::kiosk_core::money::TaxRate;
use kiosk_engine::kiosk_core::order::OrderStatus;
use slint::{ComponentHandle, Model as _};

#[test]
fn tickets_and_popcorn_in_one_order() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let fixture = Rc::new(fixture(dir.path(), "menus/cinema/menu.toml", Till::Simulator));
    let programme = dated_programme(dir.path());
    common::run(fixture.clone(), async move |fixture| {
        // A kiosk on the simulated terminal: every screen says its sales are training sales.
        assert!(fixture.ui().global::<kiosk_app::Session>().get_training());
        assert!(fixture.shown("FORMATION / TRAINING"));
        films_with_their_showings(fixture).await;
        taps_to_pay_for_two_tickets_and_popcorn(fixture).await;
        ticket_types_in_one_step(fixture).await;
        tickets_sold_ahead(fixture, &programme).await;
    });
}

/// The demo programme with one showing dated tomorrow (the fixture's today is Monday 30
/// November 2026), sold ahead: no availability window ends its sale, its start does.
fn dated_programme(dir: &Path) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/cinema");
    let copy = dir.join("programme");
    std::fs::create_dir_all(copy.join("images")).unwrap();
    for image in std::fs::read_dir(demo.join("images")).unwrap() {
        let image = image.unwrap().path();
        std::fs::copy(&image, copy.join("images").join(image.file_name().unwrap())).unwrap();
    }
    let menu = std::fs::read_to_string(demo.join("menu.toml")).unwrap();
    let (before, after) = menu.split_once("id = \"cartographes-2000\"").unwrap();
    let after = after.replacen("available = [{ from = \"09:00\", until = \"20:00\" }]\n", "", 1).replacen(
        "film = \"cartographes\", starts",
        "film = \"cartographes\", date = \"2026-12-01\", starts",
        1,
    );
    let path = copy.join("menu.toml");
    std::fs::write(&path, format!("{before}id = \"cartographes-2000\"{after}")).unwrap();
    path
}

/// A showing tomorrow: the day picker offers today and tomorrow, tomorrow's films are those
/// of its showings, and the ticket says which day.
async fn tickets_sold_ahead(fixture: &Fixture, programme: &Path) {
    fixture.engine(fixture.engine.import_menu(programme)).unwrap();
    fixture.tap("English").await;
    fixture.reach(Screen::Menu).await;
    let menu = fixture.ui().global::<MenuAdapter>();
    assert!(wait_until(PATIENCE, || menu.get_days().row_count() == 2).await, "today and tomorrow");
    let days: Vec<(String, i32, String)> =
        menu.get_days().iter().map(|day| (day.date.to_string(), day.offset, day.name.to_string())).collect();
    assert_eq!(
        days,
        [("2026-11-30".to_owned(), 0, "Mon\u{a0}30".to_owned()), ("2026-12-01".to_owned(), 1, "Tue\u{a0}1".to_owned())]
    );
    assert!(!menu.get_films().iter().any(|film| film.title == "The Cartographers"), "not today's");
    fixture.tap("Tomorrow").await;
    assert!(wait_until(PATIENCE, || menu.get_films().row_count() == 1).await);
    fixture.tap("The Cartographers 20:00").await;
    fixture.reach(Screen::Product).await;
    let product = fixture.ui().global::<kiosk_app::ProductAdapter>();
    assert_eq!(product.get_showing(), "Tue\u{a0}1 · 20:00 · Salle 4 · VOST · 2\u{a0}h\u{a0}21");
    fixture.tap("Add 1 ticket").await;
    fixture.reach(Screen::Cart).await;
    let cart = fixture.ui().global::<CartAdapter>();
    assert!(wait_until(PATIENCE, || cart.get_lines().row_count() == 1 && !cart.get_quoting()).await);
    fixture.tap("Pay by card").await;
    fixture.reach(Screen::Done).await;
    let ticket = fixture.ui().global::<DoneAdapter>().get_tickets().row_data(0).unwrap();
    assert_eq!((ticket.screen.as_str(), ticket.time.as_str()), ("Salle 4", "Tue\u{a0}1 · 20:00"));
    fixture.tap("Finish").await;
    fixture.reach(Screen::Attract).await;
}

/// The showings are grouped by film, each film with its rating and running time, its
/// showings by time with the seats left; one that has started is gone.
async fn films_with_their_showings(fixture: &Fixture) {
    fixture.tap("English").await;
    fixture.reach(Screen::Menu).await;
    let menu = fixture.ui().global::<MenuAdapter>();
    let films: Vec<(String, String, String, Vec<String>)> = menu
        .get_films()
        .iter()
        .map(|film| {
            let times = film.showings.iter().map(|showing| showing.time.to_string()).collect();
            (film.title.to_string(), film.rating.to_string(), film.duration.to_string(), times)
        })
        .collect();
    let film = |title: &str, rating: &str, duration: &str, times: &[&str]| {
        (title.to_owned(), rating.to_owned(), duration.to_owned(), times.iter().map(|t| (*t).to_owned()).collect())
    };
    assert_eq!(
        films[..3],
        [
            film("Pip and the Blue Forest", "tous-publics", "1\u{a0}h\u{a0}25", &["16:00"]),
            film("The Lighthouse Keepers", "tous-publics", "1\u{a0}h\u{a0}52", &["14:00", "18:00"]),
            film("Low Orbit (3D)", "-12", "2\u{a0}h\u{a0}08", &["16:15", "20:30"]),
        ],
        "the 10:30 showing has started at 12:30"
    );
    let keepers = menu.get_films().row_data(1).unwrap();
    let first = keepers.showings.row_data(0).unwrap();
    assert_eq!((first.details.as_str(), first.seats_left), ("VF · Salle 1", 180));
    assert!(fixture.shown("180 seats left"));
    assert!(menu.get_cards().row_count() == 0, "no showing is left as a card of its own");
    fixture.start_again().await;
}

/// Two full-price tickets and a popcorn from the attract screen to the payment screen, taps
/// counted and printed (target: 6 at most): one ticket of the default type is there when the
/// showing opens, the tickets go straight into the order, and the order offers the popcorn
/// the showing suggests, of its default size.
async fn taps_to_pay_for_two_tickets_and_popcorn(fixture: &Fixture) {
    let seats = fixture.available("gardiens-du-phare-1400").unwrap();
    let path =
        ["English", "The Lighthouse Keepers 14:00", "More Full price", "Add 2 tickets", "Sweet popcorn", "Pay by card"];
    for label in path {
        fixture.tap(label).await;
        // The order is priced again after each change before it can be paid (a blink).
        let lines = match label {
            "Add 2 tickets" => 1,
            "Sweet popcorn" => 2,
            _ => continue,
        };
        fixture.reach(Screen::Cart).await;
        let cart = fixture.ui().global::<CartAdapter>();
        assert!(wait_until(PATIENCE, || cart.get_lines().row_count() == lines && !cart.get_quoting()).await);
    }
    println!(
        "taps from the attract screen to the payment screen, two cinema tickets and a popcorn: {} ({})",
        path.len(),
        path.join(" > ")
    );
    assert!(path.len() <= 6);
    fixture.reach(Screen::Done).await;

    let done = fixture.ui().global::<DoneAdapter>();
    let number = done.get_number().to_string();
    let order = fixture.engine(fixture.engine.order_by_number(&number)).unwrap().order;
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.mode, ConsumptionMode::TakeAway, "a cinema sells to take away");
    assert!(order.training && order.number.starts_with('T'), "a training sale, numbered apart: {order:?}");
    let lines: Vec<(&str, u32, Vec<&str>, i64)> = order
        .quote
        .lines
        .iter()
        .map(|line| {
            let options = line.options.iter().map(|option| option.option.as_str()).collect();
            (line.product.as_str(), line.quantity, options, line.amount.to_minor())
        })
        .collect();
    assert_eq!(
        lines,
        [("gardiens-du-phare-1400", 2, vec!["plein"], 2500), ("popcorn-sucre", 1, vec!["petit"], 550)],
        "two full-price tickets, a small popcorn"
    );
    let ticket_rate = order.quote.lines[0].by_rate.iter().map(|(rate, _)| *rate).collect::<Vec<_>>();
    assert_eq!(ticket_rate, [TaxRate::parse("5.5").unwrap()], "tickets at the cinema-ticket rate");
    assert_eq!(fixture.available("gardiens-du-phare-1400"), Some(seats), "practice takes no real seat");

    // Where to go, and a code per ticket; the popcorn is collected with the order's number.
    let tickets: Vec<(String, String, String, String)> = done
        .get_tickets()
        .iter()
        .map(|ticket| {
            (ticket.screen.to_string(), ticket.time.to_string(), ticket.kind.to_string(), ticket.number.to_string())
        })
        .collect();
    let ticket = |number: &str| ("Salle 1".to_owned(), "14:00".to_owned(), "Full price".to_owned(), number.to_owned());
    assert_eq!(tickets, [ticket("1/2"), ticket("2/2")]);
    assert!(done.get_tickets().iter().all(|ticket| ticket.qr.size().width > 0), "each ticket has its code drawn");
    assert!(done.get_other_items());
    assert!(fixture.shown(&format!("Collect the rest of your order at the counter with number {number}")));
    fixture.tap("Finish").await;
    fixture.reach(Screen::Attract).await;
}

/// Full price, reduced and under-14 tickets for one showing in one step, never more than the
/// seats left: each type is a line at its own price.
async fn ticket_types_in_one_step(fixture: &Fixture) {
    fixture.tap("English").await;
    fixture.tap("Low Orbit (3D) 16:15").await;
    fixture.reach(Screen::Product).await;
    fixture.tap("More Reduced (students, 65+)").await;
    fixture.tap("More Under 14").await;
    fixture.tap("More Under 14").await;
    fixture.tap("Fewer Full price").await;
    fixture.tap("3D glasses rental").await;
    fixture.tap("Add 3 tickets").await;
    fixture.reach(Screen::Cart).await;
    let cart = fixture.ui().global::<CartAdapter>();
    // 10.50 + 2 × 7.00 and a pair of glasses each: 3 × 1.50.
    assert!(wait_until(PATIENCE, || cart.get_total() == "€29.00").await, "{}", cart.get_total());
    let names: Vec<(String, i32)> =
        cart.get_lines().iter().map(|line| (line.details.to_string(), line.quantity)).collect();
    assert_eq!(
        names,
        [
            ("Reduced (students, 65+) · 3D glasses rental (+€1.50)".to_owned(), 1),
            ("Under 14 · 3D glasses rental (+€1.50)".to_owned(), 2)
        ]
    );
    fixture.start_again().await;
}
