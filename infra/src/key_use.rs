//! One statement of a KMS key policy, as the constructs that use a key record it.
//!
//! Its own module because both the stack (which collects the uses until the key is added)
//! and IAM policies (which derive a role's uses from its grants) make them, and neither
//! may depend on the constructs that depend on them.

use crate::expr::{Expr, LogicalId};
use crate::node::Node;

/// One statement of a key policy, recorded by the construct that needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyUse {
    /// The key.
    pub(crate) key: LogicalId,
    /// The statement's id, which says who and why; uses with the same id are one statement.
    pub(crate) sid: String,
    /// `{"AWS": role ARN}` or `{"Service": principal}`.
    pub(crate) principal: Node,
    pub(crate) actions: Vec<&'static str>,
    pub(crate) condition: Option<Node>,
}

impl KeyUse {
    /// A role (by its logical id) using the key.
    pub(crate) fn role(
        key: &LogicalId,
        sid: String,
        role: &LogicalId,
        actions: &[&'static str],
        condition: Node,
    ) -> KeyUse {
        KeyUse {
            key: key.clone(),
            sid,
            principal: Node::map().with("AWS", Expr::attribute(role, "Arn")),
            actions: actions.to_vec(),
            condition: Some(condition),
        }
    }

    /// An AWS service principal (`logs.${AWS::Region}.amazonaws.com`) using the key.
    pub(crate) fn service(
        key: &LogicalId,
        sid: &str,
        service: Expr,
        actions: &[&'static str],
        condition: Option<Node>,
    ) -> KeyUse {
        KeyUse {
            key: key.clone(),
            sid: sid.to_owned(),
            principal: Node::map().with("Service", service),
            actions: actions.to_vec(),
            condition,
        }
    }

    /// Principals of the account using the key through `services` only (`kms:ViaService`),
    /// as deploying and updating the resources it encrypts requires; whether a principal may
    /// is then up to its IAM policies.
    pub(crate) fn account_through(
        key: &LogicalId,
        sid: &str,
        services: &[&str],
        actions: &[&'static str],
    ) -> KeyUse {
        KeyUse {
            key: key.clone(),
            sid: sid.to_owned(),
            principal: account_principal(),
            actions: actions.to_vec(),
            condition: Some(
                Node::map().with(
                    "StringEquals",
                    Node::map()
                        .with("kms:CallerAccount", Expr::account_id())
                        .with("kms:ViaService", via(services)),
                ),
            ),
        }
    }
}

/// `kms:ViaService` values for `services` in the stack's region.
pub(crate) fn via(services: &[&str]) -> Node {
    Node::seq(services.iter().map(|service| {
        Expr::concat([
            Expr::literal(format!("{service}.")),
            Expr::region(),
            ".amazonaws.com".into(),
        ])
    }))
}

/// Every principal of the account: whether one may use the key is then up to its IAM
/// policies.
pub(crate) fn account_principal() -> Node {
    Node::map().with(
        "AWS",
        Expr::concat([
            "arn:".into(),
            Expr::partition(),
            ":iam::".into(),
            Expr::account_id(),
            ":root".into(),
        ]),
    )
}
