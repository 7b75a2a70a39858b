//! `verify-payment` run as Lambda runs it: the real binary polling a local Runtime API.

use std::time::Duration;

use lambda_runtime_api::{FunctionProcess, RuntimeApi, secrets_in_logs};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);

/// The card numbers of the events sent, in the forms they are sent in.
const PANS: [&str; 4] = [
    "5555555555554444",
    "5555 5555 5555 4444",
    "4000000000000002",
    "4000 0000 0000 0002",
];

fn event(text: &str) -> Value {
    serde_json::from_str(text).expect("sample events are JSON")
}

#[tokio::test]
async fn answers_the_sample_events_through_the_runtime_api() {
    let api = RuntimeApi::builder()
        .function_name("verify-payment")
        .start()
        .await
        .expect("listens");
    // At TRACE the runtime logs each raw event, card number included, unless the logging
    // set-up caps it; running at TRACE proves the cap.
    let function = FunctionProcess::spawn(
        env!("CARGO_BIN_EXE_verify-payment"),
        &api,
        &[("RUST_LOG", "trace")],
    )
    .expect("starts");

    let verified = api
        .invoke(
            &event(include_str!("../../../events/verify-payment/verified.json")),
            TIMEOUT,
        )
        .await;
    assert_eq!(
        verified.expect("answers").json(),
        Some(
            json!({"paymentVerified": true, "paymentToken": "tok_sim_8b4638b6b035f3b3",
                    "card": {"brand": "MASTERCARD", "last4": "4444"}})
        )
    );
    let not_verified = api
        .invoke(
            &event(include_str!(
                "../../../events/verify-payment/not-verified.json"
            )),
            TIMEOUT,
        )
        .await;
    assert_eq!(
        not_verified.expect("answers").json(),
        Some(
            json!({"paymentVerified": false, "reason": "the card issuer refused the card",
                    "card": {"brand": "VISA", "last4": "0002"}})
        )
    );
    let invalid = api
        .invoke(
            &event(include_str!(
                "../../../events/verify-payment/invalid-order.json"
            )),
            TIMEOUT,
        )
        .await;
    let invalid = invalid.expect("answers");
    let error = invalid.error().expect("an error");
    assert_eq!(error.error_type, "ValidationError");
    assert_eq!(
        error.error_message,
        "orderContents.items[2].price must be greater than 0, found 0"
    );
    let order = api
        .invoke(&event(include_str!("../../../events/order.json")), TIMEOUT)
        .await;
    assert_eq!(
        order
            .expect("answers")
            .json()
            .map(|answer| answer["paymentVerified"].clone()),
        Some(json!(true))
    );
    // An order paying with a token its provider issued: verified, the card known by its
    // brand and last four only.
    let tokenized = api
        .invoke(
            &event(include_str!("../../../events/workflow/tokenized.json")),
            TIMEOUT,
        )
        .await
        .expect("answers")
        .json()
        .expect("JSON");
    assert_eq!(tokenized["paymentVerified"], true, "{tokenized}");
    assert_eq!(tokenized["card"], json!({"brand": "VISA", "last4": "4242"}));
    assert!(
        tokenized["paymentToken"]
            .as_str()
            .is_some_and(|t| t.starts_with("tok_sim_")),
        "{tokenized}"
    );

    let logs = function.stop(TIMEOUT).await.expect("stops");
    api.shutdown().await;
    let lines = logs.json_lines();
    assert!(
        lines.iter().any(|line| line["level"] == "TRACE"),
        "ran at TRACE:\n{}",
        logs.stdout
    );
    let outcomes: Vec<&str> = lines
        .iter()
        .filter(|line| line["function"] == "verify-payment")
        .filter_map(|line| line["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        [
            "verified",
            "not_verified",
            "rejected",
            "verified",
            "verified"
        ],
        "{}",
        logs.stdout
    );
    for pan in PANS {
        assert!(
            !logs.contains(pan),
            "the logs show {pan}:\n{}\n{}",
            logs.stdout,
            logs.stderr
        );
    }
}

/// Whatever log filter the environment sets, in `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, no card
/// number reaches the function's logs, not even through the runtime's raw-event record.
#[tokio::test]
async fn no_log_filter_shows_a_card_number() {
    let events = [
        event(include_str!("../../../events/order.json")),
        json!({"orderId": "o-1", "customerId": "4111 1111 1111 1111"}),
    ];
    let leaks = secrets_in_logs(
        env!("CARGO_BIN_EXE_verify-payment"),
        "verify-payment",
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
