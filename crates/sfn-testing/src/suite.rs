//! Test files: a definition, its mock configuration and the test cases, each with its input
//! and what the execution must do.
//!
//! ```json
//! {
//!   "definition": "../order-processing.asl.json",
//!   "definitionSubstitutions": {"ChargeFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:charge"},
//!   "mockConfig": "order-processing.mocks.json",
//!   "stateMachine": "OrderProcessing",
//!   "testCases": {
//!     "HappyPath": {
//!       "input": {"orderId": "o-1"},
//!       "expect": {"status": "SUCCEEDED", "outputIncludes": {"status": "PROCESSED"},
//!                  "entered": ["Charge Payment"], "notEntered": ["Processing Error"]}
//!     }
//!   }
//! }
//! ```
//!
//! Paths are relative to the test file. `definition` and `mockConfig` may also be given
//! inline, as JSON objects. Every test case must be one of the mock configuration's test
//! cases for the state machine (`stateMachine`, or the configuration's only one).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};
use sfn_local::StateMachine;

use crate::{MockConfig, TestFileError};

/// How an execution must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedStatus {
    /// `SUCCEEDED`.
    Succeeded,
    /// `FAILED`.
    Failed,
    /// `TIMED_OUT`.
    TimedOut,
}

impl ExpectedStatus {
    /// As DescribeExecution writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedStatus::Succeeded => "SUCCEEDED",
            ExpectedStatus::Failed => "FAILED",
            ExpectedStatus::TimedOut => "TIMED_OUT",
        }
    }
}

/// What a test case expects of its execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// How it ends.
    pub status: ExpectedStatus,
    /// Its output, exactly.
    pub output: Option<Value>,
    /// Fields its output must hold (objects: these keys at least, recursively; arrays and
    /// scalars: equal).
    pub output_includes: Option<Value>,
    /// Its error, exactly.
    pub error: Option<String>,
    /// Its cause, exactly.
    pub cause: Option<String>,
    /// Text its cause must contain.
    pub cause_includes: Option<String>,
    /// Every state it enters, in the order the history records them (nested states
    /// included; a state entered twice appears twice).
    pub path: Option<Vec<String>>,
    /// States it must enter.
    pub entered: Vec<String>,
    /// States it must not enter.
    pub not_entered: Vec<String>,
}

/// One test case of a file.
#[derive(Debug, Clone)]
pub struct TestCase {
    /// Its name: a test case of the mock configuration.
    pub name: String,
    /// The execution input.
    pub input: Value,
    /// The execution's name (`$$.Execution.Name`); the test case's name by default.
    pub execution_name: String,
    /// What it expects.
    pub expect: Expect,
}

/// A test file, read and checked: its definition loaded, its mock configuration read, its
/// test cases' expectations naming states of the definition.
#[derive(Debug, Clone)]
pub struct TestFile {
    /// The file, as given.
    pub path: PathBuf,
    /// The state machine, as the mock configuration names it.
    pub machine_name: String,
    /// The definition's file, when it is not inline.
    pub definition_path: Option<PathBuf>,
    /// The loaded definition.
    pub machine: Arc<StateMachine>,
    /// The mock configuration.
    pub mocks: Arc<MockConfig>,
    /// The test cases, in the file's order.
    pub cases: Vec<TestCase>,
}

const FIELDS: [&str; 7] = [
    "Comment",
    "definition",
    "definitionSubstitutions",
    "mockConfig",
    "stateMachine",
    "testCases",
    "$schema",
];
const CASE_FIELDS: [&str; 5] = ["Comment", "input", "inputFile", "executionName", "expect"];
const EXPECT_FIELDS: [&str; 9] = [
    "status",
    "output",
    "outputIncludes",
    "error",
    "cause",
    "causeIncludes",
    "path",
    "entered",
    "notEntered",
];

impl TestFile {
    /// Reads and checks the test file at `path`.
    pub fn from_path(path: &Path) -> Result<Self, TestFileError> {
        let value = read_json(path)?;
        Self::from_value(value, path)
    }

    /// Checks a test file already parsed; relative paths in it are read from `path`'s
    /// directory.
    pub fn from_value(value: Value, path: &Path) -> Result<Self, TestFileError> {
        let invalid = |field: &str, message: &str| TestFileError::Invalid {
            path: path.to_owned(),
            field: field.to_owned(),
            message: message.to_owned(),
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let top = value
            .as_object()
            .ok_or_else(|| invalid("(top level)", "a test file is a JSON object"))?;
        known_fields(top, &FIELDS, "", &invalid)?;
        let substitutions = match top.get("definitionSubstitutions") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(invalid(
                    "definitionSubstitutions",
                    "must be an object of placeholder names and their values",
                ));
            }
        };
        let (definition, definition_path) = match top.get("definition") {
            Some(Value::String(file)) => {
                let file = joined(base, file);
                (read_json(&file)?, Some(file))
            }
            Some(Value::Object(_)) => (top["definition"].clone(), None),
            Some(_) => {
                return Err(invalid(
                    "definition",
                    "must be a definition file's path or a definition (a JSON object)",
                ));
            }
            None => return Err(invalid("definition", "missing")),
        };
        let definition_file = definition_path.clone().unwrap_or_else(|| path.to_owned());
        let definition =
            substitute(definition, &substitutions).map_err(|message| TestFileError::Invalid {
                path: definition_file.clone(),
                field: "definitionSubstitutions".to_owned(),
                message,
            })?;
        let machine =
            StateMachine::from_value(&definition).map_err(|source| TestFileError::Definition {
                path: definition_file.clone(),
                source,
            })?;
        let (mocks, mocks_path) = match top.get("mockConfig") {
            Some(Value::String(file)) => {
                let file = joined(base, file);
                (read_json(&file)?, file)
            }
            Some(Value::Object(_)) => (top["mockConfig"].clone(), path.to_owned()),
            Some(_) => {
                return Err(invalid(
                    "mockConfig",
                    "must be a mock configuration file's path or a mock configuration (a JSON object)",
                ));
            }
            None => return Err(invalid("mockConfig", "missing")),
        };
        let mocks = MockConfig::from_value(&mocks).map_err(|source| TestFileError::Mocks {
            path: mocks_path.clone(),
            source,
        })?;
        let machine_name = match top.get("stateMachine") {
            None => None,
            Some(Value::String(name)) => Some(name.as_str()),
            Some(_) => return Err(invalid("stateMachine", "must be a string")),
        };
        let machine_name = mocks
            .machine(machine_name)
            .map_err(|source| TestFileError::Mocks {
                path: mocks_path.clone(),
                source,
            })?
            .to_owned();
        let Some(Value::Object(raw_cases)) = top.get("testCases") else {
            return Err(invalid(
                "testCases",
                "missing: an object of test case names and what each expects",
            ));
        };
        if raw_cases.is_empty() {
            return Err(invalid("testCases", "holds no test case"));
        }
        let mut cases = Vec::with_capacity(raw_cases.len());
        for (name, raw) in raw_cases {
            let field = format!("testCases.{name}");
            if !mocks.test_cases(&machine_name).any(|c| c == name) {
                return Err(invalid(
                    &field,
                    &format!(
                        "the mock configuration has no test case {name:?} for state machine {machine_name:?}"
                    ),
                ));
            }
            cases.push(case_from(name, raw, &field, base, &machine, &invalid)?);
        }
        Ok(TestFile {
            path: path.to_owned(),
            machine_name,
            definition_path,
            machine: Arc::new(machine),
            mocks: Arc::new(mocks),
            cases,
        })
    }
}

/// `file` read from `base`, `..` resolved in the text (`statemachine/tests/../x.json` is
/// `statemachine/x.json`), so reports name files as a reader would.
fn joined(base: &Path, file: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in base.join(file).components() {
        match part {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn read_json(path: &Path) -> Result<Value, TestFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TestFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| TestFileError::Json {
        path: path.to_owned(),
        source,
    })
}

fn known_fields(
    object: &Map<String, Value>,
    known: &[&str],
    prefix: &str,
    invalid: &impl Fn(&str, &str) -> TestFileError,
) -> Result<(), TestFileError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(key) => Err(invalid(
            &format!("{prefix}{key}"),
            &format!("unknown field (known: {})", known.join(", ")),
        )),
    }
}

fn case_from(
    name: &str,
    raw: &Value,
    field: &str,
    base: &Path,
    machine: &StateMachine,
    invalid: &impl Fn(&str, &str) -> TestFileError,
) -> Result<TestCase, TestFileError> {
    let case = raw
        .as_object()
        .ok_or_else(|| invalid(field, "a test case is a JSON object"))?;
    known_fields(case, &CASE_FIELDS, &format!("{field}."), invalid)?;
    let input = match (case.get("input"), case.get("inputFile")) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                &format!("{field}.inputFile"),
                "give input or inputFile, not both",
            ));
        }
        (Some(input), None) => input.clone(),
        (None, Some(Value::String(file))) => read_json(&joined(base, file))?,
        (None, Some(_)) => {
            return Err(invalid(
                &format!("{field}.inputFile"),
                "must be a file's path",
            ));
        }
        (None, None) => Value::Object(Map::new()),
    };
    let execution_name = match case.get("executionName") {
        None => name.to_owned(),
        Some(Value::String(n)) if !n.is_empty() && n.len() <= 80 => n.clone(),
        Some(_) => {
            return Err(invalid(
                &format!("{field}.executionName"),
                "must be a name of 1 to 80 characters",
            ));
        }
    };
    let field = format!("{field}.expect");
    let expect = case
        .get("expect")
        .ok_or_else(|| invalid(&field, "missing"))?;
    let expect = expect_from(expect, &field, machine, invalid)?;
    Ok(TestCase {
        name: name.to_owned(),
        input,
        execution_name,
        expect,
    })
}

fn expect_from(
    raw: &Value,
    field: &str,
    machine: &StateMachine,
    invalid: &impl Fn(&str, &str) -> TestFileError,
) -> Result<Expect, TestFileError> {
    let expect = raw
        .as_object()
        .ok_or_else(|| invalid(field, "must be a JSON object"))?;
    known_fields(expect, &EXPECT_FIELDS, &format!("{field}."), invalid)?;
    let status = match expect.get("status").and_then(Value::as_str) {
        Some("SUCCEEDED") => ExpectedStatus::Succeeded,
        Some("FAILED") => ExpectedStatus::Failed,
        Some("TIMED_OUT") => ExpectedStatus::TimedOut,
        _ => {
            return Err(invalid(
                &format!("{field}.status"),
                "must be SUCCEEDED, FAILED or TIMED_OUT",
            ));
        }
    };
    let text = |key: &str| -> Result<Option<String>, TestFileError> {
        match expect.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(&format!("{field}.{key}"), "must be a string")),
        }
    };
    let states = |key: &str| -> Result<Option<Vec<String>>, TestFileError> {
        let Some(raw) = expect.get(key) else {
            return Ok(None);
        };
        let Some(items) = raw.as_array() else {
            return Err(invalid(
                &format!("{field}.{key}"),
                "must be an array of state names",
            ));
        };
        let mut names = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("{field}.{key}[{i}]");
            let Some(name) = item.as_str() else {
                return Err(invalid(&at, "must be a state name (a string)"));
            };
            if machine.find_state(name).is_none() {
                return Err(invalid(
                    &at,
                    &format!("the definition has no state named {name:?}"),
                ));
            }
            names.push(name.to_owned());
        }
        Ok(Some(names))
    };
    let out = Expect {
        status,
        output: expect.get("output").cloned(),
        output_includes: expect.get("outputIncludes").cloned(),
        error: text("error")?,
        cause: text("cause")?,
        cause_includes: text("causeIncludes")?,
        path: states("path")?,
        entered: states("entered")?.unwrap_or_default(),
        not_entered: states("notEntered")?.unwrap_or_default(),
    };
    let succeeded = status == ExpectedStatus::Succeeded;
    if !succeeded && (out.output.is_some() || out.output_includes.is_some()) {
        return Err(invalid(
            &format!("{field}.output"),
            "only an execution that succeeds has an output",
        ));
    }
    if succeeded && (out.error.is_some() || out.cause.is_some() || out.cause_includes.is_some()) {
        return Err(invalid(
            &format!("{field}.error"),
            "an execution that succeeds has no error or cause",
        ));
    }
    Ok(out)
}

/// Replaces each `${Name}` placeholder in the definition's strings with its value, as
/// `DefinitionSubstitutions` does on deployment; a placeholder without a value is an error.
fn substitute(definition: Value, values: &Map<String, Value>) -> Result<Value, String> {
    // The definition came from JSON text, whose nesting serde_json bounds; values built in
    // code are checked by the engine's loader after this.
    match definition {
        Value::String(s) => substitute_text(&s, values).map(Value::String),
        Value::Array(items) => items
            .into_iter()
            .map(|v| substitute(v, values))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| Ok((k, substitute(v, values)?)))
            .collect::<Result<Map<_, _>, String>>()
            .map(Value::Object),
        other => Ok(other),
    }
}

fn substitute_text(text: &str, values: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if name_len == 0 || !after[name_len..].starts_with('}') {
            // Not a placeholder: keep the text as written.
            out.push_str(&rest[..start + 2]);
            rest = after;
            continue;
        }
        let name = &after[..name_len];
        let value = match values.get(name) {
            Some(Value::String(v)) => v.clone(),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
            Some(_) => return Err(format!("the value of {name} must be a string")),
            None => {
                return Err(format!(
                    "the definition uses ${{{name}}}, which has no value here"
                ));
            }
        };
        out.push_str(&rest[..start]);
        out.push_str(&value);
        rest = &after[name_len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_are_replaced_and_unknown_ones_refused() {
        let values = json!({"Fn": "arn:f", "N": 3});
        let values = values.as_object().expect("object");
        assert_eq!(
            substitute_text("a ${Fn} b ${N}", values).as_deref(),
            Ok("a arn:f b 3")
        );
        assert_eq!(
            substitute_text("${ not one} $x ${}", values).as_deref(),
            Ok("${ not one} $x ${}")
        );
        assert_eq!(
            substitute_text("${Other}", values),
            Err("the definition uses ${Other}, which has no value here".to_owned())
        );
    }
}
