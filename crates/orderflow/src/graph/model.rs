//! The state machine as a drawable graph: states become nodes, every transition (`Next`, each
//! Choice rule, `Default`, each `Catch`, the start and the ends) becomes an edge, and Parallel
//! branches and Map item processors become nested scopes drawn inside their state.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map, Value};

use super::GraphError;

/// The whole drawing: every node of every scope, and the top-level scope.
#[derive(Debug)]
pub(super) struct Machine {
    pub nodes: Vec<Node>,
    pub root: Scope,
}

/// One list of states that transition among themselves: the top level, a Parallel branch or a
/// Map item processor (ASL forbids transitions across scopes, so every edge stays inside one).
#[derive(Debug)]
pub(super) struct Scope {
    /// Identifier for Mermaid subgraphs and DOT clusters, e.g. `s3_b0`.
    pub id: String,
    /// Title shown on the scope's frame, e.g. `Branch 1`.
    pub title: String,
    /// Indexes into `Machine::nodes`, in flow order (breadth first from `StartAt`).
    pub nodes: Vec<usize>,
    pub edges: Vec<Edge>,
}

/// A state, or the Start / End marker of the top level.
#[derive(Debug)]
pub(super) struct Node {
    /// Generated identifier (`s0`, `s1`, …): state names never appear in identifiers, so no
    /// format has to escape them there.
    pub id: String,
    /// The state name as written in the definition.
    pub name: String,
    pub kind: NodeKind,
    /// A short description under the name, e.g. `Choice` or `lambda:invoke`.
    pub caption: String,
    /// Parallel branches, or the one Map item processor.
    pub children: Vec<Scope>,
}

impl Node {
    /// Whether the node is drawn as a frame around nested scopes.
    pub fn is_compound(&self) -> bool {
        !self.children.is_empty()
    }

    pub fn state_type(&self) -> Option<StateType> {
        match self.kind {
            NodeKind::State(t) => Some(t),
            NodeKind::Start | NodeKind::End => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeKind {
    Start,
    End,
    State(StateType),
}

/// The ASL state types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StateType {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

impl StateType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Pass" => Self::Pass,
            "Task" => Self::Task,
            "Choice" => Self::Choice,
            "Wait" => Self::Wait,
            "Succeed" => Self::Succeed,
            "Fail" => Self::Fail,
            "Parallel" => Self::Parallel,
            "Map" => Self::Map,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Pass => "Pass",
            Self::Task => "Task",
            Self::Choice => "Choice",
            Self::Wait => "Wait",
            Self::Succeed => "Succeed",
            Self::Fail => "Fail",
            Self::Parallel => "Parallel",
            Self::Map => "Map",
        }
    }
}

/// A transition between two nodes of the same scope.
#[derive(Debug)]
pub(super) struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EdgeKind {
    /// Start marker to `StartAt`.
    Start,
    Next,
    /// One Choice rule; the label is the rule in short.
    Rule,
    Default,
    /// One Catch clause; the label is its `ErrorEquals`.
    Catch,
    /// A terminal state (`End`, Succeed, Fail) to the End marker.
    End,
}

/// Longest label text kept on an edge; longer rules are cut with an ellipsis so the picture
/// stays readable (the definition holds the full rule).
const MAX_LABEL_CHARS: usize = 48;

/// Builds the graph of a definition (an object, or JSON text holding one, as
/// `DescribeStateMachine` returns it).
pub(super) fn build(definition: &Value) -> Result<Machine, GraphError> {
    let parsed;
    let definition = match definition {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text).map_err(|e| GraphError::InvalidJson {
                reason: e.to_string(),
            })?;
            &parsed
        }
        other => other,
    };
    let mut b = Builder { nodes: Vec::new() };
    let root = b.scope(definition, "", "machine".into(), String::new(), true)?;
    Ok(Machine {
        nodes: b.nodes,
        root,
    })
}

struct Builder {
    nodes: Vec<Node>,
}

impl Builder {
    fn push(&mut self, name: String, kind: NodeKind, caption: String) -> usize {
        let index = self.nodes.len();
        self.nodes.push(Node {
            id: format!("s{index}"),
            name,
            kind,
            caption,
            children: Vec::new(),
        });
        index
    }

    /// `at` is the field path of this scope's object (`""` for the definition itself), used to
    /// name the bad field in errors.
    fn scope(
        &mut self,
        def: &Value,
        at: &str,
        id: String,
        title: String,
        top: bool,
    ) -> Result<Scope, GraphError> {
        let here = if at.is_empty() { "definition" } else { at };
        let obj = def.as_object().ok_or_else(|| wrong(here, "an object"))?;
        let start_field = format!("{at}StartAt");
        let start_at = obj
            .get("StartAt")
            .ok_or_else(|| missing(&start_field))?
            .as_str()
            .ok_or_else(|| wrong(&start_field, "a string"))?;
        let states_field = format!("{at}States");
        let states = obj
            .get("States")
            .ok_or_else(|| missing(&states_field))?
            .as_object()
            .ok_or_else(|| wrong(&states_field, "an object"))?;
        if !states.contains_key(start_at) {
            return Err(GraphError::UnknownState {
                field: start_field,
                target: start_at.to_owned(),
            });
        }

        let mut scope = Scope {
            id,
            title,
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        let start = top.then(|| self.push("Start".into(), NodeKind::Start, String::new()));
        let mut index = HashMap::new();
        let order = flow_order(start_at, states);
        let mut typed = Vec::with_capacity(order.len());
        for name in &order {
            let st = &states[name.as_str()];
            let field = state_field(at, name);
            let obj = st.as_object().ok_or_else(|| wrong(&field, "an object"))?;
            let type_field = format!("{field}.Type");
            let type_name = obj
                .get("Type")
                .ok_or_else(|| missing(&type_field))?
                .as_str()
                .ok_or_else(|| wrong(&type_field, "a string"))?;
            let state_type =
                StateType::parse(type_name).ok_or_else(|| GraphError::UnknownStateType {
                    field: type_field.clone(),
                    value: type_name.to_owned(),
                })?;
            let node = self.push(
                name.clone(),
                NodeKind::State(state_type),
                caption(state_type, obj),
            );
            index.insert(name.as_str(), node);
            scope.nodes.push(node);
            typed.push((name, obj, state_type, field, node));
        }
        if let Some(start) = start {
            scope.nodes.insert(0, start);
        }
        let end = top.then(|| self.push("End".into(), NodeKind::End, String::new()));

        if let Some(start) = start {
            scope.edges.push(Edge {
                from: start,
                to: index[start_at],
                kind: EdgeKind::Start,
                label: None,
            });
        }
        for (_, obj, state_type, field, node) in &typed {
            let target = |key: &str, v: &Value, field: &str| -> Result<usize, GraphError> {
                let f = format!("{field}.{key}");
                let name = v.as_str().ok_or_else(|| wrong(&f, "a string"))?;
                index
                    .get(name)
                    .copied()
                    .ok_or_else(|| GraphError::UnknownState {
                        field: f,
                        target: name.to_owned(),
                    })
            };
            if *state_type == StateType::Choice {
                let choices_field = format!("{field}.Choices");
                let rules = obj
                    .get("Choices")
                    .ok_or_else(|| missing(&choices_field))?
                    .as_array()
                    .ok_or_else(|| wrong(&choices_field, "an array"))?;
                for (i, rule) in rules.iter().enumerate() {
                    let rule_field = format!("{choices_field}[{i}]");
                    let next = rule
                        .get("Next")
                        .ok_or_else(|| missing(&format!("{rule_field}.Next")))?;
                    scope.edges.push(Edge {
                        from: *node,
                        to: target("Next", next, &rule_field)?,
                        kind: EdgeKind::Rule,
                        label: Some(shorten(&rule_text(rule))),
                    });
                }
                if let Some(next) = obj.get("Default") {
                    scope.edges.push(Edge {
                        from: *node,
                        to: target("Default", next, field)?,
                        kind: EdgeKind::Default,
                        label: Some("Default".into()),
                    });
                }
            } else if let Some(next) = obj.get("Next") {
                scope.edges.push(Edge {
                    from: *node,
                    to: target("Next", next, field)?,
                    kind: EdgeKind::Next,
                    label: None,
                });
            }
            let terminal = matches!(state_type, StateType::Succeed | StateType::Fail)
                || obj.get("End").and_then(Value::as_bool) == Some(true);
            if let (true, Some(end)) = (terminal, end) {
                scope.edges.push(Edge {
                    from: *node,
                    to: end,
                    kind: EdgeKind::End,
                    label: None,
                });
            }
            if let Some(catchers) = obj.get("Catch") {
                let catch_field = format!("{field}.Catch");
                let catchers = catchers
                    .as_array()
                    .ok_or_else(|| wrong(&catch_field, "an array"))?;
                for (i, catcher) in catchers.iter().enumerate() {
                    let catcher_field = format!("{catch_field}[{i}]");
                    let next = catcher
                        .get("Next")
                        .ok_or_else(|| missing(&format!("{catcher_field}.Next")))?;
                    scope.edges.push(Edge {
                        from: *node,
                        to: target("Next", next, &catcher_field)?,
                        kind: EdgeKind::Catch,
                        label: Some(shorten(&errors_text(catcher))),
                    });
                }
            }
        }
        if let Some(end) = end {
            // A definition with no terminal state (an endless loop) still gets its End marker so
            // every picture reads the same way; it simply has no edge.
            scope.nodes.push(end);
        }

        for (_, obj, state_type, field, node) in typed {
            let children = match state_type {
                StateType::Parallel => {
                    let branches_field = format!("{field}.Branches");
                    let branches = obj
                        .get("Branches")
                        .ok_or_else(|| missing(&branches_field))?
                        .as_array()
                        .ok_or_else(|| wrong(&branches_field, "an array"))?;
                    let mut children = Vec::with_capacity(branches.len());
                    for (i, branch) in branches.iter().enumerate() {
                        children.push(self.scope(
                            branch,
                            &format!("{branches_field}[{i}]."),
                            format!("s{node}_b{i}"),
                            format!("Branch {}", i + 1),
                            false,
                        )?);
                    }
                    children
                }
                StateType::Map => {
                    let (key, processor) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
                        (Some(p), _) => ("ItemProcessor", p),
                        (None, Some(p)) => ("Iterator", p),
                        (None, None) => return Err(missing(&format!("{field}.ItemProcessor"))),
                    };
                    vec![self.scope(
                        processor,
                        &format!("{field}.{key}."),
                        format!("s{node}_p"),
                        "Item processor".into(),
                        false,
                    )?]
                }
                _ => Vec::new(),
            };
            self.nodes[node].children = children;
        }
        Ok(scope)
    }
}

/// States in the order a reader follows them: breadth first from `StartAt` along each state's
/// transitions in definition order, then any unreachable state by name. This keeps generated
/// identifiers and the drawing stable whatever order the JSON object iterates in.
fn flow_order(start_at: &str, states: &Map<String, Value>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut order = Vec::with_capacity(states.len());
    let mut queue = VecDeque::from([start_at.to_owned()]);
    seen.insert(start_at.to_owned());
    while let Some(name) = queue.pop_front() {
        if let Some(st) = states.get(&name) {
            for next in successors(st) {
                if states.contains_key(next) && seen.insert(next.to_owned()) {
                    queue.push_back(next.to_owned());
                }
            }
            order.push(name);
        }
    }
    let mut rest: Vec<&String> = states.keys().filter(|k| !seen.contains(*k)).collect();
    rest.sort();
    order.extend(rest.into_iter().cloned());
    order
}

fn successors(st: &Value) -> Vec<&str> {
    let nexts = |key: &str| {
        st.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|v| v.get("Next"))
    };
    nexts("Choices")
        .chain([st.get("Default"), st.get("Next")])
        .chain(nexts("Catch"))
        .filter_map(|v| v.and_then(Value::as_str))
        .collect()
}

/// `States["Payment Verified?"]` under the scope path `at`.
fn state_field(at: &str, name: &str) -> String {
    let quoted = serde_json::to_string(name).unwrap_or_else(|_| format!("\"{name}\""));
    format!("{at}States[{quoted}]")
}

fn missing(field: &str) -> GraphError {
    GraphError::MissingField {
        field: field.to_owned(),
    }
}

fn wrong(field: &str, expected: &'static str) -> GraphError {
    GraphError::WrongType {
        field: field.to_owned(),
        expected,
    }
}

/// What the node says under its name: the integration for service tasks
/// (`arn:aws:states:::lambda:invoke` → `lambda:invoke`), else the state type.
fn caption(state_type: StateType, obj: &Map<String, Value>) -> String {
    let resource = obj.get("Resource").and_then(Value::as_str);
    match (state_type, resource) {
        (StateType::Task, Some(r)) if r.starts_with("arn:aws:states:::") => {
            r.trim_start_matches("arn:aws:states:::").to_owned()
        }
        (StateType::Task, Some(r)) if r.contains(":lambda:") => "lambda".into(),
        _ => state_type.name().into(),
    }
}

/// The errors a Catch clause handles, e.g. `PaymentError` or `States.ALL`.
fn errors_text(catcher: &Value) -> String {
    match catcher.get("ErrorEquals").and_then(Value::as_array) {
        Some(errors) => errors
            .iter()
            .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        None => "catch".into(),
    }
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

/// A Choice rule in short, e.g. `$.quantityInStock > 0` or
/// `$.orderId is a string && !($.orderId == "")`.
pub(super) fn rule_text(rule: &Value) -> String {
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
                    let text = rule_text(p);
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
        return format!("!({})", rule_text(inner));
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

/// Cuts a label to `MAX_LABEL_CHARS` characters with an ellipsis.
pub(super) fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_LABEL_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_LABEL_CHARS - 1).collect();
    cut.push('…');
    cut
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
    fn long_labels_are_cut() {
        assert_eq!(shorten("short"), "short");
        let long = "x".repeat(100);
        assert_eq!(shorten(&long).chars().count(), MAX_LABEL_CHARS);
        assert!(shorten(&long).ends_with('…'));
    }
}
