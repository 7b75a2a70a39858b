//! Lambda, as Step Functions calls it: `arn:aws:states:::lambda:invoke` (the optimised
//! integration: its result is the Invoke response, `Payload` and SDK metadata included) and
//! a function ARN as the resource (the result is the function's answer itself).

use base64::Engine as _;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sfn_local::{Clock, StatesError, TaskFailure, TaskHandler, TaskRequest};

use crate::context::Context;
use crate::environment::{Behavior, Function};
use crate::http::{http_date, python_dumps, sdk_result};

/// The optimised integration's resource.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
/// Function ARNs as a Task's resource.
pub const FUNCTION_ARNS: &str = "arn:aws:lambda:*:*:function:*";

/// The most a state's result may hold: 256 KiB (Step Functions quotas, "Maximum input or
/// output size for a task, state, or execution").
const MAX_RESULT_BYTES: usize = 256 * 1024;

pub(crate) struct LambdaTasks {
    context: Context,
}

/// How an invocation ended: the response body, or a function error (its type and the
/// error payload the runtime posted).
enum Answer {
    Body(String),
    FunctionError { error_type: String, payload: String },
}

impl LambdaTasks {
    pub(crate) fn new(context: Context) -> Self {
        LambdaTasks { context }
    }

    /// The function a `FunctionName` or resource names: a name, `ACCOUNT:function:NAME`, or a
    /// full ARN, with an optional `:$LATEST`; only this environment's region and account.
    fn function(&self, reference: &str) -> Option<&Function> {
        let bindings = &self.context.services.bindings;
        let name = match reference.split_once(":function:") {
            Some((prefix, rest)) => {
                let ours = prefix == bindings.account()
                    || prefix
                        == format!(
                            "arn:aws:lambda:{}:{}",
                            bindings.region(),
                            bindings.account()
                        );
                if !ours {
                    return None;
                }
                rest
            }
            None => reference,
        };
        let name = name.strip_suffix(":$LATEST").unwrap_or(name);
        self.context.services.functions.get(name)
    }

    /// The ARN Lambda's not-found message names: `…:function:NAME:$LATEST`.
    fn qualified_arn(&self, reference: &str) -> String {
        let arn = if reference.starts_with("arn:") {
            reference.to_owned()
        } else {
            let name = reference.rsplit(":function:").next().unwrap_or(reference);
            self.context.services.bindings.function_arn(name)
        };
        if arn.matches(':').count() >= 7 {
            arn
        } else {
            format!("{arn}:$LATEST")
        }
    }

    /// Runs the function's handler on the event bytes, after its sleep.
    async fn run(&self, function: &Function, event: &str, request_id: &str) -> Answer {
        if let Some(seconds) = function.sleep_seconds {
            let clock = &self.context.clock;
            let millis = i64::try_from(seconds).unwrap_or(i64::MAX / 2000) * 1000;
            clock
                .sleep_until(clock.now_millis().saturating_add(millis))
                .await;
        }
        let error = |error_type: &str, message: &str, stack: &[Value]| Answer::FunctionError {
            error_type: error_type.to_owned(),
            // In this key order, written by Python's json.dumps: what Lambda's Python runtime
            // posts (a function resource's caught `Cause` shows this text as recorded).
            payload: python_dumps(&json!({
                "errorMessage": message,
                "errorType": error_type,
                "requestId": request_id,
                "stackTrace": stack,
            })),
        };
        // The Python runtime parses the event before the handler sees it.
        let parsed = match serde_json::from_str::<Value>(event) {
            Ok(v) => v,
            Err(e) => {
                return error(
                    "Runtime.UnmarshalError",
                    &format!("Unable to unmarshal input: {e}"),
                    &[],
                );
            }
        };
        match &function.behavior {
            Behavior::Identity => Answer::Body(python_dumps(&parsed)),
            Behavior::Return(value) => Answer::Body(python_dumps(value)),
            Behavior::ReturnRaw(body) => Answer::Body(body.clone()),
            Behavior::Raise {
                error_type,
                error_message,
                stack_trace,
            } => error(error_type, error_message, stack_trace),
        }
    }

    async fn invoke(&self, request: TaskRequest) -> Result<Value, TaskFailure> {
        let request_id = uuid::Uuid::new_v4().to_string();
        if &*request.resource == LAMBDA_INVOKE {
            self.integration(&request.input, &request_id).await
        } else {
            let function = self
                .function(&request.resource)
                .ok_or_else(|| self.not_found(&request.resource, &request_id))?;
            let event = request.input.to_string();
            match self.run(function, &event, &request_id).await {
                Answer::Body(body) => payload(&body, &request.resource),
                Answer::FunctionError {
                    error_type,
                    payload,
                } => Err(TaskFailure::new(error_type, payload)),
            }
        }
    }

    async fn integration(
        &self,
        parameters: &Value,
        request_id: &str,
    ) -> Result<Value, TaskFailure> {
        let reference = parameters
            .get("FunctionName")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                TaskFailure::new(
                    "Lambda.InvalidParameterValueException",
                    "the lambda:invoke parameters have no FunctionName string",
                )
            })?;
        let function = self
            .function(reference)
            .ok_or_else(|| self.not_found(reference, request_id))?;
        // Step Functions sends a string Payload as the request body itself (`"\"x\""` is the
        // JSON string "x"), any other value as its JSON text, and no payload as `{}` (the
        // recorded identity function answered `{}` to `"Payload": null`).
        let event = match parameters.get("Payload") {
            None | Some(Value::Null) => "{}".to_owned(),
            Some(Value::String(raw)) => raw.clone(),
            Some(other) => other.to_string(),
        };
        let tail = parameters.get("LogType").and_then(Value::as_str) == Some("Tail");
        let body = match self.run(function, &event, request_id).await {
            Answer::Body(body) => body,
            // The optimised integration re-serialises the error payload compactly (recorded:
            // task_service_lambda__raise_exception_catch).
            Answer::FunctionError {
                error_type,
                payload,
            } => {
                let cause =
                    serde_json::from_str::<Value>(&payload).map_or(payload, |v| v.to_string());
                return Err(TaskFailure::new(error_type, cause));
            }
        };
        let value = payload(&body, "lambda")?;
        let mut fields = Map::new();
        fields.insert("ExecutedVersion".into(), json!("$LATEST"));
        let mut headers = Vec::new();
        if tail {
            let log = base64::engine::general_purpose::STANDARD.encode(format!(
                "START RequestId: {request_id} Version: $LATEST\nEND RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 32 MB\t\n"
            ));
            fields.insert("LogResult".into(), json!(log));
            headers.push(("X-Amz-Log-Result", log));
        }
        fields.insert("Payload".into(), value);
        fields.insert("StatusCode".into(), json!(200));
        let now = self.context.clock.now_millis();
        headers.extend([
            ("X-Amz-Executed-Version", "$LATEST".to_owned()),
            ("x-amzn-Remapped-Content-Length", "0".to_owned()),
            ("Connection", "keep-alive".to_owned()),
            ("x-amzn-RequestId", request_id.to_owned()),
            ("Content-Length", body.len().to_string()),
            ("Date", http_date(now)),
            ("X-Amzn-Trace-Id", trace_id(now, request_id)),
            ("Content-Type", "application/json".to_owned()),
        ]);
        Ok(sdk_result(fields, &headers, request_id))
    }

    fn not_found(&self, reference: &str, request_id: &str) -> TaskFailure {
        TaskFailure::new(
            "Lambda.ResourceNotFoundException",
            format!(
                "Function not found: {} (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: {request_id}; Proxy: null)",
                self.qualified_arn(reference)
            ),
        )
    }
}

/// The response body as the state's result: its JSON value, or the text itself when it is
/// not JSON; over the quota, `States.DataLimitExceeded` naming `task` as AWS does (`lambda`
/// for the integration, the function ARN for a function resource).
fn payload(body: &str, task: &str) -> Result<Value, TaskFailure> {
    if body.len() > MAX_RESULT_BYTES {
        return Err(TaskFailure::new(
            StatesError::DataLimitExceeded.name(),
            format!(
                "The state/task '{task}' returned a result with a size exceeding the maximum number of bytes service limit."
            ),
        ));
    }
    Ok(serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned())))
}

/// An X-Ray trace header of the shape Lambda sends: `Root=1-<epoch seconds hex>-<24 hex>`.
fn trace_id(now_millis: i64, request_id: &str) -> String {
    let hex: String = request_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(24)
        .collect();
    format!("Root=1-{:08x}-{hex};Sampled=0", now_millis.div_euclid(1000))
}

impl TaskHandler for LambdaTasks {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        LambdaTasks::invoke(self, request).boxed()
    }
}
