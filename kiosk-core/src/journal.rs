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

    /// Whether the entry is signed by `key`.
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        self.signature_holds(key)
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
    #[error(
        "the archive's seal does not hold: its kiosk, period or boundaries were changed, or it was not sealed by this kiosk's key"
    )]
    SealBroken,
    #[error("the archive should start at entry {sealed}, but starts at {found}: its first entries were removed")]
    HeadTrimmed { sealed: u64, found: u64 },
    #[error("the archive should end at entry {sealed}, but ends at {found}: its last entries were removed")]
    TailTrimmed { sealed: u64, found: u64 },
    #[error("the archive should hold entries {first} to {last}, but holds none: its entries were removed")]
    ArchiveEmptied { first: u64, last: u64 },
    #[error("the archive was sealed with no entries, but holds {found}")]
    EntriesAdded { found: usize },
    #[error("the archive's first entry does not follow the previous period's closing anchor {previous}")]
    NotAfterPrevious { previous: ChainTail },
    #[error("the anchor {anchor} is not in this archive (entries {first} to {last})")]
    AnchorOutside { anchor: ChainTail, first: u64, last: u64 },
    #[error(
        "the journal key is not the one registered at first start (key {found}, registered {registered}): it was replaced"
    )]
    KeyReplaced { registered: String, found: String },
}

/// A short, readable fingerprint of a journal public key (the first 64 bits of its SHA-256, in
/// groups of four hex digits), printed on Z tickets and reported in heartbeats.
pub fn fingerprint(key: &VerifyingKey) -> String {
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    digest.as_bytes()[..16]
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
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

/// Checks the end of a journal from entry `from` on, the entries before it having been
/// checked earlier: like [`verify`], and the run must start at `from`, so that nothing went
/// missing between that earlier check and this one.
pub fn verify_from(
    entries: &[JournalEntry],
    key: &VerifyingKey,
    anchor: Option<&ChainTail>,
    from: u64,
) -> Result<Option<ChainTail>, ChainBreak> {
    if let Some(first) = entries.first().filter(|first| first.seq != from) {
        return Err(ChainBreak::Gap { previous: from.saturating_sub(1), found: first.seq });
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

/// What an exported period is, signed as a whole with the device key: the kiosk, the
/// period, its first and last entries and the anchor the period follows. So a trimmed head or
/// tail, an emptied archive or a changed period no longer matches what was sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveSeal {
    pub kiosk_id: String,
    /// First and last business days, "YYYY-MM-DD".
    pub from: String,
    pub to: String,
    pub exported_at: String,
    /// The device's public key, hex.
    pub public_key: String,
    pub entry_count: u64,
    pub first: Option<ChainTail>,
    pub last: Option<ChainTail>,
    /// The journal's last entry before the period (the previous period's closing anchor);
    /// none when the period starts the journal.
    pub previous: Option<ChainTail>,
}

impl ArchiveSeal {
    /// The seal of a run of entries exported for a period, following `previous`.
    pub fn of(
        kiosk_id: &str,
        (from, to): (&str, &str),
        exported_at: &str,
        key: &VerifyingKey,
        entries: &[JournalEntry],
        previous: Option<ChainTail>,
    ) -> ArchiveSeal {
        ArchiveSeal {
            kiosk_id: kiosk_id.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            exported_at: exported_at.to_owned(),
            public_key: hex::encode(key.as_bytes()),
            entry_count: entries.len() as u64,
            first: entries.first().map(JournalEntry::tail),
            last: entries.last().map(JournalEntry::tail),
            previous,
        }
    }

    /// Every field, each length-prefixed, hashed: what the signature covers.
    fn digest(&self) -> [u8; 32] {
        let tail = |tail: &Option<ChainTail>| tail.as_ref().map(ChainTail::to_string).unwrap_or_default();
        let mut hasher = Sha256::new();
        let fields = [
            "kiosk-journal-archive-v1".to_owned(),
            self.kiosk_id.clone(),
            self.from.clone(),
            self.to.clone(),
            self.exported_at.clone(),
            self.public_key.clone(),
            self.entry_count.to_string(),
            tail(&self.first),
            tail(&self.last),
            tail(&self.previous),
        ];
        for field in &fields {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hasher.finalize().into()
    }

    /// The seal's signature by the device key, hex.
    pub fn sign(&self, key: &SigningKey) -> String {
        hex::encode(key.sign(&self.digest()).to_bytes())
    }

    /// Checks an archive's entries against its seal and signature with the kiosk's registered
    /// key, and against an anchor taken earlier when given; returns the last entry's anchor.
    pub fn check(
        &self,
        signature: &str,
        entries: &[JournalEntry],
        key: &VerifyingKey,
        anchor: Option<&ChainTail>,
    ) -> Result<Option<ChainTail>, ChainBreak> {
        let signature = hex::decode(signature).ok().and_then(|b| <[u8; 64]>::try_from(b).ok());
        let sealed = signature.is_some_and(|bytes| key.verify(&self.digest(), &Signature::from_bytes(&bytes)).is_ok());
        if !sealed || self.public_key != hex::encode(key.as_bytes()) {
            return Err(ChainBreak::SealBroken);
        }
        match (&self.first, &self.last, entries.first().zip(entries.last())) {
            (None, None, None) => {}
            (None, None, Some(_)) => return Err(ChainBreak::EntriesAdded { found: entries.len() }),
            (Some(first), Some(last), None) => {
                return Err(ChainBreak::ArchiveEmptied { first: first.seq, last: last.seq });
            }
            (Some(first), Some(last), Some((head, tail))) => {
                if head.tail() != *first {
                    return Err(ChainBreak::HeadTrimmed { sealed: first.seq, found: head.seq });
                }
                if tail.tail() != *last {
                    return Err(ChainBreak::TailTrimmed { sealed: last.seq, found: tail.seq });
                }
                let follows = match &self.previous {
                    Some(previous) => head.seq == previous.seq + 1 && head.prev_hash == previous.hash,
                    None => head.seq == 1 && head.prev_hash == GENESIS_HASH,
                };
                if !follows {
                    let previous = self.previous.clone().unwrap_or(ChainTail { seq: 0, hash: GENESIS_HASH.into() });
                    return Err(ChainBreak::NotAfterPrevious { previous });
                }
            }
            // A seal with a first entry and no last (or the reverse) was never made here.
            (Some(_), None, _) | (None, Some(_), _) => return Err(ChainBreak::SealBroken),
        }
        if entries.len() as u64 != self.entry_count {
            return Err(ChainBreak::SealBroken);
        }
        let tail = verify(entries, key, None)?;
        if let Some(anchor) = anchor {
            self.check_anchor(entries, anchor)?;
        }
        Ok(tail)
    }

    /// An anchor inside the period must match its entry; one past its end means the period was
    /// cut; the previous period's closing anchor matches `previous`.
    fn check_anchor(&self, entries: &[JournalEntry], anchor: &ChainTail) -> Result<(), ChainBreak> {
        if self.previous.as_ref() == Some(anchor) {
            return Ok(());
        }
        let (first, last) = match (&self.first, &self.last) {
            (Some(first), Some(last)) => (first.seq, last.seq),
            _ => return Err(ChainBreak::Emptied { anchor: anchor.clone() }),
        };
        if anchor.seq > last {
            return Err(ChainBreak::Cut { last, anchor: anchor.clone() });
        }
        match entries.iter().find(|entry| entry.seq == anchor.seq) {
            Some(entry) if entry.hash == anchor.hash => Ok(()),
            Some(entry) => Err(ChainBreak::AnchorMismatch { seq: entry.seq, anchor: anchor.clone() }),
            None => Err(ChainBreak::AnchorOutside { anchor: anchor.clone(), first, last }),
        }
    }
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
        // Checked from entry 3 on (the anchor): entry 3 removed shows, and so does the anchor's.
        let from_anchor = entries[2].tail();
        let key = key().verifying_key();
        assert_eq!(verify_from(&entries[2..], &key, Some(&from_anchor), 3), Ok(Some(entries[4].tail())));
        assert_eq!(
            verify_from(&entries[3..], &key, Some(&from_anchor), 3),
            Err(ChainBreak::Gap { previous: 2, found: 4 })
        );
        assert_eq!(verify_from(&[], &key, Some(&from_anchor), 3), Err(ChainBreak::Emptied { anchor: from_anchor }));
        let other_key = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert_eq!(verify(&entries, &other_key, None), Err(ChainBreak::Forged { seq: 1 }));
    }
}
