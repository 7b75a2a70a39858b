//! Checkpoints of an execution between its top-level states, and resuming one from the last:
//! what a host needs to keep Standard executions through a crash. After a restart the step
//! in flight runs again, as Step Functions runs a step again after a worker failure.

use serde_json::{Map, Value};

use crate::HistoryEvent;

/// Where an execution stands before one of its top-level states: with the execution's input,
/// what resuming it there needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The state about to be entered.
    pub state: String,
    /// Its input.
    pub input: Value,
    /// The execution's variables at that point.
    pub variables: Map<String, Value>,
    /// The id of the last event recorded before the state (the history so far).
    pub last_event_id: u64,
}

/// Told of each checkpoint as the execution reaches it (see
/// [`ExecuteOptions::checkpoints`](crate::ExecuteOptions::checkpoints)).
pub trait Checkpoints: Send + Sync {
    /// The execution reached `checkpoint`; `events` are the events recorded since the
    /// previous checkpoint (all of them for the first), when the history is kept. The call
    /// is made on the execution's task, which waits for it: a host that persists the
    /// checkpoint has it on disk before the state runs.
    fn checkpoint(&self, checkpoint: &Checkpoint, events: &[HistoryEvent]);
}

/// An execution to continue from a checkpoint (see
/// [`ExecuteOptions::resume`](crate::ExecuteOptions::resume)).
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    /// Where to continue.
    pub checkpoint: Checkpoint,
    /// The history up to the checkpoint: events 1 to `checkpoint.last_event_id`.
    pub events: Vec<HistoryEvent>,
    /// When the execution started, on its clock (milliseconds since the epoch).
    pub start_millis: i64,
    /// Whether the execution was redriven (RedriveExecution), and whether this is the redrive
    /// itself; `None` for an execution never redriven, continued after its host stopped.
    pub redrive: Option<Redrive>,
}

/// A redrive of an execution (see [`Resume::redrive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redrive {
    /// How many times the execution was redriven: `$$.Execution.RedriveCount`.
    pub count: u32,
    /// When the last redrive began (milliseconds since the epoch): `$$.Execution.RedriveTime`.
    pub at_millis: i64,
    /// Whether this resume is that redrive, which records `ExecutionRedriven` first; not when
    /// a redriven execution is continued after its host stopped.
    pub now: bool,
}
