//! An SNS topic, encrypted at rest.

use super::{Binding, Substitution};
use crate::InfraError;
use crate::expr::{Expr, LogicalId};
use crate::iam::{Action, Grant, Grantee};
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope};

/// Builds a [`Topic`].
#[derive(Clone, Debug)]
pub struct TopicBuilder {
    id: String,
    display_name: String,
    kms_key: String,
}

impl TopicBuilder {
    /// A topic with logical id `id`, encrypted with the AWS-managed SNS key.
    pub fn new(id: &str) -> Self {
        TopicBuilder {
            id: id.to_owned(),
            display_name: String::new(),
            kms_key: "alias/aws/sns".to_owned(),
        }
    }

    /// The sender name of e-mail notifications (at most 100 characters).
    pub fn display_name(mut self, name: &str) -> Self {
        self.display_name = name.to_owned();
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
        Ok(Topic {
            id,
            display_name: self.display_name,
            kms_key: self.kms_key,
        })
    }
}

/// An SNS topic.
#[derive(Clone, Debug)]
pub struct Topic {
    id: LogicalId,
    display_name: String,
    kms_key: String,
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

    /// Lets `grantee` publish to the topic. The AWS-managed key's own policy lets principals
    /// of the account use it through SNS, so no KMS permission is needed.
    pub fn grant_publish(&self, grantee: &mut impl Grantee) {
        grantee.grant(Grant::new(
            &self.id,
            &[Action::SnsPublish],
            vec![self.arn()],
        ));
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
        let properties = Node::map()
            .with_some(
                "DisplayName",
                (!self.display_name.is_empty()).then_some(self.display_name.as_str()),
            )
            .with("KmsMasterKeyId", self.kms_key.as_str());
        scope.add(&self.id, Resource::new("AWS::SNS::Topic", properties))
    }
}
