//! A loaded definition's shape, read-only: what tools that draw or check a state machine walk
//! (a graph, an infrastructure check) instead of parsing the definition's JSON again.
//!
//! ```
//! use sfn_local::{StateMachine, StateType, TransitionKind};
//!
//! let machine = StateMachine::from_json(r#"{"StartAt": "Pick", "States": {
//!   "Pick": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0,
//!            "Next": "Done"}], "Default": "Done"},
//!   "Done": {"Type": "Succeed"}}}"#)?;
//! let top = machine.definition();
//! let pick = top.start();
//! assert_eq!(pick.state_type(), StateType::Choice);
//! let labels: Vec<String> = pick.transitions().iter().map(|t| t.kind.label()).collect();
//! assert_eq!(labels, ["$.n > 0", "Default"]);
//! assert!(top.get("Done").is_some_and(|s| s.is_end()));
//! # Ok::<(), sfn_local::Error>(())
//! ```

use serde_json::Value;

use crate::StateMachine;
use crate::history::StateType;
use crate::model::{Graph, Kind, Lang, Source, State};

impl StateMachine {
    /// The top-level states, as loaded.
    pub fn definition(&self) -> Scope<'_> {
        Scope { graph: &self.root }
    }

    /// The state with this name in any scope: the top level, a branch or an item processor
    /// (the first found, depth first, in definition order).
    pub fn find_state(&self, name: &str) -> Option<StateView<'_>> {
        self.definition().find(name)
    }
}

/// One list of states that transition among themselves: the top level, a Parallel branch or
/// a Map item processor.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    graph: &'a Graph,
}

impl<'a> Scope<'a> {
    /// The `StartAt` state.
    pub fn start(&self) -> StateView<'a> {
        self.at(self.graph.start)
    }

    /// Every state, in the order the definition lists them.
    pub fn states(&self) -> impl ExactSizeIterator<Item = StateView<'a>> + 'a {
        let graph = self.graph;
        (0..graph.states.len()).map(move |index| StateView { graph, index })
    }

    /// The state with this name.
    pub fn get(&self, name: &str) -> Option<StateView<'a>> {
        self.states().find(|s| s.name() == name)
    }

    /// The state with this name here or in a nested scope.
    pub fn find(&self, name: &str) -> Option<StateView<'a>> {
        self.states().find_map(|s| {
            if s.name() == name {
                return Some(s);
            }
            s.branches()
                .into_iter()
                .chain(s.item_processor())
                .find_map(|inner| inner.find(name))
        })
    }

    /// Every state of this scope and of the scopes nested in it (Parallel branches, Map item
    /// processors), depth first: each state comes before the states nested in it, and states
    /// come in the order the definition lists them.
    ///
    /// ```
    /// use sfn_local::StateMachine;
    ///
    /// let machine = StateMachine::from_json(r#"{"StartAt": "P", "States": {
    ///   "P": {"Type": "Parallel", "Next": "Done", "Branches": [
    ///          {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}]},
    ///   "Done": {"Type": "Succeed"}}}"#)?;
    /// let names: Vec<&str> = machine.definition().all_states().iter().map(|s| s.name()).collect();
    /// assert_eq!(names, ["P", "A", "Done"]);
    /// # Ok::<(), sfn_local::Error>(())
    /// ```
    pub fn all_states(&self) -> Vec<StateView<'a>> {
        let mut out = Vec::new();
        self.collect_states(&mut out);
        out
    }

    fn collect_states(&self, out: &mut Vec<StateView<'a>>) {
        for state in self.states() {
            out.push(state);
            for inner in state.branches().into_iter().chain(state.item_processor()) {
                inner.collect_states(out);
            }
        }
    }

    fn at(&self, index: usize) -> StateView<'a> {
        StateView {
            graph: self.graph,
            index,
        }
    }
}

/// One state of a [`Scope`].
#[derive(Debug, Clone, Copy)]
pub struct StateView<'a> {
    graph: &'a Graph,
    index: usize,
}

impl<'a> StateView<'a> {
    fn state(&self) -> &'a State {
        // The index comes from the same graph, so it is always in range.
        &self.graph.states[self.index]
    }

    fn scope(&self) -> Scope<'a> {
        Scope { graph: self.graph }
    }

    /// The state's name.
    pub fn name(&self) -> &'a str {
        &self.state().name
    }

    /// Its position in its scope, in definition order: an identifier stable for a definition.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Its type.
    pub fn state_type(&self) -> StateType {
        self.state().kind.state_type()
    }

    /// The state as written in the definition.
    pub fn source(&self) -> &'a Value {
        &self.state().source
    }

    /// Whether the execution (or its branch or iteration) can end here: `End: true`, or a
    /// Succeed or Fail state.
    pub fn is_end(&self) -> bool {
        match &self.state().kind {
            Kind::Succeed | Kind::Fail { .. } => true,
            Kind::Choice { .. } => false,
            _ => self.state().next.is_none(),
        }
    }

    /// Where the state can go next, in the definition's order: `Next`, each Choice rule and
    /// `Default`, then each Catch clause.
    pub fn transitions(&self) -> Vec<Transition<'a>> {
        let scope = self.scope();
        let state = self.state();
        let mut out = Vec::new();
        match &state.kind {
            Kind::Choice { choices, default } => {
                let rules = self.source().get("Choices").and_then(Value::as_array);
                for (index, next) in choices.iter().map(|c| c.next).enumerate() {
                    let rule = rules.and_then(|r| r.get(index)).unwrap_or(&Value::Null);
                    out.push(Transition {
                        kind: TransitionKind::Choice {
                            index,
                            rule: rule_text(rule),
                        },
                        target: scope.at(next),
                    });
                }
                if let Some(next) = default {
                    out.push(Transition {
                        kind: TransitionKind::Default,
                        target: scope.at(*next),
                    });
                }
            }
            _ => {
                if let Some(next) = state.next {
                    out.push(Transition {
                        kind: TransitionKind::Next,
                        target: scope.at(next),
                    });
                }
            }
        }
        for (index, catcher) in state.catch.iter().enumerate() {
            out.push(Transition {
                kind: TransitionKind::Catch {
                    index,
                    errors: error_names(&catcher.errors),
                },
                target: scope.at(catcher.next),
            });
        }
        out
    }

    /// The retriers, in order, each with the errors it names.
    pub fn retriers(&self) -> Vec<Vec<&'a str>> {
        self.state()
            .retry
            .iter()
            .map(|r| error_names(&r.errors))
            .collect()
    }

    /// A Parallel state's branches.
    pub fn branches(&self) -> Vec<Scope<'a>> {
        match &self.state().kind {
            Kind::Parallel { branches } => branches.iter().map(|graph| Scope { graph }).collect(),
            _ => Vec::new(),
        }
    }

    /// A Map state's item processor.
    pub fn item_processor(&self) -> Option<Scope<'a>> {
        match &self.state().kind {
            Kind::Map(spec) => Some(Scope {
                graph: &spec.processor,
            }),
            _ => None,
        }
    }

    /// A Task state's `Resource`, as written: an integration
    /// (`arn:aws:states:::lambda:invoke`), an activity or a function ARN.
    ///
    /// ```
    /// use sfn_local::{StateMachine, StateType};
    ///
    /// let machine = StateMachine::from_json(r#"{"StartAt": "Call", "States": {
    ///   "Call": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
    ///            "Next": "Done"},
    ///   "Done": {"Type": "Succeed"}}}"#)?;
    /// let call = machine.definition().start();
    /// assert_eq!(call.state_type(), StateType::Task);
    /// assert_eq!(call.resource(), Some("arn:aws:lambda:us-east-1:123456789012:function:f"));
    /// assert_eq!(machine.definition().get("Done").and_then(|s| s.resource()), None);
    /// # Ok::<(), sfn_local::Error>(())
    /// ```
    pub fn resource(&self) -> Option<&'a str> {
        match &self.state().kind {
            Kind::Task(task) => Some(&task.resource),
            _ => None,
        }
    }

    /// The error a Fail state gives, when it names it literally (`Error`, not `ErrorPath`).
    pub fn fail_error(&self) -> Option<&'a str> {
        match &self.state().kind {
            Kind::Fail {
                error: Some(Source::Literal(error)),
                ..
            } => Some(error),
            _ => None,
        }
    }

    /// The `Parameters` as written (literal values, and `….$` fields with their paths).
    pub fn parameters(&self) -> Option<&'a Value> {
        self.source().get("Parameters")
    }

    /// A JSONata state's `Arguments` as written (literal values and `{% %}` expressions).
    ///
    /// ```
    /// use serde_json::json;
    /// use sfn_local::{QueryLanguage, StateMachine};
    ///
    /// let machine = StateMachine::from_json(r#"{"StartAt": "Publish", "States": {
    ///   "Publish": {"Type": "Task", "QueryLanguage": "JSONata",
    ///               "Resource": "arn:aws:states:::sns:publish",
    ///               "Arguments": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
    ///                             "Message": "{% $states.input.text %}"},
    ///               "End": true}}}"#)?;
    /// let publish = machine.definition().start();
    /// assert_eq!(publish.query_language(), QueryLanguage::Jsonata);
    /// assert_eq!(
    ///     publish.arguments().and_then(|a| a.get("TopicArn")),
    ///     Some(&json!("arn:aws:sns:us-east-1:123456789012:t"))
    /// );
    /// assert_eq!(publish.parameters(), None);
    /// # Ok::<(), sfn_local::Error>(())
    /// ```
    pub fn arguments(&self) -> Option<&'a Value> {
        self.source().get("Arguments")
    }

    /// The language the state's fields are written in: its own `QueryLanguage`, or else the
    /// definition's. It says whether the state's input to a task is `Parameters` (JSONPath)
    /// or `Arguments` (JSONata).
    pub fn query_language(&self) -> QueryLanguage {
        match self.state().lang {
            Lang::JsonPath => QueryLanguage::JsonPath,
            Lang::Jsonata => QueryLanguage::Jsonata,
        }
    }
}

/// The query language of a state's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    /// `JSONPath`: `InputPath`, `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath`.
    JsonPath,
    /// `JSONata`: `Arguments` and `Output`, with `{% %}` expressions.
    Jsonata,
}

/// One way out of a state.
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    /// Why the state goes there.
    pub kind: TransitionKind<'a>,
    /// Where it goes.
    pub target: StateView<'a>,
}

/// Why a transition is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransitionKind<'a> {
    /// The state's `Next`.
    Next,
    /// A Choice state's rule number `index`, described in short (`$.n > 0`).
    Choice {
        /// The rule's position in `Choices`.
        index: usize,
        /// The rule in short, e.g. `$.orderId is a string && !($.orderId == "")`.
        rule: String,
    },
    /// A Choice state's `Default`.
    Default,
    /// Catch clause number `index`, for these errors.
    Catch {
        /// The clause's position in `Catch`.
        index: usize,
        /// Its `ErrorEquals`.
        errors: Vec<&'a str>,
    },
}

impl TransitionKind<'_> {
    /// How a drawing labels the transition: the rule, `Default`, the caught errors; nothing
    /// for `Next`.
    pub fn label(&self) -> String {
        match self {
            TransitionKind::Next => String::new(),
            TransitionKind::Choice { rule, .. } => rule.clone(),
            TransitionKind::Default => "Default".to_owned(),
            TransitionKind::Catch { errors, .. } => errors.join(", "),
        }
    }
}

fn error_names(errors: &crate::model::ErrorEquals) -> Vec<&str> {
    let mut names: Vec<&str> = errors.names.iter().map(|n| &**n).collect();
    if errors.all {
        names.push(crate::StatesError::All.name());
    }
    names
}

/// Comparison operators: (ASL name without a `Path` suffix, symbol).
const COMPARISONS: [(&str, &str); 17] = [
    ("StringEquals", "=="),
    ("StringLessThan", "<"),
    ("StringGreaterThan", ">"),
    ("StringLessThanEquals", "<="),
    ("StringGreaterThanEquals", ">="),
    ("StringMatches", "matches"),
    ("NumericEquals", "=="),
    ("NumericLessThan", "<"),
    ("NumericGreaterThan", ">"),
    ("NumericLessThanEquals", "<="),
    ("NumericGreaterThanEquals", ">="),
    ("BooleanEquals", "=="),
    ("TimestampEquals", "=="),
    ("TimestampLessThan", "<"),
    ("TimestampGreaterThan", ">"),
    ("TimestampLessThanEquals", "<="),
    ("TimestampGreaterThanEquals", ">="),
];

/// Type tests: (ASL name, text when true, text when false).
const TESTS: [(&str, &str, &str); 6] = [
    ("IsPresent", "is present", "is absent"),
    ("IsNull", "is null", "is not null"),
    ("IsString", "is a string", "is not a string"),
    ("IsNumeric", "is numeric", "is not numeric"),
    ("IsBoolean", "is a boolean", "is not a boolean"),
    ("IsTimestamp", "is a timestamp", "is not a timestamp"),
];

/// The most levels of `And`/`Or`/`Not` described; the loader refuses deeper rules anyway.
const MAX_RULE_DEPTH: usize = 32;

/// A Choice rule in short, e.g. `$.quantityInStock > 0` or
/// `$.orderId is a string && !($.orderId == "")`.
fn rule_text(rule: &Value) -> String {
    rule_text_at(rule, 0)
}

fn rule_text_at(rule: &Value, depth: usize) -> String {
    if depth > MAX_RULE_DEPTH {
        return "…".to_owned();
    }
    if let Some(condition) = rule.get("Condition").and_then(Value::as_str) {
        let inner = condition.trim();
        let inner = inner
            .strip_prefix("{%")
            .and_then(|s| s.strip_suffix("%}"))
            .unwrap_or(inner);
        return inner.trim().to_owned();
    }
    for (key, joiner) in [("And", " && "), ("Or", " || ")] {
        if let Some(parts) = rule.get(key).and_then(Value::as_array) {
            return parts
                .iter()
                .map(|p| {
                    let text = rule_text_at(p, depth + 1);
                    if p.get("And").is_some() || p.get("Or").is_some() {
                        format!("({text})")
                    } else {
                        text
                    }
                })
                .collect::<Vec<_>>()
                .join(joiner);
        }
    }
    if let Some(inner) = rule.get("Not") {
        return format!("!({})", rule_text_at(inner, depth + 1));
    }
    let variable = rule.get("Variable").and_then(Value::as_str).unwrap_or("?");
    for (key, symbol) in COMPARISONS {
        if let Some(v) = rule.get(key) {
            return format!("{variable} {symbol} {v}");
        }
        if let Some(v) = rule.get(format!("{key}Path").as_str()) {
            let path = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            return format!("{variable} {symbol} {path}");
        }
    }
    for (key, yes, no) in TESTS {
        if let Some(v) = rule.get(key) {
            let text = if v.as_bool().unwrap_or(true) { yes } else { no };
            return format!("{variable} {text}");
        }
    }
    format!("{variable} ?")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(v: Value, expected: &str) {
        assert_eq!(rule_text(&v), expected, "rule {v}");
    }

    #[test]
    fn rules_read_as_short_text() {
        rule(
            json!({"Variable": "$.quantityInStock", "NumericGreaterThan": 0, "Next": "x"}),
            "$.quantityInStock > 0",
        );
        rule(
            json!({"Variable": "$.ok", "BooleanEquals": true}),
            "$.ok == true",
        );
        rule(
            json!({"Variable": "$.s", "StringEquals": "PAID"}),
            "$.s == \"PAID\"",
        );
        rule(
            json!({"Variable": "$.a", "NumericLessThanEqualsPath": "$.b"}),
            "$.a <= $.b",
        );
        rule(
            json!({"Variable": "$.t", "TimestampGreaterThan": "2024-01-01T00:00:00Z"}),
            "$.t > \"2024-01-01T00:00:00Z\"",
        );
        rule(
            json!({"Variable": "$.n", "StringMatches": "log-*"}),
            "$.n matches \"log-*\"",
        );
        rule(
            json!({"Variable": "$.id", "IsPresent": false}),
            "$.id is absent",
        );
        rule(json!({"Variable": "$.id", "IsNull": true}), "$.id is null");
        rule(
            json!({"Not": {"Variable": "$.id", "StringEquals": ""}}),
            "!($.id == \"\")",
        );
        rule(
            json!({"And": [{"Variable": "$.a", "IsString": true}, {"Or": [{"Variable": "$.b", "NumericEquals": 1}, {"Variable": "$.b", "NumericEquals": 2}]}]}),
            "$.a is a string && ($.b == 1 || $.b == 2)",
        );
        rule(
            json!({"Condition": "{% $states.input.n > 1 %}"}),
            "$states.input.n > 1",
        );
        rule(json!({"Variable": "$.x"}), "$.x ?");
    }

    #[test]
    fn the_order_workflow_reads_as_loaded() {
        let text = include_str!("../../../statemachine/order-processing.asl.json");
        let machine = StateMachine::from_json(text).expect("loads");
        let top = machine.definition();
        assert_eq!(top.start().name(), "Assign Order Id");
        let parallel = top
            .get("Verify Payment And Check Stock")
            .expect("the parallel state");
        assert_eq!(parallel.state_type(), StateType::Parallel);
        assert_eq!(parallel.branches().len(), 2);
        let verify = parallel.branches()[0].start();
        assert_eq!(verify.resource(), Some("arn:aws:states:::lambda:invoke"));
        assert_eq!(
            verify.parameters().and_then(|p| p.get("FunctionName")),
            Some(&json!("${VerifyPaymentFunctionArn}"))
        );
        assert!(verify.is_end());
        assert_eq!(verify.retriers().len(), 3);
        let catches: Vec<String> = parallel
            .transitions()
            .iter()
            .filter(|t| matches!(t.kind, TransitionKind::Catch { .. }))
            .map(|t| format!("{} -> {}", t.kind.label(), t.target.name()))
            .collect();
        assert_eq!(
            catches,
            [
                "ValidationError -> Read Failure",
                "States.ALL -> Processing Error"
            ]
        );
        let map = top.get("Check Items In Stock").expect("the map state");
        assert_eq!(
            map.item_processor().map(|p| p.start().name()),
            Some("In Stock?")
        );
    }
}
