//! One module per command. What several commands share is here: reading the store, finding an
//! execution, the input errors that exit 2.

use std::path::Path;

use anyhow::Context as _;
use aws_emulator::{ExecutionRecord, Store, StoredMessage};
use order_workflow::{DEFINITION, ENTRY_DEFINITION, ENTRY_STATE_MACHINE_NAME, STATE_MACHINE_NAME};
use serde_json::{Value, json};
use sfn_local::{HistoryEvent, MAX_PAYLOAD_BYTES, StateMachine};

pub mod bench_protocol;
pub mod cost;
pub mod exec;
pub mod executions;
pub mod graph;
pub mod history;
pub mod load;
pub mod notifications;
pub mod orders;
pub mod run;
pub mod serve;
pub mod test;
pub mod test_state;

/// The arguments of the commands that list what the store holds.
#[derive(clap::Args)]
pub struct ListArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// An input error: the event cannot be read or is not JSON, which exits 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Reads an event file as JSON within the Step Functions payload limit.
pub fn read_event(path: &Path) -> Result<Value, BadInput> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        BadInput(format!(
            "cannot read the event file {}: {e}",
            path.display()
        ))
    })?;
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(BadInput(format!(
            "the event file {} is {} bytes, over the {MAX_PAYLOAD_BYTES}-byte Step Functions input limit",
            path.display(),
            text.len()
        )));
    }
    serde_json::from_str(&text).map_err(|e| {
        BadInput(format!(
            "the event file {} is not valid JSON: {e}",
            path.display()
        ))
    })
}

pub(crate) fn open_store(store: &Path) -> anyhow::Result<Store> {
    Store::open(store).with_context(|| format!("opening the store {}", store.display()))
}

/// The execution named by an ARN, or by a bare name only one execution has. Executions of
/// different state machines may share a name (the entry starts its processing under its own
/// name), so a name several have is refused with their ARNs rather than one picked.
pub(crate) fn find(store: &Store, id: &str) -> anyhow::Result<ExecutionRecord> {
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

/// A stored history read back into its typed events.
pub(crate) fn typed(events: &[Value]) -> anyhow::Result<Vec<HistoryEvent>> {
    events
        .iter()
        .map(|e| HistoryEvent::from_json(e).context("reading a stored history"))
        .collect()
}

/// The definition of a state machine this program runs, by its local name.
pub(crate) fn built_in(state_machine: &str) -> Option<StateMachine> {
    let text = match state_machine {
        STATE_MACHINE_NAME => DEFINITION,
        ENTRY_STATE_MACHINE_NAME => ENTRY_DEFINITION,
        _ => return None,
    };
    StateMachine::from_json(text).ok()
}

/// A message as JSON: its body parsed when it is JSON, and its attributes.
pub(crate) fn message_json(message: &StoredMessage) -> Value {
    let body = serde_json::from_str::<Value>(&message.message)
        .unwrap_or_else(|_| Value::String(message.message.clone()));
    let attributes: serde_json::Map<String, Value> = message
        .attributes
        .iter()
        .map(|(name, a)| {
            (
                name.clone(),
                json!({"DataType": a.data_type, "StringValue": a.string_value}),
            )
        })
        .collect();
    json!({"messageId": message.message_id, "topicArn": message.topic_arn, "message": body, "attributes": attributes})
}

pub(crate) fn millis(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}
