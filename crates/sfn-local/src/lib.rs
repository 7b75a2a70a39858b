//! A local AWS Step Functions engine: loads an Amazon States Language definition (JSONPath
//! or JSONata, with workflow variables), validates it as `CreateStateMachine` would, and runs
//! executions with the host's task handlers, clock and randomness, recording the history
//! `GetExecutionHistory` shows.
//!
//! ```
//! use futures::future::FutureExt;
//! use serde_json::json;
//! use sfn_local::{ExecuteOptions, Handlers, StateMachine, Status, TaskRequest};
//!
//! let machine = StateMachine::from_json(r#"{
//!   "StartAt": "Double",
//!   "States": {
//!     "Double": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
//!                "Parameters": {"Payload.$": "$"}, "ResultSelector": {"n.$": "$.n"}, "Next": "Wait"},
//!     "Wait": {"Type": "Wait", "Seconds": 3600, "End": true}
//!   }
//! }"#)?;
//! let mut handlers = Handlers::new();
//! handlers.register("arn:aws:states:::lambda:invoke", |req: TaskRequest| {
//!     let n = req.input["Payload"]["n"].as_i64().unwrap_or(0);
//!     async move { Ok(json!({"n": n * 2})) }.boxed()
//! })?;
//! let options = ExecuteOptions::new().handlers(handlers);
//! // Virtual time: the hour-long Wait costs nothing.
//! let execution = futures::executor::block_on(machine.execute(json!({"n": 21}), &options));
//! assert_eq!(execution.status, Status::Succeeded);
//! assert_eq!(execution.output, Some(json!({"n": 42})));
//! assert_eq!(execution.history[1].details.event_type(), "TaskStateEntered");
//! # Ok::<(), sfn_local::Error>(())
//! ```
#![warn(missing_docs)]

mod choice;
mod clock;
mod error;
mod exec;
mod history;
mod java_order;
mod load;
mod mock_shape;
mod model;
mod query;
mod show;
mod states_error;
mod task;
mod template;
pub mod timestamp;
mod vars;
mod view;

pub mod intrinsics;
pub mod path;

use serde_json::Value;

pub use clock::{Clock, RealClock, VirtualClock, system_millis};
pub use error::Error;
pub use exec::resume::{Checkpoint, Checkpoints, Redrive, Resume};
pub use exec::test_state::{
    ErrorDetails, InspectionData, InspectionLevel, Mock, MockAnswer, StateConfiguration,
    TEST_STATE_LIMIT_SECONDS, TestStateError, TestStateOutput, TestStateRequest, TestStatus,
    test_state, test_state_on,
};
pub use exec::{
    ExecuteOptions, Execution, LiveHistory, MAX_DEPTH, MAX_HISTORY_DATA_BYTES, MAX_HISTORY_EVENTS,
    MAX_PAYLOAD_BYTES, Observer, RuleTaken, SeededRandom, Status,
};
pub use history::{EventDetails, HistoryError, HistoryEvent, StateType};
pub use mock_shape::FieldValidationMode;
pub use show::json_kind;
// The one seeded generator of the workspace, so crates that use the engine need not keep a
// copy of their own.
pub use sfn_jsonata::SplitMix64;
pub use states_error::{StatesError, UnknownStatesError};
pub use task::{Handlers, Submission, TaskFailure, TaskHandler, TaskRequest};
pub use view::{QueryLanguage, Scope, StateView, Transition, TransitionKind};

/// A loaded, validated state machine, ready to run any number of executions.
#[derive(Debug)]
pub struct StateMachine {
    root: model::Graph,
    timeout_seconds: Option<u64>,
    uses_context: bool,
}

impl StateMachine {
    /// Parses and validates a definition.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text)?;
        Self::from_value(&value)
    }

    /// Validates a definition already parsed as JSON.
    pub fn from_value(definition: &Value) -> Result<Self, Error> {
        // Loading walks the definition recursively; text parsed by serde_json is at most 128
        // levels deep, but a value built in code may be deeper.
        if exec::check_limits(definition, usize::MAX) == Err(exec::Oversize::Depth) {
            return Err(Error::invalid(
                "/",
                format!("the definition is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        let loaded = load::load(definition)?;
        Ok(StateMachine {
            root: loaded.root,
            timeout_seconds: loaded.timeout_seconds,
            uses_context: loaded.uses_context,
        })
    }
}
