//! What an order costs on AWS (`orderflow cost`), from real local executions. Each event file
//! is run through the order workflow (functions in process, services in an in-memory store)
//! and through the reference design (`--reference`, its Tasks answered by the stand-ins); the
//! billable units are counted from each execution's history, priced with the table in
//! `prices.json` (or `--prices`), and printed per order and per million orders, for the
//! workflow deployed as STANDARD, as EXPRESS, and as the template deploys it: the Standard
//! entry (`statemachine/order.asl.json`) with processing nested as Express executions.
//!
//! How the units are counted, after the AWS pricing pages:
//! - Standard state transitions: one per state entered ("each step of your workflow"), the
//!   states inside an inline Map's iterations and a Parallel's branches included, plus one
//!   per retry (each retry "is charged as an additional state transition"), plus one per
//!   child execution a Distributed Map starts.
//! - Express: one request per execution, and one per child execution of a Distributed Map;
//!   duration rounded up to 100 ms times memory in 64 MB chunks, the memory estimated as the
//!   pricing page does (50 MB + definition size + largest state data × Parallel/Map steps).
//!   The duration is the local execution's measured wall time, so it is a lower bound: on AWS
//!   every Task adds a network round trip. A Distributed Map's Express children are billed
//!   the same way in both workflow types (100 ms, 64 MB each: their floor).
//! - Lambda: one request per `lambda:invoke` scheduled (retries included), and GB-seconds at
//!   the function's memory size from the template, for `--lambda-ms` per invocation (default
//!   1 ms, the billing increment: the functions answer well within it, see the start-up bench).
//! - DynamoDB on demand: a `putItem` costs one write unit per started KB of the item, computed
//!   with DynamoDB's item-size rules; reads one unit per started 4 KB (strongly consistent).
//!   The charge ledger the payment function keeps (one consistent read, one conditional put per
//!   charge) is not in the workflow's history, so it is read back from the store.
//! - SNS: one publish request per started 64 KB of message.
//! - CloudWatch Logs: each history event the state machine's log level selects (Step
//!   Functions developer guide, "Log levels") is delivered as one log event, billed by the
//!   gigabyte ingested at the vended-logs rate; its size is the JSON Step Functions writes
//!   (`id`, `type`, `details`, `previous_event_id`, `event_timestamp`, `execution_arn`,
//!   `redrive_count`) with the execution data left out (`includeExecutionData: false`: no
//!   input, output, parameters, error or cause), plus the 26 bytes CloudWatch Logs counts per
//!   event. The template logs at ERROR; what ALL would cost is printed beside it.
//! - The Standard entry: its own states as Standard transitions (one Task on success, three
//!   when processing fails); each nested processing execution as an Express execution, with
//!   the Lambda, DynamoDB and SNS units its history shows.

use std::path::PathBuf;
use std::time::Instant;

use crate::standins::stand_ins;
use crate::workflow::{DEFINITION, ENTRY_DEFINITION, Workflow, WorkflowError};
use aws_emulator::Store;
use serde::Deserialize;
use serde_json::{Map, Value};
use sfn_local::{EventDetails, ExecuteOptions, HistoryEvent, StateMachine, StateType};

/// The price table, built in; `--prices` reads an updated copy.
/// Why an estimate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// A file named on the command line cannot be read.
    #[error("reading the {what} {}: {source}", path.display())]
    Read {
        /// What the file was to be: an event file, a definition, a price table.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file or the built-in data is not the JSON it should be.
    #[error("{what} is not valid: {source}")]
    Json {
        /// What was read.
        what: String,
        /// The parser's reason.
        source: serde_json::Error,
    },
    /// The template the functions' settings are read from.
    #[error("infra/template.yaml: {0}")]
    Template(String),
    /// The reference definition does not load.
    #[error("{}: {source}", path.display())]
    Definition {
        /// The file.
        path: PathBuf,
        /// The engine's reason.
        source: sfn_local::Error,
    },
    /// The stand-ins could not be registered.
    #[error("registering the stand-ins: {0}")]
    Handlers(sfn_local::Error),
    /// The workflow cannot be built or run.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// The in-memory store failed.
    #[error(transparent)]
    Store(#[from] aws_emulator::StoreError),
}

fn read(what: &'static str, path: &std::path::Path) -> Result<String, CostError> {
    std::fs::read_to_string(path).map_err(|source| CostError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

const PRICES: &str = include_str!("prices.json");
/// The functions' memory sizes and architectures come from the synthesized template.
const TEMPLATE: &str = include_str!("../../../infra/template.yaml");
/// The order used when no event file is given.
const ORDER: &str = include_str!("../../../events/order.json");
/// The reference design's function settings: built in the console, which defaults to 128 MB
/// on x86_64, and its definition names no other.
const REFERENCE_MEMORY_MB: f64 = 128.0;
const REFERENCE_ARCH: &str = "x86_64";

/// What to price: the orders, the designs, the price table and the billed durations.
#[derive(Debug, Clone)]
pub struct CostConfig {
    /// Orders to run (JSON files); none: `events/order.json`.
    pub events: Vec<PathBuf>,
    /// The reference design's definition, run with stand-in tasks for the comparison.
    pub reference: Option<PathBuf>,
    /// Another copy of the workflow definition.
    pub definition: Option<PathBuf>,
    /// Another price table (the shape of the built-in `prices.json`).
    pub prices: Option<PathBuf>,
    /// Billed duration of each of the workflow's function invocations, in milliseconds.
    pub lambda_ms: f64,
    /// Billed duration of each of the reference's function invocations, in milliseconds.
    pub reference_lambda_ms: f64,
}

#[derive(Debug, Deserialize)]
struct Prices {
    region: String,
    as_of: String,
    step_functions: StepFunctionsPrices,
    lambda: LambdaPrices,
    dynamodb: DynamoDbPrices,
    sns: SnsPrices,
    cloudwatch_logs: LogsPrices,
}

#[derive(Debug, Deserialize)]
struct LogsPrices {
    vended_per_gb_ingested: f64,
    event_overhead_bytes: f64,
}

#[derive(Debug, Deserialize)]
struct StepFunctionsPrices {
    standard_per_state_transition: f64,
    express_per_request: f64,
    express_per_gb_second: f64,
    express_duration_increment_ms: f64,
    express_memory_increment_mb: f64,
    express_base_memory_mb: f64,
}

#[derive(Debug, Deserialize)]
struct LambdaPrices {
    per_request: f64,
    per_gb_second: ArchPrices,
    duration_increment_ms: f64,
}

#[derive(Debug, Deserialize)]
struct ArchPrices {
    arm64: f64,
    x86_64: f64,
}

#[derive(Debug, Deserialize)]
struct DynamoDbPrices {
    per_write_request_unit: f64,
    per_read_request_unit: f64,
    write_unit_bytes: f64,
    read_unit_bytes: f64,
}

#[derive(Debug, Deserialize)]
struct SnsPrices {
    per_publish_request: f64,
    request_chunk_bytes: f64,
}

/// A function's billing settings.
#[derive(Debug, Clone, PartialEq)]
struct FunctionSettings {
    name: String,
    memory_mb: f64,
    arch: String,
}

/// Billable units of a set of executions, summed.
#[derive(Debug, Default, Clone, PartialEq)]
struct Units {
    executions: f64,
    states_entered: f64,
    retries: f64,
    child_executions: f64,
    express_gb_seconds: f64,
    child_gb_seconds: f64,
    lambda_requests: f64,
    /// Lambda GB-seconds priced per architecture.
    lambda_gb_seconds_arm64: f64,
    lambda_gb_seconds_x86_64: f64,
    write_units: f64,
    read_units: f64,
    sns_requests: f64,
    /// Bytes of CloudWatch Logs ingested with the state machine logging at ALL.
    log_bytes_all: f64,
    /// The same at ERROR, the template's level.
    log_bytes_error: f64,
}

/// The history events Step Functions logs at level ERROR (its developer guide, "Log levels");
/// ALL logs every event.
const LOGGED_AT_ERROR: [&str; 22] = [
    "ExecutionAborted",
    "ExecutionFailed",
    "ExecutionTimedOut",
    "FailStateEntered",
    "LambdaFunctionFailed",
    "LambdaFunctionScheduleFailed",
    "LambdaFunctionStartFailed",
    "LambdaFunctionTimedOut",
    "MapIterationAborted",
    "MapIterationFailed",
    "MapStateAborted",
    "MapStateFailed",
    "MapRunAborted",
    "MapRunFailed",
    "ParallelStateAborted",
    "ParallelStateFailed",
    "TaskFailed",
    "TaskStartFailed",
    "TaskStateAborted",
    "TaskSubmitFailed",
    "TaskTimedOut",
    "WaitStateAborted",
];

/// The execution data `includeExecutionData: false` keeps out of a logged event's details.
const EXECUTION_DATA: [&str; 5] = ["input", "output", "parameters", "error", "cause"];

/// The bytes of the log event Step Functions writes for `event` of the execution
/// `execution_arn`, its execution data left out, plus CloudWatch Logs' per-event overhead.
fn log_event_bytes(event: &HistoryEvent, execution_arn: &str, overhead: f64) -> f64 {
    // The logged line is made of the event as AWS shows it.
    let shown = event.to_json();
    let details = shown
        .as_object()
        .and_then(|e| e.iter().find(|(k, _)| k.ends_with("EventDetails")))
        .and_then(|(_, d)| d.as_object())
        .map(|d| {
            d.iter()
                .filter(|(k, _)| !EXECUTION_DATA.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<String, Value>>()
        })
        .unwrap_or_default();
    let line = serde_json::json!({
        "id": event.id.to_string(),
        "type": event.details.event_type(),
        "details": details,
        "previous_event_id": event.previous_event_id.to_string(),
        // Milliseconds since the epoch: 13 digits for any date of this century.
        "event_timestamp": "1700000000000",
        "execution_arn": execution_arn,
        "redrive_count": "0",
    });
    line.to_string().len() as f64 + overhead
}

impl Units {
    fn transitions(&self) -> f64 {
        self.states_entered + self.retries + self.child_executions
    }
}

/// What one priced design costs per order, by deployment.
#[derive(Debug)]
struct Bill {
    standard: f64,
    express: f64,
}

/// Bytes in a gigabyte, as CloudWatch Logs bills them.
const GB: f64 = 1024.0 * 1024.0 * 1024.0;

fn bill(u: &Units, p: &Prices) -> Bill {
    let n = u.executions.max(1.0);
    let sf = &p.step_functions;
    let logs = u.log_bytes_error / GB * p.cloudwatch_logs.vended_per_gb_ingested;
    let services = logs
        + u.lambda_requests * p.lambda.per_request
        + u.lambda_gb_seconds_arm64 * p.lambda.per_gb_second.arm64
        + u.lambda_gb_seconds_x86_64 * p.lambda.per_gb_second.x86_64
        + u.write_units * p.dynamodb.per_write_request_unit
        + u.read_units * p.dynamodb.per_read_request_unit
        + u.sns_requests * p.sns.per_publish_request;
    let children =
        u.child_executions * sf.express_per_request + u.child_gb_seconds * sf.express_per_gb_second;
    let standard = u.transitions() * sf.standard_per_state_transition + children + services;
    let express = u.executions * sf.express_per_request
        + u.express_gb_seconds * sf.express_per_gb_second
        + children
        + services;
    Bill {
        standard: standard / n,
        express: express / n,
    }
}

/// The functions of the template: `FunctionName` (or the logical id) → memory, architecture.
fn template_functions(text: &str) -> Result<Vec<FunctionSettings>, CostError> {
    let template: Value = serde_saphyr::from_str(text)
        .map_err(|e| CostError::Template(format!("not valid YAML: {e}")))?;
    let globals = &template["Globals"]["Function"];
    let resources = template["Resources"]
        .as_object()
        .ok_or_else(|| CostError::Template("it has no Resources".into()))?;
    let mut functions = Vec::new();
    for (id, resource) in resources {
        let kind = resource["Type"].as_str().unwrap_or_default();
        if kind != "AWS::Serverless::Function" && kind != "AWS::Lambda::Function" {
            continue;
        }
        let properties = &resource["Properties"];
        let setting = |name: &str| {
            let own = &properties[name];
            if own.is_null() { &globals[name] } else { own }
        };
        let memory_mb = setting("MemorySize").as_f64().unwrap_or(128.0);
        let arch = setting("Architectures")[0]
            .as_str()
            .unwrap_or("x86_64")
            .to_owned();
        let name = properties["FunctionName"]
            .as_str()
            .unwrap_or(id.as_str())
            .to_owned();
        functions.push(FunctionSettings {
            name,
            memory_mb,
            arch,
        });
    }
    if functions.is_empty() {
        return Err(CostError::Template("it defines no function".into()));
    }
    Ok(functions)
}

/// The settings of the function an ARN or name designates: the template function whose name
/// it contains, else the first (the template gives all three the same settings).
fn settings_for<'a>(functions: &'a [FunctionSettings], target: &str) -> &'a FunctionSettings {
    functions
        .iter()
        .filter(|f| target.contains(&f.name))
        .max_by_key(|f| f.name.len())
        .or_else(|| functions.first())
        .unwrap_or_else(|| unreachable_settings())
}

fn unreachable_settings() -> &'static FunctionSettings {
    // `template_functions` never returns an empty list; this is the reference's default.
    static DEFAULT: std::sync::OnceLock<FunctionSettings> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(|| FunctionSettings {
        name: String::new(),
        memory_mb: REFERENCE_MEMORY_MB,
        arch: REFERENCE_ARCH.to_owned(),
    })
}

/// The size DynamoDB bills for an attribute value in its JSON form
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html>).
fn attribute_size(value: &Value) -> f64 {
    let Some((kind, inner)) = value.as_object().and_then(|m| m.iter().next()) else {
        return 0.0;
    };
    let text_len = |v: &Value| v.as_str().map_or(0, str::len) as f64;
    // A number is stored as up to 38 significant digits, two per byte, plus one byte.
    let number = |v: &Value| {
        let digits = v
            .as_str()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        (digits as f64 / 2.0).ceil() + 1.0
    };
    // Base64 text: three bytes per four characters.
    let binary = |v: &Value| (text_len(v) * 3.0 / 4.0).floor();
    let each = |v: &Value, f: &dyn Fn(&Value) -> f64| {
        v.as_array().map_or(0.0, |items| items.iter().map(f).sum())
    };
    match kind.as_str() {
        "S" => text_len(inner),
        "N" => number(inner),
        "B" => binary(inner),
        "BOOL" | "NULL" => 1.0,
        "SS" => each(inner, &text_len),
        "NS" => each(inner, &number),
        "BS" => each(inner, &binary),
        "L" => 3.0 + each(inner, &|v| 1.0 + attribute_size(v)),
        "M" => {
            3.0 + item_size(inner.as_object()) + inner.as_object().map_or(0.0, |m| m.len() as f64)
        }
        _ => 0.0,
    }
}

fn item_size(item: Option<&Map<String, Value>>) -> f64 {
    item.map_or(0.0, |m| {
        m.iter()
            .map(|(name, value)| name.len() as f64 + attribute_size(value))
            .sum()
    })
}

fn units_of(size: f64, unit: f64) -> f64 {
    (size / unit).ceil().max(1.0)
}

/// One execution's history and what it measured.
struct Measured<'a> {
    history: &'a [HistoryEvent],
    execution_arn: &'a str,
    wall_ms: f64,
    definition_bytes: usize,
    lambda_ms: f64,
}

fn count(units: &mut Units, m: &Measured<'_>, functions: &[FunctionSettings], p: &Prices) {
    let sf = &p.step_functions;
    let mut task_entered = 0.0_f64;
    let mut scheduled = 0.0_f64;
    let mut parallel_or_map = 0.0_f64;
    let mut largest_data = 0usize;
    let distributed = m
        .history
        .iter()
        .any(|e| matches!(e.details, EventDetails::MapRunStarted { .. }));
    for event in m.history {
        let kind = event.details.event_type();
        let logged = log_event_bytes(
            event,
            m.execution_arn,
            p.cloudwatch_logs.event_overhead_bytes,
        );
        units.log_bytes_all += logged;
        if LOGGED_AT_ERROR.contains(&kind.as_str()) {
            units.log_bytes_error += logged;
        }
        match &event.details {
            EventDetails::StateEntered {
                state_type, input, ..
            } => {
                units.states_entered += 1.0;
                // The input as AWS records it: JSON text.
                largest_data = largest_data.max(input.to_string().len());
                match state_type {
                    StateType::Task => task_entered += 1.0,
                    StateType::Parallel | StateType::Map => parallel_or_map += 1.0,
                    _ => {}
                }
            }
            EventDetails::MapStateStarted { length } if distributed => {
                let children = *length as f64;
                units.child_executions += children;
                let child_gb = sf.express_memory_increment_mb / 1024.0
                    * sf.express_duration_increment_ms
                    / 1000.0;
                units.child_gb_seconds += children * child_gb;
            }
            EventDetails::TaskScheduled {
                resource_type,
                resource,
                parameters,
                ..
            } => {
                scheduled += 1.0;
                task(units, resource_type, resource, parameters, m, functions, p);
            }
            EventDetails::LambdaFunctionScheduled { resource, .. } => {
                scheduled += 1.0;
                lambda(units, resource, m.lambda_ms, functions, p);
            }
            _ => {}
        }
    }
    units.executions += 1.0;
    units.retries += (scheduled - task_entered).max(0.0);
    let memory_mb = sf.express_base_memory_mb
        + (m.definition_bytes + largest_data * (parallel_or_map as usize).max(1)) as f64
            / (1024.0 * 1024.0);
    let billed_mb =
        (memory_mb / sf.express_memory_increment_mb).ceil() * sf.express_memory_increment_mb;
    let billed_ms = (m.wall_ms / sf.express_duration_increment_ms)
        .ceil()
        .max(1.0)
        * sf.express_duration_increment_ms;
    units.express_gb_seconds += billed_mb / 1024.0 * billed_ms / 1000.0;
}

fn lambda(units: &mut Units, target: &str, ms: f64, functions: &[FunctionSettings], p: &Prices) {
    let settings = settings_for(functions, target);
    let billed_ms =
        (ms / p.lambda.duration_increment_ms).ceil().max(1.0) * p.lambda.duration_increment_ms;
    let gb_seconds = settings.memory_mb / 1024.0 * billed_ms / 1000.0;
    units.lambda_requests += 1.0;
    if settings.arch == "arm64" {
        units.lambda_gb_seconds_arm64 += gb_seconds;
    } else {
        units.lambda_gb_seconds_x86_64 += gb_seconds;
    }
}

fn task(
    units: &mut Units,
    resource_type: &str,
    resource: &str,
    parameters: &Value,
    m: &Measured<'_>,
    functions: &[FunctionSettings],
    p: &Prices,
) {
    match resource_type {
        "lambda" => {
            let target = parameters["FunctionName"].as_str().unwrap_or(resource);
            lambda(units, target, m.lambda_ms, functions, p);
        }
        "dynamodb" => match resource {
            "putItem" => {
                let size = item_size(parameters["Item"].as_object());
                units.write_units += units_of(size, p.dynamodb.write_unit_bytes);
            }
            // Without the stored item's size, the smallest bill: one unit.
            "updateItem" | "deleteItem" => units.write_units += 1.0,
            "getItem" => units.read_units += 1.0,
            _ => {}
        },
        "sns" if resource == "publish" => {
            let text = |v: &Value| match v {
                Value::String(s) => s.len(),
                Value::Null => 0,
                other => other.to_string().len(),
            };
            let attributes = parameters["MessageAttributes"]
                .as_object()
                .map_or(0, |m| m.iter().map(|(k, v)| k.len() + text(v)).sum());
            let size = text(&parameters["Message"]) + text(&parameters["Subject"]) + attributes;
            units.sns_requests += units_of(size as f64, p.sns.request_chunk_bytes);
        }
        _ => {}
    }
}

fn read_orders(events: &[PathBuf]) -> Result<Vec<(String, Value)>, CostError> {
    if events.is_empty() {
        return Ok(vec![(
            "events/order.json".to_owned(),
            serde_json::from_str(ORDER).map_err(|source| CostError::Json {
                what: "the built-in sample order".into(),
                source,
            })?,
        )]);
    }
    events
        .iter()
        .map(|path| {
            let text = read("event file", path)?;
            let value = serde_json::from_str(&text).map_err(|source| CostError::Json {
                what: format!("the event file {}", path.display()),
                source,
            })?;
            Ok((path.display().to_string(), value))
        })
        .collect()
}

/// The workflow's units, and the Standard entry's: its own states (billed as Standard
/// transitions) and the nested processing executions (billed as Express).
struct Ours {
    processing: Units,
    entry: Units,
    nested: Units,
}

fn ours(
    args: &CostConfig,
    orders: &[(String, Value)],
    functions: &[FunctionSettings],
    prices: &Prices,
) -> Result<Ours, CostError> {
    let definition = match &args.definition {
        Some(path) => read("definition", path)?,
        None => DEFINITION.to_owned(),
    };
    let workflow = |entry: Option<&str>| -> Result<Workflow, CostError> {
        let builder = Workflow::builder(Store::in_memory()?).definition(&definition);
        let builder = match entry {
            Some(entry) => builder.entry(entry),
            None => builder,
        };
        Ok(futures::executor::block_on(builder.build())?)
    };
    let measure = |flow: &Workflow, own: &mut Units, nested: &mut Units| -> Result<(), CostError> {
        for (i, (_, order)) in orders.iter().enumerate() {
            let started = Instant::now();
            let name = format!("cost-{i}");
            let run = futures::executor::block_on(flow.run(order.clone(), &name, i as u64))?;
            let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
            let measured = |history, execution_arn| Measured {
                history,
                execution_arn,
                wall_ms,
                definition_bytes: definition.len(),
                lambda_ms: args.lambda_ms,
            };
            count(
                own,
                &measured(&run.history, &run.execution_arn),
                functions,
                prices,
            );
            for child in &run.nested {
                count(
                    nested,
                    &measured(&child.history, &child.execution_arn),
                    functions,
                    prices,
                );
            }
        }
        Ok(())
    };
    let (mut processing, mut entry, mut nested) = Default::default();
    let direct = workflow(None)?;
    measure(&direct, &mut processing, &mut Units::default())?;
    ledger_units(&direct, &mut processing, prices)?;
    let through_entry = workflow(Some(ENTRY_DEFINITION))?;
    measure(&through_entry, &mut entry, &mut nested)?;
    ledger_units(&through_entry, &mut nested, prices)?;
    Ok(Ours {
        processing,
        entry,
        nested,
    })
}

/// The charge ledger the payment function keeps is not in the workflow's history: its items
/// are read back from the store (one consistent read and one conditional put per charge).
fn ledger_units(flow: &Workflow, units: &mut Units, prices: &Prices) -> Result<(), CostError> {
    for charge in flow.store().charges()? {
        let size = "OrderId".len()
            + charge.order_id.len()
            + "record".len()
            + charge.record.to_string().len();
        units.write_units += units_of(size as f64, prices.dynamodb.write_unit_bytes);
        units.read_units += units_of(size as f64, prices.dynamodb.read_unit_bytes);
    }
    Ok(())
}

/// Per order, the Standard entry with processing nested as Express: the entry's transitions
/// at the Standard price, and each nested execution as an Express execution.
fn entry_bill(ours: &Ours, p: &Prices) -> f64 {
    let entry = (ours.entry.transitions() * p.step_functions.standard_per_state_transition
        + ours.entry.log_bytes_error / GB * p.cloudwatch_logs.vended_per_gb_ingested)
        / ours.entry.executions.max(1.0);
    let nested_per_execution = bill(&ours.nested, p).express;
    let nested_per_order = ours.nested.executions / ours.entry.executions.max(1.0);
    entry + nested_per_execution * nested_per_order
}

fn reference(
    path: &std::path::Path,
    lambda_ms: f64,
    orders: &[(String, Value)],
    prices: &Prices,
) -> Result<Units, CostError> {
    let text = read("reference definition", path)?;
    // Its account and region placeholders, as DefinitionSubstitutions would fill them.
    let text = text
        .replace("{region}", "us-east-1")
        .replace("{account}", "123456789012");
    let machine = StateMachine::from_json(&text).map_err(|source| CostError::Definition {
        path: path.to_owned(),
        source,
    })?;
    let (handlers, _) = stand_ins().map_err(CostError::Handlers)?;
    let functions = [FunctionSettings {
        name: String::new(),
        memory_mb: REFERENCE_MEMORY_MB,
        arch: REFERENCE_ARCH.to_owned(),
    }];
    let mut units = Units::default();
    for (i, (_, order)) in orders.iter().enumerate() {
        let options = ExecuteOptions::new()
            .handlers(handlers.clone())
            .seed(i as u64)
            .name(format!("reference-{i}"));
        let started = Instant::now();
        let execution = futures::executor::block_on(machine.execute(order.clone(), &options));
        let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
        let history = execution.history;
        let arn =
            format!("arn:aws:states:us-east-1:123456789012:execution:reference:reference-{i}");
        let measured = Measured {
            history: &history,
            execution_arn: &arn,
            wall_ms,
            definition_bytes: text.len(),
            lambda_ms,
        };
        count(&mut units, &measured, &functions, prices);
    }
    Ok(units)
}

/// A report line: label, the units it shows, decimals.
type Row = (&'static str, fn(&Units) -> f64, usize);

fn per_order(total: f64, u: &Units) -> f64 {
    total / u.executions.max(1.0)
}

fn report(prices: &Prices, all: &Ours, reference: Option<&Units>, orders: usize) -> String {
    use std::fmt::Write as _;
    let ours = &all.processing;
    let mut out = String::new();
    let columns = match reference {
        Some(_) => {
            "| per order | orderflow | reference | reference / orderflow |\n|---|---:|---:|---:|\n"
        }
        None => "| per order | orderflow |\n|---|---:|\n",
    };
    let _ = writeln!(
        out,
        "Billable units per order, mean of {orders} execution(s) of each design; prices {} as of {}.\n",
        prices.region, prices.as_of
    );
    out.push_str(columns);
    let rows: [Row; 12] = [
        ("Standard state transitions", Units::transitions, 1),
        ("  of which states entered", |u| u.states_entered, 1),
        (
            "  of which Distributed Map child executions",
            |u| u.child_executions,
            1,
        ),
        (
            "Express GB-seconds (this execution)",
            |u| u.express_gb_seconds,
            5,
        ),
        (
            "Express child executions' GB-seconds",
            |u| u.child_gb_seconds,
            5,
        ),
        ("Lambda requests", |u| u.lambda_requests, 1),
        (
            "Lambda GB-seconds",
            |u| u.lambda_gb_seconds_arm64 + u.lambda_gb_seconds_x86_64,
            6,
        ),
        ("DynamoDB write request units", |u| u.write_units, 1),
        ("DynamoDB read request units", |u| u.read_units, 1),
        ("SNS publish requests", |u| u.sns_requests, 1),
        (
            "CloudWatch Logs bytes at ERROR (the template's level)",
            |u| u.log_bytes_error,
            0,
        ),
        ("CloudWatch Logs bytes at ALL", |u| u.log_bytes_all, 0),
    ];
    units_rows(&mut out, &rows, ours, reference);
    dollars(&mut out, prices, all, reference);
    out
}

/// The rows of billable units per order, beside the reference's when there is one.
fn units_rows(out: &mut String, rows: &[Row], ours: &Units, reference: Option<&Units>) {
    use std::fmt::Write as _;
    for (label, f, digits) in rows {
        let digits = *digits;
        let a = per_order(f(ours), ours);
        let _ = match reference {
            Some(r) => {
                let b = per_order(f(r), r);
                let ratio = if a > 0.0 {
                    format!("{:.2}", b / a)
                } else {
                    "-".to_owned()
                };
                writeln!(out, "| {label} | {a:.digits$} | {b:.digits$} | {ratio} |")
            }
            None => writeln!(out, "| {label} | {a:.digits$} |"),
        };
    }
}

/// Dollars per million orders for each way of deploying, beside the reference's.
fn dollars(out: &mut String, prices: &Prices, all: &Ours, reference: Option<&Units>) {
    use std::fmt::Write as _;
    let ours_bill = bill(&all.processing, prices);
    let _ = writeln!(out, "\nDollars per million orders:\n");
    match reference {
        Some(r) => {
            let theirs = bill(r, prices);
            out.push_str("| deployed as | orderflow | reference | orderflow / reference |\n|---|---:|---:|---:|\n");
            for (label, a, b) in [
                (
                    "STANDARD, processing alone",
                    ours_bill.standard,
                    theirs.standard,
                ),
                (
                    "EXPRESS, processing alone",
                    ours_bill.express,
                    theirs.express,
                ),
            ] {
                let _ = writeln!(
                    out,
                    "| {label} | ${:.2} | ${:.2} | {:.3} (1/{:.1}) |",
                    a * 1e6,
                    b * 1e6,
                    a / b,
                    b / a
                );
            }
            let _ = writeln!(
                out,
                "| orderflow EXPRESS vs the reference as it can be deployed (STANDARD) | ${:.2} | ${:.2} | {:.3} (1/{:.1}) |",
                ours_bill.express * 1e6,
                theirs.standard * 1e6,
                ours_bill.express / theirs.standard,
                theirs.standard / ours_bill.express
            );
            let entry = entry_bill(all, prices);
            let _ = writeln!(
                out,
                "| STANDARD entry, processing nested as EXPRESS (the template's default) | ${:.2} | ${:.2} | {:.3} (1/{:.1}) |",
                entry * 1e6,
                theirs.standard * 1e6,
                entry / theirs.standard,
                theirs.standard / entry
            );
            let _ = writeln!(out, "\n{}", entry_computation(all, prices));
            let _ = writeln!(
                out,
                "\nThe reference deployed as EXPRESS is hypothetical: Express workflows cannot run a Distributed Map, so it only deploys as STANDARD; its children are Express executions in both rows."
            );
        }
        None => {
            out.push_str("| deployed as | orderflow |\n|---|---:|\n");
            let _ = writeln!(
                out,
                "| STANDARD, processing alone | ${:.2} |",
                ours_bill.standard * 1e6
            );
            let _ = writeln!(
                out,
                "| EXPRESS, processing alone | ${:.2} |",
                ours_bill.express * 1e6
            );
            let _ = writeln!(
                out,
                "| STANDARD entry, processing nested as EXPRESS (the template's default) | ${:.2} |",
                entry_bill(all, prices) * 1e6
            );
            let _ = writeln!(out, "\n{}", entry_computation(all, prices));
        }
    }
}

/// How the entry's figure is made, in words and numbers.
fn entry_computation(all: &Ours, p: &Prices) -> String {
    let n = all.entry.executions.max(1.0);
    let nested = bill(&all.nested, p).express * all.nested.executions / n;
    let per_gb = p.cloudwatch_logs.vended_per_gb_ingested;
    let logs = |bytes: f64| bytes / n / GB * per_gb * 1e6;
    let at_error = logs(all.entry.log_bytes_error + all.nested.log_bytes_error);
    let at_all = logs(all.entry.log_bytes_all + all.nested.log_bytes_all);
    format!(
        "The entry's figure: {:.1} Standard transitions per order × ${} = ${:.2} per million, plus {:.1} nested Express execution(s) per order at ${:.2} per million (request, {:.5} GB-seconds, and the same Lambda, DynamoDB and SNS units as above). Logging is included at the template's level, ERROR, for both state machines: {:.0} bytes per order, ${:.2} per million at ${per_gb} per GB ingested; at level ALL the two would ingest {:.0} bytes per order, ${:.2} per million.",
        all.entry.transitions() / n,
        p.step_functions.standard_per_state_transition,
        all.entry.transitions() / n * p.step_functions.standard_per_state_transition * 1e6,
        all.nested.executions / n,
        nested * 1e6,
        all.nested.express_gb_seconds / all.nested.executions.max(1.0),
        (all.entry.log_bytes_error + all.nested.log_bytes_error) / n,
        at_error,
        (all.entry.log_bytes_all + all.nested.log_bytes_all) / n,
        at_all,
    )
}

/// The report `orderflow cost` prints: per order and per million orders, for each way of
/// deploying the workflow, beside the reference design when `config.reference` is given.
pub fn estimate(args: &CostConfig) -> Result<String, CostError> {
    let prices_text = match &args.prices {
        Some(path) => read("price table", path)?,
        None => PRICES.to_owned(),
    };
    let prices: Prices = serde_json::from_str(&prices_text).map_err(|source| CostError::Json {
        what: "the price table (the shape of prices.json)".into(),
        source,
    })?;
    let functions = template_functions(TEMPLATE)?;
    let orders = read_orders(&args.events)?;
    let ours = ours(args, &orders, &functions, &prices)?;
    let reference = args
        .reference
        .as_ref()
        .map(|path| reference(path, args.reference_lambda_ms, &orders, &prices))
        .transpose()?;
    Ok(report(&prices, &ours, reference.as_ref(), orders.len()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn size(attribute: Value, expected: f64) {
        assert_eq!(attribute_size(&attribute), expected, "{attribute}");
    }

    #[test]
    fn dynamodb_item_sizes() {
        size(json!({"S": "abc"}), 3.0);
        size(json!({"N": "124.97"}), 4.0);
        size(json!({"BOOL": true}), 1.0);
        size(json!({"L": [{"S": "a"}, {"S": "bc"}]}), 3.0 + 2.0 + 3.0);
        size(json!({"M": {"k": {"S": "v"}}}), 3.0 + 2.0 + 1.0);
        size(json!({"X": 1}), 0.0);
    }

    #[test]
    fn template_functions_have_their_memory_and_architecture() {
        let functions = template_functions(TEMPLATE).expect("the template parses");
        assert_eq!(functions.len(), 3, "{functions:?}");
        assert!(
            functions
                .iter()
                .all(|f| f.memory_mb == 128.0 && f.arch == "arm64")
        );
    }

    fn prices() -> Prices {
        serde_json::from_str(PRICES).expect("the built-in price table parses")
    }

    #[test]
    fn the_order_costs_what_its_history_shows() {
        let args = CostConfig {
            events: Vec::new(),
            reference: None,
            definition: None,
            prices: None,
            lambda_ms: 1.0,
            reference_lambda_ms: 1.0,
        };
        let p = prices();
        let functions = template_functions(TEMPLATE).expect("the template parses");
        let orders = read_orders(&[]).expect("the built-in order");
        let all = ours(&args, &orders, &functions, &p).expect("the order runs");
        let u = &all.processing;
        assert_eq!(u.executions, 1.0);
        assert_eq!(u.lambda_requests, 3.0, "verify, check stock, charge");
        assert_eq!(u.sns_requests, 1.0);
        assert_eq!(u.retries, 0.0);
        assert_eq!(u.child_executions, 0.0, "an inline Map starts no child");
        assert!(u.states_entered >= 10.0, "{u:?}");
        assert_eq!(
            u.write_units, 3.0,
            "the order record, its notified mark and the ledger entry"
        );
        assert_eq!(u.read_units, 2.0, "the look-up and the ledger's read");
        let b = bill(u, &p);
        assert!(b.express < b.standard, "{b:?}");

        // Through the Standard entry: one Standard transition (its Task), and processing
        // as one nested Express execution with the same service units.
        assert_eq!(all.entry.executions, 1.0);
        assert_eq!(all.entry.transitions(), 1.0, "{:?}", all.entry);
        assert_eq!(
            all.entry.lambda_requests, 0.0,
            "the entry calls no function itself"
        );
        assert_eq!(all.nested.executions, 1.0);
        assert_eq!(all.nested.states_entered, u.states_entered);
        assert_eq!(all.nested.lambda_requests, u.lambda_requests);
        assert_eq!(all.nested.write_units, u.write_units);
        let entry = entry_bill(&all, &p);
        let transition = p.step_functions.standard_per_state_transition;
        assert!(
            (entry - (transition + bill(&all.nested, &p).express)).abs() < 1e-12,
            "{entry}"
        );
        assert!(entry < b.standard / 10.0, "{entry} vs {b:?}");

        // A processed order logs nothing at ERROR; at ALL each state's two to four events are
        // log lines of a few hundred bytes each, none carrying the order.
        assert_eq!(u.log_bytes_error, 0.0, "{u:?}");
        assert_eq!(all.entry.log_bytes_error, 0.0);
        let per_state = u.log_bytes_all / u.states_entered;
        assert!((400.0..2000.0).contains(&per_state), "{per_state}");
    }

    #[test]
    fn logged_events_leave_the_execution_data_out() {
        let event = HistoryEvent::from_json(
            &json!({"id": 3, "previousEventId": 2, "type": "TaskScheduled",
            "timestamp": "2026-11-24T00:00:00.000Z",
            "taskScheduledEventDetails": {"resource": "invoke", "resourceType": "lambda",
                "region": "us-east-1", "parameters": "{\"cardNumber\":\"5555555555554444\"}"}}),
        )
        .expect("an event");
        let bytes = log_event_bytes(&event, "arn:aws:states:us-east-1:1:execution:m:n", 26.0);
        let without_overhead = bytes - 26.0;
        let line = json!({"id": "3", "type": "TaskScheduled",
            "details": {"resource": "invoke", "resourceType": "lambda", "region": "us-east-1"},
            "previous_event_id": "2", "event_timestamp": "1700000000000",
            "execution_arn": "arn:aws:states:us-east-1:1:execution:m:n", "redrive_count": "0"});
        assert_eq!(without_overhead, line.to_string().len() as f64);
    }

    #[test]
    fn a_rejected_order_logs_its_failure_at_error() {
        let args = CostConfig {
            events: vec![PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../events/workflow/out-of-stock.json"
            ))],
            reference: None,
            definition: None,
            prices: None,
            lambda_ms: 1.0,
            reference_lambda_ms: 1.0,
        };
        let p = prices();
        let functions = template_functions(TEMPLATE).expect("the template parses");
        let orders = read_orders(&args.events).expect("the order");
        let all = ours(&args, &orders, &functions, &p).expect("the order runs");
        // The Map's failure and the execution's, and the entry's own.
        assert!(all.processing.log_bytes_error > 0.0);
        assert!(all.processing.log_bytes_error < all.processing.log_bytes_all / 3.0);
        assert!(all.entry.log_bytes_error > 0.0);
    }

    #[test]
    fn a_distributed_map_bills_one_transition_and_one_express_execution_per_item() {
        let history: Vec<HistoryEvent> = [
            json!({"id": 1, "previousEventId": 0, "type": "MapStateEntered", "timestamp": "2024-01-01T00:00:00Z",
                   "stateEnteredEventDetails": {"name": "M", "input": "{}"}}),
            json!({"id": 2, "previousEventId": 1, "type": "MapStateStarted", "timestamp": "2024-01-01T00:00:00Z",
                   "mapStateStartedEventDetails": {"length": 3}}),
            json!({"id": 3, "previousEventId": 2, "type": "MapRunStarted", "timestamp": "2024-01-01T00:00:00Z",
                   "mapRunStartedEventDetails": {"mapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:m/r:1"}}),
        ]
        .iter()
        .map(|e| HistoryEvent::from_json(e).expect("an event"))
        .collect();
        let measured = Measured {
            history: &history,
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:m:n",
            wall_ms: 1.0,
            definition_bytes: 100,
            lambda_ms: 1.0,
        };
        let mut u = Units::default();
        count(&mut u, &measured, &[], &prices());
        assert_eq!(u.transitions(), 4.0);
        assert_eq!(u.child_executions, 3.0);
        assert!((u.child_gb_seconds - 3.0 * 0.0625 * 0.1).abs() < 1e-12);
        assert!((u.express_gb_seconds - 0.0625 * 0.1).abs() < 1e-12);
    }
}
