//! Checkpoints between top-level states, and executions resumed from each of them: the same
//! end, the same history as a run that was never interrupted, the step in flight run again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt as _;
use serde_json::{Value, json};
use sfn_local::{
    Checkpoint, Checkpoints, ExecuteOptions, Execution, Handlers, HistoryEvent, Redrive, Resume,
    StateMachine, Status, TaskRequest,
};

#[derive(Default)]
struct Kept(Mutex<Vec<(Checkpoint, Vec<HistoryEvent>)>>);

impl Checkpoints for Kept {
    fn checkpoint(&self, checkpoint: &Checkpoint, events: &[HistoryEvent]) {
        self.0
            .lock()
            .expect("checkpoints")
            .push((checkpoint.clone(), events.to_vec()));
    }
}

fn machine() -> StateMachine {
    StateMachine::from_value(&json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Count",
        "States": {
            "Count": {"Type": "Pass", "Assign": {"seen": "{% $states.input.n %}"}, "Next": "Double"},
            "Double": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Arguments": {"Payload": {"n": "{% $seen %}"}},
                       "Output": "{% $states.result.Payload %}", "Next": "Both"},
            "Both": {"Type": "Parallel", "Next": "Rest", "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": true}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": true}}}]},
            "Rest": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
            "Done": {"Type": "Pass", "Output": {"n": "{% $states.input[0].n %}", "seen": "{% $seen %}"}, "End": true}
        }
    }))
    .expect("a valid definition")
}

fn handlers(calls: Arc<AtomicUsize>) -> Handlers {
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", move |r: TaskRequest| {
            calls.fetch_add(1, Ordering::Relaxed);
            let n = r.input["Payload"]["n"].as_i64().unwrap_or(0);
            async move { Ok(json!({"Payload": {"n": n * 2}})) }.boxed()
        })
        .expect("a pattern");
    handlers
}

fn types(history: &[HistoryEvent]) -> Vec<String> {
    history.iter().map(|e| e.details.event_type()).collect()
}

fn run(options: ExecuteOptions) -> Execution {
    futures::executor::block_on(machine().execute(json!({"n": 21}), &options))
}

#[test]
fn an_execution_resumed_from_any_checkpoint_ends_as_if_never_interrupted() {
    let kept = Arc::new(Kept::default());
    let calls = Arc::new(AtomicUsize::new(0));
    let whole = run(ExecuteOptions::new()
        .handlers(handlers(Arc::clone(&calls)))
        .name("e")
        .checkpoints(Arc::clone(&kept) as Arc<dyn Checkpoints>));
    assert_eq!(whole.status, Status::Succeeded, "{whole:?}");
    assert_eq!(whole.output, Some(json!({"n": 42, "seen": 21})));
    let checkpoints = kept.0.lock().expect("checkpoints").clone();
    let states: Vec<&str> = checkpoints.iter().map(|(c, _)| c.state.as_str()).collect();
    assert_eq!(
        states,
        ["Count", "Double", "Both", "Rest", "Done"],
        "top-level states only"
    );
    // The events handed over add up to the history before each checkpoint.
    let mut so_far: Vec<HistoryEvent> = Vec::new();
    for (checkpoint, events) in &checkpoints {
        so_far.extend(events.iter().cloned());
        assert_eq!(so_far.len() as u64, checkpoint.last_event_id);
        assert_eq!(so_far.as_slice(), &whole.history[..so_far.len()]);
    }
    for (k, (checkpoint, _)) in checkpoints.iter().enumerate() {
        let before: Vec<HistoryEvent> = checkpoints[..=k]
            .iter()
            .flat_map(|(_, events)| events.iter().cloned())
            .collect();
        let calls = Arc::new(AtomicUsize::new(0));
        let resumed = run(ExecuteOptions::new()
            .handlers(handlers(Arc::clone(&calls)))
            .name("e")
            .resume(Resume {
                checkpoint: checkpoint.clone(),
                events: before,
                start_millis: whole.start_millis,
                redrive: None,
            }));
        assert_eq!(
            resumed.status,
            Status::Succeeded,
            "from {}",
            checkpoint.state
        );
        assert_eq!(resumed.output, whole.output, "from {}", checkpoint.state);
        assert_eq!(
            types(&resumed.history),
            types(&whole.history),
            "from {}",
            checkpoint.state
        );
        let ids: Vec<u64> = resumed.history.iter().map(|e| e.id).collect();
        assert_eq!(ids, (1..=whole.history.len() as u64).collect::<Vec<_>>());
        // The task runs again only when the execution resumes at or before it.
        assert_eq!(
            calls.load(Ordering::Relaxed),
            usize::from(k <= 1),
            "from {}",
            checkpoint.state
        );
        assert_eq!(resumed.start_millis, whole.start_millis);
    }
}

#[test]
fn a_checkpoint_naming_no_state_fails_the_resumed_execution() {
    let resumed = run(ExecuteOptions::new().resume(Resume {
        checkpoint: Checkpoint {
            state: "Gone".into(),
            input: Value::Null,
            variables: serde_json::Map::new(),
            last_event_id: 0,
        },
        events: Vec::new(),
        start_millis: 0,
        redrive: None,
    }));
    assert_eq!(resumed.status, Status::Failed);
    assert_eq!(resumed.error.as_deref(), Some("States.Runtime"));
    assert!(
        resumed
            .cause
            .as_deref()
            .is_some_and(|c| c.contains("'Gone'"))
    );
}

#[test]
fn a_redrive_continues_after_the_failure_from_the_failed_state() {
    let machine = StateMachine::from_value(&json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Result": "kept", "ResultPath": "$.first", "Next": "Call"},
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"Payload": {"redrives.$": "$$.Execution.RedriveCount"}},
                     "ResultSelector": {"redrives.$": "$.Payload.redrives"},
                     "ResultPath": "$.call", "End": true}
        }
    }))
    .expect("a valid definition");
    let failing = Arc::new(AtomicUsize::new(1));
    let left = Arc::clone(&failing);
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", move |r: TaskRequest| {
            let fail = left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok();
            async move {
                if fail {
                    Err(sfn_local::TaskFailure::new("Boom", "the first call fails"))
                } else {
                    Ok(json!({"Payload": r.input["Payload"]}))
                }
            }
            .boxed()
        })
        .expect("a pattern");
    let kept = Arc::new(Kept::default());
    let options = ExecuteOptions::new()
        .handlers(handlers)
        .checkpoints(Arc::clone(&kept) as Arc<dyn Checkpoints>);
    let failed = futures::executor::block_on(machine.execute(json!({}), &options));
    assert_eq!(failed.status, Status::Failed);
    let (last, _) = kept
        .0
        .lock()
        .expect("checkpoints")
        .last()
        .cloned()
        .expect("a checkpoint");
    assert_eq!(last.state, "Call", "the failed state's checkpoint");
    let redriven = futures::executor::block_on(machine.execute(
        json!({}),
        &options.clone().resume(Resume {
            checkpoint: last,
            events: failed.history.clone(),
            start_millis: failed.start_millis,
            redrive: Some(Redrive {
                count: 1,
                at_millis: failed.stop_millis,
                now: true,
            }),
        }),
    ));
    assert_eq!(redriven.status, Status::Succeeded, "{redriven:?}");
    assert_eq!(
        redriven.output,
        Some(json!({"first": "kept", "call": {"redrives": 1}})),
        "the first state's result kept, the context saying it is the first redrive"
    );
    let types = types(&redriven.history);
    let n = failed.history.len();
    assert_eq!(
        &types[..n],
        &self::types(&failed.history)[..],
        "the first run's history kept"
    );
    assert_eq!(types[n - 1], "ExecutionFailed");
    assert_eq!(types[n], "ExecutionRedriven");
    assert_eq!(types[n + 1], "TaskStateEntered");
    assert_eq!(types.last().map(String::as_str), Some("ExecutionSucceeded"));
    assert_eq!(
        redriven.history[n].to_json()["executionRedrivenEventDetails"],
        json!({"redriveCount": 1})
    );
    assert_eq!(redriven.history[n].previous_event_id, n as u64);
    let ids: Vec<u64> = redriven.history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=redriven.history.len() as u64).collect::<Vec<_>>());
}
