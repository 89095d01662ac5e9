//! The customer's adapters: session, menu, product sheet, upsell, cart, payment and the
//! order number. Each callback changes the session, then asks the engine off the UI thread.

use std::rc::Rc;
use std::time::{Duration, Instant};

use kiosk_engine::kiosk_core::cart::{Cart, CartLine};
use kiosk_engine::kiosk_core::config::ReceiptPrinting;
use kiosk_engine::kiosk_core::menu::{Menu, Product};
use kiosk_engine::kiosk_core::order::OrderStatus;
use kiosk_engine::kiosk_core::payment::{NotCharged, Standing};
use kiosk_engine::kiosk_core::pricing::{LineProblem, PromoProblem, QuoteError};
use kiosk_engine::kiosk_core::receipt::Block;
use kiosk_engine::{Actor, EngineError, OrderDetails, PaymentOutcome, PlacedOrder};
use slint::{ComponentHandle, SharedString};

use crate::builder::{Missing, ProductBuilder};
use crate::format::{price, supplement};
use crate::kiosk::Inner;
use crate::ui::{
    CartAdapter, DoneAdapter, GroupRow, MenuAdapter, Notice, OptionRow, PayPhase, PaymentAdapter, ProductAdapter,
    Screen, Session, UpsellAdapter,
};
use crate::view::{self, model};

/// Five taps on the attract screen's corner within this time open staff sign-in.
const STAFF_TAPS: usize = 5;
const STAFF_TAP_WINDOW: Duration = Duration::from_secs(4);
/// How many times the terminal is asked again while the customer waits on a payment in doubt.
const IN_DOUBT_TRIES: u32 = 10;

/// Wires a callback to the kiosk without keeping it alive; every call counts as a touch.
macro_rules! on {
    ($inner:expr, $adapter:ty, $callback:ident, |$kiosk:ident $(, $arg:ident)*| $body:expr) => {{
        let weak = std::rc::Rc::downgrade($inner);
        $inner.ui.global::<$adapter>().$callback(move |$($arg),*| {
            if let Some($kiosk) = weak.upgrade() {
                $kiosk.touched();
                $body
            }
        });
    }};
}
pub(crate) use on;

pub fn connect(inner: &Rc<Inner>) {
    on!(inner, Session, on_start, |kiosk, language| {
        kiosk.set_language(&language);
        if kiosk.ui.global::<Session>().get_cinema() {
            kiosk.start_order(true);
        } else {
            kiosk.go(Screen::OrderMode);
        }
    });
    on!(inner, Session, on_choose_language, |kiosk, language| kiosk.set_language(&language));
    on!(inner, Session, on_choose_mode, |kiosk, take_away| {
        kiosk.start_order(take_away);
        requote(&kiosk, Requote::Quiet);
    });
    on!(inner, Session, on_still_here, |_kiosk| {});
    on!(inner, Session, on_abandon, |kiosk| kiosk.reset());
    on!(inner, Session, on_dismiss_notice, |kiosk| kiosk.notify(Notice::None, ""));
    on!(inner, Session, on_scanned, |kiosk, code| crate::staff::scanned(&kiosk, code.to_string()));
    on!(inner, Session, on_staff_corner, |kiosk| {
        let open = {
            let mut state = kiosk.state.borrow_mut();
            let now = Instant::now();
            state.corner_taps.retain(|tap| now.duration_since(*tap) < STAFF_TAP_WINDOW);
            state.corner_taps.push(now);
            state.corner_taps.len() >= STAFF_TAPS
        };
        if open {
            kiosk.state.borrow_mut().corner_taps.clear();
            crate::staff::open_sign_in(&kiosk);
        }
    });

    on!(inner, MenuAdapter, on_choose_category, |kiosk, index| {
        kiosk.state.borrow_mut().category = usize::try_from(index).unwrap_or(0);
        kiosk.show_shelf();
    });
    on!(inner, MenuAdapter, on_open_product, |kiosk, id| open_product(&kiosk, &id, false));
    on!(inner, MenuAdapter, on_view_cart, |kiosk| kiosk.go(Screen::Cart));

    on!(inner, ProductAdapter, on_toggle_option, |kiosk, group, option| {
        edit_builder(&kiosk, |builder, menu| builder.toggle(menu, &group, &option));
    });
    on!(inner, ProductAdapter, on_choose_slot_item, |kiosk, item| {
        edit_builder(&kiosk, |builder, menu| builder.choose_slot_item(menu, &item));
    });
    on!(inner, ProductAdapter, on_change_quantity, |kiosk, quantity| {
        edit_builder(&kiosk, |builder, _| builder.set_quantity(u32::try_from(quantity).unwrap_or(1)));
    });
    on!(inner, ProductAdapter, on_next_step, |kiosk| {
        edit_builder(&kiosk, |builder, menu| {
            builder.next_step(menu);
        });
    });
    on!(inner, ProductAdapter, on_previous_step, |kiosk| edit_builder(&kiosk, |builder, _| builder.previous_step()));
    on!(inner, ProductAdapter, on_add, |kiosk| add_to_cart(&kiosk));
    on!(inner, ProductAdapter, on_close, |kiosk| {
        kiosk.state.borrow_mut().builder = None;
        kiosk.go(Screen::Menu);
    });

    on!(inner, UpsellAdapter, on_take, |kiosk, id| open_product(&kiosk, &id, true));
    on!(inner, UpsellAdapter, on_decline, |kiosk| {
        kiosk.state.borrow_mut().replaces = None;
        kiosk.go(Screen::Menu);
    });

    on!(inner, CartAdapter, on_change_quantity, |kiosk, index, quantity| {
        change_cart(&kiosk, |cart| {
            if let (Some(line), Ok(quantity)) = (cart.lines.get_mut(index as usize), u32::try_from(quantity)) {
                line.quantity = quantity.max(1);
            }
        });
    });
    on!(inner, CartAdapter, on_remove, |kiosk, index| {
        change_cart(&kiosk, |cart| {
            if let Ok(index) = usize::try_from(index)
                && index < cart.lines.len()
            {
                cart.lines.remove(index);
            }
        });
    });
    on!(inner, CartAdapter, on_promo_key, |kiosk, key| {
        let cart = kiosk.ui.global::<CartAdapter>();
        let mut entry = cart.get_promo_entry().to_string();
        if key == "⌫" {
            entry.pop();
        } else if entry.chars().count() < 20 {
            entry.push_str(&key);
        }
        cart.set_promo_entry(entry.into());
    });
    on!(inner, CartAdapter, on_apply_promo, |kiosk| {
        let code = kiosk.ui.global::<CartAdapter>().get_promo_entry().trim().to_uppercase();
        apply_promo(&kiosk, &code);
    });
    on!(inner, CartAdapter, on_remove_promo, |kiosk| change_cart(&kiosk, |cart| cart.promo = None));
    on!(inner, CartAdapter, on_pay_card, |kiosk| pay_by_card(&kiosk));
    on!(inner, CartAdapter, on_pay_counter, |kiosk| pay_at_counter(&kiosk));
    on!(inner, CartAdapter, on_keep_ordering, |kiosk| kiosk.go(Screen::Menu));

    on!(inner, PaymentAdapter, on_cancel, |kiosk| cancel_payment(&kiosk));
    on!(inner, PaymentAdapter, on_retry, |kiosk| {
        let order = kiosk.state.borrow().order.clone();
        if let Some(order) = order {
            pay(&kiosk, order);
        }
    });
    on!(inner, PaymentAdapter, on_pay_counter, |kiosk| give_up_card_order(&kiosk, place_counter_order));
    on!(inner, PaymentAdapter, on_give_up, |kiosk| {
        if kiosk.ui.global::<PaymentAdapter>().get_phase() == PayPhase::InDoubt {
            kiosk.reset();
            return;
        }
        give_up_card_order(&kiosk, |kiosk| {
            kiosk.ui.global::<Session>().set_busy(false);
            kiosk.go(Screen::Cart);
        });
    });

    on!(inner, DoneAdapter, on_print, |kiosk| print_receipt(&kiosk));
    on!(inner, DoneAdapter, on_finish, |kiosk| kiosk.reset());
}

fn open_product(kiosk: &Rc<Inner>, id: &str, from_upsell: bool) {
    {
        let mut state = kiosk.state.borrow_mut();
        let Some(shelf) = &state.shelf else { return };
        let menu = &shelf.menu.menu;
        let Some(mut builder) = ProductBuilder::new(menu, id) else { return };
        // "Make it a meal": the item just added goes into the combo's slot that takes it, and
        // the combo will take its place in the cart. Anything else is added beside it.
        let replaced = state.replaces.as_ref().filter(|_| from_upsell);
        let makes_a_meal = replaced.is_some_and(|line| builder.prefill(menu, &line.product, &line.modifiers));
        if !makes_a_meal {
            state.replaces = None;
        }
        state.builder = Some(builder);
        state.builder_generation += 1;
        state.from_upsell = from_upsell;
    }
    show_product(kiosk);
    kiosk.go(Screen::Product);
}

fn edit_builder(kiosk: &Rc<Inner>, edit: impl FnOnce(&mut ProductBuilder, &Menu)) {
    {
        let mut state = kiosk.state.borrow_mut();
        let state = &mut *state;
        let (Some(shelf), Some(builder)) = (&state.shelf, &mut state.builder) else { return };
        edit(builder, &shelf.menu.menu);
        state.builder_generation += 1;
    }
    show_product(kiosk);
}

/// Fills the product sheet from the builder; the line's price comes from an engine quote.
pub fn show_product(kiosk: &Rc<Inner>) {
    let state = kiosk.state.borrow();
    let (Some(shelf), Some(builder)) = (&state.shelf, &state.builder) else { return };
    let menu = &shelf.menu.menu;
    let language = state.language.as_str();
    let Some(product) = menu.product(builder.product()) else { return };
    let info = product.info();
    let currency = menu.venue.currency;
    let adapter = kiosk.ui.global::<ProductAdapter>();
    adapter.set_name(info.name.get(language).into());
    adapter.set_description(info.description.get(language).into());
    adapter.set_image(state.images.get(&info.image).cloned().unwrap_or_default());
    let badges = match product {
        Product::Item(item) => item.tags.iter().chain(&item.allergens).map(SharedString::from).collect(),
        Product::Combo(_) => Vec::new(),
    };
    adapter.set_badges(model(badges));
    adapter.set_price(price(info.price, currency, language).into());
    let (step, steps) = builder.step();
    adapter.set_combo(steps > 0);
    adapter.set_step(i32::try_from(step).unwrap_or(0));
    adapter.set_steps(i32::try_from(steps).unwrap_or(0));
    if let (Product::Combo(combo), Some((slot_id, chosen))) = (product, builder.current_slot()) {
        let slot = combo.slots.iter().find(|slot| slot.id.as_str() == slot_id);
        adapter.set_step_name(slot.map_or("", |slot| slot.name.get(language)).into());
        let choices = slot.map_or_else(Vec::new, |slot| {
            slot.choices
                .iter()
                .filter_map(|choice| {
                    let item = menu.item(choice.item.as_str())?;
                    let mut card = view::card(shelf, Product::Item(item), language, &state.images);
                    card.price = supplement(choice.supplement, currency, language).into();
                    Some(card)
                })
                .collect()
        });
        adapter.set_slot_choices(model(choices));
        adapter.set_slot_item(chosen.unwrap_or("").into());
    }
    let groups = builder
        .groups(menu)
        .into_iter()
        .map(|group| GroupRow {
            id: group.id.as_str().into(),
            name: group.name.get(language).into(),
            min: i32::try_from(group.min).unwrap_or(0),
            max: i32::try_from(group.max).unwrap_or(i32::MAX),
            options: model(
                group
                    .options
                    .iter()
                    .map(|option| OptionRow {
                        id: option.id.as_str().into(),
                        name: option.name.get(language).into(),
                        price: supplement(option.price, currency, language).into(),
                        selected: builder.is_selected(group.id.as_str(), option.id.as_str()),
                        available: !shelf.is_option_sold_out(option),
                    })
                    .collect(),
            ),
        })
        .collect();
    adapter.set_groups(model(groups));
    adapter.set_quantity(i32::try_from(builder.quantity()).unwrap_or(1));
    adapter
        .set_missing(builder.missing_now(menu).map_or("", |missing: Missing<'_>| missing.name().get(language)).into());
    // The line's price is the engine's quote of it, once the line is complete.
    adapter.set_total(SharedString::new());
    let Some(line) = builder.line(menu) else { return };
    let cart = Cart::new(state.cart.mode, vec![line]);
    let generation = state.builder_generation;
    drop(state);
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.quote(&cart).await }, move |kiosk, quote| {
        let state = kiosk.state.borrow();
        if state.builder_generation != generation {
            return;
        }
        match quote {
            Ok(quote) => {
                let text = price(quote.total, quote.currency, &state.language);
                kiosk.ui.global::<ProductAdapter>().set_total(text.into());
            }
            Err(error) => log::warn!("the item sheet's line cannot be quoted: {error}"),
        }
    });
}

/// Puts the sheet's line in the cart (or raises the quantity of the same line), then offers
/// the product's suggestions.
fn add_to_cart(kiosk: &Rc<Inner>) {
    let (line, upsell) = {
        let state = kiosk.state.borrow();
        let (Some(shelf), Some(builder)) = (&state.shelf, &state.builder) else { return };
        let menu = &shelf.menu.menu;
        let Some(line) = builder.line(menu) else { return };
        let upsell: Vec<String> = if state.from_upsell {
            Vec::new()
        } else {
            let info = menu.product(builder.product()).map(|p| p.info().upsell.clone()).unwrap_or_default();
            info.iter()
                .map(|id| id.as_str().to_owned())
                .filter(|id| !state.cart.lines.iter().any(|line| &line.product == id))
                .filter(|id| shelf.on_sale().any(|p| p.info().id.as_str() == id))
                .collect()
        };
        (line, upsell)
    };
    let name = kiosk.ui.global::<ProductAdapter>().get_name();
    let replaces = kiosk.state.borrow_mut().replaces.take();
    let added = line.clone();
    change_cart(kiosk, |cart| {
        // The meal takes the place of as many of the items it was made from.
        if let Some(index) = replaces.and_then(|made_from| cart.lines.iter().position(|l| same_choice(l, &made_from))) {
            if cart.lines[index].quantity > line.quantity {
                cart.lines[index].quantity -= line.quantity;
            } else {
                cart.lines.remove(index);
            }
        }
        add_line(cart, line);
    });
    kiosk.state.borrow_mut().builder = None;
    kiosk.notify(Notice::Added, &name);
    if upsell.is_empty() {
        kiosk.go(Screen::Menu);
        return;
    }
    kiosk.state.borrow_mut().replaces = Some(added);
    show_upsell(kiosk, &upsell);
    kiosk.go(Screen::Upsell);
}

/// Whether two lines are the same product with the same choices (quantities aside).
fn same_choice(one: &CartLine, other: &CartLine) -> bool {
    one.product == other.product && one.modifiers == other.modifiers && one.choices == other.choices
}

/// Adds a line, merging it with an identical one.
fn add_line(cart: &mut Cart, line: CartLine) {
    match cart.lines.iter_mut().find(|other| same_choice(other, &line)) {
        Some(same) => same.quantity += line.quantity,
        None => cart.lines.push(line),
    }
}

fn show_upsell(kiosk: &Rc<Inner>, products: &[String]) {
    let state = kiosk.state.borrow();
    let Some(shelf) = &state.shelf else { return };
    let menu = &shelf.menu.menu;
    let cards: Vec<_> = products
        .iter()
        .filter_map(|id| menu.product(id))
        .map(|product| view::card(shelf, product, &state.language, &state.images))
        .collect();
    let adapter = kiosk.ui.global::<UpsellAdapter>();
    adapter.set_meal(products.iter().any(|id| menu.combo(id).is_some()));
    adapter.set_cards(model(cards));
}

/// Changes the cart and quotes it; a change the engine refuses is undone and explained.
fn change_cart<T>(kiosk: &Rc<Inner>, change: impl FnOnce(&mut Cart) -> T) -> T {
    let (before, result) = {
        let mut state = kiosk.state.borrow_mut();
        let before = state.cart.clone();
        let result = change(&mut state.cart);
        (before, result)
    };
    requote(kiosk, Requote::Undo(before));
    result
}

fn apply_promo(kiosk: &Rc<Inner>, code: &str) {
    if code.is_empty() {
        return;
    }
    change_cart(kiosk, |cart| cart.promo = Some(code.to_owned()));
    kiosk.ui.global::<CartAdapter>().set_promo_entry(SharedString::new());
}

/// A promo code read by the scanner while the customer orders.
pub fn scanned_promo(kiosk: &Rc<Inner>, code: &str) {
    if matches!(kiosk.screen(), Screen::Menu | Screen::Cart | Screen::Product | Screen::Upsell) {
        apply_promo(kiosk, code);
    }
}

/// Why the cart is quoted again, which decides what a refusal or a new total does.
pub enum Requote {
    /// The customer changed the cart: a refusal puts this cart back and says why.
    Undo(Cart),
    /// The menu, a price or the stock changed: a line or code the engine refuses is taken
    /// out, and a new total is announced.
    Refresh,
    /// A follow-up after something was taken out and announced already.
    Quiet,
}

/// Quotes the cart and shows the quote; see [`Requote`] for what happens when it is refused.
pub fn requote(kiosk: &Rc<Inner>, why: Requote) {
    let (cart, generation, why) = {
        let mut state = kiosk.state.borrow_mut();
        state.cart_generation += 1;
        // A customer's change still waiting for its quote stays undoable whatever comes next.
        let why = match (why, &state.undo) {
            (Requote::Undo(before), _) => Requote::Undo(before),
            (_, Some(before)) => Requote::Undo(before.clone()),
            (why, None) => why,
        };
        if let Requote::Undo(before) = &why {
            state.undo = Some(before.clone());
        }
        (state.cart.clone(), state.cart_generation, why)
    };
    let cart_adapter = kiosk.ui.global::<CartAdapter>();
    if cart.lines.is_empty() {
        let mut state = kiosk.state.borrow_mut();
        state.quote = None;
        state.undo = None;
        drop(state);
        cart_adapter.set_quoting(false);
        show_cart(kiosk);
        if kiosk.screen() == Screen::Cart {
            kiosk.go(Screen::Menu);
        }
        return;
    }
    cart_adapter.set_quoting(true);
    let engine = kiosk.engine.clone();
    let before_total = kiosk.state.borrow().quote.as_ref().map(|quote| quote.total);
    kiosk.spawn(async move { engine.quote(&cart).await }, move |kiosk, quote| {
        if kiosk.state.borrow().cart_generation != generation {
            return;
        }
        kiosk.state.borrow_mut().undo = None;
        kiosk.ui.global::<CartAdapter>().set_quoting(false);
        match (quote, why) {
            (Ok(quote), why) => {
                let applied = quote.discount.as_ref().map(|discount| discount.code.clone());
                match (&why, &applied) {
                    (Requote::Refresh, _) if before_total.is_some_and(|total| total != quote.total) => {
                        let text = price(quote.total, quote.currency, &kiosk.language());
                        kiosk.notify(Notice::PricesChanged, &text);
                    }
                    (Requote::Undo(before), Some(code)) if before.promo.is_none() => {
                        kiosk.notify(Notice::PromoApplied, code);
                    }
                    _ => {}
                }
                kiosk.ui.global::<CartAdapter>().set_promo_applied(applied.unwrap_or_default().into());
                kiosk.state.borrow_mut().quote = Some(quote);
                show_cart(kiosk);
            }
            (Err(error), why) => {
                let (notice, detail, line) = explain(&error, kiosk);
                kiosk.notify(notice, &detail);
                let promo_refused = matches!(error, EngineError::Quote(QuoteError::Promo { .. }));
                match (why, line) {
                    (Requote::Undo(before), _) => {
                        kiosk.state.borrow_mut().cart = before;
                        requote(kiosk, Requote::Quiet);
                    }
                    (_, Some(line)) => {
                        kiosk.state.borrow_mut().cart.lines.remove(line);
                        requote(kiosk, Requote::Quiet);
                    }
                    (_, None) if promo_refused => {
                        kiosk.state.borrow_mut().cart.promo = None;
                        requote(kiosk, Requote::Quiet);
                    }
                    // Nothing to take out: the cart and its last quote stay, the notice says
                    // to try again.
                    (_, None) => {}
                }
            }
        }
    });
}

/// After a new menu or a stock change: quote the cart again, taking out what cannot be sold.
pub fn requote_after_change(kiosk: &Rc<Inner>) {
    let idle = kiosk.state.borrow().cart.lines.is_empty();
    if !idle && !matches!(kiosk.screen(), Screen::Payment | Screen::Done) {
        requote(kiosk, Requote::Refresh);
    }
}

pub fn show_cart(kiosk: &Rc<Inner>) {
    let state = kiosk.state.borrow();
    let menu = state.shelf.as_ref().map(|shelf| &shelf.menu.menu);
    view::show_quote(&kiosk.ui, state.quote.as_ref(), menu, &state.language);
}

/// The notice for a refused cart, and the cart line (0-based) to take out if one is named.
fn explain(error: &EngineError, kiosk: &Rc<Inner>) -> (Notice, String, Option<usize>) {
    let state = kiosk.state.borrow();
    let language = state.language.as_str();
    let name = |id: &str| -> String {
        state
            .shelf
            .as_ref()
            .and_then(|shelf| shelf.menu.menu.product(id))
            .map_or_else(|| id.to_owned(), |product| product.info().name.get(language).to_owned())
    };
    let currency = state.shelf.as_ref().map(|shelf| shelf.menu.menu.venue.currency);
    match error {
        EngineError::Quote(QuoteError::Promo { code, problem }) => {
            let (notice, detail) = match problem {
                PromoProblem::Unknown => (Notice::PromoUnknown, code.clone()),
                PromoProblem::NotYet(date) => (Notice::PromoNotYet, date.to_string()),
                PromoProblem::Expired(date) => (Notice::PromoExpired, date.to_string()),
                PromoProblem::UsedUp => (Notice::PromoUsedUp, String::new()),
                PromoProblem::BasketTooSmall(minimum) => {
                    (Notice::PromoBasketTooSmall, currency.map_or_else(String::new, |c| price(*minimum, c, language)))
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
        EngineError::Stock(shortage) => {
            let item = match shortage {
                kiosk_engine::kiosk_core::stock::Shortage::SoldOut(item)
                | kiosk_engine::kiosk_core::stock::Shortage::NotEnough { item, .. } => item,
            };
            let index = state.cart.lines.iter().position(|line| line.product == item.as_str());
            (Notice::LineSoldOut, name(item.as_str()), index)
        }
        other => {
            log::error!("the cart could not be quoted: {other}");
            (Notice::SomethingWentWrong, String::new(), None)
        }
    }
}

/// Whether the payment screen waits on the engine or the terminal (no inactivity reset
/// meanwhile).
pub fn payment_running(kiosk: &Rc<Inner>) -> bool {
    match kiosk.ui.global::<PaymentAdapter>().get_phase() {
        PayPhase::Starting | PayPhase::Waiting | PayPhase::Cancelling | PayPhase::Working => true,
        PayPhase::InDoubt => kiosk.state.borrow().following_payment,
        _ => false,
    }
}

/// Whether a result that comes back now still belongs to the customer at the screen.
fn same_session(kiosk: &Rc<Inner>, session: u64) -> bool {
    kiosk.state.borrow().session == session && kiosk.screen() == Screen::Payment
}

fn pay_by_card(kiosk: &Rc<Inner>) {
    let session = kiosk.ui.global::<Session>();
    if session.get_busy() {
        return;
    }
    session.set_busy(true);
    let (cart, session) = {
        let state = kiosk.state.borrow();
        (state.cart.clone(), state.session)
    };
    let payment = kiosk.ui.global::<PaymentAdapter>();
    payment.set_phase(PayPhase::Starting);
    payment.set_amount(kiosk.ui.global::<CartAdapter>().get_total());
    payment.set_number(SharedString::new());
    kiosk.go(Screen::Payment);
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.place_order(&cart).await }, move |kiosk, placed| match placed {
        Ok(order) if same_session(kiosk, session) => {
            kiosk.state.borrow_mut().order = Some(order.clone());
            pay(kiosk, order);
        }
        // The session ended meanwhile (staff mode, a reset): nobody is there to pay.
        Ok(order) => void_unpaid(kiosk, order.id),
        Err(error) if same_session(kiosk, session) => order_refused(kiosk, &error),
        Err(error) => log::warn!("an order for a session that ended was refused: {error}"),
    });
}

/// The cart could not become an order (sold out meanwhile, say): back to the cart, told why.
fn order_refused(kiosk: &Rc<Inner>, error: &EngineError) {
    let (notice, detail, _) = explain(error, kiosk);
    kiosk.ui.global::<Session>().set_busy(false);
    kiosk.notify(notice, &detail);
    kiosk.go(Screen::Cart);
    requote(kiosk, Requote::Refresh);
}

fn pay(kiosk: &Rc<Inner>, order: PlacedOrder) {
    let payment = kiosk.ui.global::<PaymentAdapter>();
    payment.set_phase(PayPhase::Waiting);
    payment.set_number(order.number.as_str().into());
    payment.set_amount(price(order.quote.total, order.quote.currency, &kiosk.language()).into());
    let engine = kiosk.engine.clone();
    let order_id = order.id;
    kiosk.spawn(async move { engine.pay(order_id).await }, move |kiosk, outcome| {
        let payment = kiosk.ui.global::<PaymentAdapter>();
        let on_screen = kiosk.screen() == Screen::Payment
            && kiosk.state.borrow().order.as_ref().is_some_and(|current| current.id == order.id);
        if !on_screen {
            // Paid or not, this order's session is over; the engine has recorded how it ended.
            log::info!("payment of order {} ended after its session: {outcome:?}", order.number);
            return;
        }
        match outcome {
            Ok(PaymentOutcome::Paid { .. }) => show_done(kiosk, &order, false),
            Ok(PaymentOutcome::NotCharged { reason }) => {
                let phase = match &reason {
                    NotCharged::Declined(why) => {
                        payment.set_reason(why.as_str().into());
                        PayPhase::Declined
                    }
                    NotCharged::TimedOut => PayPhase::TimedOut,
                    NotCharged::Cancelled => PayPhase::Cancelled,
                    NotCharged::NeverReceived => PayPhase::Failed,
                    // The terminal refused the request itself: the customer is told it did not
                    // work; the reason is for staff and the logs.
                    NotCharged::Rejected(why) => {
                        log::warn!("the terminal refused the payment of order {}: {why}", order.number);
                        PayPhase::Failed
                    }
                };
                payment.set_phase(phase);
            }
            // Nothing was held or asked: the cart changed under the customer.
            Err(error @ (EngineError::Stock(_) | EngineError::Quote(_))) => {
                kiosk.state.borrow_mut().order = None;
                void_unpaid(kiosk, order.id);
                order_refused(kiosk, &error);
            }
            // Anything else may have happened after the terminal was asked: never say "not
            // charged" before the engine knows.
            Ok(PaymentOutcome::InDoubt) | Err(_) => {
                if let Err(error) = outcome {
                    log::error!("payment of order {} failed: {error}", order.number);
                }
                payment.set_phase(PayPhase::InDoubt);
                follow_in_doubt(kiosk, order, IN_DOUBT_TRIES);
            }
        }
    });
}

/// While the customer looks at a payment in doubt, the terminal is asked again now and then:
/// an approval shows the order number, a payment found never made lets them pay again.
fn follow_in_doubt(kiosk: &Rc<Inner>, order: PlacedOrder, tries_left: u32) {
    let engine = kiosk.engine.clone();
    let wait = kiosk.options.in_doubt_retry;
    let number = order.number.clone();
    kiosk.state.borrow_mut().following_payment = true;
    kiosk.spawn(
        async move {
            tokio::time::sleep(wait).await;
            engine.resolve_unresolved_payments().await?;
            engine.order_by_number(&number).await
        },
        move |kiosk, details| {
            let still_waiting = kiosk.screen() == Screen::Payment
                && kiosk.ui.global::<PaymentAdapter>().get_phase() == PayPhase::InDoubt
                && kiosk.state.borrow().order.as_ref().is_some_and(|current| current.id == order.id);
            kiosk.state.borrow_mut().following_payment = false;
            if !still_waiting {
                return;
            }
            match details.as_ref().map(OrderDetails::payment) {
                Ok(Standing::Paid) => show_done(kiosk, &order, false),
                Ok(Standing::NotCharged) => kiosk.ui.global::<PaymentAdapter>().set_phase(PayPhase::NotCharged),
                _ if tries_left > 1 => follow_in_doubt(kiosk, order, tries_left - 1),
                Ok(_) => log::warn!("order {} still in doubt: left to the periodic check", order.number),
                Err(error) => log::warn!("order {} could not be checked: {error}", order.number),
            }
        },
    );
}

fn cancel_payment(kiosk: &Rc<Inner>) {
    let Some(order) = kiosk.state.borrow().order.clone() else { return };
    kiosk.ui.global::<PaymentAdapter>().set_phase(PayPhase::Cancelling);
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.cancel_payment(order.id).await }, |kiosk, cancelled| {
        // The pending payment reports how it ended; a card already taken stays paid.
        if let Err(error) = cancelled {
            // Too early (the terminal was not asked yet) or too late: the customer may try again.
            log::warn!("the payment could not be cancelled: {error}");
            let payment = kiosk.ui.global::<PaymentAdapter>();
            if payment.get_phase() == PayPhase::Cancelling {
                payment.set_phase(PayPhase::Waiting);
            }
        }
    });
}

/// Voids an order the customer walked away from without paying.
pub fn void_unpaid(kiosk: &Rc<Inner>, order_id: i64) {
    let engine = kiosk.engine.clone();
    kiosk.spawn(
        async move { engine.change_order_status(&Actor::Kiosk, order_id, OrderStatus::Cancelled).await },
        |_, voided| {
            if let Err(error) = voided {
                log::warn!("an unpaid order was not voided: {error}");
            }
        },
    );
}

/// Gives up the card order on screen, then goes on with `next`. Should the engine find it paid
/// or in doubt after all, the customer sees that instead and `next` never runs.
fn give_up_card_order(kiosk: &Rc<Inner>, next: impl FnOnce(&Rc<Inner>) + 'static) {
    let Some(order) = kiosk.state.borrow().order.clone() else { return };
    kiosk.ui.global::<PaymentAdapter>().set_phase(PayPhase::Working);
    let session = kiosk.state.borrow().session;
    let engine = kiosk.engine.clone();
    let order_id = order.id;
    let number = order.number.clone();
    kiosk.spawn(
        async move {
            match engine.change_order_status(&Actor::Kiosk, order_id, OrderStatus::Cancelled).await {
                Ok(()) => Ok(Standing::NotCharged),
                Err(error) => {
                    log::warn!("order {number} was not voided: {error}");
                    engine.order_by_number(&number).await.map(|details| details.payment())
                }
            }
        },
        move |kiosk, known| {
            if !same_session(kiosk, session) {
                return;
            }
            match known {
                Ok(Standing::NotCharged) => {
                    kiosk.state.borrow_mut().order = None;
                    next(kiosk);
                }
                Ok(Standing::Paid) => show_done(kiosk, &order, false),
                Ok(Standing::Unresolved) | Err(_) => {
                    kiosk.ui.global::<PaymentAdapter>().set_phase(PayPhase::InDoubt);
                    follow_in_doubt(kiosk, order, IN_DOUBT_TRIES);
                }
            }
        },
    );
}

/// "Pay at the counter" from the cart.
fn pay_at_counter(kiosk: &Rc<Inner>) {
    let session = kiosk.ui.global::<Session>();
    if session.get_busy() {
        return;
    }
    session.set_busy(true);
    let payment = kiosk.ui.global::<PaymentAdapter>();
    payment.set_amount(kiosk.ui.global::<CartAdapter>().get_total());
    payment.set_number(SharedString::new());
    kiosk.go(Screen::Payment);
    place_counter_order(kiosk);
}

fn place_counter_order(kiosk: &Rc<Inner>) {
    kiosk.ui.global::<PaymentAdapter>().set_phase(PayPhase::Working);
    let (cart, session) = {
        let state = kiosk.state.borrow();
        (state.cart.clone(), state.session)
    };
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.place_counter_order(&cart).await }, move |kiosk, placed| match placed {
        Ok(order) if same_session(kiosk, session) => show_done(kiosk, &order, true),
        // Nobody is there to take the number: the held stock goes back at once.
        Ok(order) => void_unpaid(kiosk, order.id),
        Err(error) if same_session(kiosk, session) => order_refused(kiosk, &error),
        Err(error) => log::warn!("a counter order for a session that ended was refused: {error}"),
    });
}

/// The order number; for a paid order, the receipt as the venue wants it and its QR code.
fn show_done(kiosk: &Rc<Inner>, order: &PlacedOrder, at_counter: bool) {
    let done = kiosk.ui.global::<DoneAdapter>();
    done.set_number(order.number.as_str().into());
    done.set_pay_at_counter(at_counter);
    done.set_counter_total(price(order.quote.total, order.quote.currency, &kiosk.language()).into());
    done.set_has_qr(false);
    done.set_offer_qr(!at_counter && kiosk.engine.device().printing.e_receipt_url.is_some());
    done.set_print_state(SharedString::new());
    let receipts = kiosk.engine.device().printing.receipts;
    done.set_offer_print(!at_counter && receipts == ReceiptPrinting::OnRequest);
    done.set_seconds_left(i32::try_from(kiosk.screen.done_seconds).unwrap_or(i32::MAX));
    {
        let mut state = kiosk.state.borrow_mut();
        state.order = None;
        state.receipt_for = (!at_counter).then(|| order.clone());
        state.done_until = Some(Instant::now() + Duration::from_secs(kiosk.screen.done_seconds.into()));
        state.clear_cart();
    }
    kiosk.ui.global::<Session>().set_busy(false);
    show_cart(kiosk);
    kiosk.go(Screen::Done);
    if at_counter {
        return;
    }
    if receipts == ReceiptPrinting::Always {
        print_receipt(kiosk);
    }
    let engine = kiosk.engine.clone();
    let order_id = order.id;
    let session = kiosk.state.borrow().session;
    kiosk.spawn(
        async move {
            let document = engine.receipt_document(order_id).await;
            let ready = engine.receipt_printer_state().await.takes_jobs();
            let qr = document.ok().and_then(|document| {
                document.blocks.into_iter().find_map(|block| match block {
                    Block::Qr { data } => Some(data),
                    _ => None,
                })
            });
            (qr.and_then(|data| qr_pixels(&data)), ready)
        },
        move |kiosk, (qr, ready)| {
            if kiosk.state.borrow().session != session {
                return;
            }
            let done = kiosk.ui.global::<DoneAdapter>();
            done.set_printer_ready(ready);
            if let Some(pixels) = qr {
                done.set_qr(slint::Image::from_rgb8(pixels));
                done.set_has_qr(true);
            }
        },
    );
}

/// The QR code of a text as black modules on white, one pixel per module and a quiet zone.
fn qr_pixels(data: &str) -> Option<slint::SharedPixelBuffer<slint::Rgb8Pixel>> {
    const QUIET: usize = 4;
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    let modules = code.width();
    let side = modules + 2 * QUIET;
    let mut buffer =
        slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(u32::try_from(side).ok()?, u32::try_from(side).ok()?);
    let colors = code.to_colors();
    for (index, pixel) in buffer.make_mut_slice().iter_mut().enumerate() {
        let (row, column) = (index / side, index % side);
        let dark = row >= QUIET
            && column >= QUIET
            && row < QUIET + modules
            && column < QUIET + modules
            && colors[(row - QUIET) * modules + column - QUIET] == qrcode::Color::Dark;
        let value = if dark { 0 } else { 255 };
        *pixel = slint::Rgb8Pixel { r: value, g: value, b: value };
    }
    Some(buffer)
}

fn print_receipt(kiosk: &Rc<Inner>) {
    let Some(order) = kiosk.state.borrow().receipt_for.clone() else { return };
    let done = kiosk.ui.global::<DoneAdapter>();
    done.set_print_state("printing".into());
    let engine = kiosk.engine.clone();
    kiosk.spawn(async move { engine.print_receipt(order.id).await }, |kiosk, round| {
        let state = match round {
            Ok(round) if round.waiting.is_empty() => "printed",
            Ok(round) => {
                log::warn!("receipt waiting: {:?}", round.waiting);
                "failed"
            }
            Err(error) => {
                log::warn!("receipt not printed: {error}");
                "failed"
            }
        };
        kiosk.ui.global::<DoneAdapter>().set_print_state(state.into());
    });
}
