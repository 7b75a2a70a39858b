//! The crash test of `orderflow serve`: a load of Standard order executions started through
//! the AWS SDK for Rust, the server killed with SIGKILL while many are still running, started
//! again on the same store. Every execution ends, each order has exactly one record, its
//! notifications all carry its final state, and it is charged at most once (exactly once
//! when it was processed).

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_emulator::{ExecutionStatus, Store};
use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus as SfnStatus;
use serde_json::Value;

const ENTRY: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:order";
const ORDERS: usize = 120;

/// A running `orderflow serve`, killed when dropped.
struct Served {
    child: Child,
    url: String,
    /// What it printed before it was ready.
    banner: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(store: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("--store")
        .arg(store)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--timeout-rate",
            "0.4",
            "--seed",
            "11",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("orderflow serve starts");
    let stdout = child.stdout.take().expect("its stdout");
    let (ready, banner) = std::sync::mpsc::channel();
    // The server's output is read to its end, so that it never writes to a closed pipe.
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        let mut ready = Some(ready);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.contains("Ctrl-C stops it");
            lines.push(line);
            if done && let Some(ready) = ready.take() {
                let _ = ready.send(std::mem::take(&mut lines));
            }
        }
    });
    let banner = banner
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says it is ready within a minute");
    let url = banner
        .iter()
        .find_map(|l| l.strip_prefix("orderflow serve: the Step Functions API on "))
        .expect("the server's address")
        .to_owned();
    Served { child, url, banner }
}

async fn client(url: &str) -> Client {
    let aws = sfn_aws::AwsClients::builder()
        .endpoint_url(url)
        .region("us-east-1")
        .build()
        .await
        .expect("a client configuration");
    Client::new(aws.sdk_config())
}

fn running(store: &Store) -> usize {
    store
        .list_executions()
        .expect("the executions")
        .iter()
        .filter(|e| e.status == ExecutionStatus::Running && e.state_machine_name == "order")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_load_resumes_every_execution_and_loses_no_order() {
    let dir = tempfile::tempdir().expect("a store directory");
    let orders = order_workflow::loadtest::generate(ORDERS, 5, "crash");
    let first = serve(dir.path());
    let sfn = client(&first.url).await;
    // Every start is acknowledged before the kill: these executions must not be lost.
    for (chunk_index, chunk) in orders.chunks(16).enumerate() {
        let starts = chunk.iter().enumerate().map(|(i, order)| {
            sfn.start_execution()
                .state_machine_arn(ENTRY)
                .name(format!("crash-{}", chunk_index * 16 + i))
                .input(order.input.to_string())
                .send()
        });
        for started in futures::future::join_all(starts).await {
            started.expect("StartExecution is acknowledged");
        }
    }
    drop(first); // SIGKILL
    // What the killed server left on disk (the database, its write-ahead log) holds the
    // running executions' inputs only sealed: no card number is readable.
    for entry in std::fs::read_dir(dir.path()).expect("the store directory") {
        let path = entry.expect("an entry").path();
        let bytes = std::fs::read(&path).expect("a store file");
        for number in [
            "5555 5555 5555 4444",
            "4242 4242 4242 4242",
            "4000 0000 0000 0341",
        ] {
            assert!(
                !bytes.windows(number.len()).any(|w| w == number.as_bytes()),
                "{} holds the card number {number}",
                path.display()
            );
        }
    }
    let interrupted = running(&Store::open(dir.path()).expect("the store"));
    assert!(
        interrupted > 0,
        "the kill came after every execution had ended: nothing to resume"
    );

    let second = serve(dir.path());
    let said = format!("resumed {interrupted} Standard executions");
    assert!(
        second.banner.iter().any(|l| l.contains(&said)),
        "expected `{said}`: {:?}",
        second.banner
    );
    let sfn = client(&second.url).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = sfn
            .list_executions()
            .state_machine_arn(ENTRY)
            .status_filter(SfnStatus::Running)
            .send()
            .await
            .expect("ListExecutions")
            .executions
            .len();
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} executions still running after 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(second);

    let store = Store::open(dir.path()).expect("the store");
    let ended = store.list_executions().expect("the executions");
    for i in 0..orders.len() {
        let name = format!("crash-{i}");
        let execution = ended
            .iter()
            .find(|e| e.name == name && e.state_machine_name == "order")
            .unwrap_or_else(|| panic!("{name} was acknowledged and is lost"));
        assert_ne!(execution.status, ExecutionStatus::Running, "{name}");
        // One history, resumed or not: ids 1, 2, …, one start, one end.
        let history = store
            .execution_history(&execution.execution_arn)
            .expect("its history");
        let ids: Vec<u64> = history.iter().filter_map(|e| e["id"].as_u64()).collect();
        assert_eq!(
            ids,
            (1..=history.len() as u64).collect::<Vec<_>>(),
            "{name}"
        );
        let types: Vec<&str> = history.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(types.first(), Some(&"ExecutionStarted"), "{name}");
        assert_eq!(
            types.iter().filter(|t| **t == "ExecutionStarted").count(),
            1,
            "{name}"
        );
        assert!(
            types
                .last()
                .is_some_and(|t| t.starts_with("Execution") && *t != "ExecutionStarted"),
            "{name} ends with {:?}",
            types.last()
        );
        let text = serde_json::to_string(&history).expect("JSON");
        assert!(
            !text.contains("5555 5555 5555 4444"),
            "{name}: a card number in the history"
        );
    }
    let mut records: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for item in store.scan("orders").expect("the orders table") {
        let id = item["OrderId"]["S"].as_str().unwrap_or_default().to_owned();
        records.entry(id).or_default().push(item);
    }
    let mut notified: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for message in store.messages().expect("the notifications") {
        let body: Value = serde_json::from_str(&message.message).expect("a JSON notification");
        let id = body["orderId"].as_str().unwrap_or_default().to_owned();
        notified.entry(id).or_default().push(body);
    }
    // The ledger holds one entry per order id, whatever happened: the charge it made, if
    // any, with the gateway's charge id.
    let mut charged: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for charge in store.charges().expect("the charge ledger") {
        if charge.record["outcome"] == "charged" {
            charged
                .entry(charge.order_id)
                .or_default()
                .push(charge.record);
        }
    }
    let mut repeats = 0;
    let ids: std::collections::BTreeSet<&str> = orders
        .iter()
        .filter_map(|o| o.input["orderId"].as_str())
        .collect();
    for id in ids {
        let found = records.get(id).map_or(&[][..], Vec::as_slice);
        let [record] = found else {
            panic!("{id}: {} records", found.len());
        };
        let state = record["State"]["S"].as_str().unwrap_or_default();
        let sent = notified.get(id).map_or(&[][..], Vec::as_slice);
        assert!(
            !sent.is_empty(),
            "{id}: recorded {state} and never notified"
        );
        for message in sent {
            assert_eq!(
                message["orderState"], state,
                "{id}: a notification of another state"
            );
        }
        // A kill between the publish and its mark on the record sends the same message again
        // (the README: subscribers drop a repeat by its orderId).
        assert!(
            sent.iter().all(|m| m == &sent[0]),
            "{id}: notifications differ"
        );
        repeats += sent.len() - 1;
        let charges = charged.get(id).map_or(&[][..], Vec::as_slice);
        assert_eq!(
            charges.len(),
            usize::from(state == "PAYMENT_PROCESSED"),
            "{id}: {state} with {} charges",
            charges.len()
        );
        if let [charge] = charges {
            let summary: Value = record["Order"]["S"]
                .as_str()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null);
            assert_eq!(
                summary["chargeId"], charge["chargeId"],
                "{id}: another charge id"
            );
        }
    }
    eprintln!(
        "crash test: {} executions, {interrupted} running at the kill and resumed, {} orders, {repeats} repeated notifications",
        orders.len(),
        records.len()
    );
}
