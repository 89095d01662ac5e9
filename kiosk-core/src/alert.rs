//! What the kiosk tells staff and the health report about, beyond stock: each kind with its
//! code as stored.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// A kitchen ticket was given up unprinted: too old to cook from.
    TicketNotPrinted,
    /// The fiscal journal failed its check: no X or Z report until it is understood.
    JournalBroken,
}

impl AlertKind {
    pub const ALL: [AlertKind; 2] = [AlertKind::TicketNotPrinted, AlertKind::JournalBroken];

    pub fn code(self) -> &'static str {
        match self {
            AlertKind::TicketNotPrinted => "ticket_not_printed",
            AlertKind::JournalBroken => "journal_broken",
        }
    }

    pub fn parse(code: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// Whether staff may clear it by hand; a broken journal clears only when it checks out.
    pub fn staff_may_clear(self) -> bool {
        match self {
            AlertKind::TicketNotPrinted => true,
            AlertKind::JournalBroken => false,
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
