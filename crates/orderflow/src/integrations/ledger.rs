//! Charges at most once per order id across processes: a payment gateway wrapped with the
//! embedded store's charge ledger, so a repeated or retried charge for an order returns the
//! original outcome even when it comes from another `orderflow` process.

use orderflow_store::{ChargeOutcome as Recorded, Store};
use orders::{
    CardBrand, Charge, ChargeId, ChargeOutcome, Order, OrderError, PaymentGateway, Verification,
};
use serde_json::{Value, json};

/// A gateway whose charges go through the ledger.
pub struct LedgerGateway<G> {
    inner: G,
    store: Store,
}

impl<G: PaymentGateway> LedgerGateway<G> {
    /// `inner`, charging at most once per order id as recorded in `store`.
    pub fn new(inner: G, store: Store) -> Self {
        LedgerGateway { inner, store }
    }

    /// The recorded outcome for the charge's order, checked to be the same charge.
    fn recorded(&self, charge: &Charge) -> Result<Option<ChargeOutcome>, OrderError> {
        let existing = self
            .store
            .charge(charge.order_id.as_str())
            .map_err(unavailable)?;
        existing.map(|c| decode(charge, &c.record)).transpose()
    }
}

impl<G: PaymentGateway> PaymentGateway for LedgerGateway<G> {
    async fn verify(&self, order: &Order, brand: CardBrand) -> Result<Verification, OrderError> {
        self.inner.verify(order, brand).await
    }

    async fn charge(&self, charge: &Charge) -> Result<ChargeOutcome, OrderError> {
        if let Some(outcome) = self.recorded(charge)? {
            return Ok(outcome);
        }
        let outcome = self.inner.charge(charge).await?;
        // Two processes may both get here for one order; the ledger keeps the first outcome,
        // and the second process answers with it.
        match self
            .store
            .charge_once(charge.order_id.as_str(), &encode(charge, &outcome))
            .map_err(unavailable)?
        {
            Recorded::New => Ok(outcome),
            Recorded::Existing(record) => decode(charge, &record),
        }
    }
}

fn unavailable(error: orderflow_store::StoreError) -> OrderError {
    OrderError::Unavailable {
        service: "payment ledger",
        reason: error.message(),
    }
}

fn encode(charge: &Charge, outcome: &ChargeOutcome) -> Value {
    let base = json!({"amount": charge.amount.to_string(), "token": charge.token.as_str()});
    let mut record = base;
    match outcome {
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

fn decode(charge: &Charge, record: &Value) -> Result<ChargeOutcome, OrderError> {
    if record["amount"] != charge.amount.to_string() || record["token"] != charge.token.as_str() {
        return Err(OrderError::IdempotencyConflict {
            order_id: charge.order_id.to_string(),
        });
    }
    match (
        record["outcome"].as_str(),
        record["chargeId"].as_str(),
        record["reason"].as_str(),
    ) {
        (Some("charged"), Some(id), _) => Ok(ChargeOutcome::Charged(ChargeId::new(id))),
        (Some("declined"), _, Some(reason)) => Ok(ChargeOutcome::Declined {
            reason: reason.to_owned(),
        }),
        _ => Err(OrderError::Unavailable {
            service: "payment ledger",
            reason: format!(
                "the ledger entry of order {} is unreadable",
                charge.order_id
            ),
        }),
    }
}
