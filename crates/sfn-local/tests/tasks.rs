//! What Task states do with their handlers' answers, as recorded on AWS (conformance
//! category `integrations`).

use futures::FutureExt;
use serde_json::{Value, json};
use sfn_local::{ExecuteOptions, Handlers, StateMachine, Status, TaskFailure, TaskRequest};

fn run(definition: Value, handlers: Handlers) -> sfn_local::Execution {
    let machine = StateMachine::from_value(&definition).expect("a valid definition");
    futures::executor::block_on(
        machine.execute(json!({}), &ExecuteOptions::new().handlers(handlers)),
    )
}

fn types(execution: &sfn_local::Execution) -> Vec<String> {
    execution
        .history
        .iter()
        .map(|e| e.details.event_type())
        .collect()
}

fn catching(resource: &str, catch: Value, timeout: Option<u64>) -> Value {
    let mut task = json!({"Type": "Task", "Resource": resource, "Catch": catch, "End": true});
    if let Some(t) = timeout {
        task["TimeoutSeconds"] = json!(t);
    }
    json!({"StartAt": "T", "States": {"T": task, "Caught": {"Type": "Pass", "End": true}}})
}

/// states_errors__task_lambda_catch_state_all_data_limit_exceeded_on_large_utf8_response:
/// a service's `States.DataLimitExceeded` is caught by `States.ALL`.
#[test]
fn a_reported_data_limit_error_is_caught_by_states_all() {
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |_: TaskRequest| {
            async { Err(TaskFailure::new("States.DataLimitExceeded", "too big")) }.boxed()
        })
        .expect("a pattern");
    let catch = json!([{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]);
    let execution = run(
        catching("arn:aws:states:::lambda:invoke", catch, None),
        handlers,
    );
    assert_eq!(execution.status, Status::Succeeded);
    assert_eq!(
        execution.output,
        Some(json!({"Error": "States.DataLimitExceeded", "Cause": "too big"}))
    );
}

/// task_service_lambda__invoke_timeout and timeouts__fixed_timeout_service_lambda: a timed-out
/// task's error output has an empty cause, the failed execution none.
#[test]
fn a_caught_task_timeout_has_an_empty_cause() {
    let handlers = || {
        let mut handlers = Handlers::new();
        handlers
            .register("arn:aws:states:::lambda:invoke", |_: TaskRequest| {
                futures::future::pending().boxed()
            })
            .expect("a pattern");
        handlers
    };
    let catch = json!([{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}]);
    let caught = run(
        catching("arn:aws:states:::lambda:invoke", catch, Some(5)),
        handlers(),
    );
    assert_eq!(
        caught.output,
        Some(json!({"Error": "States.Timeout", "Cause": ""}))
    );
    let catch_other = json!([{"ErrorEquals": ["Other"], "Next": "Caught"}]);
    let failed = run(
        catching("arn:aws:states:::lambda:invoke", catch_other, Some(5)),
        handlers(),
    );
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.error.as_deref(), Some("States.Timeout"));
    assert_eq!(failed.cause, None);
}

/// callback__start_execution_sync: a `.sync` job's start is recorded as `TaskSubmitted`.
#[test]
fn a_submitted_job_is_recorded_before_the_task_ends() {
    let mut handlers = Handlers::new();
    handlers
        .register(
            "arn:aws:states:::states:startExecution",
            |req: TaskRequest| {
                async move {
                    if req.resource.ends_with(".sync") {
                        req.submission.submit(json!({"ExecutionArn": "arn"}));
                    }
                    Ok(json!({"done": true}))
                }
                .boxed()
            },
        )
        .expect("a pattern");
    let definition = |resource: &str| json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": true}}});
    let sync = run(
        definition("arn:aws:states:::states:startExecution.sync"),
        handlers.clone(),
    );
    let events = types(&sync);
    assert_eq!(
        events[2..6],
        [
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded"
        ]
    );
    let submitted = sync.history[4].to_json();
    assert_eq!(
        submitted["taskSubmittedEventDetails"]["output"],
        json!({"ExecutionArn": "arn"}).to_string()
    );
    let plain = run(
        definition("arn:aws:states:::states:startExecution"),
        handlers,
    );
    assert!(!types(&plain).iter().any(|t| t == "TaskSubmitted"));
}

/// base_scenarios__catch_states_runtime: the engine's own States.Runtime (an OutputPath that
/// selects nothing) ends the execution, even past a Catch naming it.
#[test]
fn a_runtime_error_is_not_caught_even_by_name() {
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:lambda:*:*:function:*", |_: TaskRequest| {
            async { Ok(json!({})) }.boxed()
        })
        .expect("a pattern");
    let mut definition = catching(
        "arn:aws:lambda:us-east-1:111111111111:function:f",
        json!([{"ErrorEquals": ["States.Runtime"], "Next": "Caught"}]),
        None,
    );
    definition["States"]["T"]["OutputPath"] = json!("$.no.such.path");
    let execution = run(definition, handlers);
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
}

/// error_output__parallel_catch_error__PARALLEL_CATCH_ERROR_OUTPUT: a branch whose task fails
/// records the task's abort, not `ParallelStateFailed`; a sibling branch still waiting is
/// aborted too, its abort following that branch's own last event.
#[test]
fn a_failing_branch_aborts_its_state_and_its_siblings() {
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |_: TaskRequest| {
            async { Err(TaskFailure::new("Exception", "boom")) }.boxed()
        })
        .expect("a pattern");
    let definition = json!({
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Sleep", "States": {"Sleep": {"Type": "Wait", "Seconds": 60, "End": true}}},
                    {"StartAt": "Call", "States": {"Call": {
                        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": true
            },
            "Caught": {"Type": "Pass", "End": true}
        }
    });
    let execution = run(definition, handlers);
    assert_eq!(execution.status, Status::Succeeded, "{:?}", execution.error);
    let types = types(&execution);
    assert!(
        !types.iter().any(|t| t == "ParallelStateFailed"),
        "{types:?}"
    );
    let position = |t: &str| types.iter().position(|x| x == t);
    let (Some(failed), Some(task_aborted), Some(wait_aborted), Some(exited)) = (
        position("TaskFailed"),
        position("TaskStateAborted"),
        position("WaitStateAborted"),
        position("ParallelStateExited"),
    ) else {
        panic!("missing events in {types:?}");
    };
    assert!(failed < task_aborted && task_aborted < exited && wait_aborted < exited);
    // Each abort follows its own branch: the task's its failure, the wait's its entry.
    let event = |i: usize| &execution.history[i];
    assert_eq!(event(task_aborted).previous_event_id, event(failed).id);
    let wait_entered = types
        .iter()
        .position(|t| t == "WaitStateEntered")
        .expect("the wait was entered");
    assert_eq!(
        event(wait_aborted).previous_event_id,
        event(wait_entered).id
    );
    // The history reads back as it was written.
    for e in &execution.history {
        let back = sfn_local::HistoryEvent::from_json(&e.to_json()).expect("an event");
        assert_eq!(back.details.event_type(), e.details.event_type());
    }
}
