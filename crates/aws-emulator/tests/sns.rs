//! SNS: topics, publish validation, message storage, FIFO deduplication.

use aws_emulator::Store;
use serde_json::{Value, json};

use crate::common::{TempDir, assert_error};

const INVALID: &str = "SNS.InvalidParameterException";

fn topic(store: &Store) -> String {
    store.create_topic("OrderNotifications").unwrap()
}

#[test]
fn publish_stores_message_and_attributes() {
    let s = Store::in_memory().unwrap();
    let arn = topic(&s);
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:OrderNotifications");
    let response = s
        .publish(&json!({
            "TopicArn": arn,
            "Message": "order o-1: PAYMENT_PROCESSED",
            "Subject": "Order o-1",
            "MessageAttributes": {
                "state": {"DataType": "String", "StringValue": "PAYMENT_PROCESSED"},
                "total": {"DataType": "Number", "StringValue": "42.50"},
                "items": {"DataType": "String.Array", "StringValue": "[\"a\", 1]"}
            }
        }))
        .unwrap();
    let id = response["MessageId"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert!(response.get("SequenceNumber").is_none());
    let messages = s.messages().unwrap();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(
        (m.message_id.as_str(), m.topic_arn.as_str()),
        (id, arn.as_str())
    );
    assert_eq!(m.subject.as_deref(), Some("Order o-1"));
    assert_eq!(
        m.attributes["state"].string_value.as_deref(),
        Some("PAYMENT_PROCESSED")
    );
    assert_eq!(m.attributes["total"].data_type, "Number");
    assert!(m.published_at.elapsed().unwrap().as_secs() < 60);
}

#[test]
fn a_json_message_is_stored_as_its_text() {
    let s = Store::in_memory().unwrap();
    let arn = topic(&s);
    s.publish(&json!({"TopicArn": arn, "Message": {"orderId": "o-1"}}))
        .unwrap();
    assert_eq!(s.messages().unwrap()[0].message, r#"{"orderId":"o-1"}"#);
}

#[test]
fn publish_validation() {
    let s = Store::in_memory().unwrap();
    let arn = topic(&s);
    let big = "x".repeat(262_145);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"Message": "m"}),
            INVALID,
            "TopicArn or TargetArn Reason: no value for required parameter",
        ),
        (json!({"TopicArn": arn}), INVALID, "Value null at 'message'"),
        (
            json!({"TopicArn": arn, "Message": ""}),
            INVALID,
            "Empty message",
        ),
        (
            json!({"TopicArn": arn, "Message": big}),
            INVALID,
            "Message too long",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "Subject": "line\nbreak"}),
            INVALID,
            "Subject",
        ),
        (
            json!({"TopicArn": "not-an-arn", "Message": "m"}),
            INVALID,
            "is not a topic ARN",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "MessageAttributes": {"state": {"DataType": "String"}}}),
            INVALID,
            "message attribute 'state' must contain non-empty message attribute value",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "abc"}}}),
            INVALID,
            "invalid Number value \"abc\"",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "MessageAttributes": {"AWS.x": {"DataType": "String", "StringValue": "v"}}}),
            INVALID,
            "invalid name",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "MessageAttributes": {"x": {"DataType": "Text", "StringValue": "v"}}}),
            INVALID,
            "invalid DataType \"Text\"",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "MessageGroupId": "g"}),
            INVALID,
            "not valid for this topic type",
        ),
        (
            json!({"TopicArn": arn, "Message": "{}", "MessageStructure": "json"}),
            INVALID,
            "No default entry",
        ),
        (
            json!({"TopicArn": arn, "Message": "m", "Extra": 1}),
            INVALID,
            "Extra is not a Publish parameter",
        ),
        (
            json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:Nope", "Message": "m"}),
            "SNS.NotFoundException",
            "Topic does not exist",
        ),
    ];
    for (request, name, fragment) in cases {
        assert_error(s.publish(&request), name, fragment);
    }
    assert!(
        s.messages().unwrap().is_empty(),
        "rejected messages are not stored"
    );
    assert_eq!(
        s.create_topic("bad name").unwrap_err().error_name(),
        INVALID
    );
}

#[test]
fn fifo_topics_need_group_and_deduplicate() {
    let s = Store::in_memory().unwrap();
    let arn = s.create_topic("Orders.fifo").unwrap();
    assert_error(
        s.publish(&json!({"TopicArn": arn, "Message": "m"})),
        INVALID,
        "MessageGroupId parameter is required",
    );
    assert_error(
        s.publish(&json!({"TopicArn": arn, "Message": "m", "MessageGroupId": "g"})),
        INVALID,
        "MessageDeduplicationId provided explicitly",
    );
    let publish = |dedup: &str| {
        s.publish(&json!({"TopicArn": arn, "Message": "m", "MessageGroupId": "g", "MessageDeduplicationId": dedup})).unwrap()
    };
    let first = publish("o-1");
    let repeat = publish("o-1");
    let other = publish("o-2");
    assert_eq!(
        first, repeat,
        "a duplicate within five minutes returns the original"
    );
    assert_ne!(first["MessageId"], other["MessageId"]);
    assert_eq!(first["SequenceNumber"].as_str().unwrap().len(), 20);
    assert_eq!(s.messages().unwrap().len(), 2);
}

#[test]
fn topics_and_messages_persist() {
    let dir = TempDir::new("sns");
    let arn = {
        let s = Store::open(dir.path()).unwrap();
        let arn = topic(&s);
        s.publish(&json!({"TopicArn": arn, "Message": "kept"}))
            .unwrap();
        arn
    };
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.topics().unwrap(), vec![arn.clone()]);
    s.publish(&json!({"TopicArn": arn, "Message": "second"}))
        .unwrap();
    let bodies: Vec<String> = s
        .messages()
        .unwrap()
        .into_iter()
        .map(|m| m.message)
        .collect();
    assert_eq!(bodies, ["kept", "second"]);
}
