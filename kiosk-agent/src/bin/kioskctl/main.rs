//! `kioskctl`: the kiosk's admin command line. Every command takes `--db PATH` and `--json`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kiosk_engine::devices::{COLUMNS, SimOutcome};
use kiosk_engine::kiosk_core::cart::Cart;
use kiosk_engine::kiosk_core::config::TerminalConfig;
use kiosk_engine::kiosk_core::journal::ChainTail;
use kiosk_engine::kiosk_core::order::OrderStatus;
use kiosk_engine::kiosk_core::receipt::Block;
use kiosk_engine::kiosk_core::refund::{LineUnits, RefundScope};
use kiosk_engine::kiosk_core::staff::{BadgeCode, Pin, Role};
use kiosk_engine::{
    Actor, CounterPayment, Engine, EngineBuilder, EngineError, JournalArchive, Locations, MenuFile, PaymentOutcome,
    ProvisionedAccount, StockChange,
};

mod fleet;
mod repo;
mod show;

const DEMO_MENU: &str = "menus/brasserie/menu.toml";
const DEMO_CART: &str = "menus/brasserie/carts/demo.json";

#[derive(Parser, Debug)]
#[command(name = "kioskctl", version, about = "Administer a self-service kiosk: menu, orders, stock")]
struct Cli {
    /// A development kiosk: simulated terminal and printers (every sale a training sale),
    /// database and config under kiosk-data/ unless --db or --config say otherwise.
    #[arg(long, global = true)]
    dev: bool,
    /// The kiosk database [default: /var/lib/kiosk/kiosk.db; with --dev kiosk-data/kiosk.db].
    #[arg(long, global = true, env = "KIOSK_DB")]
    db: Option<PathBuf>,
    /// The device config: kiosk id, order prefix, terminal, printers; required, a kiosk never
    /// sells on a simulator by accident [default: /etc/kiosk/kiosk.toml; with --dev
    /// kiosk-data/kiosk.toml, written the first time].
    #[arg(long, global = true, env = "KIOSK_CONFIG")]
    config: Option<PathBuf>,
    /// The key that signs the journal [default: journal.key beside the database].
    #[arg(long, global = true, env = "KIOSK_JOURNAL_KEY")]
    journal_key: Option<PathBuf>,
    /// The simulated payment terminal's ledger [default: sim-terminal.jsonl beside the database].
    #[arg(long, global = true)]
    terminal_ledger: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Menus: check, import, show.
    #[command(subcommand)]
    Menu(MenuCommand),
    /// Orders: quote a cart, place and pay, list, show.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Stock of counted items.
    #[command(subcommand)]
    Stock(StockCommand),
    /// X and Z reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Staff accounts and the record of who did what.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The signed fiscal journal: verify, export, public key.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Connected USB devices and the configured printers' status.
    Devices,
    /// Training mode: sales out of the fiscal journal and the X and Z totals, paid on a
    /// simulated terminal.
    #[command(subcommand)]
    Training(TrainingCommand),
    /// What staff are asked to see to (kitchen tickets given up, a broken journal).
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// How the day stands: paid orders and takings, the journal's last entry, the menu in use.
    Status,
    /// The database itself.
    #[command(subcommand)]
    Db(DbCommand),
    /// The signed update repository IT publishes releases, menus and policies to.
    #[command(subcommand)]
    Repo(repo::RepoCommand),
    /// Remote commands for the kiosks: the fleet's signing key, and commands signed with it.
    #[command(subcommand)]
    Fleet(fleet::FleetCommand),
    /// Import the demo menu and place a paid order on the simulated terminal (with --dev).
    Demo {
        #[arg(long, default_value = DEMO_MENU)]
        menu: PathBuf,
        #[arg(long, default_value = DEMO_CART)]
        cart: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum TrainingCommand {
    /// Every sale from now on is a training sale.
    On,
    /// Sales are real again.
    Off,
    /// Whether sales are training sales now, and why.
    Status,
}

#[derive(Subcommand, Debug)]
enum DbCommand {
    /// Copy the database to a file while the kiosk sells (the agent's backup before an update).
    Backup { out: PathBuf },
    /// Check the books: SQLite's integrity, the journal, every approved payment paying one
    /// order recorded once, no payment unresolved, no stray stock hold and, on a simulated
    /// terminal, its ledger against the payments. Exits 7 when a rule is broken.
    Check,
}

#[derive(Subcommand, Debug)]
enum AlertsCommand {
    /// The open alerts.
    List,
    /// Mark an alert seen to (a broken journal's clears by itself once it checks out).
    Clear { id: i64 },
}

#[derive(Subcommand, Debug)]
enum MenuCommand {
    /// Check a menu file and its images without touching the kiosk.
    Validate { file: PathBuf },
    /// Make a menu file the menu in use (all or nothing).
    Import { file: PathBuf },
    /// Show the menu in use.
    Show {
        /// Language of the texts [default: the venue's first].
        #[arg(long)]
        lang: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum OrderCommand {
    /// Price a cart (docs/cart-format.md) without ordering.
    Quote {
        #[arg(long)]
        cart: PathBuf,
    },
    /// Place an order for a cart and pay it on the simulated terminal (or at the counter).
    Place {
        #[arg(long)]
        cart: PathBuf,
        /// What the simulated terminal does (when the device config names no real terminal).
        #[arg(long, default_value = "sim-approve", value_parser = parse_pay, conflicts_with = "at_counter")]
        pay: SimOutcome,
        /// The customer pays at the counter: the order holds its stock until settled or expired.
        #[arg(long)]
        at_counter: bool,
    },
    /// Show an order's receipt as text, or print it (--print; staff reprint with --reprint).
    Receipt {
        number: String,
        #[arg(long, conflicts_with = "reprint")]
        print: bool,
        #[arg(long)]
        reprint: bool,
    },
    /// Send the print jobs that wait (after paper or power came back).
    PrintPending,
    /// Give money back for a paid order: all of it, or some units of some lines.
    Refund {
        number: String,
        /// Lines and units as LINE:UNITS, comma-separated (e.g. 1:1,3:2) [default: everything left].
        #[arg(long, value_parser = parse_line_units, value_delimiter = ',')]
        lines: Vec<LineUnits>,
        /// Put the refunded units back into stock.
        #[arg(long)]
        restock: bool,
    },
    /// Settle an order waiting at the counter: the money was taken in cash or by card.
    Settle {
        number: String,
        #[arg(long, value_parser = parse_counter_payment)]
        by: CounterPayment,
    },
    /// The latest orders.
    List {
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One order with its payments, by the number the customer got (e.g. A042).
    Show { number: String },
    /// Move an order on: sent_to_kitchen, completed, or cancelled (an unpaid order).
    Status {
        number: String,
        #[arg(value_parser = parse_status)]
        status: OrderStatus,
    },
}

#[derive(Subcommand, Debug)]
enum StockCommand {
    /// Counted items with their levels.
    List,
    /// Change an item's count, threshold or sold-out mark.
    Set {
        item: String,
        /// Units on hand.
        #[arg(long)]
        count: Option<u32>,
        /// Units received (or, negative, thrown away), counted from the units on hand now.
        #[arg(long, allow_negative_numbers = true)]
        add: Option<i64>,
        /// Alert when the count falls to this or below.
        #[arg(long)]
        low: Option<u32>,
        /// Mark the item sold out whatever its count.
        #[arg(long, conflicts_with = "available")]
        sold_out: bool,
        /// Clear the sold-out mark.
        #[arg(long)]
        available: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// The running report since the last Z.
    X {
        #[command(flatten)]
        output: ReportOutput,
    },
    /// Close the day: number a Z report, journal the close, print the ticket.
    Z {
        #[command(flatten)]
        output: ReportOutput,
    },
    /// A Z report closed earlier.
    Show {
        number: u64,
        #[command(flatten)]
        output: ReportOutput,
    },
    /// Write every Z report closed, with its journal anchor, to a JSON file (the Z archive).
    Archive {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
struct ReportOutput {
    /// Also write the figures as CSV to this file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Language of item names [default: en].
    #[arg(long, default_value = "en")]
    lang: String,
    /// Also print the ticket on the receipt printer.
    #[arg(long)]
    print: bool,
}

impl ReportOutput {
    fn write_csv(&self, report: &kiosk_engine::kiosk_core::report::Report) -> Result<()> {
        if let Some(path) = &self.csv {
            std::fs::write(path, report.to_csv()).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

#[derive(Subcommand, Debug)]
enum StaffCommand {
    /// Add an account.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// 4 to 8 digits (or set KIOSK_PIN, which keeps it out of the shell's history).
        #[arg(long, env = "KIOSK_PIN", hide_env_values = true, value_parser = Pin::parse)]
        pin: Pin,
        /// The code the staff badge scans as.
        #[arg(long, value_parser = BadgeCode::parse)]
        badge: Option<BadgeCode>,
    },
    /// The active accounts.
    List,
    /// Remove an account (its past actions keep its name).
    Remove { name: String },
    /// Set a new PIN, which also unlocks the account.
    ResetPin {
        name: String,
        #[arg(long, env = "KIOSK_PIN", hide_env_values = true, value_parser = Pin::parse)]
        pin: Pin,
    },
    /// Check a PIN as the staff screen does (counts toward the lock like a real attempt).
    SignIn {
        name: String,
        #[arg(long, env = "KIOSK_PIN", hide_env_values = true, value_parser = Pin::parse)]
        pin: Pin,
    },
    /// Make the accounts a policy file lists exist as it says (their PINs come hashed).
    Provision {
        #[arg(long)]
        policy: PathBuf,
    },
    /// Who did what, newest first.
    Actions {
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

/// The staff accounts of a policy, as the engine takes them.
fn provisioned_accounts(policy: &kiosk_agent::policy::Policy) -> Result<Vec<ProvisionedAccount>> {
    policy
        .staff
        .iter()
        .map(|account| {
            Ok(ProvisionedAccount {
                name: account.name.clone(),
                role: parse_role(&account.role).map_err(anyhow::Error::msg)?,
                pin_hash: account.pin_hash.clone(),
                badge: account.badge.as_deref().map(BadgeCode::parse).transpose().map_err(anyhow::Error::msg)?,
            })
        })
        .collect()
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| format!("\"{text}\" is not a role (staff, manager)"))
}

#[derive(Subcommand, Debug)]
enum JournalCommand {
    /// Check every entry's hash, link and signature, and the anchor if given.
    Verify {
        /// The last sequence number and hash seen before ("SEQ:HASH", from a Z ticket or a
        /// heartbeat): a journal cut shorter than that fails.
        #[arg(long, value_parser = parse_anchor)]
        anchor: Option<ChainTail>,
        /// Verify an exported archive instead of the kiosk's database.
        #[arg(long)]
        archive: Option<PathBuf>,
        /// With --archive: the kiosk's registered public key (hex, from `journal public-key`).
        #[arg(long, requires = "archive")]
        public_key: Option<String>,
    },
    /// Write the entries of a period, with the public key, to a JSON archive.
    Export {
        /// First business day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last business day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key that verifies this kiosk's journal.
    PublicKey,
}

fn parse_anchor(text: &str) -> Result<ChainTail, String> {
    ChainTail::parse(text).ok_or_else(|| format!("\"{text}\" is not an anchor (SEQ:HASH, the hash in 64 hex digits)"))
}

fn parse_line_units(text: &str) -> Result<LineUnits, String> {
    let (line, quantity) = text.split_once(':').ok_or_else(|| format!("\"{text}\" is not LINE:UNITS"))?;
    let line = line.trim().parse().map_err(|_| format!("\"{line}\" is not a line number"))?;
    let quantity = quantity.trim().parse().map_err(|_| format!("\"{quantity}\" is not a number of units"))?;
    Ok(LineUnits { line, quantity })
}

fn parse_counter_payment(text: &str) -> Result<CounterPayment, String> {
    match text {
        "cash" => Ok(CounterPayment::Cash),
        "card" => Ok(CounterPayment::Card),
        other => Err(format!("\"{other}\" is not a counter payment (cash, card)")),
    }
}

fn parse_status(text: &str) -> Result<OrderStatus, String> {
    OrderStatus::parse(text)
        .ok_or_else(|| format!("\"{text}\" is not an order status (sent_to_kitchen, completed, cancelled)"))
}

fn parse_pay(text: &str) -> Result<SimOutcome, String> {
    let outcome = text.strip_prefix("sim-").ok_or_else(|| {
        format!("\"{text}\" is not a payment method (sim-approve, sim-decline, sim-timeout, sim-lost-response, sim-disconnect)")
    })?;
    outcome.parse()
}

/// Exit codes beyond 0 (done) and 1 (error), for scripts.
const EXIT_NOT_CHARGED: u8 = 3;
const EXIT_IN_DOUBT: u8 = 4;
const EXIT_JOURNAL_BROKEN: u8 = 5;
const EXIT_BOOKS_BROKEN: u8 = 7;
/// A menu import or other change refused until a payment is resolved: try again later.
const EXIT_PAYMENT_IN_PROGRESS: u8 = kiosk_agent::effects::EXIT_PAYMENT_IN_PROGRESS;

fn main() -> ExitCode {
    kiosk_engine::logging::init_stderr(log::LevelFilter::Warn);
    let cli = Cli::parse();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            match error.downcast_ref::<EngineError>() {
                Some(EngineError::Journal(_)) => ExitCode::from(EXIT_JOURNAL_BROKEN),
                Some(EngineError::PaymentInProgress) => ExitCode::from(EXIT_PAYMENT_IN_PROGRESS),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let out = show::Output { json: cli.json };
    match cli.command {
        Command::Repo(command) => {
            repo::run(command).await?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::Fleet(command) => {
            fleet::run(command).await?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    if let Command::Menu(MenuCommand::Validate { file }) = &cli.command {
        let checked = MenuFile::load(file)?;
        out.menu_valid(&checked);
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Journal(JournalCommand::Verify { archive: Some(archive), public_key, anchor }) = &cli.command {
        let key = public_key.as_deref().context("--archive needs --public-key: the kiosk's registered key")?;
        out.journal_check(&JournalArchive::verify_file(archive, key, anchor.as_ref())?);
        return Ok(ExitCode::SUCCESS);
    }
    let engine = open_engine(&cli).await?;
    match cli.command {
        Command::Menu(MenuCommand::Validate { .. }) | Command::Repo(_) | Command::Fleet(_) => {
            unreachable!("handled before opening the database")
        }
        Command::Menu(MenuCommand::Import { file }) => out.imported(&engine.import_menu(&file).await?),
        Command::Menu(MenuCommand::Show { lang }) => out.menu(&*engine.active_menu().await?, lang.as_deref()),
        Command::Order(OrderCommand::Quote { cart }) => out.quote(&engine.quote(&read_cart(&cart)?).await?),
        Command::Order(OrderCommand::Place { cart, at_counter: true, .. }) => {
            let placed = engine.place_counter_order(&read_cart(&cart)?).await?;
            out.at_counter(&placed);
        }
        Command::Order(OrderCommand::Place { cart, .. }) => {
            let (placed, outcome) = engine.checkout(&read_cart(&cart)?).await?;
            out.placed(&placed, &outcome);
            return Ok(exit_code(&outcome));
        }
        Command::Order(OrderCommand::Refund { number, lines, restock }) => {
            let order = engine.order_by_number(&number).await?.order;
            let scope = if lines.is_empty() { RefundScope::Whole } else { RefundScope::Lines(lines) };
            let outcome = engine.refund(&Actor::Admin, order.id, &scope, restock).await?;
            out.refunded(&number, &outcome);
            return Ok(exit_code(&outcome));
        }
        Command::Order(OrderCommand::Receipt { number, print, reprint }) => {
            let order = engine.order_by_number(&number).await?.order;
            if print {
                out.print_round(&engine.print_receipt(order.id).await?);
            } else if reprint {
                out.print_round(&engine.reprint(&Actor::Admin, order.id).await?);
            } else {
                print!("{}", engine.receipt_document(order.id).await?.to_text(COLUMNS));
            }
        }
        Command::Order(OrderCommand::PrintPending) => out.print_round(&engine.print_pending().await?),
        Command::Order(OrderCommand::Settle { number, by }) => {
            let order = engine.order_by_number(&number).await?.order;
            engine.settle_counter_order(&Actor::Admin, order.id, by).await?;
            out.order(&engine.order_by_number(&number).await?);
        }
        Command::Order(OrderCommand::List { limit }) => out.orders(&engine.latest_orders(limit).await?),
        Command::Order(OrderCommand::Show { number }) => out.order(&engine.order_by_number(&number).await?),
        Command::Order(OrderCommand::Status { number, status }) => {
            let order = engine.order_by_number(&number).await?.order;
            engine.change_order_status(&Actor::Admin, order.id, status).await?;
            out.order(&engine.order_by_number(&number).await?);
        }
        Command::Status => out.day_status(&engine.day_status().await?),
        Command::Db(DbCommand::Backup { out: path }) => {
            engine.backup(&path).await?;
            out.done(&format!("database copied to {}", path.display()));
        }
        Command::Db(DbCommand::Check) => {
            let simulated = matches!(engine.device().terminal, TerminalConfig::Sim);
            let check = engine.check_books(simulated.then(|| simulator_ledger(&cli)).as_deref()).await?;
            out.books(&check);
            if !check.is_sound() {
                return Ok(ExitCode::from(EXIT_BOOKS_BROKEN));
            }
        }
        Command::Stock(StockCommand::List) => out.stock(&engine.stock().await?),
        Command::Stock(StockCommand::Set { item, count, add, low, sold_out, available }) => {
            let sold_out = (sold_out || available).then_some(sold_out);
            let change = StockChange { on_hand: count, adjust: add, low_threshold: low, sold_out };
            out.stock(&[engine.change_stock(&Actor::Admin, &item, &change).await?]);
        }
        Command::Journal(JournalCommand::Verify { anchor, .. }) => {
            out.journal_check(&engine.verify_journal(anchor.as_ref()).await?)
        }
        Command::Journal(JournalCommand::Export { from, to, out: path }) => {
            out.journal_check(&engine.export_journal(&from, &to, &path).await?)
        }
        Command::Journal(JournalCommand::PublicKey) => println!("{}", engine.journal_public_key()),
        Command::Staff(StaffCommand::Add { name, role, pin, badge }) => {
            out.staff(&[engine.add_staff(&Actor::Admin, &name, role, &pin, badge.as_ref()).await?])
        }
        Command::Staff(StaffCommand::List) => out.staff(&engine.staff().await?),
        Command::Staff(StaffCommand::Provision { policy }) => {
            let accounts = provisioned_accounts(&kiosk_agent::policy::Policy::load(&policy)?)?;
            out.provisioned(&engine.provision_staff(&Actor::Admin, &accounts).await?);
        }
        Command::Report(ReportCommand::X { output }) => {
            let report = engine.x_report(&Actor::Admin).await?;
            output.write_csv(&report)?;
            let mut ticket = report.to_document("X REPORT", &output.lang);
            ticket.blocks.extend([Block::Feed { lines: 3 }, Block::Cut]);
            if output.print {
                engine.print_now(&ticket).await?;
            }
            out.report(&report, &ticket.to_text(COLUMNS));
        }
        Command::Report(ReportCommand::Z { output }) => {
            let z = engine.close_day(&Actor::Admin).await?;
            output.write_csv(&z.report)?;
            out.z_report(&z, &output.lang);
            if output.print {
                engine.print_now(&z.to_document(&output.lang)).await?;
            }
        }
        Command::Report(ReportCommand::Show { number, output }) => {
            let z = engine.z_report(number).await?;
            output.write_csv(&z.report)?;
            out.z_report(&z, &output.lang);
            if output.print {
                engine.print_now(&z.to_document(&output.lang)).await?;
            }
        }
        Command::Report(ReportCommand::Archive { out: path }) => {
            let reports = engine.z_reports().await?;
            let text = serde_json::to_string_pretty(&reports)?;
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            out.done(&format!("{} Z reports written to {}", reports.len(), path.display()));
        }
        Command::Staff(StaffCommand::Remove { name }) => {
            engine.remove_staff(&Actor::Admin, &name).await?;
            out.done(&format!("{name} removed"));
        }
        Command::Staff(StaffCommand::ResetPin { name, pin }) => {
            engine.reset_pin(&Actor::Admin, &name, &pin).await?;
            out.done(&format!("{name} has a new PIN and is unlocked"));
        }
        Command::Staff(StaffCommand::SignIn { name, pin }) => {
            let session = engine.sign_in(&name, &pin).await?;
            out.done(&format!("{} signed in as {}", session.name, session.role));
        }
        Command::Staff(StaffCommand::Actions { limit }) => out.actions(&engine.recent_actions(limit).await?),
        Command::Devices => {
            let usb = kiosk_engine::devices::usb_devices().await?;
            out.devices(&usb, &engine.printer_states().await);
        }
        Command::Training(TrainingCommand::On) => {
            engine.set_training(&Actor::Admin, true).await?;
            out.training(engine.training().await?.as_ref());
        }
        Command::Training(TrainingCommand::Off) => {
            engine.set_training(&Actor::Admin, false).await?;
            out.training(engine.training().await?.as_ref());
        }
        Command::Training(TrainingCommand::Status) => out.training(engine.training().await?.as_ref()),
        Command::Alerts(AlertsCommand::List) => out.alerts(&engine.alerts().await?),
        Command::Alerts(AlertsCommand::Clear { id }) => {
            engine.clear_alert(&Actor::Admin, id).await?;
            out.done(&format!("alert {id} cleared"));
        }
        Command::Demo { .. } if !cli.dev => {
            anyhow::bail!("the demo places a sale on the simulated terminal: run it with --dev")
        }
        Command::Demo { menu, cart } => {
            out.imported(&engine.import_menu(&menu).await?);
            let (placed, outcome) = engine.checkout(&read_cart(&cart)?).await?;
            out.placed(&placed, &outcome);
            out.order(&engine.order_by_number(&placed.number).await?);
            return Ok(exit_code(&outcome));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn exit_code(outcome: &PaymentOutcome) -> ExitCode {
    match outcome {
        PaymentOutcome::Paid { .. } => ExitCode::SUCCESS,
        PaymentOutcome::NotCharged { .. } => ExitCode::from(EXIT_NOT_CHARGED),
        PaymentOutcome::InDoubt => ExitCode::from(EXIT_IN_DOUBT),
    }
}

impl Command {
    /// How a simulated terminal answers, for a command that takes or refunds payments on the
    /// terminal; `None` for the others, which open the engine without payments: no terminal,
    /// nothing settled, so they work while the terminal is away and never race the app.
    fn payments(&self) -> Option<SimOutcome> {
        match self {
            Command::Order(OrderCommand::Place { at_counter: false, pay, .. }) => Some(*pay),
            Command::Order(OrderCommand::Refund { .. }) | Command::Demo { .. } => Some(SimOutcome::Approve),
            _ => None,
        }
    }
}

fn locations(cli: &Cli) -> Locations {
    Locations::new(cli.dev, cli.db.clone(), cli.config.clone())
}

/// The simulated terminal's ledger: `--terminal-ledger`, else beside the database.
fn simulator_ledger(cli: &Cli) -> PathBuf {
    cli.terminal_ledger.clone().unwrap_or_else(|| locations(cli).sim_ledger())
}

async fn open_engine(cli: &Cli) -> Result<Engine> {
    let locations = locations(cli);
    let mut builder = EngineBuilder::at(&locations)?.simulator_ledger(&simulator_ledger(cli));
    if let Some(key) = &cli.journal_key {
        builder = builder.journal_key(key);
    }
    let db = &locations.db;
    let opening = || format!("cannot open the kiosk database {}", db.display());
    let Some(outcome) = cli.command.payments() else {
        return builder.open_without_payments().await.with_context(opening);
    };
    let (engine, recovery) = builder.simulator(outcome, Duration::ZERO).open().await.with_context(opening)?;
    for number in &recovery.paid {
        eprintln!("note: order {number} was left mid-payment; the terminal approved it, it is now paid");
    }
    for number in &recovery.not_charged {
        eprintln!("note: order {number} was left mid-payment; the terminal did not charge it, its stock is released");
    }
    for number in &recovery.refunded {
        eprintln!("note: a refund of order {number} was left unconfirmed; the terminal made it, it is recorded");
    }
    for number in &recovery.refund_not_made {
        eprintln!("note: a refund of order {number} was left unconfirmed; the terminal did not make it");
    }
    for number in &recovery.expired_counter_orders {
        eprintln!("note: order {number} waited at the counter too long: voided, its stock is back");
    }
    for number in &recovery.still_in_doubt {
        eprintln!("warning: order {number} has a payment in doubt: the terminal does not answer yet");
    }
    Ok(engine)
}

fn read_cart(path: &Path) -> Result<Cart> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the cart {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid cart (see docs/cart-format.md)", path.display()))
}
