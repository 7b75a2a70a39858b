//! The order workflow run locally: the project's one definition with local resource names
//! substituted for its `${...}` placeholders, as `DefinitionSubstitutions` does on AWS, the
//! functions in process and the services in the embedded store.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, SystemTime};

use aws_emulator::{ExecutionRecord, ExecutionStatus, KeySchema, KeyType, Store};
use futures::future::BoxFuture;
use order_resources::Resource;
use orders::{LedgerGateway, SimulatedGateway, SimulatedInventory, SystemClock};
use serde_json::Value;
use sfn_aws::AwsClients;
use sfn_environment::store::{self as store_tasks, StoreTasks};
use sfn_local::{
    Clock, EventDetails, ExecuteOptions, Execution, Handlers, HistoryEvent, RealClock,
    StateMachine, Status, TaskHandler,
};

use crate::integrations::faults::{FaultCounts, FaultPlan, Faulty};
use crate::integrations::inject::{Injected, Injection};
use crate::integrations::lambda::{self, InProcessFunctions};
use crate::integrations::ledger::{AuditedGateway, ChargeAudit, StoreLedger};
use crate::redact::{redact, redact_changed};

mod nested;

use nested::NestedExecutions;

/// The definition, built into the binary from `statemachine/`, so `orderflow run` works from
/// any directory; `--definition` reads another copy.
pub const DEFINITION: &str = include_str!("../../../statemachine/order-processing.asl.json");
/// The local state machine's name (in execution ARNs).
pub const STATE_MACHINE_NAME: &str = "order-processing";
/// The Standard entry's definition, from `statemachine/`: it runs [`DEFINITION`] as a nested
/// Express execution.
pub const ENTRY_DEFINITION: &str = include_str!("../../../statemachine/order.asl.json");
/// The local name of the Standard entry.
pub const ENTRY_STATE_MACHINE_NAME: &str = "order";
/// The local orders table.
pub const TABLE_NAME: &str = "orders";
/// The orders table's partition key, as the definition writes it.
pub const TABLE_KEY: &str = order_resources::ORDERS_TABLE_KEY;
/// The local notification topic.
pub const TOPIC_NAME: &str = "order-notifications";

/// What a definition placeholder could not be replaced with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubstitutionError {
    /// `${Name}` where no substitution is named `Name`.
    #[error("the definition uses ${{{0}}}, which has no substitution")]
    Unknown(String),
    /// `${` without its `}`.
    #[error("the definition has an unclosed placeholder at byte {0}")]
    Unclosed(usize),
}

/// Where a local run's resources are: what it substitutes for the placeholders.
#[derive(Debug, Clone)]
pub struct LocalResources {
    /// The region in local ARNs.
    pub region: String,
    /// The account in local ARNs.
    pub account: String,
    /// The notification topic's ARN.
    pub topic_arn: String,
    /// The processing state machine's ARN, which the entry starts.
    pub processing_arn: String,
}

impl LocalResources {
    /// The local value standing for `resource`.
    pub fn value(&self, resource: Resource) -> String {
        let (region, account) = (&self.region, &self.account);
        match resource {
            Resource::Function(f) => {
                format!("arn:aws:lambda:{region}:{account}:function:{}", f.name())
            }
            Resource::OrdersTable => TABLE_NAME.to_owned(),
            Resource::OrderNotificationsTopic => self.topic_arn.clone(),
            Resource::OrderProcessingStateMachine => self.processing_arn.clone(),
        }
    }
}

/// The local values of `definition`'s placeholders, named as the resource contract
/// (`order-resources`) names them, as SAM's `DefinitionSubstitutions` names them.
pub fn substitutions(
    definition: order_resources::Definition,
    local: &LocalResources,
) -> Vec<(&'static str, String)> {
    definition
        .resources()
        .iter()
        .map(|resource| (resource.placeholder(), local.value(*resource)))
        .collect()
}

/// Replaces every `${Name}` in `text`; a name without a value is an error, as a missing
/// substitution would leave an invalid ARN behind.
pub fn substitute(text: &str, values: &[(&str, String)]) -> Result<String, SubstitutionError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or(SubstitutionError::Unclosed(text.len() - rest.len() + start))?;
        let name = &after[..end];
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .ok_or_else(|| SubstitutionError::Unknown(name.to_owned()))?;
        out.push_str(&value.1);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How time passes for the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    /// The wall clock: waits and retry back-offs really wait, as on AWS.
    Real,
    /// A virtual clock per execution: waits cost nothing.
    Virtual,
}

/// How Step Functions runs a state machine, which decides its execution ARNs and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowType {
    /// `execution:` ARNs; a name is used once.
    Standard,
    /// `express:` ARNs with a per-run suffix; names may repeat.
    Express,
}

/// The order workflow wired for a local run.
pub struct Workflow {
    machine: StateMachine,
    /// The definition as loaded, placeholders substituted.
    text: String,
    handlers: Handlers,
    /// The DynamoDB and SNS handlers alone, which the entry's own tasks use too.
    services: Handlers,
    topic_arn: String,
    /// What the workflow was built with; the entry decorates its own handler with it.
    options: LocalOptions,
    injected: Arc<[(Injection, AtomicU32)]>,
    store: Store,
    time: Time,
    name: &'static str,
    workflow_type: WorkflowType,
    nested: Option<Arc<NestedExecutions>>,
}

/// What [`WorkflowBuilder::options`] adds to a run.
#[derive(Clone)]
pub struct LocalOptions {
    /// The faults the integrations inject.
    pub faults: FaultPlan,
    /// Where the injected faults are counted.
    pub fault_counts: Arc<FaultCounts>,
    /// Where the gateway's real charges are counted, per order id.
    pub charges: Option<Arc<ChargeAudit>>,
    /// How many of the charge ledger's first calls are refused as throttled.
    pub ledger_throttles: u32,
    /// States whose attempts fail with a chosen error (`orderflow run --inject`).
    pub injections: Vec<Injection>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        LocalOptions {
            faults: FaultPlan::none(),
            fault_counts: Arc::default(),
            charges: None,
            ledger_throttles: 0,
            injections: Vec::new(),
        }
    }
}

impl LocalOptions {
    /// `handler`, with the faults when there are any and the injections outermost, counted
    /// with `injected`.
    fn decorate(
        &self,
        handler: Arc<dyn TaskHandler>,
        injected: &Arc<[(Injection, AtomicU32)]>,
    ) -> Arc<dyn TaskHandler> {
        let handler: Arc<dyn TaskHandler> = if self.faults.is_active() {
            Arc::new(Faulty::new(handler, self.faults, self.fault_counts.clone()))
        } else {
            handler
        };
        if injected.is_empty() {
            handler
        } else {
            Arc::new(Injected::new(handler, Arc::clone(injected)))
        }
    }
}

/// One finished run.
#[derive(Debug)]
pub struct Run {
    /// The execution ARN (`$$.Execution.Id`).
    pub execution_arn: String,
    /// The execution name.
    pub name: String,
    /// How it ended (its history moved to `history`).
    pub execution: Execution,
    /// The history, card numbers masked (as recorded in the store).
    pub history: Vec<HistoryEvent>,
    /// The order id the workflow recorded under, when it got that far.
    pub order_id: Option<String>,
    /// The `State` it recorded.
    pub order_state: Option<String>,
    /// The nested executions it started, in order.
    pub nested: Vec<Run>,
}

/// Why a workflow could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// A definition names a placeholder that has no local value.
    #[error(transparent)]
    Substitution(#[from] SubstitutionError),
    /// A definition the engine refuses (as `CreateStateMachine` would).
    #[error("invalid {which} definition: {source}")]
    Definition {
        /// `processing` or `entry`.
        which: &'static str,
        /// The engine's reason.
        source: sfn_local::Error,
    },
    /// The engine refused a handler registration.
    #[error("registering a task handler: {0}")]
    Handlers(sfn_local::Error),
    /// The simulated adapters' environment (`ORDERFLOW_SIMULATION`, `ORDERFLOW_SEED`) is invalid.
    #[error("{0}")]
    Simulation(#[from] orders::OrderError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] aws_emulator::StoreError),
    /// An endpoint could not be prepared (its table or topic) or answered with an error.
    #[error(transparent)]
    Endpoint(#[from] sfn_aws::Error),
    /// A Standard execution of this name already ran, as `StartExecution` refuses it.
    #[error("ExecutionAlreadyExists: an execution named {name} already ran ({execution_arn})")]
    ExecutionAlreadyExists {
        /// The name asked for.
        name: String,
        /// The execution that has it.
        execution_arn: String,
    },
    /// The masked history could not be read back as history events.
    #[error("reading back the masked history: {0}")]
    History(#[from] sfn_local::HistoryError),
}

/// How a [`Workflow`] is built (see [`Workflow::builder`]): which definition, how time
/// passes, what faults are injected, and where the functions and the services run.
#[must_use]
pub struct WorkflowBuilder<'a> {
    store: Store,
    definition: &'a str,
    entry: Option<&'a str>,
    time: Time,
    options: LocalOptions,
    lambda: Option<&'a AwsClients>,
    services: Option<&'a AwsClients>,
}

impl<'a> WorkflowBuilder<'a> {
    /// The processing definition's text, with its `${...}` placeholders (default
    /// [`DEFINITION`]).
    pub fn definition<'b>(self, text: &'b str) -> WorkflowBuilder<'b>
    where
        'a: 'b,
    {
        WorkflowBuilder {
            definition: text,
            ..self
        }
    }

    /// Runs processing as the deployed stack does: nested Express executions of the Standard
    /// entry `entry_definition` (normally [`ENTRY_DEFINITION`]), in the same store. The
    /// entry's own DynamoDB and SNS tasks (recording and notifying an order processing could
    /// not complete) go where processing's go.
    pub fn entry<'b>(self, entry_definition: &'b str) -> WorkflowBuilder<'b>
    where
        'a: 'b,
    {
        WorkflowBuilder {
            entry: Some(entry_definition),
            ..self
        }
    }

    /// How time passes (default [`Time::Virtual`]).
    pub fn time(mut self, time: Time) -> Self {
        self.time = time;
        self
    }

    /// Injected faults and failures, the charge audit, the ledger's throttling.
    pub fn options(mut self, options: LocalOptions) -> Self {
        self.options = options;
        self
    }

    /// Sends the functions to a Lambda Invoke API (such as `cargo lambda watch`) instead of
    /// running them in process.
    pub fn lambda_endpoint<'b>(self, lambda: &'b AwsClients) -> WorkflowBuilder<'b>
    where
        'a: 'b,
    {
        WorkflowBuilder {
            lambda: Some(lambda),
            ..self
        }
    }

    /// Sends DynamoDB and SNS to `services` (such as `moto_server`, or AWS) instead of the
    /// store; the table and the topic are created there if missing. Executions are still
    /// recorded in the store.
    pub fn service_endpoint<'b>(self, services: &'b AwsClients) -> WorkflowBuilder<'b>
    where
        'a: 'b,
    {
        WorkflowBuilder {
            services: Some(services),
            ..self
        }
    }

    /// The workflow. Only a service endpoint awaits anything (creating its table and topic);
    /// otherwise the future is ready at once.
    pub async fn build(self) -> Result<Workflow, WorkflowError> {
        let store = self.store;
        let injected = Injected::counters(&self.options.injections);
        let (services, topic_arn) = match self.services {
            None => {
                store.create_table(TABLE_NAME, &KeySchema::new(TABLE_KEY, KeyType::S))?;
                let topic_arn = store.create_topic(TOPIC_NAME)?;
                let tasks = self
                    .options
                    .decorate(Arc::new(StoreTasks::new(store.clone())), &injected);
                let mut handlers = Handlers::new();
                handlers
                    .register_arc(store_tasks::DYNAMODB, tasks.clone())
                    .and_then(|h| h.register_arc(store_tasks::SNS_PUBLISH, tasks))
                    .map_err(WorkflowError::Handlers)?;
                (handlers, topic_arn)
            }
            Some(aws) => {
                aws.ensure_table(TABLE_NAME, TABLE_KEY).await?;
                let topic_arn = aws.ensure_topic(TOPIC_NAME).await?;
                let mut handlers = Handlers::new();
                aws.register_services(&mut handlers)?;
                (handlers, topic_arn)
            }
        };
        let mut processing = Workflow::processing(Parts {
            store,
            definition: self.definition,
            time: self.time,
            services,
            topic_arn,
            options: self.options,
            injected,
        })?;
        if let Some(lambda) = self.lambda {
            lambda
                .lambda_invoke()
                .bare_function_names(true)
                .register(&mut processing.handlers)?;
        }
        match self.entry {
            None => Ok(processing),
            Some(entry) => Workflow::entry(processing, entry),
        }
    }
}

/// What [`Workflow::processing`] assembles.
struct Parts<'a> {
    store: Store,
    definition: &'a str,
    time: Time,
    /// The DynamoDB and SNS handlers.
    services: Handlers,
    topic_arn: String,
    options: LocalOptions,
    injected: Arc<[(Injection, AtomicU32)]>,
}

impl Workflow {
    /// The processing definition with local names, the functions in process, and the
    /// services' handlers.
    fn processing(parts: Parts<'_>) -> Result<Workflow, WorkflowError> {
        let Parts {
            store,
            definition,
            time,
            services,
            topic_arn,
            options,
            injected,
        } = parts;
        let local = LocalResources {
            region: store.region().to_owned(),
            account: store.account_id().to_owned(),
            topic_arn: topic_arn.clone(),
            processing_arn: state_machine_arn(&store, STATE_MACHINE_NAME),
        };
        let values = substitutions(order_resources::Definition::OrderProcessing, &local);
        let text = substitute(definition, &values)?;
        let machine =
            StateMachine::from_json(&text).map_err(|source| WorkflowError::Definition {
                which: "processing",
                source,
            })?;
        let functions = InProcessFunctions::new(
            Arc::new(LedgerGateway::new(
                AuditedGateway::new(SimulatedGateway::from_env()?, options.charges.clone()),
                StoreLedger::new(store.clone()).throttle_first(options.ledger_throttles),
            )),
            Arc::new(SimulatedInventory::from_env()?),
            Arc::new(SystemClock),
        );
        let functions = options.decorate(Arc::new(functions), &injected);
        let mut handlers = services.clone();
        handlers
            .register_arc(lambda::LAMBDA_INVOKE, functions.clone())
            .and_then(|h| h.register_arc(lambda::FUNCTION_ARNS, functions))
            .map_err(WorkflowError::Handlers)?;
        Ok(Workflow {
            machine,
            text,
            handlers,
            services,
            topic_arn,
            options,
            injected,
            store,
            time,
            name: STATE_MACHINE_NAME,
            workflow_type: WorkflowType::Standard,
            nested: None,
        })
    }

    /// The Standard entry over `processing`, which runs as its nested Express executions.
    fn entry(mut processing: Workflow, entry_definition: &str) -> Result<Workflow, WorkflowError> {
        processing.workflow_type = WorkflowType::Express;
        let processing = Arc::new(processing);
        let local = LocalResources {
            region: processing.store.region().to_owned(),
            account: processing.store.account_id().to_owned(),
            topic_arn: processing.topic_arn.clone(),
            processing_arn: processing.state_machine_arn(),
        };
        let values = substitutions(order_resources::Definition::Order, &local);
        let text = substitute(entry_definition, &values)?;
        let machine =
            StateMachine::from_json(&text).map_err(|source| WorkflowError::Definition {
                which: "entry",
                source,
            })?;
        let nested = Arc::new(NestedExecutions::new(processing.clone()));
        // The processing workflow's handlers and the nested start: what answers the tasks
        // of both machines (an API server runs either).
        let mut handlers = processing.handlers.clone();
        handlers
            .register_arc(
                nested::START_EXECUTION_SYNC,
                processing
                    .options
                    .decorate(nested.clone(), &processing.injected),
            )
            .map_err(WorkflowError::Handlers)?;
        Ok(Workflow {
            machine,
            text,
            handlers,
            services: processing.services.clone(),
            topic_arn: processing.topic_arn.clone(),
            options: processing.options.clone(),
            injected: Arc::clone(&processing.injected),
            store: processing.store.clone(),
            time: processing.time,
            name: ENTRY_STATE_MACHINE_NAME,
            workflow_type: WorkflowType::Standard,
            nested: Some(nested),
        })
    }
}

impl Workflow {
    /// Starts building the order workflow over `store`, where its executions are recorded:
    /// by default the processing definition ([`DEFINITION`]) in virtual time, the functions
    /// in process (simulated adapters configured from the environment) and DynamoDB and SNS
    /// in the store.
    pub fn builder(store: Store) -> WorkflowBuilder<'static> {
        WorkflowBuilder {
            store,
            definition: DEFINITION,
            entry: None,
            time: Time::Virtual,
            options: LocalOptions::default(),
            lambda: None,
            services: None,
        }
    }

    /// The handlers that answer the workflow's Task states; the entry's also answer those of
    /// the processing workflow it nests.
    pub fn handlers(&self) -> &Handlers {
        &self.handlers
    }

    /// The state machines the workflow runs, as deployed: name, type (`STANDARD` or
    /// `EXPRESS`) and definition with local resource names; the entry's nested processing
    /// machine first.
    pub fn state_machines(&self) -> Vec<(&'static str, &'static str, &str)> {
        let kind = |w: &Workflow| match w.workflow_type {
            WorkflowType::Standard => "STANDARD",
            WorkflowType::Express => "EXPRESS",
        };
        let mut machines = Vec::new();
        if let Some(nested) = &self.nested {
            let child = nested.child();
            machines.push((child.name, kind(child), child.text.as_str()));
        }
        machines.push((self.name, kind(self), self.text.as_str()));
        machines
    }

    /// The store the workflow writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The state machine's ARN.
    pub fn state_machine_arn(&self) -> String {
        state_machine_arn(&self.store, self.name)
    }

    /// The execution ARN an execution named `name` gets (an Express one also gets a
    /// per-run suffix, as on AWS).
    pub fn execution_arn(&self, name: &str) -> String {
        let (region, account, machine) = (self.store.region(), self.store.account_id(), self.name);
        match self.workflow_type {
            WorkflowType::Standard => {
                format!("arn:aws:states:{region}:{account}:execution:{machine}:{name}")
            }
            WorkflowType::Express => format!(
                "arn:aws:states:{region}:{account}:express:{machine}:{name}:{}",
                uuid::Uuid::new_v4()
            ),
        }
    }

    /// Runs one execution named `name` on `input` and records it with its history.
    /// On a Standard workflow a name already used is refused, as StartExecution refuses it.
    pub async fn run(&self, input: Value, name: &str, seed: u64) -> Result<Run, WorkflowError> {
        let execution_arn = self.execution_arn(name);
        if self.workflow_type == WorkflowType::Standard
            && self.store.has_execution(&execution_arn)?
        {
            return Err(WorkflowError::ExecutionAlreadyExists {
                name: name.to_owned(),
                execution_arn,
            });
        }
        // Recorded as RUNNING before the first step, so that an execution a crash interrupts
        // stays visible, as it would be on AWS, instead of leaving records and charges that no
        // execution accounts for.
        let mut masked_input = input.clone();
        redact(&mut masked_input);
        let started = ExecutionRecord {
            execution_arn: execution_arn.clone(),
            state_machine_name: self.name.to_owned(),
            name: name.to_owned(),
            status: ExecutionStatus::Running,
            start_date: SystemTime::now(),
            stop_date: None,
            input: masked_input,
            output: None,
            error: None,
            cause: None,
        };
        self.store.record_execution(&started, &[])?;
        let mut options = ExecuteOptions::new()
            .handlers(self.handlers.clone())
            .seed(seed)
            .name(name)
            .execution_arn(&execution_arn)
            .state_machine_name(self.name);
        if self.time == Time::Real {
            options = options.clock(real_clock());
        }
        let mut execution = self.machine.execute(input, &options).await;
        // The history carries the card number as the client sent it; nothing is recorded or
        // shown before it is masked.
        let mut recorded: Vec<Value> = execution
            .history
            .iter()
            .map(HistoryEvent::to_json)
            .collect();
        // Masking works on the history as AWS shows it; the run keeps it typed again, read
        // back from the masked event where masking changed one.
        let mut history = std::mem::take(&mut execution.history);
        for (event, json) in history.iter_mut().zip(recorded.iter_mut()) {
            if redact_changed(json) {
                *event = HistoryEvent::from_json(json)?;
            }
        }
        for text in [&mut execution.error, &mut execution.cause]
            .into_iter()
            .flatten()
        {
            let mut value = Value::String(std::mem::take(text));
            redact(&mut value);
            *text = value.as_str().unwrap_or_default().to_owned();
        }
        if let Some(output) = execution.output.as_mut() {
            redact(output);
        }
        let record = ExecutionRecord {
            execution_arn: execution_arn.clone(),
            state_machine_name: self.name.to_owned(),
            name: name.to_owned(),
            status: match execution.status {
                Status::Succeeded => ExecutionStatus::Succeeded,
                Status::Failed => ExecutionStatus::Failed,
                Status::TimedOut => ExecutionStatus::TimedOut,
            },
            start_date: system_time(execution.start_millis),
            stop_date: Some(system_time(execution.stop_millis)),
            input: started.input,
            output: execution.output.clone(),
            error: execution.error.clone(),
            cause: execution.cause.clone(),
        };
        self.store.record_execution(&record, &recorded)?;
        let nested: Vec<Run> = match &self.nested {
            Some(executions) => nested::started_by(&history)
                .iter()
                .filter_map(|arn| executions.take(arn))
                .collect(),
            None => Vec::new(),
        };
        // The entry writes a record itself only when processing left none; otherwise the
        // last nested execution's is the order's.
        let (order_id, order_state) = match (nested.last(), written_order(&history)) {
            (_, Some((id, state))) => (Some(id), Some(state)),
            (Some(child), None) => (child.order_id.clone(), child.order_state.clone()),
            (None, None) => recorded_order(&history),
        };
        Ok(Run {
            execution_arn,
            name: name.to_owned(),
            execution,
            history,
            order_id,
            order_state,
            nested,
        })
    }
}

/// The ARN of the local state machine `name`.
fn state_machine_arn(store: &Store, name: &str) -> String {
    format!(
        "arn:aws:states:{}:{}:stateMachine:{name}",
        store.region(),
        store.account_id()
    )
}

fn real_clock() -> Arc<dyn Clock> {
    let sleep =
        |duration: Duration| -> BoxFuture<'static, ()> { Box::pin(tokio::time::sleep(duration)) };
    Arc::new(RealClock::new(sleep))
}

fn system_time(millis: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// The order id and state of the last order record the execution wrote, a write its condition
/// refused left out.
fn written_order(history: &[HistoryEvent]) -> Option<(String, String)> {
    history.iter().enumerate().rev().find_map(|(at, event)| {
        let EventDetails::TaskScheduled { parameters, .. } = &event.details else {
            return None;
        };
        if parameters["TableName"] != TABLE_NAME || !parameters["Item"].is_object() {
            return None;
        }
        let ended = history[at + 1..].iter().find(|e| {
            matches!(
                e.details,
                EventDetails::TaskSucceeded { .. } | EventDetails::TaskFailed { .. }
            )
        })?;
        let item = &parameters["Item"];
        matches!(ended.details, EventDetails::TaskSucceeded { .. }).then(|| {
            (
                item[TABLE_KEY]["S"].as_str().unwrap_or_default().to_owned(),
                item["State"]["S"].as_str().unwrap_or_default().to_owned(),
            )
        })
    })
}

/// The order id and state of the order record the execution wrote (or tried to write), read
/// from the put's parameters in the history, so it is what the definition decided; for an
/// execution that wrote none (a repeat of a recorded order, a notification sent again), the
/// order it looked up and the state of the record it found.
pub fn recorded_order(history: &[HistoryEvent]) -> (Option<String>, Option<String>) {
    let scheduled = || {
        history
            .iter()
            .enumerate()
            .filter_map(|(at, event)| match &event.details {
                EventDetails::TaskScheduled { parameters, .. }
                    if parameters["TableName"] == TABLE_NAME =>
                {
                    Some((at, parameters))
                }
                _ => None,
            })
    };
    let text = |attribute: &Value| attribute["S"].as_str().map(str::to_owned);
    if let Some((_, put)) = scheduled().rfind(|(_, p)| p["Item"].is_object()) {
        return (text(&put["Item"][TABLE_KEY]), text(&put["Item"]["State"]));
    }
    let Some((at, lookup)) = scheduled().find(|(_, p)| p["Key"].is_object()) else {
        return (None, None);
    };
    let found = history
        .iter()
        .skip(at)
        .find_map(|event| match &event.details {
            EventDetails::TaskSucceeded { output, .. } => Some(output),
            _ => None,
        })
        .and_then(|output| text(&output["Item"]["State"]));
    (text(&lookup["Key"][TABLE_KEY]), found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn substituted(text: &str, expected: Result<&str, SubstitutionError>) {
        let values = vec![("A", "1".to_owned()), ("Bee", "two".to_owned())];
        assert_eq!(
            substitute(text, &values),
            expected.map(str::to_owned),
            "{text}"
        );
    }

    #[test]
    fn placeholders() {
        substituted("${A}", Ok("1"));
        substituted("x${A}y${Bee}z", Ok("x1ytwoz"));
        substituted("no placeholders $ { }", Ok("no placeholders $ { }"));
        substituted("${C}", Err(SubstitutionError::Unknown("C".into())));
        substituted("ab${A", Err(SubstitutionError::Unclosed(2)));
    }

    /// The longest an Express execution may run; past it the execution stops where it is,
    /// and an order would end without its record and notification.
    const EXPRESS_MAX_SECONDS: f64 = 300.0;

    /// The slowest run of `states` from `at` to an end, in seconds: every Task waits out its
    /// `TimeoutSeconds` on each attempt its `States.Timeout` retrier allows and sleeps every
    /// retry delay of every retrier (other errors are taken to fail at once), a Parallel
    /// lasts as its slowest branch, a Wait its `Seconds`; over every path a Choice or Catch
    /// can take. Panics on a cycle or a Map whose iterations can wait, which have no bound
    /// without the input.
    fn slowest(states: &serde_json::Map<String, Value>, at: &str, seen: &mut Vec<String>) -> f64 {
        assert!(!seen.iter().any(|s| s == at), "a cycle through {at}");
        let state = &states[at];
        let own = match state["Type"].as_str() {
            Some("Task") => {
                let timeout = state["TimeoutSeconds"].as_f64().unwrap_or(0.0);
                let retriers = state["Retry"].as_array().cloned().unwrap_or_default();
                let mut attempts = 1.0;
                let mut delays = 0.0;
                for retrier in &retriers {
                    let max = retrier["MaxAttempts"].as_u64().unwrap_or(3);
                    let interval = retrier["IntervalSeconds"].as_f64().unwrap_or(1.0);
                    let rate = retrier["BackoffRate"].as_f64().unwrap_or(2.0);
                    let cap = retrier["MaxDelaySeconds"].as_f64().unwrap_or(f64::MAX);
                    delays += (0..max)
                        .map(|k| (interval * rate.powi(k as i32)).min(cap))
                        .sum::<f64>();
                    let names = retrier["ErrorEquals"].to_string();
                    if names.contains("States.Timeout") || names.contains("States.ALL") {
                        attempts += max as f64;
                    }
                }
                attempts * timeout + delays
            }
            Some("Parallel") => state["Branches"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|branch| {
                    let inner = branch["States"].as_object().expect("branch states");
                    slowest(
                        inner,
                        branch["StartAt"].as_str().expect("StartAt"),
                        &mut Vec::new(),
                    )
                })
                .fold(0.0, f64::max),
            Some("Map") => {
                let processor = &state["ItemProcessor"];
                let inner = processor["States"].as_object().expect("processor states");
                let start = processor["StartAt"].as_str().expect("StartAt");
                let each = slowest(inner, start, &mut Vec::new());
                assert!(each == 0.0, "{at}: iterations that can wait have no bound");
                0.0
            }
            Some("Wait") => state["Seconds"].as_f64().unwrap_or(0.0),
            _ => 0.0,
        };
        let mut next: Vec<&str> = Vec::new();
        next.extend(state["Next"].as_str());
        next.extend(state["Default"].as_str());
        for list in ["Choices", "Catch"] {
            for rule in state[list].as_array().into_iter().flatten() {
                next.extend(rule["Next"].as_str());
            }
        }
        seen.push(at.to_owned());
        let after = next
            .iter()
            .map(|n| slowest(states, n, seen))
            .fold(0.0, f64::max);
        seen.pop();
        own + after
    }

    #[test]
    fn the_slowest_run_fits_in_an_express_execution() {
        let definition: Value = serde_json::from_str(DEFINITION).expect("JSON");
        let states = definition["States"].as_object().expect("states");
        let start = definition["StartAt"].as_str().expect("StartAt");
        let worst = slowest(states, start, &mut Vec::new());
        assert!(
            worst <= EXPRESS_MAX_SECONDS,
            "the slowest run takes {worst} s, over the {EXPRESS_MAX_SECONDS} s an Express execution may last"
        );
        // The bound is not vacuous: it counts the Lambda tasks' waits and retries.
        assert!(worst > 150.0, "{worst}");
    }

    /// Every error name `Retry` and `Catch` match, in both definitions, is one something can
    /// raise: the domain's (`OrderError::name`), a Fail state's of processing, or one an
    /// integration gives (`States.*`, `Lambda.*`, `DynamoDB.*`, `SNS.*`, `StepFunctions.*`).
    #[test]
    fn every_error_name_matched_is_one_that_can_be_raised() {
        use orders::OrderError;

        fn walk(value: &Value, names: &mut Vec<String>, fails: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(list) = map.get("ErrorEquals").and_then(Value::as_array) {
                        names.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
                    }
                    if map.get("Type").and_then(Value::as_str) == Some("Fail") {
                        fails.extend(map.get("Error").and_then(Value::as_str).map(str::to_owned));
                    }
                    map.values().for_each(|v| walk(v, names, fails));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, names, fails)),
                _ => {}
            }
        }
        let domain = [
            OrderError::UnknownToken.name(),
            OrderError::PaymentDeclined {
                order_id: "o".into(),
                reason: "r".into(),
            }
            .name(),
            OrderError::Unavailable {
                service: "s",
                reason: "r".into(),
            }
            .name(),
        ];
        let mut names = Vec::new();
        let mut fails = Vec::new();
        for text in [DEFINITION, ENTRY_DEFINITION] {
            let definition: Value = serde_json::from_str(text).expect("JSON");
            walk(&definition, &mut names, &mut fails);
        }
        assert!(names.len() > 20, "{names:?}");
        let services = ["States.", "Lambda.", "DynamoDB.", "SNS.", "StepFunctions."];
        for name in &names {
            let known = services.iter().any(|p| name.starts_with(p))
                || domain.contains(&name.as_str())
                || fails.contains(name);
            assert!(known, "nothing raises {name}");
        }
    }

    /// The rejections the entry ends with at once are exactly the outcomes processing records
    /// in a final state and fails with, and its duplicate: an outcome added to one definition
    /// must be added to the other.
    #[test]
    fn the_entry_knows_every_rejection_processing_ends_with() {
        let processing: Value = serde_json::from_str(DEFINITION).expect("JSON");
        let mut outcomes: Vec<String> = processing["States"]
            .as_object()
            .expect("states")
            .values()
            .filter_map(|state| state["Parameters"]["outcome"].as_str())
            .filter(|o| *o != "OrderProcessed" && *o != "OrderProcessingError")
            .map(str::to_owned)
            .collect();
        outcomes.push(
            processing["States"]["Duplicate Order"]["Error"]
                .as_str()
                .expect("a name")
                .to_owned(),
        );
        outcomes.sort();
        outcomes.dedup();
        let entry: Value = serde_json::from_str(ENTRY_DEFINITION).expect("JSON");
        let rules = entry["States"]["Processing Outcome?"]["Choices"]
            .as_array()
            .expect("rules");
        let mut rejections: Vec<String> = rules
            .iter()
            .filter(|rule| rule["Next"] == "Order Rejected")
            .flat_map(|rule| rule["Or"].as_array().cloned().unwrap_or_default())
            .filter_map(|r| r["StringEquals"].as_str().map(str::to_owned))
            .collect();
        rejections.sort();
        assert_eq!(rejections, outcomes);
    }

    /// The definitions built in are the files the contract names, and a local run gives
    /// every placeholder they use a value, and only those.
    #[test]
    fn every_placeholder_of_each_definition_has_a_local_value() {
        use order_resources::Definition;

        let local = LocalResources {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            topic_arn: "arn:aws:sns:us-east-1:123456789012:order-notifications".into(),
            processing_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:order-processing"
                .into(),
        };
        for (definition, text) in [
            (Definition::OrderProcessing, DEFINITION),
            (Definition::Order, ENTRY_DEFINITION),
        ] {
            let file =
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../").to_owned() + definition.path();
            assert_eq!(
                std::fs::read_to_string(&file).expect("the definition file"),
                text,
                "{file}"
            );
            let values = substitutions(definition, &local);
            let mut used: Vec<&str> = text
                .split("${")
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
                .collect();
            used.sort_unstable();
            used.dedup();
            let mut given: Vec<&str> = values.iter().map(|(name, _)| *name).collect();
            given.sort_unstable();
            assert_eq!(used, given, "{file}");
            let substituted = substitute(text, &values).expect("all substituted");
            StateMachine::from_json(&substituted).expect("the substituted definition loads");
        }
    }
}
