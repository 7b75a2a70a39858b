//! `orderflow load`: many orders through the workflow at once, with injected faults, and a
//! check afterwards that nothing was lost or charged twice (the harness is
//! `order_workflow::loadtest`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use aws_emulator::Store;
use order_workflow::Time;
use order_workflow::integrations::faults::FaultPlan;
use order_workflow::loadtest::{INVARIANTS, LoadConfig, generate, read_dir, run_load};
use serde_json::{Value, json};

/// `orderflow load`'s arguments.
#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// How many generated orders to run (a mix of every outcome).
    #[arg(long, default_value_t = 1000, conflicts_with = "dir")]
    pub orders: usize,
    /// Run the `*.json` event files of this directory instead of generated orders.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// How many executions run at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Share of task attempts that fail transiently (throttling, service errors), 0–1.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub fault_rate: f64,
    /// Share of task attempts whose side effect happens and whose answer is lost, 0–1.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub crash_after_rate: f64,
    /// Share of attempts of tasks with a timeout that time out, 0–1.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub timeout_rate: f64,
    /// The most attempts of one call that fail in a row; the definition retries at least
    /// three times, so more than 3 makes retries run out.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub max_consecutive_faults: u32,
    /// Seeds the generated orders and the faults: the same seed gives the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Real time: retry back-offs really wait (default: virtual time, back-offs cost nothing).
    #[arg(long)]
    pub real_time: bool,
    /// Keep the temporary store and print where it is (with no --store given).
    #[arg(long)]
    pub keep_store: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `orderflow load`. Without an explicit `--store` (or `ORDERFLOW_STORE`) it uses a fresh
/// temporary store, so the invariants see only this run; with one, it adds to that store and
/// checks this run's orders. Exits 1 when an invariant is broken.
pub fn run(
    args: LoadArgs,
    store: &Path,
    store_given: bool,
) -> anyhow::Result<std::process::ExitCode> {
    let faults = FaultPlan {
        transient_rate: args.fault_rate,
        crash_after_rate: args.crash_after_rate,
        timeout_rate: args.timeout_rate,
        seed: args.seed,
        max_consecutive: args.max_consecutive_faults,
    }
    .validated()?;
    let run_id = format!("load-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let orders = match &args.dir {
        Some(dir) => read_dir(dir)?,
        None => generate(args.orders, args.seed, &run_id),
    };
    let temporary = if store_given {
        None
    } else {
        Some(
            tempfile::Builder::new()
                .prefix("orderflow-load-")
                .tempdir()?,
        )
    };
    let dir = temporary.as_ref().map_or(store, |t| t.path());
    let opened =
        Store::open(dir).with_context(|| format!("opening the store {}", dir.display()))?;
    let config = LoadConfig {
        concurrency: args.concurrency,
        time: if args.real_time {
            Time::Real
        } else {
            Time::Virtual
        },
        faults,
        progress: !args.json,
        run_id,
    };
    let summary = run_load(opened, orders, &config)?;
    let mut json = summary.json;
    let kept = match temporary {
        Some(t) if args.keep_store => Some(t.keep().display().to_string()),
        Some(_) => None,
        None => Some(store.display().to_string()),
    };
    json["store"] = json!(kept);
    if args.json {
        println!("{json}");
    } else {
        print_summary(&json);
        if let Some(dir) = kept {
            println!("{:<22} {dir}", "store");
        }
    }
    Ok(if summary.violations.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

/// The summary in words.
pub fn print_summary(summary: &Value) {
    let line = |name: &str, value: String| println!("{name:<22} {value}");
    line(
        "executions",
        format!(
            "{} ({} orders, {} resubmitted)",
            summary["executions"], summary["orders"], summary["resubmitted"]
        ),
    );
    line(
        "elapsed",
        format!(
            "{} s at concurrency {}",
            summary["seconds"], summary["concurrency"]
        ),
    );
    line(
        "throughput",
        format!("{} executions/s", summary["executionsPerSecond"]),
    );
    let l = &summary["latencyMs"];
    line(
        "latency (ms)",
        format!(
            "p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            l["p50"].as_f64().unwrap_or_default(),
            l["p90"].as_f64().unwrap_or_default(),
            l["p99"].as_f64().unwrap_or_default(),
            l["max"].as_f64().unwrap_or_default()
        ),
    );
    if let Some(outcomes) = summary["outcomes"].as_object() {
        for (state, n) in outcomes {
            line(&format!("  {state}"), n.to_string());
        }
    }
    let f = &summary["faultsInjected"];
    line(
        "faults injected",
        format!(
            "{} transient, {} crash-after, {} timeout (seed {})",
            f["transient"], f["crashAfter"], f["timeout"], f["seed"]
        ),
    );
    line("retries absorbed", summary["retriesAbsorbed"].to_string());
    line(
        "interrupted",
        format!(
            "{} executions left RUNNING in the store",
            summary["interrupted"]
        ),
    );
    let inv = &summary["invariants"];
    line(
        "invariants",
        format!(
            "{} checked, {} violations",
            INVARIANTS.len(),
            inv["violations"]
        ),
    );
    if let Some(first) = inv["first"].as_array() {
        for v in first {
            println!(
                "  violated: {} — {}: {}",
                v["invariant"].as_str().unwrap_or_default(),
                v["order"].as_str().unwrap_or_default(),
                v["detail"].as_str().unwrap_or_default()
            );
        }
    }
}
