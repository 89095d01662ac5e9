//! Menu files: the fixture parses, and each kind of bad input is refused with the file, the
//! line, the key and the problem.

use kiosk_core::menu::{AgeRating, Date, LocalMoment, TimeOfDay, Weekday};
use kiosk_core::menu_file::{self, MenuError};

const SMALL_MENU: &str = include_str!("fixtures/small-menu.toml");

fn parse(source: &str) -> Result<kiosk_core::menu::Menu, MenuError> {
    menu_file::parse("menu.toml", source, &|path| path != "missing.svg")
}

/// The fixture with `from` replaced by `to` (which must be there).
fn broken(from: &str, to: &str) -> String {
    assert!(SMALL_MENU.contains(from), "the fixture has no {from:?}");
    SMALL_MENU.replacen(from, to, 1)
}

fn line_of(source: &str, needle: &str) -> usize {
    source[..source.find(needle).expect("needle in source")].matches('\n').count() + 1
}

#[test]
fn the_fixture_parses() {
    let menu = parse(SMALL_MENU).unwrap();
    assert_eq!((menu.items.len(), menu.combos.len(), menu.modifier_groups.len()), (4, 1, 2));
    assert_eq!(menu.item("burger").unwrap().stock.as_ref().unwrap().low_threshold, 3);
    let counted: Vec<&str> = menu.stockables().filter(|s| s.stock.is_some()).map(|s| s.id.as_str()).collect();
    assert_eq!(counted, ["burger", "beer", "egg"], "counted items, then counted options");
    assert_eq!(menu.images(), vec!["beer.svg", "burger.svg", "cola.svg", "menu.svg", "salad.svg"]);
}

#[test]
fn each_bad_input_names_file_line_key_and_problem() {
    let burger_line = line_of(SMALL_MENU, "id = \"burger\"");
    let cases: Vec<(String, String)> = vec![
        (
            broken("price = \"9.50\"", "price = \"-9.50\""),
            format!("menu.toml:{burger_line}: item \"burger\".price: \"-9.50\" is negative"),
        ),
        (
            broken("id = \"salad\"", "id = \"burger\""),
            format!(
                "menu.toml:{}: item \"burger\".id: is used twice (items and combos share one set of ids)\n\
                 menu.toml:{}: combo \"menu\".slot \"main\".choices: unknown item \"salad\"",
                line_of(SMALL_MENU, "id = \"salad\""),
                line_of(SMALL_MENU, "id = \"main\""),
            ),
        ),
        (
            broken("{ item = \"beer\", supplement = \"1.50\" }", "{ item = \"wine\" }"),
            format!(
                "menu.toml:{}: combo \"menu\".slot \"drink\".choices: unknown item \"wine\"",
                line_of(SMALL_MENU, "id = \"drink\"")
            ),
        ),
        (
            broken("min = 1\nmax = 1", "min = 2\nmax = 1"),
            format!(
                "menu.toml:{}: modifier_group \"cooking\".min: min 2 is larger than max 1",
                line_of(SMALL_MENU, "id = \"cooking\"")
            ),
        ),
        (
            broken("id = \"egg\"", "id = \"cola\""),
            format!(
                "menu.toml:{}: modifier_group \"extras\".option \"cola\".stock: is counted under its id, which an item or combo has: give it its own",
                line_of(SMALL_MENU, "id = \"egg\"")
            ),
        ),
        (
            broken("id = \"rare\"", "id = \"egg\"\n  stock = 3"),
            format!(
                "menu.toml:{}: modifier_group \"extras\".option \"egg\".stock: is counted under its id, which another counted option has",
                // One line further down: the line broken above it became two.
                line_of(SMALL_MENU, "id = \"egg\"") + 1
            ),
        ),
        (
            broken("price = \"0.80\"", "price = \"0.80\"\n  low_stock = 2"),
            format!(
                "menu.toml:{}: modifier_group \"extras\".option \"cheese\".low_stock: is set but stock is not (only what is counted has a threshold)",
                line_of(SMALL_MENU, "id = \"cheese\"")
            ),
        ),
        (
            broken("tax = \"alcohol\"", "tax = \"booze\""),
            format!(
                "menu.toml:{}: item \"beer\".tax: unknown tax category \"booze\"",
                line_of(SMALL_MENU, "id = \"beer\"")
            ),
        ),
        (
            broken("image = \"cola.svg\"", "image = \"missing.svg\""),
            format!(
                "menu.toml:{}: item \"cola\".image: file \"missing.svg\" not found",
                line_of(SMALL_MENU, "id = \"cola\"")
            ),
        ),
        (
            broken("image = \"cola.svg\"", "image = \"../../etc/passwd\""),
            format!(
                "menu.toml:{}: item \"cola\".image: \"../../etc/passwd\" must be a path inside the menu's folder",
                line_of(SMALL_MENU, "id = \"cola\"")
            ),
        ),
        (
            broken("image = \"cola.svg\"", "image = \"cola.gif\""),
            format!(
                "menu.toml:{}: item \"cola\".image: \"cola.gif\" is not an SVG, PNG or JPEG file",
                line_of(SMALL_MENU, "id = \"cola\"")
            ),
        ),
        (
            broken("name = { fr = \"Cola\", en = \"Cola\" }", "name = { fr = \"Cola\" }"),
            format!("menu.toml:{}: item \"cola\".name: has no text in \"en\"", line_of(SMALL_MENU, "id = \"cola\"")),
        ),
        (
            broken("category = \"drinks\"", "category = \"sodas\""),
            format!(
                "menu.toml:{}: item \"cola\".category: unknown category \"sodas\"",
                line_of(SMALL_MENU, "id = \"cola\"")
            ),
        ),
        (
            broken("take_away = \"5.5\"", "take_away = \"five\""),
            format!(
                "menu.toml:{}: tax \"cold\".take_away: \"five\" is not a rate in percent between 0 and 100",
                line_of(SMALL_MENU, "id = \"cold\"")
            ),
        ),
        (
            broken("from = \"11:00\"", "from = \"25:00\""),
            format!(
                "menu.toml:{}: item \"salad\".available[0].from: \"25:00\" is not a time like \"11:00\"",
                line_of(SMALL_MENU, "id = \"salad\"")
            ),
        ),
        (
            broken("price = \"3.00\"", "price = 3.00"),
            format!(
                "menu.toml:{}: syntax: invalid type: floating point `3.0`, expected a string",
                line_of(SMALL_MENU, "price = \"3.00\"")
            ),
        ),
        (
            broken(
                "  name = { fr = \"Saignant\", en = \"Rare\" }\n",
                "  name = { fr = \"Saignant\", en = \"Rare\" }\n  default = true\n",
            )
            .replace(
                "  name = { fr = \"Bien cuit\", en = \"Well done\" }\n",
                "  name = { fr = \"Bien cuit\", en = \"Well done\" }\n  default = true\n",
            ),
            format!(
                "menu.toml:{}: modifier_group \"cooking\".option: 2 options are defaults, more than the group's max 1",
                line_of(SMALL_MENU, "id = \"cooking\"")
            ),
        ),
        (
            broken("{ item = \"cola\" }", "{ item = \"cola\", default = true }").replace(
                "{ item = \"beer\", supplement = \"1.50\" }",
                "{ item = \"beer\", supplement = \"1.50\", default = true }",
            ),
            format!(
                "menu.toml:{}: combo \"menu\".slot \"drink\".choices: names more than one default: a slot holds one item",
                line_of(SMALL_MENU, "id = \"drink\"")
            ),
        ),
        (
            broken("[[category]]", "[[category]"),
            format!("menu.toml:{}: syntax: unclosed array table, expected `]`", line_of(SMALL_MENU, "[[category]]")),
        ),
    ];
    for (source, expected) in cases {
        let error = parse(&source).unwrap_err();
        assert_eq!(error.to_string(), expected);
    }
}

#[test]
fn bad_promos_are_refused() {
    let cases = [
        (
            "percent = \"10\"\nvalid_from",
            "percent = \"10\"\namount = \"1.00\"\nvalid_from",
            "promo \"BIENVENUE\".percent: give either percent or amount",
        ),
        (
            "percent = \"20\"",
            "percent = \"120\"",
            "promo \"NOEL\".percent: \"120\" is not a percentage above 0 and at most 100",
        ),
        (
            "category = \"drinks\"\nmax_uses",
            "category = \"sodas\"\nmax_uses",
            "promo \"BOISSON1\".category: unknown category \"sodas\"",
        ),
        (
            "valid_until = \"2026-11-30\"",
            "valid_until = \"2026-10-30\"",
            "promo \"BIENVENUE\".valid_until: 2026-10-30 is before valid_from 2026-11-01",
        ),
        (
            "valid_from = \"2026-12-24\"",
            "valid_from = \"24/12/2026\"",
            "promo \"NOEL\".valid_from: \"24/12/2026\" is not a date like \"2026-12-31\"",
        ),
    ];
    for (from, to, expected) in cases {
        let error = parse(&broken(from, to)).unwrap_err().to_string();
        assert!(error.contains(expected), "{error}\nshould say: {expected}");
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let source = broken("price = \"9.50\"", "price = \"9.999\"").replacen("tax = \"alcohol\"", "tax = \"booze\"", 1);
    let error = parse(&source).unwrap_err();
    let keys: Vec<&str> = error.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, vec!["item \"burger\".price", "item \"beer\".tax"]);
}

#[test]
fn unknown_fields_are_typos_not_silence() {
    let error = parse(&broken("low_stock = 3", "low_stok = 3")).unwrap_err();
    assert!(error.to_string().contains("unknown field `low_stok`"), "{error}");
}

/// A cinema's programme: a film, a showing of it with its ticket types.
const CINEMA: &str = r#"
[venue]
name = { fr = "Cinéma", en = "Cinema" }
currency = "EUR"
languages = ["fr", "en"]
version = "semaine-49"

[[tax]]
id = "ticket"
dine_in = "5.5"
take_away = "5.5"

[[category]]
id = "showings"
name = { fr = "Séances", en = "Showtimes" }

[[modifier_group]]
id = "prices"
name = { fr = "Billets", en = "Tickets" }
min = 1
max = 1

  [[modifier_group.option]]
  id = "full"
  name = { fr = "Plein tarif", en = "Full price" }
  price = "12.50"
  default = true

  [[modifier_group.option]]
  id = "under-14"
  name = { fr = "Moins de 14 ans", en = "Under 14" }
  price = "6.00"

[[modifier_group]]
id = "glasses"
name = { fr = "Lunettes 3D", en = "3D glasses" }
min = 0
max = 1

  [[modifier_group.option]]
  id = "rental"
  name = { fr = "Location", en = "Rental" }
  price = "1.50"

[[film]]
id = "keepers"
title = { fr = "Les Gardiens", en = "The Keepers" }
poster = "keepers.svg"
rating = "-12"
duration_minutes = 112

[[item]]
id = "keepers-1400"
category = "showings"
name = { fr = "Les Gardiens — 14:00", en = "The Keepers — 14:00" }
price = "0.00"
image = "keepers.svg"
tax = "ticket"
modifiers = ["glasses"]
stock = 180
showtime = { film = "keepers", starts = "14:00", screen = "Salle 1", language = "VF", tickets = "prices" }
"#;

#[test]
fn a_showing_names_its_film_and_its_ticket_types() {
    let menu = parse_cinema(CINEMA).unwrap();
    let showing = menu.item("keepers-1400").unwrap();
    let show = showing.showtime.as_ref().unwrap();
    let film = menu.film(show.film.as_str()).unwrap();
    assert_eq!((film.rating, film.duration_minutes), (AgeRating::Over12, 112));
    assert_eq!(film.title.get("en"), "The Keepers");
    let groups: Vec<&str> = showing.modifier_groups.iter().map(|group| group.as_str()).collect();
    assert_eq!(groups, ["prices", "glasses"], "the ticket types come first");
    assert_eq!(menu.images(), ["keepers.svg"], "the poster is an image the menu needs, once");
    assert_eq!(show.date, None, "a showing without a date is every day's");
}

#[test]
fn a_dated_showing_is_sold_ahead_until_it_starts() {
    let menu = parse_cinema(
        &CINEMA.replace("film = \"keepers\", starts", "film = \"keepers\", date = \"2026-12-07\", starts"),
    )
    .unwrap();
    let showing = &menu.item("keepers-1400").unwrap().info;
    let at = |date: &str, weekday: Weekday, time: &str| LocalMoment {
        date: Date::parse(date).unwrap(),
        weekday,
        time: TimeOfDay::parse(time).unwrap(),
    };
    assert!(showing.is_available_at(at("2026-12-05", Weekday::Sat, "22:00")), "two days ahead");
    assert!(showing.is_available_at(at("2026-12-07", Weekday::Mon, "13:59")));
    assert!(!showing.is_available_at(at("2026-12-07", Weekday::Mon, "14:00")), "it has started");
    assert!(!showing.is_available_at(at("2026-12-08", Weekday::Tue, "10:00")));
    let error = parse_cinema(&CINEMA.replace("starts = \"14:00\"", "date = \"7/12\", starts = \"14:00\"")).unwrap_err();
    assert!(error.to_string().contains("showtime.date: \"7/12\" is not a date like \"2026-12-31\""), "{error}");
}

#[test]
fn bad_films_and_ticket_types_are_refused() {
    let cases = [
        (
            "film = \"keepers\", starts",
            "film = \"keeper\", starts",
            "item \"keepers-1400\".showtime.film: unknown film \"keeper\"",
        ),
        (
            "rating = \"-12\"",
            "rating = \"12\"",
            "film \"keepers\".rating: \"12\" is not a rating: one of \"tous-publics\", \"-12\", \"-16\", \"-18\"",
        ),
        ("duration_minutes = 112", "duration_minutes = 0", "film \"keepers\".duration_minutes: must be at least 1"),
        (
            "poster = \"keepers.svg\"",
            "poster = \"missing.svg\"",
            "film \"keepers\".poster: file \"missing.svg\" not found",
        ),
        (
            "tickets = \"prices\"",
            "tickets = \"glasses\"",
            "item \"keepers-1400\".showtime.tickets: \"glasses\" must have min = 1 and max = 1: a ticket is of one type",
        ),
        (
            "tickets = \"prices\"",
            "tickets = \"tarifs\"",
            "item \"keepers-1400\".showtime.tickets: unknown modifier group \"tarifs\"",
        ),
        (
            "modifiers = [\"glasses\"]",
            "modifiers = [\"prices\", \"glasses\"]",
            "item \"keepers-1400\".modifiers: names \"prices\", the showtime's tickets already",
        ),
        ("id = \"keepers\"\ntitle", "id = \"Keepers\"\ntitle", "film \"Keepers\".id:"),
    ];
    for (from, to, expected) in cases {
        assert!(CINEMA.contains(from), "the cinema menu has no {from:?}");
        let error = parse_cinema(&CINEMA.replacen(from, to, 1)).unwrap_err().to_string();
        assert!(error.contains(expected), "{error}\nshould say: {expected}");
    }
}

fn parse_cinema(source: &str) -> Result<kiosk_core::menu::Menu, MenuError> {
    menu_file::parse("menu.toml", source, &|path| path == "keepers.svg")
}
