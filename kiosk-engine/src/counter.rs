//! "Pay at the counter": the order gets its number and holds its stock; staff settle it in
//! cash or by card at the counter, or it expires and its stock goes back.

use kiosk_core::cart::Cart;
use kiosk_core::journal::EntryKind;
use kiosk_core::order::OrderStatus;
use kiosk_core::payment::{Approval, AttemptKey, PaymentState};
use kiosk_core::staff::Permission;
use kiosk_store::journal::Chain;
use kiosk_store::payments::NewAttempt;
use kiosk_store::{commit, orders, payments, promos, stock};

use crate::checkout::{Placement, counter_holder, paid_entry_payload, record_alerts};
use crate::clock::timestamp;
use crate::{Actor, Engine, EngineError, PlacedOrder, Result};

/// How staff took the money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterPayment {
    Cash,
    Card,
}

impl CounterPayment {
    /// The payment method recorded (and reported apart from the kiosk's own terminal).
    pub fn method(self) -> &'static str {
        match self {
            CounterPayment::Cash => "counter_cash",
            CounterPayment::Card => "counter_card",
        }
    }

    fn scheme(self) -> &'static str {
        match self {
            CounterPayment::Cash => "cash",
            CounterPayment::Card => "card",
        }
    }
}

impl Engine {
    /// Places an order to be paid at the counter: numbered, its stock held for the
    /// configured time (`counter_order_minutes`).
    pub async fn place_counter_order(&self, cart: &Cart) -> Result<PlacedOrder> {
        self.place(cart, Placement::PayAtCounter).await
    }

    /// Staff took the money at the counter: in one transaction the payment, the stock taken,
    /// the paid order, the journal entry and who did it.
    pub async fn settle_counter_order(&self, actor: &Actor, order_id: i64, how: CounterPayment) -> Result<()> {
        self.require(actor, Permission::SettleCounter).await?;
        self.check_journal_key()?;
        let now = timestamp(&self.now());
        let mut tx = self.store.write().await?;
        let order =
            orders::get(&mut tx, order_id).await?.ok_or_else(|| EngineError::OrderNotFound(order_id.to_string()))?;
        if !order.status.awaits_counter_payment(order.counter_until.is_some()) {
            return Err(EngineError::NotACounterOrder { number: order.number, status: order.status.to_string() });
        }
        let attempts = payments::for_order(&mut tx, order.id).await?.len();
        let attempt = u32::try_from(attempts + 1).expect("attempts per order stay few");
        let key = AttemptKey::new(&self.device.kiosk_id, self.store.database_id(), order.id, attempt);
        let approval = Approval::new(format!("COUNTER-{}", order.number), how.scheme().to_owned(), None);
        let attempt = NewAttempt {
            key: &key,
            order_id: order.id,
            amount: order.total,
            method: how.method(),
            refund: None,
            owner: &actor.to_string(),
            now: &now,
        };
        payments::insert(&mut tx, &attempt).await?;
        payments::set_state(&mut tx, &key, &PaymentState::Approved(approval.clone()), &now).await?;
        let quote = &order.quote;
        // A training sale takes no stock and uses up no promotion: its holds only go.
        if order.training {
            stock::release(&mut tx, &counter_holder(order.id)).await?;
        } else {
            let taken = stock::take(&mut tx, &counter_holder(order.id), &now).await?;
            record_alerts(&mut tx, &taken, &now).await?;
            if let Some(discount) = &quote.discount {
                promos::count_use(&mut tx, &discount.code).await?;
            }
        }
        orders::set_status(&mut tx, order.id, OrderStatus::Paid, &now).await?;
        let payload = paid_entry_payload(&order, &key, &approval, how.method());
        self.append_journal(&mut tx, Chain::of(order.training), EntryKind::OrderPaid, payload).await?;
        self.record_action(
            &mut tx,
            actor,
            "order.settle",
            &format!("{} {} {}", order.number, how.scheme(), order.total),
        )
        .await?;
        commit(tx, "settling a counter order").await?;
        self.after_sale(order.id).await;
        Ok(())
    }

    /// Voids the counter orders whose time ran out, releasing their stock. Runs at start;
    /// the app and the agent call it from time to time.
    pub async fn expire_counter_orders(&self) -> Result<Vec<String>> {
        let now = self.now().to_utc();
        let expired = orders::expired_counter_orders(&mut *self.store.read().await?, now).await?;
        let mut numbers = Vec::with_capacity(expired.len());
        for order in expired {
            // Checked again in its own transaction: staff may have just settled it.
            match self.change_order_status(&Actor::Kiosk, order.id, OrderStatus::Cancelled).await {
                Ok(()) => {
                    log::info!("counter order {} expired unpaid: its stock is back", order.number);
                    numbers.push(order.number);
                }
                Err(error) => log::warn!("counter order {} not expired: {error}", order.number),
            }
        }
        Ok(numbers)
    }
}
