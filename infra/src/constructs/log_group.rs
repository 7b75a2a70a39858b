//! A CloudWatch Logs log group with a retention period, owned by a function or state machine,
//! encrypted with a customer-managed key and kept when the stack goes.

use super::key::KeyUse;
use crate::expr::{Expr, LogicalId};
use crate::iam::{Action, Grant};
use crate::node::Node;
use crate::stack::Resource;

/// What CloudWatch Logs needs on the key of a log group it encrypts (CloudWatch Logs user
/// guide, "Encrypt log data in CloudWatch Logs using AWS KMS").
const LOGS_USE: &[&str] = &[
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
];

#[derive(Clone, Debug)]
pub(crate) struct LogGroup {
    id: LogicalId,
    name: Expr,
    retention_days: Expr,
    key: LogicalId,
}

impl LogGroup {
    pub(crate) fn new(id: LogicalId, name: Expr, retention_days: Expr, key: &LogicalId) -> Self {
        LogGroup {
            id,
            name,
            retention_days,
            key: key.clone(),
        }
    }

    pub(crate) fn id(&self) -> &LogicalId {
        &self.id
    }

    /// The group's ARN; CloudFormation's `Arn` ends in `:*`, which covers its log streams.
    pub(crate) fn arn(&self) -> Expr {
        Expr::attribute(&self.id, "Arn")
    }

    /// What a Lambda function needs to write to this group.
    pub(crate) fn write_grant(&self) -> Grant {
        Grant::new(
            &self.id,
            &[Action::LogsCreateLogStream, Action::LogsPutLogEvents],
            vec![self.arn()],
        )
    }

    /// The key policy statement that lets CloudWatch Logs encrypt this group, and no other
    /// (the condition names the group by its ARN, built from its name so that the key need
    /// not wait for the group).
    pub(crate) fn key_use(&self) -> KeyUse {
        let arn = Expr::concat([
            "arn:".into(),
            Expr::partition(),
            ":logs:".into(),
            Expr::region(),
            ":".into(),
            Expr::account_id(),
            ":log-group:".into(),
            self.name.clone(),
        ]);
        KeyUse::service(
            &self.key,
            &format!("CloudWatchLogsFor{}", self.id),
            Expr::concat(["logs.".into(), Expr::region(), ".amazonaws.com".into()]),
            LOGS_USE,
            Some(Node::map().with(
                "ArnEquals",
                Node::map().with("kms:EncryptionContext:aws:logs:arn", arn),
            )),
        )
    }

    pub(crate) fn resource(&self) -> Resource {
        let properties = Node::map()
            .with("LogGroupName", &self.name)
            .with("RetentionInDays", &self.retention_days)
            .with("KmsKeyId", Expr::attribute(&self.key, "Arn"));
        Resource::new("AWS::Logs::LogGroup", properties).retained()
    }
}
