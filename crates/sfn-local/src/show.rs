//! How values appear in the messages AWS writes: bare or as JSON text, as Java prints them,
//! by the name of their JSON type.

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// The JSON type of `value` with its article, as messages name it: `a string`, `null`.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value as AWS messages quote it: a string bare, anything else as JSON.
pub(crate) fn bare(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How Java prints a value (`Map.toString`, `List.toString`), which is what
/// `States.Format` shows for objects and arrays: `{a=1, b=[x, y]}`.
pub(crate) fn java_string(v: &Value) -> String {
    let mut out = String::new();
    write_java(&mut out, v);
    out
}

pub(crate) fn write_java(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Number(n) => write_java_number(out, n),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java(out, item);
            }
            out.push('}');
        }
    }
}

/// Java's `Double.toString` for fractional numbers (`1.1`, `1.0E10`); integers as they are.
fn write_java_number(out: &mut String, n: &Number) {
    if !n.is_f64() {
        let _ = write!(out, "{n}");
        return;
    }
    let Some(f) = n.as_f64() else {
        let _ = write!(out, "{n}");
        return;
    };
    let magnitude = f.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = format!("{f}");
        out.push_str(&text);
        if !text.contains('.') {
            out.push_str(".0");
        }
    } else {
        // Rust's `{:e}` gives `1.5e-5` / `1e20`; Java writes `1.5E-5` / `1.0E20`.
        let text = format!("{f:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        out.push_str(mantissa);
        if !mantissa.contains('.') {
            out.push_str(".0");
        }
        out.push('E');
        out.push_str(exponent);
    }
}
