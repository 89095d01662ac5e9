//! The network printer driver against a fake printer on loopback: what the bytes would put
//! on paper, and when a job counts as printed (only once the printer confirmed it took every
//! byte and its status after the job is clean).

use std::time::Duration;

use kiosk_core::receipt::{Align, Block, Document};
use kiosk_devices::printer::{COLUMNS, NetworkPrinter, PrintError, ReceiptPrinter, encode, print, printable};
use kiosk_tests::fake_printer::{Behaviour, FakePrinter, ONLINE, PAPER_OUT, decode};
use tokio::net::TcpListener;

fn ticket() -> Document {
    Document {
        blocks: vec![
            Block::Text { text: "Brasserie du Marché".into(), align: Align::Center, bold: true },
            Block::Large { text: "A-042".into() },
            Block::Rule,
            Block::Columns { left: "1 x Crème brûlée".into(), right: "5.50 €".into(), bold: false },
            Block::Text { text: "Sur place - à emporter".into(), align: Align::Left, bold: false },
            Block::Qr { data: "https://r.example/A-042".into() },
            Block::Feed { lines: 2 },
            Block::Cut,
        ],
    }
}

#[tokio::test]
async fn a_ticket_arrives_as_escpos_with_euro_dashes_a_model_2_qr_and_a_cut() {
    let fake = FakePrinter::start(Behaviour::Steady(ONLINE)).await;
    print(&fake.printer(), &ticket(), COLUMNS).await.unwrap();
    let jobs = fake.connections().await;
    assert_eq!(jobs.len(), 1, "one connection brought the job (the status check before it brings none)");
    assert!(!jobs[0].contains(&0xF0), "no dash went out as 0xF0 (the escpos PC858 table's dash)");
    let paper = decode(&jobs[0]);
    let text = paper.text();
    assert_eq!(text[0].trim(), "Brasserie du Marché");
    assert_eq!(paper.large, ["A-042"]);
    assert_eq!(text[2], "-".repeat(COLUMNS));
    assert_eq!(text[3], format!("1 x Crème brûlée{}5.50 €", " ".repeat(COLUMNS - 22)));
    assert_eq!(text[4], "Sur place - à emporter");
    assert_eq!(paper.qr, ["https://r.example/A-042"]);
    assert_eq!(paper.qr_models, [50], "QR Model 2, which phone cameras read (escpos' default is Model 1)");
    assert_eq!(paper.cuts, 1);
}

#[tokio::test]
async fn a_printer_out_of_paper_gets_nothing_and_says_why() {
    let fake = FakePrinter::start(Behaviour::Steady(PAPER_OUT)).await;
    let error = print(&fake.printer(), &ticket(), COLUMNS).await.unwrap_err();
    assert!(matches!(error, PrintError::PaperOut), "{error}");
    let status = fake.printer().status().await.unwrap();
    assert!(status.paper_out && status.paper_near_end && !status.online);
    assert!(fake.connections().await.is_empty());
}

#[tokio::test]
async fn a_printer_that_is_off_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let printer = NetworkPrinter { address, timeout: Duration::from_millis(500) };
    let error = print(&printer, &ticket(), COLUMNS).await.unwrap_err();
    assert!(matches!(error, PrintError::Unreachable(..)), "{error}");
}

#[test]
fn encoding_starts_with_init_and_ends_with_one_cut() {
    let bytes = encode(&ticket(), COLUMNS).unwrap();
    assert!(bytes.starts_with(&[0x1B, 0x40]), "starts by initialising the printer");
    assert_eq!(decode(&bytes).cuts, 1);
}

#[tokio::test]
async fn a_usb_printer_that_is_not_plugged_in_is_unreachable() {
    // No USB printer on these machines (often no USB bus at all): the job waits, with why.
    let printer = kiosk_devices::printer::UsbPrinter { vid_pid: Some((0x04b8, 0x0e15)) };
    match print(&printer, &ticket(), COLUMNS).await {
        Err(PrintError::Unreachable(name, why)) => {
            assert_eq!(name, "USB printer 04b8:0e15");
            println!("as expected: {why}");
        }
        other => println!("skipped: a printer 04b8:0e15 is plugged in here ({other:?})"),
    }
}

#[tokio::test]
async fn paper_that_runs_out_during_a_job_means_printing_it_again() {
    let fake = FakePrinter::start(Behaviour::RunsOut { before: ONLINE, after: PAPER_OUT }).await;
    let error = print(&fake.printer(), &ticket(), COLUMNS).await.unwrap_err();
    assert!(matches!(error, PrintError::PaperOut), "the job went out, the paper did not last: {error}");
    // The same printer refuses the next job before it is sent.
    assert!(matches!(print(&fake.printer(), &ticket(), COLUMNS).await, Err(PrintError::PaperOut)));
    assert_eq!(fake.connections().await.len(), 1);
}

#[tokio::test]
async fn a_printer_that_stops_reading_never_confirms_the_job() {
    // It answers the three status requests before the job, then reads nothing: the job's
    // bytes sit in the network's buffers and would pass for printed without a confirmation.
    let fake = FakePrinter::start(Behaviour::StopsReadingAfter(3)).await;
    let error = print(&fake.printer(), &ticket(), COLUMNS).await.unwrap_err();
    match &error {
        PrintError::Unreachable(_, why) => assert!(why.contains("did not confirm the job"), "{why}"),
        other => panic!("expected an unconfirmed job, got {other}"),
    }
    assert!(fake.connections().await.is_empty(), "the printer read none of it");
}

#[test]
fn characters_the_code_page_lacks_are_written_with_ones_it_has() {
    let document = Document {
        blocks: vec![
            Block::Text { text: "Bœuf – « 3,50 € »…".into(), align: Align::Left, bold: false },
            Block::Text { text: "Ōsaka ramen 🍜 Kraków Łódź".into(), align: Align::Left, bold: false },
            Block::Text { text: "Café\u{1b}@\u{1d}V\u{0}!".into(), align: Align::Left, bold: false },
        ],
    };
    let bytes = encode(&document, COLUMNS).unwrap();
    assert!(!bytes.windows(4).any(|w| w == "🍜".as_bytes()), "no raw UTF-8 went out");
    let paper = decode(&bytes);
    assert_eq!(paper.lines[0], "Boeuf - « 3,50 € »...");
    assert_eq!(paper.lines[1], "Osaka ramen ? Kraków Lódz");
    assert_eq!(paper.lines[2], "Café @ V !", "control characters in a text never reach the printer as commands");
    assert_eq!(paper.cuts, 0);
    assert_eq!(printable("Ō"), "O");
}
