//! The engine's data as the screens show it: categories, cards, cart lines and taxes, in the
//! session's language. Nothing is computed here that the engine did not decide.

use std::collections::HashMap;

use kiosk_engine::Shelf;
use kiosk_engine::kiosk_core::menu::{Menu, Product};
use kiosk_engine::kiosk_core::pricing::{Quote, QuoteLine};
use slint::{ComponentHandle, Image, ModelRc, SharedString, VecModel};

use crate::format::{price, rate, supplement};
use crate::ui::{Card, CartAdapter, CartRow, Category, KioskWindow, MenuAdapter, TaxRow};

/// A menu image read off the UI thread: SVG stays source (Slint draws it at the size shown),
/// PNG and JPEG are decoded to pixels.
#[derive(Debug)]
pub enum DecodedImage {
    Svg(Vec<u8>),
    Pixels(slint::SharedPixelBuffer<slint::Rgba8Pixel>),
    Unreadable,
}

pub fn decode_image(path: &str, bytes: Vec<u8>) -> DecodedImage {
    if path.to_ascii_lowercase().ends_with(".svg") {
        return DecodedImage::Svg(bytes);
    }
    match image::load_from_memory(&bytes) {
        Ok(decoded) => {
            let rgba = decoded.into_rgba8();
            DecodedImage::Pixels(slint::SharedPixelBuffer::clone_from_slice(rgba.as_raw(), rgba.width(), rgba.height()))
        }
        Err(error) => {
            log::warn!("menu image {path} cannot be decoded: {error}");
            DecodedImage::Unreadable
        }
    }
}

impl DecodedImage {
    pub fn into_image(self) -> Option<Image> {
        match self {
            DecodedImage::Svg(bytes) => {
                Image::load_from_svg_data(&bytes).map_err(|error| log::warn!("a menu SVG cannot be read: {error}")).ok()
            }
            DecodedImage::Pixels(buffer) => Some(Image::from_rgba8(buffer)),
            DecodedImage::Unreadable => None,
        }
    }
}

pub fn model<T: Clone + 'static>(rows: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(rows))
}

fn strings(items: &[String]) -> ModelRc<SharedString> {
    model(items.iter().map(SharedString::from).collect())
}

pub fn card(shelf: &Shelf, product: Product<'_>, language: &str, images: &HashMap<String, Image>) -> Card {
    let info = product.info();
    let currency = shelf.menu.menu.venue.currency;
    let (badges, showtime) = match product {
        Product::Item(item) => {
            let showtime = item
                .showtime
                .as_ref()
                .map_or_else(String::new, |show| format!("{} · {} · {}", show.starts, show.screen, show.language));
            (item.tags.clone(), showtime)
        }
        Product::Combo(_) => (Vec::new(), String::new()),
    };
    let seats_left = match product {
        Product::Item(item) if item.showtime.is_some() => shelf.stock.available(item.info.id.as_str()).unwrap_or(0),
        _ => 0,
    };
    Card {
        id: info.id.as_str().into(),
        name: info.name.get(language).into(),
        price: price(info.price, currency, language).into(),
        image: images.get(&info.image).cloned().unwrap_or_default(),
        badges: strings(&badges),
        sold_out: shelf.is_sold_out(product),
        showtime: showtime.into(),
        seats_left: i32::try_from(seats_left).unwrap_or(i32::MAX),
    }
}

/// Fills the menu screen: the category bar and the cards of the chosen category.
pub fn show_menu(ui: &KioskWindow, shelf: &Shelf, language: &str, images: &HashMap<String, Image>, category: usize) {
    let categories = shelf.categories();
    let chosen = categories.get(category).or(categories.first()).map(|c| c.id.clone());
    let cards: Vec<Card> = shelf
        .on_sale()
        .filter(|product| Some(&product.info().category) == chosen.as_ref())
        .map(|product| card(shelf, product, language, images))
        .collect();
    let adapter = ui.global::<MenuAdapter>();
    adapter.set_categories(model(
        categories.iter().map(|c| Category { id: c.id.as_str().into(), name: c.name.get(language).into() }).collect(),
    ));
    adapter.set_category(i32::try_from(category.min(categories.len().saturating_sub(1))).unwrap_or(0));
    adapter.set_cards(model(cards));
}

/// "Frites, Cola" for a combo's parts; "Cheddar, +Bacon" for options.
fn line_details(line: &QuoteLine, menu: &Menu, language: &str) -> String {
    let currency = menu.venue.currency;
    let option = |name: &str, extra: kiosk_engine::kiosk_core::money::Money| {
        let extra = supplement(extra, currency, language);
        if extra.is_empty() { name.to_owned() } else { format!("{name} ({extra})") }
    };
    let mut parts: Vec<String> = line.options.iter().map(|o| option(o.name.get(language), o.price)).collect();
    for part in &line.parts {
        let mut text = option(part.name.get(language), part.supplement);
        let options: Vec<String> = part.options.iter().map(|o| option(o.name.get(language), o.price)).collect();
        if !options.is_empty() {
            text = format!("{text}: {}", options.join(", "));
        }
        parts.push(text);
    }
    parts.join(" · ")
}

/// Fills the cart screen and the menu screen's cart bar from a quote (or empties them).
pub fn show_quote(ui: &KioskWindow, quote: Option<&Quote>, menu: Option<&Menu>, language: &str) {
    let cart = ui.global::<CartAdapter>();
    let bar = ui.global::<MenuAdapter>();
    let (Some(quote), Some(menu)) = (quote, menu) else {
        cart.set_lines(model(Vec::new()));
        cart.set_taxes(model(Vec::new()));
        cart.set_discount(SharedString::new());
        cart.set_total(SharedString::new());
        bar.set_cart_count(0);
        bar.set_cart_total(SharedString::new());
        return;
    };
    let currency = quote.currency;
    let money = |amount| SharedString::from(price(amount, currency, language));
    cart.set_lines(model(
        quote
            .lines
            .iter()
            .map(|line| CartRow {
                name: line.name.get(language).into(),
                details: line_details(line, menu, language).into(),
                quantity: i32::try_from(line.quantity).unwrap_or(i32::MAX),
                amount: money(line.amount),
            })
            .collect(),
    ));
    cart.set_taxes(model(
        quote
            .taxes
            .iter()
            .map(|tax| TaxRow { rate: rate(tax.rate, language).into(), base: money(tax.base), tax: money(tax.tax) })
            .collect(),
    ));
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
}
