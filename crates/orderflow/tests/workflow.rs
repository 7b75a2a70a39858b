//! The order workflow end to end through the `orderflow` binary: every route from its
//! `events/` file, in process, on a fresh embedded store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sfn_local::EventDetails;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `orderflow --store STORE ARGS…` from the repository root.
fn orderflow(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(repo())
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("ORDERFLOW_SIMULATION")
        .output()
        .expect("orderflow runs")
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Every form the sample card number could take in a file or a log.
fn card_numbers(event: &Value) -> Vec<String> {
    let number = event["paymentDetails"]["cardNumber"]
        .as_str()
        .unwrap_or_default();
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    vec![number.to_owned(), digits]
}

/// The bytes of every file of the store (database, WAL, shared memory).
fn store_bytes(store: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(store).expect("the store directory") {
        let path = entry.expect("an entry").path();
        if path.is_file() {
            bytes.extend(std::fs::read(&path).expect("a store file"));
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

struct Route {
    event: &'static str,
    exit: i32,
    status: &'static str,
    error: Option<&'static str>,
    state: &'static str,
}

const ROUTES: &[Route] = &[
    Route {
        event: "events/order.json",
        exit: 0,
        status: "SUCCEEDED",
        error: None,
        state: "PAYMENT_PROCESSED",
    },
    Route {
        event: "events/workflow/payment-not-verified.json",
        exit: 1,
        status: "FAILED",
        error: Some("PaymentNotVerified"),
        state: "PAYMENT_NOT_VERIFIED",
    },
    Route {
        event: "events/workflow/out-of-stock.json",
        exit: 1,
        status: "FAILED",
        error: Some("OutOfStock"),
        state: "OUT_OF_STOCK",
    },
    Route {
        event: "events/workflow/charge-declined.json",
        exit: 1,
        status: "FAILED",
        error: Some("PaymentDeclined"),
        state: "PAYMENT_FAILED",
    },
    Route {
        event: "events/workflow/invalid-order.json",
        exit: 1,
        status: "FAILED",
        error: Some("InvalidOrder"),
        state: "INVALID",
    },
    Route {
        event: "events/workflow/missing-items.json",
        exit: 1,
        status: "FAILED",
        error: Some("InvalidOrder"),
        state: "INVALID",
    },
    // Paid with a token issued before the order was sent: no card number anywhere.
    Route {
        event: "events/workflow/tokenized.json",
        exit: 0,
        status: "SUCCEEDED",
        error: None,
        state: "PAYMENT_PROCESSED",
    },
];

#[test]
fn every_route_ends_as_one_record_and_one_notification_without_the_card_number() {
    for route in ROUTES {
        route_ends_as_one_record_and_one_notification(route, &[]);
    }
}

/// Through the Standard entry, each route ends as it does without it: the entry fails with
/// processing's error, and the one record and notification are processing's.
#[test]
fn through_the_standard_entry_every_route_ends_the_same() {
    for route in ROUTES {
        route_ends_as_one_record_and_one_notification(route, &["--entry"]);
    }
}

fn route_ends_as_one_record_and_one_notification(route: &Route, entry: &[&str]) {
    {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = dir.path().join("store");
        let args = [&["run", route.event, "--json", "--virtual-time"], entry].concat();
        let run = orderflow(&store, &args);
        assert_eq!(
            run.status.code(),
            Some(route.exit),
            "{}: {}",
            route.event,
            String::from_utf8_lossy(&run.stderr)
        );
        let result = json(&run);
        assert_eq!(result["status"], route.status, "{}: {result}", route.event);
        assert_eq!(
            result["error"].as_str(),
            route.error,
            "{}: {result}",
            route.event
        );
        assert_eq!(
            result["orderState"], route.state,
            "{}: {result}",
            route.event
        );
        let order_id = result["orderId"].as_str().expect("an order id");
        let nested = result["nestedExecutionIds"].as_array().map_or(0, Vec::len);
        assert_eq!(nested, entry.len(), "{}: {result}", route.event);
        let executions = json(&orderflow(&store, &["executions", "--json"]));
        let machines: Vec<&str> = executions
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|e| e["stateMachineName"].as_str())
            .collect();
        let expected: &[&str] = if entry.is_empty() {
            &["order-processing"]
        } else {
            &["order", "order-processing"]
        };
        let mut sorted = machines.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected, "{}", route.event);
        assert!(
            result["executionId"]
                .as_str()
                .is_some_and(|id| id.ends_with(result["executionName"].as_str().unwrap_or("?")))
        );
        if route.status == "FAILED" {
            assert!(
                result["cause"].as_str().is_some_and(|c| !c.is_empty()),
                "{}: a cause in words: {result}",
                route.event
            );
        }

        let orders = json(&orderflow(&store, &["orders", "--json"]));
        let orders = orders.as_array().expect("a list");
        assert_eq!(orders.len(), 1, "{}: {orders:?}", route.event);
        assert_eq!(orders[0]["OrderId"], order_id);
        assert_eq!(orders[0]["State"], route.state);

        let notifications = json(&orderflow(&store, &["notifications", "--json"]));
        let notifications = notifications.as_array().expect("a list");
        assert_eq!(notifications.len(), 1, "{}: {notifications:?}", route.event);
        assert_eq!(notifications[0]["message"]["orderId"], order_id);
        assert_eq!(notifications[0]["message"]["orderState"], route.state);
        assert_eq!(
            notifications[0]["attributes"]["orderState"]["StringValue"],
            route.state
        );

        // Through the entry, the processing execution shares the entry's name: a bare name
        // is refused, naming both, and the ARN picks one.
        let name = result["executionName"].as_str().expect("a name");
        let history = orderflow(&store, &["history", name, "--io"]);
        if entry.is_empty() {
            assert_eq!(history.status.code(), Some(0));
        } else {
            assert_eq!(history.status.code(), Some(2));
            let said = String::from_utf8_lossy(&history.stderr);
            assert!(said.contains("executions are named"), "{said}");
        }
        let arn = result["executionId"].as_str().expect("an ARN");
        let history = orderflow(&store, &["history", arn, "--io"]);
        assert_eq!(history.status.code(), Some(0));
        // Every recorded history (the nested one too), read back as the store keeps it
        // (compressed, so the raw bytes alone would not show a card number reliably).
        let histories: Vec<Output> = executions
            .as_array()
            .expect("a list")
            .iter()
            .map(|e| {
                let arn = e["executionArn"].as_str().expect("an ARN");
                let out = orderflow(&store, &["history", arn, "--io"]);
                assert_eq!(out.status.code(), Some(0), "{arn}");
                out
            })
            .collect();
        let table = orderflow(
            &store,
            &[&["run", route.event, "--virtual-time", "--io"], entry].concat(),
        );

        let event: Value = serde_json::from_str(
            &std::fs::read_to_string(repo().join(route.event)).expect("event"),
        )
        .expect("JSON");
        let bytes = store_bytes(&store);
        for number in card_numbers(&event) {
            assert!(
                !contains(&bytes, &number),
                "{}: the store holds the card number",
                route.event
            );
            for out in [&run, &history, &table].into_iter().chain(&histories) {
                assert!(
                    !contains(&out.stdout, &number) && !contains(&out.stderr, &number),
                    "{}: printed the card number",
                    route.event
                );
            }
        }
    }
}

#[test]
fn the_same_order_twice_is_recorded_and_charged_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let first = json(&orderflow(
        &store,
        &[
            "run",
            "events/workflow/with-order-id.json",
            "--json",
            "--virtual-time",
        ],
    ));
    assert_eq!(first["status"], "SUCCEEDED", "{first}");
    assert_eq!(first["orderId"], "order-1001");
    let second = orderflow(
        &store,
        &[
            "run",
            "events/workflow/with-order-id.json",
            "--json",
            "--virtual-time",
        ],
    );
    assert_eq!(second.status.code(), Some(1));
    let second = json(&second);
    assert_eq!(second["error"], "DuplicateOrder", "{second}");

    assert_eq!(
        json(&orderflow(&store, &["orders", "--json"]))
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        json(&orderflow(&store, &["notifications", "--json"]))
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        json(&orderflow(&store, &["executions", "--json"]))
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let charges = aws_emulator::Store::open(&store)
        .expect("the store")
        .charges()
        .expect("the ledger");
    assert_eq!(charges.len(), 1, "{charges:?}");
    assert_eq!(charges[0].order_id, "order-1001");
}

#[test]
fn an_execution_name_is_used_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let first = orderflow(&store, &["run", "--name", "run-1", "--virtual-time"]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = orderflow(&store, &["run", "--name", "run-1", "--virtual-time"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("ExecutionAlreadyExists"));
}

#[test]
fn unreadable_events_exit_2_with_one_line_naming_the_problem() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let malformed = dir.path().join("malformed.json");
    std::fs::write(&malformed, "{\"orderTotal\": ").expect("written");
    for (args, needle) in [
        (vec!["run", "events/no-such-file.json"], "no-such-file.json"),
        (
            vec!["run", malformed.to_str().expect("utf-8")],
            "not valid JSON",
        ),
        (vec!["history", "nope"], "no execution nope"),
        (vec!["graph", "--format", "png"], "png"),
    ] {
        let out = orderflow(&store, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        // clap's usage errors come with a usage line; our own errors are one line.
        if args[0] != "graph" {
            assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        }
    }
}

#[test]
fn graph_colours_an_execution() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let run = orderflow(
        &store,
        &[
            "run",
            "events/workflow/out-of-stock.json",
            "--name",
            "oos",
            "--virtual-time",
        ],
    );
    assert_eq!(run.status.code(), Some(1));
    for format in ["mermaid", "dot", "svg"] {
        let out = orderflow(&store, &["graph", "--execution", "oos", "--format", format]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Out Of Stock"), "{format}");
    }
}

#[test]
fn a_function_failing_after_its_retries_ends_as_an_error_record_and_notification() {
    use aws_emulator::Store;
    use order_workflow::Workflow;

    // A loopback port nothing listens on: every invocation fails with
    // Lambda.SdkClientException, which the definition retries and then catches.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let store = Store::in_memory().expect("a store");
    let run = runtime.block_on(async {
        let lambda = sfn_aws::AwsClients::builder()
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .region("us-east-1")
            .connect_timeout(std::time::Duration::from_secs(1))
            .build()
            .await
            .expect("clients");
        let flow = Workflow::builder(store.clone())
            .lambda_endpoint(&lambda)
            .build()
            .await
            .expect("the workflow");
        let order = serde_json::from_str(
            &std::fs::read_to_string(repo().join("events/order.json")).expect("event"),
        )
        .expect("JSON");
        flow.run(order, "unreachable-functions", 1)
            .await
            .expect("a run")
    });
    assert_eq!(
        run.execution.error.as_deref(),
        Some("OrderProcessingError"),
        "{:?}",
        run.execution.cause
    );
    assert_eq!(run.order_state.as_deref(), Some("ERROR"));
    // Under virtual time the 30-second task timeout fires before the refused connection is
    // reported; either way the attempts fail, are retried, and are caught.
    let retries = run
        .history
        .iter()
        .filter(|e| {
            matches!(
                e.details,
                EventDetails::TaskFailed { .. } | EventDetails::TaskTimedOut { .. }
            )
        })
        .count();
    assert!(
        retries > 1,
        "the failures were retried before being caught ({retries} failed attempts)"
    );
    assert_eq!(store.scan("orders").expect("the table").len(), 1);
    let messages = store.messages().expect("the messages");
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].message.contains("\"orderState\":\"ERROR\""),
        "{}",
        messages[0].message
    );
}

/// `orderflow … | head` closes the pipe early: the process ends by SIGPIPE, as other tools
/// do, instead of panicking on its next write.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::Stdio;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(repo())
        .arg("--store")
        .arg(dir.path().join("store"))
        .args(["run", "--virtual-time", "--io"])
        .env_remove("ORDERFLOW_SIMULATION")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("orderflow starts");
    // The reader goes away before the first line is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("orderflow ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?} {stderr}",
        out.status
    );
}

/// What the store holds for one order: its records, the states of its notifications in the
/// order they were published, and its ledger entries.
struct Kept {
    records: Vec<Value>,
    notified: Vec<String>,
    charges: usize,
}

fn kept(store: &Path, order_id: &str) -> Kept {
    let records = json(&orderflow(store, &["orders", "--json"]))
        .as_array()
        .expect("a list")
        .iter()
        .filter(|r| r["OrderId"] == order_id)
        .cloned()
        .collect();
    let notified = json(&orderflow(store, &["notifications", "--json"]))
        .as_array()
        .expect("a list")
        .iter()
        .filter(|m| m["message"]["orderId"] == order_id)
        .map(|m| {
            m["message"]["orderState"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let charges = aws_emulator::Store::open(store)
        .expect("the store")
        .charges()
        .expect("the ledger")
        .iter()
        .filter(|c| c.order_id == order_id)
        .count();
    Kept {
        records,
        notified,
        charges,
    }
}

/// `orderflow run EVENT --json --virtual-time ARGS…`, its exit code and summary; nothing it
/// prints holds the event's card number.
fn run_json(store: &Path, event: &str, args: &[&str]) -> (Option<i32>, Value) {
    let out = orderflow(
        store,
        &[&["run", event, "--json", "--virtual-time"], args].concat(),
    );
    let order: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join(event)).expect("event"))
            .expect("JSON");
    for number in card_numbers(&order) {
        assert!(
            !contains(&out.stdout, &number) && !contains(&out.stderr, &number),
            "{event} {args:?}: printed the card number"
        );
    }
    (out.status.code(), json(&out))
}

/// The attempts of `state` in `history`, as their failure names (`None` for the attempt that
/// succeeded).
fn attempts(history: &[Value], state: &str) -> Vec<Option<String>> {
    let mut inside = false;
    let mut seen = Vec::new();
    for event in history {
        let kind = event["type"].as_str().unwrap_or_default();
        if kind.ends_with("StateEntered") {
            inside = event["stateEnteredEventDetails"]["name"] == state;
        }
        if !inside {
            continue;
        }
        match kind {
            "TaskFailed" => seen.push(
                event["taskFailedEventDetails"]["error"]
                    .as_str()
                    .map(str::to_owned),
            ),
            "TaskSucceeded" => seen.push(None),
            _ => {}
        }
    }
    seen
}

fn history_of(store: &Path, execution: &str) -> Vec<Value> {
    aws_emulator::Store::open(store)
        .expect("the store")
        .execution_history(execution)
        .expect("its history")
}

/// The charge ledger's DynamoDB calls throttled: charge-payment fails with
/// ServiceUnavailable, which Charge Payment retries, and the order is processed, charged
/// once; directly and through the entry.
#[test]
fn a_throttled_ledger_is_retried_and_the_order_charged_once() {
    for entry in [&[][..], &["--entry"][..]] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = dir.path().join("store");
        let (code, result) = run_json(
            &store,
            "events/workflow/with-order-id.json",
            &[&["--throttle-ledger", "2"], entry].concat(),
        );
        assert_eq!(code, Some(0), "{entry:?}: {result}");
        assert_eq!(result["orderState"], "PAYMENT_PROCESSED", "{result}");
        let processing = match result["nestedExecutionIds"][0].as_str() {
            Some(nested) => nested.to_owned(),
            None => result["executionId"].as_str().expect("an ARN").to_owned(),
        };
        assert_eq!(
            attempts(&history_of(&store, &processing), "Charge Payment"),
            [
                Some("ServiceUnavailable".to_owned()),
                Some("ServiceUnavailable".to_owned()),
                None
            ],
            "{entry:?}"
        );
        let kept = kept(&store, "order-1001");
        assert_eq!(kept.charges, 1);
        assert_eq!(kept.records.len(), 1);
        assert_eq!(kept.notified, ["PAYMENT_PROCESSED"]);
    }
}

/// An order that ended ERROR (the ledger unavailable past every retry) and is then
/// resubmitted with the same orderId ends in its final state: its ERROR record replaced,
/// charged once, one notification of the final state after the ERROR one.
#[test]
fn an_error_order_resubmitted_ends_in_its_final_state_charged_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let event = "events/workflow/with-order-id.json";
    let (code, first) = run_json(&store, event, &["--throttle-ledger", "100"]);
    assert_eq!(code, Some(1), "{first}");
    assert_eq!(first["error"], "OrderProcessingError", "{first}");
    assert_eq!(first["orderState"], "ERROR");
    let before = kept(&store, "order-1001");
    assert_eq!(before.records[0]["State"], "ERROR");
    assert_eq!(before.notified, ["ERROR"]);
    assert_eq!(before.charges, 0);

    let (code, again) = run_json(&store, event, &["--entry"]);
    assert_eq!(code, Some(0), "{again}");
    assert_eq!(again["status"], "SUCCEEDED");
    assert_eq!(again["orderState"], "PAYMENT_PROCESSED");
    let after = kept(&store, "order-1001");
    assert_eq!(after.records.len(), 1, "{:?}", after.records);
    assert_eq!(after.records[0]["State"], "PAYMENT_PROCESSED");
    assert!(
        after.records[0]["NotifiedAt"].is_string(),
        "marked notified"
    );
    assert_eq!(after.notified, ["ERROR", "PAYMENT_PROCESSED"]);
    assert_eq!(after.charges, 1);

    // A third submission changes nothing.
    let (code, third) = run_json(&store, event, &["--entry"]);
    assert_eq!(code, Some(1));
    assert_eq!(third["error"], "DuplicateOrder", "{third}");
    let last = kept(&store, "order-1001");
    assert_eq!(last.notified, ["ERROR", "PAYMENT_PROCESSED"]);
    assert_eq!(last.charges, 1);
}

/// The entry retries processing that ended ERROR once, and the retry completes the order:
/// the final record replaces the ERROR one, charged once.
#[test]
fn the_entry_retries_processing_that_ended_in_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    // Processing's first run spends four charge attempts (one ledger call each) on the
    // throttle; the retry meets its last two and then a ledger that answers.
    let (code, result) = run_json(
        &store,
        "events/workflow/with-order-id.json",
        &["--entry", "--throttle-ledger", "6"],
    );
    assert_eq!(code, Some(0), "{result}");
    assert_eq!(result["orderState"], "PAYMENT_PROCESSED");
    assert_eq!(
        result["nestedExecutionIds"].as_array().map(Vec::len),
        Some(2)
    );
    let entry = history_of(&store, result["executionId"].as_str().expect("an ARN"));
    assert!(
        entry
            .iter()
            .any(|e| e["stateEnteredEventDetails"]["name"] == "Wait Before Retrying")
    );
    let kept = kept(&store, "order-1001");
    assert_eq!(kept.records.len(), 1);
    assert_eq!(kept.records[0]["State"], "PAYMENT_PROCESSED");
    assert_eq!(kept.notified, ["ERROR", "PAYMENT_PROCESSED"]);
    assert_eq!(kept.charges, 1);
}

/// An order recorded in its final state whose notification could not be sent is notified by
/// the next submission, which charges and records nothing again.
#[test]
fn an_order_whose_notification_failed_is_notified_by_a_resubmission() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let event = "events/workflow/with-order-id.json";
    let (code, first) = run_json(
        &store,
        event,
        &["--entry", "--inject", "Notify=SNS.InternalErrorException"],
    );
    assert_eq!(code, Some(1), "{first}");
    assert_eq!(first["error"], "SNS.InternalErrorException", "{first}");
    let before = kept(&store, "order-1001");
    assert_eq!(before.records[0]["State"], "PAYMENT_PROCESSED");
    assert!(before.records[0].get("NotifiedAt").is_none());
    assert!(before.notified.is_empty());

    let (code, again) = run_json(&store, event, &["--entry"]);
    assert_eq!(code, Some(0), "{again}");
    assert_eq!(again["orderState"], "PAYMENT_PROCESSED");
    let nested = history_of(
        &store,
        again["nestedExecutionIds"][0]
            .as_str()
            .expect("a nested run"),
    );
    assert!(
        attempts(&nested, "Charge Payment").is_empty()
            && attempts(&nested, "Record Order").is_empty(),
        "the order was only notified"
    );
    let after = kept(&store, "order-1001");
    assert_eq!(after.records.len(), 1);
    assert!(after.records[0]["NotifiedAt"].is_string());
    assert_eq!(after.notified, ["PAYMENT_PROCESSED"]);
    assert_eq!(after.charges, 1);
}

/// When processing cannot be started, the entry records the order as ERROR and notifies it,
/// under its execution name (named after the order, as the README asks of clients).
#[test]
fn processing_that_cannot_be_started_is_recorded_and_notified_as_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = dir.path().join("store");
    let (code, result) = run_json(
        &store,
        "events/workflow/with-order-id.json",
        &[
            "--entry",
            "--name",
            "order-1001",
            "--inject",
            "Process Order=StepFunctions.StateMachineDoesNotExistException",
        ],
    );
    assert_eq!(code, Some(1), "{result}");
    assert_eq!(result["error"], "ProcessingNotStarted", "{result}");
    let cause = result["cause"].as_str().unwrap_or_default();
    assert!(
        cause.starts_with("order processing could not be started: ")
            && cause.contains("StepFunctions.StateMachineDoesNotExistException"),
        "{cause}"
    );
    assert_eq!(
        result["nestedExecutionIds"].as_array().map(Vec::len),
        Some(0)
    );
    let kept = kept(&store, "order-1001");
    assert_eq!(kept.records.len(), 1);
    assert_eq!(kept.records[0]["State"], "ERROR");
    assert_eq!(kept.records[0]["Outcome"], "ProcessingNotStarted");
    assert_eq!(kept.records[0]["Reason"], cause);
    assert_eq!(kept.notified, ["ERROR"]);
    assert_eq!(kept.charges, 0);
}

/// Processing that ends without a known outcome (stand-in definitions that fail without a
/// cause, without an error, or time out) gives the entry a named error and a cause in words,
/// after one retry, and the order an ERROR record and notification.
#[test]
fn each_way_processing_can_end_gives_the_entry_a_clear_error_and_cause() {
    let fixtures = "crates/orderflow/tests/fixtures/processing";
    for (definition, error, cause) in [
        (
            "fails-without-cause.asl.json",
            "ProcessingBroke",
            "failed with ProcessingBroke and gave no cause",
        ),
        (
            "fails-without-error.asl.json",
            "ProcessingFailed",
            "failed without an error name",
        ),
        (
            "times-out.asl.json",
            "ProcessingTimedOut",
            "timed out before it finished",
        ),
    ] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = dir.path().join("store");
        let path = format!("{fixtures}/{definition}");
        let (code, result) = run_json(
            &store,
            "events/workflow/with-order-id.json",
            &["--entry", "--name", "order-1001", "--definition", &path],
        );
        assert_eq!(code, Some(1), "{definition}: {result}");
        assert_eq!(result["error"], error, "{definition}: {result}");
        let said = result["cause"].as_str().unwrap_or_default();
        assert!(
            said.starts_with("order processing arn:aws:states:") && said.ends_with(cause),
            "{definition}: {said}"
        );
        assert_eq!(
            result["nestedExecutionIds"].as_array().map(Vec::len),
            Some(2),
            "{definition}: tried twice"
        );
        let kept = kept(&store, "order-1001");
        assert_eq!(kept.records.len(), 1, "{definition}");
        assert_eq!(kept.records[0]["State"], "ERROR");
        assert_eq!(kept.records[0]["Outcome"], error);
        assert_eq!(kept.notified, ["ERROR"], "{definition}");
    }
}

/// The entry definition on the engine, its nested execution answered by a stand-in with each
/// answer the `.sync:2` integration can give: every ending of processing ends the entry with
/// a named error and a cause in words; a rejection at once and without a record of the
/// entry's own, anything else after one retry, recorded and notified as ERROR.
#[test]
fn the_entry_names_every_ending_of_processing() {
    use std::sync::{Arc, Mutex};

    use futures::future::BoxFuture;
    use order_workflow::workflow::{ENTRY_DEFINITION, substitute};
    use serde_json::json;
    use sfn_local::{ExecuteOptions, Handlers, StateMachine, TaskFailure, TaskRequest};

    let processing = "arn:aws:states:us-east-1:123456789012:stateMachine:order-processing";
    let text = substitute(
        ENTRY_DEFINITION,
        &[
            ("OrderProcessingStateMachineArn", processing.to_owned()),
            ("OrdersTableName", "orders".to_owned()),
            (
                "OrderNotificationsTopicArn",
                "arn:aws:sns:us-east-1:123456789012:order-notifications".to_owned(),
            ),
        ],
    )
    .expect("substituted");
    let machine = StateMachine::from_json(&text).expect("the entry loads");
    let child = "arn:aws:states:us-east-1:123456789012:express:order-processing:o-1:1";
    let described = |status: &str, error: Option<&str>, cause: Option<&str>| {
        let mut d = serde_json::Map::new();
        if let Some(cause) = cause {
            d.insert("Cause".into(), json!(cause));
        }
        if let Some(error) = error {
            d.insert("Error".into(), json!(error));
        }
        d.insert("ExecutionArn".into(), json!(child));
        d.insert("Input".into(), json!({"orderId": "o-1"}));
        d.insert("Status".into(), json!(status));
        TaskFailure::new("States.TaskFailed", Value::Object(d).to_string())
    };
    let unexpected = "unexpected error: {\"Error\":\"ServiceUnavailable\"}";
    // (what processing's task answers, the entry's error, the end of its cause, recovered?)
    let cases: Vec<(TaskFailure, &str, String, bool)> = vec![
        (
            described(
                "FAILED",
                Some("OutOfStock"),
                Some("item oos-1 is out of stock"),
            ),
            "OutOfStock",
            "item oos-1 is out of stock".into(),
            false,
        ),
        (
            described("FAILED", Some("DuplicateOrder"), Some("already recorded")),
            "DuplicateOrder",
            "already recorded".into(),
            false,
        ),
        (
            described("FAILED", Some("OrderProcessingError"), Some(unexpected)),
            "OrderProcessingError",
            unexpected.into(),
            true,
        ),
        (
            described("FAILED", Some("States.Timeout"), None),
            "States.Timeout",
            format!("order processing {child} failed with States.Timeout and gave no cause"),
            true,
        ),
        (
            described("FAILED", None, None),
            "ProcessingFailed",
            format!("order processing {child} failed without an error name"),
            true,
        ),
        (
            described("TIMED_OUT", None, None),
            "ProcessingTimedOut",
            format!("order processing {child} timed out before it finished"),
            true,
        ),
        (
            described("ABORTED", None, None),
            "ProcessingAborted",
            format!("order processing {child} was stopped before it finished"),
            true,
        ),
        (
            TaskFailure::new("States.TaskFailed", "not a description"),
            "ProcessingFailed",
            "order processing ended without a description: \
             {\"Error\":\"States.TaskFailed\",\"Cause\":\"not a description\"}"
                .into(),
            true,
        ),
        (
            TaskFailure::new(
                "StepFunctions.InvalidExecutionInputException",
                "Invalid execution input: the input is not JSON",
            ),
            "ProcessingNotStarted",
            "order processing could not be started: \
             {\"Error\":\"StepFunctions.InvalidExecutionInputException\",\
             \"Cause\":\"Invalid execution input: the input is not JSON\"}"
                .into(),
            true,
        ),
        (
            TaskFailure::new("States.Timeout", "the task timed out"),
            "ProcessingTimedOut",
            "order processing did not report an outcome within the 600 seconds this \
             execution waits for it; it was stopped"
                .into(),
            true,
        ),
    ];
    for (answer, error, cause, unfinished) in cases {
        let calls: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut handlers = Handlers::new();
        let (log, failure) = (Arc::clone(&calls), answer.clone());
        handlers
            .register(
                "arn:aws:states:::states:startExecution.sync:2",
                move |request: TaskRequest| -> BoxFuture<'static, Result<Value, TaskFailure>> {
                    log.lock()
                        .expect("the log")
                        .push(request.state_name.to_string());
                    let failure = failure.clone();
                    Box::pin(async move { Err(failure) })
                },
            )
            .expect("a pattern");
        let log = Arc::clone(&calls);
        handlers
            .register(
                "arn:aws:states:::*",
                move |request: TaskRequest| -> BoxFuture<'static, Result<Value, TaskFailure>> {
                    log.lock()
                        .expect("the log")
                        .push(request.state_name.to_string());
                    Box::pin(async move { Ok(json!({"MessageId": "m-1"})) })
                },
            )
            .expect("a pattern");
        let options = ExecuteOptions::new()
            .handlers(handlers)
            .name("o-1")
            .state_machine_name("order");
        let execution =
            futures::executor::block_on(machine.execute(json!({"orderId": "o-1"}), &options));
        assert_eq!(execution.error.as_deref(), Some(error), "{answer:?}");
        assert_eq!(
            execution.cause.as_deref(),
            Some(cause.as_str()),
            "{answer:?}"
        );
        let expected: &[&str] = if unfinished {
            &[
                "Process Order",
                "Process Order",
                "Record Unfinished Order",
                "Notify Unfinished Order",
            ]
        } else {
            &["Process Order"]
        };
        assert_eq!(*calls.lock().expect("the log"), expected, "{answer:?}");
    }
}

/// `kill -9` in the middle of `orderflow load` leaves the interrupted executions visible as
/// RUNNING, and a later load over the same store reports every record one of them wrote
/// (executions used to be written only when they ended, so a crash left records,
/// notifications and charges that no execution accounted for, and a rerun saw nothing).
#[test]
fn a_crash_during_a_load_leaves_visible_running_executions() {
    let store = tempfile::tempdir().expect("a temporary store");
    let mut load = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(repo())
        .arg("--store")
        .arg(store.path())
        .args(["load", "--orders", "100000", "--json"])
        .env_remove("ORDERFLOW_SIMULATION")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("orderflow load starts");
    // Wait until orders are being recorded, then kill the process without warning.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let orders = json(&orderflow(store.path(), &["orders", "--json"]));
        if orders.as_array().is_some_and(|o| o.len() >= 200) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no orders recorded in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    load.kill().expect("SIGKILL");
    let _ = load.wait();

    let executions = json(&orderflow(store.path(), &["executions", "--json"]));
    let running: Vec<&str> = executions
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["status"] == "RUNNING")
        .filter_map(|e| e["executionArn"].as_str())
        .collect();
    assert!(
        !running.is_empty(),
        "the interrupted executions are listed as RUNNING"
    );
    let orders = json(&orderflow(store.path(), &["orders", "--json"]));
    let orphaned = orders
        .as_array()
        .expect("a list")
        .iter()
        .filter(|o| running.contains(&o["ExecutionId"].as_str().unwrap_or_default()))
        .count();

    let rerun = orderflow(store.path(), &["load", "--orders", "20", "--json"]);
    let summary = json(&rerun);
    assert_eq!(summary["interrupted"], running.len(), "{summary}");
    let reported = summary["invariants"]["byInvariant"]["no record without a finished execution"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(reported, orphaned as u64, "{summary}");
    // The rerun's own orders are fine; it fails only for what the crash left behind.
    assert_eq!(rerun.status.code(), Some(if orphaned > 0 { 1 } else { 0 }));
}

/// A damaged store is reported once, naming the file and SQLite's reason, not the reason
/// twice, and exits 3: the environment failed, not the input.
#[test]
fn a_corrupt_store_is_reported_without_repeating_the_cause() {
    let store = tempfile::tempdir().expect("a temporary store");
    std::fs::write(
        store.path().join("store.sqlite3"),
        b"this is not a database, it only has the name of one",
    )
    .expect("writes");
    let out = orderflow(store.path(), &["executions"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("store.sqlite3"), "{stderr}");
    assert_eq!(
        stderr.matches("not a database").count(),
        1,
        "the cause is given once: {stderr}"
    );
}

/// A store that cannot be created is the environment failing (3); an execution the store does
/// not hold is a wrong input (2).
#[test]
fn an_unusable_store_exits_3_and_a_wrong_name_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("writes");
    let out = orderflow(&file.join("store"), &["executions"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("cannot create store directory"), "{stderr}");
    let out = orderflow(&dir.path().join("store"), &["history", "no-such-execution"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The states of a `run` table: the first column of each row between the header and the
/// blank line before `status`.
fn table_states(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|line| !line.trim_start().starts_with("STATE "))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .map(|line| {
            let name = line.trim_start();
            // Columns are two spaces or more apart; a state name has single spaces only.
            name.split("  ").next().unwrap_or(name).trim().to_owned()
        })
        .collect()
}

/// The README's sample output of `orderflow run` is the run of the sample order: the same
/// states in the same order, its `…` standing for the Map's further iterations.
#[test]
fn the_readme_sample_run_matches_a_run_of_the_sample_order() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("the README");
    let sample = readme
        .split("$ cargo run -p orderflow -- run\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows a run of the sample order");
    let shown = table_states(sample);
    assert!(shown.len() > 10, "the README's table: {shown:?}");

    let store = tempfile::tempdir().expect("a temporary store");
    let out = orderflow(store.path(), &["run", "--virtual-time"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ran = table_states(&String::from_utf8_lossy(&out.stdout));

    let mut rest = ran.iter();
    for state in &shown {
        if state == "…" {
            continue;
        }
        // States the README leaves out may only be further Map iterations.
        let found = rest.by_ref().find(|s| *s == state || !s.contains("[item "));
        assert_eq!(
            found.map(String::as_str),
            Some(state.as_str()),
            "the README shows {state:?} where the run has {found:?}; the run: {ran:?}"
        );
    }
    assert!(
        rest.all(|s| s.contains("[item ")),
        "the run has states after the README's last: {ran:?}"
    );
}

/// A service endpoint nothing answers at is the environment failing (3), even though the
/// failure reaches the CLI through the workflow's own error.
#[test]
fn an_unreachable_service_endpoint_exits_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let store = tempfile::tempdir().expect("a temporary store");
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(repo())
        .args(["--store"])
        .arg(store.path())
        .args(["run", "--aws-endpoint", &endpoint])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .expect("orderflow runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&endpoint) || stderr.contains("127.0.0.1"),
        "{stderr}"
    );
}

/// An order id DynamoDB refuses as a key (over its 2,048-byte limit) fails the look-up with
/// the name Step Functions gives DynamoDB's validation errors (`DynamoDB.AmazonDynamoDBException`,
/// as recorded on AWS), which the definition catches: the order is then validated, recorded
/// under the execution name as INVALID and notified, like any other bad input.
#[test]
fn an_order_id_dynamodb_refuses_as_a_key_ends_invalid_with_a_record() {
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("events/order.json")).expect("the sample order"),
    )
    .expect("JSON");
    event["orderId"] = Value::String("x".repeat(3000));
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("long-id.json");
    std::fs::write(&file, event.to_string()).expect("writes");
    let store = dir.path().join("store");
    let out = orderflow(
        &store,
        &[
            "run",
            file.to_str().expect("UTF-8"),
            "--virtual-time",
            "--json",
            "--name",
            "long-id",
        ],
    );
    let run = json(&out);
    assert_eq!(run["orderState"], "INVALID", "{run}");
    assert_eq!(run["orderId"], "long-id", "{run}");
    assert!(
        run["cause"].as_str().is_some_and(|c| c.contains("orderId")),
        "{run}"
    );
    assert_eq!(
        run["notifications"].as_array().map(Vec::len),
        Some(1),
        "{run}"
    );
}
