//! Receipts and kitchen tickets: documents made by the core, recorded as print jobs once per
//! order and printer, and sent until the printer takes them. A printer that is off or out of
//! paper never fails a sale: its jobs wait, and the customer can take the e-receipt.

use std::collections::BTreeMap;

use kiosk_core::alert::AlertKind;
use kiosk_core::payment::PaymentState;
use kiosk_core::receipt::{Align, Block, Document, KitchenFacts, ReceiptFacts, kitchen_ticket, receipt};
use kiosk_core::staff::Permission;
use kiosk_devices::printer::{ConfiguredPrinter, PrintError, PrinterStatus, print};
use kiosk_store::orders::StoredOrder;
use kiosk_store::print_jobs::PrintJob;
use kiosk_store::{alerts, commit, orders, payments, print_jobs};
use serde::Serialize;

use crate::clock::timestamp;
use crate::{Actor, Engine, EngineError, Result};

/// How long a sale waits for its tickets to print before leaving them to the next round.
const AFTER_SALE_PRINTING: std::time::Duration = std::time::Duration::from_secs(3);

/// A claim on a print job older than this is taken to be abandoned: longer than any job
/// takes (the status check, the send and its confirmation are bounded well below it).
const CLAIM_EXPIRY_SECONDS: i64 = 120;

/// How a printer stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "kebab-case")]
pub enum PrinterState {
    Ready,
    /// Printing, but the paper roll is nearly out.
    PaperLow,
    PaperOut,
    CoverOpen,
    Offline,
    /// Its status cannot be read, and why.
    Unreachable(String),
}

impl PrinterState {
    /// Whether it takes a job now.
    pub fn takes_jobs(&self) -> bool {
        matches!(self, PrinterState::Ready | PrinterState::PaperLow)
    }

    /// The state's stable name (the staff screen's words are looked up by it).
    pub fn code(&self) -> &'static str {
        match self {
            PrinterState::Ready => "ready",
            PrinterState::PaperLow => "paper-low",
            PrinterState::PaperOut => "paper-out",
            PrinterState::CoverOpen => "cover-open",
            PrinterState::Offline => "offline",
            PrinterState::Unreachable(_) => "unreachable",
        }
    }
}

impl From<PrinterStatus> for PrinterState {
    fn from(status: PrinterStatus) -> PrinterState {
        match status.ready() {
            Ok(()) if status.paper_near_end => PrinterState::PaperLow,
            Ok(()) => PrinterState::Ready,
            Err(PrintError::PaperOut) => PrinterState::PaperOut,
            Err(PrintError::CoverOpen) => PrinterState::CoverOpen,
            Err(_) => PrinterState::Offline,
        }
    }
}

impl std::fmt::Display for PrinterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrinterState::Ready => f.write_str("ready"),
            PrinterState::PaperLow => f.write_str("ready (paper low)"),
            PrinterState::PaperOut => f.write_str("not ready: out of paper"),
            PrinterState::CoverOpen => f.write_str("not ready: cover open"),
            PrinterState::Offline => f.write_str("not ready: offline"),
            PrinterState::Unreachable(why) => write!(f, "unreachable: {why}"),
        }
    }
}

/// What a round of printing did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrintRound {
    pub printed: usize,
    /// Jobs left waiting, with why.
    pub waiting: Vec<(i64, String)>,
    /// Kitchen tickets given up unprinted (too old), by order number: staff are alerted.
    pub given_up: Vec<String>,
    /// Jobs another engine is sending right now.
    pub elsewhere: usize,
}

impl Engine {
    /// The customer's receipt for an order, as a document (for the screen's preview, the
    /// e-receipt and the printer).
    pub async fn receipt_document(&self, order_id: i64) -> Result<Document> {
        let mut conn = self.store.read().await?;
        let order =
            orders::get(&mut conn, order_id).await?.ok_or_else(|| EngineError::OrderNotFound(order_id.to_string()))?;
        let attempts = payments::for_order(&mut conn, order.id).await?;
        drop(conn);
        let approval = attempts.iter().find_map(|a| match (&a.state, &a.refund) {
            (PaymentState::Approved(approval), None) => Some(approval.clone()),
            _ => None,
        });
        let quote = &order.quote;
        let printing = &self.device.printing;
        // A link outside the web allowlist is not offered (the refusal is logged).
        let e_receipt = printing
            .e_receipt_url
            .as_ref()
            .zip(order.receipt_token.as_ref())
            .map(|(url, token)| url.replace("{token}", token))
            .filter(|link| self.web.check(link).is_ok());
        let language = self.language().await;
        Ok(receipt(&ReceiptFacts {
            header: &printing.header,
            order_number: &order.number,
            when: &when(&order),
            quote,
            language: &language,
            payment: approval.as_ref(),
            e_receipt: e_receipt.as_deref(),
            journal_seq: None,
            training: order.training,
        }))
    }

    /// After a sale: its kitchen tickets, and its receipt when the venue always prints one.
    /// Then prints what waits. Never fails the sale: problems are logged and the jobs wait.
    pub(crate) async fn after_sale(&self, order_id: i64) {
        if let Err(error) = self.queue_tickets(order_id).await {
            log::error!("order {order_id}: tickets not recorded: {error}");
        }
        // Bounded: a printer that hangs must not hold the customer; what is left waits for
        // the next round of `print_pending`.
        match tokio::time::timeout(AFTER_SALE_PRINTING, self.print_pending()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => log::error!("printing: {error}"),
            Err(_) => log::warn!("order {order_id}: printing goes on in the next round"),
        }
    }

    async fn queue_tickets(&self, order_id: i64) -> Result<()> {
        let printing = &self.device.printing;
        let order = orders::get(&mut *self.store.read().await?, order_id)
            .await?
            .ok_or_else(|| EngineError::OrderNotFound(order_id.to_string()))?;
        let quote = &order.quote;
        let language = self.language().await;
        let mut by_printer: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, line) in quote.lines.iter().enumerate() {
            if let Some(printer) = printing.kitchen_routes.get(line.category.as_str()) {
                by_printer.entry(printer.as_str()).or_default().push(index);
            }
        }
        let receipt = match printing.receipts {
            kiosk_core::config::ReceiptPrinting::Always => Some(self.receipt_document(order_id).await?),
            _ => None,
        };
        let now = timestamp(&self.now());
        let mut tx = self.store.write().await?;
        for (printer, lines) in by_printer {
            let ticket = kitchen_ticket(&KitchenFacts {
                order_number: &order.number,
                when: &when(&order),
                quote,
                lines: &lines,
                language: &language,
                training: order.training,
            });
            let document = serde_json::to_string(&ticket).expect("a document serializes");
            print_jobs::insert_once(&mut tx, order.id, "kitchen", printer, &document, &now).await?;
        }
        if let Some(receipt) = receipt {
            let document = serde_json::to_string(&receipt).expect("a document serializes");
            print_jobs::insert_once(&mut tx, order.id, "receipt", &printing.receipt_printer, &document, &now).await?;
        }
        commit(tx, "recording print jobs").await?;
        Ok(())
    }

    /// The customer asked for a printed receipt (once per order; staff reprint).
    pub async fn print_receipt(&self, order_id: i64) -> Result<PrintRound> {
        if self.device.printing.receipts == kiosk_core::config::ReceiptPrinting::Never {
            return Err(EngineError::BadInput("this kiosk prints no receipts: offer the e-receipt".into()));
        }
        self.queue_receipt(order_id, "receipt").await?;
        self.print_pending().await
    }

    /// Prints a receipt again, for staff.
    pub async fn reprint(&self, actor: &Actor, order_id: i64) -> Result<PrintRound> {
        self.require(actor, Permission::Reprint).await?;
        let order = orders::get(&mut *self.store.read().await?, order_id)
            .await?
            .ok_or_else(|| EngineError::OrderNotFound(order_id.to_string()))?;
        if !order.status.has_receipt() {
            return Err(EngineError::NoReceipt { number: order.number, status: order.status });
        }
        self.queue_receipt(order_id, "reprint").await?;
        self.print_pending().await
    }

    async fn queue_receipt(&self, order_id: i64, purpose: &str) -> Result<()> {
        let document = serde_json::to_string(&self.receipt_document(order_id).await?).expect("a document serializes");
        let now = timestamp(&self.now());
        let mut tx = self.store.write().await?;
        print_jobs::insert_once(&mut tx, order_id, purpose, &self.device.printing.receipt_printer, &document, &now)
            .await?;
        commit(tx, "recording a print job").await?;
        Ok(())
    }

    /// Sends every waiting job to its printer; what cannot print now stays waiting with its
    /// reason. The app and the agent call this from time to time: each job is claimed first,
    /// so that two engines on one database never send the same job. A kitchen ticket that
    /// waited longer than the venue allows is not printed late: staff are alerted instead.
    /// Each job runs in a task of its own: a caller that stops waiting never leaves a job
    /// claimed and unsent, or printed and unmarked.
    pub async fn print_pending(&self) -> Result<PrintRound> {
        let jobs = print_jobs::pending(&mut *self.store.read().await?).await?;
        let mut round = PrintRound::default();
        for job in jobs {
            let sender = JobSender {
                store: self.store.clone(),
                clock: self.clock.clone(),
                owner: self.owner.clone(),
                printer: self.printers.get(&job.printer).cloned(),
                kitchen_minutes: i64::from(self.device.printing.kitchen_ticket_minutes),
            };
            match tokio::spawn(sender.send(job)).await.expect("a print job does not panic")? {
                Sent::Printed => round.printed += 1,
                Sent::Waiting(id, reason) => round.waiting.push((id, reason)),
                Sent::GivenUp(order) => round.given_up.push(order),
                Sent::Elsewhere => round.elsewhere += 1,
            }
        }
        Ok(round)
    }

    /// Makes the kitchen tickets a crash kept from being recorded (orders of today paid
    /// without one). Runs at start.
    pub(crate) async fn recover_tickets(&self) -> Result<()> {
        if self.device.printing.kitchen_routes.is_empty() {
            return Ok(());
        }
        let today = crate::clock::business_date(&self.now());
        let missing = print_jobs::paid_orders_without(&mut *self.store.read().await?, "kitchen", &today).await?;
        for order_id in missing {
            self.queue_tickets(order_id).await?;
        }
        Ok(())
    }

    /// Prints a document (an X or Z ticket) on the receipt printer now, for staff standing at
    /// it; nothing is kept if it fails.
    pub async fn print_now(&self, document: &Document) -> Result<()> {
        let name = &self.device.printing.receipt_printer;
        let configured = self
            .printers
            .get(name)
            .ok_or_else(|| EngineError::BadInput(format!("no printer named \"{name}\" is configured")))?;
        print(configured.printer.as_ref(), document, configured.columns)
            .await
            .map_err(|e| EngineError::BadInput(format!("the report was not printed: {e}")))
    }

    /// Prints a short ticket naming the kiosk and the time, for staff checking the receipt
    /// printer (paper, cutter, the euro sign and dashes).
    pub async fn print_test_ticket(&self) -> Result<()> {
        let text = |text: String, bold: bool| Block::Text { text, align: Align::Center, bold };
        let document = Document {
            blocks: vec![
                text("PRINTER TEST".into(), true),
                text(format!("kiosk {}", self.device.kiosk_id), false),
                text(timestamp(&self.now()), false),
                text("0123456789 € - ok".into(), false),
                Block::Feed { lines: 3 },
                Block::Cut,
            ],
        };
        self.print_now(&document).await
    }

    /// How each configured printer stands, by name, for the staff screen and the agent's
    /// health report.
    pub async fn printer_states(&self) -> Vec<(String, PrinterState)> {
        let mut states = Vec::new();
        for (name, configured) in &self.printers {
            let state = match configured.printer.status().await {
                Ok(status) => PrinterState::from(status),
                Err(error) => PrinterState::Unreachable(error.to_string()),
            };
            states.push((name.clone(), state));
        }
        states
    }

    /// How the receipt printer stands (none configured: unreachable).
    pub async fn receipt_printer_state(&self) -> PrinterState {
        let name = &self.device.printing.receipt_printer;
        match self.printers.get(name) {
            Some(configured) => match configured.printer.status().await {
                Ok(status) => PrinterState::from(status),
                Err(error) => PrinterState::Unreachable(error.to_string()),
            },
            None => PrinterState::Unreachable(format!("no printer is named {name}")),
        }
    }

    async fn language(&self) -> String {
        match self.active_menu().await {
            Ok(menu) => menu.menu.venue.languages.first().cloned().unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
}

/// How one print job ended.
enum Sent {
    Printed,
    Waiting(i64, String),
    /// A kitchen ticket too old to print, by order number.
    GivenUp(String),
    /// Another engine is sending it.
    Elsewhere,
}

/// Sends one print job, as an engine with this owner name: what a task needs of the engine.
struct JobSender {
    store: kiosk_store::Store,
    clock: std::sync::Arc<dyn crate::Clock>,
    owner: String,
    printer: Option<ConfiguredPrinter>,
    kitchen_minutes: i64,
}

impl JobSender {
    async fn send(self, job: PrintJob) -> Result<Sent> {
        if !self.claim(&job).await? {
            return Ok(Sent::Elsewhere);
        }
        if let Some(waited) = self.too_old(&job) {
            return self.give_up(&job, waited).await.map(Sent::GivenUp);
        }
        let document: std::result::Result<Document, String> =
            serde_json::from_str(&job.document).map_err(|e| format!("the job's document is unreadable: {e}"));
        let outcome = match (&self.printer, document) {
            (None, _) => Err(format!("no printer named \"{}\" is configured", job.printer)),
            (_, Err(error)) => Err(error),
            (Some(configured), Ok(document)) => {
                print(configured.printer.as_ref(), &document, configured.columns).await.map_err(|e| e.to_string())
            }
        };
        let mut tx = self.store.write().await?;
        let (kept, sent) = match outcome {
            Ok(()) => (
                print_jobs::mark_printed(&mut tx, job.id, &self.owner, &timestamp(&self.clock.now())).await?,
                Sent::Printed,
            ),
            Err(reason) => {
                log::warn!("print job {} for {} waits: {reason}", job.id, job.printer);
                (
                    print_jobs::record_failure(&mut tx, job.id, &self.owner, &reason).await?,
                    Sent::Waiting(job.id, reason),
                )
            }
        };
        commit(tx, "recording a print").await?;
        if !kept {
            log::warn!("print job {} was taken over by another engine while this one sent it", job.id);
        }
        Ok(sent)
    }

    /// Claims the job, unless another engine is sending it: a claim holds while its owner
    /// runs and for [`CLAIM_EXPIRY_SECONDS`].
    async fn claim(&self, job: &PrintJob) -> Result<bool> {
        let now = self.clock.now().timestamp();
        if let Some(owner) = &job.claimed_by {
            let fresh = job.claimed_at.is_some_and(|at| now - at < CLAIM_EXPIRY_SECONDS);
            let held = *owner == self.owner || crate::process::is_running(owner);
            if fresh && held {
                return Ok(false);
            }
        }
        let mut tx = self.store.write().await?;
        let claimed = print_jobs::claim(&mut tx, job.id, &self.owner, job.claimed_by.as_deref(), now).await?;
        commit(tx, "claiming a print job").await?;
        Ok(claimed)
    }

    /// How many minutes a kitchen ticket waited, when that is past the venue's limit.
    fn too_old(&self, job: &PrintJob) -> Option<i64> {
        let created = chrono::DateTime::parse_from_rfc3339(&job.created_at).ok()?;
        let waited = (self.clock.now() - created).num_minutes();
        (job.purpose == "kitchen" && waited >= self.kitchen_minutes).then_some(waited)
    }

    /// Gives a kitchen ticket up and alerts staff in one transaction, naming the order and what
    /// kept it back; returns the order's number.
    async fn give_up(&self, job: &PrintJob, waited: i64) -> Result<String> {
        let mut tx = self.store.write().await?;
        let order =
            orders::get(&mut tx, job.order_id).await?.map_or_else(|| job.order_id.to_string(), |order| order.number);
        let why = job.last_error.as_deref().unwrap_or("the printer never took it");
        let message = format!(
            "the {} ticket of order {order} could not print for {waited} min ({why}); it is not printed this late: \
             check with the kitchen that the order was made",
            job.printer
        );
        print_jobs::expire(&mut tx, job.id, &self.owner, &message).await?;
        let subject = format!("order {order} {}", job.printer);
        let now = timestamp(&self.clock.now());
        alerts::raise(&mut tx, AlertKind::TicketNotPrinted.code(), &subject, &message, &now).await?;
        commit(tx, "giving up a print job").await?;
        log::error!("alert {} ({subject}): {message}", AlertKind::TicketNotPrinted);
        Ok(order)
    }
}

/// The order's local date and time as tickets print it.
fn when(order: &StoredOrder) -> String {
    order.created_at.format("%Y-%m-%d %H:%M").to_string()
}
