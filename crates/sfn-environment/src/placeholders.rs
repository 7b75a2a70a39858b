//! `${Kind:name}` placeholders: resource names and ARNs written independently of the
//! account and region the environment lives in, substituted textually.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::EnvironmentError;

/// The region of the canonical bindings (the one LocalStack's recordings show).
pub const REGION: &str = "us-east-1";
/// The account of the canonical bindings.
pub const ACCOUNT: &str = "111111111111";

/// How placeholders resolve: a region, an account, and which topics are FIFO (their names
/// end in `.fifo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bindings {
    region: String,
    account: String,
    fifo_topics: BTreeSet<String>,
}

impl Bindings {
    /// The canonical bindings (region `us-east-1`, account `111111111111`) for an
    /// environment in the corpus's vocabulary, as JSON: its `topics` say which are FIFO.
    pub fn canonical(environment: &Value) -> Self {
        let fifo_topics = environment
            .get("topics")
            .and_then(Value::as_object)
            .map(|topics| {
                topics
                    .iter()
                    .filter(|(_, t)| t.get("fifo").and_then(Value::as_bool) == Some(true))
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        Bindings {
            region: REGION.to_owned(),
            account: ACCOUNT.to_owned(),
            fifo_topics,
        }
    }

    /// The same bindings in another account: for an endpoint that owns its resources in one,
    /// such as `moto_server` (`123456789012`).
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.account = account.into();
        self
    }

    /// The region ARNs are built in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account ARNs are built in.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// A topic's real name: `name`, with `.fifo` for a FIFO topic.
    pub fn topic_name(&self, name: &str) -> String {
        if self.fifo_topics.contains(name) && !name.ends_with(".fifo") {
            format!("{name}.fifo")
        } else {
            name.to_owned()
        }
    }

    /// A function's ARN.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account
        )
    }

    /// A topic's ARN.
    pub fn topic_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sns:{}:{}:{}",
            self.region,
            self.account,
            self.topic_name(name)
        )
    }

    /// A state machine's ARN.
    pub fn state_machine_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            self.region, self.account
        )
    }

    /// An execution's ARN.
    pub fn execution_arn(&self, state_machine: &str, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:execution:{state_machine}:{name}",
            self.region, self.account
        )
    }

    /// The value of `${kind:name}`, if `kind` is one of the vocabulary's.
    pub fn value(&self, kind: &str, name: &str) -> Option<String> {
        Some(match kind {
            "FunctionName" | "TableName" | "StateMachineName" => name.to_owned(),
            "FunctionArn" => self.function_arn(name),
            "TopicName" => self.topic_name(name),
            "TopicArn" => self.topic_arn(name),
            "StateMachineArn" => self.state_machine_arn(name),
            _ => return None,
        })
    }

    /// `text` with every placeholder substituted.
    pub fn resolve_str(&self, text: &str) -> Result<String, EnvironmentError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            match placeholder(tail) {
                Some((kind, name, len)) => {
                    let value = self.value(kind, name).ok_or_else(|| {
                        EnvironmentError::UnknownPlaceholder {
                            placeholder: tail[..len].to_owned(),
                        }
                    })?;
                    out.push_str(&value);
                    rest = &tail[len..];
                }
                None => {
                    out.push_str("${");
                    rest = &tail[2..];
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `value` with every placeholder in its strings and object keys substituted.
    pub fn resolve(&self, value: &Value) -> Result<Value, EnvironmentError> {
        Ok(match value {
            Value::String(s) => Value::String(self.resolve_str(s)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.resolve(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (k, v) in map {
                    out.insert(self.resolve_str(k)?, self.resolve(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}

/// `${Kind:name}` at the start of `text`: kind `\w+`, name `[\w.-]+`; the kind, the name
/// and the placeholder's length.
fn placeholder(text: &str) -> Option<(&str, &str, usize)> {
    let body = text.strip_prefix("${")?;
    let end = body.find('}')?;
    let (kind, name) = body[..end].split_once(':')?;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let valid = !kind.is_empty()
        && kind.chars().all(word)
        && !name.is_empty()
        && name.chars().all(|c| word(c) || c == '.' || c == '-');
    valid.then_some((kind, name, end + 3))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resolved(text: &str) -> String {
        Bindings::canonical(&json!({"topics": {"t2": {"fifo": true}}}))
            .resolve_str(text)
            .expect("known kinds")
    }

    #[test]
    fn placeholders_resolve_inside_longer_strings() {
        assert_eq!(resolved("no_such_${FunctionName:fn1}"), "no_such_fn1");
        assert_eq!(
            resolved("${FunctionArn:fn1}"),
            "arn:aws:lambda:us-east-1:111111111111:function:fn1"
        );
        assert_eq!(
            resolved("${TopicArn:t2}"),
            "arn:aws:sns:us-east-1:111111111111:t2.fifo"
        );
        assert_eq!(resolved("${TopicName:t1}"), "t1");
        assert_eq!(
            resolved("a ${StateMachineArn:sm1}x"),
            "a arn:aws:states:us-east-1:111111111111:stateMachine:sm1x"
        );
        assert_eq!(resolved("$.x ${ not one} ${A}"), "$.x ${ not one} ${A}");
        assert!(
            Bindings::canonical(&json!({}))
                .resolve_str("${QueueUrl:q}")
                .is_err()
        );
    }
}
