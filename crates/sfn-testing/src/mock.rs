//! Step Functions Local's mock configuration: which test case of which state machine answers
//! which state with which mocked response, and the responses, keyed by invocation.
//!
//! The format and its behaviour are AWS's, from
//! <https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html>:
//! - `StateMachines` → machine name → `TestCases` → test case name → state name → the name
//!   of a response in `MockedResponses`;
//! - a response maps invocation numbers, counted from `"0"` for the state's first call in the
//!   execution, or inclusive ranges (`"1-2"`), to exactly one of `Return` (the service's
//!   answer: the task's result before `ResultSelector`) or `Throw` (`Error` and `Cause`);
//! - every call counts: retries advance the counter, and so do the iterations of a Map, which
//!   share their state's counter;
//! - a state the test case does not name is answered as without mocks (on AWS's tool, by
//!   the real service);
//! - a mocked `.waitForTaskToken` task answers at once: nothing waits for a callback.
//!
//! The page asks for a response for every invocation, and the last one is not repeated. What
//! happens to a call past them is not documented; here the execution fails at once with
//! `States.Runtime`, which no Retry or Catch sees, naming the state, the invocation and the
//! response, so a test case cannot pass by accident on an answer nobody wrote.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use sfn_local::{Handlers, StatesError, TaskFailure, TaskHandler, TaskRequest};

use crate::MockError;

/// What a mocked call answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The service's answer.
    Return(Value),
    /// The service's error.
    Throw {
        /// Matched by `Retry` and `Catch` `ErrorEquals`.
        error: String,
        /// Free text; `None` when the configuration gives none.
        cause: Option<String>,
    },
}

/// A mocked response: answers by invocation number.
#[derive(Debug, Clone, PartialEq)]
pub struct MockedResponse {
    /// Inclusive invocation ranges and their answers, in order, not overlapping.
    answers: Vec<(u32, u32, Answer)>,
}

impl MockedResponse {
    /// The answer to invocation `n` (0 for the first), if the response has one.
    pub fn at(&self, n: u32) -> Option<&Answer> {
        self.answers
            .iter()
            .find(|(lo, hi, _)| (*lo..=*hi).contains(&n))
            .map(|(_, _, a)| a)
    }

    /// The invocation ranges the response answers, as the configuration writes them.
    pub fn ranges(&self) -> Vec<String> {
        self.answers
            .iter()
            .map(|(lo, hi, _)| range_text(*lo, *hi))
            .collect()
    }
}

fn range_text(lo: u32, hi: u32) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

/// A mock configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct MockConfig {
    /// Machine name → test case name → state name → response name.
    machines: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    responses: BTreeMap<String, Arc<MockedResponse>>,
}

impl MockConfig {
    /// Reads a mock configuration from JSON text.
    pub fn from_json(text: &str) -> Result<Self, MockError> {
        let value: Value = serde_json::from_str(text).map_err(MockError::Json)?;
        Self::from_value(&value)
    }

    /// Reads a mock configuration; every error names the field it is about.
    pub fn from_value(value: &Value) -> Result<Self, MockError> {
        let top = object(value, "the mock configuration")?;
        for key in top.keys() {
            if key != "StateMachines" && key != "MockedResponses" {
                return Err(MockError::invalid(
                    key,
                    "unknown field: a mock configuration has StateMachines and MockedResponses",
                ));
            }
        }
        let mut responses = BTreeMap::new();
        if let Some(raw) = top.get("MockedResponses") {
            for (name, response) in object(raw, "MockedResponses")? {
                let field = format!("MockedResponses.{name}");
                responses.insert(name.clone(), Arc::new(response_from(response, &field)?));
            }
        }
        let raw = top
            .get("StateMachines")
            .ok_or_else(|| MockError::invalid("StateMachines", "missing"))?;
        let mut machines = BTreeMap::new();
        for (machine, spec) in object(raw, "StateMachines")? {
            let field = format!("StateMachines.{machine}");
            let spec = object(spec, &field)?;
            for key in spec.keys() {
                if key != "TestCases" {
                    return Err(MockError::invalid(
                        format!("{field}.{key}"),
                        "unknown field: a state machine has TestCases",
                    ));
                }
            }
            let field = format!("{field}.TestCases");
            let cases = spec
                .get("TestCases")
                .ok_or_else(|| MockError::invalid(&field, "missing"))?;
            let mut by_case = BTreeMap::new();
            for (case, states) in object(cases, &field)? {
                let field = format!("{field}.{case}");
                let mut by_state = BTreeMap::new();
                for (state, response) in object(states, &field)? {
                    let field = format!("{field}.{state}");
                    let Some(response) = response.as_str() else {
                        return Err(MockError::invalid(
                            field,
                            "must be the name of a mocked response (a string)",
                        ));
                    };
                    if !responses.contains_key(response) {
                        return Err(MockError::invalid(
                            field,
                            format!("no mocked response named {response:?} in MockedResponses"),
                        ));
                    }
                    by_state.insert(state.clone(), response.to_owned());
                }
                by_case.insert(case.clone(), by_state);
            }
            machines.insert(machine.clone(), by_case);
        }
        Ok(MockConfig {
            machines,
            responses,
        })
    }

    /// The state machines the configuration names.
    pub fn machines(&self) -> impl Iterator<Item = &str> {
        self.machines.keys().map(String::as_str)
    }

    /// The machine `name`, or the only one when `name` is `None`.
    pub fn machine(&self, name: Option<&str>) -> Result<&str, MockError> {
        let known = || quoted(self.machines.keys());
        match name {
            Some(name) => self
                .machines
                .get_key_value(name)
                .map(|(k, _)| k.as_str())
                .ok_or_else(|| MockError::NoStateMachine {
                    name: name.to_owned(),
                    known: known(),
                }),
            None if self.machines.len() == 1 => {
                Ok(self.machines.keys().next().map_or("", String::as_str))
            }
            None => Err(MockError::WhichStateMachine {
                count: self.machines.len(),
                known: known(),
            }),
        }
    }

    /// The test cases of `machine`.
    pub fn test_cases(&self, machine: &str) -> impl Iterator<Item = &str> {
        self.machines
            .get(machine)
            .into_iter()
            .flat_map(|cases| cases.keys().map(String::as_str))
    }

    /// The response named `name`.
    pub fn response(&self, name: &str) -> Option<&MockedResponse> {
        self.responses.get(name).map(|r| &**r)
    }

    /// Test case `case` of `machine` (the only machine when `None`), with fresh invocation
    /// counters: one per execution.
    pub fn test_case(&self, machine: Option<&str>, case: &str) -> Result<MockedCase, MockError> {
        let machine = self.machine(machine)?;
        let cases = self
            .machines
            .get(machine)
            .ok_or_else(|| MockError::NoStateMachine {
                name: machine.to_owned(),
                known: quoted(self.machines.keys()),
            })?;
        let states = cases.get(case).ok_or_else(|| MockError::NoTestCase {
            machine: machine.to_owned(),
            case: case.to_owned(),
            known: quoted(cases.keys()),
        })?;
        let states = states
            .iter()
            .filter_map(|(state, response)| {
                let mocked = self.responses.get(response)?;
                Some((state.clone(), (response.clone(), Arc::clone(mocked))))
            })
            .collect();
        Ok(MockedCase(Arc::new(CaseState {
            machine: machine.to_owned(),
            case: case.to_owned(),
            states,
            calls: Mutex::new(HashMap::new()),
        })))
    }
}

fn quoted<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("{n:?}")).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, MockError> {
    value
        .as_object()
        .ok_or_else(|| MockError::invalid(field, "must be a JSON object"))
}

fn response_from(value: &Value, field: &str) -> Result<MockedResponse, MockError> {
    let mut answers: Vec<(u32, u32, Answer)> = Vec::new();
    for (key, answer) in object(value, field)? {
        let field = format!("{field}.\"{key}\"");
        let (lo, hi) = parse_range(key).ok_or_else(|| {
            MockError::invalid(
                &field,
                "an invocation key is a number from 0 (\"0\") or an inclusive range (\"1-2\")",
            )
        })?;
        if let Some((olo, ohi, _)) = answers.iter().find(|(a, b, _)| lo <= *b && *a <= hi) {
            return Err(MockError::invalid(
                &field,
                format!(
                    "overlaps invocations \"{}\": each invocation has one answer",
                    range_text(*olo, *ohi)
                ),
            ));
        }
        answers.push((lo, hi, answer_from(answer, &field)?));
    }
    if answers.is_empty() {
        return Err(MockError::invalid(field, "answers no invocation"));
    }
    answers.sort_by_key(|(lo, _, _)| *lo);
    Ok(MockedResponse { answers })
}

fn parse_range(key: &str) -> Option<(u32, u32)> {
    let number = |s: &str| {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<u32>().ok()
    };
    match key.split_once('-') {
        None => number(key).map(|n| (n, n)),
        Some((lo, hi)) => {
            let (lo, hi) = (number(lo)?, number(hi)?);
            (lo <= hi).then_some((lo, hi))
        }
    }
}

fn answer_from(value: &Value, field: &str) -> Result<Answer, MockError> {
    let answer = object(value, field)?;
    let mut keys = answer.keys();
    let (Some(kind), None) = (keys.next(), keys.next()) else {
        return Err(MockError::invalid(
            field,
            "must hold exactly one of Return or Throw",
        ));
    };
    let inner = &answer[kind];
    match kind.as_str() {
        "Return" => Ok(Answer::Return(inner.clone())),
        "Throw" => {
            let field = format!("{field}.Throw");
            let throw = object(inner, &field)?;
            for key in throw.keys() {
                if key != "Error" && key != "Cause" {
                    return Err(MockError::invalid(
                        format!("{field}.{key}"),
                        "unknown field: a Throw has Error and Cause",
                    ));
                }
            }
            let error = match throw.get("Error") {
                Some(Value::String(e)) if !e.is_empty() => e.clone(),
                Some(_) => {
                    return Err(MockError::invalid(
                        format!("{field}.Error"),
                        "must be a non-empty string",
                    ));
                }
                None => return Err(MockError::invalid(format!("{field}.Error"), "missing")),
            };
            let cause = match throw.get("Cause") {
                None => None,
                Some(Value::String(c)) => Some(c.clone()),
                Some(_) => {
                    return Err(MockError::invalid(
                        format!("{field}.Cause"),
                        "must be a string",
                    ));
                }
            };
            Ok(Answer::Throw { error, cause })
        }
        other => Err(MockError::invalid(
            format!("{field}.{other}"),
            "unknown field: an answer is a Return or a Throw",
        )),
    }
}

/// One test case's mocks for one execution: the states it answers and how often each was
/// called so far.
#[derive(Debug, Clone)]
pub struct MockedCase(Arc<CaseState>);

#[derive(Debug)]
struct CaseState {
    machine: String,
    case: String,
    /// State name → (response name, response).
    states: BTreeMap<String, (String, Arc<MockedResponse>)>,
    /// State name → calls so far.
    calls: Mutex<HashMap<String, u32>>,
}

impl MockedCase {
    /// The test case's name.
    pub fn name(&self) -> &str {
        &self.0.case
    }

    /// The states the test case mocks.
    pub fn states(&self) -> impl Iterator<Item = &str> {
        self.0.states.keys().map(String::as_str)
    }

    /// Makes `handlers` answer the mocked states from this test case, in place of their
    /// resources' handlers; other states keep theirs.
    pub fn apply(&self, handlers: &mut Handlers) {
        for state in self.0.states.keys() {
            let handler: Arc<dyn TaskHandler> = Arc::new(MockedState {
                case: self.clone(),
                state: state.clone(),
            });
            handlers.register_state(state, handler);
        }
    }

    /// How often each mocked state was called so far.
    pub fn calls(&self) -> BTreeMap<String, u32> {
        let calls = self.0.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// The next call of `state`: its answer, counted.
    pub fn answer(&self, state: &str) -> Result<Value, TaskFailure> {
        let Some((name, response)) = self.0.states.get(state) else {
            return Err(TaskFailure::terminal(
                StatesError::Runtime.name(),
                format!(
                    "Test case '{}' of state machine '{}' mocks no state named '{state}'.",
                    self.0.case, self.0.machine
                ),
            ));
        };
        let n = {
            let mut calls = self.0.calls.lock().unwrap_or_else(PoisonError::into_inner);
            let count = calls.entry(state.to_owned()).or_insert(0);
            let n = *count;
            *count = count.saturating_add(1);
            n
        };
        match response.at(n) {
            Some(Answer::Return(value)) => Ok(value.clone()),
            Some(Answer::Throw { error, cause }) => Err(TaskFailure {
                error: error.clone(),
                cause: cause.clone(),
                terminal: false,
            }),
            None => Err(TaskFailure::terminal(
                StatesError::Runtime.name(),
                format!(
                    "The mocked response '{name}' of test case '{}' has no answer for invocation {n} of state '{state}' (it answers invocations {}).",
                    self.0.case,
                    response.ranges().join(", ")
                ),
            )),
        }
    }
}

/// Answers one state from its test case.
struct MockedState {
    case: MockedCase,
    state: String,
}

impl TaskHandler for MockedState {
    fn invoke(&self, _: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        let answer = self.case.answer(&self.state);
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("0"), Some((0, 0)));
        assert_eq!(parse_range("1-2"), Some((1, 2)));
        assert_eq!(parse_range("3-3"), Some((3, 3)));
        for bad in [
            "",
            "-1",
            "2-1",
            "1-",
            "a",
            "1-2-3",
            " 1",
            "+1",
            "99999999999",
        ] {
            assert_eq!(parse_range(bad), None, "{bad:?}");
        }
    }
}
