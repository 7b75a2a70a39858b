//! What one processed order costs the store: a conditional PutItem of the order record, an
//! SNS publish of its notification and the execution record with its history, each in its
//! own transaction as the workflow makes them. Throughput is reported in orders per second.
//!
//! `cargo bench -p aws-emulator --bench store`

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_emulator::{ExecutionRecord, ExecutionStatus, KeySchema, KeyType, Store};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

static NEXT_ORDER: AtomicU64 = AtomicU64::new(0);

fn order_item(id: &str) -> Value {
    json!({
        "orderId": {"S": id},
        "State": {"S": "PAYMENT_PROCESSED"},
        "customerId": {"S": "c-42"},
        "orderTotal": {"N": "124.97"},
        "card": {"M": {"brand": {"S": "VISA"}, "last4": {"S": "4242"}}},
        "chargeId": {"S": "ch_3f9a1c"},
        "executionArn": {"S": format!("arn:aws:states:us-east-1:123456789012:execution:OrderProcessing:{id}")},
        "items": {"L": [
            {"M": {"itemId": {"S": "i-1"}, "price": {"N": "24.99"}, "itemDescription": {"S": "Kettle"}, "quantityInStock": {"N": "12"}}},
            {"M": {"itemId": {"S": "i-2"}, "price": {"N": "99.98"}, "itemDescription": {"S": "Toaster"}, "quantityInStock": {"N": "3"}}}
        ]},
        "createdAt": {"S": "2025-01-01T00:00:00Z"}
    })
}

/// A history like the workflow's successful path: about 30 events with inputs and outputs.
fn history(id: &str) -> Vec<Value> {
    let states = [
        "Initialize",
        "VerifyAndCheck",
        "VerifyPayment",
        "CheckStock",
        "PaymentVerified?",
        "Tidy",
        "CheckEachItem",
        "ChargePayment",
        "RecordOrder",
        "Notify",
    ];
    let mut events = vec![
        json!({"id": 1, "type": "ExecutionStarted", "timestamp": "2025-01-01T00:00:00Z",
        "executionStartedEventDetails": {"input": format!("{{\"orderId\":\"{id}\",\"orderTotal\":124.97}}")}}),
    ];
    for (i, state) in states.iter().enumerate() {
        events.push(json!({"id": events.len() + 1, "previousEventId": events.len(), "type": "TaskStateEntered",
            "stateEnteredEventDetails": {"name": state, "input": format!("{{\"orderId\":\"{id}\",\"step\":{i}}}")}}));
        events.push(json!({"id": events.len() + 1, "previousEventId": events.len(), "type": "TaskSucceeded",
            "taskSucceededEventDetails": {"resourceType": "lambda", "resource": "invoke", "output": "{\"ok\":true}"}}));
        events.push(json!({"id": events.len() + 1, "previousEventId": events.len(), "type": "TaskStateExited",
            "stateExitedEventDetails": {"name": state, "output": format!("{{\"orderId\":\"{id}\",\"step\":{i}}}")}}));
    }
    events.push(json!({"id": events.len() + 1, "type": "ExecutionSucceeded", "executionSucceededEventDetails": {"output": "{}"}}));
    events
}

fn setup(store: &Store) -> String {
    store
        .create_table("Orders", &KeySchema::new("orderId", KeyType::S))
        .expect("table");
    store.create_topic("OrderNotifications").expect("topic")
}

/// One order's writes.
fn process_order(store: &Store, topic: &str) {
    let n = NEXT_ORDER.fetch_add(1, Ordering::Relaxed);
    let id = format!("order-{n}");
    store
        .put_item(&json!({
            "TableName": "Orders",
            "Item": order_item(&id),
            "ConditionExpression": "attribute_not_exists(orderId)"
        }))
        .expect("put");
    store
        .publish(&json!({
            "TopicArn": topic,
            "Subject": "Order processed",
            "Message": format!("{{\"orderId\":\"{id}\",\"state\":\"PAYMENT_PROCESSED\",\"customerId\":\"c-42\",\"orderTotal\":124.97,\"items\":[\"i-1\",\"i-2\"]}}"),
            "MessageAttributes": {"state": {"DataType": "String", "StringValue": "PAYMENT_PROCESSED"}}
        }))
        .expect("publish");
    let now = SystemTime::now();
    let record = ExecutionRecord {
        execution_arn: format!(
            "arn:aws:states:us-east-1:123456789012:execution:OrderProcessing:{id}"
        ),
        state_machine_name: "OrderProcessing".into(),
        name: id.clone(),
        status: ExecutionStatus::Succeeded,
        start_date: now,
        stop_date: Some(now),
        input: json!({"orderId": id, "orderTotal": 124.97}),
        output: Some(json!({"orderId": id, "state": "PAYMENT_PROCESSED"})),
        error: None,
        cause: None,
    };
    store
        .record_execution(&record, &history(&id))
        .expect("record");
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("aws-emulator-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file_store = Store::open(&dir).expect("open");
    let file_topic = setup(&file_store);
    let memory_store = Store::in_memory().expect("memory");
    let memory_topic = setup(&memory_store);

    let mut group = c.benchmark_group("order");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("file_store", |b| {
        b.iter(|| process_order(&file_store, &file_topic))
    });
    // Several writers at once, as a load run's concurrent executions are: group commit
    // shares their transactions.
    for threads in [2u64, 8] {
        group.bench_function(format!("file_store_{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|scope| {
                    for t in 0..threads {
                        let share = iters / threads + u64::from(t < iters % threads);
                        let (store, topic) = (&file_store, &file_topic);
                        scope.spawn(move || (0..share).for_each(|_| process_order(store, topic)));
                    }
                });
                start.elapsed()
            })
        });
    }
    group.bench_function("memory_store", |b| {
        b.iter(|| process_order(&memory_store, &memory_topic))
    });
    group.finish();
    drop(file_store);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
