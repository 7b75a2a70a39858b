//! Values during evaluation. They borrow the input and the bindings (`Json*`, `Str`
//! borrowed) instead of copying them; what the expression builds is reference-counted.
//! `Undefined` is jsonata's "no value", distinct from `null`. Arrays carry jsonata's flags
//! (sequence, constructed, keep-singleton, outer wrapper, tuple stream); objects built by
//! the expression are mutable cells because the transform operator updates them in place.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::rc::{Rc, Weak};
use std::sync::OnceLock;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::error::{EvalError, Fields, json_string};
use crate::number::{js_number_to_string, precision15};
use crate::parser::Slot;
use crate::regex::JsRegex;
use crate::signature::Signature;
use crate::{Bindings, Limits, RandomSource};

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

/// An object built by the expression.
#[derive(Debug)]
pub(crate) struct Object<'a>(RefCell<Map<'a>>);

impl<'a> std::ops::Deref for Object<'a> {
    type Target = RefCell<Map<'a>>;
    fn deref(&self) -> &RefCell<Map<'a>> {
        &self.0
    }
}

/// Values can nest as deep as the steps that built them (`$reduce` wrapping an array in
/// an array each time); dropping them one level per call could exhaust the stack, so
/// arrays and objects hand their children to a loop instead.
fn drop_iteratively(mut pending: Vec<Value<'_>>) {
    while let Some(v) = pending.pop() {
        match v {
            Value::Array(rc) => {
                if let Ok(mut a) = Rc::try_unwrap(rc) {
                    pending.append(&mut a.items);
                }
            }
            Value::Object(rc) => {
                if let Ok(o) = Rc::try_unwrap(rc) {
                    let map = std::mem::take(&mut *o.0.borrow_mut());
                    pending.extend(map.into_values());
                }
            }
            _ => {}
        }
    }
}

impl Drop for Array<'_> {
    fn drop(&mut self) {
        if self
            .items
            .iter()
            .any(|v| matches!(v, Value::Array(_) | Value::Object(_)))
        {
            drop_iteratively(std::mem::take(&mut self.items));
        }
    }
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        let map = self.0.get_mut();
        if map
            .values()
            .any(|v| matches!(v, Value::Array(_) | Value::Object(_)))
        {
            drop_iteratively(std::mem::take(map).into_values().collect());
        }
    }
}

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
        env: Rc<Frame<'a>>,
    },
    /// A function passed as an argument: jsonata.js wraps it in a JavaScript closure,
    /// which is falsy (its lambdas and built-ins are truthy objects) and a new value each
    /// time.
    Closure(Value<'a>),
}

#[derive(Debug)]
pub(crate) struct Lambda<'a> {
    pub def: &'a crate::ast::Lambda,
    pub input: Value<'a>,
    pub env: Rc<Frame<'a>>,
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
            Func::Closure(Value::Func(f)) => f.arity(),
            Func::Closure(_) => 0,
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
        Value::Object(Rc::new(Object(RefCell::new(map))))
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
            (Value::Func(a), Value::Func(b)) => {
                Rc::ptr_eq(a, b)
                    || matches!((&**a, &**b), (Func::Builtin(x), Func::Builtin(y)) if std::ptr::eq(*x, *y))
            }
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

/// Bounds on a walk over a value: how deep it may go and how many nodes it may visit.
/// Values are trees or, once shared, DAGs (`$x := {'a': $x, 'b': $x}`), so a walk can be
/// exponentially longer than the steps that built the value; the budget keeps it finite.
pub(crate) struct Budget {
    pub max_depth: usize,
    pub nodes: usize,
}

impl Budget {
    pub fn new(max_depth: usize, nodes: usize) -> Budget {
        Budget { max_depth, nodes }
    }

    fn visit(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > self.max_depth {
            return Err(JsonError::TooDeep);
        }
        if self.nodes == 0 {
            return Err(JsonError::TooLarge);
        }
        self.nodes -= 1;
        Ok(())
    }
}

/// Stack kept free before a walker recurses, and the segment it grows by.
const RED_ZONE: usize = 64 * 1024;
const SEGMENT: usize = 1024 * 1024;

/// jsonata's `isDeepEqual`.
pub(crate) fn deep_equal<'a>(
    a: &Value<'a>,
    b: &Value<'a>,
    budget: &mut Budget,
) -> Result<bool, JsonError> {
    deep_equal_at(a, b, budget, 0)
}

fn deep_equal_at<'a>(
    a: &Value<'a>,
    b: &Value<'a>,
    budget: &mut Budget,
    depth: usize,
) -> Result<bool, JsonError> {
    if a.strict_eq(b) {
        return Ok(true);
    }
    budget.visit(depth)?;
    stacker::maybe_grow(RED_ZONE, SEGMENT, || match (a, b) {
        (x, y) if x.is_array() && y.is_array() => {
            let n = x.array_len();
            if n != y.array_len() {
                return Ok(false);
            }
            for i in 0..n {
                if !deep_equal_at(&x.array_get(i), &y.array_get(i), budget, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        (x, y) if x.is_object() && y.is_object() => {
            let mut ka = x.keys();
            let mut kb = y.keys();
            if ka.len() != kb.len() {
                return Ok(false);
            }
            ka.sort();
            kb.sort();
            if ka != kb {
                return Ok(false);
            }
            for k in &ka {
                if !deep_equal_at(&x.get_prop(k), &y.get_prop(k), budget, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        _ => Ok(false),
    })
}

/// jsonata's `fn.boolean`: the effective boolean value, `None` for undefined. An infinite
/// number is an error, as jsonata's `isNumeric` makes it.
pub(crate) fn truthy(v: &Value<'_>, budget: &mut Budget) -> Result<Option<bool>, JsonError> {
    truthy_at(v, budget, 0)
}

fn truthy_at(v: &Value<'_>, budget: &mut Budget, depth: usize) -> Result<Option<bool>, JsonError> {
    Ok(Some(match v {
        Value::Undefined => return Ok(None),
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) if n.is_infinite() => return Err(JsonError::NonFinite(*n)),
        Value::Number(n) => !n.is_nan() && *n != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Array(_) | Value::JsonArray(_) => {
            budget.visit(depth)?;
            let n = v.array_len();
            if n == 1 {
                stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                    truthy_at(&v.array_get(0), budget, depth + 1)
                })?
                .unwrap_or(false)
            } else {
                // jsonata tests every item (and so meets every infinite number).
                let mut any = false;
                for i in 0..n {
                    let t = stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                        truthy_at(&v.array_get(i), budget, depth + 1)
                    })?;
                    any |= t == Some(true);
                }
                any
            }
        }
        Value::Object(_) | Value::JsonObject(_) => v.object_len() > 0,
        // jsonata.js's lambdas and built-ins are non-empty objects, so true; regex
        // matchers and argument closures are JavaScript functions, so false.
        Value::Func(f) => !matches!(
            **f,
            Func::Regex(_) | Func::RegexNext { .. } | Func::Closure(_)
        ),
    }))
}

/// Does `haystack` reach the object `needle` (by identity)? Used to refuse updates that
/// would make an object contain itself.
pub(crate) fn reaches(
    haystack: &Value<'_>,
    needle: &Rc<Object<'_>>,
    budget: &mut Budget,
) -> Result<bool, JsonError> {
    fn go(
        v: &Value<'_>,
        needle: *const (),
        budget: &mut Budget,
        depth: usize,
    ) -> Result<bool, JsonError> {
        match v {
            Value::Object(o) => {
                if Rc::as_ptr(o) as *const () == needle {
                    return Ok(true);
                }
                budget.visit(depth)?;
                let values: Vec<Value<'_>> = o.borrow().values().cloned().collect();
                for item in &values {
                    if stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                        go(item, needle, budget, depth + 1)
                    })? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::Array(a) => {
                budget.visit(depth)?;
                for item in &a.items {
                    if stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                        go(item, needle, budget, depth + 1)
                    })? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Ok(false),
        }
    }
    go(haystack, Rc::as_ptr(needle) as *const (), budget, 0)
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
    /// A function, which JSON cannot hold.
    Function,
    /// More nodes than the walk's budget.
    TooLarge,
}

/// `JSON.stringify(value)` with jsonata's replacer (`fn.string`): numbers rounded to 15
/// significant digits, functions written as `""`. `pretty` indents with two spaces.
pub(crate) fn stringify(
    v: &Value<'_>,
    pretty: bool,
    budget: &mut Budget,
) -> Result<String, JsonError> {
    let mut out = String::new();
    write_json(&mut out, v, pretty, 0, budget, true)?;
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
    budget: &mut Budget,
    jsonata_numbers: bool,
) -> Result<bool, JsonError> {
    budget.visit(level)?;
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
                let wrote = stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                    write_json(out, &item, pretty, level + 1, budget, jsonata_numbers)
                })?;
                if !wrote {
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
                let wrote = stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                    write_json(out, &item, pretty, level + 1, budget, jsonata_numbers)
                })?;
                if wrote {
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
    match write_json(&mut out, v, false, 0, &mut Budget::new(64, 10_000), false) {
        Ok(true) => Some(out),
        _ => None,
    }
}

/// The evaluation result as JSON: `None` for undefined. Undefined array items become
/// `null` and undefined object members are dropped, as `JSON.stringify` does. A function
/// or a non-finite number anywhere is an error: JSON has no way to write either.
pub(crate) fn to_json(v: &Value<'_>, budget: &mut Budget) -> Result<Option<Json>, JsonError> {
    fn conv(v: &Value<'_>, depth: usize, budget: &mut Budget) -> Result<Option<Json>, JsonError> {
        budget.visit(depth)?;
        Ok(Some(match v {
            Value::Undefined => return Ok(None),
            Value::Func(_) => return Err(JsonError::Function),
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => number_to_json(*n)?,
            Value::Str(s) => Json::String(s.to_string()),
            Value::JsonArray(_) | Value::JsonObject(_) => json_copy(v, depth, budget)?,
            Value::Array(_) => {
                let v = unwrap_outer(v);
                let mut out = Vec::with_capacity(v.array_len());
                for i in 0..v.array_len() {
                    let item = v.array_get(i);
                    let j =
                        stacker::maybe_grow(RED_ZONE, SEGMENT, || conv(&item, depth + 1, budget))?;
                    out.push(j.unwrap_or(Json::Null));
                }
                Json::Array(out)
            }
            Value::Object(o) => {
                let entries: Vec<(Rc<str>, Value<'_>)> = o
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let mut out = serde_json::Map::new();
                for (k, item) in entries {
                    let j =
                        stacker::maybe_grow(RED_ZONE, SEGMENT, || conv(&item, depth + 1, budget))?;
                    if let Some(j) = j {
                        out.insert(k.to_string(), j);
                    }
                }
                Json::Object(out)
            }
        }))
    }
    /// A copy of borrowed input, walked here rather than by `Clone` so that the budget and
    /// the stack guard apply to input of any depth.
    fn json_copy(v: &Value<'_>, depth: usize, budget: &mut Budget) -> Result<Json, JsonError> {
        fn copy(j: &Json, depth: usize, budget: &mut Budget) -> Result<Json, JsonError> {
            budget.visit(depth)?;
            Ok(match j {
                Json::Array(a) => {
                    let mut out = Vec::with_capacity(a.len());
                    for item in a {
                        out.push(stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                            copy(item, depth + 1, budget)
                        })?);
                    }
                    Json::Array(out)
                }
                Json::Object(o) => {
                    let mut out = serde_json::Map::new();
                    for (k, item) in o {
                        let c = stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                            copy(item, depth + 1, budget)
                        })?;
                        out.insert(k.clone(), c);
                    }
                    Json::Object(out)
                }
                other => other.clone(),
            })
        }
        match v {
            Value::JsonArray(a) => {
                let mut out = Vec::with_capacity(a.len());
                for item in a.iter() {
                    out.push(stacker::maybe_grow(RED_ZONE, SEGMENT, || {
                        copy(item, depth + 1, budget)
                    })?);
                }
                Ok(Json::Array(out))
            }
            Value::JsonObject(o) => {
                let mut out = serde_json::Map::new();
                for (k, item) in o.iter() {
                    let c =
                        stacker::maybe_grow(RED_ZONE, SEGMENT, || copy(item, depth + 1, budget))?;
                    out.insert(k.clone(), c);
                }
                Ok(Json::Object(out))
            }
            _ => Ok(Json::Null),
        }
    }
    conv(v, 0, budget)
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

// The evaluation's state types live here with `Value`, not in `eval.rs` and `functions.rs`,
// because they are one recursive family: a function value holds a built-in (whose
// implementation takes the `Eval`) or a lambda (which captures a `Frame` of values). Kept
// together, `value` depends on neither the evaluator nor the function library, and those
// two depend on it; the evaluator's logic stays in `eval.rs` as `impl Eval`.

/// The signature of a built-in's implementation: the evaluation, the arguments, the
/// context value.
pub(crate) type Impl =
    for<'a, 'x> fn(&mut Eval<'a, 'x>, Vec<Value<'a>>, &Value<'a>) -> R<Value<'a>>;

/// A built-in function.
pub(crate) struct Builtin {
    pub name: &'static str,
    pub signature_text: &'static str,
    pub signature: OnceLock<Signature>,
    /// JavaScript's `Function.length` of jsonata's implementation: the arity higher-order
    /// functions see.
    pub js_length: usize,
    /// How many parameters a partial application binds (jsonata reads them from the
    /// implementation's source text).
    pub js_params: usize,
    pub implementation: Impl,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.name)
    }
}

impl Builtin {
    pub fn signature(&self) -> &Signature {
        self.signature.get_or_init(|| {
            Signature::parse(self.signature_text)
                .unwrap_or_else(|_| unreachable!("built-in signatures parse"))
        })
    }
}

/// An evaluation failure on its way up: jsonata's error object before its message is
/// rendered (the token and position are often filled in by an enclosing node).
#[derive(Debug, Clone)]
pub(crate) struct Fail {
    pub code: &'static str,
    pub position: Option<usize>,
    pub fields: Box<Fields>,
}

impl Fail {
    pub fn new(code: &'static str) -> Fail {
        Fail {
            code,
            position: None,
            fields: Box::default(),
        }
    }

    pub fn value(mut self, v: &Value<'_>) -> Fail {
        self.fields.value = message_json(v);
        self
    }

    pub fn value2(mut self, v: &Value<'_>) -> Fail {
        self.fields.value2 = message_json(v);
        self
    }

    pub fn value_text(mut self, text: String) -> Fail {
        self.fields.value = Some(text);
        self
    }

    pub fn index(mut self, i: usize) -> Fail {
        self.fields.index = Some(i.to_string());
        self
    }

    pub fn message(mut self, m: impl Into<String>) -> Fail {
        self.fields.message = Some(m.into());
        self
    }

    pub fn at(mut self, position: usize) -> Fail {
        self.position = Some(position);
        self
    }

    pub fn token(mut self, token: &str) -> Fail {
        self.fields.token = Some(json_string(token));
        self
    }

    pub fn into_error(self) -> EvalError {
        EvalError::from_fields(self.code, self.position, &self.fields)
    }
}

pub(crate) type R<T> = Result<T, Fail>;

/// A scope of variables.
#[derive(Debug, Default)]
pub(crate) struct Frame<'a> {
    pub vars: RefCell<Vec<(Str<'a>, Value<'a>)>>,
    pub parent: Option<Rc<Frame<'a>>>,
    /// Captured by a closure, so listed for the cycle-breaking sweep at the end.
    pub captured: Cell<bool>,
}

impl<'a> Frame<'a> {
    pub fn child(parent: &Rc<Frame<'a>>) -> Rc<Frame<'a>> {
        Rc::new(Frame {
            vars: RefCell::new(Vec::new()),
            parent: Some(parent.clone()),
            captured: Cell::new(false),
        })
    }

    pub fn bind(&self, name: Str<'a>, value: Value<'a>) {
        let mut vars = self.vars.borrow_mut();
        if let Some(slot) = vars.iter_mut().find(|(k, _)| **k == *name) {
            slot.1 = value;
        } else {
            vars.push((name, value));
        }
    }

    pub fn lookup_local(&self, name: &str) -> Option<Value<'a>> {
        self.vars
            .borrow()
            .iter()
            .find(|(k, _)| **k == *name)
            .map(|(_, v)| v.clone())
    }
}

/// The evaluation of one expression against one input.
pub(crate) struct Eval<'a, 'x> {
    pub bindings: &'a dyn Bindings,
    pub slots: &'a [Slot],
    pub timestamp: i64,
    pub random: &'x mut dyn RandomSource,
    pub limits: Limits,
    // The fields below are the evaluator's own bookkeeping: only `eval.rs` touches them.
    pub depth: usize,
    pub steps: u64,
    /// Frames captured by closures: cleared at the end, which breaks the reference cycles
    /// a closure stored in its own scope creates.
    pub captured: Vec<Weak<Frame<'a>>>,
    /// Host bindings already converted, so `$states` is assembled once per evaluation.
    pub host_cache: RefCell<Vec<(String, Value<'a>)>>,
}

impl Drop for Eval<'_, '_> {
    fn drop(&mut self) {
        for frame in self.captured.drain(..) {
            if let Some(frame) = frame.upgrade() {
                frame.vars.borrow_mut().clear();
            }
        }
    }
}
