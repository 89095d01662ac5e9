//! Staff accounts' rules: roles and what each may do, what a PIN and a badge look like, and
//! how long an account stays locked after wrong PINs.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Staff,
    Manager,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Manager => "manager",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        [Role::Staff, Role::Manager].into_iter().find(|r| r.code() == code)
    }

    /// Staff restock, reprint, read the X report and settle counter orders; managers also
    /// refund, void unpaid orders, close the day, manage staff accounts and switch training
    /// mode.
    pub fn may(self, action: Permission) -> bool {
        match action {
            Permission::Restock | Permission::Reprint | Permission::XReport | Permission::SettleCounter => true,
            Permission::Refund
            | Permission::Void
            | Permission::ZClose
            | Permission::ManageStaff
            | Permission::Training => self == Role::Manager,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Restock,
    Reprint,
    XReport,
    SettleCounter,
    Refund,
    Void,
    ZClose,
    ManageStaff,
    /// Switch training mode on or off.
    Training,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Permission::Restock => "restock",
            Permission::Reprint => "reprint receipts",
            Permission::XReport => "read the X report",
            Permission::SettleCounter => "settle counter orders",
            Permission::Refund => "refund",
            Permission::Void => "void an order",
            Permission::ZClose => "close the day",
            Permission::ManageStaff => "manage staff accounts",
            Permission::Training => "switch training mode",
        };
        f.write_str(name)
    }
}

/// A PIN: 4 to 8 digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub fn parse(text: &str) -> Result<Pin, String> {
        let ok = (4..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| Pin(text.to_owned())).ok_or_else(|| "a PIN is 4 to 8 digits".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// A staff badge's code as the scanner reads it: 4 to 64 visible ASCII characters.
#[derive(Clone, PartialEq, Eq)]
pub struct BadgeCode(String);

impl BadgeCode {
    pub fn parse(text: &str) -> Result<BadgeCode, String> {
        let ok = (4..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| BadgeCode(text.to_owned())).ok_or_else(|| "a badge code is 4 to 64 visible characters".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BadgeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BadgeCode(****)")
    }
}

/// Wrong PINs in a row that lock an account.
pub const FAILURES_BEFORE_LOCK: u32 = 5;

/// How long an account locks after `failures` wrong PINs in a row: nothing before the fifth,
/// then one minute, doubling with every further five (2, 4, 8... minutes), at most a day.
pub fn lock_after(failures: u32) -> Option<u64> {
    if failures == 0 || !failures.is_multiple_of(FAILURES_BEFORE_LOCK) {
        return None;
    }
    let doublings = (failures / FAILURES_BEFORE_LOCK - 1).min(11);
    Some((60u64 << doublings).min(24 * 60 * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_permissions() {
        assert!(Role::Staff.may(Permission::Restock));
        assert!(Role::Staff.may(Permission::SettleCounter));
        assert!(!Role::Staff.may(Permission::Refund));
        assert!(!Role::Staff.may(Permission::ZClose));
        assert!(!Role::Staff.may(Permission::Void));
        assert!(Role::Manager.may(Permission::ManageStaff));
    }

    #[test]
    fn pins_badges_and_locks() {
        assert!(Pin::parse("1234").is_ok());
        assert_eq!(Pin::parse("12a4").unwrap_err(), "a PIN is 4 to 8 digits");
        assert!(Pin::parse("123").is_err());
        assert_eq!(format!("{:?}", Pin::parse("1234").unwrap()), "Pin(****)");
        assert!(BadgeCode::parse("STAFF-0042").is_ok());
        assert!(BadgeCode::parse("a b").is_err());
        let locks: Vec<Option<u64>> = [1, 4, 5, 6, 10, 15, 100].into_iter().map(lock_after).collect();
        assert_eq!(locks, vec![None, None, Some(60), None, Some(120), Some(240), Some(86_400)]);
    }
}
