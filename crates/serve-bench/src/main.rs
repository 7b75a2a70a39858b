//! `serve-bench`: load on a Step Functions endpoint through the AWS SDK for Rust, so that
//! the figure is the server's and not a slow client's. `--clients K` clients run at once on
//! one thread (the other cores are left to the server); each runs executions one after the
//! other until `--n` have been measured in all.
//!
//! - `start-poll`: StartExecution, then DescribeExecution every `--poll-interval-ms` until the
//!   execution is no longer RUNNING (what a client of a Standard workflow does);
//! - `start-sync`: StartSyncExecution (an Express workflow).
//!
//! ```sh
//! serve-bench --endpoint http://127.0.0.1:8083 --engine orderflow-serve --mode start-poll \
//!     --machine arn:aws:states:us-east-1:123456789012:stateMachine:order \
//!     --input events/order.json --n 2000 --clients 8
//! ```
//!
//! It prints one JSON object in the bench-peers protocol: `n`, `total_s`, `failures` and every
//! execution's latency in milliseconds (start to the status read that ended it).

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_sdk_sfn::Client;
use aws_sdk_sfn::types::ExecutionStatus;
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};

/// Every execution of the order workflow ends in well under this on either server.
const EXECUTION_LIMIT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    StartPoll,
    StartSync,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::StartPoll => "start-poll",
            Mode::StartSync => "start-sync",
        }
    }
}

#[derive(Parser)]
#[command(
    about = "Executions/s and latency of a Step Functions endpoint, through the AWS SDK for Rust"
)]
struct Args {
    /// The endpoint, for example http://127.0.0.1:8083.
    #[arg(long)]
    endpoint: String,
    /// The engine's name in the record.
    #[arg(long)]
    engine: String,
    /// The state machine to execute.
    #[arg(long)]
    machine: String,
    /// The execution input (a JSON file).
    #[arg(long)]
    input: PathBuf,
    #[arg(long, value_enum, default_value = "start-poll")]
    mode: Mode,
    /// Executions to measure, across all clients.
    #[arg(long, default_value_t = 1000)]
    n: usize,
    /// Clients running at once.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Unmeasured executions first, one at a time.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
    /// Milliseconds between DescribeExecution calls (start-poll).
    #[arg(long, default_value_t = 1)]
    poll_interval_ms: u64,
    /// Stop measuring after this many seconds (the record says how many were measured).
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
    /// A succeeded execution's output must hold this top-level key.
    #[arg(long)]
    expect_output_key: Option<String>,
    /// Execution names begin with this (they must be unique on the server).
    #[arg(long, default_value = "bench")]
    name_prefix: String,
}

struct Bench {
    client: Client,
    machine: String,
    input: String,
    mode: Mode,
    poll: Duration,
    expect_output_key: Option<String>,
}

impl Bench {
    /// Runs one execution to its end; `Err` says why it did not succeed.
    async fn once(&self, name: String) -> anyhow::Result<()> {
        let (status, output) = match self.mode {
            Mode::StartSync => {
                let out = self
                    .client
                    .start_sync_execution()
                    .state_machine_arn(&self.machine)
                    .name(name)
                    .input(&self.input)
                    .send()
                    .await?;
                (out.status.as_str().to_owned(), out.output)
            }
            Mode::StartPoll => {
                let arn = self
                    .client
                    .start_execution()
                    .state_machine_arn(&self.machine)
                    .name(name)
                    .input(&self.input)
                    .send()
                    .await?
                    .execution_arn;
                let deadline = Instant::now() + EXECUTION_LIMIT;
                loop {
                    let described = self
                        .client
                        .describe_execution()
                        .execution_arn(&arn)
                        .send()
                        .await?;
                    if described.status != ExecutionStatus::Running {
                        break (described.status.as_str().to_owned(), described.output);
                    }
                    if Instant::now() > deadline {
                        bail!("{arn} still RUNNING after {EXECUTION_LIMIT:?}");
                    }
                    tokio::time::sleep(self.poll).await;
                }
            }
        };
        if status != "SUCCEEDED" {
            bail!("{status}");
        }
        if let Some(key) = &self.expect_output_key {
            let output: Value = serde_json::from_str(output.as_deref().unwrap_or("null"))
                .context("the output is not JSON")?;
            if output.get(key).is_none() {
                bail!("SUCCEEDED without {key} in its output");
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct Tally {
    next: usize,
    latencies_ms: Vec<f64>,
    failures: usize,
    first_failure: Option<String>,
}

async fn client_loop(
    bench: Rc<Bench>,
    tally: Rc<RefCell<Tally>>,
    n: usize,
    prefix: String,
    until: Instant,
) {
    loop {
        let i = {
            let mut t = tally.borrow_mut();
            if t.next >= n || Instant::now() > until {
                return;
            }
            t.next += 1;
            t.next - 1
        };
        let started = Instant::now();
        let result = bench.once(format!("{prefix}-{i:07}")).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut t = tally.borrow_mut();
        t.latencies_ms.push(ms);
        if let Err(e) = result {
            t.failures += 1;
            t.first_failure.get_or_insert_with(|| format!("{e:#}"));
        }
    }
}

async fn run(args: Args) -> anyhow::Result<Value> {
    if args.clients == 0 || args.n == 0 {
        bail!("--clients and --n must be at least 1");
    }
    let input = std::fs::read_to_string(&args.input)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let aws = sfn_aws::AwsClients::builder()
        .endpoint_url(&args.endpoint)
        .region("us-east-1")
        .operation_timeout(EXECUTION_LIMIT)
        .build()
        .await?;
    let config = aws_sdk_sfn::config::Builder::from(aws.sdk_config())
        .interceptor(sfn_aws::NoHostPrefix)
        .build();
    let bench = Rc::new(Bench {
        client: Client::from_conf(config),
        machine: args.machine.clone(),
        input,
        mode: args.mode,
        poll: Duration::from_millis(args.poll_interval_ms),
        expect_output_key: args.expect_output_key.clone(),
    });
    for i in 0..args.warmup {
        bench
            .once(format!("{}-warm-{i:05}", args.name_prefix))
            .await
            .context("a warm-up execution")?;
    }
    let tally = Rc::new(RefCell::new(Tally::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(args.max_seconds);
    let local = tokio::task::LocalSet::new();
    for _ in 0..args.clients {
        local.spawn_local(client_loop(
            bench.clone(),
            tally.clone(),
            args.n,
            args.name_prefix.clone(),
            until,
        ));
    }
    local.await;
    let total_s = started.elapsed().as_secs_f64();
    let tally = Rc::try_unwrap(tally)
        .map_err(|_| anyhow::anyhow!("a client outlived the run"))?
        .into_inner();
    Ok(json!({
        "engine": args.engine,
        "client": "aws-sdk-rust",
        "mode": args.mode.name(),
        "clients": args.clients,
        "warmup": args.warmup,
        "n_requested": args.n,
        "n": tally.latencies_ms.len(),
        "total_s": total_s,
        "failures": tally.failures,
        "first_failure": tally.first_failure,
        "latencies_ms": tally.latencies_ms,
    }))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // One thread for every client: the server under test keeps the machine's other cores.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let record = runtime.block_on(run(args))?;
    println!("{record}");
    Ok(())
}
