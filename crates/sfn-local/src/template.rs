//! Payload templates: `Parameters`, `ResultSelector`, `ItemSelector`, `BatchInput`.
//!
//! A key ending in `.$` takes its value from a path (`$…` on the input, `$$…` on the context
//! object, `$name…` on a workflow variable) or an intrinsic function call (`States.…`),
//! parsed once at load time. Subtrees
//! without such keys are kept as ready-made values and cloned as a whole.

use serde_json::{Map, Value};

use crate::Error;
use crate::intrinsics::{Intrinsic, RandomSource};
use crate::java_order;
use crate::path::{Documents, Path, PathExpr};

#[derive(Debug)]
pub(crate) enum Template {
    Literal(Value),
    Object(Vec<(Box<str>, Template)>),
    Array(Vec<Template>),
    Path { field: Box<str>, path: PathExpr },
    Intrinsic(Intrinsic),
}

/// Why a template could not be filled in.
#[derive(Debug)]
pub(crate) enum TemplateError {
    /// A `.$` path selected nothing.
    PathNotFound { field: Box<str>, path: Box<str> },
    /// An intrinsic function failed; `error` is its States.* name.
    Intrinsic { error: String, message: String },
}

impl Template {
    /// Loads a template; `location` names the field (e.g. `/States/A/Parameters`) for errors,
    /// `uses_context` is set when any part reads `$$`.
    pub fn load(value: &Value, location: &str, uses_context: &mut bool) -> Result<Template, Error> {
        if !has_dynamic_keys(value) {
            return Ok(Template::Literal(value.clone()));
        }
        match value {
            Value::Object(map) => {
                let mut entries = Vec::with_capacity(map.len());
                let mut dynamic = Vec::new();
                for (key, v) in map {
                    if let Some(out_key) = key.strip_suffix(".$") {
                        let t = load_dynamic(key, v, location, uses_context)?;
                        dynamic.push((Box::<str>::from(out_key), t));
                    } else {
                        entries.push((
                            key.as_str().into(),
                            Template::load(v, location, uses_context)?,
                        ));
                    }
                }
                // After the object's other fields, in Java `HashMap` order: no AWS page documents
                // it; the AWS-recorded executions show it (see `java_order`).
                entries.extend(java_order::hash_map_order(dynamic, |(name, _)| name));
                Ok(Template::Object(entries))
            }
            Value::Array(items) => Ok(Template::Array(
                items
                    .iter()
                    .map(|v| Template::load(v, location, uses_context))
                    .collect::<Result<_, _>>()?,
            )),
            other => Ok(Template::Literal(other.clone())),
        }
    }

    /// Fills the template in against `input`, the context object and the variables.
    pub fn eval(
        &self,
        input: &Value,
        docs: Documents<'_>,
        rng: &mut dyn RandomSource,
    ) -> Result<Value, TemplateError> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Object(entries) => {
                let mut out = Map::new();
                for (key, t) in entries {
                    out.insert(key.to_string(), t.eval(input, docs, rng)?);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => Ok(Value::Array(
                items
                    .iter()
                    .map(|t| t.eval(input, docs, rng))
                    .collect::<Result<_, _>>()?,
            )),
            Template::Path { field, path } => match path.eval(input, docs) {
                Ok(v) => Ok(v.into_owned()),
                Err(_) => Err(TemplateError::PathNotFound {
                    field: field.clone(),
                    path: path.text.clone(),
                }),
            },
            Template::Intrinsic(function) => {
                function
                    .eval_in(input, docs, rng)
                    .map_err(|e| TemplateError::Intrinsic {
                        error: e.error_name().to_string(),
                        message: e.cause(),
                    })
            }
        }
    }
}

fn has_dynamic_keys(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.ends_with(".$") || has_dynamic_keys(v)),
        Value::Array(items) => items.iter().any(has_dynamic_keys),
        _ => false,
    }
}

fn load_dynamic(
    key: &str,
    value: &Value,
    location: &str,
    uses_context: &mut bool,
) -> Result<Template, Error> {
    let invalid = || {
        Error::invalid(
            location,
            format!(
                "the value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call"
            ),
        )
    };
    let Value::String(text) = value else {
        return Err(invalid());
    };
    if text.starts_with('$') {
        let path = Path::parse(text).map_err(|_| invalid())?;
        if path.is_context() {
            *uses_context = true;
        }
        Ok(Template::Path {
            field: key.into(),
            path: PathExpr {
                text: text.as_str().into(),
                path,
            },
        })
    } else if text.starts_with("States.") {
        let function = Intrinsic::parse(text).map_err(|_| invalid())?;
        if text.contains("$$") {
            *uses_context = true;
        }
        Ok(Template::Intrinsic(function))
    } else {
        Err(invalid())
    }
}
