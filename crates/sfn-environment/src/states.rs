//! Step Functions' own integration: `arn:aws:states:::states:startExecution` of the
//! environment's state machines, request-response (the ARN and start date at once), `.sync`
//! (wait; input and output as JSON text) and `.sync:2` (wait; as JSON values).

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sfn_local::{
    Clock, Execution, StatesError, Status, TaskFailure, TaskHandler, TaskRequest, VirtualClock,
};

use crate::context::Context;
use crate::http::{http_date, sdk_result, sorted_keys};

/// The integration's resource; `.sync` and `.sync:2` fall back to it.
pub const START_EXECUTION: &str = "arn:aws:states:::states:startExecution";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    RequestResponse,
    /// `.sync`: input and output as JSON text.
    Sync,
    /// `.sync:2`: input and output as JSON values.
    Sync2,
}

pub(crate) struct StatesTasks {
    context: Context,
}

impl StatesTasks {
    pub(crate) fn new(context: Context) -> Self {
        StatesTasks { context }
    }

    async fn start(&self, request: TaskRequest) -> Result<Value, TaskFailure> {
        let mode = match request.resource.strip_prefix(START_EXECUTION) {
            Some("") => Mode::RequestResponse,
            Some(".sync") => Mode::Sync,
            Some(".sync:2") => Mode::Sync2,
            _ => {
                return Err(TaskFailure::new(
                    StatesError::Runtime.name(),
                    format!(
                        "the local environment does not answer the resource {}",
                        request.resource
                    ),
                ));
            }
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let parameters = &request.input;
        let arn = parameters
            .get("StateMachineArn")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let services = &self.context.services;
        let Some((machine_name, machine)) = services.machines.get(arn) else {
            // As recorded (task_service_sfn__start_execution_no_such_arn): the SDK's
            // exception detail appended to the service's message.
            return Err(TaskFailure::new(
                "StepFunctions.StateMachineDoesNotExistException",
                format!(
                    "State Machine Does Not Exist: '{arn}' (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: {request_id}; Proxy: null)"
                ),
            ));
        };
        // StartExecution takes the input as JSON text; Step Functions also passes an object.
        let input = match parameters.get("Input") {
            None | Some(Value::Null) => json!({}),
            Some(Value::String(text)) => serde_json::from_str(text).map_err(|e| {
                TaskFailure::new(
                    "StepFunctions.InvalidExecutionInputException",
                    format!(
                        "Invalid State Machine Execution Input: '{e}' (Service: AWSStepFunctions; Status Code: 400; Error Code: InvalidExecutionInput; Request ID: {request_id}; Proxy: null)"
                    ),
                )
            })?,
            Some(other) => other.clone(),
        };
        let name = match parameters.get("Name").and_then(Value::as_str) {
            Some(name) => name.to_owned(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let execution_arn = services.bindings.execution_arn(machine_name, &name);
        let child = |context: &Context, passive: bool| {
            context
                .options(passive)
                .name(&name)
                .state_machine_name(machine_name)
                .execution_arn(&execution_arn)
        };
        if mode == Mode::RequestResponse {
            // On AWS the execution runs on its own once started; here it runs to its end at
            // once, on a clock of its own, so the caller's time does not move.
            let start = self.context.clock.now_millis();
            let own = self.context.with_clock(VirtualClock::new(start));
            machine.execute(input, &child(&own, false)).await;
            return Ok(started(&execution_arn, start, &request_id));
        }
        // The job is started: Step Functions records TaskSubmitted with StartExecution's
        // answer, then waits for the end.
        request.submission.submit(started(
            &execution_arn,
            self.context.clock.now_millis(),
            &request_id,
        ));
        // The parent waits for the child on the shared clock; the parent's driver moves it.
        let execution = machine
            .execute(input.clone(), &child(&self.context, true))
            .await;
        describe(mode, &execution, &execution_arn, &name, arn, &input)
    }
}

/// StartExecution's answer: the execution's ARN and start date, with the SDK metadata.
fn started(execution_arn: &str, start: i64, request_id: &str) -> Value {
    let body =
        json!({"executionArn": execution_arn, "startDate": start as f64 / 1000.0}).to_string();
    let mut fields = Map::new();
    fields.insert("ExecutionArn".into(), json!(execution_arn));
    fields.insert("StartDate".into(), json!(start));
    let headers = [
        ("x-amzn-RequestId", request_id.to_owned()),
        ("connection", "keep-alive".to_owned()),
        ("Content-Length", body.len().to_string()),
        ("Date", http_date(start)),
        ("Content-Type", "application/x-amz-json-1.0".to_owned()),
    ];
    sdk_result(fields, &headers, request_id)
}

/// DescribeExecution's answer, keys in alphabetical order as recorded; a child that did not
/// succeed fails the task with `States.TaskFailed` and the description as the cause (AWS
/// Step Functions developer guide, "Run a Job (.sync)": the task fails when the job does).
fn describe(
    mode: Mode,
    execution: &Execution,
    execution_arn: &str,
    name: &str,
    state_machine_arn: &str,
    input: &Value,
) -> Result<Value, TaskFailure> {
    let document = |value: &Value| match mode {
        Mode::Sync2 => value.clone(),
        _ => Value::String(value.to_string()),
    };
    let mut d = Map::new();
    d.insert("ExecutionArn".into(), json!(execution_arn));
    d.insert("Input".into(), document(input));
    d.insert("InputDetails".into(), json!({"Included": true}));
    d.insert("Name".into(), json!(name));
    d.insert("StartDate".into(), json!(execution.start_millis));
    d.insert("StateMachineArn".into(), json!(state_machine_arn));
    d.insert("Status".into(), json!(execution.status.as_str()));
    d.insert("StopDate".into(), json!(execution.stop_millis));
    if execution.status == Status::Succeeded {
        let output = execution.output.clone().unwrap_or(Value::Null);
        d.insert("Output".into(), document(&output));
        d.insert("OutputDetails".into(), json!({"Included": true}));
        return Ok(sorted_keys(d));
    }
    // `Cause` and `Error` are left out when the child gave none (recorded:
    // callback__start_execution_sync_delegate_timeout has no `Cause`).
    if let Some(cause) = &execution.cause {
        d.insert("Cause".into(), json!(cause));
    }
    if let Some(error) = &execution.error {
        d.insert("Error".into(), json!(error));
    }
    Err(TaskFailure::new(
        StatesError::TaskFailed.name(),
        sorted_keys(d).to_string(),
    ))
}

impl TaskHandler for StatesTasks {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        self.start(request).boxed()
    }
}
