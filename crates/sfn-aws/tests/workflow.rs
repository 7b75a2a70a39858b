//! The handlers under the engine: a record-then-notify machine against `moto_server`, run
//! twice for the same order.

use serde_json::json;
use sfn_local::{ExecuteOptions, Handlers, StateMachine, Status};

use crate::common::moto::Moto;
use crate::common::{clients, unique, within};

#[tokio::test]
async fn a_repeated_order_is_recorded_once_and_the_duplicate_is_caught() {
    within(90, async {
        let Some(moto) = Moto::shared() else {
            return;
        };
        let aws = clients(moto.url()).await;
        let table = unique("Orders");
        aws.ensure_table(&table, "OrderId").await.expect("table");
        let topic = aws.ensure_topic(&unique("Notifications")).await.expect("topic");
        let mut handlers = Handlers::new();
        aws.register_services(&mut handlers).expect("registered");

        let machine = StateMachine::from_value(&json!({
            "StartAt": "Record",
            "States": {
                "Record": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:putItem",
                    "Parameters": {
                        "TableName": table,
                        "Item": {"OrderId": {"S.$": "$.orderId"}, "State": {"S": "PAYMENT_PROCESSED"}},
                        "ConditionExpression": "attribute_not_exists(OrderId)"
                    },
                    "ResultPath": "$.record",
                    "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.error", "Next": "Duplicate"}],
                    "Next": "Notify"
                },
                "Notify": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sns:publish",
                    "Parameters": {
                        "TopicArn": topic,
                        "Message": {"orderId.$": "$.orderId", "state": "PAYMENT_PROCESSED"},
                        "MessageAttributes": {"state": {"DataType": "String", "StringValue": "PAYMENT_PROCESSED"}}
                    },
                    "ResultSelector": {"messageId.$": "$.MessageId", "status.$": "$.SdkHttpMetadata.HttpStatusCode"},
                    "End": true
                },
                "Duplicate": {"Type": "Fail", "Error": "DuplicateOrder", "Cause": "the order was already recorded"}
            }
        }))
        .expect("a valid machine");
        let options = ExecuteOptions::new().handlers(handlers);

        let first = machine.execute(json!({"orderId": "o-7"}), &options).await;
        assert_eq!(first.status, Status::Succeeded, "{}", first.result_json());
        let output = first.output.expect("an output");
        assert!(output["messageId"].as_str().is_some_and(|id| !id.is_empty()), "{output}");
        assert_eq!(output["status"], 200);

        let second = machine.execute(json!({"orderId": "o-7"}), &options).await;
        assert_eq!(second.status, Status::Failed);
        assert_eq!(second.error.as_deref(), Some("DuplicateOrder"));

        let items = aws.scan_table(&table).await.expect("scan");
        assert_eq!(items, vec![json!({"OrderId": {"S": "o-7"}, "State": {"S": "PAYMENT_PROCESSED"}})]);
    })
    .await;
}
