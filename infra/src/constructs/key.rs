//! A customer-managed KMS key whose policy is written from the uses the stack's constructs
//! make of it: each role that reads or writes data the key protects is named in it, with the
//! service it may use the key through; nobody is granted the key outright.

use crate::InfraError;
use crate::expr::{Expr, LogicalId};
pub use crate::key_use::KeyUse;
use crate::key_use::account_principal;
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope};

/// What the account may do to manage a key without being able to use it: the key policy
/// lockout check wants the account able to change the policy, and nothing here decrypts.
/// Listed one by one: `kms:Create*` would include `kms:CreateGrant`, with which an
/// administrator could grant itself decryption.
const ADMINISTRATION: [&str; 20] = [
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
];

/// What DynamoDB needs on a customer-managed key, on behalf of whoever creates or uses a
/// table it encrypts (DynamoDB developer guide, "Key policy for a customer managed key").
pub(crate) const THROUGH_DYNAMODB: &[&str] = &[
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
    "kms:CreateGrant",
];

/// What a publisher to a topic encrypted with the key needs (SNS developer guide,
/// "Configuring AWS KMS permissions").
pub(crate) const THROUGH_SNS: &[&str] = &["kms:GenerateDataKey", "kms:Decrypt"];

/// What a state machine's role needs to run executions of a state machine encrypted with the
/// key, and a caller to read their data (Step Functions developer guide, "Data at rest
/// encryption": StartExecution, DescribeExecution, GetExecutionHistory).
pub(crate) const STEP_FUNCTIONS_DATA: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];

/// A symmetric customer-managed key with yearly rotation, kept when the stack goes (the data
/// it protects is kept too, and would be unreadable without it).
#[derive(Clone, Debug)]
pub struct KmsKey {
    id: LogicalId,
    description: String,
    alias: String,
}

impl KmsKey {
    /// A key with logical id `id`, described for the KMS console, with the alias
    /// `alias/<stack name>/<alias>`.
    pub fn new(id: &str, description: &str, alias: &str) -> Result<KmsKey, InfraError> {
        let valid = !alias.is_empty()
            && alias
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(InfraError::InvalidSetting {
                construct: id.to_owned(),
                setting: "alias",
                value: alias.to_owned(),
                expected: "letters, digits, `-` or `_`",
            });
        }
        Ok(KmsKey {
            id: LogicalId::new(id)?,
            description: description.to_owned(),
            alias: alias.to_owned(),
        })
    }

    /// The key's logical id.
    pub fn logical_id(&self) -> &LogicalId {
        &self.id
    }

    /// The key's ARN, as encryption settings take it.
    pub fn arn(&self) -> Expr {
        Expr::attribute(&self.id, "Arn")
    }
}

impl Construct for KmsKey {
    fn synthesize(self, scope: &mut Scope) -> Result<(), InfraError> {
        let mut statements: Vec<KeyUse> = vec![KeyUse {
            key: self.id.clone(),
            sid: "KeyAdministrationWithoutUse".to_owned(),
            principal: account_principal(),
            actions: ADMINISTRATION.to_vec(),
            condition: None,
        }];
        for key_use in scope.take_key_uses(&self.id) {
            match statements.iter_mut().find(|s| s.sid == key_use.sid) {
                Some(same) => {
                    for action in key_use.actions {
                        if !same.actions.contains(&action) {
                            same.actions.push(action);
                        }
                    }
                }
                None => statements.push(key_use),
            }
        }
        let statements = statements.into_iter().map(|s| {
            let node = Node::map()
                .with("Sid", s.sid.as_str())
                .with("Effect", "Allow")
                .with("Principal", s.principal)
                .with("Action", Node::seq(s.actions))
                .with(
                    "Resource",
                    Node::from("*").commented("in a key policy, this key"),
                );
            node.with_some("Condition", s.condition)
        });
        let properties = Node::map()
            .with("Description", self.description.as_str())
            .with("EnableKeyRotation", true)
            .with("PendingWindowInDays", 30_i64)
            .with(
                "KeyPolicy",
                Node::map()
                    .with("Version", "2012-10-17")
                    .with("Statement", Node::Seq(statements.collect())),
            );
        scope.add(
            &self.id,
            Resource::new("AWS::KMS::Key", properties).retained(),
        )?;
        let alias = Node::map()
            .with(
                "AliasName",
                Expr::concat([
                    "alias/".into(),
                    Expr::stack_name(),
                    Expr::literal(format!("/{}", self.alias)),
                ]),
            )
            .with("TargetKeyId", Expr::reference(&self.id));
        scope.add(
            &self.id.child("Alias")?,
            Resource::new("AWS::KMS::Alias", alias),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constructs::TableBuilder;
    use crate::stack::Stack;

    fn table(key: &KmsKey) -> crate::constructs::Table {
        TableBuilder::new("Orders", "OrderId")
            .deletion_protection(Expr::literal("false"))
            .encrypted_with(key)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn key() -> KmsKey {
        KmsKey::new("DataKey", "data", "data").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_key_is_written_from_the_uses_made_before_it() {
        let key = key();
        let mut stack = Stack::new("d", "../");
        stack.add(table(&key)).unwrap_or_else(|e| panic!("{e}"));
        stack.add(key).unwrap_or_else(|e| panic!("{e}"));
        let statements =
            stack.to_json()["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"].clone();
        let sids: Vec<&str> = statements
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        assert_eq!(
            sids,
            ["KeyAdministrationWithoutUse", "DeployTablesThroughDynamoDB"]
        );
        assert!(stack.to_yaml().is_ok());
    }

    #[test]
    fn a_key_added_before_its_users_or_not_at_all_is_refused() {
        let key = key();
        let mut stack = Stack::new("d", "../");
        let user = table(&key);
        stack.add(key).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            stack.add(user),
            Err(InfraError::KeyAddedTooEarly { .. })
        ));

        let mut stack = Stack::new("d", "../");
        stack
            .add(table(&self::key()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            stack.to_yaml(),
            Err(InfraError::UnknownKey { .. })
        ));
    }

    #[test]
    fn aliases_are_checked() {
        assert!(KmsKey::new("K", "d", "order-data").is_ok());
        assert!(matches!(
            KmsKey::new("K", "d", "order data"),
            Err(InfraError::InvalidSetting {
                setting: "alias",
                ..
            })
        ));
    }
}
