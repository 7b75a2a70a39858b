//! The order workflow end to end through the `orderflow` binary: every route from its
//! `events/` file, in process, on a fresh embedded store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

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

        let history = orderflow(
            &store,
            &[
                "history",
                result["executionName"].as_str().expect("a name"),
                "--io",
            ],
        );
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
    use orderflow::workflow::{DEFINITION, Time, Workflow};

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
        let flow = Workflow::connect(
            store.clone(),
            DEFINITION,
            Time::Virtual,
            Some(&lambda),
            None,
        )
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
        .filter(|e| e["type"] == "TaskFailed" || e["type"] == "TaskTimedOut")
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

/// `kill -9` in the middle of `orderflow load` leaves the interrupted executions visible as
/// RUNNING, and a later load over the same store reports every record one of them wrote
/// (#11: executions used to be written only when they ended, so a crash left records,
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
/// twice (#11).
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
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("store.sqlite3"), "{stderr}");
    assert_eq!(
        stderr.matches("not a database").count(),
        1,
        "the cause is given once: {stderr}"
    );
}
