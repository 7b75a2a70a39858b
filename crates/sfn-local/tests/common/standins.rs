//! Deterministic stand-ins for the order workflow's Task states, answering like the real
//! integrations do (the same values as `bench-peers/standins.mjs`): payment verified, every
//! item 5 in stock, the charge succeeds; DynamoDB `putItem` and SNS `publish` answer with
//! AWS-shaped metadata.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::future::{BoxFuture, FutureExt};
use serde_json::{Value, json};
use sfn_local::{Handlers, TaskFailure, TaskHandler, TaskRequest};

/// Counts calls per resource kind so tests can check the path taken.
#[derive(Default)]
pub struct Calls {
    pub lambda: AtomicU64,
    pub put_item: AtomicU64,
    pub publish: AtomicU64,
}

/// The stand-in handler for all three integrations.
pub struct StandIn {
    pub calls: Arc<Calls>,
}

/// `arn:aws:lambda:us-east-1:123456789012:function:PaymentVerifier:$LATEST` -> `PaymentVerifier`
pub fn function_name(arn: &str) -> &str {
    let mut parts = arn.split(':');
    match parts.position(|p| p == "function") {
        Some(_) => parts.next().unwrap_or(arn),
        None => arn.rsplit(':').next().unwrap_or(arn),
    }
}

fn request_id(counter: u64) -> String {
    format!("00000000-0000-4000-8000-{counter:012x}")
}

impl TaskHandler for StandIn {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        let resource = &*request.resource;
        let result = if resource == "arn:aws:states:::lambda:invoke" {
            let n = self.calls.lambda.fetch_add(1, Ordering::Relaxed);
            let _ = n;
            let name = request
                .input
                .get("FunctionName")
                .and_then(Value::as_str)
                .map(function_name);
            let payload = request.input.get("Payload").cloned().unwrap_or(Value::Null);
            let answer = match name {
                Some("PaymentVerifier") => Ok(json!({"paymentVerified": true})),
                Some("ItemsInStockRetriever") => Ok(Value::Array(
                    payload
                        .get("items")
                        .and_then(Value::as_array)
                        .map(|items| {
                            items
                                .iter()
                                .map(|item| {
                                    let mut item = item.clone();
                                    if let Value::Object(m) = &mut item {
                                        m.insert("quantityInStock".into(), json!(5));
                                    }
                                    item
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                )),
                Some("chargePaymentMethod") => Ok(json!({"paymentResult": "SUCCESS"})),
                other => Err(TaskFailure::new(
                    "Lambda.ResourceNotFoundException",
                    format!(
                        "Function not found: {}",
                        other.unwrap_or("(no FunctionName)")
                    ),
                )),
            };
            answer.map(|p| json!({"ExecutedVersion": "$LATEST", "Payload": p, "StatusCode": 200}))
        } else if resource.ends_with(":dynamodb:putItem") {
            let n = self.calls.put_item.fetch_add(1, Ordering::Relaxed);
            Ok(
                json!({"SdkHttpMetadata": {"HttpStatusCode": 200}, "SdkResponseMetadata": {"RequestId": request_id(n)}}),
            )
        } else if resource.ends_with(":sns:publish") {
            let n = self.calls.publish.fetch_add(1, Ordering::Relaxed);
            Ok(json!({
                "MessageId": request_id(n),
                "SdkHttpMetadata": {"HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": request_id(n)}
            }))
        } else {
            Err(TaskFailure::new(
                "States.Runtime",
                format!("no stand-in for {resource}"),
            ))
        };
        async move { result }.boxed()
    }
}

/// Handlers for `lambda:invoke`, `dynamodb:putItem` and `sns:publish`, and their call counts.
pub fn stand_ins() -> (Handlers, Arc<Calls>) {
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
        if let Err(e) = handlers.register_arc(pattern, Arc::clone(&handler)) {
            panic!("registering {pattern}: {e}");
        }
    }
    (handlers, calls)
}
