//! The state machine as a picture, with an execution's path coloured the way the Step
//! Functions console's graph view colours it: green succeeded, red failed, orange where a
//! `Catch` sent the execution on, blue in progress, grey not taken.
//!
//! Three formats: Mermaid (`flowchart TD`, for Markdown), Graphviz DOT, and SVG laid out here
//! (no Graphviz needed). Parallel branches and Map item processors are drawn inside their
//! state; Catch edges are dashed and labelled with their `ErrorEquals`; Choice edges carry
//! their rule in short (`$.quantityInStock > 0`).
//!
//! ```
//! use sfn_local::{ExecuteOptions, StateMachine};
//! use sfn_view::graph::{self, Format};
//!
//! let machine = StateMachine::from_json(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#)?;
//! let run = futures::executor::block_on(machine.execute(serde_json::json!({}), &ExecuteOptions::new()));
//! let path = graph::path_from_history(&run.history);
//! let svg = graph::render(&machine, Some(&path), Format::Svg);
//! assert!(svg.starts_with("<svg"));
//! # Ok::<(), sfn_local::Error>(())
//! ```

mod dot;
mod layout;
mod mermaid;
mod model;
mod paint;
mod path;
mod svg;

use std::fmt;
use std::str::FromStr;

use sfn_local::StateMachine;

pub use path::{ExecutionPath, Step, StepStatus, path_from_history};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Mermaid `flowchart TD` text.
    Mermaid,
    /// Graphviz DOT text.
    Dot,
    /// A standalone SVG document.
    Svg,
}

impl Format {
    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Mermaid => "mermaid",
            Format::Dot => "dot",
            Format::Svg => "svg",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = GraphError;

    /// `mermaid` (or `mmd`), `dot` (or `gv`, `graphviz`), `svg`; any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mermaid" | "mmd" => Ok(Format::Mermaid),
            "dot" | "gv" | "graphviz" => Ok(Format::Dot),
            "svg" => Ok(Format::Svg),
            _ => Err(GraphError::UnknownFormat(s.to_owned())),
        }
    }
}

/// Why a drawing could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// `--format png`.
    #[error("unknown graph format {0:?}; use mermaid, dot or svg")]
    UnknownFormat(String),
}

/// Draws a loaded state machine in `format`, colouring `path` when given.
///
/// Every transition is one edge: the start, each `Next`, each Choice rule and `Default`, each
/// `Catch` clause, and each terminal state's end (top level only; a branch simply stops).
pub fn render(machine: &StateMachine, path: Option<&ExecutionPath>, format: Format) -> String {
    let machine = model::build(machine);
    match format {
        Format::Mermaid => mermaid::render(&machine, path),
        Format::Dot => dot::render(&machine, path),
        Format::Svg => svg::render(&machine, path),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use futures::future::FutureExt;
    use serde_json::Value;
    use serde_json::json;
    use sfn_local::{ExecuteOptions, Handlers, HistoryEvent, TaskFailure, TaskRequest};

    use super::*;

    const ORDER_ASL: &str = include_str!("../../../statemachine/order-processing.asl.json");

    fn load(def: &Value) -> StateMachine {
        StateMachine::from_value(def).unwrap_or_else(|e| panic!("the definition loads: {e}"))
    }
    const ORDER: &str = include_str!("../../../events/order.json");
    const ALL: [Format; 3] = [Format::Mermaid, Format::Dot, Format::Svg];

    fn order_definition() -> Value {
        serde_json::from_str(ORDER_ASL).expect("the definition is JSON")
    }

    /// Every state name of a definition, nested ones included.
    fn state_names(def: &Value, out: &mut Vec<String>) {
        let Some(states) = def.get("States").and_then(Value::as_object) else {
            return;
        };
        for (name, st) in states {
            out.push(name.clone());
            for b in st
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                state_names(b, out);
            }
            for key in ["ItemProcessor", "Iterator"] {
                if let Some(p) = st.get(key) {
                    state_names(p, out);
                }
            }
        }
    }

    /// Transitions counted straight from the JSON: the start, each Next, Choice rule, Default
    /// and Catch, and each top-level terminal state's end.
    fn transitions(def: &Value, top: bool) -> usize {
        let Some(states) = def.get("States").and_then(Value::as_object) else {
            return 0;
        };
        let mut n = usize::from(top);
        for st in states.values() {
            let len = |k: &str| st.get(k).and_then(Value::as_array).map_or(0, Vec::len);
            n += len("Choices") + len("Catch");
            n += usize::from(st.get("Default").is_some());
            n += usize::from(st.get("Next").is_some() && st["Type"] != "Choice");
            let terminal = matches!(st["Type"].as_str(), Some("Succeed" | "Fail"))
                || st.get("End") == Some(&json!(true));
            n += usize::from(top && terminal);
            for b in st
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                n += transitions(b, false);
            }
            for key in ["ItemProcessor", "Iterator"] {
                if let Some(p) = st.get(key) {
                    n += transitions(p, false);
                }
            }
        }
        n
    }

    fn edge_count(out: &str, format: Format) -> usize {
        match format {
            Format::Mermaid => out
                .lines()
                .filter(|l| {
                    l.contains(" --> ")
                        || l.contains(" -.-> ")
                        || l.contains(" -->|")
                        || l.contains(" -.->|")
                })
                .count(),
            Format::Dot => out.lines().filter(|l| l.contains("\" -> \"")).count(),
            Format::Svg => out.matches("<path class=\"edge ").count(),
        }
    }

    /// How each format writes a name, where it writes one.
    fn written(name: &str, format: Format) -> String {
        match format {
            Format::Mermaid => format!("\"{}\"", mermaid::escape(name)),
            Format::Dot => format!("label=\"{}\"", dot::escape(name)),
            Format::Svg => format!("<title>{}</title>", svg::xml(name)),
        }
    }

    fn parse_dot(text: &str) {
        let mut parser = ::layout::gv::DotParser::new(text);
        if let Err(e) = parser.process() {
            panic!("DOT does not parse: {e}\n{text}");
        }
    }

    fn parse_svg(text: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("SVG is not XML: {e}\n{text}"))
    }

    /// Checks a rendering in every way each format allows.
    fn check(def: &Value, path: Option<&ExecutionPath>, format: Format) -> String {
        let out = render(&load(def), path, format);
        match format {
            Format::Dot => parse_dot(&out),
            Format::Svg => drop(parse_svg(&out)),
            Format::Mermaid => mermaid_is_clean(&out),
        }
        assert_eq!(
            edge_count(&out, format),
            transitions(def, true),
            "{format} edges\n{out}"
        );
        out
    }

    /// Every quoted Mermaid string holds no raw character Mermaid would read as syntax.
    fn mermaid_is_clean(out: &str) {
        for line in out.lines() {
            let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
            assert_eq!(
                line.matches('"').count() % 2,
                0,
                "unbalanced quotes: {line}"
            );
            for q in quoted {
                // Drop the entity codes (`#34;`); what is left must hold no syntax.
                let mut bare = String::new();
                let mut parts = q.split('#');
                bare.push_str(parts.next().unwrap_or_default());
                for part in parts {
                    let (code, rest) = part
                        .split_once(';')
                        .unwrap_or_else(|| panic!("bare # in {q:?}"));
                    assert!(code.parse::<u32>().is_ok(), "bad entity #{code}; in {q:?}");
                    bare.push_str(rest);
                }
                assert!(
                    !bare.contains(['<', '>', '|', '`', ';', '&', '%']),
                    "raw special in {q:?}"
                );
            }
        }
    }

    // ---- the order workflow -------------------------------------------------------------

    #[test]
    fn every_state_of_the_order_workflow_appears_in_each_format() {
        let def = order_definition();
        let mut names = Vec::new();
        state_names(&def, &mut names);
        assert!(names.len() > 20 && names.contains(&"Payment Verified?".to_owned()));
        for format in ALL {
            let out = check(&def, None, format);
            for name in &names {
                assert!(
                    out.contains(&written(name, format)),
                    "{format} lacks {name}"
                );
            }
        }
    }

    #[test]
    fn order_workflow_edges_are_its_transitions() {
        let def = order_definition();
        let out = render(&load(&def), None, Format::Mermaid);
        let edge = |line: &str| {
            assert!(
                out.lines().any(|l| l.trim() == line),
                "missing `{line}` in\n{out}"
            )
        };
        let id = |name: &str| mermaid_id(&out, name);
        edge(&format!(
            "{} -->|\"$.quantityInStock #62; 0\"| {}",
            id("In Stock?"),
            id("Item Available")
        ));
        edge(&format!(
            "{} -->|\"Default\"| {}",
            id("In Stock?"),
            id("Item Out Of Stock")
        ));
        edge(&format!(
            "{} -.->|\"PaymentError\"| {}",
            id("Charge Payment"),
            id("Read Failure")
        ));
        edge(&format!(
            "{} -.->|\"ValidationError\"| {}",
            id("Verify Payment And Check Stock"),
            id("Read Failure")
        ));
        edge(&format!(
            "{} -->|\"$.checks.payment.paymentVerified == true\"| {}",
            id("Payment Verified?"),
            id("Keep Token Only")
        ));
        assert!(out.contains(&format!(
            "subgraph {} [\"Check Items In Stock\"]",
            id("Check Items In Stock")
        )));
    }

    #[test]
    fn parallel_and_map_become_clusters_in_dot() {
        let out = render(&load(&order_definition()), None, Format::Dot);
        assert_eq!(
            out.matches("subgraph \"cluster_").count(),
            2 + 2,
            "Parallel + 2 branches + Map\n{out}"
        );
        assert!(
            out.contains("lhead=\"cluster_"),
            "edges into a compound state attach to its frame"
        );
        assert!(out.contains("ltail=\"cluster_"));
        assert!(out.contains("style=dashed"), "Catch edges are dashed");
    }

    /// The id Mermaid output gives a plain (not compound) node or a subgraph.
    fn mermaid_id(out: &str, name: &str) -> String {
        let quoted = format!("\"{}\"", mermaid::escape(name));
        out.lines()
            .map(str::trim)
            .find_map(|l| {
                if let Some(rest) = l.strip_prefix("subgraph ") {
                    let (id, title) = rest.split_once(' ')?;
                    return (title == format!("[{quoted}]")).then(|| id.to_owned());
                }
                let at = l.find(&quoted)?;
                let id: String = l[..at]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                (!id.is_empty() && !l.contains("-->") && !l.contains("-.->")).then_some(id)
            })
            .unwrap_or_else(|| panic!("no node for {name} in\n{out}"))
    }

    /// The class (tone) Mermaid output gives a node, or the fill a subgraph is styled with.
    fn mermaid_tone(out: &str, name: &str) -> String {
        let id = mermaid_id(out, name);
        for l in out.lines().map(str::trim) {
            if let Some(rest) = l.strip_prefix("class ") {
                let (ids, class) = rest.rsplit_once(' ').unwrap_or_default();
                if ids.split(',').any(|i| i == id) {
                    return class.to_owned();
                }
            }
            if let Some(rest) = l.strip_prefix(&format!("style {id} fill:")) {
                let fill = rest.split(',').next().unwrap_or_default();
                let tone = paint::Tone::ALL.iter().find(|t| t.fill() == fill);
                return tone.map_or("?", |t| t.class()).to_owned();
            }
        }
        panic!("no class for {name} in\n{out}")
    }

    /// The class of the SVG node titled `name`.
    fn svg_tone(out: &str, name: &str) -> String {
        let doc = parse_svg(out);
        doc.descendants()
            .find(|n| {
                n.has_tag_name("g")
                    && n.attribute("class").is_some_and(|c| c.starts_with("node "))
                    && n.children()
                        .any(|c| c.has_tag_name("title") && c.text() == Some(name))
            })
            .and_then(|n| n.attribute("class"))
            .map(|c| c.trim_start_matches("node ").to_owned())
            .unwrap_or_else(|| panic!("no SVG node {name}"))
    }

    // ---- paths from real executions of the definition ---------------------------------

    /// How the stand-in functions answer.
    #[derive(Clone, Copy)]
    enum Route {
        Success,
        ChargeDeclined,
        OutOfStock,
        /// The charge throttles once, then succeeds on retry.
        ChargeRetried,
    }

    /// Runs the order workflow on the local engine with stand-in functions and returns its
    /// history as `GetExecutionHistory` JSON.
    fn history(route: Route) -> Vec<HistoryEvent> {
        let machine = StateMachine::from_json(ORDER_ASL).expect("the definition loads");
        let charges = Arc::new(AtomicU32::new(0));
        let mut handlers = Handlers::new();
        let lambda = move |req: TaskRequest| {
            let function = req.input["FunctionName"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let payload = req.input["Payload"].clone();
            let charges = Arc::clone(&charges);
            async move {
                let result = match function.as_str() {
                    "${VerifyPaymentFunctionArn}" => json!({"paymentVerified": true, "paymentToken": "tok-1", "card": {"brand": "VISA", "last4": "1111"}}),
                    "${CheckStockFunctionArn}" => {
                        let stock = if matches!(route, Route::OutOfStock) { 0 } else { 5 };
                        let items = payload["items"].as_array().cloned().unwrap_or_default();
                        Value::Array(items.into_iter().map(|mut i| { i["quantityInStock"] = json!(stock); i }).collect())
                    }
                    _ => match (route, charges.fetch_add(1, Ordering::SeqCst)) {
                        (Route::ChargeDeclined, _) => {
                            let cause = json!({"errorType": "PaymentError", "errorMessage": "card declined"});
                            return Err(TaskFailure::new("PaymentError", cause.to_string()));
                        }
                        (Route::ChargeRetried, 0) => return Err(TaskFailure::new("Lambda.TooManyRequestsException", "rate exceeded")),
                        _ => json!({"paymentResult": "SUCCESS", "chargeId": "ch-1", "amount": 10}),
                    },
                };
                Ok(json!({"StatusCode": 200, "Payload": result}))
            }
            .boxed()
        };
        let ok = |answer: Value| {
            move |_: TaskRequest| futures::future::ready(Ok(answer.clone())).boxed()
        };
        handlers
            .register("arn:aws:states:::lambda:invoke", lambda)
            .expect("pattern");
        // Every DynamoDB task answers as for a new order: no record found, the writes done.
        handlers
            .register("arn:aws:states:::dynamodb:*", ok(json!({})))
            .expect("pattern");
        handlers
            .register(
                "arn:aws:states:::sns:publish",
                ok(json!({"MessageId": "m-1"})),
            )
            .expect("pattern");
        let options = ExecuteOptions::new()
            .handlers(handlers)
            .virtual_start(1_704_067_200_000)
            .seed(7)
            .name("graph-test");
        let input: Value = serde_json::from_str(ORDER).expect("the order is JSON");
        let execution = futures::executor::block_on(machine.execute(input, &options));
        execution.history
    }

    fn status_of(path: &ExecutionPath, name: &str) -> Option<StepStatus> {
        path.status(name)
    }

    fn expect_status(path: &ExecutionPath, name: &str, want: Option<StepStatus>) {
        assert_eq!(status_of(path, name), want, "{name} in {:?}", path.steps());
    }

    #[test]
    fn success_path_from_history() {
        use StepStatus::*;
        let path = path_from_history(&history(Route::Success));
        for name in [
            "Assign Order Id",
            "Use Execution Name",
            "Verify Payment And Check Stock",
            "Verify Payment",
            "Check Stock",
            "Keep Token Only",
            "In Stock?",
            "Item Available",
            "Charge Payment",
            "Payment Processed",
            "Record Order",
            "Notify",
            "Order Processed",
        ] {
            expect_status(&path, name, Some(Succeeded));
        }
        for name in [
            "Use Client Order Id",
            "Payment Not Verified",
            "Item Out Of Stock",
            "Read Failure",
            "Order Rejected",
            "Processing Error",
        ] {
            expect_status(&path, name, None);
        }
        assert!(path.took(None, Some("Assign Order Id")));
        assert!(path.took(Some("Order Accepted?"), Some("Order Processed")));
        assert!(path.took(Some("Order Processed"), None));
        assert!(!path.took(Some("Order Accepted?"), Some("Order Rejected")));
        assert!(
            !path.took(Some("Verify Payment"), Some("Check Stock")),
            "parallel branches are not a transition"
        );
    }

    #[test]
    fn declined_charge_is_caught_and_ends_failed() {
        use StepStatus::*;
        let path = path_from_history(&history(Route::ChargeDeclined));
        expect_status(&path, "Charge Payment", Some(Caught));
        expect_status(&path, "Read Failure", Some(Succeeded));
        expect_status(&path, "Payment Declined", Some(Succeeded));
        expect_status(&path, "Order Rejected", Some(Failed));
        expect_status(&path, "Payment Processed", None);
        assert!(path.took(Some("Charge Payment"), Some("Read Failure")));
        assert!(path.took(Some("Order Rejected"), None));
    }

    #[test]
    fn out_of_stock_fails_inside_the_map_and_the_map_is_caught() {
        use StepStatus::*;
        let path = path_from_history(&history(Route::OutOfStock));
        expect_status(&path, "Item Out Of Stock", Some(Failed));
        expect_status(&path, "Check Items In Stock", Some(Caught));
        expect_status(&path, "Out Of Stock", Some(Succeeded));
        expect_status(&path, "Item Available", None);
        assert!(path.took(Some("Check Items In Stock"), Some("Out Of Stock")));
    }

    #[test]
    fn a_retry_that_recovers_is_a_success() {
        let events = history(Route::ChargeRetried);
        assert!(
            events
                .iter()
                .any(|e| matches!(e.details, sfn_local::EventDetails::TaskFailed { .. })),
            "the stand-in failed once"
        );
        let path = path_from_history(&events);
        expect_status(&path, "Charge Payment", Some(StepStatus::Succeeded));
        expect_status(&path, "Read Failure", None);
    }

    #[test]
    fn a_path_colours_the_right_nodes_in_every_format() {
        let def = order_definition();
        let path = path_from_history(&history(Route::ChargeDeclined));
        let mermaid = check(&def, Some(&path), Format::Mermaid);
        let svg = check(&def, Some(&path), Format::Svg);
        let dot = check(&def, Some(&path), Format::Dot);
        for (name, tone) in [
            ("Charge Payment", "caught"),
            ("Order Rejected", "failed"),
            ("Read Failure", "succeeded"),
            ("Payment Processed", "notTaken"),
            ("Order Processed", "notTaken"),
            ("Verify Payment And Check Stock", "succeeded"),
            ("Check Items In Stock", "succeeded"),
            ("Item Out Of Stock", "notTaken"),
        ] {
            assert_eq!(mermaid_tone(&mermaid, name), tone, "mermaid {name}");
            assert_eq!(svg_tone(&svg, name), tone, "svg {name}");
        }
        let caught = paint::Tone::Caught;
        let line = format!("label=\"Charge Payment\", fillcolor=\"{}\"", caught.fill());
        assert!(
            dot.contains(&line),
            "dot paints the caught state: {line}\n{dot}"
        );
        let taken_catch = format!(
            "color=\"{}\", penwidth={}, label=\"PaymentError\", style=dashed",
            caught.stroke(),
            caught.edge_width()
        );
        assert!(
            dot.contains(&taken_catch),
            "the taken Catch edge is orange\n{dot}"
        );
    }

    #[test]
    fn without_a_path_everything_is_plain() {
        let out = render(&load(&order_definition()), None, Format::Svg);
        let doc = parse_svg(&out);
        let classes: Vec<&str> = doc
            .descendants()
            .filter_map(|n| n.attribute("class"))
            .collect();
        assert!(
            classes
                .iter()
                .all(|c| ["node plain", "edge plain", "label"].contains(c)),
            "{classes:?}"
        );
        let mermaid = render(&load(&order_definition()), None, Format::Mermaid);
        let used: Vec<&str> = mermaid
            .lines()
            .filter_map(|l| l.trim().strip_prefix("class "))
            .collect();
        assert!(used.len() == 1 && used[0].ends_with(" plain"), "{used:?}");
    }

    #[test]
    fn a_hand_built_path_infers_its_edges() {
        // C is reachable only through the Choice's default, which this path does not take.
        let def = json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.b", "IsPresent": true, "Next": "B"}], "Default": "C"}, "B": {"Type": "Pass", "End": true}, "C": {"Type": "Pass", "End": true}}});
        let path: ExecutionPath = [("A", StepStatus::Succeeded), ("B", StepStatus::Running)]
            .into_iter()
            .collect();
        let out = check(&def, Some(&path), Format::Mermaid);
        assert_eq!(mermaid_tone(&out, "B"), "running");
        assert_eq!(mermaid_tone(&out, "C"), "notTaken");
        assert_eq!(
            mermaid_tone(&out, "End"),
            "notTaken",
            "a running execution has not ended"
        );
        assert!(
            out.contains(&format!(
                "linkStyle 0,1 stroke:{}",
                paint::Tone::Succeeded.stroke()
            )),
            "{out}"
        );
    }

    // ---- histories written by hand, as AWS returns them -----------------------------------

    fn ev(id: u64, prev: u64, kind: &str, name: Option<&str>) -> HistoryEvent {
        let mut e = json!({"id": id, "previousEventId": prev, "type": kind, "timestamp": "2024-01-01T00:00:00Z"});
        if let Some(name) = name {
            let key = if kind.ends_with("StateEntered") {
                "stateEnteredEventDetails"
            } else {
                "stateExitedEventDetails"
            };
            e[key] = json!({"name": name});
        }
        HistoryEvent::from_json(&e).expect("an event")
    }

    fn statuses(path: &ExecutionPath) -> Vec<(&str, StepStatus)> {
        path.steps()
            .iter()
            .map(|s| (s.name.as_str(), s.status))
            .collect()
    }

    #[test]
    fn interleaved_branches_are_told_apart_by_previous_event_id() {
        use StepStatus::*;
        // Branch A's task fails while branch B's is still running; the Parallel fails and is
        // not caught.
        let events = [
            ev(1, 0, "ExecutionStarted", None),
            ev(2, 1, "ParallelStateEntered", Some("P")),
            ev(3, 2, "ParallelStateStarted", None),
            ev(4, 3, "TaskStateEntered", Some("A")),
            ev(5, 3, "TaskStateEntered", Some("B")),
            ev(6, 4, "TaskScheduled", None),
            ev(7, 5, "TaskScheduled", None),
            ev(8, 7, "TaskSucceeded", None),
            ev(9, 6, "TaskFailed", None),
            ev(10, 8, "TaskStateExited", Some("B")),
            ev(11, 3, "ParallelStateFailed", None),
            ev(12, 11, "ExecutionFailed", None),
        ];
        let path = path_from_history(&events);
        let got = statuses(&path);
        assert_eq!(got, [("P", Failed), ("A", Failed), ("B", Succeeded)]);
        assert!(path.took(None, Some("P")));
        assert!(!path.took(None, Some("A")) && !path.took(Some("B"), Some("A")));
    }

    #[test]
    fn aborted_branches_fail_their_parallel_as_aws_records_it() {
        use StepStatus::*;
        // As AWS records it (error_output__parallel_catch_error): A's task fails and is
        // aborted, B's wait is aborted on its own branch, no ParallelStateFailed, the Parallel
        // state's Catch goes on to Handle.
        let events = [
            ev(1, 0, "ExecutionStarted", None),
            ev(2, 1, "ParallelStateEntered", Some("P")),
            ev(3, 2, "ParallelStateStarted", None),
            ev(4, 3, "TaskStateEntered", Some("A")),
            ev(5, 3, "WaitStateEntered", Some("B")),
            ev(6, 4, "TaskScheduled", None),
            ev(7, 6, "TaskFailed", None),
            ev(8, 7, "TaskStateAborted", None),
            ev(9, 5, "WaitStateAborted", None),
            ev(10, 9, "ParallelStateExited", Some("P")),
            ev(11, 10, "PassStateEntered", Some("Handle")),
            ev(12, 11, "PassStateExited", Some("Handle")),
            ev(13, 12, "ExecutionSucceeded", None),
        ];
        let path = path_from_history(&events);
        let got = statuses(&path);
        assert_eq!(
            got,
            [
                ("P", Caught),
                ("A", Failed),
                ("B", Failed),
                ("Handle", Succeeded)
            ]
        );
        assert!(path.took(Some("P"), Some("Handle")));
    }

    #[test]
    fn a_catch_without_an_exit_event_is_still_caught() {
        let events = [
            ev(1, 0, "ExecutionStarted", None),
            ev(2, 1, "TaskStateEntered", Some("T")),
            ev(3, 2, "TaskFailed", None),
            ev(4, 3, "PassStateEntered", Some("Handle")),
            ev(5, 4, "PassStateExited", Some("Handle")),
            ev(6, 5, "ExecutionSucceeded", None),
        ];
        let path = path_from_history(&events);
        expect_status(&path, "T", Some(StepStatus::Caught));
        assert!(path.took(Some("T"), Some("Handle")) && path.took(Some("Handle"), None));
    }

    #[test]
    fn an_empty_history_is_an_empty_path() {
        assert!(path_from_history(&[]).steps().is_empty());
    }

    // ---- escaping --------------------------------------------------------------------------

    fn mermaid_escapes(raw: &str, want: &str) {
        assert_eq!(mermaid::escape(raw), want, "{raw:?}");
    }

    fn dot_escapes(raw: &str, want: &str) {
        assert_eq!(dot::escape(raw), want, "{raw:?}");
    }

    fn xml_escapes(raw: &str, want: &str) {
        assert_eq!(svg::xml(raw), want, "{raw:?}");
    }

    #[test]
    fn names_are_escaped_for_each_format() {
        mermaid_escapes("Payment Verified?", "Payment Verified?");
        mermaid_escapes("Check Items In Stock", "Check Items In Stock");
        mermaid_escapes("say \"hi\"", "say #34;hi#34;");
        mermaid_escapes("$.n > 0", "$.n #62; 0");
        mermaid_escapes("<b>", "#60;b#62;");
        mermaid_escapes("a|b;c", "a#124;b#59;c");
        mermaid_escapes("#1 & `x` 100%", "#35;1 #38; #96;x#96; 100#37;");
        mermaid_escapes("line\nbreak", "line break");
        dot_escapes("Payment Verified?", "Payment Verified?");
        dot_escapes("say \"hi\"", "say \\\"hi\\\"");
        dot_escapes("back\\slash\\n", "back\\\\slash\\\\n");
        dot_escapes("$.n > 0 {x}", "$.n > 0 {x}");
        dot_escapes("tab\there", "tab here");
        xml_escapes(
            "a < b && c > \"d\" 'e'",
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos;",
        );
        xml_escapes("nul\u{0}bell\u{7}", "nul bell ");
        xml_escapes("Überprüfung ✓", "Überprüfung ✓");
    }

    fn tricky_definition() -> Value {
        json!({
            "StartAt": "Say \"hi\" > <b>",
            "States": {
                "Say \"hi\" > <b>": {"Type": "Choice", "Choices": [
                    {"Variable": "$.a", "StringEquals": "x|y;z", "Next": "a;b|c#d"},
                    {"Variable": "$.n", "NumericLessThan": 0, "Next": "end"},
                    {"Variable": "$.p", "IsPresent": true, "Next": "subgraph"}
                ], "Default": "100% done & `ticks`"},
                "a;b|c#d": {"Type": "Pass", "Next": "back\\slash\nnew line"},
                "back\\slash\nnew line": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Catch": [{"ErrorEquals": ["Oops\"<&>"], "Next": "end"}], "End": true},
                "end": {"Type": "Fail", "Error": "E"},
                "100% done & `ticks`": {"Type": "Succeed"},
                "subgraph": {"Type": "Parallel", "Branches": [{"StartAt": "%% comment", "States": {"%% comment": {"Type": "Pass", "End": true}}}], "End": true}
            }
        })
    }

    #[test]
    fn tricky_names_render_safely_in_every_format() {
        let def = tricky_definition();
        let path: ExecutionPath = [
            ("Say \"hi\" > <b>", StepStatus::Succeeded),
            ("end", StepStatus::Failed),
        ]
        .into_iter()
        .collect();
        let mut names = Vec::new();
        state_names(&def, &mut names);
        for format in ALL {
            let out = check(&def, Some(&path), format);
            for name in &names {
                assert!(
                    out.contains(&written(name, format)),
                    "{format} lacks {name:?}\n{out}"
                );
            }
        }
        let svg = render(&load(&def), Some(&path), Format::Svg);
        let doc = parse_svg(&svg);
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        assert!(
            texts.contains(&"Say \"hi\" > <b>"),
            "the SVG shows the name as written: {texts:?}"
        );
        assert!(texts.contains(&"back\\slash new line"));
        assert_eq!(svg_tone(&svg, "end"), "failed");
    }

    #[test]
    fn formats_parse_from_the_command_line() {
        assert_eq!("mermaid".parse(), Ok(Format::Mermaid));
        assert_eq!("DOT".parse(), Ok(Format::Dot));
        assert_eq!("gv".parse(), Ok(Format::Dot));
        assert_eq!(" svg ".parse(), Ok(Format::Svg));
        assert_eq!(
            "png".parse::<Format>().map_err(|e| e.to_string()),
            Err("unknown graph format \"png\"; use mermaid, dot or svg".into())
        );
        assert!(ALL.iter().all(|f| f.to_string().parse() == Ok(*f)));
    }

    #[test]
    fn loops_and_self_loops_render() {
        let def = json!({"StartAt": "Wait", "States": {
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Done?"},
            "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.done", "BooleanEquals": true, "Next": "Finish"}, {"Variable": "$.again", "IsPresent": true, "Next": "Done?"}], "Default": "Wait"},
            "Finish": {"Type": "Succeed"}
        }});
        for format in ALL {
            check(&def, None, format);
        }
    }

    // ---- the conformance corpus ------------------------------------------------------------

    #[test]
    fn conformance_definitions_render_in_every_format() {
        let Some(corpus) =
            test_prereqs::conformance_corpus("rendering the corpus's definitions as graphs")
        else {
            return;
        };
        let dir = corpus.join("cases/jsonpath");
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("no jsonpath cases at {}: {e}", dir.display()));
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no cases in {}", dir.display());
        for file in &files {
            let text = std::fs::read_to_string(file).expect("readable case");
            let case: Value = serde_json::from_str(&text).expect("the case is JSON");
            let def = match &case["definition"] {
                Value::String(s) => serde_json::from_str(s).expect("the definition text is JSON"),
                other => other.clone(),
            };
            let mut names = Vec::new();
            state_names(&def, &mut names);
            let path: ExecutionPath = names
                .iter()
                .take(2)
                .map(|n| (n.clone(), StepStatus::Succeeded))
                .collect();
            for format in ALL {
                for p in [None, Some(&path)] {
                    let out = std::panic::catch_unwind(|| check(&def, p, format));
                    assert!(out.is_ok(), "{} in {format} failed", file.display());
                }
            }
        }
        println!(
            "rendered {} conformance definitions in 3 formats",
            files.len()
        );
    }
}
