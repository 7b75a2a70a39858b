//! `check-stock` run as Lambda runs it: the real binary polling a local Runtime API.

use std::time::Duration;

use lambda_runtime_api::{FunctionProcess, RuntimeApi, secrets_in_logs};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(30);
const BINARY: &str = env!("CARGO_BIN_EXE_check-stock");

fn event(text: &str) -> Value {
    serde_json::from_str(text).expect("sample events are JSON")
}

fn levels(answer: &Value) -> Vec<u64> {
    answer
        .as_array()
        .expect("an array of items")
        .iter()
        .filter_map(|item| item["quantityInStock"].as_u64())
        .collect()
}

#[tokio::test]
async fn answers_the_sample_events_through_the_runtime_api() {
    let api = RuntimeApi::builder()
        .function_name("check-stock")
        .start()
        .await
        .expect("listens");
    let function = FunctionProcess::spawn(BINARY, &api, &[]).expect("starts");

    let in_stock = api
        .invoke(
            &event(include_str!("../../../events/check-stock/in-stock.json")),
            TIMEOUT,
        )
        .await;
    let in_stock = in_stock.expect("answers").json().expect("JSON");
    let levels_in_stock = levels(&in_stock);
    assert_eq!(levels_in_stock.len(), 3, "{in_stock}");
    assert!(
        levels_in_stock.iter().all(|level| (1..=9).contains(level)),
        "{in_stock}"
    );
    assert_eq!(in_stock[0]["itemId"], "item-c9f4x");
    assert_eq!(in_stock[0]["price"], 1000);

    let out = api
        .invoke(
            &event(include_str!(
                "../../../events/check-stock/out-of-stock.json"
            )),
            TIMEOUT,
        )
        .await;
    let out = out.expect("answers").json().expect("JSON");
    assert_eq!(
        (
            out[1]["itemId"].as_str(),
            out[1]["quantityInStock"].as_u64()
        ),
        (Some("oos-g7b2q"), Some(0))
    );

    let invalid = api
        .invoke(
            &event(include_str!("../../../events/check-stock/invalid.json")),
            TIMEOUT,
        )
        .await;
    let invalid = invalid.expect("answers");
    let error = invalid.error().expect("an error");
    assert_eq!(
        (error.error_type.as_str(), error.error_message.as_str()),
        ("ValidationError", "items[0].itemId is required")
    );

    let logs = function.stop(TIMEOUT).await.expect("stops");
    api.shutdown().await;
    let outcomes: Vec<String> = logs
        .json_lines()
        .iter()
        .filter_map(|line| line["outcome"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        outcomes,
        ["in_stock", "out_of_stock", "rejected"],
        "{}",
        logs.stdout
    );
}

/// Levels of the sample items over `rounds` invocations by a fresh process in random mode.
async fn random_levels(seed: &str, rounds: usize) -> (Vec<u64>, Vec<Value>) {
    let api = RuntimeApi::builder()
        .function_name("check-stock")
        .start()
        .await
        .expect("listens");
    let env = [("ORDERFLOW_SIMULATION", "random"), ("ORDERFLOW_SEED", seed)];
    let function = FunctionProcess::spawn(BINARY, &api, &env).expect("starts");
    let items = event(include_str!("../../../events/check-stock/in-stock.json"));
    let mut all = Vec::new();
    for _ in 0..rounds {
        let answer = api
            .invoke(&items, TIMEOUT)
            .await
            .expect("answers")
            .json()
            .expect("JSON");
        all.extend(levels(&answer));
    }
    let logs = function.stop(TIMEOUT).await.expect("stops");
    api.shutdown().await;
    (all, logs.json_lines())
}

#[tokio::test]
async fn random_mode_is_reproducible_from_the_seed() {
    let (first, lines) = random_levels("42", 10).await;
    let (second, _) = random_levels("42", 10).await;
    assert_eq!(
        first, second,
        "the same seed gives the same levels in a new process"
    );
    assert!(first.iter().all(|level| *level <= 9));
    assert!(
        first.iter().collect::<std::collections::HashSet<_>>().len() > 3,
        "levels vary: {first:?}"
    );
    let start = lines
        .iter()
        .find(|line| line["message"] == "function starting")
        .expect("a start line");
    assert_eq!(
        (start["simulation"].as_str(), start["seed"].as_u64()),
        (Some("random"), Some(42))
    );
}

#[tokio::test]
async fn a_bad_setting_stops_the_start() {
    let api = RuntimeApi::builder()
        .function_name("check-stock")
        .start()
        .await
        .expect("listens");
    let env = [("ORDERFLOW_SIMULATION", "sometimes")];
    let function = FunctionProcess::spawn(BINARY, &api, &env).expect("starts");
    let (status, logs) = function.wait_exit(TIMEOUT).await.expect("exits");
    api.shutdown().await;
    assert!(!status.success());
    let error = logs
        .json_lines()
        .into_iter()
        .find(|line| line["level"] == "ERROR")
        .expect("an error line");
    assert_eq!(error["error_type"], "ConfigurationError", "{error}");
}

/// Whatever log filter the environment sets, in `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, no card
/// number reaches the function's logs, not even through the runtime's raw-event record.
#[tokio::test]
async fn no_log_filter_shows_a_card_number() {
    let events = [json!({"items": [
        {"itemId": "item-1", "price": 1, "itemDescription": "4111 1111 1111 1111"}
    ]})];
    let leaks = secrets_in_logs(
        env!("CARGO_BIN_EXE_check-stock"),
        "check-stock",
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
