//! The bench-peers protocol (`bench-peers/README.md`): a warm-up, then a timed loop of
//! sequential in-process executions of the benchmark workflow with stand-in tasks, printed as
//! one JSON record.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use sfn_local::{ExecuteOptions, StateMachine, Status};

use order_workflow::standins::stand_ins;

#[derive(clap::Args)]
pub struct BenchArgs {
    #[arg(long)]
    definition: PathBuf,
    #[arg(long)]
    input: PathBuf,
    #[arg(long, default_value_t = 100_000)]
    n: u64,
    #[arg(long, default_value_t = 5_000)]
    warmup: u64,
    #[arg(long, default_value_t = 60.0)]
    max_seconds: f64,
}

fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let setup = Instant::now();
    let text = std::fs::read_to_string(&args.definition)
        .with_context(|| format!("reading the definition file {}", args.definition.display()))?;
    let machine = match StateMachine::from_json(&text) {
        Ok(m) => m,
        Err(e) => bail!("{}: {e}", args.definition.display()),
    };
    let input: Value = serde_json::from_str(
        &std::fs::read_to_string(&args.input)
            .with_context(|| format!("reading {}", args.input.display()))?,
    )
    .with_context(|| format!("{} is not valid JSON", args.input.display()))?;
    let (handlers, calls) = stand_ins()?;
    let options = ExecuteOptions::new()
        .handlers(handlers)
        .history(false)
        .virtual_start(0);
    let setup_ms = setup.elapsed().as_secs_f64() * 1000.0;

    let mut failures = 0u64;
    let mut all_have_message_id = true;
    let mut once = |seed: u64| {
        let options = options.clone().seed(seed);
        let ex = futures::executor::block_on(machine.execute(input.clone(), &options));
        let ok = ex.status == Status::Succeeded;
        if !ok {
            failures += 1;
        }
        if !ex
            .output
            .as_ref()
            .is_some_and(|o| o["MessageId"].is_string())
        {
            all_have_message_id = false;
        }
    };
    for i in 0..args.warmup {
        once(i);
    }
    let mut latencies = Vec::with_capacity(usize::try_from(args.n).unwrap_or(0));
    let started = Instant::now();
    let mut done = 0u64;
    let mut stopped_early = false;
    while done < args.n {
        let t = Instant::now();
        once(args.warmup + done);
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        done += 1;
        if done % 1024 == 0 && started.elapsed().as_secs_f64() > args.max_seconds {
            stopped_early = done < args.n;
            break;
        }
    }
    let total_s = started.elapsed().as_secs_f64();
    let executions = args.warmup + done;
    let record = json!({
        "engine": "orderflow",
        "engine_version": env!("CARGO_PKG_VERSION"),
        "runtime": "rust (native, futures::executor::block_on, one thread)",
        "mode": "in-process",
        "definition": args.definition.display().to_string(),
        "warmup": args.warmup,
        "n_requested": args.n,
        "n": done,
        "stopped_early": stopped_early,
        "setup_ms": setup_ms,
        "total_s": total_s,
        "failures": failures,
        "checks": {
            "no failed executions": failures == 0,
            "every result is an SNS publish result": all_have_message_id,
            "each Lambda stand-in ran three times per execution": calls.lambda.load(Ordering::Relaxed) == 3 * executions,
            "one putItem and one publish per execution": calls.put_item.load(Ordering::Relaxed) == executions
                && calls.publish.load(Ordering::Relaxed) == executions,
        },
        "notes": ["history off; virtual clock; stand-in handlers answer synchronously"],
        "rss_mb": rss_mb(),
        "latencies_ms": latencies,
    });
    println!("{record}");
    Ok(ExitCode::SUCCESS)
}
