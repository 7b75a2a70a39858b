//! Idempotent charging: a ledger port that keeps each order's first charge outcome, and a
//! gateway decorator that consults it, so a retried or repeated charge for an order returns
//! the original outcome instead of charging again.

use std::future::Future;

use serde_json::{Value, json};

use crate::{
    CardBrand, Charge, ChargeId, ChargeOutcome, Order, OrderError, OrderId, PaymentGateway,
    PaymentToken, PaymentVerification, Verification, YearMonth,
};

/// One ledger entry: the charge as requested and what the gateway answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The order (the idempotency key).
    pub order_id: OrderId,
    /// The amount as text (`"19.99"`), compared exactly on a repeat.
    pub amount: String,
    /// The payment token charged.
    pub token: String,
    /// The gateway's answer.
    pub outcome: ChargeOutcome,
}

impl LedgerEntry {
    /// The entry for `charge` answered with `outcome`.
    pub fn new(charge: &Charge, outcome: ChargeOutcome) -> LedgerEntry {
        LedgerEntry {
            order_id: charge.order_id.clone(),
            amount: charge.amount.to_string(),
            token: charge.token.as_str().to_owned(),
            outcome,
        }
    }

    /// The entry as a flat JSON object of strings (`orderId`, `amount`, `token`, `outcome`
    /// `charged`/`declined`, `chargeId` or `reason`), the shape adapters store.
    pub fn to_json(&self) -> Value {
        let mut record = json!({
            "orderId": self.order_id.as_str(),
            "amount": self.amount,
            "token": self.token,
        });
        match &self.outcome {
            ChargeOutcome::Charged(id) => {
                record["outcome"] = json!("charged");
                record["chargeId"] = json!(id.as_str());
            }
            ChargeOutcome::Declined { reason } => {
                record["outcome"] = json!("declined");
                record["reason"] = json!(reason);
            }
        }
        record
    }

    /// Reads back [`LedgerEntry::to_json`] for `order_id`; an unreadable entry is
    /// [`OrderError::ServiceFault`]: the ledger, not the caller, is at fault, and reading it
    /// again would give the same entry.
    pub fn from_json(order_id: &OrderId, record: &Value) -> Result<LedgerEntry, OrderError> {
        let text = |name: &str| record.get(name).and_then(Value::as_str);
        let outcome = match (text("outcome"), text("chargeId"), text("reason")) {
            (Some("charged"), Some(id), _) => Some(ChargeOutcome::Charged(ChargeId::new(id))),
            (Some("declined"), _, Some(reason)) => Some(ChargeOutcome::Declined {
                reason: reason.to_owned(),
            }),
            _ => None,
        };
        match (text("amount"), text("token"), outcome) {
            (Some(amount), Some(token), Some(outcome)) => Ok(LedgerEntry {
                order_id: order_id.clone(),
                amount: amount.to_owned(),
                token: token.to_owned(),
                outcome,
            }),
            _ => Err(OrderError::ServiceFault {
                service: "payment ledger",
                reason: format!("the ledger entry of order {order_id} is unreadable"),
            }),
        }
    }

    /// Whether this entry is for the same charge (amount and token) as `charge`.
    fn same_charge(&self, charge: &Charge) -> bool {
        self.amount == charge.amount.to_string() && self.token == charge.token.as_str()
    }
}

/// Where charge outcomes are kept, one per order id, across processes and retries.
pub trait ChargeLedger: Send + Sync {
    /// The entry recorded for `order_id`, if any.
    fn get(
        &self,
        order_id: &OrderId,
    ) -> impl Future<Output = Result<Option<LedgerEntry>, OrderError>> + Send;

    /// Records `entry` unless the order has one already, atomically; returns the entry that
    /// is recorded: `entry` itself, or the earlier one that won.
    fn record_if_absent(
        &self,
        entry: &LedgerEntry,
    ) -> impl Future<Output = Result<LedgerEntry, OrderError>> + Send;
}

/// A gateway whose charges go through a ledger: at most one charge per order id, and a
/// repeat answered with the first outcome. Reusing an order id for a different amount or
/// token is [`OrderError::IdempotencyConflict`].
///
/// Between the gateway's charge and the ledger's write a crash can still lose the outcome;
/// a gateway that takes the order id as its own idempotency key (as payment providers do)
/// closes that gap, and the simulated one does.
pub struct LedgerGateway<G, L> {
    inner: G,
    ledger: L,
}

impl<G: PaymentGateway, L: ChargeLedger> LedgerGateway<G, L> {
    /// `inner`, charging at most once per order id as `ledger` records.
    pub fn new(inner: G, ledger: L) -> Self {
        LedgerGateway { inner, ledger }
    }

    /// The ledger.
    pub fn ledger(&self) -> &L {
        &self.ledger
    }
}

fn answer(charge: &Charge, entry: LedgerEntry) -> Result<ChargeOutcome, OrderError> {
    if entry.same_charge(charge) {
        Ok(entry.outcome)
    } else {
        Err(OrderError::IdempotencyConflict {
            order_id: charge.order_id.to_string(),
        })
    }
}

impl<G: PaymentGateway, L: ChargeLedger> PaymentGateway for LedgerGateway<G, L> {
    async fn verify(&self, order: &Order, brand: CardBrand) -> Result<Verification, OrderError> {
        self.inner.verify(order, brand).await
    }

    async fn verify_token(
        &self,
        order: &Order,
        token: &PaymentToken,
        today: YearMonth,
    ) -> Result<PaymentVerification, OrderError> {
        self.inner.verify_token(order, token, today).await
    }

    async fn charge(&self, charge: &Charge) -> Result<ChargeOutcome, OrderError> {
        if let Some(entry) = self.ledger.get(&charge.order_id).await? {
            return answer(charge, entry);
        }
        let outcome = self.inner.charge(charge).await?;
        // Two callers may both get here for one order; the ledger keeps the first outcome
        // and the second answers with it.
        let recorded = self
            .ledger
            .record_if_absent(&LedgerEntry::new(charge, outcome))
            .await?;
        answer(charge, recorded)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use serde_json::json;

    use super::*;
    use crate::{ChargeRequest, SimulatedGateway, Simulation};

    #[derive(Default)]
    struct MemoryLedger(Mutex<HashMap<String, LedgerEntry>>);

    impl ChargeLedger for MemoryLedger {
        async fn get(&self, order_id: &OrderId) -> Result<Option<LedgerEntry>, OrderError> {
            Ok(self
                .0
                .lock()
                .ok()
                .and_then(|m| m.get(order_id.as_str()).cloned()))
        }

        async fn record_if_absent(&self, entry: &LedgerEntry) -> Result<LedgerEntry, OrderError> {
            let mut map = self.0.lock().map_err(|_| OrderError::Unavailable {
                service: "payment ledger",
                reason: "poisoned".into(),
            })?;
            Ok(map
                .entry(entry.order_id.as_str().to_owned())
                .or_insert_with(|| entry.clone())
                .clone())
        }
    }

    /// Counts the charges that reach the gateway.
    struct Counting(SimulatedGateway, AtomicU32);

    impl PaymentGateway for Counting {
        async fn verify(
            &self,
            order: &Order,
            brand: CardBrand,
        ) -> Result<Verification, OrderError> {
            self.0.verify(order, brand).await
        }
        async fn charge(&self, charge: &Charge) -> Result<ChargeOutcome, OrderError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            // A fresh gateway each time: only the ledger can make a repeat idempotent.
            SimulatedGateway::new(Simulation::Deterministic)
                .charge(charge)
                .await
        }
    }

    fn charge(amount: f64, token: &str) -> Charge {
        Charge::try_from(ChargeRequest::new(json!({
            "orderId": "o-1", "customerId": "c-1", "amount": amount, "paymentToken": token
        })))
        .expect("a valid charge")
    }

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        futures::executor::block_on(future)
    }

    #[test]
    fn a_repeat_answers_the_first_outcome_and_charges_once() {
        let gateway = LedgerGateway::new(
            Counting(
                SimulatedGateway::new(Simulation::Deterministic),
                AtomicU32::new(0),
            ),
            MemoryLedger::default(),
        );
        let first =
            block_on(gateway.charge(&charge(5.0, "tok_sim_0123456789abcdef"))).expect("charged");
        let again =
            block_on(gateway.charge(&charge(5.0, "tok_sim_0123456789abcdef"))).expect("answered");
        assert_eq!(first, again);
        assert_eq!(gateway.inner.1.load(Ordering::Relaxed), 1);
        let other = block_on(gateway.charge(&charge(6.0, "tok_sim_0123456789abcdef")))
            .expect_err("conflict");
        assert_eq!(other.name(), "ValidationError");
    }

    #[test]
    fn entries_round_trip_and_bad_ones_are_unavailable() {
        let entry = LedgerEntry::new(
            &charge(5.0, "tok_sim_0123456789abcdef"),
            ChargeOutcome::Declined {
                reason: "no".into(),
            },
        );
        let order_id = entry.order_id.clone();
        assert_eq!(
            LedgerEntry::from_json(&order_id, &entry.to_json()),
            Ok(entry)
        );
        let bad = LedgerEntry::from_json(&order_id, &json!({"outcome": "charged"}));
        assert_eq!(bad.map_err(|e| e.name()), Err("ServiceFault"));
    }
}
