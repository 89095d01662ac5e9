//! `kioskctl` end to end: each command on a fresh database, in text and JSON, with the exit
//! codes scripts rely on and the messages people read on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

struct Ctl {
    dir: tempfile::TempDir,
    /// Runs the fake payment terminal of a kiosk selling for real.
    _terminal: Option<tokio::runtime::Runtime>,
}

impl Ctl {
    /// A development kiosk (`--dev`): its sales are training sales on the simulator.
    fn new() -> Ctl {
        Ctl { dir: tempfile::tempdir().unwrap(), _terminal: None }
    }

    /// A kiosk selling for real: its config names a (fake) nexo terminal on loopback.
    fn selling() -> Ctl {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let terminal = runtime.block_on(kiosk_tests::fake_terminal::FakeTerminal::start());
        let config = format!("kiosk_id = \"lyon-01\"\norder_prefix = \"A\"\n{}", terminal.config_section(dir.path()));
        std::fs::write(dir.path().join("kiosk.toml"), config).unwrap();
        Ctl { dir, _terminal: Some(runtime) }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kioskctl"));
        if self._terminal.is_none() {
            command.arg("--dev");
        }
        command
            .arg("--db")
            .arg(self.dir.path().join("kiosk.db"))
            .arg("--config")
            .arg(self.dir.path().join("kiosk.toml"))
            .args(args)
            .env("KIOSK_LOG", "error")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "kioskctl {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        serde_json::from_str(&self.ok(&with_json)).unwrap()
    }
}

fn path(relative: &str) -> String {
    workspace(relative).display().to_string()
}

#[test]
fn menu_commands() {
    let ctl = Ctl::new();
    let menu = path("menus/brasserie/menu.toml");
    assert!(ctl.ok(&["menu", "validate", &menu]).contains("valid menu"));
    let validated = ctl.json(&["menu", "validate", &path("menus/cinema/menu.toml")]);
    assert_eq!(validated["valid"], true);
    assert!(!ctl.dir.path().join("kiosk.db").exists(), "validate does not touch the kiosk");

    assert_eq!(ctl.json(&["menu", "import", &menu])["version"], 1);
    assert!(ctl.ok(&["menu", "import", &menu]).contains("already in use as version 1"));
    let shown = ctl.json(&["menu", "show"]);
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["menu"]["venue"]["currency"], "EUR");
    assert!(ctl.ok(&["menu", "show", "--lang", "en"]).contains("Homemade fries"));
}

#[test]
fn a_broken_menu_is_refused_with_file_and_line() {
    let ctl = Ctl::new();
    let broken = ctl.dir.path().join("broken.toml");
    std::fs::write(&broken, "[venue]\nname = { fr = \"X\" }\ncurrency = \"EUR\"\nlanguages = [\"fr\"]\n\n[[tax]]\nid = \"t\"\ndine_in = \"ten\"\ntake_away = \"10\"\n").unwrap();
    let output = ctl.run(&["menu", "import", broken.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{}:7: tax \"t\".dine_in: \"ten\" is not a rate", broken.display())), "{stderr}");
    let shown = ctl.run(&["menu", "show"]);
    assert!(String::from_utf8_lossy(&shown.stderr).contains("no menu has been imported yet"));
}

#[test]
fn order_and_stock_commands() {
    let ctl = Ctl::new();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    let cart = path("menus/brasserie/carts/demo.json");

    let quote = ctl.json(&["order", "quote", "--cart", &cart]);
    assert_eq!(quote["total"], "28.80");
    assert_eq!(quote["taxes"].as_array().unwrap().len(), 2);

    let paid = ctl.json(&["order", "place", "--cart", &cart]);
    assert_eq!((paid["order"].as_str(), paid["payment"]["outcome"].as_str()), (Some("TA001"), Some("paid")));

    let declined = ctl.run(&["order", "place", "--cart", &cart, "--pay", "sim-decline"]);
    assert_eq!(declined.status.code(), Some(3), "not charged has its own exit code");
    assert!(String::from_utf8_lossy(&declined.stdout).contains("order TA002 not paid: declined"));

    let lost = ctl.json(&["order", "place", "--cart", &cart, "--pay", "sim-lost-response"]);
    assert_eq!(lost["payment"]["outcome"], "paid", "a lost response is recovered by a status query");

    let list = ctl.json(&["order", "list"]);
    let statuses: Vec<&str> = list.as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["paid", "cancelled", "paid"]);
    assert!(ctl.ok(&["order", "show", "TA002"]).contains("not charged: declined"));
    assert!(ctl.ok(&["order", "status", "TA001", "completed"]).contains("order TA001 (completed)"));
    let refused = ctl.run(&["order", "status", "TA002", "paid"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("order TA002 is cancelled and cannot become paid"));

    let stock = ctl.json(&["stock", "list"]);
    let salad = stock.as_array().unwrap().iter().find(|e| e["item"] == "salade-nicoise").unwrap();
    assert_eq!(salad["level"]["on_hand"], 15, "the development kiosk's training sales take no stock");
    let changed = ctl.json(&["stock", "set", "salade-nicoise", "--count", "1", "--sold-out"]);
    assert_eq!((changed[0]["level"]["on_hand"].as_u64(), changed[0]["available"].as_u64()), (Some(1), Some(0)));
    let delivered = ctl.json(&["stock", "set", "salade-nicoise", "--add", "4"]);
    assert_eq!(delivered[0]["level"]["on_hand"], 5);
    let thrown = ctl.json(&["stock", "set", "salade-nicoise", "--add", "-9"]);
    assert_eq!(thrown[0]["level"]["on_hand"], 0, "never below zero");
    let refused = ctl.run(&["order", "place", "--cart", &cart]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("line 1 (salade-nicoise): \"salade-nicoise\" is sold out")
    );
}

#[test]
fn bad_arguments_and_carts_get_clear_messages() {
    let ctl = Ctl::new();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    let bad_pay = ctl.run(&["order", "place", "--cart", "x.json", "--pay", "cash"]);
    assert!(String::from_utf8_lossy(&bad_pay.stderr).contains("\"cash\" is not a payment method"));

    let cart = ctl.dir.path().join("cart.json");
    std::fs::write(&cart, "{\"mode\": \"dine_in\", \"lines\": [{\"product\": \"cola\", \"qty\": 2}]}").unwrap();
    let typo = ctl.run(&["order", "quote", "--cart", cart.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(stderr.contains("is not a valid cart") && stderr.contains("unknown field `qty`"), "{stderr}");

    std::fs::write(&cart, "{\"mode\": \"dine_in\", \"lines\": [{\"product\": \"cola\"}]}").unwrap();
    let missing_choice = ctl.run(&["order", "quote", "--cart", cart.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&missing_choice.stderr)
            .contains("line 1 (cola): \"taille-boisson\" needs at least 1 choice(s)")
    );
    assert!(String::from_utf8_lossy(&ctl.run(&["order", "show", "Z999"]).stderr).contains("order Z999 not found"));
}

#[test]
fn demo_imports_and_pays() {
    let ctl = Ctl::new();
    let demo = |dev: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kioskctl"));
        command.current_dir(workspace(""));
        if dev {
            command.arg("--dev");
        }
        let db = ctl.dir.path().join("kiosk.db");
        let config = ctl.dir.path().join("kiosk.toml");
        command.arg("--db").arg(db).arg("--config").arg(config).arg("demo").output().unwrap()
    };
    let output = demo(true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("menu version 1 is in use") && stdout.contains("order TA001 paid: 28.80 EUR"), "{stdout}");
    assert!(stdout.contains("training sale"), "a sale on the simulator says what it is: {stdout}");
    let refused = demo(false);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("kind \"sim\" is the simulator"));
}

#[test]
fn a_kiosk_never_sells_on_a_simulator_by_accident() {
    let dir = tempfile::tempdir().unwrap();
    let run = |config: &Path| {
        Command::new(env!("CARGO_BIN_EXE_kioskctl"))
            .arg("--db")
            .arg(dir.path().join("kiosk.db"))
            .arg("--config")
            .arg(config)
            .args(["order", "list"])
            .output()
            .unwrap()
    };
    let missing = dir.path().join("kiosk.toml");
    let output = run(&missing);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains(&format!("no device config at {}", missing.display())) && stderr.contains("--dev"),
        "{stderr}"
    );
    std::fs::write(&missing, "kiosk_id = \"k\"\norder_prefix = \"A\"\n").unwrap();
    let output = run(&missing);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains(&format!("{}: names no payment terminal", missing.display())), "{stderr}");
    assert!(!dir.path().join("kiosk.db").exists(), "nothing was opened");
}

#[test]
fn journal_commands() {
    let ctl = Ctl::selling();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    ctl.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    let check = ctl.json(&["journal", "verify"]);
    assert_eq!((check["valid"].as_bool(), check["entries"].as_u64()), (Some(true), Some(1)));
    let anchor = format!("{}:{}", check["last"]["seq"], check["last"]["hash"].as_str().unwrap());
    assert!(ctl.ok(&["journal", "verify", "--anchor", &anchor]).contains("journal valid: 1 entries"));

    // An anchor from further on than the journal goes: its tail was cut.
    let ahead = anchor.replacen("1:", "7:", 1);
    let cut = ctl.run(&["journal", "verify", "--anchor", &ahead]);
    assert_eq!(cut.status.code(), Some(5), "a broken journal has its own exit code");
    assert!(String::from_utf8_lossy(&cut.stderr).contains("the journal ends at entry 1, but the anchor"));

    let archive = ctl.dir.path().join("archive.json");
    ctl.ok(&["journal", "export", "--from", "2000-01-01", "--to", "2999-12-31", "--out", archive.to_str().unwrap()]);
    let key = ctl.ok(&["journal", "public-key"]);
    let verified = ctl.ok(&["journal", "verify", "--archive", archive.to_str().unwrap(), "--public-key", key.trim()]);
    assert!(verified.contains("journal valid: 1 entries"), "{verified}");
    let bad = ctl.run(&["journal", "verify", "--anchor", "1:zz"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not an anchor"));
}

#[test]
fn staff_commands() {
    let ctl = Ctl::new();
    ctl.ok(&["staff", "add", "Marie", "--role", "staff", "--pin", "1234", "--badge", "BADGE-0042"]);
    let staff = ctl.json(&["staff", "list"]);
    assert_eq!((staff[0]["name"].as_str(), staff[0]["role"].as_str()), (Some("Marie"), Some("staff")));
    assert!(ctl.ok(&["staff", "sign-in", "Marie", "--pin", "1234"]).contains("Marie signed in as staff"));
    let wrong = ctl.run(&["staff", "sign-in", "Marie", "--pin", "9999"]);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong PIN for Marie: 4 more"));
    let bad = ctl.run(&["staff", "add", "Eve", "--role", "boss", "--pin", "12"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("\"boss\" is not a role"));
    ctl.ok(&["staff", "reset-pin", "Marie", "--pin", "5678"]);
    ctl.ok(&["staff", "remove", "Marie"]);
    assert_eq!(ctl.json(&["staff", "list"]).as_array().unwrap().len(), 0);
    let actions = ctl.ok(&["staff", "actions"]);
    assert!(actions.contains("staff.remove") && actions.contains("admin"), "{actions}");
}

#[test]
fn counter_commands() {
    let ctl = Ctl::new();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    let placed = ctl.json(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json"), "--at-counter"]);
    assert_eq!(placed["payment"], "at_counter");
    let settled = ctl.ok(&["order", "settle", "TA001", "--by", "cash"]);
    assert!(settled.contains("order TA001 (paid)") && settled.contains("(counter_cash)"), "{settled}");
    let bad = ctl.run(&["order", "settle", "TA001", "--by", "cheque"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("\"cheque\" is not a counter payment"));
}

#[test]
fn refund_commands() {
    let ctl = Ctl::new();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    ctl.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    let partial = ctl.json(&["order", "refund", "TA001", "--lines", "4:1", "--restock"]);
    assert_eq!(partial["refund"]["outcome"], "paid");
    assert!(ctl.ok(&["order", "refund", "TA001"]).contains("order TA001: refund made"));
    assert!(ctl.ok(&["order", "show", "TA001"]).contains("order TA001 (refunded)"));
    let bad = ctl.run(&["order", "refund", "TA001", "--lines", "x"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("\"x\" is not LINE:UNITS"));
    let again = ctl.run(&["order", "refund", "TA001"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("order TA001 is refunded and cannot be refunded"));
}

#[test]
fn report_commands() {
    let ctl = Ctl::selling();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    ctl.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    let csv = ctl.dir.path().join("x.csv");
    let x = ctl.ok(&["report", "x", "--csv", csv.to_str().unwrap()]);
    assert!(x.contains("SALES (1 orders)") && x.contains("28.80 EUR"), "{x}");
    assert!(
        std::fs::read_to_string(&csv).unwrap().starts_with("section,key,count,quantity,base,tax,total\nsales,all,1")
    );
    let z = ctl.ok(&["report", "z"]);
    assert!(z.contains("Z REPORT No 1") && z.contains("journal anchor: entry 2"), "{z}");
    assert_eq!(ctl.json(&["report", "show", "1"])["number"], 1);
    let missing = ctl.run(&["report", "show", "7"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("there is no Z report number 7"));
}

/// What a wipe uploads first, written as the agent has kioskctl write it: the whole fiscal
/// journal, sealed (it verifies with the kiosk's key), and every Z report.
#[test]
fn the_fiscal_archive_holds_the_whole_journal_and_every_z() {
    use kiosk_agent::effects::{Database, Kioskctl};
    let ctl = Ctl::selling();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    ctl.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    ctl.ok(&["report", "z"]);
    ctl.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    ctl.ok(&["report", "z"]);
    let kioskctl = Kioskctl {
        program: env!("CARGO_BIN_EXE_kioskctl").into(),
        db: ctl.dir.path().join("kiosk.db"),
        device_config: ctl.dir.path().join("kiosk.toml"),
        development: false,
    };
    let folder = ctl.dir.path().join("archive");
    std::fs::create_dir(&folder).unwrap();
    let archiving = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let files = archiving.block_on(kioskctl.fiscal_archive(&folder)).unwrap();
    assert_eq!(files, [folder.join("fiscal-journal.json"), folder.join("z-reports.json")]);
    let key = ctl.ok(&["journal", "public-key"]);
    let journal = files[0].to_str().unwrap();
    let verified = ctl.ok(&["journal", "verify", "--archive", journal, "--public-key", key.trim()]);
    assert!(verified.contains("journal valid: 4 entries"), "two sales, two closes: {verified}");
    let z_reports: serde_json::Value = serde_json::from_slice(&std::fs::read(&files[1]).unwrap()).unwrap();
    let numbers: Vec<u64> = z_reports.as_array().unwrap().iter().map(|z| z["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2]);
}

#[test]
fn fleet_commands_are_signed_for_the_kiosks_key() {
    let ctl = Ctl::new();
    let key = ctl.dir.path().join("fleet.pem");
    let public = ctl.ok(&["fleet", "keygen", key.to_str().unwrap()]);
    let key_arg = key.to_str().unwrap();
    let signed =
        ctl.ok(&["fleet", "sign", "--key", key_arg, "--device", "lyon-01", "--seq", "4", r#"{"action":"reboot"}"#]);
    let value: serde_json::Value = serde_json::from_str(&signed).unwrap();
    let command_key = kiosk_agent::remote::CommandKey::from_hex(public.trim()).unwrap();
    let checked = kiosk_agent::remote::check(&value, Ok(&command_key), "lyon-01", 3, chrono::Utc::now()).unwrap();
    assert_eq!((checked.seq, checked.action), (4, kiosk_protocol::RemoteAction::Reboot));

    let unknown =
        ctl.run(&["fleet", "sign", "--key", key_arg, "--device", "lyon-01", "--seq", "5", r#"{"action":"format"}"#]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("is not a remote action"));
    let again = ctl.run(&["fleet", "keygen", key_arg]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("an existing key is never replaced"));
}

#[test]
fn receipt_commands() {
    let ctl = Ctl::new();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    ctl.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    let receipt = ctl.ok(&["order", "receipt", "TA001"]);
    assert!(receipt.contains("A 0 0 1") && receipt.contains("TOTAL") && receipt.contains("28.80 €"), "{receipt}");
    assert!(receipt.contains("FORMATION / TRAINING"), "a sale on the simulator is a training ticket: {receipt}");
    let printed = ctl.ok(&["order", "receipt", "TA001", "--print"]);
    assert!(printed.contains("1 printed, 0 waiting"), "on the development kiosk's simulated printer: {printed}");

    // A kiosk selling for real with no printer configured: the job waits and says why.
    let selling = Ctl::selling();
    selling.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    selling.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    assert!(!selling.ok(&["order", "receipt", "A001"]).contains("TRAINING"));
    let printed = selling.ok(&["order", "receipt", "A001", "--print"]);
    assert!(printed.contains("0 printed, 1 waiting") && printed.contains("no printer named \"receipt\""), "{printed}");
}

#[test]
fn devices_command() {
    let ctl = Ctl::new();
    let devices = ctl.json(&["devices"]);
    assert!(devices["usb"].is_array(), "{devices}");
    assert_eq!(devices["printers"][0]["name"], "receipt", "the development kiosk's simulated printer");
    let text = ctl.ok(&["devices"]);
    assert!(
        text.starts_with("USB devices\n") && text.contains("\nPrinters\n  NAME     STATE\n  receipt  ready\n"),
        "{text}"
    );
    assert!(!text.contains('{'), "a table a person reads, not a debug struct: {text}");
    let text = Ctl::selling().ok(&["devices"]);
    assert!(text.contains("\nPrinters\n  none configured"), "{text}");
}

#[test]
fn training_commands() {
    let ctl = Ctl::selling();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    let cart = path("menus/brasserie/carts/demo.json");
    assert_eq!(ctl.json(&["training", "status"])["training"], serde_json::Value::Null);
    assert_eq!(ctl.json(&["order", "place", "--cart", &cart])["training"], false);
    let on = ctl.ok(&["training", "on"]);
    assert!(on.contains("training mode is on since") && on.contains("admin"), "{on}");
    let practice = ctl.json(&["order", "place", "--cart", &cart]);
    assert_eq!((practice["training"].as_bool(), practice["payment"]["outcome"].as_str()), (Some(true), Some("paid")));
    assert!(ctl.ok(&["training", "off"]).contains("training mode is off"));
    assert_eq!(ctl.json(&["journal", "verify"])["entries"], 1, "the training sale is not in the fiscal journal");
    let x = ctl.json(&["report", "x"]);
    assert_eq!((x["sales"]["count"].as_u64(), x["sales"]["total"].as_str()), (Some(1), Some("28.80")));

    let dev = Ctl::new();
    assert!(dev.ok(&["training", "status"]).contains("the terminal is the simulator"));
    let refused = dev.run(&["training", "off"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("every sale is a training sale"));
}

#[test]
fn status_and_backup_commands() {
    let ctl = Ctl::selling();
    let before = ctl.json(&["status"]);
    assert_eq!((before["paid_orders"].as_u64(), before["menu_version"].as_i64()), (Some(0), None));
    assert!(ctl.ok(&["status"]).contains("menu: none imported"));
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    ctl.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    let status = ctl.json(&["status"]);
    assert_eq!((status["paid_orders"].as_u64(), status["revenue"].as_str()), (Some(1), Some("28.80")));
    assert_eq!(status["currency"], "EUR");
    assert!(status["journal_last"]["seq"].as_u64().is_some_and(|seq| seq >= 1));
    assert!(status["journal_key_fingerprint"].as_str().is_some_and(|fingerprint| fingerprint.len() >= 16));
    assert!(ctl.ok(&["status"]).contains("1 paid orders, 28.80 EUR"));

    let copy = ctl.dir.path().join("copy.db");
    assert!(ctl.ok(&["db", "backup", copy.to_str().unwrap()]).contains("database copied to"));
    assert!(std::fs::read(&copy).unwrap().starts_with(b"SQLite format 3\0"));
    let nowhere = ctl.run(&["db", "backup", "/nonexistent-folder/copy.db"]);
    assert_eq!(nowhere.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nowhere.stderr).contains("copying the database"), "{nowhere:?}");
}

#[test]
fn the_books_check_compares_the_simulated_terminal_with_the_payments() {
    let ctl = Ctl::new();
    ctl.ok(&["menu", "import", &path("menus/brasserie/menu.toml")]);
    for _ in 0..2 {
        ctl.ok(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json")]);
    }
    let declined =
        ctl.run(&["order", "place", "--cart", &path("menus/brasserie/carts/demo.json"), "--pay", "sim-decline"]);
    assert_eq!(declined.status.code(), Some(3));
    let check = ctl.json(&["db", "check"]);
    assert_eq!(check["sound"], true, "{check}");
    assert_eq!(
        (check["approved_payments"].as_u64(), check["ledger_approvals"].as_u64(), check["settled_orders"].as_u64()),
        (Some(2), Some(2), Some(2))
    );
    assert_eq!((check["not_charged"].as_u64(), check["unresolved"].as_u64()), (Some(1), Some(0)));
    // A development kiosk sells on the simulator: training sales, in the training journal.
    assert_eq!(check["training_payments"].as_u64(), Some(2));
    assert!(ctl.ok(&["db", "check"]).starts_with("books sound\napproved payments: 2 (2 in the simulated"));

    // The terminal forgetting an approval (here: its ledger losing the first line) is named,
    // with the payment's key, and the exit code says the books are broken.
    let ledger = ctl.dir.path().join("sim-terminal.jsonl");
    let text = std::fs::read_to_string(&ledger).unwrap();
    let first_key = serde_json::from_str::<serde_json::Value>(text.lines().next().unwrap()).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(&ledger, text.lines().skip(1).map(|line| format!("{line}\n")).collect::<String>()).unwrap();
    let broken = ctl.run(&["db", "check"]);
    assert_eq!(broken.status.code(), Some(7));
    let said = String::from_utf8_lossy(&broken.stdout);
    assert!(said.contains(&format!("recorded as paid without a charge on the terminal: {first_key}")), "{said}");

    // A ledger that is not one cannot be compared: an error, not a verdict.
    std::fs::write(&ledger, "not json\n").unwrap();
    let unreadable = ctl.run(&["db", "check"]);
    assert_eq!(unreadable.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unreadable.stderr).contains("sim-terminal.jsonl"), "{unreadable:?}");
}

#[test]
fn repo_commands() {
    let ctl = Ctl::new();
    let dir = ctl.dir.path();
    let at = |name: &str| dir.join(name).display().to_string();
    for role in ["root", "targets", "snapshot", "timestamp"] {
        let id = ctl.ok(&["repo", "keygen", &at(&format!("{role}.pem"))]);
        assert_eq!(id.trim().len(), 64, "a key id: {id}");
    }
    let again = ctl.run(&["repo", "keygen", &at("root.pem")]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("an existing key is never replaced"));
    let (root, targets, snapshot, timestamp) =
        (at("root.pem"), at("targets.pem"), at("snapshot.pem"), at("timestamp.pem"));
    let roles =
        ["--root-key", &root, "--targets-key", &targets, "--snapshot-key", &snapshot, "--timestamp-key", &timestamp];
    let repo = at("repo");
    let created = ctl.ok(&[&["repo", "init", &repo][..], &roles].concat());
    assert!(created.contains("metadata/1.root.json on the kiosks"), "{created}");
    let twice = ctl.run(&[&["repo", "init", &repo][..], &roles].concat());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("already holds a repository"));

    let keys = ["--key", &targets, "--key", &snapshot, "--key", &timestamp];
    let binary = at("kiosk-app");
    std::fs::write(&binary, "#!/bin/sh\n").unwrap();
    let add_app = |version: &'static str| {
        [&["repo", "add-app", &repo, "--version", version, "--binary", &binary][..], &keys].concat()
    };
    assert!(ctl.ok(&add_app("1.0.0")).contains("app 1.0.0 published on Stable for 100%"));
    let republished = ctl.run(&add_app("1.0.0"));
    assert!(String::from_utf8_lossy(&republished.stderr).contains("app 1.0.0 is already published"));
    assert!(ctl.ok(&add_app("1.1.0")).contains("with a delta from the previous release"));
    let bad_version = ctl.run(&add_app("v1.2"));
    assert!(String::from_utf8_lossy(&bad_version.stderr).contains("\"v1.2\" is not a version"));

    let menu = path("menus/brasserie/menu.toml");
    let add_menu = [&["repo", "add-menu", &repo, "--version", "2026.12.1", &menu][..], &keys].concat();
    assert!(ctl.ok(&add_menu).contains("menu 2026.12.1 published"));
    let broken = at("menu.toml");
    std::fs::write(&broken, "[venue]\nname = \n").unwrap();
    let refused = ctl.run(&[&["repo", "add-menu", &repo, "--version", "2026.12.2", &broken][..], &keys].concat());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("menu.toml"), "{refused:?}");
    let policy = at("policy.toml");
    std::fs::write(&policy, "mode = [\n").unwrap();
    let refused = ctl.run(&[&["repo", "add-policy", &repo, "--version", "1", &policy][..], &keys].concat());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("policy.toml is refused"), "{refused:?}");
    std::fs::write(&policy, "[kiosk]\nmode = \"multi-app\"\n").unwrap();
    let refused = ctl.run(&[&["repo", "add-policy", &repo, "--version", "1", &policy][..], &keys].concat());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("kiosk.apps: multi-app mode needs"), "{refused:?}");

    let rollout = ["repo", "rollout", &repo, "--kind", "app", "--version", "1.1.0", "--percent", "10"];
    assert!(ctl.ok(&[&rollout[..], &keys].concat()).contains("app 1.1.0 offered to 10% of its channel"));
    let unknown = ["repo", "rollout", &repo, "--kind", "app", "--version", "9.9.9", "--percent", "10"];
    let refused = ctl.run(&[&unknown[..], &keys].concat());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no app 9.9.9 is published"));
    let listed = ctl.ok(&["repo", "list", &repo]);
    assert!(listed.lines().any(|line| line.starts_with("app     1.1.0") && line.contains(" 10%")), "{listed}");
    assert!(listed.contains("delta from 1.0.0") && listed.contains("menu    2026.12.1"), "{listed}");
    assert!(listed.contains("timestamp expires"), "{listed}");
    assert!(ctl.ok(&[&["repo", "refresh", &repo][..], &keys].concat()).contains("metadata re-signed"));

    let stranger = at("stranger.pem");
    ctl.ok(&["repo", "keygen", &stranger]);
    let strangers = ["--key", &stranger];
    let refused = ctl.run(&[&["repo", "refresh", &repo][..], &strangers].concat());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("are these the repository's keys?"), "{refused:?}");
}

/// Argon2id hashes of the PINs 1234 and 5678, as IT puts them in a policy.
const HASH_1234: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$ZGkTzrxjOZnAmSgwIc8z0Q$GhWRJNqqIWrSEbIUEpxeg2/g0kGQdNne1XXHaZ6ooCQ";
const HASH_5678: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$IQzM6ULSuVl+ZjCOKXW4OA$8pBWNJBB0LntrQNe7ylcem75HjJgfy0MlLW4awIxWck";

#[test]
fn staff_accounts_are_provisioned_from_a_policy() {
    let ctl = Ctl::new();
    let policy = ctl.dir.path().join("policy.toml");
    let account = |name: &str, role: &str, hash: &str| {
        format!("[[staff]]\nname = \"{name}\"\nrole = \"{role}\"\npin_hash = \"{hash}\"\n")
    };
    let provision = || ctl.json(&["staff", "provision", "--policy", policy.to_str().unwrap()]);
    std::fs::write(&policy, account("Marie", "manager", HASH_1234) + &account("Paul", "staff", HASH_5678)).unwrap();
    assert_eq!(provision()["added"], serde_json::json!(["Marie", "Paul"]));
    assert!(ctl.ok(&["staff", "sign-in", "Marie", "--pin", "1234"]).contains("Marie signed in as manager"));
    assert!(ctl.ok(&["staff", "sign-in", "Paul", "--pin", "5678"]).contains("Paul signed in as staff"));
    assert_eq!(provision()["unchanged"], serde_json::json!(["Marie", "Paul"]), "provisioning again changes nothing");

    std::fs::write(&policy, account("Marie", "manager", HASH_1234) + &account("Paul", "manager", HASH_1234)).unwrap();
    assert_eq!(provision()["updated"], serde_json::json!(["Paul"]));
    assert!(ctl.ok(&["staff", "sign-in", "Paul", "--pin", "1234"]).contains("Paul signed in as manager"));
    assert!(ctl.ok(&["staff", "actions"]).contains("Paul as manager, PIN replaced"));

    // A hash that is not one: the policy passes its own check, the engine refuses it whole.
    std::fs::write(&policy, account("Eve", "staff", "$argon2id$not-a-hash") + &account("Zoe", "staff", HASH_1234))
        .unwrap();
    let refused = ctl.run(&["staff", "provision", "--policy", policy.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Eve: the PIN hash is not an Argon2 PHC string"));
    assert_eq!(ctl.json(&["staff", "list"]).as_array().unwrap().len(), 2, "nothing added: Zoe neither");
}
