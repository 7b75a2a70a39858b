//! jsonata's own test suite (`test/test-suite` of jsonata-js 2.0.6, MIT), run when
//! `JSONATA_TEST_SUITE` names its directory: `cargo test -p sfn-jsonata --test tests
//! suite -- --ignored --nocapture`. It is not vendored; the figure it prints is what the
//! crate's README reports.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sfn_jsonata::{Environment, Expression, FixedClock, Limits, SplitMix64};

/// Groups whose subject Step Functions does not offer.
const SKIPPED_GROUPS: &[&str] = &["function-eval"];

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // jsonata's runner compares numbers to 15 significant digits.
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || ((x - y) / y.abs().max(f64::MIN_POSITIVE)).abs() < 1e-14
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

fn run_case(dir: &Path, case: &Value) -> Result<(), String> {
    let expr = match case.get("expr").and_then(Value::as_str) {
        Some(e) => e.to_string(),
        None => {
            let file = case["expr-file"].as_str().ok_or("no expression")?;
            std::fs::read_to_string(dir.join(file)).map_err(|e| e.to_string())?
        }
    };
    let data = match case.get("data") {
        Some(d) => Some(d.clone()),
        None => match case.get("dataset").and_then(Value::as_str) {
            Some(name) => {
                let path = dir.join("../../datasets").join(format!("{name}.json"));
                let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
                Some(serde_json::from_str(&text).map_err(|e| e.to_string())?)
            }
            None => None,
        },
    };
    let bindings: serde_json::Map<String, Value> = case
        .get("bindings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // The suite measures semantics; its largest ranges exceed the default size limits.
    let mut limits = Limits {
        max_sequence_length: 10_000_000,
        max_steps: 50_000_000,
        ..Limits::default()
    };
    if let Some(depth) = case.get("depth").and_then(Value::as_u64) {
        limits.max_depth = depth as usize;
    }
    let clock = FixedClock(1_521_801_216_617);
    let mut random = SplitMix64::new(1);
    let mut env = Environment::new(&clock, &mut random).with_limits(limits);
    let outcome = Expression::parse(&expr)
        .map_err(|e| (e.code().to_string(), e.to_string()))
        .and_then(|e| {
            e.evaluate(data.as_ref(), &bindings, &mut env)
                .map_err(|e| (e.code().to_string(), e.to_string()))
        });
    let code = case
        .get("code")
        .or_else(|| case.get("error").and_then(|e| e.get("code")))
        .and_then(Value::as_str);
    if let Some(code) = code {
        return match outcome {
            Err((c, _)) if c == code => Ok(()),
            // The runner's own depth and time limits; ours raise these codes.
            Err((c, _)) if code == "U1001" && (c == "D1011" || c == "D1012") => Ok(()),
            Err((_, m)) => Err(format!("{expr}: wanted {code}, got {m}")),
            Ok(v) => Err(format!("{expr}: wanted {code}, got {v:?}")),
        };
    }
    let want = if case.get("undefinedResult").is_some() {
        None
    } else {
        case.get("result").cloned()
    };
    match outcome {
        Ok(got) if got.is_none() && want.is_none() => Ok(()),
        Ok(Some(got)) if want.as_ref().is_some_and(|w| equal(&got, w)) => Ok(()),
        Ok(got) => Err(format!("{expr}: wanted {want:?}, got {got:?}")),
        Err((_, m)) => Err(format!("{expr}: wanted {want:?}, got {m}")),
    }
}

#[test]
#[ignore = "needs jsonata's test suite: set JSONATA_TEST_SUITE"]
fn jsonata_test_suite() {
    let Ok(root) = std::env::var("JSONATA_TEST_SUITE") else {
        panic!("set JSONATA_TEST_SUITE to jsonata-js's test/test-suite directory");
    };
    let groups = Path::new(&root).join("groups");
    let mut per_group: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&groups)
        .expect("groups")
        .flatten()
        .collect();
    dirs.sort_by_key(|d| d.file_name());
    for group in dirs {
        let name = group.file_name().to_string_lossy().to_string();
        if SKIPPED_GROUPS.contains(&name.as_str()) {
            continue;
        }
        let mut files: Vec<_> = std::fs::read_dir(group.path())
            .expect("group")
            .flatten()
            .collect();
        files.sort_by_key(|f| f.file_name());
        for file in files {
            let path = file.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("case");
            // A few cases hold lone UTF-16 surrogates, which a Rust string cannot.
            let Ok(value) = serde_json::from_str::<Value>(&text) else {
                println!("SKIP {name}/{}: not representable", path.display());
                continue;
            };
            let cases = match value {
                Value::Array(a) => a,
                v => vec![v],
            };
            for case in cases {
                let entry = per_group.entry(name.clone()).or_default();
                entry.1 += 1;
                let dir = group.path();
                let started = std::time::Instant::now();
                let result = std::panic::catch_unwind(|| run_case(&dir, &case));
                if started.elapsed().as_millis() > 500 {
                    println!("SLOW {name}/{}: {:?}", path.display(), started.elapsed());
                }
                match result {
                    Ok(Ok(())) => entry.0 += 1,
                    Ok(Err(e)) => failures.push(format!(
                        "{name}/{}: {e}",
                        path.file_name().unwrap_or_default().to_string_lossy()
                    )),
                    Err(_) => failures.push(format!("{name}/{}: PANIC", path.display())),
                }
            }
        }
    }
    let (pass, total) = per_group
        .values()
        .fold((0, 0), |(p, t), (a, b)| (p + a, t + b));
    for f in &failures {
        println!("FAIL {f}");
    }
    for (g, (p, t)) in &per_group {
        if p != t {
            println!("{g}: {p}/{t}");
        }
    }
    println!("jsonata test suite: {pass}/{total} passed");
}
