//! JSONata fields: `{% … %}` expressions, found field by field (nested in objects and arrays
//! too), parsed once when the definition loads and evaluated with `$states` and the workflow
//! variables, on the execution's clock and seeded randomness.
//!
//! A string is an expression when it starts with `{%` and ends with `%}`, with nothing
//! around them (`" {% x %} "` is a literal, as AWS records). Failures are worded as Step
//! Functions words them in the cause of `States.QueryEvaluationError`: the expression
//! "returned nothing (undefined)", "returned an unsupported result type", "threw an error
//! during evaluation. T1006: …" or "returned an unexpected result type. Expected 'array', …".

use serde_json::{Map, Value};
use sfn_jsonata::{Binding, Bindings, Environment, EvalErrorKind, Expression, RandomSource};

use crate::Error;
use crate::path::Variables;

/// Whether a string field holds a JSONata expression rather than a literal.
pub(crate) fn is_expression(s: &str) -> bool {
    s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}")
}

/// Whether an expression may read `$states.context` (or `$states` as a whole): only then is
/// the context object built for the state. Errs on the side of building it.
fn reads_context(text: &str) -> bool {
    let mut rest = text;
    while let Some(at) = rest.find("$states") {
        let after = &rest[at + "$states".len()..];
        let continues_name = after
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let known = [".input", ".result", ".errorOutput"]
            .iter()
            .any(|member| after.starts_with(member));
        if !continues_name && !known {
            return true;
        }
        rest = after;
    }
    false
}

/// A parsed expression with what its error messages quote: its text and its field
/// (`Output/result`).
#[derive(Debug)]
pub(crate) struct Query {
    /// Boxed: a parsed expression is large, and queries sit in many enums.
    expr: Box<Expression>,
    text: Box<str>,
    field: Box<str>,
}

/// What an expression reads: `$states` and the variables in scope.
pub(crate) struct QueryEnv<'a> {
    /// `$states.input`: the state's input as it entered.
    pub input: &'a Value,
    /// `$states.result`: a Task, Parallel or Map state's result, once there is one.
    pub result: Option<&'a Value>,
    /// `$states.errorOutput`: the error a Catch handles.
    pub error_output: Option<&'a Value>,
    /// `$states.context`: the context object (`Null` when no expression of the state reads it).
    pub context: &'a Value,
    pub vars: &'a dyn Variables,
    pub clock: &'a dyn sfn_jsonata::Clock,
}

impl Bindings for QueryEnv<'_> {
    fn binding(&self, name: &str) -> Option<Binding<'_>> {
        if name == "states" {
            let mut members = Vec::with_capacity(4);
            members.push(("input", self.input));
            if let Some(r) = self.result {
                members.push(("result", r));
            }
            if let Some(e) = self.error_output {
                members.push(("errorOutput", e));
            }
            members.push(("context", self.context));
            return Some(Binding::Object(members));
        }
        self.vars.variable(name).map(Binding::Json)
    }
}

/// A failed evaluation: the field (for the `EvaluationFailed` event) and the cause AWS
/// gives, without the state's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub location: Option<Box<str>>,
    pub message: String,
}

impl QueryError {
    /// A failure of a field that is not an expression's result (a Timestamp that does not
    /// parse, a Map input that is not an array).
    pub fn new(location: Option<&str>, message: impl Into<String>) -> Self {
        QueryError {
            location: location.map(Into::into),
            message: message.into(),
        }
    }
}

/// The JSON type of a value as Step Functions names it in its messages: bare (`'string'`),
/// where `json_kind` gives the article (`a string`) for the engine's own sentences.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Query {
    /// Parses the expression of `text` (a `{% … %}` string) for `field` (`Output/result`);
    /// a syntax error is an invalid definition at `location`.
    pub fn load(
        text: &str,
        field: &str,
        location: &str,
        needs_context: &mut bool,
    ) -> Result<Query, Error> {
        let inner = text
            .get(2..text.len().saturating_sub(2))
            .unwrap_or_default()
            .trim();
        let expr = Expression::parse(inner).map_err(|e| {
            Error::invalid(
                location,
                format!(
                    "the JSONata expression '{inner}' specified for the field '{field}' is not valid: {e}"
                ),
            )
        })?;
        if reads_context(inner) {
            *needs_context = true;
        }
        Ok(Query {
            expr: Box::new(expr),
            text: inner.into(),
            field: field.into(),
        })
    }

    fn fail(&self, what: &str) -> QueryError {
        QueryError {
            location: Some(self.field.clone()),
            message: format!(
                "The JSONata expression '{}' specified for the field '{}' {what}",
                self.text, self.field
            ),
        }
    }

    /// Evaluates the expression; a result that is no JSON value is an error.
    pub fn eval(
        &self,
        env: &QueryEnv<'_>,
        rng: &mut dyn RandomSource,
    ) -> Result<Value, QueryError> {
        let mut environment = Environment::new(env.clock, rng);
        match self.expr.evaluate(None, env, &mut environment) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.fail("returned nothing (undefined).")),
            Err(e) if e.kind() == EvalErrorKind::UnsupportedResult => {
                Err(self.fail("returned an unsupported result type."))
            }
            Err(e) => Err(self.fail(&format!("threw an error during evaluation. {e}"))),
        }
    }

    /// The error for a result of the wrong JSON type for this field.
    pub fn unexpected(&self, expected: &str, got: &Value) -> QueryError {
        self.fail(&format!(
            "returned an unexpected result type. Expected '{expected}', but was '{}' for value: {got}",
            type_name(got)
        ))
    }

    /// The error for a result of the right type that the field does not accept.
    pub fn invalid(&self, why: &str) -> QueryError {
        self.fail(&format!("returned an invalid value: {why}"))
    }
}

/// A field's value with its expressions: a literal, one expression, or an object or array
/// holding some.
#[derive(Debug)]
pub(crate) enum Template {
    Literal(Value),
    Query(Query),
    Object(Vec<(Box<str>, Template)>),
    Array(Vec<Template>),
}

fn has_expressions(v: &Value) -> bool {
    match v {
        Value::String(s) => is_expression(s),
        Value::Array(items) => items.iter().any(has_expressions),
        Value::Object(map) => map.values().any(has_expressions),
        _ => false,
    }
}

impl Template {
    /// Loads the value of `field` (`Output`, `Arguments`, …) found at `location` (a JSON
    /// pointer, for load errors); nested expressions are named `Output/result`,
    /// `Output/list/0`, as AWS names them in its causes.
    pub fn load(
        value: &Value,
        field: &str,
        location: &str,
        needs_context: &mut bool,
    ) -> Result<Template, Error> {
        if !has_expressions(value) {
            return Ok(Template::Literal(value.clone()));
        }
        Ok(match value {
            Value::String(s) => Template::Query(Query::load(s, field, location, needs_context)?),
            Value::Array(items) => Template::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        Template::load(
                            v,
                            &format!("{field}/{i}"),
                            &format!("{location}/{i}"),
                            needs_context,
                        )
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Template::Object(
                map.iter()
                    .map(|(k, v)| {
                        Ok((
                            k.as_str().into(),
                            Template::load(
                                v,
                                &format!("{field}/{k}"),
                                &format!("{location}/{}", pointer_escape(k)),
                                needs_context,
                            )?,
                        ))
                    })
                    .collect::<Result<_, Error>>()?,
            ),
            other => Template::Literal(other.clone()),
        })
    }

    /// The expression, when the whole field is one.
    pub fn as_query(&self) -> Option<&Query> {
        match self {
            Template::Query(q) => Some(q),
            _ => None,
        }
    }

    /// Evaluates the expressions, in order, and builds the value.
    pub fn eval(
        &self,
        env: &QueryEnv<'_>,
        rng: &mut dyn RandomSource,
    ) -> Result<Value, QueryError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Query(q) => q.eval(env, rng),
            Template::Object(entries) => {
                let mut out = Map::new();
                for (k, t) in entries {
                    out.insert(k.to_string(), t.eval(env, rng)?);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|t| t.eval(env, rng))
                    .collect::<Result<_, _>>()?,
            )),
        }
    }
}

/// A key as a JSON pointer writes it (RFC 6901).
pub(crate) fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::NoVariables;
    use serde_json::json;
    use sfn_jsonata::{FixedClock, SplitMix64};

    fn eval(definition: Value, input: Value) -> Result<Value, QueryError> {
        let mut ctx = false;
        let t = Template::load(&definition, "Output", "/States/S/Output", &mut ctx).expect("loads");
        let env = QueryEnv {
            input: &input,
            result: None,
            error_output: None,
            context: &Value::Null,
            vars: &NoVariables,
            clock: &FixedClock(0),
        };
        t.eval(&env, &mut SplitMix64::new(1))
    }

    fn cause(r: Result<Value, QueryError>) -> String {
        r.expect_err("fails").message
    }

    #[test]
    fn expressions_and_literals() {
        assert!(is_expression("{%1%}"));
        assert!(!is_expression(" {% 1 %}"));
        assert!(!is_expression("{%}"));
        assert_eq!(
            eval(
                json!({"a": "{% $states.input.x + 1 %}", "b": [" {% x %} ", "{% 'y' %}"]}),
                json!({"x": 1})
            ),
            Ok(json!({"a": 2, "b": [" {% x %} ", "y"]}))
        );
        assert_eq!(eval(json!("$.x"), json!({})), Ok(json!("$.x")));
    }

    #[test]
    fn failures_are_worded_as_aws_words_them() {
        assert_eq!(
            cause(eval(json!({"result": "{% $doesNotExist %}"}), json!({}))),
            "The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
        );
        assert_eq!(
            cause(eval(json!("{% $randomSeeded(1) %}"), json!({}))),
            "The JSONata expression '$randomSeeded(1)' specified for the field 'Output' threw an error during evaluation. T1006: Attempted to invoke a non-function"
        );
        assert_eq!(
            cause(eval(json!(["{% function($x){$x} %}"]), json!({}))),
            "The JSONata expression 'function($x){$x}' specified for the field 'Output/0' returned an unsupported result type."
        );
    }

    #[test]
    fn syntax_errors_name_the_field() {
        let mut ctx = false;
        let err = Template::load(
            &json!({"a": "{% 1 + %}"}),
            "Output",
            "/States/S/Output",
            &mut ctx,
        )
        .expect_err("invalid");
        let text = err.to_string();
        assert!(text.contains("/States/S/Output/a"), "{text}");
        assert!(text.contains("'Output/a'"), "{text}");
        assert!(text.contains("S0207"), "{text}");
    }

    #[test]
    fn context_is_built_only_when_read() {
        for (text, reads) in [
            ("$states.input.x", false),
            ("$states.result", false),
            ("$states.errorOutput.Cause", false),
            ("$states.context.Execution.Id", true),
            ("$states", true),
            ("$keys($states)", true),
            ("$statesCount + 1", false),
            ("$states.input.a & $states.context.State.Name", true),
        ] {
            assert_eq!(reads_context(text), reads, "{text}");
        }
    }
}
