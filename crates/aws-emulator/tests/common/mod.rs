//! Test helpers: temporary store directories and a store with the orders table.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_emulator::{KeySchema, KeyType, Store, StoreError};
use serde_json::{Value, json};

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("aws-emulator-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An in-memory store with table `Orders` (key `orderId`, S) and `Events` (`pk` S, `seq` N).
pub fn store() -> Store {
    let store = Store::in_memory().expect("in-memory store");
    setup(&store);
    store
}

pub fn setup(store: &Store) {
    store
        .create_table("Orders", &KeySchema::new("orderId", KeyType::S))
        .expect("Orders");
    store
        .create_table(
            "Events",
            &KeySchema::new("pk", KeyType::S).with_sort_key("seq", KeyType::N),
        )
        .expect("Events");
}

/// A put request for an order.
pub fn order_put(id: &str, extra: Value) -> Value {
    let mut item =
        json!({"orderId": {"S": id}, "State": {"S": "PAYMENT_PROCESSED"}, "total": {"N": "42.50"}});
    if let (Some(item), Value::Object(extra)) = (item.as_object_mut(), extra) {
        item.extend(extra);
    }
    json!({"TableName": "Orders", "Item": item})
}

pub fn key(id: &str) -> Value {
    json!({"TableName": "Orders", "Key": {"orderId": {"S": id}}})
}

/// Merges `extra` into a request object.
pub fn with(mut request: Value, extra: Value) -> Value {
    if let (Some(req), Value::Object(extra)) = (request.as_object_mut(), extra) {
        req.extend(extra);
    }
    request
}

/// Asserts that a call failed with this Step Functions error name and a message containing
/// `fragment`.
#[track_caller]
pub fn assert_error(result: Result<Value, StoreError>, name: &str, fragment: &str) {
    match result {
        Ok(v) => panic!("expected {name} ({fragment}), got Ok({v})"),
        Err(e) => {
            assert_eq!(e.error_name(), name, "{e}");
            assert!(
                e.message().contains(fragment),
                "message {:?} lacks {fragment:?}",
                e.message()
            );
        }
    }
}
