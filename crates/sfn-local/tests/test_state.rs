//! TestState: one state run once, its status, next state and inspection stages per level.
//! Expected answers marked "recorded" are AWS's (LocalStack's AWS-validated snapshots,
//! `tests/aws/services/stepfunctions/v2/test_state/`, November 2025), in the API's wire form.

use futures::executor::block_on;
use futures::future::FutureExt;
use serde_json::{Value, json};
use sfn_local::{
    Handlers, TaskFailure, TaskRequest, TestStateError, TestStateRequest, TestStatus, test_state,
};

/// The API request body for `definition` and `input`, with `extra` fields.
fn body(definition: Value, input: Value, extra: Value) -> Value {
    let mut b = json!({"definition": definition.to_string(), "input": input.to_string()});
    if let (Some(b), Value::Object(extra)) = (b.as_object_mut(), extra) {
        b.extend(extra);
    }
    b
}

fn run_with(body: &Value, handlers: &Handlers) -> Result<Value, TestStateError> {
    let request = TestStateRequest::from_json(body)?;
    block_on(test_state(&request, handlers)).map(|o| o.to_json())
}

/// The answer in the wire form, its JSON texts parsed back for comparison.
fn give(body: Value) -> Value {
    match run_with(&body, &Handlers::new()) {
        Ok(v) => parsed(v),
        Err(e) => json!({"refused": e.code(), "message": e.to_string()}),
    }
}

fn parsed(mut v: Value) -> Value {
    fn unstring(v: &mut Value) {
        if let Value::String(s) = v {
            if let Ok(p) = serde_json::from_str::<Value>(s) {
                *v = p;
            }
        }
    }
    if let Some(o) = v.get_mut("output") {
        unstring(o);
    }
    if let Some(Value::Object(d)) = v.get_mut("inspectionData") {
        for (k, x) in d.iter_mut() {
            if k != "errorDetails" {
                unstring(x);
            }
        }
    }
    v
}

fn pass_io() -> Value {
    json!({
        "Type": "Pass",
        "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData",
        "End": true
    })
}

fn pass_io_input() -> Value {
    json!({
        "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
        "unrelatedData": {"someOtherField": 1234}
    })
}

#[test]
fn info_level_gives_no_inspection_data() {
    // Recorded: test_base_inspection_level_info[IO_PASS_STATE].
    let answer = give(body(pass_io(), pass_io_input(), json!({})));
    assert_eq!(
        answer,
        json!({
            "output": {
                "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
                "unrelatedData": {"someOtherField": 1234},
                "modifiedData": {"staticValue": "some value", "inputValue": "value from input"}
            },
            "status": "SUCCEEDED"
        })
    );
}

#[test]
fn debug_level_gives_each_stage() {
    // Recorded: test_base_inspection_level_debug[IO_PASS_STATE].
    let answer = give(body(
        pass_io(),
        pass_io_input(),
        json!({"inspectionLevel": "DEBUG"}),
    ));
    assert_eq!(
        answer["inspectionData"],
        json!({
            "afterInputPath": {"fieldFromInput": "value from input", "otherField": "other"},
            "afterParameters": {"staticValue": "some value", "inputValue": "value from input"},
            "afterResultPath": {
                "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
                "unrelatedData": {"someOtherField": 1234},
                "modifiedData": {"staticValue": "some value", "inputValue": "value from input"}
            },
            "afterResultSelector": {"staticValue": "some value", "inputValue": "value from input"},
            "input": pass_io_input()
        })
    );
    assert_eq!(answer["status"], "SUCCEEDED");
}

#[test]
fn trace_level_on_a_pass_state_answers_as_debug() {
    // Recorded: test_base_inspection_level_trace[BASE_RESULT_PASS_STATE], whose Pass has a
    // Result: no afterInputPath or afterParameters.
    let def = json!({"Type": "Pass", "Result": {"resultKey": "result value"}, "End": true});
    let input = json!({"Value": "HelloWorld"});
    let answer = give(body(
        def,
        input.clone(),
        json!({"inspectionLevel": "TRACE"}),
    ));
    assert_eq!(
        answer,
        json!({
            "inspectionData": {
                "afterResultPath": {"resultKey": "result value"},
                "afterResultSelector": {"resultKey": "result value"},
                "input": input,
                "result": {"resultKey": "result value"}
            },
            "output": {"resultKey": "result value"},
            "status": "SUCCEEDED"
        })
    );
}

#[test]
fn the_wire_form_holds_documents_as_text() {
    let def = json!({"Type": "Pass", "End": true});
    let answer = run_with(
        &body(def, json!({"a": 1}), json!({"inspectionLevel": "DEBUG"})),
        &Handlers::new(),
    )
    .map_err(|e| e.to_string());
    let answer = answer
        .as_ref()
        .map(|a| (a["output"].clone(), a["inspectionData"]["input"].clone()));
    assert_eq!(answer, Ok((json!("{\"a\":1}"), json!("{\"a\":1}"))));
}

#[test]
fn choice_gives_its_next_state() {
    // Recorded: test_base_inspection_level_debug[BASE_CHOICE_STATE].
    let def = json!({
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.value", "NumericLessThan": 20, "Next": "ValueBelowTwenty"},
            {"Variable": "$.value", "NumericLessThan": 30, "Next": "ValueInTwenties"}
        ],
        "Default": "ValueAboveThirty"
    });
    let input = json!({"type": "Private", "value": 22});
    let answer = give(body(
        def.clone(),
        input.clone(),
        json!({"inspectionLevel": "DEBUG"}),
    ));
    assert_eq!(
        answer,
        json!({
            "inspectionData": {"afterInputPath": input, "input": input},
            "nextState": "ValueInTwenties",
            "output": input,
            "status": "SUCCEEDED"
        })
    );
    let answer = give(body(def, json!({"value": 99}), json!({})));
    assert_eq!(answer["nextState"], "ValueAboveThirty");
}

#[test]
fn fail_state_fails() {
    // Recorded: test_base_inspection_level_debug[BASE_FAIL_STATE].
    let def = json!({"Type": "Fail", "Error": "SomeFailure", "Cause": "This state machines raises a 'SomeFailure' failure."});
    let input = json!({"Value": "HelloWorld"});
    let answer = give(body(
        def,
        input.clone(),
        json!({"inspectionLevel": "DEBUG"}),
    ));
    assert_eq!(
        answer,
        json!({
            "cause": "This state machines raises a 'SomeFailure' failure.",
            "error": "SomeFailure",
            "inspectionData": {"afterInputPath": input, "input": input},
            "status": "FAILED"
        })
    );
}

#[test]
fn wait_takes_no_time_and_succeed_ends() {
    let wait = json!({"Type": "Wait", "Seconds": 86400, "Next": "After"});
    let started = std::time::Instant::now();
    let answer = give(body(wait, json!({"x": 1}), json!({})));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        answer,
        json!({"output": {"x": 1}, "nextState": "After", "status": "SUCCEEDED"})
    );
    let succeed = json!({"Type": "Succeed", "OutputPath": "$.x"});
    assert_eq!(
        give(body(succeed, json!({"x": 1}), json!({}))),
        json!({"output": 1, "status": "SUCCEEDED"})
    );
}

fn lambda_task() -> Value {
    json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "Retry": [
            {"ErrorEquals": ["Other"], "MaxAttempts": 1},
            {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2.0}
        ],
        "Catch": [
            {"ErrorEquals": ["Nothing"], "Next": "Never"},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "HandleError"}
        ],
        "Next": "Done"
    })
}

fn mock_error(error: &str) -> Value {
    json!({"errorOutput": {"error": error, "cause": "Service error"}})
}

#[test]
fn retriable_with_the_retrier_and_its_backoff() {
    // As documented: IntervalSeconds 2, BackoffRate 2.0, one retry made: 2 × 2.0^1 = 4
    // (test-state-isolation.html, "Simulating retry attempts").
    let answer = give(body(
        lambda_task(),
        json!({"data": "value"}),
        json!({
            "mock": mock_error("Lambda.ServiceException"),
            "stateConfiguration": {"retrierRetryCount": 1},
            "inspectionLevel": "DEBUG"
        }),
    ));
    assert_eq!(answer["status"], "RETRIABLE");
    assert_eq!(
        answer["inspectionData"]["errorDetails"],
        json!({"retryIndex": 1, "retryBackoffIntervalSeconds": 4})
    );
    assert_eq!(answer["error"], "Lambda.ServiceException");
    assert_eq!(answer.get("nextState"), None);
}

#[test]
fn caught_once_the_retrier_is_spent() {
    let answer = give(body(
        lambda_task(),
        json!({"data": "value"}),
        json!({
            "mock": mock_error("Lambda.ServiceException"),
            "stateConfiguration": {"retrierRetryCount": 3},
            "inspectionLevel": "DEBUG"
        }),
    ));
    assert_eq!(answer["status"], "CAUGHT_ERROR");
    assert_eq!(answer["nextState"], "HandleError");
    assert_eq!(
        answer["output"],
        json!({"data": "value", "error": {"Error": "Lambda.ServiceException", "Cause": "Service error"}})
    );
    // The spent retrier is named as on a FAILED answer (recorded there, see
    // retrier_retry_count_recorded); the Catch rule by its index.
    assert_eq!(
        answer["inspectionData"]["errorDetails"],
        json!({"catchIndex": 1, "retryIndex": 1})
    );
    assert_eq!(answer["cause"], "Service error");
}

#[test]
fn retrier_retry_count_recorded() {
    // Recorded: test_state_configuration_retrier_retry_count[DEBUG], a JSONata task whose
    // retrier is spent at the fifth retry.
    let def = json!({
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 5}],
        "End": true
    });
    let input = json!({"Values": ["first", "second", "third"]});
    let at = |count: u64| {
        give(body(
            def.clone(),
            input.clone(),
            json!({
                "stateConfiguration": {"retrierRetryCount": count},
                "inspectionLevel": "DEBUG",
                "mock": {"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}}
            }),
        ))
    };
    let expected = |status: &str, details: Value| {
        json!({
            "cause": "Mock the cause of the error.",
            "error": "MockException",
            "inspectionData": {
                "afterArguments": {"FunctionName": "foo", "Payload": "bar"},
                "errorDetails": details,
                "input": input
            },
            "status": status
        })
    };
    assert_eq!(
        at(4),
        expected(
            "RETRIABLE",
            json!({"retryBackoffIntervalSeconds": 16, "retryIndex": 0})
        )
    );
    assert_eq!(at(5), expected("FAILED", json!({"retryIndex": 0})));
}

#[test]
fn failed_when_nothing_handles_the_error() {
    let def = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Retry": [{"ErrorEquals": ["Other"]}],
        "End": true
    });
    let answer = give(body(def, json!({}), json!({"mock": mock_error("Boom")})));
    assert_eq!(
        answer,
        json!({"error": "Boom", "cause": "Service error", "status": "FAILED"})
    );
}

#[test]
fn a_mocked_result_goes_through_result_selector_and_result_path() {
    let def = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "InputPath": "$.order",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "ResultSelector": {"total.$": "$.Payload.total"},
        "ResultPath": "$.charged",
        "OutputPath": "$.charged",
        "End": true
    });
    let answer = give(body(
        def,
        json!({"order": {"id": 7}}),
        json!({
            "mock": {"result": json!({"Payload": {"total": 12}, "StatusCode": 200}).to_string()},
            "inspectionLevel": "DEBUG"
        }),
    ));
    assert_eq!(
        answer,
        json!({
            "inspectionData": {
                "input": {"order": {"id": 7}},
                "afterInputPath": {"id": 7},
                "afterParameters": {"FunctionName": "f", "Payload": {"id": 7}},
                "result": {"Payload": {"total": 12}, "StatusCode": 200},
                "afterResultSelector": {"total": 12},
                "afterResultPath": {"order": {"id": 7}, "charged": {"total": 12}}
            },
            "output": {"total": 12},
            "status": "SUCCEEDED"
        })
    );
}

#[test]
fn a_task_without_mock_calls_the_registered_handler() {
    let mut handlers = Handlers::new();
    let registered = handlers.register("arn:aws:states:::lambda:invoke", |req: TaskRequest| {
        let n = req.input["Payload"]["n"].as_i64().unwrap_or(0);
        let attempt = req.attempt;
        async move {
            if n < 0 {
                Err(TaskFailure::new("Negative", "n < 0"))
            } else {
                Ok(json!({"Payload": {"n": n * 2, "attempt": attempt}}))
            }
        }
        .boxed()
    });
    assert!(registered.is_ok());
    let def = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"Payload.$": "$"},
        "OutputPath": "$.Payload",
        "End": true
    });
    let answer = run_with(&body(def.clone(), json!({"n": 21}), json!({})), &handlers).map(parsed);
    assert_eq!(
        answer.map_err(|e| e.to_string()),
        Ok(json!({"output": {"n": 42, "attempt": 1}, "status": "SUCCEEDED"}))
    );
    let answer = run_with(&body(def, json!({"n": -1}), json!({})), &handlers).map(parsed);
    assert_eq!(
        answer.map_err(|e| e.to_string()),
        Ok(json!({"error": "Negative", "cause": "n < 0", "status": "FAILED"}))
    );
}

#[test]
fn jsonata_state_reports_arguments_and_variables() {
    let def = json!({
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "f", "Payload": {"n": "{% $states.input.n + $offset %}"}},
        "Assign": {"doubled": "{% $states.result.Payload.n * 2 %}"},
        "Output": "{% $states.result.Payload %}",
        "Next": "Next"
    });
    let answer = give(body(
        def,
        json!({"n": 1}),
        json!({
            "variables": json!({"offset": 10}).to_string(),
            "mock": {"result": json!({"Payload": {"n": 11}}).to_string()},
            "inspectionLevel": "DEBUG"
        }),
    ));
    assert_eq!(
        answer,
        json!({
            "inspectionData": {
                "input": {"n": 1},
                "afterArguments": {"FunctionName": "f", "Payload": {"n": 11}},
                "result": {"Payload": {"n": 11}},
                "variables": {"offset": 10, "doubled": 22}
            },
            "output": {"n": 11},
            "nextState": "Next",
            "status": "SUCCEEDED"
        })
    );
}

#[test]
fn jsonata_choice_assigns_and_goes_on() {
    let def = json!({
        "Type": "Choice",
        "QueryLanguage": "JSONata",
        "Choices": [{
            "Condition": "{% $states.input.total > $limit %}",
            "Assign": {"flagged": true},
            "Output": {"review": "{% $states.input.total %}"},
            "Next": "Review"
        }],
        "Default": "Accept"
    });
    let vars = json!({"limit": 100}).to_string();
    let answer = give(body(
        def.clone(),
        json!({"total": 250}),
        json!({"variables": vars, "inspectionLevel": "DEBUG"}),
    ));
    assert_eq!(
        answer,
        json!({
            "inspectionData": {"input": {"total": 250}, "variables": {"limit": 100, "flagged": true}},
            "output": {"review": 250},
            "nextState": "Review",
            "status": "SUCCEEDED"
        })
    );
    let answer = give(body(def, json!({"total": 5}), json!({"variables": vars})));
    assert_eq!(
        answer,
        json!({"output": {"total": 5}, "nextState": "Accept", "status": "SUCCEEDED"})
    );
}

#[test]
fn jsonata_expression_failure_fails_the_state() {
    let def = json!({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% $number('x') %}", "End": true});
    let answer = give(body(def, json!({}), json!({})));
    assert_eq!(answer["status"], "FAILED");
    assert_eq!(answer["error"], "States.QueryEvaluationError");
}

#[test]
fn jsonpath_assign_and_variables_in_paths() {
    let def = json!({
        "Type": "Pass",
        "Parameters": {"sum.$": "States.MathAdd($.a, $b)"},
        "Assign": {"last.$": "$.sum"},
        "End": true
    });
    let answer = give(body(
        def,
        json!({"a": 2}),
        json!({"variables": "{\"b\": 3}", "inspectionLevel": "DEBUG"}),
    ));
    assert_eq!(answer["output"], json!({"sum": 5}));
    assert_eq!(
        answer["inspectionData"]["variables"],
        json!({"b": 3, "last": 5})
    );
}

#[test]
fn a_state_of_a_whole_machine_by_name() {
    let def = json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Second"},
            "Second": {"Type": "Pass", "Result": "two", "Next": "Third"},
            "Third": {"Type": "Succeed"}
        }
    });
    let answer = give(body(def.clone(), json!({}), json!({"stateName": "Second"})));
    assert_eq!(
        answer,
        json!({"output": "two", "nextState": "Third", "status": "SUCCEEDED"})
    );
    let answer = give(body(def.clone(), json!({}), json!({})));
    assert_eq!(answer["refused"], "ValidationException");
    let answer = give(body(def, json!({}), json!({"stateName": "Nope"})));
    assert_eq!(answer["refused"], "ValidationException");
}

#[test]
fn context_fields_are_given_to_the_state() {
    let def = json!({
        "Type": "Pass",
        "Parameters": {"id.$": "$$.Execution.Id", "name.$": "$$.State.Name", "retry.$": "$$.State.RetryCount"},
        "End": true
    });
    let answer = give(body(
        def,
        json!({}),
        json!({"context": json!({"Execution": {"Id": "exec-1"}}).to_string()}),
    ));
    assert_eq!(
        answer["output"],
        json!({"id": "exec-1", "name": "StateName", "retry": 0})
    );
}

#[test]
fn map_state_reports_its_stages_and_threshold() {
    let def = json!({
        "Type": "Map",
        "ItemsPath": "$.Values",
        "ItemSelector": {"v.$": "$$.Map.Item.Value"},
        "ToleratedFailureCount": 1,
        "ItemProcessor": {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": true}}},
        "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "HandleThreshold"}],
        "End": true
    });
    let input = json!({"Values": ["first", "second", "third"]});
    let answer = give(body(
        def.clone(),
        input.clone(),
        json!({"mock": {"result": "[1, 1, 1]"}, "inspectionLevel": "DEBUG"}),
    ));
    assert_eq!(answer["status"], "SUCCEEDED");
    assert_eq!(answer["output"], json!([1, 1, 1]));
    let data = &answer["inspectionData"];
    assert_eq!(data["afterItemsPath"], json!(["first", "second", "third"]));
    assert_eq!(
        data["afterItemSelector"],
        json!([{"v": "first"}, {"v": "second"}, {"v": "third"}])
    );
    assert_eq!(
        (
            data["maxConcurrency"].clone(),
            data["toleratedFailureCount"].clone()
        ),
        (json!(0), json!(1))
    );
    // Two failed iterations are more than the one tolerated.
    let answer = give(body(
        def.clone(),
        input.clone(),
        json!({"mock": {"result": "[1, 1, 1]"}, "stateConfiguration": {"mapIterationFailureCount": 2}}),
    ));
    assert_eq!(answer["status"], "CAUGHT_ERROR");
    assert_eq!(answer["error"], "States.ExceedToleratedFailureThreshold");
    assert_eq!(answer["nextState"], "HandleThreshold");
    // With no tolerance set, failed iterations fail nothing (recorded:
    // test_map_state_failure_count[INFO-BASE_MAP_STATE]).
    let mut untolerant = def.clone();
    if let Some(m) = untolerant.as_object_mut() {
        m.remove("ToleratedFailureCount");
    }
    let answer = give(body(
        untolerant,
        input.clone(),
        json!({"mock": {"result": "[0, 0, 1]"}, "stateConfiguration": {"mapIterationFailureCount": 2}}),
    ));
    assert_eq!(answer, json!({"output": [0, 0, 1], "status": "SUCCEEDED"}));
    // Without a mock a Map cannot be tested; a mocked error needs the state that raised it.
    assert_eq!(
        give(body(def.clone(), input.clone(), json!({})))["refused"],
        "ValidationException"
    );
    let answer = give(body(def, input, json!({"mock": mock_error("X")})));
    assert_eq!(answer["refused"], "ValidationException");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("errorCausedByState"))
    );
}

#[test]
fn parallel_mock_has_one_result_per_branch() {
    let def = json!({
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}
        ],
        "End": true
    });
    let ok = give(body(
        def.clone(),
        json!({}),
        json!({"mock": {"result": "[1, 2]"}}),
    ));
    assert_eq!(ok, json!({"output": [1, 2], "status": "SUCCEEDED"}));
    let bad = give(body(
        def.clone(),
        json!({}),
        json!({"mock": {"result": "[1]"}}),
    ));
    assert_eq!(bad["refused"], "ValidationException");
    let failed = give(body(
        def,
        json!({}),
        json!({"mock": mock_error("X"), "stateConfiguration": {"errorCausedByState": "B"}}),
    ));
    assert_eq!(
        failed,
        json!({"error": "X", "cause": "Service error", "status": "FAILED"})
    );
}

#[test]
fn mock_validation_modes() {
    // Recorded: test_strict_mode_sfn_task[missing_required_fields].
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::states:startExecution", "Parameters": {"StateMachineArn": "x"}, "End": true});
    let answer = give(body(
        def.clone(),
        json!({}),
        json!({"mock": {"result": "{}"}}),
    ));
    assert_eq!(
        answer,
        json!({"refused": "ValidationException", "message": "'mock.result': Mock result schema validation error: Required field 'ExecutionArn' is missing"})
    );
    let present = give(body(
        def.clone(),
        json!({}),
        json!({"mock": {"result": "{}", "fieldValidationMode": "PRESENT"}}),
    ));
    assert_eq!(present["status"], "SUCCEEDED");
    let none = give(body(
        def,
        json!({}),
        json!({"mock": {"result": "{\"StartDate\": 1}", "fieldValidationMode": "NONE"}}),
    ));
    assert_eq!(none["status"], "SUCCEEDED");
}

#[test]
fn bad_requests_name_their_field() {
    let pass = json!({"Type": "Pass", "End": true});
    let refused = |b: Value| match run_with(&b, &Handlers::new()) {
        Err(e) => (e.code(), e.to_string()),
        Ok(v) => ("answered", v.to_string()),
    };
    let (code, _) = refused(json!({"definition": "{", "input": "{}"}));
    assert_eq!(code, "InvalidDefinition");
    let (code, _) = refused(json!({"definition": json!({"Type": "Pass", "Next": 3}).to_string()}));
    assert_eq!(code, "InvalidDefinition");
    let (code, _) = refused(json!({"definition": pass.to_string(), "input": "{\"a\":"}));
    assert_eq!(code, "InvalidExecutionInput");
    let (code, msg) = refused(json!({"definition": pass.to_string(), "inspectionLevel": "LOUD"}));
    assert_eq!(
        (code, msg.starts_with("'inspectionLevel'")),
        ("ValidationException", true)
    );
    let (code, msg) = refused(json!({"definition": pass.to_string(), "mock": {"result": "1"}}));
    assert_eq!(
        (code, msg.starts_with("'mock'")),
        ("ValidationException", true)
    );
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    let (code, msg) = refused(
        json!({"definition": task.to_string(), "mock": {"result": "1", "errorOutput": {"error": "E"}}}),
    );
    assert_eq!(
        (code, msg.starts_with("'mock'")),
        ("ValidationException", true)
    );
    let (code, msg) = refused(
        json!({"definition": task.to_string(), "revealSecrets": true, "mock": {"result": "{}"}}),
    );
    assert_eq!(
        (code, msg.starts_with("'revealSecrets'")),
        ("ValidationException", true)
    );
    let (code, msg) = refused(json!({"definition": pass.to_string(), "variables": "{\"1x\": 1}"}));
    assert_eq!(
        (code, msg.starts_with("'variables'")),
        ("ValidationException", true)
    );
    let (code, msg) = refused(
        json!({"definition": pass.to_string(), "stateConfiguration": {"retrierRetryCount": -1}}),
    );
    assert_eq!(
        (
            code,
            msg.starts_with("'stateConfiguration.retrierRetryCount'")
        ),
        ("ValidationException", true)
    );
}

#[test]
fn documents_over_the_limits_are_refused() {
    let pass = json!({"Type": "Pass", "End": true}).to_string();
    let big = json!({"s": "x".repeat(300 * 1024)}).to_string();
    let mut deep = json!(1);
    for _ in 0..110 {
        deep = json!([deep]);
    }
    for (field, text) in [
        ("input", big.clone()),
        ("variables", big),
        ("input", deep.to_string()),
    ] {
        let answer = run_with(&json!({"definition": pass, field: text}), &Handlers::new());
        let refused = answer.map_err(|e| (e.code(), e.to_string()));
        assert!(
            matches!(&refused, Err(("ValidationException", m)) if m.starts_with(&format!("'{field}'"))),
            "{refused:?}"
        );
    }
}

#[test]
fn typed_answer() {
    let request = TestStateRequest {
        definition: json!({"Type": "Pass", "Result": 1, "Next": "N"}),
        ..TestStateRequest::default()
    };
    let out = block_on(test_state(&request, &Handlers::new())).map_err(|e| e.to_string());
    let out = out.map(|o| (o.status, o.output, o.next_state, o.inspection_data));
    assert_eq!(
        out,
        Ok((
            TestStatus::Succeeded,
            Some(json!(1)),
            Some("N".to_owned()),
            None
        ))
    );
}

#[test]
fn a_handler_that_never_answers_times_out() {
    // "The TestState API can run for up to five minutes. If the execution of a state
    // exceeds this duration, it fails with the States.Timeout error" (API_TestState.html);
    // in virtual time that is at once.
    let mut handlers = Handlers::new();
    let registered = handlers.register("arn:aws:states:::lambda:invoke", |_: TaskRequest| {
        futures::future::pending().boxed()
    });
    assert!(registered.is_ok());
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
    let answer = run_with(&body(def, json!({}), json!({})), &handlers).map(parsed);
    let answer = answer.map(|a| (a["status"].clone(), a["error"].clone()));
    assert_eq!(
        answer.map_err(|e| e.to_string()),
        Ok((json!("FAILED"), json!("States.Timeout")))
    );
}

/// The order workflow, whose every state is tested below on arbitrary inputs.
const ORDER_DEFINITION: &str = include_str!("../../../statemachine/order-processing.asl.json");

fn order_state_names() -> Vec<String> {
    serde_json::from_str::<Value>(ORDER_DEFINITION)
        .ok()
        .and_then(|d| d["States"].as_object().map(|s| s.keys().cloned().collect()))
        .unwrap_or_default()
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any state of the order workflow, on any input, mocked or not, at any retry count,
    /// is answered or refused, never panics.
    #[test]
    fn no_request_panics(
        state in prop::sample::select(order_state_names()),
        input in crate::properties::arb_json(),
        result in crate::properties::arb_json(),
        mock in 0..3_u8,
        retries in 0..6_u64,
        level in prop::sample::select(vec!["INFO", "DEBUG", "TRACE"]),
    ) {
        let mock = match mock {
            0 => Value::Null,
            1 => json!({"result": result.to_string(), "fieldValidationMode": "NONE"}),
            _ => json!({"errorOutput": {"error": "States.TaskFailed", "cause": "x"}}),
        };
        let request = json!({
            "definition": ORDER_DEFINITION,
            "stateName": state,
            "input": input.to_string(),
            "inspectionLevel": level,
            "mock": mock,
            "stateConfiguration": {"retrierRetryCount": retries, "errorCausedByState": "Verify Payment"},
        });
        let answer = run_with(&request, &Handlers::new());
        if let Ok(a) = answer {
            prop_assert!(a["status"].is_string());
        }
    }
}
