//! `arn:aws:states:::sns:publish` over the SNS API.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_sns::operation::RequestId;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_smithy_types::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;
use sfn_local::{Handlers, TaskFailure, TaskHandler, TaskRequest};

use crate::attribute::kind;
use crate::error::{Error, Service};
use crate::params::Params;
use crate::sdk::{self, Exchange};

/// The optimised SNS integration's resource.
pub const SNS_PUBLISH: &str = "arn:aws:states:::sns:publish";

const PUBLISH_PARAMETERS: &[&str] = &[
    "Message",
    "MessageAttributes",
    "MessageDeduplicationId",
    "MessageGroupId",
    "MessageStructure",
    "PhoneNumber",
    "Subject",
    "TargetArn",
    "TopicArn",
];

/// Answers `sns:publish` Task states by calling the SNS API.
#[derive(Debug, Clone)]
pub struct SnsPublish {
    client: aws_sdk_sns::Client,
    endpoint: Arc<str>,
}

impl SnsPublish {
    /// A handler calling through `client`.
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        let region = client
            .config()
            .region()
            .map_or_else(|| "no region".to_owned(), ToString::to_string);
        SnsPublish {
            client,
            endpoint: format!("the SNS endpoint of {region}").into(),
        }
    }

    /// Registers this handler for [`SNS_PUBLISH`].
    pub fn register(self, handlers: &mut Handlers) -> Result<(), Error> {
        crate::register(handlers, SNS_PUBLISH, Arc::new(self))
    }

    /// Publishes the message the parameters describe.
    pub async fn call(&self, resource: &str, input: &Value) -> Result<Value, Error> {
        if resource != SNS_PUBLISH {
            return Err(Error::UnsupportedResource(resource.to_owned()));
        }
        let p = Params::new(Service::Sns, "sns:publish", input, PUBLISH_PARAMETERS)?;
        let message = match p.value("Message") {
            Some(Value::String(text)) => text.clone(),
            // Step Functions sends any other JSON value as its compact JSON text.
            Some(other) => other.to_string(),
            None => return Err(p.invalid("Message", "is required")),
        };
        let exchange = Exchange::default();
        let out = self
            .client
            .publish()
            .set_topic_arn(p.string("TopicArn")?)
            .set_target_arn(p.string("TargetArn")?)
            .set_phone_number(p.string("PhoneNumber")?)
            .message(message)
            .set_subject(p.string("Subject")?)
            .set_message_structure(p.string("MessageStructure")?)
            .set_message_attributes(message_attributes(&p)?)
            .set_message_deduplication_id(p.string("MessageDeduplicationId")?)
            .set_message_group_id(p.string("MessageGroupId")?)
            .customize()
            .interceptor(exchange.clone())
            .send()
            .await
            .map_err(|e| sdk::from_sdk(Service::Sns, e, &exchange, &self.endpoint))?;
        Ok(sdk::result(
            vec![
                (
                    "MessageId",
                    out.message_id().map(|id| Value::String(id.to_owned())),
                ),
                (
                    "SequenceNumber",
                    out.sequence_number().map(|n| Value::String(n.to_owned())),
                ),
            ],
            &exchange,
            out.request_id(),
        ))
    }
}

impl TaskHandler for SnsPublish {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        async move {
            self.call(&request.resource, &request.input)
                .await
                .map_err(TaskFailure::from)
        }
        .boxed()
    }
}

/// `{Name: {DataType, StringValue | BinaryValue}}`, `BinaryValue` in base64.
fn message_attributes(
    p: &Params<'_>,
) -> Result<Option<HashMap<String, MessageAttributeValue>>, Error> {
    let Some(entries) = p.object_map("MessageAttributes")? else {
        return Ok(None);
    };
    let mut out = HashMap::new();
    for (name, entry) in entries {
        let path = format!("MessageAttributes.{name}");
        let mut builder = MessageAttributeValue::builder();
        for (field, value) in entry {
            let here = format!("{path}.{field}");
            let text = value.as_str().ok_or_else(|| {
                p.invalid(&here, format!("must be a string, got {}", kind(value)))
            })?;
            builder = match field.as_str() {
                "DataType" => builder.data_type(text),
                "StringValue" => builder.string_value(text),
                "BinaryValue" => builder.binary_value(Blob::new(
                    STANDARD
                        .decode(text.as_bytes())
                        .map_err(|e| p.invalid(&here, format!("must be base64: {e}")))?,
                )),
                _ => {
                    return Err(p.invalid(&here, "is not a field of a message attribute; it takes DataType, StringValue, BinaryValue"));
                }
            };
        }
        let attribute = builder
            .build()
            .map_err(|_| p.invalid(&format!("{path}.DataType"), "is required"))?;
        if attribute.string_value().is_none() && attribute.binary_value().is_none() {
            return Err(p.invalid(&path, "needs a StringValue or a BinaryValue"));
        }
        out.insert(name.clone(), attribute);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attributes(input: Value) -> Result<Option<HashMap<String, MessageAttributeValue>>, Error> {
        let p = Params::new(Service::Sns, "sns:publish", &input, PUBLISH_PARAMETERS)?;
        message_attributes(&p)
    }

    fn refused(input: Value, field: &str) {
        match attributes(input.clone()) {
            Err(Error::InvalidParameter { field: f, .. }) => assert_eq!(f, field, "{input}"),
            other => panic!("{input}: expected an invalid parameter, got {other:?}"),
        }
    }

    #[test]
    fn message_attributes_convert() {
        let read = attributes(json!({"MessageAttributes": {
            "state": {"DataType": "String", "StringValue": "PAYMENT_PROCESSED"},
            "raw": {"DataType": "Binary", "BinaryValue": "AAE="},
        }}))
        .expect("valid")
        .expect("present");
        assert_eq!(read["state"].data_type(), "String");
        assert_eq!(read["state"].string_value(), Some("PAYMENT_PROCESSED"));
        assert_eq!(
            read["raw"].binary_value().map(Blob::as_ref),
            Some(&[0u8, 1][..])
        );
        assert!(attributes(json!({})).expect("valid").is_none());
    }

    #[test]
    fn bad_message_attributes_name_the_field() {
        refused(json!({"MessageAttributes": []}), "MessageAttributes");
        refused(
            json!({"MessageAttributes": {"a": "x"}}),
            "MessageAttributes.a",
        );
        refused(
            json!({"MessageAttributes": {"a": {"StringValue": "x"}}}),
            "MessageAttributes.a.DataType",
        );
        refused(
            json!({"MessageAttributes": {"a": {"DataType": "String"}}}),
            "MessageAttributes.a",
        );
        refused(
            json!({"MessageAttributes": {"a": {"DataType": 1, "StringValue": "x"}}}),
            "MessageAttributes.a.DataType",
        );
        refused(
            json!({"MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": "%"}}}),
            "MessageAttributes.a.BinaryValue",
        );
        refused(
            json!({"MessageAttributes": {"a": {"DataType": "String", "Value": "x"}}}),
            "MessageAttributes.a.Value",
        );
        refused(json!({"Topic": "x"}), "Topic");
    }
}
