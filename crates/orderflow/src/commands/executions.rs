//! `orderflow executions`: the recorded executions.

use std::path::Path;
use std::process::ExitCode;

use aws_emulator::ExecutionRecord;
use serde_json::{Value, json};

use super::{ListArgs, millis, open_store};
/// Lists the recorded executions.
pub fn run(args: ListArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let executions = open_store(store)?.list_executions()?;
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
