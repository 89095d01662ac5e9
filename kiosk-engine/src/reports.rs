//! X and Z reports from the journal: an X reads the period since the last Z, a Z closes it,
//! numbered, with a journal entry whose sequence number and hash the Z ticket prints.

use kiosk_core::journal::{ChainTail, EntryKind};
use kiosk_core::receipt::{Align, Block, Document};
use kiosk_core::report::{self, CloseFacts, Report};
use kiosk_core::staff::Permission;
use kiosk_store::journal::Chain;
use kiosk_store::z_reports::{self, StoredZ};
use kiosk_store::{StoreError, commit, journal as journal_table};
use serde::Serialize;

use crate::clock::timestamp;
use crate::{Actor, Engine, EngineError, Result};

/// A closed day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZReport {
    pub number: u64,
    pub report: Report,
    /// The journal's sequence number and hash at the close: the anchor printed on the ticket.
    pub anchor: ChainTail,
    pub closed_at: String,
    pub closed_by: String,
    /// The registered journal key's fingerprint, printed so that a replaced key shows.
    pub key_fingerprint: String,
}

impl TryFrom<StoredZ> for ZReport {
    type Error = EngineError;
    fn try_from(stored: StoredZ) -> Result<ZReport> {
        let corrupt =
            |what: String| EngineError::Store(StoreError::Corrupt(format!("Z report {}: {what}", stored.number)));
        Ok(ZReport {
            number: u64::try_from(stored.number).map_err(|_| corrupt("bad number".into()))?,
            report: serde_json::from_str(&stored.report).map_err(|e| corrupt(e.to_string()))?,
            anchor: ChainTail {
                seq: u64::try_from(stored.journal_seq).map_err(|_| corrupt("bad sequence".into()))?,
                hash: stored.journal_hash,
            },
            closed_at: stored.closed_at,
            closed_by: stored.closed_by,
            key_fingerprint: stored.key_fingerprint,
        })
    }
}

impl ZReport {
    /// The Z ticket, ending with the journal anchor and a cut.
    pub fn to_document(&self, language: &str) -> Document {
        let mut document = self.report.to_document(&format!("Z REPORT No {}", self.number), language);
        // The anchor whole: the sequence number, then the hash in groups of eight digits that
        // wrap on any paper (`journal verify --anchor` reads it back with the spaces).
        let groups: Vec<String> =
            self.anchor.hash.as_bytes().chunks(8).map(|group| String::from_utf8_lossy(group).into_owned()).collect();
        let lines = [
            format!("closed {}", self.closed_at.get(..16).unwrap_or(&self.closed_at).replace('T', " ")),
            format!("by {}", self.closed_by),
            format!("journal anchor: entry {}", self.anchor.seq),
            groups.join(" "),
            format!("journal key {}", self.key_fingerprint),
        ];
        for text in lines {
            document.blocks.push(Block::Text { text, align: Align::Left, bold: false });
        }
        document.blocks.extend([Block::Feed { lines: 3 }, Block::Cut]);
        document
    }

    /// The Z ticket as text.
    pub fn to_text(&self, language: &str) -> String {
        self.to_document(language).to_text(kiosk_devices::printer::COLUMNS)
    }
}

impl Engine {
    /// The running report since the last Z.
    pub async fn x_report(&self, actor: &Actor) -> Result<Report> {
        self.require(actor, Permission::XReport).await?;
        self.verify_recent().await?;
        let mut conn = self.store.read().await?;
        let (after, _) = last_close(&mut conn).await?;
        let entries = journal_table::since(&mut conn, after).await?;
        Ok(report::build(&entries)?)
    }

    /// Closes the period since the last Z: checks the journal, numbers the Z, journals the
    /// close and keeps the report with its anchor. A journal that fails its check is never
    /// closed: the Z is refused and staff are alerted.
    pub async fn close_day(&self, actor: &Actor) -> Result<ZReport> {
        self.require(actor, Permission::ZClose).await?;
        self.verify_recent().await?;
        let mut tx = self.store.write().await?;
        let (after, previous_number) = last_close(&mut tx).await?;
        let entries = journal_table::since(&mut tx, after).await?;
        let report = report::build(&entries)?;
        let number = previous_number + 1;
        let facts = CloseFacts {
            z_number: number,
            first_seq: report.first_seq,
            last_seq: report.last_seq,
            sales: report.sales.total,
            refunds: report.refunds.total,
            net: report.net,
            by: actor.to_string(),
            key_fingerprint: self.journal_key_fingerprint(),
        };
        let close = self
            .append_journal(
                &mut tx,
                Chain::Fiscal,
                EntryKind::DayClosed,
                serde_json::to_string(&facts).expect("facts serialize"),
            )
            .await?;
        let stored = StoredZ {
            number: i64::try_from(number).unwrap_or(i64::MAX),
            journal_seq: i64::try_from(close.seq).unwrap_or(i64::MAX),
            journal_hash: close.hash.clone(),
            report: serde_json::to_string(&report).expect("a report serializes"),
            closed_at: timestamp(&self.now()),
            closed_by: actor.to_string(),
            key_fingerprint: self.journal_key_fingerprint(),
        };
        z_reports::insert(&mut tx, &stored).await?;
        self.record_action(&mut tx, actor, "report.z", &format!("Z {number}, anchor {}", close.tail())).await?;
        commit(tx, "closing the day").await?;
        ZReport::try_from(stored)
    }

    /// Every Z report closed, oldest first: the archive the venue keeps.
    pub async fn z_reports(&self) -> Result<Vec<ZReport>> {
        let stored = z_reports::all(&mut *self.store.read().await?).await?;
        stored.into_iter().map(ZReport::try_from).collect()
    }

    /// A Z report closed earlier.
    pub async fn z_report(&self, number: u64) -> Result<ZReport> {
        let stored = z_reports::get(&mut *self.store.read().await?, i64::try_from(number).unwrap_or(i64::MAX))
            .await?
            .ok_or(EngineError::NoSuchZ(number))?;
        ZReport::try_from(stored)
    }
}

/// Where the period since the last Z starts, and that Z's number, read from the signed
/// journal (not from the `z_reports` table, which only keeps copies).
async fn last_close(conn: &mut kiosk_store::Connection) -> Result<(u64, u64)> {
    match journal_table::last_of_kind(conn, EntryKind::DayClosed).await? {
        Some(entry) => {
            let facts: CloseFacts = serde_json::from_str(&entry.payload)
                .map_err(|e| StoreError::Corrupt(format!("journal entry {}: {e}", entry.seq)))?;
            Ok((entry.seq, facts.z_number))
        }
        None => Ok((0, 0)),
    }
}
