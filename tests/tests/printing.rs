//! Receipts and kitchen tickets through the engine: routed by category, recorded once per
//! order even when the printer is out of paper or the kiosk restarts, printed when it can.

use std::collections::BTreeMap;
use std::sync::Arc;

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::config::{DeviceConfig, ReceiptPrinting};
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::staff::{Pin, Role};
use kiosk_devices::printer::{ConfiguredPrinter, PrinterStatus, SimPrinter};
use kiosk_devices::terminal::{SimOutcome, SimTerminal};
use kiosk_engine::{Actor, EngineError, EngineOptions, FixedClock};
use kiosk_tests::{TUESDAY_NOON, TestKiosk, workspace_path};

struct Printers {
    kitchen: Arc<SimPrinter>,
    bar: Arc<SimPrinter>,
    receipt: Arc<SimPrinter>,
}

async fn kiosk_with_printers(dir: &std::path::Path, receipts: ReceiptPrinting) -> (kiosk_engine::Engine, Printers) {
    let printers = Printers {
        kitchen: Arc::new(SimPrinter::new()),
        bar: Arc::new(SimPrinter::new()),
        receipt: Arc::new(SimPrinter::new()),
    };
    let mut device = DeviceConfig::development();
    device.printing.receipts = receipts;
    device.printing.kitchen_routes =
        BTreeMap::from([("burgers".to_owned(), "kitchen".to_owned()), ("boissons".to_owned(), "bar".to_owned())]);
    device.printing.header.venue = "Brasserie du Marché".into();
    let configured = |printer: &Arc<SimPrinter>| ConfiguredPrinter { printer: printer.clone(), columns: 42 };
    let terminal = Arc::new(SimTerminal::open(&TestKiosk::ledger_path(dir), SimOutcome::Approve).unwrap());
    let mut options = EngineOptions::new(&TestKiosk::db_path(dir), device, terminal);
    options.clock = Arc::new(FixedClock::at(TUESDAY_NOON));
    options.printers = BTreeMap::from([
        ("kitchen".to_owned(), configured(&printers.kitchen)),
        ("bar".to_owned(), configured(&printers.bar)),
        ("receipt".to_owned(), configured(&printers.receipt)),
    ]);
    let (engine, _) = kiosk_engine::Engine::open(options).await.unwrap();
    engine.import_menu(&workspace_path(kiosk_tests::DEMO_MENU)).await.unwrap();
    (engine, printers)
}

fn fries_and_cola() -> Cart {
    let mut cola = CartLine::item("cola", 1);
    cola.modifiers.insert("taille-boisson".into(), vec!["33cl".into()]);
    Cart::new(ConsumptionMode::DineIn, vec![CartLine::item("frites", 2), cola, CartLine::item("mousse-chocolat", 1)])
}

fn text_of(job: &[u8]) -> String {
    job.iter().map(|&b| if (0x20..0x7F).contains(&b) { char::from(b) } else { ' ' }).collect()
}

#[tokio::test]
async fn tickets_go_to_the_kitchen_and_the_bar_and_the_receipt_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, printers) = kiosk_with_printers(dir.path(), ReceiptPrinting::OnRequest).await;
    let (placed, _) = engine.checkout(&fries_and_cola()).await.unwrap();
    let kitchen = printers.kitchen.jobs();
    let bar = printers.bar.jobs();
    assert_eq!((kitchen.len(), bar.len()), (1, 1));
    assert!(text_of(&kitchen[0]).contains("2 x Frites maison") && !text_of(&kitchen[0]).contains("Cola"));
    assert!(text_of(&bar[0]).contains("1 x Cola"));
    assert!(printers.receipt.jobs().is_empty(), "in France a receipt is printed on request only");

    let first = engine.print_receipt(placed.id).await.unwrap();
    assert_eq!(first.waiting, vec![], "{first:?}");
    engine.print_receipt(placed.id).await.unwrap();
    assert_eq!(printers.receipt.jobs().len(), 1, "asking twice prints once; staff reprint");
    let preview = engine.receipt_document(placed.id).await.unwrap().to_text(42);
    assert!(preview.contains("Brasserie du Marché") && preview.contains("TOTAL"), "{preview}");
}

#[tokio::test]
async fn a_printer_out_of_paper_keeps_its_jobs_until_it_can_print() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, printers) = kiosk_with_printers(dir.path(), ReceiptPrinting::Always).await;
    printers.kitchen.set_status(PrinterStatus { paper_out: true, ..PrinterStatus::default() });
    let (placed, outcome) = engine.checkout(&fries_and_cola()).await.unwrap();
    assert!(matches!(outcome, kiosk_engine::PaymentOutcome::Paid { .. }), "the sale does not depend on paper");
    assert!(printers.kitchen.jobs().is_empty());
    assert_eq!(printers.receipt.jobs().len(), 1, "the venue prints every receipt");

    let round = engine.print_pending().await.unwrap();
    assert_eq!((round.printed, round.waiting.len()), (0, 1));
    assert!(round.waiting[0].1.contains("out of paper"));
    printers.kitchen.set_status(PrinterStatus { online: true, ..PrinterStatus::default() });
    assert_eq!(engine.print_pending().await.unwrap().printed, 1);
    assert_eq!(engine.print_pending().await.unwrap().printed, 0, "printed once");
    assert_eq!(printers.kitchen.jobs().len(), 1);

    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &Pin::parse("1234").unwrap(), None).await.unwrap();
    let marie = Actor::Staff(engine.sign_in("Marie", &Pin::parse("1234").unwrap()).await.unwrap());
    engine.reprint(&marie, placed.id).await.unwrap();
    assert_eq!(printers.receipt.jobs().len(), 2);
}

#[tokio::test]
async fn tickets_a_crash_kept_from_being_recorded_are_made_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // A sale recorded by a kiosk without kitchen routes stands for one whose tickets were
    // lost to a crash between the approval and the print jobs.
    let plain = TestKiosk::with_demo_menu(dir.path()).await;
    plain.engine.checkout(&fries_and_cola()).await.unwrap();
    plain.engine.store().close().await;
    drop(plain);
    let (engine, printers) = kiosk_with_printers(dir.path(), ReceiptPrinting::Never).await;
    assert_eq!(printers.kitchen.jobs().len(), 0, "recorded at start, printed on the next round");
    assert_eq!(engine.print_pending().await.unwrap().printed, 2);
    assert_eq!((printers.kitchen.jobs().len(), printers.bar.jobs().len()), (1, 1));
    let refused = engine.print_receipt(1).await.unwrap_err();
    assert!(matches!(refused, EngineError::BadInput(_)), "{refused}");
}
