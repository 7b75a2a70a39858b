//! The declared environment made real: the store holding its tables and topics, its
//! functions and state machines, one clock, and the Task handlers answering over them.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_emulator::{Store, StoreBuilder};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use sfn_local::{
    Clock, ExecuteOptions, Execution, Handlers, StateMachine, TaskHandler, VirtualClock,
    system_millis,
};

use crate::environment::{Environment, Function};
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

pub(crate) struct Services {
    pub(crate) bindings: Bindings,
    pub(crate) store: Store,
    pub(crate) functions: BTreeMap<String, Function>,
    /// By ARN: the state machine's name and its loaded definition.
    pub(crate) machines: BTreeMap<String, (String, Arc<StateMachine>)>,
    clock: VirtualClock,
}

/// What one set of handlers works with: the services and the clock of the execution they
/// answer (a request-response child execution runs on a clock of its own).
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) services: Arc<Services>,
    pub(crate) clock: VirtualClock,
}

impl Context {
    /// The Task handlers over these services and this clock.
    pub(crate) fn handlers(&self) -> Handlers {
        let mut handlers = Handlers::new();
        let lambda = Arc::new(LambdaTasks::new(self.clone()));
        let store = Arc::new(
            StoreTasks::new(self.services.store.clone()).clock(Arc::new(self.clock.clone())),
        );
        let states = Arc::new(StatesTasks::new(self.clone()));
        // The patterns are constants without whitespace: registering them cannot fail.
        let entries: [(&str, Arc<dyn TaskHandler>); 5] = [
            (lambda::LAMBDA_INVOKE, lambda.clone()),
            (lambda::FUNCTION_ARNS, lambda),
            (store_tasks::DYNAMODB, store.clone()),
            (store_tasks::SNS_PUBLISH, store),
            (states::START_EXECUTION, states),
        ];
        for (pattern, handler) in entries {
            let _ = handlers.register_arc(pattern, handler);
        }
        handlers
    }

    /// Options running an execution on this clock, driving it (top-level: the clock jumps
    /// whenever the execution waits) or `passive`, for an execution nested in another whose
    /// driver moves the shared clock.
    pub(crate) fn options(&self, passive: bool) -> ExecuteOptions {
        let clock: Arc<dyn Clock> = if passive {
            Arc::new(Passive(self.clock.clone()))
        } else {
            Arc::new(self.clock.clone())
        };
        ExecuteOptions::new().handlers(self.handlers()).clock(clock)
    }
}

/// A view of a shared virtual clock that never moves it: an execution nested in another
/// (a `.sync` child) reads and sleeps on its parent's time, and only the outermost
/// execution's driver, which sees that everything is waiting, may jump ahead. Were the
/// child to advance the clock, it would run past its parent's task timeout unseen.
struct Passive(VirtualClock);

impl Clock for Passive {
    fn now_millis(&self) -> i64 {
        self.0.now_millis()
    }

    fn sleep_until(&self, deadline_millis: i64) -> BoxFuture<'static, ()> {
        self.0.sleep_until(deadline_millis)
    }
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
        Context {
            services: Arc::clone(&self.services),
            clock: self.services.clock.clone(),
        }
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
