//! The embedded store's charge ledger as the domain's [`ChargeLedger`], so a repeated or
//! retried charge for an order returns the original outcome even when it comes from another
//! `orderflow` process; and an audit of the charges that reach the gateway, which the load
//! run's invariants count.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_emulator::{ChargeOutcome as Recorded, Store, StoreError};
use orders::{
    CardBrand, Charge, ChargeLedger, ChargeOutcome, LedgerEntry, Order, OrderError, OrderId,
    PaymentGateway, Verification,
};

/// The store's ledger table as a [`ChargeLedger`].
pub struct StoreLedger {
    store: Store,
}

impl StoreLedger {
    /// The ledger of `store`.
    pub fn new(store: Store) -> Self {
        StoreLedger { store }
    }
}

fn unavailable(error: StoreError) -> OrderError {
    OrderError::Unavailable {
        service: "payment ledger",
        reason: error.message(),
    }
}

impl ChargeLedger for StoreLedger {
    async fn get(&self, order_id: &OrderId) -> Result<Option<LedgerEntry>, OrderError> {
        let existing = self.store.charge(order_id.as_str()).map_err(unavailable)?;
        existing
            .map(|c| LedgerEntry::from_json(order_id, &c.record))
            .transpose()
    }

    async fn record_if_absent(&self, entry: &LedgerEntry) -> Result<LedgerEntry, OrderError> {
        match self
            .store
            .charge_once(entry.order_id.as_str(), &entry.to_json())
            .map_err(unavailable)?
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

    async fn charge(&self, charge: &Charge) -> Result<ChargeOutcome, OrderError> {
        let outcome = self.inner.charge(charge).await;
        if let (Some(audit), Ok(ChargeOutcome::Charged(_))) = (&self.audit, &outcome) {
            audit.count(charge.order_id.as_str());
        }
        outcome
    }
}
