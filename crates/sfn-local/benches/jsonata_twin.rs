//! The order workflow written in JSONata with variables (`order.bench.jsonata.asl.json`)
//! against its JSONPath twin (`order.bench.asl.json`): executions per second on one thread
//! with stand-in task handlers and history off, and the cost of loading each (JSONata
//! expressions are parsed then). Both run the same tasks with the same parameters and give
//! the same output (`workflow::the_jsonata_twin_does_what_the_jsonpath_workflow_does`).
//! The JSONata language alone is compared with jsonata.js by `cargo bench -p sfn-jsonata`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use sfn_local::{ExecuteOptions, StateMachine, Status};

#[path = "../tests/common/standins.rs"]
mod standins;

const JSONPATH: &str = include_str!("../tests/fixtures/order.bench.asl.json");
const JSONATA: &str = include_str!("../tests/fixtures/order.bench.jsonata.asl.json");

fn jsonata_twin(c: &mut Criterion) {
    let load = |text: &str| {
        StateMachine::from_json(text)
            .unwrap_or_else(|e| panic!("the bench definitions must load: {e}"))
    };
    let input: Value = serde_json::from_str(include_str!("../tests/fixtures/input.json"))
        .unwrap_or_else(|e| panic!("the bench input must be JSON: {e}"));
    let (handlers, _calls) = standins::stand_ins();
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
criterion_main!(benches);
