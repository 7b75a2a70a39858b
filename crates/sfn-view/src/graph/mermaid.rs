//! Mermaid `flowchart TD` output, for Markdown renderers (GitHub, GitLab, mdBook).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::{EdgeKind, Machine, NodeKind, Scope, StateType};
use super::paint::{Tone, edge_tone, node_tone};
use super::path::ExecutionPath;

pub(super) fn render(machine: &Machine, path: Option<&ExecutionPath>) -> String {
    let mut out = String::from("flowchart TD\n");
    scope_nodes(machine, &machine.root, 1, &mut out);

    // Mermaid numbers links in the order they appear; `linkStyle` refers to those numbers.
    let mut link_tones: BTreeMap<Tone, Vec<usize>> = BTreeMap::new();
    let mut link = 0;
    each_scope(&machine.root, machine, &mut |scope| {
        for edge in &scope.edges {
            let (Some(from), Some(to)) = (machine.nodes.get(edge.from), machine.nodes.get(edge.to))
            else {
                continue;
            };
            let arrow = if edge.kind == EdgeKind::Catch {
                "-.->"
            } else {
                "-->"
            };
            let label = edge
                .label
                .as_deref()
                .map(|l| format!("|\"{}\"|", escape(l)))
                .unwrap_or_default();
            let _ = writeln!(out, "    {} {arrow}{label} {}", from.id, to.id);
            link_tones
                .entry(edge_tone(machine, edge, path))
                .or_default()
                .push(link);
            link += 1;
        }
    });

    let mut node_classes: BTreeMap<Tone, Vec<&str>> = BTreeMap::new();
    let mut frames = Vec::new();
    each_node(&machine.root, machine, &mut |i| {
        let Some(node) = machine.nodes.get(i) else {
            return;
        };
        let tone = node_tone(machine, i, path);
        if node.is_compound() {
            frames.push((node.id.as_str(), tone));
        } else {
            node_classes.entry(tone).or_default().push(&node.id);
        }
    });
    let used = |t: &Tone| {
        node_classes.contains_key(t)
            || frames.iter().any(|(_, f)| f == t)
            || link_tones.contains_key(t)
    };
    for tone in Tone::ALL.iter().filter(|t| used(t)) {
        let _ = writeln!(
            out,
            "    classDef {} fill:{},stroke:{},color:{}",
            tone.class(),
            tone.fill(),
            tone.stroke(),
            tone.text()
        );
    }
    for (tone, ids) in &node_classes {
        let _ = writeln!(out, "    class {} {}", ids.join(","), tone.class());
    }
    for (id, tone) in frames {
        let _ = writeln!(
            out,
            "    style {id} fill:{},stroke:{},color:{}",
            tone.fill(),
            tone.stroke(),
            tone.text()
        );
    }
    for (tone, links) in &link_tones {
        let list: Vec<String> = links.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "    linkStyle {} stroke:{},stroke-width:{}px",
            list.join(","),
            tone.stroke(),
            tone.edge_width()
        );
    }
    out
}

fn scope_nodes(machine: &Machine, scope: &Scope, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    for &i in &scope.nodes {
        let Some(node) = machine.nodes.get(i) else {
            continue;
        };
        let text = escape(&node.name);
        if node.is_compound() {
            let _ = writeln!(out, "{pad}subgraph {} [\"{text}\"]", node.id);
            let nested = node.children.len() > 1 || node.state_type() == Some(StateType::Parallel);
            for child in &node.children {
                if nested {
                    let _ = writeln!(
                        out,
                        "{pad}    subgraph {} [\"{}\"]",
                        child.id,
                        escape(&child.title)
                    );
                    scope_nodes(machine, child, depth + 2, out);
                    let _ = writeln!(out, "{pad}    end");
                    let _ = writeln!(
                        out,
                        "{pad}    style {} fill:none,stroke:#aab7b8,stroke-dasharray:4 3",
                        child.id
                    );
                } else {
                    scope_nodes(machine, child, depth + 1, out);
                }
            }
            let _ = writeln!(out, "{pad}end");
            continue;
        }
        let shape = match node.kind {
            NodeKind::Start | NodeKind::End => ("((", "))"),
            NodeKind::State(StateType::Choice) => ("{{", "}}"),
            NodeKind::State(StateType::Succeed | StateType::Fail) => ("([", "])"),
            NodeKind::State(_) => ("[", "]"),
        };
        let _ = writeln!(out, "{pad}{}{}\"{text}\"{}", node.id, shape.0, shape.1);
    }
}

/// Visits `scope` and every scope nested in it, outermost first.
fn each_scope<'m>(scope: &'m Scope, machine: &'m Machine, f: &mut dyn FnMut(&'m Scope)) {
    f(scope);
    for &i in &scope.nodes {
        if let Some(node) = machine.nodes.get(i) {
            for child in &node.children {
                each_scope(child, machine, f);
            }
        }
    }
}

/// Visits every node index, outermost scope first.
fn each_node(scope: &Scope, machine: &Machine, f: &mut dyn FnMut(usize)) {
    each_scope(scope, machine, &mut |s| s.nodes.iter().for_each(|&i| f(i)));
}

/// Text inside a quoted Mermaid label. Mermaid decodes `#<decimal>;` entity codes, so every
/// character that could end the quoted string or the link text, start an entity or a
/// comment, or be read as HTML or Markdown is written that way; control characters (line breaks included) become spaces.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '#' | '<' | '>' | '&' | '|' | '`' | ';' | '%' => {
                let _ = write!(out, "#{};", u32::from(c));
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
