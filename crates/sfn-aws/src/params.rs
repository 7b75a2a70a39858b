//! Reading a Task's `Parameters` object: every field checked for type, unknown fields refused,
//! each error naming the field.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::attribute::kind;
use crate::error::{Error, Service};

/// The entries of an object whose values are objects.
pub(crate) type Entries<'a> = Vec<(&'a String, &'a Map<String, Value>)>;

/// The parameters of one call.
pub(crate) struct Params<'a> {
    service: Service,
    map: &'a Map<String, Value>,
}

impl<'a> Params<'a> {
    /// `input` as the parameters of `operation`, which takes the fields `allowed`.
    pub(crate) fn new(
        service: Service,
        operation: &str,
        input: &'a Value,
        allowed: &[&str],
    ) -> Result<Self, Error> {
        let Value::Object(map) = input else {
            return Err(Error::InvalidParameter {
                service,
                field: "Parameters".to_owned(),
                reason: format!("must be an object for {operation}, got {}", kind(input)),
            });
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::InvalidParameter {
                service,
                field: unknown.clone(),
                reason: format!(
                    "is not a parameter of {operation}; it takes {}",
                    allowed.join(", ")
                ),
            });
        }
        Ok(Params { service, map })
    }

    pub(crate) fn invalid(&self, field: &str, reason: impl Into<String>) -> Error {
        Error::InvalidParameter {
            service: self.service,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The raw value, if present and not null.
    pub(crate) fn value(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    pub(crate) fn string(&self, field: &str) -> Result<Option<String>, Error> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => {
                Err(self.invalid(field, format!("must be a string, got {}", kind(other))))
            }
        }
    }

    pub(crate) fn required_string(&self, field: &str) -> Result<String, Error> {
        self.string(field)?
            .ok_or_else(|| self.invalid(field, "is required"))
    }

    pub(crate) fn bool(&self, field: &str) -> Result<Option<bool>, Error> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => {
                Err(self.invalid(field, format!("must be true or false, got {}", kind(other))))
            }
        }
    }

    /// An object of strings, e.g. `ExpressionAttributeNames`.
    pub(crate) fn string_map(&self, field: &str) -> Result<Option<HashMap<String, String>>, Error> {
        let Some(value) = self.value(field) else {
            return Ok(None);
        };
        let Value::Object(map) = value else {
            return Err(self.invalid(
                field,
                format!("must be an object of strings, got {}", kind(value)),
            ));
        };
        map.iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(self.invalid(
                    &format!("{field}.{k}"),
                    format!("must be a string, got {}", kind(other)),
                )),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// An array of strings, e.g. `AttributesToGet`.
    pub(crate) fn string_list(&self, field: &str) -> Result<Option<Vec<String>>, Error> {
        let Some(value) = self.value(field) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(self.invalid(
                field,
                format!("must be an array of strings, got {}", kind(value)),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(self.invalid(
                    &format!("{field}[{i}]"),
                    format!("must be a string, got {}", kind(other)),
                )),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// An object whose values are objects, e.g. `MessageAttributes` or `Expected`.
    pub(crate) fn object_map(&self, field: &str) -> Result<Option<Entries<'a>>, Error> {
        let Some(value) = self.value(field) else {
            return Ok(None);
        };
        let Value::Object(map) = value else {
            return Err(self.invalid(field, format!("must be an object, got {}", kind(value))));
        };
        map.iter()
            .map(|(k, v)| match v {
                Value::Object(inner) => Ok((k, inner)),
                other => Err(self.invalid(
                    &format!("{field}.{k}"),
                    format!("must be an object, got {}", kind(other)),
                )),
            })
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ALLOWED: &[&str] = &["A", "B", "C", "D", "E"];

    fn field_error(
        input: Value,
        read: impl Fn(&Params<'_>) -> Result<(), Error>,
        field: &str,
        part: &str,
    ) {
        let outcome = Params::new(Service::Sns, "Publish", &input, ALLOWED).and_then(|p| read(&p));
        match outcome {
            Err(Error::InvalidParameter {
                field: f, reason, ..
            }) => {
                assert_eq!(f, field, "{input}");
                assert!(reason.contains(part), "{input}: {reason}");
            }
            other => panic!("{input}: expected an invalid parameter, got {other:?}"),
        }
    }

    #[test]
    fn reads_typed_fields() {
        let input = json!({"A": "x", "B": true, "C": {"k": "v"}, "D": ["p", "q"], "E": null});
        let p = Params::new(Service::Sns, "Publish", &input, ALLOWED).expect("valid");
        assert_eq!(p.required_string("A").expect("A"), "x");
        assert_eq!(p.bool("B").expect("B"), Some(true));
        assert_eq!(
            p.string_map("C").expect("C"),
            Some(HashMap::from([("k".to_owned(), "v".to_owned())]))
        );
        assert_eq!(
            p.string_list("D").expect("D"),
            Some(vec!["p".to_owned(), "q".to_owned()])
        );
        assert_eq!(p.string("E").expect("E"), None);
    }

    #[test]
    fn errors_name_the_field() {
        field_error(
            json!([1]),
            |_| Ok(()),
            "Parameters",
            "must be an object for Publish",
        );
        field_error(
            json!({"Z": 1}),
            |_| Ok(()),
            "Z",
            "is not a parameter of Publish",
        );
        field_error(
            json!({}),
            |p| p.required_string("A").map(drop),
            "A",
            "is required",
        );
        field_error(
            json!({"A": 3}),
            |p| p.string("A").map(drop),
            "A",
            "must be a string, got a number",
        );
        field_error(
            json!({"B": "yes"}),
            |p| p.bool("B").map(drop),
            "B",
            "true or false",
        );
        field_error(
            json!({"C": []}),
            |p| p.string_map("C").map(drop),
            "C",
            "object of strings",
        );
        field_error(
            json!({"C": {"k": 1}}),
            |p| p.string_map("C").map(drop),
            "C.k",
            "must be a string",
        );
        field_error(
            json!({"D": "p"}),
            |p| p.string_list("D").map(drop),
            "D",
            "array of strings",
        );
        field_error(
            json!({"D": ["p", false]}),
            |p| p.string_list("D").map(drop),
            "D[1]",
            "must be a string",
        );
        field_error(
            json!({"E": {"k": 2}}),
            |p| p.object_map("E").map(drop),
            "E.k",
            "must be an object",
        );
    }
}
