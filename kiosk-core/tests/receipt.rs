//! The receipt document, rendered as text: a snapshot of a ticket with modifiers, a combo,
//! a discount, VAT by rate, the card's last digits and the e-receipt code.

use std::collections::BTreeMap;

use kiosk_core::cart::{Cart, CartLine, SlotChoice};
use kiosk_core::menu::{ConsumptionMode, Date, LocalMoment, TimeOfDay, Weekday};
use kiosk_core::menu_file;
use kiosk_core::payment::Approval;
use kiosk_core::pricing::{SaleContext, quote};
use kiosk_core::receipt::{Block, KitchenFacts, ReceiptFacts, ReceiptHeader, kitchen_ticket, receipt};
use kiosk_core::stock::StockLevels;

const SMALL_MENU: &str = include_str!("fixtures/small-menu.toml");

#[test]
fn a_receipt_as_text() {
    let menu = menu_file::parse("small-menu.toml", SMALL_MENU, &|_| true).unwrap();
    let mut burger = CartLine::item("burger", 1);
    burger.modifiers.insert("cooking".into(), vec!["rare".into()]);
    burger.modifiers.insert("extras".into(), vec!["bacon".into()]);
    let mut meal = CartLine::item("menu", 1);
    let mut main = SlotChoice { item: "burger".into(), modifiers: BTreeMap::new() };
    main.modifiers.insert("cooking".into(), vec!["well-done".into()]);
    meal.choices.insert("main".into(), main);
    meal.choices.insert("drink".into(), SlotChoice { item: "beer".into(), modifiers: BTreeMap::new() });
    let cart = Cart { promo: Some("bienvenue".into()), ..Cart::new(ConsumptionMode::TakeAway, vec![burger, meal]) };
    let moment = LocalMoment {
        date: Date::new(2026, 11, 20).unwrap(),
        weekday: Weekday::Fri,
        time: TimeOfDay::new(12, 4).unwrap(),
    };
    let stock = StockLevels::new(BTreeMap::new());
    let quote = quote(&menu, &cart, SaleContext { moment, stock: &stock, promo_uses: 0 }).unwrap();
    let header = ReceiptHeader {
        venue: "Brasserie du Marché".into(),
        lines: vec!["12 rue des Halles, 69001 Lyon".into(), "SIRET 123 456 789 00012".into()],
        footer: vec!["Merci ! / Thank you!".into()],
    };
    let approval = Approval::new("SIM-000042".into(), "visa".into(), Some("4242".into()));
    let facts = ReceiptFacts {
        header: &header,
        order_number: "A042",
        when: "2026-11-20 12:04",
        quote: &quote,
        language: "fr",
        payment: Some(&approval),
        e_receipt: Some("https://r.example/A042"),
        journal_seq: Some(17),
        training: false,
    };
    let document = receipt(&facts);
    assert!(matches!(document.blocks.last(), Some(Block::Cut)));
    let expected = [
        "           Brasserie du Marché",
        "      12 rue des Halles, 69001 Lyon",
        "         SIRET 123 456 789 00012",
        "------------------------------------------",
        "             ORDER / COMMANDE",
        "                 A 0 4 2",
        "                 A 0 4 2",
        "2026-11-20 12:04 - A emporter / Take away",
        "------------------------------------------",
        "1 x Burger                         10.50 €",
        "    + Saignant",
        "    + Bacon                          +1.00",
        "1 x Menu                           13.40 €",
        "    - Burger",
        "        + Bien cuit",
        "    - Bière",
        "Bienvenue (BIENVENUE)                -2.39",
        "------------------------------------------",
        "TOTAL                              21.51 €",
        "TVA incluse / VAT incl.",
        "Taux           HT         TVA          TTC",
        "Rate          Net         VAT        Total",
        // The menu's 13.40 (beer supplement included) splits 8.78 : 4.62 by the burger's
        // 9.50 and the beer's 5.00; the promotion takes 1.93 and 0.46 off those rates.
        "10%         15.77        1.58        17.35",
        "20%          3.47        0.69         4.16",
        "------------------------------------------",
        "VISA **** 4242                     21.51 €",
        "Ref. SIM-000042",
        "Journal no 17",
        "     Ticket dematerialise / E-receipt",
        "       [QR https://r.example/A042]",
        "           Merci ! / Thank you!",
        "",
        "",
        "",
        "✂✂✂✂✂✂✂✂",
    ]
    .map(|line| format!("{line}\n"))
    .concat();
    assert_eq!(document.to_text(42), expected);

    // The same sale made in training: the ticket says so at its top and bottom.
    let training = receipt(&ReceiptFacts { training: true, ..facts.clone() }).to_text(42);
    let lines: Vec<&str> = training.lines().map(str::trim).collect();
    let banner = ["*** FORMATION / TRAINING ***", "Ticket sans valeur / No value"];
    assert_eq!(lines[1..3], banner, "{training}");
    let bottom = lines.iter().rposition(|l| *l == banner[0]).unwrap();
    assert!(bottom > 10 && lines[bottom + 1] == banner[1], "{training}");
    let ticket = kitchen_ticket(&KitchenFacts {
        order_number: "A042",
        when: "2026-11-20 12:04",
        quote: &quote,
        lines: &[0, 1],
        language: "fr",
        training: true,
    });
    assert_eq!(ticket.to_text(42).lines().next().map(str::trim), Some(banner[0]), "the kitchen sees it too");
}
