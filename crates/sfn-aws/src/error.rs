//! The crate's error, and the Step Functions error names and causes it maps to.
//!
//! Step Functions runs its integrations on the AWS SDK for Java (v1) and names a failed call
//! after the exception class that SDK throws: `DynamoDB.ConditionalCheckFailedException` for
//! an error the service model declares, the service's base class
//! (`DynamoDB.AmazonDynamoDBException`, `Lambda.AWSLambdaException`, `SNS.AmazonSNSException`)
//! for any other error code such as DynamoDB's `ValidationException`, and
//! `<Service>.SdkClientException` when no answer came back. The cause is that SDK's message:
//! `<message> (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: …; Request ID: …;
//! Proxy: null)`. The tables below list the error codes the operations used here can return,
//! as the service models (and so the Rust SDK's deserialisers) declare them.

use std::fmt;

use sfn_local::{StatesError, TaskFailure};

/// A service this crate calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// AWS Lambda (`lambda:invoke` and plain function ARNs).
    Lambda,
    /// Amazon DynamoDB (`dynamodb:putItem`, `getItem`, `updateItem`, `deleteItem`).
    DynamoDb,
    /// Amazon SNS (`sns:publish`).
    Sns,
}

impl Service {
    /// The prefix of the service's Step Functions error names: `Lambda`, `DynamoDB`, `SNS`.
    pub fn prefix(self) -> &'static str {
        match self {
            Service::Lambda => "Lambda",
            Service::DynamoDb => "DynamoDB",
            Service::Sns => "SNS",
        }
    }

    /// The service name the Java SDK prints in a cause: `AWSLambda`, `AmazonDynamoDBv2`, `AmazonSNS`.
    fn sdk_name(self) -> &'static str {
        match self {
            Service::Lambda => "AWSLambda",
            Service::DynamoDb => "AmazonDynamoDBv2",
            Service::Sns => "AmazonSNS",
        }
    }

    /// The Java SDK's base exception, named for codes the service model does not declare.
    fn base_exception(self) -> &'static str {
        match self {
            Service::Lambda => "AWSLambdaException",
            Service::DynamoDb => "AmazonDynamoDBException",
            Service::Sns => "AmazonSNSException",
        }
    }

    /// Wire error code -> modeled exception shape, for the operations this crate calls.
    fn modeled_errors(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Service::Lambda => LAMBDA_INVOKE_ERRORS,
            Service::DynamoDb => DYNAMODB_ITEM_ERRORS,
            Service::Sns => SNS_PUBLISH_ERRORS,
        }
    }

    /// The Step Functions error name for a service error `code`.
    pub fn error_name(self, code: Option<&str>) -> String {
        let shape = code.and_then(|code| {
            self.modeled_errors()
                .iter()
                .find(|(wire, _)| *wire == code)
                .map(|(_, shape)| *shape)
        });
        match shape {
            // The Java SDK's class for `RequestLimitExceeded` is `RequestLimitExceededException`.
            Some(shape) if shape.ends_with("Exception") => format!("{}.{shape}", self.prefix()),
            Some(shape) => format!("{}.{shape}Exception", self.prefix()),
            None => format!("{}.{}", self.prefix(), self.base_exception()),
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// Errors of Lambda's `Invoke` (restJson1: the wire code is the shape name).
const LAMBDA_INVOKE_ERRORS: &[(&str, &str)] = &[
    (
        "CodeArtifactUserDeletedException",
        "CodeArtifactUserDeletedException",
    ),
    (
        "CodeArtifactUserFailedException",
        "CodeArtifactUserFailedException",
    ),
    (
        "CodeArtifactUserPendingException",
        "CodeArtifactUserPendingException",
    ),
    (
        "DurableExecutionAlreadyStartedException",
        "DurableExecutionAlreadyStartedException",
    ),
    ("EC2AccessDeniedException", "EC2AccessDeniedException"),
    ("EC2ThrottledException", "EC2ThrottledException"),
    ("EC2UnexpectedException", "EC2UnexpectedException"),
    ("EFSIOException", "EFSIOException"),
    (
        "EFSMountConnectivityException",
        "EFSMountConnectivityException",
    ),
    ("EFSMountFailureException", "EFSMountFailureException"),
    ("EFSMountTimeoutException", "EFSMountTimeoutException"),
    ("ENILimitReachedException", "ENILimitReachedException"),
    ("ENINotReadyException", "ENINotReadyException"),
    (
        "InvalidParameterValueException",
        "InvalidParameterValueException",
    ),
    (
        "InvalidRequestContentException",
        "InvalidRequestContentException",
    ),
    ("InvalidRuntimeException", "InvalidRuntimeException"),
    (
        "InvalidSecurityGroupIDException",
        "InvalidSecurityGroupIDException",
    ),
    ("InvalidSubnetIDException", "InvalidSubnetIDException"),
    ("InvalidZipFileException", "InvalidZipFileException"),
    ("KMSAccessDeniedException", "KMSAccessDeniedException"),
    ("KMSDisabledException", "KMSDisabledException"),
    ("KMSInvalidStateException", "KMSInvalidStateException"),
    ("KMSNotFoundException", "KMSNotFoundException"),
    ("ModeNotSupportedException", "ModeNotSupportedException"),
    ("NoPublishedVersionException", "NoPublishedVersionException"),
    (
        "RecursiveInvocationException",
        "RecursiveInvocationException",
    ),
    ("RequestTooLargeException", "RequestTooLargeException"),
    ("ResourceConflictException", "ResourceConflictException"),
    ("ResourceNotFoundException", "ResourceNotFoundException"),
    ("ResourceNotReadyException", "ResourceNotReadyException"),
    (
        "S3FilesMountConnectivityException",
        "S3FilesMountConnectivityException",
    ),
    (
        "S3FilesMountFailureException",
        "S3FilesMountFailureException",
    ),
    (
        "S3FilesMountTimeoutException",
        "S3FilesMountTimeoutException",
    ),
    (
        "SerializedRequestEntityTooLargeException",
        "SerializedRequestEntityTooLargeException",
    ),
    ("ServiceException", "ServiceException"),
    (
        "ServiceQuotaExceededException",
        "ServiceQuotaExceededException",
    ),
    ("SnapStartException", "SnapStartException"),
    ("SnapStartNotReadyException", "SnapStartNotReadyException"),
    ("SnapStartTimeoutException", "SnapStartTimeoutException"),
    (
        "SubnetIPAddressLimitReachedException",
        "SubnetIPAddressLimitReachedException",
    ),
    ("TooManyRequestsException", "TooManyRequestsException"),
    (
        "UnsupportedMediaTypeException",
        "UnsupportedMediaTypeException",
    ),
];

/// Errors of DynamoDB's `PutItem`, `GetItem`, `UpdateItem` and `DeleteItem` (awsJson1_0).
const DYNAMODB_ITEM_ERRORS: &[(&str, &str)] = &[
    (
        "ConditionalCheckFailedException",
        "ConditionalCheckFailedException",
    ),
    ("InternalServerError", "InternalServerError"),
    ("InvalidEndpointException", "InvalidEndpointException"),
    (
        "ItemCollectionSizeLimitExceededException",
        "ItemCollectionSizeLimitExceededException",
    ),
    (
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceededException",
    ),
    (
        "ReplicatedWriteConflictException",
        "ReplicatedWriteConflictException",
    ),
    ("RequestLimitExceeded", "RequestLimitExceeded"),
    ("ResourceNotFoundException", "ResourceNotFoundException"),
    ("ThrottlingException", "ThrottlingException"),
    (
        "TransactionConflictException",
        "TransactionConflictException",
    ),
];

/// Errors of SNS's `Publish` (awsQuery: the wire code comes from `@awsQueryError`), plus
/// `Throttled`, which the Java SDK recognises on every SNS call.
const SNS_PUBLISH_ERRORS: &[(&str, &str)] = &[
    ("AuthorizationError", "AuthorizationErrorException"),
    ("EndpointDisabled", "EndpointDisabledException"),
    ("InternalError", "InternalErrorException"),
    ("InvalidParameter", "InvalidParameterException"),
    ("ParameterValueInvalid", "InvalidParameterValueException"),
    ("InvalidSecurity", "InvalidSecurityException"),
    ("KMSAccessDenied", "KMSAccessDeniedException"),
    ("KMSDisabled", "KMSDisabledException"),
    ("KMSInvalidState", "KMSInvalidStateException"),
    ("KMSNotFound", "KMSNotFoundException"),
    ("KMSOptInRequired", "KMSOptInRequired"),
    ("KMSThrottling", "KMSThrottlingException"),
    ("NotFound", "NotFoundException"),
    (
        "PlatformApplicationDisabled",
        "PlatformApplicationDisabledException",
    ),
    ("Throttled", "ThrottledException"),
    ("ValidationException", "ValidationException"),
];

/// What can go wrong calling a service or preparing a local endpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is missing, has the wrong JSON type, or is not one the integration takes,
    /// e.g. `{"TableName": 7}` for `dynamodb:putItem`, or an attribute value
    /// `{"N": 12}` (numbers travel as strings). Reported under the name the service gives
    /// an invalid request: `DynamoDB.AmazonDynamoDBException` (error code
    /// `ValidationException`), `Lambda.InvalidParameterValueException`,
    /// `SNS.InvalidParameterException`.
    #[error("invalid {service} parameter `{field}`: {reason}")]
    InvalidParameter {
        /// The service the parameters are for.
        service: Service,
        /// Where the bad value is, e.g. `Item.total.N`.
        field: String,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// The function ran and failed (`X-Amz-Function-Error` was set), e.g. it returned
    /// `{"errorType": "PaymentError", "errorMessage": "card declined"}`. Reported as the
    /// payload's `errorType` (`Lambda.Unknown` when it has none), the payload being the cause.
    #[error("function failed with {}: {payload}", error_type.as_deref().unwrap_or("no errorType"))]
    Function {
        /// The payload's `errorType`, if it had one.
        error_type: Option<String>,
        /// The payload the function returned, as text.
        payload: String,
    },
    /// The service answered with an error, e.g. DynamoDB's `ConditionalCheckFailedException`
    /// for a `ConditionExpression` that did not hold.
    #[error("{service} answered {} (status {}): {}", code.as_deref().unwrap_or("an unnamed error"),
        status.map_or_else(|| "unknown".to_owned(), |s| s.to_string()), message.as_deref().unwrap_or("no message"))]
    Service {
        /// The service that answered.
        service: Service,
        /// The service's error code, e.g. `ConditionalCheckFailedException`.
        code: Option<String>,
        /// The service's message.
        message: Option<String>,
        /// The HTTP status of the answer.
        status: Option<u16>,
        /// The request id the service gave.
        request_id: Option<String>,
    },
    /// No usable answer came back: the connection was refused, timed out, or the answer could
    /// not be read, e.g. `--aws-endpoint http://127.0.0.1:1` with nothing listening.
    #[error("{service} request to {endpoint} failed: {reason}")]
    Transport {
        /// The service called.
        service: Service,
        /// The endpoint called.
        endpoint: String,
        /// Why it failed, innermost cause last.
        reason: String,
    },
    /// The service's answer has a shape this crate cannot represent, e.g. an attribute value of
    /// a type newer than the SDK. Reported as `<Service>.SdkClientException`, as the Java SDK
    /// reports an answer it cannot unmarshal.
    #[error("{service} answered with something unreadable: {reason}")]
    UnexpectedResponse {
        /// The service that answered.
        service: Service,
        /// What could not be read.
        reason: String,
    },
    /// A Task resource this crate does not integrate, e.g. `arn:aws:states:::dynamodb:scan`.
    #[error(
        "unsupported resource `{0}`: the integrations here are lambda:invoke, function ARNs, dynamodb:putItem|getItem|updateItem|deleteItem and sns:publish"
    )]
    UnsupportedResource(String),
    /// The endpoint URL is not an absolute `http://` or `https://` URL, e.g. `localhost:5000`.
    #[error(
        "endpoint url `{0}` must be an absolute http:// or https:// url, e.g. http://127.0.0.1:5000"
    )]
    InvalidEndpoint(String),
    /// A table to prepare exists with another key schema, e.g. keyed on `id` where `OrderId`
    /// was asked for.
    #[error(
        "table `{table}` exists with key schema {found}; expected partition key `{expected}` of type S only"
    )]
    TableKeyMismatch {
        /// The table.
        table: String,
        /// The partition key asked for.
        expected: String,
        /// The key schema found, as `name (HASH|RANGE)` pairs.
        found: String,
    },
    /// A table to prepare did not become `ACTIVE` in time.
    #[error("table `{table}` is still {status} after {seconds} s; expected ACTIVE")]
    TableNotActive {
        /// The table.
        table: String,
        /// Its last status.
        status: String,
        /// How long was waited.
        seconds: u64,
    },
    /// A handler could not be registered on the engine.
    #[error("cannot register a handler for `{pattern}`: {reason}")]
    Register {
        /// The resource pattern.
        pattern: String,
        /// The engine's refusal, part of the message.
        reason: sfn_local::Error,
    },
}

impl Error {
    /// The error name a state machine's `Retry`/`Catch` sees, e.g.
    /// `DynamoDB.ConditionalCheckFailedException`.
    pub fn step_functions_name(&self) -> String {
        match self {
            Error::InvalidParameter { service, .. } => match service {
                Service::DynamoDb => service.error_name(Some("ValidationException")),
                Service::Lambda => service.error_name(Some("InvalidParameterValueException")),
                Service::Sns => service.error_name(Some("InvalidParameter")),
            },
            Error::Function { error_type, .. } => error_type
                .clone()
                .unwrap_or_else(|| "Lambda.Unknown".to_owned()),
            Error::Service { service, code, .. } => service.error_name(code.as_deref()),
            Error::Transport { service, .. } | Error::UnexpectedResponse { service, .. } => {
                format!("{}.SdkClientException", service.prefix())
            }
            // A definition problem rather than a service answer: not caught by `States.ALL`.
            Error::UnsupportedResource(_) | Error::Register { .. } | Error::InvalidEndpoint(_) => {
                StatesError::Runtime.name().to_owned()
            }
            Error::TableKeyMismatch { .. } | Error::TableNotActive { .. } => {
                Service::DynamoDb.error_name(Some("ValidationException"))
            }
        }
    }

    /// The cause Step Functions would report alongside [`step_functions_name`](Self::step_functions_name).
    pub fn step_functions_cause(&self) -> String {
        match self {
            Error::InvalidParameter {
                service,
                field,
                reason,
            } => {
                let code = match service {
                    Service::DynamoDb => "ValidationException",
                    Service::Lambda => "InvalidParameterValueException",
                    Service::Sns => "InvalidParameter",
                };
                java_cause(
                    *service,
                    &format!("{field}: {reason}"),
                    Some(400),
                    Some(code),
                    None,
                )
            }
            Error::Function { payload, .. } => payload.clone(),
            Error::Service {
                service,
                code,
                message,
                status,
                request_id,
            } => java_cause(
                *service,
                message.as_deref().unwrap_or(""),
                *status,
                code.as_deref(),
                request_id.as_deref(),
            ),
            Error::Transport {
                endpoint, reason, ..
            } => {
                format!("Unable to execute HTTP request to {endpoint}: {reason}")
            }
            other => other.to_string(),
        }
    }
}

/// `<message> (Service: …; Status Code: …; Error Code: …; Request ID: …; Proxy: null)`.
fn java_cause(
    service: Service,
    message: &str,
    status: Option<u16>,
    code: Option<&str>,
    request_id: Option<&str>,
) -> String {
    let status = status.map_or_else(|| "null".to_owned(), |s| s.to_string());
    format!(
        "{message} (Service: {}; Status Code: {status}; Error Code: {}; Request ID: {}; Proxy: null)",
        service.sdk_name(),
        code.unwrap_or("null"),
        request_id.unwrap_or("null"),
    )
}

impl From<Error> for TaskFailure {
    fn from(error: Error) -> Self {
        TaskFailure::new(error.step_functions_name(), error.step_functions_cause())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(service: Service, code: Option<&str>, expected: &str) {
        assert_eq!(service.error_name(code), expected, "{service} {code:?}");
    }

    fn failure(error: Error, name: &str, cause: &str) {
        let failure = TaskFailure::from(error);
        assert_eq!(failure.error, name);
        assert_eq!(failure.cause.as_deref(), Some(cause));
    }

    #[test]
    fn service_error_names() {
        named(
            Service::DynamoDb,
            Some("ConditionalCheckFailedException"),
            "DynamoDB.ConditionalCheckFailedException",
        );
        named(
            Service::DynamoDb,
            Some("ProvisionedThroughputExceededException"),
            "DynamoDB.ProvisionedThroughputExceededException",
        );
        named(
            Service::DynamoDb,
            Some("ResourceNotFoundException"),
            "DynamoDB.ResourceNotFoundException",
        );
        named(
            Service::DynamoDb,
            Some("RequestLimitExceeded"),
            "DynamoDB.RequestLimitExceededException",
        );
        named(
            Service::DynamoDb,
            Some("InternalServerError"),
            "DynamoDB.InternalServerErrorException",
        );
        named(
            Service::DynamoDb,
            Some("ValidationException"),
            "DynamoDB.AmazonDynamoDBException",
        );
        named(
            Service::DynamoDb,
            Some("UnrecognizedClientException"),
            "DynamoDB.AmazonDynamoDBException",
        );
        named(Service::DynamoDb, None, "DynamoDB.AmazonDynamoDBException");
        named(
            Service::Lambda,
            Some("TooManyRequestsException"),
            "Lambda.TooManyRequestsException",
        );
        named(
            Service::Lambda,
            Some("ResourceNotFoundException"),
            "Lambda.ResourceNotFoundException",
        );
        named(
            Service::Lambda,
            Some("ServiceException"),
            "Lambda.ServiceException",
        );
        named(
            Service::Lambda,
            Some("EC2ThrottledException"),
            "Lambda.EC2ThrottledException",
        );
        named(
            Service::Lambda,
            Some("AccessDeniedException"),
            "Lambda.AWSLambdaException",
        );
        named(Service::Sns, Some("NotFound"), "SNS.NotFoundException");
        named(
            Service::Sns,
            Some("InvalidParameter"),
            "SNS.InvalidParameterException",
        );
        named(
            Service::Sns,
            Some("ParameterValueInvalid"),
            "SNS.InvalidParameterValueException",
        );
        named(Service::Sns, Some("Throttled"), "SNS.ThrottledException");
        named(
            Service::Sns,
            Some("KMSOptInRequired"),
            "SNS.KMSOptInRequiredException",
        );
        named(
            Service::Sns,
            Some("NotFoundException"),
            "SNS.AmazonSNSException",
        );
        named(Service::Sns, None, "SNS.AmazonSNSException");
    }

    #[test]
    fn failures_as_step_functions_reports_them() {
        failure(
            Error::Service {
                service: Service::DynamoDb,
                code: Some("ConditionalCheckFailedException".into()),
                message: Some("The conditional request failed".into()),
                status: Some(400),
                request_id: Some("R1".into()),
            },
            "DynamoDB.ConditionalCheckFailedException",
            "The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: R1; Proxy: null)",
        );
        failure(
            Error::Service {
                service: Service::Lambda,
                code: None,
                message: None,
                status: Some(502),
                request_id: None,
            },
            "Lambda.AWSLambdaException",
            " (Service: AWSLambda; Status Code: 502; Error Code: null; Request ID: null; Proxy: null)",
        );
        failure(
            Error::Function {
                error_type: Some("PaymentError".into()),
                payload: r#"{"errorType":"PaymentError"}"#.into(),
            },
            "PaymentError",
            r#"{"errorType":"PaymentError"}"#,
        );
        failure(
            Error::Function {
                error_type: None,
                payload: r#"{"errorMessage":"timed out"}"#.into(),
            },
            "Lambda.Unknown",
            r#"{"errorMessage":"timed out"}"#,
        );
        failure(
            Error::Transport {
                service: Service::Sns,
                endpoint: "http://127.0.0.1:1".into(),
                reason: "refused".into(),
            },
            "SNS.SdkClientException",
            "Unable to execute HTTP request to http://127.0.0.1:1: refused",
        );
        failure(
            Error::InvalidParameter {
                service: Service::DynamoDb,
                field: "Item.a".into(),
                reason: "bad".into(),
            },
            "DynamoDB.AmazonDynamoDBException",
            "Item.a: bad (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException; Request ID: null; Proxy: null)",
        );
        failure(
            Error::InvalidParameter {
                service: Service::Sns,
                field: "Message".into(),
                reason: "missing".into(),
            },
            "SNS.InvalidParameterException",
            "Message: missing (Service: AmazonSNS; Status Code: 400; Error Code: InvalidParameter; Request ID: null; Proxy: null)",
        );
        failure(
            Error::InvalidParameter {
                service: Service::Lambda,
                field: "FunctionName".into(),
                reason: "missing".into(),
            },
            "Lambda.InvalidParameterValueException",
            "FunctionName: missing (Service: AWSLambda; Status Code: 400; Error Code: InvalidParameterValueException; Request ID: null; Proxy: null)",
        );
    }
}
