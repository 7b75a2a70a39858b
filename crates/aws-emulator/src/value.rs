//! DynamoDB attribute values: parsing DynamoDB JSON with DynamoDB's checks, writing it back,
//! equality, and the item size DynamoDB counts against its 400 KB limit.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map as JsonMap, Value};

use crate::number::Number;

/// Deepest nesting DynamoDB accepts in an item.
pub(crate) const MAX_DEPTH: usize = 32;
/// DynamoDB's item size limit (400 KB).
pub(crate) const MAX_ITEM_SIZE: usize = 400 * 1024;

/// An item or map: attribute name to value. Sorted, so items serialise deterministically.
pub(crate) type Item = BTreeMap<String, AttrValue>;

/// One DynamoDB AttributeValue.
#[derive(Clone, Debug)]
pub(crate) enum AttrValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(Item),
    L(Vec<AttrValue>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
}

impl AttrValue {
    /// The DynamoDB type descriptor: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS`, `BS`.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::S(_) => "S",
            Self::N(_) => "N",
            Self::B(_) => "B",
            Self::Bool(_) => "BOOL",
            Self::Null => "NULL",
            Self::M(_) => "M",
            Self::L(_) => "L",
            Self::Ss(_) => "SS",
            Self::Ns(_) => "NS",
            Self::Bs(_) => "BS",
        }
    }

    /// The long type name DynamoDB uses in update-expression errors (`STRING`, `NUMBER`…).
    pub(crate) fn long_type_name(&self) -> &'static str {
        match self {
            Self::S(_) => "STRING",
            Self::N(_) => "NUMBER",
            Self::B(_) => "BINARY",
            Self::Bool(_) => "BOOLEAN",
            Self::Null => "NULL",
            Self::M(_) => "MAP",
            Self::L(_) => "LIST",
            Self::Ss(_) => "STRING_SET",
            Self::Ns(_) => "NUMBER_SET",
            Self::Bs(_) => "BINARY_SET",
        }
    }

    /// Whether `<`, `<=`, `>`, `>=` and BETWEEN apply (DynamoDB orders only S, N and B).
    pub(crate) fn is_ordered(&self) -> bool {
        matches!(self, Self::S(_) | Self::N(_) | Self::B(_))
    }

    /// Whether this is one of the set types.
    pub(crate) fn is_set(&self) -> bool {
        matches!(self, Self::Ss(_) | Self::Ns(_) | Self::Bs(_))
    }

    /// Parses one AttributeValue; `at` names where it sits, for error messages.
    pub(crate) fn from_json(value: &Value, at: &str) -> Result<Self, String> {
        Self::parse(value, &Loc::Root(at), 0)
    }

    fn parse(value: &Value, at: &Loc<'_>, depth: usize) -> Result<Self, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "Nesting Levels have exceeded supported limits (at {at})"
            ));
        }
        let Value::Object(fields) = value else {
            return Err(format!(
                "Supplied AttributeValue must be an object such as {{\"S\": \"text\"}}, found {} (at {at})",
                json_kind(value)
            ));
        };
        let mut entries = fields.iter();
        let (tag, inner) = match (entries.next(), entries.next()) {
            (None, _) => {
                return Err(format!(
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes (at {at})"
                ));
            }
            (Some(entry), None) => entry,
            (Some(_), Some(_)) => {
                return Err(format!(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes (at {at})"
                ));
            }
        };
        let wrong = |expected: &str| {
            format!(
                "Supplied AttributeValue {tag} must be {expected}, found {} (at {at})",
                json_kind(inner)
            )
        };
        let with_at = |reason: String| format!("{reason} (at {at})");
        Ok(match tag.as_str() {
            "S" => Self::S(inner.as_str().ok_or_else(|| wrong("a string"))?.to_owned()),
            "N" => {
                let text = inner
                    .as_str()
                    .ok_or_else(|| wrong("a number in a string, e.g. \"42\""))?;
                Self::N(Number::parse(text).map_err(with_at)?)
            }
            "B" => Self::B(
                decode_base64(inner.as_str().ok_or_else(|| wrong("a base64 string"))?)
                    .map_err(with_at)?,
            ),
            "BOOL" => Self::Bool(inner.as_bool().ok_or_else(|| wrong("true or false"))?),
            "NULL" => match inner {
                Value::Bool(true) => Self::Null,
                _ => {
                    return Err(with_at(
                        "One or more parameter values were invalid: Null attribute value types must have the value of true".into(),
                    ));
                }
            },
            "M" => {
                let Value::Object(map) = inner else {
                    return Err(wrong("an object"));
                };
                let mut item = Item::new();
                for (name, v) in map {
                    item.insert(
                        name.clone(),
                        Self::parse(v, &Loc::Key(at, name), depth + 1)?,
                    );
                }
                Self::M(item)
            }
            "L" => {
                let Value::Array(list) = inner else {
                    return Err(wrong("an array"));
                };
                let mut out = Vec::with_capacity(list.len());
                for (i, v) in list.iter().enumerate() {
                    out.push(Self::parse(v, &Loc::Index(at, i), depth + 1)?);
                }
                Self::L(out)
            }
            "SS" => {
                let strings = set_strings(inner, "string", at)?;
                check_unique(&strings, |a, b| a == b, &strings, at)?;
                Self::Ss(strings)
            }
            "NS" => {
                let strings = set_strings(inner, "number", at)?;
                let numbers = strings
                    .iter()
                    .map(|s| Number::parse(s).map_err(with_at))
                    .collect::<Result<Vec<_>, _>>()?;
                check_unique(&numbers, |a, b| a == b, &strings, at)?;
                Self::Ns(numbers)
            }
            "BS" => {
                let strings = set_strings(inner, "binary", at)?;
                let bytes = strings
                    .iter()
                    .map(|s| decode_base64(s).map_err(with_at))
                    .collect::<Result<Vec<_>, _>>()?;
                check_unique(&bytes, |a, b| a == b, &strings, at)?;
                Self::Bs(bytes)
            }
            other => {
                return Err(format!(
                    "Supplied AttributeValue has an unknown datatype {other:?}; expected one of S, N, B, BOOL, NULL, M, L, SS, NS, BS (at {at})"
                ));
            }
        })
    }

    /// The value as DynamoDB JSON.
    pub(crate) fn to_json(&self) -> Value {
        let (tag, inner) = match self {
            Self::S(s) => ("S", Value::String(s.clone())),
            Self::N(n) => ("N", Value::String(n.to_string())),
            Self::B(b) => ("B", Value::String(BASE64.encode(b))),
            Self::Bool(b) => ("BOOL", Value::Bool(*b)),
            Self::Null => ("NULL", Value::Bool(true)),
            Self::M(m) => ("M", item_to_json(m)),
            Self::L(l) => ("L", Value::Array(l.iter().map(Self::to_json).collect())),
            Self::Ss(s) => ("SS", s.iter().cloned().map(Value::String).collect()),
            Self::Ns(n) => (
                "NS",
                n.iter().map(|x| Value::String(x.to_string())).collect(),
            ),
            Self::Bs(b) => (
                "BS",
                b.iter().map(|x| Value::String(BASE64.encode(x))).collect(),
            ),
        };
        let mut map = JsonMap::with_capacity(1);
        map.insert(tag.to_owned(), inner);
        Value::Object(map)
    }

    /// The value as plain JSON (numbers as JSON numbers when exact, sets as arrays, binary as
    /// base64), for people reading the store.
    pub(crate) fn to_plain_json(&self) -> Value {
        match self {
            Self::S(s) => Value::String(s.clone()),
            Self::N(n) => plain_number(n),
            Self::B(b) => Value::String(BASE64.encode(b)),
            Self::Bool(b) => Value::Bool(*b),
            Self::Null => Value::Null,
            Self::M(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.to_plain_json()))
                    .collect(),
            ),
            Self::L(l) => Value::Array(l.iter().map(Self::to_plain_json).collect()),
            Self::Ss(s) => s.iter().cloned().map(Value::String).collect(),
            Self::Ns(n) => n.iter().map(plain_number).collect(),
            Self::Bs(b) => b.iter().map(|x| Value::String(BASE64.encode(x))).collect(),
        }
    }

    /// DynamoDB's equality: same type and value; numbers compare as decimals, sets ignore order.
    pub(crate) fn dynamo_eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::S(a), Self::S(b)) => a == b,
            (Self::N(a), Self::N(b)) => a == b,
            (Self::B(a), Self::B(b)) => a == b,
            (Self::Bool(a), Self::Bool(b)) => a == b,
            (Self::Null, Self::Null) => true,
            (Self::M(a), Self::M(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k).is_some_and(|w| v.dynamo_eq(w)))
            }
            (Self::L(a), Self::L(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.dynamo_eq(y))
            }
            (Self::Ss(a), Self::Ss(b)) => same_set(a, b),
            (Self::Ns(a), Self::Ns(b)) => same_set(a, b),
            (Self::Bs(a), Self::Bs(b)) => same_set(a, b),
            _ => false,
        }
    }

    /// Bytes DynamoDB counts for the value (names are counted by the caller).
    pub(crate) fn size(&self) -> usize {
        match self {
            Self::S(s) => s.len(),
            Self::N(n) => n.storage_size(),
            Self::B(b) => b.len(),
            Self::Bool(_) | Self::Null => 1,
            Self::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            Self::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            Self::Ss(s) => s.iter().map(String::len).sum(),
            Self::Ns(n) => n.iter().map(Number::storage_size).sum(),
            Self::Bs(b) => b.iter().map(Vec::len).sum(),
        }
    }

    /// Nesting depth (a scalar is 0).
    pub(crate) fn depth(&self) -> usize {
        match self {
            Self::M(m) => 1 + m.values().map(Self::depth).max().unwrap_or(0),
            Self::L(l) => 1 + l.iter().map(Self::depth).max().unwrap_or(0),
            _ => 0,
        }
    }
}

/// Parses an item (an object of attribute name to AttributeValue); `field` is the request
/// field it came from, e.g. `Item`.
pub(crate) fn item_from_json(value: &Value, field: &str) -> Result<Item, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "{field} must be an object of attribute names to AttributeValues, found {}",
            json_kind(value)
        ));
    };
    let mut item = Item::new();
    for (name, v) in map {
        if name.is_empty() {
            return Err(format!(
                "One or more parameter values were invalid: An attribute name in {field} is empty"
            ));
        }
        item.insert(
            name.clone(),
            AttrValue::parse(v, &Loc::Key(&Loc::Root(field), name), 0)?,
        );
    }
    Ok(item)
}

/// An item as DynamoDB JSON.
pub(crate) fn item_to_json(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

/// Bytes DynamoDB counts for an item: attribute names plus values.
pub(crate) fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// Checks an item against DynamoDB's size and nesting limits.
pub(crate) fn check_item_limits(item: &Item) -> Result<(), String> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err("Item size has exceeded the maximum allowed size".into());
    }
    if item.values().any(|v| v.depth() > MAX_DEPTH) {
        return Err("Nesting Levels have exceeded supported limits".into());
    }
    Ok(())
}

/// Where a value sits in the request (`Item.items[2].price`), formatted only when an error
/// needs it, so valid items cost no string building.
enum Loc<'a> {
    Root(&'a str),
    Key(&'a Loc<'a>, &'a str),
    Index(&'a Loc<'a>, usize),
}

impl std::fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Root(name) => f.write_str(name),
            Self::Key(parent, key) => write!(f, "{parent}.{key}"),
            Self::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// What kind of JSON value this is, for messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Decodes standard base64, as the DynamoDB JSON protocol carries binary values.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    BASE64.decode(text).map_err(|e| {
        format!(
            "Invalid base64 in binary value {:?}: {e}",
            truncate(text, 40)
        )
    })
}

fn plain_number(n: &Number) -> Value {
    if let Some(i) = n.to_i64() {
        return Value::from(i);
    }
    // A fraction with few digits survives the round trip through f64; others stay strings so
    // no digit is silently lost.
    if !n.is_integer() && n.significant_digits() <= 15 {
        if let Some(v) = n
            .to_string()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(v);
        }
    }
    Value::String(n.to_string())
}

fn set_strings(value: &Value, kind: &str, at: &Loc<'_>) -> Result<Vec<String>, String> {
    let Value::Array(list) = value else {
        return Err(format!(
            "Supplied AttributeValue {kind} set must be an array of strings, found {} (at {at})",
            json_kind(value)
        ));
    };
    if list.is_empty() {
        return Err(format!(
            "One or more parameter values were invalid: An {kind} set may not be empty (at {at})"
        ));
    }
    list.iter()
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                format!("Supplied AttributeValue {kind} set must contain only strings, found {} (at {at})", json_kind(v))
            })
        })
        .collect()
}

fn check_unique<T>(
    items: &[T],
    eq: impl Fn(&T, &T) -> bool,
    shown: &[String],
    at: &Loc<'_>,
) -> Result<(), String> {
    for (i, a) in items.iter().enumerate() {
        if items.iter().skip(i + 1).any(|b| eq(a, b)) {
            return Err(format!(
                "One or more parameter values were invalid: Input collection [{}] contains duplicates (at {at})",
                shown.join(", ")
            ));
        }
    }
    Ok(())
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// At most `max` characters of `text`, for messages quoting user input.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(input: Value, expected: Value) {
        let parsed = AttrValue::from_json(&input, "v").unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(parsed.to_json(), expected, "{input}");
    }
    fn rejected(input: Value, fragment: &str) {
        let err = AttrValue::from_json(&input, "Item.a").expect_err(&input.to_string());
        assert!(err.contains(fragment), "{input}: {err}");
        assert!(
            err.contains("Item.a"),
            "{input}: error should say where: {err}"
        );
    }
    fn eq(a: Value, b: Value, expected: bool) {
        let (x, y) = (
            AttrValue::from_json(&a, "a").unwrap(),
            AttrValue::from_json(&b, "b").unwrap(),
        );
        assert_eq!(x.dynamo_eq(&y), expected, "{a} == {b}");
    }

    #[test]
    fn round_trips() {
        round_trip(json!({"S": "héllo"}), json!({"S": "héllo"}));
        round_trip(json!({"S": ""}), json!({"S": ""}));
        round_trip(json!({"N": "1.50"}), json!({"N": "1.5"}));
        round_trip(json!({"B": "AAEC"}), json!({"B": "AAEC"}));
        round_trip(json!({"BOOL": false}), json!({"BOOL": false}));
        round_trip(json!({"NULL": true}), json!({"NULL": true}));
        round_trip(
            json!({"M": {"a": {"L": [{"N": "1"}, {"SS": ["x", "y"]}]}}}),
            json!({"M": {"a": {"L": [{"N": "1"}, {"SS": ["x", "y"]}]}}}),
        );
        round_trip(json!({"NS": ["1", "2.0"]}), json!({"NS": ["1", "2"]}));
        round_trip(
            json!({"BS": ["AA==", "AQ=="]}),
            json!({"BS": ["AA==", "AQ=="]}),
        );
    }

    #[test]
    fn rejections() {
        rejected(json!("text"), "must be an object");
        rejected(json!({}), "is empty");
        rejected(json!({"S": "a", "N": "1"}), "more than one datatypes");
        rejected(json!({"S": 5}), "S must be a string");
        rejected(json!({"N": 5}), "N must be a number in a string");
        rejected(
            json!({"N": "five"}),
            "cannot be converted to a numeric value: five",
        );
        rejected(json!({"B": "!!"}), "Invalid base64");
        rejected(
            json!({"NULL": false}),
            "Null attribute value types must have the value of true",
        );
        rejected(json!({"BOOL": "true"}), "BOOL must be true or false");
        rejected(json!({"SS": []}), "may not be empty");
        rejected(json!({"SS": ["a", "a"]}), "contains duplicates");
        rejected(json!({"NS": ["1", "1.0"]}), "contains duplicates");
        rejected(json!({"SS": [1]}), "only strings");
        rejected(json!({"X": "1"}), "unknown datatype");
        rejected(json!({"M": []}), "M must be an object");
        rejected(json!({"L": {"S": "a"}}), "L must be an array");
    }

    #[test]
    fn nesting_limit() {
        let mut v = json!({"S": "leaf"});
        for _ in 0..40 {
            v = json!({"L": [v]});
        }
        let err = AttrValue::from_json(&v, "Item.deep").unwrap_err();
        assert!(err.contains("Nesting Levels"), "{err}");
    }

    #[test]
    fn equality() {
        eq(json!({"N": "1"}), json!({"N": "1.0"}), true);
        eq(json!({"N": "1"}), json!({"S": "1"}), false);
        eq(json!({"SS": ["a", "b"]}), json!({"SS": ["b", "a"]}), true);
        eq(
            json!({"L": [{"S": "a"}, {"S": "b"}]}),
            json!({"L": [{"S": "b"}, {"S": "a"}]}),
            false,
        );
        eq(
            json!({"M": {"a": {"N": "2"}}}),
            json!({"M": {"a": {"N": "2e0"}}}),
            true,
        );
        eq(
            json!({"M": {"a": {"N": "2"}}}),
            json!({"M": {"b": {"N": "2"}}}),
            false,
        );
        eq(json!({"NULL": true}), json!({"NULL": true}), true);
    }

    #[test]
    fn plain_json() {
        let v = AttrValue::from_json(&json!({"M": {"n": {"N": "12"}, "f": {"N": "0.25"}, "big": {"N": "123456789012345678901234567890"}, "s": {"SS": ["x"]}, "z": {"NULL": true}}}), "v").unwrap();
        assert_eq!(
            v.to_plain_json(),
            json!({"n": 12, "f": 0.25, "big": "123456789012345678901234567890", "s": ["x"], "z": null})
        );
    }

    #[test]
    fn sizes() {
        let item = item_from_json(&json!({"id": {"S": "abc"}, "n": {"N": "123"}}), "Item").unwrap();
        assert_eq!(item_size(&item), 2 + 3 + 1 + 3);
        let big =
            item_from_json(&json!({"blob": {"S": "x".repeat(MAX_ITEM_SIZE)}}), "Item").unwrap();
        assert!(
            check_item_limits(&big)
                .unwrap_err()
                .contains("Item size has exceeded")
        );
    }
}
