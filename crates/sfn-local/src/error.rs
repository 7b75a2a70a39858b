//! The crate's error type.

/// Why a definition could not be loaded or an execution could not be started.
///
/// Failures *inside* an execution (a Task error, `States.Timeout`, a Fail state) are not Rust
/// errors: they end the execution with status `FAILED` or `TIMED_OUT`, see
/// [`Execution`](crate::Execution).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The definition text is not JSON, e.g. `not a definition`.
    #[error("definition is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The definition is JSON but Step Functions would reject it, e.g. a `Next` naming a
    /// state that does not exist. `location` is a JSON pointer such as `/States/Charge/Retry/0`.
    #[error("invalid definition at {location}: {message}")]
    InvalidDefinition {
        /// Where in the definition the problem is (`/` for the top level).
        location: String,
        /// What is wrong, e.g. `these fields are required: [StartAt]`.
        message: String,
    },
    /// The definition uses a feature this engine does not run, e.g. `"QueryLanguage": "JSONata"`.
    #[error("unsupported at {location}: {message}")]
    Unsupported {
        /// Where in the definition the feature is used.
        location: String,
        /// What is not supported.
        message: String,
    },
    /// A task handler pattern is malformed, e.g. an empty string.
    #[error(
        "invalid resource pattern {0:?}: patterns are non-empty ARNs, '*' matches any run of characters"
    )]
    InvalidPattern(String),
}

impl Error {
    pub(crate) fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidDefinition {
            location: location.into(),
            message: message.into(),
        }
    }
}
