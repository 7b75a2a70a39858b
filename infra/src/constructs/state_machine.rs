//! A Step Functions state machine whose definition file is checked against the stack: every
//! `${...}` placeholder is substituted by a construct, and the role's grants are exactly what
//! the definition's Task states use.

use std::collections::{BTreeMap, BTreeSet};

use super::key::{self, KeyUse, KmsKey};
use super::log_group::LogGroup;
use crate::InfraError;
use crate::definition::{Definition, TaskNeed};
use crate::expr::{Expr, LogicalId};
use crate::iam::{self, Action, Grant, Grantee, KeyAccess, Policy, Service};
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
/// number), as Step Functions' log levels select history events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Every history event.
    All,
    /// Failures only: failed tasks, failed and aborted states, the execution's end when it
    /// fails, times out or is aborted.
    Error,
    /// The execution's end when it fails, times out or is aborted.
    Fatal,
}

impl LogLevel {
    /// The level as `LoggingConfiguration` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::All => "ALL",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
        }
    }
}

/// Builds a [`StateMachine`].
#[derive(Debug)]
pub struct StateMachineBuilder {
    id: String,
    definition: Definition,
    name: Option<String>,
    workflow_type: Option<Expr>,
    log_level: Option<LogLevel>,
    log_retention_days: Option<Expr>,
    key: Option<LogicalId>,
    log_key: Option<LogicalId>,
    bindings: Vec<Binding>,
}

impl StateMachineBuilder {
    /// A state machine with logical id `id` running `definition`.
    pub fn new(id: &str, definition: Definition) -> Self {
        StateMachineBuilder {
            id: id.to_owned(),
            definition,
            name: None,
            workflow_type: None,
            log_level: None,
            log_retention_days: None,
            key: None,
            log_key: None,
            bindings: Vec::new(),
        }
    }

    /// The state machine is named `<stack name>-<name>` (required): the key policy names it
    /// by its ARN, which must be known before it exists.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// `STANDARD` or `EXPRESS` (required; usually a parameter).
    pub fn workflow_type(mut self, workflow_type: Expr) -> Self {
        self.workflow_type = Some(workflow_type);
        self
    }

    /// How much to log (required).
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = Some(level);
        self
    }

    /// How long the log group keeps its logs (required).
    pub fn log_retention_days(mut self, days: Expr) -> Self {
        self.log_retention_days = Some(days);
        self
    }

    /// The customer-managed key that encrypts the definition and every execution's data
    /// (required).
    pub fn encrypted_with(mut self, key: &KmsKey) -> Self {
        self.key = Some(key.logical_id().clone());
        self
    }

    /// The customer-managed key of the log group (required).
    pub fn logs_encrypted_with(mut self, key: &KmsKey) -> Self {
        self.log_key = Some(key.logical_id().clone());
        self
    }

    /// Substitutes `construct` for its placeholder in the definition.
    pub fn substitute(mut self, construct: &(impl Substitution + ?Sized)) -> Self {
        self.bindings.push(construct.binding());
        self
    }

    /// Substitutes `construct` for `${placeholder}`: the name a contract shared with the
    /// definition's other readers gives it, rather than the one the construct derives from
    /// its logical id.
    pub fn substitute_as(
        mut self,
        placeholder: &str,
        construct: &(impl Substitution + ?Sized),
    ) -> Self {
        let mut binding = construct.binding();
        placeholder.clone_into(&mut binding.placeholder);
        self.bindings.push(binding);
        self
    }

    /// Checks that the substitutions and the definition's placeholders match one to one.
    pub fn build(self) -> Result<StateMachine, InfraError> {
        let id = LogicalId::new(&self.id)?;
        let missing = |setting: &'static str| InfraError::InvalidSetting {
            construct: self.id.clone(),
            setting,
            value: "missing".to_owned(),
            expected: "it is required",
        };
        let workflow_type = super::required(&self.id, "workflow type", self.workflow_type)?;
        let retention = super::required(&self.id, "log retention", self.log_retention_days)?;
        let log_level = self.log_level.ok_or_else(|| missing("log level"))?;
        let key = self.key.clone().ok_or_else(|| missing("encryption key"))?;
        let log_key = self
            .log_key
            .clone()
            .ok_or_else(|| missing("log encryption key"))?;
        let name = self.name.clone().ok_or_else(|| missing("name"))?;
        // `<stack name>-<name>` must fit the 80 characters a state machine name may have,
        // with room for the stack name.
        let name_ok = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(InfraError::InvalidSetting {
                construct: self.id.clone(),
                setting: "name",
                value: name,
                expected: "1 to 32 letters, digits, `-` or `_`",
            });
        }
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
            &log_key,
        );
        let mut policy = Policy::default();
        policy.add_unscoped(iam::STATE_MACHINE_LOG_DELIVERY);
        policy.add_unscoped(iam::STATE_MACHINE_TRACING);
        let machine = StateMachine {
            role_id: id.child("Role")?,
            id,
            definition: self.definition,
            name,
            workflow_type,
            log_level,
            log_group,
            key,
            bindings: self.bindings,
            policy,
        };
        let mut machine = machine;
        // Its role runs the executions, so it encrypts and decrypts their data; and it
        // delivers their logs (Step Functions developer guide, "Data at rest encryption",
        // steps 3 and 5).
        let own = machine.data_condition();
        machine.policy.add_key_access(KeyAccess {
            key: machine.key.clone(),
            through: "OwnExecutions",
            actions: key::STEP_FUNCTIONS_DATA,
            condition: own,
        });
        machine.policy.add_key_access(KeyAccess {
            key: machine.key.clone(),
            through: "LogDelivery",
            actions: &["kms:GenerateDataKey"],
            condition: Node::map().with(
                "ArnLike",
                Node::map().with(
                    "kms:EncryptionContext:SourceArn",
                    Expr::concat([
                        "arn:".into(),
                        Expr::partition(),
                        ":logs:".into(),
                        Expr::region(),
                        ":".into(),
                        Expr::account_id(),
                        ":*".into(),
                    ]),
                ),
            ),
        });
        Ok(machine)
    }
}

/// A state machine with its role and log group, logging without execution data, traced, and
/// encrypted with a customer-managed key.
#[derive(Clone, Debug)]
pub struct StateMachine {
    id: LogicalId,
    role_id: LogicalId,
    definition: Definition,
    name: String,
    workflow_type: Expr,
    log_level: LogLevel,
    log_group: LogGroup,
    key: LogicalId,
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

    /// The state machine's name: `<stack name>-<name>`.
    pub fn name(&self) -> Expr {
        Expr::concat([Expr::stack_name(), Expr::literal(format!("-{}", self.name))])
    }

    /// The ARN built from the name, for what must not wait for the state machine: its key's
    /// policy.
    fn named_arn(&self) -> Expr {
        Expr::concat([
            "arn:".into(),
            Expr::partition(),
            ":states:".into(),
            Expr::region(),
            ":".into(),
            Expr::account_id(),
            ":stateMachine:".into(),
            self.name(),
        ])
    }

    /// The KMS condition that selects this state machine's data: Step Functions passes the
    /// state machine's ARN as the encryption context of every call.
    fn data_condition(&self) -> Node {
        Node::map().with(
            "StringEquals",
            Node::map().with(
                "kms:EncryptionContext:aws:states:stateMachineArn",
                self.named_arn(),
            ),
        )
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
    /// execution ARNs), keep the EventBridge rule Step Functions manages to learn that they
    /// finished, and decrypt what describing them returns.
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
        // DescribeExecution of an encrypted execution needs kms:Decrypt (Step Functions
        // developer guide, "Required permissions for API callers").
        let describe = KeyAccess {
            key: self.key.clone(),
            through: "NestedExecutions",
            actions: &["kms:Decrypt"],
            condition: self.data_condition(),
        };
        grantee.grant(
            Grant::new(
                &self.id,
                &[Action::StatesDescribeExecution, Action::StatesStopExecution],
                vec![executions("execution", ":*"), executions("express", ":*:*")],
            )
            .with_key(Some(describe)),
        );
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
        let logging = Node::map()
            .with("Level", self.log_level.as_str())
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
        let encryption = Node::map()
            .with("Type", "CUSTOMER_MANAGED_KMS_KEY")
            .with("KmsKeyId", Expr::attribute(&self.key, "Arn"))
            .with("KmsDataKeyReusePeriodSeconds", 300_i64);
        let properties = Node::map()
            .with("StateMachineName", self.name())
            .with("StateMachineType", &self.workflow_type)
            .with("DefinitionS3Location", scope.asset(self.definition.path()))
            .with("DefinitionSubstitutions", substitutions)
            .with("RoleArn", Expr::attribute(&self.role_id, "Arn"))
            .with("LoggingConfiguration", logging)
            .with("TracingConfiguration", Node::map().with("Enabled", true))
            .with("EncryptionConfiguration", encryption);
        let policy_id = self.role_id.child("Policy")?;
        // Creating the state machine checks that its role may deliver its logs.
        scope.add(
            &self.id,
            Resource::new("AWS::StepFunctions::StateMachine", properties).depends_on(&policy_id),
        )?;
        scope.add(
            &self.role_id,
            iam::role(&self.id, Service::StepFunctions, &[]),
        )?;
        scope.add(&policy_id, iam::role_policy(&self.role_id, &self.policy))?;
        for key_use in self.policy.key_uses(&self.id, &self.role_id) {
            scope.use_key(key_use)?;
        }
        // CloudWatch Logs delivers the encrypted executions' logs (step 3 of the guide above).
        scope.use_key(KeyUse::service(
            &self.key,
            "LogDeliveryOfStateMachines",
            "delivery.logs.amazonaws.com".into(),
            &["kms:Decrypt"],
            None,
        ))?;
        // CloudFormation creates and updates the state machine as the deployer
        // (CreateStateMachine needs kms:DescribeKey and kms:GenerateDataKey,
        // DescribeStateMachine kms:Decrypt).
        scope.use_key(KeyUse::account_through(
            &self.key,
            "DeployStateMachinesThroughStepFunctions",
            &["states"],
            &["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"],
        ))?;
        scope.use_key(self.log_group.key_use())?;
        scope.add(self.log_group.id(), self.log_group.resource())
    }
}
