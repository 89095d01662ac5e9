//! Staff mode's adapter: sign-in by name and PIN (or badge), then stock, counter orders,
//! refunds and reprints, X and Z reports, printers. Permissions are the engine's: a staff
//! member who may not do something gets the engine's refusal on screen.

use std::rc::Rc;

use kiosk_engine::devices::COLUMNS;
use kiosk_engine::kiosk_core::order::OrderActions;
use kiosk_engine::kiosk_core::refund::RefundScope;
use kiosk_engine::kiosk_core::staff::Permission;
use kiosk_engine::kiosk_core::staff::{Pin, Role};
use kiosk_engine::{
    Actor, CounterPayment, Engine, EngineError, PaymentOutcome, Scanned, Session as StaffSession, StockChange,
    StoredOrder, Training,
};
use slint::{ComponentHandle, SharedString};

use crate::customer::on;
use crate::format::price;
use crate::kiosk::Inner;
use crate::ui::{AlertRow, OrderRow, PrinterRow, Screen, StaffAdapter, StaffNote, StaffTab, StockRow};
use crate::view::model;

/// Orders listed for refunds and reprints.
const RECENT_ORDERS: u32 = 40;

pub fn connect(inner: &Rc<Inner>) {
    on!(inner, StaffAdapter, on_choose_name, |kiosk, name| {
        kiosk.ui.global::<StaffAdapter>().set_chosen_name(name);
        note(&kiosk, StaffNote::None, "");
    });
    on!(inner, StaffAdapter, on_pin_key, |kiosk, key| {
        let dots = {
            let mut state = kiosk.state.borrow_mut();
            if key == "⌫" {
                state.pin.pop();
            } else if state.pin.len() < 8 {
                state.pin.push_str(&key);
            }
            "•".repeat(state.pin.len())
        };
        kiosk.ui.global::<StaffAdapter>().set_pin_dots(dots.into());
    });
    on!(inner, StaffAdapter, on_sign_in, |kiosk| sign_in(&kiosk));
    on!(inner, StaffAdapter, on_leave, |kiosk| kiosk.reset());
    on!(inner, StaffAdapter, on_show, |kiosk, tab| {
        // A tab opens on fresh rows only: a tap on a row read earlier could act on a stale one.
        let adapter = kiosk.ui.global::<StaffAdapter>();
        adapter.set_stock(model(Vec::new()));
        adapter.set_counter_orders(model(Vec::new()));
        adapter.set_orders(model(Vec::new()));
        adapter.set_printers(model(Vec::new()));
        show_tab(&kiosk, tab);
    });
    on!(inner, StaffAdapter, on_restock, |kiosk, item, units| {
        change_stock(&kiosk, item.to_string(), StockChange { adjust: Some(units.into()), ..StockChange::default() });
    });
    on!(inner, StaffAdapter, on_sold_out, |kiosk, item, sold_out| {
        change_stock(&kiosk, item.to_string(), StockChange { sold_out: Some(sold_out), ..StockChange::default() });
    });
    on!(inner, StaffAdapter, on_settle, |kiosk, order, by_card| {
        let how = if by_card { CounterPayment::Card } else { CounterPayment::Cash };
        let number = order_number(&kiosk, order);
        act(&kiosk, StaffTab::Counter, move |engine, actor| async move {
            engine.settle_counter_order(&actor, i64::from(order), how).await?;
            Ok(Done::Note(StaffNote::Settled, number))
        });
    });
    on!(inner, StaffAdapter, on_refund, |kiosk, order| {
        let number = order_number(&kiosk, order);
        act(&kiosk, StaffTab::Orders, move |engine, actor| async move {
            let outcome = engine.refund(&actor, i64::from(order), &RefundScope::Whole, true).await?;
            Ok(match outcome {
                PaymentOutcome::Paid { .. } => Done::Note(StaffNote::Refunded, number),
                PaymentOutcome::NotCharged { reason } => Done::Note(StaffNote::RefundNotMade, reason.to_string()),
                PaymentOutcome::InDoubt => Done::Note(StaffNote::RefundInDoubt, number),
            })
        });
    });
    on!(inner, StaffAdapter, on_reprint, |kiosk, order| {
        act(&kiosk, StaffTab::Orders, move |engine, actor| async move {
            let round = engine.reprint(&actor, i64::from(order)).await?;
            Ok(match round.waiting.first() {
                None => Done::Note(StaffNote::Printed, String::new()),
                Some((_, why)) => Done::Note(StaffNote::PrintWaiting, why.clone()),
            })
        });
    });
    on!(inner, StaffAdapter, on_x_report, |kiosk| {
        let language = kiosk.language();
        act(&kiosk, StaffTab::Reports, move |engine, actor| async move {
            let report = engine.x_report(&actor).await?;
            Ok(Done::Report(report.to_document("X REPORT", &language).to_text(COLUMNS)))
        });
    });
    on!(inner, StaffAdapter, on_z_close, |kiosk| {
        let language = kiosk.language();
        act(&kiosk, StaffTab::Reports, move |engine, actor| async move {
            let z = engine.close_day(&actor).await?;
            if let Err(error) = engine.print_now(&z.to_document(&language)).await {
                log::warn!("the Z ticket was not printed: {error}");
            }
            Ok(Done::Report(z.to_text(&language)))
        });
    });
    on!(inner, StaffAdapter, on_clear_alert, |kiosk, id| {
        let tab = kiosk.ui.global::<StaffAdapter>().get_tab();
        act(&kiosk, tab, move |engine, actor| async move {
            engine.clear_alert(&actor, i64::from(id)).await?;
            Ok(Done::Note(StaffNote::None, String::new()))
        });
    });
    on!(inner, StaffAdapter, on_set_training, |kiosk, on| {
        act(&kiosk, StaffTab::Reports, move |engine, actor| async move {
            engine.set_training(&actor, on).await?;
            Ok(Done::Note(StaffNote::None, String::new()))
        });
    });
    on!(inner, StaffAdapter, on_test_print, |kiosk| {
        act(&kiosk, StaffTab::Printers, |engine, _| async move {
            engine.print_test_ticket().await?;
            Ok(Done::Note(StaffNote::Printed, String::new()))
        });
    });
}

/// What a staff action did.
enum Done {
    Note(StaffNote, String),
    /// A report's text, shown in the reports tab.
    Report(String),
}

/// An order's number as the staff screen lists it.
fn order_number(kiosk: &Rc<Inner>, id: i32) -> String {
    let adapter = kiosk.ui.global::<StaffAdapter>();
    let lists = [adapter.get_counter_orders(), adapter.get_orders()];
    lists
        .iter()
        .find_map(|rows| slint::Model::iter(rows).find(|row| row.id == id))
        .map_or_else(|| id.to_string(), |row| row.number.to_string())
}

/// Says how something went, in the staff member's language.
fn note(kiosk: &Rc<Inner>, note: StaffNote, detail: &str) {
    let adapter = kiosk.ui.global::<StaffAdapter>();
    adapter.set_note(note);
    adapter.set_note_detail(detail.into());
}

/// The engine's refusal as a note: a wrong PIN and a lock get their own words.
fn refusal(kiosk: &Rc<Inner>, error: &EngineError) {
    match error {
        EngineError::WrongPin { tries_before_lock, .. } => {
            note(kiosk, StaffNote::WrongPin, &tries_before_lock.to_string());
        }
        EngineError::Locked { seconds, .. } => note(kiosk, StaffNote::Locked, &seconds.to_string()),
        other => note(kiosk, StaffNote::Failed, &other.to_string()),
    }
}

/// The sign-in screen with the accounts' names.
pub fn open_sign_in(kiosk: &Rc<Inner>) {
    kiosk.state.borrow_mut().pin.clear();
    let adapter = kiosk.ui.global::<StaffAdapter>();
    adapter.set_pin_dots(SharedString::new());
    adapter.set_chosen_name(SharedString::new());
    // The list is read again: someone may have been added or removed since.
    adapter.set_names(model(Vec::new()));
    note(kiosk, StaffNote::None, "");
    kiosk.go(Screen::StaffLogin);
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.staff().await }, |kiosk, staff| match staff {
        Ok(staff) => {
            let names = staff.into_iter().map(|member| SharedString::from(member.name)).collect();
            kiosk.ui.global::<StaffAdapter>().set_names(model(names));
        }
        Err(error) => refusal(kiosk, &error),
    });
}

fn sign_in(kiosk: &Rc<Inner>) {
    let name = kiosk.ui.global::<StaffAdapter>().get_chosen_name().to_string();
    let pin = std::mem::take(&mut kiosk.state.borrow_mut().pin);
    kiosk.ui.global::<StaffAdapter>().set_pin_dots(SharedString::new());
    let pin = match Pin::parse(&pin) {
        Ok(pin) => pin,
        Err(_) => {
            note(kiosk, StaffNote::BadPin, "");
            return;
        }
    };
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.sign_in(&name, &pin).await }, |kiosk, session| match session {
        Ok(session) => open_staff(kiosk, session),
        Err(error) => refusal(kiosk, &error),
    });
}

/// A badge or a promo code from the scanner.
pub fn scanned(kiosk: &Rc<Inner>, code: String) {
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.scanned(&code).await }, |kiosk, scanned| match scanned {
        // A badge opens staff mode only between customers, never over an order.
        Ok(Scanned::Staff(session))
            if matches!(kiosk.screen(), Screen::Attract | Screen::StaffLogin | Screen::Staff) =>
        {
            kiosk.touched();
            open_staff(kiosk, session);
        }
        Ok(Scanned::Staff(session)) => log::info!("badge of {} ignored during a customer's order", session.name),
        Ok(Scanned::Promo(code)) => {
            kiosk.touched();
            crate::customer::scanned_promo(kiosk, &code);
        }
        Ok(Scanned::Unknown) => log::info!("a scan matched no badge and no promo code"),
        Err(error) => log::warn!("a scan could not be checked: {error}"),
    });
}

fn open_staff(kiosk: &Rc<Inner>, session: StaffSession) {
    let adapter = kiosk.ui.global::<StaffAdapter>();
    adapter.set_signed_in(session.name.as_str().into());
    adapter.set_may_close_day(session.role.may(Permission::ZClose));
    adapter.set_may_switch_training(session.role.may(Permission::Training));
    adapter.set_report(SharedString::new());
    note(kiosk, StaffNote::None, "");
    kiosk.state.borrow_mut().staff = Some(session);
    kiosk.go(Screen::Staff);
    show_tab(kiosk, StaffTab::Stock);
}

fn actor(kiosk: &Rc<Inner>) -> Option<Actor> {
    kiosk.state.borrow().staff.clone().map(Actor::Staff)
}

/// Shows a tab with fresh data, under the open alerts.
fn show_tab(kiosk: &Rc<Inner>, tab: StaffTab) {
    let adapter = kiosk.ui.global::<StaffAdapter>();
    adapter.set_tab(tab);
    show_alerts(kiosk);
    let engine = kiosk.engine.clone();
    let language = kiosk.language();
    let Some(role) = kiosk.state.borrow().staff.as_ref().map(|session| session.role) else { return };
    match tab {
        StaffTab::Stock => kiosk.spawn(async move { engine.stock().await }, |kiosk, stock| match stock {
            Ok(stock) => {
                let rows = stock
                    .into_iter()
                    .map(|entry| StockRow {
                        id: entry.item.as_str().into(),
                        name: entry.name.into(),
                        available: i32::try_from(entry.level.available()).unwrap_or(i32::MAX),
                        low: entry.level.available() <= entry.level.low_threshold,
                        sold_out: entry.level.sold_out,
                    })
                    .collect();
                kiosk.ui.global::<StaffAdapter>().set_stock(model(rows));
            }
            Err(error) => refusal(kiosk, &error),
        }),
        StaffTab::Counter | StaffTab::Orders => {
            kiosk.spawn(async move { engine.latest_orders(RECENT_ORDERS).await }, move |kiosk, orders| match orders {
                Ok(orders) => {
                    let (counter, all): (Vec<_>, Vec<_>) =
                        orders.iter().map(|order| order_row(order, role, &language)).partition(|row| row.can_settle);
                    let adapter = kiosk.ui.global::<StaffAdapter>();
                    adapter.set_counter_orders(model(counter));
                    adapter.set_orders(model(all));
                }
                Err(error) => refusal(kiosk, &error),
            })
        }
        StaffTab::Printers => kiosk.spawn(async move { engine.printer_states().await }, |kiosk, states| {
            let rows = states
                .into_iter()
                .map(|(name, state)| PrinterRow {
                    name: name.into(),
                    state: state.code().into(),
                    detail: match &state {
                        kiosk_engine::PrinterState::Unreachable(why) => why.into(),
                        _ => SharedString::new(),
                    },
                    ok: state.takes_jobs(),
                })
                .collect();
            kiosk.ui.global::<StaffAdapter>().set_printers(model(rows));
        }),
        StaffTab::Reports => kiosk.spawn(async move { engine.training().await }, |kiosk, training| match training {
            Ok(training) => {
                let adapter = kiosk.ui.global::<StaffAdapter>();
                adapter.set_training(training.is_some());
                adapter.set_training_fixed(training == Some(Training::Simulator));
                // The customer screens follow at once, not at the next refresh.
                kiosk.ui.global::<crate::ui::Session>().set_training(training.is_some());
            }
            Err(error) => refusal(kiosk, &error),
        }),
    }
}

/// The alerts staff must see to, on every tab.
fn show_alerts(kiosk: &Rc<Inner>) {
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.alerts().await }, |kiosk, alerts| match alerts {
        Ok(alerts) => {
            let rows = alerts
                .into_iter()
                .map(|alert| AlertRow {
                    id: i32::try_from(alert.id).unwrap_or(i32::MAX),
                    kind: alert.kind.code().into(),
                    message: alert.message.into(),
                    can_clear: alert.kind.staff_may_clear(),
                })
                .collect();
            kiosk.ui.global::<StaffAdapter>().set_alerts(model(rows));
        }
        Err(error) => refusal(kiosk, &error),
    });
}

fn order_row(order: &StoredOrder, role: Role, language: &str) -> OrderRow {
    let may = OrderActions::of(order.status, order.counter_until.is_some(), role);
    OrderRow {
        id: i32::try_from(order.id).unwrap_or(i32::MAX),
        number: order.number.as_str().into(),
        time: order.created_at.format("%H:%M").to_string().into(),
        total: price(order.total, order.currency, language).into(),
        status: order.status.code().into(),
        can_settle: may.settle,
        can_refund: may.refund,
        can_reprint: may.reprint,
    }
}

/// Runs a staff action as the signed-in member, says how it went, and refreshes the tab.
fn act<F, Fut>(kiosk: &Rc<Inner>, tab: StaffTab, action: F)
where
    F: FnOnce(std::sync::Arc<Engine>, Actor) -> Fut,
    Fut: std::future::Future<Output = Result<Done, EngineError>> + Send + 'static,
{
    let Some(actor) = actor(kiosk) else { return kiosk.reset() };
    note(kiosk, StaffNote::Working, "");
    let work = action(kiosk.engine.clone(), actor);
    kiosk.spawn(work, move |kiosk, done| {
        match done {
            Ok(Done::Report(text)) => {
                kiosk.ui.global::<StaffAdapter>().set_report(text.into());
                note(kiosk, StaffNote::None, "");
            }
            Ok(Done::Note(said, detail)) => note(kiosk, said, &detail),
            Err(error) => refusal(kiosk, &error),
        }
        show_tab(kiosk, tab);
    });
}

fn change_stock(kiosk: &Rc<Inner>, item: String, change: StockChange) {
    act(kiosk, StaffTab::Stock, move |engine, actor| async move {
        let entry = engine.change_stock(&actor, &item, &change).await?;
        Ok(Done::Note(StaffNote::StockChanged, format!("{} · {}", entry.name, entry.level.available())))
    });
}
