//! `charge-payment` run as Lambda runs it: the real binary polling a local Runtime API. A
//! declined charge must reach the runtime as errorType `PaymentError`, the name the state
//! machine catches, not as a Rust type path.

use std::time::Duration;

use lambda_runtime_api::{FunctionProcess, RuntimeApi};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

fn event(text: &str) -> Value {
    serde_json::from_str(text).expect("sample events are JSON")
}

#[tokio::test]
async fn answers_the_sample_events_through_the_runtime_api() {
    let api = RuntimeApi::builder()
        .function_name("charge-payment")
        .start()
        .await
        .expect("listens");
    let function =
        FunctionProcess::spawn(env!("CARGO_BIN_EXE_charge-payment"), &api, &[]).expect("starts");
    let success = event(include_str!("../../../events/charge-payment/success.json"));

    let charged = api
        .invoke(&success, TIMEOUT)
        .await
        .expect("answers")
        .json()
        .expect("JSON");
    assert_eq!(charged["paymentResult"], "SUCCESS", "{charged}");
    assert_eq!(charged["amount"], json!(2250));
    assert!(
        charged["chargeId"]
            .as_str()
            .is_some_and(|id| id.starts_with("ch_sim_")),
        "{charged}"
    );

    let declined = api
        .invoke(
            &event(include_str!("../../../events/charge-payment/declined.json")),
            TIMEOUT,
        )
        .await;
    let declined = declined.expect("answers");
    let error = declined.error().expect("an error");
    assert_eq!(error.error_type, "PaymentError");
    assert_eq!(
        error.error_message,
        "payment for order o-1004 was declined: the card issuer declined the charge"
    );
    let body: Value = serde_json::from_slice(&error.body).expect("a JSON error body");
    assert_eq!(body["errorType"], "PaymentError");

    let invalid = api
        .invoke(
            &event(include_str!("../../../events/charge-payment/invalid.json")),
            TIMEOUT,
        )
        .await;
    let invalid = invalid.expect("answers");
    let error = invalid.error().expect("an error");
    assert_eq!(
        (error.error_type.as_str(), error.error_message.as_str()),
        (
            "ValidationError",
            "amount must be greater than 0, found -2250"
        )
    );

    // The same order charged again in the same instance gets the same charge.
    let again = api
        .invoke(&success, TIMEOUT)
        .await
        .expect("answers")
        .json()
        .expect("JSON");
    assert_eq!(again, charged);

    let logs = function.stop(TIMEOUT).await.expect("stops");
    api.shutdown().await;
    let outcomes: Vec<String> = logs
        .json_lines()
        .iter()
        .filter_map(|line| line["outcome"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        outcomes,
        ["charged", "declined", "rejected", "charged"],
        "{}",
        logs.stdout
    );
    for pan in ["5555555555554444", "4000000000000341"] {
        assert!(!logs.contains(pan), "the logs show {pan}");
    }
}
