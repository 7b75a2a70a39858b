//! Runs test cases: each in its own execution, in virtual time, with its own mock counters,
//! on a bounded number of threads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use sfn_local::{
    EventDetails, ExecuteOptions, Execution, Handlers, Observer, RuleTaken, Status, system_millis,
};

use crate::suite::{Expect, ExpectedStatus, TestCase, TestFile};

/// The longest one test case's execution may take in real time. Virtual time makes waits and
/// retry back-offs free, so only a runaway loop comes near it (AWS's 25,000-event history
/// limit ends those first).
const WALL_CLOCK_LIMIT: Duration = Duration::from_secs(60);

/// How one test case went.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The index of its file in the files given to [`run`].
    pub file: usize,
    /// The test file.
    pub path: PathBuf,
    /// The test case's name.
    pub case: String,
    /// How the execution ended (`SUCCEEDED`, `FAILED`, `TIMED_OUT`).
    pub status: &'static str,
    /// Its output, when it succeeded.
    pub output: Option<Value>,
    /// Its error, when it failed.
    pub error: Option<String>,
    /// Its cause, when it failed with one.
    pub cause: Option<String>,
    /// The states it entered, in the order the history records them.
    pub entered: Vec<String>,
    /// The Choice, Retry and Catch rules it applied: (state, rule).
    pub rules: Vec<(String, RuleTaken)>,
    /// Each way the execution differs from what the test case expects; empty when it passed.
    pub failures: Vec<String>,
    /// The real time the case took.
    pub duration: Duration,
}

impl CaseResult {
    /// Whether the execution did all the test case expects.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every test case of `files` on up to `jobs` threads (at least one); the results come
/// in the files' order, and each file's cases in its order.
pub fn run(files: &[TestFile], jobs: usize) -> Vec<CaseResult> {
    let work: Vec<(usize, &TestFile, &TestCase)> = files
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.cases.iter().map(move |c| (i, f, c)))
        .collect();
    let results: Mutex<Vec<Option<CaseResult>>> = Mutex::new(vec![None; work.len()]);
    let next = AtomicUsize::new(0);
    let threads = jobs.clamp(1, work.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((index, file, case)) = work.get(i) else {
                        break;
                    };
                    let result = run_case(*index, file, case);
                    if let Some(slot) = results
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_mut(i)
                    {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

/// Collects the rules an execution applies.
#[derive(Default)]
struct Rules(Mutex<Vec<(String, RuleTaken)>>);

impl Observer for Rules {
    fn rule_taken(&self, state: &str, rule: RuleTaken) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((state.to_owned(), rule));
    }
}

fn run_case(index: usize, file: &TestFile, case: &TestCase) -> CaseResult {
    let started = Instant::now();
    let mut handlers = Handlers::new();
    // The file was checked on reading: the test case is the configuration's.
    let mocked = file.mocks.test_case(Some(&file.machine_name), &case.name);
    let setup_failure = match &mocked {
        Ok(mocked) => {
            mocked.apply(&mut handlers);
            None
        }
        Err(e) => Some(e.to_string()),
    };
    let rules = Arc::new(Rules::default());
    let options = ExecuteOptions::new()
        .handlers(handlers)
        .virtual_start(system_millis())
        .name(&case.execution_name)
        .state_machine_name(&file.machine_name)
        .wall_clock_limit(WALL_CLOCK_LIMIT)
        .observer(Arc::clone(&rules) as Arc<dyn Observer>);
    let execution = futures::executor::block_on(file.machine.execute(case.input.clone(), &options));
    let entered = entered(&execution);
    let mut failures = check(&case.expect, &execution, &entered);
    if let Some(setup) = setup_failure {
        failures.insert(0, setup);
    }
    let rules = std::mem::take(&mut *rules.0.lock().unwrap_or_else(PoisonError::into_inner));
    CaseResult {
        file: index,
        path: file.path.clone(),
        case: case.name.clone(),
        status: execution.status.as_str(),
        output: execution.output,
        error: execution.error,
        cause: execution.cause,
        entered,
        rules,
        failures,
        duration: started.elapsed(),
    }
}

fn entered(execution: &Execution) -> Vec<String> {
    execution
        .history
        .iter()
        .filter_map(|e| match &e.details {
            EventDetails::StateEntered { name, .. } => Some(name.to_string()),
            _ => None,
        })
        .collect()
}

fn check(expect: &Expect, execution: &Execution, entered: &[String]) -> Vec<String> {
    let mut failures = Vec::new();
    let status = match execution.status {
        Status::Succeeded => ExpectedStatus::Succeeded,
        Status::Failed => ExpectedStatus::Failed,
        Status::TimedOut => ExpectedStatus::TimedOut,
    };
    if status != expect.status {
        let mut message = format!(
            "status: expected {}, got {}",
            expect.status.as_str(),
            status.as_str()
        );
        if status != ExpectedStatus::Succeeded {
            message.push_str(&format!(
                " (error {}, cause {})",
                shown(execution.error.as_deref()),
                shown(execution.cause.as_deref())
            ));
        }
        failures.push(message);
    }
    if let Some(want) = &expect.output {
        match &execution.output {
            Some(got) if same(want, got) => {}
            got => failures.push(format!(
                "output: expected {want}, got {}",
                got.as_ref().map_or("none".to_owned(), Value::to_string)
            )),
        }
    }
    if let Some(want) = &expect.output_includes {
        match &execution.output {
            Some(got) => {
                if let Some(at) = missing(want, got, "$") {
                    failures.push(format!("output: {at}; the output is {got}"));
                }
            }
            None => failures.push(format!("output: expected one including {want}, got none")),
        }
    }
    let text_check =
        |field: &str, want: &Option<String>, got: Option<&str>, out: &mut Vec<String>| {
            if let Some(want) = want
                && got != Some(want.as_str())
            {
                out.push(format!("{field}: expected {want:?}, got {}", shown(got)));
            }
        };
    text_check(
        "error",
        &expect.error,
        execution.error.as_deref(),
        &mut failures,
    );
    text_check(
        "cause",
        &expect.cause,
        execution.cause.as_deref(),
        &mut failures,
    );
    if let Some(want) = &expect.cause_includes
        && !execution
            .cause
            .as_deref()
            .is_some_and(|c| c.contains(want.as_str()))
    {
        failures.push(format!(
            "cause: expected one containing {want:?}, got {}",
            shown(execution.cause.as_deref())
        ));
    }
    if let Some(path) = &expect.path
        && path.as_slice() != entered
    {
        failures.push(format!(
            "path: expected {}, got {}",
            path.join(" → "),
            entered.join(" → ")
        ));
    }
    for state in &expect.entered {
        if !entered.contains(state) {
            failures.push(format!("entered: {state:?} was never entered"));
        }
    }
    for state in &expect.not_entered {
        if entered.contains(state) {
            failures.push(format!("notEntered: {state:?} was entered"));
        }
    }
    failures
}

fn shown(text: Option<&str>) -> String {
    text.map_or("none".to_owned(), |t| format!("{t:?}"))
}

/// JSON values equal as JSON: numbers by value (`1` is `1.0`), objects whatever their key
/// order.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Where `got` lacks what `want` holds: objects need `want`'s keys at least (recursively),
/// anything else must be the same. `None` when nothing is missing.
fn missing(want: &Value, got: &Value, at: &str) -> Option<String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w.iter().find_map(|(k, v)| match g.get(k) {
            None => Some(format!("{at}.{k} is missing")),
            Some(gv) => missing(v, gv, &format!("{at}.{k}")),
        }),
        _ if same(want, got) => None,
        _ => Some(format!("{at} is {got}, expected {want}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subsets_and_sameness() {
        assert!(same(
            &json!({"a": 1, "b": [1.0]}),
            &json!({"b": [1], "a": 1.0})
        ));
        assert!(!same(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert_eq!(
            missing(
                &json!({"a": {"b": 1}}),
                &json!({"a": {"b": 1, "c": 2}}),
                "$"
            ),
            None
        );
        assert_eq!(
            missing(&json!({"a": {"b": 1}}), &json!({"a": {"c": 2}}), "$").as_deref(),
            Some("$.a.b is missing")
        );
        assert_eq!(
            missing(&json!({"a": [1]}), &json!({"a": [1, 2]}), "$").as_deref(),
            Some("$.a is [1,2], expected [1]")
        );
    }
}
