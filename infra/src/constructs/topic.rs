//! An SNS topic, encrypted with a customer-managed key.

use super::key::{self, KeyUse, KmsKey};
use super::{Binding, Substitution};
use crate::InfraError;
use crate::expr::{Expr, LogicalId};
use crate::iam::{Action, Grant, Grantee, KeyAccess};
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope};

/// What CloudWatch needs on the key of a topic its alarms publish to (CloudWatch user guide,
/// "Setting up Amazon SNS notifications": an encrypted topic).
const ALARM_PUBLISH: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];

/// Builds a [`Topic`].
#[derive(Clone, Debug)]
pub struct TopicBuilder {
    id: String,
    display_name: String,
    key: Option<LogicalId>,
    alarms: bool,
}

impl TopicBuilder {
    /// A topic with logical id `id`.
    pub fn new(id: &str) -> Self {
        TopicBuilder {
            id: id.to_owned(),
            display_name: String::new(),
            key: None,
            alarms: false,
        }
    }

    /// The sender name of e-mail notifications (at most 100 characters).
    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = name.to_owned();
        self
    }

    /// The customer-managed key the topic's messages are encrypted with (required).
    pub fn encrypted_with(mut self, key: &KmsKey) -> Self {
        self.key = Some(key.logical_id().clone());
        self
    }

    /// CloudWatch alarms of the account publish here (their action), so CloudWatch may use
    /// the key.
    pub fn for_alarms(mut self) -> Self {
        self.alarms = true;
        self
    }

    /// Checks the settings.
    pub fn build(self) -> Result<Topic, InfraError> {
        let id = LogicalId::new(&self.id)?;
        if self.display_name.chars().count() > 100 {
            return Err(InfraError::InvalidSetting {
                construct: self.id.clone(),
                setting: "display name",
                value: self.display_name.clone(),
                expected: "SNS accepts at most 100 characters",
            });
        }
        let key = self.key.ok_or_else(|| InfraError::InvalidSetting {
            construct: self.id.clone(),
            setting: "encryption key",
            value: "missing".to_owned(),
            expected: "every topic is encrypted with a customer-managed key",
        })?;
        Ok(Topic {
            id,
            display_name: self.display_name,
            key,
            alarms: self.alarms,
        })
    }
}

/// An SNS topic.
#[derive(Clone, Debug)]
pub struct Topic {
    id: LogicalId,
    display_name: String,
    key: LogicalId,
    alarms: bool,
}

impl Topic {
    /// The topic's logical id.
    pub fn logical_id(&self) -> &LogicalId {
        &self.id
    }

    /// The topic's ARN (`Ref` of a topic).
    pub fn arn(&self) -> Expr {
        Expr::reference(&self.id)
    }

    /// The topic's name, as CloudWatch metrics name it.
    pub fn name(&self) -> Expr {
        Expr::attribute(&self.id, "TopicName")
    }

    /// Lets `grantee` publish to the topic, and use its key through SNS to do it.
    pub fn grant_publish(&self, grantee: &mut impl Grantee) {
        let access = KeyAccess {
            key: self.key.clone(),
            through: "SNS",
            actions: key::THROUGH_SNS,
            condition: Node::map().with(
                "StringEquals",
                Node::map().with("kms:ViaService", crate::key_use::via(&["sns"])),
            ),
        };
        grantee.grant(
            Grant::new(&self.id, &[Action::SnsPublish], vec![self.arn()]).with_key(Some(access)),
        );
    }
}

impl Substitution for Topic {
    /// `${<LogicalId>Arn}`, e.g. `${OrderNotificationsTopicArn}`.
    fn binding(&self) -> Binding {
        Binding::new(format!("{}Arn", self.id), self.arn(), &self.id)
    }
}

impl Construct for Topic {
    fn synthesize(self, scope: &mut Scope) -> Result<(), InfraError> {
        if self.alarms {
            // Only alarms of this account, which is where the stack puts them.
            scope.use_key(KeyUse::service(
                &self.key,
                &format!("CloudWatchAlarmsPublishTo{}", self.id),
                "cloudwatch.amazonaws.com".into(),
                ALARM_PUBLISH,
                Some(Node::map().with(
                    "StringEquals",
                    Node::map().with("aws:SourceAccount", Expr::account_id()),
                )),
            ))?;
        }
        let properties = Node::map()
            .with_some(
                "DisplayName",
                (!self.display_name.is_empty()).then_some(self.display_name.as_str()),
            )
            .with("KmsMasterKeyId", Expr::attribute(&self.key, "Arn"));
        scope.add(&self.id, Resource::new("AWS::SNS::Topic", properties))
    }
}
