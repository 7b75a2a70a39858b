//! `orderflow test-state`: one state of a definition run once, as Step Functions' TestState
//! API runs it, printing the API's answer (`aws stepfunctions test-state` prints the same
//! JSON). The flags build the API's request, which the engine reads and checks as
//! `orderflow serve` does.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Map, Value, json};
use sfn_local::{Handlers, TestStateRequest};

use super::BadInput;
use super::exec::read_input;
use order_workflow::standins::stand_ins;

#[derive(clap::Args)]
pub struct TestStateArgs {
    /// The definition: one state, or a whole state machine (then give `--state`).
    #[arg(long, value_name = "FILE")]
    definition: PathBuf,
    /// The state to test in a whole state machine.
    #[arg(long, value_name = "NAME")]
    state: Option<String>,
    /// The state input: a JSON file, or `-` for stdin (default `{}`).
    #[arg(long, value_name = "FILE|-")]
    input: Option<String>,
    /// The workflow variables in scope (a JSON object file).
    #[arg(long, value_name = "FILE")]
    variables: Option<PathBuf>,
    /// Fields of the context object (`$$`), a JSON object file, over the ones filled in.
    #[arg(long, value_name = "FILE")]
    context: Option<PathBuf>,
    /// The mocked result of a Task, Map or Parallel state (a JSON file).
    #[arg(long, value_name = "FILE", conflicts_with = "mock_error")]
    mock_result: Option<PathBuf>,
    /// The mocked error name of a Task, Map or Parallel state.
    #[arg(long, value_name = "NAME")]
    mock_error: Option<String>,
    /// The mocked error's cause.
    #[arg(long, value_name = "TEXT", requires = "mock_error")]
    mock_cause: Option<String>,
    /// How the mocked result is checked: STRICT (default), PRESENT or NONE.
    #[arg(long, value_name = "MODE")]
    field_validation_mode: Option<String>,
    /// INFO (default), DEBUG or TRACE.
    #[arg(long, value_name = "LEVEL")]
    inspection_level: Option<String>,
    /// The retries the matching retrier has made already.
    #[arg(long, value_name = "N")]
    retrier_retry_count: Option<u64>,
    /// For a mocked error of a Map or Parallel state: the state inside that raised it.
    #[arg(long, value_name = "NAME")]
    error_caused_by_state: Option<String>,
    /// How many of a Map's iterations failed.
    #[arg(long, value_name = "N")]
    map_iteration_failure_count: Option<u64>,
    /// Answer unmocked lambda:invoke, dynamodb:putItem and sns:publish tasks with the
    /// benchmark stand-ins, as `orderflow exec --stand-ins` does.
    #[arg(long)]
    stand_ins: bool,
}

fn read_text(path: &PathBuf, what: &str) -> Result<String, BadInput> {
    std::fs::read_to_string(path).map_err(|e| {
        BadInput(format!(
            "cannot read the {what} file {}: {e}",
            path.display()
        ))
    })
}

/// The TestState request the flags describe, in the API's wire form.
fn request_body(args: &TestStateArgs) -> anyhow::Result<Value> {
    let mut body = Map::new();
    body.insert(
        "definition".into(),
        json!(read_text(&args.definition, "definition")?),
    );
    body.insert(
        "input".into(),
        json!(read_input(args.input.as_deref())?.to_string()),
    );
    if let Some(p) = &args.variables {
        body.insert("variables".into(), json!(read_text(p, "variables")?));
    }
    if let Some(p) = &args.context {
        body.insert("context".into(), json!(read_text(p, "context")?));
    }
    if let Some(s) = &args.state {
        body.insert("stateName".into(), json!(s));
    }
    if let Some(l) = &args.inspection_level {
        body.insert("inspectionLevel".into(), json!(l));
    }
    let mut mock = Map::new();
    if let Some(p) = &args.mock_result {
        mock.insert("result".into(), json!(read_text(p, "mock result")?));
    }
    if let Some(e) = &args.mock_error {
        mock.insert(
            "errorOutput".into(),
            json!({"error": e, "cause": args.mock_cause}),
        );
    }
    if let Some(m) = &args.field_validation_mode {
        mock.insert("fieldValidationMode".into(), json!(m));
    }
    if !mock.is_empty() {
        body.insert("mock".into(), Value::Object(mock));
    }
    let mut config = Map::new();
    if let Some(n) = args.retrier_retry_count {
        config.insert("retrierRetryCount".into(), json!(n));
    }
    if let Some(s) = &args.error_caused_by_state {
        config.insert("errorCausedByState".into(), json!(s));
    }
    if let Some(n) = args.map_iteration_failure_count {
        config.insert("mapIterationFailureCount".into(), json!(n));
    }
    if !config.is_empty() {
        body.insert("stateConfiguration".into(), Value::Object(config));
    }
    Ok(Value::Object(body))
}

/// Exits 0 whenever the state was tested, whatever its status (FAILED, RETRIABLE and
/// CAUGHT_ERROR are answers, as the AWS CLI exits 0 for them); 2 when the request is
/// refused, with the API's error code.
pub fn run(args: TestStateArgs) -> anyhow::Result<ExitCode> {
    let body = request_body(&args)?;
    let refused = |e: sfn_local::TestStateError| BadInput(format!("{}: {e}", e.code()));
    let request = TestStateRequest::from_json(&body).map_err(refused)?;
    let handlers = if args.stand_ins {
        stand_ins()?.0
    } else {
        Handlers::new()
    };
    let answer =
        futures::executor::block_on(sfn_local::test_state(&request, &handlers)).map_err(refused)?;
    let text = serde_json::to_string_pretty(&answer.to_json()).context("printing the answer")?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
