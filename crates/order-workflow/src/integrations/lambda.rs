//! `lambda:invoke` answered in process: the three functions' handler code, called directly.
//!
//! The state machine sees what Step Functions' Lambda integration gives it on AWS: the
//! `{ExecutedVersion, Payload, StatusCode, …}` envelope for `arn:aws:states:::lambda:invoke`,
//! the bare payload for a plain function ARN, and for a function error the function's
//! `errorType` as the error name with the runtime's JSON error object as the cause.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use futures::future::BoxFuture;
use orders::{Clock, Inventory, PaymentGateway};
use orders_lambda::HandlerError;
use serde_json::{Value, json};
use sfn_local::{TaskFailure, TaskHandler, TaskRequest};

/// The optimised integration's resource.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
/// Plain function ARNs, whose state input is the payload itself.
pub const FUNCTION_ARNS: &str = "arn:aws:lambda:*:*:function:*";

/// The functions this project deploys (the resource contract's list).
pub use order_resources::Function;

/// The function named by a `FunctionName` as Lambda accepts it: a name, a partial
/// (`ACCOUNT:function:NAME`) or full ARN, each with an optional `:QUALIFIER`.
pub fn function_from_reference(reference: &str) -> Option<Function> {
    let name = match reference.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => reference.split(':').next().unwrap_or(reference),
    };
    Function::ALL.into_iter().find(|f| f.name() == name)
}

/// The three handlers over one set of adapters, as one Task handler.
pub struct InProcessFunctions<G, I, C> {
    gateway: Arc<G>,
    inventory: Arc<I>,
    clock: Arc<C>,
    requests: AtomicU64,
}

impl<G, I, C> InProcessFunctions<G, I, C>
where
    G: PaymentGateway + 'static,
    I: Inventory + 'static,
    C: Clock + 'static,
{
    /// The handlers, sharing these adapters across every invocation.
    pub fn new(gateway: Arc<G>, inventory: Arc<I>, clock: Arc<C>) -> Self {
        InProcessFunctions {
            gateway,
            inventory,
            clock,
            requests: AtomicU64::new(0),
        }
    }

    /// Runs one function on one payload, as the Lambda service would.
    pub async fn call(&self, function: Function, payload: Value) -> Result<Value, TaskFailure> {
        let answer = match function {
            Function::VerifyPayment => {
                orders_lambda::verify_payment(payload, self.gateway.as_ref(), self.clock.as_ref())
                    .await
            }
            Function::CheckStock => {
                orders_lambda::check_stock(payload, self.inventory.as_ref()).await
            }
            Function::ChargePayment => {
                orders_lambda::charge_payment(payload, self.gateway.as_ref()).await
            }
        };
        answer.map_err(function_error)
    }

    fn request_id(&self) -> String {
        format!(
            "local-{:016x}",
            self.requests.fetch_add(1, Ordering::Relaxed)
        )
    }

    async fn invoke(&self, request: TaskRequest) -> Result<Value, TaskFailure> {
        if &*request.resource == LAMBDA_INVOKE {
            let reference = request
                .input
                .get("FunctionName")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    TaskFailure::new(
                        "Lambda.InvalidParameterValueException",
                        "the lambda:invoke parameters have no FunctionName string",
                    )
                })?;
            let function =
                function_from_reference(reference).ok_or_else(|| not_found(reference))?;
            let payload = request.input.get("Payload").cloned().unwrap_or(Value::Null);
            let result = self.call(function, payload).await?;
            Ok(json!({
                "ExecutedVersion": "$LATEST",
                "Payload": result,
                "SdkHttpMetadata": {"HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": self.request_id()},
                "StatusCode": 200,
            }))
        } else {
            let function = function_from_reference(&request.resource)
                .ok_or_else(|| not_found(&request.resource))?;
            self.call(function, request.input).await
        }
    }
}

impl<G, I, C> TaskHandler for InProcessFunctions<G, I, C>
where
    G: PaymentGateway + 'static,
    I: Inventory + 'static,
    C: Clock + 'static,
{
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        InProcessFunctions::invoke(self, request).boxed()
    }
}

/// A function error as Step Functions reports it: the `errorType` is the error name, and the
/// cause is the JSON error object the Lambda runtime posted.
fn function_error(error: HandlerError) -> TaskFailure {
    let name = error.name();
    let cause = json!({"errorType": name, "errorMessage": error.to_string()});
    TaskFailure::new(name, cause.to_string())
}

fn not_found(reference: &str) -> TaskFailure {
    TaskFailure::new(
        "Lambda.ResourceNotFoundException",
        format!(
            "Function not found: {reference} (the local functions are verify-payment, check-stock, charge-payment)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use orders::{FixedClock, SimulatedGateway, SimulatedInventory, Simulation, YearMonth};

    use super::*;

    fn functions() -> InProcessFunctions<SimulatedGateway, SimulatedInventory, FixedClock> {
        let clock = FixedClock(YearMonth::new(2026, 11).expect("a real month"));
        InProcessFunctions::new(
            Arc::new(SimulatedGateway::new(Simulation::Deterministic)),
            Arc::new(SimulatedInventory::new(Simulation::Deterministic)),
            Arc::new(clock),
        )
    }

    fn request(resource: &str, input: Value) -> TaskRequest {
        TaskRequest::new(resource, input)
    }

    fn reference(text: &str, expected: Option<Function>) {
        assert_eq!(function_from_reference(text), expected, "{text}");
    }

    #[test]
    fn function_references() {
        reference("verify-payment", Some(Function::VerifyPayment));
        reference("check-stock:$LATEST", Some(Function::CheckStock));
        reference(
            "123456789012:function:charge-payment",
            Some(Function::ChargePayment),
        );
        reference(
            "arn:aws:lambda:us-east-1:123456789012:function:charge-payment",
            Some(Function::ChargePayment),
        );
        reference(
            "arn:aws:lambda:us-east-1:123456789012:function:verify-payment:prod",
            Some(Function::VerifyPayment),
        );
        reference("arn:aws:lambda:us-east-1:123456789012:function:other", None);
        reference("", None);
    }

    #[test]
    fn invoke_wraps_the_payload_in_the_integration_envelope() {
        let order: Value = serde_json::from_str(include_str!("../../../../events/order.json"))
            .expect("sample order");
        let input = json!({"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:check-stock", "Payload": {"items": order["orderContents"]["items"]}});
        let answer = futures::executor::block_on(functions().invoke(request(LAMBDA_INVOKE, input)))
            .expect("in stock");
        assert_eq!(answer["StatusCode"], 200);
        assert_eq!(answer["ExecutedVersion"], "$LATEST");
        let items = answer["Payload"].as_array().expect("the items");
        assert_eq!(items.len(), 3);
        assert!(
            items
                .iter()
                .all(|item| item["quantityInStock"].as_u64().is_some())
        );
    }

    #[test]
    fn a_function_error_keeps_its_error_type_and_json_cause() {
        let input = json!({"FunctionName": "charge-payment", "Payload": {"orderId": "o-1"}});
        let failure =
            futures::executor::block_on(functions().invoke(request(LAMBDA_INVOKE, input)))
                .expect_err("invalid");
        assert_eq!(failure.error, "ValidationError");
        let cause: Value =
            serde_json::from_str(failure.cause.as_deref().expect("a cause")).expect("JSON cause");
        assert_eq!(cause["errorType"], "ValidationError");
        assert!(
            cause["errorMessage"]
                .as_str()
                .expect("a message")
                .contains("customerId"),
            "{cause}"
        );
    }

    #[test]
    fn an_unknown_function_is_not_found() {
        let input = json!({"FunctionName": "nope", "Payload": {}});
        let failure =
            futures::executor::block_on(functions().invoke(request(LAMBDA_INVOKE, input)))
                .expect_err("unknown");
        assert_eq!(failure.error, "Lambda.ResourceNotFoundException");
        let failure =
            futures::executor::block_on(functions().invoke(request(LAMBDA_INVOKE, json!({}))))
                .expect_err("no name");
        assert_eq!(failure.error, "Lambda.InvalidParameterValueException");
    }

    #[test]
    fn a_plain_function_arn_takes_and_gives_the_bare_payload() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:check-stock";
        let input = json!({"items": [{"itemId": "item-1", "price": 5, "itemDescription": "pen"}]});
        let answer =
            futures::executor::block_on(functions().invoke(request(arn, input))).expect("in stock");
        assert!(answer.is_array(), "{answer}");
    }
}
