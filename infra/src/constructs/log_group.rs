//! A CloudWatch Logs log group with a retention period, owned by a function or state machine.

use crate::expr::{Expr, LogicalId};
use crate::iam::{Action, Grant};
use crate::node::Node;
use crate::stack::{Resource, Suppression};

/// Why log groups use CloudWatch Logs' own encryption rather than a customer-managed key.
const NO_CMK: Suppression = Suppression {
    check: "CKV_AWS_158",
    reason: "CloudWatch Logs encrypts every log group at rest; the logs carry no card number \
             (functions log the last four digits at most, the state machine logs no execution \
             data), so a customer-managed key would add cost and key-policy upkeep only",
};

#[derive(Clone, Debug)]
pub(crate) struct LogGroup {
    id: LogicalId,
    name: Expr,
    retention_days: Expr,
}

impl LogGroup {
    pub(crate) fn new(id: LogicalId, name: Expr, retention_days: Expr) -> Self {
        LogGroup {
            id,
            name,
            retention_days,
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

    pub(crate) fn resource(&self) -> Resource {
        let properties = Node::map()
            .with("LogGroupName", &self.name)
            .with("RetentionInDays", &self.retention_days);
        Resource::new("AWS::Logs::LogGroup", properties).suppress(&[NO_CMK])
    }
}
