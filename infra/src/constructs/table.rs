//! A DynamoDB table: on-demand, point-in-time recovery, encrypted, deletion protection chosen
//! by the deployer.

use super::{Binding, Substitution};
use crate::InfraError;
use crate::expr::{Expr, LogicalId};
use crate::iam::{Action, Grant, Grantee};
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope, Suppression};

const AWS_MANAGED_KEY: Suppression = Suppression {
    check: "CKV_AWS_119",
    reason: "encrypted at rest with the AWS-managed DynamoDB KMS key (SSEEnabled); who may read \
             items is decided by the IAM grants in this template, and a customer-managed key \
             would add cost and key-policy upkeep without narrowing that",
};

/// Builds a [`Table`].
#[derive(Clone, Debug)]
pub struct TableBuilder {
    id: String,
    partition_key: String,
    deletion_protection: Option<Expr>,
}

impl TableBuilder {
    /// A table with logical id `id`, keyed by the string attribute `partition_key`.
    pub fn new(id: &str, partition_key: &str) -> Self {
        TableBuilder {
            id: id.to_owned(),
            partition_key: partition_key.to_owned(),
            deletion_protection: None,
        }
    }

    /// Whether the table refuses to be deleted (required; usually a parameter).
    pub fn deletion_protection(mut self, enabled: Expr) -> Self {
        self.deletion_protection = Some(enabled);
        self
    }

    /// Checks the settings.
    pub fn build(self) -> Result<Table, InfraError> {
        let id = LogicalId::new(&self.id)?;
        if self.partition_key.is_empty() || self.partition_key.len() > 255 {
            return Err(InfraError::InvalidSetting {
                construct: self.id.clone(),
                setting: "partition key",
                value: self.partition_key.clone(),
                expected: "DynamoDB attribute names are 1 to 255 bytes",
            });
        }
        let deletion_protection =
            super::required(&self.id, "deletion protection", self.deletion_protection)?;
        Ok(Table {
            id,
            partition_key: self.partition_key,
            deletion_protection,
        })
    }
}

/// A DynamoDB table keyed by one string attribute.
#[derive(Clone, Debug)]
pub struct Table {
    id: LogicalId,
    partition_key: String,
    deletion_protection: Expr,
}

impl Table {
    /// The table's logical id.
    pub fn logical_id(&self) -> &LogicalId {
        &self.id
    }

    /// The table's name.
    pub fn name(&self) -> Expr {
        Expr::reference(&self.id)
    }

    /// The table's ARN.
    pub fn arn(&self) -> Expr {
        Expr::attribute(&self.id, "Arn")
    }

    /// The partition key attribute.
    pub fn partition_key(&self) -> &str {
        &self.partition_key
    }

    /// Lets `grantee` write whole items (`dynamodb:PutItem`, conditional writes included).
    pub fn grant_put_item(&self, grantee: &mut impl Grantee) {
        self.grant(grantee, Action::DynamoDbPutItem);
    }

    /// Lets `grantee` read one item by key (`dynamodb:GetItem`).
    pub fn grant_get_item(&self, grantee: &mut impl Grantee) {
        self.grant(grantee, Action::DynamoDbGetItem);
    }

    /// Lets `grantee` update one item by key (`dynamodb:UpdateItem`).
    pub fn grant_update_item(&self, grantee: &mut impl Grantee) {
        self.grant(grantee, Action::DynamoDbUpdateItem);
    }

    /// Lets `grantee` delete one item by key (`dynamodb:DeleteItem`).
    pub fn grant_delete_item(&self, grantee: &mut impl Grantee) {
        self.grant(grantee, Action::DynamoDbDeleteItem);
    }

    fn grant(&self, grantee: &mut impl Grantee, action: Action) {
        grantee.grant(Grant::new(&self.id, &[action], vec![self.arn()]));
    }
}

impl Substitution for Table {
    /// `${<LogicalId>Name}`, e.g. `${OrdersTableName}`.
    fn binding(&self) -> Binding {
        Binding::new(format!("{}Name", self.id), self.name(), &self.id)
            .partition_key(&self.partition_key)
    }
}

impl Construct for Table {
    fn synthesize(self, scope: &mut Scope) -> Result<(), InfraError> {
        let key = self.partition_key.as_str();
        let properties = Node::map()
            .with("BillingMode", "PAY_PER_REQUEST")
            .with(
                "AttributeDefinitions",
                Node::seq([Node::map()
                    .with("AttributeName", key)
                    .with("AttributeType", "S")]),
            )
            .with(
                "KeySchema",
                Node::seq([Node::map()
                    .with("AttributeName", key)
                    .with("KeyType", "HASH")]),
            )
            .with(
                "PointInTimeRecoverySpecification",
                Node::map().with("PointInTimeRecoveryEnabled", true),
            )
            .with("SSESpecification", Node::map().with("SSEEnabled", true))
            .with("DeletionProtectionEnabled", &self.deletion_protection);
        scope.add(
            &self.id,
            Resource::new("AWS::DynamoDB::Table", properties).suppress(&[AWS_MANAGED_KEY]),
        )
    }
}
