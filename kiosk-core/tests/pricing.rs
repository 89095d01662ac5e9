//! Quoting carts against the small fixture menu: table tests for each rule and bad input,
//! and properties that must hold for any cart.

use std::collections::BTreeMap;

use kiosk_core::cart::{Cart, CartLine, SlotChoice};
use kiosk_core::menu::{ConsumptionMode, Date, Id, LocalMoment, Menu, TimeOfDay, Weekday};
use kiosk_core::menu_file;
use kiosk_core::money::{Money, TaxRate};
use kiosk_core::pricing::{LineProblem, Quote, QuoteError, SaleContext, quote};
use kiosk_core::stock::{StockLevel, StockLevels};
use proptest::prelude::*;

const SMALL_MENU: &str = include_str!("fixtures/small-menu.toml");

fn menu() -> Menu {
    menu_file::parse("small-menu.toml", SMALL_MENU, &|_| true).expect("the fixture menu parses")
}

fn at(hour: u32) -> LocalMoment {
    LocalMoment { date: Date::new(2026, 12, 1).unwrap(), weekday: Weekday::Tue, time: TimeOfDay::new(hour, 0).unwrap() }
}

fn noon() -> LocalMoment {
    at(12)
}

fn stock() -> StockLevels {
    let level = |on_hand| StockLevel { on_hand, held: 0, low_threshold: 0, sold_out: false };
    StockLevels::new(BTreeMap::from([
        (Id::parse("burger").unwrap(), level(1000)),
        (Id::parse("beer").unwrap(), level(2)),
    ]))
}

fn price(menu: &Menu, cart: &Cart) -> Result<Quote, QuoteError> {
    quote(menu, cart, SaleContext { moment: noon(), stock: &stock(), promo_uses: 0 })
}

fn m(text: &str) -> Money {
    Money::parse_price(text).unwrap()
}

fn rate(text: &str) -> TaxRate {
    TaxRate::parse(text).unwrap()
}

fn burger(extras: &[&str]) -> CartLine {
    let mut line = CartLine::item("burger", 1);
    line.modifiers.insert("cooking".into(), vec!["rare".into()]);
    if !extras.is_empty() {
        line.modifiers.insert("extras".into(), extras.iter().map(|e| e.to_string()).collect());
    }
    line
}

fn meal(main: &str, drink: &str, quantity: u32) -> CartLine {
    let mut line = CartLine::item("menu", quantity);
    let mut main_choice = SlotChoice { item: main.into(), modifiers: BTreeMap::new() };
    if main == "burger" {
        main_choice.modifiers.insert("cooking".into(), vec!["well-done".into()]);
    }
    line.choices.insert("main".into(), main_choice);
    line.choices.insert("drink".into(), SlotChoice { item: drink.into(), modifiers: BTreeMap::new() });
    line
}

fn cart(mode: ConsumptionMode, lines: Vec<CartLine>) -> Cart {
    Cart::new(mode, lines)
}

#[test]
fn an_item_with_options_is_priced_and_taxed_inclusive() {
    let quote = price(&menu(), &cart(ConsumptionMode::DineIn, vec![burger(&["bacon", "cheese"])])).unwrap();
    assert_eq!(quote.lines[0].unit_price, m("11.30"));
    assert_eq!(quote.total, m("11.30"));
    // 11.30 * 10 / 110 = 1.0272... -> 1.03
    assert_eq!(quote.taxes.len(), 1);
    assert_eq!((quote.taxes[0].rate, quote.taxes[0].tax, quote.taxes[0].base), (rate("10"), m("1.03"), m("10.27")));
}

#[test]
fn the_consumption_mode_picks_the_rate() {
    let lines = vec![CartLine::item("cola", 2)];
    let dine_in = price(&menu(), &cart(ConsumptionMode::DineIn, lines.clone())).unwrap();
    let take_away = price(&menu(), &cart(ConsumptionMode::TakeAway, lines)).unwrap();
    assert_eq!((dine_in.taxes[0].rate, dine_in.total_tax), (rate("10"), m("0.55")));
    // 6.00 * 5.5 / 105.5 = 0.3127... -> 0.31
    assert_eq!((take_away.taxes[0].rate, take_away.total_tax), (rate("5.5"), m("0.31")));
    assert_eq!(dine_in.total, take_away.total);
}

#[test]
fn a_combo_is_split_across_its_parts_rates_in_proportion() {
    let quote = price(&menu(), &cart(ConsumptionMode::TakeAway, vec![meal("burger", "cola", 1)])).unwrap();
    let line = &quote.lines[0];
    // 11.90 split 9.50 : 3.00 -> 9.044 and 2.856: rounded down 9.04 + 2.85, the cent left
    // goes to the larger remainder (cola).
    let shares: Vec<(&str, Money, TaxRate)> = line.parts.iter().map(|p| (p.item.as_str(), p.share, p.rate)).collect();
    assert_eq!(shares, vec![("burger", m("9.04"), rate("10")), ("cola", m("2.86"), rate("5.5"))]);
    assert_eq!(quote.total, m("11.90"));
    let taxes: Vec<(TaxRate, Money)> = quote.taxes.iter().map(|t| (t.rate, t.tax)).collect();
    assert_eq!(taxes, vec![(rate("5.5"), m("0.15")), (rate("10"), m("0.82"))]);
}

#[test]
fn a_combo_with_supplements_splits_its_whole_price() {
    let quote = price(&menu(), &cart(ConsumptionMode::DineIn, vec![meal("salad", "beer", 2)])).unwrap();
    // The French rule for a formula: the whole price paid, 11.90 + 0.50 (salad) + 1.50 (beer)
    // = 13.90, split by the parts' own prices 7.90 : 5.00 = 8.5124 : 5.3876 -> 8.51 + 5.38,
    // and the cent left to the larger remainder (the beer): 8.51 at 10 %, 5.39 at 20 %.
    let line = &quote.lines[0];
    let shares: Vec<(&str, Money)> = line.parts.iter().map(|p| (p.item.as_str(), p.share)).collect();
    assert_eq!(shares, vec![("salad", m("8.51")), ("beer", m("5.39"))]);
    assert_eq!(line.unit_price, m("13.90"));
    assert_eq!(line.amount, m("27.80"));
    assert_eq!(line.by_rate, vec![(rate("10"), m("17.02")), (rate("20"), m("10.78"))]);
    assert_eq!(quote.total, m("27.80"));
    // VAT per rate on those amounts: 17.02 * 10 / 110 = 1.547 -> 1.55; 10.78 * 20 / 120 =
    // 1.7967 -> 1.80.
    let taxes: Vec<(TaxRate, Money)> = quote.taxes.iter().map(|t| (t.rate, t.tax)).collect();
    assert_eq!(taxes, vec![(rate("10"), m("1.55")), (rate("20"), m("1.80"))]);
}

/// "Make it a meal" says what the meal adds to the item just chosen, not the meal's price.
#[test]
fn a_meal_made_from_an_item_costs_the_difference() {
    let menu = menu();
    let combo = menu.combo("menu").unwrap();
    // 11.90 with the burger and a cola (no supplements), less the burger's 9.50.
    assert_eq!(combo.price_over(menu.item("burger").unwrap()), Some(m("2.40")));
    // The salad's 0.50 supplement counts, and it is quoted at the same total.
    assert_eq!(combo.price_over(menu.item("salad").unwrap()), Some(m("4.50")));
    let with_salad = price(&menu, &cart(ConsumptionMode::DineIn, vec![meal("salad", "cola", 1)])).unwrap();
    assert_eq!(with_salad.total, m("7.90") + m("4.50"));
    // The beer is in the drinks' slot: the main's cheapest choice (the burger, no supplement)
    // is added.
    assert_eq!(combo.price_over(menu.item("beer").unwrap()), Some(m("11.90") + m("1.50") - m("5.00")));
    // A combo without a slot for the item has no such price.
    let mut other = combo.clone();
    other.slots.retain(|slot| slot.id.as_str() != "main");
    assert_eq!(other.price_over(menu.item("burger").unwrap()), None);
}

#[test]
fn tax_exclusive_menus_add_tax_on_top() {
    let source = SMALL_MENU.replace("version = \"test-1\"", "version = \"test-1\"\nprices_include_tax = false");
    let menu = menu_file::parse("us.toml", &source, &|_| true).unwrap();
    let quote =
        price(&menu, &cart(ConsumptionMode::DineIn, vec![CartLine::item("cola", 1), CartLine::item("beer", 1)]))
            .unwrap();
    let taxes: Vec<(Money, Money, Money)> = quote.taxes.iter().map(|t| (t.base, t.tax, t.total)).collect();
    assert_eq!(taxes, vec![(m("3.00"), m("0.30"), m("3.30")), (m("5.00"), m("1.00"), m("6.00"))]);
    assert_eq!(quote.total, m("9.30"));
}

#[test]
fn each_bad_line_is_refused_with_its_line_and_reason() {
    let menu = menu();
    let mut two_cookings = burger(&[]);
    two_cookings.modifiers.insert("cooking".into(), vec!["rare".into(), "well-done".into()]);
    let mut no_cooking = burger(&[]);
    no_cooking.modifiers.remove("cooking");
    let mut unknown_option = burger(&[]);
    unknown_option.modifiers.insert("extras".into(), vec!["truffle".into()]);
    let mut foreign_group = CartLine::item("cola", 1);
    foreign_group.modifiers.insert("extras".into(), vec!["bacon".into()]);
    let mut missing_slot = meal("burger", "cola", 1);
    missing_slot.choices.remove("drink");
    let cases: Vec<(CartLine, &str)> = vec![
        (CartLine::item("pizza", 1), "line 2 (pizza): no such item or combo on the menu"),
        (CartLine::item("cola", 0), "line 2 (cola): quantity 0 is not between 1 and 99"),
        (burger(&["bacon", "cheese", "egg"]), "line 2 (burger): \"extras\" allows at most 2 choice(s)"),
        (two_cookings, "line 2 (burger): \"cooking\" allows at most 1 choice(s)"),
        (no_cooking, "line 2 (burger): \"cooking\" needs at least 1 choice(s)"),
        (unknown_option, "line 2 (burger): \"truffle\" is not an option of \"extras\""),
        (burger(&["bacon", "bacon"]), "line 2 (burger): \"bacon\" is chosen twice in \"extras\""),
        (foreign_group, "line 2 (cola): \"extras\" is not an option group of this item"),
        (missing_slot, "line 2 (menu): nothing chosen for \"drink\""),
        (meal("burger", "salad", 1), "line 2 (menu): \"salad\" cannot be chosen for \"drink\""),
        (CartLine::item("beer", 3), "line 2 (beer): only 2 of \"beer\" left"),
    ];
    for (bad_line, expected) in cases {
        let error =
            price(&menu, &cart(ConsumptionMode::DineIn, vec![CartLine::item("cola", 1), bad_line])).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
    assert_eq!(price(&menu, &cart(ConsumptionMode::DineIn, vec![])).unwrap_err(), QuoteError::Empty);
}

#[test]
fn sold_out_and_unavailable_items_are_refused() {
    let menu = menu();
    let evening = at(19);
    let error = quote(
        &menu,
        &cart(ConsumptionMode::DineIn, vec![CartLine::item("salad", 1)]),
        SaleContext { moment: evening, stock: &stock(), promo_uses: 0 },
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "line 1 (salad): not available at this time");

    let sold_out = StockLevels::new(BTreeMap::from([(
        Id::parse("beer").unwrap(),
        StockLevel { on_hand: 4, held: 0, low_threshold: 0, sold_out: true },
    )]));
    let error = quote(
        &menu,
        &cart(ConsumptionMode::DineIn, vec![meal("burger", "beer", 1)]),
        SaleContext { moment: noon(), stock: &sold_out, promo_uses: 0 },
    )
    .unwrap_err();
    assert!(matches!(error, QuoteError::Line { line: 1, problem: LineProblem::SoldOut { .. }, .. }), "{error}");
}

#[test]
fn stock_counts_units_across_lines_and_combo_parts() {
    let menu = menu();
    // Two beers on their own and one in a meal: three beers, two left.
    let error =
        price(&menu, &cart(ConsumptionMode::DineIn, vec![CartLine::item("beer", 2), meal("burger", "beer", 1)]))
            .unwrap_err();
    assert_eq!(error.to_string(), "line 1 (beer): only 2 of \"beer\" left");
}

#[test]
fn a_counted_option_is_taken_from_stock_like_an_item() {
    let menu = menu();
    let eggs = |on_hand| {
        let level = StockLevel { on_hand, held: 0, low_threshold: 0, sold_out: false };
        StockLevels::new(BTreeMap::from([(Id::parse("egg").unwrap(), level)]))
    };
    fn at_noon(stock: &StockLevels) -> SaleContext<'_> {
        SaleContext { moment: noon(), stock, promo_uses: 0 }
    }
    // Two burgers with an egg, and a meal whose burger has one: three eggs.
    let mut meal_with_egg = meal("burger", "cola", 1);
    meal_with_egg.choices.get_mut("main").unwrap().modifiers.insert("extras".into(), vec!["egg".into()]);
    let mut lines = vec![CartLine { quantity: 2, ..burger(&["egg"]) }, meal_with_egg];
    let quoted = quote(&menu, &cart(ConsumptionMode::DineIn, lines.clone()), at_noon(&eggs(3))).unwrap();
    assert_eq!(quoted.needs[&Id::parse("egg").unwrap()], 3);
    assert!(quoted.lines[0].options.iter().any(|option| option.option.as_str() == "egg" && option.counted));
    // A fourth egg is one too many; none left is sold out.
    lines.push(burger(&["egg"]));
    let error = quote(&menu, &cart(ConsumptionMode::DineIn, lines), at_noon(&eggs(3))).unwrap_err();
    assert_eq!(error.to_string(), "line 1 (burger): only 3 of \"egg\" left");
    let error = quote(&menu, &cart(ConsumptionMode::DineIn, vec![burger(&["egg"])]), at_noon(&eggs(0))).unwrap_err();
    assert_eq!(error.to_string(), "line 1 (burger): \"egg\" is sold out");
    // An option that is not counted takes nothing.
    let quoted = quote(&menu, &cart(ConsumptionMode::DineIn, vec![burger(&["bacon"])]), at_noon(&eggs(0))).unwrap();
    assert!(!quoted.needs.contains_key(&Id::parse("bacon").unwrap()));
}

fn any_line() -> impl Strategy<Value = CartLine> {
    let extras = proptest::sample::subsequence(vec!["bacon", "cheese", "egg"], 0..=2);
    prop_oneof![
        (extras, 1u32..4).prop_map(|(extras, quantity)| CartLine { quantity, ..burger(&extras) }),
        (1u32..5).prop_map(|quantity| CartLine::item("cola", quantity)),
        (1u32..3).prop_map(|quantity| CartLine::item("salad", quantity)),
        (prop::bool::ANY, 1u32..3).prop_map(|(salad, quantity)| meal(
            if salad { "salad" } else { "burger" },
            "cola",
            quantity
        )),
    ]
}

fn any_cart() -> impl Strategy<Value = Cart> {
    (prop::bool::ANY, prop::collection::vec(any_line(), 1..10)).prop_map(|(dine_in, lines)| {
        cart(if dine_in { ConsumptionMode::DineIn } else { ConsumptionMode::TakeAway }, lines)
    })
}

proptest! {
    #[test]
    fn vat_lines_sum_to_the_totals(cart in any_cart()) {
        let quote = price(&menu(), &cart).unwrap();
        prop_assert_eq!(quote.taxes.iter().map(|t| t.tax).sum::<Money>(), quote.total_tax);
        prop_assert_eq!(quote.taxes.iter().map(|t| t.total).sum::<Money>(), quote.total);
        for tax in &quote.taxes {
            prop_assert_eq!(tax.base + tax.tax, tax.total);
        }
        // Prices include tax here: what the lines say is what the customer pays, to the cent.
        prop_assert_eq!(quote.lines.iter().map(|l| l.amount).sum::<Money>(), quote.total);
    }

    #[test]
    fn a_combo_split_is_the_whole_price_in_proportion(
        main_is_salad in prop::bool::ANY,
        beer in prop::bool::ANY,
        extras in proptest::sample::subsequence(vec!["bacon", "cheese", "egg"], 0..=2),
        quantity in 1u32..10,
    ) {
        let mut line = meal(if main_is_salad { "salad" } else { "burger" }, if beer { "beer" } else { "cola" }, quantity);
        if !main_is_salad && !extras.is_empty() {
            let main = line.choices.get_mut("main").unwrap();
            main.modifiers.insert("extras".into(), extras.iter().map(|e| e.to_string()).collect());
        }
        let unlimited = StockLevels::new(BTreeMap::new());
        let context = SaleContext { moment: noon(), stock: &unlimited, promo_uses: 0 };
        let quote = quote(&menu(), &cart(ConsumptionMode::TakeAway, vec![line]), context).unwrap();
        let line = &quote.lines[0];
        let options = |part: &kiosk_core::pricing::QuotedPart| part.options.iter().map(|o| o.price).sum::<Money>();
        let paid = m("11.90") + line.parts.iter().map(|p| p.supplement + options(p)).sum::<Money>();
        prop_assert_eq!(line.parts.iter().map(|p| p.share).sum::<Money>(), paid);
        prop_assert_eq!(line.unit_price, paid);
        // Each share is the whole price in proportion to the part's own price, to the cent.
        let own = |item: &str| menu().item(item).unwrap().info.price;
        let weights: Vec<Money> = line.parts.iter().map(|p| own(p.item.as_str()) + options(p)).collect();
        let weight_sum = weights.iter().copied().sum::<Money>().as_decimal();
        for (part, weight) in line.parts.iter().zip(&weights) {
            let exact = paid.as_decimal() * weight.as_decimal() / weight_sum;
            prop_assert!((part.share.as_decimal() - exact).abs() < rust_decimal::Decimal::new(1, 2));
        }
        prop_assert_eq!(line.by_rate.iter().map(|(_, amount)| *amount).sum::<Money>(), line.amount);
    }

    #[test]
    fn the_quote_does_not_depend_on_line_order(cart in any_cart(), seed in any::<u64>()) {
        let mut shuffled = cart.clone();
        let count = shuffled.lines.len();
        for index in 0..count {
            let other = (seed.wrapping_mul(index as u64 + 7) % count as u64) as usize;
            shuffled.lines.swap(index, other);
        }
        let (a, b) = (price(&menu(), &cart).unwrap(), price(&menu(), &shuffled).unwrap());
        prop_assert_eq!(a.taxes, b.taxes);
        prop_assert_eq!(a.total, b.total);
        prop_assert_eq!(a.needs, b.needs);
    }

    #[test]
    fn money_never_loses_a_cent(cents in prop::collection::vec(0i64..100_000, 1..8), total in 0i64..1_000_000) {
        let weights: Vec<Money> = cents.into_iter().map(Money::from_minor).collect();
        let shares = kiosk_core::money::split_proportionally(Money::from_minor(total), &weights);
        prop_assert_eq!(shares.iter().copied().sum::<Money>(), Money::from_minor(total));
        prop_assert!(shares.iter().all(|s| s.to_minor() >= 0));
        let minor: i64 = shares.iter().map(|s| s.to_minor()).sum();
        prop_assert_eq!(minor, total);
    }
}

fn with_promo(code: &str, lines: Vec<CartLine>) -> Cart {
    Cart { promo: Some(code.to_owned()), ..cart(ConsumptionMode::DineIn, lines) }
}

fn price_on(menu: &Menu, cart: &Cart, date: Date, promo_uses: u32) -> Result<Quote, QuoteError> {
    let moment = LocalMoment { date, ..noon() };
    quote(menu, cart, SaleContext { moment, stock: &stock(), promo_uses })
}

#[test]
fn a_percentage_off_the_order_is_its_own_line_split_across_rates() {
    let menu = menu();
    let november = Date::new(2026, 11, 20).unwrap();
    // Burger 9.50 (10%) and beer 5.00 (20%): 10% off is 1.45, split 0.95 / 0.50.
    let cart = with_promo("bienvenue", vec![burger(&[]), CartLine::item("beer", 1)]);
    let quote = price_on(&menu, &cart, november, 0).unwrap();
    let discount = quote.discount.clone().unwrap();
    assert_eq!((discount.code.as_str(), discount.amount), ("BIENVENUE", m("1.45")));
    assert_eq!(discount.by_rate, vec![(rate("10"), m("0.95")), (rate("20"), m("0.50"))]);
    assert_eq!(quote.total, m("13.05"));
    let totals: Vec<Money> = quote.taxes.iter().map(|t| t.total).collect();
    assert_eq!(totals, vec![m("8.55"), m("4.50")]);
    assert_eq!(quote.taxes.iter().map(|t| t.total).sum::<Money>(), quote.total);
}

#[test]
fn an_amount_off_a_category_and_a_percentage_off_an_item() {
    let menu = menu();
    let december = Date::new(2026, 12, 24).unwrap();
    let drinks = with_promo("BOISSON1", vec![burger(&[]), CartLine::item("cola", 1)]);
    let quote = price_on(&menu, &drinks, december, 1).unwrap();
    assert_eq!((quote.discount.as_ref().unwrap().amount, quote.total), (m("1.00"), m("11.50")));
    let christmas = with_promo("NOEL", vec![burger(&["bacon"]), CartLine::item("cola", 1)]);
    let quote = price_on(&menu, &christmas, december, 0).unwrap();
    // 20% of the burger line only (10.50): 2.10.
    assert_eq!((quote.discount.as_ref().unwrap().amount, quote.total), (m("2.10"), m("11.40")));
}

#[test]
fn each_promo_problem_says_which() {
    let menu = menu();
    let burger_and_cola = vec![burger(&[]), CartLine::item("cola", 1)];
    let cases: Vec<(&str, Vec<CartLine>, Date, u32, &str)> = vec![
        ("NOPE", burger_and_cola.clone(), Date::new(2026, 11, 20).unwrap(), 0, "promo code \"NOPE\" is unknown"),
        (
            "BIENVENUE",
            burger_and_cola.clone(),
            Date::new(2026, 12, 1).unwrap(),
            0,
            "promo code \"BIENVENUE\" expired on 2026-11-30",
        ),
        (
            "NOEL",
            burger_and_cola.clone(),
            Date::new(2026, 12, 1).unwrap(),
            0,
            "promo code \"NOEL\" is valid from 2026-12-24 only",
        ),
        (
            "BOISSON1",
            burger_and_cola.clone(),
            Date::new(2026, 12, 1).unwrap(),
            2,
            "promo code \"BOISSON1\" has been used up",
        ),
        (
            "BIENVENUE",
            vec![CartLine::item("cola", 1)],
            Date::new(2026, 11, 20).unwrap(),
            0,
            "promo code \"BIENVENUE\" needs a basket of at least 10.00",
        ),
        (
            "BOISSON1",
            vec![burger(&[])],
            Date::new(2026, 12, 1).unwrap(),
            0,
            "promo code \"BOISSON1\" applies to the category \"drinks\", and the cart has none",
        ),
    ];
    for (code, lines, date, uses, expected) in cases {
        let error = price_on(&menu, &with_promo(code, lines), date, uses).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}
