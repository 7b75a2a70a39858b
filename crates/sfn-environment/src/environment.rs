//! The environment an execution runs against, in the corpus's vocabulary: what must exist
//! before it starts (nothing else does).

use std::collections::BTreeMap;

use aws_emulator::{KeySchema, KeyType};
use serde_json::Value;

use crate::EnvironmentError;

/// Lambda functions, DynamoDB tables, SNS topics and state machines, by name.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Functions by name.
    pub functions: BTreeMap<String, Function>,
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Topics by name (without `.fifo`, as the environment writes them).
    pub topics: BTreeMap<String, Topic>,
    /// State machines by name.
    pub state_machines: BTreeMap<String, StateMachineSpec>,
}

/// A Lambda function, described by what its handler does.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    /// What it answers.
    pub behavior: Behavior,
    /// How long it runs before answering.
    pub sleep_seconds: Option<u64>,
}

/// What a function's handler does with the event it receives.
#[derive(Debug, Clone, PartialEq)]
pub enum Behavior {
    /// Returns the event.
    Identity,
    /// Returns this value.
    Return(Value),
    /// Answers with these bytes, not JSON-encoded again (`"\"x\""` is the payload `"x"`).
    ReturnRaw(String),
    /// Fails with this function error.
    Raise {
        /// The error name, e.g. `Exception`.
        error_type: String,
        /// The error message.
        error_message: String,
        /// The runtime's stack trace lines, as given.
        stack_trace: Vec<Value>,
    },
}

/// A DynamoDB table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its primary key.
    pub key: KeySchema,
    /// Its items before the execution, in DynamoDB JSON.
    pub items: Vec<Value>,
}

/// An SNS topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topic {
    /// Whether it is a FIFO topic (its name then ends in `.fifo`).
    pub fifo: bool,
}

/// A state machine the execution may start.
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachineSpec {
    /// `STANDARD` or `EXPRESS`.
    pub kind: String,
    /// Its definition.
    pub definition: Value,
}

/// The parts an environment may declare.
const SECTIONS: [&str; 4] = ["functions", "tables", "topics", "stateMachines"];

impl Environment {
    /// Reads an `environment` block (placeholders already resolved). A missing or `null`
    /// block is the empty environment.
    pub fn from_value(value: &Value) -> Result<Self, EnvironmentError> {
        let mut env = Environment::default();
        let root = match value {
            Value::Null => return Ok(env),
            Value::Object(m) => m,
            other => {
                return Err(EnvironmentError::invalid(
                    "",
                    format!("expected an object, found {}", sfn_local::json_kind(other)),
                ));
            }
        };
        for (section, body) in root {
            if !SECTIONS.contains(&section.as_str()) {
                return Err(EnvironmentError::invalid(
                    section.as_str(),
                    format!("not a section of the vocabulary: {}", SECTIONS.join(", ")),
                ));
            }
            let entries = match body {
                Value::Object(m) => m,
                Value::Null => continue,
                other => {
                    return Err(EnvironmentError::invalid(
                        section.as_str(),
                        format!(
                            "expected an object of names, found {}",
                            sfn_local::json_kind(other)
                        ),
                    ));
                }
            };
            for (name, spec) in entries {
                let path = format!("{section}.{name}");
                match section.as_str() {
                    "functions" => {
                        env.functions.insert(name.clone(), function(&path, spec)?);
                    }
                    "tables" => {
                        env.tables.insert(name.clone(), table(&path, spec)?);
                    }
                    "topics" => {
                        let fifo = optional(&path, spec, "fifo", Value::as_bool, "a boolean")?
                            .unwrap_or(false);
                        env.topics.insert(name.clone(), Topic { fifo });
                    }
                    "stateMachines" => {
                        let kind = optional(&path, spec, "type", Value::as_str, "a string")?
                            .unwrap_or("STANDARD");
                        if kind != "STANDARD" && kind != "EXPRESS" {
                            return Err(EnvironmentError::invalid(
                                format!("{path}.type"),
                                format!("{kind:?} is not STANDARD or EXPRESS"),
                            ));
                        }
                        let definition = spec.get("definition").cloned().ok_or_else(|| {
                            EnvironmentError::invalid(&path, "a state machine needs a definition")
                        })?;
                        env.state_machines.insert(
                            name.clone(),
                            StateMachineSpec {
                                kind: kind.to_owned(),
                                definition,
                            },
                        );
                    }
                    other => {
                        return Err(EnvironmentError::invalid(
                            other,
                            format!("not a section of the vocabulary: {}", SECTIONS.join(", ")),
                        ));
                    }
                }
            }
        }
        Ok(env)
    }
}

fn optional<'v, T>(
    path: &str,
    spec: &'v Value,
    field: &str,
    get: impl Fn(&'v Value) -> Option<T>,
    kind: &str,
) -> Result<Option<T>, EnvironmentError> {
    match spec.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => get(v).map(Some).ok_or_else(|| {
            EnvironmentError::invalid(format!("{path}.{field}"), format!("expected {kind}"))
        }),
    }
}

fn required<'v, T>(
    path: &str,
    spec: &'v Value,
    field: &str,
    get: impl Fn(&'v Value) -> Option<T>,
    kind: &str,
) -> Result<T, EnvironmentError> {
    optional(path, spec, field, get, kind)?.ok_or_else(|| {
        EnvironmentError::invalid(
            format!("{path}.{field}"),
            format!("missing; expected {kind}"),
        )
    })
}

fn function(path: &str, spec: &Value) -> Result<Function, EnvironmentError> {
    let behavior = match required(path, spec, "behavior", Value::as_str, "a string")? {
        "identity" => Behavior::Identity,
        "return" => Behavior::Return(spec.get("returns").cloned().unwrap_or(Value::Null)),
        "return_raw" => {
            let body = required(path, spec, "body", Value::as_str, "a string")?;
            let repeat = optional(path, spec, "repeat", Value::as_u64, "a count")?.unwrap_or(1);
            let repeat = usize::try_from(repeat).unwrap_or(usize::MAX);
            if body.len().saturating_mul(repeat) > 64 << 20 {
                return Err(EnvironmentError::invalid(
                    format!("{path}.repeat"),
                    "the body would be over 64 MiB; Lambda answers at most 6 MB",
                ));
            }
            Behavior::ReturnRaw(body.repeat(repeat))
        }
        "raise" => Behavior::Raise {
            error_type: required(path, spec, "errorType", Value::as_str, "a string")?.to_owned(),
            error_message: optional(path, spec, "errorMessage", Value::as_str, "a string")?
                .unwrap_or_default()
                .to_owned(),
            stack_trace: optional(path, spec, "stackTrace", Value::as_array, "an array")?
                .cloned()
                .unwrap_or_default(),
        },
        other => {
            return Err(EnvironmentError::invalid(
                format!("{path}.behavior"),
                format!("{other:?} is not one of identity, return, return_raw, raise"),
            ));
        }
    };
    let sleep_seconds = optional(path, spec, "sleepSeconds", Value::as_u64, "whole seconds")?;
    Ok(Function {
        behavior,
        sleep_seconds,
    })
}

fn table(path: &str, spec: &Value) -> Result<Table, EnvironmentError> {
    let attributes = required(
        path,
        spec,
        "key",
        Value::as_array,
        "an array of key attributes",
    )?;
    let mut hash = None;
    let mut range = None;
    for (i, attribute) in attributes.iter().enumerate() {
        let at = format!("{path}.key[{i}]");
        let name = required(&at, attribute, "AttributeName", Value::as_str, "a string")?;
        let key_type = match required(&at, attribute, "AttributeType", Value::as_str, "a string")? {
            "S" => KeyType::S,
            "N" => KeyType::N,
            "B" => KeyType::B,
            other => {
                return Err(EnvironmentError::invalid(
                    format!("{at}.AttributeType"),
                    format!("{other:?} is not S, N or B"),
                ));
            }
        };
        match required(&at, attribute, "KeyType", Value::as_str, "a string")? {
            "HASH" => hash = Some((name, key_type)),
            "RANGE" => range = Some((name, key_type)),
            other => {
                return Err(EnvironmentError::invalid(
                    format!("{at}.KeyType"),
                    format!("{other:?} is not HASH or RANGE"),
                ));
            }
        }
    }
    let Some((name, key_type)) = hash else {
        return Err(EnvironmentError::invalid(
            format!("{path}.key"),
            "a table needs a HASH key attribute",
        ));
    };
    let mut key = KeySchema::new(name, key_type);
    if let Some((name, key_type)) = range {
        key = key.with_sort_key(name, key_type);
    }
    let items = optional(path, spec, "items", Value::as_array, "an array of items")?
        .cloned()
        .unwrap_or_default();
    Ok(Table { key, items })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_vocabulary_reads_and_mistakes_are_named() {
        let env = Environment::from_value(&json!({
            "functions": {
                "fn1": {"behavior": "raise", "errorType": "Exception", "errorMessage": "m"},
                "fn2": {"behavior": "return_raw", "body": "ab", "repeat": 3},
                "fn3": {"behavior": "identity", "sleepSeconds": 60}
            },
            "tables": {"t": {"key": [{"AttributeName": "id", "AttributeType": "S", "KeyType": "HASH"}]}},
            "topics": {"q": {"fifo": true}},
            "stateMachines": {"sm": {"type": "STANDARD", "definition": {"StartAt": "A"}}}
        }))
        .expect("valid");
        assert_eq!(
            env.functions["fn2"].behavior,
            Behavior::ReturnRaw("ababab".into())
        );
        assert_eq!(env.functions["fn3"].sleep_seconds, Some(60));
        assert!(env.topics["q"].fifo);
        assert_eq!(env.tables["t"].key.partition_key.name, "id");
        let bad = Environment::from_value(&json!({"functions": {"f": {"behavior": "explode"}}}))
            .expect_err("not a behaviour");
        assert!(bad.to_string().contains("functions.f.behavior"), "{bad}");
        assert!(Environment::from_value(&json!({"queues": {}})).is_err());
    }
}
