//! A network receipt printer on loopback, and a reader of the ESC/POS it receives. The
//! printer answers DLE EOT status requests as an Epson printer does, keeps the bytes of every
//! connection, and misbehaves as printers do when asked: paper that runs out during a job, a
//! printer that stops reading, connections cut in the middle of a job.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_devices::printer::NetworkPrinter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Status answers to DLE EOT 1, 2 and 4.
pub const ONLINE: [u8; 3] = [0x12, 0x12, 0x12];
pub const PAPER_OUT: [u8; 3] = [0x1A, 0x32, 0x7E];

#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Answers with this status and reads everything.
    Steady([u8; 3]),
    /// Answers `before` until a job's bytes arrived, then `after`: paper running out.
    RunsOut { before: [u8; 3], after: [u8; 3] },
    /// Answers this many status requests in all, then reads nothing more, with its
    /// connections left open: a printer whose buffer is full, or that hung.
    StopsReadingAfter(usize),
    /// Cuts `percent` of the connections after a random number of a job's bytes, 1 to 250
    /// (within a kitchen ticket, at most): the printer switched off, a cable pulled. The
    /// draws are seeded.
    CutsJobs { percent: u8, seed: u64 },
}

#[derive(Debug)]
struct State {
    behaviour: Behaviour,
    /// What each connection brought, status requests taken out, in the order they opened.
    connections: Vec<Vec<u8>>,
    status_answers: usize,
    received_a_job: bool,
    random: fastrand::Rng,
    /// How long the printer takes before answering the status after a job.
    slow: Duration,
    /// Connections it stopped reading, kept open.
    stalled: Vec<TcpStream>,
}

#[derive(Debug, Clone)]
pub struct FakePrinter {
    pub address: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakePrinter {
    pub async fn start(behaviour: Behaviour) -> FakePrinter {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let seed = match behaviour {
            Behaviour::CutsJobs { seed, .. } => seed,
            _ => 0,
        };
        let state = Arc::new(Mutex::new(State {
            behaviour,
            connections: Vec::new(),
            status_answers: 0,
            received_a_job: false,
            random: fastrand::Rng::with_seed(seed),
            slow: Duration::ZERO,
            stalled: Vec::new(),
        }));
        let kept = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, kept.clone()));
            }
        });
        FakePrinter { address, state }
    }

    /// Makes the printer wait this long before confirming a job.
    pub fn set_slow(&self, slow: Duration) {
        self.state.lock().unwrap().slow = slow;
    }

    /// A driver for this printer with a short timeout.
    pub fn printer(&self) -> NetworkPrinter {
        NetworkPrinter { address: self.address, timeout: Duration::from_millis(700) }
    }

    /// What each connection brought so far (status requests taken out), empty ones left out.
    pub async fn connections(&self) -> Vec<Vec<u8>> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.state.lock().unwrap().connections.iter().filter(|c| !c.is_empty()).cloned().collect()
    }

    /// The jobs that arrived whole (ending with a cut), as paper.
    pub async fn whole_jobs(&self) -> Vec<Paper> {
        self.connections().await.iter().map(|bytes| decode(bytes)).filter(|paper| paper.cuts > 0).collect()
    }
}

/// Serves one connection: reads byte by byte, answers each DLE EOT n, keeps the rest.
async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let index = {
        let mut state = state.lock().unwrap();
        state.connections.push(Vec::new());
        state.connections.len() - 1
    };
    // A connection that brings a job may be cut after this many of its bytes.
    let cut_after = {
        let mut state = state.lock().unwrap();
        match state.behaviour {
            Behaviour::CutsJobs { percent, .. } => {
                let cut = state.random.u8(0..100) < percent;
                let after = state.random.usize(1..=250);
                cut.then_some(after)
            }
            _ => None,
        }
    };
    let mut pending = Vec::new();
    let mut job_bytes = 0;
    let mut byte = [0u8; 1];
    loop {
        let stop_reading = {
            let state = state.lock().unwrap();
            matches!(state.behaviour, Behaviour::StopsReadingAfter(n) if state.status_answers >= n)
        };
        if stop_reading {
            state.lock().unwrap().stalled.push(stream);
            return;
        }
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        pending.push(byte[0]);
        let n = pending.len();
        if n >= 3 && pending[n - 3..n - 1] == [0x10, 0x04] {
            pending.truncate(n - 3);
            let (answer, slow) = {
                let mut state = state.lock().unwrap();
                let keep = std::mem::take(&mut pending);
                state.received_a_job |= !keep.is_empty() || !state.connections[index].is_empty();
                state.connections[index].extend(keep);
                state.status_answers += 1;
                let status = match state.behaviour {
                    Behaviour::RunsOut { after, .. } if state.received_a_job => after,
                    Behaviour::RunsOut { before, .. } => before,
                    Behaviour::Steady(status) => status,
                    _ => ONLINE,
                };
                let slow = if state.connections[index].is_empty() { Duration::ZERO } else { state.slow };
                let answer = match byte[0] {
                    1 => status[0],
                    2 => status[1],
                    _ => status[2],
                };
                (answer, slow)
            };
            tokio::time::sleep(slow).await;
            if stream.write_all(&[answer]).await.is_err() {
                break;
            }
        } else {
            job_bytes += 1;
            if cut_after.is_some_and(|limit| job_bytes >= limit) {
                break;
            }
        }
    }
    let mut state = state.lock().unwrap();
    state.connections[index].extend(pending);
}

/// What the bytes would print.
#[derive(Debug, Default, PartialEq)]
pub struct Paper {
    pub lines: Vec<String>,
    pub large: Vec<String>,
    pub qr: Vec<String>,
    /// The QR model each code was sent with (49 Model 1, 50 Model 2).
    pub qr_models: Vec<u8>,
    pub cuts: usize,
}

impl Paper {
    /// The printed lines with their trailing spaces, empty ones left out.
    pub fn text(&self) -> Vec<&str> {
        self.lines.iter().map(|l| l.trim_end()).filter(|l| !l.is_empty()).collect()
    }
}

/// Reads ESC/POS back: text in PC858 (by a table of its own, not the encoder's), line feeds,
/// the character size, QR data and model, and cuts; other commands are skipped with their
/// parameter.
pub fn decode(bytes: &[u8]) -> Paper {
    let mut paper = Paper::default();
    let mut line = String::new();
    let mut large = false;
    let mut i = 0;
    let end_line = |paper: &mut Paper, line: &mut String, large: bool| {
        if large {
            paper.large.push(line.clone());
        }
        paper.lines.push(std::mem::take(line));
    };
    while i < bytes.len() {
        match bytes[i] {
            0x0A => {
                end_line(&mut paper, &mut line, large);
                i += 1;
            }
            0x1B => {
                i += match bytes.get(i + 1) {
                    Some(b'@') => 2,
                    // ESC d n: print and feed n lines (what `escpos` sends for a line end).
                    Some(b'd') => {
                        end_line(&mut paper, &mut line, large);
                        let feeds = bytes.get(i + 2).copied().unwrap_or(1);
                        paper.lines.extend((1..feeds).map(|_| String::new()));
                        3
                    }
                    _ => 3,
                }
            }
            0x1D => match bytes.get(i + 1) {
                Some(b'!') => {
                    large = bytes.get(i + 2).is_some_and(|&size| size != 0);
                    i += 3;
                }
                Some(b'V') => {
                    paper.cuts += 1;
                    i += if matches!(bytes.get(i + 2), Some(0x41 | 0x42)) { 4 } else { 3 };
                }
                Some(b'(') if i + 4 < bytes.len() => {
                    let len = usize::from(bytes[i + 3]) + 256 * usize::from(bytes[i + 4]);
                    let Some(body) = bytes.get(i + 5..i + 5 + len) else { break };
                    match body {
                        [0x31, 0x50, 0x30, data @ ..] => paper.qr.push(String::from_utf8_lossy(data).into_owned()),
                        [0x31, 0x41, model, ..] => paper.qr_models.push(*model),
                        _ => {}
                    }
                    i += 5 + len;
                }
                _ => i += 3,
            },
            byte => {
                line.push(match byte {
                    0x20..=0x7E => char::from(byte),
                    0x80 => 'Ç',
                    0x81 => 'ü',
                    0x82 => 'é',
                    0x83 => 'â',
                    0x85 => 'à',
                    0x87 => 'ç',
                    0x88 => 'ê',
                    0x8A => 'è',
                    0x8B => 'ï',
                    0x8C => 'î',
                    0x90 => 'É',
                    0x93 => 'ô',
                    0x96 => 'û',
                    0x97 => 'ù',
                    0xA2 => 'ó',
                    0xAE => '«',
                    0xAF => '»',
                    0xB7 => 'À',
                    0xD5 => '€',
                    0xE1 => 'ß',
                    0xE2 => 'Ô',
                    0xE3 => 'Ò',
                    _ => '¤',
                });
                i += 1;
            }
        }
    }
    paper
}
