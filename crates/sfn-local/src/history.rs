//! Execution history: the events `GetExecutionHistory` returns, with the same types and
//! `*EventDetails` fields.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::timestamp;

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based, in order of occurrence.
    pub id: u64,
    /// The event this one follows in its own branch or iteration (0 for the first).
    pub previous_event_id: u64,
    /// Milliseconds since the Unix epoch, on the execution's clock.
    pub timestamp_millis: i64,
    /// The event type and its details.
    pub details: EventDetails,
}

/// An event's type and details. Values are kept as JSON; `to_json` renders them as AWS does
/// (inputs and outputs as JSON text).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum EventDetails {
    ExecutionStarted {
        input: Value,
        role_arn: String,
    },
    ExecutionSucceeded {
        output: Value,
    },
    ExecutionFailed {
        error: Option<String>,
        cause: Option<String>,
    },
    ExecutionTimedOut {
        error: Option<String>,
        cause: Option<String>,
    },
    /// `PassStateEntered`, `TaskStateEntered`, …: `state_type` is `Pass`, `Task`, ….
    StateEntered {
        state_type: &'static str,
        name: Arc<str>,
        input: Value,
    },
    /// `PassStateExited`, …
    StateExited {
        state_type: &'static str,
        name: Arc<str>,
        output: Value,
    },
    TaskScheduled {
        resource_type: String,
        resource: String,
        parameters: Value,
        timeout_seconds: Option<u64>,
        heartbeat_seconds: Option<u64>,
    },
    TaskStarted {
        resource_type: String,
        resource: String,
    },
    TaskSucceeded {
        resource_type: String,
        resource: String,
        output: Value,
    },
    TaskFailed {
        resource_type: String,
        resource: String,
        error: String,
        cause: Option<String>,
    },
    TaskTimedOut {
        resource_type: String,
        resource: String,
        error: String,
        cause: Option<String>,
    },
    LambdaFunctionScheduled {
        resource: String,
        input: Value,
        timeout_seconds: Option<u64>,
    },
    LambdaFunctionStarted,
    LambdaFunctionSucceeded {
        output: Value,
    },
    LambdaFunctionFailed {
        error: String,
        cause: Option<String>,
    },
    LambdaFunctionTimedOut {
        error: String,
        cause: Option<String>,
    },
    MapStateStarted {
        length: usize,
    },
    MapStateSucceeded,
    MapStateFailed,
    MapIterationStarted {
        name: Arc<str>,
        index: usize,
    },
    MapIterationSucceeded {
        name: Arc<str>,
        index: usize,
    },
    MapIterationFailed {
        name: Arc<str>,
        index: usize,
    },
    MapRunStarted {
        map_run_arn: String,
    },
    MapRunSucceeded,
    MapRunFailed {
        error: Option<String>,
        cause: Option<String>,
    },
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
}

impl EventDetails {
    /// The AWS event type, e.g. `TaskStateEntered`.
    pub fn event_type(&self) -> String {
        use EventDetails::*;
        let fixed = match self {
            StateEntered { state_type, .. } => return format!("{state_type}StateEntered"),
            StateExited { state_type, .. } => return format!("{state_type}StateExited"),
            ExecutionStarted { .. } => "ExecutionStarted",
            ExecutionSucceeded { .. } => "ExecutionSucceeded",
            ExecutionFailed { .. } => "ExecutionFailed",
            ExecutionTimedOut { .. } => "ExecutionTimedOut",
            TaskScheduled { .. } => "TaskScheduled",
            TaskStarted { .. } => "TaskStarted",
            TaskSucceeded { .. } => "TaskSucceeded",
            TaskFailed { .. } => "TaskFailed",
            TaskTimedOut { .. } => "TaskTimedOut",
            LambdaFunctionScheduled { .. } => "LambdaFunctionScheduled",
            LambdaFunctionStarted => "LambdaFunctionStarted",
            LambdaFunctionSucceeded { .. } => "LambdaFunctionSucceeded",
            LambdaFunctionFailed { .. } => "LambdaFunctionFailed",
            LambdaFunctionTimedOut { .. } => "LambdaFunctionTimedOut",
            MapStateStarted { .. } => "MapStateStarted",
            MapStateSucceeded => "MapStateSucceeded",
            MapStateFailed => "MapStateFailed",
            MapIterationStarted { .. } => "MapIterationStarted",
            MapIterationSucceeded { .. } => "MapIterationSucceeded",
            MapIterationFailed { .. } => "MapIterationFailed",
            MapRunStarted { .. } => "MapRunStarted",
            MapRunSucceeded => "MapRunSucceeded",
            MapRunFailed { .. } => "MapRunFailed",
            ParallelStateStarted => "ParallelStateStarted",
            ParallelStateSucceeded => "ParallelStateSucceeded",
            ParallelStateFailed => "ParallelStateFailed",
        };
        fixed.to_owned()
    }

    /// The `*EventDetails` key and object, if this event type has one.
    fn details_json(&self) -> Option<(&'static str, Value)> {
        use EventDetails::*;
        let text = |v: &Value| Value::String(v.to_string());
        let untruncated = json!({"truncated": false});
        let error_cause = |error: &Option<String>, cause: &Option<String>| {
            let mut m = Map::new();
            if let Some(e) = error {
                m.insert("error".into(), Value::String(e.clone()));
            }
            if let Some(c) = cause {
                m.insert("cause".into(), Value::String(c.clone()));
            }
            Value::Object(m)
        };
        Some(match self {
            ExecutionStarted { input, role_arn } => (
                "executionStartedEventDetails",
                json!({"input": text(input), "inputDetails": untruncated, "roleArn": role_arn}),
            ),
            ExecutionSucceeded { output } => (
                "executionSucceededEventDetails",
                json!({"output": text(output), "outputDetails": untruncated}),
            ),
            ExecutionFailed { error, cause } => {
                ("executionFailedEventDetails", error_cause(error, cause))
            }
            ExecutionTimedOut { error, cause } => {
                ("executionTimedOutEventDetails", error_cause(error, cause))
            }
            StateEntered { name, input, .. } => (
                "stateEnteredEventDetails",
                json!({"name": &**name, "input": text(input), "inputDetails": untruncated}),
            ),
            StateExited { name, output, .. } => (
                "stateExitedEventDetails",
                json!({"name": &**name, "output": text(output), "outputDetails": untruncated}),
            ),
            TaskScheduled {
                resource_type,
                resource,
                parameters,
                timeout_seconds,
                heartbeat_seconds,
            } => {
                let mut d = json!({
                    "resourceType": resource_type,
                    "resource": resource,
                    "region": "us-east-1",
                    "parameters": text(parameters),
                });
                if let (Some(t), Value::Object(m)) = (timeout_seconds, &mut d) {
                    m.insert("timeoutInSeconds".into(), json!(t));
                }
                if let (Some(h), Value::Object(m)) = (heartbeat_seconds, &mut d) {
                    m.insert("heartbeatInSeconds".into(), json!(h));
                }
                ("taskScheduledEventDetails", d)
            }
            TaskStarted {
                resource_type,
                resource,
            } => (
                "taskStartedEventDetails",
                json!({"resourceType": resource_type, "resource": resource}),
            ),
            TaskSucceeded {
                resource_type,
                resource,
                output,
            } => (
                "taskSucceededEventDetails",
                json!({"resourceType": resource_type, "resource": resource, "output": text(output), "outputDetails": untruncated}),
            ),
            TaskFailed {
                resource_type,
                resource,
                error,
                cause,
            }
            | TaskTimedOut {
                resource_type,
                resource,
                error,
                cause,
            } => {
                let mut d = error_cause(&Some(error.clone()), cause);
                if let Value::Object(m) = &mut d {
                    m.insert("resourceType".into(), json!(resource_type));
                    m.insert("resource".into(), json!(resource));
                }
                let key = if matches!(self, TaskFailed { .. }) {
                    "taskFailedEventDetails"
                } else {
                    "taskTimedOutEventDetails"
                };
                (key, d)
            }
            LambdaFunctionScheduled {
                resource,
                input,
                timeout_seconds,
            } => {
                let mut d = json!({"resource": resource, "input": text(input), "inputDetails": untruncated});
                if let (Some(t), Value::Object(m)) = (timeout_seconds, &mut d) {
                    m.insert("timeoutInSeconds".into(), json!(t));
                }
                ("lambdaFunctionScheduledEventDetails", d)
            }
            LambdaFunctionSucceeded { output } => (
                "lambdaFunctionSucceededEventDetails",
                json!({"output": text(output), "outputDetails": untruncated}),
            ),
            LambdaFunctionFailed { error, cause } => (
                "lambdaFunctionFailedEventDetails",
                error_cause(&Some(error.clone()), cause),
            ),
            LambdaFunctionTimedOut { error, cause } => (
                "lambdaFunctionTimedOutEventDetails",
                error_cause(&Some(error.clone()), cause),
            ),
            MapStateStarted { length } => {
                ("mapStateStartedEventDetails", json!({"length": length}))
            }
            MapIterationStarted { name, index } => (
                "mapIterationStartedEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            MapIterationSucceeded { name, index } => (
                "mapIterationSucceededEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            MapIterationFailed { name, index } => (
                "mapIterationFailedEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            MapRunStarted { map_run_arn } => (
                "mapRunStartedEventDetails",
                json!({"mapRunArn": map_run_arn}),
            ),
            MapRunFailed { error, cause } => {
                ("mapRunFailedEventDetails", error_cause(error, cause))
            }
            LambdaFunctionStarted
            | MapStateSucceeded
            | MapStateFailed
            | MapRunSucceeded
            | ParallelStateStarted
            | ParallelStateSucceeded
            | ParallelStateFailed => return None,
        })
    }
}

impl HistoryEvent {
    /// The event as `GetExecutionHistory` returns it (timestamp as RFC 3339 text).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "timestamp".into(),
            Value::String(timestamp::format_millis(self.timestamp_millis)),
        );
        m.insert("type".into(), Value::String(self.details.event_type()));
        m.insert("id".into(), json!(self.id));
        m.insert("previousEventId".into(), json!(self.previous_event_id));
        if let Some((key, d)) = self.details.details_json() {
            m.insert(key.into(), d);
        }
        Value::Object(m)
    }
}
