//! Differential test of sfn-jsonata against jsonata 2.0.6 (the reference Step Functions
//! documents), run by `scripts/jsonata-diff [--cases N] [--seed S]`.
//!
//! Generates expressions and inputs from a seed, evaluates each with this crate and with
//! `scripts/jsonata-reference.js`, and compares: values by deep equality, object keys in
//! order; errors by jsonata code. Differences Step Functions intends, or that the two
//! runtimes cannot avoid, are counted under the documented allowances below; anything
//! else is a mismatch, printed with the case that shows it, and fails the run.

mod generate;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sfn_jsonata::{Environment, EvalErrorKind, Expression, FixedClock, NoBindings, SplitMix64};

/// Why a difference is not a mismatch. Each is documented in the crate's README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Allowance {
    /// jsonata.js puts integer-like keys first in every object (JavaScript's property
    /// order); we keep insertion order, as Step Functions' JSON does.
    IntegerKeyOrder,
    /// jsonata.js returns Infinity or NaN (from `1/0`), which JSON cannot carry; we raise
    /// D1001.
    NonFiniteResult,
    /// jsonata.js failed with a JavaScript error that is not a jsonata one (a TypeError
    /// or RangeError inside a built-in called with values its signature does not
    /// check), where we return a value or a jsonata error.
    ReferenceCrash,
    /// jsonata.js did not answer within the time limit (it loops forever on some
    /// inputs, e.g. `$formatNumber` of a negative number with an exponent picture).
    ReferenceTimeout,
    /// Several sibling items of a constructor or arguments fail: jsonata.js evaluates
    /// them concurrently (`Promise.all`) and reports whichever fails first in its
    /// schedule; we evaluate in order and report the first. Both raise an error.
    ConcurrentSiblingErrors,
    /// jsonata.js calls a partially applied built-in (`$substring(?, 1)`) without
    /// checking its arguments against the signature (and lets JavaScript coerce them); we
    /// check them as for a direct call.
    UncheckedPartial,
    /// We stopped at one of our limits (depth, steps, sizes), which jsonata.js lacks.
    Limit,
    /// `$power` in jsonata.js is V8's `Math.pow`, which is not correctly rounded; ours is
    /// the platform's `pow`: results may differ in the last bit.
    PowerRounding,
    /// A transform whose update has an integer-like key (`{'2': x}`) applied to an array:
    /// jsonata.js writes it into the array's element of that index (and `delete` leaves a
    /// hole); we update objects only.
    TransformArrayIndex,
    /// Artifacts of jsonata.js's JavaScript objects, which no JSON value has: integer-like
    /// keys reordered inside `$string`'s text, and an empty array used as an object
    /// constructor's context, which jsonata.js mutates into `[undefined]` wherever it is
    /// seen afterwards.
    JavaScriptArtifact,
}

struct Options {
    cases: usize,
    seed: u64,
    show: usize,
    show_allowed: bool,
    timeout: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        cases: 1000,
        seed: 1,
        show: 20,
        show_allowed: false,
        timeout: Duration::from_secs(5),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--cases" => {
                o.cases = value("--cases")?
                    .parse()
                    .map_err(|e| format!("--cases: {e}"))?
            }
            "--seed" => {
                o.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--show-allowed" => o.show_allowed = true,
            "--show" => {
                o.show = value("--show")?
                    .parse()
                    .map_err(|e| format!("--show: {e}"))?
            }
            "--timeout-ms" => {
                o.timeout = Duration::from_millis(
                    value("--timeout-ms")?
                        .parse()
                        .map_err(|e| format!("--timeout-ms: {e}"))?,
                )
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}; use --cases N --seed S"
                ));
            }
        }
    }
    Ok(o)
}

/// One side's outcome.
#[derive(Debug, Clone)]
enum Outcome {
    Value(Value),
    Undefined,
    NonFinite,
    Function,
    Error {
        code: Option<String>,
        message: String,
    },
    Timeout,
}

/// An outcome for a report line.
fn show(o: &Outcome) -> String {
    match o {
        Outcome::Value(v) => v.to_string(),
        Outcome::Undefined => "undefined".into(),
        Outcome::NonFinite => "a non-finite number".into(),
        Outcome::Function => "a function".into(),
        Outcome::Error { code, message } => {
            format!(
                "error {}: {message}",
                code.as_deref().unwrap_or("(no code)")
            )
        }
        Outcome::Timeout => "no answer in time".into(),
    }
}

fn ours(expr: &str, input: Option<&Value>) -> Outcome {
    let clock = FixedClock(1_521_801_216_617);
    let mut random = SplitMix64::new(1);
    let mut env = Environment::new(&clock, &mut random);
    let e = match Expression::parse(expr) {
        Ok(e) => e,
        Err(e) => {
            return Outcome::Error {
                code: Some(e.code().to_string()),
                message: e.message().to_string(),
            };
        }
    };
    match e.evaluate(input, &NoBindings, &mut env) {
        Ok(Some(v)) => Outcome::Value(v),
        Ok(None) => Outcome::Undefined,
        Err(e) if e.kind() == EvalErrorKind::UnsupportedResult => Outcome::Function,
        Err(e) => Outcome::Error {
            code: Some(e.code().to_string()),
            message: e.message().to_string(),
        },
    }
}

fn reference_outcome(line: &Value) -> Outcome {
    if let Some(r) = line.get("result") {
        Outcome::Value(r.clone())
    } else if line.get("undefined").is_some() {
        Outcome::Undefined
    } else if line.get("nonfinite").is_some() {
        Outcome::NonFinite
    } else if line.get("function").is_some() {
        Outcome::Function
    } else {
        let e = &line["error"];
        Outcome::Error {
            code: e["code"].as_str().map(str::to_string),
            message: e["message"].as_str().unwrap_or("").to_string(),
        }
    }
}

/// JavaScript's own-property order: array-index keys ascending, then the rest in
/// insertion order.
fn js_key_order(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(js_key_order).collect()),
        Value::Object(o) => {
            let index = |k: &str| -> Option<u64> {
                let n: u64 = k.parse().ok()?;
                (n.to_string() == k && n < u64::from(u32::MAX)).then_some(n)
            };
            let mut ints: Vec<(u64, &String)> =
                o.keys().filter_map(|k| index(k).map(|n| (n, k))).collect();
            ints.sort();
            let mut out = serde_json::Map::new();
            for (_, k) in ints {
                out.insert(k.clone(), js_key_order(&o[k]));
            }
            for (k, val) in o {
                if index(k).is_none() {
                    out.insert(k.clone(), js_key_order(val));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Deep equality with object keys in order and numbers by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => a == b,
    }
}

/// Equality up to the documented differences: integer-like keys first (JavaScript's
/// order, also inside `$string` text) and empty arrays jsonata.js has turned into
/// `[undefined]` (written `[null]`) by using them as an object constructor's context.
fn same_allowing(ours: &Value, reference: &Value) -> bool {
    match (ours, reference) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(a), Value::String(b)) => {
            a == b
                || a.replace("[null]", "[]") == b.replace("[null]", "[]")
                || (same_characters(a, b) && has_integer_key(b))
        }
        (Value::Array(x), Value::Array(y)) => {
            (x.is_empty() && y.len() == 1 && y[0].is_null())
                || (x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_allowing(a, b)))
                || integer_keys_first(x).is_some_and(|x| &x == y)
        }
        (Value::Object(_), Value::Object(y)) => {
            let Value::Object(x) = js_key_order(ours) else {
                return false;
            };
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_allowing(va, vb))
        }
        _ => ours == reference,
    }
}

/// An array of strings (`$keys`'s result) in JavaScript's property order: integer-like
/// ones first, ascending.
fn integer_keys_first(items: &[Value]) -> Option<Vec<Value>> {
    let strings: Vec<&str> = items.iter().map(Value::as_str).collect::<Option<_>>()?;
    let index = |k: &str| -> Option<u64> {
        let n: u64 = k.parse().ok()?;
        (n.to_string() == k).then_some(n)
    };
    let mut ints: Vec<(u64, &str)> = strings
        .iter()
        .filter_map(|k| index(k).map(|n| (n, *k)))
        .collect();
    ints.sort();
    let mut out: Vec<Value> = ints.iter().map(|(_, k)| Value::from(*k)).collect();
    out.extend(
        strings
            .iter()
            .filter(|k| index(k).is_none())
            .map(|k| Value::from(*k)),
    );
    Some(out)
}

/// Within one unit in the last place?
fn within_an_ulp(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if x.is_finite() && y.is_finite() && x.signum() == y.signum() => {
            (x.to_bits() as i64 - y.to_bits() as i64).abs() <= 1
        }
        _ => a == b,
    }
}

/// Equality with numbers within an ulp of each other.
fn same_within_an_ulp(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => within_an_ulp(a, b),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_within_an_ulp(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_within_an_ulp(va, vb))
        }
        _ => a == b,
    }
}

/// Does the expression transform with an integer-like key (`{'2': ...}`), which jsonata.js
/// writes into a matched array's element?
fn transforms_by_index(expr: &str) -> bool {
    expr.contains(" | ")
        && ['\'', '"'].iter().any(|q| {
            expr.split(*q)
                .skip(1)
                .step_by(2)
                .any(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Are the strings permutations of each other?
fn same_characters(a: &str, b: &str) -> bool {
    let mut x: Vec<char> = a.chars().collect();
    let mut y: Vec<char> = b.chars().collect();
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

/// Does the text hold a JSON member with an integer-like key (`"2":`)?
fn has_integer_key(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        if b[i] != b'"' {
            return false;
        }
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        digits > 0 && b.get(i + 1 + digits) == Some(&b'"') && b.get(i + 2 + digits) == Some(&b':')
    })
}

fn is_limit(code: &Option<String>) -> bool {
    matches!(code.as_deref(), Some("D1011" | "D1012" | "D2015"))
}

/// Does the expression have several items whose errors could race in jsonata.js (an array
/// or object constructor, or a grouping, with more than one member)? Function arguments
/// do not count: jsonata.js evaluates them one after the other.
fn has_concurrent_siblings(expr: &str) -> bool {
    (expr.contains('[') || expr.contains('{')) && expr.contains(',')
}

/// Does the expression partially apply a function?
fn has_partial(expr: &str) -> bool {
    expr.contains("(?") || expr.contains(", ?") || expr.contains(",?")
}

fn compare(expr: &str, ours: &Outcome, reference: &Outcome) -> Result<Option<Allowance>, String> {
    use Outcome::*;
    match (ours, reference) {
        (_, Timeout) => Ok(Some(Allowance::ReferenceTimeout)),
        (Error { code, .. }, _) if is_limit(code) => Ok(Some(Allowance::Limit)),
        (Value(a), Value(b)) => {
            if same(a, b) {
                Ok(None)
            } else if same(&js_key_order(a), b) {
                Ok(Some(Allowance::IntegerKeyOrder))
            } else if same_allowing(a, b) {
                Ok(Some(Allowance::JavaScriptArtifact))
            } else if expr.contains("$power") && same_within_an_ulp(a, b) {
                Ok(Some(Allowance::PowerRounding))
            } else if transforms_by_index(expr) {
                Ok(Some(Allowance::TransformArrayIndex))
            } else {
                Err(format!("value {a} vs {b}"))
            }
        }
        (Undefined, Undefined) | (Function, Function) => Ok(None),
        (Error { code: Some(c), .. }, NonFinite) if c == "D1001" => {
            Ok(Some(Allowance::NonFiniteResult))
        }
        (_, Error { code: None, .. }) => Ok(Some(Allowance::ReferenceCrash)),
        (Error { code: a, .. }, Error { code: b, .. }) if a == b => Ok(None),
        (_, _)
            if has_partial(expr)
                && (matches!(ours, Error { .. }) || matches!(reference, Error { .. })) =>
        {
            Ok(Some(Allowance::UncheckedPartial))
        }
        (Error { .. }, Error { .. }) => {
            if has_concurrent_siblings(expr) {
                Ok(Some(Allowance::ConcurrentSiblingErrors))
            } else {
                Err(format!("{} vs {}", show(ours), show(reference)))
            }
        }
        (a, b) => Err(format!("{} vs {}", show(a), show(b))),
    }
}

struct Reference {
    child: Child,
    lines: Receiver<String>,
}

fn start_reference() -> Result<(Reference, ChildStdin), String> {
    let root = std::env::var("SFN_JSONATA_ROOT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../..").to_string());
    let script = format!("{root}/scripts/jsonata-reference.js");
    let mut child = Command::new("node")
        .arg(&script)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start node {script}: {e}"))?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Ok((Reference { child, lines: rx }, stdin))
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Case {
    expr: String,
    input: Option<Value>,
}

/// Evaluates `cases` with the reference, restarting it after a case it hangs on.
fn run_reference(cases: &[Case], timeout: Duration) -> Result<Vec<Outcome>, String> {
    let mut out: Vec<Outcome> = Vec::with_capacity(cases.len());
    while out.len() < cases.len() {
        let (r, mut stdin) = start_reference()?;
        let start = out.len();
        // Send everything that is left; the pipe and node's reader buffer the lines.
        let writer_cases: Vec<String> = cases[start..]
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut line = json!({"id": start + i, "expr": c.expr});
                if let Some(input) = &c.input {
                    line["input"] = input.clone();
                }
                line.to_string()
            })
            .collect();
        let writer = std::thread::spawn(move || {
            for line in writer_cases {
                if writeln!(stdin, "{line}").is_err() {
                    break;
                }
            }
        });
        loop {
            if out.len() == cases.len() {
                break;
            }
            match r.lines.recv_timeout(timeout) {
                Ok(line) => {
                    let v: Value = serde_json::from_str(&line)
                        .map_err(|e| format!("reference output {line:?}: {e}"))?;
                    out.push(reference_outcome(&v));
                }
                Err(RecvTimeoutError::Timeout) => {
                    out.push(Outcome::Timeout);
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(
                        "the reference stopped; is jsonata 2.0.6 installed (scripts/setup)?".into(),
                    );
                }
            }
        }
        drop(r);
        let _ = writer.join();
    }
    Ok(out)
}

fn main() {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("jsonata-diff: {e}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut generator = generate::Gen::new(ChaCha8Rng::seed_from_u64(options.seed));
    let cases: Vec<Case> = (0..options.cases)
        .map(|_| Case {
            expr: generator.expression(),
            input: generator.input(),
        })
        .collect();
    let ours_started = Instant::now();
    let trace = std::env::var_os("JSONATA_DIFF_TRACE").is_some();
    let our_outcomes: Vec<Outcome> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if trace {
                eprintln!("#{i}: {}", c.expr);
            }
            ours(&c.expr, c.input.as_ref())
        })
        .collect();
    let ours_time = ours_started.elapsed();
    let reference = match run_reference(&cases, options.timeout) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("jsonata-diff: {e}");
            std::process::exit(2);
        }
    };
    let mut allowed: std::collections::BTreeMap<Allowance, usize> = Default::default();
    let mut agree = 0usize;
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut mismatches = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let kind = match &reference[i] {
            Outcome::Value(_) => "value",
            Outcome::Undefined => "undefined",
            Outcome::Error { .. } => "error",
            _ => "other",
        };
        *kinds.entry(kind).or_default() += 1;
        match compare(&c.expr, &our_outcomes[i], &reference[i]) {
            Ok(None) => agree += 1,
            Ok(Some(a)) => {
                *allowed.entry(a).or_default() += 1;
                if options.show_allowed {
                    println!("ALLOWED {a:?} #{i}: {}", c.expr);
                    println!(
                        "  input: {}",
                        c.input.as_ref().map_or("(none)".into(), Value::to_string)
                    );
                    println!("  ours:  {}", show(&our_outcomes[i]));
                    println!("  ref:   {}", show(&reference[i]));
                }
            }
            Err(why) => mismatches.push((i, why)),
        }
    }
    for (i, why) in mismatches.iter().take(options.show) {
        let c = &cases[*i];
        println!("MISMATCH #{i}: {why}");
        println!("  expr:  {}", c.expr);
        println!(
            "  input: {}",
            c.input.as_ref().map_or("(none)".into(), Value::to_string)
        );
        println!("  ours:  {}", show(&our_outcomes[*i]));
        println!("  ref:   {}", show(&reference[*i]));
    }
    println!(
        "jsonata-diff: {} cases (seed {}): {} agree, {} allowed {:?}, {} mismatches; reference outcomes {:?}; ours {:.2}s, total {:.1}s",
        cases.len(),
        options.seed,
        agree,
        allowed.values().sum::<usize>(),
        allowed,
        mismatches.len(),
        kinds,
        ours_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if !mismatches.is_empty() {
        std::process::exit(1);
    }
}
