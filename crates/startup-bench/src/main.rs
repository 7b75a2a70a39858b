//! `startup-bench`: how long a Lambda function process takes from its start to its first
//! answer delivered to a local Runtime API (a cold start with a warm page cache), and how
//! long a warm invocation takes afterwards. `scripts/bench-startup` runs it on each function
//! binary and on the equivalent Python handlers under `awslambdaric`.
//!
//! ```sh
//! startup-bench --name verify-payment --program target/release/verify-payment \
//!     --event events/verify-payment/verified.json --cold 15 --warm 200
//! ```
//!
//! It prints one JSON object: the cold starts' and warm invocations' medians, p90s and
//! every sample, in milliseconds.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use lambda_runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use serde_json::{Value, json};

/// Generous: a Python process importing its runtime client on a loaded machine.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Parser)]
#[command(about = "Cold start and warm latency of a Lambda function process")]
struct Args {
    /// The function name given to the process (`AWS_LAMBDA_FUNCTION_NAME`).
    #[arg(long)]
    name: String,
    /// The program to start: a function binary, or a script with a shebang.
    #[arg(long)]
    program: PathBuf,
    /// The event every invocation receives.
    #[arg(long)]
    event: PathBuf,
    /// Cold starts to measure (after one unmeasured start that warms the page cache).
    #[arg(long, default_value_t = 15)]
    cold: usize,
    /// Warm invocations to measure, on one process, after ten unmeasured ones.
    #[arg(long, default_value_t = 200)]
    warm: usize,
    /// Extra environment for the process, `NAME=VALUE`.
    #[arg(long = "env", value_parser = parse_env)]
    env: Vec<(String, String)>,
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {text}"))
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(mut samples: Vec<f64>) -> Value {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let last = samples.len().saturating_sub(1);
        // q is in [0, 1], so the rounded rank stays within the sample.
        samples
            .get(((last as f64) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    json!({"median_ms": at(0.5), "p90_ms": at(0.9), "min_ms": at(0.0), "samples_ms": samples})
}

/// Either answer counts as delivered: the reference handlers fail at random by design.
fn delivered(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Response { .. } => "response",
        Outcome::Error(_) => "error",
    }
}

struct Bench {
    args: Args,
    event: Value,
}

impl Bench {
    fn env(&self) -> Vec<(&str, &str)> {
        self.args
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// One process start: the event is queued first, so the time runs from spawn until the
    /// answer is recorded by the Runtime API.
    async fn cold(&self) -> anyhow::Result<(f64, &'static str)> {
        let api = RuntimeApi::builder()
            .function_name(&self.args.name)
            .start()
            .await?;
        let request_id = api.enqueue_json(&self.event);
        let started = Instant::now();
        let function = FunctionProcess::spawn(&self.args.program, &api, &self.env())?;
        let outcome = api.wait_for(&request_id, TIMEOUT).await;
        let elapsed = millis(started.elapsed());
        let logs = function.stop(TIMEOUT).await?;
        api.shutdown().await;
        let outcome = outcome.with_context(|| format!("stderr: {}", logs.stderr))?;
        Ok((elapsed, delivered(&outcome)))
    }

    async fn warm(&self) -> anyhow::Result<Vec<f64>> {
        let api = RuntimeApi::builder()
            .function_name(&self.args.name)
            .start()
            .await?;
        let function = FunctionProcess::spawn(&self.args.program, &api, &self.env())?;
        let mut samples = Vec::with_capacity(self.args.warm);
        for i in 0..self.args.warm + 10 {
            let started = Instant::now();
            api.invoke(&self.event, TIMEOUT).await?;
            if i >= 10 {
                samples.push(millis(started.elapsed()));
            }
        }
        function.stop(TIMEOUT).await?;
        api.shutdown().await;
        Ok(samples)
    }
}

async fn run(args: Args) -> anyhow::Result<Value> {
    if args.cold == 0 {
        bail!("--cold must be at least 1");
    }
    let text = std::fs::read_to_string(&args.event)
        .with_context(|| format!("reading the event {}", args.event.display()))?;
    let event: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.event.display()))?;
    let bench = Bench { args, event };
    bench.cold().await?;
    let mut cold = Vec::with_capacity(bench.args.cold);
    let mut answers = Vec::with_capacity(bench.args.cold);
    for _ in 0..bench.args.cold {
        let (ms, answer) = bench.cold().await?;
        cold.push(ms);
        answers.push(answer);
    }
    let warm = bench.warm().await?;
    Ok(json!({
        "name": bench.args.name,
        "program": bench.args.program.display().to_string(),
        "cold": summary(cold),
        "cold_answers": answers,
        "warm": summary(warm),
    }))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // One thread: the measured process gets the other core, as on a 2-core Lambda host.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(run(args))?;
    println!("{report}");
    Ok(())
}
