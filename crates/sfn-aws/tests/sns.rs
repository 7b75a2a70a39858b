//! `sns:publish` against `moto_server`, the messages read back through an SQS queue
//! subscribed to the topic, as a subscriber on AWS would receive them.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};
use sfn_aws::{AwsClients, SNS_PUBLISH};
use sfn_local::TaskFailure;

use crate::common::moto::Moto;
use crate::common::{clients, unique, within};

/// A topic with a queue subscribed to it.
struct Subscribed {
    _moto: std::sync::Arc<Moto>,
    aws: AwsClients,
    sqs: aws_sdk_sqs::Client,
    topic: String,
    queue_url: String,
}

/// `None` when moto is not installed (skipped).
async fn subscribed() -> Option<Subscribed> {
    let moto = Moto::shared()?;
    let aws = clients(moto.url()).await;
    let topic = aws
        .ensure_topic(&unique("OrderNotifications"))
        .await
        .expect("topic");
    let sqs = aws_sdk_sqs::Client::new(aws.sdk_config());
    let queue_url = sqs
        .create_queue()
        .queue_name(unique("subscriber"))
        .send()
        .await
        .expect("queue")
        .queue_url()
        .expect("its url")
        .to_owned();
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
        .expect("queue arn")
        .clone();
    aws.sns()
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("subscription");
    Some(Subscribed {
        _moto: moto,
        aws,
        sqs,
        topic,
        queue_url,
    })
}

impl Subscribed {
    /// The SNS notifications the queue received, waiting (bounded) for `count` of them.
    async fn notifications(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut found = Vec::new();
        while found.len() < count && Instant::now() < deadline {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for message in out.messages() {
                found.push(
                    serde_json::from_str(message.body().unwrap_or_default())
                        .expect("an SNS notification in JSON"),
                );
            }
        }
        found
    }
}

#[tokio::test]
async fn a_published_message_reaches_subscribers_with_its_attributes() {
    within(90, async {
        let Some(s) = subscribed().await else {
            return;
        };
        let message =
            json!({"orderId": "o-1", "state": "PAYMENT_PROCESSED", "card": {"last4": "4242"}});
        let params = json!({
            "TopicArn": s.topic,
            "Message": message,
            "Subject": "Order o-1: PAYMENT_PROCESSED",
            "MessageAttributes": {
                "state": {"DataType": "String", "StringValue": "PAYMENT_PROCESSED"},
                "total": {"DataType": "Number", "StringValue": "42.5"},
                "raw": {"DataType": "Binary", "BinaryValue": "AAE="},
            },
        });
        let answer = s
            .aws
            .sns_publish()
            .call(SNS_PUBLISH, &params)
            .await
            .expect("published");
        let id = answer["MessageId"]
            .as_str()
            .expect("a MessageId")
            .to_owned();
        assert_eq!(answer["SdkHttpMetadata"]["HttpStatusCode"], 200);
        assert!(
            answer["SdkResponseMetadata"]["RequestId"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{answer}"
        );

        let received = s.notifications(1).await;
        assert_eq!(received.len(), 1, "{received:?}");
        let n = &received[0];
        assert_eq!(n["Type"], "Notification");
        assert_eq!(n["MessageId"], id.as_str());
        assert_eq!(n["TopicArn"], s.topic.as_str());
        assert_eq!(n["Subject"], "Order o-1: PAYMENT_PROCESSED");
        // A JSON Message is sent as its compact text.
        assert_eq!(n["Message"], message.to_string());
        assert_eq!(
            n["MessageAttributes"]["state"],
            json!({"Type": "String", "Value": "PAYMENT_PROCESSED"})
        );
        assert_eq!(
            n["MessageAttributes"]["total"],
            json!({"Type": "Number", "Value": "42.5"})
        );
        assert_eq!(
            n["MessageAttributes"]["raw"],
            json!({"Type": "Binary", "Value": "AAE="})
        );
    })
    .await;
}

#[tokio::test]
async fn a_string_message_is_sent_as_is() {
    within(90, async {
        let Some(s) = subscribed().await else {
            return;
        };
        let params = json!({"TopicArn": s.topic, "Message": "order o-2 is out of stock"});
        s.aws
            .sns_publish()
            .call(SNS_PUBLISH, &params)
            .await
            .expect("published");
        let received = s.notifications(1).await;
        assert_eq!(received.len(), 1, "{received:?}");
        assert_eq!(received[0]["Message"], "order o-2 is out of stock");
    })
    .await;
}

#[tokio::test]
async fn publishing_to_a_missing_topic_is_sns_not_found() {
    within(60, async {
        let Some(moto) = Moto::shared() else {
            return;
        };
        let aws = clients(moto.url()).await;
        let params =
            json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:no-such-topic", "Message": "x"});
        let failure = TaskFailure::from(
            aws.sns_publish()
                .call(SNS_PUBLISH, &params)
                .await
                .expect_err("no topic"),
        );
        assert_eq!(failure.error, "SNS.NotFoundException");
        let cause = failure.cause.unwrap_or_default();
        assert!(
            cause.contains("(Service: AmazonSNS; Status Code: 404; Error Code: NotFound;"),
            "{cause}"
        );
    })
    .await;
}

#[tokio::test]
async fn bad_parameters_are_refused_before_publishing() {
    within(60, async {
        let Some(s) = subscribed().await else {
            return;
        };
        for (params, field) in [
            (json!({"TopicArn": s.topic}), "Message"),
            (json!({"TopicArn": s.topic, "Message": "x", "Subjet": "typo"}), "Subjet"),
            (json!({"TopicArn": s.topic, "Message": "x", "MessageAttributes": {"state": {"DataType": "String"}}}), "MessageAttributes.state"),
        ] {
            let failure = TaskFailure::from(s.aws.sns_publish().call(SNS_PUBLISH, &params).await.expect_err("refused"));
            assert_eq!(failure.error, "SNS.InvalidParameterException", "{params}");
            assert!(failure.cause.unwrap_or_default().starts_with(&format!("{field}: ")), "{params}");
        }
        let params = json!({"TopicArn": s.topic, "Message": "sent after the refusals"});
        s.aws.sns_publish().call(SNS_PUBLISH, &params).await.expect("published");
        let received = s.notifications(2).await;
        assert_eq!(received.len(), 1, "only the valid message went out: {received:?}");
    })
    .await;
}
