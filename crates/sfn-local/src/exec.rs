//! Running a loaded state machine.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures::future::{BoxFuture, Either, select};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value, json};

use crate::clock::{Clock, VirtualClock, system_millis};
use crate::history::{EventDetails, HistoryEvent, StateType};
use crate::intrinsics::RandomSource;
use crate::model::*;
use crate::show::bare;
use crate::states_error::StatesError;
use crate::task::{Handlers, TaskRequest};
use crate::vars::{Assigned, Scope};
use crate::{StateMachine, timestamp};
use resume::{Checkpoint, Checkpoints, Redrive, Resume};

mod fields;
mod map;
pub(crate) mod resume;
pub(crate) mod test_state;

use fields::{Frame, States};

/// The largest input, output or result of a state or an execution Step Functions accepts:
/// 256 KiB (<https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html>).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// The most events one execution's history may hold; the event that would be one more ends
/// the execution instead, as AWS's hard quota does
/// (<https://docs.aws.amazon.com/step-functions/latest/dg/bp-history-limit.html>).
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// The most memory the documents a kept history holds may take (inputs, outputs, parameters,
/// errors and causes, as this engine holds them in memory). AWS documents no such quota: each
/// document is at most 256 KiB and a history at most 25,000 events, so a history of retries
/// that each send a large input could grow to gigabytes. This engine's own bound, so that no
/// definition or input can exhaust memory; past it the execution fails `States.Runtime`, as
/// at the event quota.
pub const MAX_HISTORY_DATA_BYTES: u64 = 1 << 30;

/// The most levels of nesting a state's input, output or result may have. Serialising,
/// copying and dropping a JSON value recurse once per level, so without a bound a document
/// built up over many states (a loop wrapping its input, a `ResultPath` of many steps) would
/// exhaust the stack; and every value the engine holds must be readable again as JSON text
/// (a recorded history is), which serde_json's parser stops at 128 levels. AWS documents no
/// such limit; a value nested deeper fails its state with `States.Runtime`.
pub const MAX_DEPTH: usize = 100;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// A seeded source of randomness: jitter, `States.UUID`, `States.MathRandom`, task tokens.
/// The same seed gives the same execution. It is JSONata's generator, so `$random()`,
/// `$shuffle()` and `$uuid()` draw from the execution's seed too, and the engine has one
/// copy of it.
pub type SeededRandom = sfn_jsonata::SplitMix64;

impl RandomSource for sfn_jsonata::SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        sfn_jsonata::RandomSource::next_u64(self)
    }
}

/// The execution's clock, as JSONata's `$now()` and `$millis()` read it.
struct JsonataClock<'c>(&'c dyn Clock);

impl sfn_jsonata::Clock for JsonataClock<'_> {
    fn now_millis(&self) -> i64 {
        self.0.now_millis()
    }
}

/// How to run an execution: handlers, clock, randomness, names, history.
#[derive(Clone)]
pub struct ExecuteOptions {
    handlers: Arc<Handlers>,
    clock: Option<Arc<dyn Clock>>,
    start_millis: Option<i64>,
    seed: u64,
    history: bool,
    name: Option<String>,
    execution_arn: Option<String>,
    state_machine_name: String,
    max_history_events: u64,
    wall_clock_limit: Option<std::time::Duration>,
    live: Option<LiveHistory>,
    observer: Option<Arc<dyn Observer>>,
    checkpoints: Option<Arc<dyn Checkpoints>>,
    resume: Option<Arc<Resume>>,
}

/// A rule of a state that an execution applied: which Choice rule chose the next state,
/// which Retry rule retried a failure, which Catch rule caught one. The history does not
/// say (two rules may lead to the same state); a test runner measuring coverage does need
/// to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleTaken {
    /// The Choice rule at this index of `Choices` matched.
    Choice(usize),
    /// No Choice rule matched and the state's `Default` was taken.
    ChoiceDefault,
    /// The Retry rule at this index retried the state.
    Retry(usize),
    /// The Catch rule at this index caught the state's error.
    Catch(usize),
}

/// Told of every rule an execution applies, as it applies it (see
/// [`ExecuteOptions::observer`]).
pub trait Observer: Send + Sync {
    /// The state named `state` applied `rule`.
    fn rule_taken(&self, state: &str, rule: RuleTaken);
}

/// An execution's history as it is recorded, readable while the execution runs (an API
/// server answers GetExecutionHistory and a console draws a running execution from it).
#[derive(Clone, Default)]
pub struct LiveHistory(Arc<Mutex<Vec<HistoryEvent>>>);

impl LiveHistory {
    /// An empty history to give [`ExecuteOptions::live_history`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The events recorded so far.
    pub fn snapshot(&self) -> Vec<HistoryEvent> {
        lock(&self.0).clone()
    }
}

impl std::fmt::Debug for LiveHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LiveHistory")
            .field(&lock(&self.0).len())
            .finish()
    }
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            handlers: Arc::new(Handlers::new()),
            clock: None,
            start_millis: None,
            seed: 0,
            history: true,
            name: None,
            execution_arn: None,
            state_machine_name: "StateMachine".into(),
            max_history_events: MAX_HISTORY_EVENTS,
            wall_clock_limit: None,
            live: None,
            observer: None,
            checkpoints: None,
            resume: None,
        }
    }
}

impl std::fmt::Debug for ExecuteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecuteOptions")
            .field("handlers", &self.handlers)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .field("seed", &self.seed)
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

impl ExecuteOptions {
    /// Virtual time starting now, seed 0, history kept, no task handlers.
    pub fn new() -> Self {
        Self::default()
    }
    /// The task handlers.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers = Arc::new(handlers);
        self
    }
    /// A clock to use instead of a fresh virtual clock per execution.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// Where each execution's fresh virtual clock starts (milliseconds since the epoch);
    /// by default the system time at the start of the execution.
    pub fn virtual_start(mut self, millis: i64) -> Self {
        self.start_millis = Some(millis);
        self
    }
    /// The seed of the execution's [`SeededRandom`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Whether to keep the event history (ids are counted either way).
    pub fn history(mut self, keep: bool) -> Self {
        self.history = keep;
        self
    }
    /// The execution name (`$$.Execution.Name`); a UUID from the seed by default.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// The execution ARN (`$$.Execution.Id`); by default a Standard execution's, from the
    /// state machine name and the execution name. An Express execution's ARN differs
    /// (`express:` and a per-run suffix), so a host running one sets it here.
    pub fn execution_arn(mut self, arn: impl Into<String>) -> Self {
        self.execution_arn = Some(arn.into());
        self
    }
    /// The state machine name (`$$.StateMachine.Name`).
    pub fn state_machine_name(mut self, name: impl Into<String>) -> Self {
        self.state_machine_name = name.into();
        self
    }
    /// The most events the history may hold before the execution fails with
    /// `States.Runtime`; [`MAX_HISTORY_EVENTS`] by default, as on AWS. Events are counted
    /// whether or not the history is kept.
    pub fn max_history_events(mut self, events: u64) -> Self {
        self.max_history_events = events.max(2);
        self
    }
    /// The longest the execution may take in real time, whatever its clock says: past it the
    /// execution ends `TIMED_OUT`, with a cause naming this limit. On a virtual clock nothing
    /// else bounds the real time a long computation takes (the history limit bounds its
    /// steps). The state machine's own `TimeoutSeconds` is applied in real time as well as on
    /// the execution's clock.
    pub fn wall_clock_limit(mut self, limit: std::time::Duration) -> Self {
        self.wall_clock_limit = Some(limit);
        self
    }

    /// Records the history into `live` as well, where it can be read while the execution
    /// runs; the execution's own history is then a copy (implies `history(true)`).
    pub fn live_history(mut self, live: LiveHistory) -> Self {
        self.history = true;
        self.live = Some(live);
        self
    }

    /// Tells `observer` of every Choice, Retry and Catch rule the execution applies.
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Gives `checkpoints` a [`Checkpoint`] before each top-level state, with the events
    /// recorded since the last one.
    pub fn checkpoints(mut self, checkpoints: Arc<dyn Checkpoints>) -> Self {
        self.checkpoints = Some(checkpoints);
        self
    }

    /// Continues an execution from a checkpoint instead of starting it: its history is
    /// `resume.events` and goes on from there (no second `ExecutionStarted`), the
    /// checkpoint's state is entered with its input and variables, and `$$.Execution` is
    /// the execution's as it started (the input given to `execute` is the execution's
    /// input). A checkpoint naming no top-level state fails the execution with
    /// `States.Runtime`.
    pub fn resume(mut self, resume: Resume) -> Self {
        self.resume = Some(Arc::new(resume));
        self
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Reached a Succeed state or an `End`.
    Succeeded,
    /// An error nothing caught, or a Fail state.
    Failed,
    /// The machine's `TimeoutSeconds` passed.
    TimedOut,
}

impl Status {
    /// `SUCCEEDED`, `FAILED` or `TIMED_OUT`, as DescribeExecution says.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
        }
    }
}

/// A finished execution.
#[derive(Debug, Clone)]
pub struct Execution {
    /// How it ended.
    pub status: Status,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error name, when it failed (`None` for a Fail state without `Error`).
    pub error: Option<String>,
    /// The cause, when it failed and one was given.
    pub cause: Option<String>,
    /// The events, if history was kept.
    pub history: Vec<HistoryEvent>,
    /// Start and stop time on the execution's clock (milliseconds since the epoch).
    pub start_millis: i64,
    /// See `start_millis`.
    pub stop_millis: i64,
}

impl Execution {
    /// `{"status", "output" | "error", "cause"}` (without history).
    pub fn result_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("status".into(), json!(self.status.as_str()));
        if let Some(o) = &self.output {
            m.insert("output".into(), o.clone());
        }
        if self.status != Status::Succeeded {
            m.insert("error".into(), json!(self.error));
            m.insert("cause".into(), json!(self.cause));
        }
        Value::Object(m)
    }
}

/// A state's failure on its way up to a Catch or the execution.
#[derive(Debug)]
pub(crate) struct Failure {
    error: Option<String>,
    cause: Option<String>,
    /// Set when the execution itself must end: no Retry or Catch sees it.
    halt: Option<Halt>,
    /// An expression's failure not yet recorded as an `EvaluationFailed` event, with the
    /// field it happened in (when it is an expression's).
    evaluation: Option<Option<Box<str>>>,
    /// The last event of the branch or iteration the failure left, which the event
    /// recording it follows.
    last_event: Option<u64>,
    /// Reported by a task's handler: `States.ALL` catches it whatever its name (recorded:
    /// a Lambda result over the payload quota, `States.DataLimitExceeded`, is caught by
    /// `States.ALL`, conformance case
    /// states_errors__task_lambda_catch_state_all_data_limit_exceeded_on_large_utf8_response).
    reported: bool,
    /// A Task's `TimeoutSeconds` passed: the history and the execution give no cause, a
    /// catcher's error output an empty one (recorded: task_service_lambda__invoke_timeout).
    task_timeout: bool,
}

/// Why an execution stops wherever it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Halt {
    /// The history reached [`ExecuteOptions::max_history_events`].
    HistoryLimit(u64),
    /// The kept history's documents reached [`MAX_HISTORY_DATA_BYTES`].
    HistoryData(u64),
    /// The real time of [`ExecuteOptions::wall_clock_limit`] has passed.
    WallClock(std::time::Duration),
    /// The state machine's `TimeoutSeconds` has passed in real time.
    Timeout,
    /// A task's handler reported a [terminal](TaskFailure::terminal) failure.
    Handler,
}

impl Failure {
    fn new(error: &str, cause: impl Into<String>) -> Self {
        Self::of(Some(error.to_owned()), Some(cause.into()))
    }

    fn of(error: Option<String>, cause: Option<String>) -> Self {
        Failure {
            error,
            cause,
            halt: None,
            evaluation: None,
            last_event: None,
            reported: false,
            task_timeout: false,
        }
    }

    fn halted(halt: Halt) -> Self {
        let (error, cause) = match halt {
            // The error and cause AWS records for this quota.
            Halt::HistoryLimit(events) => (
                StatesError::Runtime.name(),
                format!("The execution reached the maximum number of history events ({events})."),
            ),
            Halt::HistoryData(bytes) => (
                StatesError::Runtime.name(),
                format!(
                    "The execution's history reached {} MiB of data, the most this engine keeps for one execution.",
                    bytes >> 20
                ),
            ),
            Halt::WallClock(limit) => (
                StatesError::Timeout.name(),
                format!(
                    "The execution ran for more than {} seconds of real time, the wall-clock limit this engine was given.",
                    limit.as_secs_f64()
                ),
            ),
            Halt::Timeout => (StatesError::Timeout.name(), String::new()),
            // Built with the handler's own error and cause where it happens.
            Halt::Handler => (StatesError::Runtime.name(), String::new()),
        };
        Failure {
            halt: Some(halt),
            ..Self::new(error, cause)
        }
    }

    /// Whether a Retry or Catch may handle this failure.
    fn catchable(&self) -> bool {
        self.halt.is_none()
    }

    fn error_name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// The error output a Catch hands on: `{"Error", "Cause"}`.
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(e) = &self.error {
            m.insert("Error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &self.cause {
            m.insert("Cause".into(), Value::String(c.clone()));
        } else if self.task_timeout {
            m.insert("Cause".into(), Value::String(String::new()));
        }
        Value::Object(m)
    }
}

/// Where a state sends its output.
enum Flow {
    Next(usize, Value),
    End(Value),
}

/// How a state ended: where it goes, and the variables it assigned, which take effect now.
struct Exit {
    flow: Flow,
    assigned: Assigned,
    /// The index of the Catch rule that handled the state's error, if one did.
    caught_by: Option<usize>,
}

/// The first of the state's retriers that matches the failure, with its index.
fn matching_retrier<'s>(st: &'s State, f: &Failure) -> Option<(usize, &'s Retrier)> {
    let name = f.error_name();
    st.retry
        .iter()
        .enumerate()
        .find(|(_, r)| r.errors.matches_reported(name, f.reported))
}

/// Event ids and (optionally) the events of one history.
struct Recorder {
    next_id: AtomicU64,
    events: Option<Arc<Mutex<Vec<HistoryEvent>>>>,
    /// Whether `events` is shared with a [`LiveHistory`] (then taken as a copy).
    shared: bool,
    /// The id no event but the execution's closing one may have.
    limit: u64,
    /// Set once an event was refused at the limit.
    full: std::sync::atomic::AtomicBool,
    /// The memory the kept events' documents take, approximately.
    data_bytes: AtomicU64,
    /// Set once `data_bytes` passed [`MAX_HISTORY_DATA_BYTES`].
    data_full: std::sync::atomic::AtomicBool,
}

impl Recorder {
    fn new(keep: bool, limit: u64) -> Self {
        Recorder {
            next_id: AtomicU64::new(1),
            events: keep.then(|| Arc::new(Mutex::new(Vec::with_capacity(64)))),
            shared: false,
            limit,
            full: std::sync::atomic::AtomicBool::new(false),
            data_bytes: AtomicU64::new(0),
            data_full: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Counts a kept event's documents; past the budget the execution halts at its next step.
    fn keep_data(&self, details: &EventDetails) {
        let bytes = details.footprint();
        let total = self
            .data_bytes
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes);
        if total > MAX_HISTORY_DATA_BYTES {
            self.data_full.store(true, Ordering::Relaxed);
        }
    }

    /// Why the history can take no more, if it cannot.
    fn exhausted(&self) -> Option<Halt> {
        if self.full.load(Ordering::Relaxed) {
            Some(Halt::HistoryLimit(self.limit))
        } else if self.data_full.load(Ordering::Relaxed) {
            Some(Halt::HistoryData(MAX_HISTORY_DATA_BYTES))
        } else {
            None
        }
    }

    /// The next event id, unless it would be the limit's.
    fn claim(&self) -> Option<u64> {
        let claimed = self
            .next_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| {
                (id < self.limit).then_some(id + 1)
            });
        match claimed {
            Ok(id) => Some(id),
            Err(_) => {
                self.full.store(true, Ordering::Relaxed);
                None
            }
        }
    }

    fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Records into `live` instead of a history of its own.
    fn live(mut self, live: &LiveHistory) -> Self {
        self.events = Some(Arc::clone(&live.0));
        self.shared = true;
        self
    }

    /// Starts from an earlier run's history: `events`, then ids after `last_id`.
    fn prefill(&self, events: &[HistoryEvent], last_id: u64) {
        if let Some(kept) = &self.events {
            let mut kept = lock(kept);
            for event in events {
                self.keep_data(&event.details);
                kept.push(event.clone());
            }
        }
        let last = events.last().map_or(last_id, |e| e.id.max(last_id));
        self.next_id
            .store(last.saturating_add(1), Ordering::Relaxed);
    }

    fn take(self) -> Vec<HistoryEvent> {
        let Some(events) = self.events else {
            return Vec::new();
        };
        if self.shared {
            return lock(&events).clone();
        }
        match Arc::try_unwrap(events) {
            Ok(m) => m.into_inner().unwrap_or_else(PoisonError::into_inner),
            Err(shared) => lock(&shared).clone(),
        }
    }
}

/// One thread of events: the execution, a branch, or an iteration.
struct Track<'r> {
    rec: &'r Recorder,
    prev: u64,
    /// For a Parallel branch: where it reports its last event.
    branch: Option<&'r InFlight>,
}

struct Run<'a> {
    handlers: &'a Handlers,
    clock: Arc<dyn Clock>,
    rng: Mutex<SeededRandom>,
    /// `$$.Execution` and `$$.StateMachine`, built only if some state reads the context.
    context_base: Option<Map<String, Value>>,
    execution_arn: String,
    /// When the execution must stop in real time, and why.
    deadline: Option<(std::time::Instant, Halt)>,
    /// What all the execution's variables hold (serialised), against AWS's quota.
    variable_bytes: AtomicUsize,
    observer: Option<Arc<dyn Observer>>,
    /// The top-level graph, whose states are checkpointed.
    root: Option<&'a Graph>,
    checkpoints: Option<Arc<dyn Checkpoints>>,
    /// How many events the checkpoints were given so far.
    checkpointed: AtomicUsize,
    /// Where the top-level graph starts when the execution is resumed, and its variables.
    resume_at: Mutex<Option<(usize, Map<String, Value>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing holding these locks can panic half-way through an update.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Polls the execution; when it is stuck waiting, lets a virtual clock jump ahead.
struct Drive<F> {
    fut: Pin<Box<F>>,
    clock: Arc<dyn Clock>,
}

impl<F: Future> Future for Drive<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        loop {
            if let Poll::Ready(v) = self.fut.as_mut().poll(cx) {
                return Poll::Ready(v);
            }
            if !self.clock.advance() {
                return Poll::Pending;
            }
        }
    }
}

fn uuid(rng: &mut SeededRandom) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

/// What makes a value too large for a state to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Oversize {
    /// It serialises to more than the byte limit.
    Bytes,
    /// It nests more than [`MAX_DEPTH`] levels.
    Depth,
}

/// Checks that `v` nests at most [`MAX_DEPTH`] levels and serialises to at most `limit`
/// bytes. One walk, without recursion, settles the depth and bounds the size (every character
/// counted as if escaped as `\uXXXX`); only values whose bound passes the limit are
/// serialised, stopping as soon as they pass it.
pub(crate) fn check_limits(v: &Value, limit: usize) -> Result<(), Oversize> {
    let mut bound = 0usize;
    let mut pending: Vec<(&Value, usize)> = vec![(v, 1)];
    while let Some((v, depth)) = pending.pop() {
        if depth > MAX_DEPTH {
            return Err(Oversize::Depth);
        }
        match v {
            Value::Null | Value::Bool(_) => bound += 5,
            Value::Number(_) => bound += 24,
            Value::String(s) => bound += s.len() * 6 + 2,
            Value::Array(items) => {
                bound += 2 + items.len();
                pending.extend(items.iter().map(|item| (item, depth + 1)));
            }
            Value::Object(map) => {
                bound += 2;
                for (k, item) in map {
                    bound += k.len() * 6 + 4;
                    pending.push((item, depth + 1));
                }
            }
        }
    }
    if bound <= limit {
        return Ok(());
    }
    struct Counter {
        n: usize,
        limit: usize,
    }
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.n += buf.len();
            if self.n > self.limit {
                return Err(std::io::Error::other("limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    match serde_json::to_writer(&mut Counter { n: 0, limit }, v) {
        Ok(()) => Ok(()),
        Err(_) => Err(Oversize::Bytes),
    }
}

impl Run<'_> {
    /// The history's start: `ExecutionStarted` for a new execution (whose input is then
    /// checked against the limits); a resumed one's earlier events, then `ExecutionRedriven`
    /// for a redrive.
    fn begin(
        &self,
        rec: &Recorder,
        track: &mut Track<'_>,
        resume: Option<&Resume>,
        input: &Value,
        role_arn: &str,
    ) -> Result<(), Oversize> {
        match resume {
            Some(r) => {
                rec.prefill(&r.events, r.checkpoint.last_event_id);
                track.prev = rec.next_id.load(Ordering::Relaxed).saturating_sub(1);
                if let Some(Redrive {
                    count, now: true, ..
                }) = r.redrive
                {
                    self.record(track, || EventDetails::Other {
                        event_type: "ExecutionRedriven".into(),
                        details: Some((
                            "executionRedrivenEventDetails".into(),
                            json!({"redriveCount": count}),
                        )),
                    });
                }
                Ok(())
            }
            None => {
                self.record(track, || EventDetails::ExecutionStarted {
                    input: input.clone(),
                    role_arn: role_arn.to_owned(),
                });
                check_limits(input, MAX_PAYLOAD_BYTES)
            }
        }
    }
}

/// An `Activity*` event, with its details under `activity…EventDetails`.
fn activity_event(event_type: &str, details: Value) -> EventDetails {
    let mut member = String::with_capacity(event_type.len() + 12);
    let mut chars = event_type.chars();
    if let Some(first) = chars.next() {
        member.extend(first.to_lowercase());
        member.extend(chars);
    }
    member.push_str("EventDetails");
    EventDetails::Other {
        event_type: event_type.to_owned(),
        details: Some((member, details)),
    }
}

/// Where a resumed execution starts, the index of its checkpoint's state with its
/// variables; or the state's name when the definition has no top-level state of that name.
type ResumeAt = Result<(usize, Map<String, Value>), String>;

impl StateMachine {
    fn resume_at(&self, resume: &Resume) -> ResumeAt {
        self.root
            .states
            .iter()
            .position(|st| *st.name == *resume.checkpoint.state)
            .map(|index| (index, resume.checkpoint.variables.clone()))
            .ok_or_else(|| resume.checkpoint.state.clone())
    }
}

/// Why an execution cannot start: its input over the limits, or its checkpoint naming no
/// state.
fn refusal(oversized: Result<(), Oversize>, resume_at: Option<&ResumeAt>) -> Option<Failure> {
    match oversized {
        Ok(()) => {}
        Err(Oversize::Bytes) => {
            return Some(Failure::new(
                StatesError::DataLimitExceeded.name(),
                "The execution input exceeds the maximum number of bytes service limit.",
            ));
        }
        Err(Oversize::Depth) => {
            return Some(Failure::new(
                StatesError::Runtime.name(),
                format!(
                    "The execution input is nested more than {MAX_DEPTH} levels deep, more than this engine reads."
                ),
            ));
        }
    }
    let Some(Err(state)) = resume_at else {
        return None;
    };
    Some(Failure::new(
        StatesError::Runtime.name(),
        format!(
            "The execution cannot be resumed at state '{state}': the definition has no top-level state of that name."
        ),
    ))
}

/// `$$.Execution` and `$$.StateMachine`, the parts of the context object every state
/// shares.
fn context_base(
    execution_arn: &str,
    input: &Value,
    name: &str,
    role_arn: &str,
    start_millis: i64,
    state_machine_name: &str,
    redriven: Option<(u32, i64)>,
) -> Map<String, Value> {
    let sm_arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{state_machine_name}");
    let mut execution = json!({
        "Id": execution_arn,
        "Input": input,
        "Name": name,
        "RoleArn": role_arn,
        "StartTime": timestamp::format_millis(start_millis),
        "RedriveCount": redriven.map_or(0, |(count, _)| count),
    });
    // A redriven execution's context says when (the context object's page, "Execution").
    if let (Some((_, at)), Some(m)) = (redriven, execution.as_object_mut()) {
        m.insert("RedriveTime".into(), json!(timestamp::format_millis(at)));
    }
    let mut m = Map::new();
    m.insert("Execution".into(), execution);
    m.insert(
        "StateMachine".into(),
        json!({"Id": sm_arn, "Name": state_machine_name}),
    );
    m
}

/// When an execution must stop in real time: after `wall_clock_limit`, or after the state
/// machine's own `TimeoutSeconds`, whichever comes first.
fn real_deadline(
    wall_clock_limit: Option<std::time::Duration>,
    timeout_seconds: Option<u64>,
) -> Option<(std::time::Instant, Halt)> {
    let now = std::time::Instant::now();
    let wall_clock = wall_clock_limit.map(|limit| (now + limit, Halt::WallClock(limit)));
    let own_timeout =
        timeout_seconds.map(|t| (now + std::time::Duration::from_secs(t), Halt::Timeout));
    match (wall_clock, own_timeout) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

impl StateMachine {
    /// Runs one execution to its end. Never panics on any input; every failure is reported
    /// in the returned [`Execution`].
    pub async fn execute(&self, input: Value, options: &ExecuteOptions) -> Execution {
        let clock: Arc<dyn Clock> = match &options.clock {
            Some(c) => Arc::clone(c),
            None => Arc::new(VirtualClock::new(
                options.start_millis.unwrap_or_else(system_millis),
            )),
        };
        let mut rng = SeededRandom::new(options.seed);
        let name = options.name.clone().unwrap_or_else(|| uuid(&mut rng));
        let execution_arn = options.execution_arn.clone().unwrap_or_else(|| {
            format!(
                "arn:aws:states:{REGION}:{ACCOUNT}:execution:{}:{name}",
                options.state_machine_name
            )
        });
        let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/StepFunctionsLocal");
        let resume = options.resume.as_deref();
        let start_millis = resume.map_or_else(|| clock.now_millis(), |r| r.start_millis);
        let resume_at = resume.map(|r| self.resume_at(r));
        let redrive = resume.and_then(|r| r.redrive);
        let redriven = redrive.map(|r| (r.count, r.at_millis));
        let context_base = self.uses_context.then(|| {
            context_base(
                &execution_arn,
                &input,
                &name,
                &role_arn,
                start_millis,
                &options.state_machine_name,
                redriven,
            )
        });
        let deadline = real_deadline(options.wall_clock_limit, self.timeout_seconds);
        let run = Run {
            handlers: &options.handlers,
            clock: Arc::clone(&clock),
            rng: Mutex::new(rng),
            context_base,
            execution_arn,
            deadline,
            variable_bytes: AtomicUsize::new(0),
            observer: options.observer.clone(),
            root: Some(&self.root),
            checkpoints: options.checkpoints.clone(),
            checkpointed: AtomicUsize::new(resume.map_or(0, |r| r.events.len())),
            resume_at: Mutex::new(resume_at.clone().and_then(Result::ok)),
        };
        let mut rec = Recorder::new(options.history, options.max_history_events);
        if let Some(live) = &options.live {
            rec = rec.live(live);
        }
        let mut track = Track {
            rec: &rec,
            prev: 0,
            branch: None,
        };
        let oversized = run.begin(&rec, &mut track, resume, &input, &role_arn);
        let first_input = match resume {
            Some(r) => r.checkpoint.input.clone(),
            None => input,
        };
        let refused = refusal(oversized, resume_at.as_ref());
        let outcome = {
            let prev = track.prev;
            let body = async {
                if let Some(failure) = refused {
                    return Err(failure);
                }
                run.graph(&self.root, first_input, &rec, prev, None, None)
                    .await
            };
            let timed = async {
                match self.timeout_seconds {
                    None => Some(body.await),
                    Some(t) => {
                        let deadline = start_millis
                            .saturating_add(i64::try_from(t).unwrap_or(i64::MAX / 2) * 1000);
                        match select(Box::pin(body), run.clock.sleep_until(deadline)).await {
                            Either::Left((r, _)) => Some(r),
                            Either::Right(_) => None,
                        }
                    }
                }
            };
            Drive {
                fut: Box::pin(timed),
                clock: Arc::clone(&clock),
            }
            .await
        };
        // The closing event follows whatever happened last (a failing branch included).
        track.prev = rec.next_id.load(Ordering::Relaxed).saturating_sub(1);
        let (status, output, error, cause) =
            run.close(&mut track, &rec, outcome, self.timeout_seconds);
        let stop_millis = clock.now_millis();
        Execution {
            status,
            output,
            error,
            cause,
            history: rec.take(),
            start_millis,
            stop_millis,
        }
    }
}

impl<'a> Run<'a> {
    /// Records the execution's closing event for how it ended: `None` when its
    /// `TimeoutSeconds` passed on its clock.
    fn close(
        &self,
        track: &mut Track<'_>,
        rec: &Recorder,
        outcome: Option<Result<(Value, u64), Failure>>,
        timeout_seconds: Option<u64>,
    ) -> (Status, Option<Value>, Option<String>, Option<String>) {
        let timed_out = match &outcome {
            None => true,
            Some(Err(f)) => matches!(f.halt, Some(Halt::Timeout)),
            Some(Ok(_)) => false,
        };
        match outcome {
            // The limit refused an event after the last state: that event, not the success,
            // would have been the last one the history holds.
            Some(Ok(_)) if rec.is_full() => {
                let f = Failure::halted(Halt::HistoryLimit(rec.limit));
                self.record_closing(track, || EventDetails::ExecutionFailed {
                    error: f.error.clone(),
                    cause: f.cause.clone(),
                });
                (Status::Failed, None, f.error, f.cause)
            }
            Some(Ok((out, _))) => {
                self.record_closing(track, || EventDetails::ExecutionSucceeded {
                    output: out.clone(),
                });
                (Status::Succeeded, Some(out), None, None)
            }
            Some(Err(f)) if matches!(f.halt, Some(Halt::WallClock(_))) => {
                self.record_closing(track, || EventDetails::ExecutionTimedOut {
                    error: f.error.clone(),
                    cause: f.cause.clone(),
                });
                (Status::TimedOut, None, f.error, f.cause)
            }
            Some(Err(f)) if !timed_out => {
                self.record_closing(track, || EventDetails::ExecutionFailed {
                    error: f.error.clone(),
                    cause: f.cause.clone(),
                });
                (Status::Failed, None, f.error, f.cause)
            }
            _ => {
                let error = Some(StatesError::Timeout.name().to_owned());
                let cause = Some(format!(
                    "The execution timed out after {} seconds.",
                    timeout_seconds.unwrap_or_default()
                ));
                self.record_closing(track, || EventDetails::ExecutionTimedOut {
                    error: error.clone(),
                    cause: cause.clone(),
                });
                (Status::TimedOut, None, error, cause)
            }
        }
    }

    /// Records an event after the track's last one and returns its id. At the history limit
    /// nothing is recorded and the track's last id is returned: the execution halts at its
    /// next step (see [`Run::halt`]).
    fn record(&self, track: &mut Track<'_>, details: impl FnOnce() -> EventDetails) -> u64 {
        let Some(id) = track.rec.claim() else {
            return track.prev;
        };
        self.push(track, id, details)
    }

    /// Records the execution's closing event, which may take the history's last id.
    fn record_closing(&self, track: &mut Track<'_>, details: impl FnOnce() -> EventDetails) -> u64 {
        let id = track.rec.next_id.fetch_add(1, Ordering::Relaxed);
        self.push(track, id, details)
    }

    fn push(&self, track: &mut Track<'_>, id: u64, details: impl FnOnce() -> EventDetails) -> u64 {
        if let Some(events) = &track.rec.events {
            let event = HistoryEvent {
                id,
                previous_event_id: track.prev,
                timestamp_millis: self.clock.now_millis(),
                details: details(),
            };
            track.rec.keep_data(&event.details);
            lock(events).push(event);
        }
        track.prev = id;
        if let Some(branch) = track.branch {
            branch.last_event.store(id, Ordering::Relaxed);
        }
        id
    }

    /// Records the `EvaluationFailed` event of an expression's failure, once. AWS records
    /// it beside the state's `…StateEntered` event when nothing happened in between (after
    /// it, in a Wait state), and after the state's last event otherwise.
    fn evaluation_failed(&self, fr: &Frame<'_>, failure: &mut Failure, track: &mut Track<'_>) {
        let Some(location) = failure.evaluation.take() else {
            return;
        };
        if track.prev == fr.entered && fr.st.kind.state_type() != StateType::Wait {
            track.prev = fr.entered_prev;
        }
        self.record(track, || EventDetails::EvaluationFailed {
            error: failure.error_name().to_owned(),
            cause: failure.cause.clone(),
            location: location.map(String::from),
            state: Arc::clone(&fr.st.name),
        });
    }

    /// Why the execution must stop now, if it must: its history is full, or its time in the
    /// real world is up.
    fn halt(&self, rec: &Recorder) -> Option<Failure> {
        if let Some(halt) = rec.exhausted() {
            return Some(Failure::halted(halt));
        }
        match self.deadline {
            Some((at, why)) if std::time::Instant::now() >= at => Some(Failure::halted(why)),
            _ => None,
        }
    }

    fn context(
        &self,
        st: &State,
        entered_millis: i64,
        retry_count: u32,
        extra: Option<(&str, Value)>,
    ) -> Value {
        let Some(base) = &self.context_base else {
            return Value::Null;
        };
        let mut m = base.clone();
        m.insert(
            "State".into(),
            json!({
                "Name": &*st.name,
                "EnteredTime": timestamp::format_millis(entered_millis),
                "RetryCount": retry_count,
            }),
        );
        if let Some((k, v)) = extra {
            m.insert(k.into(), v);
        }
        Value::Object(m)
    }

    /// Records the state's exit (with the variables it assigned) and says where it goes.
    fn exit(
        &self,
        fr: &Frame<'_>,
        output: Value,
        assigned: Assigned,
        track: &mut Track<'_>,
        next: Option<usize>,
    ) -> Exit {
        self.record(track, || EventDetails::StateExited {
            state_type: fr.st.kind.state_type(),
            name: Arc::clone(&fr.st.name),
            output: output.clone(),
            assigned_variables: assigned.to_map(),
        });
        let flow = match next {
            Some(n) => Flow::Next(n, output),
            None => Flow::End(output),
        };
        Exit {
            flow,
            assigned,
            caught_by: None,
        }
    }

    /// Runs a graph (the machine, a branch, an iteration) from its start to its end, in a
    /// scope of variables of its own inside `outer`.
    fn graph<'s>(
        &'s self,
        graph: &'s Graph,
        input: Value,
        rec: &'s Recorder,
        prev: u64,
        outer: Option<&'s Scope<'s>>,
        branch: Option<&'s InFlight>,
    ) -> BoxFuture<'s, Result<(Value, u64), Failure>> {
        Box::pin(async move {
            let mut scope = Scope::new(outer, &self.variable_bytes);
            let mut track = Track { rec, prev, branch };
            let mut index = graph.start;
            let mut input = input;
            let top = outer.is_none()
                && branch.is_none()
                && self.root.is_some_and(|root| std::ptr::eq(root, graph));
            if top && let Some((at, variables)) = lock(&self.resume_at).take() {
                index = at;
                scope.commit(Assigned::from_object(variables));
            }
            loop {
                if let Some(halted) = self.halt(rec) {
                    return Err(halted);
                }
                let Some(st) = graph.states.get(index) else {
                    return Err(Failure::new(
                        StatesError::Runtime.name(),
                        format!("no state at index {index}"),
                    ));
                };
                if top {
                    self.checkpoint(st, &input, &scope, rec);
                }
                if let Some(branch) = branch {
                    branch.enter(st);
                }
                let outcome = self.state(st, input, &mut track, &scope).await;
                if let Some(branch) = branch {
                    branch.leave();
                    if outcome.is_err() {
                        self.record_abort(st.kind.state_type(), &mut track);
                    }
                }
                match outcome {
                    Ok(exit) => {
                        scope.commit(exit.assigned);
                        match exit.flow {
                            Flow::Next(n, v) => {
                                index = n;
                                input = v;
                            }
                            Flow::End(v) => return Ok((v, track.prev)),
                        }
                    }
                    Err(mut f) => {
                        f.last_event = Some(track.prev);
                        return Err(f);
                    }
                }
            }
        })
    }

    async fn state(
        &self,
        st: &State,
        input: Value,
        track: &mut Track<'_>,
        vars: &Scope<'_>,
    ) -> Result<Exit, Failure> {
        let entered_prev = track.prev;
        let entered = self.record(track, || EventDetails::StateEntered {
            state_type: st.kind.state_type(),
            name: Arc::clone(&st.name),
            input: input.clone(),
        });
        let entered_millis = self.clock.now_millis();
        let ctx = if st.uses_context {
            self.context(st, entered_millis, 0, None)
        } else {
            Value::Null
        };
        let mut fr = Frame {
            st,
            entered,
            entered_prev,
            entered_millis,
            ctx,
            vars,
        };
        let outcome = match &st.kind {
            Kind::Pass { result } => self.pass(result.as_ref(), input, &fr, track),
            Kind::Choice { choices, default } => self.choice(choices, *default, input, &fr, track),
            Kind::Wait(wait) => self.wait(wait, input, &fr, track).await,
            Kind::Succeed => self.succeed(input, &fr, track),
            Kind::Fail { error, cause } => self
                .fail_field(error.as_ref(), &input, &fr)
                .and_then(|error| Ok((error, self.fail_field(cause.as_ref(), &input, &fr)?)))
                .and_then(|(error, cause)| Err(Failure::of(error, cause))),
            Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_) => {
                self.retrying(input, &mut fr, track).await
            }
        };
        outcome.map_err(|mut f| {
            self.evaluation_failed(&fr, &mut f, track);
            f
        })
    }

    fn pass(
        &self,
        result: Option<&Value>,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Exit, Failure> {
        let st = fr.st;
        if st.lang == Lang::Jsonata {
            let states = States::input(&input);
            let assigned = self.assign(st.assign.as_ref(), &input, states, fr)?;
            let out = self.output(st.output.as_ref(), states, input.clone(), fr)?;
            return Ok(self.exit(fr, out, assigned, track, st.next));
        }
        let passthrough = result.is_none() && st.parameters.is_none();
        let (doc, assigned) = if passthrough && matches!(st.result_path, ResultPath::Replace) {
            // The result is the effective input and replaces the input: no copy.
            let eff = self.select_owned(&st.input_path, input, fr)?;
            let assigned = self.assign(st.assign.as_ref(), &eff, States::input(&eff), fr)?;
            (eff, assigned)
        } else {
            let result = {
                let eff = self.select(&st.input_path, &input, fr)?;
                match (result, &st.parameters) {
                    (Some(r), _) => r.clone(),
                    (None, Some(p)) => self.fill(p, &eff, States::input(&input), fr)?,
                    (None, None) => eff.into_owned(),
                }
            };
            self.check_size(&result, st)?;
            // A JSONPath Assign reads the state's result as `$`.
            let assigned = self.assign(st.assign.as_ref(), &result, States::input(&input), fr)?;
            (
                self.apply_result_path(&st.result_path, input, result, st)?,
                assigned,
            )
        };
        let out = self.select_owned(&st.output_path, doc, fr)?;
        Ok(self.exit(fr, out, assigned, track, st.next))
    }

    /// Gives the host's checkpoints where the execution stands before `st`, a top-level
    /// state, with the events recorded since the last checkpoint.
    fn checkpoint(&self, st: &State, input: &Value, scope: &Scope<'_>, rec: &Recorder) {
        let Some(sink) = &self.checkpoints else {
            return;
        };
        let events = match &rec.events {
            Some(events) => {
                let events = lock(events);
                let from = self.checkpointed.swap(events.len(), Ordering::Relaxed);
                events
                    .get(from..)
                    .map(<[HistoryEvent]>::to_vec)
                    .unwrap_or_default()
            }
            None => Vec::new(),
        };
        let checkpoint = Checkpoint {
            state: st.name.to_string(),
            input: input.clone(),
            variables: scope.values(),
            last_event_id: rec.next_id.load(Ordering::Relaxed).saturating_sub(1),
        };
        sink.checkpoint(&checkpoint, &events);
    }

    fn observe(&self, st: &State, rule: RuleTaken) {
        if let Some(observer) = &self.observer {
            observer.rule_taken(&st.name, rule);
        }
    }

    fn choice(
        &self,
        choices: &[Choice],
        default: Option<usize>,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Exit, Failure> {
        let st = fr.st;
        let eff = self.select_owned(&st.input_path, input, fr)?;
        let mut chosen = None;
        for (index, choice) in choices.iter().enumerate() {
            if self.test(&choice.test, &eff, fr)? {
                chosen = Some(choice);
                self.observe(st, RuleTaken::Choice(index));
                break;
            }
        }
        if chosen.is_none() && default.is_some() {
            self.observe(st, RuleTaken::ChoiceDefault);
        }
        // A matching rule's Assign and Output replace the state's.
        let (next, assign, output) = match (chosen, default) {
            (Some(c), _) => (c.next, c.assign.as_ref(), c.output.as_ref()),
            (None, Some(d)) => (d, st.assign.as_ref(), st.output.as_ref()),
            (None, None) => {
                return Err(Failure::new(
                    StatesError::NoChoiceMatched.name(),
                    format!(
                        "{}Failed to transition out of the state. The state does not point to a next state.",
                        Self::prefix(fr)
                    ),
                ));
            }
        };
        let states = States::input(&eff);
        let assigned = self.assign(assign, &eff, states, fr)?;
        let out = match st.lang {
            Lang::Jsonata => self.output(output, states, eff.clone(), fr)?,
            Lang::JsonPath => self.select_owned(&st.output_path, eff, fr)?,
        };
        Ok(self.exit(fr, out, assigned, track, Some(next)))
    }

    async fn wait(
        &self,
        wait: &Wait,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Exit, Failure> {
        let st = fr.st;
        let eff = self.select_owned(&st.input_path, input, fr)?;
        let deadline = self.wait_deadline(wait, &eff, fr)?;
        if let Some(halted) = self.halt(track.rec) {
            return Err(halted);
        }
        self.clock.sleep_until(deadline).await;
        let states = States::input(&eff);
        let assigned = self.assign(st.assign.as_ref(), &eff, states, fr)?;
        let out = match st.lang {
            Lang::Jsonata => self.output(st.output.as_ref(), states, eff.clone(), fr)?,
            Lang::JsonPath => self.select_owned(&st.output_path, eff, fr)?,
        };
        Ok(self.exit(fr, out, assigned, track, st.next))
    }

    fn succeed(
        &self,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Exit, Failure> {
        let st = fr.st;
        let out = match st.lang {
            Lang::Jsonata => {
                self.output(st.output.as_ref(), States::input(&input), input.clone(), fr)?
            }
            Lang::JsonPath => {
                let eff = self.select_owned(&st.input_path, input, fr)?;
                self.select_owned(&st.output_path, eff, fr)?
            }
        };
        Ok(self.exit(fr, out, Assigned::default(), track, None))
    }

    /// A Task's, Parallel's or Map's effective input for one attempt: `InputPath` then
    /// `Parameters` (a Map reads its own item selector per item instead), or `Arguments`.
    fn effective_input(&self, input: &Value, fr: &Frame<'_>) -> Result<Value, Failure> {
        let st = fr.st;
        let eff = self.select(&st.input_path, input, fr)?;
        match &st.parameters {
            Some(p) => {
                let filled = self.fill(p, &eff, States::input(input), fr)?;
                self.check_size(&filled, st)?;
                Ok(filled)
            }
            None => Ok(eff.into_owned()),
        }
    }

    /// Task, Parallel and Map: attempts with `Retry`, then `Catch`.
    async fn retrying(
        &self,
        input: Value,
        fr: &mut Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Exit, Failure> {
        let st = fr.st;
        let token = match &st.kind {
            Kind::Task(t) if t.wait_for_task_token => Some(uuid(&mut lock(&self.rng))),
            _ => None,
        };
        if let Some(tok) = &token {
            fr.ctx = self.context(
                st,
                fr.entered_millis,
                0,
                Some(("Task", json!({"Token": tok}))),
            );
        }
        let fr = &*fr;
        let mut counts = vec![0u64; st.retry.len()];
        let mut attempt: u32 = 0;
        let outcome = loop {
            if let Some(halted) = self.halt(track.rec) {
                break Err(halted);
            }
            attempt += 1;
            // Built afresh for each attempt, so nothing is copied for a retry that may
            // never come.
            let result = match self.effective_input(&input, fr) {
                Err(f) => Err(f),
                Ok(this_input) => match &st.kind {
                    Kind::Task(task) => {
                        self.task(task, this_input, &input, attempt, token.clone(), fr, track)
                            .await
                    }
                    Kind::Parallel { branches } => {
                        self.parallel(branches, this_input, fr, track).await
                    }
                    Kind::Map(spec) => self.map(spec, this_input, fr, track).await,
                    _ => Err(Failure::new(
                        StatesError::Runtime.name(),
                        "not a task, parallel or map state",
                    )),
                },
            };
            let result = result.and_then(|r| {
                let r = match &st.result_selector {
                    Some(t) => self.fill_path(t, &r, fr)?,
                    None => r,
                };
                self.check_size(&r, st)?;
                Ok(r)
            });
            match result {
                Ok(r) => break Ok(r),
                Err(f) if !f.catchable() => break Err(f),
                Err(mut f) => {
                    // The event of an expression's failure comes before any retry.
                    self.evaluation_failed(fr, &mut f, track);
                    let Some((i, r)) = matching_retrier(st, &f) else {
                        break Err(f);
                    };
                    let Some(count) = counts.get_mut(i) else {
                        break Err(f);
                    };
                    if *count >= r.max_attempts {
                        break Err(f);
                    }
                    let mut delay = r.backoff_seconds(*count);
                    if r.full_jitter {
                        let unit = (RandomSource::next_u64(&mut *lock(&self.rng)) >> 11) as f64
                            / (1u64 << 53) as f64;
                        delay *= unit;
                    }
                    *count += 1;
                    self.observe(st, RuleTaken::Retry(i));
                    let delay_ms = (delay * 1000.0).min(1e15) as i64;
                    let now = self.clock.now_millis();
                    self.clock.sleep_until(now.saturating_add(delay_ms)).await;
                }
            }
        };
        let failure = match outcome {
            Ok(result) => match self.succeeded(input, result, fr) {
                Ok((out, assigned)) => return Ok(self.exit(fr, out, assigned, track, st.next)),
                // The input is gone; the catcher gets an empty document.
                Err(f) => return self.catch(f, Value::Object(Map::new()), fr, track),
            },
            Err(f) => f,
        };
        self.catch(failure, input, fr, track)
    }

    /// A Task's, Parallel's or Map's output and assignments once its result is in:
    /// `Assign` (reading the result as `$`), `ResultPath` and `OutputPath`; or JSONata's
    /// `Assign` and `Output`.
    fn succeeded(
        &self,
        input: Value,
        result: Value,
        fr: &Frame<'_>,
    ) -> Result<(Value, Assigned), Failure> {
        let st = fr.st;
        match st.lang {
            Lang::Jsonata => {
                let states = States::input(&input).with_result(&result);
                let assigned = self.assign(st.assign.as_ref(), &result, states, fr)?;
                let out = self.output(st.output.as_ref(), states, result.clone(), fr)?;
                Ok((out, assigned))
            }
            Lang::JsonPath => {
                let assigned =
                    self.assign(st.assign.as_ref(), &result, States::input(&input), fr)?;
                let doc = self.apply_result_path(&st.result_path, input, result, st)?;
                let out = self.select_owned(&st.output_path, doc, fr)?;
                Ok((out, assigned))
            }
        }
    }

    fn catch(
        &self,
        mut failure: Failure,
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Exit, Failure> {
        let st = fr.st;
        let Some((index, c)) = st.catch.iter().enumerate().find(|(_, c)| {
            failure.catchable()
                && c.errors
                    .matches_reported(failure.error_name(), failure.reported)
        }) else {
            return Err(failure);
        };
        self.evaluation_failed(fr, &mut failure, track);
        self.observe(st, RuleTaken::Catch(index));
        let error_output = failure.to_value();
        let (out, assigned) = match st.lang {
            Lang::Jsonata => {
                let states = States {
                    input: &input,
                    result: None,
                    error_output: Some(&error_output),
                };
                let assigned = self.assign(c.assign.as_ref(), &error_output, states, fr)?;
                let out = self.output(c.output.as_ref(), states, error_output.clone(), fr)?;
                (out, assigned)
            }
            Lang::JsonPath => {
                // A catcher's Assign reads the error output as `$`.
                let assigned =
                    self.assign(c.assign.as_ref(), &error_output, States::input(&input), fr)?;
                let out = self.apply_result_path(&c.result_path, input, error_output, st)?;
                (out, assigned)
            }
        };
        let mut exit = self.exit(fr, out, assigned, track, Some(c.next));
        exit.caught_by = Some(index);
        Ok(exit)
    }

    /// `TaskScheduled` and `TaskStarted`, or their `LambdaFunction…` forms for a function
    /// ARN used as the resource.
    fn record_scheduled(
        &self,
        task: &Task,
        input: &Value,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
        track: &mut Track<'_>,
    ) {
        let rtype = || task.resource_type.to_string();
        let rname = || task.resource_name.to_string();
        if task.is_activity() {
            // An activity's task is scheduled, then started when a worker takes it (API
            // reference, HistoryEvent: ActivityScheduled/Started/Succeeded/Failed/TimedOut).
            self.record(track, || {
                activity_event(
                    "ActivityScheduled",
                    json!({
                        "resource": task.resource.to_string(),
                        "input": input.to_string(),
                        "inputDetails": {"truncated": false},
                        "timeoutInSeconds": timeout,
                        "heartbeatInSeconds": heartbeat,
                    }),
                )
            });
        } else if task.direct_lambda {
            self.record(track, || EventDetails::LambdaFunctionScheduled {
                resource: task.resource.to_string(),
                input: input.clone(),
                timeout_seconds: timeout,
            });
            self.record(track, || EventDetails::LambdaFunctionStarted);
        } else {
            self.record(track, || EventDetails::TaskScheduled {
                resource_type: rtype(),
                resource: rname(),
                parameters: input.clone(),
                timeout_seconds: timeout,
                heartbeat_seconds: heartbeat,
            });
            self.record(track, || EventDetails::TaskStarted {
                resource_type: rtype(),
                resource: rname(),
            });
        }
    }

    /// `TimeoutSeconds` or `HeartbeatSeconds`: a literal, the value its `…Path` selects
    /// from the effective input, or a JSONata expression on the state input.
    fn task_seconds(
        &self,
        src: Option<&Source<u64>>,
        field: &str,
        raw_input: &Value,
        fr: &Frame<'_>,
    ) -> Result<Option<u64>, Failure> {
        match src {
            None | Some(Source::Intrinsic(_)) => Ok(None),
            Some(Source::Literal(n)) => Ok(Some(*n)),
            Some(Source::Query(q)) => self
                .query_integer(q, States::input(raw_input), 1, 99_999_999, fr)
                .map(Some),
            // The path reads the state input, not the effective input `Parameters` built
            // (recorded: timeouts__fixed_timeout_service_lambda_with_path, whose
            // Parameters leave the timeout out).
            Some(Source::Path(p)) => {
                let v = p
                    .eval(raw_input, fr.docs())
                    .map_err(|_| self.runtime(fr, p.not_found(raw_input, fr.docs())))?;
                match v.as_u64() {
                    Some(n) if n > 0 => Ok(Some(n)),
                    _ => Err(self.runtime(fr, format!("The {field}Path field refers to value \"{}\" which is not a valid positive integer: {}", bare(&v), p.text))),
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn task(
        &self,
        task: &Task,
        input: Value,
        raw_input: &Value,
        attempt: u32,
        token: Option<String>,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Value, Failure> {
        let timeout = self.task_seconds(task.timeout.as_ref(), "TimeoutSeconds", raw_input, fr)?;
        let heartbeat =
            self.task_seconds(task.heartbeat.as_ref(), "HeartbeatSeconds", raw_input, fr)?;
        let rtype = || task.resource_type.to_string();
        let rname = || task.resource_name.to_string();
        self.record_scheduled(task, &input, timeout, heartbeat, track);
        if let Some(halted) = self.halt(track.rec) {
            return Err(halted);
        }
        let submission = crate::task::Submission::default();
        let outcome = self
            .call_handler(
                task,
                input,
                attempt,
                token,
                timeout,
                heartbeat,
                &submission,
                fr,
            )
            .await;
        if let Some(output) = submission.take() {
            if task.is_activity() {
                self.record(track, || activity_event("ActivityStarted", output));
            } else {
                self.record(track, || EventDetails::TaskSubmitted {
                    resource_type: rtype(),
                    resource: rname(),
                    output,
                });
            }
        }
        if task.is_activity() {
            return self.activity_ended(outcome, track);
        }
        match outcome {
            Ok(v) => {
                if task.direct_lambda {
                    self.record(track, || EventDetails::LambdaFunctionSucceeded {
                        output: v.clone(),
                    });
                } else {
                    self.record(track, || EventDetails::TaskSucceeded {
                        resource_type: rtype(),
                        resource: rname(),
                        output: v.clone(),
                    });
                }
                Ok(v)
            }
            Err((timed_out, f)) => {
                let error = f.error.clone().unwrap_or_default();
                let cause = f.cause.clone();
                self.record(track, || match (task.direct_lambda, timed_out) {
                    (true, false) => EventDetails::LambdaFunctionFailed { error, cause },
                    (true, true) => EventDetails::LambdaFunctionTimedOut { error, cause },
                    (false, false) => EventDetails::TaskFailed {
                        resource_type: rtype(),
                        resource: rname(),
                        error,
                        cause,
                    },
                    (false, true) => EventDetails::TaskTimedOut {
                        resource_type: rtype(),
                        resource: rname(),
                        error,
                        cause,
                    },
                });
                Err(f)
            }
        }
    }

    /// Calls the task's handler (the state's own, else its resource's), within the task's
    /// `TimeoutSeconds`: its answer, or the failure with whether it timed out.
    #[allow(clippy::too_many_arguments)]
    async fn call_handler(
        &self,
        task: &Task,
        input: Value,
        attempt: u32,
        token: Option<String>,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
        submission: &crate::task::Submission,
        fr: &Frame<'_>,
    ) -> Result<Value, (bool, Failure)> {
        let st = fr.st;
        match self.handlers.find_for(&st.name, &task.resource) {
            None => Err((false, self.unknown_resource(task, &input, fr))),
            Some(handler) => {
                let request = TaskRequest {
                    resource: Arc::clone(&task.resource),
                    input,
                    state_name: Arc::clone(&st.name),
                    attempt,
                    timeout_seconds: timeout,
                    heartbeat_seconds: heartbeat,
                    task_token: token,
                    submission: submission.clone(),
                };
                let call = handler.invoke(request);
                let answer = match timeout {
                    None => Some(call.await),
                    Some(t) => {
                        let deadline = self.clock.now_millis().saturating_add(
                            i64::try_from(t)
                                .unwrap_or(i64::MAX / 2)
                                .saturating_mul(1000),
                        );
                        match select(call, self.clock.sleep_until(deadline)).await {
                            Either::Left((r, _)) => Some(r),
                            Either::Right(_) => None,
                        }
                    }
                };
                match answer {
                    Some(Ok(v)) => Ok(v),
                    Some(Err(f)) if f.terminal => Err((
                        false,
                        Failure {
                            halt: Some(Halt::Handler),
                            ..Failure::of(Some(f.error), f.cause)
                        },
                    )),
                    // A heartbeat that did not come in time is a timeout, recorded as one
                    // (`TaskTimedOut` with `States.HeartbeatTimeout`: the API reference's
                    // HistoryEvent, TaskTimedOutEventDetails; no recording in the corpus).
                    Some(Err(f)) => Err((
                        f.error == StatesError::HeartbeatTimeout.name(),
                        Failure {
                            reported: true,
                            ..Failure::of(Some(f.error), f.cause)
                        },
                    )),
                    None => Err((
                        true,
                        Failure {
                            task_timeout: true,
                            ..Failure::of(Some(StatesError::Timeout.name().into()), None)
                        },
                    )),
                }
            }
        }
    }

    /// Records how an activity's task ended: `ActivitySucceeded`, `ActivityTimedOut` or
    /// `ActivityFailed`.
    fn activity_ended(
        &self,
        outcome: Result<Value, (bool, Failure)>,
        track: &mut Track<'_>,
    ) -> Result<Value, Failure> {
        match outcome {
            Ok(v) => {
                self.record(track, || {
                    activity_event(
                        "ActivitySucceeded",
                        json!({"output": v.to_string(), "outputDetails": {"truncated": false}}),
                    )
                });
                Ok(v)
            }
            Err((timed_out, f)) => {
                let kind = if timed_out {
                    "ActivityTimedOut"
                } else {
                    "ActivityFailed"
                };
                self.record(track, || {
                    let mut details = Map::new();
                    if let Some(e) = &f.error {
                        details.insert("error".into(), json!(e));
                    }
                    if let Some(c) = &f.cause {
                        details.insert("cause".into(), json!(c));
                    }
                    activity_event(kind, Value::Object(details))
                });
                Err(f)
            }
        }
    }

    fn unknown_resource(&self, task: &Task, input: &Value, fr: &Frame<'_>) -> Failure {
        if &*task.resource_type == "lambda" {
            let function = input
                .get("FunctionName")
                .and_then(Value::as_str)
                .filter(|_| !task.direct_lambda)
                .unwrap_or(&task.resource);
            return Failure::new(
                "Lambda.ResourceNotFoundException",
                format!(
                    "Function not found: {function} (Service: Lambda, Status Code: 404, Error Code: ResourceNotFoundException)"
                ),
            );
        }
        self.runtime(
            fr,
            format!(
                "The resource '{}' has no handler registered with this engine.",
                task.resource
            ),
        )
    }

    async fn parallel(
        &self,
        branches: &[Graph],
        input: Value,
        fr: &Frame<'_>,
        track: &mut Track<'_>,
    ) -> Result<Value, Failure> {
        let started = self.record(track, || EventDetails::ParallelStateStarted);
        let rec = track.rec;
        let last = branches.len().saturating_sub(1);
        let mut input = Some(input);
        let vars = fr.vars;
        let in_flight: Vec<InFlight> = branches.iter().map(|_| InFlight::default()).collect();
        let mut running: FuturesUnordered<_> = branches
            .iter()
            .zip(&in_flight)
            .enumerate()
            .map(|(i, (g, state))| {
                // The last branch takes the input itself.
                let branch_input = if i == last {
                    input.take()
                } else {
                    input.clone()
                };
                let branch_input = branch_input.unwrap_or(Value::Null);
                async move {
                    let r = self
                        .graph(g, branch_input, rec, started, Some(vars), Some(state))
                        .await;
                    (i, r)
                }
            })
            .collect();
        let mut results = vec![Value::Null; branches.len()];
        while let Some((i, r)) = running.next().await {
            match r {
                Ok((v, _)) => {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = v;
                    }
                }
                Err(f) => {
                    // The other branches stop where they are.
                    drop(running);
                    if let Some(last) = f.last_event {
                        track.prev = last;
                    }
                    // Each abort follows its own branch's last event, as the branch's
                    // events chain; the Parallel state goes on from the last one.
                    for branch in &in_flight {
                        if let Some(state_type) = branch.current() {
                            let prev = branch.last_event.load(Ordering::Relaxed);
                            let mut sibling = Track {
                                rec,
                                prev,
                                branch: None,
                            };
                            self.record_abort(state_type, &mut sibling);
                            if sibling.prev != prev {
                                track.prev = sibling.prev;
                            }
                        }
                    }
                    // No `ParallelStateFailed`: AWS records the branch states' aborts and
                    // then the Parallel state's Retry or Catch (recorded:
                    // error_output__parallel_catch_error__PARALLEL_CATCH_ERROR_OUTPUT and
                    // its _WITH_RETRY variant in the integrations corpus).
                    return Err(f);
                }
            }
        }
        self.record(track, || EventDetails::ParallelStateSucceeded);
        Ok(Value::Array(results))
    }

    /// Records `<Type>StateAborted` for a state of a Parallel branch that stopped without
    /// exiting, for the state types AWS records it for (Task, Wait, Map, Parallel).
    fn record_abort(&self, state_type: StateType, track: &mut Track<'_>) {
        if matches!(
            state_type,
            StateType::Task | StateType::Wait | StateType::Map | StateType::Parallel
        ) {
            self.record(track, || EventDetails::StateAborted { state_type });
        }
    }
}

/// The state a Parallel branch is running, if any, and the branch's last event: what is
/// aborted when the branch stops, and where its abort event follows on.
#[derive(Default)]
struct InFlight {
    state: Mutex<Option<StateType>>,
    last_event: AtomicU64,
}

impl InFlight {
    fn enter(&self, st: &State) {
        *lock(&self.state) = Some(st.kind.state_type());
    }

    fn leave(&self) {
        *lock(&self.state) = None;
    }

    fn current(&self) -> Option<StateType> {
        *lock(&self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_random_keeps_its_sequence() {
        // SplitMix64 from seed 7: recorded runs and seeded tests rely on these numbers.
        let mut rng = SeededRandom::new(7);
        let first: Vec<u64> = (0..3).map(|_| RandomSource::next_u64(&mut rng)).collect();
        assert_eq!(
            first,
            [
                0x63cb_e1e4_5932_0dd7,
                0x044c_3cd7_f43c_661c,
                0xe698_4080_bab1_2a02
            ]
        );
    }

    #[test]
    fn seeded_uuids_are_v4_and_repeatable() {
        let a = uuid(&mut SeededRandom::new(7));
        let b = uuid(&mut SeededRandom::new(7));
        assert_eq!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
    }

    #[test]
    fn size_limit() {
        assert_eq!(check_limits(&json!({"a": "b"}), 9), Ok(()));
        assert_eq!(check_limits(&json!({"a": "bc"}), 9), Err(Oversize::Bytes));
        let mut deep = json!(1);
        for _ in 0..MAX_DEPTH - 1 {
            deep = json!([deep]);
        }
        assert_eq!(check_limits(&deep, usize::MAX), Ok(()));
        let deeper = json!([deep]);
        assert_eq!(check_limits(&deeper, usize::MAX), Err(Oversize::Depth));
        // Dropping stays within the stack: the value is only MAX_DEPTH levels deep.
        drop(deeper);
    }
}
