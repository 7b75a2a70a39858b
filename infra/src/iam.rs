//! IAM, derived: a construct that needs access is granted it by the construct it accesses
//! (`table.grant_put_item(&mut state_machine)`), and its role's policy is written from those
//! grants alone.

use crate::expr::{Expr, LogicalId};
use crate::key_use::KeyUse;
use crate::node::Node;
use crate::stack::Suppression;

/// The IAM actions the stack grants. Nothing else can appear in a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Action {
    /// `lambda:InvokeFunction`
    LambdaInvokeFunction,
    /// `dynamodb:GetItem`
    DynamoDbGetItem,
    /// `dynamodb:PutItem`
    DynamoDbPutItem,
    /// `dynamodb:UpdateItem`
    DynamoDbUpdateItem,
    /// `dynamodb:DeleteItem`
    DynamoDbDeleteItem,
    /// `sns:Publish`
    SnsPublish,
    /// `states:StartExecution`
    StatesStartExecution,
    /// `states:DescribeExecution`
    StatesDescribeExecution,
    /// `states:StopExecution`
    StatesStopExecution,
    /// `events:PutTargets`
    EventsPutTargets,
    /// `events:PutRule`
    EventsPutRule,
    /// `events:DescribeRule`
    EventsDescribeRule,
    /// `logs:CreateLogStream`
    LogsCreateLogStream,
    /// `logs:PutLogEvents`
    LogsPutLogEvents,
    /// `logs:CreateLogDelivery`
    LogsCreateLogDelivery,
    /// `logs:GetLogDelivery`
    LogsGetLogDelivery,
    /// `logs:UpdateLogDelivery`
    LogsUpdateLogDelivery,
    /// `logs:DeleteLogDelivery`
    LogsDeleteLogDelivery,
    /// `logs:ListLogDeliveries`
    LogsListLogDeliveries,
    /// `logs:PutResourcePolicy`
    LogsPutResourcePolicy,
    /// `logs:DescribeResourcePolicies`
    LogsDescribeResourcePolicies,
    /// `logs:DescribeLogGroups`
    LogsDescribeLogGroups,
    /// `xray:PutTraceSegments`
    XRayPutTraceSegments,
    /// `xray:PutTelemetryRecords`
    XRayPutTelemetryRecords,
    /// `xray:GetSamplingRules`
    XRayGetSamplingRules,
    /// `xray:GetSamplingTargets`
    XRayGetSamplingTargets,
}

impl Action {
    /// The action as IAM spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::LambdaInvokeFunction => "lambda:InvokeFunction",
            Action::DynamoDbGetItem => "dynamodb:GetItem",
            Action::DynamoDbPutItem => "dynamodb:PutItem",
            Action::DynamoDbUpdateItem => "dynamodb:UpdateItem",
            Action::DynamoDbDeleteItem => "dynamodb:DeleteItem",
            Action::SnsPublish => "sns:Publish",
            Action::StatesStartExecution => "states:StartExecution",
            Action::StatesDescribeExecution => "states:DescribeExecution",
            Action::StatesStopExecution => "states:StopExecution",
            Action::EventsPutTargets => "events:PutTargets",
            Action::EventsPutRule => "events:PutRule",
            Action::EventsDescribeRule => "events:DescribeRule",
            Action::LogsCreateLogStream => "logs:CreateLogStream",
            Action::LogsPutLogEvents => "logs:PutLogEvents",
            Action::LogsCreateLogDelivery => "logs:CreateLogDelivery",
            Action::LogsGetLogDelivery => "logs:GetLogDelivery",
            Action::LogsUpdateLogDelivery => "logs:UpdateLogDelivery",
            Action::LogsDeleteLogDelivery => "logs:DeleteLogDelivery",
            Action::LogsListLogDeliveries => "logs:ListLogDeliveries",
            Action::LogsPutResourcePolicy => "logs:PutResourcePolicy",
            Action::LogsDescribeResourcePolicies => "logs:DescribeResourcePolicies",
            Action::LogsDescribeLogGroups => "logs:DescribeLogGroups",
            Action::XRayPutTraceSegments => "xray:PutTraceSegments",
            Action::XRayPutTelemetryRecords => "xray:PutTelemetryRecords",
            Action::XRayGetSamplingRules => "xray:GetSamplingRules",
            Action::XRayGetSamplingTargets => "xray:GetSamplingTargets",
        }
    }
}

/// Permission for some actions on the resources of one construct.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    target: LogicalId,
    actions: Vec<Action>,
    resources: Vec<Expr>,
    key_access: Option<KeyAccess>,
}

/// The use of a KMS key a grant implies: the resources are encrypted with `key`, so the
/// grantee's role must be named in its policy for `actions`, under `condition` (the service
/// the key is used through, or the data it protects).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyAccess {
    /// The key's logical id.
    pub key: LogicalId,
    /// Names the use in the key policy's statement id, e.g. `DynamoDB`.
    pub through: &'static str,
    /// The KMS actions.
    pub actions: &'static [&'static str],
    /// The statement's condition.
    pub condition: Node,
}

impl Grant {
    /// `actions` on `resources`, all belonging to the construct `target`.
    pub fn new(target: &LogicalId, actions: &[Action], resources: Vec<Expr>) -> Self {
        let mut actions = actions.to_vec();
        actions.sort();
        actions.dedup();
        Grant {
            target: target.clone(),
            actions,
            resources,
            key_access: None,
        }
    }

    /// This grant, with the key use its encrypted resources require.
    pub fn with_key(mut self, access: Option<KeyAccess>) -> Self {
        self.key_access = access;
        self
    }

    /// The construct the resources belong to.
    pub fn target(&self) -> &LogicalId {
        &self.target
    }

    /// The granted actions, sorted.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The resources the actions are granted on.
    pub fn resources(&self) -> &[Expr] {
        &self.resources
    }
}

/// Something with an IAM role that can be granted access: a function or a state machine.
pub trait Grantee {
    /// Adds `grant` to the role's policy.
    fn grant(&mut self, grant: Grant);
}

/// Actions that AWS authorizes on no particular resource, so their statement needs
/// `Resource: "*"`; `reason` is written next to the `*` in the template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unscoped {
    /// The actions.
    pub actions: &'static [Action],
    /// Why they cannot be scoped: shown as a comment beside the `*`.
    pub reason: &'static str,
}

/// What a Lambda function needs to send X-Ray traces with `Tracing: Active`.
pub const LAMBDA_TRACING: Unscoped = Unscoped {
    actions: &[
        Action::XRayPutTraceSegments,
        Action::XRayPutTelemetryRecords,
    ],
    reason: "X-Ray trace upload has no resource-level permissions: AWS requires \"*\"",
};

/// What a state machine needs to send X-Ray traces (Step Functions developer guide, X-Ray).
pub const STATE_MACHINE_TRACING: Unscoped = Unscoped {
    actions: &[
        Action::XRayPutTraceSegments,
        Action::XRayPutTelemetryRecords,
        Action::XRayGetSamplingRules,
        Action::XRayGetSamplingTargets,
    ],
    reason: "X-Ray trace upload and sampling have no resource-level permissions: AWS requires \"*\"",
};

/// What a state machine needs to deliver its logs to CloudWatch Logs (Step Functions developer
/// guide, "IAM policies for logging to CloudWatch Logs").
pub const STATE_MACHINE_LOG_DELIVERY: Unscoped = Unscoped {
    actions: &[
        Action::LogsCreateLogDelivery,
        Action::LogsGetLogDelivery,
        Action::LogsUpdateLogDelivery,
        Action::LogsDeleteLogDelivery,
        Action::LogsListLogDeliveries,
        Action::LogsPutResourcePolicy,
        Action::LogsDescribeResourcePolicies,
        Action::LogsDescribeLogGroups,
    ],
    reason: "CloudWatch Logs vended-log delivery actions have no resource-level permissions: \
             AWS requires \"*\"",
};

/// The AWS service that assumes a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// AWS Lambda, for a function's execution role.
    Lambda,
    /// AWS Step Functions, for a state machine's role.
    StepFunctions,
}

/// The policy of one role, built from grants.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    grants: Vec<Grant>,
    unscoped: Vec<Unscoped>,
    key_access: Vec<KeyAccess>,
}

impl Policy {
    /// Adds a grant; a second grant on the same resources widens the first statement.
    pub(crate) fn add(&mut self, mut grant: Grant) {
        if let Some(access) = grant.key_access.take() {
            self.add_key_access(access);
        }
        match self
            .grants
            .iter_mut()
            .find(|g| g.target == grant.target && g.resources == grant.resources)
        {
            Some(existing) => {
                existing.actions.extend(grant.actions);
                existing.actions.sort();
                existing.actions.dedup();
            }
            None => self.grants.push(grant),
        }
    }

    pub(crate) fn add_unscoped(&mut self, unscoped: Unscoped) {
        self.unscoped.push(unscoped);
    }

    /// A key use of the role's own (the state machine's execution data), or one a grant
    /// implied; the same use twice is one.
    pub(crate) fn add_key_access(&mut self, access: KeyAccess) {
        if !self.key_access.contains(&access) {
            self.key_access.push(access);
        }
    }

    /// The key policy statements naming `role` (owned by `owner`) for its key uses.
    pub(crate) fn key_uses(&self, owner: &LogicalId, role: &LogicalId) -> Vec<KeyUse> {
        self.key_access
            .iter()
            .map(|a| {
                KeyUse::role(
                    &a.key,
                    format!("{owner}Through{}", a.through),
                    role,
                    a.actions,
                    a.condition.clone(),
                )
            })
            .collect()
    }

    pub(crate) fn grants(&self) -> &[Grant] {
        &self.grants
    }

    fn statements(&self) -> Node {
        let scoped = self.grants.iter().map(|g| {
            statement(
                g.actions.iter().copied(),
                Node::seq(g.resources.iter().map(Expr::to_node)),
            )
        });
        let unscoped = self.unscoped.iter().map(|u| {
            statement(
                u.actions.iter().copied(),
                Node::from("*").commented(u.reason),
            )
        });
        Node::Seq(scoped.chain(unscoped).collect())
    }
}

fn statement(actions: impl Iterator<Item = Action>, resource: Node) -> Node {
    Node::map()
        .with("Effect", "Allow")
        .with("Action", Node::seq(actions.map(Action::as_str)))
        .with("Resource", resource)
}

/// An `AWS::IAM::Role` for `service`, trusted by it alone. Its permissions are the separate
/// [`role_policy`]: a key's policy names the role, and the role's permissions name what the
/// key encrypts, so one of the two must come after the other.
pub(crate) fn role(
    owner: &LogicalId,
    service: Service,
    suppressions: &[Suppression],
) -> crate::stack::Resource {
    let trust = Node::map()
        .with("Effect", "Allow")
        .with(
            "Principal",
            Node::map().with(
                "Service",
                match service {
                    Service::Lambda => "lambda.amazonaws.com",
                    Service::StepFunctions => "states.amazonaws.com",
                },
            ),
        )
        .with("Action", "sts:AssumeRole");
    // Step Functions passes the calling account, so the trust can exclude other accounts'
    // state machines (the confused-deputy guard the Step Functions guide recommends).
    let trust = match service {
        Service::StepFunctions => trust.with(
            "Condition",
            Node::map().with(
                "StringEquals",
                Node::map().with("aws:SourceAccount", Expr::account_id()),
            ),
        ),
        Service::Lambda => trust,
    };
    let properties = Node::map()
        .with(
            "Description",
            format!("Role of {owner}; its policy is derived from the grants in infra/src"),
        )
        .with(
            "AssumeRolePolicyDocument",
            Node::map()
                .with("Version", "2012-10-17")
                .with("Statement", Node::seq([trust])),
        );
    crate::stack::Resource::new("AWS::IAM::Role", properties).suppress(suppressions)
}

/// The `AWS::IAM::RolePolicy` of `role`, written from `policy`.
pub(crate) fn role_policy(role: &LogicalId, policy: &Policy) -> crate::stack::Resource {
    let properties = Node::map()
        .with("RoleName", Expr::reference(role))
        .with("PolicyName", "least-privilege")
        .with(
            "PolicyDocument",
            Node::map()
                .with("Version", "2012-10-17")
                .with("Statement", policy.statements()),
        );
    crate::stack::Resource::new("AWS::IAM::RolePolicy", properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> LogicalId {
        LogicalId::new(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn grants_on_the_same_resources_share_a_statement() {
        let t = id("Ledger");
        let arn = Expr::attribute(&t, "Arn");
        let mut policy = Policy::default();
        policy.add(Grant::new(
            &t,
            &[Action::DynamoDbPutItem],
            vec![arn.clone()],
        ));
        policy.add(Grant::new(
            &t,
            &[Action::DynamoDbGetItem],
            vec![arn.clone()],
        ));
        assert_eq!(
            policy.statements().to_json(),
            serde_json::json!([{
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
                "Resource": [{"Fn::GetAtt": ["Ledger", "Arn"]}],
            }])
        );
    }

    #[test]
    fn unscoped_statements_carry_their_reason_beside_the_star() {
        let mut policy = Policy::default();
        policy.add_unscoped(LAMBDA_TRACING);
        let statements = policy.statements();
        assert_eq!(
            statements.comments(),
            vec![(&Node::from("*"), LAMBDA_TRACING.reason)]
        );
    }
}
