//! A DynamoDB table: on-demand, point-in-time recovery, encrypted with a customer-managed key,
//! deletion protection chosen by the deployer, kept when the stack goes.

use super::key::{self, KeyUse, KmsKey};
use super::{Binding, Substitution};
use crate::InfraError;
use crate::expr::{Expr, LogicalId};
use crate::iam::{Action, Grant, Grantee, KeyAccess};
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope};

/// Builds a [`Table`].
#[derive(Clone, Debug)]
pub struct TableBuilder {
    id: String,
    partition_key: String,
    deletion_protection: Option<Expr>,
    key: Option<LogicalId>,
    time_to_live: Option<String>,
}

impl TableBuilder {
    /// A table with logical id `id`, keyed by the string attribute `partition_key`.
    pub fn new(id: &str, partition_key: &str) -> Self {
        TableBuilder {
            id: id.to_owned(),
            partition_key: partition_key.to_owned(),
            deletion_protection: None,
            key: None,
            time_to_live: None,
        }
    }

    /// The customer-managed key the table is encrypted with (required).
    pub fn encrypted_with(mut self, key: &KmsKey) -> Self {
        self.key = Some(key.logical_id().clone());
        self
    }

    /// The number attribute (epoch seconds) after which DynamoDB may delete an item.
    pub fn time_to_live(mut self, attribute: &str) -> Self {
        self.time_to_live = Some(attribute.to_owned());
        self
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
        let key = self.key.ok_or_else(|| InfraError::InvalidSetting {
            construct: self.id.clone(),
            setting: "encryption key",
            value: "missing".to_owned(),
            expected: "every table is encrypted with a customer-managed key",
        })?;
        Ok(Table {
            id,
            partition_key: self.partition_key,
            deletion_protection,
            key,
            time_to_live: self.time_to_live,
        })
    }
}

/// A DynamoDB table keyed by one string attribute.
#[derive(Clone, Debug)]
pub struct Table {
    id: LogicalId,
    partition_key: String,
    deletion_protection: Expr,
    key: LogicalId,
    time_to_live: Option<String>,
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

    /// Each grant also names the grantee in the key's policy, for use through DynamoDB.
    fn grant(&self, grantee: &mut impl Grantee, action: Action) {
        let access = KeyAccess {
            key: self.key.clone(),
            through: "DynamoDB",
            actions: key::THROUGH_DYNAMODB,
            // DynamoDB calls KMS from any region a global table replicates to, hence `*`
            // (DynamoDB developer guide, "Key policy for a customer managed key").
            condition: Node::map().with(
                "StringLike",
                Node::map().with("kms:ViaService", "dynamodb.*.amazonaws.com"),
            ),
        };
        grantee.grant(Grant::new(&self.id, &[action], vec![self.arn()]).with_key(Some(access)));
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
            .with(
                "SSESpecification",
                Node::map()
                    .with("SSEEnabled", true)
                    .with("SSEType", "KMS")
                    .with("KMSMasterKeyId", Expr::attribute(&self.key, "Arn")),
            )
            .with_some(
                "TimeToLiveSpecification",
                self.time_to_live.as_deref().map(|attribute| {
                    Node::map()
                        .with("AttributeName", attribute)
                        .with("Enabled", true)
                }),
            )
            .with("DeletionProtectionEnabled", &self.deletion_protection);
        // CloudFormation creates the table as the deployer, through DynamoDB.
        scope.use_key(KeyUse::account_through(
            &self.key,
            "DeployTablesThroughDynamoDB",
            &["dynamodb"],
            key::THROUGH_DYNAMODB,
        ))?;
        scope.add(
            &self.id,
            Resource::new("AWS::DynamoDB::Table", properties).retained(),
        )
    }
}
