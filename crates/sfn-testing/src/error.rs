//! What can be wrong with a mock configuration or a test file.

use std::path::PathBuf;

/// A mock configuration that cannot be used, or a test case it does not have.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The text is not JSON.
    #[error("the mock configuration is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A field is missing or wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as a dotted path (`MockedResponses.Retry."1-2".Throw.Error`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No state machine of that name.
    #[error("the mock configuration has no state machine {name:?} (it has {known})")]
    NoStateMachine {
        /// The name asked for.
        name: String,
        /// The names it has.
        known: String,
    },
    /// More than one state machine, and none was named.
    #[error("the mock configuration has {count} state machines ({known}): name one")]
    WhichStateMachine {
        /// How many it has.
        count: usize,
        /// Their names.
        known: String,
    },
    /// No test case of that name.
    #[error(
        "state machine {machine:?} of the mock configuration has no test case {case:?} (it has {known})"
    )]
    NoTestCase {
        /// The state machine.
        machine: String,
        /// The test case asked for.
        case: String,
        /// The test cases it has.
        known: String,
    },
}

impl MockError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        MockError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A test file that cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum TestFileError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("{path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A field of the test file is missing or wrong.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The test file.
        path: PathBuf,
        /// The field, as a dotted path (`testCases.HappyPath.expect.status`).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The mock configuration is wrong.
    #[error("{path}: {source}")]
    Mocks {
        /// The file holding it.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: MockError,
    },
    /// The definition is not a valid state machine.
    #[error("{path}: the definition is not valid: {source}")]
    Definition {
        /// The definition file.
        path: PathBuf,
        /// What the engine said.
        #[source]
        source: sfn_local::Error,
    },
}
