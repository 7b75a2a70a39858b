//! The load harness behind `orderflow load`: many orders through the workflow at once, with injected faults, and a
//! check afterwards that nothing was lost or charged twice.
//!
//! The generated mix covers every outcome with the simulated adapters' magic values (see
//! `crates/orders/README.md`), each order's expected state known in advance; one order in 25
//! is submitted again after the first pass, as a client resubmitting, and must end as
//! `DuplicateOrder` without a second record, notification or charge.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_emulator::{ExecutionStatus, Store};
use serde_json::{Value, json};
use sfn_local::{EventDetails, HistoryEvent, MAX_PAYLOAD_BYTES, StateType, Status};

/// Why a load could not run or be checked.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The directory of event files cannot be listed.
    #[error("cannot read the directory {}: {source}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An event file is unreadable, not JSON or over the payload limit.
    #[error("the event file {}: {reason}", path.display())]
    Event {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The runtime the executions run on cannot be started.
    #[error("starting the load's runtime: {0}")]
    Runtime(std::io::Error),
    /// The workflow cannot be built, or an execution cannot be run or recorded.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// The store cannot be read back for the check.
    #[error(transparent)]
    Store(#[from] aws_emulator::StoreError),
    /// An index beyond the orders (the passes only pass indices of the orders).
    #[error("no order at {0}")]
    NoOrder(usize),
    /// An execution's task panicked.
    #[error("an execution panicked: {0}")]
    Panicked(String),
}

use crate::integrations::faults::{FaultCounts, FaultPlan};
use crate::integrations::ledger::ChargeAudit;
use crate::seed::scramble;
use crate::workflow::{LocalOptions, TABLE_NAME, Time, Workflow, WorkflowError};

/// One order of a load run.
#[derive(Debug, Clone)]
pub struct LoadOrder {
    /// Where it came from: `generated #12` or a file path.
    pub source: String,
    /// The state machine input.
    pub input: Value,
    /// The `State` its record must have, when known.
    pub expected: Option<&'static str>,
    /// Whether this is a resubmission of an earlier order, which must end `DuplicateOrder`.
    pub repeat: bool,
}

/// The kinds of generated order, with their weight in the mix and the state each ends in.
const MIX: &[(&str, u32, &str)] = &[
    ("mastercard", 20, "PAYMENT_PROCESSED"),
    ("visa", 10, "PAYMENT_PROCESSED"),
    ("amex", 10, "PAYMENT_PROCESSED"),
    ("discover", 8, "PAYMENT_PROCESSED"),
    ("refused", 6, "PAYMENT_NOT_VERIFIED"),
    ("not-luhn", 6, "PAYMENT_NOT_VERIFIED"),
    ("expired", 6, "PAYMENT_NOT_VERIFIED"),
    ("declined", 8, "PAYMENT_FAILED"),
    ("out-of-stock", 10, "OUT_OF_STOCK"),
    ("zero-price", 4, "INVALID"),
    ("total-off", 4, "INVALID"),
    ("no-items", 4, "INVALID"),
];

/// `count` generated orders (plus about one resubmission in 25), the same for the same seed
/// and run id.
pub fn generate(count: usize, seed: u64, run_id: &str) -> Vec<LoadOrder> {
    let total: u32 = MIX.iter().map(|(_, w, _)| w).sum();
    let mut orders: Vec<LoadOrder> = (0..count)
        .map(|i| {
            let roll = scramble(seed ^ scramble(i as u64));
            let mut pick = (roll % u64::from(total)) as u32;
            let (kind, _, expected) = MIX
                .iter()
                .find(|(_, weight, _)| {
                    let hit = pick < *weight;
                    pick = pick.saturating_sub(*weight);
                    hit
                })
                .copied()
                .unwrap_or(MIX[0]);
            LoadOrder {
                source: format!("generated #{i} ({kind})"),
                input: order(kind, &format!("{run_id}-{i}"), roll),
                expected: Some(expected),
                repeat: false,
            }
        })
        .collect();
    let repeats: Vec<LoadOrder> = orders
        .iter()
        .enumerate()
        .filter(|(i, _)| scramble(seed.wrapping_add(*i as u64)) % 25 == 0)
        .map(|(_, original)| LoadOrder {
            source: format!("{} again", original.source),
            repeat: true,
            ..original.clone()
        })
        .collect();
    orders.extend(repeats);
    orders
}

fn order(kind: &str, order_id: &str, roll: u64) -> Value {
    let (card_type, number, expiration) = match kind {
        "visa" => ("VISA", "4242 4242 4242 4242", "12/35"),
        "amex" => ("AMEX", "3782 822463 10005", "12/35"),
        "discover" => ("DISCOVER", "6011 1111 1111 1117", "12/35"),
        "refused" => ("VISA", "4000 0000 0000 0002", "12/35"),
        "not-luhn" => ("MASTERCARD", "5192 7402 9672 1055", "12/35"),
        "expired" => ("MASTERCARD", "5555 5555 5555 4444", "08/20"),
        "declined" => ("VISA", "4000 0000 0000 0341", "12/35"),
        _ => ("MASTERCARD", "5555 5555 5555 4444", "12/35"),
    };
    let cents = 100 + roll % 50_000;
    let mut items = vec![
        json!({"itemId": format!("item-{}", roll % 997), "price": cents as f64 / 100.0, "itemDescription": "Notebook"}),
        json!({"itemId": "item-c9f4x", "price": 19.99, "itemDescription": "Macbook sleeve"}),
    ];
    if kind == "out-of-stock" {
        items.push(json!({"itemId": "oos-g7b2q", "price": 0.01, "itemDescription": "Sticker"}));
    }
    if kind == "zero-price" {
        items[0]["price"] = json!(0);
    }
    let total_cents = cents + 1999 + u64::from(kind == "out-of-stock");
    let total_cents = if kind == "total-off" {
        total_cents + 1
    } else {
        total_cents
    };
    let mut order = json!({
        "orderId": order_id,
        "orderContents": {"items": items},
        "orderTotal": total_cents as f64 / 100.0,
        "customerId": format!("c-{}", roll % 10_000),
        "paymentDetails": {"name": "Load Test", "cardType": card_type,
                           "cardNumber": number, "expiration": expiration}
    });
    if kind == "no-items" {
        if let Some(contents) = order["orderContents"].as_object_mut() {
            contents.remove("items");
        }
    }
    order
}

/// The orders in the `*.json` files of `dir`, sorted by name; a file that is not a usable
/// event (unreadable, not JSON, over the payload limit) is an error naming it.
pub fn read_dir(dir: &Path) -> Result<Vec<LoadOrder>, LoadError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| LoadError::ReadDir {
            path: dir.to_owned(),
            source,
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let invalid = |reason: String| LoadError::Event {
                path: path.clone(),
                reason,
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| invalid(format!("cannot be read: {e}")))?;
            if text.len() > MAX_PAYLOAD_BYTES {
                return Err(invalid(format!(
                    "{} bytes, over the {MAX_PAYLOAD_BYTES}-byte Step Functions input limit",
                    text.len()
                )));
            }
            let input =
                serde_json::from_str(&text).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
            Ok(LoadOrder {
                source: path.display().to_string(),
                input,
                expected: None,
                repeat: false,
            })
        })
        .collect()
}

/// How a load runs.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// How many executions run at once.
    pub concurrency: usize,
    /// Virtual or real time.
    pub time: Time,
    /// The faults to inject.
    pub faults: FaultPlan,
    /// Show a progress bar (only on a terminal).
    pub progress: bool,
    /// Names the run's executions.
    pub run_id: String,
}

/// One execution's result, as far as the summary needs it.
struct Finished {
    index: usize,
    latency: Duration,
    status: Status,
    error: Option<String>,
    order_id: Option<String>,
    order_state: Option<String>,
    execution_arn: String,
    retries: usize,
}

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which invariant.
    pub invariant: &'static str,
    /// About which order (or source).
    pub subject: String,
    /// What was found.
    pub detail: String,
}

/// The outcome of a load run.
#[derive(Debug)]
pub struct Summary {
    /// The summary as one JSON object.
    pub json: Value,
    /// Every broken invariant.
    pub violations: Vec<Violation>,
}

/// Runs `orders` through the workflow over `store` and checks the invariants.
pub fn run_load(
    store: Store,
    orders: Vec<LoadOrder>,
    config: &LoadConfig,
) -> Result<Summary, LoadError> {
    let fault_counts = Arc::new(FaultCounts::default());
    let audit = Arc::new(ChargeAudit::default());
    let options = LocalOptions {
        faults: config.faults,
        fault_counts: fault_counts.clone(),
        charges: Some(audit.clone()),
        ..LocalOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_time()
        .build()
        .map_err(LoadError::Runtime)?;
    let flow = Arc::new(
        runtime.block_on(
            Workflow::builder(store)
                .time(config.time)
                .options(options)
                .build(),
        )?,
    );
    let bar = if config.progress && std::io::stdout().is_terminal() {
        let bar = indicatif::ProgressBar::new(orders.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} executions {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let orders = Arc::new(orders);
    let started = Instant::now();
    let mut finished: Vec<Finished> = Vec::with_capacity(orders.len());
    let mut lost: Vec<Violation> = Vec::new();
    // Resubmissions go after the first pass, as a client retrying later would.
    for pass in [false, true] {
        let indices: Vec<usize> = (0..orders.len())
            .filter(|i| orders.get(*i).is_some_and(|o| o.repeat == pass))
            .collect();
        let results = runtime.block_on(run_pass(&flow, &orders, indices, config, &bar));
        for result in results {
            match result {
                Ok(done) => finished.push(done),
                Err((index, error)) => lost.push(Violation {
                    invariant: "every order runs",
                    subject: orders
                        .get(index)
                        .map_or_else(String::new, |o| o.source.clone()),
                    detail: format!("{error:#}"),
                }),
            }
        }
    }
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    let mut violations = lost;
    let (found, interrupted) = check(flow.store(), &orders, &finished, &audit)?;
    violations.extend(found);
    let mut json = summarise(
        &orders,
        &finished,
        elapsed,
        &fault_counts,
        &violations,
        config,
    );
    json["interrupted"] = json!(interrupted);
    Ok(Summary { json, violations })
}

async fn run_pass(
    flow: &Arc<Workflow>,
    orders: &Arc<Vec<LoadOrder>>,
    indices: Vec<usize>,
    config: &LoadConfig,
    bar: &indicatif::ProgressBar,
) -> Vec<Result<Finished, (usize, LoadError)>> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for index in indices {
        let Ok(permit) = semaphore.clone().acquire_owned().await else {
            break;
        };
        let (flow, orders, run_id) = (flow.clone(), orders.clone(), config.run_id.clone());
        tasks.spawn(async move {
            let _permit = permit;
            let Some(order) = orders.get(index) else {
                return Err((index, LoadError::NoOrder(index)));
            };
            let name = format!("{run_id}-{index}");
            let seed = scramble(index as u64);
            let start = Instant::now();
            let run = flow
                .run(order.input.clone(), &name, seed)
                .await
                .map_err(|e| (index, e.into()))?;
            let scheduled = count(&run.history, |e| {
                matches!(e, EventDetails::TaskScheduled { .. })
            });
            let entered = count(&run.history, |e| {
                matches!(
                    e,
                    EventDetails::StateEntered {
                        state_type: StateType::Task,
                        ..
                    }
                )
            });
            Ok(Finished {
                index,
                latency: start.elapsed(),
                status: run.execution.status,
                error: run.execution.error.clone(),
                order_id: run.order_id,
                order_state: run.order_state,
                execution_arn: run.execution_arn,
                retries: scheduled.saturating_sub(entered),
            })
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        bar.inc(1);
        match joined {
            Ok(result) => results.push(result),
            Err(e) => results.push(Err((usize::MAX, LoadError::Panicked(e.to_string())))),
        }
    }
    results
}

fn count(history: &[HistoryEvent], kind: impl Fn(&EventDetails) -> bool) -> usize {
    history.iter().filter(|e| kind(&e.details)).count()
}

/// Checks the invariants over what the store holds for this run's orders, and over every
/// record in it for the interrupted executions; returns the violations and how many
/// executions in the store are still RUNNING (left so by a crash).
/// What the store holds after a load, indexed by order id.
struct Observed {
    records: HashMap<String, Vec<Value>>,
    notifications: HashMap<String, usize>,
    ledger: HashMap<String, Value>,
    /// The charges that reached the gateway, per order id.
    gateway: HashMap<String, u32>,
    /// Every execution of the store: a crash leaves executions RUNNING, and the records they
    /// wrote are accounted for by no finished execution.
    statuses: HashMap<String, ExecutionStatus>,
}

impl Observed {
    fn read(store: &Store, audit: &ChargeAudit) -> Result<Observed, LoadError> {
        let mut records: HashMap<String, Vec<Value>> = HashMap::new();
        for item in store.scan(TABLE_NAME)? {
            let item = aws_emulator::unmarshal(&item)?;
            if let Some(id) = item["OrderId"].as_str() {
                records.entry(id.to_owned()).or_default().push(item);
            }
        }
        let mut notifications: HashMap<String, usize> = HashMap::new();
        for message in store.messages()? {
            if let Ok(body) = serde_json::from_str::<Value>(&message.message) {
                if let Some(id) = body["orderId"].as_str() {
                    *notifications.entry(id.to_owned()).or_default() += 1;
                }
            }
        }
        Ok(Observed {
            records,
            notifications,
            ledger: store
                .charges()?
                .into_iter()
                .map(|c| (c.order_id, c.record))
                .collect(),
            gateway: audit.counts(),
            statuses: store
                .list_executions()?
                .into_iter()
                .map(|e| (e.execution_arn, e.status))
                .collect(),
        })
    }
}

/// The broken invariants, in the order found.
#[derive(Default)]
struct Violations(Vec<Violation>);

impl Violations {
    fn add(&mut self, invariant: &'static str, subject: &str, detail: String) {
        self.0.push(Violation {
            invariant,
            subject: subject.to_owned(),
            detail,
        });
    }
}

fn check(
    store: &Store,
    orders: &[LoadOrder],
    finished: &[Finished],
    audit: &ChargeAudit,
) -> Result<(Vec<Violation>, usize), LoadError> {
    let observed = Observed::read(store, audit)?;
    let mut violations = Violations::default();
    let interrupted = observed
        .statuses
        .values()
        .filter(|s| **s == ExecutionStatus::Running)
        .count();
    for (order_id, found) in &observed.records {
        for record in found {
            let writer = record["ExecutionId"].as_str().unwrap_or_default();
            if observed.statuses.get(writer) == Some(&ExecutionStatus::Running) {
                violations.add(
                    "no record without a finished execution",
                    order_id,
                    format!("written by {writer}, which is still RUNNING: it was interrupted"),
                );
            }
        }
    }
    let mut by_order: BTreeMap<&str, Vec<&Finished>> = BTreeMap::new();
    for done in finished {
        match &done.order_id {
            Some(id) => by_order.entry(id).or_default().push(done),
            None => violations.add(
                "no execution without a record",
                &done.execution_arn,
                format!(
                    "ended {} without reaching Record Order",
                    done.status.as_str()
                ),
            ),
        }
    }
    let executions: HashMap<&str, &Finished> = finished
        .iter()
        .map(|f| (f.execution_arn.as_str(), f))
        .collect();
    for (order_id, runs) in &by_order {
        let found = observed
            .records
            .get(*order_id)
            .map_or(&[][..], Vec::as_slice);
        let [record] = found else {
            violations.add(
                "exactly one record",
                order_id,
                format!("{} records", found.len()),
            );
            continue;
        };
        let sent = observed.notifications.get(*order_id).copied().unwrap_or(0);
        if sent != 1 {
            violations.add(
                "exactly one notification",
                order_id,
                format!("{sent} notifications"),
            );
        }
        check_writer(&mut violations, order_id, record, &executions);
        check_runs(&mut violations, order_id, record, runs, orders);
        check_charge(&mut violations, order_id, record, &observed);
    }
    Ok((violations.0, interrupted))
}

/// The record was written by an execution of this run that processed this order.
fn check_writer(
    violations: &mut Violations,
    order_id: &str,
    record: &Value,
    executions: &HashMap<&str, &Finished>,
) {
    let writer = record["ExecutionId"].as_str().unwrap_or_default();
    match executions.get(writer) {
        None => violations.add(
            "no record without an execution",
            order_id,
            format!("written by {writer}, not an execution of this run"),
        ),
        Some(done) if done.order_id.as_deref() != Some(order_id) => violations.add(
            "no record without an execution",
            order_id,
            format!("written by {writer}, which processed another order"),
        ),
        Some(_) => {}
    }
}

/// Every execution of the order wrote its record or ended as a duplicate, with the expected
/// outcome.
fn check_runs(
    violations: &mut Violations,
    order_id: &str,
    record: &Value,
    runs: &[&Finished],
    orders: &[LoadOrder],
) {
    let writer = record["ExecutionId"].as_str().unwrap_or_default();
    let state = record["State"].as_str().unwrap_or_default();
    for done in runs {
        let source = orders.get(done.index);
        let duplicate = done.error.as_deref() == Some("DuplicateOrder");
        if done.execution_arn != writer && !duplicate {
            violations.add(
                "no execution without a record",
                order_id,
                format!(
                    "{} ended {:?}, but another execution wrote the record",
                    done.execution_arn, done.error
                ),
            );
        }
        if source.is_some_and(|o| o.repeat) && !duplicate {
            violations.add(
                "a resubmitted order is a duplicate",
                order_id,
                format!("ended {:?}", done.error),
            );
        }
        if let Some(expected) = source.and_then(|o| o.expected) {
            if state != expected {
                violations.add(
                    "the expected outcome",
                    order_id,
                    format!("{state}, expected {expected}"),
                );
            }
        }
        if done.execution_arn == writer && done.order_state.as_deref() != Some(state) {
            violations.add(
                "the expected outcome",
                order_id,
                "the execution and its record disagree".into(),
            );
        }
    }
}

/// The order was charged once at most, and exactly when it was recorded as processed, with
/// the ledger's charge id.
fn check_charge(violations: &mut Violations, order_id: &str, record: &Value, observed: &Observed) {
    let state = record["State"].as_str().unwrap_or_default();
    let charged = observed
        .ledger
        .get(order_id)
        .filter(|r| r["outcome"] == "charged");
    let reached = observed.gateway.get(order_id).copied().unwrap_or(0);
    if reached > 1 {
        violations.add(
            "no duplicate charge",
            order_id,
            format!("{reached} charges reached the gateway"),
        );
    }
    let summary: Value = record["Order"]
        .as_str()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null);
    match (state == "PAYMENT_PROCESSED", charged) {
        (true, Some(entry)) => {
            if summary["chargeId"] != entry["chargeId"] {
                violations.add(
                    "charges equal successful records",
                    order_id,
                    "the record's charge id is not the ledger's".into(),
                );
            }
        }
        (true, None) => violations.add(
            "charges equal successful records",
            order_id,
            "processed without a charge".into(),
        ),
        (false, Some(_)) => violations.add(
            "charges equal successful records",
            order_id,
            format!("charged, but recorded {state}"),
        ),
        (false, None) => {}
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn summarise(
    orders: &[LoadOrder],
    finished: &[Finished],
    elapsed: Duration,
    faults: &FaultCounts,
    violations: &[Violation],
    config: &LoadConfig,
) -> Value {
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for done in finished {
        let key = match (&done.error, &done.order_state) {
            (Some(e), _) if e == "DuplicateOrder" => "DUPLICATE_ORDER".to_owned(),
            (_, Some(state)) => state.clone(),
            _ => "NOT_RECORDED".to_owned(),
        };
        *outcomes.entry(key).or_default() += 1;
        *statuses.entry(done.status.as_str().to_owned()).or_default() += 1;
    }
    let mut latencies: Vec<Duration> = finished.iter().map(|f| f.latency).collect();
    latencies.sort();
    let (transient, crash_after, timeout) = faults.snapshot();
    let mut by_invariant: BTreeMap<&str, usize> = BTreeMap::new();
    for v in violations {
        *by_invariant.entry(v.invariant).or_default() += 1;
    }
    let seconds = elapsed.as_secs_f64();
    json!({
        "orders": orders.iter().filter(|o| !o.repeat).count(),
        "resubmitted": orders.iter().filter(|o| o.repeat).count(),
        "executions": finished.len(),
        "concurrency": config.concurrency,
        "virtualTime": config.time == Time::Virtual,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "executionsPerSecond": if seconds > 0.0 { (finished.len() as f64 / seconds).round() } else { 0.0 },
        "outcomes": outcomes,
        "status": statuses,
        "latencyMs": {
            "p50": percentile(&latencies, 50.0),
            "p90": percentile(&latencies, 90.0),
            "p99": percentile(&latencies, 99.0),
            "max": percentile(&latencies, 100.0),
        },
        "retriesAbsorbed": finished.iter().map(|f| f.retries).sum::<usize>(),
        "faultsInjected": {"transient": transient, "crashAfter": crash_after, "timeout": timeout, "seed": config.faults.seed},
        "invariants": {
            "checked": INVARIANTS,
            "violations": violations.len(),
            "byInvariant": by_invariant,
            "first": violations.iter().take(20).map(|v| json!({"invariant": v.invariant, "order": v.subject, "detail": v.detail})).collect::<Vec<_>>(),
        },
    })
}

/// The invariants [`run_load`] checks.
pub const INVARIANTS: &[&str] = &[
    "every order runs",
    "exactly one record",
    "exactly one notification",
    "charges equal successful records",
    "no duplicate charge",
    "no record without an execution",
    "no record without a finished execution",
    "no execution without a record",
    "a resubmitted order is a duplicate",
    "the expected outcome",
];
