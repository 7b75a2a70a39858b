//! The order workflow's shape (Parallel → Choice → Pass → Map with Choice inside → Task with
//! Retry/Catch → DynamoDB/SNS tasks) with stand-in handlers, plus timing behaviour on the
//! virtual clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::future::{BoxFuture, FutureExt};
use serde_json::{Value, json};
use sfn_local::{
    EventDetails, ExecuteOptions, Execution, Handlers, HistoryEvent, StateMachine, Status,
    TaskFailure, TaskHandler, TaskRequest,
};

use order_workflow::standins::{self, StandIn, function_name};

fn stand_ins() -> (Handlers, Arc<standins::Calls>) {
    standins::stand_ins().expect("the stand-ins register")
}

const DEFINITION: &str = include_str!("fixtures/order.bench.asl.json");
const INPUT: &str = include_str!("fixtures/input.json");
const START: i64 = 1_704_067_200_000;

fn machine() -> StateMachine {
    StateMachine::from_json(DEFINITION).expect("the bench definition loads")
}

fn input() -> Value {
    serde_json::from_str(INPUT).expect("the bench input is JSON")
}

fn run(machine: &StateMachine, input: Value, handlers: Handlers) -> Execution {
    let options = ExecuteOptions::new()
        .handlers(handlers)
        .virtual_start(START)
        .seed(1);
    futures::executor::block_on(machine.execute(input, &options))
}

fn types(history: &[HistoryEvent]) -> Vec<String> {
    history.iter().map(|e| e.details.event_type()).collect()
}

fn count(history: &[HistoryEvent], event_type: &str) -> usize {
    history
        .iter()
        .filter(|e| e.details.event_type() == event_type)
        .count()
}

/// The `TaskScheduled` parameters of every DynamoDB putItem, in order.
fn put_items(history: &[HistoryEvent]) -> Vec<Value> {
    history
        .iter()
        .filter_map(|e| match &e.details {
            EventDetails::TaskScheduled {
                resource,
                parameters,
                ..
            } if resource == "putItem" => Some(parameters.clone()),
            _ => None,
        })
        .collect()
}

/// Lambda `chargePaymentMethod` fails `failures` times with `error`, then behaves as the
/// stand-in; everything else is the stand-in.
struct FlakyCharge {
    inner: StandIn,
    failures: AtomicU32,
    error: &'static str,
}

impl TaskHandler for FlakyCharge {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        let is_charge = request
            .input
            .get("FunctionName")
            .and_then(Value::as_str)
            .map(function_name)
            == Some("chargePaymentMethod");
        if is_charge && self.failures.load(Ordering::SeqCst) > 0 {
            self.failures.fetch_sub(1, Ordering::SeqCst);
            let error = self.error;
            return async move { Err(TaskFailure::new(error, "the card issuer said no")) }.boxed();
        }
        self.inner.invoke(request)
    }
}

fn flaky(failures: u32, error: &'static str) -> Handlers {
    let (_, calls) = stand_ins();
    let handler: Arc<dyn TaskHandler> = Arc::new(FlakyCharge {
        inner: StandIn { calls },
        failures: AtomicU32::new(failures),
        error,
    });
    let mut handlers = Handlers::new();
    handlers
        .register_arc("arn:aws:states:::*", handler)
        .expect("valid pattern");
    handlers
}

#[test]
fn order_succeeds_with_stand_ins() {
    let (handlers, calls) = stand_ins();
    let ex = run(&machine(), input(), handlers);
    assert_eq!(
        ex.status,
        Status::Succeeded,
        "{:?} {:?}",
        ex.error,
        ex.cause
    );
    let output = ex.output.clone().unwrap_or_default();
    assert_eq!(
        output["MessageId"],
        json!("00000000-0000-4000-8000-000000000000")
    );
    assert_eq!(calls.lambda.load(Ordering::Relaxed), 3);
    assert_eq!(calls.put_item.load(Ordering::Relaxed), 1);
    assert_eq!(calls.publish.load(Ordering::Relaxed), 1);

    let h = &ex.history;
    let t = types(h);
    assert_eq!(t.first().map(String::as_str), Some("ExecutionStarted"));
    assert_eq!(t.last().map(String::as_str), Some("ExecutionSucceeded"));
    assert_eq!(&t[1..3], ["ParallelStateEntered", "ParallelStateStarted"]);
    assert_eq!(count(h, "TaskStateEntered"), 5);
    assert_eq!(count(h, "TaskSucceeded"), 5);
    assert_eq!(count(h, "MapIterationStarted"), 3);
    assert_eq!(count(h, "MapIterationSucceeded"), 3);
    assert_eq!(count(h, "ChoiceStateEntered"), 4);
    assert!(
        h.iter()
            .any(|e| e.details == EventDetails::MapStateStarted { length: 3 })
    );
    for (i, e) in h.iter().enumerate() {
        assert_eq!(e.id, i as u64 + 1);
        assert!(e.previous_event_id < e.id);
    }

    let puts = put_items(h);
    assert_eq!(puts.len(), 1);
    let item = &puts[0]["Item"];
    assert_eq!(item["State"]["S"], "PAYMENT_PROCESSED");
    assert_eq!(item["CustomerId"]["S"], "c-id-56392");
    assert_eq!(item["OrderTotal"]["N"], "2250");
    let items: Value = serde_json::from_str(item["Items"]["S"].as_str().unwrap_or_default())
        .expect("Items is JSON text");
    assert_eq!(items.as_array().map(Vec::len), Some(3));
    assert_eq!(items[0]["quantityInStock"], 5);
    assert_eq!(item["OrderId"]["S"].as_str().map(str::len), Some(36));
    // The published message is the state after the charge, with its result at $.output.
    let message = h.iter().find_map(|e| match &e.details {
        EventDetails::TaskScheduled {
            resource,
            parameters,
            ..
        } if resource == "publish" => Some(parameters["Message"].clone()),
        _ => None,
    });
    let message = message.unwrap_or_default();
    assert_eq!(message["output"]["Payload"]["paymentResult"], "SUCCESS");
    assert_eq!(message["paymentVerified"], true);
    // History renders as GetExecutionHistory does.
    let first = h[0].to_json();
    assert_eq!(first["type"], "ExecutionStarted");
    assert_eq!(
        first["executionStartedEventDetails"]["input"]
            .as_str()
            .map(|s| s.contains("c-id-56392")),
        Some(true)
    );
}

#[test]
fn declined_charge_is_caught_and_recorded_as_payment_failed() {
    let ex = run(&machine(), input(), flaky(1, "PaymentError"));
    assert_eq!(
        ex.status,
        Status::Succeeded,
        "{:?} {:?}",
        ex.error,
        ex.cause
    );
    let puts = put_items(&ex.history);
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0]["Item"]["State"]["S"], "PAYMENT_FAILED");
    assert_eq!(count(&ex.history, "TaskFailed"), 1);
    assert!(ex.output.is_some_and(|o| o["MessageId"].is_string()));
}

#[test]
fn transient_lambda_errors_are_retried_with_backoff_in_virtual_time() {
    let ex = run(&machine(), input(), flaky(2, "Lambda.ServiceException"));
    assert_eq!(
        ex.status,
        Status::Succeeded,
        "{:?} {:?}",
        ex.error,
        ex.cause
    );
    assert_eq!(
        put_items(&ex.history)[0]["Item"]["State"]["S"],
        "PAYMENT_PROCESSED"
    );
    let scheduled: Vec<i64> = ex
        .history
        .iter()
        .filter(|e| matches!(&e.details, EventDetails::TaskScheduled { parameters, .. }
            if parameters["FunctionName"].as_str().is_some_and(|f| f.contains("chargePaymentMethod"))))
        .map(|e| e.timestamp_millis)
        .collect();
    // IntervalSeconds 1, BackoffRate 2: the retries wait 1 s, then 2 s.
    assert_eq!(scheduled.len(), 3);
    assert_eq!(scheduled[1] - scheduled[0], 1_000);
    assert_eq!(scheduled[2] - scheduled[1], 2_000);
    assert_eq!(ex.stop_millis - ex.start_millis, 3_000);
}

#[test]
fn retries_run_out_and_the_error_fails_the_execution() {
    let ex = run(
        &machine(),
        input(),
        flaky(10, "Lambda.TooManyRequestsException"),
    );
    assert_eq!(ex.status, Status::Failed);
    assert_eq!(ex.error.as_deref(), Some("Lambda.TooManyRequestsException"));
    assert_eq!(ex.cause.as_deref(), Some("the card issuer said no"));
    // MaxAttempts 3: four attempts, waits of 1 + 2 + 4 seconds.
    assert_eq!(count(&ex.history, "TaskFailed"), 4);
    assert_eq!(ex.stop_millis - ex.start_millis, 7_000);
    assert_eq!(
        types(&ex.history).last().map(String::as_str),
        Some("ExecutionFailed")
    );
}

#[test]
fn out_of_stock_item_fails_the_map_and_is_caught() {
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |req: TaskRequest| {
            let name = req.input["FunctionName"].as_str().map(function_name).unwrap_or_default().to_owned();
            let payload = match name.as_str() {
                "PaymentVerifier" => json!({"paymentVerified": true}),
                _ => json!([{"itemId": "a", "quantityInStock": 1}, {"itemId": "b", "quantityInStock": 0}]),
            };
            async move { Ok(json!({"Payload": payload, "StatusCode": 200})) }.boxed()
        })
        .expect("valid pattern");
    let ex = run(&machine(), input(), handlers);
    assert_eq!(ex.status, Status::Failed);
    assert_eq!(ex.error, None);
    assert_eq!(count(&ex.history, "MapIterationFailed"), 1);
    assert_eq!(count(&ex.history, "FailStateEntered"), 2);
}

#[test]
fn unverified_payment_takes_the_choice_to_fail() {
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |req: TaskRequest| {
            let verified =
                req.input["FunctionName"].as_str().map(function_name) != Some("PaymentVerifier");
            async move { Ok(json!({"Payload": {"paymentVerified": verified}})) }.boxed()
        })
        .expect("valid pattern");
    let ex = run(&machine(), input(), handlers);
    assert_eq!(ex.status, Status::Failed);
    assert_eq!(count(&ex.history, "MapStateEntered"), 0);
}

fn run_def(definition: Value, input: Value, handlers: Handlers) -> Execution {
    let machine = StateMachine::from_value(&definition).expect("definition loads");
    run(&machine, input, handlers)
}

#[test]
fn unknown_resource_fails_like_aws() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:Nope"}, "End": true}}});
    let ex = run_def(def, json!({}), Handlers::new());
    assert_eq!(
        ex.error.as_deref(),
        Some("Lambda.ResourceNotFoundException")
    );
    assert!(ex.cause.is_some_and(|c| c.contains("function:Nope")));
}

#[test]
fn an_hour_long_wait_costs_nothing() {
    let def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let begun = std::time::Instant::now();
    let ex = run_def(def, json!({"a": 1}), Handlers::new());
    assert!(begun.elapsed().as_secs() < 5);
    assert_eq!(ex.output, Some(json!({"a": 1})));
    assert_eq!(ex.stop_millis - ex.start_millis, 3_600_000);
    assert_eq!(
        ex.history.last().map(|e| e.timestamp_millis),
        Some(START + 3_600_000)
    );
}

#[test]
fn execution_timeout() {
    let def = json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let ex = run_def(def, json!({}), Handlers::new());
    assert_eq!(ex.status, Status::TimedOut);
    assert_eq!(ex.error.as_deref(), Some("States.Timeout"));
    assert_eq!(ex.stop_millis - ex.start_millis, 10_000);
}

#[test]
fn task_timeout_is_caught() {
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::activity:slow", "TimeoutSeconds": 5,
              "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.err", "Next": "Done"}], "End": true},
        "Done": {"Type": "Pass", "End": true}}});
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::activity:*", |_req: TaskRequest| {
            futures::future::pending().boxed()
        })
        .expect("valid pattern");
    let ex = run_def(def, json!({"x": 1}), handlers);
    // An empty cause, as recorded on AWS (conformance case
    // task_service_lambda__invoke_timeout).
    assert_eq!(
        ex.output,
        Some(json!({"x": 1, "err": {"Error": "States.Timeout", "Cause": ""}}))
    );
    assert_eq!(count(&ex.history, "TaskTimedOut"), 1);
    assert_eq!(ex.stop_millis - ex.start_millis, 5_000);
}

#[test]
fn parallel_branches_run_concurrently() {
    let wait = |s: u64| json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": s, "End": true}}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [wait(10), wait(4)], "End": true}}});
    let ex = run_def(def, json!(1), Handlers::new());
    assert_eq!(ex.output, Some(json!([1, 1])));
    assert_eq!(ex.stop_millis - ex.start_millis, 10_000);
    // The short branch finishes first in the history too.
    let exits: Vec<i64> = ex
        .history
        .iter()
        .filter(|e| e.details.event_type() == "WaitStateExited")
        .map(|e| e.timestamp_millis - START)
        .collect();
    assert_eq!(exits, vec![4_000, 10_000]);
}

#[test]
fn map_honours_max_concurrency() {
    let def = |mc: u64| {
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": mc,
        "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}, "End": true}}})
    };
    let serial = run_def(def(1), json!([1, 2, 3]), Handlers::new());
    assert_eq!(serial.output, Some(json!([1, 2, 3])));
    assert_eq!(serial.stop_millis - serial.start_millis, 15_000);
    let two = run_def(def(2), json!([1, 2, 3]), Handlers::new());
    assert_eq!(two.stop_millis - two.start_millis, 10_000);
    let unbounded = run_def(def(0), json!([1, 2, 3]), Handlers::new());
    assert_eq!(unbounded.stop_millis - unbounded.start_millis, 5_000);
}

#[test]
fn full_jitter_and_max_delay_bound_the_backoff() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "BackoffRate": 3, "MaxAttempts": 5,
                   "MaxDelaySeconds": 20, "JitterStrategy": "FULL"}], "End": true}}});
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:states:::lambda:invoke", |_req: TaskRequest| {
            async { Err(TaskFailure::new("Boom", "x")) }.boxed()
        })
        .expect("valid pattern");
    let ex = run_def(def, json!({}), handlers);
    assert_eq!(ex.error.as_deref(), Some("Boom"));
    assert_eq!(count(&ex.history, "TaskFailed"), 6);
    let elapsed = ex.stop_millis - ex.start_millis;
    // Without jitter: 10 + 20 + 20 + 20 + 20 = 90 s; full jitter draws each wait from [0, d].
    assert!(elapsed < 90_000, "{elapsed}");
}

#[test]
fn task_handler_sees_effective_parameters_and_attempts() {
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:Echo",
        "InputPath": "$.order", "Parameters": {"id.$": "$.id", "fixed": 1}, "ResultSelector": {"seen.$": "$"},
        "ResultPath": "$.result", "OutputPath": "$.result", "End": true}}});
    let mut handlers = Handlers::new();
    handlers
        .register("arn:aws:lambda:*:*:function:*", |req: TaskRequest| {
            let answer =
                json!({"input": req.input, "state": &*req.state_name, "attempt": req.attempt});
            async move { Ok(answer) }.boxed()
        })
        .expect("valid pattern");
    let ex = run_def(def, json!({"order": {"id": "o-1"}}), handlers);
    assert_eq!(
        ex.output,
        Some(json!({"seen": {"input": {"id": "o-1", "fixed": 1}, "state": "T", "attempt": 1}}))
    );
    assert_eq!(count(&ex.history, "LambdaFunctionSucceeded"), 1);
}

/// A history reads back into the variants it was recorded as, through the JSON
/// `GetExecutionHistory` gives and through serde.
#[test]
fn history_events_round_trip_through_json() {
    for handlers in [
        stand_ins().0,
        flaky(1, "PaymentError"),
        flaky(2, "Lambda.ServiceException"),
    ] {
        let ex = run(&machine(), input(), handlers);
        assert!(ex.history.len() > 10);
        for event in &ex.history {
            let json = event.to_json();
            assert_eq!(
                &HistoryEvent::from_json(&json).expect("reads back"),
                event,
                "{json}"
            );
            let text = serde_json::to_string(event).expect("serialises");
            let back: HistoryEvent = serde_json::from_str(&text).expect("deserialises");
            assert_eq!(&back, event);
        }
    }
    // A type this engine does not record is kept as it came.
    let foreign = json!({"id": 3, "previousEventId": 2, "timestamp": 1.7e9, "type": "ActivityScheduled",
                         "activityScheduledEventDetails": {"resource": "arn:aws:states:us-east-1:1:activity:a"}});
    let event = HistoryEvent::from_json(&foreign).expect("reads");
    assert_eq!(event.details.event_type(), "ActivityScheduled");
    assert_eq!(event.timestamp_millis, 1_700_000_000_000);
    assert_eq!(
        event.to_json()["activityScheduledEventDetails"],
        foreign["activityScheduledEventDetails"]
    );
    assert!(HistoryEvent::from_json(&json!({"id": 1})).is_err());
    assert!(HistoryEvent::from_json(&json!({"id": 1, "type": "BogusStateEntered"})).is_err());
}

/// The TaskScheduled parameters of every task, with the generated order id left out.
fn task_parameters(history: &[HistoryEvent]) -> Vec<Value> {
    history
        .iter()
        .filter_map(|e| match &e.details {
            EventDetails::TaskScheduled { parameters, .. } => {
                let mut p = parameters.clone();
                if let Some(id) = p.pointer_mut("/Item/OrderId/S") {
                    *id = json!("<order id>");
                }
                Some(p)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn the_jsonata_twin_does_what_the_jsonpath_workflow_does() {
    let twin = StateMachine::from_json(include_str!("fixtures/order.bench.jsonata.asl.json"))
        .expect("the JSONata twin loads");
    let (handlers, _) = stand_ins();
    let jsonpath = run(&machine(), input(), handlers);
    let (handlers, _) = stand_ins();
    let jsonata = run(&twin, input(), handlers);
    assert_eq!(
        jsonata.status,
        Status::Succeeded,
        "{:?} {:?}",
        jsonata.error,
        jsonata.cause
    );
    assert_eq!(jsonata.output, jsonpath.output);
    assert_eq!(
        task_parameters(&jsonata.history),
        task_parameters(&jsonpath.history)
    );
    assert_eq!(types(&jsonata.history), types(&jsonpath.history));

    // A declined charge takes the catcher in both.
    let jsonpath = run(&machine(), input(), flaky(1, "PaymentError"));
    let jsonata = run(&twin, input(), flaky(1, "PaymentError"));
    assert_eq!(
        put_items(&jsonata.history)[0]["Item"]["State"]["S"],
        "PAYMENT_FAILED"
    );
    assert_eq!(jsonata.status, jsonpath.status);
    assert_eq!(jsonata.output, jsonpath.output);
    assert_eq!(
        task_parameters(&jsonata.history),
        task_parameters(&jsonpath.history)
    );
}
