//! The corpus's comparison rules for recorded service integrations: `exact` (deep JSON
//! equality, numbers by value, and the same key order in every object; `error`, `cause` and
//! `outputText` as strings; the event types) and `shape` (the same, except that a string
//! that is one mask `<<…>>` matches any value, the same numbered mask the same value
//! everywhere, and a mask inside a longer string any non-empty run of characters).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use sfn_local::{Execution, Status};

/// How a case is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Everything as recorded.
    Exact,
    /// As recorded, masks standing for the values that differ on every run.
    Shape,
}

impl Mode {
    /// `exact` or `shape`, as a case's `compare` says.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "exact" => Some(Mode::Exact),
            "shape" => Some(Mode::Shape),
            _ => None,
        }
    }

    /// The name a case uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Exact => "exact",
            Mode::Shape => "shape",
        }
    }
}

/// How a recorded `cause` is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cause {
    /// The text AWS gave: compared as a string.
    #[default]
    Text,
    /// JSON text the recording parsed and wrote again compactly (a case's notes say "cause
    /// was JSON text parsed by the snapshot; re-serialised compactly in recorded key order"):
    /// what it holds is the JSON value, so a cause that is JSON is compared as a value (key
    /// order included), not by its spacing.
    Reserialised,
}

/// What an execution gave, as the comparison reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `INVALID_DEFINITION`.
    pub status: String,
    /// The output value (key order as produced).
    pub output: Option<Value>,
    /// The output as JSON text.
    pub output_text: Option<String>,
    /// The error name, if it failed.
    pub error: Option<String>,
    /// The cause, if it failed with one.
    pub cause: Option<String>,
    /// The history's event types, in order.
    pub events: Vec<String>,
}

impl Observed {
    /// What `execution` gave.
    pub fn of(execution: &Execution) -> Self {
        Observed {
            status: execution.status.as_str().to_owned(),
            output: execution.output.clone(),
            output_text: execution.output.as_ref().map(Value::to_string),
            error: execution.error.clone(),
            cause: execution.cause.clone(),
            events: execution
                .history
                .iter()
                .map(|e| e.details.event_type())
                .collect(),
        }
    }

    /// A definition the engine refused.
    pub fn invalid_definition() -> Self {
        Observed {
            status: "INVALID_DEFINITION".into(),
            output: None,
            output_text: None,
            error: None,
            cause: None,
            events: Vec::new(),
        }
    }

    /// Whether it succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == Status::Succeeded.as_str()
    }
}

/// The differences between a case's `expected` block (placeholders resolved) and what ran,
/// first difference first; empty when they match.
pub fn differences(expected: &Value, mode: Mode, cause: Cause, observed: &Observed) -> Vec<String> {
    let mut cmp = Comparator {
        masks: mode == Mode::Shape,
        bound: HashMap::new(),
        problems: Vec::new(),
    };
    let want_status = expected.get("status").and_then(Value::as_str).unwrap_or("");
    if observed.status != want_status {
        cmp.fail(
            "status",
            format!("expected {want_status}, got {}", observed.status),
        );
        return cmp.problems;
    }
    if observed.succeeded() {
        let output = observed.output.clone().unwrap_or(Value::Null);
        cmp.value(
            expected.get("output").unwrap_or(&Value::Null),
            &output,
            "output",
        );
        if let (Some(Value::String(text)), Some(actual)) =
            (expected.get("outputText"), &observed.output_text)
        {
            cmp.string(text, &Value::String(actual.clone()), "outputText");
        }
    } else {
        let as_value = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
        cmp.value(
            expected.get("error").unwrap_or(&Value::Null),
            &as_value(&observed.error),
            "error",
        );
        let want = expected.get("cause").unwrap_or(&Value::Null);
        let parsed = |text: Option<&str>| text.and_then(|t| serde_json::from_str::<Value>(t).ok());
        match (
            cause,
            parsed(want.as_str()),
            parsed(observed.cause.as_deref()),
        ) {
            (Cause::Reserialised, Some(mut want), Some(got)) => {
                bracket_bare_date_masks(&mut want, 0);
                cmp.value(&want, &got, "cause")
            }
            _ => cmp.value(want, &as_value(&observed.cause), "cause"),
        };
    }
    if let Some(Value::Array(want)) = expected.get("events") {
        let want: Vec<&str> = want.iter().filter_map(Value::as_str).collect();
        let got: Vec<&str> = observed.events.iter().map(String::as_str).collect();
        let ordered = expected.get("eventsOrdered").and_then(Value::as_bool) != Some(false);
        let same = if ordered {
            want == got
        } else {
            counts(&want) == counts(&got)
        };
        if !same {
            cmp.fail(
                "events",
                format!(
                    "expected{} {want:?}, got {got:?}",
                    if ordered { "" } else { " (any order)" }
                ),
            );
        }
    }
    cmp.problems
}

/// The deepest nesting walked: serde_json's parser refuses deeper documents.
const MAX_DEPTH: usize = 128;

/// Inside the JSON text it parsed (a `.sync` child's failure as the cause), the recording
/// wrote its date masks without brackets: `"StartDate":"start-date"` where outputs have
/// `"<<start-date>>"` (callback__start_execution_sync_delegate_failure against
/// callback__start_execution_sync). A date is never that word, so those two strings are read
/// as the masks the corpus README lists. Depth-bounded like every walk here.
fn bracket_bare_date_masks(value: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::String(s) if s == "start-date" || s == "stop-date" => *s = format!("<<{s}>>"),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| bracket_bare_date_masks(v, depth + 1)),
        Value::Object(members) => members
            .values_mut()
            .for_each(|v| bracket_bare_date_masks(v, depth + 1)),
        _ => {}
    }
}

fn counts<'a>(items: &[&'a str]) -> BTreeMap<&'a str, usize> {
    let mut m = BTreeMap::new();
    for item in items {
        *m.entry(*item).or_default() += 1;
    }
    m
}

struct Comparator {
    masks: bool,
    /// Numbered masks (`<<uuid:1>>`) and the value each stood for first.
    bound: HashMap<String, Value>,
    problems: Vec<String>,
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The name inside `<<name>>` when `text` is exactly one mask.
fn whole_mask(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("<<")?.strip_suffix(">>")?;
    (!inner.is_empty() && !inner.contains("<<") && !inner.contains(">>")).then_some(inner)
}

/// `text` split at its masks (`<<name>>`, a name without `<` or `>`): the literal pieces
/// around them, one more than there are masks.
fn literal_pieces(text: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut rest = text;
    while let Some(open) = rest.find("<<") {
        let after = &rest[open + 2..];
        let name_len = after.find(['<', '>']).unwrap_or(after.len());
        let is_mask = name_len > 0 && after[name_len..].starts_with(">>");
        let last = pieces.len() - 1;
        if is_mask {
            pieces[last].push_str(&rest[..open]);
            pieces.push(String::new());
            rest = &after[name_len + 2..];
        } else {
            pieces[last].push_str(&rest[..open + 1]);
            rest = &rest[open + 1..];
        }
    }
    let last = pieces.len() - 1;
    pieces[last].push_str(rest);
    pieces
}

/// Whether `text` is `pieces` joined by non-empty runs of characters.
fn matches_pieces(pieces: &[String], text: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    let Some(remaining) = text.strip_prefix(first.as_str()) else {
        return false;
    };
    if rest.is_empty() {
        return remaining.is_empty();
    }
    // A mask stands before the next piece: at least one character, then that piece.
    let mut starts = remaining
        .char_indices()
        .skip(1)
        .map(|(i, _)| i)
        .collect::<Vec<_>>();
    starts.push(remaining.len());
    starts
        .into_iter()
        .any(|at| matches_pieces(rest, &remaining[at..]))
}

impl Comparator {
    fn fail(&mut self, path: &str, message: String) {
        self.problems.push(format!("{path}: {message}"));
    }

    fn string(&mut self, expected: &str, actual: &Value, path: &str) -> bool {
        if self.masks
            && let Some(name) = whole_mask(expected)
        {
            let numbered = name
                .rsplit_once(':')
                .is_some_and(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if numbered {
                match self.bound.get(name) {
                    Some(before) if before != actual => {
                        let message = format!(
                            "<<{name}>> stood for {} elsewhere, here {}",
                            short(before),
                            short(actual)
                        );
                        self.fail(path, message);
                        return false;
                    }
                    Some(_) => {}
                    None => {
                        self.bound.insert(name.to_owned(), actual.clone());
                    }
                }
            }
            return true;
        }
        let Value::String(actual) = actual else {
            self.fail(
                path,
                format!("expected the string {expected:?}, got {}", short(actual)),
            );
            return false;
        };
        if self.masks && expected.contains("<<") {
            let pieces = literal_pieces(expected);
            if pieces.len() > 1 {
                if matches_pieces(&pieces, actual) {
                    return true;
                }
                self.fail(
                    path,
                    format!(
                        "{} does not match {}",
                        short(&Value::String(actual.clone())),
                        short(&Value::String(expected.to_owned()))
                    ),
                );
                return false;
            }
        }
        if expected != actual {
            self.fail(
                path,
                format!(
                    "expected {}, got {}",
                    short(&Value::String(expected.to_owned())),
                    short(&Value::String(actual.clone()))
                ),
            );
            return false;
        }
        true
    }

    fn value(&mut self, expected: &Value, actual: &Value, path: &str) -> bool {
        match (expected, actual) {
            (Value::String(e), a) => self.string(e, a, path),
            (Value::Number(e), Value::Number(a)) => {
                let same = match (e.as_i64(), a.as_i64()) {
                    (Some(x), Some(y)) => x == y,
                    _ => match (e.as_u64(), a.as_u64()) {
                        (Some(x), Some(y)) => x == y,
                        _ => e.as_f64() == a.as_f64(),
                    },
                };
                if !same {
                    self.fail(path, format!("expected {e}, got {a}"));
                }
                same
            }
            (Value::Object(e), Value::Object(a)) => {
                let mut ok = true;
                let missing: Vec<&String> = e.keys().filter(|k| !a.contains_key(*k)).collect();
                let extra: Vec<&String> = a.keys().filter(|k| !e.contains_key(*k)).collect();
                if !missing.is_empty() || !extra.is_empty() {
                    self.fail(
                        path,
                        format!("keys differ: missing {missing:?}, unexpected {extra:?}"),
                    );
                    ok = false;
                } else if !e.keys().eq(a.keys()) {
                    self.fail(
                        path,
                        format!(
                            "key order {:?} instead of {:?}",
                            a.keys().collect::<Vec<_>>(),
                            e.keys().collect::<Vec<_>>()
                        ),
                    );
                    ok = false;
                }
                for (k, v) in e {
                    if let Some(w) = a.get(k) {
                        ok = self.value(v, w, &format!("{path}.{k}")) && ok;
                    }
                }
                ok
            }
            (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
                let mut ok = true;
                for (i, (v, w)) in e.iter().zip(a).enumerate() {
                    ok = self.value(v, w, &format!("{path}[{i}]")) && ok;
                }
                ok
            }
            (e, a) if e == a => true,
            (e, a) => {
                self.fail(path, format!("expected {}, got {}", short(e), short(a)));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn observed(output: Value) -> Observed {
        Observed {
            status: "SUCCEEDED".into(),
            output_text: Some(output.to_string()),
            output: Some(output),
            error: None,
            cause: None,
            events: vec!["ExecutionStarted".into(), "ExecutionSucceeded".into()],
        }
    }

    fn diff(mode: Mode, expected_output: Value, output: Value) -> Vec<String> {
        let expected = json!({"status": "SUCCEEDED", "output": expected_output,
                              "events": ["ExecutionStarted", "ExecutionSucceeded"]});
        differences(&expected, mode, Cause::Text, &observed(output))
    }

    #[test]
    fn exact_needs_equal_values_and_key_order() {
        assert!(
            diff(
                Mode::Exact,
                json!({"a": 1, "b": [1.0]}),
                json!({"a": 1.0, "b": [1]})
            )
            .is_empty()
        );
        assert!(
            !diff(
                Mode::Exact,
                json!({"a": 1, "b": 2}),
                json!({"b": 2, "a": 1})
            )
            .is_empty()
        );
        assert!(!diff(Mode::Exact, json!({"a": true}), json!({"a": 1})).is_empty());
        assert!(!diff(Mode::Exact, json!("<<uuid:1>>"), json!("x")).is_empty());
    }

    #[test]
    fn shape_masks_whole_values_and_runs_of_text() {
        assert!(
            diff(
                Mode::Shape,
                json!({"h": "<<x-amzn-RequestId>>"}),
                json!({"h": ["id"]})
            )
            .is_empty()
        );
        let same = json!({"a": "<<uuid:1>>", "b": "<<uuid:1>>"});
        assert!(diff(Mode::Shape, same.clone(), json!({"a": "u", "b": "u"})).is_empty());
        assert!(!diff(Mode::Shape, same, json!({"a": "u", "b": "v"})).is_empty());
        let text = json!("arn:<<partition>>:states:<<region>>:1:x");
        assert!(
            diff(
                Mode::Shape,
                text.clone(),
                json!("arn:aws:states:us-east-1:1:x")
            )
            .is_empty()
        );
        assert!(
            !diff(
                Mode::Shape,
                text.clone(),
                json!("arn::states:us-east-1:1:x")
            )
            .is_empty()
        );
        assert!(!diff(Mode::Shape, text, json!("arn:aws:states:us-east-1:1:y")).is_empty());
    }

    #[test]
    fn status_errors_and_events_are_compared() {
        let failed = Observed {
            status: "FAILED".into(),
            output: None,
            output_text: None,
            error: Some("E".into()),
            cause: None,
            events: vec!["ExecutionStarted".into(), "ExecutionFailed".into()],
        };
        let expected = json!({"status": "FAILED", "error": "E", "cause": null,
                              "events": ["ExecutionStarted", "ExecutionFailed"]});
        assert!(differences(&expected, Mode::Exact, Cause::Text, &failed).is_empty());
        let other = json!({"status": "FAILED", "error": "E", "cause": "c",
                           "events": ["ExecutionFailed", "ExecutionStarted"]});
        assert_eq!(
            differences(&other, Mode::Exact, Cause::Text, &failed).len(),
            2
        );
        let unordered = json!({"status": "FAILED", "error": "E", "cause": null, "eventsOrdered": false,
                               "events": ["ExecutionFailed", "ExecutionStarted"]});
        assert!(differences(&unordered, Mode::Exact, Cause::Text, &failed).is_empty());
    }

    #[test]
    fn a_reserialised_cause_is_compared_as_json_with_its_key_order() {
        let failed = |cause: &str| Observed {
            status: "FAILED".into(),
            output: None,
            output_text: None,
            error: Some("E".into()),
            cause: Some(cause.into()),
            events: vec![],
        };
        let expected = json!({"status": "FAILED", "error": "E",
                              "cause": r#"{"errorMessage":"m","requestId":"<<uuid:1>>"}"#});
        let spaced = failed(r#"{"errorMessage": "m", "requestId": "1f"}"#);
        assert!(differences(&expected, Mode::Shape, Cause::Reserialised, &spaced).is_empty());
        // As text, the spacing differs.
        assert_eq!(
            differences(&expected, Mode::Shape, Cause::Text, &spaced).len(),
            1
        );
        // As JSON, key order and values still count.
        let reordered = failed(r#"{"requestId": "1f", "errorMessage": "m"}"#);
        assert_eq!(
            differences(&expected, Mode::Shape, Cause::Reserialised, &reordered).len(),
            1
        );
        let other = failed(r#"{"errorMessage": "n", "requestId": "1f"}"#);
        assert_eq!(
            differences(&expected, Mode::Shape, Cause::Reserialised, &other).len(),
            1
        );
    }
}
