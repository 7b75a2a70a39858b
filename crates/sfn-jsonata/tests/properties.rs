//! Properties: no expression text and no input panics the evaluator, and nothing runs or
//! nests without bound: every way of going deep or long ends in a limit error.

use proptest::prelude::*;
use serde_json::Value;
use sfn_jsonata::{Environment, Expression, FixedClock, Limits, NoBindings, SplitMix64};

fn run(text: &str, input: Option<&Value>, limits: Limits) -> Result<Option<Value>, String> {
    let expr = Expression::parse(text).map_err(|e| e.code().to_string())?;
    let clock = FixedClock(0);
    let mut random = SplitMix64::new(3);
    let mut env = Environment::new(&clock, &mut random).with_limits(limits);
    expr.evaluate(input, &NoBindings, &mut env)
        .map_err(|e| e.code().to_string())
}

fn small_limits() -> Limits {
    Limits {
        max_depth: 300,
        max_steps: 200_000,
        max_sequence_length: 10_000,
        max_string_bytes: 1 << 16,
    }
}

/// Pieces of JSONata: gluing them at random reaches odd corners of the grammar.
const TOKENS: &[&str] = &[
    "a",
    "b",
    "$",
    "$$",
    "$x",
    "$f",
    ".",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    ";",
    ":",
    "?",
    "+",
    "-",
    "*",
    "/",
    "%",
    "=",
    "!=",
    "<",
    ">=",
    "&",
    "and",
    "or",
    "in",
    "..",
    ":=",
    "~>",
    "@",
    "#",
    "^",
    "|",
    "**",
    "1",
    "0",
    "-2.5",
    "'s'",
    "\"t\"",
    "true",
    "null",
    "function",
    "$x := ",
    "function($x){",
    "}",
    "$map",
    "$sum",
    "$string",
    "$substring",
    "$reduce",
    "$sort",
    "$match",
    "/a+/",
    "/(x)?/i",
    "$partition",
    "$range",
    "$hash",
    "$parse",
    "$uuid",
    "$random",
    "$now()",
    "$formatNumber",
    "'#,##0.00'",
    "$fromMillis",
    "'[Y]'",
    "?",
    "λ",
    "`n`",
    "[]",
    "{}",
    "$$.a",
    "$keys",
    "$each",
    "$zip",
    "$merge",
    "$spread",
    "$lookup",
    "$distinct",
];

fn token_expr() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.join(" "))
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| Value::from(i64::from(n))),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-c ]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[abx]", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~λé]{0,80}", input in json()) {
        let _ = run(&text, Some(&input), small_limits());
    }

    #[test]
    fn token_soup_never_panics(text in token_expr(), input in json()) {
        let _ = run(&text, Some(&input), small_limits());
        let _ = run(&text, None, small_limits());
    }
}

#[test]
fn nesting_is_bounded_when_parsing() {
    for text in [
        "(".repeat(100_000),
        "[".repeat(100_000),
        "{'a':".repeat(50_000),
        "-".repeat(100_000) + "1",
        "$f(".repeat(50_000),
        "a.".repeat(100_000) + "b",
        "1 ? ".repeat(50_000) + "1",
        "$x := ".repeat(50_000) + "1",
    ] {
        // Either a syntax error or a value, never a stack overflow.
        let _ = run(&text, None, small_limits());
    }
    assert_eq!(
        run(&"(".repeat(100_000), None, small_limits()),
        Err("S0201".into())
    );
}

/// The default limits with a smaller step budget, so that the limits are reached quickly.
fn quick_limits() -> Limits {
    Limits {
        max_steps: 300_000,
        ..Limits::default()
    }
}

#[test]
fn recursion_and_loops_are_bounded() {
    let limits = quick_limits();
    // Non-tail recursion: the depth limit.
    assert_eq!(
        run(
            "($f := function($n){ 1 + $f($n + 1) }; $f(0))",
            None,
            limits
        ),
        Err("D1011".into())
    );
    // Tail recursion runs in a loop: the step budget.
    assert_eq!(
        run("($f := function($n){ $f($n + 1) }; $f(0))", None, limits),
        Err("D1012".into())
    );
    // Sizes.
    assert_eq!(run("[1..10000000]", None, limits), Err("D2015".into()));
    assert_eq!(
        run("$pad('x', 100000000)", None, limits),
        Err("D2015".into())
    );
    assert_eq!(
        run(
            "$reduce([1..40], function($s, $i){ $s & $s }, 'abcdefgh')",
            None,
            limits
        ),
        Err("D2015".into())
    );
}

#[test]
fn values_built_deep_or_shared_are_bounded() {
    let limits = quick_limits();
    // An object nested 10,000 deep: writing it out stops at the depth limit, and
    // dropping it does not overflow the stack.
    assert_eq!(
        run(
            "$reduce([1..10000], function($acc, $i){ {'n': $acc} }, {})",
            None,
            limits
        ),
        Err("D1011".into())
    );
    // Doubling a shared value 60 times: walks over it stop at the node budget.
    let doubling = format!(
        "($x := [1]; {} $count($string($x)))",
        "$x := [$x, $x];".repeat(60)
    );
    assert_eq!(run(&doubling, None, limits), Err("D2015".into()));
    // A value is equal to itself at once; two equal DAGs built apart are compared in full,
    // up to the budget.
    let doubled = |v: &str| {
        format!(
            "${v} := {{'a': 1}}; {}",
            format!("${v} := {{'l': ${v}, 'r': ${v}}};").repeat(60)
        )
    };
    let same = format!("({} $x = $x)", doubled("x"));
    assert_eq!(run(&same, None, limits), Ok(Some(Value::Bool(true))));
    let apart = format!("({} {} $x = $y)", doubled("x"), doubled("y"));
    assert_eq!(run(&apart, None, limits), Err("D2015".into()));
    // An object made to contain itself.
    assert_eq!(
        run("{'a': {}} ~> | a | {'self': $} |", None, limits),
        Err("D1011".into())
    );
}

#[test]
fn deep_inputs_are_bounded() {
    // serde_json refuses to parse input nested beyond 128 levels, but a host can build
    // deeper values. serde_json's own drop of such a value recurses, so the test runs on a
    // thread with room for that; the evaluator grows its stack as it needs.
    let test = || {
        let mut deep = Value::Null;
        for _ in 0..20_000 {
            deep = Value::Array(vec![deep]);
        }
        let limits = Limits::default();
        for expr in [
            "**",
            "$",
            "$string($)",
            "$boolean($)",
            "$count(**)",
            "$keys($)",
            "$spread($)",
            "$ ~> | $ | {} |",
        ] {
            let got = run(expr, Some(&deep), limits);
            assert!(got.is_err(), "{expr}: deeper than the limit, yet {got:?}");
        }
        // The same value is equal to itself without a walk.
        assert_eq!(
            run("$ = $", Some(&deep), limits),
            Ok(Some(Value::Bool(true)))
        );
    };
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(test)
        .expect("thread")
        .join()
        .expect("no panic");
}
