//! The errors Step Functions predefines, which `Retry` and `Catch` name as `States.*`
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>).

use std::fmt;
use std::str::FromStr;

/// A predefined error, by the name `ErrorEquals` matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatesError {
    /// `States.ALL`: the wildcard in `ErrorEquals`, matching every error but
    /// `States.DataLimitExceeded` and `States.Runtime`.
    All,
    /// `States.BranchFailed`: a branch of a Parallel state failed.
    BranchFailed,
    /// `States.DataLimitExceeded`: an input, output or result over 256 KiB.
    DataLimitExceeded,
    /// `States.ExceedToleratedFailureThreshold`: a Distributed Map's failures passed its
    /// tolerated count or percentage.
    ExceedToleratedFailureThreshold,
    /// `States.HeartbeatTimeout`: a task sent no heartbeat within `HeartbeatSeconds`.
    HeartbeatTimeout,
    /// `States.Http.Socket`: an HTTP task's socket failed.
    HttpSocket,
    /// `States.IntrinsicFailure`: an intrinsic function failed on its arguments.
    IntrinsicFailure,
    /// `States.ItemReaderFailed`: a Map's `ItemReader` could not read its items.
    ItemReaderFailed,
    /// `States.NoChoiceMatched`: a Choice state without `Default` matched no rule.
    NoChoiceMatched,
    /// `States.ParameterPathFailure`: a path in `Parameters` selected nothing.
    ParameterPathFailure,
    /// `States.Permissions`: the execution's role may not do what a task asked.
    Permissions,
    /// `States.QueryEvaluationError`: a JSONata expression failed.
    QueryEvaluationError,
    /// `States.ResultPathMatchFailure`: `ResultPath` could not be applied to the input.
    ResultPathMatchFailure,
    /// `States.ResultWriterFailed`: a Map's `ResultWriter` could not write its results.
    ResultWriterFailed,
    /// `States.Runtime`: an error no Retry or Catch can handle with `States.ALL`, such as a
    /// path that selects nothing.
    Runtime,
    /// `States.TaskFailed`: a task failed; in `ErrorEquals`, every error but `States.Timeout`.
    TaskFailed,
    /// `States.Timeout`: a task or the execution ran longer than its `TimeoutSeconds`.
    Timeout,
}

impl StatesError {
    /// Every predefined error.
    pub const ALL: [StatesError; 17] = [
        StatesError::All,
        StatesError::BranchFailed,
        StatesError::DataLimitExceeded,
        StatesError::ExceedToleratedFailureThreshold,
        StatesError::HeartbeatTimeout,
        StatesError::HttpSocket,
        StatesError::IntrinsicFailure,
        StatesError::ItemReaderFailed,
        StatesError::NoChoiceMatched,
        StatesError::ParameterPathFailure,
        StatesError::Permissions,
        StatesError::QueryEvaluationError,
        StatesError::ResultPathMatchFailure,
        StatesError::ResultWriterFailed,
        StatesError::Runtime,
        StatesError::TaskFailed,
        StatesError::Timeout,
    ];

    /// The name, e.g. `States.Timeout`.
    pub const fn name(self) -> &'static str {
        match self {
            StatesError::All => "States.ALL",
            StatesError::BranchFailed => "States.BranchFailed",
            StatesError::DataLimitExceeded => "States.DataLimitExceeded",
            StatesError::ExceedToleratedFailureThreshold => {
                "States.ExceedToleratedFailureThreshold"
            }
            StatesError::HeartbeatTimeout => "States.HeartbeatTimeout",
            StatesError::HttpSocket => "States.Http.Socket",
            StatesError::IntrinsicFailure => "States.IntrinsicFailure",
            StatesError::ItemReaderFailed => "States.ItemReaderFailed",
            StatesError::NoChoiceMatched => "States.NoChoiceMatched",
            StatesError::ParameterPathFailure => "States.ParameterPathFailure",
            StatesError::Permissions => "States.Permissions",
            StatesError::QueryEvaluationError => "States.QueryEvaluationError",
            StatesError::ResultPathMatchFailure => "States.ResultPathMatchFailure",
            StatesError::ResultWriterFailed => "States.ResultWriterFailed",
            StatesError::Runtime => "States.Runtime",
            StatesError::TaskFailed => "States.TaskFailed",
            StatesError::Timeout => "States.Timeout",
        }
    }

    /// Whether `States.ALL` leaves this error to be named explicitly: AWS documents
    /// `States.DataLimitExceeded` and `States.Runtime` as terminal.
    pub const fn is_terminal(self) -> bool {
        matches!(self, StatesError::DataLimitExceeded | StatesError::Runtime)
    }
}

impl fmt::Display for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text is not a predefined error's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a predefined States.* error")]
pub struct UnknownStatesError(pub String);

impl FromStr for StatesError {
    type Err = UnknownStatesError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StatesError::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownStatesError(s.to_owned()))
    }
}

impl PartialEq<StatesError> for str {
    fn eq(&self, other: &StatesError) -> bool {
        self == other.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in StatesError::ALL {
            assert_eq!(e.name().parse::<StatesError>(), Ok(e));
            assert!(e.name().starts_with("States."));
        }
        assert!("States.Nope".parse::<StatesError>().is_err());
        assert!(StatesError::Runtime.is_terminal());
        assert!(!StatesError::Timeout.is_terminal());
    }
}
