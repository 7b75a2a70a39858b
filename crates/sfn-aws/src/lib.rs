//! Step Functions' Lambda, DynamoDB and SNS integrations over the real AWS APIs, as Task
//! handlers for the local engine ([`sfn_local`]).
//!
//! Each handler takes a Task's parameters as Step Functions passes them, calls the service
//! through the AWS SDK for Rust, and answers with what Step Functions would: the same result
//! shape (`Payload`, `StatusCode`, `Item`, `MessageId`, `SdkHttpMetadata`, …), and on failure
//! the same error names (`DynamoDB.ConditionalCheckFailedException`, `Lambda.ServiceException`,
//! a function's own `errorType`, …) and causes, so `Retry` and `Catch` behave as deployed. The
//! endpoint is AWS itself or a local stand-in such as `moto_server` or `cargo lambda watch`.
//!
//! ```no_run
//! use sfn_aws::AwsClients;
//! use serde_json::json;
//! use sfn_local::{ExecuteOptions, Handlers, StateMachine};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let aws = AwsClients::builder().endpoint_url("http://127.0.0.1:5000").build().await?;
//! aws.ensure_table("Orders", "OrderId").await?;
//! let topic = aws.ensure_topic("OrderNotifications").await?;
//!
//! let mut handlers = Handlers::new();
//! aws.register_all(&mut handlers)?;
//! let machine = StateMachine::from_value(&json!({
//!     "StartAt": "Record",
//!     "States": {
//!         "Record": {
//!             "Type": "Task",
//!             "Resource": "arn:aws:states:::dynamodb:putItem",
//!             "Parameters": {
//!                 "TableName": "Orders",
//!                 "Item": {"OrderId": {"S.$": "$.orderId"}},
//!                 "ConditionExpression": "attribute_not_exists(OrderId)"
//!             },
//!             "ResultPath": null,
//!             "Next": "Notify"
//!         },
//!         "Notify": {
//!             "Type": "Task",
//!             "Resource": "arn:aws:states:::sns:publish",
//!             "Parameters": {"TopicArn": topic, "Message.$": "$"},
//!             "End": true
//!         }
//!     }
//! }))?;
//! let execution = machine.execute(json!({"orderId": "o-1"}), &ExecuteOptions::new().handlers(handlers)).await;
//! println!("{}", execution.result_json());
//! println!("{:?}", aws.scan_table("Orders").await?);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

use std::sync::Arc;

use sfn_local::{Handlers, TaskHandler};

mod attribute;
mod clients;
mod dynamodb;
mod error;
mod lambda;
mod params;
mod sdk;
mod sns;
pub mod testing;

pub use attribute::{attribute_from_json, attribute_to_json, item_from_json, item_to_json};
pub use clients::{AwsClients, AwsClientsBuilder, DEFAULT_REGION, NoHostPrefix};
pub use dynamodb::{DYNAMODB_PREFIX, DynamoDbOperation, DynamoDbTask};
pub use error::{Error, Service};
pub use lambda::{FUNCTION_ARNS, LAMBDA_INVOKE, LambdaInvoke};
pub use sns::{SNS_PUBLISH, SnsPublish};

fn register(
    handlers: &mut Handlers,
    pattern: &str,
    handler: Arc<dyn TaskHandler>,
) -> Result<(), Error> {
    handlers
        .register_arc(pattern, handler)
        .map(drop)
        .map_err(|reason| Error::Register {
            pattern: pattern.to_owned(),
            reason,
        })
}
