//! Helpers shared by the test modules.

use serde_json::Value;
use sfn_jsonata::{
    Environment, EvalError, EvalErrorKind, Expression, FixedClock, NoBindings, SplitMix64,
};

/// 2018-03-23T10:33:36.617Z, a fixed instant for `$now()` and `$millis()`.
pub const NOW: i64 = 1_521_801_216_617;

/// Evaluates `expr` against `input` with no variables, a fixed clock and a seeded random
/// source.
pub fn eval(expr: &str, input: &Value) -> Result<Option<Value>, String> {
    let e = Expression::parse(expr).map_err(|e| e.code().to_string())?;
    let clock = FixedClock(NOW);
    let mut random = SplitMix64::new(1);
    let mut env = Environment::new(&clock, &mut random);
    e.evaluate(Some(input), &NoBindings, &mut env)
        .map_err(|e: EvalError| match e.kind() {
            EvalErrorKind::UnsupportedResult => "unsupported result".to_string(),
            _ => e.code().to_string(),
        })
}
