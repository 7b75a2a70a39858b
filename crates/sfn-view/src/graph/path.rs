//! An execution's path through the state machine, read from its typed history events.

use std::collections::HashMap;

use sfn_local::{EventDetails, HistoryEvent, StateType};

/// How one visit of a state ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepStatus {
    /// The state exited normally (after any retries).
    Succeeded,
    /// The state failed and nothing caught it, or it is a Fail state.
    Failed,
    /// The state failed and one of its `Catch` clauses sent the execution on.
    Caught,
    /// The state was entered and has not ended yet.
    Running,
}

impl StepStatus {
    /// Ordering used when a state was visited several times (loops, Map iterations): the most
    /// telling outcome is shown.
    fn weight(self) -> u8 {
        match self {
            Self::Succeeded => 0,
            Self::Running => 1,
            Self::Caught => 2,
            Self::Failed => 3,
        }
    }
}

/// One visit of a state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The state name.
    pub name: String,
    /// How the visit ended.
    pub status: StepStatus,
}

/// The states an execution visited, in order, and the transitions it took between them.
///
/// Build it with [`path_from_history`], or by hand from
/// `(name, status)` pairs; a hand-built path has no recorded transitions, so an edge is then
/// drawn as taken when both its ends were visited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionPath {
    steps: Vec<Step>,
    /// `None` names the start (as a source) or the end (as a target) of the execution.
    transitions: Vec<(Option<String>, Option<String>)>,
    recorded: bool,
}

impl ExecutionPath {
    /// An empty path (nothing visited).
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a visit.
    pub fn push(&mut self, name: impl Into<String>, status: StepStatus) {
        self.steps.push(Step {
            name: name.into(),
            status,
        });
    }

    /// Every visit, in the order the states were entered.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The outcome shown for a state: the most telling of its visits (failed, then caught,
    /// then running, then succeeded), or `None` when the execution never entered it.
    pub fn status(&self, name: &str) -> Option<StepStatus> {
        self.steps
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.status)
            .max_by_key(|s| s.weight())
    }

    /// Whether the execution went from `from` to `to` (`None`: the start, or the end).
    pub fn took(&self, from: Option<&str>, to: Option<&str>) -> bool {
        if self.recorded {
            return self
                .transitions
                .iter()
                .any(|(f, t)| f.as_deref() == from && t.as_deref() == to);
        }
        let visited = |name: &str| self.status(name).is_some();
        match (from, to) {
            (None, Some(to)) => visited(to),
            (Some(from), None) => matches!(
                self.status(from),
                Some(StepStatus::Succeeded | StepStatus::Failed)
            ),
            (Some(from), Some(to)) => visited(from) && visited(to),
            (None, None) => false,
        }
    }

    fn transition(&mut self, from: Option<&str>, to: Option<&str>) {
        let t = (from.map(str::to_owned), to.map(str::to_owned));
        if !self.transitions.contains(&t) {
            self.transitions.push(t);
        }
    }
}

impl<S: Into<String>> FromIterator<(S, StepStatus)> for ExecutionPath {
    fn from_iter<I: IntoIterator<Item = (S, StepStatus)>>(iter: I) -> Self {
        let mut path = Self::new();
        for (name, status) in iter {
            path.push(name, status);
        }
        path
    }
}

/// Which open state a failure or success event belongs to, by the state type that emits it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Task,
    Parallel,
    Map,
    Wait,
    Any,
}

impl Owner {
    fn accepts(self, state_type: StateType) -> bool {
        match self {
            Owner::Task => state_type == StateType::Task,
            Owner::Parallel => state_type == StateType::Parallel,
            Owner::Map => state_type == StateType::Map,
            Owner::Wait => state_type == StateType::Wait,
            Owner::Any => true,
        }
    }
}

/// What an event means for the path.
enum Meaning<'e> {
    Entered(StateType, &'e str),
    Exited(&'e str),
    /// The state emitting it failed (it may still be retried or caught).
    Failed(Owner),
    /// The state stopped because its Parallel branch did: it and the Parallel state failed.
    Aborted(Owner),
    /// The state's work succeeded, clearing an earlier failure a retry recovered from.
    Recovered(Owner),
    ExecutionSucceeded,
    /// Failed, timed out or aborted.
    ExecutionEnded,
    Nothing,
}

fn meaning(event: &HistoryEvent) -> Meaning<'_> {
    use EventDetails as E;
    match &event.details {
        E::StateEntered {
            state_type, name, ..
        } => Meaning::Entered(*state_type, name),
        E::StateExited { name, .. } => Meaning::Exited(name),
        E::TaskFailed { .. }
        | E::TaskTimedOut { .. }
        | E::LambdaFunctionFailed { .. }
        | E::LambdaFunctionTimedOut { .. } => Meaning::Failed(Owner::Task),
        E::ParallelStateFailed => Meaning::Failed(Owner::Parallel),
        E::StateAborted { state_type } => Meaning::Aborted(match state_type {
            StateType::Task => Owner::Task,
            StateType::Wait => Owner::Wait,
            StateType::Map => Owner::Map,
            StateType::Parallel => Owner::Parallel,
            _ => Owner::Any,
        }),
        E::MapStateFailed | E::MapRunFailed { .. } | E::MapIterationFailed { .. } => {
            Meaning::Failed(Owner::Map)
        }
        E::TaskSucceeded { .. } | E::LambdaFunctionSucceeded { .. } => {
            Meaning::Recovered(Owner::Task)
        }
        E::ParallelStateSucceeded => Meaning::Recovered(Owner::Parallel),
        E::MapStateSucceeded | E::MapRunSucceeded => Meaning::Recovered(Owner::Map),
        E::ExecutionSucceeded { .. } => Meaning::ExecutionSucceeded,
        E::ExecutionFailed { .. } | E::ExecutionTimedOut { .. } => Meaning::ExecutionEnded,
        // Event types the engine does not record (activities, aborts, JSONata evaluation),
        // read from a history recorded elsewhere.
        E::Other { event_type, .. } => match failure_owner(event_type) {
            Some(owner) => Meaning::Failed(owner),
            None if event_type == "ActivitySucceeded" => Meaning::Recovered(Owner::Task),
            None if event_type == "ExecutionAborted" => Meaning::ExecutionEnded,
            None => Meaning::Nothing,
        },
        _ => Meaning::Nothing,
    }
}

/// Event types the engine does not record that mean the state emitting them failed.
fn failure_owner(event_type: &str) -> Option<Owner> {
    Some(match event_type {
        "TaskFailed"
        | "TaskTimedOut"
        | "TaskSubmitFailed"
        | "TaskStartFailed"
        | "TaskStateAborted"
        | "LambdaFunctionFailed"
        | "LambdaFunctionTimedOut"
        | "LambdaFunctionScheduleFailed"
        | "LambdaFunctionStartFailed"
        | "ActivityFailed"
        | "ActivityTimedOut"
        | "ActivityScheduleFailed" => Owner::Task,
        "ParallelStateFailed" | "ParallelStateAborted" => Owner::Parallel,
        "MapStateFailed"
        | "MapStateAborted"
        | "MapRunFailed"
        | "MapRunAborted"
        | "MapIterationFailed"
        | "MapIterationAborted" => Owner::Map,
        "WaitStateAborted" => Owner::Wait,
        "EvaluationFailed" => Owner::Any,
        _ => return None,
    })
}

/// A state entered and not yet exited.
struct Open {
    step: usize,
    name: String,
    state_type: StateType,
    failed: bool,
}

/// Walks the history. Parallel branches and Map iterations interleave their events, so the
/// state an event belongs to is found by following `previousEventId`, which AWS (and the local
/// engine) chain within each branch or iteration; events without it are read in list order.
struct Reader<'a> {
    events: &'a [HistoryEvent],
    by_id: HashMap<u64, usize>,
    /// Event position of a `*StateEntered` → its step.
    entered: HashMap<usize, usize>,
    /// Event position of a `*StateExited` → the state name.
    exited: HashMap<usize, String>,
    open: Vec<Open>,
    path: ExecutionPath,
}

/// Longest `previousEventId` chain followed before giving up (histories hold at most 25,000
/// events; a malformed one could loop).
const MAX_CHAIN: usize = 25_000;

impl<'a> Reader<'a> {
    fn previous(&self, pos: usize) -> Option<usize> {
        let event = self.events.get(pos)?;
        match event.previous_event_id {
            0 => None,
            id => self.by_id.get(&id).copied().filter(|&p| p != pos),
        }
    }

    /// Positions reached by following the chain back from `pos` (excluded).
    fn chain(&self, pos: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.previous(pos), move |&p| self.previous(p)).take(MAX_CHAIN)
    }

    /// The open state an event at `pos` belongs to: the nearest open `*StateEntered` up its
    /// chain of the right type, else the latest open state of that type.
    fn owner(&self, pos: usize, owner: Owner) -> Option<usize> {
        let on_chain = self.chain(pos).find_map(|p| {
            let step = *self.entered.get(&p)?;
            self.open
                .iter()
                .rposition(|o| o.step == step && owner.accepts(o.state_type))
        });
        on_chain.or_else(|| self.open.iter().rposition(|o| owner.accepts(o.state_type)))
    }

    /// Where the execution came from when it entered a state at `pos`: the state exited last on
    /// its chain, `Some(None)` for the start of the execution, `None` for the first state of a
    /// branch or iteration. A failed state that is still open is one a Catch left without an
    /// exit event; it is closed here as caught.
    fn came_from(&mut self, pos: usize) -> Option<Option<String>> {
        enum Found {
            Exited(String),
            Entered(usize),
            Start,
        }
        let found = self.chain(pos).find_map(|p| {
            if let Some(name) = self.exited.get(&p) {
                return Some(Found::Exited(name.clone()));
            }
            if let Some(&step) = self.entered.get(&p) {
                return Some(Found::Entered(step));
            }
            let started = self
                .events
                .get(p)
                .is_some_and(|e| matches!(e.details, EventDetails::ExecutionStarted { .. }));
            started.then_some(Found::Start)
        })?;
        match found {
            Found::Exited(name) => Some(Some(name)),
            Found::Start => Some(None),
            Found::Entered(step) => {
                let i = self.open.iter().rposition(|o| o.step == step && o.failed)?;
                let o = self.open.remove(i);
                if let Some(s) = self.path.steps.get_mut(o.step) {
                    s.status = StepStatus::Caught;
                }
                Some(Some(o.name))
            }
        }
    }

    /// The state the execution ended in: the nearest state event up the chain of `pos`.
    fn last_state(&self, pos: usize) -> Option<String> {
        self.chain(pos).find_map(|p| {
            self.exited.get(&p).cloned().or_else(|| {
                let step = *self.entered.get(&p)?;
                self.path.steps.get(step).map(|s| s.name.clone())
            })
        })
    }

    /// Records that the open state owning the event at `pos` failed (or recovered).
    fn mark(&mut self, pos: usize, owner: Owner, failed: bool) {
        let Some(open) = self.owner(pos, owner).and_then(|i| self.open.get_mut(i)) else {
            return;
        };
        open.failed = failed;
        if let Some(s) = self.path.steps.get_mut(open.step) {
            s.status = if failed {
                StepStatus::Failed
            } else {
                StepStatus::Running
            };
        }
    }

    fn read(mut self) -> ExecutionPath {
        for (pos, event) in self.events.iter().enumerate() {
            match meaning(event) {
                Meaning::Entered(state_type, name) => {
                    if let Some(from) = self.came_from(pos) {
                        self.path.transition(from.as_deref(), Some(name));
                    }
                    let step = self.path.steps.len();
                    self.entered.insert(pos, step);
                    if state_type == StateType::Fail {
                        self.path.push(name, StepStatus::Failed);
                    } else {
                        self.path.push(name, StepStatus::Running);
                        self.open.push(Open {
                            step,
                            name: name.to_owned(),
                            state_type,
                            failed: false,
                        });
                    }
                }
                Meaning::Exited(name) => {
                    if let Some(i) = self.open.iter().rposition(|o| o.name == name) {
                        let o = self.open.remove(i);
                        if let Some(s) = self.path.steps.get_mut(o.step) {
                            s.status = if o.failed {
                                StepStatus::Caught
                            } else {
                                StepStatus::Succeeded
                            };
                        }
                    }
                    self.exited.insert(pos, name.to_owned());
                }
                Meaning::Failed(owner) => self.mark(pos, owner, true),
                Meaning::Aborted(owner) => {
                    self.mark(pos, owner, true);
                    self.mark(pos, Owner::Parallel, true);
                }
                Meaning::Recovered(owner) => self.mark(pos, owner, false),
                Meaning::ExecutionSucceeded => {
                    let last = self.last_state(pos);
                    self.path.transition(last.as_deref(), None);
                }
                Meaning::ExecutionEnded => {
                    let last = self.last_state(pos);
                    self.path.transition(last.as_deref(), None);
                    for o in self.open.drain(..) {
                        if let Some(s) = self.path.steps.get_mut(o.step) {
                            s.status = StepStatus::Failed;
                        }
                    }
                }
                Meaning::Nothing => {}
            }
        }
        self.path
    }
}

/// Reads an execution's path from its history events, in order of `id`.
///
/// A state that exited is [`StepStatus::Succeeded`] (even after failed attempts that a retry
/// recovered from) or [`StepStatus::Caught`] when a failure event (`TaskFailed`,
/// `MapStateFailed`, …) came before the exit; a Fail state, and any state still open when the
/// execution failed, timed out or was aborted, is [`StepStatus::Failed`]; a state still open in
/// a running execution is [`StepStatus::Running`]. Events of unknown types and events without
/// the expected details are skipped, so a partial history gives a partial path.
pub fn path_from_history(events: &[HistoryEvent]) -> ExecutionPath {
    let by_id = events
        .iter()
        .enumerate()
        .map(|(pos, e)| (e.id, pos))
        .collect();
    let reader = Reader {
        events,
        by_id,
        entered: HashMap::new(),
        exited: HashMap::new(),
        open: Vec::new(),
        path: ExecutionPath {
            recorded: true,
            ..ExecutionPath::default()
        },
    };
    reader.read()
}
