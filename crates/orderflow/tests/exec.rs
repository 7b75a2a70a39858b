//! The `orderflow exec` command-line contract: JSON shape and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../order-workflow/tests/fixtures")
}

fn exec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("exec")
        .args(args)
        .output()
        .expect("the orderflow binary runs")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn order_args(extra: &[&str]) -> Vec<String> {
    let def = fixtures().join("order.bench.asl.json");
    let input = fixtures().join("input.json");
    let mut v = vec![
        "--definition".to_owned(),
        def.display().to_string(),
        "--input".to_owned(),
        input.display().to_string(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

#[test]
fn succeeded_execution_prints_result_and_history_and_exits_0() {
    let args = order_args(&["--json", "--stand-ins", "--repeat", "20"]);
    let out = exec(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["status"], "SUCCEEDED");
    assert!(v["output"]["MessageId"].is_string());
    assert_eq!(v["history"][0]["type"], "ExecutionStarted");
    assert_eq!(v["benchmark"]["executions"], 20);
    assert!(
        v["benchmark"]["executionsPerSecond"]
            .as_f64()
            .is_some_and(|x| x > 0.0)
    );
}

#[test]
fn failed_execution_exits_1() {
    // No handlers: the Parallel's tasks fail, the Catch leads to a Fail state.
    let args = order_args(&["--json"]);
    let out = exec(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1));
    let v = json_of(&out);
    assert_eq!(v["status"], "FAILED");
    assert!(v.get("output").is_none());
    assert_eq!(
        v["history"]
            .as_array()
            .and_then(|h| h.last())
            .map(|e| e["type"].clone()),
        Some("ExecutionFailed".into())
    );
}

#[test]
fn invalid_definition_exits_2_naming_the_problem() {
    let dir = std::env::temp_dir().join(format!("orderflow-exec-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let def = dir.join("bad.asl.json");
    std::fs::write(
        &def,
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#,
    )
    .expect("write");
    let out = exec(&["--definition", def.to_str().unwrap_or_default(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/States/A/Next") && stderr.contains("\"B\""),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(exec(&[]).status.code(), Some(2));
    assert_eq!(
        exec(&["--definition", "/nonexistent/def.json"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn table_output_without_json() {
    let args = order_args(&["--stand-ins"]);
    let out = exec(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("MapIterationStarted") && text.contains("status: SUCCEEDED"),
        "{text}"
    );
}

/// With a store named, the run is recorded: `history` and `graph --execution` find it by the
/// name given; long virtual waits read in hours, not milliseconds.
#[test]
fn a_run_is_recorded_in_the_store_given() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let def = dir.path().join("wait.asl.json");
    std::fs::write(
        &def,
        r#"{"StartAt": "Hour", "States": {"Hour": {"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": {"Type": "Succeed"}}}"#,
    )
    .expect("writes");
    let store = dir.path().join("store");
    let def = def.to_str().expect("utf-8");
    let store_arg = store.to_str().expect("utf-8");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_orderflow"))
            .args(["--store", store_arg])
            .args(args)
            .output()
            .expect("the orderflow binary runs")
    };
    let out = run(&["exec", "--definition", def, "--name", "an-hour"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("1h00m00s"), "{text}");
    assert!(!text.contains("3600000ms"), "{text}");
    let history = run(&["history", "an-hour"]);
    let shown = String::from_utf8_lossy(&history.stdout);
    assert_eq!(history.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("Hour") && shown.contains("SUCCEEDED"),
        "{shown}"
    );
    let graph = run(&[
        "graph",
        "--definition",
        def,
        "--execution",
        "an-hour",
        "--format",
        "mermaid",
    ]);
    assert_eq!(
        graph.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&graph.stderr)
    );
    // Without a store named, nothing is written where the command runs.
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let out = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(elsewhere.path())
        .env_remove("ORDERFLOW_STORE")
        .args(["exec", "--definition", def])
        .output()
        .expect("the orderflow binary runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(!elsewhere.path().join(".orderflow").exists());
}

/// `run` with no file processes the built-in sample order from any directory.
#[test]
fn run_without_a_file_works_from_any_directory() {
    let elsewhere = tempfile::tempdir().expect("a temporary directory");
    let out = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(elsewhere.path())
        .args(["--store", "store", "run", "--virtual-time", "--json"])
        .output()
        .expect("the orderflow binary runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json_of(&out)["orderState"], "PAYMENT_PROCESSED");
}

/// `--environment` answers the Task states from the declared functions and tables, as AWS
/// would, with the placeholders resolved in the definition and the input.
#[test]
fn an_environment_answers_the_tasks() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let env = dir.path().join("environment.json");
    std::fs::write(
        &env,
        r#"{"functions": {"fn1": {"behavior": "return", "returns": {"id": {"S": "a-1"}}}},
            "tables": {"table1": {"key": [{"AttributeName": "id", "AttributeType": "S", "KeyType": "HASH"}], "items": []}}}"#,
    )
    .expect("writes");
    let def = dir.path().join("put.asl.json");
    std::fs::write(
        &def,
        r#"{"StartAt": "Make", "States": {
             "Make": {"Type": "Task", "Resource": "${FunctionArn:fn1}", "ResultPath": "$.made", "Next": "Put"},
             "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                     "Parameters": {"TableName.$": "$.table", "Item.$": "$.made"},
                     "ResultSelector": {"status.$": "$.SdkHttpMetadata.HttpStatusCode"}, "End": true}}}"#,
    )
    .expect("writes");
    let input = dir.path().join("input.json");
    std::fs::write(&input, r#"{"table": "${TableName:table1}"}"#).expect("writes");
    let out = exec(&[
        "--definition",
        def.to_str().expect("utf-8"),
        "--input",
        input.to_str().expect("utf-8"),
        "--environment",
        env.to_str().expect("utf-8"),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["output"], serde_json::json!({"status": 200}));
    let types: Vec<&str> = v["history"]
        .as_array()
        .expect("a history")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(types.contains(&"LambdaFunctionSucceeded"), "{types:?}");
    assert!(types.contains(&"TaskSucceeded"), "{types:?}");

    // A table the environment does not declare does not exist.
    std::fs::write(&input, r#"{"table": "other"}"#).expect("writes");
    let out = exec(&[
        "--definition",
        def.to_str().expect("utf-8"),
        "--input",
        input.to_str().expect("utf-8"),
        "--environment",
        env.to_str().expect("utf-8"),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["error"], "DynamoDB.ResourceNotFoundException");
}

/// `--case` runs a conformance case file: its definition, input and environment.
#[test]
fn a_case_file_runs_with_its_environment() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let case = dir.path().join("case.json");
    std::fs::write(
        &case,
        r#"{"name": "start_child", "services": ["stepfunctions"],
            "environment": {"stateMachines": {"sm1": {"type": "STANDARD", "definition":
                {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"Arg1": "argument1"}, "End": true}}}}}},
            "definition": {"StartAt": "Start", "States": {"Start": {"Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn.$": "$.arn", "Name": "child"}, "End": true}}},
            "input": {"arn": "${StateMachineArn:sm1}"},
            "expected": {"status": "SUCCEEDED"}, "compare": "shape"}"#,
    )
    .expect("writes");
    let out = exec(&["--case", case.to_str().expect("utf-8"), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(
        v["output"]["Output"],
        serde_json::json!({"Arg1": "argument1"})
    );
    assert_eq!(
        v["output"]["ExecutionArn"],
        "arn:aws:states:us-east-1:111111111111:execution:sm1:child"
    );
    assert_eq!(v["history"][0]["type"], "ExecutionStarted");
    // A case and a definition are two different requests.
    let both = exec(&[
        "--case",
        case.to_str().expect("utf-8"),
        "--definition",
        case.to_str().expect("utf-8"),
    ]);
    assert_eq!(both.status.code(), Some(2));
}
