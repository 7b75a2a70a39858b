//! How the ledger's DynamoDB failures reach the state machine: through the real SDK (its
//! own retries included) against a loopback stand-in that throttles, fails or stalls, each
//! failure ends as the error name the definition retries, or as one it does not.

use std::time::Duration;

use orders::{ChargeId, ChargeLedger, ChargeOutcome, LedgerGateway, PaymentGateway};

use crate::common::fake_dynamodb::{Answer, FakeDynamoDb};
use crate::common::{Counting, Shared, charge};

/// The name a `GetItem` answered with `script` ends with, and how many requests it took.
async fn get_fails_as(script: &[Answer]) -> (&'static str, String, usize) {
    let fake = FakeDynamoDb::start(script).await;
    let error = fake
        .ledger()
        .get(&charge("o-1", 1.0).order_id)
        .await
        .expect_err("the call fails");
    (error.name(), error.to_string(), fake.requests().len())
}

#[tokio::test]
async fn throttling_after_the_sdk_retries_is_service_unavailable() {
    let (name, message, requests) = get_fails_as(&[Answer::Throttled; 3]).await;
    assert_eq!(name, "ServiceUnavailable", "{message}");
    assert!(
        message.contains("ProvisionedThroughputExceededException"),
        "{message}"
    );
    assert_eq!(requests, 3, "the SDK tried three times first");
}

#[tokio::test]
async fn server_errors_and_timeouts_are_service_unavailable() {
    let (name, message, _) = get_fails_as(&[Answer::ServerError; 3]).await;
    assert_eq!(name, "ServiceUnavailable", "{message}");
    let (name, message, _) = get_fails_as(&[Answer::Slow; 3]).await;
    assert_eq!(name, "ServiceUnavailable", "{message}");
}

#[tokio::test]
async fn refusals_a_retry_would_repeat_are_not_service_unavailable() {
    let (name, message, requests) = get_fails_as(&[Answer::Invalid]).await;
    assert_eq!(name, "ServiceFault", "{message}");
    assert_eq!(requests, 1, "not retried by the SDK either");
    let (name, message, _) = get_fails_as(&[Answer::Denied]).await;
    assert_eq!(name, "ConfigurationError", "{message}");
    assert!(message.contains("AccessDeniedException"), "{message}");
}

#[tokio::test]
async fn a_short_throttle_is_absorbed_and_the_order_charged_once() {
    // GetItem throttled twice then empty; PutItem throttled once then written.
    let fake = FakeDynamoDb::start(&[
        Answer::Throttled,
        Answer::Throttled,
        Answer::Empty,
        Answer::Throttled,
        Answer::Empty,
    ])
    .await;
    let counting = Counting::new(Duration::ZERO);
    let gateway = LedgerGateway::new(Shared(&counting), fake.ledger());
    let outcome = gateway.charge(&charge("o-2", 5.0)).await.expect("charged");
    assert_eq!(outcome, ChargeOutcome::Charged(ChargeId::new("ch_test_1")));
    assert_eq!(counting.calls(), 1);
    assert_eq!(fake.remaining(), 0);
    let operations = fake.requests();
    assert_eq!(
        operations
            .iter()
            .filter(|o| o.ends_with(".GetItem"))
            .count(),
        3
    );
    assert_eq!(
        operations
            .iter()
            .filter(|o| o.ends_with(".PutItem"))
            .count(),
        2
    );
}
