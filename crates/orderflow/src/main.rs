//! `orderflow`: run the order workflow and any other Step Functions definition locally.

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

// The engine allocates many small JSON values per execution; mimalloc serves them
// markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;

use commands::{
    ListArgs, bench_protocol, cost, exec, executions, graph, history, load, notifications, orders,
    run, serve, test, test_state,
};

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
    /// Run one state of a definition once, as Step Functions' TestState API does, and print
    /// its answer (status, output or error, next state, inspection stages).
    TestState(test_state::TestStateArgs),
    /// Run the test cases of test files (a definition, mocked responses in Step Functions
    /// Local's format, what each case expects) in parallel; exits 1 when one fails.
    Test(test::TestArgs),
    /// Process an order through the order workflow and show every state it passed through.
    Run(run::RunArgs),
    /// List the order records.
    Orders(ListArgs),
    /// List the published notifications.
    Notifications(ListArgs),
    /// List the executions.
    Executions(ListArgs),
    /// Show an execution's history.
    History(history::HistoryArgs),
    /// Draw the state machine, with an execution's path coloured.
    Graph(graph::GraphArgs),
    /// Count an order's billable AWS units and price them per million orders.
    Cost(cost::CostArgs),
    /// Run many orders through the workflow, with injected faults, and check that none was
    /// lost or charged twice.
    Load(load::LoadArgs),
    /// Serve the Step Functions API on loopback, for the AWS CLI and SDKs, with the order
    /// workflow's state machines created.
    Serve(serve::ServeArgs),
    /// Run the bench-peers protocol in-process and print one protocol record.
    #[command(hide = true)]
    BenchProtocol(bench_protocol::BenchArgs),
}

/// Exit codes: 0 succeeded; 1 the execution ended otherwise (for `load`, an invariant was
/// broken); 2 the input or the usage was wrong; 3 the environment failed: the store cannot be
/// opened, read or written, or an endpoint cannot be reached or answered with an error.
fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, store_given(&matches))));
    let (cli, store_given) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Printing help or the usage error can only fail on a closed stream.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let outcome = match cli.command {
        Command::Exec(args) => exec::run(args, store_given.then_some(cli.store.as_path())),
        Command::TestState(args) => test_state::run(args),
        Command::Test(args) => test::run(args),
        Command::BenchProtocol(args) => bench_protocol::run(args),
        Command::Cost(args) => cost::run(args),
        Command::Run(args) => run::run(args, &cli.store),
        Command::Load(args) => load::run(args, &cli.store, store_given),
        Command::Orders(args) => orders::run(args, &cli.store),
        Command::Notifications(args) => notifications::run(args, &cli.store),
        Command::Executions(args) => executions::run(args, &cli.store),
        Command::History(args) => history::run(args, &cli.store),
        Command::Graph(args) => graph::run(args, &cli.store),
        Command::Serve(args) => serve::run(args, &cli.store),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("orderflow: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 3 when anything in the error's chain is the environment failing, else 2 (see `main`).
fn exit_code(error: &anyhow::Error) -> u8 {
    if error.chain().any(is_environment) {
        3
    } else {
        2
    }
}

/// Whether `cause` is the store or an endpoint failing rather than the input being wrong.
/// The libraries' errors are transparent over the store's and the SDK's, so they are looked
/// into.
fn is_environment(cause: &(dyn std::error::Error + 'static)) -> bool {
    use aws_emulator::StoreError;
    use order_workflow::loadtest::LoadError;
    use order_workflow::workflow::WorkflowError;
    if let Some(store) = cause.downcast_ref::<StoreError>() {
        return matches!(
            store,
            StoreError::CreateDir { .. }
                | StoreError::Open { .. }
                | StoreError::SchemaTooNew { .. }
                | StoreError::Busy { .. }
                | StoreError::Database { .. }
                | StoreError::Corrupt { .. }
        );
    }
    // A port taken or a listener failing; a non-loopback address is a usage error.
    if let Some(server) = cause.downcast_ref::<sfn_server::ServerError>() {
        return !matches!(server, sfn_server::ServerError::NotLoopback { .. });
    }
    if let Some(endpoint) = cause.downcast_ref::<sfn_aws::Error>() {
        return matches!(
            endpoint,
            sfn_aws::Error::Transport { .. }
                | sfn_aws::Error::Service { .. }
                | sfn_aws::Error::UnexpectedResponse { .. }
                | sfn_aws::Error::TableNotActive { .. }
        );
    }
    match cause.downcast_ref::<WorkflowError>() {
        Some(WorkflowError::Store(e)) => return is_environment(e),
        Some(WorkflowError::Endpoint(e)) => return is_environment(e),
        Some(_) => return false,
        None => {}
    }
    match cause.downcast_ref::<LoadError>() {
        Some(LoadError::Store(e)) => is_environment(e),
        Some(LoadError::Workflow(e)) => is_environment(e),
        Some(LoadError::Runtime(_)) => true,
        _ => false,
    }
}

/// Whether `--store` or `ORDERFLOW_STORE` named the store, rather than the default.
fn store_given(matches: &clap::ArgMatches) -> bool {
    let source = matches
        .subcommand()
        .and_then(|(_, sub)| sub.value_source("store"))
        .or_else(|| matches.value_source("store"));
    source.is_some_and(|s| s != ValueSource::DefaultValue)
}

/// Rust ignores SIGPIPE, so writing to a closed pipe (`orderflow history ID | head`) makes
/// `println!` panic. Like other command-line tools, the process instead ends quietly when
/// the reader has gone.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in `main`, before any other thread exists; restores the default
    // disposition of one signal, touching no memory.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
