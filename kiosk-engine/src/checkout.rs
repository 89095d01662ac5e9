//! Placing orders and carrying payments out: the core's payment state machine decides, this
//! module does what it says against the store and the terminal, in order.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kiosk_core::cart::Cart;
use kiosk_core::journal::{self, ChainTail, EntryKind, JournalEntry};
use kiosk_core::order::OrderStatus;
use kiosk_core::payment::{
    Approval, AttemptKey, Effect, NotCharged, PayReply, Payment, PaymentEvent, PaymentState, Standing, StatusReply,
};
use kiosk_core::pricing::{self, Quote, SaleContext};
use kiosk_core::report::{SaleFacts, SoldLine, VoidFacts};
use kiosk_core::staff::Permission;
use kiosk_core::stock::{StockNeeds, alert_after_sale, check_available};
use kiosk_devices::terminal::{PaymentRequest, PaymentTerminal};
use kiosk_store::journal::Chain;
use kiosk_store::orders::{NewOrder, StoredOrder};
use kiosk_store::payments::{ApprovalWrite, NewAttempt, StoredAttempt};
use kiosk_store::stock::Taken;
use kiosk_store::{StoreError, commit, journal as journal_table, orders, payments, stock};
use serde::Serialize;

use crate::clock::{business_date, local_moment, timestamp};
use crate::{Actor, Engine, EngineError, Result, process};

/// How often an approval is relinked when other writers keep appending to the journal.
const JOURNAL_RACE_TRIES: u32 = 5;
/// How often a payment in doubt is asked about before it is left in doubt for later.
const STATUS_QUERIES: u32 = 3;

/// An order recorded and numbered, not paid yet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlacedOrder {
    pub id: i64,
    pub number: String,
    pub quote: Quote,
    /// A training sale: paid on a simulator, kept out of the fiscal journal.
    pub training: bool,
}

/// How a payment ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PaymentOutcome {
    Paid {
        approval: Approval,
    },
    NotCharged {
        reason: NotCharged,
    },
    /// The terminal could not say yet; the stock stays held and the engine asks again at the
    /// next start or [`Engine::resolve_unresolved_payments`]. Never ask the customer to pay
    /// again.
    InDoubt,
}

/// What resolving unresolved payments found, by order number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryReport {
    pub paid: Vec<String>,
    pub not_charged: Vec<String>,
    pub still_in_doubt: Vec<String>,
    /// Being carried out by a process that is still running (or by this engine): left to it.
    pub running_elsewhere: Vec<String>,
    /// Refunds the terminal turned out to have made.
    pub refunded: Vec<String>,
    /// Refunds the terminal turned out not to have made.
    pub refund_not_made: Vec<String>,
    /// Orders to pay at the counter that ran out of time (at start only).
    pub expired_counter_orders: Vec<String>,
}

/// An order with its payment attempts.
#[derive(Clone, Debug)]
pub struct OrderDetails {
    pub order: StoredOrder,
    pub attempts: Vec<StoredAttempt>,
}

impl OrderDetails {
    /// How the order's payment stands, from its payment attempts (refunds aside).
    pub fn payment(&self) -> Standing {
        Standing::of(self.attempts.iter().filter(|attempt| attempt.refund.is_none()).map(|attempt| &attempt.state))
    }
}

impl Engine {
    /// Prices a cart against the menu in use, the time and the stock.
    pub async fn quote(&self, cart: &Cart) -> Result<Quote> {
        let menu = self.active_menu().await?;
        let mut conn = self.store.read().await?;
        let levels = stock::levels(&mut conn).await?;
        let promo_uses = promo_uses(&mut conn, cart).await?;
        let context = SaleContext { moment: local_moment(&self.now()), stock: &levels, promo_uses };
        Ok(pricing::quote(&menu.menu, cart, context)?)
    }

    /// Records an order for a cart with the next number of the day; nothing is held or paid.
    pub async fn place_order(&self, cart: &Cart) -> Result<PlacedOrder> {
        self.place(cart, Placement::PayHere).await
    }

    /// Records an order, holding its stock when the customer pays at the counter.
    pub(crate) async fn place(&self, cart: &Cart, placement: Placement) -> Result<PlacedOrder> {
        // A sale is journaled: none while the journal key is not the registered one.
        self.check_journal_key()?;
        let menu = self.active_menu().await?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let training = self.training_in(&mut tx).await?.is_some();
        let levels = stock::levels(&mut tx).await?;
        let promo_uses = promo_uses(&mut tx, cart).await?;
        let context = SaleContext { moment: local_moment(&now), stock: &levels, promo_uses };
        let quote = pricing::quote(&menu.menu, cart, context)?;
        let counter_until = match placement {
            Placement::PayHere => None,
            Placement::PayAtCounter => {
                Some(now.to_utc() + chrono::Duration::minutes(self.device.counter_order_minutes.into()))
            }
        };
        let day = business_date(&now);
        // Training orders are numbered apart ("TA001"), so that the fiscal numbering has no gaps.
        let number = if training {
            format!(
                "T{}",
                self.device.order_prefix.number(orders::next_sequence(&mut tx, &format!("training:{day}")).await?)
            )
        } else {
            self.device.order_prefix.number(orders::next_sequence(&mut tx, &day).await?)
        };
        let receipt_token = hex::encode(
            process::random_bytes::<16>().map_err(|error| EngineError::File { path: "/dev/urandom".into(), error })?,
        );
        let id = orders::insert(
            &mut tx,
            NewOrder {
                number: &number,
                business_date: &day,
                menu_version: menu.version,
                quote: &quote,
                counter_until,
                receipt_token: &receipt_token,
                training,
                now: &timestamp(&now),
            },
        )
        .await?;
        if counter_until.is_some() {
            self.hold_stock(&mut tx, &counter_holder(id), &quote.needs, &levels).await?;
        }
        commit(tx, "committing an order").await?;
        Ok(PlacedOrder { id, number, quote, training })
    }

    /// Takes payment for a placed order on the terminal.
    pub async fn pay(&self, order_id: i64) -> Result<PaymentOutcome> {
        self.terminals("take payments")?;
        let mut conn = self.store.read().await?;
        let order =
            orders::get(&mut conn, order_id).await?.ok_or_else(|| EngineError::OrderNotFound(order_id.to_string()))?;
        let attempts = payments::for_order(&mut conn, order.id).await?;
        drop(conn);
        check_payable(&order, &attempts)?;
        let attempt = u32::try_from(attempts.len() + 1).expect("attempts per order stay few");
        let key = AttemptKey::new(&self.device.kiosk_id, self.store.database_id(), order.id, attempt);
        self.drive(&order, Payment::new(key, order.total), PaymentEvent::Start, &Purpose::Payment).await
    }

    /// Places an order for the cart and pays it in one go; an order that ends up not charged
    /// is cancelled. (A screen that lets the customer try another card calls
    /// [`Engine::place_order`] and [`Engine::pay`] itself.)
    pub async fn checkout(&self, cart: &Cart) -> Result<(PlacedOrder, PaymentOutcome)> {
        self.terminals("take payments")?;
        let placed = self.place_order(cart).await?;
        let outcome = self.pay(placed.id).await?;
        if matches!(outcome, PaymentOutcome::NotCharged { .. }) {
            self.change_order_status(&Actor::Kiosk, placed.id, OrderStatus::Cancelled).await?;
        }
        Ok((placed, outcome))
    }

    /// Moves an order on by hand: a paid order to the kitchen or completed, a placed order
    /// with no payment under way to cancelled. Paying is left to approvals.
    pub async fn change_order_status(&self, actor: &Actor, order_id: i64, next: OrderStatus) -> Result<()> {
        // Voiding is a manager's call (a void instead of a sale hides cash); the kiosk voids on
        // its own only what never got paid (a declined card, an expired counter order).
        if next == OrderStatus::Cancelled && *actor != Actor::Kiosk {
            self.require(actor, Permission::Void).await?;
        }
        let mut tx = self.store.write().await?;
        let order =
            orders::get(&mut tx, order_id).await?.ok_or_else(|| EngineError::OrderNotFound(order_id.to_string()))?;
        if !order.status.may_be_set_to(next) {
            return Err(EngineError::OrderStatusChange { number: order.number, from: order.status, to: next });
        }
        if payments::for_order(&mut tx, order_id).await?.iter().any(|a| !a.state.is_final()) {
            return Err(EngineError::PaymentInDoubt(order.number));
        }
        orders::set_status(&mut tx, order_id, next, &timestamp(&self.now())).await?;
        if next == OrderStatus::Cancelled {
            stock::release(&mut tx, &counter_holder(order.id)).await?;
            let facts = VoidFacts {
                order: order.number.clone(),
                order_id: order.id,
                business_date: order.business_date.clone(),
                currency: order.currency.code().to_owned(),
                total: order.total,
                by: actor.to_string(),
            };
            let payload = serde_json::to_string(&facts).expect("facts serialize");
            self.append_journal(&mut tx, Chain::of(order.training), EntryKind::OrderVoided, payload).await?;
        }
        self.record_action(&mut tx, actor, "order.status", &format!("{} {} -> {next}", order.number, order.status))
            .await?;
        commit(tx, "changing an order's status").await?;
        Ok(())
    }

    /// Asks the terminal to abandon the payment an order is waiting on; the pending
    /// [`Engine::pay`] then returns how it ended (cancelled, or paid if the card was already
    /// accepted).
    pub async fn cancel_payment(&self, order_id: i64) -> Result<()> {
        self.terminals("cancel payments")?;
        let mut conn = self.store.read().await?;
        let order =
            orders::get(&mut conn, order_id).await?.ok_or_else(|| EngineError::OrderNotFound(order_id.to_string()))?;
        let open = payments::for_order(&mut conn, order_id).await?.into_iter().find(|a| !a.state.is_final());
        let attempt = open.ok_or_else(|| EngineError::NoPaymentToCancel(order.number.clone()))?;
        let mut payment = Payment { key: attempt.key, amount: attempt.amount, state: attempt.state };
        let effects = payment
            .apply(PaymentEvent::CancelRequested)
            .map_err(|_| EngineError::PaymentInDoubt(order.number.clone()))?;
        for effect in effects {
            if effect == Effect::RequestCancel {
                self.terminal_for(&order)?.cancel(&payment.key).await;
            }
        }
        Ok(())
    }

    /// Asks the terminal about every payment whose outcome is not recorded (after a crash, a
    /// lost response or an unreachable terminal) and settles each one.
    pub async fn resolve_unresolved_payments(&self) -> Result<RecoveryReport> {
        self.terminals("settle payments")?;
        let unresolved = payments::unresolved(&mut *self.store.read().await?).await?;
        let mut report = RecoveryReport::default();
        for attempt in unresolved {
            let order = orders::get(&mut *self.store.read().await?, attempt.order_id)
                .await?
                .ok_or_else(|| EngineError::OrderNotFound(attempt.order_id.to_string()))?;
            // A requested attempt is being carried out by its owner while that runs; one in
            // doubt is anyone's to settle (every asker gets the terminal's same answer).
            let in_flight_here = self.in_flight.lock().expect("in-flight lock").contains(&attempt.key);
            let owner_at_it = attempt.state == PaymentState::Requested
                && attempt.owner != self.owner
                && process::is_running(&attempt.owner);
            if in_flight_here || owner_at_it {
                report.running_elsewhere.push(order.number);
                continue;
            }
            let purpose = match &attempt.refund {
                Some(refund) => Purpose::Refund(Box::new(
                    serde_json::from_str(refund)
                        .map_err(|e| StoreError::Corrupt(format!("refund {}: {e}", attempt.key)))?,
                )),
                None => Purpose::Payment,
            };
            let payment = Payment { key: attempt.key, amount: attempt.amount, state: attempt.state };
            let number = order.number.clone();
            let is_refund = matches!(purpose, Purpose::Refund(_));
            match self.drive(&order, payment, PaymentEvent::Restarted, &purpose).await? {
                PaymentOutcome::Paid { .. } if is_refund => report.refunded.push(number),
                PaymentOutcome::Paid { .. } => report.paid.push(number),
                PaymentOutcome::NotCharged { .. } if is_refund => report.refund_not_made.push(number),
                PaymentOutcome::NotCharged { .. } => report.not_charged.push(number),
                PaymentOutcome::InDoubt => report.still_in_doubt.push(number),
            }
        }
        if report != RecoveryReport::default() {
            log::warn!("resolved unresolved payments: {report:?}");
        }
        Ok(report)
    }

    /// The latest order numbered `number` (numbers start again each business day).
    pub async fn order_by_number(&self, number: &str) -> Result<OrderDetails> {
        let mut conn = self.store.read().await?;
        let order =
            orders::by_number(&mut conn, number).await?.ok_or_else(|| EngineError::OrderNotFound(number.to_owned()))?;
        details(&mut conn, order).await
    }

    /// The order with this id, exactly: what a process that placed it follows.
    pub async fn order(&self, id: i64) -> Result<OrderDetails> {
        let mut conn = self.store.read().await?;
        let order = orders::get(&mut conn, id).await?.ok_or_else(|| EngineError::OrderNotFound(id.to_string()))?;
        details(&mut conn, order).await
    }

    /// The latest orders, newest first.
    pub async fn latest_orders(&self, limit: u32) -> Result<Vec<StoredOrder>> {
        Ok(orders::latest(&mut *self.store.read().await?, limit).await?)
    }

    /// Runs the payment state machine from `event` until it has nothing left to do; a refund
    /// runs the same machine, with money going the other way.
    pub(crate) async fn drive(
        &self,
        order: &StoredOrder,
        mut payment: Payment,
        event: PaymentEvent,
        purpose: &Purpose,
    ) -> Result<PaymentOutcome> {
        let _in_flight = InFlight::register(self, &payment.key);
        let mut events = VecDeque::from([event]);
        while let Some(event) = events.pop_front() {
            for effect in payment.apply(event)? {
                match effect {
                    Effect::RecordAttempt => match purpose {
                        Purpose::Payment => self.record_attempt(order, &payment).await?,
                        Purpose::Refund(refund) => self.record_refund(order, &payment, refund).await?,
                    },
                    Effect::RequestPayment if payment.amount.is_zero() => {
                        // Nothing to take (a 100% promotion): no terminal is asked.
                        let approval = Approval::new(format!("FREE-{}", order.number), "none".into(), None);
                        events.push_back(PaymentEvent::Paid(PayReply::Approved(approval)))
                    }
                    Effect::RequestPayment => {
                        let reply = match purpose {
                            Purpose::Payment => self.request_payment(order, &payment).await?,
                            Purpose::Refund(refund) => self.request_refund(order, &payment, refund).await?,
                        };
                        events.push_back(PaymentEvent::Paid(reply))
                    }
                    Effect::RequestCancel => self.terminal_for(order)?.cancel(&payment.key).await,
                    Effect::QueryStatus => {
                        events.push_back(PaymentEvent::Status(self.query_status(order, &payment.key).await?))
                    }
                    Effect::RecordInDoubt => self.record_state(&payment).await?,
                    Effect::CommitApproval(approval) => {
                        let committed = match purpose {
                            Purpose::Payment => self.commit_approval(order, &payment, &approval).await,
                            Purpose::Refund(refund) => self.commit_refund(order, &payment, &approval, refund).await,
                        };
                        if committed.is_ok() && matches!(purpose, Purpose::Payment) {
                            self.after_sale(order.id).await;
                        }
                        if let Err(EngineError::Store(StoreError::AttemptSettled(_))) = committed {
                            // Another process recorded the terminal's same answer first.
                            log::info!(
                                order = order.number.as_str(), attempt = payment.key.as_str();
                                "order {}: approval {} was recorded elsewhere",
                                order.number,
                                approval.reference
                            );
                        } else if let Err(error) = committed {
                            // The terminal took the money: the attempt stays unresolved and the
                            // next resolution commits it. Never report it as failed.
                            log::error!(
                                order = order.number.as_str(), attempt = payment.key.as_str();
                                "order {}: approval {} not recorded yet: {error}",
                                order.number,
                                approval.reference
                            );
                            return Ok(PaymentOutcome::InDoubt);
                        }
                    }
                    Effect::ReleaseHold(_) => match self.release_hold(&payment).await {
                        // Another process recorded the terminal's same answer first.
                        Err(EngineError::Store(StoreError::AttemptSettled(_))) => {}
                        other => other?,
                    },
                }
            }
        }
        let outcome = match payment.state {
            PaymentState::Approved(approval) => PaymentOutcome::Paid { approval },
            PaymentState::NotCharged(reason) => PaymentOutcome::NotCharged { reason },
            PaymentState::New | PaymentState::Requested | PaymentState::InDoubt => PaymentOutcome::InDoubt,
        };
        // One line a payment or refund, its order and attempt as journal fields.
        let what = if matches!(purpose, Purpose::Payment) { "payment" } else { "refund" };
        let ended = match &outcome {
            PaymentOutcome::Paid { approval } => format!("approved, reference {}", approval.reference),
            PaymentOutcome::NotCharged { reason } => format!("not charged: {reason}"),
            PaymentOutcome::InDoubt => "in doubt".to_owned(),
        };
        log::info!(
            order = order.number.as_str(), attempt = payment.key.as_str();
            "order {}: {what} {ended}", order.number
        );
        Ok(outcome)
    }

    /// Holds the order's counted stock and records the attempt, durably, before the terminal
    /// hears of it.
    async fn record_attempt(&self, order: &StoredOrder, payment: &Payment) -> Result<()> {
        let needs = &order.quote.needs;
        let mut tx = self.store.write().await?;
        // Checked again here: a cancel or another payment may have come in since `pay` looked.
        let current =
            orders::get(&mut tx, order.id).await?.ok_or_else(|| EngineError::OrderNotFound(order.number.clone()))?;
        check_payable(&current, &payments::for_order(&mut tx, order.id).await?)?;
        let levels = stock::levels(&mut tx).await?;
        self.hold_stock(&mut tx, payment.key.as_str(), needs, &levels).await?;
        let attempt = NewAttempt {
            key: &payment.key,
            order_id: order.id,
            amount: payment.amount,
            method: "terminal",
            refund: None,
            owner: &self.owner,
            now: &timestamp(&self.now()),
        };
        payments::insert(&mut tx, &attempt).await.map_err(|error| match error {
            // The same key, recorded by a payment of this order that raced this one.
            StoreError::AttemptExists(_) => EngineError::PaymentInProgress,
            other => other.into(),
        })?;
        commit(tx, "recording a payment attempt").await?;
        Ok(())
    }

    /// Asks the terminal to pay.
    async fn request_payment(&self, order: &StoredOrder, payment: &Payment) -> Result<PayReply> {
        let request = PaymentRequest {
            key: payment.key.clone(),
            amount: payment.amount,
            currency: order.currency,
            at: timestamp(&self.now()),
        };
        self.within_terminal_timeout(self.terminal_for(order)?.pay(&request)).await
    }

    /// The terminal an order is paid on: a training sale never reaches the real one.
    pub(crate) fn terminal_for(&self, order: &StoredOrder) -> Result<&dyn PaymentTerminal> {
        let terminals = self.terminals("take payments")?;
        Ok(if order.training { terminals.training.as_ref() } else { terminals.till.as_ref() })
    }

    /// The terminals, or a refusal of `work` in an engine opened without payments. Checked
    /// before anything is recorded, so that such an engine never leaves an attempt behind.
    pub(crate) fn terminals(&self, work: &'static str) -> Result<&crate::Terminals> {
        self.terminals.as_ref().ok_or(EngineError::NoPayments(work))
    }

    /// Waits for the terminal's answer for the configured time; past it, reports no answer:
    /// the payment machine then aborts the transaction on the terminal and asks its status.
    pub(crate) async fn within_terminal_timeout(
        &self,
        answer: impl std::future::Future<Output = PayReply>,
    ) -> Result<PayReply> {
        let limit = Duration::from_secs(self.device.terminal_timeout_seconds);
        Ok(match tokio::time::timeout(limit, answer).await {
            Ok(reply) => reply,
            Err(_) => PayReply::NoAnswer(format!("no answer from the terminal within {}s", limit.as_secs())),
        })
    }

    /// Asks for a key's status a few times while the terminal is busy or unreachable.
    async fn query_status(&self, order: &StoredOrder, key: &AttemptKey) -> Result<StatusReply> {
        let terminal = self.terminal_for(order)?;
        let mut reply = terminal.status(key).await;
        for _ in 1..STATUS_QUERIES {
            if !matches!(reply, StatusReply::InProgress | StatusReply::Unreachable(_)) {
                break;
            }
            tokio::time::sleep(self.status_retry_delay).await;
            reply = terminal.status(key).await;
        }
        Ok(reply)
    }

    async fn record_state(&self, payment: &Payment) -> Result<()> {
        let mut tx = self.store.write().await?;
        payments::set_state(&mut tx, &payment.key, &payment.state, &timestamp(&self.now())).await?;
        commit(tx, "recording a payment state").await?;
        Ok(())
    }

    /// In one transaction: the approval, the paid order, the stock taken and the journal
    /// entry; then the stock alerts that sale caused.
    async fn commit_approval(&self, order: &StoredOrder, payment: &Payment, approval: &Approval) -> Result<()> {
        let now = timestamp(&self.now());
        let quote = &order.quote;
        let promo = quote.discount.as_ref().map(|d| d.code.clone());
        let payload = paid_entry_payload(order, &payment.key, approval, "terminal");
        let chain = Chain::of(order.training);
        let mut tries_left = JOURNAL_RACE_TRIES;
        let taken = loop {
            let tail = self.journal_tail(chain).await?;
            let entry = journal::next_entry(
                tail.as_ref(),
                EntryKind::OrderPaid,
                now.clone(),
                payload.clone(),
                &self.journal_key,
            );
            // Spawned so that a caller giving up cannot cut the batch short.
            let store = self.store.clone();
            let (key, approval, order_id, written, at, promo) =
                (payment.key.clone(), approval.clone(), order.id, entry.clone(), now.clone(), promo.clone());
            let started = Instant::now();
            let outcome = tokio::spawn(async move {
                let write = ApprovalWrite {
                    key: &key,
                    approval: &approval,
                    order_id,
                    promo: promo.as_deref(),
                    entry: &written,
                    chain,
                    now: &at,
                };
                payments::commit_approval(&store, &write).await
            })
            .await
            .expect("committing an approval does not panic");
            match outcome {
                Ok(taken) => {
                    self.record_approval_commit(started.elapsed());
                    self.journal_tails.lock().expect("journal tails lock").insert(chain, Some(entry.tail()));
                    break taken;
                }
                Err(error) => {
                    self.journal_tails.lock().expect("journal tails lock").remove(&chain);
                    tries_left -= 1;
                    if !matches!(error, StoreError::JournalMoved) || tries_left == 0 {
                        return Err(error.into());
                    }
                }
            }
        };
        let alerted = async {
            let mut tx = self.store.write().await?;
            record_alerts(&mut tx, &taken, &now).await?;
            commit(tx, "recording stock alerts").await?;
            Ok::<(), EngineError>(())
        };
        if let Err(error) = alerted.await {
            // The sale is recorded; a lost alert must not turn it into a failure.
            log::error!("stock alerts not recorded: {error}");
        }
        Ok(())
    }

    /// Checks that `needs` can be held now and holds the counted ones for `holder`.
    async fn hold_stock(
        &self,
        tx: &mut kiosk_store::Connection,
        holder: &str,
        needs: &StockNeeds,
        levels: &kiosk_core::stock::StockLevels,
    ) -> Result<()> {
        check_available(needs, levels)?;
        for (item, &units) in needs {
            if levels.get(item.as_str()).is_some() {
                stock::hold(tx, holder, item, units).await?;
            }
        }
        Ok(())
    }

    /// Appends an entry to a chain inside a write transaction (which orders writers, so the
    /// tail read here is the tail). The cached tail is dropped: the next approval reads it
    /// again.
    pub(crate) async fn append_journal(
        &self,
        tx: &mut kiosk_store::Connection,
        chain: Chain,
        kind: EntryKind,
        payload: String,
    ) -> Result<JournalEntry> {
        let tail = journal_table::tail(tx, chain).await?;
        let entry = journal::next_entry(tail.as_ref(), kind, timestamp(&self.now()), payload, &self.journal_key);
        journal_table::append(tx, chain, &entry).await?;
        self.journal_tails.lock().expect("journal tails lock").remove(&chain);
        Ok(entry)
    }

    /// The end of a chain as this process last wrote it, read from the store when not known
    /// (at start, or after another writer moved it).
    async fn journal_tail(&self, chain: Chain) -> Result<Option<ChainTail>> {
        if let Some(tail) = self.journal_tails.lock().expect("journal tails lock").get(&chain) {
            return Ok(tail.clone());
        }
        let tail = journal_table::tail(&mut *self.store.read().await?, chain).await?;
        self.journal_tails.lock().expect("journal tails lock").insert(chain, tail.clone());
        Ok(tail)
    }

    async fn release_hold(&self, payment: &Payment) -> Result<()> {
        let mut tx = self.store.write().await?;
        payments::set_state(&mut tx, &payment.key, &payment.state, &timestamp(&self.now())).await?;
        stock::release(&mut tx, payment.key.as_str()).await?;
        commit(tx, "releasing a payment's stock").await?;
        Ok(())
    }
}

/// Refuses to pay an order that is not waiting for payment here (one to pay at the counter
/// holds its stock for staff to settle), or has a payment unresolved.
fn check_payable(order: &StoredOrder, attempts: &[StoredAttempt]) -> Result<()> {
    if order.status != OrderStatus::Placed {
        return Err(EngineError::OrderNotPayable { number: order.number.clone(), status: order.status.to_string() });
    }
    if order.counter_until.is_some() {
        return Err(EngineError::OrderNotPayable {
            number: order.number.clone(),
            status: "waiting to be paid at the counter".into(),
        });
    }
    if attempts.iter().any(|a| !a.state.is_final()) {
        return Err(EngineError::PaymentInDoubt(order.number.clone()));
    }
    Ok(())
}

/// Marks an attempt as being carried out by this engine for as long as it lives.
struct InFlight<'e> {
    engine: &'e Engine,
    key: AttemptKey,
}

impl<'e> InFlight<'e> {
    fn register(engine: &'e Engine, key: &AttemptKey) -> InFlight<'e> {
        engine.in_flight.lock().expect("in-flight lock").insert(key.clone());
        InFlight { engine, key: key.clone() }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.engine.in_flight.lock().expect("in-flight lock").remove(&self.key);
    }
}

/// How a new order will be paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// On the kiosk's terminal, right away: nothing is held until paying starts.
    PayHere,
    /// At the counter, later: the stock is held until staff settle it or it expires.
    PayAtCounter,
}

/// The holder of the stock an order to pay at the counter keeps.
pub(crate) fn counter_holder(order_id: i64) -> String {
    format!("counter:{order_id}")
}

/// What the journal records of a paid order, from the quote it was placed with.
pub(crate) fn paid_entry_payload(order: &StoredOrder, key: &AttemptKey, approval: &Approval, method: &str) -> String {
    let facts = SaleFacts {
        order: order.number.clone(),
        order_id: order.id,
        business_date: order.business_date.clone(),
        currency: order.currency.code().to_owned(),
        total: order.total,
        tax: order.tax,
        method: method.to_owned(),
        payment_key: key.as_str().to_owned(),
        reference: approval.reference.clone(),
        lines: SoldLine::from_quote(&order.quote),
        discount: order.quote.discount.clone(),
        taxes: order.quote.taxes.clone(),
    };
    serde_json::to_string(&facts).expect("facts serialize")
}

/// Records the alerts a sale's stock changes cross into.
pub(crate) async fn record_alerts(tx: &mut kiosk_store::Connection, taken: &[Taken], now: &str) -> Result<()> {
    for taken in taken {
        if let Some(alert) = alert_after_sale(taken.before, taken.after, taken.low_threshold) {
            log::warn!("stock of {} is {} ({} left)", taken.item, alert.as_str(), taken.after);
            stock::record_alert(tx, &taken.item, alert, taken.after, now).await?;
        }
    }
    Ok(())
}

/// What a payment attempt is for.
#[derive(Clone, Debug)]
pub(crate) enum Purpose {
    Payment,
    Refund(Box<crate::refund::StoredRefund>),
}

/// An order with its payment attempts.
async fn details(conn: &mut kiosk_store::Connection, order: StoredOrder) -> Result<OrderDetails> {
    let attempts = payments::for_order(conn, order.id).await?;
    Ok(OrderDetails { order, attempts })
}

/// How often the cart's promo code was used already (0 without a code).
async fn promo_uses(conn: &mut kiosk_store::Connection, cart: &Cart) -> Result<u32> {
    match &cart.promo {
        Some(code) => Ok(kiosk_store::promos::uses(conn, &code.trim().to_ascii_uppercase()).await?),
        None => Ok(0),
    }
}
