//! Stand-in task handlers for the benchmark copy of the order workflow (the engine's tests and
//! benchmarks on the order workflow's shape, `orderflow exec --stand-ins`, the bench-peers
//! protocol, the cost model's reference run): deterministic versions
//! of its three Lambda functions behind `lambda:invoke` (dispatched on `FunctionName`, as the
//! real integration does), and DynamoDB `putItem` / SNS `publish` answering with AWS-shaped
//! results. The same values as `bench-peers/standins.mjs`: payment verified, every item 5 in
//! stock, the charge succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::future::{BoxFuture, FutureExt};
use serde_json::{Value, json};
use sfn_local::{Handlers, StatesError, TaskFailure, TaskHandler, TaskRequest};

/// The stock level every item gets.
pub const STOCK_LEVEL: u64 = 5;

/// Call counters, so a benchmark can check every execution took the success path.
#[derive(Default)]
pub struct Calls {
    /// Lambda invocations answered.
    pub lambda: AtomicU64,
    /// DynamoDB puts answered.
    pub put_item: AtomicU64,
    /// SNS publishes answered.
    pub publish: AtomicU64,
}

/// The stand-in handler for all three integrations.
pub struct StandIn {
    /// Where its calls are counted.
    pub calls: Arc<Calls>,
}

/// `arn:aws:lambda:us-east-1:123456789012:function:PaymentVerifier:$LATEST` → `PaymentVerifier`.
pub fn function_name(arn: &str) -> &str {
    let mut parts = arn.split(':');
    match parts.position(|p| p == "function") {
        Some(_) => parts.next().unwrap_or(arn),
        None => arn.rsplit(':').next().unwrap_or(arn),
    }
}

/// A request id unique within the process, shaped like a UUID.
fn request_id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

fn http_ok(n: u64) -> Value {
    json!({"SdkHttpMetadata": {"HttpStatusCode": 200}, "SdkResponseMetadata": {"RequestId": request_id(n)}})
}

impl StandIn {
    fn answer(&self, request: &TaskRequest) -> Result<Value, TaskFailure> {
        let resource = &*request.resource;
        if resource == "arn:aws:states:::lambda:invoke" {
            self.calls.lambda.fetch_add(1, Ordering::Relaxed);
            let name = request
                .input
                .get("FunctionName")
                .and_then(Value::as_str)
                .map(function_name);
            let payload = request.input.get("Payload");
            let result = match name {
                Some("PaymentVerifier") => json!({"paymentVerified": true}),
                Some("ItemsInStockRetriever") => {
                    let items = payload
                        .and_then(|p| p.get("items"))
                        .and_then(Value::as_array);
                    Value::Array(
                        items
                            .map(|items| {
                                items
                                    .iter()
                                    .map(|item| {
                                        let mut item = item.clone();
                                        if let Value::Object(m) = &mut item {
                                            m.insert("quantityInStock".into(), json!(STOCK_LEVEL));
                                        }
                                        item
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    )
                }
                Some("chargePaymentMethod") => json!({"paymentResult": "SUCCESS"}),
                other => {
                    return Err(TaskFailure::new(
                        "Lambda.ResourceNotFoundException",
                        format!(
                            "Function not found: {}",
                            other.unwrap_or("(no FunctionName)")
                        ),
                    ));
                }
            };
            Ok(json!({"ExecutedVersion": "$LATEST", "Payload": result, "StatusCode": 200}))
        } else if resource.ends_with(":dynamodb:putItem") {
            Ok(http_ok(self.calls.put_item.fetch_add(1, Ordering::Relaxed)))
        } else if resource.ends_with(":sns:publish") {
            let n = self.calls.publish.fetch_add(1, Ordering::Relaxed);
            let mut out = http_ok(n);
            if let Value::Object(m) = &mut out {
                m.insert("MessageId".into(), json!(request_id(n)));
            }
            Ok(out)
        } else {
            Err(TaskFailure::new(
                StatesError::Runtime.name(),
                format!("no stand-in for the resource {resource}"),
            ))
        }
    }
}

impl TaskHandler for StandIn {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        let result = self.answer(&request);
        async move { result }.boxed()
    }
}

/// Handlers for `lambda:invoke`, `dynamodb:putItem` and `sns:publish`, and their counters.
pub fn stand_ins() -> Result<(Handlers, Arc<Calls>), sfn_local::Error> {
    let calls = Arc::new(Calls::default());
    let handler: Arc<dyn TaskHandler> = Arc::new(StandIn {
        calls: Arc::clone(&calls),
    });
    let mut handlers = Handlers::new();
    for pattern in [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::dynamodb:putItem",
        "arn:aws:states:::sns:publish",
    ] {
        handlers.register_arc(pattern, Arc::clone(&handler))?;
    }
    Ok((handlers, calls))
}
