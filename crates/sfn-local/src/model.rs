//! The loaded form of a definition: every name resolved to an index, every path and intrinsic
//! parsed, so an execution never parses or looks anything up by string.

use std::sync::Arc;

use serde_json::Value;

use crate::StatesError;
use crate::choice::Rule;
use crate::history::StateType;
use crate::intrinsics::Intrinsic;
use crate::query::{self, Query};
use crate::template::Template;
use crate::timestamp::Nanos;

pub(crate) use crate::path::PathExpr;

/// `InputPath` / `OutputPath`.
#[derive(Debug)]
pub(crate) enum Selector {
    /// Absent or `$`: the whole document.
    Identity,
    /// `null`: an empty object.
    Empty,
    Path(PathExpr),
}

/// `ResultPath`.
#[derive(Debug)]
pub(crate) enum ResultPath {
    /// Absent or `$`: the result replaces the input.
    Replace,
    /// `null`: the result is discarded, the input passes through.
    Discard,
    Path(PathExpr),
}

/// A value given literally, by a path, (for Fail) by an intrinsic function, or in a JSONata
/// state by an expression.
#[derive(Debug)]
pub(crate) enum Source<T> {
    Literal(T),
    Path(PathExpr),
    Intrinsic(Intrinsic),
    Query(Query),
}

/// The query language a state's fields are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    JsonPath,
    Jsonata,
}

/// A payload built from a template: JSONPath's (`.$` keys) or JSONata's (`{% %}` values).
#[derive(Debug)]
pub(crate) enum Payload {
    Path(Template),
    Query(query::Template),
}

#[derive(Debug)]
pub(crate) struct Graph {
    pub start: usize,
    pub states: Vec<State>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub name: Arc<str>,
    pub kind: Kind,
    pub lang: Lang,
    /// JSONPath's fields; `$` (the identity) in a JSONata state.
    pub input_path: Selector,
    pub output_path: Selector,
    pub result_path: ResultPath,
    /// `Parameters`, or a JSONata state's `Arguments`.
    pub parameters: Option<Payload>,
    pub result_selector: Option<Template>,
    /// A JSONata state's `Output`.
    pub output: Option<query::Template>,
    /// `Assign`: the variables the state sets when it exits.
    pub assign: Option<Payload>,
    /// `None` is `End: true` (or a terminal state type).
    pub next: Option<usize>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// Whether any field of this state reads the context object, so it is built only then.
    pub uses_context: bool,
    /// The state as written, for what the read-only view describes in words (a Choice
    /// rule, a Catch clause's errors, a Task's parameters as literals).
    pub source: Value,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Pass {
        result: Option<Value>,
    },
    Task(Box<Task>),
    Choice {
        choices: Vec<Choice>,
        default: Option<usize>,
    },
    Wait(Wait),
    Succeed,
    Fail {
        error: Option<Source<String>>,
        cause: Option<Source<String>>,
    },
    Parallel {
        branches: Vec<Graph>,
    },
    Map(Box<MapSpec>),
}

impl Kind {
    /// The state's type, which prefixes its history events (`PassStateEntered`, …).
    pub fn state_type(&self) -> StateType {
        match self {
            Kind::Pass { .. } => StateType::Pass,
            Kind::Task(_) => StateType::Task,
            Kind::Choice { .. } => StateType::Choice,
            Kind::Wait(_) => StateType::Wait,
            Kind::Succeed => StateType::Succeed,
            Kind::Fail { .. } => StateType::Fail,
            Kind::Parallel { .. } => StateType::Parallel,
            Kind::Map(_) => StateType::Map,
        }
    }
}

/// One rule of a Choice state, with what it does when it matches.
#[derive(Debug)]
pub(crate) struct Choice {
    pub test: Test,
    pub next: usize,
    pub assign: Option<Payload>,
    pub output: Option<query::Template>,
}

/// A Choice rule's test: JSONPath's comparisons, or a JSONata `Condition`.
#[derive(Debug)]
pub(crate) enum Test {
    Rule(Rule),
    Condition(Source<bool>),
}

#[derive(Debug)]
pub(crate) struct Task {
    pub resource: Arc<str>,
    /// `lambda` in `arn:aws:states:::lambda:invoke`, for history events.
    pub resource_type: Box<str>,
    /// `invoke` in `arn:aws:states:::lambda:invoke`.
    pub resource_name: Box<str>,
    /// A Lambda function ARN used directly as the resource (history uses `LambdaFunction*`).
    pub direct_lambda: bool,
    pub wait_for_task_token: bool,
    pub timeout: Option<Source<u64>>,
    pub heartbeat: Option<Source<u64>>,
}

impl Task {
    /// Whether the resource is an activity, `arn:aws:states:REGION:ACCOUNT:activity:NAME`
    /// (not an `arn:aws:states:::…` integration).
    pub fn is_activity(&self) -> bool {
        &*self.resource_type == "activity" && *self.resource_name == *self.resource
    }
}

#[derive(Debug)]
pub(crate) enum Wait {
    Seconds(u64),
    SecondsPath(PathExpr),
    Timestamp(Nanos),
    TimestampPath(PathExpr),
    /// A JSONata state's `Seconds` expression.
    SecondsQuery(Query),
    /// A JSONata state's `Timestamp` expression.
    TimestampQuery(Query),
}

/// What a Map iterates over.
#[derive(Debug)]
pub(crate) enum Items {
    /// The state input (after `InputPath`).
    Input,
    /// `ItemsPath`.
    Path(PathExpr),
    /// A JSONata state's `Items`.
    Query(query::Template),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MapMode {
    Inline,
    Distributed,
}

#[derive(Debug)]
pub(crate) struct MapSpec {
    pub processor: Graph,
    pub mode: MapMode,
    pub items: Items,
    pub item_selector: Option<Payload>,
    pub max_concurrency: Option<Source<u64>>,
    pub tolerated_count: Option<Source<u64>>,
    pub tolerated_percentage: Option<Source<f64>>,
    pub batcher: Option<Batcher>,
    pub reader: Option<Reader>,
}

#[derive(Debug)]
pub(crate) struct Batcher {
    pub max_items: Option<Source<u64>>,
    pub max_bytes: Option<Source<u64>>,
    pub batch_input: Option<Payload>,
}

#[derive(Debug)]
pub(crate) struct Reader {
    pub resource: Arc<str>,
    pub parameters: Option<Payload>,
    pub max_items: Option<Source<u64>>,
}

/// Error names a retrier or catcher matches.
#[derive(Debug)]
pub(crate) struct ErrorEquals {
    pub names: Vec<Box<str>>,
    pub all: bool,
}

impl ErrorEquals {
    /// `States.ALL` matches every error except the terminal ones AWS documents as uncatchable
    /// by it (`States.Runtime`, `States.DataLimitExceeded`); naming them explicitly matches
    /// (but see [`matches_reported`](ErrorEquals::matches_reported)).
    pub fn matches(&self, error: &str) -> bool {
        if self.names.iter().any(|n| &**n == error) {
            return true;
        }
        let predefined = error.parse::<StatesError>().ok();
        let terminal = predefined.is_some_and(StatesError::is_terminal);
        if self.all {
            return !terminal;
        }
        // `States.TaskFailed` is documented as a wildcard for every error but States.Timeout.
        self.names
            .iter()
            .any(|n| **n == *StatesError::TaskFailed.name())
            && !terminal
            && predefined != Some(StatesError::Timeout)
    }

    /// What a Retry or Catch sees: for an error a task's handler `reported`, `States.ALL`
    /// matches the terminal names too; a `States.Runtime` the engine raised matches nothing,
    /// not even its own name: "A States.Runtime error isn't retriable, and will always cause
    /// the execution to fail" (AWS Step Functions developer guide, "Handling errors in Step
    /// Functions workflows"; recorded: base_scenarios__catch_states_runtime, whose Catch
    /// names States.Runtime and does not catch an OutputPath failure).
    pub fn matches_reported(&self, error: &str, reported: bool) -> bool {
        if reported {
            return self.all || self.matches(error);
        }
        error != StatesError::Runtime.name() && self.matches(error)
    }
}

#[derive(Debug)]
pub(crate) struct Retrier {
    pub errors: ErrorEquals,
    pub interval_seconds: f64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

impl Retrier {
    /// The wait before the retry that follows `count` earlier ones: `IntervalSeconds` times
    /// `BackoffRate` to the power `count`, at most `MaxDelaySeconds` (before any jitter).
    pub fn backoff_seconds(&self, count: u64) -> f64 {
        let delay = self.interval_seconds * self.backoff_rate.powf(count as f64);
        match self.max_delay_seconds {
            Some(max) => delay.min(max),
            None => delay,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Catcher {
    pub errors: ErrorEquals,
    pub next: usize,
    pub result_path: ResultPath,
    pub assign: Option<Payload>,
    /// A JSONata catcher's `Output`; the error output when absent.
    pub output: Option<query::Template>,
}
