//! `orderflow cost`: counts an order's billable AWS units and prices them per million orders
//! (the model is `order_workflow::cost`).

use std::path::PathBuf;
use std::process::ExitCode;

use order_workflow::cost::{CostConfig, estimate};

/// `orderflow cost`'s arguments.
#[derive(clap::Args)]
pub struct CostArgs {
    /// Orders to run (JSON files); default: events/order.json.
    events: Vec<PathBuf>,
    /// The reference design's definition, run with stand-in tasks for the comparison.
    #[arg(long, value_name = "FILE")]
    reference: Option<PathBuf>,
    /// Another copy of the workflow definition.
    #[arg(long, value_name = "FILE")]
    definition: Option<PathBuf>,
    /// Another price table (the shape of the built-in prices.json).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// Billed duration of each of the workflow's function invocations, in milliseconds.
    #[arg(long, default_value_t = 1.0, value_name = "MS")]
    lambda_ms: f64,
    /// Billed duration of each of the reference's function invocations, in milliseconds.
    #[arg(long, default_value_t = 1.0, value_name = "MS")]
    reference_lambda_ms: f64,
}

/// Prints the estimate.
pub fn run(args: CostArgs) -> anyhow::Result<ExitCode> {
    let config = CostConfig {
        events: args.events,
        reference: args.reference,
        definition: args.definition,
        prices: args.prices,
        lambda_ms: args.lambda_ms,
        reference_lambda_ms: args.reference_lambda_ms,
    };
    print!("{}", estimate(&config)?);
    Ok(ExitCode::SUCCESS)
}
