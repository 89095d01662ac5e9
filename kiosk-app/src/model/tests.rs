//! The model driven without a window: intents in, work out, and the engine's answers played
//! by the core's own pricing on the small test menu.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_engine::kiosk_core::config::{ReceiptPrinting, ScreenConfig};
use kiosk_engine::kiosk_core::menu::{Date, Id, LocalMoment, TimeOfDay, Weekday};
use kiosk_engine::kiosk_core::menu_file;
use kiosk_engine::kiosk_core::money::{Currency, Money};
use kiosk_engine::kiosk_core::payment::{Approval, NotCharged, Standing};
use kiosk_engine::kiosk_core::pricing::{self, SaleContext};
use kiosk_engine::kiosk_core::stock::{StockLevel, StockLevels};
use kiosk_engine::{ActiveMenu, EngineError, PaymentOutcome, PlacedOrder, Shelf};
use kiosk_protocol::{Activity, PaymentPhase};

use super::staff::StaffWork;
use super::*;

const MENU: &str = include_str!("../../../kiosk-core/tests/fixtures/small-menu.toml");

fn menu_version(version: i64, text: &str) -> Arc<ActiveMenu> {
    let menu = menu_file::parse("small-menu.toml", text, &|_| true).expect("the test menu parses");
    Arc::new(ActiveMenu {
        version,
        label: format!("test-{version}"),
        source_file: "small-menu.toml".into(),
        imported_at: "2026-12-01T12:00:00+01:00".into(),
        menu,
    })
}

fn noon() -> LocalMoment {
    LocalMoment { date: Date::new(2026, 12, 1).unwrap(), weekday: Weekday::Tue, time: TimeOfDay::new(12, 0).unwrap() }
}

fn levels(counted: &[(&str, u32)]) -> StockLevels {
    let level = |on_hand| StockLevel { on_hand, held: 0, low_threshold: 0, sold_out: false };
    StockLevels::new(
        counted.iter().map(|(id, on_hand)| (Id::parse(id).unwrap(), level(*on_hand))).collect::<BTreeMap<_, _>>(),
    )
}

fn euros(text: &str) -> Money {
    Money::parse_price(text).unwrap()
}

/// A model on the small menu, with the engine's quotes played by the core's pricing.
struct Kiosk {
    model: Model,
    now: Instant,
    shelf: Shelf,
}

impl Kiosk {
    fn new() -> Kiosk {
        let screen = ScreenConfig::default();
        let settings = Settings {
            screen,
            cinema: false,
            receipts: ReceiptPrinting::OnRequest,
            e_receipts: true,
            in_doubt_retry: Duration::from_secs(3),
            speech_time_factor: 3,
        };
        let now = Instant::now();
        let shelf = Shelf { menu: menu_version(1, MENU), moment: noon(), stock: levels(&[]), training: false };
        let mut kiosk = Kiosk { model: Model::new(settings, now), now, shelf: shelf.clone() };
        let work = kiosk.model.shelf_read(shelf, now);
        assert_eq!(work, [], "the first menu asks for nothing");
        kiosk
    }

    fn later(&mut self, seconds: u64) -> Instant {
        self.now += Duration::from_secs(seconds);
        self.now
    }

    /// Answers every quote the work asks for, as the engine would; returns the rest.
    fn engine(&mut self, work: Vec<Work>) -> Vec<Work> {
        let mut left = Vec::new();
        let mut queue = work;
        while !queue.is_empty() {
            for item in std::mem::take(&mut queue) {
                match item {
                    Work::Quote { cart, generation } => {
                        let quote = self.price(&cart);
                        queue.extend(self.model.quoted(generation, quote, self.now));
                    }
                    Work::QuoteLine { cart, generation } => {
                        let quote = self.price(&cart);
                        self.model.line_quoted(generation, quote);
                    }
                    other => left.push(other),
                }
            }
        }
        left
    }

    fn price(&self, cart: &Cart) -> Result<Quote, EngineError> {
        let context = SaleContext { moment: self.shelf.moment, stock: &self.shelf.stock, promo_uses: 0 };
        pricing::quote(&self.shelf.menu.menu, cart, context).map_err(EngineError::Quote)
    }

    /// A new read of the menu and stock.
    fn reads(&mut self, shelf: Shelf) -> Vec<Work> {
        self.shelf = shelf.clone();
        let work = self.model.shelf_read(shelf, self.now);
        self.engine(work)
    }

    /// From the attract screen to the menu, eating in.
    fn start(&mut self) {
        let work = self.model.start("en", self.now);
        assert_eq!(work, []);
        assert_eq!(self.model.screen, Screen::OrderMode);
        let work = self.model.choose_mode(false, self.now);
        assert_eq!(self.engine(work), []);
        assert_eq!(self.model.screen, Screen::Menu);
    }

    /// Adds a product from its sheet, picking the first option of every group that needs one.
    fn add(&mut self, product: &str) -> Vec<Work> {
        let work = self.model.open_product(product, false, self.now);
        assert_eq!(self.engine(work), []);
        if product == "burger" {
            let work = self.model.edit_sheet(SheetEdit::Toggle { group: "cooking".into(), option: "rare".into() });
            assert_eq!(self.engine(work), []);
        }
        let work = self.model.add_to_cart(self.now);
        self.engine(work)
    }

    fn total(&self) -> Option<Money> {
        self.model.quote.as_ref().map(|quote| quote.total)
    }

    /// Pays by card up to the terminal: the order is placed as `number`.
    fn pay_by_card(&mut self, number: &str) -> PlacedOrder {
        let work = self.model.pay_by_card(self.now);
        let [Work::PlaceOrder { cart, session }] = work.as_slice() else {
            panic!("the order is placed first: {work:?}")
        };
        let placed = PlacedOrder { id: 7, number: number.into(), quote: self.price(cart).unwrap(), training: false };
        let work = self.model.order_placed(*session, Ok(placed.clone()), self.now);
        assert_eq!(work, [Work::Pay { order: 7 }], "then paid on the terminal");
        assert_eq!(self.model.phase(), Some(PayPhase::Waiting));
        placed
    }
}

/// An item with no options is added from its card in one tap, its suggestions following;
/// its card takes it away again one at a time.
#[test]
fn an_item_without_options_is_added_in_one_tap() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    assert!(kiosk.model.is_quick("cola") && kiosk.model.is_quick("salad"));
    assert!(!kiosk.model.is_quick("burger"), "options to choose: its sheet");
    assert!(!kiosk.model.is_quick("menu"), "a combo: its sheet");
    let work = kiosk.model.add_one("cola", kiosk.now);
    assert_eq!(kiosk.engine(work), []);
    assert_eq!(kiosk.model.screen, Screen::Menu, "no sheet, and the cola suggests nothing");
    assert_eq!(kiosk.model.notice.as_ref().map(|(notice, _)| *notice), Some(Notice::Added));
    let work = kiosk.model.add_one("cola", kiosk.now);
    kiosk.engine(work);
    assert_eq!(kiosk.model.quick_count("cola"), 2);
    assert_eq!(kiosk.total(), Some(euros("6.00")));
    let work = kiosk.model.remove_one("cola");
    kiosk.engine(work);
    assert_eq!(kiosk.model.quick_count("cola"), 1);
    let work = kiosk.model.remove_one("cola");
    kiosk.engine(work);
    assert_eq!(kiosk.model.cart.lines, [], "the last one takes the line away");
    assert_eq!(kiosk.model.remove_one("cola"), [], "none left: nothing to take away");
    // A product with options opens its sheet instead.
    kiosk.model.add_one("burger", kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Product);
}

/// The cart offers what the menu suggests with the order and it lacks: items added in one
/// tap, of a category the order has nothing of; added there, they leave the row.
#[test]
fn the_cart_offers_what_completes_the_order() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    let work = kiosk.model.add_one("salad", kiosk.now);
    kiosk.engine(work);
    assert_eq!(kiosk.model.screen, Screen::Upsell, "a salad suggests drinks and a meal");
    let offers: Vec<(&str, Money)> =
        kiosk.model.upsell_offers().iter().map(|(product, extra)| (product.info().id.as_str(), *extra)).collect();
    assert_eq!(offers, [("cola", euros("3.00")), ("beer", euros("5.00")), ("menu", euros("4.50"))]);
    // A suggestion with no options goes straight in, without another suggestion.
    let work = kiosk.model.take_upsell("beer", kiosk.now);
    kiosk.engine(work);
    assert_eq!(kiosk.model.screen, Screen::Menu);
    assert_eq!(kiosk.model.quick_count("beer"), 1);
    kiosk.model.view_cart(kiosk.now);
    let ids = |kiosk: &Kiosk| -> Vec<String> {
        kiosk.model.completions().iter().map(|product| product.info().id.as_str().to_owned()).collect()
    };
    assert_eq!(ids(&kiosk), Vec::<String>::new(), "a drink is in the order: no drink offered");
    let work = kiosk.model.remove_one("beer");
    kiosk.engine(work);
    assert_eq!(ids(&kiosk), ["cola", "beer"], "the combo is not an item added in one tap");
    let work = kiosk.model.add_one("cola", kiosk.now);
    kiosk.engine(work);
    assert_eq!(kiosk.model.screen, Screen::Cart, "added from the cart, the customer stays there");
    assert_eq!(ids(&kiosk), Vec::<String>::new());
    // A sold-out suggestion is not offered.
    let work = kiosk.model.remove_one("cola");
    kiosk.engine(work);
    let shelf = Shelf { stock: levels(&[("beer", 0)]), ..kiosk.shelf.clone() };
    kiosk.reads(shelf);
    assert_eq!(ids(&kiosk), ["cola"]);
}

#[test]
fn an_order_is_built_quoted_and_merged() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    let work = kiosk.add("burger");
    assert_eq!(work, []);
    assert_eq!(kiosk.model.screen, Screen::Upsell, "a burger suggests its meal");
    assert!(kiosk.model.upsell_is_a_meal());
    // The suggestion says what was added, and what the meal adds to it: no notice over it.
    assert_eq!(kiosk.model.notice, None);
    assert_eq!(kiosk.model.upsell_after(), Some("burger"));
    let offers: Vec<(&str, Money)> =
        kiosk.model.upsell_offers().iter().map(|(product, extra)| (product.info().id.as_str(), *extra)).collect();
    assert_eq!(offers, [("menu", euros("2.40"))]);
    kiosk.model.decline_upsell(kiosk.now);
    kiosk.add("burger");
    kiosk.model.decline_upsell(kiosk.now);
    assert_eq!(kiosk.model.cart.lines.len(), 1, "the same burger is one line");
    assert_eq!(kiosk.model.cart.lines[0].quantity, 2);
    assert_eq!(kiosk.total(), Some(euros("19.00")));
    let (activity, _, order) = kiosk.model.summary();
    assert_eq!(activity, Activity::Ordering);
    let order = order.expect("an order in progress");
    assert_eq!((order.total, order.lines, order.phase, order.number), (euros("19.00"), 1, PaymentPhase::None, None));
}

#[test]
fn starting_again_asks_before_clearing_a_basket() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    assert_eq!(kiosk.model.start_again(kiosk.now), [], "an empty basket starts again at once");
    assert_eq!(kiosk.model.screen, Screen::Attract);
    assert!(!kiosk.model.is_clear_asked());

    kiosk.start();
    kiosk.add("cola");
    assert_eq!(kiosk.model.start_again(kiosk.now), []);
    assert!(kiosk.model.is_clear_asked(), "asked first");
    assert_eq!((kiosk.model.screen, kiosk.model.cart.lines.len()), (Screen::Menu, 1), "nothing cleared yet");
    kiosk.model.keep_order();
    assert!(!kiosk.model.is_clear_asked());
    assert_eq!(kiosk.model.cart.lines.len(), 1, "kept");

    // The keypad's Back answers "keep"; confirming clears the basket and the question.
    kiosk.model.start_again(kiosk.now);
    assert_eq!(kiosk.model.back(kiosk.now), []);
    assert!(!kiosk.model.is_clear_asked());
    assert_eq!((kiosk.model.screen, kiosk.model.cart.lines.len()), (Screen::Menu, 1), "Back only closed the question");
    kiosk.model.start_again(kiosk.now);
    kiosk.model.abandon(kiosk.now);
    assert_eq!((kiosk.model.screen, kiosk.model.cart.lines.len()), (Screen::Attract, 0));
    assert!(!kiosk.model.is_clear_asked(), "the next customer is not asked");
}

#[test]
fn make_it_a_meal_replaces_the_item_it_was_made_from() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("burger");
    let work = kiosk.model.open_product("menu", true, kiosk.now);
    assert_eq!(kiosk.engine(work), []);
    let sheet = kiosk.model.sheet.as_ref().expect("the meal's sheet");
    assert_eq!(sheet.builder.current_slot(), Some(("main", Some("burger"))), "the burger just added fills the main");
    let work = kiosk.model.edit_sheet(SheetEdit::Next);
    assert_eq!(kiosk.engine(work), []);
    let work = kiosk.model.edit_sheet(SheetEdit::SlotItem("cola".into()));
    assert_eq!(kiosk.engine(work), []);
    assert_eq!(kiosk.model.sheet.as_ref().and_then(|sheet| sheet.total), Some((euros("11.90"), Currency::Eur)));
    let work = kiosk.model.add_to_cart(kiosk.now);
    assert_eq!(kiosk.engine(work), []);
    assert_eq!(kiosk.model.screen, Screen::Menu, "no suggestion after a suggestion");
    let products: Vec<&str> = kiosk.model.cart.lines.iter().map(|line| line.product.as_str()).collect();
    assert_eq!(products, ["menu"], "the burger went into the meal");
    assert_eq!(kiosk.total(), Some(euros("11.90")));
}

#[test]
fn a_change_the_engine_refuses_is_undone_and_explained() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    assert_eq!(kiosk.total(), Some(euros("3.00")));
    // Two beers are left: asking for three is refused, and the cart is as it was.
    kiosk.add("beer");
    let work = kiosk.model.change_quantity(1, 3);
    assert!(kiosk.model.is_quoting());
    let before = kiosk.model.cart.clone();
    assert_eq!(before.lines[1].quantity, 3, "the change shows while it is quoted");
    kiosk.shelf.stock = levels(&[("beer", 2)]);
    assert_eq!(kiosk.engine(work), []);
    assert_eq!(kiosk.model.cart.lines[1].quantity, 1, "undone");
    assert_eq!(kiosk.model.notice, Some((Notice::LineSoldOut, "Beer".into())));
    assert_eq!(kiosk.total(), Some(euros("8.00")));
    // An unknown promo code goes too, with its own words.
    for key in ["N", "O", "P", "E", "⌫", "E"] {
        kiosk.model.promo_key(key);
    }
    assert_eq!(kiosk.model.promo_entry, "NOPE");
    let work = kiosk.model.apply_promo();
    assert_eq!(kiosk.engine(work), []);
    assert_eq!(kiosk.model.cart.promo, None);
    assert_eq!(kiosk.model.notice, Some((Notice::PromoUnknown, "NOPE".into())));
    assert_eq!(kiosk.total(), Some(euros("8.00")));
}

#[test]
fn a_quote_for_an_older_cart_is_dropped() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    let first = kiosk.model.change_quantity(0, 2);
    let second = kiosk.model.change_quantity(0, 3);
    // The answers come back in the wrong order: only the last cart's quote counts.
    assert_eq!(kiosk.engine(second), []);
    assert_eq!(kiosk.engine(first), []);
    assert_eq!(kiosk.total(), Some(euros("9.00")));
    assert!(!kiosk.model.is_quoting());
}

#[test]
fn a_new_menu_requotes_the_cart_and_says_what_changed() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    kiosk.add("beer");
    assert_eq!(kiosk.total(), Some(euros("8.00")));
    // Version 2 sells cola dearer: the cart keeps its lines, the customer sees the new total.
    let dearer = MENU.replacen("price = \"3.00\"", "price = \"3.50\"", 1);
    let work = kiosk.reads(Shelf { menu: menu_version(2, &dearer), ..kiosk.shelf.clone() });
    assert_eq!(work, []);
    assert_eq!(kiosk.total(), Some(euros("8.50")));
    assert_eq!(kiosk.model.notice.as_ref().map(|(notice, _)| *notice), Some(Notice::PricesChanged));
    // Beer sold out meanwhile: its line goes, and the customer is told.
    let work = kiosk.reads(Shelf { stock: levels(&[("beer", 0)]), ..kiosk.shelf.clone() });
    assert_eq!(work, []);
    let products: Vec<&str> = kiosk.model.cart.lines.iter().map(|line| line.product.as_str()).collect();
    assert_eq!(products, ["cola"]);
    assert_eq!(kiosk.total(), Some(euros("3.50")));
    // The same read again changes nothing and asks for nothing.
    assert_eq!(kiosk.reads(kiosk.shelf.clone()), []);
}

#[test]
fn a_stock_change_elsewhere_never_holds_the_customer_back() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    kiosk.model.view_cart(kiosk.now);
    // Another sale changed the stock: the cart is quoted again, and the customer may pay
    // meanwhile; the requote's late answer is dropped.
    kiosk.shelf.stock = levels(&[("beer", 1)]);
    let requote = kiosk.model.shelf_read(kiosk.shelf.clone(), kiosk.now);
    assert!(matches!(requote.as_slice(), [Work::Quote { .. }]), "{requote:?}");
    assert!(!kiosk.model.is_quoting(), "the total and the pay buttons do not wait for it");
    kiosk.pay_by_card("A001");
    assert_eq!(kiosk.engine(requote), []);
    assert_eq!(kiosk.model.screen, Screen::Payment);
    // The customer's own change is waited for: no payment starts on a cart not quoted yet.
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    let change = kiosk.model.change_quantity(0, 2);
    assert!(kiosk.model.is_quoting());
    assert_eq!(kiosk.model.pay_by_card(kiosk.now), []);
    assert_eq!(kiosk.engine(change), []);
    kiosk.pay_by_card("A001");
}

#[test]
fn a_sold_out_option_cannot_be_picked_and_says_so() {
    let mut kiosk = Kiosk::new();
    kiosk.reads(Shelf { stock: levels(&[("egg", 0)]), ..kiosk.shelf.clone() });
    kiosk.start();
    let work = kiosk.model.open_product("burger", false, kiosk.now);
    kiosk.engine(work);
    let egg = SheetEdit::Toggle { group: "extras".into(), option: "egg".into() };
    assert_eq!(kiosk.model.edit_sheet(egg), []);
    assert!(!kiosk.model.sheet.as_ref().unwrap().builder.is_selected("extras", "egg"));
}

#[test]
fn a_payment_in_doubt_is_followed_until_the_terminal_knows() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    kiosk.model.view_cart(kiosk.now);
    let placed = kiosk.pay_by_card("A001");
    let (activity, _, order) = kiosk.model.summary();
    assert_eq!(activity, Activity::Paying);
    assert_eq!(order.map(|order| (order.number, order.phase)), Some((Some("A001".into()), PaymentPhase::OnTerminal)));
    // The terminal's answer was lost: the kiosk never says "not charged" before it knows.
    let work = kiosk.model.payment_ended(7, Ok(PaymentOutcome::InDoubt), kiosk.now);
    let follow = Work::FollowPayment { order: 7, after: Duration::from_secs(3) };
    assert_eq!(work, std::slice::from_ref(&follow));
    assert_eq!(kiosk.model.phase(), Some(PayPhase::InDoubt));
    assert_eq!(kiosk.model.retry_payment(), [], "no second payment while the first is in doubt");
    assert_eq!(kiosk.model.pay_at_counter_instead(), [], "nor a counter order");
    // Nobody touches the screen for minutes: the customer is not sent away.
    kiosk.later(600);
    assert_eq!(kiosk.model.tick(kiosk.now), []);
    assert_eq!(kiosk.model.screen, Screen::Payment);
    // Asked again: still unknown, then approved.
    let work = kiosk.model.payment_checked(7, Ok(Standing::Unresolved), kiosk.now);
    assert_eq!(work, [follow]);
    let work = kiosk.model.payment_checked(7, Ok(Standing::Paid), kiosk.now);
    assert_eq!(work, [Work::ReceiptExtras { order: 7, session: 0 }]);
    assert_eq!(kiosk.model.screen, Screen::Done);
    assert_eq!(kiosk.model.done.as_ref().map(|done| done.order.clone()), Some(placed));
    assert!(kiosk.model.cart.lines.is_empty());
    let (_, _, order) = kiosk.model.summary();
    assert_eq!(order.map(|order| order.phase), Some(PaymentPhase::Done));
}

#[test]
fn a_declined_card_order_is_given_up_for_the_counter() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    kiosk.pay_by_card("A001");
    let declined = PaymentOutcome::NotCharged { reason: NotCharged::Declined("51 insufficient funds".into()) };
    assert_eq!(kiosk.model.payment_ended(7, Ok(declined), kiosk.now), []);
    assert_eq!(kiosk.model.phase(), Some(PayPhase::Declined));
    // Paying at the counter gives the card order up first.
    let work = kiosk.model.pay_at_counter_instead();
    let then = AfterGivingUp::PayAtCounter;
    assert_eq!(work, [Work::GiveUp { order: 7, then }]);
    assert_eq!(kiosk.model.pay_at_counter_instead(), [], "one give-up at a time");
    let work = kiosk.model.given_up(7, Ok(Standing::NotCharged), then, kiosk.now);
    let [Work::PlaceCounterOrder { cart, session }] = work.as_slice() else { panic!("a counter order: {work:?}") };
    assert_eq!(cart.lines.len(), 1, "the same cart");
    let counter = PlacedOrder { id: 8, number: "A002".into(), quote: kiosk.price(cart).unwrap(), training: false };
    let work = kiosk.model.counter_order_placed(*session, Ok(counter), kiosk.now);
    assert_eq!(work, [], "no receipt and no QR for an order not paid yet");
    let done = kiosk.model.done.as_ref().expect("the order number");
    assert!(done.at_counter);
    assert_eq!(done.order.number, "A002");
}

#[test]
fn a_card_order_found_paid_when_given_up_shows_its_number() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    kiosk.pay_by_card("A001");
    let outcome = PaymentOutcome::NotCharged { reason: NotCharged::TimedOut };
    kiosk.model.payment_ended(7, Ok(outcome), kiosk.now);
    let then = AfterGivingUp::BackToCart;
    assert_eq!(kiosk.model.give_up_payment(kiosk.now), [Work::GiveUp { order: 7, then }]);
    // The void was refused: the terminal had charged after all.
    let work = kiosk.model.given_up(7, Ok(Standing::Paid), then, kiosk.now);
    assert_eq!(work, [Work::ReceiptExtras { order: 7, session: 0 }]);
    assert_eq!(kiosk.model.screen, Screen::Done);
}

#[test]
fn nobody_at_the_screen_resets_the_session_and_voids_an_unpaid_order() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    let idle = u64::from(kiosk.model.settings().screen.idle_seconds);
    let still_there = u64::from(kiosk.model.settings().screen.still_there_seconds);
    kiosk.later(idle - 1);
    assert_eq!(kiosk.model.tick(kiosk.now), []);
    assert!(!kiosk.model.is_still_there_asked());
    kiosk.later(1);
    kiosk.model.tick(kiosk.now);
    assert!(kiosk.model.is_still_there_asked());
    assert_eq!(kiosk.model.countdown, kiosk.model.settings().screen.still_there_seconds);
    // A touch answers "yes, still here".
    kiosk.model.touched(kiosk.now);
    assert!(!kiosk.model.is_still_there_asked());
    // A declined card, then nobody: the order is voided and the next customer starts afresh.
    kiosk.pay_by_card("A001");
    let declined = PaymentOutcome::NotCharged { reason: NotCharged::Cancelled };
    kiosk.model.payment_ended(7, Ok(declined), kiosk.now);
    kiosk.later(idle);
    kiosk.model.tick(kiosk.now);
    kiosk.later(still_there);
    let work = kiosk.model.tick(kiosk.now);
    assert_eq!(work, [Work::Void { order: 7 }]);
    assert_eq!(kiosk.model.screen, Screen::Attract);
    assert!(kiosk.model.cart.lines.is_empty() && kiosk.model.payment.is_none() && kiosk.model.quote.is_none());
    assert_eq!(kiosk.model.language, "fr", "the menu's first language");
    assert!(kiosk.model.take_changes().contains(Changes::RESET));
    assert_eq!(kiosk.model.summary().2, None);
    // An answer meant for the last customer finds nobody.
    assert_eq!(kiosk.model.payment_ended(7, Ok(PaymentOutcome::InDoubt), kiosk.now), []);
    assert_eq!(kiosk.model.screen, Screen::Attract);
}

#[test]
fn while_the_kiosk_speaks_its_time_limits_are_longer_and_keys_extend_them() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.model.set_speaking(true);
    kiosk.add("cola");
    let idle = u64::from(kiosk.model.settings().screen.idle_seconds);
    let still_there = kiosk.model.settings().screen.still_there_seconds;
    kiosk.later(idle);
    kiosk.model.tick(kiosk.now);
    assert!(!kiosk.model.is_still_there_asked(), "three times the idle time while speaking");
    kiosk.later(2 * idle);
    kiosk.model.tick(kiosk.now);
    assert!(kiosk.model.is_still_there_asked());
    assert_eq!(kiosk.model.countdown, 3 * still_there, "and three times the countdown");
    kiosk.model.touched(kiosk.now);
    assert!(!kiosk.model.is_still_there_asked(), "a key answers \"still here\"");

    // The order number stays three times as long, and each key gives it its whole time again.
    let placed = kiosk.pay_by_card("A001");
    let paid = PaymentOutcome::Paid { approval: Approval::new("T-1".into(), "visa".into(), None) };
    kiosk.model.payment_ended(placed.id, Ok(paid), kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Done);
    let done = u64::from(kiosk.model.settings().screen.done_seconds);
    kiosk.later(3 * done - 1);
    kiosk.model.touched(kiosk.now);
    kiosk.later(3 * done - 1);
    kiosk.model.tick(kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Done, "extended by the key");
    kiosk.later(1);
    kiosk.model.tick(kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Attract);
    assert!(!kiosk.model.speaking, "the next customer hears nothing of this one");
}

#[test]
fn the_keypad_back_key_does_what_each_screen_back_control_does() {
    let mut kiosk = Kiosk::new();
    kiosk.model.start("en", kiosk.now);
    kiosk.model.back(kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Attract, "from the eat-in question, back to the start");
    kiosk.start();
    kiosk.model.open_product("cola", false, kiosk.now);
    kiosk.model.back(kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Menu, "the sheet closes");
    kiosk.add("burger");
    assert_eq!(kiosk.model.screen, Screen::Upsell);
    kiosk.model.back(kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Menu, "the suggestion is declined");
    kiosk.model.view_cart(kiosk.now);
    kiosk.model.back(kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Menu, "from the cart, back to the menu");
    kiosk.model.view_cart(kiosk.now);
    kiosk.pay_by_card("A001");
    assert_eq!(kiosk.model.back(kiosk.now), [Work::CancelPayment { order: 7 }], "the card payment is cancelled");
    let placed =
        PlacedOrder { id: 7, number: "A001".into(), quote: kiosk.price(&kiosk.model.cart).unwrap(), training: false };
    let paid = PaymentOutcome::Paid { approval: Approval::new("T-1".into(), "visa".into(), None) };
    kiosk.model.payment_ended(placed.id, Ok(paid), kiosk.now);
    assert_eq!(kiosk.model.back(kiosk.now), []);
    assert_eq!(kiosk.model.screen, Screen::Done, "Back never loses the order number");
}

#[test]
fn out_of_service_waits_for_the_payment_in_progress() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    kiosk.pay_by_card("A001");
    let work = kiosk.model.take_out_of_service("printer out of paper".into(), kiosk.now);
    assert_eq!(work, [], "the payment goes on");
    assert_eq!(kiosk.model.screen, Screen::Payment);
    let paid = PaymentOutcome::Paid { approval: Approval::new("T-1".into(), "visa".into(), None) };
    kiosk.model.payment_ended(7, Ok(paid), kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Done, "the customer gets their number");
    kiosk.model.reset(kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::OutOfService);
    let (activity, _, _) = kiosk.model.summary();
    assert_eq!(activity, Activity::OutOfService);
    // No order can start.
    assert_eq!(kiosk.model.start("en", kiosk.now), []);
    assert_eq!(kiosk.model.choose_mode(true, kiosk.now), []);
    assert_eq!(kiosk.model.screen, Screen::OutOfService);
    kiosk.model.back_in_service(kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::Attract);
    assert_eq!(kiosk.model.summary().0, Activity::Attract);
}

#[test]
fn out_of_service_ends_a_declined_payment_without_another_try() {
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    kiosk.pay_by_card("A001");
    kiosk.model.take_out_of_service("terminal missing".into(), kiosk.now);
    let declined = PaymentOutcome::NotCharged { reason: NotCharged::Declined("05".into()) };
    let work = kiosk.model.payment_ended(7, Ok(declined), kiosk.now);
    assert_eq!(work, [Work::Void { order: 7 }], "the unpaid order is voided");
    assert_eq!(kiosk.model.screen, Screen::OutOfService);
    // Between customers it is at once; the cart of someone still choosing goes.
    let mut kiosk = Kiosk::new();
    kiosk.start();
    kiosk.add("cola");
    kiosk.model.take_out_of_service("maintenance".into(), kiosk.now);
    assert_eq!(kiosk.model.screen, Screen::OutOfService);
    assert!(kiosk.model.cart.lines.is_empty());
}

#[test]
fn staff_see_what_their_role_may_do() {
    let mut kiosk = Kiosk::new();
    for _ in 0..4 {
        assert_eq!(kiosk.model.staff_corner(kiosk.now), []);
    }
    assert_eq!(kiosk.model.staff_corner(kiosk.now), [Work::Staff(StaffWork::Names)]);
    assert_eq!(kiosk.model.screen, Screen::StaffLogin);
    kiosk.model.choose_name("Sam");
    for key in ["1", "2", "⌫", "2", "3", "4"] {
        kiosk.model.pin_key(key);
    }
    assert_eq!(kiosk.model.staff.pin_dots(), "••••");
    let work = kiosk.model.sign_in();
    let [Work::Staff(StaffWork::SignIn { name, .. })] = work.as_slice() else { panic!("a sign-in: {work:?}") };
    assert_eq!(name, "Sam");
    let wrong = EngineError::WrongPin { name: "Sam".into(), tries_before_lock: 4 };
    assert_eq!(kiosk.model.signed_in(Err(wrong), kiosk.now), []);
    assert_eq!(kiosk.model.staff.note, (StaffNote::WrongPin, "4".into()));
    assert_eq!(kiosk.model.staff.pin_dots(), "", "the PIN is typed again");
}

#[test]
fn card_data_is_masked_in_screenshots() {
    assert_eq!(masked("4111 1111 1111 1111 declined"), "•••• •••• •••• •••• declined");
    assert_eq!(masked("card 4111-1111-1111-1111"), "card ••••-••••-••••-••••");
    assert_eq!(masked("51 insufficient funds, order A042"), "51 insufficient funds, order A042");
    assert_eq!(masked("ending 1234."), "ending ••••.");
}
