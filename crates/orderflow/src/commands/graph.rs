//! `orderflow graph`: the state machine drawn, with an execution's path coloured.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use order_workflow::DEFINITION;
use sfn_local::StateMachine;
use sfn_view::graph::{self, Format};

use super::{BadInput, find, open_store, typed};
/// `orderflow graph`'s arguments.
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

/// Draws the graph.
pub fn run(args: GraphArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let text = match &args.definition {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            BadInput(format!(
                "cannot read the definition {}: {e}",
                path.display()
            ))
        })?,
        None => DEFINITION.to_owned(),
    };
    let definition = StateMachine::from_json(&text)
        .map_err(|e| BadInput(format!("the definition cannot be drawn: {e}")))?;
    let path = match &args.execution {
        Some(id) => {
            let store = open_store(store)?;
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
