//! The menu file format (TOML, see docs/menu-format.md), parsed in one pass into a
//! [`Menu`]. Parsing is pure: the caller passes the text and a way to tell whether an image
//! exists, and gets either a whole menu or every problem found, each with its line and key.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::menu::{
    AgeRating, Category, Combo, ComboChoice, ComboSlot, Date, Discount, Film, Id, Item, Menu, MenuIndex, ModifierGroup,
    ModifierOption, ProductInfo, Promo, PromoTarget, Showtime, StockRule, TaxCategory, Text, TimeOfDay, Venue, Weekday,
    Window,
};
use crate::money::{Currency, Money, TaxRate};

/// One thing wrong with a menu file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuProblem {
    /// 1-based line of the entry the problem is in, when known.
    pub line: Option<usize>,
    /// Where in the file, like `item "croque".price`.
    pub key: String,
    pub message: String,
}

/// A menu file that cannot be used, with every problem found in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct MenuError {
    pub file: String,
    pub problems: Vec<MenuProblem>,
}

impl fmt::Display for MenuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", self.file)?;
            if let Some(line) = problem.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": {}: {}", problem.key, problem.message)?;
        }
        Ok(())
    }
}

type Texts = BTreeMap<String, String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMenu {
    venue: RawVenue,
    #[serde(default)]
    tax: Vec<RawTax>,
    #[serde(default)]
    category: Vec<RawCategory>,
    #[serde(default)]
    modifier_group: Vec<RawGroup>,
    #[serde(default)]
    item: Vec<RawItem>,
    #[serde(default)]
    combo: Vec<RawCombo>,
    #[serde(default)]
    promo: Vec<RawPromo>,
    #[serde(default)]
    film: Vec<RawFilm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilm {
    id: Spanned<String>,
    title: Texts,
    description: Option<Texts>,
    poster: String,
    rating: String,
    duration_minutes: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPromo {
    code: Spanned<String>,
    name: Texts,
    percent: Option<String>,
    amount: Option<String>,
    item: Option<String>,
    category: Option<String>,
    valid_from: Option<String>,
    valid_until: Option<String>,
    max_uses: Option<u32>,
    min_basket: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVenue {
    name: Texts,
    currency: Spanned<String>,
    #[serde(default = "default_true")]
    prices_include_tax: bool,
    languages: Spanned<Vec<String>>,
    #[serde(default)]
    version: String,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTax {
    id: Spanned<String>,
    #[serde(default)]
    name: String,
    dine_in: String,
    take_away: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    id: Spanned<String>,
    name: Texts,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: Spanned<String>,
    name: Texts,
    min: u32,
    max: u32,
    #[serde(default)]
    option: Vec<RawOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    id: Spanned<String>,
    name: Texts,
    price: String,
    stock: Option<u32>,
    low_stock: Option<u32>,
    #[serde(default)]
    default: bool,
    image: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    #[serde(default)]
    days: Vec<String>,
    from: String,
    until: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShowtime {
    film: String,
    date: Option<String>,
    starts: String,
    screen: String,
    #[serde(default)]
    language: String,
    tickets: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    category: String,
    name: Texts,
    description: Option<Texts>,
    price: String,
    image: String,
    tax: String,
    #[serde(default)]
    allergens: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    modifiers: Vec<String>,
    #[serde(default)]
    upsell: Vec<String>,
    stock: Option<u32>,
    low_stock: Option<u32>,
    #[serde(default)]
    available: Vec<RawWindow>,
    showtime: Option<RawShowtime>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCombo {
    id: Spanned<String>,
    category: String,
    name: Texts,
    description: Option<Texts>,
    price: String,
    image: String,
    #[serde(default)]
    upsell: Vec<String>,
    #[serde(default)]
    available: Vec<RawWindow>,
    #[serde(default)]
    slot: Vec<RawSlot>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlot {
    id: Spanned<String>,
    name: Texts,
    choices: Vec<RawChoice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    item: String,
    supplement: Option<String>,
    #[serde(default)]
    default: bool,
}

/// Parses a menu file. `file` names it in messages; `image_exists` answers for each image
/// path the menu names (relative to the file).
pub fn parse(file: &str, source: &str, image_exists: &dyn Fn(&str) -> bool) -> Result<Menu, MenuError> {
    let raw: RawMenu = toml::from_str(source).map_err(|error| MenuError {
        file: file.to_owned(),
        problems: vec![MenuProblem {
            line: error.span().map(|span| line_of(source, span.start)),
            key: "syntax".to_owned(),
            message: error.message().trim().to_owned(),
        }],
    })?;
    let mut checker = Checker { source, problems: Vec::new(), languages: Vec::new(), image_exists };
    let menu = checker.menu(raw);
    if checker.problems.is_empty() {
        Ok(menu)
    } else {
        Err(MenuError { file: file.to_owned(), problems: checker.problems })
    }
}

/// The image files a menu may name, by extension.
const IMAGE_TYPES: [&str; 4] = [".svg", ".png", ".jpg", ".jpeg"];

fn line_of(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Where a problem is: the line of the entry and the key path inside it.
struct At<'a> {
    span: Range<usize>,
    key: &'a str,
}

struct Checker<'s> {
    source: &'s str,
    problems: Vec<MenuProblem>,
    languages: Vec<String>,
    image_exists: &'s dyn Fn(&str) -> bool,
}

impl Checker<'_> {
    fn report(&mut self, at: &At<'_>, field: &str, message: impl Into<String>) {
        let key = if field.is_empty() { at.key.to_owned() } else { format!("{}.{field}", at.key) };
        let line = Some(line_of(self.source, at.span.start));
        self.problems.push(MenuProblem { line, key, message: message.into() });
    }

    fn id(&mut self, at: &At<'_>, raw: &Spanned<String>) -> Id {
        Id::parse(raw.get_ref()).unwrap_or_else(|| {
            self.report(
                at,
                "id",
                format!(
                    "\"{}\" is not a valid id (lowercase letters, digits and '-', at most {} characters)",
                    raw.get_ref(),
                    Id::MAX_LEN
                ),
            );
            Id::parse("invalid").expect("a valid id")
        })
    }

    /// Parses an id that must not repeat among those in `seen` (`scope` says where).
    fn unique_id(&mut self, at: &At<'_>, raw: &Spanned<String>, seen: &mut HashSet<Id>, scope: &str) -> Id {
        let id = self.id(at, raw);
        if !seen.insert(id.clone()) {
            self.report(at, "id", format!("is used twice{scope}"));
        }
        id
    }

    fn price(&mut self, at: &At<'_>, field: &str, text: &str) -> Money {
        Money::parse_price(text).unwrap_or_else(|error| {
            self.report(at, field, error.to_string());
            Money::ZERO
        })
    }

    fn text(&mut self, at: &At<'_>, field: &str, texts: Texts) -> Text {
        let missing: Vec<&String> = self.languages.iter().filter(|l| !texts.contains_key(*l)).collect();
        if !missing.is_empty() {
            let list = missing.iter().map(|l| format!("\"{l}\"")).collect::<Vec<_>>().join(", ");
            self.report(at, field, format!("has no text in {list}"));
        }
        if let Some(extra) = texts.keys().find(|l| !self.languages.contains(l)) {
            self.report(at, field, format!("has a text in \"{extra}\", which is not one of the venue's languages"));
        }
        if let Some((language, _)) = texts.iter().find(|(_, t)| t.trim().is_empty()) {
            self.report(at, field, format!("the \"{language}\" text is empty"));
        }
        Text::new(texts)
    }

    fn optional_text(&mut self, at: &At<'_>, field: &str, texts: Option<Texts>) -> Text {
        texts.map(|t| self.text(at, field, t)).unwrap_or_default()
    }

    /// An image's path (`field` is "image" or a film's "poster").
    fn image(&mut self, at: &At<'_>, field: &str, path: String) -> String {
        let escapes = path.starts_with('/') || path.split(['/', '\\']).any(|part| part == "..");
        if path.trim().is_empty() {
            self.report(at, field, "is empty");
        } else if escapes {
            self.report(at, field, format!("\"{path}\" must be a path inside the menu's folder"));
        } else if !IMAGE_TYPES.iter().any(|ext| path.to_ascii_lowercase().ends_with(ext)) {
            self.report(at, field, format!("\"{path}\" is not an SVG, PNG or JPEG file"));
        } else if !(self.image_exists)(&path) {
            self.report(at, field, format!("file \"{path}\" not found"));
        }
        path
    }

    fn windows(&mut self, at: &At<'_>, raw: Vec<RawWindow>) -> Vec<Window> {
        let mut windows = Vec::new();
        for (index, window) in raw.into_iter().enumerate() {
            let field = format!("available[{index}]");
            let time = |checker: &mut Self, text: &str, name: &str| {
                TimeOfDay::parse(text).unwrap_or_else(|| {
                    checker.report(at, &format!("{field}.{name}"), format!("\"{text}\" is not a time like \"11:00\""));
                    TimeOfDay::default()
                })
            };
            let from = time(self, &window.from, "from");
            let until = time(self, &window.until, "until");
            if from == until {
                self.report(at, &field, "from and until are the same time");
            }
            let mut days = Vec::new();
            for day in &window.days {
                match Weekday::parse(day) {
                    Some(day) => days.push(day),
                    None => self.report(
                        at,
                        &format!("{field}.days"),
                        format!("\"{day}\" is not a day (mon, tue, wed, thu, fri, sat, sun)"),
                    ),
                }
            }
            windows.push(Window { days, from, until });
        }
        windows
    }

    fn menu(&mut self, raw: RawMenu) -> Menu {
        let venue = self.venue(raw.venue);
        let taxes = self.taxes(raw.tax);
        let categories = self.categories(raw.category);
        let item_ids: HashSet<String> = raw.item.iter().map(|i| i.id.get_ref().clone()).collect();
        let all_products: HashSet<String> =
            item_ids.iter().cloned().chain(raw.combo.iter().map(|c| c.id.get_ref().clone())).collect();
        let modifier_groups = self.groups(raw.modifier_group, &all_products);
        let films = self.films(raw.film);

        let tax_ids: HashSet<&Id> = taxes.iter().map(|t| &t.id).collect();
        let category_ids: HashSet<&Id> = categories.iter().map(|c| &c.id).collect();
        let references =
            References { taxes: tax_ids, categories: category_ids, groups: &modifier_groups, films: &films };

        let mut product_ids = BTreeSet::new();

        let mut items = Vec::new();
        for raw_item in raw.item {
            let key = format!("item \"{}\"", raw_item.id.get_ref());
            let at = At { span: raw_item.id.span(), key: &key };
            if !product_ids.insert(raw_item.id.get_ref().clone()) {
                self.report(&at, "id", "is used twice (items and combos share one set of ids)");
            }
            items.push(self.item(&at, raw_item, &references, &all_products));
        }
        let mut combos = Vec::new();
        for raw_combo in raw.combo {
            let key = format!("combo \"{}\"", raw_combo.id.get_ref());
            let at = At { span: raw_combo.id.span(), key: &key };
            if !product_ids.insert(raw_combo.id.get_ref().clone()) {
                self.report(&at, "id", "is used twice (items and combos share one set of ids)");
            }
            combos.push(self.combo(&at, raw_combo, &references, &item_ids, &all_products));
        }
        let promos = self.promos(raw.promo, &item_ids, &references);
        let mut menu = Menu {
            venue,
            taxes,
            categories,
            modifier_groups,
            items,
            combos,
            promos,
            films,
            index: MenuIndex::default(),
        };
        menu.index = MenuIndex::build(&menu);
        menu
    }

    fn promos(&mut self, raw: Vec<RawPromo>, items: &HashSet<String>, references: &References<'_>) -> Vec<Promo> {
        let mut seen = HashSet::new();
        let mut promos = Vec::new();
        for promo in raw {
            let code = promo.code.get_ref().trim().to_ascii_uppercase();
            let key = format!("promo \"{code}\"");
            let at = At { span: promo.code.span(), key: &key };
            let code_ok =
                (3..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !code_ok {
                self.report(&at, "code", "is 3 to 32 letters, digits or '-'");
            }
            if !seen.insert(code.clone()) {
                self.report(&at, "code", "is used twice");
            }
            let name = self.text(&at, "name", promo.name);
            let discount = match (promo.percent, promo.amount) {
                (Some(percent), None) => {
                    let value = rust_decimal::Decimal::from_str_exact(percent.trim()).ok();
                    match value.filter(|p| *p > rust_decimal::Decimal::ZERO && *p <= rust_decimal::Decimal::ONE_HUNDRED)
                    {
                        Some(value) => Discount::Percent(value),
                        None => {
                            self.report(
                                &at,
                                "percent",
                                format!("\"{percent}\" is not a percentage above 0 and at most 100"),
                            );
                            Discount::Percent(rust_decimal::Decimal::ONE)
                        }
                    }
                }
                (None, Some(amount)) => {
                    let amount = self.price(&at, "amount", &amount);
                    if amount.is_zero() {
                        self.report(&at, "amount", "must be more than 0.00");
                    }
                    Discount::Amount(amount)
                }
                _ => {
                    self.report(&at, "percent", "give either percent or amount");
                    Discount::Percent(rust_decimal::Decimal::ONE)
                }
            };
            let target = match (promo.item, promo.category) {
                (None, None) => PromoTarget::Order,
                (Some(item), None) => match Id::parse(&item).filter(|i| items.contains(i.as_str())) {
                    Some(item) => PromoTarget::Item(item),
                    None => {
                        self.report(&at, "item", format!("unknown item \"{item}\""));
                        PromoTarget::Order
                    }
                },
                (None, Some(category)) => match Id::parse(&category).filter(|c| references.categories.contains(c)) {
                    Some(category) => PromoTarget::Category(category),
                    None => {
                        self.report(&at, "category", format!("unknown category \"{category}\""));
                        PromoTarget::Order
                    }
                },
                (Some(_), Some(_)) => {
                    self.report(&at, "item", "give an item or a category, not both");
                    PromoTarget::Order
                }
            };
            let date = |checker: &mut Self, text: Option<String>, field: &str| {
                text.and_then(|text| {
                    Date::parse(&text).or_else(|| {
                        checker.report(&at, field, format!("\"{text}\" is not a date like \"2026-12-31\""));
                        None
                    })
                })
            };
            let valid_from = date(self, promo.valid_from, "valid_from");
            let valid_until = date(self, promo.valid_until, "valid_until");
            if let (Some(from), Some(until)) = (valid_from, valid_until)
                && from > until
            {
                self.report(&at, "valid_until", format!("{until} is before valid_from {from}"));
            }
            if promo.max_uses == Some(0) {
                self.report(&at, "max_uses", "must be at least 1");
            }
            let min_basket = promo.min_basket.map(|text| self.price(&at, "min_basket", &text));
            promos.push(Promo {
                code,
                name,
                discount,
                target,
                valid_from,
                valid_until,
                max_uses: promo.max_uses,
                min_basket,
            });
        }
        promos
    }

    fn venue(&mut self, raw: RawVenue) -> Venue {
        let span = raw.languages.span();
        let at = At { span: span.clone(), key: "venue" };
        let languages = raw.languages.into_inner();
        if languages.is_empty() {
            self.report(&at, "languages", "lists no language");
        }
        for language in &languages {
            let well_formed = (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_lowercase());
            if !well_formed {
                self.report(&at, "languages", format!("\"{language}\" is not a language code like \"fr\""));
            }
        }
        let unique: BTreeSet<&String> = languages.iter().collect();
        if unique.len() != languages.len() {
            self.report(&at, "languages", "lists a language twice");
        }
        self.languages = languages.clone();
        let currency = Currency::parse(raw.currency.get_ref()).unwrap_or_else(|| {
            let at = At { span: raw.currency.span(), key: "venue" };
            self.report(
                &at,
                "currency",
                format!("\"{}\" is not a known currency (EUR, USD, GBP, CHF)", raw.currency.get_ref()),
            );
            Currency::Eur
        });
        let name = self.text(&at, "name", raw.name);
        Venue { name, currency, prices_include_tax: raw.prices_include_tax, languages, version_label: raw.version }
    }

    fn taxes(&mut self, raw: Vec<RawTax>) -> Vec<TaxCategory> {
        let mut seen = HashSet::new();
        let mut taxes = Vec::new();
        for tax in raw {
            let key = format!("tax \"{}\"", tax.id.get_ref());
            let at = At { span: tax.id.span(), key: &key };
            let id = self.unique_id(&at, &tax.id, &mut seen, "");
            let rate = |checker: &mut Self, text: &str, field: &str| {
                TaxRate::parse(text).unwrap_or_else(|| {
                    checker.report(&at, field, format!("\"{text}\" is not a rate in percent between 0 and 100"));
                    TaxRate::parse("0").expect("zero is a rate")
                })
            };
            let dine_in = rate(self, &tax.dine_in, "dine_in");
            let take_away = rate(self, &tax.take_away, "take_away");
            taxes.push(TaxCategory { id, name: tax.name, dine_in, take_away });
        }
        if taxes.is_empty() {
            self.problems.push(MenuProblem {
                line: None,
                key: "tax".into(),
                message: "the menu has no tax category".into(),
            });
        }
        taxes
    }

    fn films(&mut self, raw: Vec<RawFilm>) -> Vec<Film> {
        let mut seen = HashSet::new();
        let mut films = Vec::new();
        for film in raw {
            let key = format!("film \"{}\"", film.id.get_ref());
            let at = At { span: film.id.span(), key: &key };
            let id = self.unique_id(&at, &film.id, &mut seen, " by another film");
            let title = self.text(&at, "title", film.title);
            let description = self.optional_text(&at, "description", film.description);
            let poster = self.image(&at, "poster", film.poster);
            let rating = AgeRating::parse(&film.rating).unwrap_or_else(|| {
                let known = AgeRating::ALL.map(|rating| format!("\"{}\"", rating.as_str())).join(", ");
                self.report(&at, "rating", format!("\"{}\" is not a rating: one of {known}", film.rating));
                AgeRating::AllAudiences
            });
            if film.duration_minutes == 0 {
                self.report(&at, "duration_minutes", "must be at least 1");
            }
            films.push(Film { id, title, description, poster, rating, duration_minutes: film.duration_minutes });
        }
        films
    }

    fn categories(&mut self, raw: Vec<RawCategory>) -> Vec<Category> {
        let mut seen = HashSet::new();
        let mut categories = Vec::new();
        for category in raw {
            let key = format!("category \"{}\"", category.id.get_ref());
            let at = At { span: category.id.span(), key: &key };
            let id = self.unique_id(&at, &category.id, &mut seen, "");
            let name = self.text(&at, "name", category.name);
            categories.push(Category { id, name });
        }
        categories
    }

    /// `products`: the ids of the items and combos, which no counted option may take.
    fn groups(&mut self, raw: Vec<RawGroup>, products: &HashSet<String>) -> Vec<ModifierGroup> {
        let mut seen = HashSet::new();
        // A counted option is counted under its own id: it names nothing else counted or sold.
        let mut counted = HashSet::new();
        let mut groups = Vec::new();
        for group in raw {
            let key = format!("modifier_group \"{}\"", group.id.get_ref());
            let at = At { span: group.id.span(), key: &key };
            let id = self.unique_id(&at, &group.id, &mut seen, "");
            let name = self.text(&at, "name", group.name);
            if group.min > group.max {
                self.report(&at, "min", format!("min {} is larger than max {}", group.min, group.max));
            }
            if group.max == 0 {
                self.report(&at, "max", "must be at least 1");
            }
            if group.min as usize > group.option.len() {
                self.report(
                    &at,
                    "min",
                    format!("min {} is more than the {} options the group has", group.min, group.option.len()),
                );
            }
            let mut option_ids = HashSet::new();
            let mut options = Vec::new();
            for option in group.option {
                let option_key = format!("{key}.option \"{}\"", option.id.get_ref());
                let at = At { span: option.id.span(), key: &option_key };
                let option_id = self.unique_id(&at, &option.id, &mut option_ids, " in this group");
                let name = self.text(&at, "name", option.name);
                let price = self.price(&at, "price", &option.price);
                let stock = self.stock_rule(&at, option.stock, option.low_stock);
                if stock.is_some() {
                    if products.contains(option_id.as_str()) {
                        self.report(
                            &at,
                            "stock",
                            "is counted under its id, which an item or combo has: give it its own",
                        );
                    } else if !counted.insert(option_id.clone()) {
                        self.report(&at, "stock", "is counted under its id, which another counted option has");
                    }
                }
                let image = option.image.map(|path| self.image(&at, "image", path));
                options.push(ModifierOption { id: option_id, name, price, stock, default: option.default, image });
            }
            let defaults = options.iter().filter(|option| option.default).count();
            if defaults > group.max as usize {
                self.report(
                    &at,
                    "option",
                    format!("{defaults} options are defaults, more than the group's max {}", group.max),
                );
            }
            groups.push(ModifierGroup { id, name, min: group.min, max: group.max, options });
        }
        groups
    }

    /// `stock` makes an item or an option counted; only then may it have a `low_stock`.
    fn stock_rule(&mut self, at: &At<'_>, stock: Option<u32>, low_stock: Option<u32>) -> Option<StockRule> {
        match (stock, low_stock) {
            (Some(initial), low) => Some(StockRule { initial, low_threshold: low.unwrap_or(0) }),
            (None, Some(_)) => {
                self.report(at, "low_stock", "is set but stock is not (only what is counted has a threshold)");
                None
            }
            (None, None) => None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn product_info(
        &mut self,
        at: &At<'_>,
        id: &Spanned<String>,
        category: String,
        name: Texts,
        description: Option<Texts>,
        price: &str,
        image: String,
        available: Vec<RawWindow>,
        upsell: Vec<String>,
        references: &References<'_>,
        products: &HashSet<String>,
    ) -> ProductInfo {
        let id = self.id(at, id);
        let category = match Id::parse(&category).filter(|c| references.categories.contains(c)) {
            Some(category) => category,
            None => {
                self.report(at, "category", format!("unknown category \"{category}\""));
                id.clone()
            }
        };
        let name = self.text(at, "name", name);
        let description = self.optional_text(at, "description", description);
        let price = self.price(at, "price", price);
        let image = self.image(at, "image", image);
        let availability = self.windows(at, available);
        let mut suggestions = Vec::new();
        for suggestion in upsell {
            match Id::parse(&suggestion).filter(|s| products.contains(s.as_str())) {
                Some(s) if s == id => self.report(at, "upsell", "suggests the product itself"),
                Some(s) => suggestions.push(s),
                None => self.report(at, "upsell", format!("unknown item or combo \"{suggestion}\"")),
            }
        }
        ProductInfo { id, category, name, description, price, image, availability, ends: None, upsell: suggestions }
    }

    fn item(&mut self, at: &At<'_>, raw: RawItem, references: &References<'_>, products: &HashSet<String>) -> Item {
        let info = self.product_info(
            at,
            &raw.id,
            raw.category,
            raw.name,
            raw.description,
            &raw.price,
            raw.image,
            raw.available,
            raw.upsell,
            references,
            products,
        );
        let tax = match Id::parse(&raw.tax).filter(|t| references.taxes.contains(t)) {
            Some(tax) => tax,
            None => {
                self.report(at, "tax", format!("unknown tax category \"{}\"", raw.tax));
                info.id.clone()
            }
        };
        let showtime = raw.showtime.map(|show| self.showtime(at, show, references));
        let info = ProductInfo { ends: showtime.as_ref().and_then(|show| Some((show.date?, show.starts))), ..info };
        // A showing's ticket types come first among its groups.
        let mut modifier_groups: Vec<Id> = showtime.iter().filter_map(|show| show.tickets.clone()).collect();
        for group in raw.modifiers {
            match Id::parse(&group).filter(|g| references.group(g).is_some()) {
                Some(g) if modifier_groups.contains(&g) => {
                    let tickets = showtime.as_ref().is_some_and(|show| show.tickets.as_ref() == Some(&g));
                    let why = if tickets { ", the showtime's tickets already" } else { " twice" };
                    self.report(at, "modifiers", format!("names \"{group}\"{why}"))
                }
                Some(g) => modifier_groups.push(g),
                None => self.report(at, "modifiers", format!("unknown modifier group \"{group}\"")),
            }
        }
        let stock = self.stock_rule(at, raw.stock, raw.low_stock);
        Item { info, tax, allergens: raw.allergens, tags: raw.tags, modifier_groups, stock, showtime }
    }

    /// A showing: its film known, its ticket types a group of single choices.
    fn showtime(&mut self, at: &At<'_>, show: RawShowtime, references: &References<'_>) -> Showtime {
        let film = match Id::parse(&show.film).filter(|film| references.films.iter().any(|f| f.id == *film)) {
            Some(film) => film,
            None => {
                self.report(at, "showtime.film", format!("unknown film \"{}\"", show.film));
                Id::parse("unknown").expect("a valid id")
            }
        };
        let starts = TimeOfDay::parse(&show.starts).unwrap_or_else(|| {
            self.report(at, "showtime.starts", format!("\"{}\" is not a time like \"20:30\"", show.starts));
            TimeOfDay::default()
        });
        let tickets = show.tickets.and_then(|tickets| {
            let Some(group) = Id::parse(&tickets).and_then(|id| references.group(&id)) else {
                self.report(at, "showtime.tickets", format!("unknown modifier group \"{tickets}\""));
                return None;
            };
            if (group.min, group.max) != (1, 1) {
                self.report(
                    at,
                    "showtime.tickets",
                    format!("\"{tickets}\" must have min = 1 and max = 1: a ticket is of one type"),
                );
            }
            Some(group.id.clone())
        });
        let date = show.date.and_then(|date| {
            let parsed = Date::parse(&date);
            if parsed.is_none() {
                self.report(at, "showtime.date", format!("\"{date}\" is not a date like \"2026-12-31\""));
            }
            parsed
        });
        Showtime { film, date, starts, screen: show.screen, language: show.language, tickets }
    }

    fn combo(
        &mut self,
        at: &At<'_>,
        raw: RawCombo,
        references: &References<'_>,
        items: &HashSet<String>,
        products: &HashSet<String>,
    ) -> Combo {
        let info = self.product_info(
            at,
            &raw.id,
            raw.category,
            raw.name,
            raw.description,
            &raw.price,
            raw.image,
            raw.available,
            raw.upsell,
            references,
            products,
        );
        if raw.slot.is_empty() {
            self.report(at, "slot", "a combo needs at least one slot");
        }
        let mut slot_ids = HashSet::new();
        let mut slots = Vec::new();
        for slot in raw.slot {
            let slot_key = format!("{}.slot \"{}\"", at.key, slot.id.get_ref());
            let slot_at = At { span: slot.id.span(), key: &slot_key };
            let id = self.unique_id(&slot_at, &slot.id, &mut slot_ids, " in this combo");
            let name = self.text(&slot_at, "name", slot.name);
            if slot.choices.is_empty() {
                self.report(&slot_at, "choices", "lists no item");
            }
            let mut choices: Vec<ComboChoice> = Vec::new();
            for choice in slot.choices {
                let supplement =
                    choice.supplement.as_deref().map_or(Money::ZERO, |s| self.price(&slot_at, "supplement", s));
                match Id::parse(&choice.item).filter(|i| items.contains(i.as_str())) {
                    Some(item) if choices.iter().any(|c| c.item == item) => {
                        self.report(&slot_at, "choices", format!("names \"{item}\" twice"))
                    }
                    Some(item) => choices.push(ComboChoice { item, supplement, default: choice.default }),
                    None => self.report(&slot_at, "choices", format!("unknown item \"{}\"", choice.item)),
                }
            }
            if choices.iter().filter(|choice| choice.default).count() > 1 {
                self.report(&slot_at, "choices", "names more than one default: a slot holds one item");
            }
            slots.push(ComboSlot { id, name, choices });
        }
        Combo { info, slots }
    }
}

impl Default for TimeOfDay {
    fn default() -> Self {
        TimeOfDay::new(0, 0).expect("midnight is a time")
    }
}

struct References<'a> {
    taxes: HashSet<&'a Id>,
    categories: HashSet<&'a Id>,
    groups: &'a [ModifierGroup],
    films: &'a [Film],
}

impl References<'_> {
    fn group(&self, id: &Id) -> Option<&ModifierGroup> {
        self.groups.iter().find(|group| group.id == *id)
    }
}
