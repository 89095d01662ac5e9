//! Staff mode in the model: sign-in by name and PIN (or badge), then stock, counter orders,
//! refunds and reprints, X and Z reports, training, printers, alerts. What a member may do
//! is the core's permission check for their role; the engine refuses the rest anyway.

use std::time::Instant;

use kiosk_engine::kiosk_core::order::OrderActions;
use kiosk_engine::kiosk_core::staff::{Permission, Pin};
use kiosk_engine::{
    Actor, Alert, CounterPayment, EngineError, PaymentOutcome, PrinterState, Scanned, Session, StaffMember, StockEntry,
    StoredOrder, Training,
};

use super::{Changes, Model, Screen, Work};

/// The tabs of the staff screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StaffTab {
    #[default]
    Stock,
    Counter,
    Orders,
    Reports,
    Printers,
}

/// How a staff action went, said in the staff member's language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StaffNote {
    #[default]
    None,
    Working,
    Settled,
    Refunded,
    RefundNotMade,
    RefundInDoubt,
    Printed,
    PrintWaiting,
    StockChanged,
    WrongPin,
    Locked,
    BadPin,
    Failed,
}

/// What a signed-in member asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffAction {
    Restock { item: String, units: i64 },
    SoldOut { item: String, sold_out: bool },
    Settle { order: i64, by: CounterPayment },
    Refund { order: i64 },
    Reprint { order: i64 },
    XReport,
    ZClose,
    ClearAlert { id: i64 },
    SetTraining(bool),
    TestPrint,
}

/// What a staff action did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffOutcome {
    Note(StaffNote, String),
    /// A report's text, shown in the reports tab.
    Report(String),
}

impl StaffOutcome {
    /// A refund's outcome for the order numbered `number`.
    pub fn refund(number: String, outcome: PaymentOutcome) -> StaffOutcome {
        match outcome {
            PaymentOutcome::Paid { .. } => StaffOutcome::Note(StaffNote::Refunded, number),
            PaymentOutcome::NotCharged { reason } => StaffOutcome::Note(StaffNote::RefundNotMade, reason.to_string()),
            PaymentOutcome::InDoubt => StaffOutcome::Note(StaffNote::RefundInDoubt, number),
        }
    }
}

/// What staff mode asks of the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum StaffWork {
    /// The accounts' names: [`Model::staff_names`].
    Names,
    /// [`Model::signed_in`].
    SignIn { name: String, pin: Pin },
    /// A badge or a promo code from the scanner: [`Model::scanned_answer`].
    Scan { code: String },
    /// A tab's rows: [`Model::tab_read`].
    Read(StaffTab),
    /// The open alerts: [`Model::alerts_read`].
    Alerts,
    /// An action as the signed-in member, then the tab read again: [`Model::staff_acted`].
    /// `number`: the number of the order acted on, for the note.
    Act { actor: Actor, tab: StaffTab, action: StaffAction, number: String, language: String },
}

/// A tab's rows as the engine read them.
#[derive(Debug)]
pub enum TabRows {
    Stock(Result<Vec<StockEntry>, EngineError>),
    /// For the counter and orders tabs.
    Orders(Result<Vec<StoredOrder>, EngineError>),
    Printers(Vec<(String, PrinterState)>),
    Training(Result<Option<Training>, EngineError>),
}

/// Staff mode's state; the default is nobody signed in.
#[derive(Clone, Debug, Default)]
pub struct StaffMode {
    pub names: Vec<String>,
    pub chosen_name: String,
    pin: String,
    pub session: Option<Session>,
    pub tab: StaffTab,
    pub stock: Vec<StockEntry>,
    /// The latest orders (the counter tab shows those staff can settle).
    pub orders: Vec<StoredOrder>,
    pub printers: Vec<(String, PrinterState)>,
    pub alerts: Vec<Alert>,
    pub report: String,
    pub note: (StaffNote, String),
    pub training: Option<Training>,
}

impl StaffMode {
    /// One dot per PIN digit typed.
    pub fn pin_dots(&self) -> String {
        "•".repeat(self.pin.chars().count())
    }

    fn may(&self, permission: Permission) -> bool {
        self.session.as_ref().is_some_and(|session| session.role.may(permission))
    }

    pub fn may_close_day(&self) -> bool {
        self.may(Permission::ZClose)
    }

    pub fn may_switch_training(&self) -> bool {
        self.may(Permission::Training)
    }

    /// What the signed-in member may do with an order now.
    pub fn order_actions(&self, order: &StoredOrder) -> OrderActions {
        match &self.session {
            Some(session) => OrderActions::of(order.status, order.counter_until.is_some(), session.role),
            None => OrderActions::default(),
        }
    }

    fn note(&mut self, note: StaffNote, detail: impl Into<String>) {
        self.note = (note, detail.into());
    }

    /// The engine's refusal as a note: a wrong PIN and a lock get their own words.
    fn refusal(&mut self, error: &EngineError) {
        match error {
            EngineError::WrongPin { tries_before_lock, .. } => {
                self.note(StaffNote::WrongPin, tries_before_lock.to_string())
            }
            EngineError::Locked { seconds, .. } => self.note(StaffNote::Locked, seconds.to_string()),
            other => self.note(StaffNote::Failed, other.to_string()),
        }
    }
}

impl Model {
    /// The sign-in screen; the accounts' names are read again (someone may have been added).
    pub fn open_sign_in(&mut self, now: Instant) -> Vec<Work> {
        self.staff = StaffMode::default();
        self.changed(Changes::STAFF);
        self.go(Screen::StaffLogin, now);
        vec![Work::Staff(StaffWork::Names)]
    }

    pub fn staff_names(&mut self, names: Result<Vec<StaffMember>, EngineError>) {
        match names {
            Ok(members) => self.staff.names = members.into_iter().map(|member| member.name).collect(),
            Err(error) => self.staff.refusal(&error),
        }
        self.changed(Changes::STAFF);
    }

    pub fn choose_name(&mut self, name: &str) {
        self.staff.chosen_name = name.to_owned();
        self.staff.note(StaffNote::None, "");
        self.changed(Changes::STAFF);
    }

    /// A key of the PIN pad ("⌫" takes the last digit off); a PIN has at most 8 digits.
    pub fn pin_key(&mut self, key: &str) {
        if key == "⌫" {
            self.staff.pin.pop();
        } else if self.staff.pin.chars().count() < 8 {
            self.staff.pin.push_str(key);
        }
        self.changed(Changes::STAFF);
    }

    pub fn sign_in(&mut self) -> Vec<Work> {
        let typed = std::mem::take(&mut self.staff.pin);
        self.changed(Changes::STAFF);
        match Pin::parse(&typed) {
            Ok(pin) => vec![Work::Staff(StaffWork::SignIn { name: self.staff.chosen_name.clone(), pin })],
            Err(_) => {
                self.staff.note(StaffNote::BadPin, "");
                Vec::new()
            }
        }
    }

    pub fn signed_in(&mut self, session: Result<Session, EngineError>, now: Instant) -> Vec<Work> {
        if self.screen != Screen::StaffLogin {
            return Vec::new();
        }
        match session {
            Ok(session) => self.open_staff(session, now),
            Err(error) => {
                self.staff.refusal(&error);
                self.changed(Changes::STAFF);
                Vec::new()
            }
        }
    }

    /// A code from the scanner, checked by the engine: a staff badge or a promo code.
    pub fn scan(&mut self, code: String) -> Vec<Work> {
        vec![Work::Staff(StaffWork::Scan { code })]
    }

    pub fn scanned_answer(&mut self, scanned: Result<Scanned, EngineError>, now: Instant) -> Vec<Work> {
        match scanned {
            // A badge opens staff mode only between customers, never over an order.
            Ok(Scanned::Staff(session))
                if matches!(
                    self.screen,
                    Screen::Attract | Screen::OutOfService | Screen::StaffLogin | Screen::Staff
                ) =>
            {
                self.touched(now);
                self.open_staff(session, now)
            }
            Ok(Scanned::Staff(session)) => {
                log::info!("badge of {} ignored during a customer's order", session.name);
                Vec::new()
            }
            Ok(Scanned::Promo(code)) => {
                self.touched(now);
                self.scanned_promo(code)
            }
            Ok(Scanned::Unknown) => {
                log::info!("a scan matched no badge and no promo code");
                Vec::new()
            }
            Err(error) => {
                log::warn!("a scan could not be checked: {error}");
                Vec::new()
            }
        }
    }

    fn open_staff(&mut self, session: Session, now: Instant) -> Vec<Work> {
        self.staff = StaffMode { session: Some(session), ..StaffMode::default() };
        self.go(Screen::Staff, now);
        self.show_tab(StaffTab::Stock)
    }

    /// A tab opens on fresh rows only: a tap on a row read earlier could act on a stale one.
    pub fn show_tab(&mut self, tab: StaffTab) -> Vec<Work> {
        if self.staff.session.is_none() {
            return Vec::new();
        }
        let staff = &mut self.staff;
        staff.tab = tab;
        staff.stock.clear();
        staff.orders.clear();
        staff.printers.clear();
        self.changed(Changes::STAFF);
        vec![Work::Staff(StaffWork::Read(tab)), Work::Staff(StaffWork::Alerts)]
    }

    pub fn tab_read(&mut self, rows: TabRows) {
        if self.staff.session.is_none() {
            return;
        }
        let staff = &mut self.staff;
        match rows {
            TabRows::Stock(Ok(stock)) => staff.stock = stock,
            TabRows::Orders(Ok(orders)) => staff.orders = orders,
            TabRows::Printers(printers) => staff.printers = printers,
            TabRows::Training(Ok(training)) => {
                // The customer screens follow at once, not at the next read of the shelf.
                if let Some(shelf) = &mut self.shelf {
                    shelf.training = training.is_some();
                }
                staff.training = training;
                self.changed(Changes::SESSION);
            }
            TabRows::Stock(Err(error)) | TabRows::Orders(Err(error)) | TabRows::Training(Err(error)) => {
                staff.refusal(&error)
            }
        }
        self.changed(Changes::STAFF);
    }

    pub fn alerts_read(&mut self, alerts: Result<Vec<Alert>, EngineError>) {
        match alerts {
            Ok(alerts) => self.staff.alerts = alerts,
            Err(error) => self.staff.refusal(&error),
        }
        self.changed(Changes::STAFF);
    }

    /// Runs an action as the signed-in member; the tab is read again once it is done.
    pub fn act(&mut self, action: StaffAction, now: Instant) -> Vec<Work> {
        let Some(session) = self.staff.session.clone() else { return self.reset(now) };
        let tab = match action {
            StaffAction::Restock { .. } | StaffAction::SoldOut { .. } => StaffTab::Stock,
            StaffAction::Settle { .. } => StaffTab::Counter,
            StaffAction::Refund { .. } | StaffAction::Reprint { .. } => StaffTab::Orders,
            StaffAction::XReport | StaffAction::ZClose | StaffAction::SetTraining(_) => StaffTab::Reports,
            StaffAction::TestPrint => StaffTab::Printers,
            StaffAction::ClearAlert { .. } => self.staff.tab,
        };
        let number = match action {
            StaffAction::Settle { order, .. } | StaffAction::Refund { order } | StaffAction::Reprint { order } => {
                self.order_number(order)
            }
            _ => String::new(),
        };
        self.staff.note(StaffNote::Working, "");
        self.changed(Changes::STAFF);
        let language = self.language.clone();
        vec![Work::Staff(StaffWork::Act { actor: Actor::Staff(session), tab, action, number, language })]
    }

    pub fn staff_acted(&mut self, tab: StaffTab, outcome: Result<StaffOutcome, EngineError>) -> Vec<Work> {
        if self.staff.session.is_none() {
            return Vec::new();
        }
        match outcome {
            Ok(StaffOutcome::Report(text)) => {
                self.staff.report = text;
                self.staff.note(StaffNote::None, "");
            }
            Ok(StaffOutcome::Note(note, detail)) => self.staff.note(note, detail),
            Err(error) => self.staff.refusal(&error),
        }
        self.changed(Changes::STAFF);
        self.show_tab(tab)
    }

    /// The order number staff see for an order id (the id when the row is gone).
    pub fn order_number(&self, order: i64) -> String {
        let row = self.staff.orders.iter().find(|row| row.id == order);
        row.map_or_else(|| order.to_string(), |row| row.number.clone())
    }

    /// Staff leave: back to the attract screen (or out of service).
    pub fn leave_staff(&mut self, now: Instant) -> Vec<Work> {
        self.reset(now)
    }
}
