//! Graphviz DOT output (`dot -Tpng`), with Parallel branches and Map item processors as
//! clusters.

use std::fmt::Write as _;

use super::model::{EdgeKind, Machine, NodeKind, Scope, StateType};
use super::paint::{Tone, edge_tone, node_tone};
use super::path::ExecutionPath;

const FONT: &str = "Helvetica,Arial,sans-serif";

pub(super) fn render(machine: &Machine, path: Option<&ExecutionPath>) -> String {
    let mut out = String::from("digraph \"state machine\" {\n");
    let _ = writeln!(
        out,
        "  graph [compound=true, rankdir=TB, nodesep=0.35, ranksep=0.45, fontname=\"{FONT}\", fontsize=12];"
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname=\"{FONT}\", fontsize=12, penwidth=1.2];"
    );
    let _ = writeln!(
        out,
        "  edge [fontname=\"{FONT}\", fontsize=10, arrowsize=0.7];"
    );
    scope(machine, &machine.root, path, 1, &mut out);
    edges(machine, &machine.root, path, &mut out);
    out.push_str("}\n");
    out
}

fn scope(
    machine: &Machine,
    s: &Scope,
    path: Option<&ExecutionPath>,
    depth: usize,
    out: &mut String,
) {
    let pad = "  ".repeat(depth);
    for &i in &s.nodes {
        let Some(node) = machine.nodes.get(i) else {
            continue;
        };
        let tone = node_tone(machine, i, path);
        let colours = format!(
            "fillcolor=\"{}\", color=\"{}\", fontcolor=\"{}\"",
            tone.fill(),
            tone.stroke(),
            tone.text()
        );
        if node.is_compound() {
            let _ = writeln!(out, "{pad}subgraph \"cluster_{}\" {{", node.id);
            let _ = writeln!(
                out,
                "{pad}  graph [label=\"{}\", style=\"rounded,filled\", {colours}];",
                escape(&node.name)
            );
            let framed = node.children.len() > 1 || node.state_type() == Some(StateType::Parallel);
            for child in &node.children {
                if framed {
                    let _ = writeln!(out, "{pad}  subgraph \"cluster_{}\" {{", child.id);
                    let _ = writeln!(
                        out,
                        "{pad}    graph [label=\"{}\", style=\"dashed,rounded\", color=\"#aab7b8\", fontcolor=\"#545b64\"];",
                        escape(&child.title)
                    );
                    scope(machine, child, path, depth + 2, out);
                    let _ = writeln!(out, "{pad}  }}");
                } else {
                    scope(machine, child, path, depth + 1, out);
                }
            }
            let _ = writeln!(out, "{pad}}}");
            continue;
        }
        let shape = match node.kind {
            NodeKind::Start | NodeKind::End => "shape=ellipse, style=filled, fontsize=10",
            NodeKind::State(StateType::Choice) => "shape=hexagon, style=filled",
            NodeKind::State(StateType::Succeed | StateType::Fail) => {
                "style=\"rounded,filled,bold\""
            }
            NodeKind::State(_) => "",
        };
        let sep = if shape.is_empty() { "" } else { ", " };
        let _ = writeln!(
            out,
            "{pad}\"{}\" [label=\"{}\"{sep}{shape}, {colours}];",
            node.id,
            escape(&node.name)
        );
    }
}

/// A node inside a cluster that edges to or from the cluster attach to (Graphviz clips them at
/// the cluster's border through `lhead`/`ltail`).
fn anchor(machine: &Machine, node: usize) -> usize {
    let mut at = node;
    // Each level moves into a child scope, so this ends; the bound guards a malformed model.
    for _ in 0..machine.nodes.len() {
        let next = machine
            .nodes
            .get(at)
            .and_then(|n| n.children.first())
            .and_then(|c| c.nodes.first());
        match next {
            Some(&inner) => at = inner,
            None => break,
        }
    }
    at
}

fn edges(machine: &Machine, s: &Scope, path: Option<&ExecutionPath>, out: &mut String) {
    for edge in &s.edges {
        let (Some(from), Some(to)) = (machine.nodes.get(edge.from), machine.nodes.get(edge.to))
        else {
            continue;
        };
        let tone = edge_tone(machine, edge, path);
        let mut attrs = vec![
            format!("color=\"{}\"", tone.stroke()),
            format!("penwidth={}", tone.edge_width()),
        ];
        if tone == Tone::NotTaken {
            attrs.push(format!("fontcolor=\"{}\"", tone.text()));
        }
        if let Some(label) = &edge.label {
            attrs.push(format!("label=\"{}\"", escape(label)));
        }
        if edge.kind == EdgeKind::Catch {
            attrs.push("style=dashed".into());
        }
        if from.is_compound() {
            attrs.push(format!("ltail=\"cluster_{}\"", from.id));
        }
        if to.is_compound() {
            attrs.push(format!("lhead=\"cluster_{}\"", to.id));
        }
        let tail = machine
            .nodes
            .get(anchor(machine, edge.from))
            .unwrap_or(from);
        let head = machine.nodes.get(anchor(machine, edge.to)).unwrap_or(to);
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [{}];",
            tail.id,
            head.id,
            attrs.join(", ")
        );
    }
    for &i in &s.nodes {
        if let Some(node) = machine.nodes.get(i) {
            for child in &node.children {
                edges(machine, child, path, out);
            }
        }
    }
}

/// Text inside a double-quoted DOT string: quotes and backslashes escaped (so Graphviz's own
/// `\n`, `\N`… sequences cannot be formed), control characters as spaces.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
