//! `orderflow history`: one execution's history, as the console's table view or as
//! `GetExecutionHistory` returns it.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;
use sfn_view::table;

use super::{built_in, find, open_store, typed};
/// `orderflow history`'s arguments.
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

/// Prints the history.
pub fn run(args: HistoryArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let store = open_store(store)?;
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
