//! An embedded SQLite store that keeps what the order workflow's AWS services would keep —
//! DynamoDB items, SNS messages, Step Functions executions with their histories and a charge
//! ledger — with those services' data semantics, so the workflow runs locally unchanged.
//!
//! DynamoDB requests and responses are the API's JSON (the `Parameters` of a Step Functions
//! `arn:aws:states:::dynamodb:putItem` task), with condition and update expressions, typed
//! errors named as Step Functions names them, and atomic conditional writes across threads
//! and processes.
//!
//! ```
//! use aws_emulator::{KeySchema, KeyType, Store};
//! use serde_json::json;
//!
//! # fn main() -> Result<(), aws_emulator::StoreError> {
//! let store = Store::in_memory()?; // Store::open(".orderflow") for the durable store
//! store.create_table("Orders", &KeySchema::new("orderId", KeyType::S))?;
//!
//! let put = json!({
//!     "TableName": "Orders",
//!     "Item": {"orderId": {"S": "o-1"}, "State": {"S": "PAYMENT_PROCESSED"}},
//!     "ConditionExpression": "attribute_not_exists(orderId)"
//! });
//! store.put_item(&put)?;
//! // The same order again fails the condition, as it would on DynamoDB.
//! let again = store.put_item(&put).unwrap_err();
//! assert_eq!(again.error_name(), "DynamoDB.ConditionalCheckFailedException");
//!
//! let got = store.get_item(&json!({"TableName": "Orders", "Key": {"orderId": {"S": "o-1"}}}))?;
//! assert_eq!(got["Item"]["State"], json!({"S": "PAYMENT_PROCESSED"}));
//!
//! let topic = store.create_topic("OrderNotifications")?;
//! store.publish(&json!({"TopicArn": topic, "Message": "order o-1 processed"}))?;
//! assert_eq!(store.messages()?.len(), 1);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod db;
mod dynamodb;
mod error;
mod executions;
mod expr;
mod ledger;
mod number;
mod reserved;
mod sns;
mod state_machines;
mod value;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::Value;

pub use dynamodb::{KeyAttribute, KeySchema, KeyType};
pub use error::{Result, Service, StoreError};
pub use executions::{ExecutionRecord, ExecutionStatus, Progress};
pub use ledger::{Charge, ChargeOutcome};
pub use sns::{MessageAttribute, StoredMessage};
pub use state_machines::{ActivityRecord, StateMachineRecord};

use db::{Db, DbOptions};

/// Name of the database file inside the store directory.
pub const DATABASE_FILE: &str = "store.sqlite3";
/// Region used in ARNs unless [`StoreBuilder::region`] says otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Account id used in ARNs unless [`StoreBuilder::account_id`] says otherwise.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// The store. Cheap to clone (clones share connections) and `Send + Sync`: share it between
/// threads freely.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    file: Option<PathBuf>,
    region: String,
    account_id: String,
    /// Key schemas by table name; tables are never dropped, so entries never go stale.
    tables: RwLock<HashMap<String, Arc<KeySchema>>>,
    /// Whether each known topic ARN is FIFO.
    topics: RwLock<HashMap<String, bool>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("file", &self.inner.file)
            .field("region", &self.inner.region)
            .field("account_id", &self.inner.account_id)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store in `dir` (created if missing) with default settings.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        StoreBuilder::new(dir).build()
    }

    /// A private in-memory store for tests and benchmarks; it vanishes when the last clone
    /// is dropped.
    pub fn in_memory() -> Result<Self> {
        StoreBuilder::in_memory().build()
    }

    /// The database file, or `None` for an in-memory store.
    pub fn database_file(&self) -> Option<&Path> {
        self.inner.file.as_deref()
    }

    /// The region used in ARNs.
    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// The account id used in ARNs.
    pub fn account_id(&self) -> &str {
        &self.inner.account_id
    }
}

/// Where and how to open a [`Store`].
#[derive(Clone, Debug)]
pub struct StoreBuilder {
    dir: Option<PathBuf>,
    region: String,
    account_id: String,
    busy_timeout: Duration,
    readers: usize,
}

impl StoreBuilder {
    /// A store in directory `dir`, holding [`DATABASE_FILE`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            region: DEFAULT_REGION.into(),
            account_id: DEFAULT_ACCOUNT_ID.into(),
            busy_timeout: Duration::from_secs(10),
            readers: 2,
        }
    }

    /// An in-memory store.
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            ..Self::new("")
        }
    }

    /// Region in topic ARNs (default `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Account id in topic ARNs (default `123456789012`).
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = account_id.into();
        self
    }

    /// How long a write waits for another process's write lock before failing with
    /// [`StoreError::Busy`] (default 10 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Number of read connections of a file store (default 2, at least 1).
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers.max(1);
        self
    }

    /// Opens the store: creates the directory and database if missing and migrates the
    /// schema.
    pub fn build(self) -> Result<Store> {
        let region_ok = !self.region.is_empty()
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return Err(StoreError::InvalidRecord {
                field: "region",
                reason: format!("{:?} is not a region name such as us-east-1", self.region),
            });
        }
        if self.account_id.len() != 12 || !self.account_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(StoreError::InvalidRecord {
                field: "account_id",
                reason: format!("{:?} is not a 12-digit account id", self.account_id),
            });
        }
        let options = DbOptions {
            busy_timeout: self.busy_timeout,
            readers: self.readers,
        };
        let (db, file) = match &self.dir {
            None => (Db::in_memory(&options)?, None),
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|reason| StoreError::CreateDir {
                    path: dir.clone(),
                    reason,
                })?;
                let file = dir.join(DATABASE_FILE);
                (Db::open(&file, &options)?, Some(file))
            }
        };
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                file,
                region: self.region,
                account_id: self.account_id,
                tables: RwLock::new(HashMap::new()),
                topics: RwLock::new(HashMap::new()),
            }),
        })
    }
}

/// Converts an item in DynamoDB JSON (`{"total": {"N": "12.5"}}`) to plain JSON
/// (`{"total": 12.5}`) for display: numbers become JSON numbers when that loses nothing (else
/// strings), sets become arrays, binary stays base64.
pub fn unmarshal(item: &Value) -> Result<Value> {
    let parsed = value::item_from_json(item, "item").map_err(StoreError::validation)?;
    Ok(Value::Object(
        parsed
            .iter()
            .map(|(k, v)| (k.clone(), v.to_plain_json()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn store_is_shareable() {
        assert_send_sync::<Store>();
    }

    #[test]
    fn builder_rejects_bad_arn_parts() {
        let err = StoreBuilder::in_memory()
            .region("US East")
            .build()
            .unwrap_err();
        assert!(
            err.to_string().contains("\"US East\" is not a region"),
            "{err}"
        );
        let err = StoreBuilder::in_memory()
            .account_id("42")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("12-digit"), "{err}");
    }

    #[test]
    fn unmarshal_item() {
        let plain = unmarshal(&serde_json::json!({"id": {"S": "a"}, "n": {"N": "2"}})).unwrap();
        assert_eq!(plain, serde_json::json!({"id": "a", "n": 2}));
        assert!(unmarshal(&serde_json::json!({"id": "a"})).is_err());
    }
}
