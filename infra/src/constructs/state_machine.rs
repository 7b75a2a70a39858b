//! A Step Functions state machine whose definition file is checked against the stack: every
//! `${...}` placeholder is substituted by a construct, and the role's grants are exactly what
//! the definition's Task states use.

use std::collections::{BTreeMap, BTreeSet};

use super::log_group::LogGroup;
use crate::InfraError;
use crate::definition::{Definition, TaskNeed};
use crate::expr::{Expr, LogicalId};
use crate::iam::{self, Action, Grant, Grantee, Policy, Service};
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope};

/// A value substituted for a `${...}` placeholder of the definition.
#[derive(Clone, Debug)]
pub struct Binding {
    placeholder: String,
    value: Expr,
    target: LogicalId,
    partition_key: Option<String>,
}

impl Binding {
    /// `${placeholder}` becomes `value`, which refers to the construct `target`.
    pub fn new(placeholder: String, value: Expr, target: &LogicalId) -> Self {
        Binding {
            placeholder,
            value,
            target: target.clone(),
            partition_key: None,
        }
    }

    /// For a table: the key attribute every item or key the definition sends must carry.
    pub fn partition_key(mut self, attribute: &str) -> Self {
        self.partition_key = Some(attribute.to_owned());
        self
    }

    /// The placeholder name, without `${}`.
    pub fn placeholder(&self) -> &str {
        &self.placeholder
    }
}

/// A construct the definition can refer to through a placeholder named after it.
pub trait Substitution {
    /// The placeholder and the value it stands for.
    fn binding(&self) -> Binding;
}

/// How much the state machine logs (never the execution data: the input carries a card
/// number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Every history event.
    All,
    /// Failures only.
    Error,
}

/// Builds a [`StateMachine`].
#[derive(Debug)]
pub struct StateMachineBuilder {
    id: String,
    definition: Definition,
    workflow_type: Option<Expr>,
    log_level: LogLevel,
    log_retention_days: Option<Expr>,
    bindings: Vec<Binding>,
}

impl StateMachineBuilder {
    /// A state machine with logical id `id` running `definition`.
    pub fn new(id: &str, definition: Definition) -> Self {
        StateMachineBuilder {
            id: id.to_owned(),
            definition,
            workflow_type: None,
            log_level: LogLevel::All,
            log_retention_days: None,
            bindings: Vec::new(),
        }
    }

    /// `STANDARD` or `EXPRESS` (required; usually a parameter).
    pub fn workflow_type(mut self, workflow_type: Expr) -> Self {
        self.workflow_type = Some(workflow_type);
        self
    }

    /// How much to log; [`LogLevel::All`] unless set.
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = level;
        self
    }

    /// How long the log group keeps its logs (required).
    pub fn log_retention_days(mut self, days: Expr) -> Self {
        self.log_retention_days = Some(days);
        self
    }

    /// Substitutes `construct` for its placeholder in the definition.
    pub fn substitute(mut self, construct: &impl Substitution) -> Self {
        self.bindings.push(construct.binding());
        self
    }

    /// Checks that the substitutions and the definition's placeholders match one to one.
    pub fn build(self) -> Result<StateMachine, InfraError> {
        let id = LogicalId::new(&self.id)?;
        let workflow_type = super::required(&self.id, "workflow type", self.workflow_type)?;
        let retention = super::required(&self.id, "log retention", self.log_retention_days)?;
        let mut bound = BTreeSet::new();
        for binding in &self.bindings {
            if !bound.insert(binding.placeholder.as_str()) {
                return Err(InfraError::InvalidSetting {
                    construct: self.id.clone(),
                    setting: "substitution",
                    value: binding.placeholder.clone(),
                    expected: "each placeholder is substituted once",
                });
            }
        }
        let used: BTreeSet<&str> = self
            .definition
            .placeholders()
            .iter()
            .map(String::as_str)
            .collect();
        if let Some(missing) = used.difference(&bound).next() {
            return Err(InfraError::MissingSubstitution {
                placeholder: (*missing).to_owned(),
            });
        }
        if let Some(unused) = bound.difference(&used).next() {
            return Err(InfraError::UnusedSubstitution {
                placeholder: (*unused).to_owned(),
            });
        }
        let log_group = LogGroup::new(
            id.child("LogGroup")?,
            // `/aws/vendedlogs/` names keep CloudWatch Logs' resource policy from growing
            // with every log group Step Functions delivers to.
            Expr::concat([
                "/aws/vendedlogs/states/".into(),
                Expr::stack_name(),
                Expr::literal(format!("/{id}")),
            ]),
            retention,
        );
        let mut policy = Policy::default();
        policy.add_unscoped(iam::STATE_MACHINE_LOG_DELIVERY);
        policy.add_unscoped(iam::STATE_MACHINE_TRACING);
        Ok(StateMachine {
            role_id: id.child("Role")?,
            id,
            definition: self.definition,
            workflow_type,
            log_level: self.log_level,
            log_group,
            bindings: self.bindings,
            policy,
        })
    }
}

/// A state machine with its role and log group, logging without execution data and traced.
#[derive(Clone, Debug)]
pub struct StateMachine {
    id: LogicalId,
    role_id: LogicalId,
    definition: Definition,
    workflow_type: Expr,
    log_level: LogLevel,
    log_group: LogGroup,
    bindings: Vec<Binding>,
    policy: Policy,
}

impl StateMachine {
    /// The state machine's logical id.
    pub fn logical_id(&self) -> &LogicalId {
        &self.id
    }

    /// The state machine's ARN (`Ref` of a state machine).
    pub fn arn(&self) -> Expr {
        Expr::reference(&self.id)
    }

    /// The state machine's name.
    pub fn name(&self) -> Expr {
        Expr::attribute(&self.id, "Name")
    }

    /// Checks that the grants are exactly what the definition's Task states need: a missing
    /// grant would fail executions, an extra one would be privilege nobody uses.
    pub fn check_grants(&self) -> Result<(), InfraError> {
        let mut needed: BTreeMap<(Action, &LogicalId), &TaskNeed> = BTreeMap::new();
        for need in self.definition.needs() {
            // `build` made sure every placeholder has a binding.
            let Some(binding) = self
                .bindings
                .iter()
                .find(|b| b.placeholder == need.placeholder)
            else {
                return Err(InfraError::MissingSubstitution {
                    placeholder: need.placeholder.clone(),
                });
            };
            if let (Some(key), Some(attributes)) = (&binding.partition_key, &need.key_attributes) {
                if !attributes.contains(key) {
                    return Err(InfraError::MissingKeyAttribute {
                        state: need.state.clone(),
                        table: binding.target.to_string(),
                        attribute: key.clone(),
                    });
                }
            }
            needed.entry((need.action, &binding.target)).or_insert(need);
        }
        let granted: BTreeSet<(Action, &LogicalId)> = self
            .policy
            .grants()
            .iter()
            .flat_map(|g| g.actions().iter().map(move |a| (*a, g.target())))
            .collect();
        if let Some(((action, _), need)) = needed.iter().find(|(k, _)| !granted.contains(*k)) {
            return Err(InfraError::MissingGrant {
                state: need.state.clone(),
                action: action.as_str(),
                placeholder: need.placeholder.clone(),
            });
        }
        if let Some((action, target)) = granted.iter().find(|k| !needed.contains_key(*k)) {
            return Err(InfraError::UnusedGrant {
                action: action.as_str(),
                target: target.to_string(),
            });
        }
        Ok(())
    }
}

impl StateMachine {
    /// Lets `grantee` run this state machine's executions to completion from a Task
    /// (`states:startExecution.sync`): start them, describe and stop them (Standard or Express
    /// execution ARNs), and keep the EventBridge rule Step Functions manages to learn that
    /// they finished.
    pub fn grant_start_execution_sync(&self, grantee: &mut impl Grantee) {
        grantee.grant(Grant::new(
            &self.id,
            &[Action::StatesStartExecution],
            vec![self.arn()],
        ));
        let executions = |kind: &str, suffix: &str| {
            Expr::concat([
                "arn:".into(),
                Expr::partition(),
                ":states:".into(),
                Expr::region(),
                ":".into(),
                Expr::account_id(),
                Expr::literal(format!(":{kind}:")),
                self.name(),
                Expr::literal(suffix),
            ])
        };
        grantee.grant(Grant::new(
            &self.id,
            &[Action::StatesDescribeExecution, Action::StatesStopExecution],
            vec![executions("execution", ":*"), executions("express", ":*:*")],
        ));
        grantee.grant(Grant::new(
            &self.id,
            &[
                Action::EventsPutTargets,
                Action::EventsPutRule,
                Action::EventsDescribeRule,
            ],
            vec![Expr::concat([
                "arn:".into(),
                Expr::partition(),
                ":events:".into(),
                Expr::region(),
                ":".into(),
                Expr::account_id(),
                ":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule".into(),
            ])],
        ));
    }
}

impl Substitution for StateMachine {
    /// `${<LogicalId>Arn}`, e.g. `${OrderProcessingStateMachineArn}`.
    fn binding(&self) -> Binding {
        Binding::new(format!("{}Arn", self.id), self.arn(), &self.id)
    }
}

impl Grantee for StateMachine {
    fn grant(&mut self, grant: Grant) {
        self.policy.add(grant);
    }
}

impl Construct for StateMachine {
    fn synthesize(self, scope: &mut Scope) -> Result<(), InfraError> {
        self.check_grants()?;
        let substitutions = Node::Map(
            self.bindings
                .iter()
                .map(|b| (b.placeholder.clone(), b.value.to_node()))
                .collect(),
        );
        let level = match self.log_level {
            LogLevel::All => "ALL",
            LogLevel::Error => "ERROR",
        };
        let logging = Node::map()
            .with("Level", level)
            .with(
                "IncludeExecutionData",
                Node::from(false).commented(
                    "the execution input carries the full card number: never log state data",
                ),
            )
            .with(
                "Destinations",
                Node::seq([Node::map().with(
                    "CloudWatchLogsLogGroup",
                    Node::map().with("LogGroupArn", self.log_group.arn()),
                )]),
            );
        let properties = Node::map()
            .with("Type", &self.workflow_type)
            .with("DefinitionUri", scope.asset(self.definition.path()))
            .with("DefinitionSubstitutions", substitutions)
            .with("Role", Expr::attribute(&self.role_id, "Arn"))
            .with("Logging", logging)
            .with("Tracing", Node::map().with("Enabled", true));
        scope.add(
            &self.id,
            Resource::new("AWS::Serverless::StateMachine", properties),
        )?;
        scope.add(
            &self.role_id,
            iam::role(&self.id, Service::StepFunctions, &self.policy, &[]),
        )?;
        scope.add(self.log_group.id(), self.log_group.resource())
    }
}
