//! Quoting a 10-line cart with modifiers and a combo on the demo brasserie menu.
//! Target: under 10 µs. Run: `cargo bench -p kiosk-core --bench quote`.

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use kiosk_core::cart::Cart;
use kiosk_core::menu::{Date, LocalMoment, TimeOfDay, Weekday};
use kiosk_core::menu_file;
use kiosk_core::pricing::{SaleContext, quote};
use kiosk_core::stock::StockLevels;

const MENU: &str = include_str!("../../menus/brasserie/menu.toml");
const CART: &str = include_str!("../../menus/brasserie/carts/ten-lines.json");

fn quote_ten_lines(c: &mut Criterion) {
    let menu = menu_file::parse("menu.toml", MENU, &|_| true).expect("the demo menu parses");
    let cart: Cart = serde_json::from_str(CART).expect("the cart parses");
    let stock = StockLevels::new(BTreeMap::new());
    let noon = TimeOfDay::new(12, 0).unwrap();
    let moment = LocalMoment { date: Date::new(2026, 12, 1).unwrap(), weekday: Weekday::Tue, time: noon };
    let context = SaleContext { moment, stock: &stock, promo_uses: 0 };
    let priced = quote(&menu, &cart, context).expect("the cart is valid at noon");
    assert_eq!(priced.lines.len(), 10);
    c.bench_function("quote a 10-line cart (modifiers, combo)", |b| b.iter(|| quote(&menu, &cart, context)));
    c.bench_function("parse the demo menu file", |b| b.iter(|| menu_file::parse("menu.toml", MENU, &|_| true)));
}

criterion_group!(benches, quote_ten_lines);
criterion_main!(benches);
