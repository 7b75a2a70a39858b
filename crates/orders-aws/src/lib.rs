//! AWS adapters of the order domain's ports: [`DynamoDbLedger`] keeps each order's first
//! charge outcome in a DynamoDB table, so that [`orders::LedgerGateway`] charges at most once
//! per order id across Lambda instances, retries and redeliveries.
//!
//! The table is keyed by the string attribute `OrderId`; the adapter calls only `GetItem` and
//! `PutItem` on it, the two actions the deployed function is granted.
//!
//! ```no_run
//! use orders::{LedgerGateway, SimulatedGateway, Simulation};
//! use orders_aws::DynamoDbLedger;
//!
//! # async fn example() -> Result<(), orders::OrderError> {
//! // `LEDGER_TABLE_NAME` names the table; the region and credentials are the Lambda
//! // environment's, and `AWS_ENDPOINT_URL` points the client at a local endpoint.
//! if let Some(ledger) = DynamoDbLedger::from_env().await? {
//!     let gateway = LedgerGateway::new(SimulatedGateway::new(Simulation::Deterministic), ledger);
//!     // `gateway.charge(&charge)` now answers a repeated order with its first outcome.
//!     # let _ = gateway;
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod config;
mod ledger;

pub use config::{LEDGER_RETENTION_VARIABLE, LEDGER_TABLE_VARIABLE, lambda_sdk_config};
pub use ledger::{DynamoDbLedger, EXPIRES_AT};
