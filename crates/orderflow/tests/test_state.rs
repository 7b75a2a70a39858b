//! The `orderflow test-state` command-line contract: the TestState answer as the API gives
//! it, exit 0 for any status, 2 for a refused request.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn path(rel: &str) -> String {
    root().join(rel).display().to_string()
}

fn test_state(args: &[&str], stdin: Option<&str>) -> Output {
    // From the checkout's root, where the README's relative paths lead.
    let mut child = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(root())
        .arg("test-state")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the orderflow binary runs");
    if let Some(mut pipe) = child.stdin.take() {
        pipe.write_all(stdin.unwrap_or("").as_bytes())
            .expect("stdin takes the input");
    }
    child.wait_with_output().expect("the orderflow binary ends")
}

/// A successful run's answer, parsed (see [`parsed`]).
fn answer(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    parsed(v)
}

/// An answer with the JSON texts of `output` and `inspectionData` parsed.
fn parsed(mut v: Value) -> Value {
    let parse = |v: &mut Value| {
        if let Some(p) = v.as_str().and_then(|s| serde_json::from_str(s).ok()) {
            *v = p;
        }
    };
    if let Some(o) = v.get_mut("output") {
        parse(o);
    }
    if let Some(Value::Object(d)) = v.get_mut("inspectionData") {
        d.iter_mut()
            .filter(|(k, _)| *k != "errorDetails")
            .for_each(|(_, x)| parse(x));
    }
    v
}

const WORKFLOW: &str = "statemachine/order-processing.asl.json";
const CHARGE_INPUT: &str = "events/test-state/charge-input.json";

#[test]
fn a_mocked_charge_at_debug_shows_each_stage() {
    let (def, input, result) = (
        path(WORKFLOW),
        path(CHARGE_INPUT),
        path("events/test-state/charge-result.json"),
    );
    let out = test_state(
        &[
            "--definition",
            &def,
            "--state",
            "Charge Payment",
            "--input",
            &input,
            "--mock-result",
            &result,
            "--inspection-level",
            "DEBUG",
        ],
        None,
    );
    let v = answer(&out);
    assert_eq!(v["status"], "SUCCEEDED");
    assert_eq!(v["nextState"], "Payment Processed");
    assert_eq!(v["output"]["charge"], json!({"chargeId": "ch_1"}));
    let data = &v["inspectionData"];
    assert_eq!(data["afterResultSelector"], json!({"chargeId": "ch_1"}));
    assert_eq!(
        data["afterParameters"]["Payload"],
        json!({"orderId": "ORD-1", "customerId": "C-7", "amount": 42.5, "paymentToken": "tok_123"})
    );
}

#[test]
fn retriable_and_caught_errors_exit_0() {
    let (def, input) = (path(WORKFLOW), path(CHARGE_INPUT));
    let base = [
        "--definition",
        def.as_str(),
        "--state",
        "Charge Payment",
        "--input",
        input.as_str(),
    ];
    let retry = [
        &base[..],
        &[
            "--mock-error",
            "Lambda.ServiceException",
            "--mock-cause",
            "Service error",
            "--retrier-retry-count",
            "2",
            "--inspection-level",
            "DEBUG",
        ],
    ]
    .concat();
    let v = answer(&test_state(&retry, None));
    assert_eq!(v["status"], "RETRIABLE");
    // IntervalSeconds 1, BackoffRate 2, two retries made: 4 seconds (MaxDelaySeconds 8).
    assert_eq!(
        v["inspectionData"]["errorDetails"],
        json!({"retryIndex": 0, "retryBackoffIntervalSeconds": 4})
    );
    let caught = [
        &base[..],
        &["--mock-error", "PaymentError", "--mock-cause", "declined"],
    ]
    .concat();
    let v = answer(&test_state(&caught, None));
    assert_eq!(v["status"], "CAUGHT_ERROR");
    assert_eq!(v["nextState"], "Read Failure");
    assert_eq!(
        v["output"]["error"],
        json!({"Error": "PaymentError", "Cause": "declined"})
    );
    assert_eq!(v.get("inspectionData"), None);
}

#[test]
fn a_choice_from_stdin_gives_its_next_state() {
    let def = path(WORKFLOW);
    let input = r#"{"checks": {"payment": {"paymentVerified": false}}}"#;
    let out = test_state(
        &[
            "--definition",
            &def,
            "--state",
            "Payment Verified?",
            "--input",
            "-",
        ],
        Some(input),
    );
    let v = answer(&out);
    assert_eq!(
        (v["status"].clone(), v["nextState"].clone()),
        (json!("SUCCEEDED"), json!("Payment Not Verified"))
    );
}

#[test]
fn a_refused_request_exits_2_with_the_api_error_code() {
    let def = path(WORKFLOW);
    let out = test_state(&["--definition", &def], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ValidationException: 'stateName'"),
        "{stderr}"
    );
    let out = test_state(
        &[
            "--definition",
            &def,
            "--state",
            "Notify",
            "--inspection-level",
            "LOUD",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'inspectionLevel'"));
}

/// Words of a shell command line: spaces split, double quotes group.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[test]
fn the_readme_sample_is_what_the_command_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("the README");
    let start = "$ cargo run -p orderflow -- test-state";
    let block = readme
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(block, _)| block)
        .expect("the README shows a test-state run");
    let (command, shown) = block
        .split_once("\n{")
        .expect("the command, then its answer");
    let args = words(&command.replace("\\\n", " "));
    let shown: Value = serde_json::from_str(&format!("{{{shown}")).expect("the answer is JSON");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(answer(&test_state(&args, None)), parsed(shown));
}
