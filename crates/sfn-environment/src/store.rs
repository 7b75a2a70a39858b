//! `dynamodb:*` and `sns:publish` answered by the embedded store, with the result shapes
//! and errors Step Functions' optimised integrations give on AWS.

use std::sync::Arc;

use aws_emulator::{Store, StoreError};
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use sfn_local::{Clock, StatesError, TaskFailure, TaskHandler, TaskRequest, system_millis};

use crate::http::{crc32, http_date, sdk_result};

/// The DynamoDB integrations, one resource per API action.
pub const DYNAMODB: &str = "arn:aws:states:::dynamodb:*";
/// The SNS publish integration.
pub const SNS_PUBLISH: &str = "arn:aws:states:::sns:publish";

/// The embedded store as a Task handler.
pub struct StoreTasks {
    store: Store,
    clock: Option<Arc<dyn Clock>>,
}

impl StoreTasks {
    /// Answers the integrations from `store`; the responses' `Date` headers read the system
    /// time.
    pub fn new(store: Store) -> Self {
        StoreTasks { store, clock: None }
    }

    /// Dates the responses by `clock` (the execution's, so that virtual time shows).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    fn answer(&self, request: &TaskRequest) -> Result<Value, TaskFailure> {
        let resource = request
            .resource
            .strip_suffix(".sync")
            .unwrap_or(&request.resource);
        let action = resource.rsplit(':').next().unwrap_or_default();
        let dynamodb = resource.contains(":dynamodb:");
        let result = match action {
            "putItem" if dynamodb => self.store.put_item(&request.input),
            "getItem" if dynamodb => self.store.get_item(&request.input),
            "updateItem" if dynamodb => self.store.update_item(&request.input),
            "deleteItem" if dynamodb => self.store.delete_item(&request.input),
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
        let request_id = uuid::Uuid::new_v4().to_string();
        match result {
            Ok(response) => Ok(self.with_sdk_metadata(action, response, &request_id)),
            Err(error) => Err(failure(&error, &request_id)),
        }
    }

    /// The response with the SDK's HTTP metadata that Step Functions includes in every
    /// service result: the headers the service sent, in the order recorded for it
    /// (DynamoDB's GetItem spells its request id header in lower case).
    fn with_sdk_metadata(&self, action: &str, response: Value, request_id: &str) -> Value {
        let fields = match response {
            Value::Object(object) => object,
            _ => Map::new(),
        };
        let date = http_date(
            self.clock
                .as_ref()
                .map_or_else(system_millis, |c| c.now_millis()),
        );
        let id = request_id.to_owned();
        let headers: Vec<(&str, String)> = if action == "publish" {
            let body = publish_response(&fields, request_id);
            vec![
                ("x-amzn-RequestId", id),
                ("connection", "keep-alive".into()),
                ("Content-Length", body.len().to_string()),
                ("Date", date),
                ("Content-Type", "text/xml".into()),
            ]
        } else {
            let body = Value::Object(fields.clone()).to_string();
            let crc = crc32(body.as_bytes()).to_string();
            let length = body.len().to_string();
            let json = "application/x-amz-json-1.0".to_owned();
            if action == "getItem" {
                vec![
                    ("Server", "Server".into()),
                    ("x-amzn-requestid", id),
                    ("Connection", "keep-alive".into()),
                    ("x-amz-crc32", crc),
                    ("Content-Length", length),
                    ("Date", date),
                    ("Content-Type", json),
                ]
            } else {
                vec![
                    ("Server", "Server".into()),
                    ("Connection", "keep-alive".into()),
                    ("x-amzn-RequestId", id),
                    ("x-amz-crc32", crc),
                    ("Content-Length", length),
                    ("Date", date),
                    ("Content-Type", json),
                ]
            }
        };
        sdk_result(fields, &headers, request_id)
    }
}

/// SNS's Publish response body (its query API answers in XML), whose length the
/// `Content-Length` header gives.
fn publish_response(fields: &Map<String, Value>, request_id: &str) -> String {
    let message_id = fields
        .get("MessageId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sequence = fields
        .get("SequenceNumber")
        .and_then(Value::as_str)
        .map(|n| format!("    <SequenceNumber>{n}</SequenceNumber>\n"))
        .unwrap_or_default();
    format!(
        "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\n  <PublishResult>\n    <MessageId>{message_id}</MessageId>\n{sequence}  </PublishResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</PublishResponse>\n"
    )
}

/// A service error as Step Functions reports it: the service's prefix and the SDK's
/// exception name (DynamoDB's ValidationException reaches the SDK as the generic
/// `AmazonDynamoDBException`), and the SDK's message, with its service, status, error code
/// and request id appended (as recorded, e.g. task_service_dynamodb__invalid_param).
fn failure(error: &StoreError, request_id: &str) -> TaskFailure {
    let (name, message, service, status, code) = match error {
        StoreError::TableNotFound { .. } => (
            "DynamoDB.ResourceNotFoundException",
            "Requested resource not found".to_owned(),
            "AmazonDynamoDBv2",
            400,
            "ResourceNotFoundException",
        ),
        StoreError::Validation { message } => (
            "DynamoDB.AmazonDynamoDBException",
            message.clone(),
            "AmazonDynamoDBv2",
            400,
            "ValidationException",
        ),
        StoreError::ConditionalCheckFailed { .. } => (
            "DynamoDB.ConditionalCheckFailedException",
            error.message(),
            "AmazonDynamoDBv2",
            400,
            "ConditionalCheckFailedException",
        ),
        StoreError::SnsInvalidParameter { message } => (
            "SNS.InvalidParameterException",
            message.clone(),
            "AmazonSNS",
            400,
            "InvalidParameter",
        ),
        StoreError::TopicNotFound { .. } => (
            "SNS.NotFoundException",
            "Topic does not exist".to_owned(),
            "AmazonSNS",
            404,
            "NotFound",
        ),
        other => return TaskFailure::new(other.error_name(), other.message()),
    };
    TaskFailure::new(
        name,
        format!(
            "{message} (Service: {service}; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)"
        ),
    )
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
    use serde_json::json;

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

    /// As recorded (dynamodb_task_service__base_integrations__*, task_service_dynamodb__*):
    /// every header twice, the body's length, and the SDK's detail after each message.
    #[test]
    fn answers_carry_the_sdk_metadata_and_errors_the_sdk_detail() {
        let tasks = tasks();
        let put = call(
            &tasks,
            "arn:aws:states:::dynamodb:putItem",
            json!({"TableName": "orders", "Item": {"OrderId": {"S": "o-1"}}}),
        )
        .expect("written");
        let keys: Vec<&String> = put.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["SdkHttpMetadata", "SdkResponseMetadata"]);
        let metadata = &put["SdkHttpMetadata"];
        assert_eq!(metadata["HttpHeaders"]["Content-Length"], "2");
        assert_eq!(metadata["AllHttpHeaders"]["Content-Length"], json!(["2"]));
        assert_eq!(
            metadata["HttpHeaders"]["x-amzn-RequestId"],
            put["SdkResponseMetadata"]["RequestId"]
        );
        let invalid = call(
            &tasks,
            "arn:aws:states:::dynamodb:putItem",
            json!({"TableName": "orders", "Item": null}),
        )
        .expect_err("no item");
        assert_eq!(invalid.error, "DynamoDB.AmazonDynamoDBException");
        let cause = invalid.cause.unwrap_or_default();
        assert!(
            cause.contains(
                "(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException; Request ID: "
            ),
            "{cause}"
        );
        let published = call(
            &tasks,
            SNS_PUBLISH,
            json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:order-notifications", "Message": "m"}),
        )
        .expect("published");
        assert_eq!(
            published["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"],
            "294"
        );
    }
}
