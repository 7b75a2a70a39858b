//! Helpers shared by the test modules.

use orders::{FixedClock, YearMonth};
use serde_json::Value;

/// The sample order: the reference input with a Luhn-valid card and a future expiry.
pub const ORDER: &str = include_str!("../../../../events/order.json");

/// Its card number, which must never appear in any output but the parser's input.
pub const PAN: &str = "5555555555554444";

/// The sample order as JSON.
pub fn order() -> Value {
    serde_json::from_str(ORDER).expect("events/order.json is JSON")
}

/// The sample order with the value at a JSON pointer replaced.
pub fn order_with(pointer: &str, value: Value) -> Value {
    let mut order = order();
    *order
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is in the sample order")) = value;
    order
}

/// The sample order with the member at a JSON pointer removed.
pub fn order_without(pointer: &str) -> Value {
    let mut order = order();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a parent");
    let removed = order
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .and_then(|object| object.remove(key));
    assert!(removed.is_some(), "{pointer} is in the sample order");
    order
}

/// The day these tests consider "today": 2026-11-24.
pub fn today() -> FixedClock {
    FixedClock(YearMonth::new(2026, 11).expect("a month"))
}

/// Runs a future that completes without outside events, as the simulated adapters' do.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}
