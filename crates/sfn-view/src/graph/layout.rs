//! A layered (Sugiyama-style) layout for one scope of the drawing: break cycles, rank by
//! longest path, route long edges through dummy nodes, order each rank by barycentres, then
//! place nodes by weighted isotonic regression so edges run as straight as the order allows.
//!
//! Ranks are doubled the way Graphviz does it: nodes sit on even ranks and every edge crosses
//! at least one odd rank, whose dummy carries the edge's label. Labels are thus laid out like
//! nodes and never overlap each other or a state.

/// Width and height of a box, in SVG user units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Size {
    pub w: f64,
    pub h: f64,
}

/// An edge to lay out; `label` is the size of its label, if any.
#[derive(Debug, Clone, Copy)]
pub(super) struct LEdge {
    pub from: usize,
    pub to: usize,
    pub label: Option<Size>,
}

/// Where an edge goes.
#[derive(Debug, Clone, Default)]
pub(super) struct Route {
    /// From the source's centre through each bend to the target's centre, in the edge's own
    /// direction; empty for a self-loop.
    pub points: Vec<(f64, f64)>,
    /// Centre of the label.
    pub label: Option<(f64, f64)>,
}

/// The result: node centres, edge routes, and the size of the whole.
#[derive(Debug, Clone)]
pub(super) struct Placed {
    pub centers: Vec<(f64, f64)>,
    pub routes: Vec<Route>,
    pub width: f64,
    pub height: f64,
}

/// Horizontal gap between two boxes of a rank.
const NODE_GAP: f64 = 28.0;
/// Horizontal gap next to an edge passing through a rank.
const EDGE_GAP: f64 = 12.0;
/// Vertical gap between ranks.
const RANK_GAP: f64 = 12.0;
/// Height of an odd rank that carries no label.
const EMPTY_ROW: f64 = 8.0;
/// Barycentre sweeps; small graphs settle within a few.
const SWEEPS: usize = 12;
/// Coordinate passes.
const PASSES: usize = 16;

struct VNode {
    rank: usize,
    size: Size,
    dummy: bool,
}

/// Lays out `sizes.len()` nodes joined by `edges`, with a margin of `margin` all round.
pub(super) fn layered(sizes: &[Size], edges: &[LEdge], margin: f64) -> Placed {
    let n = sizes.len();
    let reversed = back_edges(n, edges);
    let ranks = rank(n, edges, &reversed);
    let Virtual {
        vnodes,
        chains,
        label_at,
        vedges,
    } = virtual_graph(sizes, edges, &ranks, &reversed);

    let rank_count = vnodes.iter().map(|v| v.rank + 1).max().unwrap_or(0);
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); vnodes.len()];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); vnodes.len()];
    for &(a, b) in &vedges {
        succs[a].push(b);
        preds[b].push(a);
    }

    let layers = order(&vnodes, rank_count, &preds, &succs, &vedges);
    let xs = place(&vnodes, &layers, &preds, &succs);
    let (row_h, row_y, height) = rows(&vnodes, rank_count, margin);
    let (shift, width) = horizontal_extent(&vnodes, &xs, margin);
    let at = |v: usize| (xs[v] + shift, row_y[vnodes[v].rank]);

    let centers = (0..n).map(at).collect();
    let routes = chains
        .iter()
        .zip(&label_at)
        .map(|(chain, label)| Route {
            points: route_points(chain, &vnodes, &row_h, at),
            label: label.map(at),
        })
        .collect();
    Placed {
        centers,
        routes,
        width,
        height,
    }
}

/// The graph the layout works on: the real nodes, then a dummy node on every rank an edge
/// crosses, so that every edge joins adjacent ranks.
struct Virtual {
    vnodes: Vec<VNode>,
    /// Each edge's nodes, in the edge's own direction (empty for a self-loop or an invalid
    /// edge).
    chains: Vec<Vec<usize>>,
    /// The dummy node carrying each edge's label.
    label_at: Vec<Option<usize>>,
    /// The edges between adjacent ranks, top to bottom.
    vedges: Vec<(usize, usize)>,
}

fn virtual_graph(sizes: &[Size], edges: &[LEdge], ranks: &[usize], reversed: &[bool]) -> Virtual {
    let n = sizes.len();
    let valid = |e: &LEdge| e.from < n && e.to < n;
    // Virtual graph: real nodes first, then the dummies of each edge's chain.
    let mut vnodes: Vec<VNode> = (0..n)
        .map(|v| VNode {
            rank: ranks.get(v).copied().unwrap_or(0),
            size: sizes.get(v).copied().unwrap_or(Size { w: 0.0, h: 0.0 }),
            dummy: false,
        })
        .collect();
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(edges.len());
    let mut label_at: Vec<Option<usize>> = Vec::with_capacity(edges.len());
    let mut vedges: Vec<(usize, usize)> = Vec::new();
    for (i, e) in edges.iter().enumerate() {
        if !valid(e) || e.from == e.to {
            chains.push(Vec::new());
            label_at.push(None);
            continue;
        }
        let back = reversed.get(i).copied().unwrap_or(false);
        let (top, bottom) = if back { (e.to, e.from) } else { (e.from, e.to) };
        let (r0, r1) = (vnodes[top].rank, vnodes[bottom].rank);
        let mut chain = vec![top];
        for r in r0 + 1..r1 {
            chain.push(vnodes.len());
            vnodes.push(VNode {
                rank: r,
                size: Size { w: 0.0, h: 0.0 },
                dummy: true,
            });
        }
        chain.push(bottom);
        for pair in chain.windows(2) {
            vedges.push((pair[0], pair[1]));
        }
        // The label goes on the first dummy after the edge's own source.
        let label_node = if back {
            chain.get(chain.len().saturating_sub(2)).copied()
        } else {
            chain.get(1).copied()
        }
        .filter(|&d| d >= n);
        if let (Some(d), Some(size)) = (label_node, e.label) {
            vnodes[d].size = size;
        }
        label_at.push(label_node.filter(|_| e.label.is_some()));
        if back {
            chain.reverse();
        }
        chains.push(chain);
    }
    Virtual {
        vnodes,
        chains,
        label_at,
        vedges,
    }
}

/// Each rank's height and centre line, and the height of the whole.
fn rows(vnodes: &[VNode], rank_count: usize, margin: f64) -> (Vec<f64>, Vec<f64>, f64) {
    // Rows: each rank as tall as its tallest member.
    let mut row_h = vec![0.0f64; rank_count];
    for v in vnodes {
        if let Some(h) = row_h.get_mut(v.rank) {
            *h = h.max(v.size.h);
        }
    }
    let mut row_y = vec![0.0f64; rank_count];
    let mut y = margin;
    for r in 0..rank_count {
        if r % 2 == 1 && row_h[r] == 0.0 {
            row_h[r] = EMPTY_ROW;
        }
        row_y[r] = y + row_h[r] / 2.0;
        y += row_h[r] + RANK_GAP;
    }
    let height = if rank_count == 0 {
        2.0 * margin
    } else {
        y - RANK_GAP + margin
    };
    (row_h, row_y, height)
}

/// How far to move the placed nodes right so the leftmost box starts at the margin, and
/// the width of the whole.
fn horizontal_extent(vnodes: &[VNode], xs: &[f64], margin: f64) -> (f64, f64) {
    let left = vnodes
        .iter()
        .zip(xs)
        .map(|(v, x)| x - v.size.w / 2.0)
        .fold(f64::INFINITY, f64::min);
    let right = vnodes
        .iter()
        .zip(xs)
        .map(|(v, x)| x + v.size.w / 2.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let shift = if left.is_finite() {
        margin - left
    } else {
        margin
    };
    let width = if right.is_finite() {
        right - left + 2.0 * margin
    } else {
        2.0 * margin
    };
    (shift, width)
}

/// The points of an edge's route through its chain, `at` giving each node's centre.
fn route_points(
    chain: &[usize],
    vnodes: &[VNode],
    row_h: &[f64],
    at: impl Fn(usize) -> (f64, f64),
) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(chain.len() + 4);
    for (k, &v) in chain.iter().enumerate() {
        let (x, y) = at(v);
        let r = vnodes[v].rank;
        let inner = k > 0 && k + 1 < chain.len();
        if inner && r % 2 == 0 && row_h[r] > 0.0 {
            // Run straight down (or up) through a row of states, so the edge passes
            // beside a tall state instead of cutting its corner.
            let half = row_h[r] / 2.0;
            let (a, b) = if chain_down(chain, vnodes) {
                (-half, half)
            } else {
                (half, -half)
            };
            points.push((x, y + a));
            points.push((x, y + b));
        } else {
            points.push((x, y));
        }
    }
    points
}

/// Whether a chain (in its edge's own direction) runs down the ranks.
fn chain_down(chain: &[usize], vnodes: &[VNode]) -> bool {
    match (chain.first(), chain.last()) {
        (Some(&a), Some(&b)) => vnodes[a].rank <= vnodes[b].rank,
        _ => true,
    }
}

/// Edges that close a cycle, found by depth-first search from each node in index order (the
/// first node is where the flow starts): laying them out reversed makes the graph acyclic.
fn back_edges(n: usize, edges: &[LEdge]) -> Vec<bool> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, e) in edges.iter().enumerate() {
        if e.from < n && e.to < n && e.from != e.to {
            out[e.from].push(i);
        }
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark = vec![Mark::New; n];
    let mut reversed = vec![false; edges.len()];
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        // Iterative so deep chains cannot overflow the stack: (node, next edge to look at).
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Active;
        while let Some(top) = stack.last_mut() {
            let v = top.0;
            if let Some(&ei) = out[v].get(top.1) {
                top.1 += 1;
                let w = edges[ei].to;
                match mark[w] {
                    Mark::New => {
                        mark[w] = Mark::Active;
                        stack.push((w, 0));
                    }
                    Mark::Active => reversed[ei] = true,
                    Mark::Done => {}
                }
            } else {
                mark[v] = Mark::Done;
                stack.pop();
            }
        }
    }
    reversed
}

/// Longest-path ranks on the acyclic orientation, doubled (see the module doc).
fn rank(n: usize, edges: &[LEdge], reversed: &[bool]) -> Vec<usize> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for (i, e) in edges.iter().enumerate() {
        if e.from >= n || e.to >= n || e.from == e.to {
            continue;
        }
        let (a, b) = if reversed.get(i).copied().unwrap_or(false) {
            (e.to, e.from)
        } else {
            (e.from, e.to)
        };
        out[a].push(b);
        indegree[b] += 1;
    }
    let mut rank = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).rev().collect();
    while let Some(v) = ready.pop() {
        for &w in &out[v] {
            rank[w] = rank[w].max(rank[v] + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.push(w);
            }
        }
    }
    rank.iter().map(|r| r * 2).collect()
}

/// Orders each rank to reduce crossings: alternate down and up barycentre sweeps, keeping the
/// best order seen.
fn order(
    vnodes: &[VNode],
    rank_count: usize,
    preds: &[Vec<usize>],
    succs: &[Vec<usize>],
    vedges: &[(usize, usize)],
) -> Vec<Vec<usize>> {
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); rank_count];
    // Initial order: depth first from the top, so a chain's nodes line up from the start.
    let mut seen = vec![false; vnodes.len()];
    let roots: Vec<usize> = (0..vnodes.len()).filter(|&v| preds[v].is_empty()).collect();
    for root in roots.into_iter().chain(0..vnodes.len()) {
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            if std::mem::replace(&mut seen[v], true) {
                continue;
            }
            layers[vnodes[v].rank].push(v);
            stack.extend(succs[v].iter().rev());
        }
    }
    let mut pos = vec![0usize; vnodes.len()];
    let index = |layers: &[Vec<usize>], pos: &mut Vec<usize>| {
        for layer in layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    index(&layers, &mut pos);
    let mut best = layers.clone();
    let mut best_crossings = crossings(&layers, &pos, vedges, vnodes);
    for sweep in 0..SWEEPS {
        let down = sweep % 2 == 0;
        let ranks: Vec<usize> = if down {
            (1..rank_count).collect()
        } else {
            (0..rank_count.saturating_sub(1)).rev().collect()
        };
        for r in ranks {
            let neighbours = if down { preds } else { succs };
            let mut keyed: Vec<(f64, usize)> = layers[r]
                .iter()
                .map(|&v| {
                    let ns = &neighbours[v];
                    let key = if ns.is_empty() {
                        pos[v] as f64
                    } else {
                        ns.iter().map(|&u| pos[u] as f64).sum::<f64>() / ns.len() as f64
                    };
                    (key, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            layers[r] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in layers[r].iter().enumerate() {
                pos[v] = i;
            }
        }
        let c = crossings(&layers, &pos, vedges, vnodes);
        if c < best_crossings {
            best_crossings = c;
            best = layers.clone();
        }
    }
    best
}

fn crossings(
    layers: &[Vec<usize>],
    pos: &[usize],
    vedges: &[(usize, usize)],
    vnodes: &[VNode],
) -> usize {
    let mut by_rank: Vec<Vec<(usize, usize)>> = vec![Vec::new(); layers.len()];
    for &(a, b) in vedges {
        by_rank[vnodes[a].rank].push((pos[a], pos[b]));
    }
    by_rank
        .iter()
        .map(|es| {
            let mut c = 0;
            for (i, &(a1, b1)) in es.iter().enumerate() {
                for &(a2, b2) in &es[i + 1..] {
                    if (a1 < a2 && b1 > b2) || (a1 > a2 && b1 < b2) {
                        c += 1;
                    }
                }
            }
            c
        })
        .sum()
}

/// X coordinates: every pass moves each rank towards the mean position of its neighbours in
/// the rank above (or below), keeping the order and the gaps; dummies weigh more so long
/// edges straighten first.
fn place(
    vnodes: &[VNode],
    layers: &[Vec<usize>],
    preds: &[Vec<usize>],
    succs: &[Vec<usize>],
) -> Vec<f64> {
    let gap = |a: usize, b: usize| {
        let sep = if vnodes[a].dummy || vnodes[b].dummy {
            EDGE_GAP
        } else {
            NODE_GAP
        };
        (vnodes[a].size.w + vnodes[b].size.w) / 2.0 + sep
    };
    let mut x = vec![0.0f64; vnodes.len()];
    for layer in layers {
        let mut at = 0.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                at += gap(layer[i - 1], v);
            }
            x[v] = at;
        }
        let mid = at / 2.0;
        for &v in layer {
            x[v] -= mid;
        }
    }
    for pass in 0..PASSES {
        let (range, both): (Vec<usize>, bool) = match pass % 3 {
            0 => ((0..layers.len()).collect(), false),
            1 => ((0..layers.len()).rev().collect(), false),
            _ => ((0..layers.len()).collect(), true),
        };
        let down = pass % 3 == 0;
        for r in range {
            let layer = &layers[r];
            if layer.is_empty() {
                continue;
            }
            let mut desired = Vec::with_capacity(layer.len());
            let mut weights = Vec::with_capacity(layer.len());
            for &v in layer {
                let ns: Vec<usize> = if both {
                    preds[v].iter().chain(&succs[v]).copied().collect()
                } else if down {
                    preds[v].clone()
                } else {
                    succs[v].clone()
                };
                if ns.is_empty() {
                    desired.push(x[v]);
                    weights.push(0.5);
                } else {
                    desired.push(ns.iter().map(|&u| x[u]).sum::<f64>() / ns.len() as f64);
                    weights.push(if vnodes[v].dummy { 4.0 } else { 1.0 });
                }
            }
            let gaps: Vec<f64> = layer.windows(2).map(|p| gap(p[0], p[1])).collect();
            for (&v, nx) in layer.iter().zip(isotonic(&desired, &weights, &gaps)) {
                x[v] = nx;
            }
        }
    }
    x
}

/// Positions closest (weighted least squares) to `desired` with `x[i+1] - x[i] >= gaps[i]`:
/// shifting by the cumulative gaps turns this into isotonic regression, solved exactly by
/// pooling adjacent violators.
fn isotonic(desired: &[f64], weights: &[f64], gaps: &[f64]) -> Vec<f64> {
    let mut offset = Vec::with_capacity(desired.len());
    let mut acc = 0.0;
    for i in 0..desired.len() {
        if i > 0 {
            acc += gaps.get(i - 1).copied().unwrap_or(0.0);
        }
        offset.push(acc);
    }
    // Blocks of pooled values: (mean, total weight, count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for (i, (&d, &w)) in desired.iter().zip(weights).enumerate() {
        blocks.push((d - offset[i], w, 1));
        while let [.., (m1, w1, c1), (m2, w2, c2)] = blocks[..] {
            if m1 <= m2 {
                break;
            }
            blocks.truncate(blocks.len() - 2);
            let w = w1 + w2;
            blocks.push(((m1 * w1 + m2 * w2) / w, w, c1 + c2));
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (m, _, c) in blocks {
        for _ in 0..c {
            out.push(m + offset[out.len()]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(w: f64) -> Size {
        Size { w, h: 30.0 }
    }

    fn edge(from: usize, to: usize) -> LEdge {
        LEdge {
            from,
            to,
            label: None,
        }
    }

    #[test]
    fn isotonic_keeps_gaps_and_stays_close() {
        assert_eq!(
            isotonic(&[0.0, 100.0], &[1.0, 1.0], &[10.0]),
            vec![0.0, 100.0]
        );
        assert_eq!(isotonic(&[5.0, 5.0], &[1.0, 1.0], &[10.0]), vec![0.0, 10.0]);
        assert_eq!(
            isotonic(&[0.0, 0.0, 0.0], &[1.0, 1.0, 1.0], &[4.0, 4.0]),
            vec![-4.0, 0.0, 4.0]
        );
    }

    #[test]
    fn a_chain_is_a_straight_column() {
        let p = layered(
            &[size(60.0), size(100.0), size(80.0)],
            &[edge(0, 1), edge(1, 2)],
            10.0,
        );
        let xs: Vec<f64> = p.centers.iter().map(|c| c.0).collect();
        assert!(xs.iter().all(|x| (x - xs[0]).abs() < 0.01), "{xs:?}");
        assert!(p.centers[0].1 < p.centers[1].1 && p.centers[1].1 < p.centers[2].1);
    }

    #[test]
    fn a_cycle_is_laid_out_with_its_back_edge_routed() {
        let p = layered(
            &[size(60.0), size(60.0), size(60.0)],
            &[edge(0, 1), edge(1, 2), edge(2, 1)],
            10.0,
        );
        assert!(p.centers[1].1 < p.centers[2].1);
        let back = &p.routes[2].points;
        assert_eq!(back.first(), Some(&p.centers[2]));
        assert_eq!(back.last(), Some(&p.centers[1]));
    }

    #[test]
    fn siblings_do_not_overlap_and_labels_get_room() {
        let label = Some(Size { w: 120.0, h: 14.0 });
        let edges = [
            LEdge {
                from: 0,
                to: 1,
                label,
            },
            LEdge {
                from: 0,
                to: 2,
                label,
            },
            LEdge {
                from: 0,
                to: 3,
                label,
            },
        ];
        let p = layered(
            &[size(60.0), size(90.0), size(90.0), size(90.0)],
            &edges,
            10.0,
        );
        let mut xs: Vec<f64> = p.centers[1..].iter().map(|c| c.0).collect();
        xs.sort_by(f64::total_cmp);
        assert!(
            xs.windows(2).all(|w| w[1] - w[0] >= 90.0 + NODE_GAP - 0.01),
            "{xs:?}"
        );
        let mut lx: Vec<f64> = p
            .routes
            .iter()
            .filter_map(|r| r.label.map(|l| l.0))
            .collect();
        lx.sort_by(f64::total_cmp);
        assert_eq!(lx.len(), 3);
        assert!(lx.windows(2).all(|w| w[1] - w[0] >= 120.0 - 0.01), "{lx:?}");
        assert!(p.width >= 3.0 * 120.0);
    }

    #[test]
    fn empty_and_self_loop_graphs_lay_out() {
        let p = layered(&[], &[], 10.0);
        assert_eq!((p.width, p.height), (20.0, 20.0));
        let p = layered(&[size(60.0)], &[edge(0, 0), edge(0, 7)], 10.0);
        assert!(p.routes.iter().all(|r| r.points.is_empty()));
        assert_eq!(p.width, 80.0);
    }
}
