//! The Step Functions API on loopback: the AWS JSON 1.0 protocol
//! (`X-Amz-Target: AWSStepFunctions.<Action>`), so that the AWS CLI, boto3 and the AWS SDKs
//! work unchanged against `http://127.0.0.1:PORT`. State machines and Standard executions
//! are kept in the embedded store ([`aws_emulator::Store`]); executions run on the local
//! engine ([`sfn_local`]) in the background, their Task states answered by the
//! [`Handlers`] the host gives.
//!
//! ```no_run
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use sfn_server::{Server, Service, Time};
//!
//! let store = aws_emulator::Store::open(".orderflow")?;
//! let service = Arc::new(Service::new(store, sfn_local::Handlers::new(), Time::Real));
//! let server = Server::bind("127.0.0.1:8083".parse()?, service).await?;
//! println!("listening on http://{}", server.local_addr());
//! server.run().await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod activities;
mod callbacks;
mod durable;
mod error;
mod executions;
mod http;
mod machines;
mod test_state;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_emulator::Store;
use serde_json::{Map, Value};
use sfn_local::{Handlers, StateMachine};
use sfn_testing::MockConfig;

pub use durable::DurabilityError;
pub use error::ApiError;
pub use http::{MAX_REQUEST_BYTES, Server, ServerError};

/// How executions keep time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    /// Waits and retry intervals take real time, as on AWS.
    Real,
    /// Waits and retry intervals take none (for tests).
    Virtual,
}

/// What masks data before it is stored or answered (say, card numbers): called on every
/// execution input, output, error, cause and history event the service keeps.
pub type Redact = Arc<dyn Fn(&mut Value) + Send + Sync>;

/// A state machine's definition as loaded, and the revision it is of.
type Loaded = (Option<String>, Arc<StateMachine>);

/// The API's state: the store, the handlers executions use, the executions running now.
pub struct Service {
    store: Store,
    handlers: Handlers,
    time: Time,
    redact: Option<Redact>,
    /// Definitions as loaded, by state machine ARN.
    loaded: Mutex<HashMap<String, Loaded>>,
    /// Running Standard executions, by ARN.
    running: Mutex<HashMap<String, executions::Running>>,
    /// Tasks waiting for SendTaskSuccess/Failure.
    callbacks: Arc<callbacks::Callbacks>,
    /// Activities and the tasks queued for their workers.
    activities: Arc<activities::Activities>,
    /// Test cases a `stateMachineArn` with a `#TestCase` suffix runs.
    mocks: Option<Arc<MockConfig>>,
    /// Seals Standard executions' checkpoints, when they are kept (see [`Service::durable`]).
    sealer: Option<Arc<durable::Sealer>>,
}

impl Service {
    /// A service over `store`, answering Task states with `handlers`; a `.waitForTaskToken`
    /// task runs its handler, then waits for SendTaskSuccess or SendTaskFailure.
    pub fn new(store: Store, handlers: Handlers, time: Time) -> Self {
        let callbacks = Arc::new(callbacks::Callbacks::default());
        let activities = Arc::new(activities::Activities::new(
            store.clone(),
            Arc::clone(&callbacks),
        ));
        let mut handlers = handlers.wrapped(|h| callbacks.wrap(h));
        // An activity pattern cannot be refused: it has no whitespace and is not empty.
        let _ = handlers.register_arc(
            "arn:aws:states:*:*:activity:*",
            Arc::new(activities::ActivityTasks(Arc::clone(&activities))),
        );
        Service {
            callbacks,
            activities,
            store,
            handlers,
            time,
            redact: None,
            mocks: None,
            sealer: None,
            loaded: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Masks what the service keeps with `redact` (see [`Redact`]).
    pub fn with_redaction(mut self, redact: Redact) -> Self {
        self.redact = Some(redact);
        self
    }

    /// Lets StartExecution and StartSyncExecution run a test case of `mocks`: a
    /// `stateMachineArn` ending `#TestCase` runs the state machine with that test case's
    /// mocked responses (the test case of the state machine of that name in `mocks`), as
    /// Step Functions Local does.
    pub fn with_mock_config(mut self, mocks: MockConfig) -> Self {
        self.mocks = Some(Arc::new(mocks));
        self
    }

    /// Keeps Standard executions through a crash: each checkpoints its progress in the
    /// store (its input and state sealed with a key kept beside the store), and
    /// [`resume_running`](Service::resume_running) continues them after a restart. An
    /// in-memory store keeps nothing.
    pub fn durable(mut self) -> Result<Self, DurabilityError> {
        if let Some(dir) = self.store.database_file().and_then(std::path::Path::parent) {
            self.sealer = Some(Arc::new(durable::Sealer::in_dir(dir)?));
        }
        Ok(self)
    }

    /// The store the service records in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The ARN of the state machine `name` here.
    pub fn state_machine_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            self.store.region(),
            self.store.account_id()
        )
    }

    /// Answers one action (`CreateStateMachine`, `StartExecution`, …) with its JSON result.
    pub async fn call(self: &Arc<Self>, action: &str, params: &Value) -> Result<Value, ApiError> {
        let empty = Map::new();
        let params = match params {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => {
                return Err(ApiError::validation(
                    "the request body must be a JSON object",
                ));
            }
        };
        let p = wire::Params(params);
        match action {
            "CreateStateMachine" => self.create_state_machine(&p),
            "DescribeStateMachine" => self.describe_state_machine(&p),
            "UpdateStateMachine" => self.update_state_machine(&p),
            "DeleteStateMachine" => self.delete_state_machine(&p),
            "ListStateMachines" => self.list_state_machines(&p),
            "ValidateStateMachineDefinition" => self.validate_definition(&p),
            "TagResource" => self.tag_resource(&p),
            "UntagResource" => self.untag_resource(&p),
            "ListTagsForResource" => self.list_tags(&p),
            "StartExecution" => self.start_execution(&p),
            "StartSyncExecution" => self.start_sync_execution(&p).await,
            "StopExecution" => self.stop_execution(&p),
            "RedriveExecution" => self.redrive_execution(&p),
            "DescribeExecution" => self.describe_execution(&p),
            "ListExecutions" => self.list_executions(&p),
            "GetExecutionHistory" => self.execution_history(&p),
            "DescribeStateMachineForExecution" => self.machine_for_execution(&p),
            "SendTaskSuccess" => self.callbacks.send_success(&p),
            "SendTaskFailure" => self.callbacks.send_failure(&p),
            "SendTaskHeartbeat" => self.callbacks.send_heartbeat(&p),
            "CreateActivity" => self.activities.create(&p),
            "DescribeActivity" => self.activities.describe(&p),
            "DeleteActivity" => self.activities.delete(&p),
            "ListActivities" => self.activities.list(&p),
            "GetActivityTask" => self.activities.get_task(&p).await,
            "TestState" => self.test_state(params).await,
            other => Err(ApiError::unknown_operation(other)),
        }
    }

    /// The loaded definition of a state machine record (loaded once per revision).
    fn loaded(
        &self,
        record: &aws_emulator::StateMachineRecord,
    ) -> Result<Arc<StateMachine>, ApiError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((revision, machine)) = loaded.get(&record.arn) {
            if *revision == record.revision_id {
                return Ok(Arc::clone(machine));
            }
        }
        let machine = Arc::new(machines::load(&record.definition)?);
        loaded.insert(
            record.arn.clone(),
            (record.revision_id.clone(), Arc::clone(&machine)),
        );
        Ok(machine)
    }

    fn forget_loaded(&self, arn: &str) {
        self.loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(arn);
    }

    fn mask(&self, value: &mut Value) {
        if let Some(redact) = &self.redact {
            redact(value);
        }
    }

    fn mask_text(&self, text: &mut Option<String>) {
        if let (Some(redact), Some(t)) = (&self.redact, text.as_mut()) {
            let mut value = Value::String(std::mem::take(t));
            redact(&mut value);
            *t = value.as_str().unwrap_or_default().to_owned();
        }
    }
}
