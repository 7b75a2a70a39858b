//! The API's errors, as Step Functions names them: the `__type` of the AWS JSON 1.0 error
//! body and the HTTP status.

/// One error answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The error code, e.g. `StateMachineDoesNotExist`.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// The HTTP status (400 for the client's errors, 500 for the server's).
    pub status: u16,
}

impl ApiError {
    fn client(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            status: 400,
        }
    }

    /// An execution RedriveExecution cannot redrive, and why.
    pub fn not_redrivable(reason: impl Into<String>) -> Self {
        Self::client("ExecutionNotRedrivable", reason)
    }

    /// A parameter that is missing, of the wrong type or out of range.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::client("ValidationException", message)
    }

    /// No state machine has this ARN.
    pub fn no_state_machine(arn: &str) -> Self {
        Self::client(
            "StateMachineDoesNotExist",
            format!("State Machine Does Not Exist: '{arn}'"),
        )
    }

    /// No execution has this ARN.
    pub fn no_execution(arn: &str) -> Self {
        Self::client(
            "ExecutionDoesNotExist",
            format!("Execution Does Not Exist: '{arn}'"),
        )
    }

    /// An ARN that is not of the kind the action takes.
    pub fn invalid_arn(arn: &str) -> Self {
        Self::client("InvalidArn", format!("Invalid Arn: '{arn}'"))
    }

    /// A state machine or execution name AWS would refuse.
    pub fn invalid_name(name: &str) -> Self {
        Self::client("InvalidName", format!("Invalid Name: '{name}'"))
    }

    /// A definition the engine refuses.
    pub fn invalid_definition(reason: impl std::fmt::Display) -> Self {
        Self::client(
            "InvalidDefinition",
            format!("Invalid State Machine Definition: '{reason}'"),
        )
    }

    /// An execution input that is not JSON or is too large.
    pub fn invalid_input(reason: impl Into<String>) -> Self {
        Self::client("InvalidExecutionInput", reason)
    }

    /// A state machine name already used with another definition.
    pub fn state_machine_exists(arn: &str) -> Self {
        Self::client(
            "StateMachineAlreadyExists",
            format!("State Machine Already Exists: '{arn}'"),
        )
    }

    /// An execution name already used (or used with another input).
    pub fn execution_exists(arn: &str) -> Self {
        Self::client(
            "ExecutionAlreadyExists",
            format!("Execution Already Exists: '{arn}'"),
        )
    }

    /// An action a state machine of this type does not take.
    pub fn type_not_supported(message: impl Into<String>) -> Self {
        Self::client("StateMachineTypeNotSupported", message)
    }

    /// An action this server does not serve.
    pub fn unknown_operation(target: &str) -> Self {
        Self::client(
            "UnknownOperationException",
            format!("The operation {target} is not served by this endpoint"),
        )
    }

    /// The store failed.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        ApiError {
            code: "InternalFailure",
            message: message.to_string(),
            status: 500,
        }
    }
}

impl From<aws_emulator::StoreError> for ApiError {
    fn from(e: aws_emulator::StoreError) -> Self {
        ApiError::internal(e)
    }
}
