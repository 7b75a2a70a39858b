//! The JSONata expressions of the AWS-recorded conformance corpus (`../shared/conformance`,
//! or `ORDERFLOW_CONFORMANCE_DIR`): every `{% %}` template of its JSONata and integration
//! cases must parse, and those a single Pass state evaluates against `$states.input` must
//! give what AWS recorded, value or error text.

use std::path::PathBuf;

use serde_json::Value;
use sfn_jsonata::{
    Binding, Bindings, Environment, EvalErrorKind, Expression, FixedClock, SplitMix64,
};

fn conformance_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ORDERFLOW_CONFORMANCE_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance")
}

fn cases(category: &str) -> Vec<(String, Value)> {
    let dir = conformance_dir().join("cases").join(category);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "conformance corpus not found at {} ({e}); set ORDERFLOW_CONFORMANCE_DIR",
            dir.display()
        )
    });
    let mut out: Vec<(String, Value)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("case file");
            let v: Value = serde_json::from_str(&text).expect("case json");
            (
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string(),
                v,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no cases in {}", dir.display());
    out
}

/// The `{% ... %}` templates in a definition: strings that start with `{%` and end with
/// `%}`, as Step Functions recognises them.
fn templates(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with("{%") && s.ends_with("%}") && s.len() >= 4 => {
            out.push(s[2..s.len() - 2].to_string());
        }
        Value::Array(a) => a.iter().for_each(|x| templates(x, out)),
        Value::Object(o) => o.values().for_each(|x| templates(x, out)),
        _ => {}
    }
}

#[test]
fn every_corpus_expression_parses() {
    let mut count = 0;
    let mut failures = Vec::new();
    for category in ["jsonata", "integrations", "invalid"] {
        for (name, case) in cases(category) {
            let mut found = Vec::new();
            let definition = match &case["definition"] {
                Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
                other => other.clone(),
            };
            templates(&definition, &mut found);
            let rejected = case["expected"]["status"] == "INVALID_DEFINITION";
            for expr in found {
                count += 1;
                if let Err(e) = Expression::parse(&expr)
                    && !rejected
                {
                    failures.push(format!("{category}/{name}: {expr:?}: {e}"));
                }
            }
        }
    }
    println!("corpus expressions: {count} parsed");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(count >= 200, "only {count} expressions found");
}

struct States<'a> {
    input: &'a Value,
}

impl Bindings for States<'_> {
    fn binding(&self, name: &str) -> Option<Binding<'_>> {
        (name == "states").then(|| Binding::Object(vec![("input", self.input)]))
    }
}

/// Evaluates one `Output` member: a template, or a constant.
fn output_value(v: &Value, vars: &States<'_>) -> Result<Option<Value>, String> {
    let mut found = Vec::new();
    templates(v, &mut found);
    match (v, found.as_slice()) {
        (Value::String(_), [expr]) => {
            let clock = FixedClock(1_704_067_200_000);
            let mut random = SplitMix64::new(1);
            let mut env = Environment::new(&clock, &mut random);
            Expression::parse(expr)
                .map_err(|e| e.to_string())
                .and_then(|e| e.evaluate(None, vars, &mut env).map_err(|e| e.to_string()))
        }
        (other, []) => Ok(Some(other.clone())),
        _ => Err("nested templates".into()),
    }
}

/// Cases whose one state is a JSONata Pass state with an `Output` of templates (the whole
/// field, or members of an object): the expressions alone decide the outcome.
#[test]
fn single_pass_states_match_aws() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, case) in cases("jsonata") {
        let states = case["definition"]["States"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if states.len() != 1 {
            continue;
        }
        let state = states.values().next().cloned().unwrap_or(Value::Null);
        let language = state
            .get("QueryLanguage")
            .or(case["definition"].get("QueryLanguage"))
            .and_then(Value::as_str);
        if state["Type"] != "Pass" || language != Some("JSONata") || state.get("Assign").is_some() {
            continue;
        }
        let vars = States {
            input: &case["input"],
        };
        // The whole output, or the first member that fails.
        let got: Result<Option<Value>, String> = match &state["Output"] {
            Value::Object(members) => {
                let mut out = serde_json::Map::new();
                let mut failed = None;
                for (k, v) in members {
                    match output_value(v, &vars) {
                        Ok(Some(x)) => {
                            out.insert(k.clone(), x);
                        }
                        other => {
                            failed = Some(other);
                            break;
                        }
                    }
                }
                failed.unwrap_or(Ok(Some(Value::Object(out))))
            }
            v @ Value::String(_) => output_value(v, &vars),
            _ => continue,
        };
        if got.as_ref().is_err_and(|e| e == "nested templates") {
            continue;
        }
        let expected = &case["expected"];
        checked += 1;
        let ok = match (expected["status"].as_str(), &got) {
            (Some("SUCCEEDED"), Ok(Some(v))) => json_eq(v, &expected["output"]),
            (Some("FAILED"), Ok(None)) => expected["cause"]
                .as_str()
                .is_some_and(|c| c.ends_with("returned nothing (undefined).")),
            (Some("FAILED"), Err(message)) => expected["cause"].as_str().is_some_and(|c| {
                c.ends_with(&format!("threw an error during evaluation. {message}"))
            }),
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}: gave {got:?}, AWS {expected}"));
        }
    }
    println!("corpus single-state outputs: {checked} checked");
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked >= 40, "only {checked} cases checked");
}

/// AWS's cause for a function result: the engine reports it from the error's kind.
#[test]
fn a_function_result_is_its_own_kind() {
    let clock = FixedClock(0);
    let mut random = SplitMix64::new(1);
    let mut env = Environment::new(&clock, &mut random);
    let err = Expression::parse("$fn := function($x){$x}")
        .unwrap()
        .evaluate(None, &sfn_jsonata::NoBindings, &mut env)
        .unwrap_err();
    assert_eq!(err.kind(), EvalErrorKind::UnsupportedResult);
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}
