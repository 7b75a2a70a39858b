//! TestState: one state of a definition, run once through the engine's own input and output
//! processing, reporting each stage as the TestState API names it
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html>).
//!
//! Where the documentation and AWS's recorded answers differ, the recordings are followed
//! (LocalStack `tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json`, recorded
//! against AWS in November 2025): a Pass state with `Result` reports `result` but no
//! `afterInputPath`/`afterParameters`; a Pass state without it reports `afterParameters` and
//! `afterResultSelector` although it has neither field; `TRACE` on a state that is not an
//! HTTP Task answers as `DEBUG` does; `INFO` gives no `inspectionData` at all.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use futures::future::{Either, select};
use serde_json::{Map, Value, json};

use super::fields::{Frame, States};
use super::map::tolerated;
use super::{Drive, Exit, Failure, Flow, MAX_HISTORY_EVENTS, Recorder, Run, Track};
use super::{MAX_DEPTH, MAX_PAYLOAD_BYTES, check_limits};
use super::{SeededRandom, matching_retrier, uuid};
use crate::clock::{Clock, VirtualClock, system_millis};
use crate::history::EventDetails;
use crate::mock_shape::{self, FieldValidationMode};
use crate::model::*;
use crate::states_error::StatesError;
use crate::task::Handlers;
use crate::vars::{Assigned, Scope, check_name};
use crate::{StateMachine, timestamp};

/// How much a TestState answer tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InspectionLevel {
    /// Status, output or error, next state.
    #[default]
    Info,
    /// Also the input and output processing stages.
    Debug,
    /// Also an HTTP Task's request and response (this engine makes no HTTP calls of its
    /// own, so this is `Debug`'s answer).
    Trace,
}

impl InspectionLevel {
    /// `INFO`, `DEBUG` or `TRACE`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "INFO" => Some(Self::Info),
            "DEBUG" => Some(Self::Debug),
            "TRACE" => Some(Self::Trace),
            _ => None,
        }
    }
}

/// What a mocked Task, Map or Parallel state answers instead of running.
#[derive(Debug, Clone, PartialEq)]
pub enum MockAnswer {
    /// The state's result.
    Result(Value),
    /// The state's failure.
    Error {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
}

/// TestState's `mock`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mock {
    /// The result or the error.
    pub answer: MockAnswer,
    /// How the result is checked against the integration's response shape.
    pub validation: FieldValidationMode,
}

/// TestState's `stateConfiguration`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateConfiguration {
    /// How many retries the matching retrier has made already.
    pub retrier_retry_count: u64,
    /// For a mocked error of a Map or Parallel state: the state inside that raised it.
    pub error_caused_by_state: Option<String>,
    /// How many of a Map's iterations failed.
    pub map_iteration_failure_count: Option<u64>,
    /// What a Map's `ItemReader` would have read.
    pub map_item_reader_data: Option<Value>,
}

/// A TestState request, its JSON documents parsed.
#[derive(Debug, Clone, Default)]
pub struct TestStateRequest {
    /// A single state, or a whole state machine (then `state_name` says which state).
    pub definition: Value,
    /// The state to test in a whole state machine.
    pub state_name: Option<String>,
    /// The state input.
    pub input: Value,
    /// How much to report.
    pub inspection_level: InspectionLevel,
    /// Whether an HTTP Task's secrets are shown (refused together with a mock).
    pub reveal_secrets: bool,
    /// The workflow variables in scope when the state is entered.
    pub variables: Map<String, Value>,
    /// The mocked result or error.
    pub mock: Option<Mock>,
    /// Fields of the context object, over the ones the engine fills in.
    pub context: Option<Map<String, Value>>,
    /// Retry and Map counts to test at.
    pub state_configuration: StateConfiguration,
}

/// Why a TestState request cannot be run. Each names the request field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestStateError {
    /// The definition is not one Step Functions accepts, e.g. a Pass state with `Next: 3`.
    #[error("invalid definition: {0}")]
    InvalidDefinition(String),
    /// The input is not JSON, e.g. `{"a":`.
    #[error("'input' is not valid JSON: {0}")]
    InvalidInput(String),
    /// A field is malformed or not allowed with the others, e.g. both `mock.result` and
    /// `mock.errorOutput`.
    #[error("'{field}': {message}")]
    Invalid {
        /// The request field, as the API names it (`mock.result`, `stateName`, …).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl TestStateError {
    /// The API's error code: `InvalidDefinition`, `InvalidExecutionInput` or
    /// `ValidationException`.
    pub fn code(&self) -> &'static str {
        match self {
            TestStateError::InvalidDefinition(_) => "InvalidDefinition",
            TestStateError::InvalidInput(_) => "InvalidExecutionInput",
            TestStateError::Invalid { .. } => "ValidationException",
        }
    }

    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        TestStateError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// How the tested state ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStatus {
    /// It produced its output.
    Succeeded,
    /// It failed, and nothing retries or catches the error.
    Failed,
    /// It failed, and a retrier has attempts left.
    Retriable,
    /// It failed, and a Catch rule handled the error.
    CaughtError,
}

impl TestStatus {
    /// `SUCCEEDED`, `FAILED`, `RETRIABLE` or `CAUGHT_ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Succeeded => "SUCCEEDED",
            TestStatus::Failed => "FAILED",
            TestStatus::Retriable => "RETRIABLE",
            TestStatus::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// Which Retry or Catch rule handled the error.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ErrorDetails {
    /// The Catch rule's index.
    pub catch_index: Option<usize>,
    /// The Retry rule's index.
    pub retry_index: Option<usize>,
    /// The wait before the retry, in whole seconds.
    pub retry_backoff_interval_seconds: Option<u64>,
}

/// The input and output processing stages, as `inspectionData` names them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InspectionData {
    /// The raw state input.
    pub input: Option<Value>,
    /// After `InputPath` (JSONPath states).
    pub after_input_path: Option<Value>,
    /// After `Parameters` (JSONPath states).
    pub after_parameters: Option<Value>,
    /// After `Arguments` (JSONata states).
    pub after_arguments: Option<Value>,
    /// The raw result.
    pub result: Option<Value>,
    /// After `ResultSelector` (JSONPath states).
    pub after_result_selector: Option<Value>,
    /// After `ResultPath` (JSONPath states).
    pub after_result_path: Option<Value>,
    /// The variables after the state's `Assign`.
    pub variables: Option<Map<String, Value>>,
    /// The Retry or Catch rule that handled an error.
    pub error_details: Option<ErrorDetails>,
    /// A Map's items after `ItemsPath`.
    pub after_items_path: Option<Value>,
    /// A Map's iteration inputs after `ItemSelector`.
    pub after_item_selector: Option<Value>,
    /// A Map's iteration inputs after `ItemBatcher`.
    pub after_item_batcher: Option<Value>,
    /// A Map's `MaxConcurrency` (0 when unset, as AWS reports it).
    pub max_concurrency: Option<u64>,
    /// A Map's `ToleratedFailureCount`.
    pub tolerated_failure_count: Option<u64>,
    /// A Map's `ToleratedFailurePercentage`.
    pub tolerated_failure_percentage: Option<f64>,
}

/// A TestState answer.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStateOutput {
    /// How the state ended.
    pub status: TestStatus,
    /// The state's output (also for a caught error: the catcher's output).
    pub output: Option<Value>,
    /// The error name of a failure.
    pub error: Option<String>,
    /// The cause of a failure.
    pub cause: Option<String>,
    /// Where the state goes next, if anywhere.
    pub next_state: Option<String>,
    /// The stages, at `DEBUG` and `TRACE`.
    pub inspection_data: Option<InspectionData>,
}

/// The API sends JSON documents as text.
fn text(v: &Value) -> Value {
    Value::String(v.to_string())
}

impl InspectionData {
    /// The wire form: documents as JSON text, counts as numbers.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let docs = [
            ("input", &self.input),
            ("afterInputPath", &self.after_input_path),
            ("afterParameters", &self.after_parameters),
            ("afterArguments", &self.after_arguments),
            ("result", &self.result),
            ("afterResultSelector", &self.after_result_selector),
            ("afterResultPath", &self.after_result_path),
            ("afterItemsPath", &self.after_items_path),
            ("afterItemSelector", &self.after_item_selector),
            ("afterItemBatcher", &self.after_item_batcher),
        ];
        for (k, v) in docs {
            if let Some(v) = v {
                m.insert(k.into(), text(v));
            }
        }
        if let Some(vars) = &self.variables {
            m.insert("variables".into(), text(&Value::Object(vars.clone())));
        }
        if let Some(d) = &self.error_details {
            let mut e = Map::new();
            if let Some(i) = d.catch_index {
                e.insert("catchIndex".into(), json!(i));
            }
            if let Some(i) = d.retry_index {
                e.insert("retryIndex".into(), json!(i));
            }
            if let Some(s) = d.retry_backoff_interval_seconds {
                e.insert("retryBackoffIntervalSeconds".into(), json!(s));
            }
            m.insert("errorDetails".into(), Value::Object(e));
        }
        if let Some(n) = self.max_concurrency {
            m.insert("maxConcurrency".into(), json!(n));
        }
        if let Some(n) = self.tolerated_failure_count {
            m.insert("toleratedFailureCount".into(), json!(n));
        }
        if let Some(p) = self.tolerated_failure_percentage {
            m.insert("toleratedFailurePercentage".into(), json!(p));
        }
        Value::Object(m)
    }
}

impl TestStateOutput {
    /// The API's response body: `output` and the inspection stages as JSON text.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(o) = &self.output {
            m.insert("output".into(), text(o));
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), json!(e));
        }
        if let Some(c) = &self.cause {
            m.insert("cause".into(), json!(c));
        }
        if let Some(d) = &self.inspection_data {
            m.insert("inspectionData".into(), d.to_json());
        }
        if let Some(n) = &self.next_state {
            m.insert("nextState".into(), json!(n));
        }
        m.insert("status".into(), json!(self.status.as_str()));
        Value::Object(m)
    }
}

/// A request field that holds a JSON document as text.
fn document(
    body: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<Value>, TestStateError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_document(s, field).map(Some),
        Some(_) => Err(TestStateError::invalid(field, "must be a string")),
    }
}

/// A document of the request, within the API's length constraint ("Maximum length of
/// 262144", API_TestState.html) and the engine's nesting bound.
fn parse_document(text: &str, field: &'static str) -> Result<Value, TestStateError> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(TestStateError::invalid(
            field,
            format!(
                "is {} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit",
                text.len()
            ),
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if field == "input" {
            TestStateError::InvalidInput(e.to_string())
        } else {
            TestStateError::invalid(field, format!("not valid JSON: {e}"))
        }
    })?;
    if check_limits(&value, usize::MAX).is_err() {
        return Err(TestStateError::invalid(
            field,
            format!("is nested more than {MAX_DEPTH} levels deep, more than this engine reads"),
        ));
    }
    Ok(value)
}

fn string(
    body: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, TestStateError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TestStateError::invalid(field, "must be a string")),
    }
}

fn object(
    v: Option<Value>,
    field: &'static str,
) -> Result<Option<Map<String, Value>>, TestStateError> {
    match v {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(TestStateError::invalid(field, "must be a JSON object")),
    }
}

fn count(m: &Map<String, Value>, field: &'static str) -> Result<Option<u64>, TestStateError> {
    match m.get(field.rsplit('.').next().unwrap_or(field)) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| TestStateError::invalid(field, "must be an integer of at least 0")),
    }
}

impl TestStateRequest {
    /// Reads the API's request body (`definition`, `input`, `variables`, `context` and
    /// `mock.result` are JSON documents sent as text).
    pub fn from_json(body: &Value) -> Result<Self, TestStateError> {
        let Value::Object(body) = body else {
            return Err(TestStateError::invalid("body", "must be a JSON object"));
        };
        let definition_text = string(body, "definition")?
            .ok_or_else(|| TestStateError::invalid("definition", "is required"))?;
        let definition = serde_json::from_str(&definition_text)
            .map_err(|e| TestStateError::InvalidDefinition(format!("not valid JSON: {e}")))?;
        let inspection_level = match string(body, "inspectionLevel")? {
            None => InspectionLevel::Info,
            Some(l) => InspectionLevel::parse(&l).ok_or_else(|| {
                TestStateError::invalid(
                    "inspectionLevel",
                    format!("'{l}' is not INFO, DEBUG or TRACE"),
                )
            })?,
        };
        let reveal_secrets = match body.get("revealSecrets") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(TestStateError::invalid(
                    "revealSecrets",
                    "must be a boolean",
                ));
            }
        };
        let mock = match body.get("mock") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(Self::mock(m)?),
            Some(_) => return Err(TestStateError::invalid("mock", "must be an object")),
        };
        let state_configuration = match body.get("stateConfiguration") {
            None | Some(Value::Null) => StateConfiguration::default(),
            Some(Value::Object(m)) => StateConfiguration {
                retrier_retry_count: count(m, "stateConfiguration.retrierRetryCount")?.unwrap_or(0),
                error_caused_by_state: string(m, "errorCausedByState")?,
                map_iteration_failure_count: count(
                    m,
                    "stateConfiguration.mapIterationFailureCount",
                )?,
                map_item_reader_data: document(m, "mapItemReaderData")?,
            },
            Some(_) => {
                return Err(TestStateError::invalid(
                    "stateConfiguration",
                    "must be an object",
                ));
            }
        };
        Ok(TestStateRequest {
            definition,
            state_name: string(body, "stateName")?,
            input: document(body, "input")?.unwrap_or_else(|| json!({})),
            inspection_level,
            reveal_secrets,
            variables: object(document(body, "variables")?, "variables")?.unwrap_or_default(),
            mock,
            context: object(document(body, "context")?, "context")?,
            state_configuration,
        })
    }

    fn mock(m: &Map<String, Value>) -> Result<Mock, TestStateError> {
        let validation = match string(m, "fieldValidationMode")? {
            None => FieldValidationMode::Strict,
            Some(v) => FieldValidationMode::parse(&v).ok_or_else(|| {
                TestStateError::invalid(
                    "mock.fieldValidationMode",
                    format!("'{v}' is not STRICT, PRESENT or NONE"),
                )
            })?,
        };
        let result = match m.get("result") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(parse_document(s, "mock.result")?),
            Some(_) => return Err(TestStateError::invalid("mock.result", "must be a string")),
        };
        let error = match m.get("errorOutput") {
            None | Some(Value::Null) => None,
            Some(Value::Object(e)) => Some(MockAnswer::Error {
                error: string(e, "error")?,
                cause: string(e, "cause")?,
            }),
            Some(_) => {
                return Err(TestStateError::invalid(
                    "mock.errorOutput",
                    "must be an object",
                ));
            }
        };
        // "You cannot provide both mock.result and mock.errorOutput in the same API call"
        // (test-state-isolation.html, "Basic mocking syntax").
        let answer = match (result, error) {
            (Some(_), Some(_)) => {
                return Err(TestStateError::invalid(
                    "mock",
                    "give either 'result' or 'errorOutput', not both",
                ));
            }
            (Some(r), None) => MockAnswer::Result(r),
            (None, Some(e)) => e,
            (None, None) => {
                return Err(TestStateError::invalid(
                    "mock",
                    "give 'result' or 'errorOutput'",
                ));
            }
        };
        Ok(Mock { answer, validation })
    }
}

/// The name a single state's definition is tested under, as `$$.State.Name` gives it
/// (recorded: test_state_configuration, test_map_state_failure_count).
const SINGLE_STATE_NAME: &str = "StateName";

/// A single state's definition as a state machine of its own: the states it names as
/// `Next` (or `Default`, or a Catch's `Next`) are stand-ins that end there.
fn wrap_single(state: &Map<String, Value>, name: &str) -> Value {
    let mut targets: Vec<&Value> = Vec::new();
    targets.extend(state.get("Next"));
    targets.extend(state.get("Default"));
    for list in ["Choices", "Catch"] {
        if let Some(Value::Array(rules)) = state.get(list) {
            targets.extend(rules.iter().filter_map(|r| r.get("Next")));
        }
    }
    let targets = targets.into_iter().filter_map(Value::as_str);
    let mut states = Map::new();
    for t in targets {
        if t != name {
            states.insert(t.to_owned(), json!({"Type": "Succeed"}));
        }
    }
    states.insert(name.to_owned(), Value::Object(state.clone()));
    json!({"StartAt": name, "States": states})
}

/// The graph holding the state named `name`, its index there, and whether it runs inside a
/// Map's iterations. The walk goes as deep as the definition nests its states.
fn find_state<'g>(graph: &'g Graph, name: &str, in_map: bool) -> Option<(&'g Graph, usize, bool)> {
    if let Some(i) = graph.states.iter().position(|s| &*s.name == name) {
        return Some((graph, i, in_map));
    }
    graph.states.iter().find_map(|s| match &s.kind {
        Kind::Parallel { branches } => branches.iter().find_map(|b| find_state(b, name, in_map)),
        Kind::Map(spec) => find_state(&spec.processor, name, true),
        _ => None,
    })
}

/// A context object's fields over the engine's own: objects merge field by field.
fn merge_context(base: &mut Value, over: &Map<String, Value>) {
    let Value::Object(base) = base else {
        return;
    };
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => {
                for (ik, iv) in o {
                    b.insert(ik.clone(), iv.clone());
                }
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// How the tested state ended, before it is reported.
enum Verdict {
    Done(Exit),
    Retriable {
        failure: Failure,
        index: usize,
        backoff: f64,
    },
    /// `spent`: the retrier that matched with no attempts left.
    Caught {
        exit: Exit,
        error: Option<String>,
        cause: Option<String>,
        spent: Option<usize>,
    },
    Failed(Failure, Option<usize>),
}

/// How long a test may take: "The TestState API can run for up to five minutes. If the
/// execution of a state exceeds this duration, it fails with the States.Timeout error"
/// (API_TestState.html).
pub const TEST_STATE_LIMIT_SECONDS: i64 = 300;

/// Runs one state of a definition once, as the TestState API does: a Task's result comes
/// from the mock, else from the registered `handlers`; a Map or Parallel state needs a mock
/// (its iterations and branches are not run); a Wait state takes no time. Time is virtual:
/// a handler that never answers fails the test with `States.Timeout` at once (see
/// [`test_state_on`] for handlers doing real I/O).
pub async fn test_state(
    request: &TestStateRequest,
    handlers: &Handlers,
) -> Result<TestStateOutput, TestStateError> {
    let clock: Arc<dyn Clock> = Arc::new(VirtualClock::new(system_millis()));
    test_state_on(request, handlers, clock).await
}

/// [`test_state`], a Task's handler (and its `TimeoutSeconds`, and the five-minute limit)
/// timed on `clock`: a real clock for handlers that do real I/O, which a virtual clock
/// would time out while they wait. Other states never wait, whatever the clock.
pub async fn test_state_on(
    request: &TestStateRequest,
    handlers: &Handlers,
    clock: Arc<dyn Clock>,
) -> Result<TestStateOutput, TestStateError> {
    // "Note that you cannot use revealSecrets when mocking is enabled"
    // (test-state-isolation.html, "TRACE inspectionLevel").
    if request.reveal_secrets && request.mock.is_some() {
        return Err(TestStateError::invalid(
            "revealSecrets",
            "cannot be used together with a mock",
        ));
    }
    let Value::Object(def) = &request.definition else {
        return Err(TestStateError::InvalidDefinition(
            "the definition must be a JSON object".into(),
        ));
    };
    let (machine_def, name) = if def.contains_key("States") {
        let name = request.state_name.clone().ok_or_else(|| {
            TestStateError::invalid(
                "stateName",
                "is required when the definition is a whole state machine",
            )
        })?;
        (request.definition.clone(), name)
    } else {
        let name = SINGLE_STATE_NAME.to_owned();
        (wrap_single(def, &name), name)
    };
    let machine = StateMachine::from_value(&machine_def)
        .map_err(|e| TestStateError::InvalidDefinition(e.to_string()))?;
    let (graph, index, in_map) = find_state(&machine.root, &name, false).ok_or_else(|| {
        TestStateError::invalid(
            "stateName",
            format!("no state named '{name}' in the definition"),
        )
    })?;
    let Some(st) = graph.states.get(index) else {
        return Err(TestStateError::invalid("stateName", "no such state"));
    };
    check_request(st, request)?;
    let calls_handler = matches!(st.kind, Kind::Task(_)) && request.mock.is_none();
    let clock: Arc<dyn Clock> = if calls_handler {
        clock
    } else {
        Arc::new(VirtualClock::new(clock.now_millis()))
    };
    let run = tested_run(handlers, &clock, request, in_map);
    let limit = clock
        .now_millis()
        .saturating_add(TEST_STATE_LIMIT_SECONDS * 1000);
    // Only a handler can take time: a Wait state is tested without waiting.
    let timed = async {
        let tested = Box::pin(run.tested(st, graph, request));
        if !calls_handler {
            return tested.await;
        }
        match select(tested, clock.sleep_until(limit)).await {
            Either::Left((answer, _)) => answer,
            Either::Right(_) => Ok(TestStateOutput {
                status: TestStatus::Failed,
                output: None,
                error: Some(StatesError::Timeout.name().to_owned()),
                cause: Some(format!(
                    "The state ran for more than {TEST_STATE_LIMIT_SECONDS} seconds, the TestState limit."
                )),
                next_state: None,
                inspection_data: None,
            }),
        }
    };
    Drive {
        fut: Box::pin(timed),
        clock: Arc::clone(&clock),
    }
    .await
}

/// What the request may not ask of this state.
fn check_request(st: &State, request: &TestStateRequest) -> Result<(), TestStateError> {
    let mock = request.mock.as_ref();
    for name in request.variables.keys() {
        check_name(name)
            .map_err(|m| TestStateError::invalid("variables", format!("'{name}' {m}")))?;
    }
    match (&st.kind, mock) {
        (Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. }, _) | (_, None) => {}
        (_, Some(_)) => {
            return Err(TestStateError::invalid(
                "mock",
                "only a Task, Map or Parallel state can be mocked",
            ));
        }
    }
    // "Mocking is necessary if you need to test the following state types or service
    // integration patterns - Map, Parallel, Activity, .sync service integrations and
    // waitForTaskToken service integrations" (test-state-isolation.html).
    let needs_mock = match &st.kind {
        Kind::Map(_) | Kind::Parallel { .. } => true,
        Kind::Task(t) => {
            t.wait_for_task_token
                || t.resource.contains(".sync")
                || t.resource.contains(":activity:")
        }
        _ => false,
    };
    if needs_mock && mock.is_none() {
        return Err(TestStateError::invalid(
            "mock",
            format!("state '{}' can only be tested with a mock", st.name),
        ));
    }
    let composite = matches!(st.kind, Kind::Map(_) | Kind::Parallel { .. });
    if let Some(m) = mock {
        match &m.answer {
            MockAnswer::Error { .. } if composite => {
                // "When mocking errors for Map or Parallel states, you must specify which
                // sub-state caused the error" (test-state-isolation.html). The name is not
                // checked against the states inside: AWS answered for a name that is not one
                // of them (recorded: test_map_state_error_caused_by_state).
                if request.state_configuration.error_caused_by_state.is_none() {
                    return Err(TestStateError::invalid(
                        "stateConfiguration.errorCausedByState",
                        "is required to mock the error of a Map or Parallel state",
                    ));
                }
            }
            MockAnswer::Result(r) => match &st.kind {
                Kind::Task(t) => mock_shape::validate(&t.resource, r, m.validation)
                    .map_err(|msg| TestStateError::invalid("mock.result", msg))?,
                // "the mocked result must be a JSON array with one element for each branch"
                // (test-state-isolation.html, "Testing Parallel states").
                Kind::Parallel { branches }
                    if r.as_array().map(Vec::len) != Some(branches.len()) =>
                {
                    return Err(TestStateError::invalid(
                        "mock.result",
                        format!(
                            "a Parallel state's result is an array of {} items, one per branch",
                            branches.len()
                        ),
                    ));
                }
                _ => {}
            },
            MockAnswer::Error { .. } => {}
        }
    }
    Ok(())
}

/// The run a test happens in: no history, a fresh virtual clock, the context object an
/// Express execution would have.
fn tested_run<'a>(
    handlers: &'a Handlers,
    clock: &Arc<dyn Clock>,
    request: &TestStateRequest,
    in_map: bool,
) -> Run<'a> {
    let mut rng = SeededRandom::new(0);
    let name = uuid(&mut rng);
    let sm = "TestStateMachine";
    let execution_arn = format!(
        "arn:aws:states:{}:{}:express:{sm}:{name}",
        super::REGION,
        super::ACCOUNT
    );
    let mut base = Map::new();
    base.insert(
        "Execution".into(),
        json!({
            "Id": execution_arn,
            "Input": request.input,
            "Name": name,
            "RoleArn": format!("arn:aws:iam::{}:role/StepFunctionsLocal", super::ACCOUNT),
            "StartTime": timestamp::format_millis(clock.now_millis()),
        }),
    );
    base.insert(
        "StateMachine".into(),
        json!({"Id": format!("arn:aws:states:{}:{}:stateMachine:{sm}", super::REGION, super::ACCOUNT), "Name": sm}),
    );
    // A state inside a Map sees its first iteration: "$$.Map.Item.Index = 0 (first
    // iteration), $$.Map.Item.Value = your input value" (test-state-isolation.html,
    // "Automatic Context population").
    if in_map {
        base.insert(
            "Map".into(),
            json!({"Item": {"Index": 0, "Value": request.input}}),
        );
    }
    Run {
        handlers,
        clock: Arc::clone(clock),
        rng: Mutex::new(rng),
        context_base: Some(base),
        execution_arn,
        deadline: None,
        variable_bytes: AtomicUsize::new(0),
        observer: None,
        root: None,
        checkpoints: None,
        checkpointed: AtomicUsize::new(0),
        resume_at: Mutex::new(None),
    }
}

impl Run<'_> {
    async fn tested(
        &self,
        st: &State,
        graph: &Graph,
        request: &TestStateRequest,
    ) -> Result<TestStateOutput, TestStateError> {
        let rec = Recorder::new(false, MAX_HISTORY_EVENTS);
        let mut track = Track {
            rec: &rec,
            prev: 0,
            branch: None,
        };
        let mut scope = Scope::new(None, &self.variable_bytes);
        let given = Assigned::from_object(request.variables.clone());
        scope
            .check(&given)
            .map_err(|e| TestStateError::invalid("variables", e.message()))?;
        scope.commit(given);
        let input = request.input.clone();
        let entered_prev = track.prev;
        let entered = self.record(&mut track, || EventDetails::StateEntered {
            state_type: st.kind.state_type(),
            name: Arc::clone(&st.name),
            input: input.clone(),
        });
        let entered_millis = self.clock.now_millis();
        let retry_count =
            u32::try_from(request.state_configuration.retrier_retry_count).unwrap_or(u32::MAX);
        let mut ctx = self.context(st, entered_millis, retry_count, None);
        if let Some(over) = &request.context {
            merge_context(&mut ctx, over);
        }
        let fr = Frame {
            st,
            entered,
            entered_prev,
            entered_millis,
            ctx,
            vars: &scope,
        };
        let mut insp = InspectionData {
            input: Some(input.clone()),
            ..InspectionData::default()
        };
        let verdict = self
            .verdict(input, &fr, &mut track, request, &mut insp)
            .await;
        Ok(report(verdict, st, graph, request, insp))
    }

    async fn verdict(
        &self,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
        request: &TestStateRequest,
        insp: &mut InspectionData,
    ) -> Verdict {
        let st = fr.st;
        let jsonpath = st.lang == Lang::JsonPath;
        // Fail states have no InputPath; AWS reports their input as after it (recorded:
        // test_base_inspection_level_debug[BASE_FAIL_STATE]).
        if jsonpath && !matches!(st.kind, Kind::Pass { result: Some(_) }) {
            if let Ok(eff) = self.select(&st.input_path, &input, fr) {
                insp.after_input_path = Some(eff.into_owned());
            }
        }
        let outcome = match &st.kind {
            Kind::Pass { result } => self.tested_pass(result.as_ref(), input, fr, track, insp),
            Kind::Choice { choices, default } => self.choice(choices, *default, input, fr, track),
            Kind::Wait(wait) => self.wait(wait, input, fr, track).await,
            Kind::Succeed => self.succeed(input, fr, track),
            Kind::Fail { error, cause } => self
                .fail_field(error.as_ref(), &input, fr)
                .and_then(|error| Ok((error, self.fail_field(cause.as_ref(), &input, fr)?)))
                .and_then(|(error, cause)| Err(Failure::of(error, cause))),
            Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_) => {
                return self.tested_attempt(input, fr, track, request, insp).await;
            }
        };
        match outcome {
            Ok(exit) => Verdict::Done(exit),
            Err(f) => Verdict::Failed(f, None),
        }
    }

    /// A Pass state, stage by stage (the stages [`Run::pass`] runs without copies).
    fn tested_pass(
        &self,
        result: Option<&Value>,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
        insp: &mut InspectionData,
    ) -> Result<Exit, Failure> {
        let st = fr.st;
        if st.lang == Lang::Jsonata {
            return self.pass(result, input, fr, track);
        }
        let result = match result {
            Some(r) => {
                insp.result = Some(r.clone());
                r.clone()
            }
            None => {
                let eff = self.select(&st.input_path, &input, fr)?;
                let r = match &st.parameters {
                    Some(p) => self.fill(p, &eff, States::input(&input), fr)?,
                    None => eff.into_owned(),
                };
                insp.after_parameters = Some(r.clone());
                r
            }
        };
        self.check_size(&result, st)?;
        let assigned = self.assign(st.assign.as_ref(), &result, States::input(&input), fr)?;
        insp.after_result_selector = Some(result.clone());
        let doc = self.apply_result_path(&st.result_path, input, result, st)?;
        insp.after_result_path = Some(doc.clone());
        let out = self.select_owned(&st.output_path, doc, fr)?;
        Ok(self.exit(fr, out, assigned, track, st.next))
    }

    /// A Task's, Map's or Parallel's one attempt, then its Retry (at the request's retry
    /// count) and Catch.
    async fn tested_attempt(
        &self,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
        request: &TestStateRequest,
        insp: &mut InspectionData,
    ) -> Verdict {
        let st = fr.st;
        let result = match self.effective_input(&input, fr) {
            Err(f) => Err(f),
            Ok(eff) => {
                match (st.lang, &st.kind) {
                    // AWS reports no effective input of a Map (recorded:
                    // test_state_configuration, test_state_machine_with_state_error).
                    (_, Kind::Map(_)) => {}
                    (Lang::JsonPath, _) => insp.after_parameters = Some(eff.clone()),
                    (Lang::Jsonata, _) => insp.after_arguments = Some(eff.clone()),
                }
                self.tested_result(eff, &input, fr, track, request, insp)
                    .await
            }
        };
        let result = result.and_then(|r| {
            insp.result = Some(r.clone());
            let r = match &st.result_selector {
                Some(t) => self.fill_path(t, &r, fr)?,
                None => r,
            };
            self.check_size(&r, st)?;
            if st.lang == Lang::JsonPath {
                insp.after_result_selector = Some(r.clone());
            }
            Ok(r)
        });
        let failure = match result {
            Ok(r) => match self.tested_success(input, r, fr, insp) {
                Ok((out, assigned)) => {
                    return Verdict::Done(self.exit(fr, out, assigned, track, st.next));
                }
                // As an execution does: the input is gone, the catcher gets an empty document.
                Err(f) => return self.settle(f, Value::Object(Map::new()), fr, track, request),
            },
            Err(f) => f,
        };
        self.settle(failure, input, fr, track, request)
    }

    /// The result: the mock's, a Task handler's, or (for a Map) the threshold's failure.
    async fn tested_result(
        &self,
        eff: Value,
        input: &Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
        request: &TestStateRequest,
        insp: &mut InspectionData,
    ) -> Result<Value, Failure> {
        let st = fr.st;
        if let Kind::Map(spec) = &st.kind {
            self.tested_map(spec, &eff, fr, request, insp).await?;
        }
        match request.mock.as_ref().map(|m| &m.answer) {
            Some(MockAnswer::Result(r)) => Ok(r.clone()),
            Some(MockAnswer::Error { error, cause }) => Err(Failure {
                reported: true,
                ..Failure::of(error.clone(), cause.clone())
            }),
            None => match &st.kind {
                Kind::Task(task) => {
                    let attempt = u32::try_from(request.state_configuration.retrier_retry_count)
                        .unwrap_or(u32::MAX - 1)
                        .saturating_add(1);
                    self.task(task, eff, input, attempt, None, fr, track).await
                }
                _ => Err(Failure::new(
                    StatesError::Runtime.name(),
                    "this state needs a mock",
                )),
            },
        }
    }

    /// A Map's stages before its iterations, and the failure its
    /// `mapIterationFailureCount` makes past what it tolerates.
    async fn tested_map(
        &self,
        spec: &MapSpec,
        eff: &Value,
        fr: &Frame<'_>,
        request: &TestStateRequest,
        insp: &mut InspectionData,
    ) -> Result<(), Failure> {
        let config = &request.state_configuration;
        let items = match (&spec.reader, &config.map_item_reader_data) {
            (Some(_), Some(Value::Array(data))) => data.clone(),
            (Some(_), _) => Vec::new(),
            (None, _) => self.map_items(spec, eff, fr).await?,
        };
        if fr.st.lang == Lang::JsonPath && spec.reader.is_none() {
            insp.after_items_path = Some(Value::Array(items.clone()));
        }
        let max = self.map_number(&spec.max_concurrency, "MaxConcurrency", eff, fr)?;
        insp.max_concurrency = Some(max.unwrap_or(0));
        let count = self.map_number(&spec.tolerated_count, "ToleratedFailureCount", eff, fr)?;
        let percentage = self.tolerated_percentage(spec, eff, fr)?;
        insp.tolerated_failure_count = count;
        insp.tolerated_failure_percentage = percentage;
        let total = items.len();
        if spec.item_selector.is_some() || spec.batcher.is_some() {
            let inputs = self.iteration_inputs(spec, items, eff, fr)?;
            if spec.batcher.is_some() {
                insp.after_item_batcher = Some(Value::Array(inputs));
            } else {
                insp.after_item_selector = Some(Value::Array(inputs));
            }
        }
        // With no tolerance set, failed iterations fail nothing here (recorded:
        // test_map_state_failure_count[INFO-BASE_MAP_STATE], SUCCEEDED at 2 failures).
        let limited = count.is_some() || percentage.is_some();
        match config.map_iteration_failure_count {
            Some(failed)
                if limited
                    && failed > 0
                    && !tolerated(
                        usize::try_from(failed).unwrap_or(usize::MAX),
                        total.max(1),
                        count,
                        percentage,
                    ) =>
            {
                Err(Failure::new(
                    StatesError::ExceedToleratedFailureThreshold.name(),
                    "The specified tolerated failure threshold was exceeded",
                ))
            }
            _ => Ok(()),
        }
    }

    /// The output and assignments once the result is in, stage by stage (the stages
    /// [`Run::succeeded`] runs).
    fn tested_success(
        &self,
        input: Value,
        result: Value,
        fr: &Frame<'_>,
        insp: &mut InspectionData,
    ) -> Result<(Value, Assigned), Failure> {
        let st = fr.st;
        if st.lang == Lang::Jsonata {
            return self.succeeded(input, result, fr);
        }
        let assigned = self.assign(st.assign.as_ref(), &result, States::input(&input), fr)?;
        let doc = self.apply_result_path(&st.result_path, input, result, st)?;
        insp.after_result_path = Some(doc.clone());
        let out = self.select_owned(&st.output_path, doc, fr)?;
        Ok((out, assigned))
    }

    /// A failed attempt: RETRIABLE when a retrier matches and has attempts left at the
    /// request's retry count, else the Catch rule's, else FAILED.
    fn settle(
        &self,
        failure: Failure,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
        request: &TestStateRequest,
    ) -> Verdict {
        let done = request.state_configuration.retrier_retry_count;
        let mut spent = None;
        if failure.catchable() {
            if let Some((index, r)) = matching_retrier(fr.st, &failure) {
                if done < r.max_attempts {
                    let backoff = r.backoff_seconds(done);
                    return Verdict::Retriable {
                        failure,
                        index,
                        backoff,
                    };
                }
                // AWS names the spent retrier too (recorded:
                // test_state_configuration_retrier_retry_count, exceeds_tolerated_retry_count).
                spent = Some(index);
            }
        }
        let (error, cause) = (failure.error.clone(), failure.cause.clone());
        match self.catch(failure, input, fr, track) {
            Ok(exit) => Verdict::Caught {
                exit,
                error,
                cause,
                spent,
            },
            Err(f) => Verdict::Failed(f, spent),
        }
    }
}

/// The answer for a verdict, at the request's inspection level.
fn report(
    verdict: Verdict,
    st: &State,
    graph: &Graph,
    request: &TestStateRequest,
    mut insp: InspectionData,
) -> TestStateOutput {
    let next_name = |flow: &Flow| match flow {
        Flow::Next(n, _) => graph.states.get(*n).map(|s| s.name.to_string()),
        Flow::End(_) => None,
    };
    let flow_output = |flow: Flow| match flow {
        Flow::Next(_, v) | Flow::End(v) => v,
    };
    let mut assigned = None;
    let out = match verdict {
        Verdict::Done(exit) => {
            let next_state = next_name(&exit.flow);
            assigned = Some(exit.assigned);
            TestStateOutput {
                status: TestStatus::Succeeded,
                output: Some(flow_output(exit.flow)),
                error: None,
                cause: None,
                next_state,
                inspection_data: None,
            }
        }
        Verdict::Caught {
            exit,
            error,
            cause,
            spent,
        } => {
            insp.error_details = Some(ErrorDetails {
                catch_index: exit.caught_by,
                retry_index: spent,
                ..ErrorDetails::default()
            });
            let next_state = next_name(&exit.flow);
            assigned = Some(exit.assigned);
            TestStateOutput {
                status: TestStatus::CaughtError,
                output: Some(flow_output(exit.flow)),
                error,
                cause,
                next_state,
                inspection_data: None,
            }
        }
        Verdict::Retriable {
            failure,
            index,
            backoff,
        } => {
            insp.error_details = Some(ErrorDetails {
                retry_index: Some(index),
                // AWS reports whole seconds (`retryBackoffIntervalSeconds` is an Integer).
                retry_backoff_interval_seconds: Some(backoff.round().clamp(0.0, 1e15) as u64),
                ..ErrorDetails::default()
            });
            failed(TestStatus::Retriable, failure)
        }
        Verdict::Failed(f, spent) => {
            insp.error_details = spent.map(|i| ErrorDetails {
                retry_index: Some(i),
                ..ErrorDetails::default()
            });
            failed(TestStatus::Failed, f)
        }
    };
    if request.inspection_level == InspectionLevel::Info {
        return out;
    }
    let has_assign = st.assign.is_some() || st.catch.iter().any(|c| c.assign.is_some());
    if !request.variables.is_empty() || has_assign {
        let mut vars = request.variables.clone();
        if let Some(a) = assigned {
            vars.extend(a.to_map());
        }
        insp.variables = Some(vars);
    }
    TestStateOutput {
        inspection_data: Some(insp),
        ..out
    }
}

fn failed(status: TestStatus, f: Failure) -> TestStateOutput {
    TestStateOutput {
        status,
        output: None,
        error: f.error,
        cause: f.cause,
        next_state: None,
        inspection_data: None,
    }
}
