//! `orderflow`: run the order workflow and any other Step Functions definition locally.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The engine allocates many small JSON values per execution; mimalloc serves them
// markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench_protocol;
mod exec;
mod inspect;
mod run;

#[derive(Parser)]
#[command(
    name = "orderflow",
    version,
    about = "Run Step Functions state machines locally"
)]
struct Cli {
    /// The embedded store: tables, notifications and executions of local runs.
    #[arg(
        long,
        global = true,
        env = "ORDERFLOW_STORE",
        default_value = ".orderflow",
        value_name = "DIR"
    )]
    store: std::path::PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one execution of a definition with virtual time and print its result and history.
    Exec(exec::ExecArgs),
    /// Process an order through the order workflow and show every state it passed through.
    Run(run::RunArgs),
    /// List the order records.
    Orders(inspect::ListArgs),
    /// List the published notifications.
    Notifications(inspect::ListArgs),
    /// List the executions.
    Executions(inspect::ListArgs),
    /// Show an execution's history.
    History(inspect::HistoryArgs),
    /// Draw the state machine, with an execution's path coloured.
    Graph(inspect::GraphArgs),
    /// Run the bench-peers protocol in-process and print one protocol record.
    #[command(hide = true)]
    BenchProtocol(bench_protocol::BenchArgs),
}

/// Exit codes: 0 succeeded, 1 the execution ended otherwise, 2 bad input or usage.
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Printing help or the usage error can only fail on a closed stream.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let outcome = match cli.command {
        Command::Exec(args) => exec::run(args),
        Command::BenchProtocol(args) => bench_protocol::run(args),
        Command::Run(args) => run::run(args, &cli.store),
        Command::Orders(args) => inspect::orders(args, &cli.store),
        Command::Notifications(args) => inspect::notifications(args, &cli.store),
        Command::Executions(args) => inspect::executions(args, &cli.store),
        Command::History(args) => inspect::history(args, &cli.store),
        Command::Graph(args) => inspect::graph(args, &cli.store),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("orderflow: {e:#}");
            ExitCode::from(2)
        }
    }
}
