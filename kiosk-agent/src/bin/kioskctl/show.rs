//! What `kioskctl` prints: plain text for people, JSON with `--json` for scripts.

use kiosk_engine::Provisioned;
use kiosk_engine::devices::{UsbDevice, UsbKind};
use kiosk_engine::kiosk_core::payment::PaymentState;
use kiosk_engine::kiosk_core::pricing::Quote;
use kiosk_engine::kiosk_core::report::Report;
use kiosk_engine::kiosk_core::status::DayStatus;
use kiosk_engine::{
    ActionRow, ActiveMenu, Alert, BooksCheck, ImportOutcome, JournalCheck, MenuFile, OrderDetails, PaymentOutcome,
    PlacedOrder, PrintRound, PrinterState, StaffMember, StockEntry, StoredOrder, Training, ZReport,
};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug)]
pub struct Output {
    pub json: bool,
}

fn print_json(value: &Value) {
    println!("{}", serde_json::to_string_pretty(value).expect("JSON prints"));
}

impl Output {
    pub fn menu_valid(self, file: &MenuFile) {
        let menu = &file.menu;
        if self.json {
            print_json(&json!({
                "valid": true,
                "file": file.path.display().to_string(),
                "version_label": menu.venue.version_label,
                "items": menu.items.len(),
                "combos": menu.combos.len(),
                "categories": menu.categories.len(),
                "images": menu.images().len(),
            }));
        } else {
            println!(
                "{}: valid menu \"{}\": {} items, {} combos, {} categories, {} images",
                file.path.display(),
                menu.venue.version_label,
                menu.items.len(),
                menu.combos.len(),
                menu.categories.len(),
                menu.images().len()
            );
        }
    }

    pub fn imported(self, outcome: &ImportOutcome) {
        if self.json {
            print_json(&json!({
                "version": outcome.version,
                "already_in_use": outcome.already_in_use,
                "items": outcome.items,
                "combos": outcome.combos,
            }));
        } else if outcome.already_in_use {
            println!("this menu is already in use as version {}: nothing changed", outcome.version);
        } else {
            println!("menu version {} is in use: {} items, {} combos", outcome.version, outcome.items, outcome.combos);
        }
    }

    pub fn menu(self, active: &ActiveMenu, language: Option<&str>) {
        let menu = &active.menu;
        if self.json {
            print_json(&json!({
                "version": active.version,
                "label": active.label,
                "imported_at": active.imported_at,
                "source_file": active.source_file,
                "menu": menu,
            }));
            return;
        }
        let language = language.or(menu.venue.languages.first().map(String::as_str)).unwrap_or("");
        let tax_mode = if menu.venue.prices_include_tax { "prices include VAT" } else { "prices exclude tax" };
        println!(
            "{} — menu version {} \"{}\" ({}, {tax_mode})",
            menu.venue.name.get(language),
            active.version,
            active.label,
            menu.venue.currency
        );
        for category in &menu.categories {
            println!("\n{}", category.name.get(language));
            let items = menu.items.iter().filter(|i| i.info.category == category.id).map(|i| (&i.info, false));
            let combos = menu.combos.iter().filter(|c| c.info.category == category.id).map(|c| (&c.info, true));
            for (info, is_combo) in items.chain(combos) {
                let kind = if is_combo { " (combo)" } else { "" };
                let hours: Vec<String> = info.availability.iter().map(|w| format!("{}-{}", w.from, w.until)).collect();
                let hours = if hours.is_empty() { String::new() } else { format!("  [{}]", hours.join(", ")) };
                println!(
                    "  {:<28} {:>8}  {}{kind}{hours}",
                    info.id.as_str(),
                    info.price.to_string(),
                    info.name.get(language)
                );
            }
        }
    }

    pub fn quote(self, quote: &Quote) {
        if self.json {
            print_json(&serde_json::to_value(quote).expect("a quote serializes"));
            return;
        }
        for line in &quote.lines {
            println!("{:>3} x {:<32} {:>9}", line.quantity, line.name.get("en"), line.amount.to_string());
            for option in &line.options {
                println!("        + {} {}", option.name.get("en"), option.price);
            }
            for part in &line.parts {
                let extra = if part.supplement.is_zero() { String::new() } else { format!(" (+{})", part.supplement) };
                println!("        - {}{extra}", part.name.get("en"));
            }
        }
        let label = if quote.prices_include_tax { "incl." } else { "added" };
        for tax in &quote.taxes {
            println!(
                "  VAT {:>6} {label}: base {:>8}  tax {:>7}  total {:>8}",
                tax.rate.to_string(),
                tax.base.to_string(),
                tax.tax.to_string(),
                tax.total.to_string()
            );
        }
        println!("  TOTAL {} {} ({})", quote.total, quote.currency, quote.mode.as_str());
    }

    pub fn placed(self, placed: &PlacedOrder, outcome: &PaymentOutcome) {
        if self.json {
            print_json(&json!({
                "order": placed.number,
                "order_id": placed.id,
                "total": placed.quote.total,
                "training": placed.training,
                "payment": outcome,
            }));
            return;
        }
        if placed.training {
            println!("training sale: paid on a simulated terminal, kept out of the fiscal journal and the Z");
        }
        let total = format!("{} {}", placed.quote.total, placed.quote.currency);
        match outcome {
            PaymentOutcome::Paid { approval } => {
                let card = approval.last_four.as_deref().map(|d| format!(" **** {d}")).unwrap_or_default();
                println!(
                    "order {} paid: {total} ({}{card}, terminal reference {})",
                    placed.number, approval.scheme, approval.reference
                );
            }
            PaymentOutcome::NotCharged { reason } => {
                println!("order {} not paid: {reason}; nothing was charged and its stock is released", placed.number);
            }
            PaymentOutcome::InDoubt => println!(
                "order {} payment in doubt: the terminal has not said whether it charged {total}; \
                 the kiosk asks it again at the next start, do not pay again",
                placed.number
            ),
        }
    }

    pub fn at_counter(self, placed: &PlacedOrder) {
        if self.json {
            let total = placed.quote.total;
            print_json(
                &json!({ "order": placed.number, "order_id": placed.id, "total": total, "payment": "at_counter" }),
            );
        } else {
            println!(
                "order {} to pay at the counter: {} {}; its stock is held until it is settled or expires",
                placed.number, placed.quote.total, placed.quote.currency
            );
        }
    }

    pub fn refunded(self, number: &str, outcome: &PaymentOutcome) {
        if self.json {
            print_json(&json!({ "order": number, "refund": outcome }));
            return;
        }
        match outcome {
            PaymentOutcome::Paid { approval } => println!("order {number}: refund made ({})", approval.reference),
            PaymentOutcome::NotCharged { reason } => println!("order {number}: no refund made: {reason}"),
            PaymentOutcome::InDoubt => {
                println!("order {number}: the terminal has not confirmed the refund yet; the kiosk asks it again")
            }
        }
    }

    pub fn report(self, report: &Report, text: &str) {
        if self.json {
            print_json(&serde_json::to_value(report).expect("a report serializes"));
        } else {
            print!("{text}");
        }
    }

    pub fn z_report(self, z: &ZReport, language: &str) {
        if self.json {
            print_json(&serde_json::to_value(z).expect("a Z report serializes"));
        } else {
            print!("{}", z.to_text(language));
        }
    }

    pub fn print_round(self, round: &PrintRound) {
        if self.json {
            print_json(&serde_json::to_value(round).expect("a print round serializes"));
            return;
        }
        println!("{} printed, {} waiting", round.printed, round.waiting.len());
        for (job, reason) in &round.waiting {
            println!("  job {job} waits: {reason}");
        }
    }

    pub fn devices(self, usb: &[UsbDevice], printers: &[(String, PrinterState)]) {
        if self.json {
            let printers: Vec<Value> = printers
                .iter()
                .map(|(name, state)| {
                    let mut printer = serde_json::to_value(state).expect("a printer state serializes");
                    printer["name"] = json!(name);
                    printer
                })
                .collect();
            print_json(&json!({ "usb": usb, "printers": printers }));
            return;
        }
        let usb_rows: Vec<[String; 5]> = usb
            .iter()
            .map(|device| {
                let name = [device.manufacturer.as_deref(), device.product.as_deref()].into_iter().flatten();
                [
                    format!("{:04x}:{:04x}", device.vendor_id, device.product_id),
                    usb_kind(device.kind).to_owned(),
                    name.collect::<Vec<_>>().join(" "),
                    device.serial.clone().unwrap_or_default(),
                    format!("{}:{}", device.bus, device.address),
                ]
            })
            .collect();
        println!("USB devices");
        if usb_rows.is_empty() {
            println!("  none connected");
        } else {
            print_table(&["ID", "KIND", "PRODUCT", "SERIAL", "BUS:ADDR"], &usb_rows);
        }
        println!("\nPrinters");
        if printers.is_empty() {
            println!("  none configured");
        }
        let printer_rows: Vec<[String; 2]> =
            printers.iter().map(|(name, state)| [name.clone(), state.to_string()]).collect();
        if !printer_rows.is_empty() {
            print_table(&["NAME", "STATE"], &printer_rows);
        }
    }

    pub fn orders(self, orders: &[StoredOrder]) {
        if self.json {
            print_json(&Value::Array(orders.iter().map(order_json).collect()));
            return;
        }
        for order in orders {
            println!(
                "{:<8} {:<16} {:>9} {}  {}",
                order.number,
                order.status.to_string(),
                order.total.to_string(),
                order.currency,
                order.created_at.to_rfc3339()
            );
        }
    }

    pub fn order(self, details: &OrderDetails) {
        let order = &details.order;
        if self.json {
            let mut value = order_json(order);
            value["quote"] = serde_json::to_value(&order.quote).expect("a quote serializes");
            value["payments"] = details
                .attempts
                .iter()
                .map(|a| json!({ "key": a.key, "amount": a.amount, "state": a.state, "updated_at": a.updated_at }))
                .collect();
            print_json(&value);
            return;
        }
        println!(
            "order {} ({}), {} {} {}, {}",
            order.number,
            order.status,
            order.total,
            order.currency,
            order.mode.as_str(),
            order.created_at.to_rfc3339()
        );
        for attempt in &details.attempts {
            let detail = match &attempt.state {
                PaymentState::Approved(a) => format!("approved, {} {}", a.scheme, a.reference),
                PaymentState::NotCharged(why) => format!("not charged: {why}"),
                other => other.code().to_owned(),
            };
            println!("  payment {} {} ({}): {detail}", attempt.key, attempt.amount, attempt.method);
        }
    }

    pub fn journal_check(self, check: &JournalCheck) {
        if self.json {
            print_json(&json!({ "valid": true, "entries": check.entries, "last": check.last }));
            return;
        }
        match &check.last {
            Some(last) => println!("journal valid: {} entries; anchor for next time: {last}", check.entries),
            None => println!("journal valid: no entries"),
        }
    }

    pub fn training(self, training: Option<&Training>) {
        if self.json {
            print_json(&json!({ "training": training }));
            return;
        }
        match training {
            None => println!("training mode is off: sales are real"),
            Some(Training::Simulator) => {
                println!("training mode: the terminal is the simulator, every sale is a training sale")
            }
            Some(Training::SwitchedOn { by, at }) => println!("training mode is on since {at} (switched on by {by})"),
        }
    }

    pub fn alerts(self, alerts: &[Alert]) {
        if self.json {
            print_json(&serde_json::to_value(alerts).expect("alerts serialize"));
            return;
        }
        if alerts.is_empty() {
            println!("no open alerts");
        }
        for alert in alerts {
            println!("{:>4}  {}  {}: {}", alert.id, alert.raised_at, alert.kind, alert.message);
        }
    }

    pub fn provisioned(self, provisioned: &Provisioned) {
        if self.json {
            print_json(&serde_json::to_value(provisioned).expect("provisioning serializes"));
            return;
        }
        for (what, names) in
            [("added", &provisioned.added), ("updated", &provisioned.updated), ("unchanged", &provisioned.unchanged)]
        {
            if !names.is_empty() {
                println!("{what}: {}", names.join(", "));
            }
        }
    }

    pub fn day_status(self, status: &DayStatus) {
        if self.json {
            print_json(&serde_json::to_value(status).expect("a day status serializes"));
            return;
        }
        let currency = status.currency.map(|c| format!(" {c:?}").to_uppercase()).unwrap_or_default();
        println!(
            "business day {}: {} paid orders, {}{currency}",
            status.business_day, status.paid_orders, status.revenue
        );
        println!("last order: {}", status.last_order_at.as_deref().unwrap_or("none yet"));
        match &status.journal_last {
            Some(last) => println!("journal: entry {} hash {}", last.seq, last.hash),
            None => println!("journal: no entry yet"),
        }
        println!("journal key: {}", status.journal_key_fingerprint);
        match (&status.menu_version, &status.menu_label) {
            (Some(version), Some(label)) => println!("menu: version {version} ({label})"),
            _ => println!("menu: none imported"),
        }
    }

    pub fn books(self, check: &BooksCheck) {
        let books = &check.books;
        if self.json {
            print_json(&json!({
                "sound": check.is_sound(),
                "problems": check.problems,
                "approved_payments": books.approvals,
                "training_payments": books.training_approvals,
                "ledger_approvals": check.ledger_approvals,
                "settled_orders": books.settled_orders,
                "not_charged": books.not_charged,
                "unresolved": books.unresolved,
                "orphan_holds": books.orphan_holds,
                "journal_entries": check.journal_entries,
            }));
            return;
        }
        if check.is_sound() {
            println!("books sound");
        } else {
            println!("books NOT sound:");
            for problem in &check.problems {
                println!("  - {problem}");
            }
        }
        let ledger =
            check.ledger_approvals.map(|n| format!(" ({n} in the simulated terminal's ledger)")).unwrap_or_default();
        println!("approved payments: {}{ledger}", books.approvals);
        println!("of which training sales: {}", books.training_approvals);
        println!("orders paid or past payment: {}", books.settled_orders);
        println!("payments not charged: {}", books.not_charged);
        println!("journal entries verified: {}", check.journal_entries);
    }

    pub fn done(self, message: &str) {
        if self.json {
            print_json(&json!({ "done": message }));
        } else {
            println!("{message}");
        }
    }

    pub fn staff(self, members: &[StaffMember]) {
        if self.json {
            print_json(&serde_json::to_value(members).expect("staff serialize"));
            return;
        }
        for member in members {
            let locked = member.locked_until.map(|until| format!("  locked until {until} (unix)")).unwrap_or_default();
            println!("{:<24} {:<8} since {}{locked}", member.name, member.role.to_string(), member.created_at);
        }
    }

    pub fn actions(self, actions: &[ActionRow]) {
        if self.json {
            let list: Vec<Value> = actions
                .iter()
                .map(|a| json!({ "at": a.at, "actor": a.actor, "action": a.action, "detail": a.detail }))
                .collect();
            print_json(&Value::Array(list));
            return;
        }
        for action in actions {
            println!("{}  {:<28} {:<16} {}", action.at, action.actor, action.action, action.detail);
        }
    }

    pub fn stock(self, entries: &[StockEntry]) {
        if self.json {
            let list: Vec<Value> = entries
                .iter()
                .map(|e| json!({ "item": e.item, "name": e.name, "level": e.level, "available": e.level.available() }))
                .collect();
            print_json(&Value::Array(list));
            return;
        }
        println!("{:<28} {:>7} {:>6} {:>9} {:>5}  name", "item", "on hand", "held", "available", "low");
        for entry in entries {
            let level = &entry.level;
            let sold_out = if level.sold_out { "  SOLD OUT" } else { "" };
            println!(
                "{:<28} {:>7} {:>6} {:>9} {:>5}  {}{sold_out}",
                entry.item.as_str(),
                level.on_hand,
                level.held,
                level.available(),
                level.low_threshold,
                entry.name
            );
        }
    }
}

fn order_json(order: &StoredOrder) -> Value {
    json!({
        "number": order.number,
        "id": order.id,
        "business_date": order.business_date,
        "status": order.status,
        "mode": order.mode,
        "menu_version": order.menu_version,
        "total": order.total,
        "tax": order.tax,
        "currency": order.currency,
        "created_at": order.created_at,
    })
}

fn usb_kind(kind: UsbKind) -> &'static str {
    match kind {
        UsbKind::Printer => "printer",
        UsbKind::InputDevice => "keyboard/scanner",
        UsbKind::Serial => "serial",
        UsbKind::Other => "other",
    }
}

/// Rows under a header, each column as wide as its widest cell, two spaces apart.
fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("  {}", padded.join("  ").trim_end());
    };
    line(*header);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
}
