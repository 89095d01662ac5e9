//! The kiosk: the window, the customer's session and the clocks that drive it (inactivity,
//! the order number's countdown, live menu and stock changes, background upkeep).

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk_engine::kiosk_core::cart::{Cart, CartLine};
use kiosk_engine::kiosk_core::config::{ScreenConfig, VenueMode};
use kiosk_engine::kiosk_core::menu::ConsumptionMode;
use kiosk_engine::kiosk_core::pricing::Quote;
use kiosk_engine::{Engine, PlacedOrder, Session as StaffSession, Shelf};
use slint::{ComponentHandle, Image, SharedString};

use crate::builder::ProductBuilder;
use crate::ui::{KioskWindow, Notice, PayPhase, PaymentAdapter, Screen, Session, Theme};
use crate::{customer, staff, view};

/// How often the kiosk looks at its clocks and at the database.
#[derive(Clone, Debug)]
pub struct KioskOptions {
    /// Inactivity and countdowns.
    pub tick: Duration,
    /// Looking for a new menu or a stock change.
    pub refresh: Duration,
    /// Resolving payments left in doubt, expiring counter orders, printing waiting tickets.
    pub upkeep: Duration,
    /// Asking the terminal again about the payment in doubt the customer is waiting on.
    pub in_doubt_retry: Duration,
}

impl Default for KioskOptions {
    fn default() -> Self {
        KioskOptions {
            tick: Duration::from_millis(250),
            refresh: Duration::from_secs(2),
            upkeep: Duration::from_secs(30),
            in_doubt_retry: Duration::from_secs(3),
        }
    }
}

/// The running kiosk app. Create it on the UI thread after the Slint platform is set.
pub struct Kiosk {
    pub(crate) inner: Rc<Inner>,
    _timers: Vec<slint::Timer>,
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk").field("screen", &self.inner.ui.global::<Session>().get_screen()).finish()
    }
}

pub(crate) struct Inner {
    pub ui: KioskWindow,
    pub engine: Arc<Engine>,
    pub runtime: tokio::runtime::Handle,
    pub screen: ScreenConfig,
    pub options: KioskOptions,
    pub state: RefCell<State>,
}

/// The customer's (or staff member's) session and what the screens were built from.
pub(crate) struct State {
    /// Bumped at every reset: work started for an earlier customer finds a new number.
    pub session: u64,
    pub language: String,
    pub shelf: Option<Shelf>,
    pub images: HashMap<String, Image>,
    pub cart: Cart,
    pub quote: Option<Quote>,
    /// Bumped with every cart change: a quote for an older cart is dropped.
    pub cart_generation: u64,
    /// The cart before a customer's change whose quote has not come back yet.
    pub undo: Option<Cart>,
    pub category: usize,
    pub builder: Option<ProductBuilder>,
    /// Bumped with every change of the item sheet: a quote for an older line is dropped.
    pub builder_generation: u64,
    /// The line a "make it a meal" combo replaces once added.
    pub replaces: Option<CartLine>,
    /// The product sheet was opened from an upsell: no further suggestion after it.
    pub from_upsell: bool,
    /// The order being paid (placed, not paid yet).
    pub order: Option<PlacedOrder>,
    /// The terminal is being asked again about the payment in doubt on screen.
    pub following_payment: bool,
    /// The paid order whose receipt the done screen offers.
    pub receipt_for: Option<PlacedOrder>,
    pub last_touch: Instant,
    pub still_there_until: Option<Instant>,
    pub done_until: Option<Instant>,
    pub staff: Option<StaffSession>,
    pub pin: String,
    pub corner_taps: Vec<Instant>,
    pub notice_until: Option<Instant>,
    /// When the read of the menu and stock under way started.
    pub refresh_started: Option<Instant>,
}

impl State {
    fn new(language: String) -> State {
        State {
            session: 0,
            language,
            shelf: None,
            images: HashMap::new(),
            cart: Cart::new(ConsumptionMode::DineIn, Vec::new()),
            quote: None,
            cart_generation: 0,
            undo: None,
            category: 0,
            builder: None,
            builder_generation: 0,
            replaces: None,
            from_upsell: false,
            order: None,
            following_payment: false,
            receipt_for: None,
            last_touch: Instant::now(),
            still_there_until: None,
            done_until: None,
            staff: None,
            pin: String::new(),
            corner_taps: Vec::new(),
            notice_until: None,
            refresh_started: None,
        }
    }

    /// Empties the cart; a quote still coming for it is dropped.
    pub fn clear_cart(&mut self) {
        self.cart.lines.clear();
        self.cart.promo = None;
        self.quote = None;
        self.undo = None;
        self.cart_generation += 1;
    }
}

impl Kiosk {
    /// Builds the window on the attract screen and starts loading the menu.
    pub fn new(engine: Arc<Engine>, runtime: tokio::runtime::Handle, options: &KioskOptions) -> anyhow::Result<Kiosk> {
        let ui = KioskWindow::new()?;
        let screen = engine.device().screen.clone();
        let pixels_per_mm = screen.pixels_per_mm();
        #[allow(clippy::float_arithmetic, clippy::cast_possible_truncation, reason = "a length on screen")]
        let min_touch = (9.0 * pixels_per_mm).ceil() as f32;
        ui.global::<Theme>().set_min_touch(min_touch);
        let inner = Rc::new(Inner {
            ui,
            engine,
            runtime,
            screen,
            options: options.clone(),
            state: RefCell::new(State::new("fr".into())),
        });
        customer::connect(&inner);
        staff::connect(&inner);
        let timers = vec![
            repeat(&inner, options.tick, Inner::tick),
            repeat(&inner, options.refresh, Inner::refresh),
            repeat(&inner, options.upkeep, Inner::upkeep),
        ];
        inner.refresh();
        Ok(Kiosk { inner, _timers: timers })
    }

    pub fn window(&self) -> &KioskWindow {
        &self.inner.ui
    }

    /// Shows the window and runs the event loop until it closes.
    pub fn run(&self) -> anyhow::Result<()> {
        self.inner.ui.run()?;
        Ok(())
    }

    /// A handle other threads (the scanner's reader) deliver scans through.
    pub fn scan_handle(&self) -> ScanHandle {
        ScanHandle(self.inner.ui.as_weak())
    }

    /// Whether the menu has been loaded and shown (for start-up measurements and tests).
    pub fn is_ready(&self) -> bool {
        self.inner.state.borrow().shelf.is_some()
    }
}

/// Sends scanned codes to the UI thread from any thread.
#[derive(Clone)]
pub struct ScanHandle(slint::Weak<KioskWindow>);

impl std::fmt::Debug for ScanHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ScanHandle")
    }
}

impl ScanHandle {
    pub fn deliver(&self, code: String) {
        let delivered = self.0.upgrade_in_event_loop(move |ui| ui.global::<Session>().invoke_scanned(code.into()));
        if let Err(error) = delivered {
            log::warn!("a scan was dropped: {error}");
        }
    }
}

/// Whole seconds from `now` to `until`, rounded up, for a countdown on screen.
fn seconds_left(until: Instant, now: Instant) -> i32 {
    let millis = until.saturating_duration_since(now).as_millis();
    i32::try_from(millis.div_ceil(1000)).unwrap_or(i32::MAX)
}

fn repeat(inner: &Rc<Inner>, every: Duration, action: fn(&Rc<Inner>)) -> slint::Timer {
    let timer = slint::Timer::default();
    let weak = Rc::downgrade(inner);
    timer.start(slint::TimerMode::Repeated, every, move || {
        if let Some(inner) = weak.upgrade() {
            action(&inner);
        }
    });
    timer
}

impl Inner {
    /// Runs `work` on the runtime, then `then` with its result on the UI thread.
    pub fn spawn<T: Send + 'static>(
        self: &Rc<Self>,
        work: impl Future<Output = T> + Send + 'static,
        then: impl FnOnce(&Rc<Inner>, T) + 'static,
    ) {
        let task = self.runtime.spawn(work);
        let weak: Weak<Inner> = Rc::downgrade(self);
        let spawned = slint::spawn_local(async move {
            match task.await {
                Ok(value) => {
                    if let Some(inner) = weak.upgrade() {
                        then(&inner, value);
                    }
                }
                Err(error) => log::error!("a background task failed: {error}"),
            }
        });
        if let Err(error) = spawned {
            log::error!("cannot schedule work on the UI thread: {error}");
        }
    }

    pub fn go(&self, screen: Screen) {
        self.ui.global::<Session>().set_screen(screen);
    }

    pub fn screen(&self) -> Screen {
        self.ui.global::<Session>().get_screen()
    }

    /// Shows a notice for a few seconds (until dismissed, or the next one).
    pub fn notify(&self, notice: Notice, detail: &str) {
        let lasts = if notice == Notice::Added { Duration::from_secs(3) } else { Duration::from_secs(8) };
        self.state.borrow_mut().notice_until = Some(Instant::now() + lasts);
        let session = self.ui.global::<Session>();
        session.set_notice_detail(SharedString::from(detail));
        session.set_notice(notice);
    }

    /// Any touch: the inactivity clock starts again.
    pub fn touched(&self) {
        let mut state = self.state.borrow_mut();
        state.last_touch = Instant::now();
        if state.still_there_until.take().is_some() {
            self.ui.global::<Session>().set_still_there(false);
        }
    }

    pub fn language(&self) -> String {
        self.state.borrow().language.clone()
    }

    /// Switches the UI's words and the menu's texts; the cart stays.
    pub fn set_language(self: &Rc<Self>, language: &str) {
        if let Err(error) = slint::select_bundled_translation(language) {
            log::warn!("no translation for {language}: {error}");
        }
        self.state.borrow_mut().language = language.to_owned();
        let session = self.ui.global::<Session>();
        session.set_language(language.into());
        let others: Vec<SharedString> =
            slint::Model::iter(&session.get_languages()).filter(|other| other != language).collect();
        session.set_other_languages(view::model(others));
        self.show_shelf();
        customer::show_cart(self);
        customer::show_product(self);
    }

    /// Back to the attract screen with an empty cart; an unpaid order is voided.
    pub fn reset(self: &Rc<Self>) {
        let (unpaid, first_language) = {
            let mut state = self.state.borrow_mut();
            let unpaid = state.order.take();
            let language = state
                .shelf
                .as_ref()
                .and_then(|shelf| shelf.menu.menu.venue.languages.first().cloned())
                .unwrap_or_else(|| "fr".into());
            state.session += 1;
            state.clear_cart();
            state.builder = None;
            state.replaces = None;
            state.category = 0;
            state.still_there_until = None;
            state.done_until = None;
            state.receipt_for = None;
            state.staff = None;
            state.pin.clear();
            (unpaid, language)
        };
        // A payment in doubt is the engine's to settle with the terminal: the order stays.
        let payment = self.ui.global::<PaymentAdapter>();
        if let (Some(order), false) = (unpaid, payment.get_phase() == PayPhase::InDoubt) {
            customer::void_unpaid(self, order.id);
        }
        payment.set_phase(PayPhase::Starting);
        let theme = self.ui.global::<Theme>();
        theme.set_reach_mode(false);
        theme.set_high_contrast(false);
        theme.set_large_text(false);
        let session = self.ui.global::<Session>();
        session.set_still_there(false);
        session.set_accessibility_open(false);
        let cart = self.ui.global::<crate::ui::CartAdapter>();
        cart.set_keyboard_open(false);
        cart.set_promo_entry(SharedString::new());
        cart.set_promo_applied(SharedString::new());
        session.set_notice(Notice::None);
        session.set_busy(false);
        self.set_language(&first_language);
        self.go(Screen::Attract);
    }

    /// Inactivity: "are you still there?", then a reset; the order number's countdown.
    fn tick(self: &Rc<Self>) {
        let now = Instant::now();
        let notice_over = self.state.borrow().notice_until.is_some_and(|until| now >= until);
        if notice_over {
            self.state.borrow_mut().notice_until = None;
            self.ui.global::<Session>().set_notice(Notice::None);
        }
        let screen = self.screen();
        if screen == Screen::Done {
            let until = self.state.borrow().done_until;
            if let Some(until) = until {
                self.ui.global::<crate::ui::DoneAdapter>().set_seconds_left(seconds_left(until, now));
                if now >= until {
                    self.reset();
                }
            }
            return;
        }
        if screen == Screen::Attract || (screen == Screen::Payment && customer::payment_running(self)) {
            return;
        }
        let (last_touch, still_there_until) = {
            let state = self.state.borrow();
            (state.last_touch, state.still_there_until)
        };
        let session = self.ui.global::<Session>();
        match still_there_until {
            None if now.duration_since(last_touch) >= Duration::from_secs(self.screen.idle_seconds.into()) => {
                let until = now + Duration::from_secs(self.screen.still_there_seconds.into());
                self.state.borrow_mut().still_there_until = Some(until);
                session.set_countdown(i32::try_from(self.screen.still_there_seconds).unwrap_or(i32::MAX));
                session.set_still_there(true);
            }
            None => {}
            Some(until) if now >= until => {
                log::info!("nobody at the screen: the session was reset");
                self.reset();
            }
            Some(until) => session.set_countdown(seconds_left(until, now)),
        }
    }

    /// Picks up a new menu or a stock change; a cart in progress is quoted again.
    fn refresh(self: &Rc<Self>) {
        let known_version = {
            let mut state = self.state.borrow_mut();
            // One read at a time; one that never came back (a panic) is given up after a while.
            let running = state.refresh_started.is_some_and(|started| started.elapsed() < Duration::from_secs(30));
            if running {
                return;
            }
            state.refresh_started = Some(Instant::now());
            state.shelf.as_ref().map(|shelf| shelf.menu.version)
        };
        let engine = self.engine.clone();
        self.spawn(
            async move {
                let shelf = engine.shelf().await?;
                // Images are read and decoded again only with a new menu.
                let mut images = Vec::new();
                if known_version != Some(shelf.menu.version) {
                    for path in shelf.menu.menu.images() {
                        if let Some(bytes) = engine.menu_image(path).await? {
                            images.push((path.to_owned(), view::decode_image(path, bytes)));
                        }
                    }
                }
                Ok::<_, kiosk_engine::EngineError>((shelf, images))
            },
            |inner, loaded| {
                inner.state.borrow_mut().refresh_started = None;
                match loaded {
                    Ok((shelf, images)) => inner.take_shelf(shelf, images),
                    Err(error) => log::error!("cannot read the menu: {error}"),
                }
            },
        );
    }

    /// Takes a fresh read of the menu and stock; `images` come with a new menu version.
    fn take_shelf(self: &Rc<Self>, shelf: Shelf, images: Vec<(String, view::DecodedImage)>) {
        self.ui.global::<Session>().set_training(shelf.training);
        let (first, menu_changed, stock_changed) = {
            let state = self.state.borrow();
            match &state.shelf {
                None => (true, true, true),
                Some(old) => (false, old.menu.version != shelf.menu.version, old.stock != shelf.stock),
            }
        };
        // The time moves on too (availability windows): redraw when the minute changes.
        let minute_changed = self.state.borrow().shelf.as_ref().is_some_and(|old| old.moment != shelf.moment);
        if !menu_changed && !stock_changed && !minute_changed {
            return;
        }
        {
            let mut state = self.state.borrow_mut();
            if menu_changed {
                state.images =
                    images.into_iter().filter_map(|(path, image)| Some((path, image.into_image()?))).collect();
            }
            state.shelf = Some(shelf);
        }
        if menu_changed {
            self.take_venue(first);
        } else {
            self.show_shelf();
        }
        if first {
            return;
        }
        if menu_changed && !self.state.borrow().cart.lines.is_empty() {
            self.notify(Notice::MenuChanged, "");
        }
        customer::requote_after_change(self);
    }

    /// The venue's languages and kind from a new menu. The session keeps its language while
    /// the menu still offers it; the first menu starts in its first language.
    fn take_venue(self: &Rc<Self>, first: bool) {
        let (languages, cinema, language) = {
            let state = self.state.borrow();
            let menu = &state.shelf.as_ref().expect("a menu was just read").menu.menu;
            let languages = menu.venue.languages.clone();
            // A menu with showtimes sells cinema tickets: showtimes first, no eat-in question.
            let showtimes = menu.items.iter().any(|item| item.showtime.is_some());
            let cinema = self.engine.device().mode == VenueMode::Cinema || showtimes;
            let language = match languages.first() {
                Some(_) if !first && languages.contains(&state.language) => state.language.clone(),
                Some(first_language) => first_language.clone(),
                None => state.language.clone(),
            };
            (languages, cinema, language)
        };
        let session = self.ui.global::<Session>();
        session.set_cinema(cinema);
        session.set_languages(view::model(languages.iter().map(SharedString::from).collect()));
        self.set_language(&language);
    }

    /// Categories and cards of the menu in use, in the session's language.
    pub fn show_shelf(&self) {
        let state = self.state.borrow();
        let Some(shelf) = &state.shelf else { return };
        let session = self.ui.global::<Session>();
        session.set_venue_name(shelf.menu.menu.venue.name.get(&state.language).into());
        view::show_menu(&self.ui, shelf, &state.language, &state.images, state.category);
    }

    /// Work the app owes the engine now and then, whatever the screen.
    fn upkeep(self: &Rc<Self>) {
        let engine = self.engine.clone();
        self.spawn(
            async move {
                if let Err(error) = engine.resolve_unresolved_payments().await {
                    log::warn!("resolving payments: {error}");
                }
                if let Err(error) = engine.expire_counter_orders().await {
                    log::warn!("expiring counter orders: {error}");
                }
                if let Err(error) = engine.print_pending().await {
                    log::warn!("printing waiting tickets: {error}");
                }
            },
            |_, ()| {},
        );
    }

    /// The session's consumption mode is chosen; a cinema sells to take away.
    pub fn start_order(self: &Rc<Self>, take_away: bool) {
        {
            let mut state = self.state.borrow_mut();
            state.cart.mode = if take_away { ConsumptionMode::TakeAway } else { ConsumptionMode::DineIn };
            state.category = 0;
        }
        self.ui.global::<Session>().set_take_away(take_away);
        self.show_shelf();
        customer::show_cart(self);
        self.go(Screen::Menu);
    }
}
