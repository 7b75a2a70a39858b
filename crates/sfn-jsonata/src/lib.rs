//! JSONata as AWS Step Functions runs it: the JSONata 2.0.6 language (jsonata.js semantics,
//! error codes and messages) without `$eval`, plus the functions Step Functions adds
//! (`$partition`, `$range`, `$hash`, `$random` with a seed, `$uuid`, `$parse`). Expressions
//! are parsed once and evaluated many times against `serde_json` values; the host supplies
//! the variables, the clock, the random source and the limits.
//!
//! ```
//! use serde_json::{Value, json};
//! use sfn_jsonata::{Binding, Bindings, Environment, Expression, FixedClock, SplitMix64};
//!
//! /// `$states` assembled from borrowed parts, and one workflow variable.
//! struct Vars<'a> {
//!     input: &'a Value,
//!     threshold: &'a Value,
//! }
//!
//! impl Bindings for Vars<'_> {
//!     fn binding(&self, name: &str) -> Option<Binding<'_>> {
//!         match name {
//!             "states" => Some(Binding::Object(vec![("input", self.input)])),
//!             "threshold" => Some(Binding::Json(self.threshold)),
//!             _ => None,
//!         }
//!     }
//! }
//!
//! let expr = Expression::parse("$sum($states.input.items.(price * qty)) > $threshold")?;
//! let input = json!({"items": [{"price": 5, "qty": 3}, {"price": 10, "qty": 1}]});
//! let vars = Vars { input: &input, threshold: &json!(20) };
//! let clock = FixedClock(1_700_000_000_000);
//! let mut random = SplitMix64::new(7);
//! let mut env = Environment::new(&clock, &mut random);
//! assert_eq!(expr.evaluate(None, &vars, &mut env)?, Some(json!(true)));
//!
//! let err = Expression::parse("$undefinedFunction()")?
//!     .evaluate(None, &vars, &mut env)
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "T1006: Attempted to invoke a non-function");
//! # Ok::<(), sfn_jsonata::Error>(())
//! ```
#![warn(missing_docs)]

mod ast;
mod datetime;
mod error;
mod eval;
mod format;
mod functions;
mod lexer;
mod number;
mod parser;
mod regex;
mod signature;
mod value;

use serde_json::Value as Json;

pub use error::{Error, EvalError, EvalErrorKind, ParseError};

/// A parsed JSONata expression, ready to be evaluated any number of times, from any
/// thread.
pub struct Expression {
    parsed: parser::Parsed,
    source: String,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expression").field(&self.source).finish()
    }
}

/// Where the evaluator finds a variable the expression does not bind itself.
pub enum Binding<'a> {
    /// A JSON value, borrowed.
    Json(&'a Json),
    /// An object assembled from borrowed members, in order, without copying them (how a
    /// host exposes `$states` = `{input, result, errorOutput, context}`).
    Object(Vec<(&'a str, &'a Json)>),
}

/// Variables supplied by the host (`$states`, workflow variables). A lookup happens at
/// most once per name and evaluation; names are given without the `$`.
///
/// Host variables shadow the built-in functions of the same name, as jsonata's bindings
/// do; the expression's own `:=` bindings shadow both.
pub trait Bindings {
    /// The value of variable `name`, if the host defines it.
    fn binding(&self, name: &str) -> Option<Binding<'_>>;
}

/// No variables at all.
pub struct NoBindings;

impl Bindings for NoBindings {
    fn binding(&self, _: &str) -> Option<Binding<'_>> {
        None
    }
}

impl Bindings for serde_json::Map<String, Json> {
    fn binding(&self, name: &str) -> Option<Binding<'_>> {
        self.get(name).map(Binding::Json)
    }
}

impl<S: std::hash::BuildHasher> Bindings for std::collections::HashMap<String, Json, S> {
    fn binding(&self, name: &str) -> Option<Binding<'_>> {
        self.get(name).map(Binding::Json)
    }
}

impl Bindings for std::collections::BTreeMap<String, Json> {
    fn binding(&self, name: &str) -> Option<Binding<'_>> {
        self.get(name).map(Binding::Json)
    }
}

impl Bindings for [(&str, &Json)] {
    fn binding(&self, name: &str) -> Option<Binding<'_>> {
        self.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| Binding::Json(v))
    }
}

/// The time `$now()` and `$millis()` report: read once per evaluation, so every call in
/// one expression sees the same instant (as in jsonata).
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that always reads the same instant (milliseconds since the Unix epoch).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_millis(&self) -> i64 {
        self.0
    }
}

/// Where `$random()`, `$shuffle()` and `$uuid()` draw their randomness.
pub trait RandomSource {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// A small seeded generator (SplitMix64), for hosts that want reproducible runs without a
/// random-number crate.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose sequence is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
}

impl RandomSource for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Bounds on one evaluation. Exceeding one is an [`EvalError`]: `D1011` for depth,
/// `D1012` for steps, `D2015` for sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of evaluation (recursion of non-tail calls, nested expressions,
    /// depth of values walked). Tail calls do not nest.
    pub max_depth: usize,
    /// Units of work (one per expression node evaluated, per item a built-in processes,
    /// per comparison a sort makes): bounds the time an evaluation can take, the same on
    /// every machine.
    pub max_steps: u64,
    /// Most items in any sequence or array the evaluation builds.
    pub max_sequence_length: usize,
    /// Longest string (in bytes) the evaluation builds.
    pub max_string_bytes: usize,
}

impl Default for Limits {
    /// Depth 5,000, 5,000,000 steps (well under a second), sequences of 1,000,000 items,
    /// strings of 8 MiB: far above what a Step Functions payload (256 KiB) can need.
    fn default() -> Self {
        Limits {
            max_depth: 5_000,
            max_steps: 5_000_000,
            max_sequence_length: 1_000_000,
            max_string_bytes: 8 << 20,
        }
    }
}

/// What the host provides to an evaluation: the clock, the random source and the limits.
pub struct Environment<'h> {
    clock: &'h dyn Clock,
    random: &'h mut dyn RandomSource,
    limits: Limits,
}

impl<'h> Environment<'h> {
    /// An environment with the default [`Limits`].
    pub fn new(clock: &'h dyn Clock, random: &'h mut dyn RandomSource) -> Self {
        Environment {
            clock,
            random,
            limits: Limits::default(),
        }
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

impl Expression {
    /// Parses `text`. A syntax error carries jsonata's code (`S0xxx`), message and
    /// position, e.g. `S0207` for `1 +`.
    pub fn parse(text: &str) -> Result<Expression, ParseError> {
        Ok(Expression {
            parsed: parser::parse(text)?,
            source: text.to_string(),
        })
    }

    /// The text the expression was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression with `input` as the context (`$`, and `$$`), the host's
    /// variables and environment. `None` evaluates without a context, as Step Functions
    /// does (its expressions reach their data through `$states`). `Ok(None)` is jsonata's
    /// "undefined": the expression produced no value (which Step Functions reports as
    /// "returned nothing").
    ///
    /// A result holding a number JSON cannot write (infinite, from `1/0`) is a `D1001`
    /// error; one that is or holds a function is an error of kind
    /// [`EvalErrorKind::UnsupportedResult`].
    pub fn evaluate(
        &self,
        input: Option<&Json>,
        bindings: &dyn Bindings,
        env: &mut Environment<'_>,
    ) -> Result<Option<Json>, EvalError> {
        use value::Value;
        let limits = env.limits;
        let timestamp = env.clock.now_millis();
        let mut ev = value::Eval::new(
            bindings,
            &self.parsed.slots,
            timestamp,
            &mut *env.random,
            limits,
        );
        let input_value = input.map_or(Value::Undefined, Value::from_json);
        let context = if input.is_some_and(Json::is_array) {
            Value::with_flags(
                vec![input_value.clone()],
                value::Flags {
                    sequence: true,
                    outer_wrapper: true,
                    ..value::Flags::default()
                },
            )
        } else {
            input_value.clone()
        };
        let root = ev.root_frame(&input_value);
        let result = ev
            .eval(&self.parsed.root, &context, &root)
            .map_err(value::Fail::into_error)?;
        let json = value::to_json(&result, &mut ev.budget()).map_err(|e| match e {
            value::JsonError::Function => EvalError::unsupported_result(),
            e => ev.walk_error(e).into_error(),
        })?;
        drop(result);
        drop(root);
        drop(ev);
        Ok(json)
    }
}

/// Names of the built-in functions (without `$`), for tools that list or check them.
pub fn function_names() -> Vec<&'static str> {
    functions::names().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Expression>();
    }
}
