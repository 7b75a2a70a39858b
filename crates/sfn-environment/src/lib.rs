//! Runs any state machine on the local engine against a declared environment — Lambda
//! functions by behaviour, DynamoDB tables and SNS topics in the embedded store, state
//! machines to start — answering its Task states with the results and errors AWS gives.
//!
//! ```
//! use serde_json::json;
//! use sfn_environment::{Bindings, Environment, LocalAws};
//! use sfn_local::{ExecuteOptions, Status};
//!
//! let declared = json!({"functions": {"fn1": {"behavior": "identity"}}});
//! let bindings = Bindings::canonical(&declared);
//! let environment = Environment::from_value(&bindings.resolve(&declared)?)?;
//! let local = LocalAws::new(&environment, bindings.clone())?;
//! let definition = bindings.resolve(&json!({
//!     "StartAt": "Call",
//!     "States": {"Call": {"Type": "Task", "Resource": "${FunctionArn:fn1}", "End": true}}
//! }))?;
//! let execution = futures::executor::block_on(local.execute(
//!     &definition,
//!     json!({"hello": "world"}),
//!     ExecuteOptions::new(),
//! ))?;
//! assert_eq!(execution.status, Status::Succeeded);
//! assert_eq!(execution.output, Some(json!({"hello": "world"})));
//! # Ok::<(), sfn_environment::EnvironmentError>(())
//! ```
#![warn(missing_docs)]

pub mod compare;
mod context;
mod environment;
mod error;
mod http;
mod lambda;
mod local;
mod placeholders;
mod states;
pub mod store;

use serde_json::Value;

pub use compare::{Cause, Mode, Observed};
pub use environment::{Behavior, Environment, Function, StateMachineSpec, Table, Topic};
pub use error::EnvironmentError;
pub use lambda::{FUNCTION_ARNS, LAMBDA_INVOKE};
pub use local::LocalAws;
pub use placeholders::{ACCOUNT, Bindings, REGION};
pub use states::START_EXECUTION;

/// One recorded execution of the corpus's `integrations` category, placeholders resolved
/// with the canonical bindings.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case's name.
    pub name: String,
    /// The services its Task states call (`lambda`, `dynamodb`, `sns`, `stepfunctions`).
    pub services: Vec<String>,
    /// Its feature tags (`slow` for those that take real time on AWS).
    pub features: Vec<String>,
    /// The definition to run.
    pub definition: Value,
    /// The execution input.
    pub input: Value,
    /// What exists before the execution starts.
    pub environment: Environment,
    /// What AWS answered: `status`, `output` or `error` and `cause`, `events`, ….
    pub expected: Value,
    /// How the answer is compared.
    pub compare: Mode,
    /// How its recorded `cause` is held (its notes say when the recording re-wrote it).
    pub cause: Cause,
    bindings: Bindings,
}

impl Case {
    /// Reads a case file's text.
    pub fn from_json(text: &str) -> Result<Case, EnvironmentError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| EnvironmentError::Case(e.to_string()))?;
        Case::from_value(&value)
    }

    /// Reads a case, resolving its placeholders with the canonical bindings.
    pub fn from_value(case: &Value) -> Result<Case, EnvironmentError> {
        let raw_environment = case.get("environment").unwrap_or(&Value::Null);
        Case::with_bindings(case, Bindings::canonical(raw_environment))
    }

    /// Reads a case, resolving its placeholders with `bindings` (say, another account's).
    pub fn with_bindings(case: &Value, bindings: Bindings) -> Result<Case, EnvironmentError> {
        let resolved = bindings.resolve(case)?;
        let strings = |field: &str| -> Vec<String> {
            resolved
                .get(field)
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let definition = resolved
            .get("definition")
            .cloned()
            .ok_or_else(|| EnvironmentError::Case("it has no definition".into()))?;
        let expected = resolved
            .get("expected")
            .cloned()
            .ok_or_else(|| EnvironmentError::Case("it has no expected block".into()))?;
        let compare = match resolved.get("compare").and_then(Value::as_str) {
            None => Mode::Exact,
            Some(text) => Mode::parse(text).ok_or_else(|| {
                EnvironmentError::Case(format!("compare {text:?} is not exact or shape"))
            })?,
        };
        let cause = if strings("notes")
            .iter()
            .any(|note| note.contains("re-serialised compactly"))
        {
            Cause::Reserialised
        } else {
            Cause::Text
        };
        Ok(Case {
            name: resolved
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            services: strings("services"),
            features: strings("features"),
            definition,
            input: resolved.get("input").cloned().unwrap_or(Value::Null),
            environment: Environment::from_value(
                resolved.get("environment").unwrap_or(&Value::Null),
            )?,
            expected,
            compare,
            cause,
            bindings,
        })
    }

    /// The bindings the placeholders were resolved with.
    pub fn bindings(&self) -> &Bindings {
        &self.bindings
    }

    /// The case's environment, made real.
    pub fn local(&self) -> Result<LocalAws, EnvironmentError> {
        LocalAws::new(&self.environment, self.bindings.clone())
    }
}
