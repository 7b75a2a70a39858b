//! Execution actions: Start, StartSync, Stop, Describe, List, GetExecutionHistory and
//! DescribeStateMachineForExecution.
//!
//! A Standard execution is recorded RUNNING when it starts, runs in the background on the
//! server's runtime and is recorded again, with its history, when it ends. An Express
//! execution is kept nowhere, as on AWS (where its history goes to CloudWatch Logs only).

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, SystemTime};

use aws_emulator::{ExecutionRecord, ExecutionStatus, StateMachineRecord};
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sfn_local::{
    Checkpoint, EventDetails, ExecuteOptions, Execution, HistoryEvent, LiveHistory, RealClock,
    Redrive, StateMachine, StatesError, Status, system_millis,
};

use sfn_testing::MockedCase;

use crate::durable::{self, Persist, Sealer};

use crate::error::ApiError;
use crate::wire::{self, Arn, Params, seconds, seconds_of_millis};
use crate::{Service, Time, machines};

/// The largest execution input AWS takes: 256 KiB.
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

/// A Standard execution running now.
pub(crate) struct Running {
    /// The input text it was started with (StartExecution is idempotent on name and input).
    input: String,
    start: SystemTime,
    task: tokio::task::AbortHandle,
    /// Its history so far.
    live: LiveHistory,
}

/// The execution's name: the one given, checked, or a new UUID as AWS gives one.
fn execution_name(p: &Params<'_>) -> Result<String, ApiError> {
    let name = match p.optional_string("name")? {
        Some(name) => name.to_owned(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    wire::check_name(&name)?;
    Ok(name)
}

/// StartExecution's input: the text and its JSON value.
fn input(p: &Params<'_>) -> Result<(String, Value), ApiError> {
    let text = p.optional_string("input")?.unwrap_or("{}");
    if text.len() > MAX_INPUT_BYTES {
        return Err(ApiError::invalid_input(format!(
            "Invalid State Machine Execution Input: the input is {} bytes, over the limit of {MAX_INPUT_BYTES}",
            text.len()
        )));
    }
    let value = serde_json::from_str(text).map_err(|e| {
        ApiError::invalid_input(format!("Invalid State Machine Execution Input: '{e}'"))
    })?;
    Ok((text.to_owned(), value))
}

fn status_of(status: Status) -> ExecutionStatus {
    match status {
        Status::Succeeded => ExecutionStatus::Succeeded,
        Status::Failed => ExecutionStatus::Failed,
        Status::TimedOut => ExecutionStatus::TimedOut,
    }
}

fn millis_of(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn system_time(millis: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// Input or output as the API gives it: JSON text.
fn text(value: &Value) -> Value {
    Value::String(value.to_string())
}

impl Service {
    fn execution_arn(&self, machine: &str, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:execution:{machine}:{name}",
            self.store.region(),
            self.store.account_id()
        )
    }

    fn express_arn(&self, machine: &str, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:express:{machine}:{name}:{}",
            self.store.region(),
            self.store.account_id(),
            uuid::Uuid::new_v4()
        )
    }

    fn options(
        &self,
        record: &StateMachineRecord,
        name: &str,
        arn: &str,
        test_case: Option<&MockedCase>,
    ) -> ExecuteOptions {
        let mut handlers = self.handlers.clone();
        // Mocked states answer at once, callbacks included: they are not wrapped to wait.
        if let Some(mocked) = test_case {
            mocked.apply(&mut handlers);
        }
        let mut options = ExecuteOptions::new()
            .handlers(handlers)
            .name(name)
            .execution_arn(arn)
            .state_machine_name(&record.name);
        if self.time == Time::Real {
            options = options.clock(self.clock());
        }
        options
    }

    /// The clock tasks are timed on: real time, or (for tests) a virtual clock.
    pub(crate) fn clock(&self) -> Arc<dyn sfn_local::Clock> {
        match self.time {
            Time::Real => {
                let sleep =
                    |d: Duration| -> BoxFuture<'static, ()> { Box::pin(tokio::time::sleep(d)) };
                Arc::new(RealClock::new(sleep))
            }
            Time::Virtual => Arc::new(sfn_local::VirtualClock::new(sfn_local::system_millis())),
        }
    }

    /// The record of an execution starting now, its input masked.
    fn started(
        &self,
        machine: &StateMachineRecord,
        name: &str,
        arn: &str,
        input: &Value,
    ) -> ExecutionRecord {
        let mut masked = input.clone();
        self.mask(&mut masked);
        ExecutionRecord {
            execution_arn: arn.to_owned(),
            state_machine_name: machine.name.clone(),
            name: name.to_owned(),
            status: ExecutionStatus::Running,
            start_date: SystemTime::now(),
            stop_date: None,
            input: masked,
            output: None,
            error: None,
            cause: None,
        }
    }

    /// History events as the API shows them, masked.
    fn masked_history(&self, events: &[HistoryEvent]) -> Vec<Value> {
        events
            .iter()
            .map(|e| {
                let mut json = e.to_json();
                self.mask(&mut json);
                json
            })
            .collect()
    }

    /// The record and history an execution that ended leaves, masked.
    fn ended(
        &self,
        started: &ExecutionRecord,
        mut execution: Execution,
    ) -> (ExecutionRecord, Vec<Value>) {
        let mut history: Vec<Value> = execution
            .history
            .iter()
            .map(HistoryEvent::to_json)
            .collect();
        history.iter_mut().for_each(|e| self.mask(e));
        if let Some(output) = execution.output.as_mut() {
            self.mask(output);
        }
        self.mask_text(&mut execution.error);
        self.mask_text(&mut execution.cause);
        let record = ExecutionRecord {
            status: status_of(execution.status),
            start_date: system_time(execution.start_millis),
            stop_date: Some(system_time(execution.stop_millis)),
            output: execution.output,
            error: execution.error,
            cause: execution.cause,
            ..started.clone()
        };
        (record, history)
    }

    /// The state machine a `stateMachineArn` names, and the test case its `#TestCase`
    /// suffix names, with fresh invocation counters for one execution.
    fn machine_and_test_case(
        &self,
        p: &Params<'_>,
    ) -> Result<(StateMachineRecord, Option<MockedCase>), ApiError> {
        let given = p.string("stateMachineArn")?;
        let Some((arn, case)) = given.split_once('#') else {
            return Ok((self.machine(given)?, None));
        };
        let Some(mocks) = &self.mocks else {
            return Err(ApiError::invalid_arn(given));
        };
        let record = self.machine(arn)?;
        // Step Functions Local's answer to an unknown test case is not documented.
        let mocked = mocks
            .test_case(Some(&record.name), case)
            .map_err(|e| ApiError::validation(e.to_string()))?;
        Ok((record, Some(mocked)))
    }

    pub(crate) fn start_execution(self: &Arc<Self>, p: &Params<'_>) -> Result<Value, ApiError> {
        let (record, test_case) = self.machine_and_test_case(p)?;
        let name = execution_name(p)?;
        let (input_text, input) = input(p)?;
        let machine = self.loaded(&record)?;
        if record.machine_type == "EXPRESS" {
            let arn = self.express_arn(&record.name, &name);
            let options = self.options(&record, &name, &arn, test_case.as_ref());
            let start = SystemTime::now();
            tokio::spawn(async move { machine.execute(input, &options).await });
            return Ok(json!({"executionArn": arn, "startDate": seconds(start)}));
        }
        let arn = self.execution_arn(&record.name, &name);
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        // Idempotent on name and input while the execution runs; refused once it has ended
        // or with another input (API reference, StartExecution).
        if let Some(run) = running.get(&arn) {
            if run.input == input_text {
                return Ok(json!({"executionArn": arn, "startDate": seconds(run.start)}));
            }
            return Err(ApiError::execution_exists(&arn));
        }
        if self.store.has_execution(&arn)? {
            return Err(ApiError::execution_exists(&arn));
        }
        let started = self.started(&record, &name, &arn, &input);
        let start = started.start_date;
        let masked = started.input.clone();
        let first = HistoryEvent {
            id: 1,
            previous_event_id: 0,
            timestamp_millis: system_millis(),
            details: EventDetails::ExecutionStarted {
                input: masked,
                role_arn: record.role_arn.clone(),
            },
        };
        self.store.record_execution(&started, &[first.to_json()])?;
        let live = LiveHistory::new();
        let mut options = self
            .options(&record, &name, &arn, test_case.as_ref())
            .live_history(live.clone());
        // A test case's execution is not kept through a crash: its mocks are not.
        if let (Some(sealer), None) = (&self.sealer, &test_case) {
            let persist = self.persist(sealer, &arn, &input, 0);
            // Sealed before StartExecution answers: an acknowledged execution is not lost.
            let first_checkpoint = Checkpoint {
                state: machine.definition().start().name().to_owned(),
                input: input.clone(),
                variables: Map::new(),
                last_event_id: 1,
            };
            persist
                .save(&first_checkpoint, &[])
                .map_err(ApiError::internal)?;
            options = options.checkpoints(persist);
        }
        let service = Arc::clone(self);
        let task = tokio::spawn(async move {
            service.run(machine, input, options, started).await;
        });
        running.insert(
            arn.clone(),
            Running {
                input: input_text,
                start,
                task: task.abort_handle(),
                live,
            },
        );
        Ok(json!({"executionArn": arn, "startDate": seconds(start)}))
    }

    fn persist(
        &self,
        sealer: &Arc<Sealer>,
        arn: &str,
        input: &Value,
        persisted: u64,
    ) -> Arc<Persist> {
        Arc::new(Persist {
            store: self.store.clone(),
            sealer: Arc::clone(sealer),
            arn: arn.to_owned(),
            input: input.clone(),
            redact: self.redact.clone(),
            persisted: AtomicU64::new(persisted),
            failed: AtomicBool::new(false),
        })
    }

    /// Continues every Standard execution the store holds RUNNING (a server stopped, or
    /// killed, while they ran) from its last checkpoint, and returns how many. One that
    /// cannot be resumed (no checkpoint, another store's key, its state machine deleted) is
    /// recorded FAILED with `States.Runtime` and a cause saying why, so that every
    /// execution ends. Without [`durable`](Service::durable) nothing is resumed.
    pub async fn resume_running(self: &Arc<Self>) -> Result<usize, ApiError> {
        let Some(sealer) = &self.sealer else {
            return Ok(0);
        };
        let mut resumed = 0;
        for record in self.store.list_executions()? {
            if record.status != ExecutionStatus::Running || self.is_running(&record.execution_arn) {
                continue;
            }
            match self.resume_one(sealer, &record) {
                Ok(()) => resumed += 1,
                Err(why) => self.fail_unresumable(&record, &why)?,
            }
        }
        Ok(resumed)
    }

    fn is_running(&self, arn: &str) -> bool {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(arn)
    }

    fn resume_one(
        self: &Arc<Self>,
        sealer: &Arc<Sealer>,
        record: &ExecutionRecord,
    ) -> Result<(), String> {
        let machine_record = self
            .machine(&self.state_machine_arn(&record.state_machine_name))
            .map_err(|_| "its state machine no longer exists".to_owned())?;
        let machine = self.loaded(&machine_record).map_err(|e| e.message)?;
        let start_millis = millis_of(record.start_date);
        // A redriven execution stays redriven: its context says so after a restart too.
        let redrive = self
            .store
            .redrive(&record.execution_arn)
            .map_err(|e| e.to_string())?
            .map(|(count, at)| Redrive {
                count,
                at_millis: millis_of(at),
                now: false,
            });
        let found = durable::resumable(
            &self.store,
            sealer,
            &record.execution_arn,
            start_millis,
            redrive,
        )?;
        let persist = self.persist(
            sealer,
            &record.execution_arn,
            &found.input,
            found.resume.checkpoint.last_event_id,
        );
        self.spawn_resumed(&machine_record, machine, record, found, persist);
        Ok(())
    }

    /// Runs a resumed or redriven execution in the background, as StartExecution runs one.
    fn spawn_resumed(
        self: &Arc<Self>,
        machine_record: &StateMachineRecord,
        machine: Arc<StateMachine>,
        record: &ExecutionRecord,
        found: durable::Resumable,
        persist: Arc<Persist>,
    ) {
        let live = LiveHistory::new();
        let options = self
            .options(machine_record, &record.name, &record.execution_arn, None)
            .live_history(live.clone())
            .checkpoints(persist)
            .resume(found.resume);
        let service = Arc::clone(self);
        let started = record.clone();
        let input = found.input;
        let input_text = input.to_string();
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let task = tokio::spawn(async move {
            service.run(machine, input, options, started).await;
        });
        running.insert(
            record.execution_arn.clone(),
            Running {
                input: input_text,
                start: record.start_date,
                task: task.abort_handle(),
                live,
            },
        );
    }

    /// Why `record` cannot be redriven now, in the words of DescribeExecution's
    /// `redriveStatusReason` (API reference, DescribeExecution and RedriveExecution:
    /// executions that did not succeed, within 14 days of their end), or `None` when it can
    /// be.
    fn not_redrivable(&self, record: &ExecutionRecord) -> Result<Option<&'static str>, ApiError> {
        const REDRIVABLE_DAYS: u64 = 14;
        let expired = record.stop_date.is_some_and(|stop| {
            SystemTime::now()
                .duration_since(stop)
                .is_ok_and(|d| d > Duration::from_secs(REDRIVABLE_DAYS * 24 * 3600))
        });
        let reason = match record.status {
            ExecutionStatus::Running => Some("Execution is RUNNING and cannot be redriven."),
            ExecutionStatus::Succeeded => Some("Execution is SUCCEEDED and cannot be redriven."),
            _ if expired => Some("Execution redrivable period exceeded."),
            // Only a durable server keeps what a redrive needs, from the moment it keeps it:
            // AWS's reason for executions from before RedriveExecution existed.
            _ if self.sealer.is_none() || !self.store.has_checkpoint(&record.execution_arn)? => {
                Some("Execution was started before the launch of RedriveExecution.")
            }
            _ => None,
        };
        Ok(reason)
    }

    /// RedriveExecution: continues a Standard execution that failed, timed out or was
    /// stopped from the top-level state where it ended (that state runs again whole: a
    /// Parallel's or Map's branches that had succeeded run again too, where AWS reruns only
    /// the failed ones), with its history kept and `ExecutionRedriven` after it.
    pub(crate) fn redrive_execution(self: &Arc<Self>, p: &Params<'_>) -> Result<Value, ApiError> {
        let arn = p.string("executionArn")?;
        let _client_token = p.optional_string("clientToken")?;
        let record = self.execution(arn)?;
        if let Some(reason) = self.not_redrivable(&record)? {
            return Err(ApiError::not_redrivable(reason));
        }
        let Some(sealer) = &self.sealer else {
            return Err(ApiError::not_redrivable(
                "Execution was started before the launch of RedriveExecution.",
            ));
        };
        let machine_record = self.machine(&self.state_machine_arn(&record.state_machine_name))?;
        let machine = self.loaded(&machine_record)?;
        let count = self
            .store
            .redrive(arn)?
            .map_or(0, |(count, _)| count)
            .saturating_add(1);
        let start_millis = millis_of(record.start_date);
        let now = SystemTime::now();
        let redrive = Redrive {
            count,
            at_millis: millis_of(now),
            now: true,
        };
        let found = durable::resumable(&self.store, sealer, arn, start_millis, Some(redrive))
            .map_err(ApiError::not_redrivable)?;
        let history = self.store.execution_history(arn)?;
        let persisted = history.len() as u64;
        let running = ExecutionRecord {
            status: ExecutionStatus::Running,
            stop_date: None,
            output: None,
            error: None,
            cause: None,
            ..record.clone()
        };
        self.store.record_redrive(arn, count, now)?;
        self.store.record_execution(&running, &history)?;
        let persist = self.persist(sealer, arn, &found.input, persisted);
        self.spawn_resumed(&machine_record, machine, &running, found, persist);
        Ok(json!({"redriveDate": seconds(now)}))
    }

    fn fail_unresumable(&self, record: &ExecutionRecord, why: &str) -> Result<(), ApiError> {
        let mut history = self.store.execution_history(&record.execution_arn)?;
        let last = history.last().and_then(|e| e["id"].as_u64()).unwrap_or(0);
        let error = StatesError::Runtime.name().to_owned();
        let cause = format!("The execution could not be resumed after the server stopped: {why}.");
        let failed = HistoryEvent {
            id: last + 1,
            previous_event_id: last,
            timestamp_millis: system_millis(),
            details: EventDetails::ExecutionFailed {
                error: Some(error.clone()),
                cause: Some(cause.clone()),
            },
        };
        history.push(failed.to_json());
        let ended = ExecutionRecord {
            status: ExecutionStatus::Failed,
            stop_date: Some(SystemTime::now()),
            error: Some(error),
            cause: Some(cause),
            ..record.clone()
        };
        self.store.record_execution(&ended, &history)?;
        Ok(())
    }

    /// Runs a Standard execution to its end and records it, unless it was stopped.
    async fn run(
        &self,
        machine: Arc<StateMachine>,
        input: Value,
        options: ExecuteOptions,
        started: ExecutionRecord,
    ) {
        let execution = machine.execute(input, &options).await;
        let (record, history) = self.ended(&started, execution);
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if running.remove(&record.execution_arn).is_some() {
            // A failing store leaves the execution RUNNING in it; nothing else can be done
            // from a background task but say so.
            if let Err(e) = self.store.record_execution(&record, &history) {
                eprintln!(
                    "sfn-server: could not record the end of {}: {e}",
                    record.execution_arn
                );
            }
        }
    }

    pub(crate) async fn start_sync_execution(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let (record, test_case) = self.machine_and_test_case(p)?;
        if record.machine_type != "EXPRESS" {
            return Err(ApiError::type_not_supported(
                "This operation is only supported by EXPRESS state machines",
            ));
        }
        let name = execution_name(p)?;
        let (_, input) = input(p)?;
        let machine = self.loaded(&record)?;
        let arn = self.express_arn(&record.name, &name);
        let options = self.options(&record, &name, &arn, test_case.as_ref());
        let started = self.started(&record, &name, &arn, &input);
        let execution = machine.execute(input, &options).await;
        let billed = u64::try_from(execution.stop_millis - execution.start_millis)
            .unwrap_or(0)
            .div_ceil(100)
            .max(1)
            * 100;
        let (ended, _) = self.ended(&started, execution);
        let mut out = json!({
            "executionArn": arn,
            "stateMachineArn": record.arn,
            "name": name,
            "startDate": seconds(ended.start_date),
            "stopDate": ended.stop_date.map(seconds),
            "status": ended.status.as_str(),
            "input": text(&ended.input),
            "inputDetails": {"included": true},
            "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed},
        });
        if let Some(output) = &ended.output {
            out["output"] = text(output);
            out["outputDetails"] = json!({"included": true});
        }
        if let Some(error) = &ended.error {
            out["error"] = json!(error);
        }
        if let Some(cause) = &ended.cause {
            out["cause"] = json!(cause);
        }
        Ok(out)
    }

    /// The recorded execution an ARN names (exactly that ARN).
    fn execution(&self, arn: &str) -> Result<ExecutionRecord, ApiError> {
        match Arn::parse(arn)?.kind {
            "execution" => {}
            "express" => return Err(ApiError::no_execution(arn)),
            _ => return Err(ApiError::invalid_arn(arn)),
        }
        self.store
            .get_execution(arn)?
            .filter(|r| r.execution_arn == arn)
            .ok_or_else(|| ApiError::no_execution(arn))
    }

    pub(crate) fn stop_execution(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let arn = p.string("executionArn")?;
        let record = self.execution(arn)?;
        let error = p.optional_string("error")?.map(str::to_owned);
        let cause = p.optional_string("cause")?.map(str::to_owned);
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(run) = running.remove(arn) else {
            // Already ended: nothing to stop.
            return Ok(json!({"stopDate": record.stop_date.map(seconds)}));
        };
        run.task.abort();
        let now = SystemTime::now();
        let recorded = run.live.snapshot();
        let mut history = if recorded.is_empty() {
            self.store.execution_history(arn)?
        } else {
            self.masked_history(&recorded)
        };
        let previous = history.len() as u64;
        let aborted = HistoryEvent {
            id: previous + 1,
            previous_event_id: previous,
            timestamp_millis: system_millis(),
            details: EventDetails::Other {
                event_type: "ExecutionAborted".into(),
                details: Some((
                    "executionAbortedEventDetails".into(),
                    json!({"error": error, "cause": cause}),
                )),
            },
        };
        history.push(aborted.to_json());
        let stopped = ExecutionRecord {
            status: ExecutionStatus::Aborted,
            stop_date: Some(now),
            error,
            cause,
            ..record
        };
        self.store.record_execution(&stopped, &history)?;
        Ok(json!({"stopDate": seconds(now)}))
    }

    fn summary(&self, record: &ExecutionRecord) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("executionArn".into(), json!(record.execution_arn));
        out.insert(
            "stateMachineArn".into(),
            json!(self.state_machine_arn(&record.state_machine_name)),
        );
        out.insert("name".into(), json!(record.name));
        out.insert("status".into(), json!(record.status.as_str()));
        out.insert("startDate".into(), seconds(record.start_date));
        if let Some(stop) = record.stop_date {
            out.insert("stopDate".into(), seconds(stop));
        }
        out.insert("redriveCount".into(), json!(0));
        out
    }

    pub(crate) fn describe_execution(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let record = self.execution(p.string("executionArn")?)?;
        let mut out = self.summary(&record);
        out.insert("input".into(), text(&record.input));
        out.insert("inputDetails".into(), json!({"included": true}));
        if let Some(output) = &record.output {
            out.insert("output".into(), text(output));
            out.insert("outputDetails".into(), json!({"included": true}));
        }
        if let Some(error) = &record.error {
            out.insert("error".into(), json!(error));
        }
        if let Some(cause) = &record.cause {
            out.insert("cause".into(), json!(cause));
        }
        if let Some((count, when)) = self.store.redrive(&record.execution_arn)? {
            out.insert("redriveCount".into(), json!(count));
            out.insert("redriveDate".into(), seconds(when));
        }
        match self.not_redrivable(&record)? {
            None => {
                out.insert("redriveStatus".into(), json!("REDRIVABLE"));
            }
            Some(reason) => {
                out.insert("redriveStatus".into(), json!("NOT_REDRIVABLE"));
                out.insert("redriveStatusReason".into(), json!(reason));
            }
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn list_executions(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let machine = self.machine(p.string("stateMachineArn")?)?;
        let filter = match p.optional_string("statusFilter")? {
            None => None,
            Some(s) => Some(s.parse::<ExecutionStatus>().map_err(|_| {
                ApiError::validation(format!(
                    "1 validation error detected: Value '{s}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"
                ))
            })?),
        };
        let (start, size) = (p.page_start()?, p.page_size()?);
        let (items, more) = self
            .store
            .list_executions_of(&machine.name, filter, start, size)?;
        let next = more.then(|| format!("page-{}", start + items.len()));
        let redrives = self.store.redrives()?;
        let listed = items.iter().map(|r| {
            let mut item = self.summary(r);
            if let Some((count, when)) = redrives.get(&r.execution_arn) {
                item.insert("redriveCount".into(), json!(count));
                item.insert("redriveDate".into(), seconds(*when));
            }
            Value::Object(item)
        });
        let mut out = Map::new();
        out.insert("executions".into(), Value::Array(listed.collect()));
        if let Some(token) = next {
            out.insert("nextToken".into(), json!(token));
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn execution_history(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let arn = p.string("executionArn")?;
        self.execution(arn)?;
        let include_data = p.flag("includeExecutionData")?.unwrap_or(true);
        let reverse = p.flag("reverseOrder")?.unwrap_or(false);
        let (start, size) = (p.page_start()?, p.page_size()?);
        let live = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(arn)
            .map(|run| run.live.snapshot())
            .filter(|events| !events.is_empty());
        // A running execution's history is read as it is being recorded.
        let mut events = match live {
            Some(events) => self.masked_history(&events),
            None => self.store.execution_history(arn)?,
        };
        if reverse {
            events.reverse();
        }
        let (page, next) = wire::page(events, start, size);
        let page = page
            .into_iter()
            .map(|e| api_event(e, include_data))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Map::new();
        out.insert("events".into(), Value::Array(page));
        if let Some(token) = next {
            out.insert("nextToken".into(), json!(token));
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn machine_for_execution(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let record = self.execution(p.string("executionArn")?)?;
        let machine = self.machine(&self.state_machine_arn(&record.state_machine_name))?;
        let mut out = machines::describe(&machine);
        if let Value::Object(m) = &mut out {
            m.remove("status");
            m.remove("type");
            m.remove("creationDate");
            m.insert(
                "updateDate".into(),
                seconds(machine.update_date.unwrap_or(machine.creation_date)),
            );
        }
        Ok(out)
    }
}

/// A stored event as GetExecutionHistory answers it: the timestamp in epoch seconds, and
/// without the execution's data when `include_data` is false.
fn api_event(mut event: Value, include_data: bool) -> Result<Value, ApiError> {
    let typed = HistoryEvent::from_json(&event).map_err(ApiError::internal)?;
    if let Value::Object(m) = &mut event {
        m.insert(
            "timestamp".into(),
            seconds_of_millis(typed.timestamp_millis),
        );
        if !include_data {
            for (key, details) in m.iter_mut() {
                if let (true, Value::Object(d)) = (key.ends_with("EventDetails"), details) {
                    for field in ["input", "output", "parameters"] {
                        d.remove(field);
                    }
                }
            }
        }
    }
    Ok(event)
}
