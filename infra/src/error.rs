//! The one error type of the crate.

use std::path::PathBuf;

/// Everything that can stop a stack from being synthesized.
///
/// Each variant names the value at fault; most are mistakes in the stack code or in the state
/// machine definition that would otherwise surface only when CloudFormation or Step Functions
/// rejects the deployed stack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InfraError {
    /// A logical id that CloudFormation would reject, e.g. `Orders-Table`.
    #[error("logical id `{id}` must be 1 to 255 ASCII letters or digits")]
    InvalidLogicalId {
        /// The rejected id.
        id: String,
    },

    /// Two constructs claimed the same logical id, e.g. two tables called `OrdersTable`.
    #[error("logical id `{id}` is used twice in the stack; give each construct its own id")]
    DuplicateLogicalId {
        /// The id used twice.
        id: String,
    },

    /// A construct setting outside what AWS accepts, e.g. a function with 64 MB of memory.
    #[error("{construct}: {setting} is {value}, but {expected}")]
    InvalidSetting {
        /// The construct's logical id.
        construct: String,
        /// The setting, e.g. `memory size`.
        setting: &'static str,
        /// The rejected value.
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },

    /// The state machine definition could not be read.
    #[error("cannot read the state machine definition {}: {source}", path.display())]
    ReadDefinition {
        /// The file that was tried.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },

    /// The state machine definition is not JSON, or not one Step Functions would accept, e.g.
    /// a state no other state leads to; `reason` is the engine's.
    #[error("the state machine definition {path} is not valid: {reason}")]
    ParseDefinition {
        /// The definition's path, as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A `${...}` in the definition that is not a usable substitution name, e.g. `${Orders Table}`.
    #[error(
        "the state machine definition has the placeholder `{placeholder}`; \
         names inside `${{...}}` must be ASCII letters, digits or `_`"
    )]
    InvalidPlaceholder {
        /// The text found after `${`.
        placeholder: String,
    },

    /// A placeholder in the definition that no construct substitutes, e.g. `${AuditTableName}`.
    #[error(
        "the state machine definition uses `${{{placeholder}}}`, but no construct is \
         substituted for it; add one with `StateMachineBuilder::substitute`"
    )]
    MissingSubstitution {
        /// The placeholder name, without `${}`.
        placeholder: String,
    },

    /// A substitution the definition never uses.
    #[error(
        "`{placeholder}` is substituted into the state machine, but the definition never uses \
         `${{{placeholder}}}`; remove the substitution"
    )]
    UnusedSubstitution {
        /// The placeholder name, without `${}`.
        placeholder: String,
    },

    /// A Task whose `Resource` has no known IAM mapping, e.g. `arn:aws:states:::sqs:sendMessage`.
    #[error(
        "state `{state}` calls `{resource}`, whose IAM permissions are not modelled; \
         supported: lambda:invoke, dynamodb:putItem/getItem/updateItem/deleteItem, sns:publish"
    )]
    UnsupportedTaskResource {
        /// The Task state's name.
        state: String,
        /// Its `Resource`.
        resource: String,
    },

    /// A Task whose target is not a `${...}` placeholder, e.g. `"TableName": "Orders"`.
    #[error(
        "state `{state}`: `{field}` must be a `${{...}}` placeholder substituted by the stack \
         so that its IAM permission can be derived, found {found}"
    )]
    UnresolvedTaskTarget {
        /// The Task state's name.
        state: String,
        /// The field naming the target, e.g. `Parameters.TableName`.
        field: String,
        /// What was there instead.
        found: String,
    },

    /// A Task needs an action on a resource that was not granted to the state machine.
    #[error(
        "state `{state}` needs `{action}` on `${{{placeholder}}}`, which is not granted to the \
         state machine; grant it, e.g. `table.grant_put_item(&mut state_machine)`"
    )]
    MissingGrant {
        /// The Task state's name.
        state: String,
        /// The IAM action, e.g. `dynamodb:PutItem`.
        action: &'static str,
        /// The placeholder of the target.
        placeholder: String,
    },

    /// A grant to the state machine that no Task of the definition needs.
    #[error(
        "the state machine is granted `{action}` on `{target}`, but no state of the \
         definition needs it; remove the grant"
    )]
    UnusedGrant {
        /// The IAM action.
        action: &'static str,
        /// The logical id of the granted resource.
        target: String,
    },

    /// A DynamoDB Task whose item or key lacks the table's partition key.
    #[error(
        "state `{state}` writes to or reads from `{table}` without its key attribute `{attribute}`"
    )]
    MissingKeyAttribute {
        /// The Task state's name.
        state: String,
        /// The table's logical id.
        table: String,
        /// The table's partition key.
        attribute: String,
    },

    /// A construct was granted the use of a KMS key after the key was added to the stack,
    /// so the key's policy would not name it; add the key after every construct using it.
    #[error("`{user}` uses the key `{key}`, which was added to the stack before it; add keys last")]
    KeyAddedTooEarly {
        /// The key's logical id.
        key: String,
        /// The statement that would have named the user.
        user: String,
    },

    /// A construct uses a KMS key that was never added to the stack.
    #[error("`{user}` uses the key `{key}`, which is not in the stack; add it")]
    UnknownKey {
        /// The key's logical id.
        key: String,
        /// The statement that would have named the user.
        user: String,
    },

    /// The YAML emitter failed.
    #[error("cannot write the template as YAML: {0}")]
    Yaml(String),
}
