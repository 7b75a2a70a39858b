//! Long-running fuzz targets: proptest generators driven for a time budget rather than a
//! case count, since cargo-fuzz needs a nightly toolchain. Each target is an ignored test;
//! run one for ten minutes with
//!
//! ```text
//! FUZZ_SECONDS=600 cargo test --release -p sfn-local --test tests fuzz::jsonpath -- --ignored --nocapture
//! ```
//!
//! (targets: `fuzz::jsonpath`, `fuzz::intrinsics`, `fuzz::definitions`, `fuzz::limits`,
//! `fuzz::jsonata`).
//! `FUZZ_SEED` picks the first round's seed; a failure prints the seed that reproduces it.
//! Each prints the process's peak resident memory when it ends.

use std::time::{Duration, Instant};

use futures::FutureExt as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value, json};
use sfn_local::intrinsics::{Intrinsic, RandomSource};
use sfn_local::path::Path;
use sfn_local::{ExecuteOptions, Handlers, StateMachine, TaskFailure, TaskRequest};

/// The order workflow, the richest definition the project has, as the seed of mutations.
const ORDER_DEFINITION: &str = include_str!("../../../statemachine/order-processing.asl.json");

/// Runs `test` on values from `strategy` in rounds of 256 cases until the time budget
/// (`FUZZ_SECONDS`, default 5) is spent, then prints how many cases ran.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let seconds = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let first_seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| sfn_local::system_millis().unsigned_abs());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut cases = 0_u64;
    let mut round = 0_u64;
    while Instant::now() < deadline {
        let seed = first_seed.wrapping_add(round);
        let mut bytes = [0_u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let config = Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("fuzz target {name} failed after {cases} cases (FUZZ_SEED={seed}): {e}");
        }
        cases += 256;
        round += 1;
    }
    println!(
        "fuzz target {name}: {cases} cases in {seconds} s, first seed {first_seed}, no failure; peak RSS {}",
        peak_rss()
    );
}

/// The process's peak resident set size, as Linux reports it (`VmHWM`).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        "[a-c$.{}\\\\' ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-c]{1,2}|items|orderId|\\PC{0,4}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Path-like text: mostly the JSONPath alphabet, sometimes anything.
fn path_text() -> impl Strategy<Value = String> {
    let step = prop_oneof![
        "\\.[a-c]{1,2}",
        Just("..*".to_owned()),
        Just(".*".to_owned()),
        "\\[-?[0-9]{1,2}\\]",
        "\\[-?[0-9]?:-?[0-9]?(:-?[0-9])?\\]",
        "\\[[0-9],[0-9]\\]",
        "\\['[a-c ]{0,3}'\\]",
        "\\[\\?\\(@\\.[a-c] (<|>|==|!=|<=|>=) (-?[0-9]|'[a-c]')\\)\\]",
        "\\[\\?\\(@\\.[a-c] (&&|\\|\\|) !@\\.[a-c]\\)\\]",
        "\\[\\?\\(@\\.[a-c] =~ /[a-c.*]{0,3}/i?\\)\\]",
        "\\[\\?\\(@\\.length-1\\)\\]",
        r"[$.@\[\]'?()*:,0-9a-c =<>!&|/-]{0,6}",
    ];
    prop_oneof![
        4 => (prop::bool::ANY, prop::collection::vec(step, 0..6)).prop_map(|(ctx, steps)| {
            let mut text = String::from(if ctx { "$$" } else { "$" });
            steps.iter().for_each(|s| text.push_str(s));
            text
        }),
        1 => "\\PC{0,30}",
    ]
}

fn intrinsic_text() -> impl Strategy<Value = String> {
    let names = vec![
        "States.Format",
        "States.StringToJson",
        "States.JsonToString",
        "States.Array",
        "States.ArrayPartition",
        "States.ArrayContains",
        "States.ArrayRange",
        "States.ArrayGetItem",
        "States.ArrayLength",
        "States.ArrayUnique",
        "States.Base64Encode",
        "States.Base64Decode",
        "States.Hash",
        "States.JsonMerge",
        "States.MathRandom",
        "States.MathAdd",
        "States.StringSplit",
        "States.UUID",
    ];
    let leaf = prop_oneof![
        "'[a-c{}\\\\ ,]{0,6}'",
        "-?[0-9]{1,4}",
        "-?[0-9]{1,3}\\.[0-9]{1,2}",
        Just("null".to_owned()),
        Just("true".to_owned()),
        "\\$(\\.[a-c]{1,2}){0,3}",
        Just("$$.Execution.Id".to_owned()),
        Just("'SHA-256'".to_owned()),
    ];
    leaf.prop_recursive(3, 16, 4, move |inner| {
        (
            prop::sample::select(names.clone()),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(name, args)| format!("{name}({})", args.join(", ")))
    })
}

struct Counter(u64);

impl RandomSource for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        self.0
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
}

fn pointers(value: &Value, at: String, all: &mut Vec<String>) {
    match value {
        Value::Object(members) => members.iter().for_each(|(k, v)| {
            pointers(
                v,
                format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                all,
            )
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| pointers(v, format!("{at}/{i}"), all)),
        _ => {}
    }
    all.push(at);
}

/// The definition with some members replaced by other JSON or removed.
fn mutate(mut value: Value, mutations: &[Mutation]) -> Value {
    for mutation in mutations {
        let mut all = Vec::new();
        pointers(&value, String::new(), &mut all);
        let pick = |n: usize| all.get(n % all.len().max(1)).cloned().unwrap_or_default();
        match mutation {
            Mutation::Replace(n, replacement) => {
                if let Some(slot) = value.pointer_mut(&pick(*n)) {
                    *slot = replacement.clone();
                }
            }
            Mutation::Remove(n) => {
                let pointer = pick(*n);
                if let Some((parent, key)) = pointer.rsplit_once('/') {
                    match value.pointer_mut(parent) {
                        Some(Value::Object(members)) => {
                            members.remove(&key.replace("~1", "/").replace("~0", "~"));
                        }
                        Some(Value::Array(items)) => {
                            if let Some(index) =
                                key.parse::<usize>().ok().filter(|i| *i < items.len())
                            {
                                items.remove(index);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    value
}

fn definition_value() -> impl Strategy<Value = Value> {
    let base: Value = serde_json::from_str(ORDER_DEFINITION).expect("the definition is JSON");
    let replacement = prop_oneof![
        json_value(),
        Just(json!("Next State")),
        Just(json!({"Type": "Pass", "End": true})),
        Just(json!({"Type": "Fail", "Error": "E"})),
        Just(json!({"Variable": "$.a", "NumericEquals": 1, "Next": "Notify"})),
        "States\\.[A-Za-z]{0,8}\\(\\$\\.[a-c]\\)".prop_map(Value::String),
        "\\$[.a-c\\[\\]0-9*]{0,8}".prop_map(Value::String),
    ];
    let mutation = prop_oneof![
        3 => (any::<usize>(), replacement).prop_map(|(n, v)| Mutation::Replace(n, v)),
        1 => any::<usize>().prop_map(Mutation::Remove),
    ];
    prop_oneof![
        6 => prop::collection::vec(mutation, 1..5).prop_map(move |m| mutate(base.clone(), &m)),
        1 => json_value(),
    ]
}

/// Every task answers with its input, or fails with a retryable error on odd attempts,
/// so retries, catches and the states after the tasks all run.
fn echo_handlers() -> Handlers {
    let mut handlers = Handlers::new();
    for pattern in [
        "arn:aws:states:::*",
        "arn:aws:lambda:*:*:function:*",
        "arn:aws:states:::dynamodb:*",
    ] {
        let _ = handlers.register(pattern, |request: TaskRequest| {
            let answer = if request.attempt % 2 == 1 && request.input.to_string().len() % 3 == 0 {
                Err(TaskFailure::new("Lambda.ServiceException", "injected"))
            } else {
                Ok(json!({"Payload": request.input, "StatusCode": 200}))
            };
            async move { answer }.boxed()
        });
    }
    handlers
}

#[test]
#[ignore = "a time-bounded fuzz run; see the module doc"]
fn jsonpath() {
    fuzz(
        "jsonpath",
        (path_text(), json_value(), json_value()),
        |(text, input, ctx)| {
            if let Ok(path) = Path::parse(&text) {
                let _ = path.eval(&input, &ctx);
                let _ = path.not_found_detail(&input, &ctx);
                let _ = path.get(&input);
                let mut doc = input.clone();
                let _ = path.set(&mut doc, json!(1));
                // Bracket names are verbatim (as in Jayway, which AWS runs), so a name holding
                // both kinds of quote, or a backslash that would escape the closing quote, has
                // no bracket form: `$.'"` normalises to `$["'""]` and `$.a\` to `$['a\']`,
                // neither of which parses back (both found by this target). Every other
                // path round-trips.
                let no_bracket_form =
                    (text.contains('"') && text.contains('\'')) || text.contains('\\');
                if !no_bracket_form {
                    let again = Path::parse(&path.normalized());
                    prop_assert_eq!(
                        again.as_ref().ok(),
                        Some(&path),
                        "normalized {}",
                        path.normalized()
                    );
                }
            }
            Ok(())
        },
    );
}

#[test]
#[ignore = "a time-bounded fuzz run; see the module doc"]
fn intrinsics() {
    let strategy = (
        prop_oneof![3 => intrinsic_text(), 1 => "\\PC{0,40}"],
        json_value(),
        json_value(),
        any::<u64>(),
    );
    fuzz("intrinsics", strategy, |(text, input, ctx, seed)| {
        if let Ok(function) = Intrinsic::parse(&text) {
            let _ = function.eval(&input, &ctx, &mut Counter(seed));
        }
        Ok(())
    });
}

/// Definitions that grow without bound unless the engine bounds them: loops that wrap their
/// input deeper every round, result paths thousands of steps long, Maps over up to 100,000
/// items, retries that never run out, Parallels nested in loops.
fn limits_case() -> impl Strategy<Value = (Value, Value)> {
    let deep_path = (0usize..2_000).prop_map(|n| format!("${}", ".a".repeat(n)));
    let looping = (any::<bool>(), any::<bool>(), deep_path.clone()).prop_map(|(wrap, via_choice, path)| {
        let mut pass = json!({"Type": "Pass", "Next": if via_choice { "Back" } else { "Loop" }});
        if wrap {
            pass["Parameters"] = json!({"inner.$": "$", "n": 1});
        } else {
            pass["ResultPath"] = json!(path);
        }
        json!({"StartAt": "Loop", "States": {
            "Loop": pass,
            "Back": {"Type": "Choice", "Choices": [{"Variable": "$", "IsPresent": true, "Next": "Loop"}],
                     "Default": "Loop"}}})
    });
    let deep = deep_path.prop_map(|path| {
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": path, "End": true}}})
    });
    let map = (0usize..4, any::<bool>()).prop_map(|(concurrency, inner_loop)| {
        let inner = if inner_loop {
            json!({"StartAt": "I", "States": {"I": {"Type": "Pass", "Next": "I"}}})
        } else {
            json!({"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}})
        };
        json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
            "MaxConcurrency": concurrency, "ItemProcessor": inner, "End": true}}})
    });
    let retrying = (1u64..100_000_000).prop_map(|attempts| {
        json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::fail:always",
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": attempts, "BackoffRate": 1.0}],
            "End": true}}})
    });
    let parallel = (1usize..6).prop_map(|branches| {
        let branch = json!({"StartAt": "B", "States": {"B": {"Type": "Pass", "Parameters": {"w.$": "$"}, "End": true}}});
        json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel",
            "Branches": vec![branch; branches], "Next": "Par"}}})
    });
    let definition = prop_oneof![looping, deep, map, retrying, parallel];
    let items = (0usize..100_000).prop_map(|n| json!({"items": vec![json!(0); n]}));
    (definition, items)
}

#[test]
#[ignore = "a time-bounded fuzz run; see the module doc"]
fn limits() {
    let mut handlers = Handlers::new();
    let _ = handlers.register("arn:aws:states:::fail:always", |_: TaskRequest| {
        async { Err(TaskFailure::new("Always", "fails")) }.boxed()
    });
    let options = ExecuteOptions::new().handlers(handlers).virtual_start(0);
    fuzz("limits", limits_case(), |(definition, input)| {
        if let Ok(machine) = StateMachine::from_value(&definition) {
            let execution = futures::executor::block_on(machine.execute(input, &options));
            prop_assert!(execution.history.len() as u64 <= sfn_local::MAX_HISTORY_EVENTS);
        }
        Ok(())
    });
}

#[test]
#[ignore = "a time-bounded fuzz run; see the module doc"]
fn definitions() {
    let handlers = echo_handlers();
    let options = ExecuteOptions::new()
        .handlers(handlers)
        .virtual_start(0)
        .history(true);
    fuzz(
        "definitions",
        (definition_value(), json_value()),
        |(definition, input)| {
            if let Ok(machine) = StateMachine::from_value(&definition) {
                let text = definition.to_string();
                prop_assert!(
                    StateMachine::from_json(&text).is_ok(),
                    "loads from text too"
                );
                let execution = futures::executor::block_on(machine.execute(input, &options));
                prop_assert!(execution.history.len() >= 2);
            }
            Ok(())
        },
    );
}

/// JSONata machines with generated expressions in every field, on generated inputs (the
/// generators of `jsonata::no_expression_or_input_panics_the_engine`), each run bounded in
/// real time on a usual stack. The generators themselves need a large one.
#[test]
#[ignore = "a time-bounded fuzz run; see the module doc"]
fn jsonata() {
    let runner = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| {
            fuzz(
                "jsonata",
                (crate::jsonata::machine(), crate::jsonata::input()),
                |(definition, input)| {
                    let outcome = crate::jsonata::run_bounded(definition, input)
                        .map_err(TestCaseError::fail)?;
                    if let Some(execution) = outcome {
                        crate::jsonata::check_finished(&execution).map_err(TestCaseError::fail)?;
                    }
                    Ok(())
                },
            )
        })
        .expect("spawns the fuzz runner");
    if let Err(panic) = runner.join() {
        std::panic::resume_unwind(panic);
    }
}
