//! Orders: their states and the short number shown to the customer.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::staff::{Permission, Role};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    Paid,
    SentToKitchen,
    Completed,
    Cancelled,
    /// Paid, then refunded in full.
    Refunded,
}

impl OrderStatus {
    pub fn code(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Paid => "paid",
            OrderStatus::SentToKitchen => "sent_to_kitchen",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(code: &str) -> Option<OrderStatus> {
        [Self::Placed, Self::Paid, Self::SentToKitchen, Self::Completed, Self::Cancelled, Self::Refunded]
            .into_iter()
            .find(|s| s.code() == code)
    }

    /// Whether an order may move from this state to `next`. Only an approval makes an order
    /// paid, and a paid order is never cancelled (it is refunded instead).
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Placed, Paid)
                | (Placed, Cancelled)
                | (Paid, SentToKitchen)
                | (Paid, Completed)
                | (SentToKitchen, Completed)
                | (Paid | SentToKitchen | Completed, Refunded)
        )
    }

    /// Whether a paid order can be refunded (in full or in part) from this state.
    pub fn is_refundable(self) -> bool {
        self.can_become(OrderStatus::Refunded)
    }

    /// Whether the order was paid, so that it has a receipt (a refunded one still has).
    pub fn has_receipt(self) -> bool {
        matches!(self, OrderStatus::Paid | OrderStatus::SentToKitchen | OrderStatus::Completed | OrderStatus::Refunded)
    }

    /// Whether staff can take its payment at the counter: placed to pay there, not paid yet.
    pub fn awaits_counter_payment(self, placed_to_pay_at_counter: bool) -> bool {
        self == OrderStatus::Placed && placed_to_pay_at_counter
    }

    /// Whether staff or an admin may move an order to `next` by hand: any allowed move
    /// except paying and refunding, which only the terminal's approvals do.
    pub fn may_be_set_to(self, next: OrderStatus) -> bool {
        !matches!(next, OrderStatus::Paid | OrderStatus::Refunded) && self.can_become(next)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a member of staff may do with an order now: its state allows it and their role may.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderActions {
    pub settle: bool,
    pub refund: bool,
    pub reprint: bool,
}

impl OrderActions {
    pub fn of(status: OrderStatus, placed_to_pay_at_counter: bool, role: Role) -> OrderActions {
        OrderActions {
            settle: status.awaits_counter_payment(placed_to_pay_at_counter) && role.may(Permission::SettleCounter),
            refund: status.is_refundable() && role.may(Permission::Refund),
            reprint: status.has_receipt() && role.may(Permission::Reprint),
        }
    }
}

/// The kiosk's part of an order number: one to three capital letters or digits, unique among
/// the kiosks of a venue (from the device config).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrderPrefix(String);

impl OrderPrefix {
    pub fn parse(text: &str) -> Option<OrderPrefix> {
        let valid = (1..=3).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        valid.then(|| OrderPrefix(text.to_owned()))
    }

    /// The number shown to the customer for the `sequence`-th order of the business day,
    /// like "A042". Unique across the venue's kiosks for the day because prefixes are.
    pub fn number(&self, sequence: u32) -> String {
        format!("{}{sequence:03}", self.0)
    }
}

impl TryFrom<String> for OrderPrefix {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        OrderPrefix::parse(&text)
            .ok_or_else(|| format!("\"{text}\" is not an order prefix (1 to 3 capital letters or digits)"))
    }
}

impl From<OrderPrefix> for String {
    fn from(prefix: OrderPrefix) -> String {
        prefix.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_prefixes() {
        let prefix = OrderPrefix::parse("B").unwrap();
        assert_eq!(prefix.number(7), "B007");
        assert_eq!(prefix.number(1234), "B1234");
        assert!(OrderPrefix::parse("b").is_none());
        assert!(OrderPrefix::parse("ABCD").is_none());
        assert!(OrderPrefix::parse("").is_none());
    }

    #[test]
    fn transitions() {
        assert!(OrderStatus::Placed.can_become(OrderStatus::Paid));
        assert!(!OrderStatus::Paid.can_become(OrderStatus::Cancelled));
        assert!(!OrderStatus::Cancelled.can_become(OrderStatus::Paid));
        assert_eq!(OrderStatus::parse("sent_to_kitchen"), Some(OrderStatus::SentToKitchen));
        assert!(!OrderStatus::Placed.may_be_set_to(OrderStatus::Paid));
        assert!(OrderStatus::Placed.may_be_set_to(OrderStatus::Cancelled));
        assert!(OrderStatus::Paid.may_be_set_to(OrderStatus::Completed));
    }

    #[test]
    fn staff_see_the_actions_the_state_and_their_role_allow() {
        use OrderStatus::*;
        let none = OrderActions::default();
        // A counter order: staff settle it; nothing to refund or reprint yet.
        assert_eq!(OrderActions::of(Placed, true, Role::Staff), OrderActions { settle: true, ..none });
        // Placed to pay on the terminal: not staff's to settle.
        assert_eq!(OrderActions::of(Placed, false, Role::Manager), none);
        // Paid: staff reprint; only a manager refunds.
        assert_eq!(OrderActions::of(Paid, false, Role::Staff), OrderActions { reprint: true, ..none });
        assert_eq!(
            OrderActions::of(Completed, true, Role::Manager),
            OrderActions { refund: true, reprint: true, ..none }
        );
        // Refunded: its receipt can still be reprinted, it cannot be refunded again.
        assert_eq!(OrderActions::of(Refunded, false, Role::Manager), OrderActions { reprint: true, ..none });
        assert_eq!(OrderActions::of(Cancelled, true, Role::Manager), none);
    }
}
