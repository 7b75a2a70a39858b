//! The orderflow infrastructure as typed Rust constructs that synthesize a SAM template, the
//! way CDK apps do: references between resources are made by code from logical ids, and each
//! IAM policy is derived from what its construct was granted — checked, for the state machine,
//! against the Task states of its definition.
//!
//! ```
//! use infra::{Definition, Expr, KmsKey, LogLevel, Stack, StateMachineBuilder, TableBuilder};
//!
//! let definition = Definition::parse("statemachine/save.asl.json", r#"{
//!     "StartAt": "Save",
//!     "States": {"Save": {
//!         "Type": "Task",
//!         "Resource": "arn:aws:states:::dynamodb:putItem",
//!         "Parameters": {"TableName": "${OrdersTableName}", "Item": {"orderId": {"S.$": "$.id"}}},
//!         "End": true
//!     }}
//! }"#)?;
//! let key = KmsKey::new("DataKey", "order data", "data")?;
//! let orders = TableBuilder::new("OrdersTable", "orderId")
//!     .deletion_protection(Expr::literal("false"))
//!     .encrypted_with(&key)
//!     .build()?;
//! let mut machine = StateMachineBuilder::new("SaveOrder", definition)
//!     .name("save-order")
//!     .workflow_type(Expr::literal("EXPRESS"))
//!     .log_level(LogLevel::Error)
//!     .log_retention_days(Expr::literal("30"))
//!     .encrypted_with(&key)
//!     .logs_encrypted_with(&key)
//!     .substitute(&orders)
//!     .build()?;
//! // Without this grant, `stack.add(machine)` fails: state `Save` needs dynamodb:PutItem.
//! orders.grant_put_item(&mut machine);
//!
//! let mut stack = Stack::new("one table, one state machine", "../");
//! stack.add(orders)?;
//! stack.add(machine)?;
//! // Last: its policy names the state machine's role, for its data and through DynamoDB.
//! stack.add(key)?;
//! let yaml = stack.to_yaml()?;
//! assert!(yaml.contains("- dynamodb:PutItem"));
//! assert!(yaml.contains("OrdersTableName:\n          Ref: OrdersTable"));
//! assert!(yaml.contains("Sid: SaveOrderThroughDynamoDB"));
//! # Ok::<(), infra::InfraError>(())
//! ```
#![warn(missing_docs)]

pub mod constructs;
pub mod definition;
mod error;
pub mod expr;
pub mod iam;
mod key_use;
pub mod node;
pub mod orderflow;
pub mod stack;

pub use constructs::{
    Alarm, AlarmBuilder, KmsKey, LogLevel, Metric, RustFunction, RustFunctionBuilder, StateMachine,
    StateMachineBuilder, Substitution, Table, TableBuilder, Topic, TopicBuilder,
    UnfinishedExecutionsQueue, Watch,
};
pub use definition::Definition;
pub use error::InfraError;
pub use expr::{Expr, LogicalId};
pub use iam::{Action, Grant, Grantee};
pub use stack::{Construct, ParameterBuilder, ParameterType, Stack};
