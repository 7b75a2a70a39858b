//! The AWS-recorded conformance corpus (`../shared/conformance`), compared as its README says.

use serde_json::{Value, json};
use sfn_local::{ExecuteOptions, StateMachine};

use crate::common::{Case, json_eq, load_category, same_key_order};

/// How a case's output compared: `Ok(Some(true))` when it matched with AWS's key order in
/// every object, `Ok(Some(false))` when only the order differed, `Ok(None)` when there was
/// no output to order (a failure, or a case compared by status only).
type Outcome = Result<Option<bool>, String>;

/// Runs one case; `Err` says how the result differs from AWS's.
fn run_case(case: &Case) -> Outcome {
    let loaded = match &case.definition {
        Value::String(text) => StateMachine::from_json(text),
        other => StateMachine::from_value(other),
    };
    let expected_status = case.expected["status"].as_str().unwrap_or_default();
    let machine = match loaded {
        Ok(m) => m,
        Err(e) if expected_status == "INVALID_DEFINITION" => {
            let _ = e;
            return Ok(None);
        }
        Err(e) => return Err(format!("rejected the definition: {e}")),
    };
    if expected_status == "INVALID_DEFINITION" {
        return Err("accepted a definition AWS rejects".into());
    }
    // 2024-01-01T00:00:00Z, as the corpus fixed inputs built from "now".
    let options = ExecuteOptions::new()
        .virtual_start(1_704_067_200_000)
        .history(false)
        .name("conformance");
    let execution = futures::executor::block_on(machine.execute(case.input.clone(), &options));
    let got = execution.result_json();
    if got["status"] != json!(expected_status) {
        return Err(format!(
            "status {} (error {}, cause {}), expected {}",
            got["status"], got["error"], got["cause"], expected_status
        ));
    }
    if case.compare == "status_only" {
        return Ok(None);
    }
    if expected_status == "SUCCEEDED" {
        if case.compare != "exact" {
            return Ok(None);
        }
        if !json_eq(&got["output"], &case.expected["output"]) {
            return Err(format!(
                "output {}, expected {}",
                got["output"], case.expected["output"]
            ));
        }
        return Ok(Some(same_key_order(
            &got["output"],
            &case.expected["output"],
        )));
    }
    if let Some(error) = case.expected.get("error") {
        if !json_eq(&got["error"], error) {
            return Err(format!(
                "error {} (cause {}), expected {}",
                got["error"], got["cause"], error
            ));
        }
    }
    if case.compare == "exact" {
        let want = case.expected.get("cause").cloned().unwrap_or(Value::Null);
        if case.expected.get("cause").is_some() && !json_eq(&got["cause"], &want) {
            return Err(format!("cause {}, expected {}", got["cause"], want));
        }
    }
    Ok(None)
}

/// Runs a category, prints the pass count, the failures and how many outputs keep AWS's key
/// order (the category's rules ignore it; the integrations category's do not), and checks
/// the floors.
fn category(name: &str, floor: usize, ordered_floor: usize) {
    let Some(cases) = load_category(name) else {
        return;
    };
    let mut failures = Vec::new();
    let mut disordered = Vec::new();
    let mut outputs = 0;
    for case in &cases {
        let outcome =
            std::panic::catch_unwind(|| run_case(case)).unwrap_or_else(|_| Err("panicked".into()));
        match outcome {
            Err(why) => failures.push(format!("{}: {why}", case.name)),
            Ok(Some(ordered)) => {
                outputs += 1;
                if !ordered {
                    disordered.push(case.name.as_str());
                }
            }
            Ok(None) => {}
        }
    }
    let passed = cases.len() - failures.len();
    let ordered = outputs - disordered.len();
    println!("conformance {name}: {passed}/{} passed", cases.len());
    println!("conformance {name}: {ordered}/{outputs} outputs in AWS's key order");
    for f in &failures {
        println!("  FAIL {f}");
    }
    for d in &disordered {
        println!("  KEY ORDER {d}");
    }
    assert!(
        ordered >= ordered_floor,
        "conformance {name}: {ordered}/{outputs} outputs in AWS's key order, below the floor of {ordered_floor}"
    );
    assert!(
        passed >= floor,
        "conformance {name}: {passed}/{} passed, below the floor of {floor}",
        cases.len()
    );
}

#[test]
fn jsonpath_category() {
    category("jsonpath", 750, 698);
}

#[test]
fn invalid_category() {
    category("invalid", 14, 0);
}

#[test]
fn jsonata_category() {
    category("jsonata", 141, 101);
}
