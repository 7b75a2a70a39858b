//! The order workflow end to end with DynamoDB and SNS behind `moto_server` (on loopback,
//! through the AWS SDK): every route from its `events/` file, the records read back with
//! DynamoDB scans and the notifications received by an SQS queue subscribed to the topic.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use order_workflow::{TABLE_KEY, TABLE_NAME, TOPIC_NAME};
use serde_json::Value;
use sfn_aws::AwsClients;
use sfn_aws::testing::Moto;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A queue subscribed to the workflow's topic, created before the workflow runs.
async fn subscribe(aws: &AwsClients) -> (aws_sdk_sqs::Client, String) {
    let topic = aws.ensure_topic(TOPIC_NAME).await.expect("the topic");
    let sqs = aws_sdk_sqs::Client::new(aws.sdk_config());
    let queue_url = sqs
        .create_queue()
        .queue_name("subscriber")
        .send()
        .await
        .expect("a queue");
    let queue_url = queue_url.queue_url().expect("its url").to_owned();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes");
    let queue_arn = attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .expect("arn")
        .clone();
    aws.sns()
        .subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("subscribed");
    (sqs, queue_url)
}

/// The notifications the queue received, waiting (bounded) for `count` of them.
async fn received(sqs: &aws_sdk_sqs::Client, queue_url: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut found = Vec::new();
    while found.len() < count && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await;
        for message in out.expect("received").messages() {
            let envelope: Value =
                serde_json::from_str(message.body().unwrap_or_default()).expect("an SNS envelope");
            found.push(envelope);
        }
    }
    found
}

#[test]
fn every_route_records_and_notifies_through_the_aws_sdk() {
    let Some(moto) = Moto::shared() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let aws = runtime.block_on(async {
        let aws = AwsClients::builder()
            .endpoint_url(moto.url())
            .region("us-east-1")
            .operation_timeout(Duration::from_secs(20))
            .build()
            .await
            .expect("clients");
        aws.ensure_table(TABLE_NAME, TABLE_KEY)
            .await
            .expect("the table");
        aws
    });
    let (sqs, queue_url) = runtime.block_on(subscribe(&aws));
    let store = tempfile::tempdir().expect("a temporary directory");
    let routes = [
        ("events/order.json", "SUCCEEDED", "PAYMENT_PROCESSED"),
        (
            "events/workflow/payment-not-verified.json",
            "FAILED",
            "PAYMENT_NOT_VERIFIED",
        ),
        (
            "events/workflow/out-of-stock.json",
            "FAILED",
            "OUT_OF_STOCK",
        ),
        (
            "events/workflow/charge-declined.json",
            "FAILED",
            "PAYMENT_FAILED",
        ),
        ("events/workflow/invalid-order.json", "FAILED", "INVALID"),
        ("events/workflow/missing-items.json", "FAILED", "INVALID"),
    ];
    let mut order_ids = Vec::new();
    for (event, status, state) in routes {
        let out = Command::new(env!("CARGO_BIN_EXE_orderflow"))
            .current_dir(repo())
            .args([
                "--store",
                store.path().to_str().expect("utf-8"),
                "run",
                event,
                "--json",
                "--aws-endpoint",
                moto.url(),
            ])
            .env_remove("ORDERFLOW_SIMULATION")
            .output()
            .expect("orderflow runs");
        let result: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{event}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(result["status"], status, "{event}: {result}");
        assert_eq!(result["orderState"], state, "{event}: {result}");
        assert_eq!(result["record"]["State"], state, "{event}: {result}");
        order_ids.push((
            result["orderId"].as_str().expect("an order id").to_owned(),
            state,
        ));
    }

    let items = runtime
        .block_on(aws.scan_table(TABLE_NAME))
        .expect("a scan");
    let messages = runtime.block_on(received(&sqs, &queue_url, routes.len()));
    assert_eq!(messages.len(), routes.len(), "{messages:?}");
    for (order_id, state) in &order_ids {
        let records: Vec<&Value> = items
            .iter()
            .filter(|item| item[TABLE_KEY]["S"] == order_id.as_str())
            .collect();
        assert_eq!(records.len(), 1, "{order_id}");
        assert_eq!(records[0]["State"]["S"], *state);
        let notes: Vec<Value> = messages
            .iter()
            .filter_map(|m| {
                serde_json::from_str::<Value>(m["Message"].as_str().unwrap_or_default()).ok()
            })
            .filter(|body| body["orderId"] == order_id.as_str())
            .collect();
        assert_eq!(notes.len(), 1, "{order_id}: {messages:?}");
        assert_eq!(notes[0]["orderState"], *state);
        let attribute = messages
            .iter()
            .find(|m| {
                m["Message"]
                    .as_str()
                    .is_some_and(|text| text.contains(order_id.as_str()))
            })
            .map(|m| m["MessageAttributes"]["orderState"]["Value"].clone());
        assert_eq!(attribute, Some(Value::from(*state)), "{order_id}");
    }
    let text = serde_json::to_string(&items).expect("JSON")
        + &serde_json::to_string(&messages).expect("JSON");
    assert!(
        !text.contains("5555555555554444") && !text.contains("5555 5555 5555 4444"),
        "a card number reached AWS"
    );
}
