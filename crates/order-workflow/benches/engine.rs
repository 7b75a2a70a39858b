//! Executions per second of the order workflow (`tests/fixtures/order.bench.asl.json`, the
//! bench-peers copy) with stand-in task handlers, on one thread, history off and on.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use sfn_local::{ExecuteOptions, StateMachine, Status};

use order_workflow::standins;

fn order_workflow(c: &mut Criterion) {
    let machine = StateMachine::from_json(include_str!("../tests/fixtures/order.bench.asl.json"))
        .unwrap_or_else(|e| panic!("the bench definition must load: {e}"));
    let input: Value = serde_json::from_str(include_str!("../tests/fixtures/input.json"))
        .unwrap_or_else(|e| panic!("the bench input must be JSON: {e}"));
    let (handlers, _calls) =
        standins::stand_ins().unwrap_or_else(|e| panic!("the stand-ins register: {e}"));
    let quiet = ExecuteOptions::new().handlers(handlers).virtual_start(0);
    let with_history = quiet.clone();
    let quiet = quiet.history(false);

    let mut group = c.benchmark_group("order_workflow");
    group.throughput(Throughput::Elements(1));
    group.bench_function("execute (history off)", |b| {
        b.iter(|| {
            let ex = futures::executor::block_on(machine.execute(input.clone(), &quiet));
            assert_eq!(ex.status, Status::Succeeded);
            ex
        })
    });
    group.bench_function("execute (history on)", |b| {
        b.iter(|| {
            let ex = futures::executor::block_on(machine.execute(input.clone(), &with_history));
            assert_eq!(ex.status, Status::Succeeded);
            ex
        })
    });
    group.bench_function("load definition", |b| {
        b.iter(|| StateMachine::from_json(include_str!("../tests/fixtures/order.bench.asl.json")))
    });
    group.finish();
}

criterion_group!(benches, order_workflow);
criterion_main!(benches);
