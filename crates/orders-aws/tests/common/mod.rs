//! A fresh ledger table on the shared moto server, and a gateway that counts its charges.

pub mod fake_dynamodb;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use orders::{
    CardBrand, Charge, ChargeId, ChargeOutcome, ChargeRequest, Order, OrderError, PaymentGateway,
    SimulatedGateway, Simulation, Verification,
};
use orders_aws::DynamoDbLedger;
use serde_json::{Value, json};
use sfn_aws::AwsClients;
use sfn_aws::testing::Moto;

/// A ledger table of its own on the shared moto server.
pub struct Table {
    pub aws: AwsClients,
    pub name: String,
    // Keeps the server running while the test uses it.
    _moto: Arc<Moto>,
}

impl Table {
    /// A new, empty table keyed by `OrderId`; `None` when moto is not installed (skipped).
    pub async fn create(test: &str) -> Option<Table> {
        let table = Table::missing(test).await?;
        table
            .aws
            .ensure_table(&table.name, "OrderId")
            .await
            .expect("moto creates the table");
        Some(table)
    }

    /// A table name that no table has; `None` when moto is not installed (skipped).
    pub async fn missing(test: &str) -> Option<Table> {
        let moto = Moto::shared()?;
        let aws = AwsClients::builder()
            .endpoint_url(moto.url())
            .region("us-east-1")
            .operation_timeout(Duration::from_secs(20))
            .build()
            .await
            .expect("clients");
        Some(Table {
            aws,
            name: format!("ledger-{test}-{}", std::process::id()),
            _moto: moto,
        })
    }

    pub fn ledger(&self) -> DynamoDbLedger {
        DynamoDbLedger::new(self.aws.dynamodb().clone(), &self.name)
    }

    /// Every item, in DynamoDB JSON.
    pub async fn items(&self) -> Vec<Value> {
        self.aws.scan_table(&self.name).await.expect("scans")
    }
}

/// A gateway that answers each charge with a new charge id (`ch_test_1`, `ch_test_2`, …)
/// after `delay`, so only a ledger can make a repeat answer the same id.
pub struct Counting {
    calls: AtomicU32,
    delay: Duration,
}

impl Counting {
    pub fn new(delay: Duration) -> Counting {
        Counting {
            calls: AtomicU32::new(0),
            delay,
        }
    }

    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl PaymentGateway for Counting {
    async fn verify(&self, order: &Order, brand: CardBrand) -> Result<Verification, OrderError> {
        SimulatedGateway::new(Simulation::Deterministic)
            .verify(order, brand)
            .await
    }

    async fn charge(&self, _charge: &Charge) -> Result<ChargeOutcome, OrderError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(self.delay).await;
        Ok(ChargeOutcome::Charged(ChargeId::new(format!(
            "ch_test_{n}"
        ))))
    }
}

/// Lends a [`Counting`] to a `LedgerGateway` so the test can still read its count.
pub struct Shared<'a>(pub &'a Counting);

impl PaymentGateway for Shared<'_> {
    async fn verify(&self, order: &Order, brand: CardBrand) -> Result<Verification, OrderError> {
        self.0.verify(order, brand).await
    }

    async fn charge(&self, charge: &Charge) -> Result<ChargeOutcome, OrderError> {
        self.0.charge(charge).await
    }
}

/// A valid charge of `amount` for `order_id`.
pub fn charge(order_id: &str, amount: f64) -> Charge {
    Charge::try_from(ChargeRequest::new(json!({
        "orderId": order_id, "customerId": "c-1", "amount": amount,
        "paymentToken": "tok_sim_0123456789abcdef"
    })))
    .expect("a valid charge")
}
