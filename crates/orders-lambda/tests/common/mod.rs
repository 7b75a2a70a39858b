//! Sample events and helpers.

use orders::{FixedClock, YearMonth};
use serde_json::Value;

/// Parses a sample event.
pub fn event(text: &str) -> Value {
    serde_json::from_str(text).expect("sample events are JSON")
}

/// The sample events, by name, with the function that takes them.
pub const EVENTS: [(&str, &str, &str); 9] = [
    (
        "verify-payment",
        "verified",
        include_str!("../../../../events/verify-payment/verified.json"),
    ),
    (
        "verify-payment",
        "not-verified",
        include_str!("../../../../events/verify-payment/not-verified.json"),
    ),
    (
        "verify-payment",
        "invalid-order",
        include_str!("../../../../events/verify-payment/invalid-order.json"),
    ),
    (
        "check-stock",
        "in-stock",
        include_str!("../../../../events/check-stock/in-stock.json"),
    ),
    (
        "check-stock",
        "out-of-stock",
        include_str!("../../../../events/check-stock/out-of-stock.json"),
    ),
    (
        "check-stock",
        "invalid",
        include_str!("../../../../events/check-stock/invalid.json"),
    ),
    (
        "charge-payment",
        "success",
        include_str!("../../../../events/charge-payment/success.json"),
    ),
    (
        "charge-payment",
        "declined",
        include_str!("../../../../events/charge-payment/declined.json"),
    ),
    (
        "charge-payment",
        "invalid",
        include_str!("../../../../events/charge-payment/invalid.json"),
    ),
];

/// The sample event `name` of `function`.
pub fn sample(function: &str, name: &str) -> Value {
    EVENTS
        .iter()
        .find(|(f, n, _)| *f == function && *n == name)
        .map(|(_, _, text)| event(text))
        .unwrap_or_else(|| panic!("no sample event {function}/{name}"))
}

/// The sample order.
pub fn order() -> Value {
    event(include_str!("../../../../events/order.json"))
}

/// Every card number in the sample events, in the forms they appear in.
pub const PANS: [&str; 6] = [
    "5555555555554444",
    "5555 5555 5555 4444",
    "4000000000000002",
    "4000 0000 0000 0002",
    "4000000000000341",
    "4000 0000 0000 0341",
];

/// 2026-11-24.
pub fn today() -> FixedClock {
    FixedClock(YearMonth::new(2026, 11).expect("a month"))
}
