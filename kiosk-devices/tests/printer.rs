//! Printers against a fake network printer on loopback: it captures the ESC/POS bytes and
//! answers status requests; a small decoder reads the bytes back into lines, sizes, the QR
//! payload and the cut, so the tests check what paper would show.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_core::receipt::{Align, Block, Document};
use kiosk_devices::printer::{COLUMNS, NetworkPrinter, PrintError, ReceiptPrinter, encode, print};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A printer on 127.0.0.1 answering DLE EOT 1, 2 and 4 with `status` and keeping jobs.
struct FakePrinter {
    address: SocketAddr,
    jobs: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl FakePrinter {
    async fn start(status: [u8; 3]) -> FakePrinter {
        FakePrinter::start_changing(status, status).await
    }

    /// A printer answering `before` until it has received a job, then `after` (paper that
    /// runs out during a job).
    async fn start_changing(before: [u8; 3], after: [u8; 3]) -> FakePrinter {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let jobs: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let kept = jobs.clone();
        tokio::spawn(async move {
            let printed: Arc<Mutex<bool>> = Arc::default();
            loop {
                let Ok((mut stream, _)) = listener.accept().await else { return };
                let kept = kept.clone();
                let printed = printed.clone();
                tokio::spawn(async move {
                    let mut job = Vec::new();
                    let mut byte = [0u8; 1];
                    while stream.read(&mut byte).await.unwrap_or(0) == 1 {
                        job.push(byte[0]);
                        let n = job.len();
                        if n >= 3 && job[n - 3..n - 1] == [0x10, 0x04] {
                            let status = if *printed.lock().unwrap() { after } else { before };
                            let answer = match job[n - 1] {
                                1 => status[0],
                                2 => status[1],
                                _ => status[2],
                            };
                            job.truncate(n - 3);
                            stream.write_all(&[answer]).await.unwrap();
                        }
                    }
                    if !job.is_empty() {
                        *printed.lock().unwrap() = true;
                        kept.lock().unwrap().push(job);
                    }
                });
            }
        });
        FakePrinter { address, jobs }
    }

    fn printer(&self) -> NetworkPrinter {
        NetworkPrinter { address: self.address, timeout: Duration::from_secs(2) }
    }

    /// The jobs received, once the connections have closed.
    async fn jobs(&self) -> Vec<Vec<u8>> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.jobs.lock().unwrap().clone()
    }
}

const ONLINE: [u8; 3] = [0x12, 0x12, 0x12];
const PAPER_OUT: [u8; 3] = [0x1A, 0x32, 0x7E];

/// What the bytes would print.
#[derive(Debug, Default, PartialEq)]
struct Paper {
    lines: Vec<String>,
    large: Vec<String>,
    qr: Vec<String>,
    cuts: usize,
}

/// Reads ESC/POS back: text in PC858 (the characters these tickets use), line feeds, the
/// character size, QR data and cuts; other commands are skipped with their parameter.
fn decode(bytes: &[u8]) -> Paper {
    let mut paper = Paper::default();
    let mut line = String::new();
    let mut large = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x0A => {
                if large {
                    paper.large.push(line.clone());
                }
                paper.lines.push(std::mem::take(&mut line));
                i += 1;
            }
            0x1B => {
                i += match bytes.get(i + 1) {
                    Some(b'@') => 2,
                    // ESC d n: print and feed n lines (what `escpos` sends for a line end).
                    Some(b'd') => {
                        if large {
                            paper.large.push(line.clone());
                        }
                        paper.lines.push(std::mem::take(&mut line));
                        paper.lines.extend((1..bytes[i + 2]).map(|_| String::new()));
                        3
                    }
                    _ => 3,
                }
            }
            0x1D => match bytes.get(i + 1) {
                Some(b'!') => {
                    large = bytes[i + 2] != 0;
                    i += 3;
                }
                Some(b'V') => {
                    paper.cuts += 1;
                    i += if matches!(bytes[i + 2], 0x41 | 0x42) { 4 } else { 3 };
                }
                Some(b'(') => {
                    let len = usize::from(bytes[i + 3]) + 256 * usize::from(bytes[i + 4]);
                    let body = &bytes[i + 5..i + 5 + len];
                    if body.starts_with(&[0x31, 0x50, 0x30]) {
                        paper.qr.push(String::from_utf8_lossy(&body[3..]).into_owned());
                    }
                    i += 5 + len;
                }
                _ => i += 3,
            },
            byte => {
                line.push(match byte {
                    0xD5 => '€',
                    0x82 => 'é',
                    0x8A => 'è',
                    0x85 => 'à',
                    0x96 => 'û',
                    0xAE => '«',
                    0xAF => '»',
                    0x20..=0x7E => char::from(byte),
                    _ => '?',
                });
                i += 1;
            }
        }
    }
    paper
}

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
async fn a_ticket_arrives_as_escpos_with_euro_dashes_qr_and_cut() {
    let fake = FakePrinter::start(ONLINE).await;
    print(&fake.printer(), &ticket(), COLUMNS).await.unwrap();
    let jobs = fake.jobs().await;
    assert_eq!(jobs.len(), 1);
    assert!(!jobs[0].contains(&0xF0), "no dash went out as 0xF0 (the escpos PC858 table's dash)");
    let paper = decode(&jobs[0]);
    let text: Vec<&str> = paper.lines.iter().map(|l| l.trim_end()).filter(|l| !l.is_empty()).collect();
    assert_eq!(text[0].trim(), "Brasserie du Marché");
    assert_eq!(paper.large, ["A-042"]);
    assert_eq!(text[2], "-".repeat(COLUMNS));
    assert_eq!(text[3], format!("1 x Crème brûlée{}5.50 €", " ".repeat(COLUMNS - 22)));
    assert_eq!(text[4], "Sur place - à emporter");
    assert_eq!(paper.qr, ["https://r.example/A-042"]);
    assert_eq!(paper.cuts, 1);
}

#[tokio::test]
async fn a_printer_out_of_paper_gets_nothing_and_says_why() {
    let fake = FakePrinter::start(PAPER_OUT).await;
    let error = print(&fake.printer(), &ticket(), COLUMNS).await.unwrap_err();
    assert!(matches!(error, PrintError::PaperOut), "{error}");
    let status = fake.printer().status().await.unwrap();
    assert!(status.paper_out && status.paper_near_end && !status.online);
    assert!(fake.jobs().await.is_empty());
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
    let fake = FakePrinter::start_changing(ONLINE, PAPER_OUT).await;
    let printer = fake.printer();
    let document = ticket();
    let bytes = encode(&document, COLUMNS).unwrap();
    printer.send(&bytes).await.unwrap();
    fake.jobs().await;
    let error = printer.status().await.unwrap().ready().unwrap_err();
    assert!(matches!(error, PrintError::PaperOut), "the job went out, the paper did not last: {error}");
    // Through `print`, the same printer refuses the next job before sending it.
    assert!(matches!(print(&printer, &document, COLUMNS).await, Err(PrintError::PaperOut)));
    assert_eq!(fake.jobs().await.len(), 1);
}

#[test]
fn characters_the_code_page_lacks_are_written_with_ones_it_has() {
    let document = Document {
        blocks: vec![Block::Text { text: "Bœuf – « 3,50 € »…".into(), align: Align::Left, bold: false }],
    };
    let paper = decode(&encode(&document, COLUMNS).unwrap());
    assert_eq!(paper.lines[0], "Boeuf - « 3,50 € »...");
}
