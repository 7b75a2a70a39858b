//! The declared environment made real: the store holding its tables and topics, its
//! functions and state machines, one clock, and the Task handlers answering over them.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_emulator::{Store, StoreBuilder};
use serde_json::{Value, json};
use sfn_local::{
    Clock, ExecuteOptions, Execution, Handlers, StateMachine, TaskHandler, VirtualClock,
    system_millis,
};

use crate::context::{Context, Services};
use crate::environment::Environment;
use crate::lambda::{self, LambdaTasks};
use crate::states::{self, StatesTasks};
use crate::store::{self as store_tasks, StoreTasks};
use crate::{Bindings, EnvironmentError};

/// An environment's services, answering Task states as AWS does: Lambda
/// (`arn:aws:states:::lambda:invoke` and function ARNs), DynamoDB and SNS in an in-memory
/// [`Store`], and Step Functions' `startExecution` (request-response, `.sync`, `.sync:2`) of
/// the environment's state machines.
///
/// Time is virtual: a function that sleeps a minute, a retry interval or a Wait cost
/// nothing, while timeouts and history timestamps see the time pass.
#[derive(Clone)]
pub struct LocalAws {
    services: Arc<Services>,
}

/// The Task handlers over a context: Lambda, DynamoDB and SNS in the store, Step Functions.
fn handlers(context: &Context) -> Handlers {
    let mut handlers = Handlers::new();
    let lambda = Arc::new(LambdaTasks::new(context.clone()));
    let store = Arc::new(
        StoreTasks::new(context.services.store.clone()).clock(Arc::new(context.clock.clone())),
    );
    let states = Arc::new(StatesTasks::new(context.clone()));
    let entries: [(&str, Arc<dyn TaskHandler>); 5] = [
        (lambda::LAMBDA_INVOKE, lambda.clone()),
        (lambda::FUNCTION_ARNS, lambda),
        (store_tasks::DYNAMODB, store.clone()),
        (store_tasks::SNS_PUBLISH, store),
        (states::START_EXECUTION, states),
    ];
    // The patterns are constants without whitespace: registering them cannot fail.
    for (pattern, handler) in entries {
        let _ = handlers.register_arc(pattern, handler);
    }
    handlers
}

impl LocalAws {
    /// Creates the environment's tables (with their items) and topics in a fresh in-memory
    /// store and loads its state machines; the clock starts at the system time.
    pub fn new(environment: &Environment, bindings: Bindings) -> Result<Self, EnvironmentError> {
        let store = StoreBuilder::in_memory()
            .region(bindings.region())
            .account_id(bindings.account())
            .build()
            .map_err(|source| EnvironmentError::Store {
                what: "the in-memory store".into(),
                source,
            })?;
        for (name, table) in &environment.tables {
            let what = || format!("tables.{name}");
            store
                .create_table(name, &table.key)
                .map_err(|source| EnvironmentError::Store {
                    what: what(),
                    source,
                })?;
            for item in &table.items {
                store
                    .put_item(&json!({"TableName": name, "Item": item}))
                    .map_err(|source| EnvironmentError::Store {
                        what: what(),
                        source,
                    })?;
            }
        }
        for name in environment.topics.keys() {
            store
                .create_topic(&bindings.topic_name(name))
                .map_err(|source| EnvironmentError::Store {
                    what: format!("topics.{name}"),
                    source,
                })?;
        }
        let mut machines = BTreeMap::new();
        for (name, spec) in &environment.state_machines {
            let machine = StateMachine::from_value(&spec.definition).map_err(|source| {
                EnvironmentError::Definition {
                    what: format!("stateMachines.{name}"),
                    source,
                }
            })?;
            machines.insert(
                bindings.state_machine_arn(name),
                (name.clone(), Arc::new(machine)),
            );
        }
        Ok(LocalAws {
            services: Arc::new(Services {
                bindings,
                store,
                functions: environment.functions.clone(),
                machines,
                clock: VirtualClock::new(system_millis()),
            }),
        })
    }

    /// The store holding the tables and topics (to read what an execution wrote).
    pub fn store(&self) -> &Store {
        &self.services.store
    }

    /// The bindings names and ARNs were built with.
    pub fn bindings(&self) -> &Bindings {
        &self.services.bindings
    }

    fn context(&self) -> Context {
        Context::new(
            Arc::clone(&self.services),
            self.services.clock.clone(),
            handlers,
        )
    }

    /// The Task handlers, for a host that runs executions itself; they sleep on
    /// [`clock`](LocalAws::clock), which the execution must use.
    pub fn handlers(&self) -> Handlers {
        self.context().handlers()
    }

    /// The environment's virtual clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(self.services.clock.clone())
    }

    /// `options` with this environment's handlers and clock.
    pub fn options(&self, options: ExecuteOptions) -> ExecuteOptions {
        options.handlers(self.handlers()).clock(self.clock())
    }

    /// Runs `definition` on `input` against the environment. The execution's name and
    /// state machine name come from `options`; its handlers and clock are the environment's.
    pub async fn execute(
        &self,
        definition: &Value,
        input: Value,
        options: ExecuteOptions,
    ) -> Result<Execution, EnvironmentError> {
        let machine = StateMachine::from_value(definition).map_err(|source| {
            EnvironmentError::Definition {
                what: "the definition".into(),
                source,
            }
        })?;
        Ok(machine.execute(input, &self.options(options)).await)
    }
}

impl std::fmt::Debug for LocalAws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAws")
            .field("bindings", &self.services.bindings)
            .field(
                "functions",
                &self.services.functions.keys().collect::<Vec<_>>(),
            )
            .field(
                "state_machines",
                &self.services.machines.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}
