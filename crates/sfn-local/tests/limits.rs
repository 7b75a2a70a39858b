//! AWS's execution limits, and the engine's own bounds where AWS documents none: a
//! definition or a run that would exhaust the stack or memory ends with an error instead.

use std::time::Duration;

use futures::future::FutureExt;
use serde_json::{Value, json};
use sfn_local::{
    EventDetails, ExecuteOptions, Execution, Handlers, MAX_DEPTH, MAX_HISTORY_DATA_BYTES,
    MAX_HISTORY_EVENTS, StateMachine, Status, TaskFailure, TaskRequest,
};

fn run(definition: Value, input: Value, options: ExecuteOptions) -> Execution {
    let machine = StateMachine::from_value(&definition).expect("the definition loads");
    // Deep recursion in the engine would overflow this small stack long before a default one.
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || futures::executor::block_on(machine.execute(input, &options)))
        .expect("a thread")
        .join()
        .expect("the execution does not crash")
}

fn last_event(execution: &Execution) -> (&str, u64, u64) {
    let last = execution.history.last().expect("events");
    let kind = match &last.details {
        EventDetails::ExecutionFailed { .. } => "ExecutionFailed",
        EventDetails::ExecutionSucceeded { .. } => "ExecutionSucceeded",
        EventDetails::ExecutionTimedOut { .. } => "ExecutionTimedOut",
        _ => "other",
    };
    (kind, last.id, last.previous_event_id)
}

fn history_limit_cause() -> String {
    format!("The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS}).")
}

#[test]
fn a_state_looping_forever_ends_at_the_history_limit() {
    let execution = run(
        json!({"StartAt": "Loop", "States": {"Loop": {"Type": "Pass", "Next": "Loop"}}}),
        json!({"spin": true}),
        ExecuteOptions::new(),
    );
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert_eq!(execution.cause, Some(history_limit_cause()));
    // Event 25,000 is the failure; 24,999 is the last the machine produced (as AWS records it).
    assert_eq!(
        last_event(&execution),
        (
            "ExecutionFailed",
            MAX_HISTORY_EVENTS,
            MAX_HISTORY_EVENTS - 1
        )
    );
    assert_eq!(execution.history.len() as u64, MAX_HISTORY_EVENTS);
}

#[test]
fn the_history_limit_is_counted_without_keeping_the_history() {
    let execution = run(
        json!({"StartAt": "Loop", "States": {"Loop": {"Type": "Pass", "Next": "Loop"}}}),
        json!({}),
        ExecuteOptions::new().history(false),
    );
    assert_eq!(execution.cause, Some(history_limit_cause()));
    assert!(execution.history.is_empty());
}

#[test]
fn endless_retries_end_at_the_history_limit_and_no_catch_sees_it() {
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |_: TaskRequest| {
            async { Err(TaskFailure::new("Boom", "always")) }.boxed()
        })
        .expect("registers");
    let execution = run(
        json!({"StartAt": "Try", "States": {
            "Try": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 99_999_999,
                               "IntervalSeconds": 1, "BackoffRate": 1.0}],
                    "Catch": [{"ErrorEquals": ["States.Runtime"], "Next": "Caught"}],
                    "End": true},
            "Caught": {"Type": "Succeed"}}}),
        json!({}),
        ExecuteOptions::new().handlers(handlers),
    );
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(execution.cause, Some(history_limit_cause()));
}

/// Retries that each schedule a large input would keep gigabytes of parameters well before
/// the event quota: the kept history's documents are bounded too.
#[test]
fn retries_of_a_large_input_end_at_the_history_data_limit() {
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |_: TaskRequest| {
            async { Err(TaskFailure::new("Boom", "always")) }.boxed()
        })
        .expect("registers");
    // About 130 KB as JSON, under the 256 KiB payload limit; some 2 MB as values in memory.
    let input = json!({"items": vec![0; 65_000]});
    let execution = run(
        json!({"StartAt": "Try", "States": {
            "Try": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 99_999_999,
                               "BackoffRate": 1.0}],
                    "End": true}}}),
        input,
        ExecuteOptions::new().handlers(handlers),
    );
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    let cause = execution.cause.clone().unwrap_or_default();
    assert!(
        cause.contains(&format!("{} MiB of data", MAX_HISTORY_DATA_BYTES >> 20)),
        "{cause}"
    );
    let kept: u64 = execution
        .history
        .iter()
        .map(|e| e.details.footprint())
        .sum();
    assert!(kept <= MAX_HISTORY_DATA_BYTES + (8 << 20), "{kept}");
    assert!((execution.history.len() as u64) < MAX_HISTORY_EVENTS);
}

#[test]
fn a_large_map_ends_at_the_history_limit() {
    // 100,000 items fit in the payload limit as zeros; each iteration records four events.
    let items = vec![json!(0); 100_000];
    let execution = run(
        json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items",
            "End": true,
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}}}}}),
        json!({ "items": items }),
        ExecuteOptions::new(),
    );
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(execution.cause, Some(history_limit_cause()));
    assert_eq!(execution.history.len() as u64, MAX_HISTORY_EVENTS);
}

#[test]
fn the_limit_spares_a_success_that_is_the_last_event() {
    // 2 events per Pass: ExecutionStarted + n × 2 + ExecutionSucceeded.
    let states: serde_json::Map<String, Value> = (0..4)
        .map(|i| {
            let state = if i == 3 {
                json!({"Type": "Pass", "End": true})
            } else {
                json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
            };
            (format!("S{i}"), state)
        })
        .collect();
    let definition = json!({"StartAt": "S0", "States": states});
    // 1 + 8 + 1 = 10 events.
    let exactly = run(
        definition.clone(),
        json!({}),
        ExecuteOptions::new().max_history_events(10),
    );
    assert_eq!(exactly.status, Status::Succeeded);
    assert_eq!(exactly.history.len(), 10);
    let one_short = run(
        definition,
        json!({}),
        ExecuteOptions::new().max_history_events(9),
    );
    assert_eq!(one_short.status, Status::Failed);
    assert_eq!(
        one_short.cause.as_deref(),
        Some("The execution reached the maximum number of history events (9).")
    );
}

#[test]
fn a_deep_result_path_is_refused_at_load() {
    let path = format!("${}", ".a".repeat(40_000));
    let definition =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "ResultPath": path, "End": true}}});
    let error = StateMachine::from_value(&definition).expect_err("too deep");
    assert!(error.to_string().contains("more than 128 steps"), "{error}");
    // A path of the largest accepted length still runs.
    let path = format!("${}", ".a".repeat(90));
    let execution = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "ResultPath": path, "End": true}}}),
        json!({}),
        ExecuteOptions::new(),
    );
    assert_eq!(execution.status, Status::Succeeded);
}

#[test]
fn a_value_nested_deeper_each_round_ends_the_execution() {
    // Each round wraps the whole document one level deeper; without a bound, serialising
    // or dropping it would overflow the stack before the history limit.
    let execution = run(
        json!({"StartAt": "Wrap", "States": {
            "Wrap": {"Type": "Pass", "Parameters": {"inner.$": "$"}, "Next": "Wrap"}}}),
        json!({}),
        ExecuteOptions::new(),
    );
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert!(
        execution
            .cause
            .as_deref()
            .is_some_and(|c| c.contains(&format!("more than {MAX_DEPTH} levels"))),
        "{:?}",
        execution.cause
    );
}

#[test]
fn a_state_output_over_the_payload_limit_fails() {
    // The input and the result each fit; the output that holds both does not.
    let half = "x".repeat(150 * 1024);
    let execution = run(
        json!({"StartAt": "Grow", "States": {
            "Grow": {"Type": "Pass", "Parameters": {"copy.$": "$.half"}, "ResultPath": "$.more",
                     "End": true}}}),
        json!({ "half": half }),
        ExecuteOptions::new(),
    );
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.DataLimitExceeded"));
    // Parameters that build an effective input over the limit fail the same way.
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |r: TaskRequest| {
            async move { Ok(r.input) }.boxed()
        })
        .expect("registers");
    let execution = run(
        json!({"StartAt": "Call", "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"a.$": "$.half", "b.$": "$.half"}, "End": true}}}),
        json!({ "half": "y".repeat(150 * 1024) }),
        ExecuteOptions::new().handlers(handlers),
    );
    assert_eq!(execution.error.as_deref(), Some("States.DataLimitExceeded"));
}

#[test]
fn a_wall_clock_limit_stops_a_virtual_time_execution() {
    // A long Map of long Waits costs nothing in virtual time but still takes real time to
    // compute; the limit bounds the real time.
    let items: Vec<Value> = (0..20_000).map(|i| json!(i)).collect();
    let execution = run(
        json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items",
            "MaxConcurrency": 1, "End": true,
            "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": true}}}}}}),
        json!({ "items": items }),
        ExecuteOptions::new().wall_clock_limit(Duration::ZERO),
    );
    assert_eq!(execution.status, Status::TimedOut);
    assert_eq!(execution.error.as_deref(), Some("States.Timeout"));
    assert!(
        execution
            .cause
            .as_deref()
            .is_some_and(|c| c.contains("wall-clock limit")),
        "{:?}",
        execution.cause
    );
    assert_eq!(last_event(&execution).0, "ExecutionTimedOut");
}

#[test]
fn a_definition_nested_too_deep_is_refused() {
    let mut deep = json!("leaf");
    for _ in 0..(MAX_DEPTH + 10) {
        deep = json!({ "x": deep });
    }
    let definition =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": deep, "End": true}}});
    let error = StateMachine::from_value(&definition).expect_err("too deep");
    assert!(error.to_string().contains("nested more than"), "{error}");
}
