//! The commands that read the embedded store: `orders`, `notifications`, `executions`,
//! `history` and `graph`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use aws_emulator::{ExecutionRecord, Store};
use serde_json::{Value, json};

use crate::run::{BadInput, message_json};
use orderflow::workflow::{self, ENTRY_STATE_MACHINE_NAME, STATE_MACHINE_NAME, TABLE_NAME};
use sfn_local::{HistoryEvent, StateMachine};
use sfn_view::graph::{self, Format};
use sfn_view::table;

#[derive(clap::Args)]
pub struct ListArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The execution: its ARN or its name.
    #[arg(value_name = "EXECUTION_ID")]
    execution: String,
    /// Print the events as `GetExecutionHistory` returns them.
    #[arg(long)]
    json: bool,
    /// Show each state's input and output under it.
    #[arg(long)]
    io: bool,
}

#[derive(clap::Args)]
pub struct GraphArgs {
    /// Colour the path this execution took (its ARN or its name).
    #[arg(long, value_name = "ID")]
    execution: Option<String>,
    /// mermaid, dot or svg.
    #[arg(long, default_value = "mermaid")]
    format: Format,
    /// Another definition to draw (default: the built-in order workflow).
    #[arg(long, value_name = "FILE")]
    definition: Option<PathBuf>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

fn open(store: &Path) -> anyhow::Result<Store> {
    Store::open(store).with_context(|| format!("opening the store {}", store.display()))
}

pub fn orders(args: ListArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let store = open(store)?;
    let items = match store.scan(TABLE_NAME) {
        Ok(items) => items,
        // No order has been run against this store yet.
        Err(e) if e.error_name() == "DynamoDB.ResourceNotFoundException" => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let mut orders = items
        .iter()
        .map(aws_emulator::unmarshal)
        .collect::<Result<Vec<_>, _>>()?;
    orders.sort_by(|a, b| text(&a["RecordedAt"]).cmp(text(&b["RecordedAt"])));
    if args.json {
        println!("{}", Value::Array(orders));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<38}  {:<20}  {:<24}  REASON",
        "ORDER ID", "STATE", "RECORDED AT"
    );
    for order in &orders {
        println!(
            "{:<38}  {:<20}  {:<24}  {}",
            text(&order["OrderId"]),
            text(&order["State"]),
            text(&order["RecordedAt"]),
            text(&order["Reason"])
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn notifications(args: ListArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let messages = open(store)?.messages()?;
    if args.json {
        println!(
            "{}",
            Value::Array(messages.iter().map(message_json).collect())
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<38}  {:<20}  MESSAGE", "MESSAGE ID", "ORDER STATE");
    for message in &messages {
        let state = message
            .attributes
            .get("orderState")
            .and_then(|a| a.string_value.as_deref())
            .unwrap_or("");
        println!(
            "{:<38}  {:<20}  {}",
            message.message_id, state, message.message
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn executions(args: ListArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let executions = open(store)?.list_executions()?;
    if args.json {
        let list: Vec<Value> = executions.iter().map(execution_json).collect();
        println!("{}", Value::Array(list));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<38}  {:<16}  {:<10}  {:<24}  ERROR",
        "NAME", "STATE MACHINE", "STATUS", "STARTED"
    );
    for e in &executions {
        println!(
            "{:<38}  {:<16}  {:<10}  {:<24}  {}",
            e.name,
            e.state_machine_name,
            e.status.as_str(),
            sfn_local::timestamp::format_millis(millis(e.start_date)),
            e.error.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn execution_json(e: &ExecutionRecord) -> Value {
    json!({
        "executionArn": e.execution_arn,
        "name": e.name,
        "stateMachineName": e.state_machine_name,
        "status": e.status.as_str(),
        "startDate": sfn_local::timestamp::format_millis(millis(e.start_date)),
        "stopDate": e.stop_date.map(|d| sfn_local::timestamp::format_millis(millis(d))),
        "error": e.error,
        "cause": e.cause,
    })
}

fn millis(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The execution named by an ARN, or by a bare name only one execution has. Executions of
/// different state machines may share a name (the entry starts its processing under its own
/// name), so a name several have is refused with their ARNs rather than one picked.
fn find(store: &Store, id: &str) -> anyhow::Result<ExecutionRecord> {
    let found = if id.starts_with("arn:") {
        store.get_execution(id)?
    } else {
        let mut named: Vec<ExecutionRecord> = store
            .list_executions()?
            .into_iter()
            .filter(|record| record.name == id)
            .collect();
        if named.len() > 1 {
            let arns: Vec<&str> = named.iter().map(|r| r.execution_arn.as_str()).collect();
            return Err(BadInput(format!(
                "{} executions are named {id}; give one's ARN: {}",
                named.len(),
                arns.join(", ")
            ))
            .into());
        }
        named.pop()
    };
    found.ok_or_else(|| {
        BadInput(format!(
            "no execution {id} in the store (see `orderflow executions`)"
        ))
        .into()
    })
}

pub fn history(args: HistoryArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let store = open(store)?;
    let record = find(&store, &args.execution)?;
    let events = store.execution_history(&record.execution_arn)?;
    if args.json {
        println!("{}", json!({"events": events}));
    } else {
        println!("execution    {}", record.execution_arn);
        println!("status       {}", record.status.as_str());
        println!();
        let definition = built_in(&record.state_machine_name);
        println!(
            "{}",
            table::table(&table::rows(&typed(&events)?, definition.as_ref()), args.io)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn graph(args: GraphArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let text = match &args.definition {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            BadInput(format!(
                "cannot read the definition {}: {e}",
                path.display()
            ))
        })?,
        None => workflow::DEFINITION.to_owned(),
    };
    let definition = StateMachine::from_json(&text)
        .map_err(|e| BadInput(format!("the definition cannot be drawn: {e}")))?;
    let path = match &args.execution {
        Some(id) => {
            let store = open(store)?;
            let record = find(&store, id)?;
            Some(graph::path_from_history(&typed(
                &store.execution_history(&record.execution_arn)?,
            )?))
        }
        None => None,
    };
    let picture = graph::render(&definition, path.as_ref(), args.format);
    match &args.output {
        Some(file) => {
            std::fs::write(file, picture).with_context(|| format!("writing {}", file.display()))?
        }
        None => println!("{picture}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A stored history read back into its typed events.
pub(crate) fn typed(events: &[Value]) -> anyhow::Result<Vec<HistoryEvent>> {
    events
        .iter()
        .map(|e| HistoryEvent::from_json(e).context("reading a stored history"))
        .collect()
}

/// The definition of a state machine this program runs, by its local name.
fn built_in(state_machine: &str) -> Option<StateMachine> {
    let text = match state_machine {
        STATE_MACHINE_NAME => workflow::DEFINITION,
        ENTRY_STATE_MACHINE_NAME => workflow::ENTRY_DEFINITION,
        _ => return None,
    };
    StateMachine::from_json(text).ok()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}
