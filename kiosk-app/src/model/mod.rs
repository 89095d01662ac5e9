//! The kiosk app's state in plain Rust, and its one owner: the screen, the cart and its
//! quote, the item sheet, the payment, the order number, staff mode, notices, the clocks and
//! whether the kiosk is in service. A method per intent (a tap, a scan, a tick, the agent's
//! request) and per engine answer changes the state and returns the [`Work`] to ask of the
//! engine; the Slint side carries the work out, calls the answer back, and shows the state
//! (see [`Changes`]). Nothing here knows Slint, so the flows are tested without a window.

use std::time::{Duration, Instant};

use kiosk_engine::kiosk_core::cart::{Cart, CartLine};
use kiosk_engine::kiosk_core::config::{ReceiptPrinting, ScreenConfig};
use kiosk_engine::kiosk_core::menu::{ConsumptionMode, Date, Menu, Product};
use kiosk_engine::kiosk_core::money::Money;
use kiosk_engine::kiosk_core::payment::{NotCharged, Standing};
use kiosk_engine::kiosk_core::pricing::{LineProblem, PromoProblem, Quote, QuoteError};
use kiosk_engine::kiosk_core::stock::Shortage;
use kiosk_engine::{EngineError, PaymentOutcome, PlacedOrder, Shelf};
use kiosk_protocol::{Activity, OrderInProgress, PaymentPhase};

use crate::builder::ProductBuilder;

pub mod staff;
#[cfg(test)]
mod tests;

pub use staff::{StaffAction, StaffMode, StaffNote, StaffOutcome, StaffTab};

/// The screens, customer and staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Attract,
    OrderMode,
    Menu,
    Product,
    Upsell,
    Cart,
    Payment,
    Done,
    StaffLogin,
    Staff,
    /// Taken out of service: no order can start.
    OutOfService,
}

/// Something the customer should know, shown as a banner for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    PromoApplied,
    PromoUnknown,
    PromoNotYet,
    PromoExpired,
    PromoUsedUp,
    PromoBasketTooSmall,
    PromoNothingToDiscount,
    LineSoldOut,
    LineUnavailable,
    PricesChanged,
    MenuChanged,
    Added,
    SomethingWentWrong,
}

/// Where the payment on screen stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayPhase {
    /// The order is being placed.
    Starting,
    /// An order is recorded or voided (no terminal involved).
    Working,
    /// The terminal waits for the card.
    Waiting,
    Cancelling,
    Declined,
    TimedOut,
    Cancelled,
    /// The terminal has not said whether it charged: the order waits for it.
    InDoubt,
    /// Found not charged after being in doubt.
    NotCharged,
    /// The terminal could not take the payment.
    Failed,
}

impl PayPhase {
    /// Whether the engine or the terminal is at work: the customer cannot walk away yet.
    fn is_running(self) -> bool {
        matches!(self, PayPhase::Starting | PayPhase::Working | PayPhase::Waiting | PayPhase::Cancelling)
    }
}

/// How the receipt of the order on the done screen is printing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintState {
    NotAsked,
    Printing,
    Printed,
    Failed,
}

/// What the model asks of the engine. Each answer comes back to the method named.
#[derive(Clone, Debug, PartialEq)]
pub enum Work {
    /// The cart, priced: [`Model::quoted`].
    Quote { cart: Cart, generation: u64 },
    /// The item sheet's line, priced: [`Model::line_quoted`].
    QuoteLine { cart: Cart, generation: u64 },
    /// [`Model::order_placed`].
    PlaceOrder { cart: Cart, session: u64 },
    /// [`Model::counter_order_placed`].
    PlaceCounterOrder { cart: Cart, session: u64 },
    /// [`Model::payment_ended`].
    Pay { order: i64 },
    /// [`Model::cancel_refused`] when it is refused.
    CancelPayment { order: i64 },
    /// After a while, settle unresolved payments and read this one's standing:
    /// [`Model::payment_checked`].
    FollowPayment { order: i64, after: Duration },
    /// Void an order nobody will pay (answered only in the log).
    Void { order: i64 },
    /// Void the card order given up, or read its standing if that is refused:
    /// [`Model::given_up`].
    GiveUp { order: i64, then: AfterGivingUp },
    /// [`Model::receipt_printed`].
    PrintReceipt { order: i64 },
    /// The receipt's QR code data and whether the receipt printer takes jobs:
    /// [`Model::receipt_extras`].
    ReceiptExtras { order: i64, session: u64 },
    /// Settle what is unresolved, void counter orders past their time, print waiting tickets.
    Upkeep,
    /// Staff mode's reads and actions (see [`StaffMode`]).
    Staff(staff::StaffWork),
}

/// What follows a card order given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterGivingUp {
    /// Back to the cart to change it.
    BackToCart,
    /// Pay at the counter instead.
    PayAtCounter,
}

/// What changed since the screens were last filled, so that only that is shown again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes(u16);

impl Changes {
    pub const SESSION: Changes = Changes(1);
    pub const MENU: Changes = Changes(1 << 1);
    pub const PRODUCT: Changes = Changes(1 << 2);
    pub const UPSELL: Changes = Changes(1 << 3);
    pub const CART: Changes = Changes(1 << 4);
    pub const PAYMENT: Changes = Changes(1 << 5);
    pub const DONE: Changes = Changes(1 << 6);
    pub const STAFF: Changes = Changes(1 << 7);
    /// A new customer: the screens' own toggles (accessibility, keyboard) start over.
    pub const RESET: Changes = Changes(1 << 8);
    /// Every screen's contents, the toggles kept (a new language, a redraw).
    pub const EVERY_SCREEN: Changes = Changes((1 << 8) - 1);
    pub const ALL: Changes = Changes(u16::MAX);

    pub fn contains(self, other: Changes) -> bool {
        self.0 & other.0 == other.0
    }

    fn add(&mut self, other: Changes) {
        self.0 |= other.0;
    }
}

impl std::ops::BitOr for Changes {
    type Output = Changes;

    fn bitor(self, other: Changes) -> Changes {
        Changes(self.0 | other.0)
    }
}

/// The kiosk's timings, from the device config.
#[derive(Clone, Debug)]
pub struct Settings {
    pub screen: ScreenConfig,
    /// The venue is a cinema: showtimes first, no eat-in question.
    pub cinema: bool,
    pub receipts: ReceiptPrinting,
    pub e_receipts: bool,
    /// How long to wait before asking the terminal again about a payment in doubt.
    pub in_doubt_retry: Duration,
    /// While the kiosk speaks, its time limits are this many times longer.
    pub speech_time_factor: u32,
}

/// Five taps on the attract screen's corner within this time open staff sign-in.
const STAFF_TAPS: usize = 5;
const STAFF_TAP_WINDOW: Duration = Duration::from_secs(4);
/// How many times the terminal is asked again while the customer waits on a payment in doubt.
const IN_DOUBT_TRIES: u32 = 10;
/// The longest promo code the keyboard takes.
const PROMO_MAX_CHARS: usize = 20;

/// The order being paid.
#[derive(Clone, Debug, PartialEq)]
pub struct Paying {
    /// `None` until the order is placed.
    pub order: Option<PlacedOrder>,
    pub phase: PayPhase,
    /// The amount on screen, from the cart's quote until the order has its own.
    pub amount: Option<(Money, kiosk_engine::kiosk_core::money::Currency)>,
    /// The terminal is being asked again about the payment in doubt; tries left after it.
    following: Option<u32>,
}

/// The order number on screen after an order.
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    pub order: PlacedOrder,
    pub at_counter: bool,
    until: Instant,
    pub seconds_left: u32,
    pub print: PrintState,
    /// What the receipt's QR code says (its e-receipt link), once read.
    pub qr: Option<String>,
    pub printer_ready: bool,
}

/// The item sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    pub builder: ProductBuilder,
    /// Bumped with every change: a quote for an older line is dropped.
    generation: u64,
    /// Opened from a suggestion: no further suggestion after it.
    from_upsell: bool,
    /// The line's price, from the engine's quote once it is complete.
    pub total: Option<(Money, kiosk_engine::kiosk_core::money::Currency)>,
}

/// Why the cart is quoted again, which decides what a refusal or a new total does.
#[derive(Clone, Debug, PartialEq)]
enum Requote {
    /// The customer changed the cart: a refusal puts this cart back and says why.
    Undo(Cart),
    /// The menu, a price or the stock changed: a line or code the engine refuses is taken
    /// out, and a new total is announced.
    Refresh { total_before: Option<Money> },
    /// A follow-up after something was taken out and announced already.
    Quiet,
}

#[derive(Debug)]
pub struct Model {
    settings: Settings,
    pub screen: Screen,
    /// Bumped at every reset: work started for an earlier customer finds a new number.
    session: u64,
    pub language: String,
    pub shelf: Option<Shelf>,
    pub cart: Cart,
    pub quote: Option<Quote>,
    /// Bumped with every cart change: a quote for an older cart is dropped.
    cart_generation: u64,
    /// Why the quote under way was asked for; `None` when none is.
    quoting: Option<Requote>,
    pub category: usize,
    /// The day whose showings a cinema shows (`None`: the first with any).
    pub day: Option<Date>,
    pub sheet: Option<Sheet>,
    /// The line a "make it a meal" combo replaces once added.
    replaces: Option<CartLine>,
    /// The products suggested after an addition.
    pub upsell: Vec<String>,
    pub promo_entry: String,
    pub payment: Option<Paying>,
    pub done: Option<Done>,
    pub staff: StaffMode,
    last_touch: Instant,
    /// "Are you still there?" is on screen until then.
    still_there_until: Option<Instant>,
    /// The customer asked to start again with something in the basket: the kiosk asks
    /// before clearing it.
    clear_asked: bool,
    pub countdown: u32,
    corner_taps: Vec<Instant>,
    pub notice: Option<(Notice, String)>,
    notice_until: Option<Instant>,
    /// Why the kiosk was asked to go out of service (it goes once no payment runs).
    pub out_of_service: Option<String>,
    /// When the activity on screen began.
    activity: (Activity, Instant),
    /// The customer listens through the headphones: the kiosk speaks, and its time limits
    /// are longer.
    pub speaking: bool,
    changes: Changes,
}

impl Model {
    pub fn new(settings: Settings, now: Instant) -> Model {
        Model {
            settings,
            screen: Screen::Attract,
            session: 0,
            language: "fr".into(),
            shelf: None,
            cart: Cart::new(ConsumptionMode::DineIn, Vec::new()),
            quote: None,
            cart_generation: 0,
            quoting: None,
            category: 0,
            day: None,
            sheet: None,
            replaces: None,
            upsell: Vec::new(),
            promo_entry: String::new(),
            payment: None,
            done: None,
            staff: StaffMode::default(),
            last_touch: now,
            still_there_until: None,
            clear_asked: false,
            countdown: 0,
            corner_taps: Vec::new(),
            notice: None,
            notice_until: None,
            out_of_service: None,
            activity: (Activity::Attract, now),
            speaking: false,
            changes: Changes::ALL,
        }
    }

    /// What changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    fn changed(&mut self, what: Changes) {
        self.changes.add(what);
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn menu(&self) -> Option<&Menu> {
        self.shelf.as_ref().map(|shelf| &shelf.menu.menu)
    }

    pub fn is_ready(&self) -> bool {
        self.shelf.is_some()
    }

    /// The venue is a cinema (by the device config or by showtimes on the menu).
    pub fn is_cinema(&self) -> bool {
        self.settings.cinema || self.menu().is_some_and(|menu| menu.items.iter().any(|item| item.showtime.is_some()))
    }

    /// Whether the customer's own change waits for its quote (the total and the pay buttons
    /// wait with it). A requote because the menu or the stock changed does not count: it is
    /// not waited for.
    pub fn is_quoting(&self) -> bool {
        matches!(self.quoting, Some(Requote::Undo(_)))
    }

    /// The busy guard: a payment is being started, so pay buttons do nothing.
    pub fn is_busy(&self) -> bool {
        self.payment.as_ref().is_some_and(|paying| paying.phase.is_running() && paying.order.is_none())
    }

    pub fn is_still_there_asked(&self) -> bool {
        self.still_there_until.is_some()
    }

    pub fn is_clear_asked(&self) -> bool {
        self.clear_asked
    }

    fn go(&mut self, screen: Screen, now: Instant) {
        if self.screen != screen {
            self.screen = screen;
            self.changed(Changes::SESSION);
            let activity = self.activity_now();
            if activity != self.activity.0 {
                self.activity = (activity, now);
            }
        }
    }

    fn activity_now(&self) -> Activity {
        match self.screen {
            Screen::Attract => Activity::Attract,
            Screen::OutOfService => Activity::OutOfService,
            Screen::StaffLogin | Screen::Staff => Activity::Staff,
            Screen::Payment | Screen::Done => Activity::Paying,
            Screen::OrderMode | Screen::Menu | Screen::Product | Screen::Upsell | Screen::Cart => Activity::Ordering,
        }
    }

    /// What the app is doing and since when, and the order in progress: for the agent.
    pub fn summary(&self) -> (Activity, Instant, Option<OrderInProgress>) {
        let order = match (&self.payment, &self.done) {
            (Some(paying), _) => {
                let phase = match paying.phase {
                    PayPhase::InDoubt => PaymentPhase::InDoubt,
                    PayPhase::Declined
                    | PayPhase::TimedOut
                    | PayPhase::Cancelled
                    | PayPhase::NotCharged
                    | PayPhase::Failed => PaymentPhase::NotCharged,
                    _ => PaymentPhase::OnTerminal,
                };
                let placed = paying.order.as_ref();
                paying.amount.or_else(|| self.total()).map(|(total, currency)| OrderInProgress {
                    number: placed.map(|order| order.number.clone()),
                    total,
                    currency,
                    lines: self.line_count(),
                    phase,
                    training: placed.is_some_and(|order| order.training),
                })
            }
            (None, Some(done)) => Some(OrderInProgress {
                number: Some(done.order.number.clone()),
                total: done.order.quote.total,
                currency: done.order.quote.currency,
                lines: u32::try_from(done.order.quote.lines.len()).unwrap_or(u32::MAX),
                phase: PaymentPhase::Done,
                training: done.order.training,
            }),
            (None, None) if !self.cart.lines.is_empty() => self.total().map(|(total, currency)| OrderInProgress {
                number: None,
                total,
                currency,
                lines: self.line_count(),
                phase: PaymentPhase::None,
                training: self.shelf.as_ref().is_some_and(|shelf| shelf.training),
            }),
            (None, None) => None,
        };
        (self.activity.0, self.activity.1, order)
    }

    fn total(&self) -> Option<(Money, kiosk_engine::kiosk_core::money::Currency)> {
        self.quote.as_ref().map(|quote| (quote.total, quote.currency))
    }

    fn line_count(&self) -> u32 {
        u32::try_from(self.cart.lines.len()).unwrap_or(u32::MAX)
    }

    // ---- The clocks ----

    /// Any touch: the inactivity clock starts again. A customer listening to the order
    /// number gets its whole time again with each key.
    pub fn touched(&mut self, now: Instant) {
        self.last_touch = now;
        if self.still_there_until.take().is_some() {
            self.changed(Changes::SESSION);
        }
        let done_time = self.limit(self.settings.screen.done_seconds);
        if self.speaking
            && let Some(done) = &mut self.done
        {
            done.until = done.until.max(now + done_time);
        }
    }

    /// Speech starts (headphones in, a keypad key) or stops (headphones out).
    pub fn set_speaking(&mut self, on: bool) {
        if self.speaking != on {
            self.speaking = on;
            self.changed(Changes::SESSION);
        }
    }

    /// How long a time limit of `seconds` lasts for this customer: longer while the kiosk
    /// speaks.
    fn limit(&self, seconds: u32) -> Duration {
        let factor = if self.speaking { self.settings.speech_time_factor.max(1) } else { 1 };
        Duration::from_secs(u64::from(seconds) * u64::from(factor))
    }

    /// Inactivity ("are you still there?", then a reset), the order number's countdown, the
    /// end of a notice.
    pub fn tick(&mut self, now: Instant) -> Vec<Work> {
        if self.notice_until.is_some_and(|until| now >= until) {
            self.dismiss_notice();
        }
        if let Some(done) = &mut self.done {
            let left = seconds_left(done.until, now);
            let over = now >= done.until;
            if left != done.seconds_left {
                done.seconds_left = left;
                self.changed(Changes::DONE);
            }
            return if over { self.reset(now) } else { Vec::new() };
        }
        let waiting = self.payment.as_ref().is_some_and(|p| p.phase.is_running() || p.following.is_some());
        if matches!(self.screen, Screen::Attract | Screen::OutOfService) || waiting {
            return Vec::new();
        }
        let (idle, still_there) =
            (self.limit(self.settings.screen.idle_seconds), self.limit(self.settings.screen.still_there_seconds));
        match self.still_there_until {
            None if now.duration_since(self.last_touch) >= idle => {
                self.still_there_until = Some(now + still_there);
                self.countdown = u32::try_from(still_there.as_secs()).unwrap_or(u32::MAX);
                self.changed(Changes::SESSION);
                Vec::new()
            }
            Some(until) if now >= until => {
                log::info!("nobody at the screen: the session was reset");
                self.reset(now)
            }
            Some(until) => {
                let left = seconds_left(until, now);
                if left != self.countdown {
                    self.countdown = left;
                    self.changed(Changes::SESSION);
                }
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    // ---- The menu and stock ----

    /// A fresh read of the menu in use, the time and the stock; a cart in progress is quoted
    /// again when anything it depends on changed.
    pub fn shelf_read(&mut self, shelf: Shelf, now: Instant) -> Vec<Work> {
        let (first, menu_changed, stock_changed, minute_changed) = match &self.shelf {
            None => (true, true, true, true),
            Some(old) => {
                (false, old.menu.version != shelf.menu.version, old.stock != shelf.stock, old.moment != shelf.moment)
            }
        };
        let training_changed = self.shelf.as_ref().is_none_or(|old| old.training != shelf.training);
        if !(menu_changed || stock_changed || minute_changed || training_changed) {
            return Vec::new();
        }
        self.shelf = Some(shelf);
        self.changed(Changes::SESSION | Changes::MENU | Changes::PRODUCT | Changes::UPSELL | Changes::CART);
        if menu_changed {
            self.take_languages(first);
        }
        if first || !(menu_changed || stock_changed || minute_changed) {
            return Vec::new();
        }
        if menu_changed && !self.cart.lines.is_empty() {
            self.notify(Notice::MenuChanged, String::new(), now);
        }
        // An order being paid or done keeps the quote it was placed with.
        if self.cart.lines.is_empty() || matches!(self.screen, Screen::Payment | Screen::Done) {
            return Vec::new();
        }
        let total_before = self.quote.as_ref().map(|quote| quote.total);
        self.requote(Requote::Refresh { total_before })
    }

    /// The session keeps its language while the menu still offers it; the first menu starts
    /// in its first language.
    fn take_languages(&mut self, first: bool) {
        let Some(languages) = self.menu().map(|menu| menu.venue.languages.clone()) else { return };
        match languages.first() {
            Some(_) if !first && languages.contains(&self.language) => {}
            Some(first_language) => self.language = first_language.clone(),
            None => {}
        }
    }

    pub fn choose_language(&mut self, language: &str) {
        self.language = language.to_owned();
        self.changed(Changes::EVERY_SCREEN);
    }

    // ---- Ordering ----

    /// The customer starts: the language, then how they eat (a cinema sells to take away).
    pub fn start(&mut self, language: &str, now: Instant) -> Vec<Work> {
        if self.screen != Screen::Attract {
            return Vec::new();
        }
        self.choose_language(language);
        if self.is_cinema() {
            self.choose_mode(true, now)
        } else {
            self.go(Screen::OrderMode, now);
            Vec::new()
        }
    }

    pub fn choose_mode(&mut self, take_away: bool, now: Instant) -> Vec<Work> {
        if self.screen == Screen::OutOfService {
            return Vec::new();
        }
        self.cart.mode = if take_away { ConsumptionMode::TakeAway } else { ConsumptionMode::DineIn };
        self.category = 0;
        self.changed(Changes::SESSION | Changes::MENU);
        self.go(Screen::Menu, now);
        if self.cart.lines.is_empty() { Vec::new() } else { self.requote(Requote::Quiet) }
    }

    pub fn choose_category(&mut self, index: usize) {
        self.category = index;
        self.changed(Changes::MENU);
    }

    /// A cinema's day picker: the showings of that day.
    pub fn choose_day(&mut self, day: &str) {
        self.day = Date::parse(day);
        self.changed(Changes::MENU);
    }

    pub fn view_cart(&mut self, now: Instant) {
        self.go(Screen::Cart, now);
    }

    pub fn keep_ordering(&mut self, now: Instant) {
        self.go(Screen::Menu, now);
    }

    /// Opens the item sheet. From a suggestion after an item ("make it a meal"), the item just
    /// added goes into the combo's slot that takes it, and the combo will take its place.
    pub fn open_product(&mut self, id: &str, from_upsell: bool, now: Instant) -> Vec<Work> {
        let Some(menu) = self.menu() else { return Vec::new() };
        let Some(mut builder) = self.builder(id) else { return Vec::new() };
        let replaced = self.replaces.as_ref().filter(|_| from_upsell);
        let makes_a_meal = replaced.is_some_and(|line| builder.prefill(menu, &line.product, &line.modifiers));
        if !makes_a_meal {
            self.replaces = None;
        }
        let generation = self.sheet.as_ref().map_or(0, |sheet| sheet.generation + 1);
        self.sheet = Some(Sheet { builder, generation, from_upsell, total: None });
        self.go(Screen::Product, now);
        self.sheet_changed()
    }

    /// A new line for a product, with the menu's defaults that can be sold now.
    fn builder(&self, id: &str) -> Option<ProductBuilder> {
        let shelf = self.shelf.as_ref()?;
        let menu = &shelf.menu.menu;
        let mut builder = ProductBuilder::new(menu, id)?;
        builder.drop_unavailable(
            |item| menu.item(item).is_some_and(|item| shelf.is_sold_out(Product::Item(item))),
            |group, option| {
                let option = menu.modifier_group(group).and_then(|group| group.option(option));
                option.is_some_and(|option| shelf.is_option_sold_out(option))
            },
        );
        Some(builder)
    }

    /// A product's line as its defaults make it (an item without options, a popcorn of the
    /// default size, a meal of the default parts), if they make a whole one.
    fn default_line(&self, id: &str) -> Option<CartLine> {
        let menu = self.menu()?;
        let builder = self.builder(id).filter(|builder| builder.ticket_count() == 0)?;
        builder.lines(menu).pop()
    }

    /// A change on the item sheet. An option sold out cannot be picked (only dropped).
    pub fn edit_sheet(&mut self, edit: SheetEdit) -> Vec<Work> {
        let (Some(shelf), Some(sheet)) = (&self.shelf, &mut self.sheet) else { return Vec::new() };
        let menu = &shelf.menu.menu;
        let builder = &mut sheet.builder;
        match edit {
            SheetEdit::Toggle { group, option } => {
                let sold_out = menu
                    .modifier_group(&group)
                    .and_then(|rules| rules.option(&option))
                    .is_some_and(|found| shelf.is_option_sold_out(found));
                if sold_out && !builder.is_selected(&group, &option) {
                    return Vec::new();
                }
                builder.toggle(menu, &group, &option);
            }
            SheetEdit::SlotItem(item) => builder.choose_slot_item(menu, &item),
            SheetEdit::Quantity(quantity) => builder.set_quantity(quantity),
            SheetEdit::Tickets { ticket_type, count } => builder.set_tickets(&ticket_type, count),
            SheetEdit::Next => {
                builder.next_step(menu);
            }
            SheetEdit::Previous => builder.previous_step(),
        }
        self.sheet_changed()
    }

    /// The sheet changed: its line (once complete) is quoted.
    fn sheet_changed(&mut self) -> Vec<Work> {
        self.changed(Changes::PRODUCT);
        let mode = self.cart.mode;
        let (Some(menu), Some(sheet)) = (self.shelf.as_ref().map(|shelf| &shelf.menu.menu), &mut self.sheet) else {
            return Vec::new();
        };
        sheet.generation += 1;
        sheet.total = None;
        let lines = sheet.builder.lines(menu);
        if lines.is_empty() {
            return Vec::new();
        }
        vec![Work::QuoteLine { cart: Cart::new(mode, lines), generation: sheet.generation }]
    }

    pub fn line_quoted(&mut self, generation: u64, quote: Result<Quote, EngineError>) {
        let Some(sheet) = self.sheet.as_mut().filter(|sheet| sheet.generation == generation) else { return };
        match quote {
            Ok(quote) => {
                sheet.total = Some((quote.total, quote.currency));
                self.changed(Changes::PRODUCT);
            }
            Err(error) => log::warn!("the item sheet's line cannot be quoted: {error}"),
        }
    }

    pub fn close_sheet(&mut self, now: Instant) {
        self.sheet = None;
        self.go(Screen::Menu, now);
    }

    /// Puts the sheet's line in the cart, then offers its suggestions (not after a sheet
    /// opened from one). A showing's tickets go in and the order is shown: what goes with a
    /// film is offered there, and the customer is one tap from paying.
    pub fn add_to_cart(&mut self, now: Instant) -> Vec<Work> {
        let (Some(menu), Some(sheet)) = (self.menu(), &self.sheet) else { return Vec::new() };
        let mut lines = sheet.builder.lines(menu);
        if sheet.builder.ticket_count() == 0 {
            let Some(line) = lines.pop() else { return Vec::new() };
            let suggest = !sheet.from_upsell;
            self.sheet = None;
            return self.put_in_cart(line, suggest, now);
        }
        let name = menu.product(sheet.builder.product()).map(|p| p.info().name.get(&self.language).to_owned());
        let before = self.cart.clone();
        for line in lines {
            self.cart.add(line);
        }
        self.sheet = None;
        self.replaces = None;
        self.notify(Notice::Added, name.unwrap_or_default(), now);
        self.go(Screen::Cart, now);
        self.cart_changed(before)
    }

    /// Whether a product is added in one tap, from its card: an item with no options to
    /// choose (a showtime is chosen on its sheet).
    pub fn is_quick(&self, id: &str) -> bool {
        self.menu()
            .and_then(|menu| menu.item(id))
            .is_some_and(|item| item.modifier_groups.is_empty() && item.showtime.is_none())
    }

    /// The cart's line of an item added in one tap, if it has one.
    fn quick_line(&self, id: &str) -> Option<usize> {
        self.cart
            .lines
            .iter()
            .position(|line| line.product == id && line.modifiers.is_empty() && line.choices.is_empty())
    }

    /// How many of an item added in one tap the cart holds.
    pub fn quick_count(&self, id: &str) -> u32 {
        self.quick_line(id).map_or(0, |line| self.cart.lines[line].quantity)
    }

    /// One more of an item with no options, straight from its card: no sheet, and its
    /// suggestions as after one. On the cart's "complete your meal" row, a product as its
    /// defaults make it, without suggestions (the customer is about to pay). Anything else
    /// opens its sheet.
    pub fn add_one(&mut self, id: &str, now: Instant) -> Vec<Work> {
        if self.screen == Screen::Cart
            && let Some(line) = self.default_line(id)
        {
            return self.put_in_cart(line, false, now);
        }
        if !self.is_quick(id) {
            return self.open_product(id, false, now);
        }
        self.put_in_cart(CartLine::item(id, 1), true, now)
    }

    /// One fewer of an item added in one tap (its line goes at none).
    pub fn remove_one(&mut self, id: &str) -> Vec<Work> {
        let Some(line) = self.quick_line(id) else { return Vec::new() };
        match self.cart.lines[line].quantity {
            1 => self.remove_line(line),
            more => self.change_quantity(line, more - 1),
        }
    }

    /// Puts a line in the cart (merged with the same one, or in place of what a meal was made
    /// from), then offers the product's suggestions not in the cart yet, if `suggest`.
    fn put_in_cart(&mut self, line: CartLine, suggest: bool, now: Instant) -> Vec<Work> {
        let Some(shelf) = &self.shelf else { return Vec::new() };
        let menu = &shelf.menu.menu;
        let product = menu.product(&line.product);
        let name = product.map(|product| product.info().name.get(&self.language).to_owned()).unwrap_or_default();
        let upsell: Vec<String> = match product {
            Some(product) if suggest => product
                .info()
                .upsell
                .iter()
                .map(|id| id.as_str().to_owned())
                .filter(|id| !self.cart.lines.iter().any(|line| &line.product == id))
                .filter(|id| shelf.on_sale().any(|p| p.info().id.as_str() == id))
                .collect(),
            _ => Vec::new(),
        };
        let before = self.cart.clone();
        match self.replaces.take() {
            Some(made_from) => self.cart.make_a_meal(&made_from, line.clone()),
            None => self.cart.add(line.clone()),
        }
        if upsell.is_empty() {
            self.notify(Notice::Added, name, now);
            if self.screen != Screen::Cart {
                self.go(Screen::Menu, now);
            }
        } else {
            // The suggestion's screen says what was added: no notice over its question.
            self.replaces = Some(line);
            self.upsell = upsell;
            self.changed(Changes::UPSELL);
            self.go(Screen::Upsell, now);
        }
        self.cart_changed(before)
    }

    /// What would complete the order, from the menu's suggestions for what the cart holds:
    /// products their defaults make whole (added in one tap), on sale, of a category the
    /// order has nothing of (a meal's parts count); three at most.
    pub fn completions(&self) -> Vec<Product<'_>> {
        let Some(shelf) = &self.shelf else { return Vec::new() };
        let menu = &shelf.menu.menu;
        let category = |id: &str| menu.product(id).map(|product| product.info().category.clone());
        let held: Vec<_> = self
            .cart
            .lines
            .iter()
            .flat_map(|line| {
                std::iter::once(line.product.as_str()).chain(line.choices.values().map(|c| c.item.as_str()))
            })
            .filter_map(category)
            .collect();
        let mut found: Vec<Product<'_>> = Vec::new();
        let suggested =
            self.cart.lines.iter().filter_map(|line| menu.product(&line.product)).flat_map(|p| &p.info().upsell);
        for id in suggested {
            let Some(product) = shelf.on_sale().find(|product| product.info().id == *id) else { continue };
            let fresh = !found.iter().any(|other| other.info().id == *id);
            if fresh
                && self.default_line(id.as_str()).is_some()
                && !held.contains(&product.info().category)
                && !shelf.is_sold_out(product)
            {
                found.push(product);
            }
        }
        found.truncate(3);
        found
    }

    /// A suggestion taken: an item with no options goes straight into the order; anything
    /// else opens its sheet (a meal, with the item just added in its slot).
    pub fn take_upsell(&mut self, id: &str, now: Instant) -> Vec<Work> {
        if self.is_quick(id) {
            self.replaces = None;
            return self.put_in_cart(CartLine::item(id, 1), false, now);
        }
        self.open_product(id, true, now)
    }

    pub fn decline_upsell(&mut self, now: Instant) {
        self.replaces = None;
        self.go(Screen::Menu, now);
    }

    /// Whether the suggestions on screen include a combo ("make it a meal").
    pub fn upsell_is_a_meal(&self) -> bool {
        self.menu().is_some_and(|menu| self.upsell.iter().any(|id| menu.combo(id).is_some()))
    }

    /// The product just added, which the suggestions on screen go with.
    pub fn upsell_after(&self) -> Option<&str> {
        self.replaces.as_ref().map(|line| line.product.as_str())
    }

    /// The suggestions on screen and what each adds to the order: a meal made of the item
    /// just added costs the difference (the item is paid for already), anything else its
    /// price.
    pub fn upsell_offers(&self) -> Vec<(Product<'_>, Money)> {
        let Some(menu) = self.menu() else { return Vec::new() };
        let made_from = self.upsell_after().and_then(|id| menu.item(id));
        let extra = |product: Product<'_>| match (product, made_from) {
            (Product::Combo(combo), Some(item)) => combo.price_over(item),
            _ => None,
        };
        self.upsell
            .iter()
            .filter_map(|id| menu.product(id))
            .map(|product| (product, extra(product).unwrap_or(product.info().price)))
            .collect()
    }

    pub fn change_quantity(&mut self, line: usize, quantity: u32) -> Vec<Work> {
        let before = self.cart.clone();
        self.cart.set_quantity(line, quantity);
        self.cart_changed(before)
    }

    pub fn remove_line(&mut self, line: usize) -> Vec<Work> {
        let before = self.cart.clone();
        self.cart.remove(line);
        self.cart_changed(before)
    }

    /// A key of the promo code keyboard ("⌫" takes the last character off).
    pub fn promo_key(&mut self, key: &str) {
        if key == "⌫" {
            self.promo_entry.pop();
        } else if self.promo_entry.chars().count() < PROMO_MAX_CHARS {
            self.promo_entry.push_str(key);
        }
        self.changed(Changes::CART);
    }

    pub fn apply_promo(&mut self) -> Vec<Work> {
        let code = std::mem::take(&mut self.promo_entry).trim().to_uppercase();
        self.changed(Changes::CART);
        self.use_promo(code)
    }

    /// A promo code read by the scanner counts while the customer orders.
    pub fn scanned_promo(&mut self, code: String) -> Vec<Work> {
        if matches!(self.screen, Screen::Menu | Screen::Cart | Screen::Product | Screen::Upsell) {
            self.use_promo(code)
        } else {
            Vec::new()
        }
    }

    fn use_promo(&mut self, code: String) -> Vec<Work> {
        if code.is_empty() {
            return Vec::new();
        }
        let before = self.cart.clone();
        self.cart.promo = Some(code);
        self.cart_changed(before)
    }

    pub fn remove_promo(&mut self) -> Vec<Work> {
        let before = self.cart.clone();
        self.cart.promo = None;
        self.cart_changed(before)
    }

    /// The customer changed the cart: it is quoted, and undone if the engine refuses it.
    fn cart_changed(&mut self, before: Cart) -> Vec<Work> {
        if before == self.cart {
            return Vec::new();
        }
        self.requote(Requote::Undo(before))
    }

    /// Quotes the cart; see [`Requote`] for what happens when it is refused. A customer's
    /// change still waiting for its quote stays undoable whatever comes next.
    fn requote(&mut self, why: Requote) -> Vec<Work> {
        self.cart_generation += 1;
        self.changed(Changes::CART);
        let why = match (why, self.quoting.take()) {
            (Requote::Undo(before), _) | (_, Some(Requote::Undo(before))) => Requote::Undo(before),
            (why, _) => why,
        };
        if self.cart.lines.is_empty() {
            self.quote = None;
            // An empty cart has nothing to show: back to the menu (the same activity).
            if self.screen == Screen::Cart {
                self.screen = Screen::Menu;
                self.changed(Changes::SESSION);
            }
            return Vec::new();
        }
        self.quoting = Some(why);
        vec![Work::Quote { cart: self.cart.clone(), generation: self.cart_generation }]
    }

    /// The engine's quote of the cart (or why it refused it).
    pub fn quoted(&mut self, generation: u64, quote: Result<Quote, EngineError>, now: Instant) -> Vec<Work> {
        if generation != self.cart_generation {
            return Vec::new();
        }
        let Some(why) = self.quoting.take() else { return Vec::new() };
        self.changed(Changes::CART);
        match quote {
            Ok(quote) => {
                let applied = quote.discount.as_ref().map(|discount| discount.code.clone());
                match (&why, applied) {
                    (Requote::Refresh { total_before: Some(before) }, _) if *before != quote.total => {
                        let text = crate::format::price(quote.total, quote.currency, &self.language);
                        self.notify(Notice::PricesChanged, text, now);
                    }
                    (Requote::Undo(before), Some(code)) if before.promo.is_none() => {
                        self.notify(Notice::PromoApplied, code, now);
                    }
                    _ => {}
                }
                self.quote = Some(quote);
                Vec::new()
            }
            Err(error) => {
                let (notice, detail, line) = self.explain(&error);
                self.notify(notice, detail, now);
                let promo_refused = matches!(error, EngineError::Quote(QuoteError::Promo { .. }));
                match (why, line) {
                    (Requote::Undo(before), _) => self.cart = before,
                    (_, Some(line)) => self.cart.remove(line),
                    (_, None) if promo_refused => self.cart.promo = None,
                    // Nothing to take out: the cart and its last quote stay, the notice says
                    // to try again.
                    (_, None) => return Vec::new(),
                }
                self.requote(Requote::Quiet)
            }
        }
    }

    /// The notice for a refused cart, and the cart line (0-based) to take out if one is named.
    fn explain(&self, error: &EngineError) -> (Notice, String, Option<usize>) {
        let language = self.language.as_str();
        let menu = self.menu();
        // A product, or a counted option, by its name in the session's language.
        let name = |id: &str| -> String {
            let product = menu.and_then(|menu| menu.product(id)).map(|product| product.info().name.get(language));
            let stockable = || menu.and_then(|menu| menu.stockable(id)).map(|counted| counted.name.get(language));
            product.or_else(stockable).unwrap_or(id).to_owned()
        };
        match error {
            EngineError::Quote(QuoteError::Promo { code, problem }) => {
                let (notice, detail) = match problem {
                    PromoProblem::Unknown => (Notice::PromoUnknown, code.clone()),
                    PromoProblem::NotYet(date) => (Notice::PromoNotYet, date.to_string()),
                    PromoProblem::Expired(date) => (Notice::PromoExpired, date.to_string()),
                    PromoProblem::UsedUp => (Notice::PromoUsedUp, String::new()),
                    PromoProblem::BasketTooSmall(minimum) => {
                        let currency = menu.map(|menu| menu.venue.currency);
                        let text = currency.map_or_else(String::new, |c| crate::format::price(*minimum, c, language));
                        (Notice::PromoBasketTooSmall, text)
                    }
                    PromoProblem::NothingToDiscount(_) => (Notice::PromoNothingToDiscount, String::new()),
                };
                (notice, detail, None)
            }
            EngineError::Quote(QuoteError::Line { line, product, problem }) => {
                let index = line.checked_sub(1);
                match problem {
                    LineProblem::SoldOut { item } | LineProblem::NotEnoughStock { item, .. } => {
                        (Notice::LineSoldOut, name(item.as_str()), index)
                    }
                    LineProblem::Unavailable | LineProblem::UnknownProduct => {
                        (Notice::LineUnavailable, name(product), index)
                    }
                    other => {
                        log::warn!("the cart's line {line} was refused: {other}");
                        (Notice::SomethingWentWrong, String::new(), index)
                    }
                }
            }
            EngineError::Stock(Shortage::SoldOut(item) | Shortage::NotEnough { item, .. }) => {
                let index = self.cart.lines.iter().position(|line| line.product == item.as_str());
                (Notice::LineSoldOut, name(item.as_str()), index)
            }
            other => {
                log::error!("the cart could not be quoted: {other}");
                (Notice::SomethingWentWrong, String::new(), None)
            }
        }
    }

    fn notify(&mut self, notice: Notice, detail: String, now: Instant) {
        let lasts = if notice == Notice::Added { Duration::from_secs(3) } else { Duration::from_secs(8) };
        self.notice = Some((notice, detail));
        self.notice_until = Some(now + lasts);
        self.changed(Changes::SESSION);
    }

    pub fn dismiss_notice(&mut self) {
        if self.notice.take().is_some() {
            self.changed(Changes::SESSION);
        }
        self.notice_until = None;
    }

    // ---- Paying ----

    /// "Pay by card" from the cart: the order is placed, then paid on the terminal.
    pub fn pay_by_card(&mut self, now: Instant) -> Vec<Work> {
        self.start_paying(PayPhase::Starting, now);
        match self.payment.is_some() && self.out_of_service.is_none() {
            true => vec![Work::PlaceOrder { cart: self.cart.clone(), session: self.session }],
            false => Vec::new(),
        }
    }

    /// "Pay at the counter" from the cart.
    pub fn pay_at_counter(&mut self, now: Instant) -> Vec<Work> {
        self.start_paying(PayPhase::Working, now);
        match self.payment.is_some() && self.out_of_service.is_none() {
            true => vec![Work::PlaceCounterOrder { cart: self.cart.clone(), session: self.session }],
            false => Vec::new(),
        }
    }

    fn start_paying(&mut self, phase: PayPhase, now: Instant) {
        let quoted = self.quote.is_some() && !self.is_quoting() && !self.cart.lines.is_empty();
        if self.payment.is_some() || !quoted || self.out_of_service.is_some() {
            return;
        }
        // A requote of the menu's or the stock's doing is dropped: the order is priced afresh
        // when it is placed, and refused with the reason if a line can no longer be sold.
        if self.quoting.take().is_some() {
            self.cart_generation += 1;
        }
        self.payment = Some(Paying { order: None, phase, amount: self.total(), following: None });
        self.changed(Changes::PAYMENT);
        self.go(Screen::Payment, now);
    }

    /// Whether an answer for `session` still belongs to the customer at the payment screen.
    fn paying_now(&self, session: u64) -> bool {
        self.session == session && self.screen == Screen::Payment && self.payment.is_some()
    }

    /// The card order is placed: it goes to the terminal.
    pub fn order_placed(&mut self, session: u64, placed: Result<PlacedOrder, EngineError>, now: Instant) -> Vec<Work> {
        self.when_placed(session, placed, now, |model, order| {
            let id = order.id;
            if let Some(paying) = &mut model.payment {
                paying.amount = Some((order.quote.total, order.quote.currency));
                paying.order = Some(order);
                paying.phase = PayPhase::Waiting;
            }
            model.changed(Changes::PAYMENT);
            vec![Work::Pay { order: id }]
        })
    }

    /// The counter order is placed: its number is shown.
    pub fn counter_order_placed(
        &mut self,
        session: u64,
        placed: Result<PlacedOrder, EngineError>,
        now: Instant,
    ) -> Vec<Work> {
        self.when_placed(session, placed, now, |model, order| model.show_done(order, true, now))
    }

    /// An order placed for the customer at the payment screen goes on with `then`. One placed
    /// for a session that ended meanwhile (staff mode, a reset) is voided, its held stock
    /// back at once; a refusal takes the customer back to the cart, told why.
    fn when_placed(
        &mut self,
        session: u64,
        placed: Result<PlacedOrder, EngineError>,
        now: Instant,
        then: impl FnOnce(&mut Model, PlacedOrder) -> Vec<Work>,
    ) -> Vec<Work> {
        match placed {
            Ok(order) if self.paying_now(session) => then(self, order),
            Ok(order) => vec![Work::Void { order: order.id }],
            Err(error) if self.paying_now(session) => self.order_refused(&error, now),
            Err(error) => {
                log::warn!("an order for a session that ended was refused: {error}");
                Vec::new()
            }
        }
    }

    /// The cart could not become an order (sold out meanwhile, say): back to the cart, told why.
    fn order_refused(&mut self, error: &EngineError, now: Instant) -> Vec<Work> {
        let (notice, detail, _) = self.explain(error);
        self.payment = None;
        self.changed(Changes::PAYMENT);
        self.notify(notice, detail, now);
        self.go(Screen::Cart, now);
        let total_before = self.quote.as_ref().map(|quote| quote.total);
        self.requote(Requote::Refresh { total_before })
    }

    /// The order on screen, if `order` is it.
    fn is_on_screen(&self, order: i64) -> bool {
        self.screen == Screen::Payment
            && self.payment.as_ref().and_then(|paying| paying.order.as_ref()).is_some_and(|placed| placed.id == order)
    }

    fn set_phase(&mut self, phase: PayPhase) {
        if let Some(paying) = &mut self.payment {
            paying.phase = phase;
            self.changed(Changes::PAYMENT);
        }
    }

    fn phase(&self) -> Option<PayPhase> {
        self.payment.as_ref().map(|paying| paying.phase)
    }

    fn placed(&self) -> Option<PlacedOrder> {
        self.payment.as_ref().and_then(|paying| paying.order.clone())
    }

    /// How the terminal payment ended (or what went wrong on the way).
    pub fn payment_ended(
        &mut self,
        order: i64,
        outcome: Result<PaymentOutcome, EngineError>,
        now: Instant,
    ) -> Vec<Work> {
        if !self.is_on_screen(order) {
            // Paid or not, this order's session is over; the engine has recorded how it ended.
            log::info!("payment of order {order} ended after its session: {outcome:?}");
            return Vec::new();
        }
        let Some(placed) = self.placed() else { return Vec::new() };
        match outcome {
            Ok(PaymentOutcome::Paid { .. }) => self.show_done(placed, false, now),
            Ok(PaymentOutcome::NotCharged { reason }) => {
                // The terminal's words for a decline ("51 insufficient funds") are for staff
                // and the logs (the engine keeps them with the attempt and logs them), not
                // for the queue behind the customer.
                let phase = match &reason {
                    NotCharged::Declined(_) => PayPhase::Declined,
                    NotCharged::TimedOut => PayPhase::TimedOut,
                    NotCharged::Cancelled => PayPhase::Cancelled,
                    NotCharged::NeverReceived => PayPhase::Failed,
                    // The terminal refused the request itself: the customer is told it did not
                    // work; the reason is for staff and the logs.
                    NotCharged::Rejected(why) => {
                        log::warn!("the terminal refused the payment of order {}: {why}", placed.number);
                        PayPhase::Failed
                    }
                };
                self.set_phase(phase);
                self.not_charged(now)
            }
            // Nothing was held or asked: the cart changed under the customer.
            Err(error @ (EngineError::Stock(_) | EngineError::Quote(_))) => {
                let mut work = vec![Work::Void { order }];
                work.extend(self.order_refused(&error, now));
                work
            }
            // Anything else may have happened after the terminal was asked: never say "not
            // charged" before the engine knows.
            other => {
                if let Err(error) = other {
                    log::error!("payment of order {} failed: {error}", placed.number);
                }
                self.set_phase(PayPhase::InDoubt);
                self.follow(placed, IN_DOUBT_TRIES)
            }
        }
    }

    /// The payment did not go through. A kiosk asked to go out of service ends the session
    /// here (the order is voided): no new attempt starts.
    fn not_charged(&mut self, now: Instant) -> Vec<Work> {
        if self.out_of_service.is_some() { self.reset(now) } else { Vec::new() }
    }

    /// While the customer looks at a payment in doubt, the terminal is asked again now and
    /// then: an approval shows the order number, a payment found never made lets them pay again.
    fn follow(&mut self, order: PlacedOrder, tries_left: u32) -> Vec<Work> {
        if let Some(paying) = &mut self.payment {
            paying.following = Some(tries_left);
        }
        vec![Work::FollowPayment { order: order.id, after: self.settings.in_doubt_retry }]
    }

    pub fn payment_checked(&mut self, order: i64, standing: Result<Standing, EngineError>, now: Instant) -> Vec<Work> {
        let waiting = self.is_on_screen(order) && self.phase() == Some(PayPhase::InDoubt);
        let tries_left = self.payment.as_mut().and_then(|paying| paying.following.take());
        let (Some(placed), true) = (self.placed(), waiting) else { return Vec::new() };
        match standing {
            Ok(Standing::Paid) => self.show_done(placed, false, now),
            Ok(Standing::NotCharged) => {
                self.set_phase(PayPhase::NotCharged);
                self.not_charged(now)
            }
            _ if tries_left.is_some_and(|tries| tries > 1) => self.follow(placed, tries_left.unwrap_or(1) - 1),
            Ok(_) => {
                log::warn!("order {} still in doubt: left to the periodic check", placed.number);
                Vec::new()
            }
            Err(error) => {
                log::warn!("order {} could not be checked: {error}", placed.number);
                Vec::new()
            }
        }
    }

    /// "Cancel" while the terminal waits for the card.
    pub fn cancel_payment(&mut self) -> Vec<Work> {
        match (self.placed(), self.phase()) {
            (Some(order), Some(PayPhase::Waiting)) => {
                self.set_phase(PayPhase::Cancelling);
                vec![Work::CancelPayment { order: order.id }]
            }
            _ => Vec::new(),
        }
    }

    /// Too early (the terminal was not asked yet) or too late: the customer may try again.
    /// (A cancel that works ends the payment, which reports it.)
    pub fn cancel_refused(&mut self, error: &EngineError) {
        log::warn!("the payment could not be cancelled: {error}");
        if self.phase() == Some(PayPhase::Cancelling) {
            self.set_phase(PayPhase::Waiting);
        }
    }

    /// "Try again" after a payment that did not go through.
    pub fn retry_payment(&mut self) -> Vec<Work> {
        let retryable = matches!(
            self.phase(),
            Some(
                PayPhase::Declined | PayPhase::TimedOut | PayPhase::Cancelled | PayPhase::NotCharged | PayPhase::Failed
            )
        );
        match (self.placed(), retryable && self.out_of_service.is_none()) {
            (Some(order), true) => {
                self.set_phase(PayPhase::Waiting);
                vec![Work::Pay { order: order.id }]
            }
            _ => Vec::new(),
        }
    }

    /// "Pay at the counter" after the card did not go through: the card order is given up.
    pub fn pay_at_counter_instead(&mut self) -> Vec<Work> {
        self.give_up(AfterGivingUp::PayAtCounter)
    }

    /// "Change my order" after the card did not go through (or, in doubt, "done": the order
    /// is left to the engine to settle and the next customer can come).
    pub fn give_up_payment(&mut self, now: Instant) -> Vec<Work> {
        if self.phase() == Some(PayPhase::InDoubt) {
            return self.reset(now);
        }
        self.give_up(AfterGivingUp::BackToCart)
    }

    fn give_up(&mut self, then: AfterGivingUp) -> Vec<Work> {
        let Some(order) = self.placed() else { return Vec::new() };
        // A payment in doubt is never given up for another way to pay: it may be charged.
        if self.phase().is_none_or(|phase| phase.is_running() || phase == PayPhase::InDoubt) {
            return Vec::new();
        }
        self.set_phase(PayPhase::Working);
        vec![Work::GiveUp { order: order.id, then }]
    }

    /// How giving up the card order went: voided (go on), or found paid or in doubt after all.
    pub fn given_up(
        &mut self,
        order: i64,
        standing: Result<Standing, EngineError>,
        then: AfterGivingUp,
        now: Instant,
    ) -> Vec<Work> {
        let Some(placed) = self.placed().filter(|placed| placed.id == order && self.screen == Screen::Payment) else {
            return Vec::new();
        };
        match standing {
            Ok(Standing::NotCharged) => {
                self.payment = None;
                self.changed(Changes::PAYMENT);
                match then {
                    AfterGivingUp::BackToCart => {
                        self.go(Screen::Cart, now);
                        Vec::new()
                    }
                    AfterGivingUp::PayAtCounter => {
                        self.start_paying(PayPhase::Working, now);
                        vec![Work::PlaceCounterOrder { cart: self.cart.clone(), session: self.session }]
                    }
                }
            }
            Ok(Standing::Paid) => self.show_done(placed, false, now),
            Ok(Standing::Unresolved) | Err(_) => {
                self.set_phase(PayPhase::InDoubt);
                self.follow(placed, IN_DOUBT_TRIES)
            }
        }
    }

    /// The order number; for a paid order the receipt as the venue wants it and its QR code.
    fn show_done(&mut self, order: PlacedOrder, at_counter: bool, now: Instant) -> Vec<Work> {
        let time = self.limit(self.settings.screen.done_seconds);
        let order_id = order.id;
        self.done = Some(Done {
            order,
            at_counter,
            until: now + time,
            seconds_left: u32::try_from(time.as_secs()).unwrap_or(u32::MAX),
            print: PrintState::NotAsked,
            qr: None,
            printer_ready: true,
        });
        self.payment = None;
        self.clear_cart();
        self.changed(Changes::PAYMENT | Changes::DONE);
        self.go(Screen::Done, now);
        if at_counter {
            return Vec::new();
        }
        let mut work = vec![Work::ReceiptExtras { order: order_id, session: self.session }];
        if self.settings.receipts == ReceiptPrinting::Always {
            work.extend(self.print_receipt());
        }
        work
    }

    /// Whether the done screen offers a printed receipt (on request, paid orders).
    pub fn offers_print(&self) -> bool {
        self.done.as_ref().is_some_and(|done| !done.at_counter) && self.settings.receipts == ReceiptPrinting::OnRequest
    }

    pub fn print_receipt(&mut self) -> Vec<Work> {
        let Some(done) = self.done.as_mut().filter(|done| !done.at_counter) else { return Vec::new() };
        if matches!(done.print, PrintState::Printing | PrintState::Printed) {
            return Vec::new();
        }
        done.print = PrintState::Printing;
        let order = done.order.id;
        self.changed(Changes::DONE);
        vec![Work::PrintReceipt { order }]
    }

    pub fn receipt_printed(&mut self, order: i64, printed: bool) {
        if let Some(done) = self.done.as_mut().filter(|done| done.order.id == order) {
            done.print = if printed { PrintState::Printed } else { PrintState::Failed };
            self.changed(Changes::DONE);
        }
    }

    pub fn receipt_extras(&mut self, session: u64, qr: Option<String>, printer_ready: bool) {
        if self.session != session {
            return;
        }
        if let Some(done) = &mut self.done {
            done.qr = qr;
            done.printer_ready = printer_ready;
            self.changed(Changes::DONE);
        }
    }

    /// Empties the cart; a quote still coming for it is dropped.
    fn clear_cart(&mut self) {
        self.cart.lines.clear();
        self.cart.promo = None;
        self.quote = None;
        self.quoting = None;
        self.cart_generation += 1;
        self.changed(Changes::CART);
    }

    // ---- Sessions ----

    /// Back to the attract screen (or out of service) with an empty cart; an unpaid order
    /// is voided, one in doubt is left to the engine to settle with the terminal.
    pub fn reset(&mut self, now: Instant) -> Vec<Work> {
        let mut work = Vec::new();
        if let Some(paying) = self.payment.take()
            && let Some(order) = paying.order
            && paying.phase != PayPhase::InDoubt
        {
            work.push(Work::Void { order: order.id });
        }
        self.session += 1;
        self.clear_cart();
        self.sheet = None;
        self.replaces = None;
        self.upsell.clear();
        self.category = 0;
        self.day = None;
        self.promo_entry.clear();
        self.still_there_until = None;
        self.clear_asked = false;
        self.done = None;
        self.staff = StaffMode::default();
        self.notice = None;
        self.notice_until = None;
        // The next customer hears nothing of this one: speech stops with the session.
        self.speaking = false;
        if let Some(first) = self.menu().and_then(|menu| menu.venue.languages.first()).cloned() {
            self.language = first;
        }
        self.changed(Changes::ALL);
        let screen = if self.out_of_service.is_some() { Screen::OutOfService } else { Screen::Attract };
        self.go(screen, now);
        work
    }

    /// The keypad's Back key: what the screen's own back or cancel control does. Nothing on
    /// the order number, which Back must not make the customer lose.
    pub fn back(&mut self, now: Instant) -> Vec<Work> {
        if self.clear_asked {
            self.keep_order();
            return Vec::new();
        }
        match self.screen {
            Screen::OrderMode => self.abandon(now),
            Screen::Product if self.sheet.as_ref().is_some_and(|sheet| sheet.builder.step().0 > 0) => {
                self.edit_sheet(SheetEdit::Previous)
            }
            Screen::Product => {
                self.close_sheet(now);
                Vec::new()
            }
            Screen::Upsell => {
                self.decline_upsell(now);
                Vec::new()
            }
            Screen::Cart => {
                self.keep_ordering(now);
                Vec::new()
            }
            Screen::Payment => match self.payment.as_ref().map(|paying| paying.phase) {
                Some(PayPhase::Waiting) => self.cancel_payment(),
                Some(
                    PayPhase::Declined
                    | PayPhase::TimedOut
                    | PayPhase::Cancelled
                    | PayPhase::NotCharged
                    | PayPhase::Failed,
                ) => self.give_up_payment(now),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The header's ✕: an empty basket starts again at once; one with something in it is
    /// cleared only once the customer says so (one tap must not lose a full order).
    pub fn start_again(&mut self, now: Instant) -> Vec<Work> {
        if self.cart.lines.is_empty() {
            return self.abandon(now);
        }
        if !self.clear_asked {
            self.clear_asked = true;
            self.changed(Changes::SESSION);
        }
        Vec::new()
    }

    /// "No, keep my order" to the question of [`Model::start_again`].
    pub fn keep_order(&mut self) {
        if std::mem::take(&mut self.clear_asked) {
            self.changed(Changes::SESSION);
        }
    }

    /// The customer walks away ("start over").
    pub fn abandon(&mut self, now: Instant) -> Vec<Work> {
        if self.payment.as_ref().is_some_and(|paying| paying.phase.is_running()) {
            return Vec::new();
        }
        self.reset(now)
    }

    /// The agent takes the kiosk out of service: at once between customers, once the payment
    /// under way has ended otherwise. Staff signed in keep working; the screen says so when
    /// they leave.
    pub fn take_out_of_service(&mut self, reason: String, now: Instant) -> Vec<Work> {
        log::warn!("out of service: {reason}");
        self.out_of_service = Some(reason);
        self.changed(Changes::SESSION);
        let paying = self.payment.is_some() || self.done.is_some();
        if paying || matches!(self.screen, Screen::StaffLogin | Screen::Staff | Screen::OutOfService) {
            return Vec::new();
        }
        self.reset(now)
    }

    pub fn back_in_service(&mut self, now: Instant) {
        if self.out_of_service.take().is_some() {
            log::info!("back in service");
            self.changed(Changes::SESSION);
        }
        if self.screen == Screen::OutOfService {
            self.go(Screen::Attract, now);
        }
    }

    /// A tap on the attract (or out-of-service) screen's corner; five in a row open staff
    /// sign-in.
    pub fn staff_corner(&mut self, now: Instant) -> Vec<Work> {
        if !matches!(self.screen, Screen::Attract | Screen::OutOfService) {
            return Vec::new();
        }
        self.corner_taps.retain(|tap| now.duration_since(*tap) < STAFF_TAP_WINDOW);
        self.corner_taps.push(now);
        if self.corner_taps.len() < STAFF_TAPS {
            return Vec::new();
        }
        self.corner_taps.clear();
        self.open_sign_in(now)
    }

    /// Work the app owes the engine now and then, whatever the screen.
    pub fn upkeep(&self) -> Vec<Work> {
        vec![Work::Upkeep]
    }
}

/// A change on the item sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SheetEdit {
    Toggle {
        group: String,
        option: String,
    },
    SlotItem(String),
    Quantity(u32),
    /// How many tickets of one type for a showing.
    Tickets {
        ticket_type: String,
        count: u32,
    },
    Next,
    Previous,
}

/// Whole seconds from `now` to `until`, rounded up, for a countdown on screen.
fn seconds_left(until: Instant, now: Instant) -> u32 {
    let millis = until.saturating_duration_since(now).as_millis();
    u32::try_from(millis.div_ceil(1000)).unwrap_or(u32::MAX)
}

/// A text with anything that could be card data masked, for a screenshot leaving the kiosk:
/// every run of four or more digits (spaces and dashes inside it included) becomes dots.
pub fn masked(text: &str) -> String {
    with_digit_runs(text, |run, digits| {
        if digits >= 4 {
            run.chars().map(|c| if c.is_ascii_digit() { '•' } else { c }).collect()
        } else {
            run.to_owned()
        }
    })
}

/// `text` with each run of digits (spaces, non-breaking ones and dashes inside it included, as
/// card numbers are written) replaced by what `replace` makes of it and of its number of digits.
pub fn with_digit_runs(text: &str, replace: impl Fn(&str, usize) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let mut digits = 0;
    let flush = |out: &mut String, run: &mut String, digits: &mut usize| {
        if !run.is_empty() {
            out.push_str(&replace(run, *digits));
        }
        run.clear();
        *digits = 0;
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
            digits += 1;
        } else if matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '-') && digits > 0 {
            run.push(c);
        } else {
            flush(&mut out, &mut run, &mut digits);
            out.push(c);
        }
    }
    flush(&mut out, &mut run, &mut digits);
    out
}
