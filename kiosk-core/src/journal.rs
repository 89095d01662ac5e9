//! The fiscal journal's rules. Every entry carries the hash of the one before it and a
//! signature of its own hash by the device's key, which lives outside the database:
//!
//! - an edited entry no longer matches its hash;
//! - a removed or reordered entry breaks the sequence or the link to the previous hash;
//! - a chain recomputed after an edit has hashes nobody without the key can sign;
//! - a cut tail is caught against an anchor (the last sequence number and hash printed on a
//!   Z ticket or reported by a heartbeat).
//!
//! Verifying a whole journal checks every hash and link, and the signature of the last entry:
//! each hash covers everything before it, so a valid signature at the end vouches for the
//! whole chain. Only when that fails are the signatures read one by one, to name the first
//! entry that was forged.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    OrderPaid,
    /// An order cancelled before it was paid: its number is accounted for.
    OrderVoided,
    /// Money given back for a paid order.
    Refund,
    /// A Z report closed the day: later reports start after this entry.
    DayClosed,
}

impl EntryKind {
    pub fn code(self) -> &'static str {
        match self {
            EntryKind::OrderPaid => "order_paid",
            EntryKind::OrderVoided => "order_voided",
            EntryKind::Refund => "refund",
            EntryKind::DayClosed => "day_closed",
        }
    }

    pub fn parse(code: &str) -> Option<EntryKind> {
        [EntryKind::OrderPaid, EntryKind::OrderVoided, EntryKind::Refund, EntryKind::DayClosed]
            .into_iter()
            .find(|k| k.code() == code)
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
    /// SHA-256 of the previous hash and every field above, hex.
    pub hash: String,
    /// Ed25519 signature of the hash's bytes by the device key, hex.
    pub signature: String,
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

/// The last entry of a journal: what a new entry links to, and what an anchor records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainTail {
    pub seq: u64,
    pub hash: String,
}

impl ChainTail {
    /// Parses an anchor written "SEQ:HASH"; spaces in the hash (as a Z ticket prints it, in
    /// groups) are ignored.
    pub fn parse(text: &str) -> Option<ChainTail> {
        let (seq, hash) = text.split_once(':')?;
        let hash: String = hash.chars().filter(|c| !c.is_whitespace()).collect();
        let seq = seq.trim();
        let hash_ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        Some(ChainTail { seq: seq.parse().ok()?, hash: hash.to_ascii_lowercase() }).filter(|_| hash_ok)
    }
}

impl fmt::Display for ChainTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl JournalEntry {
    pub fn tail(&self) -> ChainTail {
        ChainTail { seq: self.seq, hash: self.hash.clone() }
    }

    fn signature_holds(&self, key: &VerifyingKey) -> bool {
        let bytes = hex::decode(&self.signature).ok().and_then(|b| <[u8; 64]>::try_from(b).ok());
        let hash = hex::decode(&self.hash).ok();
        match (bytes, hash) {
            (Some(bytes), Some(hash)) => key.verify(&hash, &Signature::from_bytes(&bytes)).is_ok(),
            _ => false,
        }
    }
}

/// The entry that follows `previous` (or starts the journal when there is none), signed.
pub fn next_entry(
    previous: Option<&ChainTail>,
    kind: EntryKind,
    at: String,
    payload: String,
    key: &SigningKey,
) -> JournalEntry {
    let (seq, prev_hash) = match previous {
        Some(tail) => (tail.seq + 1, tail.hash.clone()),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let hash = entry_hash(&prev_hash, seq, kind, &at, &payload);
    let signature = hex::encode(key.sign(&hex::decode(&hash).expect("a hash is hex")).to_bytes());
    JournalEntry { seq, kind, at, payload, prev_hash, hash, signature }
}

/// What is wrong with a journal, naming the first entry where it shows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {found} follows entry {previous}: an entry was removed or moved")]
    Gap { previous: u64, found: u64 },
    #[error("entry {seq} does not carry the hash of the entry before it: entries were reordered or replaced")]
    Unlinked { seq: u64 },
    #[error("entry {seq} was altered: its content does not match its hash")]
    Altered { seq: u64 },
    #[error("entry {seq} is not signed by this kiosk's key: the chain was rewritten from there")]
    Forged { seq: u64 },
    #[error("the journal ends at entry {last}, but the anchor {anchor} says there were more: its tail was cut")]
    Cut { last: u64, anchor: ChainTail },
    #[error("entry {seq} differs from the anchor {anchor}")]
    AnchorMismatch { seq: u64, anchor: ChainTail },
    #[error("the journal is empty, but the anchor {anchor} says it held entries")]
    Emptied { anchor: ChainTail },
    #[error("the journal starts at entry {first}, not 1: its first entries were removed")]
    HeadMissing { first: u64 },
}

/// Checks a whole journal: like [`verify`], and it must start at entry 1.
pub fn verify_whole(
    entries: &[JournalEntry],
    key: &VerifyingKey,
    anchor: Option<&ChainTail>,
) -> Result<Option<ChainTail>, ChainBreak> {
    if let Some(first) = entries.first().filter(|e| e.seq != 1) {
        return Err(ChainBreak::HeadMissing { first: first.seq });
    }
    verify(entries, key, anchor)
}

/// Checks a run of consecutive entries (an exported period may start anywhere; a whole
/// journal goes through [`verify_whole`]) against the device's public key and, when given, an
/// anchor taken earlier. Returns the last entry's sequence number and hash.
pub fn verify(
    entries: &[JournalEntry],
    key: &VerifyingKey,
    anchor: Option<&ChainTail>,
) -> Result<Option<ChainTail>, ChainBreak> {
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
    if let Some(last) = entries.last()
        && !last.signature_holds(key)
    {
        let forged = entries.iter().find(|e| !e.signature_holds(key)).unwrap_or(last);
        return Err(ChainBreak::Forged { seq: forged.seq });
    }
    let tail = entries.last().map(JournalEntry::tail);
    if let Some(anchor) = anchor {
        match (&tail, entries.iter().find(|e| e.seq == anchor.seq)) {
            (None, _) => return Err(ChainBreak::Emptied { anchor: anchor.clone() }),
            (_, Some(entry)) if entry.hash != anchor.hash => {
                return Err(ChainBreak::AnchorMismatch { seq: entry.seq, anchor: anchor.clone() });
            }
            (Some(last), None) if last.seq < anchor.seq => {
                return Err(ChainBreak::Cut { last: last.seq, anchor: anchor.clone() });
            }
            _ => {}
        }
    }
    Ok(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn chain(count: usize) -> Vec<JournalEntry> {
        let mut entries: Vec<JournalEntry> = Vec::new();
        for n in 0..count {
            let tail = entries.last().map(JournalEntry::tail);
            let at = format!("2026-11-30T12:00:0{n}Z");
            entries.push(next_entry(
                tail.as_ref(),
                EntryKind::OrderPaid,
                at,
                format!("{{\"total_minor\":{n}00}}"),
                &key(),
            ));
        }
        entries
    }

    fn check(entries: &[JournalEntry], anchor: Option<&ChainTail>) -> Result<Option<ChainTail>, ChainBreak> {
        verify(entries, &key().verifying_key(), anchor)
    }

    #[test]
    fn a_sound_journal_verifies_up_to_its_anchor() {
        let entries = chain(5);
        let anchor = entries[2].tail();
        assert_eq!(check(&entries, Some(&anchor)), Ok(Some(entries[4].tail())));
        assert_eq!(check(&entries[2..], None), Ok(Some(entries[4].tail())), "a period verifies on its own");
        assert_eq!(ChainTail::parse(&anchor.to_string()), Some(anchor.clone()));
        let grouped: Vec<&str> = (0..8).map(|g| &anchor.hash[g * 8..g * 8 + 8]).collect();
        assert_eq!(ChainTail::parse(&format!("3: {}", grouped.join(" "))), Some(anchor), "as a Z ticket prints it");
        assert_eq!(ChainTail::parse("3:xyz"), None);
    }

    #[test]
    fn every_attack_is_detected_and_named() {
        let entries = chain(5);

        let mut edited = entries.clone();
        edited[1].payload = "{\"total_minor\":1}".into();
        assert_eq!(check(&edited, None), Err(ChainBreak::Altered { seq: 2 }));

        let mut removed = entries.clone();
        removed.remove(2);
        assert_eq!(check(&removed, None), Err(ChainBreak::Gap { previous: 2, found: 4 }));

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert_eq!(check(&reordered, None), Err(ChainBreak::Gap { previous: 1, found: 3 }));

        // Swapping contents but keeping sequence numbers breaks the links instead.
        let mut relinked = entries.clone();
        relinked[2].prev_hash = entries[0].hash.clone();
        relinked[2].hash =
            entry_hash(&relinked[2].prev_hash, 3, EntryKind::OrderPaid, &relinked[2].at, &relinked[2].payload);
        assert_eq!(check(&relinked, None), Err(ChainBreak::Unlinked { seq: 3 }));

        // Edit entry 2 and recompute every hash after it: only the key could sign them.
        let mut rewritten = entries.clone();
        rewritten[1].payload = "{\"total_minor\":1}".into();
        for index in 1..rewritten.len() {
            let prev = rewritten[index - 1].hash.clone();
            let e = &mut rewritten[index];
            e.prev_hash = prev;
            e.hash = entry_hash(&e.prev_hash, e.seq, e.kind, &e.at, &e.payload);
        }
        assert_eq!(check(&rewritten, None), Err(ChainBreak::Forged { seq: 2 }));

        let anchor = entries[4].tail();
        assert_eq!(check(&entries[..3], Some(&anchor)), Err(ChainBreak::Cut { last: 3, anchor: anchor.clone() }));
        assert_eq!(check(&[], Some(&anchor)), Err(ChainBreak::Emptied { anchor }));
        let wrong = ChainTail { seq: 2, hash: entries[3].hash.clone() };
        assert_eq!(check(&entries, Some(&wrong)), Err(ChainBreak::AnchorMismatch { seq: 2, anchor: wrong }));

        assert_eq!(
            verify_whole(&entries[1..], &key().verifying_key(), None),
            Err(ChainBreak::HeadMissing { first: 2 })
        );
        let other_key = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert_eq!(verify(&entries, &other_key, None), Err(ChainBreak::Forged { seq: 1 }));
    }
}
