//! `dynamodb:*` and `sns:publish` answered by the embedded store, with the result shapes
//! Step Functions' optimised integrations give on AWS.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_emulator::{Store, StoreError};
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sfn_local::{StatesError, TaskFailure, TaskHandler, TaskRequest};

/// The DynamoDB integrations, one resource per API action.
pub const DYNAMODB: &str = "arn:aws:states:::dynamodb:*";
/// The SNS publish integration.
pub const SNS_PUBLISH: &str = "arn:aws:states:::sns:publish";

/// The embedded store as a Task handler.
pub struct StoreTasks {
    store: Store,
    requests: AtomicU64,
}

impl StoreTasks {
    /// Answers the integrations from `store`.
    pub fn new(store: Store) -> Self {
        StoreTasks {
            store,
            requests: AtomicU64::new(0),
        }
    }

    fn answer(&self, request: &TaskRequest) -> Result<Value, TaskFailure> {
        let resource = request
            .resource
            .strip_suffix(".sync")
            .unwrap_or(&request.resource);
        let result = match resource.rsplit(':').next().unwrap_or_default() {
            "putItem" if resource.contains(":dynamodb:") => self.store.put_item(&request.input),
            "getItem" if resource.contains(":dynamodb:") => self.store.get_item(&request.input),
            "updateItem" if resource.contains(":dynamodb:") => {
                self.store.update_item(&request.input)
            }
            "deleteItem" if resource.contains(":dynamodb:") => {
                self.store.delete_item(&request.input)
            }
            "publish" if resource.contains(":sns:") => self.store.publish(&request.input),
            _ => {
                return Err(TaskFailure::new(
                    StatesError::Runtime.name(),
                    format!(
                        "the local store does not answer the resource {}",
                        request.resource
                    ),
                ));
            }
        };
        match result {
            Ok(response) => Ok(self.with_sdk_metadata(response)),
            Err(error) => Err(failure(&error)),
        }
    }

    /// Adds the SDK's HTTP metadata that Step Functions includes in every service result.
    fn with_sdk_metadata(&self, response: Value) -> Value {
        let mut object = match response {
            Value::Object(object) => object,
            _ => Map::new(),
        };
        let id = self.requests.fetch_add(1, Ordering::Relaxed);
        object.insert("SdkHttpMetadata".into(), json!({"HttpStatusCode": 200}));
        object.insert(
            "SdkResponseMetadata".into(),
            json!({"RequestId": format!("local-{id:016x}")}),
        );
        Value::Object(object)
    }
}

fn failure(error: &StoreError) -> TaskFailure {
    TaskFailure::new(error.error_name(), error.message())
}

impl TaskHandler for StoreTasks {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        // SQLite answers in microseconds; there is nothing to gain from a blocking pool here.
        let answer = self.answer(&request);
        Box::pin(async move { answer })
    }
}

#[cfg(test)]
mod tests {
    use aws_emulator::{KeySchema, KeyType};

    use super::*;

    fn request(resource: &str, input: Value) -> TaskRequest {
        TaskRequest::new(resource, input)
    }

    fn tasks() -> StoreTasks {
        let store = Store::in_memory().expect("an in-memory store");
        store
            .create_table("orders", &KeySchema::new("OrderId", KeyType::S))
            .expect("a table");
        store.create_topic("order-notifications").expect("a topic");
        StoreTasks::new(store)
    }

    fn call(tasks: &StoreTasks, resource: &str, input: Value) -> Result<Value, TaskFailure> {
        futures::executor::block_on(tasks.invoke(request(resource, input)))
    }

    #[test]
    fn a_conditional_put_fails_with_the_integration_error_name() {
        let tasks = tasks();
        let put = json!({"TableName": "orders", "Item": {"OrderId": {"S": "o-1"}},
                         "ConditionExpression": "attribute_not_exists(OrderId)"});
        let first =
            call(&tasks, "arn:aws:states:::dynamodb:putItem", put.clone()).expect("first write");
        assert_eq!(first["SdkHttpMetadata"]["HttpStatusCode"], 200);
        let again =
            call(&tasks, "arn:aws:states:::dynamodb:putItem", put).expect_err("second write");
        assert_eq!(again.error, "DynamoDB.ConditionalCheckFailedException");
        let got = call(
            &tasks,
            "arn:aws:states:::dynamodb:getItem",
            json!({"TableName": "orders", "Key": {"OrderId": {"S": "o-1"}}}),
        )
        .expect("read");
        assert_eq!(got["Item"]["OrderId"]["S"], "o-1");
    }

    #[test]
    fn publish_returns_a_message_id() {
        let tasks = tasks();
        let topic = "arn:aws:sns:us-east-1:123456789012:order-notifications";
        let answer = call(
            &tasks,
            SNS_PUBLISH,
            json!({"TopicArn": topic, "Message": "hello"}),
        )
        .expect("published");
        assert!(answer["MessageId"].is_string(), "{answer}");
        let missing =
            call(&tasks, SNS_PUBLISH, json!({"TopicArn": topic})).expect_err("no message");
        assert_eq!(missing.error, "SNS.InvalidParameterException");
    }

    #[test]
    fn an_unknown_table_and_resource_are_errors() {
        let tasks = tasks();
        let missing = call(
            &tasks,
            "arn:aws:states:::dynamodb:putItem",
            json!({"TableName": "nope", "Item": {"OrderId": {"S": "o"}}}),
        )
        .expect_err("no table");
        assert_eq!(missing.error, "DynamoDB.ResourceNotFoundException");
        let other = call(&tasks, "arn:aws:states:::dynamodb:scan", json!({}))
            .expect_err("not an integration");
        assert_eq!(other.error, "States.Runtime");
    }
}
