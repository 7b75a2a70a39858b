//! SNS topics and published messages, with Publish's validation and FIFO deduplication.

use std::collections::BTreeMap;
use std::sync::PoisonError;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rusqlite::{OptionalExtension as _, params};
use serde_json::{Map as JsonMap, Value, json};

use crate::Store;
use crate::db::{DbResult as _, from_ms, now_ms};
use crate::error::{Result, Service, StoreError};
use crate::number::Number;
use crate::value::{decode_base64, json_kind};

const SERVICE: Service = Service::Sns;
/// SNS's limit on a message plus its attributes (256 KiB).
const MAX_MESSAGE_BYTES: usize = 262_144;
/// SNS's FIFO deduplication window.
const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;
const PUBLISH_FIELDS: &[&str] = &[
    "TopicArn",
    "TargetArn",
    "PhoneNumber",
    "Message",
    "Subject",
    "MessageStructure",
    "MessageAttributes",
    "MessageGroupId",
    "MessageDeduplicationId",
];

/// One message attribute as published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageAttribute {
    /// `String`, `Number`, `Binary` or `String.Array` (optionally with a custom suffix such as
    /// `String.state`).
    pub data_type: String,
    /// The value of a String, Number or String.Array attribute.
    pub string_value: Option<String>,
    /// The value of a Binary attribute.
    pub binary_value: Option<Vec<u8>>,
}

/// A message stored by [`Store::publish`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredMessage {
    /// The `MessageId` returned to the publisher.
    pub message_id: String,
    /// The topic it was published to.
    pub topic_arn: String,
    /// The message body.
    pub message: String,
    /// The subject, if any.
    pub subject: Option<String>,
    /// Message attributes by name.
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// FIFO topics: the message group.
    pub message_group_id: Option<String>,
    /// FIFO topics: the deduplication id.
    pub message_deduplication_id: Option<String>,
    /// FIFO topics: the sequence number, 20 digits.
    pub sequence_number: Option<String>,
    /// When it was published.
    pub published_at: SystemTime,
}

impl Store {
    /// The ARN a topic of this name has in this store: `arn:aws:sns:<region>:<account>:<name>`.
    pub fn topic_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sns:{}:{}:{name}",
            self.inner.region, self.inner.account_id
        )
    }

    /// Creates a topic (idempotent) and returns its ARN. A name ending in `.fifo` makes a FIFO
    /// topic, whose messages need a `MessageGroupId` and a `MessageDeduplicationId`.
    pub fn create_topic(&self, name: &str) -> Result<String> {
        let base = name.strip_suffix(".fifo").unwrap_or(name);
        let valid = !base.is_empty()
            && name.len() <= 256
            && base
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(StoreError::sns(format!(
                "Invalid parameter: Topic Name {name:?}: topic names are 1 to 256 characters of a-z, A-Z, 0-9, '-' and '_', FIFO topic names end in .fifo"
            )));
        }
        let arn = self.topic_arn(name);
        let fifo = name.ends_with(".fifo");
        let (row_arn, row_name) = (arn.clone(), name.to_owned());
        self.inner.db.write(SERVICE, move |tx| {
            tx.prepare_cached("INSERT OR IGNORE INTO sns_topics (arn, name, fifo, created_ms) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut st| st.execute(params![row_arn, row_name, fifo, now_ms()]))
                .db(SERVICE)
        })?;
        self.topics_cache().insert(arn.clone(), fifo);
        Ok(arn)
    }

    /// ARNs of all topics, sorted.
    pub fn topics(&self) -> Result<Vec<String>> {
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached("SELECT arn FROM sns_topics ORDER BY arn")
                .db(SERVICE)?;
            let rows = st
                .query_map([], |row| row.get::<_, String>(0))
                .db(SERVICE)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db(SERVICE)
        })
    }

    /// Publish, taking the parameters of Step Functions' `arn:aws:states:::sns:publish` task:
    /// `TopicArn`, `Message`, optional `Subject`, `MessageStructure`, `MessageAttributes`
    /// (`{"name": {"DataType": "String", "StringValue": "…"}}`), `MessageGroupId` and
    /// `MessageDeduplicationId`. Returns `{"MessageId": "…"}` (plus `SequenceNumber` on FIFO
    /// topics).
    ///
    /// A `Message` that is not a string is stored as its JSON text, as Step Functions
    /// serialises a JSON `Message` before calling SNS.
    pub fn publish(&self, request: &Value) -> Result<Value> {
        let Value::Object(fields) = request else {
            return Err(StoreError::sns(format!(
                "Invalid parameter: the Publish request must be a JSON object, found {}",
                json_kind(request)
            )));
        };
        if let Some(unknown) = fields
            .keys()
            .find(|k| !PUBLISH_FIELDS.contains(&k.as_str()))
        {
            return Err(StoreError::sns(format!(
                "Invalid parameter: {unknown} is not a Publish parameter; accepted: {}",
                PUBLISH_FIELDS.join(", ")
            )));
        }
        if fields.contains_key("PhoneNumber") {
            return Err(StoreError::sns(
                "Invalid parameter: PhoneNumber Reason: SMS publishing is not emulated by this store; publish to a topic",
            ));
        }
        let topic_arn = publish_topic(fields)?;
        let message = publish_message(fields)?;
        let subject = string_field(fields, "Subject")?.map(str::to_owned);
        if let Some(subject) = &subject {
            check_subject(subject)?;
        }
        match string_field(fields, "MessageStructure")? {
            None => {}
            Some("json") => check_json_structure(&message)?,
            Some(other) => {
                return Err(StoreError::sns(format!(
                    "Invalid parameter: MessageStructure {other:?} Reason: the only supported structure is \"json\""
                )));
            }
        }
        let attributes = match fields.get("MessageAttributes") {
            None => BTreeMap::new(),
            Some(value) => parse_attributes(value)?,
        };
        check_message_size(&message, &attributes)?;
        let (group_id, dedup_id) = publish_ids(fields)?;
        let fifo = self.topic_is_fifo(topic_arn)?;
        check_ids_for_topic(fifo, &group_id, &dedup_id)?;
        let attributes_json = attributes_to_json(&attributes).to_string();
        let message_id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let topic_arn = topic_arn.to_owned();
        let (message_id, seq) = self.inner.db.write(SERVICE, move |tx| {
            if let Some(dedup) = &dedup_id {
                let previous: Option<(String, i64)> = tx
                    .prepare_cached(
                        "SELECT message_id, seq FROM sns_messages WHERE topic_arn = ?1 AND dedup_id = ?2 AND published_ms > ?3 ORDER BY seq DESC LIMIT 1",
                    )
                    .and_then(|mut st| {
                        st.query_row(params![topic_arn, dedup, now - DEDUP_WINDOW_MS], |r| Ok((r.get(0)?, r.get(1)?)))
                            .optional()
                    })
                    .db(SERVICE)?;
                if let Some(previous) = previous {
                    return Ok(previous);
                }
            }
            tx.prepare_cached(
                "INSERT INTO sns_messages (message_id, topic_arn, message, subject, attributes, group_id, dedup_id, published_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut st| {
                st.execute(params![message_id, topic_arn, message, subject, attributes_json, group_id, dedup_id, now])
            })
            .db(SERVICE)?;
            Ok((message_id, tx.last_insert_rowid()))
        })?;
        let mut response = json!({ "MessageId": message_id });
        if fifo {
            response["SequenceNumber"] = Value::String(sequence_number(seq));
        }
        Ok(response)
    }

    /// Every published message, oldest first.
    pub fn messages(&self) -> Result<Vec<StoredMessage>> {
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT m.message_id, m.topic_arn, m.message, m.subject, m.attributes, m.group_id, m.dedup_id, m.published_ms, m.seq, t.fifo
                     FROM sns_messages m LEFT JOIN sns_topics t ON t.arn = m.topic_arn ORDER BY m.seq",
                )
                .db(SERVICE)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, i64>(7)?,
                        r.get::<_, i64>(8)?,
                        r.get::<_, Option<bool>>(9)?,
                    ))
                })
                .db(SERVICE)?;
            let mut out = Vec::new();
            for row in rows {
                let (message_id, topic_arn, message, subject, attrs, group, dedup, published, seq, fifo) = row.db(SERVICE)?;
                let corrupt = |detail: String| StoreError::Corrupt { what: format!("attributes of message {message_id}"), detail };
                let attrs: Value = serde_json::from_str(&attrs).map_err(|e| corrupt(e.to_string()))?;
                let attributes = parse_attributes(&attrs).map_err(|e| corrupt(e.message()))?;
                out.push(StoredMessage {
                    message_id,
                    topic_arn,
                    message,
                    subject,
                    attributes,
                    message_group_id: group,
                    message_deduplication_id: dedup,
                    sequence_number: fifo.unwrap_or(false).then(|| sequence_number(seq)),
                    published_at: from_ms(published),
                });
            }
            Ok(out)
        })
    }

    fn topic_is_fifo(&self, arn: &str) -> Result<bool> {
        if let Some(fifo) = self
            .inner
            .topics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(arn)
        {
            return Ok(*fifo);
        }
        let fifo: Option<bool> = self.inner.db.read(|conn| {
            conn.prepare_cached("SELECT fifo FROM sns_topics WHERE arn = ?1")
                .and_then(|mut st| st.query_row([arn], |r| r.get(0)).optional())
                .db(SERVICE)
        })?;
        let fifo = fifo.ok_or_else(|| StoreError::TopicNotFound {
            topic_arn: arn.to_owned(),
        })?;
        self.topics_cache().insert(arn.to_owned(), fifo);
        Ok(fifo)
    }

    fn topics_cache(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, std::collections::HashMap<String, bool>> {
        self.inner
            .topics
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The topic a Publish goes to: `TopicArn` or `TargetArn`, exactly one of them.
fn publish_topic(fields: &JsonMap<String, Value>) -> Result<&str> {
    let topic_arn = match (
        string_field(fields, "TopicArn")?,
        string_field(fields, "TargetArn")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(StoreError::sns(
                "Invalid parameter: TopicArn Reason: Only one of TopicArn or TargetArn may be given",
            ));
        }
        (Some(arn), None) | (None, Some(arn)) => arn,
        (None, None) => {
            return Err(StoreError::sns(
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
            ));
        }
    };
    check_topic_arn(topic_arn)?;
    Ok(topic_arn)
}

/// A Publish's `Message`, as text, which must not be empty.
fn publish_message(fields: &JsonMap<String, Value>) -> Result<String> {
    let message = match fields.get("Message") {
        None | Some(Value::Null) => {
            return Err(StoreError::sns(
                "Invalid parameter: Message Reason: 1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null",
            ));
        }
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if message.is_empty() {
        return Err(StoreError::sns("Invalid parameter: Empty message"));
    }
    Ok(message)
}

/// Refuses a message that, with its attributes, passes SNS's size limit.
fn check_message_size(
    message: &str,
    attributes: &BTreeMap<String, MessageAttribute>,
) -> Result<()> {
    let size = message.len()
        + attributes
            .iter()
            .map(|(name, a)| {
                name.len()
                    + a.data_type.len()
                    + a.string_value.as_ref().map_or(0, String::len)
                    + a.binary_value.as_ref().map_or(0, Vec::len)
            })
            .sum::<usize>();
    if size > MAX_MESSAGE_BYTES {
        return Err(StoreError::sns(format!(
            "Invalid parameter: Message too long: {size} bytes with attributes, the limit is {MAX_MESSAGE_BYTES}"
        )));
    }
    Ok(())
}

/// A Publish's `MessageGroupId` and `MessageDeduplicationId`, each 1 to 128 printable
/// ASCII characters where given.
fn publish_ids(fields: &JsonMap<String, Value>) -> Result<(Option<String>, Option<String>)> {
    let group_id = string_field(fields, "MessageGroupId")?.map(str::to_owned);
    let dedup_id = string_field(fields, "MessageDeduplicationId")?.map(str::to_owned);
    for (name, value) in [
        ("MessageGroupId", &group_id),
        ("MessageDeduplicationId", &dedup_id),
    ] {
        if let Some(v) = value {
            let valid = !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic());
            if !valid {
                return Err(StoreError::sns(format!(
                    "Invalid parameter: {name} Reason: must be 1 to 128 printable ASCII characters, found {v:?}"
                )));
            }
        }
    }
    Ok((group_id, dedup_id))
}

/// A FIFO topic needs both ids (this emulator has no content-based deduplication); a
/// standard topic takes neither.
fn check_ids_for_topic(
    fifo: bool,
    group_id: &Option<String>,
    dedup_id: &Option<String>,
) -> Result<()> {
    if fifo {
        if group_id.is_none() {
            return Err(StoreError::sns(
                "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
            ));
        }
        if dedup_id.is_none() {
            return Err(StoreError::sns(
                "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
            ));
        }
    } else {
        for (name, value) in [
            ("MessageGroupId", group_id),
            ("MessageDeduplicationId", dedup_id),
        ] {
            if value.is_some() {
                return Err(StoreError::sns(format!(
                    "Invalid parameter: {name} Reason: The request includes {name} parameter that is not valid for this topic type"
                )));
            }
        }
    }
    Ok(())
}

fn string_field<'a>(fields: &'a JsonMap<String, Value>, name: &str) -> Result<Option<&'a str>> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(StoreError::sns(format!(
            "Invalid parameter: {name} Reason: must be a string, found {}",
            json_kind(other)
        ))),
    }
}

fn check_topic_arn(arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.split(':').collect();
    let valid = matches!(parts.as_slice(), ["arn", partition, "sns", region, account, name]
        if partition.starts_with("aws") && !region.is_empty() && !account.is_empty() && !name.is_empty());
    if valid {
        Ok(())
    } else {
        Err(StoreError::sns(format!(
            "Invalid parameter: TopicArn Reason: {arn:?} is not a topic ARN (arn:aws:sns:<region>:<account>:<name>)"
        )))
    }
}

/// SNS subjects: 1-100 printable ASCII characters, no line breaks.
fn check_subject(subject: &str) -> Result<()> {
    let valid = !subject.is_empty()
        && subject.len() <= 100
        && subject
            .chars()
            .all(|c| c.is_ascii() && !c.is_ascii_control());
    if valid {
        Ok(())
    } else {
        Err(StoreError::sns(
            "Invalid parameter: Subject Reason: must be 1 to 100 printable ASCII characters without line breaks",
        ))
    }
}

/// `MessageStructure: json`: the message is an object of protocol to text with a `default`.
fn check_json_structure(message: &str) -> Result<()> {
    let parsed: Value = serde_json::from_str(message).map_err(|_| {
        StoreError::sns("Invalid parameter: Message Structure - JSON message body failed to parse")
    })?;
    let Value::Object(map) = parsed else {
        return Err(StoreError::sns(
            "Invalid parameter: Message Structure - JSON message body failed to parse",
        ));
    };
    if !map.get("default").is_some_and(Value::is_string) {
        return Err(StoreError::sns(
            "Invalid parameter: Message Structure - No default entry in JSON message body",
        ));
    }
    if let Some((protocol, _)) = map.iter().find(|(_, v)| !v.is_string()) {
        return Err(StoreError::sns(format!(
            "Invalid parameter: Message Structure - the entry for {protocol} must be a string"
        )));
    }
    Ok(())
}

/// Parses and validates `MessageAttributes` as SNS does.
fn parse_attributes(value: &Value) -> Result<BTreeMap<String, MessageAttribute>> {
    let Value::Object(map) = value else {
        return Err(StoreError::sns(format!(
            "Invalid parameter: MessageAttributes Reason: must be an object of name to {{DataType, StringValue}}, found {}",
            json_kind(value)
        )));
    };
    let mut out = BTreeMap::new();
    for (name, attr) in map {
        out.insert(name.clone(), parse_attribute(name, attr)?);
    }
    Ok(out)
}

/// One message attribute, `name` its name and `attr` its `{DataType, StringValue}` object.
fn parse_attribute(name: &str, attr: &Value) -> Result<MessageAttribute> {
    let bad = |reason: String| {
        StoreError::sns(format!(
            "Invalid parameter: MessageAttributes Reason: message attribute '{name}' {reason}"
        ))
    };
    if !valid_attribute_name(name) {
        return Err(bad(
            "has an invalid name: names are up to 256 characters of a-z, A-Z, 0-9, '_', '-' and '.', not starting with AWS. or Amazon.".into(),
        ));
    }
    let Value::Object(fields) = attr else {
        return Err(bad(format!(
            "must be an object with DataType and StringValue, found {}",
            json_kind(attr)
        )));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "DataType" | "StringValue" | "BinaryValue"))
    {
        return Err(bad(format!(
            "has an unknown field {unknown}; expected DataType, StringValue or BinaryValue"
        )));
    }
    let data_type = fields
        .get("DataType")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("must have a string DataType".into()))?;
    let base_type = data_type
        .split_once('.')
        .map_or(data_type, |(base, _)| base);
    let base_type = if data_type.starts_with("String.Array") {
        "String.Array"
    } else {
        base_type
    };
    let string_value = match fields.get("StringValue") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(bad(format!(
                "StringValue must be a string, found {}",
                json_kind(other)
            )));
        }
    };
    let binary_value = match fields.get("BinaryValue") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(decode_base64(s).map_err(bad)?),
        Some(other) => {
            return Err(bad(format!(
                "BinaryValue must be a base64 string, found {}",
                json_kind(other)
            )));
        }
    };
    match base_type {
        "String" | "Number" | "String.Array" => {
            let Some(text) = string_value.as_deref().filter(|s| !s.is_empty()) else {
                return Err(bad(format!(
                    "must contain non-empty message attribute value for message attribute type '{data_type}'"
                )));
            };
            if base_type == "Number" {
                Number::parse(text)
                    .map_err(|_| bad(format!("has an invalid Number value {text:?}")))?;
            }
            if base_type == "String.Array" && !is_string_array(text) {
                return Err(bad("has an invalid String.Array value: expected a JSON array of strings, numbers, booleans or null".into()));
            }
        }
        "Binary" => {
            if binary_value.as_ref().is_none_or(Vec::is_empty) {
                return Err(bad(format!(
                    "must contain non-empty message attribute value for message attribute type '{data_type}'"
                )));
            }
        }
        _ => {
            return Err(bad(format!(
                "has an invalid DataType {data_type:?}; expected String, Number, Binary or String.Array"
            )));
        }
    }
    Ok(MessageAttribute {
        data_type: data_type.to_owned(),
        string_value,
        binary_value,
    })
}

/// Whether SNS takes `name` as an attribute name: up to 256 characters of a-z, A-Z, 0-9,
/// `_`, `-` and `.`, no leading, trailing or doubled `.`, not starting with `AWS.` or
/// `Amazon.`.
fn valid_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !name.to_ascii_lowercase().starts_with("aws.")
        && !name.to_ascii_lowercase().starts_with("amazon.")
}

/// Whether `text` is a `String.Array` value: a JSON array of strings, numbers, booleans
/// or nulls.
fn is_string_array(text: &str) -> bool {
    serde_json::from_str::<Value>(text).ok().is_some_and(|v| {
        v.as_array().is_some_and(|items| {
            items.iter().all(|i| {
                matches!(
                    i,
                    Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null
                )
            })
        })
    })
}

fn attributes_to_json(attributes: &BTreeMap<String, MessageAttribute>) -> Value {
    let map: JsonMap<String, Value> = attributes
        .iter()
        .map(|(name, a)| {
            let mut fields = JsonMap::new();
            fields.insert("DataType".into(), Value::String(a.data_type.clone()));
            if let Some(s) = &a.string_value {
                fields.insert("StringValue".into(), Value::String(s.clone()));
            }
            if let Some(b) = &a.binary_value {
                fields.insert("BinaryValue".into(), Value::String(BASE64.encode(b)));
            }
            (name.clone(), Value::Object(fields))
        })
        .collect();
    Value::Object(map)
}

/// FIFO sequence numbers are 20-digit strings.
fn sequence_number(seq: i64) -> String {
    format!("{seq:020}")
}
