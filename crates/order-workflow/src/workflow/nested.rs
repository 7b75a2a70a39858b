//! `states:startExecution.sync:2`: a nested execution of a workflow this process knows, with
//! the result and the failure Step Functions' optimised integration gives on AWS.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use serde_json::{Value, json};
use sfn_local::{
    EventDetails, HistoryEvent, StatesError, Status, TaskFailure, TaskHandler, TaskRequest,
};

use crate::seed::fnv1a;
use crate::workflow::{Run, Workflow};

/// The integration that starts a nested execution and waits for it.
pub const START_EXECUTION_SYNC: &str = "arn:aws:states:::states:startExecution.sync:2";

/// Runs nested executions of one workflow and keeps each finished run until its parent
/// collects it (see [`NestedExecutions::take`]).
pub struct NestedExecutions {
    child: Arc<Workflow>,
    finished: Mutex<Finished>,
}

/// Finished runs not yet collected, oldest first in `order`.
#[derive(Default)]
struct Finished {
    runs: HashMap<String, Run>,
    order: VecDeque<String>,
}

/// The most finished runs kept for parents to collect: a parent that never collects (one an
/// API server runs directly) must not make them pile up.
const MAX_UNCOLLECTED: usize = 1024;

impl NestedExecutions {
    /// Starts executions of `child`, which must be the workflow the `StateMachineArn`
    /// parameter names.
    pub fn new(child: Arc<Workflow>) -> Self {
        NestedExecutions {
            child,
            finished: Mutex::default(),
        }
    }

    /// The finished nested run with this execution ARN, handed over once.
    pub fn take(&self, execution_arn: &str) -> Option<Run> {
        let mut finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        let run = finished.runs.remove(execution_arn)?;
        finished.order.retain(|arn| arn != execution_arn);
        Some(run)
    }

    /// The workflow the nested executions run.
    pub fn child(&self) -> &Workflow {
        &self.child
    }

    async fn start(&self, request: TaskRequest) -> Result<Value, TaskFailure> {
        let parameters = &request.input;
        let arn = parameters["StateMachineArn"].as_str().unwrap_or_default();
        if arn != self.child.state_machine_arn() {
            // As recorded (conformance case task_service_sfn__start_execution_no_such_arn):
            // a plain-text cause, the SDK's exception detail appended.
            return Err(TaskFailure::new(
                "StepFunctions.StateMachineDoesNotExistException",
                format!(
                    "State Machine Does Not Exist: '{arn}' (Service: AWSStepFunctions; Status \
                     Code: 400; Error Code: StateMachineDoesNotExist; Request ID: local; Proxy: \
                     null)"
                ),
            ));
        }
        // StartExecution takes the input as JSON text; Step Functions also accepts an object.
        let input = match &parameters["Input"] {
            Value::Null => json!({}),
            Value::String(text) => serde_json::from_str(text).map_err(|e| {
                TaskFailure::new(
                    "StepFunctions.InvalidExecutionInputException",
                    format!("Invalid execution input: {e}"),
                )
            })?,
            other => other.clone(),
        };
        let name = match parameters["Name"].as_str() {
            Some(name) => name.to_owned(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let seed = fnv1a(&name) ^ u64::from(request.attempt);
        let run = self
            .child
            .run(input.clone(), &name, seed)
            .await
            .map_err(|e| TaskFailure::new("StepFunctions.SdkClientException", format!("{e:#}")))?;
        let outcome = match run.execution.status {
            Status::Succeeded => Ok(json!({
                "ExecutionArn": run.execution_arn,
                "Input": input,
                "InputDetails": {"Included": true},
                "Name": run.name,
                "Output": run.execution.output.clone().unwrap_or(Value::Null),
                "OutputDetails": {"Included": true},
                "StartDate": run.execution.start_millis,
                "StateMachineArn": arn,
                "Status": "SUCCEEDED",
                "StopDate": run.execution.stop_millis,
            })),
            Status::Failed | Status::TimedOut => {
                // The description's keys in the recorded order (callback__start_execution_sync
                // _delegate_failure), `Cause` and `Error` left out when the child gave none
                // (callback__start_execution_sync_delegate_timeout has no `Cause`).
                let mut description = serde_json::Map::new();
                if let Some(cause) = &run.execution.cause {
                    description.insert("Cause".into(), json!(cause));
                }
                if let Some(error) = &run.execution.error {
                    description.insert("Error".into(), json!(error));
                }
                for (key, value) in [
                    ("ExecutionArn", json!(run.execution_arn)),
                    ("Input", input.clone()),
                    ("InputDetails", json!({"Included": true})),
                    ("Name", json!(run.name)),
                    ("StartDate", json!(run.execution.start_millis)),
                    ("StateMachineArn", json!(arn)),
                    ("Status", json!(run.execution.status.as_str())),
                    ("StopDate", json!(run.execution.stop_millis)),
                ] {
                    description.insert(key.into(), value);
                }
                // Every way a child ends other than success fails the task with
                // States.TaskFailed and the description as the cause (AWS Step Functions
                // developer guide, "Run a Job (.sync)": the task fails when the job does).
                Err(TaskFailure::new(
                    StatesError::TaskFailed.name(),
                    Value::Object(description).to_string(),
                ))
            }
        };
        let mut finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        while finished.order.len() >= MAX_UNCOLLECTED {
            if let Some(oldest) = finished.order.pop_front() {
                finished.runs.remove(&oldest);
            }
        }
        finished.order.push_back(run.execution_arn.clone());
        finished.runs.insert(run.execution_arn.clone(), run);
        outcome
    }
}

impl TaskHandler for NestedExecutions {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        Box::pin(self.start(request))
    }
}

/// The nested executions a parent's history started: the ARNs its `.sync` results and
/// failures name, in order.
pub fn started_by(history: &[HistoryEvent]) -> Vec<String> {
    history
        .iter()
        .filter_map(|event| match &event.details {
            EventDetails::TaskSucceeded {
                resource_type,
                output,
                ..
            } if resource_type == "states" => output["ExecutionArn"].as_str().map(str::to_owned),
            EventDetails::TaskFailed {
                resource_type,
                cause: Some(cause),
                ..
            } if resource_type == "states" => serde_json::from_str::<Value>(cause)
                .ok()?
                .get("ExecutionArn")?
                .as_str()
                .map(str::to_owned),
            _ => None,
        })
        .collect()
}
