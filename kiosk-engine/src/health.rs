//! The checks a freshly started release passes before the agent commits an update: it prices
//! a test order (a quote: nothing is recorded, no fiscal trace), and reaches its receipt
//! printer and its payment terminal.

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::money::Money;
use kiosk_core::payment::{AttemptKey, StatusReply};

use crate::{Engine, PrinterState};

/// How a release's self check went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelfCheck {
    /// The test order's total, or why no order could be priced.
    pub test_order: Result<Money, String>,
    pub receipt_printer: PrinterState,
    /// Whether the payment terminal answers, or why not.
    pub terminal: Result<(), String>,
}

impl SelfCheck {
    /// Whether the release may be committed.
    pub fn passed(&self) -> bool {
        self.test_order.is_ok() && self.receipt_printer.takes_jobs() && self.terminal.is_ok()
    }
}

impl Engine {
    /// Prices one of each product on sale until one prices (an item with required options
    /// does not alone), asks the receipt printer its status, and asks the terminal about a key
    /// it has never seen: any answer but "unreachable" shows it is there.
    pub async fn self_check(&self) -> SelfCheck {
        let test_order = match self.shelf().await {
            Ok(shelf) => {
                let mut priced = Err("no product on sale can be priced on its own".to_owned());
                for product in shelf.on_sale().filter(|product| !shelf.is_sold_out(*product)) {
                    let line = CartLine::item(product.info().id.as_str(), 1);
                    if let Ok(quote) = self.quote(&Cart::new(ConsumptionMode::TakeAway, vec![line])).await {
                        priced = Ok(quote.total);
                        break;
                    }
                }
                priced
            }
            Err(error) => Err(error.to_string()),
        };
        let terminal = match &self.terminals {
            None => Err("this engine was opened without payments".to_owned()),
            Some(terminals) => {
                let probe = AttemptKey::from_stored(format!("{}-self-check", self.device.kiosk_id));
                match terminals.till.status(&probe).await {
                    StatusReply::Unreachable(why) => Err(why),
                    _ => Ok(()),
                }
            }
        };
        SelfCheck { test_order, receipt_printer: self.receipt_printer_state().await, terminal }
    }
}
