//! Receipt and kitchen printers: a document from the core becomes ESC/POS bytes (through the
//! `escpos` crate), sent over a transport: the network (raw TCP, port 9100), a device file
//! (`/dev/usb/lp0`), USB through `nusb`, or the simulator. Status is read with the real-time DLE EOT requests.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{JustifyMode, PageCode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
use kiosk_core::receipt::{Align, Document, Printed};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Characters per line of an 80 mm printer in its default font.
pub const COLUMNS: usize = 42;

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("the printer {0} cannot be reached: {1}")]
    Unreachable(String, String),
    #[error("the printer is out of paper")]
    PaperOut,
    #[error("the printer's cover is open")]
    CoverOpen,
    #[error("the printer is offline")]
    Offline,
    #[error("the document cannot be encoded: {0}")]
    Encode(String),
}

/// What the printer says about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrinterStatus {
    pub online: bool,
    pub paper_near_end: bool,
    pub paper_out: bool,
    pub cover_open: bool,
}

/// DLE EOT n: ask for the printer (1), offline cause (2) or paper sensor (4) status.
const DLE_EOT: [u8; 2] = [0x10, 0x04];

impl PrinterStatus {
    /// Reads the answers to DLE EOT 1, 2 and 4 (Epson's real-time status bytes).
    pub fn from_status_bytes(printer: u8, offline_cause: u8, paper: u8) -> PrinterStatus {
        PrinterStatus {
            online: printer & 0x08 == 0,
            cover_open: offline_cause & 0x04 != 0,
            paper_near_end: paper & 0x0C != 0,
            paper_out: paper & 0x60 != 0 || offline_cause & 0x20 != 0,
        }
    }

    /// Whether a job can be sent now; the reason when not.
    pub fn ready(self) -> Result<(), PrintError> {
        if self.paper_out {
            Err(PrintError::PaperOut)
        } else if self.cover_open {
            Err(PrintError::CoverOpen)
        } else if !self.online {
            Err(PrintError::Offline)
        } else {
            Ok(())
        }
    }
}

/// A driver that keeps the bytes: `escpos` writes into it, a transport sends them.
#[derive(Clone, Debug, Default)]
struct Memory(Arc<Mutex<Vec<u8>>>);

impl Driver for Memory {
    fn name(&self) -> String {
        "memory".into()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.lock().expect("memory lock").extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// Encodes a document as ESC/POS for a printer `width` characters wide, in code page PC858
/// (Western European with the euro sign): the document is brought to characters the code page
/// has, laid out to the width, then written line by line.
pub fn encode(document: &Document, width: usize) -> Result<Vec<u8>, PrintError> {
    let memory = Memory::default();
    let options = PrinterOptions::new(Some(PageCode::PC858), None, u8::try_from(width).unwrap_or(u8::MAX));
    let mut printer = Printer::new(memory.clone(), Protocol::default(), Some(options));
    let error = |e: escpos::errors::PrinterError| PrintError::Encode(e.to_string());
    printer.init().map_err(error)?.page_code(PageCode::PC858).map_err(error)?;
    for printed in document.map_text(printable).layout(width) {
        match printed {
            Printed::Line { text, align, bold, large } => {
                printer.justify(justify(align)).map_err(error)?.bold(bold).map_err(error)?;
                if large {
                    printer.size(2, 2).map_err(error)?;
                }
                printer.custom(&pc858(&text)).map_err(error)?;
                printer.feed().map_err(error)?;
                if large {
                    printer.reset_size().map_err(error)?;
                }
                printer.bold(false).map_err(error)?.justify(JustifyMode::LEFT).map_err(error)?;
            }
            Printed::Qr { data } => {
                // Model 2 is the QR code phone cameras read; escpos' default is Model 1.
                let option = QRCodeOption::new(QRCodeModel::Model2, 6, QRCodeCorrectionLevel::M);
                printer.justify(JustifyMode::CENTER).map_err(error)?.qrcode_option(&data, option).map_err(error)?;
                printer.justify(JustifyMode::LEFT).map_err(error)?;
            }
            Printed::Feed { lines } => {
                printer.feeds(lines).map_err(error)?;
            }
            Printed::Cut => {
                printer.cut().map_err(error)?;
            }
        }
    }
    printer.print().map_err(error)?;
    let bytes = memory.0.lock().expect("memory lock").clone();
    Ok(bytes)
}

fn justify(align: Align) -> JustifyMode {
    match align {
        Align::Left => JustifyMode::LEFT,
        Align::Center => JustifyMode::CENTER,
        Align::Right => JustifyMode::RIGHT,
    }
}

/// A text in characters PC858 has, of about the same length: letters it lacks are
/// transliterated ("Ō" is "O", "œ" is "oe"), typographic marks made plain ("–" is "-"),
/// control characters (which would be printer commands) turned into spaces, zero-width joiners
/// and variation selectors dropped, and anything else (an emoji, a symbol) becomes "?".
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || c == '\u{a0}' || c == '\u{202f}' {
            out.push(' ');
        } else if pc858_byte(c).is_some() {
            out.push(c);
        } else if let Some(plain) = plain_punctuation(c) {
            out.push_str(plain);
        } else if matches!(c, '\u{200b}'..='\u{200d}' | '\u{fe00}'..='\u{fe0f}') {
            // Zero width: joiners and emoji presentation selectors.
        } else if c.is_alphanumeric() {
            match deunicode::deunicode_char(c).filter(|s| !s.is_empty() && s.bytes().all(|b| (0x20..0x7f).contains(&b)))
            {
                Some(plain) => out.push_str(plain.trim()),
                None => out.push('?'),
            }
        } else {
            out.push('?');
        }
    }
    out
}

/// Typographic marks as a typewriter writes them.
fn plain_punctuation(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' => "'",
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' => "\"",
        '\u{2039}' => "<",
        '\u{203a}' => ">",
        '\u{2022}' | '\u{2027}' => "·",
        '\u{2026}' => "...",
        _ => return None,
    })
}

fn pc858_byte(c: char) -> Option<u8> {
    oem_cp::encode_char_checked(c, &oem_cp::code_table::ENCODING_TABLE_CP858).filter(|byte| *byte >= 0x20)
}

/// The PC858 bytes of a text made [`printable`] (what escaped that is sent as "?"). Written
/// here rather than by `escpos`, whose PC858 table sends '-' as 0xF0 (a soft hyphen) and
/// mixes up a few letters.
fn pc858(text: &str) -> Vec<u8> {
    text.chars().map(|c| pc858_byte(c).unwrap_or(b'?')).collect()
}

/// Where ESC/POS bytes go.
#[async_trait]
pub trait ReceiptPrinter: Send + Sync + Debug {
    /// A name for logs and the staff screen.
    fn name(&self) -> String;

    /// Sends a job's bytes and returns only once the printer has taken all of them, as far as
    /// its transport can tell: a network printer answers status requests sent after the job
    /// (so it read everything before them) and that status must be clean; a USB printer
    /// acknowledges the last transfer; a device file takes the last write.
    async fn send(&self, bytes: &[u8]) -> Result<(), PrintError>;

    /// Reads the printer's status.
    async fn status(&self) -> Result<PrinterStatus, PrintError>;
}

/// How long one job may take to reach a printer before it is given up (and retried later).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Prints a document: checks that the printer can take it, encodes it and sends it. An
/// error means the job may not be on paper and must be printed again (at least once, never
/// lost): the printer was not ready, did not take every byte, or said after the job that it
/// ran out of paper, was opened or went offline.
pub async fn print(printer: &dyn ReceiptPrinter, document: &Document, width: usize) -> Result<(), PrintError> {
    printer.status().await?.ready()?;
    let bytes = encode(document, width)?;
    tokio::time::timeout(SEND_TIMEOUT, printer.send(&bytes))
        .await
        .map_err(|_| PrintError::Unreachable(printer.name(), "stopped taking data".into()))?
}

/// A printer on the network, raw TCP (port 9100).
#[derive(Debug)]
pub struct NetworkPrinter {
    pub address: SocketAddr,
    pub timeout: Duration,
}

impl NetworkPrinter {
    async fn connect(&self) -> Result<TcpStream, PrintError> {
        let unreachable = |e: String| PrintError::Unreachable(self.address.to_string(), e);
        tokio::time::timeout(self.timeout, TcpStream::connect(self.address))
            .await
            .map_err(|_| unreachable("no answer".into()))?
            .map_err(|e| unreachable(e.to_string()))
    }
}

impl NetworkPrinter {
    /// Asks DLE EOT 1, 2 and 4 on an open connection and reads the three answers.
    async fn ask_status(&self, stream: &mut TcpStream) -> Result<PrinterStatus, PrintError> {
        let mut answers = [0u8; 3];
        tokio::time::timeout(self.timeout, async {
            for (request, answer) in [1u8, 2, 4].into_iter().zip(answers.iter_mut()) {
                stream.write_all(&[DLE_EOT[0], DLE_EOT[1], request]).await?;
                *answer = stream.read_u8().await?;
            }
            Ok::<(), std::io::Error>(())
        })
        .await
        .map_err(|_| PrintError::Unreachable(self.address.to_string(), "no status answer".into()))?
        .map_err(|e| PrintError::Unreachable(self.address.to_string(), e.to_string()))?;
        Ok(PrinterStatus::from_status_bytes(answers[0], answers[1], answers[2]))
    }
}

#[async_trait]
impl ReceiptPrinter for NetworkPrinter {
    fn name(&self) -> String {
        format!("network printer {}", self.address)
    }

    /// Writes the job, then asks for the status on the same connection: the printer answers
    /// a real-time request only once it has read every byte before it, so a printer that
    /// stopped reading (its buffer full, or gone) never confirms a job it did not take.
    async fn send(&self, bytes: &[u8]) -> Result<(), PrintError> {
        let mut stream = self.connect().await?;
        tokio::time::timeout(self.timeout, stream.write_all(bytes))
            .await
            .map_err(|_| PrintError::Unreachable(self.address.to_string(), "stopped taking data".into()))?
            .map_err(|e| PrintError::Unreachable(self.address.to_string(), e.to_string()))?;
        let after = self.ask_status(&mut stream).await.map_err(|error| match error {
            PrintError::Unreachable(address, why) => {
                PrintError::Unreachable(address, format!("did not confirm the job ({why})"))
            }
            other => other,
        })?;
        // Closing is a courtesy: the job is confirmed already.
        let _ = stream.shutdown().await;
        after.ready()
    }

    async fn status(&self) -> Result<PrinterStatus, PrintError> {
        let mut stream = self.connect().await?;
        self.ask_status(&mut stream).await
    }
}

/// A printer behind a device file, such as `/dev/usb/lp0` (the kernel's usblp driver). The
/// file cannot answer status requests: it is taken as online while writes succeed.
#[derive(Debug)]
pub struct FilePrinter {
    pub path: PathBuf,
}

#[async_trait]
impl ReceiptPrinter for FilePrinter {
    fn name(&self) -> String {
        format!("printer {}", self.path.display())
    }

    async fn send(&self, bytes: &[u8]) -> Result<(), PrintError> {
        let unreachable = |e: std::io::Error| PrintError::Unreachable(self.path.display().to_string(), e.to_string());
        let mut file =
            // Never `create`: with the printer unplugged, that would print into a plain file.
            tokio::fs::OpenOptions::new().append(true).open(&self.path).await.map_err(unreachable)?;
        file.write_all(bytes).await.map_err(unreachable)?;
        file.flush().await.map_err(unreachable)?;
        // What the device file can say after the job: still there.
        self.status().await?.ready()
    }

    async fn status(&self) -> Result<PrinterStatus, PrintError> {
        let present = tokio::fs::metadata(&self.path).await.is_ok();
        Ok(PrinterStatus { online: present, ..PrinterStatus::default() })
    }
}

/// A USB printer driven through `nusb`: the device with this VID:PID, or else the first
/// one with a printer-class interface. Its bulk OUT endpoint takes the bytes. USB printers
/// answer no DLE EOT here: the printer is online while it is plugged in.
#[derive(Debug)]
pub struct UsbPrinter {
    pub vid_pid: Option<(u16, u16)>,
}

const PRINTER_CLASS: u8 = 7;

impl UsbPrinter {
    fn label(&self) -> String {
        self.vid_pid.map_or_else(|| "USB printer".to_owned(), |(v, p)| format!("USB printer {v:04x}:{p:04x}"))
    }

    async fn find(&self) -> Result<nusb::DeviceInfo, PrintError> {
        let unreachable = |e: String| PrintError::Unreachable(self.label(), e);
        let mut devices = nusb::list_devices().await.map_err(|e| unreachable(e.to_string()))?;
        devices
            .find(|info| match self.vid_pid {
                Some((vendor, product)) => info.vendor_id() == vendor && info.product_id() == product,
                None => info.interfaces().any(|i| i.class() == PRINTER_CLASS),
            })
            .ok_or_else(|| unreachable("not plugged in".into()))
    }
}

#[async_trait]
impl ReceiptPrinter for UsbPrinter {
    fn name(&self) -> String {
        self.label()
    }

    async fn send(&self, bytes: &[u8]) -> Result<(), PrintError> {
        use nusb::descriptors::TransferType;
        use nusb::transfer::{Bulk, Direction, Out};
        let unreachable = |e: String| PrintError::Unreachable(self.label(), e);
        let info = self.find().await?;
        let number = info.interfaces().find(|i| i.class() == PRINTER_CLASS).map_or(0, |i| i.interface_number());
        let device = info.open().await.map_err(|e| unreachable(e.to_string()))?;
        let interface = device.detach_and_claim_interface(number).await.map_err(|e| unreachable(e.to_string()))?;
        let address = interface
            .descriptor()
            .and_then(|d| {
                d.endpoints()
                    .find(|e| e.direction() == Direction::Out && e.transfer_type() == TransferType::Bulk)
                    .map(|e| e.address())
            })
            .ok_or_else(|| unreachable("no bulk OUT endpoint".into()))?;
        let endpoint = interface.endpoint::<Bulk, Out>(address).map_err(|e| unreachable(e.to_string()))?;
        let mut writer = endpoint.writer(4096);
        writer.write_all(bytes).await.map_err(|e| unreachable(e.to_string()))?;
        // The device acknowledged the last transfer; then what it can say: still plugged in.
        writer.flush_end_async().await.map_err(|e| unreachable(e.to_string()))?;
        self.status().await?.ready()
    }

    async fn status(&self) -> Result<PrinterStatus, PrintError> {
        self.find().await?;
        Ok(PrinterStatus { online: true, ..PrinterStatus::default() })
    }
}

/// The simulated printer: keeps every job and reports the status it is given.
#[derive(Debug, Default)]
pub struct SimPrinter {
    jobs: Mutex<Vec<Vec<u8>>>,
    status: Mutex<PrinterStatus>,
}

impl SimPrinter {
    pub fn new() -> SimPrinter {
        SimPrinter {
            jobs: Mutex::default(),
            status: Mutex::new(PrinterStatus { online: true, ..PrinterStatus::default() }),
        }
    }

    pub fn set_status(&self, status: PrinterStatus) {
        *self.status.lock().expect("status lock") = status;
    }

    /// The jobs printed so far, as bytes.
    pub fn jobs(&self) -> Vec<Vec<u8>> {
        self.jobs.lock().expect("jobs lock").clone()
    }
}

#[async_trait]
impl ReceiptPrinter for SimPrinter {
    fn name(&self) -> String {
        "simulated printer".into()
    }

    async fn send(&self, bytes: &[u8]) -> Result<(), PrintError> {
        self.status().await?.ready()?;
        self.jobs.lock().expect("jobs lock").push(bytes.to_vec());
        Ok(())
    }

    async fn status(&self) -> Result<PrinterStatus, PrintError> {
        Ok(*self.status.lock().expect("status lock"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_bytes() {
        let fine = PrinterStatus::from_status_bytes(0x12, 0x12, 0x12);
        assert_eq!(fine, PrinterStatus { online: true, paper_near_end: false, paper_out: false, cover_open: false });
        let out = PrinterStatus::from_status_bytes(0x1A, 0x32, 0x7E);
        assert!(!out.online && out.paper_out && out.paper_near_end);
        assert!(matches!(out.ready(), Err(PrintError::PaperOut)));
        let cover = PrinterStatus::from_status_bytes(0x1A, 0x16, 0x12);
        assert!(matches!(cover.ready(), Err(PrintError::CoverOpen)));
    }
}

/// A printer ready to use, with its line width.
#[derive(Clone, Debug)]
pub struct ConfiguredPrinter {
    pub printer: Arc<dyn ReceiptPrinter>,
    pub columns: usize,
}

/// The printers of the device config, by name.
pub fn open_printers(
    configs: &[kiosk_core::config::PrinterConfig],
) -> std::collections::BTreeMap<String, ConfiguredPrinter> {
    use kiosk_core::config::PrinterTransport;
    configs
        .iter()
        .map(|config| {
            let printer: Arc<dyn ReceiptPrinter> = match &config.transport {
                PrinterTransport::Network { address } => {
                    Arc::new(NetworkPrinter { address: *address, timeout: Duration::from_secs(3) })
                }
                PrinterTransport::File { path } => Arc::new(FilePrinter { path: path.clone() }),
                PrinterTransport::Usb { vid_pid } => Arc::new(UsbPrinter { vid_pid: *vid_pid }),
                PrinterTransport::Sim => Arc::new(SimPrinter::new()),
            };
            (config.name.clone(), ConfiguredPrinter { printer, columns: usize::from(config.columns) })
        })
        .collect()
}
