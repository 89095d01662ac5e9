//! The journal's hashing rules: every entry carries the hash of the one before it, so an
//! edited, removed or reordered entry breaks the chain. (Signatures by a device key and
//! anchors in Z tickets build on this.)

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    OrderPaid,
}

impl EntryKind {
    pub fn code(self) -> &'static str {
        match self {
            EntryKind::OrderPaid => "order_paid",
        }
    }

    pub fn parse(code: &str) -> Option<EntryKind> {
        (code == "order_paid").then_some(EntryKind::OrderPaid)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub seq: u64,
    pub kind: EntryKind,
    /// When it happened, RFC 3339, as given by the caller.
    pub at: String,
    /// The facts recorded, as JSON.
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: SHA-256 over the previous hash and every field, each field
/// length-prefixed so that no two different entries hash the same input.
pub fn entry_hash(prev_hash: &str, seq: u64, kind: EntryKind, at: &str, payload: &str) -> String {
    let mut hasher = Sha256::new();
    for field in [prev_hash, &seq.to_string(), kind.code(), at, payload] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The last entry of a journal, all a new entry needs to link to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainTail {
    pub seq: u64,
    pub hash: String,
}

impl JournalEntry {
    pub fn tail(&self) -> ChainTail {
        ChainTail { seq: self.seq, hash: self.hash.clone() }
    }
}

/// The entry that follows `previous` (or starts the journal when there is none).
pub fn next_entry(previous: Option<&ChainTail>, kind: EntryKind, at: String, payload: String) -> JournalEntry {
    let (seq, prev_hash) = match previous {
        Some(tail) => (tail.seq + 1, tail.hash.clone()),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let hash = entry_hash(&prev_hash, seq, kind, &at, &payload);
    JournalEntry { seq, kind, at, payload, prev_hash, hash }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {found} follows entry {previous}: an entry is missing or out of order")]
    Gap { previous: u64, found: u64 },
    #[error("entry {seq} does not carry the hash of the entry before it")]
    Unlinked { seq: u64 },
    #[error("entry {seq} was altered: its hash does not match its content")]
    Altered { seq: u64 },
}

/// Checks a run of consecutive entries, starting at the first entry of the journal or at any
/// entry whose predecessor was already checked.
pub fn verify(entries: &[JournalEntry]) -> Result<(), ChainBreak> {
    for (index, entry) in entries.iter().enumerate() {
        if entry_hash(&entry.prev_hash, entry.seq, entry.kind, &entry.at, &entry.payload) != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        let expected_prev = match index.checked_sub(1).map(|i| &entries[i]) {
            Some(previous) if entry.seq != previous.seq + 1 => {
                return Err(ChainBreak::Gap { previous: previous.seq, found: entry.seq });
            }
            Some(previous) => previous.hash.as_str(),
            None if entry.seq == 1 => GENESIS_HASH,
            None => continue,
        };
        if entry.prev_hash != expected_prev {
            return Err(ChainBreak::Unlinked { seq: entry.seq });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(count: usize) -> Vec<JournalEntry> {
        let mut entries: Vec<JournalEntry> = Vec::new();
        for n in 0..count {
            let entry = next_entry(
                entries.last().map(JournalEntry::tail).as_ref(),
                EntryKind::OrderPaid,
                format!("2026-11-30T12:00:0{n}Z"),
                format!("{{\"n\":{n}}}"),
            );
            entries.push(entry);
        }
        entries
    }

    #[test]
    fn detects_edits_removals_and_reordering() {
        let entries = chain(4);
        assert_eq!(verify(&entries), Ok(()));

        let mut edited = entries.clone();
        edited[1].payload = "{\"n\":9}".into();
        assert_eq!(verify(&edited), Err(ChainBreak::Altered { seq: 2 }));

        let mut removed = entries.clone();
        removed.remove(2);
        assert_eq!(verify(&removed), Err(ChainBreak::Gap { previous: 2, found: 4 }));

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert!(verify(&reordered).is_err());

        let mut relinked = entries;
        relinked[2].prev_hash = GENESIS_HASH.into();
        assert_eq!(verify(&relinked), Err(ChainBreak::Altered { seq: 3 }));
    }
}
