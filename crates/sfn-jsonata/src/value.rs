//! Values during evaluation. They borrow the input and the bindings (`Json*`, `Str`
//! borrowed) instead of copying them; what the expression builds is reference-counted.
//! `Undefined` is jsonata's "no value", distinct from `null`. Arrays carry jsonata's flags
//! (sequence, constructed, keep-singleton, outer wrapper, tuple stream); objects built by
//! the expression are mutable cells because the transform operator updates them in place.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::functions::Builtin;
use crate::number::{js_number_to_string, precision15};
use crate::regex::JsRegex;

/// A string, borrowed from the input or owned.
#[derive(Clone, Debug)]
pub(crate) enum Str<'a> {
    Borrowed(&'a str),
    Owned(Rc<str>),
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Owned(s) => s,
        }
    }
}

pub(crate) type Map<'a> = IndexMap<Rc<str>, Value<'a>>;

#[derive(Debug)]
pub(crate) struct Array<'a> {
    pub items: Vec<Value<'a>>,
    /// A result sequence (jsonata `createSequence`), unwrapped when it has one item.
    pub sequence: bool,
    /// Built by an array constructor `[...]`: never flattened into a path's results.
    pub cons: bool,
    pub keep_singleton: Cell<bool>,
    /// The whole input when it is an array, wrapped so that it is treated as one value.
    pub outer_wrapper: bool,
    /// A stream of binding tuples (objects holding `@` and the bound variables).
    pub tuple_stream: bool,
}

pub(crate) type Object<'a> = RefCell<Map<'a>>;

#[derive(Clone, Debug)]
pub(crate) enum Value<'a> {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    Str(Str<'a>),
    JsonArray(&'a Vec<Json>),
    JsonObject(&'a serde_json::Map<String, Json>),
    Array(Rc<Array<'a>>),
    Object(Rc<Object<'a>>),
    Func(Rc<Func<'a>>),
}

/// A function value.
#[derive(Debug)]
pub(crate) enum Func<'a> {
    Lambda(Lambda<'a>),
    Builtin(&'static Builtin),
    /// A built-in partially applied: `bound` holds the given arguments (`None` for `?`).
    NativePartial {
        builtin: &'static Builtin,
        bound: Vec<Option<Value<'a>>>,
    },
    Regex(std::sync::Arc<JsRegex>),
    /// The `next` of a regex match: continues from a character offset.
    RegexNext {
        regex: std::sync::Arc<JsRegex>,
        text: Rc<str>,
        from: usize,
    },
    Transform {
        node: &'a crate::ast::Node,
        env: Rc<crate::eval::Frame<'a>>,
    },
}

#[derive(Debug)]
pub(crate) struct Lambda<'a> {
    pub def: &'a crate::ast::Lambda,
    pub input: Value<'a>,
    pub env: Rc<crate::eval::Frame<'a>>,
    /// The parameters still to be supplied (all of them unless partially applied).
    pub params: Rc<[String]>,
    /// Partial application drops the signature, as jsonata does.
    pub use_signature: bool,
    pub thunk: bool,
}

impl<'a> Func<'a> {
    /// jsonata's `getFunctionArity`: how many arguments a higher-order function passes.
    pub fn arity(&self) -> usize {
        match self {
            Func::Lambda(l) => l.params.len(),
            Func::Builtin(b) => b.js_length,
            Func::NativePartial { bound, .. } => bound.iter().filter(|b| b.is_none()).count(),
            Func::Regex(_) => 2,
            Func::RegexNext { .. } => 0,
            Func::Transform { .. } => 1,
        }
    }
}

impl<'a> Value<'a> {
    pub fn str(s: &str) -> Value<'a> {
        Value::Str(Str::Owned(Rc::from(s)))
    }

    pub fn string(s: String) -> Value<'a> {
        Value::Str(Str::Owned(Rc::from(s)))
    }

    pub fn from_json(json: &'a Json) -> Value<'a> {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => Value::Str(Str::Borrowed(s)),
            Json::Array(a) => Value::JsonArray(a),
            Json::Object(o) => Value::JsonObject(o),
        }
    }

    pub fn array(items: Vec<Value<'a>>) -> Value<'a> {
        Value::Array(Rc::new(Array {
            items,
            sequence: false,
            cons: false,
            keep_singleton: Cell::new(false),
            outer_wrapper: false,
            tuple_stream: false,
        }))
    }

    pub fn seq(items: Vec<Value<'a>>) -> Value<'a> {
        Value::Array(Rc::new(Array {
            items,
            sequence: true,
            cons: false,
            keep_singleton: Cell::new(false),
            outer_wrapper: false,
            tuple_stream: false,
        }))
    }

    pub fn with_flags(items: Vec<Value<'a>>, f: Flags) -> Value<'a> {
        Value::Array(Rc::new(Array {
            items,
            sequence: f.sequence,
            cons: f.cons,
            keep_singleton: Cell::new(f.keep_singleton),
            outer_wrapper: f.outer_wrapper,
            tuple_stream: f.tuple_stream,
        }))
    }

    pub fn object(map: Map<'a>) -> Value<'a> {
        Value::Object(Rc::new(RefCell::new(map)))
    }

    pub fn func(f: Func<'a>) -> Value<'a> {
        Value::Func(Rc::new(f))
    }

    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_) | Value::JsonArray(_))
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_) | Value::JsonObject(_))
    }

    pub fn is_function(&self) -> bool {
        matches!(self, Value::Func(_))
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Str(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_sequence(&self) -> bool {
        matches!(self, Value::Array(a) if a.sequence)
    }

    pub fn is_tuple_stream(&self) -> bool {
        matches!(self, Value::Array(a) if a.tuple_stream)
    }

    pub fn array_len(&self) -> usize {
        match self {
            Value::Array(a) => a.items.len(),
            Value::JsonArray(a) => a.len(),
            _ => 0,
        }
    }

    pub fn array_get(&self, i: usize) -> Value<'a> {
        match self {
            Value::Array(a) => a.items.get(i).cloned().unwrap_or(Value::Undefined),
            Value::JsonArray(a) => a.get(i).map(Value::from_json).unwrap_or(Value::Undefined),
            _ => Value::Undefined,
        }
    }

    /// The items of an array (empty for anything else).
    pub fn array_items(&self) -> Vec<Value<'a>> {
        match self {
            Value::Array(a) => a.items.clone(),
            Value::JsonArray(a) => a.iter().map(Value::from_json).collect(),
            _ => Vec::new(),
        }
    }

    /// Calls `f` on each item of an array without collecting them.
    pub fn for_each_item(&self, mut f: impl FnMut(Value<'a>)) {
        match self {
            Value::Array(a) => a.items.iter().for_each(|v| f(v.clone())),
            Value::JsonArray(a) => a.iter().for_each(|v| f(Value::from_json(v))),
            _ => {}
        }
    }

    /// The value of property `key` of an object (undefined otherwise).
    pub fn get_prop(&self, key: &str) -> Value<'a> {
        match self {
            Value::Object(o) => o.borrow().get(key).cloned().unwrap_or(Value::Undefined),
            Value::JsonObject(o) => o.get(key).map(Value::from_json).unwrap_or(Value::Undefined),
            _ => Value::Undefined,
        }
    }

    /// The entries of an object, in order (empty for anything else).
    pub fn entries(&self) -> Vec<(Rc<str>, Value<'a>)> {
        match self {
            Value::Object(o) => o
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Value::JsonObject(o) => o
                .iter()
                .map(|(k, v)| (Rc::from(k.as_str()), Value::from_json(v)))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn keys(&self) -> Vec<Rc<str>> {
        match self {
            Value::Object(o) => o.borrow().keys().cloned().collect(),
            Value::JsonObject(o) => o.keys().map(|k| Rc::from(k.as_str())).collect(),
            _ => Vec::new(),
        }
    }

    pub fn object_len(&self) -> usize {
        match self {
            Value::Object(o) => o.borrow().len(),
            Value::JsonObject(o) => o.len(),
            _ => 0,
        }
    }

    /// The letter of the value in a function signature.
    pub fn sym(&self) -> crate::signature::Sym {
        use crate::signature::Sym;
        match self {
            Value::Func(_) => Sym::F,
            Value::Str(_) => Sym::S,
            Value::Number(_) => Sym::N,
            Value::Bool(_) => Sym::B,
            Value::Null => Sym::L,
            Value::Array(_) | Value::JsonArray(_) => Sym::A,
            Value::Object(_) | Value::JsonObject(_) => Sym::O,
            Value::Undefined => Sym::M,
        }
    }

    /// JavaScript's `===`: by value for scalars, by identity for arrays, objects and
    /// functions.
    pub fn strict_eq(&self, other: &Value<'a>) -> bool {
        match (self, other) {
            (Value::Undefined, Value::Undefined) | (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => **a == **b,
            (Value::JsonArray(a), Value::JsonArray(b)) => std::ptr::eq(*a, *b),
            (Value::JsonObject(a), Value::JsonObject(b)) => std::ptr::eq(*a, *b),
            (Value::Array(a), Value::Array(b)) => Rc::ptr_eq(a, b),
            (Value::Object(a), Value::Object(b)) => Rc::ptr_eq(a, b),
            (Value::Func(a), Value::Func(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Flags for [`Value::with_flags`].
#[derive(Default, Clone, Copy)]
pub(crate) struct Flags {
    pub sequence: bool,
    pub cons: bool,
    pub keep_singleton: bool,
    pub outer_wrapper: bool,
    pub tuple_stream: bool,
}

/// jsonata's `isDeepEqual`.
pub(crate) fn deep_equal<'a>(a: &Value<'a>, b: &Value<'a>) -> bool {
    if a.strict_eq(b) {
        return true;
    }
    match (a, b) {
        (x, y) if x.is_array() && y.is_array() => {
            let n = x.array_len();
            if n != y.array_len() {
                return false;
            }
            (0..n).all(|i| deep_equal(&x.array_get(i), &y.array_get(i)))
        }
        (x, y)
            if (x.is_object() || x.is_function() || x.is_array())
                && (y.is_object() || y.is_function() || y.is_array()) =>
        {
            // Objects (or an array against an object, compared as objects by their keys,
            // which jsonata does too).
            if x.is_function() || y.is_function() || x.is_array() || y.is_array() {
                return false;
            }
            let mut ka = x.keys();
            let mut kb = y.keys();
            if ka.len() != kb.len() {
                return false;
            }
            ka.sort();
            kb.sort();
            if ka != kb {
                return false;
            }
            ka.iter()
                .all(|k| deep_equal(&x.get_prop(k), &y.get_prop(k)))
        }
        _ => false,
    }
}

/// jsonata's `fn.boolean`: the effective boolean value, `None` for undefined.
pub(crate) fn truthy(v: &Value<'_>) -> Option<bool> {
    Some(match v {
        Value::Undefined => return None,
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => !n.is_nan() && *n != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Array(_) | Value::JsonArray(_) => {
            let n = v.array_len();
            if n == 1 {
                truthy(&v.array_get(0)).unwrap_or(false)
            } else if n > 1 {
                let mut any = false;
                v.for_each_item(|item| {
                    if !any && truthy(&item) == Some(true) {
                        any = true;
                    }
                });
                any
            } else {
                false
            }
        }
        Value::Object(_) | Value::JsonObject(_) => v.object_len() > 0,
        Value::Func(_) => false,
    })
}

/// Compares strings as JavaScript does: by UTF-16 code units.
pub(crate) fn js_str_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Length in UTF-16 code units, JavaScript's `String.length`.
pub(crate) fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Why a value cannot be written as JSON.
pub(crate) enum JsonError {
    /// A non-finite number (D1001 in jsonata's string functions).
    NonFinite(f64),
    /// Nesting deeper than the limit.
    TooDeep,
}

/// `JSON.stringify(value)` with jsonata's replacer (`fn.string`): numbers rounded to 15
/// significant digits, functions written as `""`. `indent` pretty-prints with two spaces.
pub(crate) fn stringify(
    v: &Value<'_>,
    pretty: bool,
    max_depth: usize,
) -> Result<String, JsonError> {
    let mut out = String::new();
    write_json(&mut out, v, pretty, 0, max_depth, true)?;
    Ok(out)
}

fn write_indent(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_json(
    out: &mut String,
    v: &Value<'_>,
    pretty: bool,
    level: usize,
    max_depth: usize,
    jsonata_numbers: bool,
) -> Result<bool, JsonError> {
    if level > max_depth {
        return Err(JsonError::TooDeep);
    }
    match v {
        Value::Undefined => return Ok(false),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_nan() {
                out.push_str("null");
            } else if !n.is_finite() {
                if jsonata_numbers {
                    return Err(JsonError::NonFinite(*n));
                }
                out.push_str("null");
            } else {
                let n = if jsonata_numbers { precision15(*n) } else { *n };
                out.push_str(&js_number_to_string(n));
            }
        }
        Value::Str(s) => write_json_string(out, s),
        Value::Func(_) => {
            if jsonata_numbers {
                out.push_str("\"\"");
            } else {
                return Ok(false);
            }
        }
        Value::Array(_) | Value::JsonArray(_) => {
            let v = unwrap_outer(v);
            out.push('[');
            let n = v.array_len();
            if n == 0 {
                out.push(']');
                return Ok(true);
            }
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                if pretty {
                    write_indent(out, level + 1);
                }
                let item = v.array_get(i);
                if !write_json(out, &item, pretty, level + 1, max_depth, jsonata_numbers)? {
                    out.push_str("null");
                }
            }
            if pretty {
                write_indent(out, level);
            }
            out.push(']');
        }
        Value::Object(_) | Value::JsonObject(_) => {
            out.push('{');
            let mut first = true;
            for (k, item) in v.entries() {
                if item.is_undefined() || (!jsonata_numbers && item.is_function()) {
                    continue;
                }
                let mark = out.len();
                if !first {
                    out.push(',');
                }
                if pretty {
                    write_indent(out, level + 1);
                }
                write_json_string(out, &k);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                if write_json(out, &item, pretty, level + 1, max_depth, jsonata_numbers)? {
                    first = false;
                } else {
                    out.truncate(mark);
                }
            }
            if pretty && !first {
                write_indent(out, level);
            }
            out.push('}');
        }
    }
    Ok(true)
}

/// An outer-wrapped input array stands for the array it wraps.
fn unwrap_outer<'v, 'a>(v: &'v Value<'a>) -> std::borrow::Cow<'v, Value<'a>> {
    if let Value::Array(a) = v
        && a.outer_wrapper
        && let Some(first) = a.items.first()
    {
        return std::borrow::Cow::Owned(first.clone());
    }
    std::borrow::Cow::Borrowed(v)
}

/// A JSON string literal with JavaScript's escapes (`JSON.stringify`).
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `JSON.stringify(value)` without jsonata's rounding, for error messages; `None` where
/// JavaScript gives `undefined`.
pub(crate) fn message_json(v: &Value<'_>) -> Option<String> {
    let mut out = String::new();
    match write_json(&mut out, v, false, 0, 64, false) {
        Ok(true) => Some(out),
        _ => None,
    }
}

/// The evaluation result as JSON: `None` for undefined. Array items that JSON cannot hold
/// (undefined, functions) become `null` and such object members are dropped, as
/// `JSON.stringify` does. A non-finite number is an error: JSON has no way to write it.
pub(crate) fn to_json(v: &Value<'_>, max_depth: usize) -> Result<Option<Json>, JsonError> {
    fn conv(v: &Value<'_>, depth: usize, max: usize) -> Result<Option<Json>, JsonError> {
        if depth > max {
            return Err(JsonError::TooDeep);
        }
        Ok(Some(match v {
            Value::Undefined | Value::Func(_) => return Ok(None),
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number_to_json(*n)?,
            Value::Str(s) => Json::String(s.to_string()),
            Value::JsonArray(a) => Json::Array((*a).clone()),
            Value::JsonObject(o) => Json::Object((*o).clone()),
            Value::Array(_) => {
                let v = unwrap_outer(v);
                let mut out = Vec::with_capacity(v.array_len());
                let mut err = None;
                v.for_each_item(|item| {
                    if err.is_some() {
                        return;
                    }
                    match conv(&item, depth + 1, max) {
                        Ok(j) => out.push(j.unwrap_or(Json::Null)),
                        Err(e) => err = Some(e),
                    }
                });
                if let Some(e) = err {
                    return Err(e);
                }
                Json::Array(out)
            }
            Value::Object(o) => {
                let mut out = serde_json::Map::new();
                for (k, item) in o.borrow().iter() {
                    if let Some(j) = conv(item, depth + 1, max)? {
                        out.insert(k.to_string(), j);
                    }
                }
                Json::Object(out)
            }
        }))
    }
    conv(v, 0, max_depth)
}

/// A number as JSON: integers as integers (as JavaScript writes them), others as floats.
pub(crate) fn number_to_json(n: f64) -> Result<Json, JsonError> {
    if !n.is_finite() {
        return Err(JsonError::NonFinite(n));
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        return Ok(Json::from(n as i64));
    }
    Ok(serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number))
}
