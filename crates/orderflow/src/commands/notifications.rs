//! `orderflow notifications`: the published notifications.

use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

use super::{ListArgs, message_json, open_store};
/// Lists the published notifications.
pub fn run(args: ListArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let messages = open_store(store)?.messages()?;
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
