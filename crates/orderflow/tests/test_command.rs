//! The `orderflow test` command-line contract: the project's suites pass with full coverage,
//! a failing case exits 1 and is reported in JUnit XML a parser reads back, a broken test file
//! exits 2 naming the field; and `orderflow exec --mock-config` runs one test case.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn orderflow(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the orderflow binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JUnit report's test cases: (suite, case, failure message if any).
fn junit_cases(xml: &str) -> Vec<(String, String, Option<String>)> {
    let doc = roxmltree::Document::parse(xml).expect("the JUnit report is well-formed XML");
    let top = doc.root_element();
    assert_eq!(top.tag_name().name(), "testsuites");
    let mut cases = Vec::new();
    for suite in top.children().filter(|n| n.has_tag_name("testsuite")) {
        let name = suite.attribute("name").unwrap_or_default().to_owned();
        let listed: usize = suite
            .attribute("tests")
            .and_then(|t| t.parse().ok())
            .expect("a tests count");
        let mut here = 0;
        for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
            here += 1;
            assert!(
                case.attribute("time")
                    .is_some_and(|t| t.parse::<f64>().is_ok())
            );
            let failure = case
                .children()
                .find(|n| n.has_tag_name("failure"))
                .map(|f| f.attribute("message").unwrap_or_default().to_owned());
            cases.push((
                name.clone(),
                case.attribute("name").unwrap_or_default().to_owned(),
                failure,
            ));
        }
        assert_eq!(here, listed, "the tests count of {name}");
    }
    let failures: usize = top
        .attribute("failures")
        .and_then(|t| t.parse().ok())
        .expect("a failures count");
    assert_eq!(failures, cases.iter().filter(|c| c.2.is_some()).count());
    cases
}

#[test]
fn the_project_suites_pass_with_every_state_and_rule_covered() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("junit.xml");
    let report_arg = report.display().to_string();
    // No file named: every suite in statemachine/tests, from the checkout's root.
    let out = orderflow(&root(), &["test", "--coverage", "--junit", &report_arg]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let cases = junit_cases(&std::fs::read_to_string(&report).expect("the report"));
    assert!(cases.len() >= 30, "{} cases", cases.len());
    assert!(cases.iter().all(|c| c.2.is_none()));
    for definition in [
        "statemachine/order-processing.asl.json",
        "statemachine/order.asl.json",
    ] {
        let section = stdout
            .split("\ncoverage of ")
            .find(|s| s.starts_with(definition))
            .unwrap_or_else(|| panic!("no coverage of {definition}: {stdout}"));
        for kind in ["states", "Choice rules", "Retry rules", "Catch rules"] {
            let line = section
                .lines()
                .find(|l| l.trim_start().starts_with(kind))
                .unwrap_or_else(|| panic!("no {kind} line for {definition}"));
            assert!(line.ends_with("100.0%"), "{definition}: {line}");
        }
        assert!(!section.contains("never"), "{section}");
    }
}

/// A copy of the order-processing suite with `edit` applied to its JSON, in `dir`, reading
/// the project's definition, mocks and events.
fn edited_suite(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let tests = root().join("statemachine/tests");
    let mut suite: Value = serde_json::from_str(
        &std::fs::read_to_string(tests.join("order-processing.test.json")).expect("the suite"),
    )
    .expect("JSON");
    let absolute = |rel: &Value| json!(tests.join(rel.as_str().unwrap_or_default()));
    suite["definition"] = absolute(&suite["definition"]);
    suite["mockConfig"] = absolute(&suite["mockConfig"]);
    if let Some(cases) = suite["testCases"].as_object_mut() {
        for case in cases.values_mut() {
            if let Some(file) = case.get("inputFile").cloned() {
                case["inputFile"] = absolute(&file);
            }
        }
    }
    edit(&mut suite);
    let path = dir.join("edited.test.json");
    std::fs::write(&path, suite.to_string()).expect("written");
    path
}

#[test]
fn a_failing_case_exits_1_and_is_reported_in_junit() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let suite = edited_suite(dir.path(), |s| {
        s["testCases"]["ChargeDeclined"]["expect"]["error"] = json!("PaymentRefused");
        s["testCases"]["PaymentProcessed"]["expect"]["notEntered"] = json!(["Charge Payment"]);
    });
    let report = dir.path().join("junit.xml");
    let out = orderflow(
        dir.path(),
        &[
            "test",
            &suite.display().to_string(),
            "--junit",
            &report.display().to_string(),
            "--jobs",
            "1",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("  FAIL  ChargeDeclined")
            && stdout.contains("error: expected \"PaymentRefused\", got \"PaymentDeclined\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("notEntered: \"Charge Payment\" was entered"),
        "{stdout}"
    );
    assert!(stdout.contains("2 failed"), "{stdout}");
    let cases = junit_cases(&std::fs::read_to_string(&report).expect("the report"));
    let failed: Vec<(&str, &str)> = cases
        .iter()
        .filter_map(|(_, name, f)| f.as_deref().map(|f| (name.as_str(), f)))
        .collect();
    assert_eq!(
        failed,
        [
            (
                "PaymentProcessed",
                "notEntered: \"Charge Payment\" was entered"
            ),
            (
                "ChargeDeclined",
                "error: expected \"PaymentRefused\", got \"PaymentDeclined\""
            ),
        ]
    );
}

/// A change made to a copy of the suite.
type Edit = fn(&mut Value);

#[test]
fn a_broken_test_file_exits_2_naming_the_field() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cases: [(&str, Edit, &str); 4] = [
        (
            "a misspelt expectation",
            |s| s["testCases"]["ChargeDeclined"]["expect"]["erorr"] = json!("x"),
            "testCases.ChargeDeclined.expect.erorr: unknown field",
        ),
        (
            "a state the definition lacks",
            |s| s["testCases"]["OutOfStock"]["expect"]["entered"] = json!(["Out Of Stok"]),
            "testCases.OutOfStock.expect.entered[0]: the definition has no state named \"Out Of Stok\"",
        ),
        (
            "a test case the mocks lack",
            |s| s["testCases"]["NoSuchCase"] = json!({"expect": {"status": "SUCCEEDED"}}),
            "testCases.NoSuchCase: the mock configuration has no test case \"NoSuchCase\"",
        ),
        (
            "a missing substitution",
            |s| {
                if let Some(m) = s["definitionSubstitutions"].as_object_mut() {
                    m.remove("ChargePaymentFunctionArn");
                }
            },
            "the definition uses ${ChargePaymentFunctionArn}, which has no value here",
        ),
    ];
    for (what, edit, message) in cases {
        let suite = edited_suite(dir.path(), edit);
        let out = orderflow(dir.path(), &["test", &suite.display().to_string()]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(stderr.contains(message), "{what}: {stderr}");
    }
}

#[test]
fn exec_runs_one_test_case_of_a_mock_configuration() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let definition = dir.path().join("charge.asl.json");
    std::fs::write(
        &definition,
        json!({"StartAt": "Charge Payment", "States": {"Charge Payment": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}],
            "End": true}}})
        .to_string(),
    )
    .expect("written");
    let mocks = root().join("statemachine/tests/order-processing.mocks.json");
    let run = |case: &str| {
        orderflow(
            dir.path(),
            &[
                "exec",
                "--definition",
                &definition.display().to_string(),
                "--mock-config",
                &mocks.display().to_string(),
                "--test-case",
                case,
                "--json",
            ],
        )
    };
    let out = run("ChargeTimesOut");
    // exec exits 1 for an execution that did not succeed.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(result["status"], "FAILED");
    assert_eq!(result["error"], "States.Timeout");
    let scheduled = result["history"]
        .as_array()
        .map(|h| h.iter().filter(|e| e["type"] == "TaskScheduled").count());
    assert_eq!(
        scheduled,
        Some(3),
        "the mock's three timeouts, one per attempt"
    );

    let out = run("PaymentProcessed");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(result["status"], "SUCCEEDED");
    assert_eq!(result["output"]["Payload"]["chargeId"], "ch_1");

    let out = run("NoSuchCase");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("has no test case \"NoSuchCase\""),
        "{}",
        text(&out.stderr)
    );
}
