//! The charge ledger: one charge per order id, even under concurrency.

use std::sync::{Arc, Barrier};

use aws_emulator::{ChargeOutcome, Store};
use serde_json::json;

use crate::common::TempDir;

#[test]
fn second_charge_returns_the_original() {
    let s = Store::in_memory().unwrap();
    let first = json!({"paymentResult": "SUCCESS", "chargeId": "ch-1", "amount": 42.5});
    assert_eq!(s.charge_once("o-1", &first).unwrap(), ChargeOutcome::New);
    let second = json!({"paymentResult": "SUCCESS", "chargeId": "ch-2", "amount": 42.5});
    assert_eq!(
        s.charge_once("o-1", &second).unwrap(),
        ChargeOutcome::Existing(first.clone())
    );
    assert_eq!(s.charge("o-1").unwrap().unwrap().record, first);
    assert_eq!(s.charge("o-2").unwrap(), None);
    assert_eq!(s.charges().unwrap().len(), 1);
    assert_eq!(
        s.charge_once("", &first).unwrap_err().error_name(),
        "Store.InvalidRecord"
    );
}

#[test]
fn concurrent_charges_record_one() {
    let dir = TempDir::new("ledger");
    const THREADS: usize = 6;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Store::open(dir.path()).unwrap();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                store
                    .charge_once("o-race", &json!({"chargeId": format!("ch-{t}")}))
                    .unwrap()
            })
        })
        .collect();
    let outcomes: Vec<ChargeOutcome> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == ChargeOutcome::New)
            .count(),
        1
    );
    let recorded = Store::open(dir.path())
        .unwrap()
        .charge("o-race")
        .unwrap()
        .unwrap()
        .record;
    for outcome in outcomes {
        if let ChargeOutcome::Existing(original) = outcome {
            assert_eq!(original, recorded, "every loser sees the winner's record");
        }
    }
}
