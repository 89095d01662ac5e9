//! The model as the screens show it: every adapter's properties filled from [`Model`] (only
//! the parts that changed), with the engine's menu, stock and quotes in the session's
//! language. Nothing is computed here that the model or the engine did not decide.

use std::collections::HashMap;
use std::io::Cursor;

use kiosk_engine::kiosk_core::cart::MAX_QUANTITY;
use kiosk_engine::kiosk_core::menu::{ConsumptionMode, Date, Film, Item, Menu, Product, Showtime};
use kiosk_engine::kiosk_core::pricing::{Quote, QuoteLine};
use kiosk_engine::{PlacedOrder, PrinterState, Shelf, StoredOrder, Training};
use slint::{ComponentHandle, Image, Model as _, ModelRc, SharedString, VecModel};

use crate::builder::Missing;
use crate::format::{self, price, rate, supplement};
use crate::kiosk::Inner;
use crate::model::{self, Changes, Model, PrintState, StaffMode};
use crate::pictures::MenuImages;
use crate::ui::{
    AlertRow, Card, CartAdapter, CartRow, Category, Day, DoneAdapter, FilmCard, GroupRow, KioskWindow, MenuAdapter,
    Notice, Offer, OptionRow, OrderRow, PayPhase, PaymentAdapter, PrinterRow, ProductAdapter, Screen, Session, Showing,
    StaffAdapter, StaffNote, StaffTab, StockRow, TaxRow, Theme, TicketPass, TicketRow, UpsellAdapter, Words,
};

/// Whether free text that could hold card data is masked (a screenshot leaving the kiosk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Masking {
    Off,
    On,
}

impl Masking {
    fn text(self, text: &str) -> SharedString {
        match self {
            Masking::Off => text.into(),
            Masking::On => model::masked(text).into(),
        }
    }
}

/// Fills the parts of the screens that `changes` names from the model.
pub fn render(inner: &Inner, model: &Model, changes: Changes, masking: Masking) {
    let ui = &inner.ui;
    let language = model.language.as_str();
    let images = &inner.images;
    if changes.contains(Changes::RESET) {
        let theme = ui.global::<Theme>();
        theme.set_reach_mode(false);
        theme.set_high_contrast(false);
        theme.set_large_text(false);
        ui.global::<Session>().set_accessibility_open(false);
        ui.global::<CartAdapter>().set_keyboard_open(false);
    }
    if changes.contains(Changes::SESSION) {
        show_session(ui, model, masking);
    }
    let shelf = model.shelf.as_ref();
    // The cards say how many of an item added in one tap the cart holds.
    if (changes.contains(Changes::MENU) || changes.contains(Changes::CART))
        && let Some(shelf) = shelf
    {
        show_menu(ui, model, shelf, language, images);
    }
    if changes.contains(Changes::PRODUCT)
        && let (Some(shelf), Some(sheet)) = (shelf, &model.sheet)
    {
        show_product(ui, shelf, sheet, language, images);
    }
    if changes.contains(Changes::UPSELL)
        && let Some(shelf) = shelf
    {
        show_upsell(ui, model, shelf, language, images);
    }
    if changes.contains(Changes::CART) {
        show_quote(ui, model.quote.as_ref(), model.menu(), language);
        let cart = ui.global::<CartAdapter>();
        let completions = shelf.map_or_else(Vec::new, |shelf| {
            model
                .completions()
                .into_iter()
                // Each is added as its defaults make it, in one tap.
                .map(|product| Card { quick: true, ..order_card(model, shelf, product, language, images) })
                .collect()
        });
        cart.set_completions(rows(cart.get_completions(), completions, same_card));
        cart.set_quoting(model.is_quoting());
        cart.set_promo_entry(masking.text(&model.promo_entry));
        let applied = model.quote.as_ref().and_then(|quote| quote.discount.as_ref()).map(|d| d.code.as_str());
        cart.set_promo_applied(applied.unwrap_or_default().into());
    }
    if changes.contains(Changes::PAYMENT) {
        show_payment(ui, model);
    }
    if changes.contains(Changes::DONE) {
        show_done(inner, model, masking);
    }
    if changes.contains(Changes::STAFF) {
        show_staff(ui, &model.staff, language, masking);
    }
}

fn show_session(ui: &KioskWindow, model: &Model, masking: Masking) {
    let session = ui.global::<Session>();
    let language = model.language.as_str();
    session.set_screen(match model.screen {
        model::Screen::Attract => Screen::Attract,
        model::Screen::OrderMode => Screen::OrderMode,
        model::Screen::Menu => Screen::Menu,
        model::Screen::Product => Screen::Product,
        model::Screen::Upsell => Screen::Upsell,
        model::Screen::Cart => Screen::Cart,
        model::Screen::Payment => Screen::Payment,
        model::Screen::Done => Screen::Done,
        model::Screen::StaffLogin => Screen::StaffLogin,
        model::Screen::Staff => Screen::Staff,
        model::Screen::OutOfService => Screen::OutOfService,
    });
    if let Some(menu) = model.menu() {
        session.set_venue_name(menu.venue.name.get(language).into());
        let languages = &menu.venue.languages;
        session.set_languages(rows(session.get_languages(), texts(languages), equal));
        let others: Vec<String> = languages.iter().filter(|other| *other != language).cloned().collect();
        session.set_other_languages(rows(session.get_other_languages(), texts(&others), equal));
    }
    session.set_language(language.into());
    session.set_cinema(model.is_cinema());
    session.set_take_away(model.cart.mode == ConsumptionMode::TakeAway);
    session.set_still_there(model.is_still_there_asked());
    session.set_clear_asked(model.is_clear_asked());
    session.set_speaking(model.speaking);
    if !model.speaking {
        session.set_screen_dark(false);
    }
    session.set_countdown(int(model.countdown));
    let (notice, detail) =
        model.notice.as_ref().map_or((Notice::None, ""), |(notice, detail)| (notice_of(*notice), detail));
    session.set_notice_detail(masking.text(detail));
    session.set_notice(notice);
    session.set_busy(model.is_busy());
    session.set_training(model.shelf.as_ref().is_some_and(|shelf| shelf.training));
    session.set_max_quantity(int(MAX_QUANTITY));
}

fn notice_of(notice: model::Notice) -> Notice {
    match notice {
        model::Notice::PromoApplied => Notice::PromoApplied,
        model::Notice::PromoUnknown => Notice::PromoUnknown,
        model::Notice::PromoNotYet => Notice::PromoNotYet,
        model::Notice::PromoExpired => Notice::PromoExpired,
        model::Notice::PromoUsedUp => Notice::PromoUsedUp,
        model::Notice::PromoBasketTooSmall => Notice::PromoBasketTooSmall,
        model::Notice::PromoNothingToDiscount => Notice::PromoNothingToDiscount,
        model::Notice::LineSoldOut => Notice::LineSoldOut,
        model::Notice::LineUnavailable => Notice::LineUnavailable,
        model::Notice::PricesChanged => Notice::PricesChanged,
        model::Notice::MenuChanged => Notice::MenuChanged,
        model::Notice::Added => Notice::Added,
        model::Notice::SomethingWentWrong => Notice::SomethingWentWrong,
    }
}

/// A count for the screen.
fn int(value: impl TryInto<i32>) -> i32 {
    value.try_into().unwrap_or(i32::MAX)
}

/// Fills the item sheet from its builder; the line's price is the engine's quote of it.
fn show_product(ui: &KioskWindow, shelf: &Shelf, sheet: &model::Sheet, language: &str, images: &MenuImages) {
    let menu = &shelf.menu.menu;
    let builder = &sheet.builder;
    let Some(product) = menu.product(builder.product()) else { return };
    let info = product.info();
    let currency = menu.venue.currency;
    let adapter = ui.global::<ProductAdapter>();
    adapter.set_name(info.name.get(language).into());
    adapter.set_description(info.description.get(language).into());
    adapter.set_image(images.get(&info.image).unwrap_or_default());
    let (badges, allergens) = match product {
        Product::Item(item) => {
            let words = ui.global::<Words>();
            let named: Vec<String> =
                item.allergens.iter().map(|id| words.invoke_badge(id.into()).to_lowercase()).collect();
            (item.tags.iter().map(SharedString::from).collect(), named.join(", "))
        }
        Product::Combo(_) => (Vec::new(), String::new()),
    };
    adapter.set_badges(rows(adapter.get_badges(), badges, equal));
    adapter.set_allergens(allergens.into());
    adapter.set_price(price(info.price, currency, language).into());
    let (step, steps) = builder.step();
    adapter.set_combo(steps > 0);
    adapter.set_step(int(step));
    adapter.set_steps(int(steps));
    if let (Product::Combo(combo), Some((slot_id, chosen))) = (product, builder.current_slot()) {
        let slot = combo.slots.iter().find(|slot| slot.id.as_str() == slot_id);
        adapter.set_step_name(slot.map_or("", |slot| slot.name.get(language)).into());
        let choices = slot.map_or_else(Vec::new, |slot| {
            slot.choices
                .iter()
                .filter_map(|choice| {
                    let item = menu.item(choice.item.as_str())?;
                    let mut card = card(shelf, Product::Item(item), language, images);
                    card.price = supplement(choice.supplement, currency, language).into();
                    Some(card)
                })
                .collect()
        });
        adapter.set_slot_choices(rows(adapter.get_slot_choices(), choices, same_card));
        adapter.set_slot_item(chosen.unwrap_or("").into());
    }
    let groups = builder
        .groups(menu)
        .into_iter()
        .map(|group| GroupRow {
            id: group.id.as_str().into(),
            name: group.name.get(language).into(),
            min: int(group.min),
            max: int(group.max),
            pictures: group.options.iter().any(|option| option.image.is_some()),
            options: model(
                group
                    .options
                    .iter()
                    .map(|option| OptionRow {
                        id: option.id.as_str().into(),
                        name: option.name.get(language).into(),
                        image: option.image.as_ref().and_then(|path| images.get(path)).unwrap_or_default(),
                        price: supplement(option.price, currency, language).into(),
                        selected: builder.is_selected(group.id.as_str(), option.id.as_str()),
                        available: !shelf.is_option_sold_out(option),
                    })
                    .collect(),
            ),
        })
        .collect();
    adapter.set_groups(rows(adapter.get_groups(), groups, same_group));
    adapter.set_quantity(int(builder.quantity()));
    adapter
        .set_missing(builder.missing_now(menu).map_or("", |missing: Missing<'_>| missing.name().get(language)).into());
    adapter.set_complete(!builder.lines(menu).is_empty());
    let tickets = builder.ticket_types(menu).unwrap_or_default().into_iter().map(|(ticket, count)| TicketRow {
        id: ticket.id.as_str().into(),
        name: ticket.name.get(language).into(),
        // The showing's own price comes on top of every ticket (0.00 as a rule).
        price: price(info.price + ticket.price, currency, language).into(),
        count: int(count),
    });
    adapter.set_tickets(rows(adapter.get_tickets(), tickets.collect(), equal));
    adapter.set_tickets_wanted(int(builder.ticket_count()));
    let showtime = match product {
        Product::Item(item) => item.showtime.as_ref(),
        Product::Combo(_) => None,
    };
    let film = showtime.and_then(|show| menu.film(show.film.as_str()));
    let details = showtime.map(|show| showing_details(show, film, shelf.moment.date, language));
    adapter.set_showing(details.unwrap_or_default().into());
    adapter.set_rating(film.map_or("", |film| film.rating.as_str()).into());
    if let Some(film) = film.filter(|_| info.description.get(language).is_empty()) {
        adapter.set_description(film.description.get(language).into());
    }
    adapter.set_seats_left(int(shelf.stock.available(info.id.as_str()).unwrap_or(0)));
    let total = sheet.total.map(|(total, currency)| price(total, currency, language)).unwrap_or_default();
    adapter.set_total(total.into());
}

fn show_payment(ui: &KioskWindow, model: &Model) {
    let adapter = ui.global::<PaymentAdapter>();
    let Some(paying) = &model.payment else { return };
    adapter.set_phase(match paying.phase {
        model::PayPhase::Starting => PayPhase::Starting,
        model::PayPhase::Working => PayPhase::Working,
        model::PayPhase::Waiting => PayPhase::Waiting,
        model::PayPhase::Cancelling => PayPhase::Cancelling,
        model::PayPhase::Declined => PayPhase::Declined,
        model::PayPhase::TimedOut => PayPhase::TimedOut,
        model::PayPhase::Cancelled => PayPhase::Cancelled,
        model::PayPhase::InDoubt => PayPhase::InDoubt,
        model::PayPhase::NotCharged => PayPhase::NotCharged,
        model::PayPhase::Failed => PayPhase::Failed,
    });
    let amount = paying.amount.map(|(total, currency)| price(total, currency, &model.language)).unwrap_or_default();
    adapter.set_amount(amount.into());
    adapter.set_number(paying.order.as_ref().map(|order| order.number.as_str()).unwrap_or_default().into());
}

fn show_done(inner: &Inner, model: &Model, masking: Masking) {
    let adapter = inner.ui.global::<DoneAdapter>();
    let Some(done) = &model.done else { return };
    let order = &done.order;
    adapter.set_number(order.number.as_str().into());
    adapter.set_pay_at_counter(done.at_counter);
    adapter.set_counter_total(price(order.quote.total, order.quote.currency, &model.language).into());
    adapter.set_offer_print(model.offers_print());
    adapter.set_print_state(
        match done.print {
            PrintState::NotAsked => "",
            PrintState::Printing => "printing",
            PrintState::Printed => "printed",
            PrintState::Failed => "failed",
        }
        .into(),
    );
    adapter.set_printer_ready(done.printer_ready);
    adapter.set_offer_qr(!done.at_counter && model.settings().e_receipts);
    adapter.set_seconds_left(int(done.seconds_left));
    // The e-receipt link opens the customer's receipt and a ticket's code lets one in: they
    // never leave in a screenshot.
    let menu = model.menu();
    // Tickets paid at the counter are not tickets yet.
    let today = model.shelf.as_ref().map(|shelf| shelf.moment.date);
    let tickets = match (menu, today) {
        (Some(menu), Some(today)) if !done.at_counter => tickets(order, menu, today, &model.language),
        _ => Vec::new(),
    };
    let mut codes: Vec<&str> = tickets.iter().map(|(_, code)| code.as_str()).collect();
    codes.extend(done.qr.as_deref());
    if masking == Masking::On {
        codes.clear();
    }
    let drawn = qr_codes(inner, &codes);
    let qr = done.qr.as_ref().and_then(|text| drawn.get(text)).cloned();
    adapter.set_has_qr(qr.is_some());
    adapter.set_qr(qr.unwrap_or_default());
    let passes = tickets
        .into_iter()
        .map(|(pass, code)| TicketPass { qr: drawn.get(&code).cloned().unwrap_or_default(), ..pass });
    adapter.set_tickets(rows(adapter.get_tickets(), passes.collect(), same_ticket));
    let snacks =
        order.quote.lines.iter().any(|line| {
            menu.and_then(|menu| menu.item(line.product.as_str())).is_none_or(|item| item.showtime.is_none())
        });
    adapter.set_other_items(snacks);
}

/// An order's tickets, one per seat, each with the code the entrance scans: "TICKET T0042
/// gardiens-du-phare-1400 plein 1/3" (the order, the showing, the ticket type, which of the
/// order's tickets for that showing).
fn tickets(order: &PlacedOrder, menu: &Menu, today: Date, language: &str) -> Vec<(TicketPass, String)> {
    let showing = |line: &QuoteLine| {
        let item = menu.item(line.product.as_str())?;
        Some((item, item.showtime.as_ref()?))
    };
    let mut passes = Vec::new();
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for line in &order.quote.lines {
        let Some((item, show)) = showing(line) else { continue };
        let of_showing: u32 =
            order.quote.lines.iter().filter(|other| other.product == line.product).map(|other| other.quantity).sum();
        let ticket_type =
            show.tickets.as_ref().and_then(|group| line.options.iter().find(|option| option.group == *group));
        let film =
            menu.film(show.film.as_str()).map_or_else(|| item.info.name.get(language), |f| f.title.get(language));
        for _ in 0..line.quantity {
            let index = seen.entry(line.product.as_str()).or_default();
            *index += 1;
            let type_id = ticket_type.map_or("-", |option| option.option.as_str());
            let code = format!("TICKET {} {} {type_id} {index}/{of_showing}", order.number, line.product);
            let pass = TicketPass {
                film: film.into(),
                screen: show.screen.as_str().into(),
                time: starts(show, today, language).into(),
                kind: ticket_type.map_or("", |option| option.name.get(language)).into(),
                number: format!("{index}/{of_showing}").into(),
                qr: Image::default(),
            };
            passes.push((pass, code));
        }
    }
    passes
}

/// The QR codes on screen, each drawn once and kept while it is shown.
fn qr_codes(inner: &Inner, texts: &[&str]) -> HashMap<String, Image> {
    let mut drawn = inner.qr.borrow_mut();
    drawn.retain(|text, _| texts.contains(&text.as_str()));
    for text in texts {
        if !drawn.contains_key(*text)
            && let Some(pixels) = qr_pixels(text)
        {
            drawn.insert((*text).to_owned(), Image::from_rgb8(pixels));
        }
    }
    drawn.clone()
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

fn show_staff(ui: &KioskWindow, staff: &StaffMode, language: &str, masking: Masking) {
    let adapter = ui.global::<StaffAdapter>();
    adapter.set_names(rows(adapter.get_names(), texts(&staff.names), equal));
    adapter.set_chosen_name(staff.chosen_name.as_str().into());
    adapter.set_pin_dots(staff.pin_dots().into());
    adapter.set_signed_in(staff.session.as_ref().map(|session| session.name.as_str()).unwrap_or_default().into());
    adapter.set_may_close_day(staff.may_close_day());
    adapter.set_may_switch_training(staff.may_switch_training());
    adapter.set_tab(match staff.tab {
        model::StaffTab::Stock => StaffTab::Stock,
        model::StaffTab::Counter => StaffTab::Counter,
        model::StaffTab::Orders => StaffTab::Orders,
        model::StaffTab::Reports => StaffTab::Reports,
        model::StaffTab::Printers => StaffTab::Printers,
    });
    let stock = staff.stock.iter().map(|entry| StockRow {
        id: entry.item.as_str().into(),
        name: entry.name.as_str().into(),
        available: int(entry.level.available()),
        low: entry.level.available() <= entry.level.low_threshold,
        sold_out: entry.level.sold_out,
    });
    adapter.set_stock(rows(adapter.get_stock(), stock.collect(), equal));
    let (counter, orders): (Vec<_>, Vec<_>) =
        staff.orders.iter().map(|order| order_row(staff, order, language)).partition(|row| row.can_settle);
    adapter.set_counter_orders(rows(adapter.get_counter_orders(), counter, equal));
    adapter.set_orders(rows(adapter.get_orders(), orders, equal));
    let printers = staff.printers.iter().map(|(name, state)| PrinterRow {
        name: name.as_str().into(),
        state: state.code().into(),
        detail: match state {
            PrinterState::Unreachable(why) => masking.text(why),
            _ => SharedString::new(),
        },
        ok: state.takes_jobs(),
    });
    adapter.set_printers(rows(adapter.get_printers(), printers.collect(), equal));
    adapter.set_report(masking.text(&staff.report));
    let (note, detail) = &staff.note;
    adapter.set_note(match note {
        model::StaffNote::None => StaffNote::None,
        model::StaffNote::Working => StaffNote::Working,
        model::StaffNote::Settled => StaffNote::Settled,
        model::StaffNote::Refunded => StaffNote::Refunded,
        model::StaffNote::RefundNotMade => StaffNote::RefundNotMade,
        model::StaffNote::RefundInDoubt => StaffNote::RefundInDoubt,
        model::StaffNote::Printed => StaffNote::Printed,
        model::StaffNote::PrintWaiting => StaffNote::PrintWaiting,
        model::StaffNote::StockChanged => StaffNote::StockChanged,
        model::StaffNote::WrongPin => StaffNote::WrongPin,
        model::StaffNote::Locked => StaffNote::Locked,
        model::StaffNote::BadPin => StaffNote::BadPin,
        model::StaffNote::Failed => StaffNote::Failed,
    });
    adapter.set_note_detail(masking.text(detail));
    let alerts = staff.alerts.iter().map(|alert| AlertRow {
        id: int(alert.id),
        kind: alert.kind.code().into(),
        message: masking.text(&alert.message),
        can_clear: alert.kind.staff_may_clear(),
    });
    adapter.set_alerts(rows(adapter.get_alerts(), alerts.collect(), equal));
    adapter.set_training(staff.training.is_some());
    adapter.set_training_fixed(staff.training == Some(Training::Simulator));
    adapter.set_release(crate::release().into());
}

/// An order as staff see it, with what the signed-in member may do with it.
fn order_row(staff: &StaffMode, order: &StoredOrder, language: &str) -> OrderRow {
    let may = staff.order_actions(order);
    OrderRow {
        id: int(order.id),
        number: order.number.as_str().into(),
        time: order.created_at.format("%H:%M").to_string().into(),
        total: price(order.total, order.currency, language).into(),
        status: order.status.code().into(),
        can_settle: may.settle,
        can_refund: may.refund,
        can_reprint: may.reprint,
    }
}

/// The screen as it is now, as PNG: free text that could hold card data masked and the
/// e-receipt QR code left out, then the screen is drawn as it was.
pub fn screenshot(inner: &Inner) -> anyhow::Result<Vec<u8>> {
    let model = inner.model.borrow();
    render(inner, &model, Changes::EVERY_SCREEN, Masking::On);
    let snapshot = inner.ui.window().take_snapshot();
    render(inner, &model, Changes::EVERY_SCREEN, Masking::Off);
    let pixels = snapshot?;
    let image = image::RgbaImage::from_raw(pixels.width(), pixels.height(), pixels.as_bytes().to_vec())
        .ok_or_else(|| anyhow::anyhow!("the screen's pixels do not make an image"))?;
    let mut png = Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png)?;
    Ok(png.into_inner())
}

fn model<T: Clone + 'static>(rows: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(rows))
}

/// The rows to show: those on screen while they say the same, since a repeater given new
/// rows builds its elements again, and a tap under way on one of them would be lost.
fn rows<T: Clone + 'static>(shown: ModelRc<T>, rows: Vec<T>, same: impl Fn(&T, &T) -> bool) -> ModelRc<T> {
    let unchanged = shown.row_count() == rows.len() && shown.iter().zip(&rows).all(|(old, new)| same(&old, new));
    if unchanged { shown } else { model(rows) }
}

fn equal<T: PartialEq>(one: &T, other: &T) -> bool {
    one == other
}

fn same_rows<T: PartialEq + Clone + 'static>(one: &ModelRc<T>, other: &ModelRc<T>) -> bool {
    one.row_count() == other.row_count() && one.iter().zip(other.iter()).all(|(a, b)| a == b)
}

/// Cards and option groups hold rows of their own, compared by content.
fn same_card(one: &Card, other: &Card) -> bool {
    (&one.id, &one.name, &one.price, one.sold_out, one.quick, one.in_order)
        == (&other.id, &other.name, &other.price, other.sold_out, other.quick, other.in_order)
        && same_image(&one.image, &other.image)
        && same_rows(&one.badges, &other.badges)
}

/// Slint's images are equal when they share their pixels, and two empty ones never are.
fn same_image(one: &Image, other: &Image) -> bool {
    one == other || (one.size().width == 0 && other.size().width == 0)
}

fn same_option(one: &OptionRow, other: &OptionRow) -> bool {
    (&one.id, &one.name, &one.price, one.selected, one.available)
        == (&other.id, &other.name, &other.price, other.selected, other.available)
        && same_image(&one.image, &other.image)
}

fn same_ticket(one: &TicketPass, other: &TicketPass) -> bool {
    (&one.film, &one.screen, &one.time, &one.kind, &one.number)
        == (&other.film, &other.screen, &other.time, &other.kind, &other.number)
        && same_image(&one.qr, &other.qr)
}

fn same_group(one: &GroupRow, other: &GroupRow) -> bool {
    (&one.id, &one.name, one.min, one.max, one.pictures)
        == (&other.id, &other.name, other.min, other.max, other.pictures)
        && one.options.row_count() == other.options.row_count()
        && one.options.iter().zip(other.options.iter()).all(|(a, b)| same_option(&a, &b))
}

fn texts(items: &[String]) -> Vec<SharedString> {
    items.iter().map(SharedString::from).collect()
}

fn card(shelf: &Shelf, product: Product<'_>, language: &str, images: &MenuImages) -> Card {
    let info = product.info();
    let currency = shelf.menu.menu.venue.currency;
    let badges = match product {
        Product::Item(item) => item.tags.as_slice(),
        Product::Combo(_) => &[],
    };
    Card {
        id: info.id.as_str().into(),
        name: info.name.get(language).into(),
        price: price(info.price, currency, language).into(),
        image: images.get(&info.image).unwrap_or_default(),
        badges: model(texts(badges)),
        sold_out: shelf.is_sold_out(product),
        quick: false,
        in_order: 0,
    }
}

/// Fills the suggestion's screen: what was just added, and each suggestion with what it adds.
fn show_upsell(ui: &KioskWindow, model: &Model, shelf: &Shelf, language: &str, images: &MenuImages) {
    let menu = &shelf.menu.menu;
    let currency = menu.venue.currency;
    let offers = model
        .upsell_offers()
        .into_iter()
        .map(|(product, extra)| {
            let info = product.info();
            Offer {
                id: info.id.as_str().into(),
                name: info.name.get(language).into(),
                description: info.description.get(language).into(),
                image: images.get(&info.image).unwrap_or_default(),
                extra: format!("+{}", price(extra, currency, language)).into(),
                meal: matches!(product, Product::Combo(_)),
            }
        })
        .collect();
    let added = model.upsell_after().and_then(|id| menu.product(id)).map(|product| product.info().name.get(language));
    let adapter = ui.global::<UpsellAdapter>();
    adapter.set_added(added.unwrap_or_default().into());
    adapter.set_meal(model.upsell_is_a_meal());
    let same_offer = |one: &Offer, other: &Offer| {
        (&one.id, &one.name, &one.description, &one.extra, one.meal)
            == (&other.id, &other.name, &other.description, &other.extra, other.meal)
            && same_image(&one.image, &other.image)
    };
    adapter.set_offers(rows(adapter.get_offers(), offers, same_offer));
}

/// A product's card on a screen of the order: added in one tap or not, and how many the
/// order holds.
fn order_card(model: &Model, shelf: &Shelf, product: Product<'_>, language: &str, images: &MenuImages) -> Card {
    let id = product.info().id.as_str();
    let in_order = i32::try_from(model.quick_count(id)).unwrap_or(i32::MAX);
    Card { quick: model.is_quick(id), in_order, ..card(shelf, product, language, images) }
}

/// Fills the menu screen: the category rail and the cards of the chosen category.
fn show_menu(ui: &KioskWindow, model: &Model, shelf: &Shelf, language: &str, images: &MenuImages) {
    let category = model.category;
    let categories = shelf.categories();
    let chosen = categories.get(category).or(categories.first()).map(|c| c.id.clone());
    let (showings, others): (Vec<_>, Vec<_>) = shelf
        .on_sale()
        .filter(|product| Some(&product.info().category) == chosen.as_ref())
        .partition(|product| matches!(product, Product::Item(item) if item.showtime.is_some()));
    let cards: Vec<Card> =
        others.into_iter().map(|product| order_card(model, shelf, product, language, images)).collect();
    let adapter = ui.global::<MenuAdapter>();
    // A cinema selling ahead shows one day's showings at a time.
    let today = shelf.moment.date;
    let day_of = |product: &Product<'_>| match product {
        Product::Item(item) => item.showtime.as_ref().and_then(|show| show.date).unwrap_or(today),
        Product::Combo(_) => today,
    };
    let mut days: Vec<Date> = showings.iter().map(day_of).collect();
    days.sort_unstable();
    days.dedup();
    days.truncate(MAX_DAYS);
    let chosen = model.day.filter(|day| days.contains(day)).or(days.first().copied());
    let showings: Vec<Product<'_>> = showings.into_iter().filter(|product| Some(day_of(product)) == chosen).collect();
    let days = days.into_iter().filter_map(|day| {
        let (date, first) = (calendar(day)?, calendar(today)?);
        Some(Day {
            date: day.to_string().into(),
            offset: i32::try_from((date - first).num_days()).unwrap_or(i32::MAX),
            name: format::day(date, language).into(),
        })
    });
    adapter.set_days(rows(adapter.get_days(), days.collect(), equal));
    adapter.set_day(chosen.map(|day| day.to_string()).unwrap_or_default().into());
    adapter.set_films(rows(adapter.get_films(), films(shelf, &showings, language, images), same_film));
    let picture = |category| {
        let mut pictures = shelf.on_sale().filter(|product| &product.info().category == category);
        pictures.find_map(|product| images.get(&product.info().image)).unwrap_or_default()
    };
    let categories: Vec<Category> = categories
        .iter()
        .map(|c| Category { id: c.id.as_str().into(), name: c.name.get(language).into(), image: picture(&c.id) })
        .collect();
    let count = categories.len();
    let same_category = |one: &Category, other: &Category| {
        (&one.id, &one.name) == (&other.id, &other.name) && same_image(&one.image, &other.image)
    };
    adapter.set_categories(rows(adapter.get_categories(), categories, same_category));
    adapter.set_category(i32::try_from(category.min(count.saturating_sub(1))).unwrap_or(0));
    adapter.set_cards(rows(adapter.get_cards(), cards, same_card));
}

/// The most days of a cinema's programme its day picker offers.
const MAX_DAYS: usize = 7;

/// A menu's date as the calendar counts it.
fn calendar(date: Date) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(&date.to_string(), "%Y-%m-%d").ok()
}

/// When a showing starts: "14:00" today, "lun. 7 · 14:00" another day.
fn starts(show: &Showtime, today: Date, language: &str) -> String {
    match show.date.filter(|date| *date != today).and_then(calendar) {
        Some(day) => format!("{} · {}", format::day(day, language), show.starts),
        None => show.starts.to_string(),
    }
}

/// "14:00 · Salle 1 · VF · 1 h 52"
fn showing_details(show: &Showtime, film: Option<&Film>, today: Date, language: &str) -> String {
    let running = film.map(|film| running_time(film.duration_minutes)).unwrap_or_default();
    [starts(show, today, language), show.screen.clone(), show.language.clone(), running]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// "1 h 52"
fn running_time(minutes: u32) -> String {
    format!("{}\u{a0}h\u{a0}{:02}", minutes / 60, minutes % 60)
}

/// A cinema's showings on sale, by film in the menu's order, each film's by time.
fn films(shelf: &Shelf, showings: &[Product<'_>], language: &str, images: &MenuImages) -> Vec<FilmCard> {
    let menu = &shelf.menu.menu;
    let mut films: Vec<(&Film, Vec<(&Item, Showing)>)> = Vec::new();
    for product in showings {
        let Product::Item(item) = product else { continue };
        let Some(show) = &item.showtime else { continue };
        let Some(film) = menu.film(show.film.as_str()) else { continue };
        let id = item.info.id.as_str();
        let seats = shelf.stock.available(id).unwrap_or(0);
        let few = item.stock.as_ref().is_some_and(|rule| seats <= rule.low_threshold);
        let details = [show.language.as_str(), show.screen.as_str()].into_iter().filter(|part| !part.is_empty());
        let showing = Showing {
            id: id.into(),
            time: show.starts.to_string().into(),
            details: details.collect::<Vec<_>>().join(" · ").into(),
            seats_left: int(seats),
            few,
            sold_out: shelf.is_sold_out(*product),
        };
        match films.iter_mut().find(|(known, _)| known.id == film.id) {
            Some((_, shown)) => shown.push((item, showing)),
            None => films.push((film, vec![(item, showing)])),
        }
    }
    films
        .into_iter()
        .map(|(film, mut shown)| {
            shown.sort_by_key(|(item, _)| item.showtime.as_ref().map(|show| show.starts));
            FilmCard {
                id: film.id.as_str().into(),
                title: film.title.get(language).into(),
                poster: images.get(&film.poster).unwrap_or_default(),
                rating: film.rating.as_str().into(),
                duration: running_time(film.duration_minutes).into(),
                showings: model(shown.into_iter().map(|(_, showing)| showing).collect()),
            }
        })
        .collect()
}

fn same_film(one: &FilmCard, other: &FilmCard) -> bool {
    (&one.id, &one.title, &one.rating, &one.duration) == (&other.id, &other.title, &other.rating, &other.duration)
        && same_image(&one.poster, &other.poster)
        && same_rows(&one.showings, &other.showings)
}

/// "Frites, Cola" for a combo's parts; "Cheddar, +Bacon" for options.
fn line_details(words: &Words<'_>, line: &QuoteLine, menu: &Menu, language: &str) -> String {
    let currency = menu.venue.currency;
    let option = |name: &str, extra: kiosk_engine::kiosk_core::money::Money| {
        let extra = supplement(extra, currency, language);
        if extra.is_empty() { name.to_owned() } else { format!("{name} ({extra})") }
    };
    // A ticket's type is its price, already the line's: named only.
    let tickets = menu.item(line.product.as_str()).and_then(|item| item.showtime.as_ref()?.tickets.as_ref());
    let mut parts: Vec<String> = line
        .options
        .iter()
        .map(|o| {
            if Some(&o.group) == tickets {
                o.name.get(language).to_owned()
            } else {
                option(o.name.get(language), o.price)
            }
        })
        .collect();
    for part in &line.parts {
        let mut text = option(part.name.get(language), part.supplement);
        let options: Vec<String> = part.options.iter().map(|o| option(o.name.get(language), o.price)).collect();
        if !options.is_empty() {
            text = words.invoke_with_options(text.into(), options.join(", ").into()).into();
        }
        parts.push(text);
    }
    parts.join(" · ")
}

/// The mini-basket's last three lines, newest last: "2 × The Classic · Cola".
fn recent_lines(quote: &Quote, language: &str) -> String {
    let named = quote.lines.iter().map(|line| match line.quantity {
        1 => line.name.get(language).to_owned(),
        many => format!("{many}\u{a0}×\u{a0}{}", line.name.get(language)),
    });
    let named: Vec<String> = named.collect();
    named[named.len().saturating_sub(3)..].join(" · ")
}

/// Fills the cart screen and the menu screen's cart bar from a quote (or empties them).
fn show_quote(ui: &KioskWindow, quote: Option<&Quote>, menu: Option<&Menu>, language: &str) {
    let cart = ui.global::<CartAdapter>();
    let bar = ui.global::<MenuAdapter>();
    let (Some(quote), Some(menu)) = (quote, menu) else {
        cart.set_lines(rows(cart.get_lines(), Vec::new(), equal));
        cart.set_taxes(rows(cart.get_taxes(), Vec::new(), equal));
        cart.set_discount(SharedString::new());
        cart.set_total(SharedString::new());
        bar.set_cart_count(0);
        bar.set_cart_total(SharedString::new());
        bar.set_recent(SharedString::new());
        return;
    };
    let currency = quote.currency;
    let money = |amount| SharedString::from(price(amount, currency, language));
    let lines = rows(
        cart.get_lines(),
        quote
            .lines
            .iter()
            .map(|line| CartRow {
                name: line.name.get(language).into(),
                details: line_details(&ui.global::<Words>(), line, menu, language).into(),
                quantity: i32::try_from(line.quantity).unwrap_or(i32::MAX),
                amount: money(line.amount),
            })
            .collect(),
        equal,
    );
    cart.set_lines(lines);
    let taxes = quote
        .taxes
        .iter()
        .map(|tax| TaxRow { rate: rate(tax.rate, language).into(), base: money(tax.base), tax: money(tax.tax) })
        .collect();
    cart.set_taxes(rows(cart.get_taxes(), taxes, equal));
    match &quote.discount {
        Some(discount) => {
            cart.set_discount_name(discount.name.get(language).into());
            cart.set_discount(format!("-{}", price(discount.amount, currency, language)).into());
        }
        None => {
            cart.set_discount_name(SharedString::new());
            cart.set_discount(SharedString::new());
        }
    }
    cart.set_prices_include_tax(quote.prices_include_tax);
    cart.set_total_tax(money(quote.total_tax));
    cart.set_total(money(quote.total));
    let count: u32 = quote.lines.iter().map(|line| line.quantity).sum();
    bar.set_cart_count(i32::try_from(count).unwrap_or(i32::MAX));
    bar.set_cart_total(money(quote.total));
    bar.set_recent(recent_lines(quote, language).into());
}
