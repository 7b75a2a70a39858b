//! The DynamoDB item operations against `moto_server`.

use serde_json::{Value, json};
use sfn_aws::{AwsClients, DynamoDbTask};
use sfn_local::TaskFailure;

use crate::common::moto::Moto;
use crate::common::{clients, closed_port, unique, within};

const PUT: &str = "arn:aws:states:::dynamodb:putItem";
const GET: &str = "arn:aws:states:::dynamodb:getItem";
const UPDATE: &str = "arn:aws:states:::dynamodb:updateItem";
const DELETE: &str = "arn:aws:states:::dynamodb:deleteItem";

struct Table {
    _moto: std::sync::Arc<Moto>,
    aws: AwsClients,
    task: DynamoDbTask,
    name: String,
}

/// A new table on the shared moto server; `None` when moto is not installed (skipped).
async fn table() -> Option<Table> {
    let moto = Moto::shared()?;
    let aws = clients(moto.url()).await;
    let name = unique("Orders");
    aws.ensure_table(&name, "OrderId")
        .await
        .expect("table created");
    let task = aws.dynamodb_task();
    Some(Table {
        _moto: moto,
        aws,
        task,
        name,
    })
}

impl Table {
    async fn call(&self, resource: &str, mut params: Value) -> Result<Value, TaskFailure> {
        params["TableName"] = json!(self.name);
        self.task
            .call(resource, &params)
            .await
            .map_err(TaskFailure::from)
    }
}

/// Sets are unordered in DynamoDB: compare them sorted.
fn sorted_sets(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                if matches!(key.as_str(), "SS" | "NS" | "BS") {
                    if let Value::Array(items) = inner {
                        items.sort_by_key(|v| v.to_string());
                    }
                } else {
                    *inner = sorted_sets(inner.take());
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| *v = sorted_sets(v.take())),
        _ => {}
    }
    value
}

fn every_type(id: &str) -> Value {
    json!({
        "OrderId": {"S": id},
        "Total": {"N": "42.5"},
        "Signature": {"B": "AAEC/w=="},
        "Paid": {"BOOL": true},
        "Reason": {"NULL": true},
        "Card": {"M": {"brand": {"S": "VISA"}, "last4": {"S": "4242"}}},
        "Items": {"L": [{"M": {"itemId": {"S": "i-1"}, "qty": {"N": "2"}}}, {"S": "loose"}]},
        "Tags": {"SS": ["rush", "gift"]},
        "Sizes": {"NS": ["1", "2.5"]},
        "Blobs": {"BS": ["AA==", "AQI="]},
    })
}

#[tokio::test]
async fn every_attribute_type_survives_put_and_get() {
    within(90, async {
        let Some(t) = table().await else {
            return;
        };
        let put = t.call(PUT, json!({"Item": every_type("o-1")})).await.expect("put");
        assert_eq!(put["SdkHttpMetadata"]["HttpStatusCode"], 200);
        assert!(put["SdkResponseMetadata"]["RequestId"].as_str().is_some_and(|id| !id.is_empty()), "{put}");
        assert!(put.get("Attributes").is_none(), "{put}");

        let got = t.call(GET, json!({"Key": {"OrderId": {"S": "o-1"}}, "ConsistentRead": true})).await.expect("get");
        assert_eq!(sorted_sets(got["Item"].clone()), sorted_sets(every_type("o-1")));
        assert_eq!(got["SdkHttpMetadata"]["HttpStatusCode"], 200);

        let missing = t.call(GET, json!({"Key": {"OrderId": {"S": "o-2"}}})).await.expect("get of a missing item");
        assert!(missing.get("Item").is_none(), "{missing}");

        let projected = t
            .call(GET, json!({"Key": {"OrderId": {"S": "o-1"}}, "ProjectionExpression": "#t", "ExpressionAttributeNames": {"#t": "Total"}}))
            .await
            .expect("projected get");
        assert_eq!(projected["Item"], json!({"Total": {"N": "42.5"}}));
    })
    .await;
}

#[tokio::test]
async fn a_conditional_put_fails_the_second_time_and_keeps_the_first_item() {
    within(90, async {
        let Some(t) = table().await else {
            return;
        };
        let item = |state: &str| json!({"OrderId": {"S": "o-1"}, "State": {"S": state}});
        let params = |state: &str| json!({"Item": item(state), "ConditionExpression": "attribute_not_exists(OrderId)"});
        t.call(PUT, params("PAYMENT_PROCESSED")).await.expect("first write");
        let failure = t.call(PUT, params("ERROR")).await.expect_err("second write");
        assert_eq!(failure.error, "DynamoDB.ConditionalCheckFailedException");
        let cause = failure.cause.unwrap_or_default();
        assert!(cause.contains("(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: "), "{cause}");
        assert_eq!(t.aws.scan_table(&t.name).await.expect("scan"), vec![item("PAYMENT_PROCESSED")]);
    })
    .await;
}

#[tokio::test]
async fn update_and_delete_honour_conditions_and_return_values() {
    within(90, async {
        let Some(t) = table().await else {
            return;
        };
        let key = json!({"OrderId": {"S": "o-1"}});
        t.call(PUT, json!({"Item": {"OrderId": {"S": "o-1"}, "Attempts": {"N": "1"}, "State": {"S": "NEW"}}})).await.expect("put");

        let updated = t
            .call(
                UPDATE,
                json!({
                    "Key": key,
                    "UpdateExpression": "SET #s = :s, Attempts = Attempts + :one",
                    "ConditionExpression": "#s = :expected",
                    "ExpressionAttributeNames": {"#s": "State"},
                    "ExpressionAttributeValues": {":s": {"S": "PAID"}, ":one": {"N": "1"}, ":expected": {"S": "NEW"}},
                    "ReturnValues": "ALL_NEW",
                }),
            )
            .await
            .expect("update");
        assert_eq!(updated["Attributes"], json!({"OrderId": {"S": "o-1"}, "Attempts": {"N": "2"}, "State": {"S": "PAID"}}));

        let stale = t
            .call(
                UPDATE,
                json!({
                    "Key": key,
                    "UpdateExpression": "SET #s = :s",
                    "ConditionExpression": "#s = :expected",
                    "ExpressionAttributeNames": {"#s": "State"},
                    "ExpressionAttributeValues": {":s": {"S": "SHIPPED"}, ":expected": {"S": "NEW"}},
                }),
            )
            .await
            .expect_err("the state is no longer NEW");
        assert_eq!(stale.error, "DynamoDB.ConditionalCheckFailedException");

        let refused = t
            .call(DELETE, json!({"Key": key, "ConditionExpression": "Attempts > :n", "ExpressionAttributeValues": {":n": {"N": "5"}}}))
            .await
            .expect_err("too few attempts to delete");
        assert_eq!(refused.error, "DynamoDB.ConditionalCheckFailedException");

        let deleted = t.call(DELETE, json!({"Key": key, "ReturnValues": "ALL_OLD"})).await.expect("delete");
        assert_eq!(deleted["Attributes"]["State"], json!({"S": "PAID"}));
        assert_eq!(t.aws.scan_table(&t.name).await.expect("scan"), Vec::<Value>::new());
    })
    .await;
}

#[tokio::test]
async fn service_validation_errors_and_missing_tables_are_named_as_step_functions_names_them() {
    within(90, async {
        let Some(t) = table().await else {
            return;
        };
        // DynamoDB answers ValidationException, an error its model does not declare: the Java
        // SDK Step Functions runs on throws its base AmazonDynamoDBException.
        let invalid = t
            .call(
                UPDATE,
                json!({"Key": {"OrderId": {"S": "o-1"}}, "UpdateExpression": "SET A = :undefined"}),
            )
            .await
            .expect_err("an expression value that is not defined");
        assert_eq!(invalid.error, "DynamoDB.AmazonDynamoDBException");
        assert!(
            invalid
                .cause
                .unwrap_or_default()
                .contains("Error Code: ValidationException")
        );

        let params = json!({"TableName": "NoSuchTable", "Key": {"OrderId": {"S": "o-1"}}});
        let missing =
            TaskFailure::from(t.task.call(GET, &params).await.expect_err("no such table"));
        assert_eq!(missing.error, "DynamoDB.ResourceNotFoundException");
    })
    .await;
}

#[tokio::test]
async fn invalid_attribute_values_are_refused_before_anything_is_written() {
    within(90, async {
        let Some(t) = table().await else {
            return;
        };
        for (item, field) in [
            (
                json!({"OrderId": {"S": "o-1"}, "Total": {"N": 12}}),
                "Item.Total.N",
            ),
            (
                json!({"OrderId": {"S": "o-1"}, "Total": "12"}),
                "Item.Total",
            ),
            (
                json!({"OrderId": {"S": "o-1"}, "Tags": {"SS": ["a", 1]}}),
                "Item.Tags.SS[1]",
            ),
            (
                json!({"OrderId": {"S": "o-1"}, "Blob": {"B": "***"}}),
                "Item.Blob.B",
            ),
        ] {
            let failure = t
                .call(PUT, json!({"Item": item}))
                .await
                .expect_err("refused");
            assert_eq!(failure.error, "DynamoDB.AmazonDynamoDBException", "{item}");
            let cause = failure.cause.unwrap_or_default();
            assert!(cause.starts_with(&format!("{field}: ")), "{cause}");
            assert!(cause.contains("Error Code: ValidationException"), "{cause}");
        }
        let failure = t
            .call(
                PUT,
                json!({"Item": {"OrderId": {"S": "o-1"}}, "Conditon": "x"}),
            )
            .await
            .expect_err("unknown field");
        assert!(
            failure
                .cause
                .unwrap_or_default()
                .starts_with("Conditon: is not a parameter of dynamodb:putItem")
        );
        assert_eq!(
            t.aws.scan_table(&t.name).await.expect("scan"),
            Vec::<Value>::new()
        );
    })
    .await;
}

#[tokio::test]
async fn legacy_expected_and_attribute_updates_still_work() {
    within(90, async {
        let Some(t) = table().await else {
            return;
        };
        let key = json!({"OrderId": {"S": "o-1"}});
        t.call(PUT, json!({"Item": {"OrderId": {"S": "o-1"}}, "Expected": {"OrderId": {"Exists": false}}})).await.expect("first");
        let again = t.call(PUT, json!({"Item": {"OrderId": {"S": "o-1"}}, "Expected": {"OrderId": {"Exists": false}}})).await;
        assert_eq!(again.expect_err("exists").error, "DynamoDB.ConditionalCheckFailedException");
        let updated = t
            .call(UPDATE, json!({"Key": key, "AttributeUpdates": {"State": {"Value": {"S": "PAID"}, "Action": "PUT"}}, "ReturnValues": "UPDATED_NEW"}))
            .await
            .expect("legacy update");
        assert_eq!(updated["Attributes"], json!({"State": {"S": "PAID"}}));
    })
    .await;
}

#[tokio::test]
async fn ensure_table_is_idempotent_and_checks_the_key() {
    within(90, async {
        let Some(t) = table().await else {
            return;
        };
        t.aws.ensure_table(&t.name, "OrderId").await.expect("already there");
        let mismatch = t.aws.ensure_table(&t.name, "id").await.expect_err("another key");
        assert_eq!(
            mismatch.to_string(),
            format!("table `{}` exists with key schema OrderId (HASH); expected partition key `id` of type S only", t.name)
        );
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_endpoint_is_an_sdk_client_exception() {
    within(30, async {
        let port = closed_port();
        let aws = clients(&format!("http://127.0.0.1:{port}")).await;
        let params = json!({"TableName": "Orders", "Key": {"OrderId": {"S": "o-1"}}});
        let failure = TaskFailure::from(
            aws.dynamodb_task()
                .call(GET, &params)
                .await
                .expect_err("refused"),
        );
        assert_eq!(failure.error, "DynamoDB.SdkClientException");
        assert!(
            failure
                .cause
                .unwrap_or_default()
                .contains(&format!("127.0.0.1:{port}"))
        );
    })
    .await;
}
