//! Checking a TestState mock result against the response shape of the integration it stands
//! in for, as TestState's `fieldValidationMode` asks
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_MockInput.html>).
//!
//! AWS validates against every service's API model. This engine knows the response shapes
//! of the optimized integrations listed in [`shape_of`] only; for any other resource a mock
//! result is not checked, whatever the mode. Within a known shape, fields the shape does not
//! name are ignored in every mode, as AWS documents ("Validation is performed only on fields
//! defined in the AWS service API model",
//! <https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html>), and
//! the messages are AWS's (recorded: LocalStack `tests/aws/services/stepfunctions/v2/
//! test_state/test_field_validation_mode.snapshot.json`, AWS-recorded 2025-11-26).

use serde_json::Value;

/// How strictly a mock result is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidationMode {
    /// Required fields must be present, present fields must have the shape's types (AWS's
    /// default).
    #[default]
    Strict,
    /// Present fields must have the shape's types.
    Present,
    /// No check.
    None,
}

impl FieldValidationMode {
    /// `STRICT`, `PRESENT` or `NONE`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "STRICT" => Some(Self::Strict),
            "PRESENT" => Some(Self::Present),
            "NONE" => Some(Self::None),
            _ => None,
        }
    }
}

/// A response field's type.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Any,
    String,
    Number,
    Object(&'static [Field]),
    /// A map of any keys (DynamoDB's `Item`, `Attributes`).
    Map,
    Array(&'static Shape),
}

#[derive(Debug)]
struct Field {
    name: &'static str,
    shape: Shape,
    required: bool,
}

const fn opt(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        required: false,
    }
}

const fn req(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        shape,
        required: true,
    }
}

const LAMBDA_INVOKE: &[Field] = &[
    opt("ExecutedVersion", Shape::String),
    opt("FunctionError", Shape::String),
    opt("LogResult", Shape::String),
    opt("Payload", Shape::Any),
    opt("StatusCode", Shape::Number),
];

const START_EXECUTION: &[Field] = &[
    req("ExecutionArn", Shape::String),
    req("StartDate", Shape::String),
];

const PUT_EVENTS_ENTRY: Shape = Shape::Object(&[
    opt("ErrorCode", Shape::String),
    opt("ErrorMessage", Shape::String),
    opt("EventId", Shape::String),
]);

const PUT_EVENTS: &[Field] = &[
    opt("Entries", Shape::Array(&PUT_EVENTS_ENTRY)),
    opt("FailedEntryCount", Shape::Number),
];

const SNS_PUBLISH: &[Field] = &[
    opt("MessageId", Shape::String),
    opt("SequenceNumber", Shape::String),
];

const SQS_SEND: &[Field] = &[
    opt("MD5OfMessageAttributes", Shape::String),
    opt("MD5OfMessageBody", Shape::String),
    opt("MD5OfMessageSystemAttributes", Shape::String),
    opt("MessageId", Shape::String),
    opt("SequenceNumber", Shape::String),
];

const CAPACITY: Shape = Shape::Object(&[
    opt("TableName", Shape::String),
    opt("CapacityUnits", Shape::Number),
    opt("ReadCapacityUnits", Shape::Number),
    opt("WriteCapacityUnits", Shape::Number),
    opt("Table", Shape::Map),
    opt("LocalSecondaryIndexes", Shape::Map),
    opt("GlobalSecondaryIndexes", Shape::Map),
]);

const DYNAMODB_WRITE: &[Field] = &[
    opt("Attributes", Shape::Map),
    opt("ConsumedCapacity", CAPACITY),
    opt("ItemCollectionMetrics", Shape::Map),
];

const DYNAMODB_GET: &[Field] = &[opt("Item", Shape::Map), opt("ConsumedCapacity", CAPACITY)];

/// The response shape of the integration `resource` names, when this engine knows it.
fn shape_of(resource: &str) -> Option<&'static [Field]> {
    // `.waitForTaskToken` answers with what the callback sends, of no fixed shape.
    let base = resource.strip_prefix("arn:aws:states:::")?;
    Some(match base {
        "lambda:invoke" => LAMBDA_INVOKE,
        "states:startExecution" => START_EXECUTION,
        "events:putEvents" => PUT_EVENTS,
        "sns:publish" => SNS_PUBLISH,
        "sqs:sendMessage" => SQS_SEND,
        "dynamodb:putItem" | "dynamodb:updateItem" | "dynamodb:deleteItem" => DYNAMODB_WRITE,
        "dynamodb:getItem" => DYNAMODB_GET,
        _ => return None,
    })
}

/// Checks `result` against the shape of `resource`'s response; `Err` is AWS's message.
pub(crate) fn validate(
    resource: &str,
    result: &Value,
    mode: FieldValidationMode,
) -> Result<(), String> {
    if mode == FieldValidationMode::None {
        return Ok(());
    }
    let Some(fields) = shape_of(resource) else {
        return Ok(());
    };
    let strict = mode == FieldValidationMode::Strict;
    let Value::Object(_) = result else {
        return Err(
            "Mock result schema validation error: the mocked result must be a JSON object".into(),
        );
    };
    check(&Shape::Object(fields), "", result, strict, 0)
        .map_err(|m| format!("Mock result schema validation error: {m}"))
}

/// The shapes above nest at most four levels; the bound keeps the walk finite whatever they
/// say.
const MAX_SHAPE_DEPTH: usize = 16;

fn check(shape: &Shape, name: &str, v: &Value, strict: bool, depth: usize) -> Result<(), String> {
    if depth > MAX_SHAPE_DEPTH {
        return Ok(());
    }
    match (shape, v) {
        (Shape::Any, _)
        | (Shape::String, Value::String(_))
        | (Shape::Number, Value::Number(_))
        | (Shape::Map, Value::Object(_)) => Ok(()),
        (Shape::String, _) => Err(format!("Field '{name}' must be a string")),
        (Shape::Number, _) => Err(format!("Field '{name}' must be a number")),
        (Shape::Map, _) => Err(format!("Field '{name}' must be an object")),
        (Shape::Array(item), Value::Array(items)) => items
            .iter()
            .try_for_each(|i| check(item, name, i, strict, depth + 1)),
        (Shape::Array(_), _) => Err(format!("Field '{name}' must be an array")),
        (Shape::Object(fields), Value::Object(m)) => {
            for f in *fields {
                match m.get(f.name) {
                    Some(v) => check(&f.shape, f.name, v, strict, depth + 1)?,
                    None if strict && f.required => {
                        return Err(format!("Required field '{}' is missing", f.name));
                    }
                    None => {}
                }
            }
            Ok(())
        }
        (Shape::Object(_), _) => Err(format!("Field '{name}' must be an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::FieldValidationMode::{None as Off, Present, Strict};
    use super::*;
    use serde_json::json;

    fn give(resource: &str, mode: FieldValidationMode, v: Value) -> Result<(), String> {
        validate(resource, &v, mode)
    }

    const SFN: &str = "arn:aws:states:::states:startExecution";
    const EVENTS: &str = "arn:aws:states:::events:putEvents";

    #[test]
    fn recorded_messages() {
        let msg = |m: &str| Err(format!("Mock result schema validation error: {m}"));
        assert_eq!(
            give(EVENTS, Strict, json!({"Entries": {}})),
            msg("Field 'Entries' must be an array")
        );
        assert_eq!(
            give(
                EVENTS,
                Strict,
                json!({"Entries": [{"EventId": "a"}, {"EventId": 1}]})
            ),
            msg("Field 'EventId' must be a string")
        );
        assert_eq!(
            give(SFN, Strict, json!({"executionArn": "x", "StartDate": "d"})),
            msg("Required field 'ExecutionArn' is missing")
        );
        assert_eq!(
            give(SFN, Strict, json!({"ExecutionArn": "x", "StartDate": true})),
            msg("Field 'StartDate' must be a string")
        );
        assert_eq!(
            give(
                "arn:aws:states:::lambda:invoke",
                Strict,
                json!({"StatusCode": "200"})
            ),
            msg("Field 'StatusCode' must be a number")
        );
        assert_eq!(
            give(
                "arn:aws:states:::dynamodb:putItem",
                Strict,
                json!({"ConsumedCapacity": {"CapacityUnits": "1"}})
            ),
            msg("Field 'CapacityUnits' must be a number")
        );
    }

    #[test]
    fn modes_and_unknown_fields() {
        // Fields outside the model pass in every mode (recorded: field_not_part_of_api_spec).
        assert_eq!(give(EVENTS, Strict, json!({"random": "json"})), Ok(()));
        assert_eq!(give(EVENTS, Strict, json!({})), Ok(()));
        // PRESENT checks types, not presence.
        assert_eq!(give(SFN, Present, json!({})), Ok(()));
        assert!(give(SFN, Present, json!({"StartDate": 1})).is_err());
        assert_eq!(give(SFN, Off, json!({"StartDate": 1})), Ok(()));
        // A resource of unknown shape is not checked.
        assert_eq!(
            give("arn:aws:states:::glue:startJobRun", Strict, json!(1)),
            Ok(())
        );
        assert!(give(SFN, Strict, json!([1])).is_err());
    }
}
