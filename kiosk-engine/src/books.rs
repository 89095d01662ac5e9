//! A check of the books, what a crash or a power cut must never break: SQLite's own
//! integrity, the journal's chain, every approved payment paying one order that the journal
//! records once, no payment left unresolved, no stock kept from sale by nothing, and, when the
//! terminal is a simulator, its ledger against the payments (`kioskctl db check`, the crash
//! tests, the image's power-cut test).

use std::collections::BTreeSet;
use std::path::Path;

use kiosk_devices::terminal::{LedgerKind, LedgerOutcome, SimTerminal};
use kiosk_store::books::Books;

use crate::{Engine, EngineError, Result};

/// What [`Engine::check_books`] found; sound when `problems` is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BooksCheck {
    pub books: Books,
    /// The journal's entries, all verified (none when it does not verify).
    pub journal_entries: usize,
    /// Approved payments in the simulated terminal's ledger, when one was compared.
    pub ledger_approvals: Option<usize>,
    /// Each broken rule, in words.
    pub problems: Vec<String>,
}

impl BooksCheck {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Engine {
    /// Checks the books; with `ledger`, a simulated terminal's ledger, also that its approved
    /// payments are exactly the ones recorded, key by key and amount by amount. A broken rule
    /// is a problem in the answer; only failing to read is an error.
    pub async fn check_books(&self, ledger: Option<&Path>) -> Result<BooksCheck> {
        let mut problems = Vec::new();
        if let Err(report) = self.store.integrity_check().await? {
            problems.push(format!("SQLite's integrity check: {report}"));
        }
        let journal_entries = match self.verify_journal(None).await {
            Ok(check) => check.entries,
            Err(error) => {
                problems.push(format!("the journal does not verify: {error}"));
                0
            }
        };
        let books = kiosk_store::books::read(&mut *self.store.read().await?).await?;
        problems.extend(broken_rules(&books));
        let ledger_approvals = match ledger {
            Some(path) => {
                let approvals = ledger_approvals(path)?;
                problems.extend(ledger_differences(&approvals, &books));
                Some(approvals.len())
            }
            None => None,
        };
        Ok(BooksCheck { books, journal_entries, ledger_approvals, problems })
    }
}

fn broken_rules(books: &Books) -> Vec<String> {
    let mut problems = Vec::new();
    if books.unresolved > 0 {
        problems.push(format!(
            "{} payment(s) not resolved: in progress, or in doubt until the terminal is asked",
            books.unresolved
        ));
    }
    if books.orphan_holds > 0 {
        problems.push(format!("{} stock hold(s) kept by no sale in progress", books.orphan_holds));
    }
    if books.approvals != books.orders_with_approval {
        problems.push(format!(
            "{} approved payments pay {} orders: an order was paid more than once",
            books.approvals, books.orders_with_approval
        ));
    }
    if books.settled_orders != books.orders_with_approval {
        problems.push(format!(
            "{} orders are paid or past payment, {} have an approved payment",
            books.settled_orders, books.orders_with_approval
        ));
    }
    let sales_approvals = books.approvals.saturating_sub(books.training_approvals);
    if books.paid_entries != sales_approvals {
        problems.push(format!(
            "the journal records {} paid orders for {} approved payments",
            books.paid_entries, sales_approvals
        ));
    }
    if books.training_paid_entries != books.training_approvals {
        problems.push(format!(
            "the training journal records {} paid orders for {} approved training payments",
            books.training_paid_entries, books.training_approvals
        ));
    }
    problems
}

/// The approved payments of a simulated terminal's ledger: key and amount.
fn ledger_approvals(path: &Path) -> Result<Vec<(String, i64)>> {
    let entries =
        SimTerminal::read_ledger(path).map_err(|error| EngineError::File { path: error.path, error: error.error })?;
    Ok(entries
        .into_iter()
        .filter(|entry| entry.kind == LedgerKind::Payment && entry.outcome == LedgerOutcome::Approved)
        .map(|entry| (entry.key, entry.amount_minor))
        .collect())
}

fn ledger_differences(ledger: &[(String, i64)], books: &Books) -> Vec<String> {
    let recorded = &books.terminal_approvals;
    let mut problems = Vec::new();
    let lost: Vec<&str> =
        ledger.iter().filter(|(key, _)| !recorded.contains_key(key)).map(|(key, _)| key.as_str()).collect();
    if !lost.is_empty() {
        problems.push(format!("charged on the terminal but not recorded as paid: {}", lost.join(", ")));
    }
    let charged: BTreeSet<&str> = ledger.iter().map(|(key, _)| key.as_str()).collect();
    let invented: Vec<&str> = recorded.keys().map(String::as_str).filter(|key| !charged.contains(key)).collect();
    if !invented.is_empty() {
        problems.push(format!("recorded as paid without a charge on the terminal: {}", invented.join(", ")));
    }
    let differing: Vec<String> = ledger
        .iter()
        .filter_map(|(key, amount)| {
            let kept = recorded.get(key)?;
            (kept != amount).then(|| format!("{key} (terminal {amount}, kiosk {kept})"))
        })
        .collect();
    if !differing.is_empty() {
        problems.push(format!("amounts differ between the terminal and the kiosk: {}", differing.join(", ")));
    }
    if ledger.len() != charged.len() {
        problems.push("the terminal charged one payment more than once".to_owned());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn books(approved: &[(&str, i64)]) -> Books {
        let n = approved.len() as u64;
        Books {
            terminal_approvals: approved.iter().map(|(key, amount)| (key.to_string(), *amount)).collect(),
            approvals: n,
            orders_with_approval: n,
            settled_orders: n,
            paid_entries: n,
            ..Books::default()
        }
    }

    #[test]
    fn sound_books_break_no_rule() {
        let books = books(&[("a", 990), ("b", 1250)]);
        assert!(broken_rules(&books).is_empty());
        assert!(ledger_differences(&[("a".into(), 990), ("b".into(), 1250)], &books).is_empty());
    }

    #[test]
    fn each_broken_rule_is_named() {
        let mut twice = books(&[("a", 990), ("b", 990)]);
        twice.orders_with_approval = 1;
        twice.settled_orders = 1;
        assert_eq!(broken_rules(&twice), ["2 approved payments pay 1 orders: an order was paid more than once"]);

        let mut unpaid = books(&[("a", 990)]);
        unpaid.settled_orders = 2;
        assert_eq!(broken_rules(&unpaid), ["2 orders are paid or past payment, 1 have an approved payment"]);

        let mut unjournaled = books(&[("a", 990)]);
        unjournaled.paid_entries = 0;
        assert_eq!(broken_rules(&unjournaled), ["the journal records 0 paid orders for 1 approved payments"]);

        // A training sale journaled as a real one breaks both chains' counts.
        let mut misfiled = books(&[("a", 990)]);
        misfiled.training_approvals = 1;
        assert_eq!(
            broken_rules(&misfiled),
            [
                "the journal records 1 paid orders for 0 approved payments",
                "the training journal records 0 paid orders for 1 approved training payments"
            ]
        );

        let mut left = books(&[]);
        left.unresolved = 1;
        left.orphan_holds = 2;
        assert_eq!(
            broken_rules(&left),
            [
                "1 payment(s) not resolved: in progress, or in doubt until the terminal is asked",
                "2 stock hold(s) kept by no sale in progress"
            ]
        );
    }

    #[test]
    fn the_ledger_disagreeing_is_named_key_by_key() {
        let books = books(&[("a", 990), ("b", 1250)]);
        let ledger = [("a".to_owned(), 990), ("b".to_owned(), 1200), ("c".to_owned(), 500), ("c".to_owned(), 500)];
        assert_eq!(
            ledger_differences(&ledger, &books),
            [
                "charged on the terminal but not recorded as paid: c, c",
                "amounts differ between the terminal and the kiosk: b (terminal 1200, kiosk 1250)",
                "the terminal charged one payment more than once"
            ]
        );
        assert_eq!(ledger_differences(&ledger[..1], &books), ["recorded as paid without a charge on the terminal: b"]);
    }
}
