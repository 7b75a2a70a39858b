//! `lambda:invoke` and function ARNs over the Invoke API.

use serde_json::{Value, json};
use sfn_aws::{FUNCTION_ARNS, LAMBDA_INVOKE, LambdaInvoke};
use sfn_local::{Handlers, TaskFailure};

use crate::common::fake_lambda::FakeLambda;
use crate::common::{clients, closed_port, request, within};

async fn handler(url: &str) -> LambdaInvoke {
    clients(url).await.lambda_invoke()
}

async fn failure(function: &str) -> TaskFailure {
    let functions = FakeLambda::start().await;
    let invoke = handler(&functions.url).await;
    let input = json!({"FunctionName": function, "Payload": {"orderId": "o-1"}});
    let mut handlers = Handlers::new();
    invoke.register(&mut handlers).expect("registered");
    let handler = handlers
        .find(LAMBDA_INVOKE)
        .expect("lambda:invoke is handled");
    match handler.invoke(request(LAMBDA_INVOKE, input)).await {
        Err(failure) => failure,
        Ok(v) => panic!("{function} succeeded with {v}"),
    }
}

#[tokio::test]
async fn invoke_answers_with_the_step_functions_envelope() {
    within(30, async {
        let functions = FakeLambda::start().await;
        let invoke = handler(&functions.url).await;
        let input = json!({
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:echo",
            "Payload": {"orderId": "o-1", "items": [1, 2]},
            "Qualifier": "live",
            "ClientContext": "eyJ4IjoxfQ==",
        });
        let answer = invoke
            .call(LAMBDA_INVOKE, &input)
            .await
            .expect("echo answers");
        assert_eq!(
            answer["Payload"],
            json!({"orderId": "o-1", "items": [1, 2]})
        );
        assert_eq!(answer["StatusCode"], 200);
        assert_eq!(answer["ExecutedVersion"], "7");
        assert_eq!(answer["SdkResponseMetadata"]["RequestId"], "req-echo");
        assert_eq!(answer["SdkHttpMetadata"]["HttpStatusCode"], 200);
        assert_eq!(
            answer["SdkHttpMetadata"]["HttpHeaders"]["x-amz-executed-version"],
            "7"
        );
        assert_eq!(
            answer["SdkHttpMetadata"]["AllHttpHeaders"]["x-amzn-requestid"],
            json!(["req-echo"])
        );
        let keys: Vec<&String> = answer.as_object().expect("an object").keys().collect();
        assert_eq!(
            keys,
            [
                "ExecutedVersion",
                "Payload",
                "SdkHttpMetadata",
                "SdkResponseMetadata",
                "StatusCode"
            ]
        );

        let received = functions.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].function, "echo");
        assert_eq!(received[0].query, "Qualifier=live");
        assert_eq!(
            received[0].header("x-amz-client-context"),
            Some("eyJ4IjoxfQ==")
        );
        assert_eq!(
            serde_json::from_str::<Value>(&received[0].body).expect("JSON payload"),
            input["Payload"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_function_arn_takes_the_input_and_returns_the_payload() {
    within(30, async {
        let functions = FakeLambda::start().await;
        let mut handlers = Handlers::new();
        handler(&functions.url)
            .await
            .register(&mut handlers)
            .expect("registered");
        let resource = "arn:aws:lambda:us-east-1:123456789012:function:echo";
        assert!(
            handlers.find(resource).is_some(),
            "{FUNCTION_ARNS} covers {resource}"
        );
        let input = json!({"items": [{"itemId": "i-1"}]});
        let answer = handlers
            .find(resource)
            .expect("found")
            .invoke(request(resource, input.clone()))
            .await;
        assert_eq!(answer, Ok(input));
    })
    .await;
}

#[tokio::test]
async fn an_event_invocation_answers_202_and_an_empty_payload() {
    within(30, async {
        let functions = FakeLambda::start().await;
        let input = json!({"FunctionName": "echo", "Payload": "text", "InvocationType": "Event"});
        let answer = handler(&functions.url)
            .await
            .call(LAMBDA_INVOKE, &input)
            .await
            .expect("accepted");
        assert_eq!(answer["StatusCode"], 202);
        assert_eq!(answer["Payload"], "");
        assert_eq!(functions.received()[0].body, r#""text""#);
        assert_eq!(
            functions.received()[0].header("x-amz-invocation-type"),
            Some("Event")
        );
    })
    .await;
}

#[tokio::test]
async fn a_function_error_is_named_by_its_error_type() {
    within(30, async {
        let failure = failure("declines").await;
        assert_eq!(failure.error, "PaymentError");
        assert_eq!(
            failure.cause.as_deref(),
            Some(r#"{"errorType":"PaymentError","errorMessage":"card declined"}"#)
        );
        let failure = self::failure("times-out").await;
        assert_eq!(failure.error, "Lambda.Unknown");
        assert_eq!(
            failure.cause.as_deref(),
            Some(r#"{"errorMessage":"Task timed out after 3.00 seconds"}"#)
        );
    })
    .await;
}

#[tokio::test]
async fn service_errors_are_named_as_step_functions_names_them() {
    within(60, async {
        for (function, name, status, code) in [
            ("busy", "Lambda.TooManyRequestsException", 429, "TooManyRequestsException"),
            ("broken", "Lambda.ServiceException", 500, "ServiceException"),
            ("missing", "Lambda.ResourceNotFoundException", 404, "ResourceNotFoundException"),
            ("denied", "Lambda.AWSLambdaException", 403, "AccessDeniedException"),
        ] {
            let failure = failure(function).await;
            assert_eq!(failure.error, name, "{function}");
            let cause = failure.cause.unwrap_or_default();
            let expected = format!("(Service: AWSLambda; Status Code: {status}; Error Code: {code}; Request ID: req-fault; Proxy: null)");
            assert!(cause.ends_with(&expected), "{function}: {cause}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_endpoint_is_an_sdk_client_exception_naming_it() {
    within(30, async {
        let port = closed_port();
        let invoke = handler(&format!("http://127.0.0.1:{port}")).await;
        let failure = TaskFailure::from(
            invoke
                .call(LAMBDA_INVOKE, &json!({"FunctionName": "echo"}))
                .await
                .expect_err("refused"),
        );
        assert_eq!(failure.error, "Lambda.SdkClientException");
        let cause = failure.cause.unwrap_or_default();
        assert!(
            cause.starts_with(&format!(
                "Unable to execute HTTP request to http://127.0.0.1:{port}:"
            )),
            "{cause}"
        );
    })
    .await;
}

#[tokio::test]
async fn bad_parameters_are_refused_before_calling() {
    within(30, async {
        let functions = FakeLambda::start().await;
        let invoke = handler(&functions.url).await;
        for (input, field) in [
            (json!({"Payload": {}}), "FunctionName"),
            (json!({"FunctionName": 7}), "FunctionName"),
            (json!({"FunctionName": "echo", "Qualifer": "x"}), "Qualifer"),
            (json!("echo"), "Parameters"),
        ] {
            let failure = TaskFailure::from(
                invoke
                    .call(LAMBDA_INVOKE, &input)
                    .await
                    .expect_err("refused"),
            );
            assert_eq!(
                failure.error, "Lambda.InvalidParameterValueException",
                "{input}"
            );
            assert!(
                failure
                    .cause
                    .unwrap_or_default()
                    .starts_with(&format!("{field}: ")),
                "{input}"
            );
        }
        assert!(functions.received().is_empty());
    })
    .await;
}

#[tokio::test]
async fn bare_names_and_emulator_errors_suit_cargo_lambda_watch() {
    within(30, async {
        let functions = FakeLambda::start().await;
        let invoke = handler(&functions.url).await.bare_function_names(true);
        let resource = "arn:aws:lambda:us-east-1:123456789012:function:echo:live";
        let answer = invoke
            .call(resource, &json!({"n": 1}))
            .await
            .expect("echo answers");
        assert_eq!(answer, json!({"n": 1}));
        let input = json!({"FunctionName": "123456789012:function:echo", "Payload": {}});
        invoke
            .call(LAMBDA_INVOKE, &input)
            .await
            .expect("echo answers");
        let received = functions.received();
        assert_eq!(received.len(), 2);
        assert_eq!(received[0].function, "echo");
        assert_eq!(received[0].query, "Qualifier=live");
        assert_eq!(received[1].query, "");

        let input = json!({"FunctionName": "emulated", "Payload": {}});
        let failure = TaskFailure::from(
            invoke
                .call(LAMBDA_INVOKE, &input)
                .await
                .expect_err("a function error"),
        );
        assert_eq!(failure.error, "PaymentError");
        assert_eq!(
            failure.cause.as_deref(),
            Some(r#"{"errorType":"PaymentError","errorMessage":"declined"}"#)
        );
    })
    .await;
}
