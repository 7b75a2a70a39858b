//! The embedded store's charge ledger as the domain's [`ChargeLedger`], so a repeated or
//! retried charge for an order returns the original outcome even when it comes from another
//! `orderflow` process; and an audit of the charges that reach the gateway, which the load
//! run's invariants count.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aws_emulator::{ChargeOutcome as Recorded, Store, StoreError};
use orders::{
    CardBrand, Charge, ChargeLedger, ChargeOutcome, LedgerEntry, Order, OrderError, OrderId,
    PaymentGateway, PaymentToken, PaymentVerification, Verification, YearMonth,
};

/// The store's ledger table as a [`ChargeLedger`].
pub struct StoreLedger {
    store: Store,
    throttles: AtomicU32,
}

impl StoreLedger {
    /// The ledger of `store`.
    pub fn new(store: Store) -> Self {
        StoreLedger {
            store,
            throttles: AtomicU32::new(0),
        }
    }

    /// This ledger, refusing its first `calls` calls as a throttled DynamoDB table refuses
    /// them once the SDK's own retries are spent: the failure `charge-payment` reports as
    /// `ServiceUnavailable`, which the state machine retries.
    pub fn throttle_first(self, calls: u32) -> Self {
        self.throttles.store(calls, Ordering::Relaxed);
        self
    }

    fn admit(&self) -> Result<(), OrderError> {
        let refused = self
            .throttles
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if refused {
            return Err(OrderError::Unavailable {
                service: "payment ledger",
                reason: "ProvisionedThroughputExceededException: The level of configured \
                         provisioned throughput for the table was exceeded (injected by \
                         --throttle-ledger)"
                    .to_owned(),
            });
        }
        Ok(())
    }
}

/// A store failure as the domain sees it: a locked database may answer later, anything else
/// would fail the same way again.
fn failure(error: StoreError) -> OrderError {
    if error.is_transient() {
        OrderError::Unavailable {
            service: "payment ledger",
            reason: error.message(),
        }
    } else {
        OrderError::ServiceFault {
            service: "payment ledger",
            reason: error.message(),
        }
    }
}

impl ChargeLedger for StoreLedger {
    async fn get(&self, order_id: &OrderId) -> Result<Option<LedgerEntry>, OrderError> {
        self.admit()?;
        let existing = self.store.charge(order_id.as_str()).map_err(failure)?;
        existing
            .map(|c| LedgerEntry::from_json(order_id, &c.record))
            .transpose()
    }

    async fn record_if_absent(&self, entry: &LedgerEntry) -> Result<LedgerEntry, OrderError> {
        self.admit()?;
        match self
            .store
            .charge_once(entry.order_id.as_str(), &entry.to_json())
            .map_err(failure)?
        {
            Recorded::New => Ok(entry.clone()),
            Recorded::Existing(record) => LedgerEntry::from_json(&entry.order_id, &record),
        }
    }
}

/// How many charges reached the gateway, per order id.
#[derive(Debug, Default)]
pub struct ChargeAudit(Mutex<HashMap<String, u32>>);

impl ChargeAudit {
    /// The counts so far.
    pub fn counts(&self) -> HashMap<String, u32> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn count(&self, order_id: &str) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(order_id.to_owned())
            .or_default() += 1;
    }
}

/// A gateway that counts the charges reaching it in a [`ChargeAudit`], when given one.
pub struct AuditedGateway<G> {
    inner: G,
    audit: Option<Arc<ChargeAudit>>,
}

impl<G> AuditedGateway<G> {
    /// `inner`, its charges counted in `audit`.
    pub fn new(inner: G, audit: Option<Arc<ChargeAudit>>) -> Self {
        AuditedGateway { inner, audit }
    }
}

impl<G: PaymentGateway> PaymentGateway for AuditedGateway<G> {
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
        let outcome = self.inner.charge(charge).await;
        if let (Some(audit), Ok(ChargeOutcome::Charged(_))) = (&self.audit, &outcome) {
            audit.count(charge.order_id.as_str());
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use orders::{ChargeId, ChargeRequest};
    use serde_json::json;

    use super::*;

    fn entry() -> LedgerEntry {
        let charge = Charge::try_from(ChargeRequest::new(json!({
            "orderId": "o-1", "customerId": "c-1", "amount": 5,
            "paymentToken": "tok_sim_0123456789abcdef"
        })))
        .expect("a valid charge");
        LedgerEntry::new(&charge, ChargeOutcome::Charged(ChargeId::new("ch_1")))
    }

    #[test]
    fn a_throttled_ledger_refuses_its_first_calls_as_service_unavailable() {
        let store = Store::in_memory().expect("a store");
        let ledger = StoreLedger::new(store).throttle_first(2);
        let entry = entry();
        for _ in 0..2 {
            let refused =
                futures::executor::block_on(ledger.get(&entry.order_id)).expect_err("throttled");
            assert_eq!(refused.name(), "ServiceUnavailable");
            assert!(
                refused
                    .to_string()
                    .contains("ProvisionedThroughputExceeded")
            );
        }
        assert_eq!(
            futures::executor::block_on(ledger.get(&entry.order_id)),
            Ok(None)
        );
        assert_eq!(
            futures::executor::block_on(ledger.record_if_absent(&entry)),
            Ok(entry.clone())
        );
    }
}
