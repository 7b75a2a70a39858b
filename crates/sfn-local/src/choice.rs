//! Choice rules: comparison operators, their `…Path` variants, `And`/`Or`/`Not` and `Is*`.
//!
//! As in Step Functions, a comparison whose variable has the wrong type is simply false
//! (`NumericEquals` on a string), while a variable path that selects nothing is a
//! `States.Runtime` error, except for `IsPresent`.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use crate::Error;
use crate::path::{Documents, Path, PathExpr};
use crate::timestamp::{self, Nanos};

#[derive(Debug)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Test { variable: PathExpr, test: Test },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Is {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug)]
pub(crate) enum Operand {
    Str(String),
    Num(Number),
    Bool(bool),
    Ts(Nanos),
    Path(PathExpr),
}

#[derive(Debug)]
pub(crate) enum Test {
    Compare {
        kind: Kind,
        op: Op,
        operand: Operand,
    },
    Matches(Vec<Piece>),
    Is(Is, bool),
}

/// A `StringMatches` pattern, split at its unescaped `*`s.
#[derive(Debug, PartialEq)]
pub(crate) enum Piece {
    Literal(String),
    Star,
}

const OPERATORS: &[(&str, Kind, Op)] = &[
    ("StringEquals", Kind::String, Op::Eq),
    ("StringLessThan", Kind::String, Op::Lt),
    ("StringGreaterThan", Kind::String, Op::Gt),
    ("StringLessThanEquals", Kind::String, Op::Le),
    ("StringGreaterThanEquals", Kind::String, Op::Ge),
    ("NumericEquals", Kind::Numeric, Op::Eq),
    ("NumericLessThan", Kind::Numeric, Op::Lt),
    ("NumericGreaterThan", Kind::Numeric, Op::Gt),
    ("NumericLessThanEquals", Kind::Numeric, Op::Le),
    ("NumericGreaterThanEquals", Kind::Numeric, Op::Ge),
    ("BooleanEquals", Kind::Boolean, Op::Eq),
    ("TimestampEquals", Kind::Timestamp, Op::Eq),
    ("TimestampLessThan", Kind::Timestamp, Op::Lt),
    ("TimestampGreaterThan", Kind::Timestamp, Op::Gt),
    ("TimestampLessThanEquals", Kind::Timestamp, Op::Le),
    ("TimestampGreaterThanEquals", Kind::Timestamp, Op::Ge),
];

const IS_TESTS: &[(&str, Is)] = &[
    ("IsNull", Is::Null),
    ("IsPresent", Is::Present),
    ("IsNumeric", Is::Numeric),
    ("IsString", Is::String),
    ("IsBoolean", Is::Boolean),
    ("IsTimestamp", Is::Timestamp),
];

fn parse_path(text: &Value, location: &str, field: &str) -> Result<PathExpr, Error> {
    let Some(s) = text.as_str() else {
        return Err(Error::invalid(
            location,
            format!("'{field}' must be a JSONPath string"),
        ));
    };
    let path = Path::parse(s).map_err(|e| {
        Error::invalid(
            location,
            format!("'{field}' is not a valid JSONPath ({s:?}): {e}"),
        )
    })?;
    Ok(PathExpr {
        text: s.into(),
        path,
    })
}

/// Loads one rule. Top-level rules carry `Next` (returned), nested ones must not.
pub(crate) fn load_rule(
    value: &Value,
    location: &str,
    top: bool,
    uses_context: &mut bool,
) -> Result<(Rule, Option<String>), Error> {
    let Some(obj) = value.as_object() else {
        return Err(Error::invalid(location, "a choice rule must be an object"));
    };
    let next = rule_next(obj, location, top)?;
    let mut rule = None;
    let mut variable = None;
    let mut set = |r: Rule, key: &str| -> Result<(), Error> {
        if rule.is_some() {
            return Err(Error::invalid(
                location,
                format!("a choice rule must have exactly one operator, found another: '{key}'"),
            ));
        }
        rule = Some(r);
        Ok(())
    };
    let mut pending: Option<Test> = None;
    let mut pending_key = String::new();
    for (key, v) in obj {
        match key.as_str() {
            "Next" | "Comment" => {}
            // A top-level rule's variables, which the Choice state reads.
            "Assign" if top => {}
            "Variable" => variable = Some(parse_path(v, location, "Variable")?),
            "And" | "Or" => set(combinator(key, v, location, uses_context)?, key)?,
            "Not" => {
                let (inner, _) = load_rule(v, &format!("{location}/Not"), false, uses_context)?;
                set(Rule::Not(Box::new(inner)), key)?;
            }
            other => {
                let test = test_of(other, v, location, uses_context)?;
                if pending.is_some() {
                    return Err(Error::invalid(
                        location,
                        format!(
                            "a choice rule must have exactly one operator, found another: '{other}'"
                        ),
                    ));
                }
                pending = Some(test);
                pending_key = other.to_owned();
            }
        }
    }
    match (pending, variable) {
        (Some(test), Some(variable)) => {
            if variable.path.is_context() {
                *uses_context = true;
            }
            set(Rule::Test { variable, test }, &pending_key)?;
        }
        (Some(_), None) => {
            return Err(Error::invalid(
                location,
                format!("'{pending_key}' needs a 'Variable'"),
            ));
        }
        (None, Some(_)) if rule.is_none() => {
            return Err(Error::invalid(
                location,
                "a choice rule with 'Variable' needs a comparison operator",
            ));
        }
        (None, Some(_)) => {
            return Err(Error::invalid(
                location,
                "'Variable' cannot be combined with And, Or or Not",
            ));
        }
        (None, None) => {}
    }
    let rule = rule.ok_or_else(|| {
        Error::invalid(
            location,
            "a choice rule needs a comparison operator or And, Or, Not",
        )
    })?;
    Ok((rule, next))
}

/// A rule's `Next`: required at the top level, refused in a nested rule.
fn rule_next(
    obj: &serde_json::Map<String, Value>,
    location: &str,
    top: bool,
) -> Result<Option<String>, Error> {
    match obj.get("Next") {
        Some(Value::String(s)) if top => Ok(Some(s.clone())),
        Some(_) if top => Err(Error::invalid(location, "'Next' must be a string")),
        Some(_) => Err(Error::invalid(
            location,
            "a rule nested in And, Or or Not must not have 'Next'",
        )),
        None if top => Err(Error::invalid(
            location,
            "these fields are required: [Next]",
        )),
        None => Ok(None),
    }
}

/// `And` or `Or` (`key`): a non-empty array of nested rules.
fn combinator(
    key: &str,
    v: &Value,
    location: &str,
    uses_context: &mut bool,
) -> Result<Rule, Error> {
    let Some(items) = v.as_array().filter(|a| !a.is_empty()) else {
        return Err(Error::invalid(
            location,
            format!("'{key}' must be a non-empty array of rules"),
        ));
    };
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        rules.push(load_rule(item, &format!("{location}/{key}/{i}"), false, uses_context)?.0);
    }
    Ok(if key == "And" {
        Rule::And(rules)
    } else {
        Rule::Or(rules)
    })
}

/// The test a field other than the combinators names: `StringMatches`, a type test
/// (`IsNull`…), a comparison with a path (`…Path`) or with a literal.
fn test_of(key: &str, v: &Value, location: &str, uses_context: &mut bool) -> Result<Test, Error> {
    if key == "StringMatches" {
        let Some(s) = v.as_str() else {
            return Err(Error::invalid(location, "'StringMatches' must be a string"));
        };
        return Ok(Test::Matches(pattern(s)));
    }
    if let Some(&(_, is)) = IS_TESTS.iter().find(|(n, _)| *n == key) {
        let Some(b) = v.as_bool() else {
            return Err(Error::invalid(
                location,
                format!("'{key}' must be true or false"),
            ));
        };
        return Ok(Test::Is(is, b));
    }
    if let Some(&(_, kind, op)) = OPERATORS
        .iter()
        .find(|(n, _, _)| key.strip_suffix("Path") == Some(n))
    {
        let p = parse_path(v, location, key)?;
        if p.path.is_context() {
            *uses_context = true;
        }
        return Ok(Test::Compare {
            kind,
            op,
            operand: Operand::Path(p),
        });
    }
    if let Some(&(_, kind, op)) = OPERATORS.iter().find(|(n, _, _)| *n == key) {
        let operand = literal(kind, v).ok_or_else(|| {
            Error::invalid(
                location,
                format!("'{key}' has a value of the wrong type: {v}"),
            )
        })?;
        return Ok(Test::Compare { kind, op, operand });
    }
    Err(Error::invalid(
        location,
        format!("field '{key}' is not supported in a choice rule"),
    ))
}

fn literal(kind: Kind, v: &Value) -> Option<Operand> {
    match (kind, v) {
        (Kind::String, Value::String(s)) => Some(Operand::Str(s.clone())),
        (Kind::Numeric, Value::Number(n)) => Some(Operand::Num(n.clone())),
        (Kind::Boolean, Value::Bool(b)) => Some(Operand::Bool(*b)),
        (Kind::Timestamp, Value::String(s)) => timestamp::parse(s).map(Operand::Ts),
        _ => None,
    }
}

/// Splits a `StringMatches` pattern: `*` is a wildcard, `\*` a literal star, `\\` a backslash.
pub(crate) fn pattern(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => lit.push(n),
                None => lit.push('\\'),
            },
            '*' => {
                if !lit.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut lit)));
                }
                if pieces.last() != Some(&Piece::Star) {
                    pieces.push(Piece::Star);
                }
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Literal(lit));
    }
    pieces
}

fn matches(pieces: &[Piece], s: &str) -> bool {
    match pieces.split_first() {
        None => s.is_empty(),
        Some((Piece::Literal(l), rest)) => {
            s.strip_prefix(l.as_str()).is_some_and(|r| matches(rest, r))
        }
        Some((Piece::Star, rest)) => {
            if rest.is_empty() {
                return true;
            }
            s.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(s.len()))
                .any(|i| matches(rest, &s[i..]))
        }
    }
}

/// Compares two JSON numbers by value; integers exactly, others as f64.
pub(crate) fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

fn holds(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Gt => ord == Ordering::Greater,
        Op::Le => ord != Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

impl Rule {
    /// Evaluates the rule; `Err` carries the States.Runtime message for a path that selects
    /// nothing.
    pub fn eval(&self, input: &Value, context: Documents<'_>) -> Result<bool, String> {
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.eval(input, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.eval(input, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(rule) => Ok(!rule.eval(input, context)?),
            Rule::Test { variable, test } => {
                let value = variable.eval(input, context).ok();
                if let Test::Is(Is::Present, want) = test {
                    return Ok(value.is_some() == *want);
                }
                let Some(value) = value else {
                    return Err(invalid_path(&variable.text));
                };
                test.eval(&value, input, context)
            }
        }
    }
}

fn invalid_path(text: &str) -> String {
    format!("Invalid path '{text}': The choice state's condition path references an invalid value.")
}

impl Test {
    fn eval(&self, value: &Value, input: &Value, context: Documents<'_>) -> Result<bool, String> {
        Ok(match self {
            Test::Is(is, want) => {
                let actual = match is {
                    Is::Null => value.is_null(),
                    Is::Present => true,
                    Is::Numeric => value.is_number(),
                    Is::String => value.is_string(),
                    Is::Boolean => value.is_boolean(),
                    Is::Timestamp => value.as_str().and_then(timestamp::parse).is_some(),
                };
                actual == *want
            }
            Test::Matches(pieces) => value.as_str().is_some_and(|s| matches(pieces, s)),
            Test::Compare { kind, op, operand } => {
                let resolved;
                let operand_value = match operand {
                    Operand::Path(p) => {
                        resolved = p.eval(input, context).map_err(|_| invalid_path(&p.text))?;
                        Some(&*resolved)
                    }
                    _ => None,
                };
                compare(*kind, *op, value, operand, operand_value)
            }
        })
    }
}

fn compare(
    kind: Kind,
    op: Op,
    value: &Value,
    operand: &Operand,
    from_path: Option<&Value>,
) -> bool {
    match kind {
        Kind::String => {
            let Some(a) = value.as_str() else {
                return false;
            };
            let b = match (operand, from_path) {
                (_, Some(v)) => v.as_str(),
                (Operand::Str(s), None) => Some(s.as_str()),
                _ => None,
            };
            b.is_some_and(|b| holds(op, a.cmp(b)))
        }
        Kind::Numeric => {
            let Value::Number(a) = value else {
                return false;
            };
            let b = match (operand, from_path) {
                (_, Some(Value::Number(n))) => Some(n),
                (Operand::Num(n), None) => Some(n),
                _ => None,
            };
            b.and_then(|b| cmp_numbers(a, b))
                .is_some_and(|o| holds(op, o))
        }
        Kind::Boolean => {
            let Value::Bool(a) = value else { return false };
            let b = match (operand, from_path) {
                (_, Some(Value::Bool(b))) => Some(*b),
                (Operand::Bool(b), None) => Some(*b),
                _ => None,
            };
            b.is_some_and(|b| *a == b)
        }
        Kind::Timestamp => {
            let Some(a) = value.as_str().and_then(timestamp::parse) else {
                return false;
            };
            let b = match (operand, from_path) {
                (_, Some(v)) => v.as_str().and_then(timestamp::parse),
                (Operand::Ts(t), None) => Some(*t),
                _ => None,
            };
            b.is_some_and(|b| holds(op, a.cmp(&b)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Loads `rule` (a nested rule, no Next) and evaluates it on `input`.
    fn check(rule: Value, input: Value) -> Result<bool, String> {
        let mut ctx = false;
        let (rule, _) = load_rule(&rule, "/test", false, &mut ctx).map_err(|e| e.to_string())?;
        rule.eval(&input, Documents::context(&json!({})))
    }
    fn yes(rule: Value, input: Value) {
        assert_eq!(
            check(rule.clone(), input.clone()),
            Ok(true),
            "{rule} on {input}"
        );
    }
    fn no(rule: Value, input: Value) {
        assert_eq!(
            check(rule.clone(), input.clone()),
            Ok(false),
            "{rule} on {input}"
        );
    }
    fn fails(rule: Value, input: Value) {
        assert!(
            check(rule.clone(), input.clone()).is_err(),
            "{rule} on {input}"
        );
    }

    #[test]
    fn string_operators() {
        yes(
            json!({"Variable": "$.v", "StringEquals": "a"}),
            json!({"v": "a"}),
        );
        no(
            json!({"Variable": "$.v", "StringEquals": "a"}),
            json!({"v": 1}),
        );
        yes(
            json!({"Variable": "$.v", "StringLessThan": "b"}),
            json!({"v": "a"}),
        );
        no(
            json!({"Variable": "$.v", "StringGreaterThan": "A "}),
            json!({"v": "A"}),
        );
        yes(
            json!({"Variable": "$.v", "StringGreaterThanEquals": ""}),
            json!({"v": ""}),
        );
        yes(
            json!({"Variable": "$.v", "StringLessThanEquals": "AB"}),
            json!({"v": "A"}),
        );
        yes(
            json!({"Variable": "$.v", "StringEqualsPath": "$.w"}),
            json!({"v": "x", "w": "x"}),
        );
        no(
            json!({"Variable": "$.v", "StringEqualsPath": "$.w"}),
            json!({"v": "x", "w": 1}),
        );
    }

    #[test]
    fn string_matches() {
        yes(
            json!({"Variable": "$.v", "StringMatches": "log-*.txt"}),
            json!({"v": "log-1.txt"}),
        );
        yes(
            json!({"Variable": "$.v", "StringMatches": "*"}),
            json!({"v": ""}),
        );
        no(
            json!({"Variable": "$.v", "StringMatches": "log-*.txt"}),
            json!({"v": "log-1.txt2"}),
        );
        yes(
            json!({"Variable": "$.v", "StringMatches": "a\\*b"}),
            json!({"v": "a*b"}),
        );
        no(
            json!({"Variable": "$.v", "StringMatches": "a\\*b"}),
            json!({"v": "axb"}),
        );
        yes(
            json!({"Variable": "$.v", "StringMatches": "a\\\\*"}),
            json!({"v": "a\\zz"}),
        );
        yes(
            json!({"Variable": "$.v", "StringMatches": "*é*"}),
            json!({"v": "café!"}),
        );
    }

    #[test]
    fn numeric_operators() {
        yes(
            json!({"Variable": "$.v", "NumericEquals": 1}),
            json!({"v": 1.0}),
        );
        no(
            json!({"Variable": "$.v", "NumericEquals": 1}),
            json!({"v": "1"}),
        );
        yes(
            json!({"Variable": "$.v", "NumericLessThan": 1.5}),
            json!({"v": 1}),
        );
        yes(
            json!({"Variable": "$.v", "NumericGreaterThanEquals": 20}),
            json!({"v": 20}),
        );
        no(
            json!({"Variable": "$.v", "NumericGreaterThan": 20}),
            json!({"v": 20}),
        );
        yes(
            json!({"Variable": "$.v", "NumericLessThanEqualsPath": "$.w"}),
            json!({"v": -3, "w": 0}),
        );
        yes(
            json!({"Variable": "$.v", "NumericEquals": 18446744073709551615u64}),
            json!({"v": 18446744073709551615u64}),
        );
    }

    #[test]
    fn boolean_and_timestamp_operators() {
        yes(
            json!({"Variable": "$.v", "BooleanEquals": false}),
            json!({"v": false}),
        );
        no(
            json!({"Variable": "$.v", "BooleanEquals": false}),
            json!({"v": 0}),
        );
        yes(
            json!({"Variable": "$.v", "BooleanEqualsPath": "$.w"}),
            json!({"v": true, "w": true}),
        );
        yes(
            json!({"Variable": "$.v", "TimestampEquals": "2012-10-09T19:00:55Z"}),
            json!({"v": "2012-10-09T20:00:55+01:00"}),
        );
        no(
            json!({"Variable": "$.v", "TimestampEquals": "2012-10-09T19:00:55Z"}),
            json!({"v": "2012-10-09T19:00:55"}),
        );
        yes(
            json!({"Variable": "$.v", "TimestampLessThanPath": "$.w"}),
            json!({"v": "2012-10-09T19:00:55Z", "w": "2012-10-09T19:00:56Z"}),
        );
        no(
            json!({"Variable": "$.v", "TimestampGreaterThan": "2012-10-09T19:00:55Z"}),
            json!({"v": "2012-10-09T19:00:55Z"}),
        );
    }

    #[test]
    fn type_tests() {
        yes(
            json!({"Variable": "$.v", "IsPresent": true}),
            json!({"v": null}),
        );
        yes(json!({"Variable": "$.v", "IsPresent": false}), json!({}));
        yes(
            json!({"Variable": "$.v", "IsNull": true}),
            json!({"v": null}),
        );
        yes(
            json!({"Variable": "$.v", "IsNumeric": false}),
            json!({"v": "1"}),
        );
        yes(
            json!({"Variable": "$.v", "IsString": true}),
            json!({"v": ""}),
        );
        yes(
            json!({"Variable": "$.v", "IsBoolean": true}),
            json!({"v": false}),
        );
        yes(
            json!({"Variable": "$.v", "IsTimestamp": true}),
            json!({"v": "2012-10-09T19:00:55Z"}),
        );
        no(
            json!({"Variable": "$.v", "IsTimestamp": true}),
            json!({"v": "2023-02-24"}),
        );
    }

    #[test]
    fn composites() {
        yes(
            json!({"And": [{"Variable": "$.v", "NumericGreaterThanEquals": 20}, {"Variable": "$.v", "NumericLessThan": 30}]}),
            json!({"v": 22}),
        );
        no(
            json!({"And": [{"Variable": "$.v", "NumericGreaterThanEquals": 20}, {"Variable": "$.v", "NumericLessThan": 30}]}),
            json!({"v": 30}),
        );
        yes(
            json!({"Or": [{"Variable": "$.v", "StringEquals": "a"}, {"Variable": "$.v", "StringEquals": "b"}]}),
            json!({"v": "b"}),
        );
        yes(
            json!({"Not": {"Variable": "$.v", "StringEquals": "Private"}}),
            json!({"v": "Public"}),
        );
    }

    #[test]
    fn missing_variable_is_a_runtime_error() {
        fails(json!({"Variable": "$.v", "NumericEquals": 1}), json!({}));
        fails(
            json!({"Variable": "$.v", "StringEqualsPath": "$.w"}),
            json!({"v": "x"}),
        );
    }

    #[test]
    fn malformed_rules_are_rejected() {
        fails(json!({"Variable": "$.v"}), json!({}));
        fails(json!({"Variable": "$.v", "NumericEquals": "1"}), json!({}));
        fails(
            json!({"Variable": "$.v", "TimestampEquals": "yesterday"}),
            json!({}),
        );
        fails(
            json!({"Variable": "$.v", "StringEquals": "a", "NumericEquals": 1}),
            json!({}),
        );
        fails(json!({"Variable": "$.v", "Foo": 1}), json!({}));
        fails(json!({"And": []}), json!({}));
        fails(
            json!({"Variable": "$.v", "IsNull": true, "Next": "X"}),
            json!({}),
        );
    }
}
