//! The AWS-recorded conformance corpus (`../shared/conformance`), compared as its README says.

use serde_json::{Value, json};
use sfn_local::{ExecuteOptions, StateMachine};

use crate::common::{Case, json_eq, load_category};

/// Runs one case; `Err` says how the result differs from AWS's.
fn run_case(case: &Case) -> Result<(), String> {
    let loaded = match &case.definition {
        Value::String(text) => StateMachine::from_json(text),
        other => StateMachine::from_value(other),
    };
    let expected_status = case.expected["status"].as_str().unwrap_or_default();
    let machine = match loaded {
        Ok(m) => m,
        Err(e) if expected_status == "INVALID_DEFINITION" => {
            let _ = e;
            return Ok(());
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
        return Ok(());
    }
    if expected_status == "SUCCEEDED" {
        if case.compare == "exact" && !json_eq(&got["output"], &case.expected["output"]) {
            return Err(format!(
                "output {}, expected {}",
                got["output"], case.expected["output"]
            ));
        }
        return Ok(());
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
    Ok(())
}

/// Runs a category, prints the pass count and the failures, and checks the floor.
fn category(name: &str, floor: usize) {
    let Some(cases) = load_category(name) else {
        return;
    };
    let mut failures = Vec::new();
    for case in &cases {
        let outcome =
            std::panic::catch_unwind(|| run_case(case)).unwrap_or_else(|_| Err("panicked".into()));
        if let Err(why) = outcome {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    let passed = cases.len() - failures.len();
    println!("conformance {name}: {passed}/{} passed", cases.len());
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(
        passed >= floor,
        "conformance {name}: {passed}/{} passed, below the floor of {floor}",
        cases.len()
    );
}

#[test]
fn jsonpath_category() {
    category("jsonpath", 750);
}

#[test]
fn invalid_category() {
    category("invalid", 14);
}

#[test]
fn jsonata_category() {
    category("jsonata", 141);
}
