//! Refunds: worked out by the core, then carried out like payments (recorded before the
//! terminal is asked, settled by its answer or by a status query after a crash), restocking
//! when asked, journaled.

use kiosk_core::journal::EntryKind;
use std::collections::BTreeMap;

use kiosk_core::money::{Money, TaxRate};
use kiosk_core::order::OrderStatus;
use kiosk_core::payment::{Approval, AttemptKey, PayReply, Payment, PaymentEvent, PaymentState};
use kiosk_core::refund::{LineUnits, RefundPlan, RefundScope, plan_refund};
use kiosk_core::report::RefundFacts;
use kiosk_core::staff::Permission;
use kiosk_devices::terminal::RefundRequest;
use kiosk_store::journal::Chain;
use kiosk_store::orders::StoredOrder;
use kiosk_store::payments::NewAttempt;
use kiosk_store::{StoreError, commit, orders, payments, staff as staff_table, stock};
use serde::{Deserialize, Serialize};

use crate::checkout::Purpose;
use crate::clock::timestamp;
use crate::{Actor, Engine, EngineError, PaymentOutcome, Result};

/// A refund as recorded with its attempt, so that a restart can finish it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRefund {
    plan: RefundPlan,
    restock: bool,
    /// The payment refunded: its key, the terminal's reference and the time the terminal
    /// gave it (unknown for payments recorded before those times were kept), and how it was
    /// taken.
    #[serde(default)]
    original_key: Option<AttemptKey>,
    original_reference: String,
    #[serde(default)]
    original_time: Option<String>,
    method: String,
    /// Who asked for it.
    by: String,
}

impl Engine {
    /// Gives money back for a paid order, whole or some units of some lines, the way it was
    /// paid: on the terminal for a card payment at the kiosk, at once for money taken at the
    /// counter. `restock` puts the refunded units back on the shelf. Managers only.
    pub async fn refund(
        &self,
        actor: &Actor,
        order_id: i64,
        scope: &RefundScope,
        restock: bool,
    ) -> Result<PaymentOutcome> {
        self.require(actor, Permission::Refund).await?;
        self.check_journal_key()?;
        let mut conn = self.store.read().await?;
        let order =
            orders::get(&mut conn, order_id).await?.ok_or_else(|| EngineError::OrderNotFound(order_id.to_string()))?;
        if !order.status.is_refundable() {
            return Err(EngineError::NotRefundable { number: order.number, status: order.status.to_string() });
        }
        let attempts = payments::for_order(&mut conn, order.id).await?;
        drop(conn);
        if attempts.iter().any(|a| !a.state.is_final()) {
            return Err(EngineError::PaymentInDoubt(order.number));
        }
        let paid = attempts
            .iter()
            .find_map(|a| match (&a.state, &a.refund) {
                (PaymentState::Approved(approval), None) => {
                    Some((a.key.clone(), approval.reference.clone(), approval.terminal_time.clone(), a.method.clone()))
                }
                _ => None,
            })
            .ok_or_else(|| StoreError::Corrupt(format!("paid order {} has no approved payment", order.number)))?;
        let mut refunded_before: Vec<LineUnits> = Vec::new();
        let mut refunded_by_rate_before: BTreeMap<TaxRate, Money> = BTreeMap::new();
        for earlier in attempts.iter().filter(|a| matches!(a.state, PaymentState::Approved(_))) {
            if let Some(text) = &earlier.refund {
                let earlier: StoredRefund = serde_json::from_str(text)
                    .map_err(|e| StoreError::Corrupt(format!("refund {}: {e}", earlier.key)))?;
                for (rate, amount) in &earlier.plan.by_rate {
                    *refunded_by_rate_before.entry(*rate).or_default() += *amount;
                }
                refunded_before.extend(earlier.plan.lines);
            }
        }
        let quote = &order.quote;
        let plan = plan_refund(quote, &refunded_before, &refunded_by_rate_before, scope)?;
        let (original_key, original_reference, original_time, method) = paid;
        let refund = StoredRefund {
            plan,
            restock,
            original_key: Some(original_key),
            original_reference,
            original_time,
            method,
            by: actor.to_string(),
        };
        let attempt = u32::try_from(attempts.len() + 1).expect("attempts per order stay few");
        let key = AttemptKey::new(&self.device.kiosk_id, self.store.database_id(), order.id, attempt);
        let payment = Payment::new(key, refund.plan.amount);
        if refund.method == "terminal" {
            self.terminals("refund on the terminal")?;
            return self.drive(&order, payment, PaymentEvent::Start, &Purpose::Refund(Box::new(refund))).await;
        }
        // Money taken at the counter goes back at the counter, now: nothing to ask a terminal,
        // so the refund is recorded and settled in one transaction.
        let approval = Approval::new(format!("COUNTER-REFUND-{}", order.number), refund.method.clone(), None);
        let mut tx = self.store.write().await?;
        self.insert_refund(&mut tx, &order, &payment, &refund).await?;
        let payment = Payment { state: PaymentState::Approved(approval.clone()), ..payment };
        self.write_refund(&mut tx, &order, &payment, &approval, &refund).await?;
        commit(tx, "settling a counter refund").await?;
        Ok(PaymentOutcome::Paid { approval })
    }

    /// Records the refund attempt before the terminal hears of it.
    pub(crate) async fn record_refund(
        &self,
        order: &StoredOrder,
        payment: &Payment,
        refund: &StoredRefund,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        self.insert_refund(&mut tx, order, payment, refund).await?;
        commit(tx, "recording a refund").await?;
        Ok(())
    }

    async fn insert_refund(
        &self,
        tx: &mut kiosk_store::Connection,
        order: &StoredOrder,
        payment: &Payment,
        refund: &StoredRefund,
    ) -> Result<()> {
        let text = serde_json::to_string(refund).expect("a refund serializes");
        let now = timestamp(&self.now());
        let attempt = NewAttempt {
            key: &payment.key,
            order_id: order.id,
            amount: payment.amount,
            method: &refund.method,
            refund: Some(&text),
            owner: &self.owner,
            now: &now,
        };
        payments::insert(tx, &attempt).await.map_err(|error| match error {
            StoreError::AttemptExists(_) => EngineError::PaymentInProgress,
            other => other.into(),
        })
    }

    pub(crate) async fn request_refund(
        &self,
        order: &StoredOrder,
        payment: &Payment,
        refund: &StoredRefund,
    ) -> Result<PayReply> {
        let request = RefundRequest {
            key: payment.key.clone(),
            amount: payment.amount,
            currency: order.currency,
            original_key: refund.original_key.clone(),
            original_reference: refund.original_reference.clone(),
            original_time: refund.original_time.clone(),
            at: timestamp(&self.now()),
        };
        self.within_terminal_timeout(self.terminal_for(order)?.refund(&request)).await
    }

    /// In one transaction: the refund approved, the units back on the shelf if asked, the
    /// order refunded when nothing is left of it, the journal entry and who asked.
    pub(crate) async fn commit_refund(
        &self,
        order: &StoredOrder,
        payment: &Payment,
        approval: &Approval,
        refund: &StoredRefund,
    ) -> Result<()> {
        let mut tx = self.store.write().await?;
        self.write_refund(&mut tx, order, payment, approval, refund).await?;
        commit(tx, "committing a refund").await?;
        Ok(())
    }

    async fn write_refund(
        &self,
        tx: &mut kiosk_store::Connection,
        order: &StoredOrder,
        payment: &Payment,
        approval: &Approval,
        refund: &StoredRefund,
    ) -> Result<()> {
        let now = timestamp(&self.now());
        payments::set_state(&mut *tx, &payment.key, &payment.state, &now).await?;
        // A training sale took no stock: there is nothing to put back.
        if refund.restock && !order.training {
            stock::give_back(&mut *tx, &refund.plan.returns, &now).await?;
        }
        if refund.plan.completes_order {
            orders::set_status(&mut *tx, order.id, OrderStatus::Refunded, &now).await?;
        }
        let facts = RefundFacts {
            order: order.number.clone(),
            order_id: order.id,
            business_date: order.business_date.clone(),
            currency: order.currency.code().to_owned(),
            amount: refund.plan.amount,
            by_rate: refund.plan.by_rate.clone(),
            lines: refund.plan.lines.clone(),
            restocked: refund.restock,
            method: refund.method.clone(),
            refund_key: payment.key.as_str().to_owned(),
            reference: approval.reference.clone(),
            by: refund.by.clone(),
        };
        let payload = serde_json::to_string(&facts).expect("facts serialize");
        self.append_journal(&mut *tx, Chain::of(order.training), EntryKind::Refund, payload).await?;
        let restocked = if refund.restock { ", restocked" } else { "" };
        let detail = format!("{} {}{restocked}", order.number, refund.plan.amount);
        staff_table::record_action(&mut *tx, &refund.by, None, "order.refund", &detail, &now).await?;
        Ok(())
    }
}
