//! `charge-payment` run as Lambda runs it: the real binary polling a local Runtime API. A
//! declined charge must reach the runtime as errorType `PaymentError`, the name the state
//! machine catches, not as a Rust type path.

use std::time::Duration;

use lambda_runtime_api::{FunctionProcess, RuntimeApi, secrets_in_logs};
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

/// With `LEDGER_TABLE_NAME`, charges go through the DynamoDB ledger (moto here, reached via
/// `AWS_ENDPOINT_URL`): a repeat is answered with the first charge, also by a new instance,
/// which only the table can tell about the first one.
#[tokio::test]
async fn charges_once_per_order_through_the_dynamodb_ledger() {
    let Some(moto) = sfn_aws::testing::Moto::shared() else {
        return;
    };
    let aws = sfn_aws::AwsClients::builder()
        .endpoint_url(moto.url())
        .region("us-east-1")
        .build()
        .await
        .expect("clients");
    let table = format!("charge-ledger-{}", std::process::id());
    aws.ensure_table(&table, "OrderId")
        .await
        .expect("moto creates the table");
    let env = [
        ("LEDGER_TABLE_NAME", table.as_str()),
        ("AWS_ENDPOINT_URL", moto.url()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let success = event(include_str!("../../../events/charge-payment/success.json"));

    let api = RuntimeApi::builder()
        .function_name("charge-payment")
        .start()
        .await
        .expect("listens");
    let first =
        FunctionProcess::spawn(env!("CARGO_BIN_EXE_charge-payment"), &api, &env).expect("starts");
    let charged = api.invoke(&success, TIMEOUT).await.expect("answers");
    let charged = charged.json().expect("JSON");
    assert_eq!(charged["paymentResult"], "SUCCESS", "{charged}");
    let again = api.invoke(&success, TIMEOUT).await.expect("answers");
    assert_eq!(again.json().expect("JSON"), charged);
    let logs = first.stop(TIMEOUT).await.expect("stops");
    assert!(
        logs.json_lines()
            .iter()
            .any(|line| line["ledger_table"] == table.as_str()),
        "{}",
        logs.stdout
    );

    // A new instance has an empty in-memory gateway: only the table knows the order.
    let second =
        FunctionProcess::spawn(env!("CARGO_BIN_EXE_charge-payment"), &api, &env).expect("starts");
    let mut other_amount = success.clone();
    other_amount["amount"] = json!(2251);
    let conflict = api.invoke(&other_amount, TIMEOUT).await.expect("answers");
    let error = conflict.error().expect("an error");
    assert_eq!(
        error.error_type, "ValidationError",
        "{}",
        error.error_message
    );
    let repeat = api.invoke(&success, TIMEOUT).await.expect("answers");
    assert_eq!(repeat.json().expect("JSON"), charged);
    second.stop(TIMEOUT).await.expect("stops");
    api.shutdown().await;

    let items = aws.scan_table(&table).await.expect("scans");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["ChargeId"]["S"], charged["chargeId"], "{items:?}");
    assert_eq!(items[0]["OrderId"]["S"], success["orderId"], "{items:?}");
}

/// Whatever log filter the environment sets, in `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, no card
/// number reaches the function's logs, not even through the runtime's raw-event record.
#[tokio::test]
async fn no_log_filter_shows_a_card_number() {
    let events = [
        event(include_str!("../../../events/charge-payment/success.json")),
        json!({"orderId": "4111111111111111", "customerId": "c-1", "amount": 1,
               "paymentToken": "tok_sim_8b4638b6b035f3b3"}),
    ];
    let leaks = secrets_in_logs(
        env!("CARGO_BIN_EXE_charge-payment"),
        "charge-payment",
        &events,
        &[
            "5555555555554444",
            "4111111111111111",
            "4111 1111 1111 1111",
        ],
        TIMEOUT,
    )
    .await
    .expect("runs");
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
}
