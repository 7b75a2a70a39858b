//! An execution's history as the console's table view shows it: one row per state entered,
//! nested under its Parallel branch or Map iteration, with its status, duration, retries
//! and the error that ended it.
//!
//! It reads typed history events, so it shows a run that just ended and one read back from
//! the store alike.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;
use sfn_local::{EventDetails, HistoryEvent, StateMachine};

/// How a state ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    /// Exited normally.
    Succeeded,
    /// Failed, and a Catch of the same state moved the execution on.
    Caught,
    /// Failed, or still open when the execution failed.
    Failed,
    /// Still open when the history ends (a running execution).
    Running,
}

impl RowStatus {
    /// `succeeded`, `caught`, `failed` or `running`.
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Succeeded => "succeeded",
            RowStatus::Caught => "caught",
            RowStatus::Failed => "failed",
            RowStatus::Running => "running",
        }
    }
}

/// One state entered.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The state's name, with the Map iteration index when inside one.
    pub name: String,
    /// `Pass`, `Task`, …
    pub state_type: String,
    /// Nesting: 0 for top-level states, +1 inside each Parallel branch or Map iteration.
    pub depth: usize,
    /// How it ended.
    pub status: RowStatus,
    /// Milliseconds from entering to leaving (to the last event seen when it did not leave).
    pub millis: i64,
    /// Failed attempts that a Retry absorbed.
    pub retries: u32,
    /// The last error the state saw: a task's, a Fail state's, or for a Parallel or Map the
    /// error of the branch or iteration that failed it.
    pub error: Option<String>,
    /// Its input and output.
    pub input: Option<Value>,
    /// See `input`.
    pub output: Option<Value>,
}

#[derive(Clone, Copy, Default)]
struct Context {
    row: Option<usize>,
    depth: usize,
    iteration: Option<usize>,
}

/// The rows of a history, in the order the states were entered. With the definition, a
/// Fail state's row (and the Parallel or Map it failed) names the error the Fail state gives.
pub fn rows(events: &[HistoryEvent], definition: Option<&StateMachine>) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut entered_at: Vec<i64> = Vec::new();
    let mut contexts: HashMap<u64, Context> = HashMap::new();
    // Open Parallel and Map rows, each with the last error seen inside it.
    let mut containers: Vec<(usize, Option<String>)> = Vec::new();
    // For each row, the context it was entered in and the container holding it.
    let mut entered_in: Vec<(Context, Option<usize>)> = Vec::new();
    let mut execution_failed = false;
    for event in events {
        let previous = contexts
            .get(&event.previous_event_id)
            .copied()
            .unwrap_or_default();
        let millis = event.timestamp_millis;
        let mut context = previous;
        use EventDetails as E;
        match &event.details {
            E::StateEntered {
                state_type,
                name,
                input,
            } => {
                let error = match state_type {
                    sfn_local::StateType::Fail => definition.and_then(|d| fail_error(d, name)),
                    _ => None,
                };
                if let (Some(error), Some((_, inner))) = (&error, containers.last_mut()) {
                    *inner = Some(error.clone());
                }
                rows.push(Row {
                    name: match previous.iteration {
                        Some(index) => format!("{name} [item {index}]"),
                        None => name.to_string(),
                    },
                    state_type: state_type.name().to_owned(),
                    depth: previous.depth,
                    status: RowStatus::Running,
                    millis: 0,
                    retries: 0,
                    error,
                    input: Some(input.clone()),
                    output: None,
                });
                entered_at.push(millis);
                entered_in.push((previous, containers.last().map(|(row, _)| *row)));
                context.row = Some(rows.len() - 1);
            }
            E::StateExited { output, .. } => {
                if let Some(row) = previous.row.and_then(|r| rows.get_mut(r)) {
                    // A state that leaves after a failure its retries did not absorb was caught.
                    row.status = if row.status == RowStatus::Failed {
                        RowStatus::Caught
                    } else {
                        RowStatus::Succeeded
                    };
                    row.output = Some(output.clone());
                }
                context.row = None;
            }
            E::ParallelStateStarted | E::MapStateStarted { .. } => {
                if let Some(row) = previous.row {
                    containers.push((row, None));
                }
                context.depth = previous.depth + 1;
            }
            E::MapIterationStarted { index, .. } => context.iteration = Some(*index),
            E::ParallelStateSucceeded
            | E::ParallelStateFailed
            | E::MapStateSucceeded
            | E::MapStateFailed => {
                let failed = matches!(event.details, E::ParallelStateFailed | E::MapStateFailed);
                if let Some(row) = close(&mut rows, &mut containers, failed) {
                    context = Context {
                        row: Some(row),
                        depth: rows[row].depth,
                        iteration: None,
                    };
                }
            }
            // A state of a Parallel branch stopped: the Parallel state failed (AWS records
            // no `ParallelStateFailed` then), and what follows goes on from it.
            E::StateAborted { .. } => {
                context = aborted(&mut rows, &mut containers, &entered_in, context);
            }
            E::ExecutionFailed { .. } | E::ExecutionTimedOut { .. } => execution_failed = true,
            E::Other { event_type, .. } if event_type == "ExecutionAborted" => {
                execution_failed = true
            }
            E::TaskScheduled { .. } | E::LambdaFunctionScheduled { .. } => {
                if let Some(row) = context.row.and_then(|r| rows.get_mut(r)) {
                    if row.error.is_some() {
                        row.retries += 1;
                        row.status = RowStatus::Running;
                    }
                }
            }
            _ => {}
        }
        if let Some(error) = failure_error(&event.details) {
            if let Some(row) = context.row.and_then(|r| rows.get_mut(r)) {
                row.error = Some(error.to_owned());
                row.status = RowStatus::Failed;
            }
            if let Some((_, inner)) = containers.last_mut() {
                *inner = Some(error.to_owned());
            }
        }
        contexts.insert(event.id, context);
        if let Some(r) = context.row {
            if let (Some(row), Some(start)) = (rows.get_mut(r), entered_at.get(r)) {
                row.millis = millis - start;
            }
        }
    }
    settle(&mut rows, execution_failed);
    rows
}

/// A state of a Parallel branch (the row of `context`) stopped: it failed, so did the
/// Parallel holding it (closed here at its first aborted state); returns the context what
/// follows goes on in, the Parallel state's.
fn aborted(
    rows: &mut [Row],
    containers: &mut Vec<(usize, Option<String>)>,
    entered_in: &[(Context, Option<usize>)],
    context: Context,
) -> Context {
    let aborted = context.row.filter(|&r| r < rows.len());
    if let Some(r) = aborted {
        rows[r].status = RowStatus::Failed;
    }
    let parent = aborted
        .and_then(|r| entered_in.get(r))
        .and_then(|(_, p)| *p);
    let Some(parent) = parent else {
        return context;
    };
    if containers.last().is_some_and(|(row, _)| *row == parent) {
        close(rows, containers, true);
    }
    let outer = entered_in.get(parent).map(|(c, _)| *c).unwrap_or_default();
    Context {
        row: Some(parent),
        depth: rows.get(parent).map_or(0, |r| r.depth),
        iteration: outer.iteration,
    }
}

/// Closes the innermost open Parallel or Map row and returns it; when it `failed`, it takes
/// the error seen inside it, which goes on up to an enclosing Parallel or Map, if any.
fn close(
    rows: &mut [Row],
    containers: &mut Vec<(usize, Option<String>)>,
    failed: bool,
) -> Option<usize> {
    let (row, inner) = containers.pop()?;
    if failed {
        if let Some(r) = rows.get_mut(row) {
            r.status = RowStatus::Failed;
            r.error = inner.clone();
        }
        if let (Some(error), Some((_, outer))) = (inner, containers.last_mut()) {
            *outer = Some(error);
        }
    }
    Some(row)
}

/// States that failed but whose execution went on were caught; states still open when the
/// execution failed failed with it.
fn settle(rows: &mut [Row], execution_failed: bool) {
    let last = rows.len().saturating_sub(1);
    for (index, row) in rows.iter_mut().enumerate() {
        row.status = match row.status {
            RowStatus::Running | RowStatus::Failed if index < last && row.depth == 0 => {
                if row.error.is_some() || row.status == RowStatus::Failed {
                    RowStatus::Caught
                } else {
                    RowStatus::Succeeded
                }
            }
            RowStatus::Running if execution_failed => RowStatus::Failed,
            status => status,
        };
    }
}

/// The error a task failure event carries.
fn failure_error(details: &EventDetails) -> Option<&str> {
    use EventDetails as E;
    match details {
        E::TaskFailed { error, .. }
        | E::TaskTimedOut { error, .. }
        | E::LambdaFunctionFailed { error, .. }
        | E::LambdaFunctionTimedOut { error, .. } => Some(if error.is_empty() {
            "(no error name)"
        } else {
            error
        }),
        _ => None,
    }
}

/// The error a Fail state gives, when the definition names it literally.
fn fail_error(definition: &StateMachine, name: &str) -> Option<String> {
    definition
        .find_state(name)
        .and_then(|s| s.fail_error())
        .map(str::to_owned)
}

/// The rows as a table; with `io`, each state's input and output under it.
pub fn table(rows: &[Row], io: bool) -> String {
    let width = rows
        .iter()
        .map(|r| r.name.chars().count() + 2 * r.depth)
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<width$}  {:<8}  {:<9}  {:>6}  NOTE",
        "STATE", "TYPE", "STATUS", "MS"
    );
    for row in rows {
        let name = format!("{}{}", "  ".repeat(row.depth), row.name);
        let mut note = String::new();
        if row.retries > 0 {
            let _ = write!(note, "retried {}x", row.retries);
        }
        if let Some(error) = &row.error {
            if !note.is_empty() {
                note.push_str("; ");
            }
            let verb = if row.status == RowStatus::Succeeded {
                "last error"
            } else {
                "error"
            };
            let _ = write!(note, "{verb} {error}");
        }
        let _ = writeln!(
            out,
            "  {name:<width$}  {:<8}  {:<9}  {:>6}  {note}",
            row.state_type,
            row.status.as_str(),
            row.millis
        );
        if io {
            for (label, value) in [("input ", &row.input), ("output", &row.output)] {
                if let Some(value) = value {
                    // Indented JSON, one member a line, under the row.
                    let text = serde_json::to_string_pretty(value).unwrap_or_default();
                    let pad = format!("  {:width$}    ", "");
                    let mut lines = text.lines();
                    if let Some(first) = lines.next() {
                        let _ = writeln!(out, "{pad}{label} {first}");
                    }
                    for line in lines {
                        let _ = writeln!(out, "{pad}       {line}");
                    }
                }
            }
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(id: u64, previous: u64, kind: &str, details: Value) -> HistoryEvent {
        let mut event = json!({"id": id, "previousEventId": previous, "type": kind,
                               "timestamp": format!("2026-11-24T10:00:00.{:03}Z", id)});
        if let Value::Object(details) = details {
            for (key, value) in details {
                event[key] = value;
            }
        }
        HistoryEvent::from_json(&event).expect("an event")
    }

    fn entered(id: u64, previous: u64, kind: &str, name: &str) -> HistoryEvent {
        event(
            id,
            previous,
            kind,
            json!({"stateEnteredEventDetails": {"name": name, "input": "{}"}}),
        )
    }

    fn exited(id: u64, previous: u64, kind: &str, name: &str) -> HistoryEvent {
        event(
            id,
            previous,
            kind,
            json!({"stateExitedEventDetails": {"name": name, "output": "{}"}}),
        )
    }

    fn summary(rows: &[Row]) -> Vec<(String, usize, RowStatus, u32)> {
        rows.iter()
            .map(|r| (r.name.clone(), r.depth, r.status, r.retries))
            .collect()
    }

    #[test]
    fn a_retried_then_caught_task_and_a_map_iteration() {
        let failed = json!({"taskFailedEventDetails": {"error": "PaymentError", "cause": "{}"}});
        let history = vec![
            event(1, 0, "ExecutionStarted", json!({})),
            entered(2, 1, "MapStateEntered", "Check"),
            event(3, 2, "MapStateStarted", json!({})),
            event(
                4,
                3,
                "MapIterationStarted",
                json!({"mapIterationStartedEventDetails": {"index": 0}}),
            ),
            entered(5, 4, "PassStateEntered", "Item"),
            exited(6, 5, "PassStateExited", "Item"),
            event(7, 6, "MapIterationSucceeded", json!({})),
            event(8, 7, "MapStateSucceeded", json!({})),
            exited(9, 8, "MapStateExited", "Check"),
            entered(10, 9, "TaskStateEntered", "Charge"),
            event(11, 10, "TaskScheduled", json!({})),
            event(
                12,
                11,
                "TaskFailed",
                json!({"taskFailedEventDetails": {"error": "Lambda.ServiceException"}}),
            ),
            event(13, 12, "TaskScheduled", json!({})),
            event(14, 13, "TaskFailed", failed),
            entered(15, 14, "PassStateEntered", "Declined"),
            event(16, 15, "ExecutionFailed", json!({})),
        ];
        let rows = rows(&history, None);
        assert_eq!(
            summary(&rows),
            vec![
                ("Check".to_owned(), 0, RowStatus::Succeeded, 0),
                ("Item [item 0]".to_owned(), 1, RowStatus::Succeeded, 0),
                ("Charge".to_owned(), 0, RowStatus::Caught, 1),
                ("Declined".to_owned(), 0, RowStatus::Failed, 0),
            ]
        );
        assert_eq!(rows[2].error.as_deref(), Some("PaymentError"));
        assert_eq!(rows[2].millis, 4);
        let text = table(&rows, false);
        assert!(text.contains("retried 1x; error PaymentError"), "{text}");
    }

    #[test]
    fn parallel_branches_nest() {
        let history = vec![
            event(1, 0, "ExecutionStarted", json!({})),
            entered(2, 1, "ParallelStateEntered", "Both"),
            event(3, 2, "ParallelStateStarted", json!({})),
            entered(4, 3, "TaskStateEntered", "Left"),
            entered(5, 3, "TaskStateEntered", "Right"),
            exited(6, 5, "TaskStateExited", "Right"),
            exited(7, 4, "TaskStateExited", "Left"),
            event(8, 7, "ParallelStateSucceeded", json!({})),
            exited(9, 8, "ParallelStateExited", "Both"),
            event(10, 9, "ExecutionSucceeded", json!({})),
        ];
        let rows = rows(&history, None);
        let depths: Vec<usize> = rows.iter().map(|r| r.depth).collect();
        assert_eq!(depths, vec![0, 1, 1]);
        assert!(
            rows.iter().all(|r| r.status == RowStatus::Succeeded),
            "{rows:?}"
        );
    }

    /// As AWS records a Parallel state whose branch fails (error_output__parallel_catch_error
    /// in the integrations corpus): the failing task's abort, a sibling's abort following its
    /// own branch, no `ParallelStateFailed`, then the Catch.
    #[test]
    fn an_aborted_branch_fails_its_parallel_which_is_caught() {
        let failed = json!({"taskFailedEventDetails": {"error": "Exception", "cause": "boom"}});
        let history = vec![
            event(1, 0, "ExecutionStarted", json!({})),
            entered(2, 1, "ParallelStateEntered", "Both"),
            event(3, 2, "ParallelStateStarted", json!({})),
            entered(4, 3, "WaitStateEntered", "Sleep"),
            entered(5, 3, "TaskStateEntered", "Call"),
            event(6, 5, "TaskScheduled", json!({})),
            event(7, 6, "TaskFailed", failed),
            event(8, 7, "TaskStateAborted", json!({})),
            event(9, 4, "WaitStateAborted", json!({})),
            exited(10, 9, "ParallelStateExited", "Both"),
            entered(11, 10, "PassStateEntered", "Caught"),
            exited(12, 11, "PassStateExited", "Caught"),
            event(13, 12, "ExecutionSucceeded", json!({})),
        ];
        let rows = rows(&history, None);
        assert_eq!(
            summary(&rows),
            vec![
                ("Both".to_owned(), 0, RowStatus::Caught, 0),
                ("Sleep".to_owned(), 1, RowStatus::Failed, 0),
                ("Call".to_owned(), 1, RowStatus::Failed, 0),
                ("Caught".to_owned(), 0, RowStatus::Succeeded, 0),
            ]
        );
        assert_eq!(rows[0].error.as_deref(), Some("Exception"));
    }
}
