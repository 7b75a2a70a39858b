//! Executions per second of the order workflow as `orderflow run` runs it: the project's
//! definition, the three functions in process, DynamoDB and SNS answered by the embedded
//! store, the execution and its history recorded — once over the in-memory store and once
//! over the durable file store (SQLite in WAL mode on disk), one thread, virtual time.
//!
//! `cargo bench -p orderflow --bench workflow` gives criterion's mean and confidence
//! interval. Criterion reports no percentiles, so with `ORDERFLOW_BENCH_REPORT=N` set the
//! bench instead runs N timed executions per store after a warm-up and prints one JSON line
//! per store with executions/s and the p50/p90/p99/max latencies (`scripts/bench-report`
//! reads them).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_emulator::Store;
use criterion::{Criterion, Throughput};
use order_workflow::Workflow;
use serde_json::{Value, json};

// The same allocator as the `orderflow` binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ORDER: &str = include_str!("../../../events/order.json");

static NEXT: AtomicU64 = AtomicU64::new(0);

fn workflow(store: Store) -> Workflow {
    futures::executor::block_on(Workflow::builder(store).build())
        .unwrap_or_else(|e| panic!("the order workflow must load: {e:#}"))
}

/// One order through the workflow; it must end with the order recorded as processed, so a
/// regression that fails every execution cannot pass for a speed-up.
fn one(flow: &Workflow, input: &Value) {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let run = futures::executor::block_on(flow.run(input.clone(), &format!("bench-{n}"), n))
        .unwrap_or_else(|e| panic!("execution {n} could not run: {e:#}"));
    assert_eq!(
        run.order_state.as_deref(),
        Some("PAYMENT_PROCESSED"),
        "execution {n}"
    );
}

fn stores() -> (Vec<(&'static str, Workflow)>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
    let memory = Store::in_memory().unwrap_or_else(|e| panic!("an in-memory store: {e}"));
    let durable = Store::open(dir.path()).unwrap_or_else(|e| panic!("a durable store: {e}"));
    (
        vec![
            ("in-memory store", workflow(memory)),
            ("durable store", workflow(durable)),
        ],
        dir,
    )
}

fn input() -> Value {
    serde_json::from_str(ORDER).unwrap_or_else(|e| panic!("events/order.json: {e}"))
}

fn criterion_bench(c: &mut Criterion) {
    let (flows, _dir) = stores();
    let input = input();
    let mut group = c.benchmark_group("order_workflow");
    group.throughput(Throughput::Elements(1));
    for (name, flow) in &flows {
        group.bench_function(*name, |b| b.iter(|| one(flow, &input)));
    }
    group.finish();
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let last = sorted.len().saturating_sub(1);
    // Nearest rank on the sorted sample; q is in [0, 1] so the index stays in bounds.
    let index = ((last as f64) * q).round() as usize;
    sorted
        .get(index.min(last))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn report(n: usize) {
    let (flows, _dir) = stores();
    let input = input();
    for (name, flow) in &flows {
        for _ in 0..n / 10 {
            one(flow, &input);
        }
        let mut latencies = Vec::with_capacity(n);
        let started = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            one(flow, &input);
            latencies.push(t.elapsed());
        }
        let total = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        println!(
            "{}",
            json!({
                "store": name,
                "n": n,
                "total_s": total,
                "exec_per_s": n as f64 / total,
                "p50_ms": percentile(&latencies, 0.50),
                "p90_ms": percentile(&latencies, 0.90),
                "p99_ms": percentile(&latencies, 0.99),
                "max_ms": percentile(&latencies, 1.0),
            })
        );
    }
}

fn main() {
    match std::env::var("ORDERFLOW_BENCH_REPORT") {
        Ok(n) => report(
            n.parse()
                .unwrap_or_else(|e| panic!("ORDERFLOW_BENCH_REPORT={n}: {e}")),
        ),
        Err(_) => {
            let mut criterion = Criterion::default().configure_from_args();
            criterion_bench(&mut criterion);
            criterion.final_summary();
        }
    }
}
