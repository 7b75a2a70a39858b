//! Path-aware reading of JSON input.
//!
//! serde's derived errors say "missing field `price` at line 1 column 50"; the functions here
//! say `orderContents.items[2].price is required`, which is what a caller can act on.

use serde_json::{Map, Value};

use crate::{Money, OrderError};

/// An object of the input together with its JSON path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Object<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Object<'a> {
    /// `value` as an object; `path` names it in errors ("input" for the whole event).
    pub(crate) fn new(value: &'a Value, path: &'a str) -> Result<Object<'a>, OrderError> {
        match value {
            Value::Object(map) => Ok(Object { map, path }),
            other => Err(wrong_type(path.to_owned(), "an object", other)),
        }
    }

    /// The whole input, which must be an object; its members have plain paths (`customerId`).
    pub(crate) fn root(value: &'a Value) -> Result<Object<'a>, OrderError> {
        match value {
            Value::Object(map) => Ok(Object { map, path: "" }),
            other => Err(wrong_type("input".to_owned(), "an object", other)),
        }
    }

    /// The JSON path of a member.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// A member that must be present and not null.
    pub(crate) fn required(&self, key: &str) -> Result<&'a Value, OrderError> {
        match self.map.get(key) {
            Some(value) => Ok(value),
            None => Err(OrderError::MissingField {
                field: self.path_of(key),
            }),
        }
    }

    /// A member that may be absent or null.
    pub(crate) fn optional(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    /// A required string member.
    pub(crate) fn string(&self, key: &str) -> Result<&'a str, OrderError> {
        as_str(self.required(key)?, || self.path_of(key))
    }

    /// A required array member.
    pub(crate) fn array(&self, key: &str) -> Result<&'a [Value], OrderError> {
        match self.required(key)? {
            Value::Array(items) => Ok(items),
            other => Err(wrong_type(self.path_of(key), "an array", other)),
        }
    }

    /// A required number member read as money.
    pub(crate) fn money(&self, key: &str) -> Result<Money, OrderError> {
        match self.required(key)? {
            Value::Number(number) => Money::from_json_number(&self.path_of(key), number),
            other => Err(wrong_type(self.path_of(key), "a number", other)),
        }
    }

    /// A required number member read as money greater than zero.
    pub(crate) fn positive_money(&self, key: &str) -> Result<Money, OrderError> {
        match self.required(key)? {
            Value::Number(number) => Money::positive_from_json_number(&self.path_of(key), number),
            other => Err(wrong_type(self.path_of(key), "a number", other)),
        }
    }
}

/// `value` as a string, naming the field (computed only on error) otherwise.
pub(crate) fn as_str(value: &Value, field: impl FnOnce() -> String) -> Result<&str, OrderError> {
    match value {
        Value::String(text) => Ok(text),
        other => Err(wrong_type(field(), "a string", other)),
    }
}

/// The error for a value of the wrong JSON type. Only the type is reported, never the value,
/// because the value may be a card number.
pub(crate) fn wrong_type(field: String, expected: &'static str, found: &Value) -> OrderError {
    OrderError::WrongType {
        field,
        expected,
        found: type_name(found),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What a text field may contain.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Charset {
    /// Any printable character: no control characters.
    Printable,
    /// Letters, digits and `-_.:`, as identifiers in URLs, logs and execution names are.
    Identifier,
}

/// Checks a text field: not blank, at most `max` characters, only characters of `charset`,
/// no card number. Messages report lengths and the first bad character, never the whole text.
pub(crate) fn check_text(
    field: &str,
    text: &str,
    max: usize,
    charset: Charset,
) -> Result<(), OrderError> {
    if text.trim().is_empty() {
        return Err(OrderError::Empty {
            field: field.to_owned(),
        });
    }
    let len = text.chars().count();
    if len > max {
        return Err(OrderError::TooLong {
            field: field.to_owned(),
            max,
            len,
        });
    }
    let (allowed, ok): (&'static str, fn(char) -> bool) = match charset {
        Charset::Printable => ("use printable characters only", |c: char| !c.is_control()),
        Charset::Identifier => (
            "use letters, digits, '-', '_', '.' and ':' only",
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'),
        ),
    };
    if let Some(found) = text.chars().find(|&c| !ok(c)) {
        return Err(OrderError::ForbiddenCharacter {
            field: field.to_owned(),
            found,
            allowed,
        });
    }
    check_no_card_number(field, text)
}

/// Rejects a card number in a field that is not `cardNumber`: it would be recorded, published
/// and logged as the field's value.
pub(crate) fn check_no_card_number(field: &str, text: &str) -> Result<(), OrderError> {
    if crate::contains_card_number(text) {
        return Err(OrderError::CardNumber {
            field: field.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text_error(text: &str, charset: Charset, message: &str) {
        let error = check_text("customerId", text, 8, charset).expect_err(text);
        assert_eq!(error.to_string(), message, "{text:?}");
    }

    #[test]
    fn paths_join_members() {
        let root = json!({"a": {"b": 1}});
        let top = Object::new(&root, "").expect("object");
        assert_eq!(top.path_of("a"), "a");
        let inner = Object::new(top.required("a").expect("present"), "a").expect("object");
        assert_eq!(inner.path_of("b"), "a.b");
    }

    #[test]
    fn reports_types_not_values() {
        let root = json!({"n": 4242424242424242_u64, "s": null});
        let top = Object::new(&root, "").expect("object");
        let error = top.string("n").expect_err("a number is not a string");
        assert_eq!(error.to_string(), "n must be a string, found a number");
        assert_eq!(
            top.string("s").expect_err("null").to_string(),
            "s must be a string, found null"
        );
        assert_eq!(
            top.string("x").expect_err("absent").to_string(),
            "x is required"
        );
        assert!(top.optional("s").is_none());
        let error = Object::new(&json!([1]), "input").expect_err("array");
        assert_eq!(error.to_string(), "input must be an object, found an array");
    }

    #[test]
    fn checks_text() {
        text_error("", Charset::Printable, "customerId must not be empty");
        text_error("   ", Charset::Printable, "customerId must not be empty");
        text_error(
            "123456789",
            Charset::Printable,
            "customerId must be at most 8 characters long, found 9",
        );
        text_error(
            "a\u{7}b",
            Charset::Printable,
            "customerId must not contain '\\u{7}'; use printable characters only",
        );
        text_error(
            "a b",
            Charset::Identifier,
            "customerId must not contain ' '; use letters, digits, '-', '_', '.' and ':' only",
        );
        assert!(check_text("customerId", "c-id:5_6.2", 16, Charset::Identifier).is_ok());
        assert!(check_text("customerId", "Jöhn Doe", 16, Charset::Printable).is_ok());
    }
}
