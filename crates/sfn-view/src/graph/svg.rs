//! SVG output, laid out here (no Graphviz needed): each scope is laid out on its own with
//! [`layout::layered`], and a Parallel or Map state becomes a frame sized to hold its
//! branches side by side, the way the Step Functions console draws them.

use std::fmt::Write as _;

use super::layout::{self, LEdge, Placed, Size};
use super::model::{Edge, EdgeKind, Machine, Node, NodeKind, Scope, StateType};
use super::paint::{Tone, edge_tone, node_tone};
use super::path::ExecutionPath;

const FONT: &str = "Helvetica, Arial, sans-serif";
const NAME_SIZE: f64 = 13.0;
const CAPTION_SIZE: f64 = 10.0;
const LABEL_SIZE: f64 = 11.0;
/// Space around a scope's layout.
const MARGIN: f64 = 14.0;
/// Title row of a compound state's frame.
const HEADER: f64 = 28.0;
/// Title row of a branch's dashed frame.
const BRANCH_TITLE: f64 = 16.0;
/// Gap between branches, and padding inside a compound frame.
const PAD: f64 = 12.0;
const STATE_HEIGHT: f64 = 42.0;
const MARKER: Size = Size { w: 60.0, h: 26.0 };
/// How far a self-loop (a Catch or Choice rule back to its own state) reaches to the right.
const LOOP_REACH: f64 = 30.0;
/// Radius of the rounded bends of an edge.
const BEND: f64 = 10.0;

/// A laid-out scope: local node `i` is `machine.nodes[nodes[i]]`.
struct ScopeBox {
    nodes: Vec<usize>,
    /// Size drawn for each node.
    sizes: Vec<Size>,
    /// For compound nodes, the laid-out children.
    children: Vec<Vec<ScopeBox>>,
    placed: Placed,
}

impl ScopeBox {
    fn local(&self, node: usize) -> Option<usize> {
        self.nodes.iter().position(|&n| n == node)
    }
}

pub(super) fn render(machine: &Machine, path: Option<&ExecutionPath>) -> String {
    let root = measure(machine, &machine.root);
    let legend = path.is_some();
    let legend_tones = [
        Tone::Succeeded,
        Tone::Failed,
        Tone::Caught,
        Tone::Running,
        Tone::NotTaken,
    ];
    let legend_width: f64 = legend_tones
        .iter()
        .map(|t| 22.0 + text_width(t.legend(), LABEL_SIZE) + 16.0)
        .sum::<f64>()
        + 2.0 * MARGIN;
    let width = if legend {
        root.placed.width.max(legend_width)
    } else {
        root.placed.width
    };
    let height = root.placed.height + if legend { 30.0 } else { 0.0 };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{FONT}\" font-size=\"{NAME_SIZE}\">",
        w = num(width.ceil()),
        h = num(height.ceil())
    );
    out.push_str("<defs>\n");
    for tone in Tone::ALL {
        let _ = writeln!(
            out,
            "<marker id=\"arrow-{}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{}\"/></marker>",
            tone.class(),
            tone.stroke()
        );
    }
    out.push_str("</defs>\n");
    out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    draw_scope(machine, &machine.root, &root, (0.0, 0.0), path, &mut out);
    if legend {
        let y = root.placed.height + 8.0;
        let mut x = MARGIN;
        out.push_str("<g class=\"legend\">\n");
        for tone in legend_tones {
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"14\" rx=\"3\" fill=\"{}\" stroke=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"{LABEL_SIZE}\" fill=\"#16191f\">{}</text>",
                num(x),
                num(y),
                tone.fill(),
                tone.stroke(),
                num(x + 20.0),
                num(y + 11.0),
                tone.legend()
            );
            x += 22.0 + text_width(tone.legend(), LABEL_SIZE) + 16.0;
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

/// Lays out a scope, children first (a compound node's size is that of its content).
fn measure(machine: &Machine, scope: &Scope) -> ScopeBox {
    let mut sizes = Vec::with_capacity(scope.nodes.len());
    let mut children = Vec::with_capacity(scope.nodes.len());
    for &i in &scope.nodes {
        let Some(node) = machine.nodes.get(i) else {
            sizes.push(MARKER);
            children.push(Vec::new());
            continue;
        };
        let kids: Vec<ScopeBox> = node.children.iter().map(|c| measure(machine, c)).collect();
        let size = match node.kind {
            NodeKind::Start | NodeKind::End => MARKER,
            NodeKind::State(_) if !kids.is_empty() => {
                let inner_w = kids.iter().map(|k| k.placed.width).sum::<f64>()
                    + PAD * (kids.len() - 1) as f64;
                let inner_h = kids
                    .iter()
                    .map(|k| k.placed.height + BRANCH_TITLE)
                    .fold(0.0, f64::max);
                // Bold runs about a tenth wider than regular text.
                let title_w = 1.1 * text_width(&node.name, NAME_SIZE)
                    + text_width(&node.caption, CAPTION_SIZE)
                    + 2.0 * PAD
                    + 16.0;
                Size {
                    w: (inner_w + 2.0 * PAD).max(title_w),
                    h: HEADER + inner_h + PAD,
                }
            }
            NodeKind::State(_) => Size {
                w: (text_width(&node.name, NAME_SIZE).max(text_width(&node.caption, CAPTION_SIZE))
                    + 28.0)
                    .max(96.0),
                h: STATE_HEIGHT,
            },
        };
        sizes.push(size);
        children.push(kids);
    }
    let local = |n: usize| scope.nodes.iter().position(|&x| x == n);
    let mut layout_sizes = sizes.clone();
    let mut edges = Vec::with_capacity(scope.edges.len());
    for edge in &scope.edges {
        let (Some(from), Some(to)) = (local(edge.from), local(edge.to)) else {
            // Cannot happen for a built model; an out-of-range edge is laid out as a no-op.
            edges.push(LEdge {
                from: usize::MAX,
                to: usize::MAX,
                label: None,
            });
            continue;
        };
        let label = edge.label.as_deref().map(label_size);
        if from == to {
            // The loop and its label sit on the right; reserve the same on the left so the
            // state stays centred on the edges above and below it.
            let room = LOOP_REACH + label.map_or(0.0, |l| l.w + 4.0);
            if let Some(s) = layout_sizes.get_mut(from) {
                s.w += 2.0 * room;
            }
        }
        edges.push(LEdge { from, to, label });
    }
    let placed = layout::layered(&layout_sizes, &edges, MARGIN);
    ScopeBox {
        nodes: scope.nodes.clone(),
        sizes,
        children,
        placed,
    }
}

fn label_size(text: &str) -> Size {
    Size {
        w: text_width(text, LABEL_SIZE) + 8.0,
        h: 16.0,
    }
}

fn draw_scope(
    machine: &Machine,
    scope: &Scope,
    sb: &ScopeBox,
    origin: (f64, f64),
    path: Option<&ExecutionPath>,
    out: &mut String,
) {
    // Edges first: states are drawn over them.
    for (k, edge) in scope.edges.iter().enumerate() {
        draw_edge(machine, sb, k, edge, origin, path, out);
    }
    for (local, &i) in sb.nodes.iter().enumerate() {
        draw_node(machine, sb, local, i, origin, path, out);
    }
}

/// The scope's `k`th edge, with its label.
fn draw_edge(
    machine: &Machine,
    sb: &ScopeBox,
    k: usize,
    edge: &Edge,
    (ox, oy): (f64, f64),
    path: Option<&ExecutionPath>,
    out: &mut String,
) {
    let center = |local: usize| sb.placed.centers.get(local).map(|&(x, y)| (x + ox, y + oy));
    let (Some(from), Some(to)) = (sb.local(edge.from), sb.local(edge.to)) else {
        return;
    };
    let (Some(fs), Some(ts)) = (sb.sizes.get(from), sb.sizes.get(to)) else {
        return;
    };
    let tone = edge_tone(machine, edge, path);
    let title = format!(
        "{} → {}{}",
        machine.nodes.get(edge.from).map_or("", |n| n.name.as_str()),
        machine.nodes.get(edge.to).map_or("", |n| n.name.as_str()),
        edge.label
            .as_deref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default()
    );
    let route = sb.placed.routes.get(k);
    let (d, label_at) = if from == to {
        let Some((cx, cy)) = center(from) else {
            return;
        };
        let x = cx + fs.w / 2.0;
        let d = format!(
            "M{},{} C{},{} {},{} {},{}",
            num(x),
            num(cy - 8.0),
            num(x + LOOP_REACH),
            num(cy - 26.0),
            num(x + LOOP_REACH),
            num(cy + 26.0),
            num(x + 1.0),
            num(cy + 8.0)
        );
        let label_at = edge
            .label
            .as_deref()
            .map(|l| (x + LOOP_REACH + 2.0 + label_size(l).w / 2.0, cy));
        (d, label_at)
    } else {
        let Some(route) = route else { return };
        let mut points: Vec<(f64, f64)> = route
            .points
            .iter()
            .map(|&(x, y)| (x + ox, y + oy))
            .collect();
        if points.len() < 2 {
            return;
        }
        let last = points.len() - 1;
        points[0] = clip(points[0], points[1], *fs);
        points[last] = clip(points[last], points[last - 1], *ts);
        (smooth(&points), route.label.map(|(x, y)| (x + ox, y + oy)))
    };
    let dash = if edge.kind == EdgeKind::Catch {
        " stroke-dasharray=\"6,4\""
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<path class=\"edge {}\" d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{dash} marker-end=\"url(#arrow-{})\"><title>{}</title></path>",
        tone.class(),
        tone.stroke(),
        tone.edge_width(),
        tone.class(),
        xml(&title)
    );
    if let (Some(text), Some((lx, ly))) = (edge.label.as_deref(), label_at) {
        let size = label_size(text);
        let _ = writeln!(
            out,
            "<g class=\"label\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{LABEL_SIZE}\" fill=\"{}\">{}</text></g>",
            num(lx - size.w / 2.0),
            num(ly - size.h / 2.0),
            num(size.w),
            num(size.h),
            num(lx),
            num(ly + 4.0),
            if tone == Tone::NotTaken {
                tone.text()
            } else {
                "#414750"
            },
            xml(text)
        );
    }
}

/// The scope's `local`th node (`i` in the machine), with the scopes nested in it.
fn draw_node(
    machine: &Machine,
    sb: &ScopeBox,
    local: usize,
    i: usize,
    (ox, oy): (f64, f64),
    path: Option<&ExecutionPath>,
    out: &mut String,
) {
    let center = |local: usize| sb.placed.centers.get(local).map(|&(x, y)| (x + ox, y + oy));
    let (Some(node), Some(size), Some((cx, cy))) =
        (machine.nodes.get(i), sb.sizes.get(local), center(local))
    else {
        return;
    };
    let tone = node_tone(machine, i, path);
    let (x, y) = (cx - size.w / 2.0, cy - size.h / 2.0);
    let caption_fill = if tone == Tone::NotTaken {
        tone.text()
    } else {
        "#5f6b7a"
    };
    let _ = writeln!(
        out,
        "<g class=\"node {}\" id=\"{}\"><title>{}</title>",
        tone.class(),
        node.id,
        xml(&node.name)
    );
    let kids = sb.children.get(local).filter(|k| !k.is_empty());
    match (node.kind, kids) {
        (NodeKind::State(_), Some(kids)) => {
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"{}\" fill-opacity=\"0.5\" stroke=\"{}\" stroke-width=\"1.4\"/>",
                num(x),
                num(y),
                num(size.w),
                num(size.h),
                tone.fill(),
                tone.stroke()
            );
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" font-weight=\"bold\" fill=\"{}\">{}<tspan dx=\"6\" font-weight=\"normal\" font-size=\"{CAPTION_SIZE}\" fill=\"{caption_fill}\">· {}</tspan></text>",
                num(x + PAD),
                num(y + 19.0),
                tone.text(),
                xml(&node.name),
                xml(&node.caption)
            );
            draw_children(machine, node, kids, (x, y), *size, path, out);
        }
        (NodeKind::Start | NodeKind::End, _) => {
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"1.4\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{LABEL_SIZE}\" fill=\"{}\">{}</text>",
                num(x),
                num(y),
                num(size.w),
                num(size.h),
                num(size.h / 2.0),
                tone.fill(),
                tone.stroke(),
                num(cx),
                num(cy + 4.0),
                tone.text(),
                xml(&node.name)
            );
        }
        (NodeKind::State(t), _) => {
            draw_outline(t, (x, y), cy, *size, tone, out);
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{CAPTION_SIZE}\" fill=\"{caption_fill}\">{}</text>",
                num(cx),
                num(cy - 2.0),
                tone.text(),
                xml(&node.name),
                num(cx),
                num(cy + 13.0),
                xml(&node.caption)
            );
        }
    }
    out.push_str("</g>\n");
}

/// The outline of a state's box (top left at `(x, y)`, centre line at `cy`): a hexagon for
/// a Choice, a heavier border for the terminal Succeed and Fail.
fn draw_outline(
    t: StateType,
    (x, y): (f64, f64),
    cy: f64,
    size: Size,
    tone: Tone,
    out: &mut String,
) {
    let stroke_width = match t {
        StateType::Succeed | StateType::Fail => 2.4,
        _ => 1.4,
    };
    if t == StateType::Choice {
        let c = 10.0;
        let _ = writeln!(
            out,
            "<polygon points=\"{},{} {},{} {},{} {},{} {},{} {},{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{stroke_width}\" stroke-linejoin=\"round\"/>",
            num(x),
            num(cy),
            num(x + c),
            num(y),
            num(x + size.w - c),
            num(y),
            num(x + size.w),
            num(cy),
            num(x + size.w - c),
            num(y + size.h),
            num(x + c),
            num(y + size.h),
            tone.fill(),
            tone.stroke()
        );
    } else {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{stroke_width}\"/>",
            num(x),
            num(y),
            num(size.w),
            num(size.h),
            tone.fill(),
            tone.stroke()
        );
    }
}

/// The branches (or item processor) of a compound node whose box starts at `(x, y)`, side
/// by side under its header.
fn draw_children(
    machine: &Machine,
    node: &Node,
    kids: &[ScopeBox],
    (x, y): (f64, f64),
    size: Size,
    path: Option<&ExecutionPath>,
    out: &mut String,
) {
    let inner_w = kids.iter().map(|k| k.placed.width).sum::<f64>() + PAD * (kids.len() - 1) as f64;
    let mut kx = x + (size.w - inner_w) / 2.0;
    let ky = y + HEADER;
    for (child, kb) in node.children.iter().zip(kids) {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"#ffffff\" fill-opacity=\"0.6\" stroke=\"#aab7b8\" stroke-dasharray=\"4,3\"/><text x=\"{}\" y=\"{}\" font-size=\"{CAPTION_SIZE}\" fill=\"#5f6b7a\">{}</text>",
            num(kx),
            num(ky),
            num(kb.placed.width),
            num(kb.placed.height + BRANCH_TITLE),
            num(kx + 8.0),
            num(ky + 12.0),
            xml(&child.title)
        );
        draw_scope(machine, child, kb, (kx, ky + BRANCH_TITLE), path, out);
        kx += kb.placed.width + PAD;
    }
}

/// Moves `from` (a box centre) to where the segment towards `towards` leaves the box.
fn clip(from: (f64, f64), towards: (f64, f64), size: Size) -> (f64, f64) {
    let (dx, dy) = (towards.0 - from.0, towards.1 - from.1);
    let (hw, hh) = (size.w / 2.0, size.h / 2.0);
    let tx = if dx.abs() > f64::EPSILON {
        hw / dx.abs()
    } else {
        f64::INFINITY
    };
    let ty = if dy.abs() > f64::EPSILON {
        hh / dy.abs()
    } else {
        f64::INFINITY
    };
    let t = tx.min(ty).min(1.0);
    if t.is_finite() {
        (from.0 + dx * t, from.1 + dy * t)
    } else {
        from
    }
}

/// An SVG path through `points` with rounded bends.
fn smooth(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    let Some(&(x0, y0)) = points.first() else {
        return d;
    };
    let _ = write!(d, "M{},{}", num(x0), num(y0));
    for i in 1..points.len() {
        let (px, py) = points[i];
        match (points.get(i + 1), i) {
            (Some(&(nx, ny)), _) => {
                let (ax, ay) = points[i - 1];
                let before = towards((px, py), (ax, ay), BEND);
                let after = towards((px, py), (nx, ny), BEND);
                let _ = write!(
                    d,
                    " L{},{} Q{},{} {},{}",
                    num(before.0),
                    num(before.1),
                    num(px),
                    num(py),
                    num(after.0),
                    num(after.1)
                );
            }
            (None, _) => {
                let _ = write!(d, " L{},{}", num(px), num(py));
            }
        }
    }
    d
}

/// The point `dist` from `p` towards `q`, or half way when they are closer than twice that.
fn towards(p: (f64, f64), q: (f64, f64), dist: f64) -> (f64, f64) {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len <= f64::EPSILON {
        return p;
    }
    let t = (dist / len).min(0.5);
    (p.0 + dx * t, p.1 + dy * t)
}

/// A coordinate with one decimal, without a trailing `.0`.
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Estimated advance width of `text` in Helvetica at `size` pixels: close enough to size boxes
/// without a font file.
pub(super) fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' | 'I' => 0.26,
            ' ' | 'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '/' => 0.34,
            'm' | 'w' | 'M' | 'W' | '@' | '%' => 0.86,
            'A'..='Z' | '&' | '?' | '#' => 0.68,
            c if c.is_ascii() => 0.56,
            // Wide scripts and symbols: assume a full em.
            _ => 1.0,
        })
        .sum::<f64>()
        * size
}

/// Text for XML content and attribute values; characters XML 1.0 cannot hold become spaces.
pub(super) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
