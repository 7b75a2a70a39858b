//! Execution records and histories.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_emulator::{ExecutionRecord, ExecutionStatus, Store};
use serde_json::json;

use crate::common::TempDir;

fn record(name: &str, start_s: u64) -> ExecutionRecord {
    ExecutionRecord {
        execution_arn: format!(
            "arn:aws:states:us-east-1:123456789012:execution:OrderProcessing:{name}"
        ),
        state_machine_name: "OrderProcessing".into(),
        name: name.into(),
        status: ExecutionStatus::Running,
        start_date: UNIX_EPOCH + Duration::from_secs(start_s),
        stop_date: None,
        input: json!({"orderId": name}),
        output: None,
        error: None,
        cause: None,
    }
}

#[test]
fn record_get_update_and_history_round_trip() {
    let dir = TempDir::new("exec");
    let first = record("e-1", 1_700_000_000);
    {
        let s = Store::open(dir.path()).unwrap();
        s.record_execution(&first, &[json!({"type": "ExecutionStarted", "id": 1})])
            .unwrap();
        let mut done = first.clone();
        done.status = ExecutionStatus::Failed;
        done.stop_date = Some(first.start_date + Duration::from_millis(1234));
        done.error = Some("OutOfStock".into());
        done.cause = Some("item x1 is out of stock".into());
        let history = [
            json!({"type": "ExecutionStarted", "id": 1}),
            json!({"type": "ExecutionFailed", "id": 2}),
        ];
        s.record_execution(&done, &history).unwrap();
        s.record_execution(&record("e-2", 1_700_000_100), &[])
            .unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    let got = s.get_execution(&first.execution_arn).unwrap().unwrap();
    assert_eq!(got.status, ExecutionStatus::Failed);
    assert_eq!(got.error.as_deref(), Some("OutOfStock"));
    assert_eq!(
        got.stop_date
            .unwrap()
            .duration_since(got.start_date)
            .unwrap(),
        Duration::from_millis(1234)
    );
    assert_eq!(got.input, json!({"orderId": "e-1"}));
    assert_eq!(
        s.get_execution("e-1").unwrap().unwrap(),
        got,
        "lookup by name"
    );
    assert_eq!(s.get_execution("nope").unwrap(), None);
    let history = s.execution_history("e-1").unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["type"], "ExecutionFailed");
    let names: Vec<String> = s
        .list_executions()
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["e-2", "e-1"], "newest first");
    let missing = s.execution_history("nope").unwrap_err();
    assert_eq!(missing.to_string(), "execution not found: nope");
}

#[test]
fn invalid_records_are_refused() {
    let s = Store::in_memory().unwrap();
    let mut bad = record("x", 0);
    bad.execution_arn.clear();
    let err = s.record_execution(&bad, &[]).unwrap_err();
    assert_eq!(err.to_string(), "invalid execution_arn: must not be empty");
    assert_eq!(
        "PAUSED"
            .parse::<ExecutionStatus>()
            .unwrap_err()
            .error_name(),
        "Store.InvalidRecord"
    );
    assert!(SystemTime::now() > UNIX_EPOCH);
}

#[test]
fn histories_are_stored_compressed_and_older_text_histories_still_read() {
    let dir = TempDir::new("exec-compressed");
    let first = record("e-1", 1_700_000_000);
    let second = record("e-2", 1_700_000_100);
    let history: Vec<_> = (1..=40)
        .map(|id| json!({"type": "PassStateEntered", "id": id, "stateEnteredEventDetails": {"input": "{\"orderId\":\"o-1\",\"items\":[1,2,3]}"}}))
        .collect();
    {
        let s = Store::open(dir.path()).unwrap();
        s.record_execution(&first, &history).unwrap();
        s.record_execution(&second, &history).unwrap();
    }
    let file = dir.path().join(aws_emulator::DATABASE_FILE);
    let conn = rusqlite::Connection::open(&file).unwrap();
    let (kind, stored): (String, i64) = conn
        .query_row(
            "SELECT typeof(history), length(history) FROM executions WHERE name = 'e-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let text = serde_json::to_string(&history).unwrap();
    assert_eq!(kind, "blob");
    assert!(
        (stored as usize) * 4 < text.len(),
        "{stored} bytes stored for {} of JSON",
        text.len()
    );
    // A store written before compression holds the JSON text.
    conn.execute(
        "UPDATE executions SET history = ?1 WHERE name = 'e-1'",
        [&text],
    )
    .unwrap();
    // A damaged blob whose length prefix claims 4 GiB.
    conn.execute(
        "UPDATE executions SET history = x'ffffffff00' WHERE name = 'e-2'",
        [],
    )
    .unwrap();
    drop(conn);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.execution_history(&first.execution_arn).unwrap(), history);
    let damaged = s.execution_history(&second.execution_arn).unwrap_err();
    assert!(
        damaged.to_string().contains("history of execution"),
        "{damaged}"
    );
}

#[test]
fn progress_accumulates_across_reopening_and_goes_when_the_execution_ends() {
    let dir = TempDir::new("progress");
    let running = record("e-p", 1_700_000_000);
    let arn = running.execution_arn.clone();
    {
        let s = Store::open(dir.path()).unwrap();
        s.record_execution(&running, &[json!({"id": 1})]).unwrap();
        assert_eq!(s.progress(&arn).unwrap(), None, "no checkpoint yet");
        s.save_progress(&arn, &[], 1, b"first").unwrap();
        s.save_progress(&arn, &[json!({"id": 2}), json!({"id": 3})], 3, b"second")
            .unwrap();
        s.save_progress(&arn, &[json!({"id": 4})], 4, b"third")
            .unwrap();
    }
    // A crash: the store is opened again, and the progress is all there.
    let s = Store::open(dir.path()).unwrap();
    let progress = s.progress(&arn).unwrap().expect("a checkpoint");
    let ids: Vec<u64> = progress
        .events
        .iter()
        .filter_map(|e| e["id"].as_u64())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    assert_eq!(progress.last_event_id, 4);
    assert_eq!(progress.sealed, b"third");
    let mut done = running.clone();
    done.status = ExecutionStatus::Succeeded;
    done.stop_date = Some(running.start_date + Duration::from_secs(1));
    s.record_execution(&done, &[json!({"id": 1}), json!({"id": 5})])
        .unwrap();
    assert_eq!(
        s.progress(&arn).unwrap(),
        None,
        "a finished execution keeps no progress"
    );
}

#[test]
fn a_failed_execution_keeps_its_checkpoint_for_a_redrive() {
    let dir = TempDir::new("redrive");
    let s = Store::open(dir.path()).unwrap();
    let running = record("e-r", 1_700_000_000);
    let arn = running.execution_arn.clone();
    s.record_execution(&running, &[json!({"id": 1})]).unwrap();
    s.save_progress(&arn, &[json!({"id": 2})], 2, b"sealed")
        .unwrap();
    let mut failed = running.clone();
    failed.status = ExecutionStatus::Failed;
    s.record_execution(
        &failed,
        &[json!({"id": 1}), json!({"id": 2}), json!({"id": 3})],
    )
    .unwrap();
    let kept = s.progress(&arn).unwrap().expect("the checkpoint is kept");
    assert_eq!(kept.sealed, b"sealed");
    assert_eq!(
        kept.events.len(),
        3,
        "the whole history, no progress batch twice"
    );
    assert_eq!(s.redrives().unwrap().get(&arn), None);
    let when = UNIX_EPOCH + Duration::from_secs(1_700_000_100);
    assert!(s.has_checkpoint(&arn).unwrap());
    assert_eq!(s.redrive(&arn).unwrap(), None);
    s.record_redrive(&arn, 1, when).unwrap();
    assert_eq!(s.redrives().unwrap().get(&arn), Some(&(1, when)));
    assert_eq!(s.redrive(&arn).unwrap(), Some((1, when)));
}

#[test]
fn one_machine_s_executions_are_listed_a_page_at_a_time() {
    let dir = TempDir::new("pages");
    let s = Store::open(dir.path()).unwrap();
    for i in 0..7u64 {
        let mut r = record(&format!("p-{i}"), 1_700_000_000 + i);
        if i % 2 == 0 {
            r.status = ExecutionStatus::Succeeded;
        }
        s.record_execution(&r, &[]).unwrap();
    }
    let mut other = record("elsewhere", 1_800_000_000);
    other.state_machine_name = "Other".into();
    other.execution_arn = "arn:aws:states:us-east-1:123456789012:execution:Other:elsewhere".into();
    s.record_execution(&other, &[]).unwrap();
    let names = |page: &[ExecutionRecord]| page.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    let (first, more) = s.list_executions_of("OrderProcessing", None, 0, 3).unwrap();
    assert_eq!(
        (names(&first), more),
        (vec!["p-6".into(), "p-5".into(), "p-4".into()], true)
    );
    let (last, more) = s.list_executions_of("OrderProcessing", None, 6, 3).unwrap();
    assert_eq!((names(&last), more), (vec!["p-0".to_owned()], false));
    let (running, more) = s
        .list_executions_of("OrderProcessing", Some(ExecutionStatus::Running), 0, 10)
        .unwrap();
    assert_eq!(
        (names(&running), more),
        (vec!["p-5".into(), "p-3".into(), "p-1".into()], false)
    );
}
