//! The catalog a kiosk sells from, as validated types. A `Menu` can only be built by
//! [`crate::menu_file::parse`], so every reference inside it resolves and every rule of the
//! menu format holds.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money, TaxRate};

/// An identifier from the menu file: lowercase letters, digits and `-`. Shared, so that
/// quotes copy ids without allocating.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(Arc<str>);

impl Id {
    pub const MAX_LEN: usize = 48;

    pub fn parse(text: &str) -> Option<Id> {
        let valid = !text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-');
        valid.then(|| Id(Arc::from(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for Id {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A text in every language of the venue. Shared, like [`Id`].
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(Arc<BTreeMap<String, String>>);

impl Text {
    pub(crate) fn new(by_language: BTreeMap<String, String>) -> Text {
        Text(Arc::new(by_language))
    }

    /// The text in `language`, or in any language when that one is missing (only an empty
    /// optional text can lack one).
    pub fn get(&self, language: &str) -> &str {
        self.0.get(language).or_else(|| self.0.values().next()).map_or("", String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// How the customer will eat: it picks each item's tax rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumptionMode {
    DineIn,
    TakeAway,
}

impl ConsumptionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumptionMode::DineIn => "dine_in",
            ConsumptionMode::TakeAway => "take_away",
        }
    }

    pub fn parse(text: &str) -> Option<ConsumptionMode> {
        [ConsumptionMode::DineIn, ConsumptionMode::TakeAway].into_iter().find(|mode| mode.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Venue {
    pub name: Text,
    pub currency: Currency,
    pub prices_include_tax: bool,
    /// The languages every text has; the first is the default.
    pub languages: Vec<String>,
    pub version_label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaxCategory {
    pub id: Id,
    pub name: String,
    pub dine_in: TaxRate,
    pub take_away: TaxRate,
}

impl TaxCategory {
    pub fn rate(&self, mode: ConsumptionMode) -> TaxRate {
        match mode {
            ConsumptionMode::DineIn => self.dine_in,
            ConsumptionMode::TakeAway => self.take_away,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Category {
    pub id: Id,
    pub name: Text,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] =
        [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

    pub fn parse(text: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|day| day.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    fn previous(self) -> Weekday {
        let index = Weekday::ALL.iter().position(|d| *d == self).unwrap_or(0);
        Weekday::ALL[(index + 6) % 7]
    }
}

/// A time of day in minutes after midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub fn new(hour: u32, minute: u32) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then(|| TimeOfDay((hour * 60 + minute) as u16))
    }

    /// Parses "HH:MM" (24-hour clock).
    pub fn parse(text: &str) -> Option<TimeOfDay> {
        let (hour, minute) = text.split_once(':')?;
        if hour.len() != 2 || minute.len() != 2 {
            return None;
        }
        TimeOfDay::new(hour.parse().ok()?, minute.parse().ok()?)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// A calendar date, "YYYY-MM-DD".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }

    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.split('-');
        let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl From<Date> for String {
    fn from(date: Date) -> String {
        date.to_string()
    }
}

/// The local moment a sale happens, passed in by the caller (the core reads no clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalMoment {
    pub date: Date,
    pub weekday: Weekday,
    pub time: TimeOfDay,
}

/// When an item may be sold. `until` is exclusive; a window whose end is before its start
/// runs past midnight, and its `days` name the day it starts on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Window {
    pub days: Vec<Weekday>,
    pub from: TimeOfDay,
    pub until: TimeOfDay,
}

impl Window {
    pub fn contains(&self, moment: LocalMoment) -> bool {
        let on = |day: Weekday| self.days.is_empty() || self.days.contains(&day);
        if self.from <= self.until {
            on(moment.weekday) && self.from <= moment.time && moment.time < self.until
        } else {
            (on(moment.weekday) && moment.time >= self.from)
                || (on(moment.weekday.previous()) && moment.time < self.until)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StockRule {
    pub initial: u32,
    pub low_threshold: u32,
}

/// One showing of a film: an item whose stock is the room's seats left.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Showtime {
    pub film: Id,
    /// The day of the showing, sold ahead until it starts; `None`: every day the menu is in
    /// use, its availability windows ending its sale.
    pub date: Option<Date>,
    pub starts: TimeOfDay,
    pub screen: String,
    pub language: String,
    /// The modifier group whose options are the showing's ticket types (full price,
    /// reduced...), the item's first group; chosen per ticket, several of them in one step.
    pub tickets: Option<Id>,
}

/// A film, which its showings (items with a showtime) name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Film {
    pub id: Id,
    pub title: Text,
    pub description: Text,
    /// Path of the poster, relative to the menu file.
    pub poster: String,
    pub rating: AgeRating,
    pub duration_minutes: u32,
}

/// Who may see a film (the French classification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AgeRating {
    #[serde(rename = "tous-publics")]
    AllAudiences,
    #[serde(rename = "-12")]
    Over12,
    #[serde(rename = "-16")]
    Over16,
    #[serde(rename = "-18")]
    Over18,
}

impl AgeRating {
    pub const ALL: [AgeRating; 4] = [AgeRating::AllAudiences, AgeRating::Over12, AgeRating::Over16, AgeRating::Over18];

    /// As the menu file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AgeRating::AllAudiences => "tous-publics",
            AgeRating::Over12 => "-12",
            AgeRating::Over16 => "-16",
            AgeRating::Over18 => "-18",
        }
    }

    pub fn parse(text: &str) -> Option<AgeRating> {
        AgeRating::ALL.into_iter().find(|rating| rating.as_str() == text)
    }

    /// The youngest age admitted (0 for all audiences).
    pub fn minimum_age(self) -> u32 {
        match self {
            AgeRating::AllAudiences => 0,
            AgeRating::Over12 => 12,
            AgeRating::Over16 => 16,
            AgeRating::Over18 => 18,
        }
    }
}

/// Things a product (item or combo) has in common.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProductInfo {
    pub id: Id,
    pub category: Id,
    pub name: Text,
    pub description: Text,
    pub price: Money,
    /// Path of the image, relative to the menu file.
    pub image: String,
    pub availability: Vec<Window>,
    /// No sale from this day and time on: a dated showing's start.
    pub ends: Option<(Date, TimeOfDay)>,
    pub upsell: Vec<Id>,
}

impl ProductInfo {
    pub fn is_available_at(&self, moment: LocalMoment) -> bool {
        let ended = self.ends.is_some_and(|end| (moment.date, moment.time) >= end);
        !ended && (self.availability.is_empty() || self.availability.iter().any(|w| w.contains(moment)))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    #[serde(flatten)]
    pub info: ProductInfo,
    pub tax: Id,
    pub allergens: Vec<String>,
    pub tags: Vec<String>,
    pub modifier_groups: Vec<Id>,
    pub stock: Option<StockRule>,
    pub showtime: Option<Showtime>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModifierGroup {
    pub id: Id,
    pub name: Text,
    pub min: u32,
    pub max: u32,
    pub options: Vec<ModifierOption>,
}

impl ModifierGroup {
    pub fn option(&self, id: &str) -> Option<&ModifierOption> {
        self.options.iter().find(|o| o.id.as_str() == id)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModifierOption {
    pub id: Id,
    pub name: Text,
    pub price: Money,
    /// Counted (under its own id, unique among what is counted): a sold-out option cannot be
    /// chosen.
    pub stock: Option<StockRule>,
    /// Chosen already when the item's sheet opens (the customer may change it).
    pub default: bool,
    /// Path of its picture on the sheet's tile, relative to the menu file.
    pub image: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Combo {
    #[serde(flatten)]
    pub info: ProductInfo,
    pub slots: Vec<ComboSlot>,
}

impl Combo {
    /// What a meal of this combo made from `item` costs over the item alone, at the least:
    /// the combo's price with the item's supplement in the slot that takes it and the
    /// cheapest choice of every other slot, less the item's price (the item's options cost
    /// the same in both). None when no slot takes the item.
    pub fn price_over(&self, item: &Item) -> Option<Money> {
        let mut extra = self.info.price;
        let mut taken = false;
        for slot in &self.slots {
            match slot.choices.iter().find(|choice| choice.item == item.info.id) {
                Some(choice) if !taken => {
                    taken = true;
                    extra += choice.supplement;
                }
                _ => extra += slot.choices.iter().map(|choice| choice.supplement).min().unwrap_or(Money::ZERO),
            }
        }
        taken.then(|| extra - item.info.price)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComboSlot {
    pub id: Id,
    pub name: Text,
    pub choices: Vec<ComboChoice>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComboChoice {
    pub item: Id,
    pub supplement: Money,
    /// The slot's item when the combo's sheet opens (the customer may change it).
    pub default: bool,
}

/// A promotion, used through its code.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Promo {
    /// Upper case; customers may type it in any case.
    pub code: String,
    pub name: Text,
    pub discount: Discount,
    pub target: PromoTarget,
    /// First and last day it can be used (inclusive).
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
    pub max_uses: Option<u32>,
    /// The cart must come to at least this before the discount.
    pub min_basket: Option<Money>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Discount {
    /// Percent off, more than 0 and at most 100.
    Percent(rust_decimal::Decimal),
    /// An amount off, at most what it applies to.
    Amount(Money),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromoTarget {
    Order,
    Item(Id),
    Category(Id),
}

impl fmt::Display for PromoTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromoTarget::Order => f.write_str("the order"),
            PromoTarget::Item(item) => write!(f, "\"{item}\""),
            PromoTarget::Category(category) => write!(f, "the category \"{category}\""),
        }
    }
}

/// What a cart line can name.
#[derive(Clone, Copy, Debug)]
pub enum Product<'m> {
    Item(&'m Item),
    Combo(&'m Combo),
}

impl<'m> Product<'m> {
    pub fn info(self) -> &'m ProductInfo {
        match self {
            Product::Item(item) => &item.info,
            Product::Combo(combo) => &combo.info,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Menu {
    pub venue: Venue,
    pub taxes: Vec<TaxCategory>,
    pub categories: Vec<Category>,
    pub modifier_groups: Vec<ModifierGroup>,
    pub items: Vec<Item>,
    pub combos: Vec<Combo>,
    pub promos: Vec<Promo>,
    pub films: Vec<Film>,
    #[serde(skip)]
    pub(crate) index: MenuIndex,
}

/// Positions by id, so that quoting a cart does no linear search.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct MenuIndex {
    pub(crate) items: HashMap<Id, usize>,
    pub(crate) combos: HashMap<Id, usize>,
    pub(crate) groups: HashMap<Id, usize>,
    pub(crate) taxes: HashMap<Id, usize>,
}

impl MenuIndex {
    pub(crate) fn build(menu: &Menu) -> MenuIndex {
        fn positions<T>(list: &[T], id: impl Fn(&T) -> &Id) -> HashMap<Id, usize> {
            list.iter().enumerate().map(|(index, entry)| (id(entry).clone(), index)).collect()
        }
        MenuIndex {
            items: positions(&menu.items, |i| &i.info.id),
            combos: positions(&menu.combos, |c| &c.info.id),
            groups: positions(&menu.modifier_groups, |g| &g.id),
            taxes: positions(&menu.taxes, |t| &t.id),
        }
    }
}

/// Something the kiosk can count: an item, or an option counted under its own id.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stockable<'m> {
    pub id: &'m Id,
    pub name: &'m Text,
    /// How the menu counts it; `None` for an item the menu does not count (staff may).
    pub stock: Option<&'m StockRule>,
}

impl Menu {
    /// What can be counted, in menu order: every item, then the counted options.
    pub fn stockables(&self) -> impl Iterator<Item = Stockable<'_>> {
        let items = self.items.iter().map(|item| Stockable {
            id: &item.info.id,
            name: &item.info.name,
            stock: item.stock.as_ref(),
        });
        let options = self.modifier_groups.iter().flat_map(|group| &group.options).filter_map(|option| {
            Some(Stockable { id: &option.id, name: &option.name, stock: Some(option.stock.as_ref()?) })
        });
        items.chain(options)
    }

    pub fn stockable(&self, id: &str) -> Option<Stockable<'_>> {
        self.stockables().find(|stockable| stockable.id.as_str() == id)
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.index.items.get(id).map(|&i| &self.items[i])
    }

    pub fn combo(&self, id: &str) -> Option<&Combo> {
        self.index.combos.get(id).map(|&i| &self.combos[i])
    }

    pub fn product(&self, id: &str) -> Option<Product<'_>> {
        self.item(id).map(Product::Item).or_else(|| self.combo(id).map(Product::Combo))
    }

    pub fn film(&self, id: &str) -> Option<&Film> {
        self.films.iter().find(|film| film.id.as_str() == id)
    }

    pub fn modifier_group(&self, id: &str) -> Option<&ModifierGroup> {
        self.index.groups.get(id).map(|&i| &self.modifier_groups[i])
    }

    /// The promotion with this code, in any case.
    pub fn promo(&self, code: &str) -> Option<&Promo> {
        let code = code.trim().to_ascii_uppercase();
        self.promos.iter().find(|p| p.code == code)
    }

    pub fn tax(&self, id: &str) -> Option<&TaxCategory> {
        self.index.taxes.get(id).map(|&i| &self.taxes[i])
    }

    /// Every image the menu names, each once.
    pub fn images(&self) -> Vec<&str> {
        let mut images: Vec<&str> = self
            .items
            .iter()
            .map(|i| i.info.image.as_str())
            .chain(self.combos.iter().map(|c| c.info.image.as_str()))
            .chain(self.films.iter().map(|f| f.poster.as_str()))
            .chain(self.modifier_groups.iter().flat_map(|g| &g.options).filter_map(|o| o.image.as_deref()))
            .collect();
        images.sort_unstable();
        images.dedup();
        images
    }
}
