//! Receipts and kitchen tickets through the engine: routed by category, recorded once per
//! order even when the printer is out of paper or the kiosk restarts, printed at least once
//! and never twice when two processes send them, given up and reported when too late to
//! cook from, and laid out to fit the paper.

use std::collections::BTreeMap;
use std::sync::Arc;

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::config::{DeviceConfig, ReceiptPrinting};
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::staff::{Pin, Role};
use kiosk_devices::printer::{ConfiguredPrinter, PrinterStatus, ReceiptPrinter, SimPrinter};
use kiosk_devices::terminal::{SimOutcome, SimTerminal};
use kiosk_engine::{Actor, EngineBuilder, EngineError, FixedClock};
use kiosk_tests::fake_printer::{Behaviour, FakePrinter, ONLINE, decode};
use kiosk_tests::{StandIn, TUESDAY_NOON, TestKiosk, workspace_path};

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
    let engine = kiosk_printing_to(
        dir,
        receipts,
        42,
        [printers.kitchen.clone(), printers.bar.clone(), printers.receipt.clone()],
        Arc::new(FixedClock::at(TUESDAY_NOON)),
    )
    .await;
    (engine, printers)
}

/// A kiosk with the demo menu whose kitchen, bar and receipt printers are these, `columns`
/// wide; burgers and fries go to the kitchen, drinks to the bar.
async fn kiosk_printing_to(
    dir: &std::path::Path,
    receipts: ReceiptPrinting,
    columns: usize,
    [kitchen, bar, receipt]: [Arc<dyn ReceiptPrinter>; 3],
    clock: Arc<FixedClock>,
) -> kiosk_engine::Engine {
    let mut device = DeviceConfig::development();
    device.printing.receipts = receipts;
    device.printing.kitchen_routes =
        BTreeMap::from([("burgers".to_owned(), "kitchen".to_owned()), ("boissons".to_owned(), "bar".to_owned())]);
    device.printing.header.venue = "Brasserie du Marché".into();
    device.printing.header.lines = vec!["12 rue des Halles, 69001 Lyon — SIRET 123 456 789 00012".into()];
    device.printing.e_receipt_url = Some("https://receipts.example.com/{token}".into());
    let configured = |printer: Arc<dyn ReceiptPrinter>| ConfiguredPrinter { printer, columns };
    let terminal = Arc::new(SimTerminal::open(&TestKiosk::ledger_path(dir), SimOutcome::Approve).unwrap());
    let (engine, _) = EngineBuilder::new(&TestKiosk::db_path(dir), device)
        .terminal(Arc::new(StandIn(terminal)))
        .clock(clock)
        .printers(BTreeMap::from([
            ("kitchen".to_owned(), configured(kitchen)),
            ("bar".to_owned(), configured(bar)),
            ("receipt".to_owned(), configured(receipt)),
        ]))
        .open()
        .await
        .unwrap();
    engine.import_menu(&workspace_path(kiosk_tests::DEMO_MENU)).await.unwrap();
    engine
}

/// A kiosk printing no receipts, whose kitchen printer is `kitchen` (the bar's a simulator).
async fn kiosk_with_kitchen(
    dir: &std::path::Path,
    kitchen: Arc<dyn ReceiptPrinter>,
    clock: Arc<FixedClock>,
) -> kiosk_engine::Engine {
    let [bar, receipt] = [Arc::new(SimPrinter::new()) as Arc<dyn ReceiptPrinter>, Arc::new(SimPrinter::new())];
    kiosk_printing_to(dir, ReceiptPrinting::Never, 42, [kitchen, bar, receipt], clock).await
}

/// A printer out of paper: every job sent to it waits.
fn out_of_paper() -> Arc<SimPrinter> {
    let printer = Arc::new(SimPrinter::new());
    printer.set_status(PrinterStatus { paper_out: true, ..PrinterStatus::default() });
    printer
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
    // An order never paid has no receipt to reprint.
    let unpaid = engine.place_order(&fries_and_cola()).await.unwrap();
    let refused = engine.reprint(&marie, unpaid.id).await.unwrap_err();
    assert!(matches!(refused, EngineError::NoReceipt { .. }), "{refused}");
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

#[tokio::test]
async fn the_e_receipt_link_carries_a_random_token_not_the_order_number() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, printers) = kiosk_with_printers(dir.path(), ReceiptPrinting::Always).await;
    let mut links = Vec::new();
    for _ in 0..2 {
        let (placed, _) = engine.checkout(&fries_and_cola()).await.unwrap();
        let document = engine.receipt_document(placed.id).await.unwrap();
        let link = document
            .blocks
            .iter()
            .find_map(|block| match block {
                kiosk_core::receipt::Block::Qr { data } => Some(data.clone()),
                _ => None,
            })
            .unwrap();
        let token = link.strip_prefix("https://receipts.example.com/").unwrap();
        assert_eq!(token.len(), 32, "128 random bits: {link}");
        assert!(!link.contains(&placed.number), "{link} names the order");
        links.push(link);
    }
    assert_ne!(links[0], links[1]);
    let printed: Vec<String> = printers.receipt.jobs().iter().flat_map(|job| decode(job).qr).collect();
    assert_eq!(printed, links, "the printed code is the same link");
}

/// An e-receipt link outside the policy's web allowlist is not offered: no code on the
/// receipt (nor on the screen, which shows the receipt's).
#[tokio::test]
async fn an_e_receipt_link_outside_the_web_allowlist_is_not_offered() {
    let dir = tempfile::tempdir().unwrap();
    let mut device = DeviceConfig::development();
    device.printing.e_receipt_url = Some("https://receipts.example.com/{token}".into());
    let web = kiosk_devices::web::WebGate::default();
    web.set(kiosk_core::web::WebAllowlist::new(&["https://fleet.example.com/api/"]).unwrap());
    let (engine, _) = EngineBuilder::new(&TestKiosk::db_path(dir.path()), device)
        .simulator_ledger(&TestKiosk::ledger_path(dir.path()))
        .web(web.clone())
        .open()
        .await
        .unwrap();
    engine.import_menu(&workspace_path(kiosk_tests::DEMO_MENU)).await.unwrap();
    let (placed, _) = engine.checkout(&fries_and_cola()).await.unwrap();
    let has_code = |document: kiosk_core::receipt::Document| {
        document.blocks.iter().any(|block| matches!(block, kiosk_core::receipt::Block::Qr { .. }))
    };
    assert!(!has_code(engine.receipt_document(placed.id).await.unwrap()));
    web.set(kiosk_core::web::WebAllowlist::new(&["https://receipts.example.com/"]).unwrap());
    assert!(has_code(engine.receipt_document(placed.id).await.unwrap()), "listed: offered");
}

#[tokio::test]
async fn every_document_fits_32_and_42_column_paper() {
    for columns in [32, 42] {
        let dir = tempfile::tempdir().unwrap();
        let printers = [Arc::new(SimPrinter::new()), Arc::new(SimPrinter::new()), Arc::new(SimPrinter::new())];
        let as_dyn = printers.clone().map(|p| p as Arc<dyn ReceiptPrinter>);
        let clock = Arc::new(FixedClock::at(TUESDAY_NOON));
        let engine = kiosk_printing_to(dir.path(), ReceiptPrinting::Always, columns, as_dyn, clock).await;
        let mut cart = kiosk_tests::cart("menus/brasserie/carts/ten-lines.json");
        cart.promo = Some("BIENVENUE10".into());
        engine.checkout(&cart).await.unwrap();
        let pin = Pin::parse("1234").unwrap();
        let long_name = "Marie-Christine de La Tour du Pin";
        engine.add_staff(&Actor::Admin, long_name, Role::Manager, &pin, None).await.unwrap();
        let manager = Actor::Staff(engine.sign_in(long_name, &pin).await.unwrap());
        let mut x = engine.x_report(&manager).await.unwrap().to_document("X REPORT", "fr");
        x.blocks.push(kiosk_core::receipt::Block::Cut);
        engine.print_now(&x).await.unwrap();
        let z = engine.close_day(&manager).await.unwrap();
        engine.print_now(&z.to_document("fr")).await.unwrap();
        engine.print_test_ticket().await.unwrap();

        let jobs: Vec<Vec<u8>> = printers.iter().flat_map(|p| p.jobs()).collect();
        assert_eq!(jobs.len(), 6, "kitchen, bar, receipt, X, Z and test tickets");
        for job in &jobs {
            let paper = decode(job);
            assert!(paper.cuts == 1 && paper.lines.len() > 3, "{paper:?}");
            for line in &paper.lines {
                let limit = if paper.large.contains(line) { columns / 2 } else { columns };
                assert!(line.chars().count() <= limit, "{columns} columns: {line:?} is {} long", line.chars().count());
            }
        }
        let z_text: Vec<String> = decode(&jobs[4]).lines;
        assert!(z_text.iter().any(|l| l.starts_with("by ") || l.contains(long_name)), "{z_text:?}");
        assert!(!z_text.iter().any(|l| l.contains("-0.00")), "nothing taken off prints 0.00: {z_text:?}");
    }
}

#[tokio::test]
async fn a_printer_that_stops_reading_keeps_the_job_pending_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakePrinter::start(Behaviour::StopsReadingAfter(3)).await;
    let engine = kiosk_with_kitchen(dir.path(), Arc::new(fake.printer()), Arc::new(FixedClock::at(TUESDAY_NOON))).await;
    // The sale sends its ticket: the printer answers the status check, takes the bytes into
    // its buffers and never confirms them.
    engine.checkout(&fries_and_cola()).await.unwrap();
    let jobs = kiosk_store::print_jobs::pending(&mut engine.store().read().await.unwrap()).await.unwrap();
    assert_eq!(jobs.len(), 1, "the kitchen ticket is not marked printed");
    let reason = jobs[0].last_error.clone().unwrap();
    assert!(reason.contains("did not confirm the job"), "{reason}");
    // Hung as it is, the printer now answers nothing: the ticket keeps waiting, saying so.
    let round = engine.print_pending().await.unwrap();
    assert_eq!((round.printed, round.waiting.len()), (0, 1), "{round:?}");
    assert!(round.waiting[0].1.contains("no status answer"), "{round:?}");
}

#[tokio::test]
async fn a_printer_cut_off_mid_job_again_and_again_gets_every_ticket_at_least_once() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakePrinter::start(Behaviour::CutsJobs { percent: 60, seed: 9 }).await;
    let engine = kiosk_with_kitchen(dir.path(), Arc::new(fake.printer()), Arc::new(FixedClock::at(TUESDAY_NOON))).await;
    let mut numbers = Vec::new();
    for _ in 0..15 {
        numbers.push(engine.checkout(&fries_and_cola()).await.unwrap().0.number);
    }
    let mut rounds = 0;
    while !kiosk_store::print_jobs::pending(&mut engine.store().read().await.unwrap()).await.unwrap().is_empty() {
        rounds += 1;
        assert!(rounds < 200, "the jobs never all printed");
        engine.print_pending().await.unwrap();
    }
    let connections = fake.connections().await;
    let whole = fake.whole_jobs().await;
    let cut = connections.len() - whole.len();
    assert!(cut >= 10, "the printer was cut off mid-job {cut} times only");
    for number in &numbers {
        assert!(whole.iter().any(|paper| paper.large == [number.clone()]), "ticket {number} never arrived whole");
    }
    println!(
        "{} tickets, {cut} cut off mid-job, {} arrived whole, {rounds} rounds after the sales",
        numbers.len(),
        whole.len()
    );
}

#[tokio::test]
async fn two_engines_sending_the_queue_never_print_a_job_twice() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::at(TUESDAY_NOON));
    // Orders taken while the kitchen printer was out of paper: their tickets wait.
    let first = kiosk_with_kitchen(dir.path(), out_of_paper(), clock.clone()).await;
    let mut numbers = Vec::new();
    for _ in 0..6 {
        numbers.push(first.checkout(&fries_and_cola()).await.unwrap().0.number);
    }
    first.store().close().await;
    drop(first);

    // Now two engines (the app and the agent, say) send the queue at once to a slow printer.
    let fake = FakePrinter::start(Behaviour::Steady(ONLINE)).await;
    fake.set_slow(std::time::Duration::from_millis(150));
    let open = |clock: Arc<FixedClock>| kiosk_with_kitchen(dir.path(), Arc::new(fake.printer()), clock);
    let (a, b) = (open(clock.clone()).await, open(clock.clone()).await);
    let (round_a, round_b) = tokio::join!(a.print_pending(), b.print_pending());
    let (round_a, round_b) = (round_a.unwrap(), round_b.unwrap());
    assert_eq!(round_a.printed + round_b.printed, 6, "{round_a:?} {round_b:?}");
    assert!(round_a.elsewhere + round_b.elsewhere > 0, "the engines met on some job: {round_a:?} {round_b:?}");
    let whole = fake.whole_jobs().await;
    for number in &numbers {
        let copies = whole.iter().filter(|paper| paper.large == [number.clone()]).count();
        assert_eq!(copies, 1, "ticket {number} printed {copies} times");
    }
}

#[tokio::test]
async fn a_kitchen_ticket_too_old_to_cook_from_is_reported_not_printed() {
    let dir = tempfile::tempdir().unwrap();
    let kitchen = out_of_paper();
    let clock = Arc::new(FixedClock::at(TUESDAY_NOON));
    let engine = kiosk_with_kitchen(dir.path(), kitchen.clone(), clock.clone()).await;
    let (placed, _) = engine.checkout(&fries_and_cola()).await.unwrap();
    assert!(engine.alerts().await.unwrap().is_empty());

    // Paper is back after lunch: the ticket has waited past the venue's two hours.
    clock.set("2026-12-01T14:05:00+01:00");
    kitchen.set_status(PrinterStatus { online: true, ..PrinterStatus::default() });
    let round = engine.print_pending().await.unwrap();
    assert_eq!((round.printed, round.given_up.clone()), (0, vec![placed.number.clone()]), "{round:?}");
    assert!(kitchen.jobs().is_empty(), "not printed two hours late");
    assert_eq!(engine.print_pending().await.unwrap(), kiosk_engine::PrintRound::default(), "given up for good");
    let alerts = engine.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, kiosk_core::alert::AlertKind::TicketNotPrinted);
    assert!(alerts[0].message.contains(&format!("order {}", placed.number)), "{}", alerts[0].message);
    assert!(alerts[0].message.contains("out of paper"), "says what kept it back: {}", alerts[0].message);

    engine.add_staff(&Actor::Admin, "Marie", Role::Staff, &Pin::parse("1234").unwrap(), None).await.unwrap();
    let marie = Actor::Staff(engine.sign_in("Marie", &Pin::parse("1234").unwrap()).await.unwrap());
    engine.clear_alert(&marie, alerts[0].id).await.unwrap();
    assert!(engine.alerts().await.unwrap().is_empty());
    assert!(matches!(engine.clear_alert(&marie, alerts[0].id).await, Err(EngineError::NoSuchAlert(_))));
}

#[tokio::test]
async fn a_job_claimed_by_a_process_that_is_gone_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    let kitchen = out_of_paper();
    let clock = Arc::new(FixedClock::at(TUESDAY_NOON));
    let engine = kiosk_with_kitchen(dir.path(), kitchen.clone(), clock.clone()).await;
    engine.checkout(&fries_and_cola()).await.unwrap();
    // A process (pid 1, which did not start at tick 0) claimed the job a moment ago and died.
    let now = kiosk_engine::Clock::now(clock.as_ref()).timestamp();
    let mut conn = engine.store().read().await.unwrap();
    sqlx::query("UPDATE print_jobs SET claimed_by = '1:0:0', claimed_at = ? WHERE purpose = 'kitchen'")
        .bind(now)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    kitchen.set_status(PrinterStatus { online: true, ..PrinterStatus::default() });
    let round = engine.print_pending().await.unwrap();
    assert_eq!((round.printed, round.elsewhere), (1, 0), "{round:?}");
    assert_eq!(kitchen.jobs().len(), 1);
}
