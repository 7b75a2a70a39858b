//! An execution's history as the console's table view shows it: one row per state entered,
//! nested under its Parallel branch or Map iteration, with its status, duration, retries
//! and the error that ended it.
//!
//! It reads history events in `GetExecutionHistory`'s JSON, so it shows a run that just
//! ended and one read back from the store alike.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

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
    fn as_str(self) -> &'static str {
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
    /// The last error the state saw.
    pub error: Option<String>,
    /// Its input and output, as JSON text.
    pub input: Option<String>,
    /// See `input`.
    pub output: Option<String>,
}

#[derive(Clone, Copy, Default)]
struct Context {
    row: Option<usize>,
    depth: usize,
    iteration: Option<u64>,
}

/// The rows of a history, in the order the states were entered.
pub fn rows(events: &[Value]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut entered_at: Vec<i64> = Vec::new();
    let mut contexts: HashMap<u64, Context> = HashMap::new();
    let mut containers: Vec<usize> = Vec::new();
    let mut execution_failed = false;
    let mut last_millis = 0;
    for event in events {
        let id = event["id"].as_u64().unwrap_or(0);
        let previous = contexts
            .get(&event["previousEventId"].as_u64().unwrap_or(0))
            .copied()
            .unwrap_or_default();
        let millis = event["timestamp"]
            .as_str()
            .and_then(timestamp_millis)
            .unwrap_or(last_millis);
        last_millis = millis;
        let kind = event["type"].as_str().unwrap_or_default();
        let mut context = previous;
        if let Some(state_type) = kind.strip_suffix("StateEntered") {
            let details = &event["stateEnteredEventDetails"];
            let name = details["name"].as_str().unwrap_or_default();
            rows.push(Row {
                name: match previous.iteration {
                    Some(index) => format!("{name} [item {index}]"),
                    None => name.to_owned(),
                },
                state_type: state_type.to_owned(),
                depth: previous.depth,
                status: RowStatus::Running,
                millis: 0,
                retries: 0,
                error: None,
                input: details["input"].as_str().map(str::to_owned),
                output: None,
            });
            entered_at.push(millis);
            context.row = Some(rows.len() - 1);
        } else if kind.ends_with("StateExited") {
            if let Some(row) = previous.row.and_then(|r| rows.get_mut(r)) {
                // A state that leaves after a failure its retries did not absorb was caught.
                row.status = if row.status == RowStatus::Failed {
                    RowStatus::Caught
                } else {
                    RowStatus::Succeeded
                };
                row.output = event["stateExitedEventDetails"]["output"]
                    .as_str()
                    .map(str::to_owned);
            }
            context.row = None;
        } else {
            match kind {
                "ParallelStateStarted" | "MapStateStarted" => {
                    if let Some(row) = previous.row {
                        containers.push(row);
                    }
                    context.depth = previous.depth + 1;
                }
                "MapIterationStarted" => {
                    context.iteration = event["mapIterationStartedEventDetails"]["index"].as_u64();
                }
                "ParallelStateSucceeded"
                | "ParallelStateFailed"
                | "MapStateSucceeded"
                | "MapStateFailed" => {
                    if let Some(row) = containers.pop() {
                        context = Context {
                            row: Some(row),
                            depth: rows[row].depth,
                            iteration: None,
                        };
                        if kind.ends_with("Failed") {
                            rows[row].status = RowStatus::Failed;
                        }
                    }
                }
                "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted" => {
                    execution_failed = true
                }
                _ => {}
            }
            if let Some(error) = failure_error(event, kind) {
                if let Some(row) = context.row.and_then(|r| rows.get_mut(r)) {
                    row.error = Some(error);
                    row.status = RowStatus::Failed;
                }
            }
            if matches!(kind, "TaskScheduled" | "LambdaFunctionScheduled") {
                if let Some(row) = context.row.and_then(|r| rows.get_mut(r)) {
                    if row.error.is_some() {
                        row.retries += 1;
                        row.status = RowStatus::Running;
                    }
                }
            }
        }
        contexts.insert(id, context);
        if let Some(r) = context.row {
            if let (Some(row), Some(start)) = (rows.get_mut(r), entered_at.get(r)) {
                row.millis = millis - start;
            }
        }
    }
    settle(&mut rows, execution_failed);
    rows
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

fn failure_error(event: &Value, kind: &str) -> Option<String> {
    let details = match kind {
        "TaskFailed" => &event["taskFailedEventDetails"],
        "TaskTimedOut" => &event["taskTimedOutEventDetails"],
        "LambdaFunctionFailed" => &event["lambdaFunctionFailedEventDetails"],
        "LambdaFunctionTimedOut" => &event["lambdaFunctionTimedOutEventDetails"],
        "MapIterationFailed" | "ParallelStateFailed" | "MapStateFailed" => {
            return Some(kind.to_owned());
        }
        _ => return None,
    };
    Some(
        details["error"]
            .as_str()
            .unwrap_or("(no error name)")
            .to_owned(),
    )
}

fn timestamp_millis(text: &str) -> Option<i64> {
    sfn_local::timestamp::parse(text).and_then(|nanos| i64::try_from(nanos / 1_000_000).ok())
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
            for (label, text) in [("input ", &row.input), ("output", &row.output)] {
                if let Some(text) = text {
                    let _ = writeln!(out, "  {:width$}    {label} {text}", "");
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

    fn event(id: u64, previous: u64, kind: &str, details: Value) -> Value {
        let mut event = json!({"id": id, "previousEventId": previous, "type": kind,
                               "timestamp": format!("2026-11-24T10:00:00.{:03}Z", id)});
        if let Value::Object(details) = details {
            for (key, value) in details {
                event[key] = value;
            }
        }
        event
    }

    fn entered(id: u64, previous: u64, kind: &str, name: &str) -> Value {
        event(
            id,
            previous,
            kind,
            json!({"stateEnteredEventDetails": {"name": name, "input": "{}"}}),
        )
    }

    fn exited(id: u64, previous: u64, kind: &str, name: &str) -> Value {
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
        let rows = rows(&history);
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
    fn parallel_branches_nest_and_junk_does_not_panic() {
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
            json!("junk"),
            json!({"type": 7}),
        ];
        let rows = rows(&history);
        let depths: Vec<usize> = rows.iter().map(|r| r.depth).collect();
        assert_eq!(depths, vec![0, 1, 1]);
        assert!(
            rows.iter().all(|r| r.status == RowStatus::Succeeded),
            "{rows:?}"
        );
    }
}
