//! What the agent asks of the engine for the kiosk's health: the checks a freshly started
//! release passes before an update is committed (it prices a test order, a quote with no
//! fiscal trace, and reaches its receipt printer and its payment terminal), and how the day
//! stands for the heartbeat.

use kiosk_core::cart::{Cart, CartLine};
use kiosk_core::menu::ConsumptionMode;
use kiosk_core::money::Money;
use kiosk_core::payment::{AttemptKey, StatusReply};
use kiosk_core::status::DayStatus;

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

impl Engine {
    /// How the day stands: the real orders paid, what they came to, the journal's last entry
    /// and key, the menu in use. Reads only.
    pub async fn day_status(&self) -> crate::Result<DayStatus> {
        let business_day = crate::clock::business_date(&self.now());
        let menu = match self.active_menu().await {
            Ok(menu) => Some(menu),
            Err(crate::EngineError::NoMenu) => None,
            Err(error) => return Err(error),
        };
        let mut conn = self.store.read().await?;
        let (paid_orders, revenue, last_order_at) = kiosk_store::orders::paid_on(&mut conn, &business_day).await?;
        let journal_last = kiosk_store::journal::tail(&mut conn, kiosk_store::journal::Chain::Fiscal).await?;
        Ok(DayStatus {
            business_day,
            paid_orders,
            revenue,
            currency: menu.as_ref().map(|menu| menu.menu.venue.currency),
            last_order_at,
            journal_last,
            journal_key_fingerprint: self.journal_key_fingerprint(),
            menu_version: menu.as_ref().map(|menu| menu.version),
            menu_label: menu.map(|menu| menu.label.clone()),
        })
    }
}
