//! The queue that failed, timed-out and aborted executions of a state machine are routed to
//! by an EventBridge rule, for a redrive or a resubmission; encrypted with a
//! customer-managed key.

use super::key::{KeyUse, KmsKey};
use super::state_machine::StateMachine;
use crate::InfraError;
use crate::expr::{Expr, LogicalId};
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope};

/// Fourteen days, SQS's longest retention and the redrive window of a Standard execution.
const RETENTION_SECONDS: i64 = 14 * 24 * 60 * 60;

/// What EventBridge needs on the key of an encrypted queue it sends to (EventBridge user
/// guide, "Amazon SQS permissions": a queue encrypted with a customer-managed key).
const EVENTS_SEND: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];

/// A queue of the executions of one state machine that did not succeed.
#[derive(Clone, Debug)]
pub struct UnfinishedExecutionsQueue {
    id: LogicalId,
    rule_id: LogicalId,
    policy_id: LogicalId,
    rule_name: String,
    state_machine: Expr,
    key: LogicalId,
}

impl UnfinishedExecutionsQueue {
    /// A queue with logical id `id` for the executions of `machine` that end `FAILED`,
    /// `TIMED_OUT` or `ABORTED`, routed by a rule named `<stack name>-<rule_name>`.
    pub fn new(
        id: &str,
        rule_name: &str,
        machine: &StateMachine,
        key: &KmsKey,
    ) -> Result<Self, InfraError> {
        let id = LogicalId::new(id)?;
        Ok(UnfinishedExecutionsQueue {
            rule_id: id.child("Rule")?,
            policy_id: id.child("Policy")?,
            id,
            rule_name: rule_name.to_owned(),
            state_machine: machine.arn(),
            key: key.logical_id().clone(),
        })
    }

    /// The queue's URL (`Ref` of a queue).
    pub fn url(&self) -> Expr {
        Expr::reference(&self.id)
    }

    fn rule_name(&self) -> Expr {
        Expr::concat([
            Expr::stack_name(),
            Expr::literal(format!("-{}", self.rule_name)),
        ])
    }
}

impl Construct for UnfinishedExecutionsQueue {
    fn synthesize(self, scope: &mut Scope) -> Result<(), InfraError> {
        let queue_arn = Expr::attribute(&self.id, "Arn");
        let rule_arn = Expr::concat([
            "arn:".into(),
            Expr::partition(),
            ":events:".into(),
            Expr::region(),
            ":".into(),
            Expr::account_id(),
            ":rule/".into(),
            self.rule_name(),
        ]);
        scope.add(
            &self.id,
            Resource::new(
                "AWS::SQS::Queue",
                Node::map()
                    .with("MessageRetentionPeriod", RETENTION_SECONDS)
                    .with("KmsMasterKeyId", Expr::attribute(&self.key, "Arn"))
                    .with("KmsDataKeyReusePeriodSeconds", 300_i64),
            )
            // Its messages point at executions that expire from redrive in 14 days anyway;
            // the orders' records are what is kept.
            .deleted_with_stack(),
        )?;
        // The message names the execution and how it ended, nothing of its data: a
        // customer-managed key already keeps input, output, error and cause out of these
        // events (Step Functions developer guide, "Data at rest encryption", FAQs).
        let template = r#"{"executionArn": <executionArn>, "name": <name>, "status": <status>, "stopDate": <stopDate>}"#;
        let transformer = Node::map()
            .with(
                "InputPathsMap",
                Node::map()
                    .with("executionArn", "$.detail.executionArn")
                    .with("name", "$.detail.name")
                    .with("status", "$.detail.status")
                    .with("stopDate", "$.detail.stopDate"),
            )
            .with("InputTemplate", template);
        let pattern = Node::map()
            .with("source", Node::seq(["aws.states"]))
            .with(
                "detail-type",
                Node::seq(["Step Functions Execution Status Change"]),
            )
            .with(
                "detail",
                Node::map()
                    .with("stateMachineArn", Node::seq([&self.state_machine]))
                    .with("status", Node::seq(["FAILED", "TIMED_OUT", "ABORTED"])),
            );
        scope.add(
            &self.rule_id,
            Resource::new(
                "AWS::Events::Rule",
                Node::map()
                    .with("Name", self.rule_name())
                    .with(
                        "Description",
                        "Executions of the order entry that did not succeed, for a redrive or \
                         a resubmission",
                    )
                    .with("EventPattern", pattern)
                    .with("State", "ENABLED")
                    .with(
                        "Targets",
                        Node::seq([Node::map()
                            .with("Id", "unfinished-executions")
                            .with("Arn", &queue_arn)
                            .with("InputTransformer", transformer)]),
                    ),
            ),
        )?;
        let statement = Node::map()
            .with("Sid", "EventBridgeRuleSendsUnfinishedExecutions")
            .with("Effect", "Allow")
            .with(
                "Principal",
                Node::map().with("Service", "events.amazonaws.com"),
            )
            .with("Action", Node::seq(["sqs:SendMessage"]))
            .with("Resource", &queue_arn)
            .with(
                "Condition",
                Node::map().with(
                    "ArnEquals",
                    Node::map().with("aws:SourceArn", Expr::attribute(&self.rule_id, "Arn")),
                ),
            );
        scope.add(
            &self.policy_id,
            Resource::new(
                "AWS::SQS::QueuePolicy",
                Node::map().with("Queues", Node::seq([self.url()])).with(
                    "PolicyDocument",
                    Node::map()
                        .with("Version", "2012-10-17")
                        .with("Statement", Node::seq([statement])),
                ),
            ),
        )?;
        scope.use_key(KeyUse::service(
            &self.key,
            &format!("EventBridgeSendsTo{}", self.id),
            "events.amazonaws.com".into(),
            EVENTS_SEND,
            Some(Node::map().with("ArnEquals", Node::map().with("aws:SourceArn", rule_arn))),
        ))?;
        // Whoever redrives or resubmits reads the queue; its IAM policy decides who.
        scope.use_key(KeyUse::account_through(
            &self.key,
            "ReadQueuesThroughSQS",
            &["sqs"],
            &["kms:Decrypt"],
        ))
    }
}
