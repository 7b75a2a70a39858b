//! Execution history: the events `GetExecutionHistory` returns, with the same types and
//! `*EventDetails` fields, typed both ways: [`HistoryEvent`] serialises as AWS writes an
//! event and deserialises from it, so a stored or fetched history is read back into the same
//! variants the engine recorded.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::timestamp;

/// The type of a state, as its `Type` field and its history events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateType {
    /// `Pass`.
    Pass,
    /// `Task`.
    Task,
    /// `Choice`.
    Choice,
    /// `Wait`.
    Wait,
    /// `Succeed`.
    Succeed,
    /// `Fail`.
    Fail,
    /// `Parallel`.
    Parallel,
    /// `Map`.
    Map,
}

impl StateType {
    /// Every state type, in the order the States Language lists them.
    pub const ALL: [StateType; 8] = [
        StateType::Pass,
        StateType::Task,
        StateType::Choice,
        StateType::Wait,
        StateType::Succeed,
        StateType::Fail,
        StateType::Parallel,
        StateType::Map,
    ];

    /// The name, e.g. `Task`.
    pub const fn name(self) -> &'static str {
        match self {
            StateType::Pass => "Pass",
            StateType::Task => "Task",
            StateType::Choice => "Choice",
            StateType::Wait => "Wait",
            StateType::Succeed => "Succeed",
            StateType::Fail => "Fail",
            StateType::Parallel => "Parallel",
            StateType::Map => "Map",
        }
    }
}

impl fmt::Display for StateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StateType {
    type Err = HistoryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StateType::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| HistoryError(format!("unknown state type {s:?}")))
    }
}

/// A history event that is not in the shape `GetExecutionHistory` gives, e.g. without a
/// `type`, or with a `stateEnteredEventDetails` that has no `name`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Step Functions history event: {0}")]
pub struct HistoryError(String);

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
        state_type: StateType,
        name: Arc<str>,
        input: Value,
    },
    /// `PassStateExited`, …; `assigned_variables` are the variables the state's `Assign`
    /// set, in its order (none when it has no `Assign`, or an empty one).
    StateExited {
        state_type: StateType,
        name: Arc<str>,
        output: Value,
        assigned_variables: Map<String, Value>,
    },
    /// `TaskStateAborted`, `WaitStateAborted`, `MapStateAborted`, `ParallelStateAborted`: a
    /// state in a Parallel branch stopped because its branch (or a sibling branch) failed.
    /// AWS gives the event no details; its `previousEventId` leads to the state.
    StateAborted {
        state_type: StateType,
    },
    /// A JSONata expression (or the value it gave) failed: `location` is the field
    /// (`Output/result`), when the failure is an expression's.
    EvaluationFailed {
        error: String,
        cause: Option<String>,
        location: Option<String>,
        state: Arc<str>,
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
    /// A `.sync` job was started (the handler reported it through its `Submission`).
    TaskSubmitted {
        resource_type: String,
        resource: String,
        output: Value,
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
    /// An event type this engine does not record (read from elsewhere), kept as it came:
    /// its type and its `*EventDetails` member, if any.
    Other {
        event_type: String,
        details: Option<(String, Value)>,
    },
}

impl EventDetails {
    /// About how much memory the event's documents and texts take, in bytes: what the engine
    /// counts against [`MAX_HISTORY_DATA_BYTES`](crate::MAX_HISTORY_DATA_BYTES).
    pub fn footprint(&self) -> u64 {
        use EventDetails::*;
        let text = |s: &str| s.len() as u64;
        let maybe = |s: &Option<String>| s.as_deref().map_or(0, text);
        let base = std::mem::size_of::<EventDetails>() as u64;
        base + match self {
            ExecutionStarted { input, role_arn } => value_footprint(input) + text(role_arn),
            ExecutionSucceeded { output }
            | LambdaFunctionSucceeded { output }
            | TaskSubmitted { output, .. }
            | TaskSucceeded { output, .. } => value_footprint(output),
            StateEntered { input, .. } | LambdaFunctionScheduled { input, .. } => {
                value_footprint(input)
            }
            StateExited {
                output,
                assigned_variables,
                ..
            } => {
                value_footprint(output)
                    + assigned_variables
                        .iter()
                        .map(|(k, v)| text(k) + value_footprint(v))
                        .sum::<u64>()
            }
            TaskScheduled { parameters, .. } => value_footprint(parameters),
            ExecutionFailed { error, cause }
            | ExecutionTimedOut { error, cause }
            | MapRunFailed { error, cause } => maybe(error) + maybe(cause),
            TaskFailed { error, cause, .. }
            | TaskTimedOut { error, cause, .. }
            | LambdaFunctionFailed { error, cause }
            | LambdaFunctionTimedOut { error, cause } => text(error) + maybe(cause),
            EvaluationFailed {
                error,
                cause,
                location,
                ..
            } => text(error) + maybe(cause) + maybe(location),
            Other {
                details: Some((_, v)),
                ..
            } => value_footprint(v),
            _ => 0,
        }
    }
}

/// About how much memory `value` takes as a `serde_json::Value`: one node per value, plus
/// the bytes of its strings and keys. Iterative, so any depth is safe.
fn value_footprint(value: &Value) -> u64 {
    let node = std::mem::size_of::<Value>() as u64;
    let mut total = 0u64;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total += node;
        match v {
            Value::String(s) => total += s.len() as u64,
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => {
                for (k, v) in members {
                    total += k.len() as u64 + node;
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    total
}

impl EventDetails {
    /// The AWS event type, e.g. `TaskStateEntered`.
    pub fn event_type(&self) -> String {
        use EventDetails::*;
        let fixed = match self {
            StateEntered { state_type, .. } => return format!("{state_type}StateEntered"),
            StateExited { state_type, .. } => return format!("{state_type}StateExited"),
            StateAborted { state_type } => return format!("{state_type}StateAborted"),
            ExecutionStarted { .. } => "ExecutionStarted",
            ExecutionSucceeded { .. } => "ExecutionSucceeded",
            ExecutionFailed { .. } => "ExecutionFailed",
            ExecutionTimedOut { .. } => "ExecutionTimedOut",
            TaskScheduled { .. } => "TaskScheduled",
            TaskStarted { .. } => "TaskStarted",
            TaskSubmitted { .. } => "TaskSubmitted",
            TaskSucceeded { .. } => "TaskSucceeded",
            TaskFailed { .. } => "TaskFailed",
            TaskTimedOut { .. } => "TaskTimedOut",
            LambdaFunctionScheduled { .. } => "LambdaFunctionScheduled",
            LambdaFunctionStarted => "LambdaFunctionStarted",
            LambdaFunctionSucceeded { .. } => "LambdaFunctionSucceeded",
            LambdaFunctionFailed { .. } => "LambdaFunctionFailed",
            LambdaFunctionTimedOut { .. } => "LambdaFunctionTimedOut",
            EvaluationFailed { .. } => "EvaluationFailed",
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
            Other { event_type, .. } => return event_type.clone(),
        };
        fixed.to_owned()
    }

    /// The state an event belongs to, for `*StateEntered` and `*StateExited`.
    pub fn state_name(&self) -> Option<&str> {
        match self {
            EventDetails::StateEntered { name, .. } | EventDetails::StateExited { name, .. } => {
                Some(name)
            }
            _ => None,
        }
    }

    /// The `*EventDetails` key and object, if this event type has one.
    // One arm per event type: the match is the table of AWS's event shapes; the longer
    // shapes are built by the functions after it.
    fn details_json(&self) -> Option<(Cow<'static, str>, Value)> {
        use EventDetails::*;
        let untruncated = untruncated();
        let (key, value): (&'static str, Value) = match self {
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
            StateExited {
                name,
                output,
                assigned_variables,
                ..
            } => (
                "stateExitedEventDetails",
                state_exited_json(name, output, assigned_variables),
            ),
            EvaluationFailed {
                error,
                cause,
                location,
                state,
            } => (
                "evaluationFailedEventDetails",
                evaluation_failed_json(error, cause, location, state),
            ),
            TaskScheduled { .. }
            | TaskStarted { .. }
            | TaskSubmitted { .. }
            | TaskSucceeded { .. }
            | TaskFailed { .. }
            | TaskTimedOut { .. }
            | LambdaFunctionScheduled { .. }
            | LambdaFunctionSucceeded { .. }
            | LambdaFunctionFailed { .. }
            | LambdaFunctionTimedOut { .. } => self.task_details_json()?,
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
            Other { details, .. } => {
                return details.clone().map(|(k, v)| (Cow::Owned(k), v));
            }
            LambdaFunctionStarted
            | StateAborted { .. }
            | MapStateSucceeded
            | MapStateFailed
            | MapRunSucceeded
            | ParallelStateStarted
            | ParallelStateSucceeded
            | ParallelStateFailed => return None,
        };
        Some((Cow::Borrowed(key), value))
    }

    /// The details of a task's or a Lambda function's event (`details_json` for them).
    fn task_details_json(&self) -> Option<(&'static str, Value)> {
        use EventDetails::*;
        let untruncated = untruncated();
        Some(match self {
            TaskScheduled {
                resource_type,
                resource,
                parameters,
                timeout_seconds,
                heartbeat_seconds,
            } => (
                "taskScheduledEventDetails",
                task_scheduled_json(
                    resource_type,
                    resource,
                    parameters,
                    *timeout_seconds,
                    *heartbeat_seconds,
                ),
            ),
            TaskStarted {
                resource_type,
                resource,
            } => (
                "taskStartedEventDetails",
                json!({"resourceType": resource_type, "resource": resource}),
            ),
            TaskSubmitted {
                resource_type,
                resource,
                output,
            } => (
                "taskSubmittedEventDetails",
                json!({"resourceType": resource_type, "resource": resource, "output": text(output), "outputDetails": untruncated}),
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
            // `details_json` sends only the events above here.
            _ => return None,
        })
    }
}

/// A value as an event writes its inputs and outputs: as JSON text.
fn text(v: &Value) -> Value {
    Value::String(v.to_string())
}

/// The `…Details` of an input or output: this engine never truncates one.
fn untruncated() -> Value {
    json!({"truncated": false})
}

/// `error` and `cause`, each where present.
fn error_cause(error: &Option<String>, cause: &Option<String>) -> Value {
    let mut m = Map::new();
    if let Some(e) = error {
        m.insert("error".into(), Value::String(e.clone()));
    }
    if let Some(c) = cause {
        m.insert("cause".into(), Value::String(c.clone()));
    }
    Value::Object(m)
}

fn state_exited_json(name: &str, output: &Value, assigned_variables: &Map<String, Value>) -> Value {
    let untruncated = untruncated();
    let mut d = json!({"name": name, "output": text(output), "outputDetails": untruncated});
    if let (false, Value::Object(m)) = (assigned_variables.is_empty(), &mut d) {
        // Each value as JSON text, as AWS writes them.
        let assigned: Map<String, Value> = assigned_variables
            .iter()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        m.insert("assignedVariables".into(), Value::Object(assigned));
        m.insert("assignedVariablesDetails".into(), untruncated.clone());
    }
    d
}

fn evaluation_failed_json(
    error: &str,
    cause: &Option<String>,
    location: &Option<String>,
    state: &str,
) -> Value {
    let mut d = error_cause(&Some(error.to_owned()), cause);
    if let Value::Object(m) = &mut d {
        if let Some(l) = location {
            m.insert("location".into(), json!(l));
        }
        m.insert("state".into(), json!(state));
    }
    d
}

fn task_scheduled_json(
    resource_type: &str,
    resource: &str,
    parameters: &Value,
    timeout_seconds: Option<u64>,
    heartbeat_seconds: Option<u64>,
) -> Value {
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
    d
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

impl HistoryEvent {
    /// Reads an event as `GetExecutionHistory` returns it (the inverse of
    /// [`to_json`](HistoryEvent::to_json)); the timestamp may be RFC 3339 text or epoch
    /// seconds, as the API's JSON gives it. Event types this engine does not record become
    /// [`EventDetails::Other`].
    pub fn from_json(value: &Value) -> Result<HistoryEvent, HistoryError> {
        let obj = value
            .as_object()
            .ok_or_else(|| HistoryError("an event must be a JSON object".into()))?;
        let event_type = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| HistoryError("an event needs a string 'type'".into()))?;
        let id = obj
            .get("id")
            .and_then(Value::as_u64)
            .ok_or_else(|| HistoryError(format!("the {event_type} event has no numeric 'id'")))?;
        let previous_event_id = obj
            .get("previousEventId")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let timestamp_millis = match obj.get("timestamp") {
            Some(Value::String(text)) => timestamp::parse(text)
                .and_then(|nanos| i64::try_from(nanos.div_euclid(1_000_000)).ok())
                .ok_or_else(|| HistoryError(format!("bad timestamp {text:?}")))?,
            // The API's JSON gives epoch seconds with a fraction.
            Some(Value::Number(seconds)) => {
                (seconds.as_f64().unwrap_or(0.0) * 1000.0).round() as i64
            }
            _ => 0,
        };
        Ok(HistoryEvent {
            id,
            previous_event_id,
            timestamp_millis,
            details: EventDetails::from_json(event_type, obj)?,
        })
    }
}

impl EventDetails {
    /// The details of an event of `event_type` from the event's JSON object.
    // The event shapes are read the way `details_json` writes them: the states' and the
    // execution's here, the tasks' and the Map states' by the functions after this one.
    fn from_json(event_type: &str, obj: &Map<String, Value>) -> Result<EventDetails, HistoryError> {
        use EventDetails::*;
        let details = |key: &str| details_of(obj, key);
        let required = |d: &Value, key: &str| {
            field_text(d, key)
                .ok_or_else(|| HistoryError(format!("the {event_type} event has no '{key}'")))
        };
        if let Some(prefix) = event_type.strip_suffix("StateEntered") {
            let d = details("stateEnteredEventDetails");
            return Ok(StateEntered {
                state_type: prefix.parse()?,
                name: required(d, "name")?.into(),
                input: field_data(d, "input"),
            });
        }
        if let Some(prefix) = event_type.strip_suffix("StateExited") {
            let d = details("stateExitedEventDetails");
            let assigned_variables = match d.get("assignedVariables") {
                Some(all @ Value::Object(m)) => {
                    m.keys().map(|k| (k.clone(), field_data(all, k))).collect()
                }
                _ => Map::new(),
            };
            return Ok(StateExited {
                state_type: prefix.parse()?,
                name: required(d, "name")?.into(),
                output: field_data(d, "output"),
                assigned_variables,
            });
        }
        if let Some(prefix) = event_type.strip_suffix("StateAborted") {
            return Ok(StateAborted {
                state_type: prefix.parse()?,
            });
        }
        if let Some(d) = task_from_json(event_type, obj).or_else(|| map_from_json(event_type, obj))
        {
            return Ok(d);
        }
        Ok(match event_type {
            "ExecutionStarted" => {
                let d = details("executionStartedEventDetails");
                ExecutionStarted {
                    input: field_data(d, "input"),
                    role_arn: field_text(d, "roleArn").unwrap_or_default(),
                }
            }
            "ExecutionSucceeded" => ExecutionSucceeded {
                output: field_data(details("executionSucceededEventDetails"), "output"),
            },
            "ExecutionFailed" => {
                let d = details("executionFailedEventDetails");
                ExecutionFailed {
                    error: field_text(d, "error"),
                    cause: field_text(d, "cause"),
                }
            }
            "ExecutionTimedOut" => {
                let d = details("executionTimedOutEventDetails");
                ExecutionTimedOut {
                    error: field_text(d, "error"),
                    cause: field_text(d, "cause"),
                }
            }
            "EvaluationFailed" => {
                let d = details("evaluationFailedEventDetails");
                EvaluationFailed {
                    error: field_text(d, "error").unwrap_or_default(),
                    cause: field_text(d, "cause"),
                    location: field_text(d, "location"),
                    state: field_text(d, "state").unwrap_or_default().into(),
                }
            }
            "ParallelStateStarted" => ParallelStateStarted,
            "ParallelStateSucceeded" => ParallelStateSucceeded,
            "ParallelStateFailed" => ParallelStateFailed,
            other => Other {
                event_type: other.to_owned(),
                details: obj
                    .iter()
                    .find(|(k, _)| k.ends_with("EventDetails"))
                    .map(|(k, v)| (k.clone(), v.clone())),
            },
        })
    }
}

/// The details of a task's or a Lambda function's event, if `event_type` is one.
fn task_from_json(event_type: &str, obj: &Map<String, Value>) -> Option<EventDetails> {
    use EventDetails::*;
    Some(match event_type {
        "TaskScheduled" => {
            let d = details_of(obj, "taskScheduledEventDetails");
            TaskScheduled {
                resource_type: field_text(d, "resourceType").unwrap_or_default(),
                resource: field_text(d, "resource").unwrap_or_default(),
                parameters: field_data(d, "parameters"),
                timeout_seconds: field_number(d, "timeoutInSeconds"),
                heartbeat_seconds: field_number(d, "heartbeatInSeconds"),
            }
        }
        "TaskStarted" => {
            let d = details_of(obj, "taskStartedEventDetails");
            TaskStarted {
                resource_type: field_text(d, "resourceType").unwrap_or_default(),
                resource: field_text(d, "resource").unwrap_or_default(),
            }
        }
        "TaskSubmitted" => {
            let d = details_of(obj, "taskSubmittedEventDetails");
            TaskSubmitted {
                resource_type: field_text(d, "resourceType").unwrap_or_default(),
                resource: field_text(d, "resource").unwrap_or_default(),
                output: field_data(d, "output"),
            }
        }
        "TaskSucceeded" => {
            let d = details_of(obj, "taskSucceededEventDetails");
            TaskSucceeded {
                resource_type: field_text(d, "resourceType").unwrap_or_default(),
                resource: field_text(d, "resource").unwrap_or_default(),
                output: field_data(d, "output"),
            }
        }
        "TaskFailed" | "TaskTimedOut" => {
            let key = if event_type == "TaskFailed" {
                "taskFailedEventDetails"
            } else {
                "taskTimedOutEventDetails"
            };
            let d = details_of(obj, key);
            let (resource_type, resource) = (
                field_text(d, "resourceType").unwrap_or_default(),
                field_text(d, "resource").unwrap_or_default(),
            );
            let (error, cause) = (
                field_text(d, "error").unwrap_or_default(),
                field_text(d, "cause"),
            );
            if event_type == "TaskFailed" {
                TaskFailed {
                    resource_type,
                    resource,
                    error,
                    cause,
                }
            } else {
                TaskTimedOut {
                    resource_type,
                    resource,
                    error,
                    cause,
                }
            }
        }
        "LambdaFunctionScheduled" => {
            let d = details_of(obj, "lambdaFunctionScheduledEventDetails");
            LambdaFunctionScheduled {
                resource: field_text(d, "resource").unwrap_or_default(),
                input: field_data(d, "input"),
                timeout_seconds: field_number(d, "timeoutInSeconds"),
            }
        }
        "LambdaFunctionStarted" => LambdaFunctionStarted,
        "LambdaFunctionSucceeded" => LambdaFunctionSucceeded {
            output: field_data(
                details_of(obj, "lambdaFunctionSucceededEventDetails"),
                "output",
            ),
        },
        "LambdaFunctionFailed" => {
            let d = details_of(obj, "lambdaFunctionFailedEventDetails");
            LambdaFunctionFailed {
                error: field_text(d, "error").unwrap_or_default(),
                cause: field_text(d, "cause"),
            }
        }
        "LambdaFunctionTimedOut" => {
            let d = details_of(obj, "lambdaFunctionTimedOutEventDetails");
            LambdaFunctionTimedOut {
                error: field_text(d, "error").unwrap_or_default(),
                cause: field_text(d, "cause"),
            }
        }
        _ => return None,
    })
}

/// The details of a Map state's event, if `event_type` is one.
fn map_from_json(event_type: &str, obj: &Map<String, Value>) -> Option<EventDetails> {
    use EventDetails::*;
    Some(match event_type {
        "MapStateStarted" => MapStateStarted {
            length: field_number(details_of(obj, "mapStateStartedEventDetails"), "length")
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0),
        },
        "MapStateSucceeded" => MapStateSucceeded,
        "MapStateFailed" => MapStateFailed,
        "MapIterationStarted" | "MapIterationSucceeded" | "MapIterationFailed" => {
            let key = match event_type {
                "MapIterationStarted" => "mapIterationStartedEventDetails",
                "MapIterationSucceeded" => "mapIterationSucceededEventDetails",
                _ => "mapIterationFailedEventDetails",
            };
            let d = details_of(obj, key);
            let name: Arc<str> = field_text(d, "name").unwrap_or_default().into();
            let index = field_number(d, "index")
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0);
            match event_type {
                "MapIterationStarted" => MapIterationStarted { name, index },
                "MapIterationSucceeded" => MapIterationSucceeded { name, index },
                _ => MapIterationFailed { name, index },
            }
        }
        "MapRunStarted" => MapRunStarted {
            map_run_arn: field_text(details_of(obj, "mapRunStartedEventDetails"), "mapRunArn")
                .unwrap_or_default(),
        },
        "MapRunSucceeded" => MapRunSucceeded,
        "MapRunFailed" => {
            let d = details_of(obj, "mapRunFailedEventDetails");
            MapRunFailed {
                error: field_text(d, "error"),
                cause: field_text(d, "cause"),
            }
        }
        _ => return None,
    })
}

/// The `key` details object of an event, or `null`.
fn details_of<'o>(obj: &'o Map<String, Value>, key: &str) -> &'o Value {
    obj.get(key).unwrap_or(&Value::Null)
}

/// An input or output of an event's details: JSON text in an event.
fn field_data(d: &Value, key: &str) -> Value {
    match d.get(key) {
        Some(Value::String(text)) => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
        }
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

fn field_text(d: &Value, key: &str) -> Option<String> {
    d.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn field_number(d: &Value, key: &str) -> Option<u64> {
    d.get(key).and_then(Value::as_u64)
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for HistoryEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        HistoryEvent::from_json(&value).map_err(serde::de::Error::custom)
    }
}
