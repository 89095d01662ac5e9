//! The touch app's flows, driven like a customer and a staff member would: by tapping the
//! controls found by their accessible labels, with Slint's testing backend, against a real
//! engine on a temporary database with the simulated terminal and printer.
//!
//! Slint's testing backend allows one event loop per process, so this file has one test that
//! runs the scenarios in turn; each scenario starts and ends on the attract screen.

mod common;

use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use common::{Fixture, PATIENCE, STAFF_BADGE, Till, fixture};
use i_slint_backend_testing::{ElementHandle, ElementRoot};
use kiosk_app::headless::{sleep, wait_until};
use kiosk_app::{Screen, Session};
use kiosk_engine::Actor;
use kiosk_engine::devices::SimOutcome;
use kiosk_engine::kiosk_core::order::OrderStatus;
use kiosk_engine::kiosk_core::payment::{NotCharged, PaymentState};
use kiosk_protocol::{Activity, Answer, Command, PaymentPhase, StateSummary};
use slint::ComponentHandle;
use slint::platform::PointerEventButton;

impl Fixture {
    /// From the attract screen to the menu, in English, eating in.
    async fn start_in_english(&self) {
        self.reach(Screen::Attract).await;
        self.tap("English").await;
        self.tap("Eat in").await;
        self.reach(Screen::Menu).await;
    }

    /// Adds a ham & butter baguette (a counted item without options: one tap on its card)
    /// to the cart, turning down the suggestion that follows.
    async fn add_baguette(&self) {
        self.tap("Salads & sandwiches").await;
        self.tap("Ham & butter baguette").await;
        self.reach(Screen::Upsell).await;
        self.tap("No, thank you").await;
        self.reach(Screen::Menu).await;
        let bar = self.ui().global::<kiosk_app::MenuAdapter>();
        assert!(wait_until(PATIENCE, || bar.get_cart_count() > 0).await, "the cart was never quoted");
    }

    /// Every button on screen.
    fn buttons(&self) -> Vec<ElementHandle> {
        self.ui()
            .root_element()
            .query_descendants()
            .match_accessible_role(i_slint_backend_testing::AccessibleRole::Button)
            .find_all()
    }

    /// Five taps on the attract screen's hidden corner open staff sign-in.
    async fn open_staff_sign_in(&self) {
        self.reach(Screen::Attract).await;
        for _ in 0..5 {
            let corner = ElementHandle::find_by_element_id(self.ui(), "AttractScreen::staff-corner").next();
            corner.expect("the staff corner").single_click(PointerEventButton::Left).await;
        }
        self.reach(Screen::StaffLogin).await;
    }

    /// Signs in on the staff sign-in screen with a name and a PIN, to the staff screen.
    async fn sign_in_as(&self, name: &str, pin: &str) {
        self.tap(name).await;
        for digit in pin.chars() {
            self.tap(&digit.to_string()).await;
        }
        self.tap("Se connecter").await;
        self.reach(Screen::Staff).await;
    }

    /// A new customer with a baguette in the cart, on the cart screen.
    async fn baguette_in_cart(&self) {
        self.start_in_english().await;
        self.add_baguette().await;
        self.tap("View order").await;
        self.reach(Screen::Cart).await;
    }

    /// Pays a baguette by card and waits for the payment screen to reach `phase`.
    async fn pay_baguette_until(&self, phase: kiosk_app::PayPhase) -> kiosk_app::PaymentAdapter<'_> {
        self.baguette_in_cart().await;
        self.tap("Pay by card").await;
        let payment = self.ui().global::<kiosk_app::PaymentAdapter>();
        assert!(wait_until(PATIENCE, || payment.get_phase() == phase).await, "the payment never reached {phase:?}");
        payment
    }
}

/// In reach mode nothing starts above 35 % of the 1920-pixel screen.
const REACH_TOP: f32 = 671.0;

#[test]
fn customer_and_staff_flows() {
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().unwrap();
    let fixture = Rc::new(fixture(dir.path(), "menus/brasserie/menu.toml", Till::StandIn));
    let scratch = dir.path().to_owned();
    common::run(fixture.clone(), async move |fixture| {
        full_order(fixture).await;
        make_it_a_meal(fixture).await;
        taps_to_pay_for_a_meal(fixture).await;
        declined_payment(fixture).await;
        cancelled_payment(fixture).await;
        declined_then_counter(fixture).await;
        lost_answer(fixture).await;
        counter_order(fixture).await;
        sold_out_while_ordering(fixture).await;
        new_menu_while_ordering(fixture, &scratch).await;
        abandoned_cart(fixture).await;
        reach_mode(fixture).await;
        staff_restock(fixture).await;
        manager_jobs(fixture).await;
        training_mode(fixture).await;
        agent_commands(fixture).await;
    });
    // Reaching here means every scenario ran: a failed assertion stops the loop with a panic.
    assert_eq!(fixture.screen(), Screen::Attract);
}

/// Attract to order number: a burger whose cooking is changed from the menu's default, the
/// meal declined, a baguette; paid by card; the order is paid in the database and the stock
/// dropped.
async fn full_order(fixture: &Fixture) {
    let baguettes = fixture.available("jambon-beurre").unwrap();
    fixture.start_in_english().await;
    fixture.tap("Burgers & fries").await;
    fixture.tap("The Classic").await;
    fixture.reach(Screen::Product).await;
    assert!(fixture.shown("Add to order"), "the menu's default cooking is chosen already");
    // Allergens are written out, apart from the dietary badges.
    let product = fixture.ui().global::<kiosk_app::ProductAdapter>();
    assert!(fixture.shown("Contains: gluten, milk, eggs, mustard, sesame"));
    assert_eq!(slint::Model::row_count(&product.get_badges()), 0, "no allergen among the badges");
    fixture.tap("Medium").await;
    assert!(!fixture.shown("Add to order"), "a burger cannot be added without its cooking");
    fixture.tap("Rare").await;
    fixture.tap("Add to order").await;
    fixture.reach(Screen::Upsell).await;
    fixture.tap("No, thank you").await;
    fixture.add_baguette().await;
    // The mini-basket shows the last items while browsing.
    let bar = fixture.ui().global::<kiosk_app::MenuAdapter>();
    assert_eq!(bar.get_recent(), "The Classic · Ham & butter baguette");
    // Switching language keeps the cart: the menu's names and the UI's words change.
    fixture.tap("Français").await;
    assert!(wait_until(PATIENCE, || fixture.shown("Voir la commande")).await);
    let cart = fixture.ui().global::<kiosk_app::CartAdapter>();
    assert!(wait_until(PATIENCE, || cart.get_total() == "15,00\u{a0}€").await, "{}", cart.get_total());
    fixture.tap("English").await;
    fixture.tap("View order").await;
    fixture.reach(Screen::Cart).await;
    assert_eq!(cart.get_total(), "€15.00");
    fixture.tap("Pay by card").await;
    fixture.reach(Screen::Done).await;
    let number = fixture.ui().global::<kiosk_app::DoneAdapter>().get_number().to_string();
    assert!(fixture.shown(&format!("Order number {number}")));
    let order = fixture.engine(fixture.engine.order_by_number(&number)).unwrap();
    assert_eq!(order.order.status, OrderStatus::Paid);
    assert_eq!(order.order.total.to_minor(), 1500);
    assert_eq!(fixture.available("jambon-beurre"), Some(baguettes - 1));
    fixture.tap("Finish").await;
    fixture.reach(Screen::Attract).await;
}

/// The taps from the attract screen to the payment screen for a burger meal with a drink and
/// one sauce, counted and printed (target: 7 at most). The menu's defaults (the burger, its
/// cooking, the fries, the cola and its size) cost no tap; the suggestion after the meal is
/// turned down.
async fn taps_to_pay_for_a_meal(fixture: &Fixture) {
    fixture.reach(Screen::Attract).await;
    // In the screen's language, French, as a customer who does not change it.
    let path = [
        "Sur place",
        "Menu Burger",
        "Ketchup",
        "Ajouter à la commande",
        "Non merci",
        "Voir la commande",
        "Payer par carte",
    ];
    for label in path {
        fixture.tap(label).await;
    }
    println!(
        "taps from the attract screen to the payment screen, a burger meal with a drink and a sauce: {} ({})",
        path.len(),
        path.join(" > ")
    );
    assert!(path.len() <= 7);
    fixture.reach(Screen::Done).await;
    let number = fixture.ui().global::<kiosk_app::DoneAdapter>().get_number().to_string();
    let order = fixture.engine(fixture.engine.order_by_number(&number)).unwrap().order;
    let [line] = order.quote.lines.as_slice() else { panic!("one line: {:?}", order.quote.lines) };
    assert_eq!(line.product.as_str(), "menu-burger");
    let parts: Vec<(&str, Vec<&str>)> = line
        .parts
        .iter()
        .map(|part| (part.item.as_str(), part.options.iter().map(|option| option.option.as_str()).collect()))
        .collect();
    assert_eq!(parts, [("burger-classic", vec!["a-point", "ketchup"]), ("frites", vec![]), ("cola", vec!["33cl"])]);
    fixture.tap("Terminer").await;
    fixture.reach(Screen::Attract).await;
}

/// "Make it a meal": the burger just added becomes the meal's burger, with its cooking, and
/// the meal takes its place in the cart.
async fn make_it_a_meal(fixture: &Fixture) {
    fixture.start_in_english().await;
    fixture.tap("Burgers & fries").await;
    fixture.tap("The Classic").await;
    fixture.tap("Add to order").await;
    fixture.reach(Screen::Upsell).await;
    // The suggestion says what the meal adds to the burger, not the meal's price.
    let upsell = fixture.ui().global::<kiosk_app::UpsellAdapter>();
    assert_eq!(upsell.get_added(), "The Classic");
    let offers: Vec<_> = slint::Model::iter(&upsell.get_offers()).map(|offer| (offer.name, offer.extra)).collect();
    assert_eq!(offers, [("Burger meal".into(), "+€4.40".into())]);
    assert!(!fixture.shown("The Classic added to your order"), "no notice beside the question");
    fixture.tap("Yes, make it a meal").await;
    fixture.reach(Screen::Product).await;
    let product = fixture.ui().global::<kiosk_app::ProductAdapter>();
    assert_eq!(product.get_slot_item(), "burger-classic", "the burger is in its slot already");
    assert!(product.get_complete(), "the side and the drink are the menu's defaults: it can be added now");
    // The drink changed: two steps on, an iced tea, whose size has its default too.
    fixture.tap("Next step").await;
    fixture.tap("Next step").await;
    fixture.tap("Peach iced tea").await;
    fixture.tap("Add to order").await;
    fixture.reach(Screen::Menu).await;
    let cart = fixture.ui().global::<kiosk_app::CartAdapter>();
    assert!(wait_until(PATIENCE, || cart.get_total() == "€13.90").await, "one meal, no burger beside it");
    let lines: Vec<_> = slint::Model::iter(&cart.get_lines()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].name, "Burger meal");
    let details = &lines[0].details;
    assert!(
        details.contains("The Classic") && details.contains("Medium") && details.contains("Peach iced tea"),
        "{details}"
    );
    // One tap on ✕ does not lose a basket: the kiosk asks, and keeping it keeps the meal. The
    // "added" notice has its own room at the foot of the screen, over nothing.
    assert!(fixture.shown("Burger meal added to your order"));
    fixture.tap("Start again").await;
    assert!(fixture.ui().global::<Session>().get_clear_asked(), "asked before the basket is cleared");
    assert_eq!(fixture.screen(), Screen::Menu);
    fixture.tap("No, keep my order").await;
    assert!(!fixture.ui().global::<Session>().get_clear_asked());
    assert_eq!(slint::Model::row_count(&cart.get_lines()), 1, "the meal is kept");
    fixture.start_again().await;
    assert_eq!(fixture.ui().global::<kiosk_app::MenuAdapter>().get_cart_count(), 0, "cleared once confirmed");
}

/// A declined card says so in plain words (the terminal's reason is for staff and the logs,
/// not for the queue), charges nothing, and the customer goes back to the same cart.
async fn declined_payment(fixture: &Fixture) {
    let baguettes = fixture.available("jambon-beurre").unwrap();
    fixture.terminal.script([SimOutcome::Decline]);
    let payment = fixture.pay_baguette_until(kiosk_app::PayPhase::Declined).await;
    let number = payment.get_number().to_string();
    assert!(fixture.shown("Card not accepted. Try another card or pay at the counter. Nothing was charged."));
    let texts: Vec<String> = fixture
        .ui()
        .root_element()
        .query_descendants()
        .find_all()
        .into_iter()
        .filter_map(|element| element.accessible_label())
        .map(String::from)
        .collect();
    assert!(!texts.iter().any(|text| text.contains("issuer")), "the terminal's reason is not shown: {texts:?}");
    let details = fixture.engine(fixture.engine.order_by_number(&number)).unwrap();
    let kept = details.attempts.iter().any(|attempt| {
        matches!(&attempt.state, PaymentState::NotCharged(NotCharged::Declined(why)) if why.contains("issuer"))
    });
    assert!(kept, "the reason is kept with the attempt, for staff: {:?}", details.attempts);
    fixture.tap("Back to my order").await;
    fixture.reach(Screen::Cart).await;
    assert_eq!(fixture.ui().global::<kiosk_app::MenuAdapter>().get_cart_count(), 1, "the cart is kept");
    let voided = wait_until(PATIENCE, || {
        fixture.engine(fixture.engine.order_by_number(&number)).unwrap().order.status == OrderStatus::Cancelled
    });
    assert!(voided.await, "the declined order is voided");
    assert_eq!(fixture.available("jambon-beurre"), Some(baguettes), "nothing was taken from stock");
    fixture.start_again().await;
}

/// After a declined card the customer pays at the counter instead: the card order is voided
/// first, then one counter order is placed.
async fn declined_then_counter(fixture: &Fixture) {
    fixture.terminal.script([SimOutcome::Decline]);
    let payment = fixture.pay_baguette_until(kiosk_app::PayPhase::Declined).await;
    let card_order = payment.get_number().to_string();
    fixture.tap("Pay at the counter").await;
    fixture.reach(Screen::Done).await;
    let done = fixture.ui().global::<kiosk_app::DoneAdapter>();
    assert!(done.get_pay_at_counter());
    let voided = fixture.engine(fixture.engine.order_by_number(&card_order)).unwrap().order;
    assert_eq!(voided.status, OrderStatus::Cancelled);
    let counter = fixture.engine(fixture.engine.order_by_number(&done.get_number())).unwrap().order;
    assert_eq!(counter.status, OrderStatus::Placed);
    fixture.tap("Finish").await;
}

/// The customer cancels while the terminal waits for a card: nothing is charged, and they
/// may try again and pay.
async fn cancelled_payment(fixture: &Fixture) {
    let payment = fixture.pay_baguette_until(kiosk_app::PayPhase::Waiting).await;
    fixture.tap("Cancel payment").await;
    assert!(wait_until(PATIENCE, || payment.get_phase() == kiosk_app::PayPhase::Cancelled).await);
    let number = payment.get_number().to_string();
    let order = fixture.engine(fixture.engine.order_by_number(&number)).unwrap();
    assert_eq!(order.order.status, OrderStatus::Placed, "not paid, and not voided while the customer decides");
    fixture.tap("Try again").await;
    fixture.reach(Screen::Done).await;
    let order = fixture.engine(fixture.engine.order_by_number(&number)).unwrap();
    assert_eq!(order.order.status, OrderStatus::Paid, "the same order, paid on the second attempt");
    assert_eq!(order.attempts.len(), 2);
    fixture.tap("Finish").await;
}

/// The terminal approves but its answer is lost and it then stops answering: the customer is
/// told not to pay again, and the kiosk asks the terminal until it learns the payment went
/// through.
async fn lost_answer(fixture: &Fixture) {
    fixture.terminal.script([SimOutcome::LostResponse]);
    fixture.terminal.set_reachable(false);
    let payment = fixture.pay_baguette_until(kiosk_app::PayPhase::InDoubt).await;
    assert!(!fixture.shown("Try again"), "never asked to pay twice");
    sleep(Duration::from_millis(500)).await;
    assert_eq!(payment.get_phase(), kiosk_app::PayPhase::InDoubt, "still in doubt while the terminal is silent");
    fixture.terminal.set_reachable(true);
    fixture.reach(Screen::Done).await;
    let number = fixture.ui().global::<kiosk_app::DoneAdapter>().get_number();
    let order = fixture.engine(fixture.engine.order_by_number(&number)).unwrap();
    assert_eq!(order.order.status, OrderStatus::Paid);
    fixture.tap("Finish").await;
}

/// "Pay at the counter": a numbered order that holds its stock until staff settle it.
async fn counter_order(fixture: &Fixture) {
    let baguettes = fixture.available("jambon-beurre").unwrap();
    fixture.baguette_in_cart().await;
    fixture.tap("Pay at the counter").await;
    fixture.reach(Screen::Done).await;
    let done = fixture.ui().global::<kiosk_app::DoneAdapter>();
    assert!(done.get_pay_at_counter());
    let order = fixture.engine(fixture.engine.order_by_number(&done.get_number())).unwrap();
    assert_eq!(order.order.status, OrderStatus::Placed);
    assert!(order.order.counter_until.is_some());
    assert_eq!(fixture.available("jambon-beurre"), Some(baguettes - 1), "the baguette is held");
    fixture.tap("Finish").await;
}

/// Staff mark the baguette sold out while it is in a cart: it leaves the cart and the
/// customer is told; every control on the way is at least 9 mm tall.
async fn sold_out_while_ordering(fixture: &Fixture) {
    fixture.baguette_in_cart().await;
    assert_touch_targets(fixture);
    let sold_out = kiosk_engine::StockChange { sold_out: Some(true), ..Default::default() };
    fixture.engine(fixture.engine.change_stock(&Actor::Admin, "jambon-beurre", &sold_out)).unwrap();
    let session = fixture.ui().global::<Session>();
    assert!(
        wait_until(PATIENCE, || session.get_notice() == kiosk_app::Notice::LineSoldOut).await,
        "the customer is told"
    );
    assert_eq!(session.get_notice_detail(), "Ham & butter baguette");
    assert_eq!(fixture.ui().global::<kiosk_app::MenuAdapter>().get_cart_count(), 0, "the line left the cart");
    fixture.reach(Screen::Menu).await;
    assert_touch_targets(fixture);
    let back = kiosk_engine::StockChange { sold_out: Some(false), ..Default::default() };
    fixture.engine(fixture.engine.change_stock(&Actor::Admin, "jambon-beurre", &back)).unwrap();
    fixture.start_again().await;
}

/// A new menu with a dearer baguette is imported while one is in the cart: the cart is
/// quoted again and the customer sees the new total, without a restart.
async fn new_menu_while_ordering(fixture: &Fixture, scratch: &Path) {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../menus/brasserie");
    let copy = scratch.join("dearer-menu");
    std::fs::create_dir_all(copy.join("images")).unwrap();
    for image in std::fs::read_dir(demo.join("images")).unwrap() {
        let image = image.unwrap();
        std::fs::copy(image.path(), copy.join("images").join(image.file_name())).unwrap();
    }
    let source = std::fs::read_to_string(demo.join("menu.toml")).unwrap();
    let baguette = source.find("id = \"jambon-beurre\"").unwrap();
    let price = baguette + source[baguette..].find("price = \"5.50\"").unwrap();
    let dearer = format!("{}price = \"6.00\"{}", &source[..price], &source[price + "price = \"5.50\"".len()..]);
    std::fs::write(copy.join("menu.toml"), dearer).unwrap();

    fixture.baguette_in_cart().await;
    let cart = fixture.ui().global::<kiosk_app::CartAdapter>();
    assert!(wait_until(PATIENCE, || cart.get_total() == "€5.50").await);
    fixture.engine(fixture.engine.import_menu(&copy.join("menu.toml"))).unwrap();
    let session = fixture.ui().global::<Session>();
    assert!(
        wait_until(PATIENCE, || session.get_notice() == kiosk_app::Notice::PricesChanged).await,
        "the customer is told"
    );
    assert_eq!(session.get_notice_detail(), "€6.00");
    assert_eq!(cart.get_total(), "€6.00");
    assert_eq!(fixture.screen(), Screen::Cart, "the customer stays where they were");
    fixture.engine(fixture.engine.import_menu(&demo.join("menu.toml"))).unwrap();
    fixture.start_again().await;
}

/// Every button on screen is at least 9 mm tall on a 21.5-inch 1080x1920 screen (37 pixels).
fn assert_touch_targets(fixture: &Fixture) {
    let buttons = fixture.buttons();
    assert!(!buttons.is_empty());
    for button in buttons {
        let size = button.size();
        assert!(size.height >= 37.0 && size.width >= 37.0, "{:?} is {size:?}", button.accessible_label());
    }
}

/// A customer walks away: "are you still there?", then the cart is cleared.
async fn abandoned_cart(fixture: &Fixture) {
    fixture.start_in_english().await;
    fixture.add_baguette().await;
    assert!(wait_until(Duration::from_secs(8), || fixture.shown("Are you still there?")).await);
    fixture.reach(Screen::Attract).await;
    assert_eq!(fixture.ui().global::<kiosk_app::MenuAdapter>().get_cart_count(), 0, "the cart is cleared");
    assert!(!fixture.shown("Are you still there?"));
}

/// A customer in a wheelchair asks, before starting, for every control within reach and
/// for larger text (the attract screen speaks French, the kiosk's first language).
async fn reach_mode(fixture: &Fixture) {
    fixture.reach(Screen::Attract).await;
    fixture.tap("Accessibilité").await;
    fixture.tap("Tout mettre à portée de main").await;
    fixture.tap("Texte plus grand").await;
    fixture.tap("Terminé").await;
    fixture.start_in_english().await;
    let theme = fixture.ui().global::<kiosk_app::Theme>();
    assert!(theme.get_reach_mode() && theme.get_large_text());
    let buttons = fixture.buttons();
    for button in buttons {
        let top = button.absolute_position().y;
        assert!(top >= REACH_TOP, "{:?} is out of reach at y = {top}", button.accessible_label());
    }
    assert_touch_targets(fixture);
    fixture.start_again().await;
    assert!(!theme.get_reach_mode() && !theme.get_large_text(), "the next customer starts with the defaults");
}

/// Five taps in the corner, a name and a PIN, then one more croissant and the counter order
/// settled in cash. The kiosk is back in its first language (French) after the last
/// customer, so staff mode speaks French.
async fn staff_restock(fixture: &Fixture) {
    let croissants = fixture.available("croissant").unwrap();
    fixture.open_staff_sign_in().await;
    fixture.tap("Camille").await;
    for digit in ["2", "4", "6", "9"] {
        fixture.tap(digit).await;
    }
    fixture.tap("Se connecter").await;
    let staff = fixture.ui().global::<kiosk_app::StaffAdapter>();
    assert!(
        wait_until(PATIENCE, || staff.get_note() == kiosk_app::StaffNote::WrongPin).await,
        "a wrong PIN is refused"
    );
    assert_eq!(staff.get_note_detail(), "4", "tries left before the lock");
    assert_eq!(fixture.screen(), Screen::StaffLogin);
    fixture.sign_in_as("Camille", "2468").await;
    fixture.tap("Un de plus\u{a0}: Croissant au beurre").await;
    assert!(wait_until(PATIENCE, || fixture.available("croissant") == Some(croissants + 1)).await);

    // The counter order of the earlier customer is paid in cash.
    let orders = fixture.engine(fixture.engine.latest_orders(20)).unwrap();
    let waiting = orders.iter().find(|order| order.counter_until.is_some()).expect("the counter order");
    assert_eq!(waiting.status, OrderStatus::Placed);
    fixture.tap("Commandes comptoir").await;
    fixture.tap(&format!("Payé en espèces {}", waiting.number)).await;
    let paid =
        || fixture.engine(fixture.engine.order_by_number(&waiting.number)).unwrap().order.status == OrderStatus::Paid;
    assert!(wait_until(PATIENCE, paid).await, "settled at the counter");
    assert!(wait_until(PATIENCE, || staff.get_note() == kiosk_app::StaffNote::Settled).await);
    assert_eq!(staff.get_note_detail(), waiting.number.as_str());
    fixture.tap("Retour aux clients").await;
    fixture.reach(Screen::Attract).await;

    // A badge scan opens staff mode between customers, and is ignored during an order.
    let session = fixture.ui().global::<Session>();
    session.invoke_scanned(STAFF_BADGE.into());
    fixture.reach(Screen::Staff).await;
    fixture.tap("Retour aux clients").await;
    fixture.start_in_english().await;
    session.invoke_scanned(STAFF_BADGE.into());
    sleep(Duration::from_millis(300)).await;
    assert_eq!(fixture.screen(), Screen::Menu, "a customer's order is never interrupted");
    fixture.start_again().await;
}

/// A manager refunds the first order (its stock comes back), finds the release on the reports
/// tab, reads the X report and closes the day with a confirming second tap.
async fn manager_jobs(fixture: &Fixture) {
    let first = fixture.engine(fixture.engine.order_by_number("A001")).unwrap().order;
    assert_eq!(first.status, OrderStatus::Paid);
    let baguettes = fixture.available("jambon-beurre").unwrap();
    fixture.open_staff_sign_in().await;
    fixture.sign_in_as("Dominique", "1357").await;
    fixture.tap("Commandes").await;
    fixture.tap("Rembourser A001").await;
    sleep(Duration::from_millis(300)).await;
    assert_eq!(fixture.engine(fixture.engine.order_by_number("A001")).unwrap().order.status, OrderStatus::Paid);
    fixture.tap("Confirmer le remboursement de A001").await;
    let refunded =
        || fixture.engine(fixture.engine.order_by_number("A001")).unwrap().order.status == OrderStatus::Refunded;
    let staff = fixture.ui().global::<kiosk_app::StaffAdapter>();
    assert!(wait_until(PATIENCE, refunded).await, "no refund: {:?} {}", staff.get_note(), staff.get_note_detail());
    assert_eq!(fixture.available("jambon-beurre"), Some(baguettes + 1), "the baguette went back to stock");

    fixture.tap("Rapports").await;
    let release = format!("Version du kiosque {}", kiosk_app::release());
    assert!(wait_until(PATIENCE, || fixture.shown(&release)).await, "the reports tab names the release the kiosk runs");
    fixture.tap("Rapport X").await;
    assert!(wait_until(PATIENCE, || staff.get_report().contains("X REPORT")).await);
    fixture.tap("Clôturer la journée (Z)").await;
    sleep(Duration::from_millis(300)).await;
    assert!(fixture.engine(fixture.engine.z_report(1)).is_err(), "one tap does not close the day");
    fixture.tap("Touchez encore pour clôturer la journée").await;
    assert!(wait_until(PATIENCE, || staff.get_report().contains("Z REPORT")).await);
    assert!(fixture.engine(fixture.engine.z_report(1)).is_ok());
    fixture.tap("Imprimantes").await;
    assert!(wait_until(PATIENCE, || slint::Model::row_count(&staff.get_printers()) == 1).await);
    assert!(slint::Model::row_data(&staff.get_printers(), 0).unwrap().ok, "the simulated printer is ready");
    fixture.tap("Imprimer un ticket de test").await;
    assert!(wait_until(PATIENCE, || staff.get_note() == kiosk_app::StaffNote::Printed).await, "{:?}", staff.get_note());
    fixture.tap("Retour aux clients").await;
    fixture.reach(Screen::Attract).await;
}

/// A manager switches training on: a band marks every screen, the next sale is a training
/// sale (its receipt says so) and stays out of the X report; then training is switched off.
async fn training_mode(fixture: &Fixture) {
    let session = fixture.ui().global::<Session>();
    assert!(!session.get_training() && !fixture.shown("FORMATION / TRAINING"), "real sales are not marked");
    fixture.open_staff_sign_in().await;
    fixture.sign_in_as("Dominique", "1357").await;
    fixture.tap("Rapports").await;
    fixture.tap("Passer en formation").await;
    assert!(wait_until(PATIENCE, || session.get_training()).await, "training mode is on");
    assert!(fixture.shown("FORMATION / TRAINING"));
    fixture.tap("Retour aux clients").await;

    let baguettes = fixture.available("jambon-beurre").unwrap();
    fixture.baguette_in_cart().await;
    assert!(fixture.shown("FORMATION / TRAINING"), "the band stays while ordering");
    fixture.tap("Pay by card").await;
    fixture.reach(Screen::Done).await;
    let number = fixture.ui().global::<kiosk_app::DoneAdapter>().get_number().to_string();
    let order = fixture.engine(fixture.engine.order_by_number(&number)).unwrap().order;
    assert!(order.training && order.status == OrderStatus::Paid && number.starts_with('T'), "{order:?}");
    assert_eq!(fixture.available("jambon-beurre"), Some(baguettes), "practice takes nothing off the shelf");
    let receipt = fixture.engine(fixture.engine.receipt_document(order.id)).unwrap().to_text(42);
    assert!(receipt.contains("Ticket sans valeur / No value"), "{receipt}");
    let x = fixture.engine(fixture.engine.x_report(&Actor::Admin)).unwrap();
    assert_eq!(x.sales.count, 0, "the training sale is not in the X report (the Z closed the day before)");
    fixture.tap("Finish").await;

    fixture.open_staff_sign_in().await;
    fixture.sign_in_as("Dominique", "1357").await;
    fixture.tap("Rapports").await;
    fixture.tap("Terminer la formation").await;
    assert!(wait_until(PATIENCE, || !session.get_training()).await, "training mode is off");
    fixture.tap("Retour aux clients").await;
    fixture.reach(Screen::Attract).await;
    assert!(!fixture.shown("FORMATION / TRAINING"));
}

/// The agent's commands: out of service waits for the payment under way, then no order can
/// start until the kiosk is back in service. (The screenshot is tested in `screenshot.rs`:
/// the testing backend draws no pixels.)
async fn agent_commands(fixture: &Fixture) {
    let state = |answer: Answer| -> StateSummary {
        match answer {
            Answer::State(summary) => summary,
            other => panic!("a state summary, not {other:?}"),
        }
    };
    fixture.pay_baguette_until(kiosk_app::PayPhase::Waiting).await;
    let paying = state(fixture.kiosk.handle(Command::OutOfService { reason: "printer out of paper".into() }));
    assert_eq!(paying.activity, Activity::Paying, "the payment under way finishes first");
    assert_eq!(paying.out_of_service.as_deref(), Some("printer out of paper"));
    let order = paying.order.expect("the order being paid");
    assert_eq!((order.phase, order.lines, order.training), (PaymentPhase::OnTerminal, 1, false));
    assert!(order.number.is_some());
    fixture.reach(Screen::Done).await;
    fixture.tap("Finish").await;
    fixture.reach(Screen::OutOfService).await;
    assert!(fixture.shown("Hors service / Out of service"));
    assert!(!fixture.shown("English"), "no order can start");
    let summary = fixture.kiosk.summary();
    assert_eq!((summary.activity, summary.order), (Activity::OutOfService, None));
    assert!(summary.last_frame.is_some());
    let back = state(fixture.kiosk.handle(Command::BackInService));
    assert_eq!((back.activity, back.out_of_service), (Activity::Attract, None));
    fixture.reach(Screen::Attract).await;
}
