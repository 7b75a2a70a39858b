//! DynamoDB JSON (`{"S": "x"}`, `{"N": "1.5"}`, `{"M": {…}}`, …) to and from the SDK's
//! [`AttributeValue`].
//!
//! This is the format of the `Item`, `Key` and `ExpressionAttributeValues` parameters of
//! Step Functions' DynamoDB integration and of the `Item`/`Attributes` it returns. Numbers
//! travel as strings and binaries as base64, as in DynamoDB's wire format; a shape that is not
//! an attribute value is refused with the path to it, before anything is sent.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::error::{Error, Service};

/// DynamoDB allows 32 levels of nested `M`/`L`; past a few more the value cannot be valid,
/// and stopping there keeps the recursion bounded for any input.
const MAX_DEPTH: usize = 40;

/// One attribute value from DynamoDB JSON; `path` names it in errors (e.g. `Item.total`).
pub fn attribute_from_json(path: &str, value: &Value) -> Result<AttributeValue, Error> {
    from_json(path, value, 0)
}

/// A map of attribute values (an item, a key, `ExpressionAttributeValues`) from DynamoDB JSON.
pub fn item_from_json(path: &str, value: &Value) -> Result<HashMap<String, AttributeValue>, Error> {
    let Value::Object(map) = value else {
        return Err(invalid(
            path,
            format!("must be an object of attribute values, got {}", kind(value)),
        ));
    };
    map_from_json(path, map, 0)
}

/// One attribute value as DynamoDB JSON.
pub fn attribute_to_json(value: &AttributeValue) -> Result<Value, Error> {
    to_json(value, 0)
}

/// A map of attribute values as a DynamoDB JSON object.
pub fn item_to_json(item: &HashMap<String, AttributeValue>) -> Result<Value, Error> {
    map_to_json(item, 0).map(Value::Object)
}

fn from_json(path: &str, value: &Value, depth: usize) -> Result<AttributeValue, Error> {
    if depth > MAX_DEPTH {
        return Err(invalid(
            path,
            format!("nests more than {MAX_DEPTH} levels of M and L"),
        ));
    }
    let (tag, inner) = match value {
        Value::Object(map) if map.len() == 1 => match map.iter().next() {
            Some(entry) => entry,
            None => return Err(not_an_attribute(path, value)),
        },
        _ => return Err(not_an_attribute(path, value)),
    };
    let here = format!("{path}.{tag}");
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(string(&here, inner, "a string")?),
        "N" => AttributeValue::N(string(
            &here,
            inner,
            "a string holding a number, e.g. \"12.5\"",
        )?),
        "B" => AttributeValue::B(binary(&here, inner)?),
        "BOOL" => match inner {
            Value::Bool(b) => AttributeValue::Bool(*b),
            other => {
                return Err(invalid(
                    &here,
                    format!("must be true or false, got {}", kind(other)),
                ));
            }
        },
        "NULL" => match inner {
            Value::Bool(true) => AttributeValue::Null(true),
            other => return Err(invalid(&here, format!("must be true, got {}", kind(other)))),
        },
        "M" => match inner {
            Value::Object(map) => AttributeValue::M(map_from_json(&here, map, depth + 1)?),
            other => {
                return Err(invalid(
                    &here,
                    format!("must be an object of attribute values, got {}", kind(other)),
                ));
            }
        },
        "L" => AttributeValue::L(
            array(&here, inner)?
                .iter()
                .enumerate()
                .map(|(i, v)| from_json(&format!("{here}[{i}]"), v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        "SS" => AttributeValue::Ss(strings(&here, inner, "a string")?),
        "NS" => AttributeValue::Ns(strings(&here, inner, "a string holding a number")?),
        "BS" => AttributeValue::Bs(
            array(&here, inner)?
                .iter()
                .enumerate()
                .map(|(i, v)| binary(&format!("{here}[{i}]"), v))
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(invalid(
                path,
                format!(
                    "has unknown type `{other}`; expected one of S, N, B, BOOL, NULL, M, L, SS, NS, BS"
                ),
            ));
        }
    })
}

fn map_from_json(
    path: &str,
    map: &Map<String, Value>,
    depth: usize,
) -> Result<HashMap<String, AttributeValue>, Error> {
    map.iter()
        .map(|(name, v)| {
            Ok((
                name.clone(),
                from_json(&format!("{path}.{name}"), v, depth)?,
            ))
        })
        .collect()
}

fn to_json(value: &AttributeValue, depth: usize) -> Result<Value, Error> {
    if depth > MAX_DEPTH {
        return Err(unreadable(format!(
            "an attribute value nests more than {MAX_DEPTH} levels"
        )));
    }
    let (tag, inner) = match value {
        AttributeValue::S(s) => ("S", Value::String(s.clone())),
        AttributeValue::N(n) => ("N", Value::String(n.clone())),
        AttributeValue::B(b) => ("B", Value::String(STANDARD.encode(b.as_ref()))),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null(b) => ("NULL", Value::Bool(*b)),
        AttributeValue::M(m) => ("M", Value::Object(map_to_json(m, depth + 1)?)),
        AttributeValue::L(l) => (
            "L",
            Value::Array(
                l.iter()
                    .map(|v| to_json(v, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
        ),
        AttributeValue::Ss(ss) => ("SS", ss.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(ns) => ("NS", ns.iter().cloned().map(Value::String).collect()),
        AttributeValue::Bs(bs) => (
            "BS",
            bs.iter()
                .map(|b| Value::String(STANDARD.encode(b.as_ref())))
                .collect(),
        ),
        other => {
            return Err(unreadable(format!(
                "attribute value of a type this SDK does not know: {other:?}"
            )));
        }
    };
    let mut map = Map::new();
    map.insert(tag.to_owned(), inner);
    Ok(Value::Object(map))
}

fn map_to_json(
    map: &HashMap<String, AttributeValue>,
    depth: usize,
) -> Result<Map<String, Value>, Error> {
    map.iter()
        .map(|(name, v)| Ok((name.clone(), to_json(v, depth)?)))
        .collect()
}

fn string(path: &str, value: &Value, expected: &str) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(invalid(
            path,
            format!("must be {expected}, got {}", kind(other)),
        )),
    }
}

fn strings(path: &str, value: &Value, expected: &str) -> Result<Vec<String>, Error> {
    array(path, value)?
        .iter()
        .enumerate()
        .map(|(i, v)| string(&format!("{path}[{i}]"), v, expected))
        .collect()
}

fn array<'a>(path: &str, value: &'a Value) -> Result<&'a Vec<Value>, Error> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(invalid(
            path,
            format!("must be an array, got {}", kind(other)),
        )),
    }
}

fn binary(path: &str, value: &Value) -> Result<Blob, Error> {
    let text = string(path, value, "a base64 string")?;
    STANDARD
        .decode(text.as_bytes())
        .map(Blob::new)
        .map_err(|e| invalid(path, format!("must be a base64 string: {e}")))
}

fn not_an_attribute(path: &str, value: &Value) -> Error {
    invalid(
        path,
        format!(
            "must be an attribute value: an object with exactly one of S, N, B, BOOL, NULL, M, L, SS, NS, BS, got {}",
            kind(value)
        ),
    )
}

/// The JSON type of `value`, for error messages (never the value: it may be personal data).
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(map) if map.is_empty() => "an empty object",
        Value::Object(_) => "an object",
    }
}

fn invalid(path: &str, reason: String) -> Error {
    Error::InvalidParameter {
        service: Service::DynamoDb,
        field: path.to_owned(),
        reason,
    }
}

fn unreadable(reason: String) -> Error {
    Error::UnexpectedResponse {
        service: Service::DynamoDb,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn round_trip(value: Value) {
        let attribute = attribute_from_json("v", &value).unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(attribute_to_json(&attribute).expect("back to JSON"), value);
    }

    fn converts(value: Value, expected: AttributeValue) {
        assert_eq!(
            attribute_from_json("v", &value).expect("valid"),
            expected,
            "{value}"
        );
    }

    fn rejects(value: Value, field: &str, reason_part: &str) {
        match attribute_from_json("v", &value) {
            Err(Error::InvalidParameter {
                service: Service::DynamoDb,
                field: f,
                reason,
            }) => {
                assert_eq!(f, field, "{value}");
                assert!(reason.contains(reason_part), "{value}: {reason}");
            }
            other => panic!("{value}: expected an invalid parameter, got {other:?}"),
        }
    }

    #[test]
    fn every_type_round_trips() {
        round_trip(json!({"S": "hello"}));
        round_trip(json!({"S": ""}));
        round_trip(json!({"N": "-12.50"}));
        round_trip(json!({"B": "AAEC/w=="}));
        round_trip(json!({"BOOL": true}));
        round_trip(json!({"BOOL": false}));
        round_trip(json!({"NULL": true}));
        round_trip(json!({"M": {}}));
        round_trip(json!({"M": {"a": {"S": "x"}, "b": {"M": {"c": {"N": "1"}}}}}));
        round_trip(json!({"L": []}));
        round_trip(json!({"L": [{"S": "x"}, {"L": [{"NULL": true}]}, {"BS": ["AA=="]}]}));
        round_trip(json!({"SS": ["a", "b"]}));
        round_trip(json!({"NS": ["1", "2.5"]}));
        round_trip(json!({"BS": ["AA==", "AQI="]}));
    }

    #[test]
    fn converts_to_sdk_values() {
        converts(json!({"S": "x"}), AttributeValue::S("x".into()));
        converts(json!({"N": "7"}), AttributeValue::N("7".into()));
        converts(
            json!({"B": "AAEC"}),
            AttributeValue::B(Blob::new(vec![0, 1, 2])),
        );
        converts(json!({"BOOL": false}), AttributeValue::Bool(false));
        converts(json!({"NULL": true}), AttributeValue::Null(true));
        converts(
            json!({"L": [{"N": "1"}]}),
            AttributeValue::L(vec![AttributeValue::N("1".into())]),
        );
        converts(
            json!({"M": {"k": {"S": "v"}}}),
            AttributeValue::M(HashMap::from([("k".into(), AttributeValue::S("v".into()))])),
        );
        converts(json!({"SS": ["a"]}), AttributeValue::Ss(vec!["a".into()]));
        converts(json!({"NS": ["1"]}), AttributeValue::Ns(vec!["1".into()]));
        converts(
            json!({"BS": ["AQ=="]}),
            AttributeValue::Bs(vec![Blob::new(vec![1])]),
        );
    }

    #[test]
    fn invalid_shapes_are_refused_with_their_path() {
        rejects(json!("plain"), "v", "got a string");
        rejects(json!(null), "v", "got null");
        rejects(json!({}), "v", "got an empty object");
        rejects(json!({"S": "a", "N": "1"}), "v", "exactly one");
        rejects(json!({"X": "a"}), "v", "unknown type `X`");
        rejects(json!({"s": "a"}), "v", "unknown type `s`");
        rejects(json!({"S": 5}), "v.S", "must be a string");
        rejects(json!({"N": 12}), "v.N", "holding a number");
        rejects(json!({"B": "not base64!"}), "v.B", "base64");
        rejects(json!({"B": 1}), "v.B", "base64 string, got a number");
        rejects(json!({"BOOL": "true"}), "v.BOOL", "true or false");
        rejects(json!({"NULL": false}), "v.NULL", "must be true");
        rejects(json!({"NULL": null}), "v.NULL", "must be true");
        rejects(json!({"M": []}), "v.M", "object of attribute values");
        rejects(json!({"M": {"a": {"S": 1}}}), "v.M.a.S", "must be a string");
        rejects(json!({"L": {}}), "v.L", "must be an array");
        rejects(json!({"L": [{"S": "x"}, 3]}), "v.L[1]", "got a number");
        rejects(json!({"SS": "a"}), "v.SS", "must be an array");
        rejects(json!({"SS": ["a", 1]}), "v.SS[1]", "must be a string");
        rejects(json!({"NS": [1]}), "v.NS[0]", "holding a number");
        rejects(json!({"BS": ["AA==", "%%"]}), "v.BS[1]", "base64");
    }

    #[test]
    fn items_are_objects_of_attribute_values() {
        let item = item_from_json(
            "Item",
            &json!({"OrderId": {"S": "o-1"}, "Total": {"N": "3"}}),
        )
        .expect("valid");
        assert_eq!(item.get("OrderId"), Some(&AttributeValue::S("o-1".into())));
        assert_eq!(
            item_to_json(&item).expect("back"),
            json!({"OrderId": {"S": "o-1"}, "Total": {"N": "3"}})
        );
        assert!(
            matches!(item_from_json("Item", &json!([1])), Err(Error::InvalidParameter { field, .. }) if field == "Item")
        );
        assert!(
            matches!(item_from_json("Key", &json!({"id": "x"})), Err(Error::InvalidParameter { field, .. }) if field == "Key.id")
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut value = json!({"S": "leaf"});
        for _ in 0..100 {
            value = json!({"L": [value]});
        }
        rejects(
            value,
            &format!("v{}", ".L[0]".repeat(MAX_DEPTH + 1)),
            "nests more than",
        );
        let mut deep = AttributeValue::S("leaf".into());
        for _ in 0..100 {
            deep = AttributeValue::L(vec![deep]);
        }
        assert!(matches!(
            attribute_to_json(&deep),
            Err(Error::UnexpectedResponse { .. })
        ));
    }
}
