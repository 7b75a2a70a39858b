//! `arn:aws:states:::lambda:invoke` and plain function ARNs over the Lambda Invoke API.

use std::sync::Arc;

use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::operation::invoke::InvokeError;
use aws_sdk_lambda::types::{InvocationType, LogType};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::Blob;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use sfn_local::{Handlers, TaskFailure, TaskHandler, TaskRequest};

use crate::error::{Error, Service};
use crate::params::Params;
use crate::sdk::{self, Exchange};

/// The optimised Lambda integration's resource.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
/// Plain function ARNs (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`): the state
/// input is the payload and the result is the function's answer.
pub const FUNCTION_ARNS: &str = "arn:aws:lambda:*:*:function:*";

const INVOKE_PARAMETERS: &[&str] = &[
    "FunctionName",
    "Payload",
    "Qualifier",
    "InvocationType",
    "ClientContext",
    "LogType",
];

/// Answers Lambda Task states by calling the Lambda Invoke API.
#[derive(Debug, Clone)]
pub struct LambdaInvoke {
    client: aws_sdk_lambda::Client,
    endpoint: Arc<str>,
    bare_names: bool,
}

impl LambdaInvoke {
    /// A handler calling through `client` (built by [`AwsClients`](crate::AwsClients) or by hand).
    pub fn new(client: aws_sdk_lambda::Client) -> Self {
        let region = client
            .config()
            .region()
            .map_or_else(|| "no region".to_owned(), ToString::to_string);
        LambdaInvoke {
            client,
            endpoint: format!("the Lambda endpoint of {region}").into(),
            bare_names: false,
        }
    }

    /// Calls functions by name only: `arn:aws:lambda:…:function:NAME:QUALIFIER` (or
    /// `ACCOUNT:function:NAME`) is sent as `NAME` with `Qualifier=QUALIFIER`. Off by default,
    /// as Lambda takes ARNs; `cargo lambda watch` knows its functions by name only.
    pub fn bare_function_names(mut self, bare: bool) -> Self {
        self.bare_names = bare;
        self
    }

    /// Registers this handler for [`LAMBDA_INVOKE`] and [`FUNCTION_ARNS`].
    pub fn register(self, handlers: &mut Handlers) -> Result<(), Error> {
        let handler: Arc<dyn TaskHandler> = Arc::new(self);
        crate::register(handlers, LAMBDA_INVOKE, Arc::clone(&handler))?;
        crate::register(handlers, FUNCTION_ARNS, handler)
    }

    /// Runs one Task: `lambda:invoke` with its parameters, or a function ARN with its input.
    pub async fn call(&self, resource: &str, input: &Value) -> Result<Value, Error> {
        if resource == LAMBDA_INVOKE {
            self.invoke_integration(input).await
        } else if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
            let answer = self
                .invoke(resource, Some(input), None, None, None, None)
                .await?;
            Ok(answer.payload)
        } else {
            Err(Error::UnsupportedResource(resource.to_owned()))
        }
    }

    async fn invoke_integration(&self, input: &Value) -> Result<Value, Error> {
        let params = Params::new(Service::Lambda, "lambda:invoke", input, INVOKE_PARAMETERS)?;
        let function = params.required_string("FunctionName")?;
        let answer = self
            .invoke(
                &function,
                params.value("Payload"),
                params.string("Qualifier")?,
                params.string("InvocationType")?,
                params.string("ClientContext")?,
                params.string("LogType")?,
            )
            .await?;
        let mut result = sdk::result(
            vec![
                (
                    "ExecutedVersion",
                    answer.executed_version.map(Value::String),
                ),
                ("LogResult", answer.log_result.map(Value::String)),
                ("Payload", Some(answer.payload)),
            ],
            &answer.exchange,
            answer.request_id.as_deref(),
        );
        if let Value::Object(map) = &mut result {
            map.insert("StatusCode".to_owned(), json!(answer.status_code));
        }
        Ok(result)
    }

    async fn invoke(
        &self,
        function: &str,
        payload: Option<&Value>,
        qualifier: Option<String>,
        invocation_type: Option<String>,
        client_context: Option<String>,
        log_type: Option<String>,
    ) -> Result<Answer, Error> {
        let (function, qualifier) =
            match self.bare_names.then(|| split_function(function)).flatten() {
                Some((name, arn_qualifier)) => {
                    (name, qualifier.or(arn_qualifier.map(str::to_owned)))
                }
                None => (function, qualifier),
            };
        // Step Functions sends the Payload value as JSON text, a string included ("\"x\"").
        let payload = payload.map(|p| Blob::new(p.to_string().into_bytes()));
        let exchange = Exchange::default();
        let output = self
            .client
            .invoke()
            .function_name(function)
            .set_payload(payload)
            .set_qualifier(qualifier)
            .set_invocation_type(invocation_type.as_deref().map(InvocationType::from))
            .set_client_context(client_context)
            .set_log_type(log_type.as_deref().map(LogType::from))
            .customize()
            .interceptor(exchange.clone())
            .send()
            .await
            .map_err(|e| self.failure(e, &exchange))?;
        let bytes = output.payload().map(Blob::as_ref).unwrap_or_default();
        if output.function_error().is_some() {
            return Err(function_error(bytes));
        }
        Ok(Answer {
            payload: parse_payload(bytes),
            executed_version: output.executed_version().map(str::to_owned),
            log_result: output.log_result().map(str::to_owned),
            status_code: output.status_code(),
            request_id: output.request_id().map(str::to_owned),
            exchange,
        })
    }
}

impl LambdaInvoke {
    fn failure(&self, error: SdkError<InvokeError, HttpResponse>, exchange: &Exchange) -> Error {
        // Local emulators such as `cargo lambda watch` answer a function error with HTTP 500
        // and the runtime's error object, without Lambda's `X-Amz-Function-Error` header; an
        // error of the Lambda service itself always carries an error code.
        if let SdkError::ServiceError(context) = &error
            && context.err().code().is_none()
            && let Some(bytes) = context.raw().body().bytes()
            && is_runtime_error(bytes)
        {
            return function_error(bytes);
        }
        sdk::from_sdk(Service::Lambda, error, exchange, &self.endpoint)
    }
}

/// `NAME` and its qualifier from a full (`arn:aws:lambda:R:A:function:NAME[:Q]`) or partial
/// (`A:function:NAME[:Q]`) function ARN; `None` for a plain name.
fn split_function(reference: &str) -> Option<(&str, Option<&str>)> {
    let (_, rest) = reference.split_once(":function:")?;
    Some(match rest.split_once(':') {
        Some((name, qualifier)) => (name, Some(qualifier)),
        None => (rest, None),
    })
}

/// Whether `bytes` is the error object a Lambda runtime reports (`errorType`, `errorMessage`).
fn is_runtime_error(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| {
            v.as_object()
                .map(|o| o.contains_key("errorType") || o.contains_key("errorMessage"))
        })
        .unwrap_or(false)
}

struct Answer {
    payload: Value,
    executed_version: Option<String>,
    log_result: Option<String>,
    status_code: i32,
    request_id: Option<String>,
    exchange: Exchange,
}

impl TaskHandler for LambdaInvoke {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        async move {
            self.call(&request.resource, &request.input)
                .await
                .map_err(TaskFailure::from)
        }
        .boxed()
    }
}

/// The function's answer as JSON; text that is not JSON stays text, and an empty answer
/// (an `Event` or `DryRun` invocation) is the empty string, as Step Functions shows them.
fn parse_payload(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::String(String::new());
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// A function error: the payload's `errorType` names it; the payload is the cause.
fn function_error(bytes: &[u8]) -> Error {
    let error_type = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| {
            v.get("errorType")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|t| !t.is_empty());
    Error::Function {
        error_type,
        payload: String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(bytes: &str, expected: Value) {
        assert_eq!(parse_payload(bytes.as_bytes()), expected, "{bytes}");
    }

    fn function_failure(bytes: &str, error: &str) {
        let failure = TaskFailure::from(function_error(bytes.as_bytes()));
        assert_eq!(failure.error, error, "{bytes}");
        assert_eq!(failure.cause.as_deref(), Some(bytes));
    }

    fn split(reference: &str, expected: Option<(&str, Option<&str>)>) {
        assert_eq!(split_function(reference), expected, "{reference}");
    }

    #[test]
    fn function_references() {
        split(
            "arn:aws:lambda:us-east-1:123456789012:function:charge-payment",
            Some(("charge-payment", None)),
        );
        split(
            "arn:aws:lambda:us-east-1:123456789012:function:charge-payment:live",
            Some(("charge-payment", Some("live"))),
        );
        split(
            "123456789012:function:check-stock",
            Some(("check-stock", None)),
        );
        split("verify-payment", None);
        split("verify-payment:live", None);
    }

    #[test]
    fn runtime_error_objects() {
        assert!(is_runtime_error(
            br#"{"errorType":"PaymentError","errorMessage":"declined"}"#
        ));
        assert!(is_runtime_error(br#"{"errorMessage":"timed out"}"#));
        assert!(!is_runtime_error(
            br#"{"Type":"Service","message":"unavailable"}"#
        ));
        assert!(!is_runtime_error(b"Internal Server Error"));
        assert!(!is_runtime_error(b"[]"));
    }

    #[test]
    fn payloads() {
        payload(r#"{"ok":true}"#, json!({"ok": true}));
        payload("[1,2]", json!([1, 2]));
        payload("null", Value::Null);
        payload(r#""text""#, json!("text"));
        payload("not json", json!("not json"));
        payload("", json!(""));
    }

    #[test]
    fn function_errors() {
        function_failure(
            r#"{"errorType":"PaymentError","errorMessage":"card declined"}"#,
            "PaymentError",
        );
        function_failure(
            r#"{"errorMessage":"Task timed out after 3.00 seconds"}"#,
            "Lambda.Unknown",
        );
        function_failure(r#"{"errorType":"","errorMessage":"x"}"#, "Lambda.Unknown");
        function_failure(r#"{"errorType":7}"#, "Lambda.Unknown");
        function_failure("Internal crash", "Lambda.Unknown");
        function_failure("", "Lambda.Unknown");
    }
}
