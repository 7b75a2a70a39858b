//! `orderflow exec`: one execution of a definition, virtual time, result + history; its
//! Task states answered by nothing, the benchmark stand-ins, or a declared environment
//! (`--environment`, `--case`) that answers as AWS does.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use aws_emulator::{ExecutionRecord, ExecutionStatus, Store};
use serde_json::{Map, Value, json};
use sfn_local::{
    EventDetails, ExecuteOptions, Execution, Handlers, HistoryEvent, StateMachine, Status,
    system_millis,
};

use order_workflow::standins::stand_ins;
use sfn_environment::{Bindings, Case, Environment, LocalAws};
use sfn_testing::MockConfig;

use super::BadInput;

#[derive(clap::Args)]
pub struct ExecArgs {
    /// The state machine definition (Amazon States Language, JSON).
    #[arg(long, value_name = "FILE", required_unless_present = "case")]
    definition: Option<PathBuf>,
    /// The execution input: a JSON file, or `-` for stdin (default `{}`).
    #[arg(long, value_name = "FILE|-")]
    input: Option<String>,
    /// Answer the Task states from this environment (JSON: `functions` by behaviour,
    /// `tables`, `topics`, `stateMachines`, as the conformance corpus declares them), as AWS
    /// would; `${Kind:name}` placeholders in it, the definition and the input resolve to
    /// us-east-1 and account 111111111111.
    #[arg(long, value_name = "FILE", conflicts_with = "stand_ins")]
    environment: Option<PathBuf>,
    /// Run a conformance case file: its definition, input and environment, placeholders
    /// resolved.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["definition", "input", "environment", "stand_ins"])]
    case: Option<PathBuf>,
    /// Print one JSON object (status, output, error, cause, history) instead of a table.
    #[arg(long)]
    json: bool,
    /// Run the same execution N more times after the first (without history) and report
    /// executions per second.
    #[arg(long, value_name = "N")]
    repeat: Option<u64>,
    /// Answer lambda:invoke, dynamodb:putItem and sns:publish with the benchmark stand-ins
    /// (payment verified, 5 of each item in stock, charge succeeds).
    #[arg(long)]
    stand_ins: bool,
    /// The execution's name (default: a random UUID, as AWS gives one).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Seed for States.UUID, States.MathRandom and retry jitter.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Answer Task states from a test case of this mock configuration (Step Functions
    /// Local's format: `StateMachines` → `TestCases` → state → a response of
    /// `MockedResponses`); states the test case does not mock are answered as without it.
    #[arg(
        long,
        value_name = "FILE",
        requires = "test_case",
        conflicts_with = "repeat"
    )]
    mock_config: Option<PathBuf>,
    /// The state machine of the mock configuration (default: its only one).
    #[arg(long, value_name = "NAME", requires = "mock_config")]
    state_machine: Option<String>,
    /// The test case of the mock configuration to run.
    #[arg(long, value_name = "NAME", requires = "mock_config")]
    test_case: Option<String>,
    /// The longest one execution may take in real time, in seconds. Virtual time makes waits
    /// free, so this (with AWS's 25,000-event history limit) is what bounds a run; past it
    /// the execution ends TIMED_OUT with a cause naming this limit.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    wall_clock_limit: f64,
}

pub(crate) fn read_input(arg: Option<&str>) -> anyhow::Result<Value> {
    let text = match arg {
        None => return Ok(json!({})),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the input from stdin")?;
            s
        }
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the input file {path}"))?,
    };
    serde_json::from_str(&text)
        .with_context(|| format!("the input {} is not valid JSON", arg.unwrap_or("-")))
}

/// What to run: the loaded definition, its input, the environment answering its tasks
/// (if any) and the state machine's name.
struct Prepared {
    machine: StateMachine,
    input: Value,
    local: Option<LocalAws>,
    name: String,
}

fn read_file(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("reading the {what} file {}", path.display()))
}

fn prepare(args: &ExecArgs) -> anyhow::Result<Prepared> {
    if let Some(path) = &args.case {
        let case = Case::from_json(&read_file(path, "case")?)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let machine = StateMachine::from_value(&case.definition)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let local = case
            .local()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let name = if case.name.is_empty() {
            "StateMachine".to_owned()
        } else {
            case.name.clone()
        };
        return Ok(Prepared {
            machine,
            input: case.input,
            local: Some(local),
            name,
        });
    }
    let Some(path) = &args.definition else {
        bail!("give --definition FILE or --case FILE");
    };
    let text = read_file(path, "definition")?;
    let mut input = read_input(args.input.as_deref())?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| s.split('.').next().unwrap_or(s).to_owned())
        .unwrap_or_else(|| "StateMachine".into());
    let Some(env_path) = &args.environment else {
        let machine = match StateMachine::from_json(&text) {
            Ok(m) => m,
            Err(e) => bail!("{}: {e}", path.display()),
        };
        return Ok(Prepared {
            machine,
            input,
            local: None,
            name,
        });
    };
    let declared: Value = serde_json::from_str(&read_file(env_path, "environment")?)
        .with_context(|| format!("the environment {} is not valid JSON", env_path.display()))?;
    let bindings = Bindings::canonical(&declared);
    let in_env =
        |e: sfn_environment::EnvironmentError| anyhow::anyhow!("{}: {e}", env_path.display());
    let environment =
        Environment::from_value(&bindings.resolve(&declared).map_err(in_env)?).map_err(in_env)?;
    let local = LocalAws::new(&environment, bindings.clone()).map_err(in_env)?;
    let definition: Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let in_def = |e: sfn_environment::EnvironmentError| anyhow::anyhow!("{}: {e}", path.display());
    let definition = bindings.resolve(&definition).map_err(in_def)?;
    input = bindings.resolve(&input).map_err(in_def)?;
    let machine = match StateMachine::from_value(&definition) {
        Ok(m) => m,
        Err(e) => bail!("{}: {e}", path.display()),
    };
    Ok(Prepared {
        machine,
        input,
        local: Some(local),
        name,
    })
}

/// With `--mock-config`: the handlers the execution would have, with the test case's mocked
/// states answered from the configuration.
fn mocked_handlers(args: &ExecArgs, local: Option<&LocalAws>) -> anyhow::Result<Option<Handlers>> {
    let (Some(path), Some(case)) = (&args.mock_config, &args.test_case) else {
        return Ok(None);
    };
    let config = MockConfig::from_json(&read_file(path, "mock configuration")?)
        .map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
    let mocked = config
        .test_case(args.state_machine.as_deref(), case)
        .map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
    let mut handlers = match local {
        Some(local) => local.handlers(),
        None if args.stand_ins => stand_ins()?.0,
        None => Handlers::new(),
    };
    mocked.apply(&mut handlers);
    Ok(Some(handlers))
}

/// Runs the definition; with `store` (`--store` or `ORDERFLOW_STORE` given), records the
/// execution and its history there, for `orderflow history` and `graph --execution`.
pub fn run(args: ExecArgs, store: Option<&Path>) -> anyhow::Result<ExitCode> {
    let Prepared {
        machine,
        input,
        local,
        name,
    } = prepare(&args)?;
    let handlers = if args.stand_ins {
        stand_ins()?.0
    } else {
        Handlers::new()
    };
    let Ok(wall_clock_limit) = std::time::Duration::try_from_secs_f64(args.wall_clock_limit) else {
        bail!(
            "--wall-clock-limit must be a number of seconds, 0 or more, not {}",
            args.wall_clock_limit
        );
    };
    let execution_name = args
        .name
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let store = match store {
        Some(dir) => {
            Some(Store::open(dir).with_context(|| format!("opening the store {}", dir.display()))?)
        }
        None => None,
    };
    let mut options = ExecuteOptions::new()
        .handlers(handlers)
        .virtual_start(system_millis())
        .seed(args.seed)
        .name(&execution_name)
        .state_machine_name(&name)
        .wall_clock_limit(wall_clock_limit);
    if let Some(local) = &local {
        options = local.options(options);
    }
    if let Some(handlers) = mocked_handlers(&args, local.as_ref())? {
        options = options.handlers(handlers);
    }
    let execution_arn = store.as_ref().map(|store| {
        format!(
            "arn:aws:states:{}:{}:execution:{name}:{execution_name}",
            store.region(),
            store.account_id()
        )
    });
    if let Some(arn) = &execution_arn {
        options = options.execution_arn(arn);
    }

    let execution = futures::executor::block_on(machine.execute(input.clone(), &options));
    if let (Some(store), Some(arn)) = (&store, execution_arn) {
        record(store, arn, &name, &execution_name, &input, &execution)?;
    }

    let benchmark = match args.repeat {
        None | Some(0) => None,
        Some(n) => {
            let quiet = options.clone().history(false);
            let started = Instant::now();
            for i in 0..n {
                let options = quiet.clone().seed(args.seed.wrapping_add(i + 1));
                let _ = futures::executor::block_on(machine.execute(input.clone(), &options));
            }
            let seconds = started.elapsed().as_secs_f64();
            Some(json!({
                "executions": n,
                "seconds": seconds,
                "executionsPerSecond": if seconds > 0.0 { n as f64 / seconds } else { 0.0 },
            }))
        }
    };

    if args.json {
        let mut out = match execution.result_json() {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        out.insert(
            "history".into(),
            Value::Array(
                execution
                    .history
                    .iter()
                    .map(HistoryEvent::to_json)
                    .collect(),
            ),
        );
        if let Some(b) = benchmark {
            out.insert("benchmark".into(), b);
        }
        println!("{}", Value::Object(out));
    } else {
        print_table(&execution);
        if let Some(b) = benchmark {
            println!(
                "\nbenchmark: {} executions in {:.3} s = {:.0} executions/s",
                b["executions"],
                b["seconds"].as_f64().unwrap_or(0.0),
                b["executionsPerSecond"].as_f64().unwrap_or(0.0)
            );
        }
    }
    Ok(if execution.status == Status::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn record(
    store: &Store,
    execution_arn: String,
    state_machine_name: &str,
    name: &str,
    input: &Value,
    execution: &Execution,
) -> anyhow::Result<()> {
    let time = |millis: i64| {
        SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
    };
    let record = ExecutionRecord {
        execution_arn,
        state_machine_name: state_machine_name.to_owned(),
        name: name.to_owned(),
        status: match execution.status {
            Status::Succeeded => ExecutionStatus::Succeeded,
            Status::Failed => ExecutionStatus::Failed,
            Status::TimedOut => ExecutionStatus::TimedOut,
        },
        start_date: time(execution.start_millis),
        stop_date: Some(time(execution.stop_millis)),
        input: input.clone(),
        output: execution.output.clone(),
        error: execution.error.clone(),
        cause: execution.cause.clone(),
    };
    let history: Vec<Value> = execution
        .history
        .iter()
        .map(HistoryEvent::to_json)
        .collect();
    store.record_execution(&record, &history)?;
    Ok(())
}

/// A time on the execution's clock since it started: milliseconds under a second, seconds
/// under a minute, then hours, minutes and seconds (a one-hour Wait reads `1h00m00s`).
fn elapsed(millis: i64) -> String {
    let millis = millis.max(0);
    if millis < 1_000 {
        return format!("{millis}ms");
    }
    if millis < 60_000 {
        return format!("{}.{:03}s", millis / 1_000, millis % 1_000);
    }
    let seconds = millis / 1_000;
    let (hours, minutes, seconds) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h{minutes:02}m{seconds:02}s")
    } else {
        format!("{minutes}m{seconds:02}s")
    }
}

/// The state (or iteration) an event belongs to, for the table.
fn step(details: &EventDetails) -> String {
    match details {
        EventDetails::StateEntered { name, .. } | EventDetails::StateExited { name, .. } => {
            name.to_string()
        }
        EventDetails::MapIterationStarted { name, index }
        | EventDetails::MapIterationSucceeded { name, index }
        | EventDetails::MapIterationFailed { name, index } => format!("{name} #{index}"),
        EventDetails::TaskScheduled {
            resource_type,
            resource,
            ..
        } => format!("{resource_type}:{resource}"),
        EventDetails::LambdaFunctionScheduled { resource, .. } => resource.clone(),
        EventDetails::TaskFailed { error, .. }
        | EventDetails::TaskTimedOut { error, .. }
        | EventDetails::LambdaFunctionFailed { error, .. }
        | EventDetails::LambdaFunctionTimedOut { error, .. } => error.clone(),
        EventDetails::ExecutionFailed { error, .. } | EventDetails::MapRunFailed { error, .. } => {
            error.clone().unwrap_or_default()
        }
        _ => String::new(),
    }
}

fn print_table(execution: &Execution) {
    println!(
        "{:>4}  {:<28} {:<48} {:>12}",
        "ID", "TYPE", "STEP", "ELAPSED"
    );
    for e in &execution.history {
        println!(
            "{:>4}  {:<28} {:<48} {:>12}",
            e.id,
            e.details.event_type(),
            step(&e.details),
            elapsed(e.timestamp_millis - execution.start_millis)
        );
    }
    println!("\nstatus: {}", execution.status.as_str());
    match execution.status {
        Status::Succeeded => {
            let output = execution
                .output
                .as_ref()
                .map(|o| serde_json::to_string_pretty(o).unwrap_or_default());
            println!("output: {}", output.unwrap_or_default());
        }
        _ => {
            println!("error:  {}", execution.error.as_deref().unwrap_or("(none)"));
            println!("cause:  {}", execution.cause.as_deref().unwrap_or("(none)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::elapsed;

    #[test]
    fn elapsed_times_read_at_their_scale() {
        assert_eq!(elapsed(-5), "0ms");
        assert_eq!(elapsed(999), "999ms");
        assert_eq!(elapsed(1_000), "1.000s");
        assert_eq!(elapsed(59_999), "59.999s");
        assert_eq!(elapsed(61_000), "1m01s");
        assert_eq!(elapsed(3_600_000), "1h00m00s");
        assert_eq!(elapsed(90_061_000), "25h01m01s");
    }
}
