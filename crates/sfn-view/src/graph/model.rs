//! The state machine as a drawable graph: states become nodes, every transition (`Next`, each
//! Choice rule, `Default`, each `Catch`, the start and the ends) becomes an edge, and Parallel
//! branches and Map item processors become nested scopes drawn inside their state.

use std::collections::VecDeque;

use sfn_local::{Scope as States, StateMachine, StateView, TransitionKind};

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

pub(super) use sfn_local::StateType;

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

/// Builds the graph of a loaded definition.
pub(super) fn build(machine: &StateMachine) -> Machine {
    let mut b = Builder { nodes: Vec::new() };
    let root = b.scope(machine.definition(), "machine".into(), String::new(), true);
    Machine {
        nodes: b.nodes,
        root,
    }
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

    fn scope(&mut self, states: States<'_>, id: String, title: String, top: bool) -> Scope {
        let mut scope = Scope {
            id,
            title,
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        let start = top.then(|| self.push("Start".into(), NodeKind::Start, String::new()));
        let order = flow_order(states);
        // A state's node, by its index in the scope.
        let mut node_of = vec![0; states.states().len()];
        for state in &order {
            let node = self.push(
                state.name().to_owned(),
                NodeKind::State(state.state_type()),
                caption(state),
            );
            node_of[state.index()] = node;
            scope.nodes.push(node);
        }
        if let Some(start) = start {
            scope.nodes.insert(0, start);
            scope.edges.push(Edge {
                from: start,
                to: node_of[states.start().index()],
                kind: EdgeKind::Start,
                label: None,
            });
        }
        let end = top.then(|| self.push("End".into(), NodeKind::End, String::new()));
        for state in &order {
            let node = node_of[state.index()];
            let ends = state.is_end();
            let mut catches = Vec::new();
            for t in state.transitions() {
                let (kind, label) = match &t.kind {
                    TransitionKind::Next => (EdgeKind::Next, None),
                    TransitionKind::Choice { rule, .. } => (EdgeKind::Rule, Some(shorten(rule))),
                    TransitionKind::Default => (EdgeKind::Default, Some("Default".into())),
                    TransitionKind::Catch { .. } => {
                        catches.push(Edge {
                            from: node,
                            to: node_of[t.target.index()],
                            kind: EdgeKind::Catch,
                            label: Some(shorten(&t.kind.label())),
                        });
                        continue;
                    }
                    _ => continue,
                };
                scope.edges.push(Edge {
                    from: node,
                    to: node_of[t.target.index()],
                    kind,
                    label,
                });
            }
            if let (true, Some(end)) = (ends, end) {
                scope.edges.push(Edge {
                    from: node,
                    to: end,
                    kind: EdgeKind::End,
                    label: None,
                });
            }
            scope.edges.extend(catches);
        }
        if let Some(end) = end {
            // A definition with no terminal state (an endless loop) still gets its End marker so
            // every picture reads the same way; it simply has no edge.
            scope.nodes.push(end);
        }
        for state in &order {
            let node = node_of[state.index()];
            let children = match state.state_type() {
                StateType::Parallel => state
                    .branches()
                    .into_iter()
                    .enumerate()
                    .map(|(i, branch)| {
                        self.scope(
                            branch,
                            format!("s{node}_b{i}"),
                            format!("Branch {}", i + 1),
                            false,
                        )
                    })
                    .collect(),
                StateType::Map => state
                    .item_processor()
                    .map(|p| self.scope(p, format!("s{node}_p"), "Item processor".into(), false))
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            };
            self.nodes[node].children = children;
        }
        scope
    }
}

/// States in the order a reader follows them: breadth first from `StartAt` along each state's
/// transitions in definition order, then any unreachable state by name. This keeps generated
/// identifiers and the drawing stable whatever order the definition lists them in.
fn flow_order(states: States<'_>) -> Vec<StateView<'_>> {
    let mut seen = vec![false; states.states().len()];
    let mut order = Vec::with_capacity(seen.len());
    let start = states.start();
    seen[start.index()] = true;
    let mut queue = VecDeque::from([start]);
    while let Some(state) = queue.pop_front() {
        for t in state.transitions() {
            if !seen[t.target.index()] {
                seen[t.target.index()] = true;
                queue.push_back(t.target);
            }
        }
        order.push(state);
    }
    let mut rest: Vec<StateView<'_>> = states.states().filter(|s| !seen[s.index()]).collect();
    rest.sort_by_key(|s| s.name());
    order.extend(rest);
    order
}

/// What the node says under its name: the integration for service tasks
/// (`arn:aws:states:::lambda:invoke` → `lambda:invoke`), else the state type.
fn caption(state: &StateView<'_>) -> String {
    match state.resource() {
        Some(r) if r.starts_with("arn:aws:states:::") => {
            r.trim_start_matches("arn:aws:states:::").to_owned()
        }
        Some(r) if r.contains(":lambda:") => "lambda".into(),
        _ => state.state_type().name().into(),
    }
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
    use super::*;

    #[test]
    fn long_labels_are_cut() {
        assert_eq!(shorten("short"), "short");
        let long = "x".repeat(100);
        assert_eq!(shorten(&long).chars().count(), MAX_LABEL_CHARS);
        assert!(shorten(&long).ends_with('…'));
    }
}
