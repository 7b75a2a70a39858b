//! The mock configuration's documented behaviours (ranges, retries, Map iterations, a state
//! with no mock, Throw with Error and Cause, callbacks), and its errors.

use futures::FutureExt as _;
use serde_json::{Value, json};
use sfn_local::{
    EventDetails, ExecuteOptions, Execution, Handlers, StateMachine, Status, TaskRequest,
};
use sfn_testing::{Answer, MockConfig, MockError};

fn execute(definition: Value, mocks: Value, case: &str, mut handlers: Handlers) -> Execution {
    let machine = StateMachine::from_value(&definition).expect("a valid definition");
    let config = MockConfig::from_value(&mocks).expect("a valid mock configuration");
    let mocked = config.test_case(None, case).expect("the test case");
    mocked.apply(&mut handlers);
    let options = ExecuteOptions::new().handlers(handlers);
    futures::executor::block_on(machine.execute(json!({"n": 1}), &options))
}

fn count(execution: &Execution, event_type: &str) -> usize {
    execution
        .history
        .iter()
        .filter(|e| e.details.event_type() == event_type)
        .count()
}

fn lambda_task(extra: Value) -> Value {
    let mut task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "End": true
    });
    if let (Some(t), Some(e)) = (task.as_object_mut(), extra.as_object()) {
        t.extend(e.clone());
    }
    task
}

#[test]
fn ranges_answer_the_retries_in_turn() {
    let definition = json!({"StartAt": "Call", "States": {"Call": lambda_task(json!({
        "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException", "Busy"], "IntervalSeconds": 30, "MaxAttempts": 3}]
    }))}});
    let mocks = json!({
        "StateMachines": {"M": {"TestCases": {"RetryPath": {"Call": "Flaky"}}}},
        "MockedResponses": {"Flaky": {
            "0": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}},
            "1-2": {"Throw": {"Error": "Busy", "Cause": "still busy"}},
            "3": {"Return": {"StatusCode": 200, "Payload": {"answer": 42}}}
        }}
    });
    let execution = execute(definition, mocks, "RetryPath", Handlers::new());
    assert_eq!(execution.status, Status::Succeeded, "{execution:?}");
    assert_eq!(execution.output, Some(json!({"answer": 42})));
    assert_eq!(count(&execution, "TaskScheduled"), 4);
    let errors: Vec<String> = execution
        .history
        .iter()
        .filter_map(|e| match &e.details {
            EventDetails::TaskFailed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        ["Lambda.TooManyRequestsException", "Busy", "Busy"],
        "each invocation answered by its range"
    );
    // Virtual time: 30 s, 60 s and 120 s of back-off passed on the execution's clock.
    assert!(execution.stop_millis - execution.start_millis >= 210_000);
}

#[test]
fn a_throw_reaches_the_catch_with_its_error_and_cause() {
    let mut definition = json!({"StartAt": "Call", "States": {
        "Call": lambda_task(json!({
            "Catch": [{"ErrorEquals": ["PaymentError"], "ResultPath": "$.error", "Next": "Declined"}]
        })),
        "Declined": {"Type": "Pass", "End": true}
    }});
    if let Some(call) = definition["States"]["Call"].as_object_mut() {
        call.remove("End");
        call.insert("Next".into(), json!("Declined"));
    }
    let mocks = json!({
        "StateMachines": {"M": {"TestCases": {"Declined": {"Call": "Declines"}}}},
        "MockedResponses": {"Declines": {"0": {"Throw": {"Error": "PaymentError", "Cause": "card declined"}}}}
    });
    let execution = execute(definition, mocks, "Declined", Handlers::new());
    assert_eq!(execution.status, Status::Succeeded, "{execution:?}");
    assert_eq!(
        execution.output,
        Some(json!({"n": 1, "error": {"Error": "PaymentError", "Cause": "card declined"}}))
    );
}

#[test]
fn map_iterations_share_their_state_s_counter() {
    let definition = json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": true,
        "ItemProcessor": {"StartAt": "Call", "States": {"Call": lambda_task(json!({}))}}
    }}});
    let mocks = json!({
        "StateMachines": {"M": {"TestCases": {"Three": {"Call": "Counting"}}}},
        "MockedResponses": {"Counting": {
            "0": {"Return": {"Payload": "first"}},
            "1-2": {"Return": {"Payload": "later"}}
        }}
    });
    let machine = StateMachine::from_value(&definition).expect("valid");
    let config = MockConfig::from_value(&mocks).expect("valid");
    let mocked = config.test_case(Some("M"), "Three").expect("the test case");
    let mut handlers = Handlers::new();
    mocked.apply(&mut handlers);
    let options = ExecuteOptions::new().handlers(handlers);
    let execution =
        futures::executor::block_on(machine.execute(json!({"items": [1, 2, 3]}), &options));
    assert_eq!(execution.status, Status::Succeeded, "{execution:?}");
    assert_eq!(execution.output, Some(json!(["first", "later", "later"])));
    assert_eq!(mocked.calls().get("Call"), Some(&3));
    // A fourth item finds no answer: the execution fails, whatever Catch says.
    let execution =
        futures::executor::block_on(machine.execute(json!({"items": [1, 2, 3, 4]}), &{
            let mocked = config.test_case(None, "Three").expect("the test case");
            let mut handlers = Handlers::new();
            mocked.apply(&mut handlers);
            ExecuteOptions::new().handlers(handlers)
        }));
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
}

#[test]
fn an_invocation_past_the_responses_fails_the_execution_past_retry_and_catch() {
    let mut definition = json!({"StartAt": "Call", "States": {
        "Call": lambda_task(json!({
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
        })),
        "Caught": {"Type": "Succeed"}
    }});
    if let Some(call) = definition["States"]["Call"].as_object_mut() {
        call.remove("End");
        call.insert("Next".into(), json!("Caught"));
    }
    let mocks = json!({
        "StateMachines": {"M": {"TestCases": {"Short": {"Call": "OnceOnly"}}}},
        "MockedResponses": {"OnceOnly": {"0": {"Throw": {"Error": "Busy"}}}}
    });
    let execution = execute(definition, mocks, "Short", Handlers::new());
    assert_eq!(execution.status, Status::Failed, "{execution:?}");
    assert_eq!(execution.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        execution.cause.as_deref(),
        Some(
            "The mocked response 'OnceOnly' of test case 'Short' has no answer for invocation 1 of state 'Call' (it answers invocations 0)."
        )
    );
    assert_eq!(
        count(&execution, "TaskScheduled"),
        2,
        "one retry, then no more"
    );
    assert_eq!(count(&execution, "SucceedStateEntered"), 0, "not caught");
}

#[test]
fn a_state_the_test_case_does_not_mock_calls_its_resource() {
    let mut definition = json!({"StartAt": "Mocked", "States": {
        "Mocked": lambda_task(json!({})),
        "Real": lambda_task(json!({})),
    }});
    if let Some(first) = definition["States"]["Mocked"].as_object_mut() {
        first.remove("End");
        first.insert("Next".into(), json!("Real"));
    }
    let mocks = json!({
        "StateMachines": {"M": {"TestCases": {"Hybrid": {"Mocked": "Answer"}}}},
        "MockedResponses": {"Answer": {"0": {"Return": {"Payload": {"n": 10}}}}}
    });
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |req: TaskRequest| {
            let n = req.input["Payload"]["n"].as_i64().unwrap_or(0);
            async move { Ok(json!({"Payload": {"n": n + 1, "by": "the function"}})) }.boxed()
        })
        .expect("pattern");
    let execution = execute(definition.clone(), mocks.clone(), "Hybrid", handlers);
    assert_eq!(execution.status, Status::Succeeded, "{execution:?}");
    assert_eq!(
        execution.output,
        Some(json!({"n": 11, "by": "the function"}))
    );
    // With nothing to answer it, the unmocked call fails as an unknown function would.
    let execution = execute(definition, mocks, "Hybrid", Handlers::new());
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(
        execution.error.as_deref(),
        Some("Lambda.ResourceNotFoundException")
    );
}

#[test]
fn a_mocked_callback_task_answers_without_waiting() {
    let definition = json!({"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
        "HeartbeatSeconds": 5, "End": true
    }}});
    let mocks = json!({
        "StateMachines": {"M": {"TestCases": {"Approved": {"Ask": "Approve"}}}},
        "MockedResponses": {"Approve": {"0": {"Return": {"approved": true}}}}
    });
    let execution = execute(definition, mocks, "Approved", Handlers::new());
    assert_eq!(execution.status, Status::Succeeded, "{execution:?}");
    assert_eq!(execution.output, Some(json!({"approved": true})));
}

#[test]
fn each_execution_of_a_test_case_counts_from_zero() {
    let config = MockConfig::from_value(&json!({
        "StateMachines": {"M": {"TestCases": {"T": {"S": "R"}}}},
        "MockedResponses": {"R": {"0": {"Return": 1}, "1": {"Throw": {"Error": "E", "Cause": "c"}}}}
    }))
    .expect("valid");
    for _ in 0..2 {
        let case = config.test_case(Some("M"), "T").expect("the test case");
        assert_eq!(case.answer("S"), Ok(json!(1)));
        let second = case.answer("S").expect_err("a Throw");
        assert_eq!(
            (second.error.as_str(), second.cause.as_deref()),
            ("E", Some("c"))
        );
        assert!(
            !second.terminal,
            "a Throw is the service's error: Retry and Catch see it"
        );
        assert!(case.answer("S").expect_err("past the answers").terminal);
    }
    assert_eq!(
        config.response("R").and_then(|r| r.at(1)),
        Some(&Answer::Throw {
            error: "E".into(),
            cause: Some("c".into())
        })
    );
}

fn refused(config: Value) -> String {
    match MockConfig::from_value(&config) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("accepted {c:?}"),
    }
}

#[test]
fn a_wrong_configuration_is_refused_naming_the_field() {
    let machines = json!({"M": {"TestCases": {"T": {"S": "R"}}}});
    let with = |responses: Value| json!({"StateMachines": machines, "MockedResponses": responses});
    assert_eq!(
        refused(with(
            json!({"R": {"0": {"Return": 1}, "0-1": {"Return": 2}}})
        )),
        "MockedResponses.R.\"0-1\": overlaps invocations \"0\": each invocation has one answer"
    );
    assert_eq!(
        refused(with(
            json!({"R": {"0": {"Return": 1, "Throw": {"Error": "E"}}}})
        )),
        "MockedResponses.R.\"0\": must hold exactly one of Return or Throw"
    );
    assert_eq!(
        refused(with(json!({"R": {"first": {"Return": 1}}}))),
        "MockedResponses.R.\"first\": an invocation key is a number from 0 (\"0\") or an inclusive range (\"1-2\")"
    );
    assert_eq!(
        refused(with(json!({"R": {"2-1": {"Return": 1}}}))),
        "MockedResponses.R.\"2-1\": an invocation key is a number from 0 (\"0\") or an inclusive range (\"1-2\")"
    );
    assert_eq!(
        refused(with(json!({"R": {"0": {"Throw": {"Cause": "no error"}}}}))),
        "MockedResponses.R.\"0\".Throw.Error: missing"
    );
    assert_eq!(
        refused(with(json!({"R": {}}))),
        "MockedResponses.R: answers no invocation"
    );
    assert_eq!(
        refused(with(json!({"Other": {"0": {"Return": 1}}}))),
        "StateMachines.M.TestCases.T.S: no mocked response named \"R\" in MockedResponses"
    );
    assert_eq!(
        refused(json!({"StateMachines": machines, "MockedResponse": {}})),
        "MockedResponse: unknown field: a mock configuration has StateMachines and MockedResponses"
    );
    let config = MockConfig::from_value(&with(json!({"R": {"0": {"Return": 1}}}))).expect("valid");
    assert!(matches!(
        config.test_case(Some("M"), "Missing"),
        Err(MockError::NoTestCase { .. })
    ));
    assert_eq!(
        config
            .test_case(Some("N"), "T")
            .map(|_| ())
            .expect_err("no such machine")
            .to_string(),
        "the mock configuration has no state machine \"N\" (it has \"M\")"
    );
    assert!(matches!(
        MockConfig::from_json("{"),
        Err(MockError::Json(_))
    ));
}
