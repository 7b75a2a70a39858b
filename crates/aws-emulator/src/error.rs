//! The store's one error type.

use std::path::PathBuf;

use serde_json::Value;

/// Which emulated service an operation belongs to; decides the error name of a database
/// failure, so a task sees e.g. `DynamoDB.ThrottlingException` when the store is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Service {
    /// Table operations.
    DynamoDb,
    /// Topics and messages.
    Sns,
    /// Execution records and histories.
    Executions,
    /// The charge ledger.
    Ledger,
}

/// Everything that can go wrong in the store.
///
/// The variants that emulate an AWS service carry that service's message (as the API returns
/// it, so tests and `Cause` fields read like AWS's); [`StoreError::error_name`] gives the name
/// Step Functions reports when a task fails with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A `ConditionExpression` evaluated to false, e.g. `attribute_not_exists(orderId)` on an
    /// existing item. `item` holds the existing item when the request asked for it with
    /// `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    #[error("The conditional request failed")]
    ConditionalCheckFailed {
        /// The item as it was, in DynamoDB JSON, when requested.
        item: Option<Box<Value>>,
    },

    /// The request names a table that was never created, e.g. `"TableName": "Nope"`.
    #[error("Requested resource not found: Table: {table} not found")]
    TableNotFound {
        /// The table name as given.
        table: String,
    },

    /// `create_table` for an existing table with a different key schema.
    #[error("Table already exists: {table} (with a different key schema: {existing})")]
    TableExists {
        /// The table name.
        table: String,
        /// The existing key schema, e.g. `orderId (S)`.
        existing: String,
    },

    /// A DynamoDB request that DynamoDB would reject with a `ValidationException`: a bad
    /// parameter (`"TableName": 5`), a missing key attribute, a key type mismatch, an invalid
    /// AttributeValue (`{"N": "abc"}`), an expression syntax error, an undefined or unused
    /// placeholder, an item over 400 KB, an update of a key attribute…
    #[error("{message}")]
    Validation {
        /// DynamoDB's message, naming the offending value.
        message: String,
    },

    /// An SNS request that SNS would reject with `InvalidParameter`: missing `TopicArn` or
    /// `Message`, a message over 256 KB, a malformed message attribute…
    #[error("{message}")]
    SnsInvalidParameter {
        /// SNS's message, naming the parameter.
        message: String,
    },

    /// `publish` to a topic that was never created.
    #[error("Topic does not exist: {topic_arn}")]
    TopicNotFound {
        /// The ARN as given.
        topic_arn: String,
    },

    /// No execution has this ARN or name.
    #[error("execution not found: {id}")]
    ExecutionNotFound {
        /// The ARN or name asked for.
        id: String,
    },

    /// An execution record or ledger entry that cannot be stored, e.g. an empty ARN.
    #[error("invalid {field}: {reason}")]
    InvalidRecord {
        /// The field, e.g. `execution_arn`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The store directory could not be created, e.g. because a file has its name.
    #[error("cannot create store directory {path}: {reason}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason. It is part of the message, not a separate
        /// `source()`, so a printed chain does not repeat it.
        reason: std::io::Error,
    },

    /// The database file could not be opened or set up, e.g. it is not a SQLite database.
    #[error("cannot open store at {path}: {reason}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason, part of the message (not a `source()`, which would repeat it).
        reason: rusqlite::Error,
    },

    /// The database was written by a newer version of this program.
    #[error(
        "store at {path} has schema version {found}, newer than the {supported} this program \
         understands; upgrade orderflow or use another --store directory"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this code knows.
        supported: i64,
    },

    /// Another process held the database lock for longer than the busy timeout.
    #[error("store is busy (locked by another writer): {reason}")]
    Busy {
        /// The service whose operation was refused.
        service: Service,
        /// SQLite's error, part of the message (not a `source()`, which would repeat it).
        reason: rusqlite::Error,
    },

    /// SQLite failed (disk full, I/O error…).
    #[error("store database error: {reason}")]
    Database {
        /// The service whose operation failed.
        service: Service,
        /// SQLite's error, part of the message (not a `source()`, which would repeat it).
        reason: rusqlite::Error,
    },

    /// Data read back from the database is not what this code wrote, e.g. an item that is
    /// not valid JSON after someone edited the file.
    #[error("corrupt {what} in store: {detail}")]
    Corrupt {
        /// What was being read, e.g. `item in table Orders`.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
}

impl StoreError {
    /// The error name a Step Functions task reports for this failure, e.g.
    /// `DynamoDB.ConditionalCheckFailedException`; match it in `Retry`/`Catch`.
    pub fn error_name(&self) -> &'static str {
        match self {
            Self::ConditionalCheckFailed { .. } => "DynamoDB.ConditionalCheckFailedException",
            Self::TableNotFound { .. } => "DynamoDB.ResourceNotFoundException",
            Self::TableExists { .. } => "DynamoDB.ResourceInUseException",
            Self::Validation { .. } => "DynamoDB.ValidationException",
            Self::SnsInvalidParameter { .. } => "SNS.InvalidParameterException",
            Self::TopicNotFound { .. } => "SNS.NotFoundException",
            Self::Busy { service, .. } => match service {
                Service::DynamoDb => "DynamoDB.ThrottlingException",
                Service::Sns => "SNS.ThrottledException",
                Service::Executions | Service::Ledger => "Store.Busy",
            },
            Self::Database { service, .. } => match service {
                Service::DynamoDb => "DynamoDB.InternalServerErrorException",
                Service::Sns => "SNS.InternalErrorException",
                Service::Executions | Service::Ledger => "Store.DatabaseError",
            },
            Self::ExecutionNotFound { .. } => "Store.ExecutionNotFound",
            Self::InvalidRecord { .. } => "Store.InvalidRecord",
            Self::CreateDir { .. } | Self::Open { .. } | Self::SchemaTooNew { .. } => {
                "Store.OpenFailed"
            }
            Self::Corrupt { .. } => "Store.Corrupt",
        }
    }

    /// The message, as the failing task's `Cause` would carry it.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// Whether retrying the same call may succeed (a locked database, a transient failure).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Busy { .. })
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::Validation {
            message: message.into(),
        }
    }

    pub(crate) fn sns(message: impl Into<String>) -> Self {
        Self::SnsInvalidParameter {
            message: message.into(),
        }
    }

    /// Wraps a SQLite error, telling a lock timeout from other failures.
    pub(crate) fn db(service: Service, reason: rusqlite::Error) -> Self {
        let busy = matches!(
            reason.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        if busy {
            Self::Busy { service, reason }
        } else {
            Self::Database { service, reason }
        }
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
