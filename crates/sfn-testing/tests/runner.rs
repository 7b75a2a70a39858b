//! The runner: expectations checked and reported, coverage counted exactly, results in the
//! files' order whatever the parallelism.

use std::path::Path;

use serde_json::{Value, json};
use sfn_testing::{Coverage, Gap, TestFile, TestFileError, run};

fn definition() -> Value {
    json!({"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [
            {"Variable": "$.kind", "StringEquals": "call", "Next": "Call"},
            {"Variable": "$.kind", "StringEquals": "skip", "Next": "Done"}
        ], "Default": "Refuse"},
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "${Fn}", "Payload.$": "$"},
                 "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 1},
                           {"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1}],
                 "Catch": [{"ErrorEquals": ["Declined"], "Next": "Refuse"},
                           {"ErrorEquals": ["States.ALL"], "Next": "Refuse"}],
                 "OutputPath": "$.Payload", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Refuse": {"Type": "Fail", "Error": "Refused", "Cause": "not this one"}
    }})
}

fn file(cases: Value) -> Result<TestFile, TestFileError> {
    TestFile::from_value(
        json!({
            "definition": definition(),
            "definitionSubstitutions": {"Fn": "arn:aws:lambda:us-east-1:123456789012:function:f"},
            "mockConfig": {
                "StateMachines": {"M": {"TestCases": {
                    "BusyThenOk": {"Call": "BusyThenOk"},
                    "Declined": {"Call": "Declined"},
                    "Skipped": {}
                }}},
                "MockedResponses": {
                    "BusyThenOk": {"0": {"Throw": {"Error": "Busy"}}, "1": {"Return": {"Payload": {"ok": true}}}},
                    "Declined": {"0": {"Throw": {"Error": "Declined", "Cause": "no"}}}
                }
            },
            "testCases": cases
        }),
        Path::new("dir/m.test.json"),
    )
}

#[test]
fn expectations_are_checked_and_coverage_counted() {
    let suite = file(json!({
        "BusyThenOk": {"input": {"kind": "call"}, "expect": {
            "status": "SUCCEEDED", "output": {"ok": true}, "path": ["Route", "Call", "Done"]}},
        "Declined": {"input": {"kind": "call"}, "expect": {
            "status": "FAILED", "error": "Refused", "cause": "not this one",
            "entered": ["Refuse"], "notEntered": ["Done"]}},
        "Skipped": {"input": {"kind": "skip"}, "expect": {
            "status": "FAILED", "error": "Other", "causeIncludes": "nothing",
            "notEntered": ["Done"], "path": ["Route"]}}
    }))
    .expect("a valid file");
    let files = [suite];
    for jobs in [1, 3] {
        let results = run(&files, jobs);
        let names: Vec<&str> = results.iter().map(|r| r.case.as_str()).collect();
        assert_eq!(
            names,
            ["BusyThenOk", "Declined", "Skipped"],
            "the file's order"
        );
        assert!(results[0].passed(), "{:?}", results[0].failures);
        assert!(results[1].passed(), "{:?}", results[1].failures);
        assert_eq!(
            results[2].failures,
            [
                "status: expected FAILED, got SUCCEEDED",
                "error: expected \"Other\", got none",
                "cause: expected one containing \"nothing\", got none",
                "path: expected Route, got Route → Done",
                "notEntered: \"Done\" was entered",
            ]
        );
        let coverage = Coverage::of(&files, &results);
        assert_eq!(coverage.len(), 1);
        let c = &coverage[0];
        assert_eq!(c.cases, 3);
        assert_eq!((c.states.covered, c.states.total), (4, 4));
        assert_eq!((c.choices.covered, c.choices.total), (2, 3));
        assert_eq!(
            c.choices.gaps,
            [Gap {
                state: "Route".into(),
                part: "Default".into()
            }]
        );
        assert_eq!((c.retries.covered, c.retries.total), (1, 2));
        assert_eq!(c.retries.gaps[0].part, "Retry 1 (States.Timeout)");
        assert_eq!((c.catches.covered, c.catches.total), (1, 2));
        assert_eq!(c.catches.gaps[0].part, "Catch 1 (States.ALL)");
        assert!(
            c.report().contains("never taken: Route → Default"),
            "{}",
            c.report()
        );
    }
}

#[test]
fn the_junit_report_holds_every_case_and_its_failures() {
    let files = [file(json!({
        "BusyThenOk": {"input": {"kind": "call"}, "expect": {"status": "SUCCEEDED"}},
        "Skipped": {"input": {"kind": "skip"}, "expect": {"status": "FAILED", "error": "A <&> B"}}
    }))
    .expect("a valid file")];
    let results = run(&files, 2);
    let xml = sfn_testing::junit::junit(&files, &results);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("a testsuite");
    assert_eq!(suite.attribute("name"), Some("dir/m.test.json"));
    assert_eq!(suite.attribute("tests"), Some("2"));
    assert_eq!(suite.attribute("failures"), Some("1"));
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(
        failure.parent().and_then(|c| c.attribute("name")),
        Some("Skipped")
    );
    assert_eq!(
        failure.attribute("message"),
        Some("status: expected FAILED, got SUCCEEDED")
    );
    assert!(
        failure
            .text()
            .is_some_and(|t| t.contains("error: expected \"A <&> B\", got none")),
        "{xml}"
    );
}

#[test]
fn a_wrong_file_is_refused_naming_the_field() {
    let refused = |cases: Value| match file(cases) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        refused(json!({"Skipped": {"expect": {"status": "DONE"}}})),
        "dir/m.test.json: testCases.Skipped.expect.status: must be SUCCEEDED, FAILED or TIMED_OUT"
    );
    assert_eq!(
        refused(json!({"Skipped": {"expect": {"status": "FAILED", "output": {}}}})),
        "dir/m.test.json: testCases.Skipped.expect.output: only an execution that succeeds has an output"
    );
    assert_eq!(
        refused(
            json!({"Skipped": {"input": {}, "inputFile": "x.json", "expect": {"status": "FAILED"}}})
        ),
        "dir/m.test.json: testCases.Skipped.inputFile: give input or inputFile, not both"
    );
    assert_eq!(
        refused(json!({})),
        "dir/m.test.json: testCases: holds no test case"
    );
}
