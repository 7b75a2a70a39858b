//! Reading requests and writing answers: parameters, names, ARNs, timestamps, page tokens.
//!
//! The rules are the API reference's (<https://docs.aws.amazon.com/step-functions/latest/apireference/>):
//! names are 1–80 characters without whitespace, brackets, wildcards, the characters
//! `"#%\^|~`$&,;:/` or control characters; `maxResults` is 0–1000 (0 or absent: the
//! default page of 100); timestamps are epoch seconds.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The largest page any list action returns.
pub const MAX_PAGE: usize = 1000;
/// The page size when `maxResults` is absent or 0.
pub const DEFAULT_PAGE: usize = 100;

/// A request's parameters.
pub struct Params<'a>(pub &'a Map<String, Value>);

impl<'a> Params<'a> {
    /// A required string parameter.
    pub fn string(&self, name: &str) -> Result<&'a str, ApiError> {
        match self.0.get(name) {
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(ApiError::validation(format!(
                "1 validation error detected: Value at '{name}' failed to satisfy constraint: Member must be a string"
            ))),
            None => Err(ApiError::validation(format!(
                "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
            ))),
        }
    }

    /// An optional string parameter.
    pub fn optional_string(&self, name: &str) -> Result<Option<&'a str>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.string(name).map(Some),
        }
    }

    /// An optional boolean parameter.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::validation(format!(
                "1 validation error detected: Value at '{name}' failed to satisfy constraint: Member must be a boolean"
            ))),
        }
    }

    /// The page size `maxResults` asks for.
    pub fn page_size(&self) -> Result<usize, ApiError> {
        match self.0.get("maxResults") {
            None | Some(Value::Null) => Ok(DEFAULT_PAGE),
            Some(v) => match v.as_u64() {
                Some(0) => Ok(DEFAULT_PAGE),
                Some(n) if n <= MAX_PAGE as u64 => Ok(n as usize),
                _ => Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
                ))),
            },
        }
    }

    /// Where the page starts: the offset a `nextToken` of ours holds.
    pub fn page_start(&self) -> Result<usize, ApiError> {
        match self.optional_string("nextToken")? {
            None => Ok(0),
            Some(token) => token
                .strip_prefix("page-")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| ApiError {
                    code: "InvalidToken",
                    message: format!("Invalid Token: '{token}'"),
                    status: 400,
                }),
        }
    }
}

/// One page of `items` from `start`, and the token for the next, if any.
pub fn page<T>(items: Vec<T>, start: usize, size: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let end = start.saturating_add(size).min(total);
    let next = (end < total).then(|| format!("page-{end}"));
    let page = items
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect();
    (page, next)
}

/// Checks a state machine or execution name against AWS's rules.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let count = name.chars().count();
    let bad =
        |c: char| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
    if count == 0 || count > 80 || name.chars().any(bad) {
        return Err(ApiError::invalid_name(name));
    }
    Ok(())
}

/// Epoch seconds, as the AWS JSON protocols write timestamps.
pub fn seconds(time: SystemTime) -> Value {
    let millis = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Value::from(millis as f64 / 1000.0)
}

/// Epoch seconds of a millisecond count.
pub fn seconds_of_millis(millis: i64) -> Value {
    Value::from(millis as f64 / 1000.0)
}

/// The parts of a Step Functions ARN: `arn:<partition>:states:<region>:<account>:<kind>:<rest>`.
pub struct Arn<'a> {
    /// `stateMachine`, `execution`, `express`, `activity`, …
    pub kind: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `text`, or says it is no Step Functions ARN.
    pub fn parse(text: &'a str) -> Result<Arn<'a>, ApiError> {
        let mut parts = text.splitn(7, ':');
        let fields: Vec<&str> = parts.by_ref().collect();
        match fields.as_slice() {
            ["arn", partition, "states", region, account, kind, rest]
                if partition.starts_with("aws")
                    && !region.is_empty()
                    && account.len() == 12
                    && account.chars().all(|c| c.is_ascii_digit())
                    && !rest.is_empty() =>
            {
                Ok(Arn { kind })
            }
            _ => Err(ApiError::invalid_arn(text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_aws_rules() {
        for good in ["order-1", "a", &"x".repeat(80), "Order_2026.12"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "a:b",
            "a*",
            &"x".repeat(81),
            "tab\t",
            "x\u{7}",
        ] {
            assert_eq!(
                check_name(bad).map_err(|e| e.code),
                Err("InvalidName"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn pages_carry_a_token_to_the_next() {
        let (first, next) = page((0..5).collect(), 0, 2);
        assert_eq!((first, next.as_deref()), (vec![0, 1], Some("page-2")));
        let (last, next) = page((0..5).collect(), 4, 2);
        assert_eq!((last, next), (vec![4], None));
        let (past, next) = page((0..5).collect::<Vec<i32>>(), 9, 2);
        assert!(past.is_empty() && next.is_none());
    }

    #[test]
    fn arns_are_split_or_refused() {
        let arn =
            Arn::parse("arn:aws:states:us-east-1:123456789012:stateMachine:m").expect("an ARN");
        assert_eq!(arn.kind, "stateMachine");
        let execution =
            Arn::parse("arn:aws:states:us-east-1:123456789012:execution:m:e").expect("an ARN");
        assert_eq!(execution.kind, "execution");
        for bad in [
            "",
            "m",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            "arn:aws:states:us-east-1:12:stateMachine:m",
        ] {
            assert_eq!(
                Arn::parse(bad).map(|a| a.kind).map_err(|e| e.code),
                Err("InvalidArn")
            );
        }
    }
}
