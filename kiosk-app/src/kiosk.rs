//! The kiosk: the window, the [`Model`] that owns the session, and the loop between them.
//! A callback becomes an intent on the model; the [`Work`] it returns runs on the tokio
//! runtime, and its answer comes back to the model on the UI thread; after each, the parts of
//! the screens that changed are filled again (`view.rs`). The clocks (inactivity, live menu
//! and stock, upkeep) and the agent's requests are intents too.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kiosk_engine::devices::{AccessEvent, Speaker};
use kiosk_engine::kiosk_core::config::{KeypadAction, VenueMode};
use kiosk_engine::kiosk_core::receipt::Block;
use kiosk_engine::service::ServiceNotifier;
use kiosk_engine::{Engine, EngineError};
use kiosk_protocol::{Answer, Command, StateSummary};
use slint::{ComponentHandle, Image};

use crate::model::staff::{StaffWork, TabRows};
use crate::model::{Changes, Model, Screen, Settings, StaffAction, StaffOutcome, StaffTab, Work};
use crate::pictures::MenuImages;
use crate::reader::{self, Place, Reader};
use crate::ui::{KioskWindow, Session, Theme};
use crate::view::Masking;
use crate::{customer, pictures, staff, view};

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
    timers: Vec<slint::Timer>,
}

impl std::fmt::Debug for Kiosk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kiosk").field("screen", &self.inner.model.borrow().screen).finish()
    }
}

pub(crate) struct Inner {
    pub ui: KioskWindow,
    pub engine: Arc<Engine>,
    pub runtime: tokio::runtime::Handle,
    pub model: RefCell<Model>,
    /// The menu's images, by path; read again with each new menu version.
    pub images: MenuImages,
    /// The QR codes drawn for the done screen (the e-receipt's, the tickets'), by what they say.
    pub qr: RefCell<HashMap<String, Image>>,
    /// The language the UI's own words are in now.
    words_language: RefCell<String>,
    /// When the read of the menu and stock under way started.
    refresh_started: Cell<Option<Instant>>,
    /// When the UI thread last ran its clock: it draws the frames, so a frozen screen shows.
    last_beat: Cell<SystemTime>,
    /// Speech through the headphones and the keypad's moves.
    reader: RefCell<Reader>,
    /// The kiosk's order prefix, for saying order numbers.
    order_prefix: String,
    /// Whether headphones are in the jack, once the jack has said.
    headphones: Cell<Option<bool>>,
}

impl Kiosk {
    /// Builds the window on the attract screen and starts loading the menu.
    pub fn new(engine: Arc<Engine>, runtime: tokio::runtime::Handle, options: &KioskOptions) -> anyhow::Result<Kiosk> {
        let ui = KioskWindow::new()?;
        let device = engine.device();
        let pixels_per_mm = device.screen.pixels_per_mm();
        #[allow(clippy::float_arithmetic, clippy::cast_possible_truncation, reason = "a length on screen")]
        let min_touch = (9.0 * pixels_per_mm).ceil() as f32;
        ui.global::<Theme>().set_min_touch(min_touch);
        let settings = Settings {
            screen: device.screen.clone(),
            cinema: device.mode == VenueMode::Cinema,
            receipts: device.printing.receipts,
            e_receipts: device.printing.e_receipt_url.is_some(),
            in_doubt_retry: options.in_doubt_retry,
            speech_time_factor: device.accessibility.speech_time_factor,
        };
        let reader = Reader::new(&device.accessibility.keys);
        let order_prefix = String::from(device.order_prefix.clone());
        let inner = Rc::new(Inner {
            ui,
            engine,
            runtime,
            model: RefCell::new(Model::new(settings, Instant::now())),
            images: MenuImages::default(),
            qr: RefCell::new(HashMap::new()),
            words_language: RefCell::new(String::new()),
            refresh_started: Cell::new(None),
            last_beat: Cell::new(SystemTime::now()),
            reader: RefCell::new(reader),
            order_prefix,
            headphones: Cell::new(None),
        });
        customer::connect(&inner);
        staff::connect(&inner);
        pictures::connect(&inner.ui);
        let timers = vec![
            repeat(&inner, options.tick, |inner| {
                inner.last_beat.set(SystemTime::now());
                inner.answer(Model::tick);
            }),
            repeat(&inner, options.refresh, Inner::refresh),
            repeat(&inner, options.upkeep, |inner| inner.answer(|model, _| model.upkeep())),
        ];
        inner.render();
        inner.refresh();
        Ok(Kiosk { inner, timers })
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
        self.inner.model.borrow().is_ready()
    }

    /// How things stand, for the agent.
    pub fn summary(&self) -> StateSummary {
        self.inner.summary()
    }

    /// Carries out one of the agent's commands.
    pub fn handle(&self, command: Command) -> Answer {
        self.inner.handle(command)
    }

    /// Pings the service manager's watchdog from a timer of the UI thread, which draws the
    /// screens: a frozen UI stops the pings, and the service manager restarts the app.
    pub fn keep_watchdog(&mut self, notifier: Rc<ServiceNotifier>) {
        let Some(every) = notifier.watchdog_interval() else { return };
        let timer = slint::Timer::default();
        timer.start(slint::TimerMode::Repeated, every, move || notifier.ping());
        self.timers.push(timer);
    }

    /// Speech goes to `speaker` (eSpeak NG on a kiosk, a recording in tests); without one the
    /// kiosk never speaks.
    pub fn speak_with(&self, speaker: Arc<dyn Speaker>) {
        self.inner.reader.borrow_mut().speak_with(speaker);
    }

    /// A keypad key or the headphone jack.
    pub fn access(&self, event: AccessEvent) {
        self.inner.access(event);
    }

    /// Takes the keypad's and the jack's events from `events` (their readers run on the
    /// runtime) for as long as the kiosk runs.
    pub fn listen_to_access(&self, mut events: tokio::sync::mpsc::Receiver<AccessEvent>) {
        let weak = Rc::downgrade(&self.inner);
        let listening = slint::spawn_local(async move {
            while let Some(event) = events.recv().await {
                let Some(inner) = weak.upgrade() else { return };
                inner.access(event);
            }
        });
        if let Err(error) = listening {
            log::error!("the keypad and the headphone jack are not listened to: {error}");
        }
    }

    /// Serves the agent's requests on the Unix socket at `path` (see [`crate::socket`]).
    pub fn serve_agent(&self, path: &std::path::Path) -> anyhow::Result<()> {
        crate::socket::serve(&self.inner, path)
    }
}

/// An RFC 3339 time in UTC.
fn rfc3339(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
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
    pub fn summary(&self) -> StateSummary {
        let model = self.model.borrow();
        let (activity, since, order) = model.summary();
        let since = SystemTime::now() - since.elapsed();
        StateSummary {
            release: crate::release().to_owned(),
            activity,
            since: rfc3339(since),
            order,
            last_frame: Some(rfc3339(self.last_beat.get())),
            training: model.shelf.as_ref().is_some_and(|shelf| shelf.training),
            out_of_service: model.out_of_service.clone(),
        }
    }

    pub fn handle(self: &Rc<Self>, command: Command) -> Answer {
        match command {
            Command::State => {}
            Command::OutOfService { reason } => self.answer(|model, now| model.take_out_of_service(reason, now)),
            Command::BackInService => self.answer(|model, now| {
                model.back_in_service(now);
                Vec::new()
            }),
            Command::Screenshot => {
                return match view::screenshot(self) {
                    Ok(png) => Answer::Screenshot { png },
                    Err(error) => Answer::Refused { reason: format!("{error:#}") },
                };
            }
            Command::ReloadMenu => self.refresh(),
            // It waits on the printer and the terminal: the socket asks the engine itself,
            // never blocking the UI thread.
            Command::SelfCheck => return Answer::Refused { reason: "the self check is asked on the socket".into() },
        }
        Answer::State(self.summary())
    }

    /// A customer's or staff member's intent: it counts as a touch.
    pub fn intent(self: &Rc<Self>, intent: impl FnOnce(&mut Model, Instant) -> Vec<Work>) {
        let now = Instant::now();
        self.model.borrow_mut().touched(now);
        self.answer(|model, _| intent(model, now));
    }

    /// Changes the model (an intent, a clock, an engine's answer), carries out the work it
    /// asks for and shows what changed.
    pub fn answer(self: &Rc<Self>, change: impl FnOnce(&mut Model, Instant) -> Vec<Work>) {
        let work = change(&mut self.model.borrow_mut(), Instant::now());
        self.render();
        for item in work {
            self.carry_out(item);
        }
    }

    fn render(&self) {
        let changes = self.model.borrow_mut().take_changes();
        let model = self.model.borrow();
        let language = model.language.as_str();
        if *self.words_language.borrow() != language {
            if let Err(error) = slint::select_bundled_translation(language) {
                log::warn!("no translation for {language}: {error}");
            }
            language.clone_into(&mut self.words_language.borrow_mut());
        }
        view::render(self, &model, changes, Masking::Off);
        self.reader.borrow_mut().after_render(&self.reading(&model));
    }

    /// What the screen reader reads with now.
    fn reading<'a>(&'a self, model: &'a Model) -> reader::Context<'a> {
        let (name, scope) = if model.is_still_there_asked() {
            ("still-there", Some("StillThere"))
        } else if model.is_clear_asked() {
            ("clear-order", Some("ClearOrder"))
        } else if self.ui.global::<Session>().get_accessibility_open() {
            ("accessibility", Some("AccessibilityPanel"))
        } else {
            (place_name(model.screen), None)
        };
        let step = model.sheet.as_ref().map_or(0, |sheet| sheet.builder.step().0);
        reader::Context {
            ui: &self.ui,
            place: Place { name, scope, step },
            language: &model.language,
            order_prefix: &self.order_prefix,
            speaking: model.speaking,
        }
    }

    /// A keypad key or the headphone jack. The first key starts speech; then keys move,
    /// choose and go back, and count as touches, except that they answer "are you still
    /// there?" only by its own buttons.
    pub fn access(self: &Rc<Self>, event: AccessEvent) {
        let (speaking, still_there) = {
            let model = self.model.borrow();
            (model.speaking, model.is_still_there_asked())
        };
        match event {
            AccessEvent::Headphones(plugged) => {
                self.headphones.set(Some(plugged));
                self.answer(|model, now| {
                    if plugged {
                        model.touched(now);
                    }
                    model.set_speaking(plugged);
                    Vec::new()
                });
            }
            // What is said is for the customer's ears only: with a jack that says it is empty,
            // a key starts nothing (a kiosk without a jack speaks where its sound goes).
            AccessEvent::Key(_) if !speaking && self.headphones.get() == Some(false) => {
                log::info!("a keypad key with no headphones in the jack: speech waits for them");
            }
            AccessEvent::Key(_) if !speaking => self.intent(|model, _| {
                model.set_speaking(true);
                Vec::new()
            }),
            AccessEvent::Key(KeypadAction::Back) if self.ui.global::<Session>().get_accessibility_open() => {
                self.ui.global::<Session>().set_accessibility_open(false);
                self.answer(|_, _| Vec::new());
            }
            AccessEvent::Key(KeypadAction::Back) if !still_there => {
                let before = self.reading(&self.model.borrow()).place;
                self.intent(|model, now| model.back(now));
                // Where Back does nothing (the order number), the customer hears where they are.
                let model = self.model.borrow();
                let reading = self.reading(&model);
                if reading.place == before {
                    self.reader.borrow_mut().key(KeypadAction::Repeat, &reading);
                }
            }
            AccessEvent::Key(action) => {
                if !still_there {
                    self.model.borrow_mut().touched(Instant::now());
                }
                let chosen = self.reader.borrow_mut().key(action, &self.reading(&self.model.borrow()));
                if let Some(control) = chosen {
                    control.invoke_accessible_default_action();
                    self.reader.borrow_mut().after_select(&self.reading(&self.model.borrow()));
                }
            }
        }
    }

    /// Fills every screen from the model again (after the screenshot walk drew previews).
    pub fn redraw(&self) {
        view::render(self, &self.model.borrow(), Changes::EVERY_SCREEN, Masking::Off);
    }

    /// Runs `work` on the runtime, then `then` with its result on the UI thread.
    fn spawn<T: Send + 'static>(
        self: &Rc<Self>,
        work: impl Future<Output = T> + Send + 'static,
        then: impl FnOnce(&mut Model, Instant, T) -> Vec<Work> + 'static,
    ) {
        let task = self.runtime.spawn(work);
        let weak: Weak<Inner> = Rc::downgrade(self);
        let spawned = slint::spawn_local(async move {
            match task.await {
                Ok(value) => {
                    if let Some(inner) = weak.upgrade() {
                        inner.answer(|model, now| then(model, now, value));
                    }
                }
                Err(error) => log::error!("a background task failed: {error}"),
            }
        });
        if let Err(error) = spawned {
            log::error!("cannot schedule work on the UI thread: {error}");
        }
    }

    /// Asks the engine what the model asked for; the answer goes back to the model.
    fn carry_out(self: &Rc<Self>, work: Work) {
        let engine = self.engine.clone();
        match work {
            Work::Quote { cart, generation } => {
                self.spawn(async move { engine.quote(&cart).await }, move |m, now, q| m.quoted(generation, q, now))
            }
            Work::QuoteLine { cart, generation } => {
                self.spawn(async move { engine.quote(&cart).await }, move |m, _, quote| {
                    m.line_quoted(generation, quote);
                    Vec::new()
                })
            }
            Work::PlaceOrder { cart, session } => self
                .spawn(async move { engine.place_order(&cart).await }, move |m, now, placed| {
                    m.order_placed(session, placed, now)
                }),
            Work::PlaceCounterOrder { cart, session } => self
                .spawn(async move { engine.place_counter_order(&cart).await }, move |m, now, placed| {
                    m.counter_order_placed(session, placed, now)
                }),
            Work::Pay { order } => self.spawn(async move { engine.pay(order).await }, move |m, now, outcome| {
                m.payment_ended(order, outcome, now)
            }),
            Work::CancelPayment { order } => {
                self.spawn(async move { engine.cancel_payment(order).await }, |m, _, cancelled| {
                    if let Err(error) = cancelled {
                        m.cancel_refused(&error);
                    }
                    Vec::new()
                })
            }
            Work::FollowPayment { order, after } => self.spawn(
                async move {
                    tokio::time::sleep(after).await;
                    engine.resolve_unresolved_payments().await?;
                    engine.order(order).await.map(|details| details.payment())
                },
                move |m, now, standing| m.payment_checked(order, standing, now),
            ),
            Work::Void { order } => self.spawn(
                async move { engine.change_order_status(&kiosk_engine::Actor::Kiosk, order, cancelled()).await },
                |_, _, voided| {
                    if let Err(error) = voided {
                        log::warn!("an unpaid order was not voided: {error}");
                    }
                    Vec::new()
                },
            ),
            Work::GiveUp { order, then } => self.spawn(
                async move {
                    match engine.change_order_status(&kiosk_engine::Actor::Kiosk, order, cancelled()).await {
                        Ok(()) => Ok(kiosk_engine::kiosk_core::payment::Standing::NotCharged),
                        Err(error) => {
                            log::warn!("order {order} was not voided: {error}");
                            engine.order(order).await.map(|details| details.payment())
                        }
                    }
                },
                move |m, now, standing| m.given_up(order, standing, then, now),
            ),
            Work::PrintReceipt { order } => {
                self.spawn(async move { engine.print_receipt(order).await }, move |m, _, round| {
                    let printed = match round {
                        Ok(round) if round.waiting.is_empty() => true,
                        Ok(round) => {
                            log::warn!("receipt waiting: {:?}", round.waiting);
                            false
                        }
                        Err(error) => {
                            log::warn!("receipt not printed: {error}");
                            false
                        }
                    };
                    m.receipt_printed(order, printed);
                    Vec::new()
                })
            }
            Work::ReceiptExtras { order, session } => self.spawn(
                async move {
                    let qr = engine.receipt_document(order).await.ok().and_then(|document| {
                        document.blocks.into_iter().find_map(|block| match block {
                            Block::Qr { data } => Some(data),
                            _ => None,
                        })
                    });
                    (qr, engine.receipt_printer_state().await.takes_jobs())
                },
                move |m, _, (qr, ready)| {
                    m.receipt_extras(session, qr, ready);
                    Vec::new()
                },
            ),
            Work::Upkeep => self.spawn(
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
                |_, _, ()| Vec::new(),
            ),
            Work::Staff(work) => self.carry_out_staff(work),
        }
    }

    fn carry_out_staff(self: &Rc<Self>, work: StaffWork) {
        let engine = self.engine.clone();
        match work {
            StaffWork::Names => self.spawn(async move { engine.staff().await }, |m, _, names| {
                m.staff_names(names);
                Vec::new()
            }),
            StaffWork::SignIn { name, pin } => self
                .spawn(async move { engine.sign_in(&name, &pin).await }, |m, now, session| m.signed_in(session, now)),
            StaffWork::Scan { code } => {
                self.spawn(async move { engine.scanned(&code).await }, |m, now, scanned| m.scanned_answer(scanned, now))
            }
            StaffWork::Read(tab) => self.spawn(
                async move {
                    match tab {
                        StaffTab::Stock => TabRows::Stock(engine.stock().await),
                        StaffTab::Counter | StaffTab::Orders => {
                            TabRows::Orders(engine.latest_orders(RECENT_ORDERS).await)
                        }
                        StaffTab::Printers => TabRows::Printers(engine.printer_states().await),
                        StaffTab::Reports => TabRows::Training(engine.training().await),
                    }
                },
                |m, _, rows| {
                    m.tab_read(rows);
                    Vec::new()
                },
            ),
            StaffWork::Alerts => self.spawn(async move { engine.alerts().await }, |m, _, alerts| {
                m.alerts_read(alerts);
                Vec::new()
            }),
            StaffWork::Act { actor, tab, action, number, language } => self.spawn(
                async move { staff_action(&engine, &actor, action, number, &language).await },
                move |m, _, outcome| m.staff_acted(tab, outcome),
            ),
        }
    }

    /// Picks up a new menu or a stock change (images are read and decoded again only with a
    /// new menu); one read at a time, and one that never came back is given up after a while.
    pub fn refresh(self: &Rc<Self>) {
        if self.refresh_started.get().is_some_and(|started| started.elapsed() < Duration::from_secs(30)) {
            return;
        }
        self.refresh_started.set(Some(Instant::now()));
        let known_version = self.model.borrow().shelf.as_ref().map(|shelf| shelf.menu.version);
        let engine = self.engine.clone();
        let task = self.runtime.spawn(async move {
            let shelf = engine.shelf().await?;
            let mut images = Vec::new();
            if known_version != Some(shelf.menu.version) {
                for path in shelf.menu.menu.images() {
                    if let Some(bytes) = engine.menu_image(path).await? {
                        images.push((path.to_owned(), pictures::decode_image(path, bytes)));
                    }
                }
            }
            Ok::<_, EngineError>((shelf, images, known_version))
        });
        let weak = Rc::downgrade(self);
        let spawned = slint::spawn_local(async move {
            let loaded = task.await;
            let Some(inner) = weak.upgrade() else { return };
            inner.refresh_started.set(None);
            match loaded {
                Ok(Ok((shelf, images, read_for))) => {
                    if read_for != Some(shelf.menu.version) {
                        inner.images.replace(images);
                    }
                    inner.answer(|model, now| model.shelf_read(shelf, now));
                }
                Ok(Err(error)) => log::error!("cannot read the menu: {error}"),
                Err(error) => log::error!("the menu read failed: {error}"),
            }
        });
        if let Err(error) = spawned {
            log::error!("cannot schedule the menu read: {error}");
        }
    }

    /// For the screenshot mode: straight to a fresh session, in `language`.
    pub fn reset_to(self: &Rc<Self>, language: &str) {
        self.answer(|model, now| {
            let work = model.reset(now);
            model.choose_language(language);
            work
        });
    }
}

/// The name a screen is announced by (see `Words.speech-place`).
fn place_name(screen: Screen) -> &'static str {
    match screen {
        Screen::Attract => "attract",
        Screen::OrderMode => "order-mode",
        Screen::Menu => "menu",
        Screen::Product => "product",
        Screen::Upsell => "upsell",
        Screen::Cart => "cart",
        Screen::Payment => "payment",
        Screen::Done => "done",
        Screen::StaffLogin | Screen::Staff => "staff",
        Screen::OutOfService => "out-of-service",
    }
}

/// Orders listed for refunds and reprints.
const RECENT_ORDERS: u32 = 40;

fn cancelled() -> kiosk_engine::kiosk_core::order::OrderStatus {
    kiosk_engine::kiosk_core::order::OrderStatus::Cancelled
}

/// Carries out a staff action as `actor`; `number` is the order acted on, for the note.
async fn staff_action(
    engine: &Engine,
    actor: &kiosk_engine::Actor,
    action: StaffAction,
    number: String,
    language: &str,
) -> Result<StaffOutcome, EngineError> {
    use crate::model::StaffNote;
    use kiosk_engine::StockChange;
    use kiosk_engine::devices::COLUMNS;
    use kiosk_engine::kiosk_core::refund::RefundScope;
    let stock = async |item: &str, change: StockChange| {
        let entry = engine.change_stock(actor, item, &change).await?;
        Ok(StaffOutcome::Note(StaffNote::StockChanged, format!("{} · {}", entry.name, entry.level.available())))
    };
    match action {
        StaffAction::Restock { item, units } => {
            stock(&item, StockChange { adjust: Some(units), ..StockChange::default() }).await
        }
        StaffAction::SoldOut { item, sold_out } => {
            stock(&item, StockChange { sold_out: Some(sold_out), ..StockChange::default() }).await
        }
        StaffAction::Settle { order, by } => {
            engine.settle_counter_order(actor, order, by).await?;
            Ok(StaffOutcome::Note(StaffNote::Settled, number))
        }
        StaffAction::Refund { order } => {
            let outcome = engine.refund(actor, order, &RefundScope::Whole, true).await?;
            Ok(StaffOutcome::refund(number, outcome))
        }
        StaffAction::Reprint { order } => {
            let round = engine.reprint(actor, order).await?;
            Ok(match round.waiting.first() {
                None => StaffOutcome::Note(StaffNote::Printed, String::new()),
                Some((_, why)) => StaffOutcome::Note(StaffNote::PrintWaiting, why.clone()),
            })
        }
        StaffAction::XReport => {
            let report = engine.x_report(actor).await?;
            Ok(StaffOutcome::Report(report.to_document("X REPORT", language).to_text(COLUMNS)))
        }
        StaffAction::ZClose => {
            let z = engine.close_day(actor).await?;
            if let Err(error) = engine.print_now(&z.to_document(language)).await {
                log::warn!("the Z ticket was not printed: {error}");
            }
            Ok(StaffOutcome::Report(z.to_text(language)))
        }
        StaffAction::ClearAlert { id } => {
            engine.clear_alert(actor, id).await?;
            Ok(StaffOutcome::Note(StaffNote::None, String::new()))
        }
        StaffAction::SetTraining(on) => {
            engine.set_training(actor, on).await?;
            Ok(StaffOutcome::Note(StaffNote::None, String::new()))
        }
        StaffAction::TestPrint => {
            engine.print_test_ticket().await?;
            Ok(StaffOutcome::Note(StaffNote::Printed, String::new()))
        }
    }
}
