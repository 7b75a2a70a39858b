//! Colours, shared by every format so the three pictures of one execution agree. They follow
//! the Step Functions console's graph view: green succeeded, red failed, orange caught, blue
//! in progress, grey not taken.

use super::model::{Edge, EdgeKind, Machine, Node, NodeKind};
use super::path::{ExecutionPath, StepStatus};

/// How a node or edge is painted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Tone {
    /// No execution given: the definition alone.
    Plain,
    Succeeded,
    Failed,
    Caught,
    Running,
    NotTaken,
}

impl Tone {
    /// Every tone, in legend order.
    pub const ALL: [Tone; 6] = [
        Tone::Plain,
        Tone::Succeeded,
        Tone::Failed,
        Tone::Caught,
        Tone::Running,
        Tone::NotTaken,
    ];

    /// Class name (Mermaid `classDef`, SVG `class`).
    pub fn class(self) -> &'static str {
        match self {
            Tone::Plain => "plain",
            Tone::Succeeded => "succeeded",
            Tone::Failed => "failed",
            Tone::Caught => "caught",
            Tone::Running => "running",
            Tone::NotTaken => "notTaken",
        }
    }

    /// Words for the legend.
    pub fn legend(self) -> &'static str {
        match self {
            Tone::Plain => "state",
            Tone::Succeeded => "succeeded",
            Tone::Failed => "failed",
            Tone::Caught => "caught error",
            Tone::Running => "in progress",
            Tone::NotTaken => "not taken",
        }
    }

    pub fn fill(self) -> &'static str {
        match self {
            Tone::Plain => "#ffffff",
            Tone::Succeeded => "#d6f0d8",
            Tone::Failed => "#f9d4d4",
            Tone::Caught => "#ffe3c2",
            Tone::Running => "#d3e5fb",
            Tone::NotTaken => "#f2f3f3",
        }
    }

    pub fn stroke(self) -> &'static str {
        match self {
            Tone::Plain => "#545b64",
            Tone::Succeeded => "#1d8102",
            Tone::Failed => "#d13212",
            Tone::Caught => "#e07700",
            Tone::Running => "#0972d3",
            Tone::NotTaken => "#aab7b8",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Tone::NotTaken => "#7d8998",
            _ => "#16191f",
        }
    }

    /// Edges on the execution's path are drawn thicker.
    pub fn edge_width(self) -> f64 {
        match self {
            Tone::Plain => 1.4,
            Tone::NotTaken => 1.2,
            _ => 2.4,
        }
    }
}

impl From<StepStatus> for Tone {
    fn from(s: StepStatus) -> Self {
        match s {
            StepStatus::Succeeded => Tone::Succeeded,
            StepStatus::Failed => Tone::Failed,
            StepStatus::Caught => Tone::Caught,
            StepStatus::Running => Tone::Running,
        }
    }
}

/// The tone of a node under an optional execution path.
pub(super) fn node_tone(machine: &Machine, node: usize, path: Option<&ExecutionPath>) -> Tone {
    let Some(path) = path else {
        return Tone::Plain;
    };
    let Some(n) = machine.nodes.get(node) else {
        return Tone::Plain;
    };
    match n.kind {
        NodeKind::Start if path.steps().is_empty() => Tone::NotTaken,
        NodeKind::Start => Tone::Succeeded,
        NodeKind::End => machine
            .root
            .edges
            .iter()
            .filter(|e| e.to == node)
            .map(|e| edge_tone(machine, e, Some(path)))
            .filter(|t| *t != Tone::NotTaken)
            .max_by_key(|t| matches!(t, Tone::Failed))
            .unwrap_or(Tone::NotTaken),
        NodeKind::State(_) => path.status(&n.name).map_or(Tone::NotTaken, Tone::from),
    }
}

/// The tone of an edge: taken edges are green, a taken Catch edge orange, the end of a failed
/// execution red; the rest grey.
pub(super) fn edge_tone(machine: &Machine, edge: &Edge, path: Option<&ExecutionPath>) -> Tone {
    let Some(path) = path else {
        return Tone::Plain;
    };
    let state = |i: usize| -> Option<&Node> {
        machine
            .nodes
            .get(i)
            .filter(|n| matches!(n.kind, NodeKind::State(_)))
    };
    let from = state(edge.from);
    let to = state(edge.to);
    if !path.took(from.map(|n| n.name.as_str()), to.map(|n| n.name.as_str())) {
        return Tone::NotTaken;
    }
    match edge.kind {
        EdgeKind::Catch => Tone::Caught,
        EdgeKind::End => match from.and_then(|n| path.status(&n.name)) {
            Some(StepStatus::Failed) => Tone::Failed,
            _ => Tone::Succeeded,
        },
        _ => Tone::Succeeded,
    }
}
