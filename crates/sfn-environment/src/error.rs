//! The crate's one error type.

/// What can stop an environment from being declared or an execution from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvironmentError {
    /// A part of the environment is not in the vocabulary, e.g. a function
    /// `{"behavior": "explode"}` or a table without `key`.
    #[error("environment {path}: {message}")]
    Invalid {
        /// Where, e.g. `functions.fn1.behavior`.
        path: String,
        /// What is wrong and what is accepted.
        message: String,
    },

    /// A `${Kind:name}` placeholder of a kind that has no binding, e.g. `${QueueUrl:q1}`.
    #[error(
        "unknown placeholder {placeholder}: the kinds are FunctionName, FunctionArn, TableName, TopicName, TopicArn, StateMachineName and StateMachineArn"
    )]
    UnknownPlaceholder {
        /// The placeholder as written.
        placeholder: String,
    },

    /// A definition (the execution's or an environment state machine's) that the engine
    /// refuses, e.g. a `Next` naming no state.
    #[error("{what}: {source}")]
    Definition {
        /// Which definition, e.g. `stateMachines.sm1`.
        what: String,
        /// The engine's reason.
        source: sfn_local::Error,
    },

    /// The embedded store refused to create a table or topic, or an initial item, e.g. an
    /// item without the table's key attribute.
    #[error("{what}: {source}")]
    Store {
        /// What was being created, e.g. `tables.table1`.
        what: String,
        /// The store's reason.
        source: aws_emulator::StoreError,
    },

    /// A case file that is not a JSON object with `definition` and `expected`.
    #[error("the case is not usable: {0}")]
    Case(String),
}

impl EnvironmentError {
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        EnvironmentError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}
