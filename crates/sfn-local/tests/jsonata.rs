//! JSONata states: no expression, in any field of any state type, and no input makes the
//! engine panic; every way an expression can run, nest or grow without bound ends the
//! execution with `States.QueryEvaluationError` (the evaluator's depth, step and size
//! limits), and an expression that does not parse is an invalid definition.

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use sfn_local::{ExecuteOptions, Execution, StateMachine, Status};

/// Options shared by every run: virtual time (a Wait of years ends at once), a fixed seed,
/// and a history bound well under AWS's so that a large Map stays quick.
fn options() -> ExecuteOptions {
    ExecuteOptions::new()
        .virtual_start(1_704_067_200_000)
        .seed(7)
        .max_history_events(2_000)
}

/// Loads and runs `definition`; `None` when the definition is rejected.
fn run(definition: &Value, input: Value) -> Option<Execution> {
    let machine = StateMachine::from_value(definition).ok()?;
    let execution = futures::executor::block_on(machine.execute(input, &options()));
    Some(execution)
}

/// The longest a generated execution may take in real time before the test calls it
/// unbounded. The evaluator's step limit ends any expression far sooner, even unoptimised
/// on a busy machine; this only turns a loop that nothing bounds into a failure.
const RUNAWAY: Duration = Duration::from_secs(120);

/// [`run`] on a thread of its own with a test thread's usual 2 MiB stack (whatever stack
/// the caller has), failing if it panics or does not end within [`RUNAWAY`].
pub(crate) fn run_bounded(definition: Value, input: Value) -> Result<Option<Execution>, String> {
    let (done, result) = mpsc::channel();
    let text = definition.to_string();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| run(&definition, input));
            let _ = done.send(outcome);
        })
        .map_err(|e| format!("spawning: {e}"))?;
    match result.recv_timeout(RUNAWAY) {
        Ok(Ok(execution)) => Ok(execution),
        Ok(Err(_)) => Err(format!("panicked on {text}")),
        Err(_) => Err(format!("still running after {RUNAWAY:?}: {text}")),
    }
}

/// What every finished execution must look like, whatever it ran.
pub(crate) fn check_finished(execution: &Execution) -> Result<(), String> {
    let Some(last) = execution.history.last() else {
        return Err("no history".into());
    };
    let last = last.details.event_type();
    let expected = match execution.status {
        Status::Succeeded => "ExecutionSucceeded",
        Status::Failed => "ExecutionFailed",
        Status::TimedOut => "ExecutionTimedOut",
    };
    if last != expected {
        return Err(format!(
            "status {:?} but last event {last}",
            execution.status
        ));
    }
    if execution.status == Status::Succeeded && execution.output.is_none() {
        return Err("succeeded without output".into());
    }
    Ok(())
}

/// A one-state JSONata machine whose Pass state outputs `expr`.
fn pass(expr: &str) -> Value {
    json!({
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": format!("{{% {expr} %}}"), "End": true}}
    })
}

#[test]
fn runaway_expressions_fail_the_execution() {
    // Each goes deep, long or large without bound in jsonata.js; here a limit ends it.
    let runaway = [
        // Non-tail recursion: the depth limit.
        ("($f := function($n){ 1 + $f($n + 1) }; $f(0))", "D1011"),
        // A tail call that never returns: the step limit.
        ("($f := function($n){ $f($n + 1) }; $f(0))", "D1012"),
        // A range past the sequence limit.
        ("[1..10000000]", "D2015"),
        // A string that doubles until it is too large.
        (
            "$reduce([1..40], function($acc, $i){ $acc & $acc }, 'ab')",
            "D2015",
        ),
        // An array that doubles until it is too large.
        (
            "$reduce([1..40], function($acc, $i){ $append($acc, $acc) }, [1])",
            "D2015",
        ),
    ];
    for (expr, code) in runaway {
        let execution = run_bounded(pass(expr), json!({}))
            .unwrap_or_else(|e| panic!("{e}"))
            .expect("the definition loads");
        check_finished(&execution).unwrap_or_else(|e| panic!("{expr}: {e}"));
        assert_eq!(execution.status, Status::Failed, "{expr}");
        assert_eq!(
            execution.error.as_deref(),
            Some("States.QueryEvaluationError"),
            "{expr}"
        );
        let cause = execution.cause.unwrap_or_default();
        assert!(
            cause.contains(&format!("threw an error during evaluation. {code}: ")),
            "{expr}: {cause}"
        );
    }
}

#[test]
fn deeply_nested_text_is_an_invalid_definition() {
    for expr in [
        format!("{}1{}", "(".repeat(5_000), ")".repeat(5_000)),
        format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000)),
        format!("1{}", " + 1".repeat(50_000)),
        format!("{}1", "-".repeat(10_000)),
    ] {
        let outcome = run_bounded(pass(&expr), json!({})).unwrap_or_else(|e| panic!("{e}"));
        assert!(outcome.is_none(), "{} ... loaded", &expr[..20]);
        let error = StateMachine::from_value(&pass(&expr))
            .expect_err("rejected")
            .to_string();
        assert!(
            error.contains("/States/P/Output") && error.contains("'Output' is not valid"),
            "{error}"
        );
    }
}

/// Names an expression may read: the variables the generated states assign, and one no
/// state assigns.
const VARIABLES: &[&str] = &["x", "y", "items", "missing"];

/// A JSONata expression over `$states`, the variables and the built-in functions, in
/// small sizes so that most evaluate quickly, with the occasional error of every kind.
fn expression() -> BoxedStrategy<String> {
    let functions: Vec<String> = sfn_jsonata::function_names()
        .into_iter()
        .map(|f| format!("${f}"))
        .collect();
    let leaf = prop_oneof![
        (-20_i64..20).prop_map(|n| n.to_string()),
        Just("1.5".to_owned()),
        Just("1e308".to_owned()),
        "'[a-c ]{0,3}'",
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
        Just("$states.input".to_owned()),
        "\\$states\\.input\\.(a|b|items|n|s)",
        Just("$states.result".to_owned()),
        Just("$states.errorOutput".to_owned()),
        Just("$states.context.Execution.Name".to_owned()),
        Just("$states.context.Map.Item.Value".to_owned()),
        Just("$states".to_owned()),
        Just("$".to_owned()),
        Just("$$".to_owned()),
        prop::sample::select(VARIABLES).prop_map(|v| format!("${v}")),
        Just("$now()".to_owned()),
        Just("$random()".to_owned()),
        Just("$uuid()".to_owned()),
        Just("function($v){ $v }".to_owned()),
    ];
    leaf.prop_recursive(4, 32, 3, move |inner| {
        let op = prop::sample::select(vec![
            "+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "and", "or", "&", "in",
        ]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec(("[a-c]", inner.clone()), 0..3).prop_map(|entries| {
                let body: Vec<String> =
                    entries.iter().map(|(k, v)| format!("'{k}': {v}")).collect();
                format!("{{{}}}", body.join(", "))
            }),
            (inner.clone(), "[a-c]|items|n").prop_map(|(a, name)| format!("({a}).{name}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
            (
                prop::sample::select(functions.clone()),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("$map({a}, function($v, $i){{ {b} }})")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("$filter({a}, function($v){{ {b} }})")),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| format!("$reduce({a}, function($p, $c){{ {b} }})")),
            (
                prop::sample::select(VARIABLES),
                inner.clone(),
                inner.clone()
            )
                .prop_map(|(v, a, b)| format!("(${v} := {a}; {b})")),
            (-3_i64..30, -3_i64..30).prop_map(|(a, b)| format!("[{a}..{b}]")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("$string({a})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("{a} ~> $append({b})")),
        ]
    })
    .boxed()
}

/// A field's value: mostly one expression, sometimes a literal, or an object or array with
/// expressions inside.
fn field() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => expression().prop_map(|e| Value::String(format!("{{% {e} %}}"))),
        1 => (-5_i64..50).prop_map(Value::from),
        1 => "[a-c {}%]{0,6}".prop_map(Value::String),
        2 => prop::collection::vec(("[a-c]", expression()), 1..3).prop_map(|kv| {
            Value::Object(
                kv.into_iter()
                    .map(|(k, e)| (k, Value::String(format!("{{% {e} %}}"))))
                    .collect::<Map<_, _>>(),
            )
        }),
        1 => prop::collection::vec(expression(), 1..3).prop_map(|es| {
            Value::Array(
                es.into_iter()
                    .map(|e| Value::String(format!("{{% {e} %}}")))
                    .collect(),
            )
        }),
    ]
}

/// What a field expects its expression to give.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Any,
    Count,
    Percentage,
    Bool,
    Text,
    Array,
    Timestamp,
}

/// Expressions that evaluate without error to what `kind` expects, so that generated
/// machines also run past their first state.
fn sound(kind: Kind) -> Vec<&'static str> {
    match kind {
        Kind::Any => vec![
            "$states.input",
            "{'in': $states.input, 'x': $x, 'n': $count([$y])}",
            "[$x, $y, $items]",
            "$states.context.State.Name",
        ],
        Kind::Count => vec![
            "0",
            "$count([$states.input])",
            "$length($string($states.input)) % 3",
            "$floor($random() * 4)",
        ],
        Kind::Percentage => vec!["0", "100", "$random() * 100"],
        Kind::Bool => vec![
            "true",
            "$exists($states.input.a)",
            "$boolean($x)",
            "$count([$states.input]) > 1",
        ],
        Kind::Text => vec!["$string($states.input)", "$uuid()", "'E.' & $string($x)"],
        Kind::Array => vec![
            "[1, 2, 3]",
            "$type($states.input) = 'array' ? $states.input : [$states.input]",
            "[1..$count([$states.input, $x])]",
            "$keys($states.input)[]",
        ],
        Kind::Timestamp => vec![
            "$now()",
            "$fromMillis($millis() + 1000)",
            "'2024-01-01T00:00:00Z'",
        ],
    }
}

/// A field that takes one value (`Items`, `Seconds`, `Condition`...): an expression that
/// gives what the field expects, any expression, or now and then anything else (which the
/// loader rejects or accepts).
fn scalar(kind: Kind) -> impl Strategy<Value = Value> {
    prop_oneof![
        12 => prop::sample::select(sound(kind)).prop_map(|e| Value::String(format!("{{% {e} %}}"))),
        4 => expression().prop_map(|e| Value::String(format!("{{% {e} %}}"))),
        1 => field(),
    ]
}

/// A field that takes any value: sometimes one that evaluates, or a template of any kind.
fn output() -> impl Strategy<Value = Value> {
    prop_oneof![3 => scalar(Kind::Any), 1 => field()]
}

/// `Assign` with some of the generated names.
fn assign() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(&VARIABLES[..3]), output()), 0..3)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// One state of the generated machine, without its transition (added by [`machine`]).
fn state() -> impl Strategy<Value = Value> {
    prop_oneof![
        (output(), assign()).prop_map(|(output, assign)| {
            json!({"Type": "Pass", "Output": output, "Assign": assign})
        }),
        (scalar(Kind::Bool), assign(), output()).prop_map(|(condition, assign, output)| {
            json!({"Type": "Choice",
                   "Choices": [{"Condition": condition, "Assign": assign, "Output": output}]})
        }),
        scalar(Kind::Count).prop_map(|seconds| json!({"Type": "Wait", "Seconds": seconds})),
        scalar(Kind::Timestamp)
            .prop_map(|timestamp| json!({"Type": "Wait", "Timestamp": timestamp})),
        (
            scalar(Kind::Array),
            output(),
            scalar(Kind::Count),
            scalar(Kind::Percentage),
            output(),
            assign(),
            output()
        )
            .prop_map(
                |(items, selector, concurrency, tolerated, inner, assign, catch)| {
                    json!({
                        "Type": "Map",
                        "Items": items,
                        "ItemSelector": selector,
                        "MaxConcurrency": concurrency,
                        "ToleratedFailurePercentage": tolerated,
                        "ItemProcessor": {
                            "ProcessorConfig": {"Mode": "INLINE"},
                            "StartAt": "Inner",
                            "States": {"Inner": {"Type": "Pass", "QueryLanguage": "JSONata",
                                                 "Output": inner,
                                                 "Assign": {"y": inner}, "End": true}}
                        },
                        "Assign": assign,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "Output": catch}]
                    })
                }
            ),
        (output(), output(), assign()).prop_map(|(left, right, assign)| {
            json!({
                "Type": "Parallel",
                "Arguments": {"input": "{% $states.input %}"},
                "Branches": [
                    {"StartAt": "L", "States": {"L": {"Type": "Pass", "QueryLanguage": "JSONata",
                                                     "Output": left,
                                                     "Assign": {"x": right}, "End": true}}},
                    {"StartAt": "R", "States": {"R": {"Type": "Pass", "QueryLanguage": "JSONata",
                                                     "Output": right,
                                                     "End": true}}}
                ],
                "Output": "{% $states.result %}",
                "Assign": assign
            })
        }),
    ]
}

/// A JSONPath state reading the variables by `$name` and assigning some.
fn jsonpath_state() -> impl Strategy<Value = Value> {
    prop::sample::select(VARIABLES).prop_map(|v| {
        json!({"Type": "Pass",
               "Parameters": {"v.$": format!("${v}"), "w.$": format!("${v}.a")},
               "Assign": {"x.$": "$.v", "items.$": "$"}})
    })
}

/// A machine of one to four states in a row, optionally ending in a Fail state whose
/// error and cause are expressions; Choice rules and catchers continue with the next state.
/// Either JSONata is the machine's language, or JSONPath is and the JSONata states say so
/// one by one, with JSONPath states among them.
pub(crate) fn machine() -> impl Strategy<Value = Value> {
    let one = prop_oneof![
        5 => state().prop_map(|s| (s, true)),
        1 => jsonpath_state().prop_map(|s| (s, false)),
    ];
    (
        any::<bool>(),
        prop::collection::vec(one, 1..5),
        prop::option::of((scalar(Kind::Text), scalar(Kind::Text))),
    )
        .prop_map(|(jsonata_machine, states, fail)| {
            let mut states: Vec<(Value, bool)> = states
                .into_iter()
                .filter(|(_, jsonata)| *jsonata || !jsonata_machine)
                .collect();
            if states.is_empty() {
                states.push((
                    json!({"Type": "Pass", "Output": "{% $states.input %}"}),
                    true,
                ));
            }
            if let Some((error, cause)) = fail {
                states.push((
                    json!({"Type": "Fail", "Error": error, "Cause": cause}),
                    true,
                ));
            }
            // The last state goes to `Done`, unless it is the Fail state.
            let done = states.last().is_none_or(|(s, _)| s["Type"] != "Fail");
            let count = states.len();
            let mut all = Map::new();
            for (i, (mut state, jsonata)) in states.into_iter().enumerate() {
                let next = if i + 1 < count {
                    format!("S{}", i + 1)
                } else {
                    "Done".to_owned()
                };
                let obj = state.as_object_mut().expect("states are objects");
                if jsonata && !jsonata_machine {
                    obj.insert("QueryLanguage".into(), json!("JSONata"));
                }
                match obj["Type"].as_str() {
                    Some("Fail") => {}
                    Some("Choice") => {
                        obj["Choices"][0]["Next"] = json!(next);
                        obj.insert("Default".into(), json!(next));
                    }
                    _ => {
                        if let Some(catch) = obj.get_mut("Catch") {
                            catch[0]["Next"] = json!(next);
                        }
                        obj.insert("Next".into(), json!(next));
                    }
                }
                all.insert(format!("S{i}"), state);
            }
            if done {
                all.insert("Done".into(), json!({"Type": "Succeed"}));
            }
            let mut machine = json!({"StartAt": "S0", "States": all});
            if jsonata_machine {
                machine["QueryLanguage"] = json!("JSONata");
            }
            machine
        })
}

/// Inputs with the names the expressions read.
pub(crate) fn input() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-100_i64..100).prop_map(Value::from),
        (-1e6_f64..1e6).prop_map(Value::from),
        "[a-c0-9 ]{0,6}".prop_map(Value::String),
        Just(json!("2024-01-01T00:00:00Z")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("a|b|items|n|s", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Runs `test` on `cases` values of `strategy`. The runner has a large stack: proptest
/// builds these nested generators' values recursively, which outgrows a 2 MiB test thread
/// unoptimised; the engine itself runs on a usual stack (see [`run_bounded`]).
fn check<S>(cases: u32, strategy: fn() -> S, test: fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy + 'static,
    S::Value: std::fmt::Debug,
{
    let runner = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let mut runner = TestRunner::new(ProptestConfig {
                cases,
                failure_persistence: None,
                ..ProptestConfig::default()
            });
            runner.run(&strategy(), test).map_err(|e| e.to_string())
        })
        .expect("spawns the runner");
    if let Err(e) = runner.join().expect("the runner does not panic") {
        panic!("{e}");
    }
}

/// Generated JSONata machines load or are rejected, and the ones that load run to an end
/// on generated inputs, never panicking.
#[test]
fn no_expression_or_input_panics_the_engine() {
    check(
        400,
        || (machine(), input()),
        |(definition, input)| {
            if let Some(execution) = run_bounded(definition, input).map_err(TestCaseError::fail)? {
                check_finished(&execution).map_err(TestCaseError::fail)?;
            }
            Ok(())
        },
    );
}

/// Any text between `{%` and `%}`, in any field that takes an expression, loads or is
/// rejected without panicking.
#[test]
fn any_expression_text_loads_or_is_rejected() {
    check(
        256,
        || ("\\PC{0,40}", 0_usize..6),
        |(text, which)| {
            let expr = Value::String(format!("{{%{text}%}}"));
            let state = match which {
                0 => json!({"Type": "Pass", "Output": expr, "End": true}),
                1 => json!({"Type": "Pass", "Assign": {"x": expr}, "End": true}),
                2 => json!({"Type": "Wait", "Seconds": expr, "End": true}),
                3 => json!({"Type": "Choice", "Choices": [{"Condition": expr, "Next": "P"}],
                        "Default": "P"}),
                4 => json!({"Type": "Fail", "Error": expr}),
                _ => json!({"Type": "Map", "Items": expr, "End": true,
                        "ItemProcessor": {"StartAt": "I",
                            "States": {"I": {"Type": "Pass", "End": true}}}}),
            };
            let definition = json!({"QueryLanguage": "JSONata", "StartAt": "S",
            "States": {"S": state, "P": {"Type": "Pass", "End": true}}});
            if let Some(execution) =
                run_bounded(definition, json!({"a": 1})).map_err(TestCaseError::fail)?
            {
                check_finished(&execution).map_err(TestCaseError::fail)?;
            }
            Ok(())
        },
    );
}

#[test]
fn time_and_randomness_follow_the_execution_clock_and_seed() {
    let definition = json!({
        "QueryLanguage": "JSONata",
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Hour", "Output": {
                "now": "{% $now() %}", "millis": "{% $millis() %}",
                "same": "{% $now() = $now() %}",
                "random": "{% $random() %}", "uuid": "{% $uuid() %}",
                "shuffled": "{% $shuffle([1..10]) %}"}},
            "Hour": {"Type": "Wait", "Seconds": "{% 3600 %}", "Next": "Later"},
            "Later": {"Type": "Pass", "End": true, "Output": {
                "first": "{% $states.input %}", "now": "{% $now() %}"}}
        }
    });
    let machine = StateMachine::from_value(&definition).expect("loads");
    let run = |seed| {
        let options = ExecuteOptions::new()
            .virtual_start(1_704_067_200_000)
            .seed(seed);
        let execution = futures::executor::block_on(machine.execute(json!({}), &options));
        assert_eq!(execution.status, Status::Succeeded, "{:?}", execution.cause);
        execution.output.expect("an output")
    };
    let out = run(5);
    assert_eq!(out["first"]["now"], "2024-01-01T00:00:00.000Z");
    assert_eq!(out["first"]["millis"], 1_704_067_200_000_i64);
    assert_eq!(out["first"]["same"], true);
    assert_eq!(out["now"], "2024-01-01T01:00:00.000Z");
    let random = out["first"]["random"].as_f64().expect("a number");
    assert!((0.0..1.0).contains(&random));
    assert_eq!(out["first"]["uuid"].as_str().map(str::len), Some(36));
    assert_eq!(out["first"]["shuffled"].as_array().map(Vec::len), Some(10));
    // The same seed gives the same execution; another seed other draws.
    assert_eq!(run(5), out);
    let other = run(6);
    assert_ne!(other["first"]["uuid"], out["first"]["uuid"]);
    assert_ne!(other["first"]["random"], out["first"]["random"]);
    assert_eq!(other["now"], out["now"]);
}

#[test]
fn fields_of_the_other_language_are_refused_as_aws_refuses_them() {
    let refused = |definition: Value| {
        StateMachine::from_value(&definition)
            .expect_err("AWS refuses it")
            .to_string()
    };
    let pass = |extra: Value| {
        let mut state = json!({"Type": "Pass", "End": true});
        if let (Some(s), Value::Object(extra)) = (state.as_object_mut(), extra) {
            s.extend(extra);
        }
        state
    };
    let error = refused(json!({"QueryLanguage": "JSONata", "StartAt": "P",
        "States": {"P": pass(json!({"Parameters": {"a": 1}}))}}));
    assert!(error.contains("/States/P"), "{error}");
    assert!(
        error.contains("The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage"),
        "{error}"
    );
    let error = refused(json!({"StartAt": "P", "States": {"P": pass(json!({"Output": 1}))}}));
    assert!(
        error.contains("The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage"),
        "{error}"
    );
    // A Map's own QueryLanguage is not its iterations': they take the machine's.
    let error = refused(json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "QueryLanguage": "JSONata", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": pass(json!({"Output": 1}))}}}}}));
    assert!(
        error.contains("/States/M/ItemProcessor/States/P"),
        "{error}"
    );
    assert!(
        error.contains("field 'Output' is only supported"),
        "{error}"
    );
    let error = refused(json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": true,
        "ItemProcessor": {"QueryLanguage": "JSONata", "StartAt": "P",
                          "States": {"P": pass(json!({}))}}}}}));
    assert!(error.contains("/States/M/ItemProcessor"), "{error}");
    assert!(
        error.contains("Field 'QueryLanguage' is not supported"),
        "{error}"
    );
    let error = refused(json!({"QueryLanguage": "JSONata", "StartAt": "P",
        "States": {"P": pass(json!({"QueryLanguage": "JSONPath"}))}}));
    assert!(
        error.contains(
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"
        ),
        "{error}"
    );
    // And the other way round, a JSONata state in a JSONPath machine is fine.
    StateMachine::from_value(&json!({"StartAt": "P", "States": {
        "P": pass(json!({"QueryLanguage": "JSONata", "Output": "{% 1 %}"}))}}))
    .expect("loads");
}
