//! The order workflow written in JSONata with variables (`order.bench.jsonata.asl.json`)
//! against its JSONPath twin (`order.bench.asl.json`): executions per second on one thread
//! with stand-in task handlers and history off, and the cost of loading each (JSONata
//! expressions are parsed then). Both run the same tasks with the same parameters and give
//! the same output (`order-workflow`'s `engine::the_jsonata_twin_does_what_the_jsonpath_workflow_does`).
//!
//! After criterion's figures, the expressions one JSONata execution evaluates (with the
//! `$states` and variables each sees) are timed in one loop here, by `sfn-jsonata` alone,
//! and by jsonata.js 2.0.6 (`scripts/jsonata-reference.js --bench`, when node and the
//! reference are installed), so the evaluation cost inside an execution can be set against
//! what jsonata.js would spend on the same work.

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group};
use serde_json::{Map, Value, json};
use sfn_jsonata::{Environment, Expression, FixedClock, SplitMix64};
use sfn_local::{ExecuteOptions, StateMachine, Status};

use order_workflow::standins;

const JSONPATH: &str = include_str!("../tests/fixtures/order.bench.asl.json");
const JSONATA: &str = include_str!("../tests/fixtures/order.bench.jsonata.asl.json");

fn jsonata_twin(c: &mut Criterion) {
    let load = |text: &str| {
        StateMachine::from_json(text)
            .unwrap_or_else(|e| panic!("the bench definitions must load: {e}"))
    };
    let input: Value = serde_json::from_str(include_str!("../tests/fixtures/input.json"))
        .unwrap_or_else(|e| panic!("the bench input must be JSON: {e}"));
    let (handlers, _calls) =
        standins::stand_ins().unwrap_or_else(|e| panic!("the stand-ins register: {e}"));
    let options = ExecuteOptions::new()
        .handlers(handlers)
        .virtual_start(0)
        .history(false);

    let mut group = c.benchmark_group("jsonata_twin");
    group.throughput(Throughput::Elements(1));
    for (name, text) in [("jsonpath", JSONPATH), ("jsonata", JSONATA)] {
        let machine = load(text);
        group.bench_function(format!("execute {name}"), |b| {
            b.iter(|| {
                let ex = futures::executor::block_on(machine.execute(input.clone(), &options));
                assert_eq!(ex.status, Status::Succeeded);
                ex
            })
        });
        group.bench_function(format!("load {name}"), |b| b.iter(|| load(text)));
    }
    group.finish();
}

criterion_group!(benches, jsonata_twin);

/// One expression of the JSONata twin as its happy path evaluates it: where it is, its
/// text, what it reads (`states` and the variables) and how many times an execution
/// evaluates it. `$uuid()` (an `OrderId`) is left out: jsonata.js has no such function.
struct Evaluation {
    name: &'static str,
    text: &'static str,
    bindings: Map<String, Value>,
    times: u32,
}

// One entry per expression of the twin, in the order the workflow evaluates them: a table
// of data.
fn evaluations(order: &Value) -> Vec<Evaluation> {
    let lambda = |payload: Value| json!({"ExecutedVersion": "$LATEST", "Payload": payload, "StatusCode": 200});
    let mut items = order["orderContents"]["items"].clone();
    if let Value::Array(list) = &mut items {
        for item in list.iter_mut() {
            item["quantityInStock"] = json!(5);
        }
    }
    let transformed = json!({
        "items": items, "paymentVerified": true, "orderTotal": order["orderTotal"],
        "customerId": order["customerId"], "paymentDetails": order["paymentDetails"]
    });
    let charge = lambda(json!({"paymentResult": "SUCCESS"}));
    let mut charged = transformed.clone();
    charged["output"] = charge.clone();
    let parallel = json!([{"paymentVerified": true}, items]);
    let vars = json!({"paymentVerified": true, "items": items});
    let at = |input: &Value, result: Option<Value>| {
        let mut states = json!({"input": input});
        if let Some(r) = result {
            states["result"] = r;
        }
        let mut bindings = vars.as_object().cloned().unwrap_or_default();
        bindings.insert("states".into(), states);
        bindings
    };
    let one = |name, text, bindings| Evaluation {
        name,
        text,
        bindings,
        times: 1,
    };
    vec![
        one("verify/Arguments", "$states.input", at(order, None)),
        one(
            "verify/Output",
            "$states.result.Payload",
            at(order, Some(lambda(json!({"paymentVerified": true})))),
        ),
        one(
            "stock/Arguments",
            "$states.input.orderContents.items",
            at(order, None),
        ),
        one(
            "stock/Output",
            "$states.result.Payload",
            at(order, Some(lambda(items.clone()))),
        ),
        one(
            "parallel/Assign/1",
            "$states.result[0].paymentVerified",
            at(order, Some(parallel.clone())),
        ),
        one(
            "parallel/Assign/2",
            "$states.result[1]",
            at(order, Some(parallel.clone())),
        ),
        one(
            "parallel/Output",
            "$states.input",
            at(order, Some(parallel)),
        ),
        one(
            "choice/Condition",
            "$paymentVerified = false",
            at(order, None),
        ),
        one("transform/items", "$items", at(order, None)),
        one("transform/verified", "$paymentVerified", at(order, None)),
        one(
            "transform/total",
            "$states.input.orderTotal",
            at(order, None),
        ),
        one(
            "transform/customer",
            "$states.input.customerId",
            at(order, None),
        ),
        one(
            "transform/details",
            "$states.input.paymentDetails",
            at(order, None),
        ),
        one("map/Items", "$states.input.items", at(&transformed, None)),
        Evaluation {
            times: 3,
            ..one(
                "map/inner/Condition",
                "$states.input.quantityInStock = 0",
                at(&items[0], None),
            )
        },
        one(
            "map/Output",
            "$states.input",
            at(&transformed, Some(json!(items))),
        ),
        one("charge/Arguments", "$states.input", at(&transformed, None)),
        one(
            "charge/Output",
            "$merge([$states.input, {'output': $states.result}])",
            at(&transformed, Some(charge)),
        ),
        one(
            "put/CustomerId",
            "$states.input.customerId",
            at(&charged, None),
        ),
        one(
            "put/OrderTotal",
            "$string($states.input.orderTotal)",
            at(&charged, None),
        ),
        one(
            "put/Items",
            "$string($states.input.items)",
            at(&charged, None),
        ),
        one("put/Output", "$states.input", at(&charged, Some(json!({})))),
        one("publish/Message", "$states.input", at(&charged, None)),
    ]
}

/// Our time per evaluation, from a plain loop (the same shape as the reference's).
fn ours_ns(expr: &Expression, bindings: &Map<String, Value>, iterations: u32) -> f64 {
    let clock = FixedClock(0);
    let mut random = SplitMix64::new(1);
    let mut run = || {
        let mut env = Environment::new(&clock, &mut random);
        black_box(expr.evaluate(None, bindings, &mut env)).is_ok()
    };
    for _ in 0..iterations.min(1000) {
        assert!(run(), "{}", expr.source());
    }
    let start = Instant::now();
    for _ in 0..iterations {
        run();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iterations)
}

/// jsonata.js's times, or why there are none.
fn reference_ns(evaluations: &[Evaluation], iterations: u32) -> Result<Vec<f64>, String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut child = Command::new("node")
        .arg(format!("{root}/scripts/jsonata-reference.js"))
        .arg("--bench")
        .arg(iterations.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("node: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    for e in evaluations {
        let line = json!({"name": e.name, "expr": e.text, "bindings": e.bindings});
        writeln!(stdin, "{line}").map_err(|e| e.to_string())?;
    }
    drop(stdin);
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("the reference exited with {}", out.status));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).map_err(|e| e.to_string())?;
            v["ns_per_eval"]
                .as_f64()
                .ok_or_else(|| format!("bad line {l}"))
        })
        .collect()
}

fn comparison() {
    let iterations = 20_000;
    let order: Value = serde_json::from_str(include_str!("../tests/fixtures/input.json"))
        .unwrap_or_else(|e| panic!("the bench input must be JSON: {e}"));
    let evaluations = evaluations(&order);
    let ours: Vec<f64> = evaluations
        .iter()
        .map(|e| {
            let expr = Expression::parse(e.text).unwrap_or_else(|err| panic!("{}: {err}", e.name));
            ours_ns(&expr, &e.bindings, iterations)
        })
        .collect();
    let reference = reference_ns(&evaluations, iterations);
    println!(
        "\nthe JSONata twin's expressions, ns per evaluation ({iterations} each, one thread):"
    );
    println!(
        "{:<22} {:>6} {:>12} {:>12}",
        "field", "times", "sfn-jsonata", "jsonata.js"
    );
    let total = |ns: &[f64]| {
        ns.iter()
            .zip(&evaluations)
            .map(|(n, e)| n * f64::from(e.times))
            .sum::<f64>()
    };
    for (i, e) in evaluations.iter().enumerate() {
        let theirs = reference
            .as_ref()
            .map_or_else(|_| "-".to_owned(), |r| format!("{:.0}", r[i]));
        println!(
            "{:<22} {:>6} {:>12.0} {:>12}",
            e.name, e.times, ours[i], theirs
        );
    }
    let count: u32 = evaluations.iter().map(|e| e.times).sum();
    match &reference {
        Ok(r) => println!(
            "per execution ({count} evaluations): sfn-jsonata {:.1} µs, jsonata.js {:.1} µs ({:.1}x)",
            total(&ours) / 1000.0,
            total(r) / 1000.0,
            total(r) / total(&ours)
        ),
        Err(e) => println!(
            "per execution ({count} evaluations): sfn-jsonata {:.1} µs; jsonata.js not measured: {e} (scripts/setup installs it)",
            total(&ours) / 1000.0
        ),
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    comparison();
}
