//! How a kiosk's day stands, as the agent reports it to the fleet: read from the database by
//! the engine, carried in the heartbeat.

use serde::{Deserialize, Serialize};

use crate::journal::ChainTail;
use crate::money::{Currency, Money};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayStatus {
    /// The business day, YYYY-MM-DD.
    pub business_day: String,
    /// Real orders (not training) paid today, and what they came to (refunds aside).
    pub paid_orders: u32,
    pub revenue: Money,
    /// The menu's currency; none before a menu was imported.
    pub currency: Option<Currency>,
    /// When the last of them was placed, RFC 3339.
    pub last_order_at: Option<String>,
    /// The fiscal journal's last entry: an anchor the fleet keeps, so that a journal cut
    /// shorter later shows.
    pub journal_last: Option<ChainTail>,
    /// The fingerprint of the key that signs the journal.
    pub journal_key_fingerprint: String,
    /// The menu version in use and its label.
    pub menu_version: Option<i64>,
    pub menu_label: Option<String>,
}
