//! Realistic Step Functions expressions (a condition, an `Arguments` object, sums,
//! filters, sorts, a `$map` with a lambda, `$string`, a regex, grouping) over an order of
//! 20 items bound as `$states.input`: parsed once, evaluated many times. After criterion's
//! figures, the same expressions timed in one loop here and in jsonata.js 2.0.6
//! (`scripts/jsonata-reference.js --bench`, when node and the reference are installed), so
//! the two figures come from one run on one machine.

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use serde_json::{Value, json};
use sfn_jsonata::{Binding, Bindings, Environment, Expression, FixedClock, SplitMix64};

const EXPRESSIONS: &[(&str, &str)] = &[
    (
        "condition",
        "$states.input.order.total > 100 and $states.input.order.customer.tier = 'gold'",
    ),
    (
        "arguments",
        "{'orderId': $states.input.order.id, 'amount': $states.input.order.total, 'items': $count($states.input.order.items), 'email': $states.input.order.customer.email}",
    ),
    ("sum", "$sum($states.input.order.items.(price * quantity))"),
    ("filter", "$states.input.order.items[quantity > 1].sku"),
    ("sort", "$states.input.order.items^(>price)[0].sku"),
    (
        "map_lambda",
        "$map($states.input.order.items, function($i){ {'sku': $i.sku, 'line': $i.price * $i.quantity} })",
    ),
    (
        "merge",
        "$merge([$states.input.order.customer, {'status': 'CHARGED', 'attempt': 1}])",
    ),
    (
        "chain",
        "$states.input.order.customer.email ~> $trim ~> $lowercase",
    ),
    ("string", "$string($states.input.order.customer)"),
    (
        "regex",
        "$contains($states.input.order.customer.email, /@example\\.com$/)",
    ),
    ("group", "$states.input.order.items{sku: price}"),
    (
        "format",
        "$formatNumber($states.input.order.total, '#,##0.00')",
    ),
    (
        "block",
        "($items := $states.input.order.items; $n := $count($items); $n > 0 ? $sum($items.price) / $n : 0)",
    ),
];

fn order() -> Value {
    let items: Vec<Value> = (0..20)
        .map(|i| {
            json!({"sku": format!("SKU-{i:03}"), "price": 5.5 + f64::from(i) * 1.25, "quantity": 1 + i % 3})
        })
        .collect();
    json!({"order": {
        "id": "ord-7731", "total": 412.5, "currency": "EUR",
        "customer": {"name": "Ada Lovelace", "email": " Ada@Example.com ", "tier": "gold"},
        "items": items
    }})
}

struct States<'a>(&'a Value);

impl Bindings for States<'_> {
    fn binding(&self, name: &str) -> Option<Binding<'_>> {
        (name == "states").then(|| Binding::Object(vec![("input", self.0)]))
    }
}

fn evaluate(expr: &Expression, input: &Value) -> Option<Value> {
    let clock = FixedClock(1_700_000_000_000);
    let mut random = SplitMix64::new(1);
    let mut env = Environment::new(&clock, &mut random);
    expr.evaluate(None, &States(input), &mut env)
        .unwrap_or_else(|e| panic!("{}: {e}", expr.source()))
}

fn criterion_benches(c: &mut Criterion) {
    let input = order();
    let mut group = c.benchmark_group("evaluate");
    for (name, text) in EXPRESSIONS {
        let expr = Expression::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        group.bench_function(*name, |b| {
            b.iter(|| evaluate(black_box(&expr), black_box(&input)))
        });
    }
    group.finish();
    c.bench_function("parse/arguments", |b| {
        b.iter(|| Expression::parse(black_box(EXPRESSIONS[1].1)))
    });
}

criterion_group!(benches, criterion_benches);

/// Our time per evaluation, from a plain loop (the same shape as the reference's).
fn ours_ns(expr: &Expression, input: &Value, iterations: u32) -> f64 {
    for _ in 0..iterations.min(1000) {
        black_box(evaluate(expr, input));
    }
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(evaluate(expr, input));
    }
    start.elapsed().as_nanos() as f64 / f64::from(iterations)
}

/// jsonata.js's times, or why there are none.
fn reference_ns(iterations: u32) -> Result<Vec<f64>, String> {
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
    let input = order();
    for (name, text) in EXPRESSIONS {
        let line = json!({"name": name, "expr": text, "bindings": {"states": {"input": input}}});
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
    let input = order();
    let ours: Vec<f64> = EXPRESSIONS
        .iter()
        .map(|(_, text)| {
            ours_ns(
                &Expression::parse(text).expect("parses"),
                &input,
                iterations,
            )
        })
        .collect();
    let reference = reference_ns(iterations);
    println!(
        "\nsfn-jsonata vs jsonata.js 2.0.6, ns per evaluation ({iterations} each, one thread):"
    );
    println!(
        "{:<12} {:>12} {:>14} {:>8}",
        "expression", "sfn-jsonata", "jsonata.js", "ratio"
    );
    for (i, (name, _)) in EXPRESSIONS.iter().enumerate() {
        match &reference {
            Ok(r) => println!(
                "{name:<12} {:>12.0} {:>14.0} {:>7.1}x",
                ours[i],
                r[i],
                r[i] / ours[i]
            ),
            Err(_) => println!("{name:<12} {:>12.0} {:>14} {:>8}", ours[i], "-", "-"),
        }
    }
    match &reference {
        Ok(r) => {
            let geo = |v: &[f64]| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp();
            println!(
                "geometric mean: sfn-jsonata {:.0} ns, jsonata.js {:.0} ns: {:.1}x",
                geo(&ours),
                geo(r),
                geo(r) / geo(&ours)
            );
        }
        Err(e) => println!("jsonata.js not measured: {e} (scripts/setup installs it)"),
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    comparison();
}
