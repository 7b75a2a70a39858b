//! The function library: jsonata.js 2.0.6 `functions.js` (without `$eval`, which Step
//! Functions does not offer) and the functions Step Functions adds (`$partition`,
//! `$range`, `$hash`, `$random` with a seed, `$uuid`, `$parse`).

use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;

use crate::number::{js_number_to_string, round_half_even, to_radix};
use crate::regex::JsRegex;
use crate::value::{
    Builtin, Eval, Fail, Flags, Func, Map, R, Str, Value, js_str_cmp, stringify, truthy, utf16_len,
};

macro_rules! builtins {
    ($( $name:literal, $sig:literal, $len:literal, $params:literal, $f:ident; )*) => {
        fn table() -> &'static [Builtin] {
            static TABLE: OnceLock<Vec<Builtin>> = OnceLock::new();
            TABLE.get_or_init(|| vec![
                $( Builtin {
                    name: $name,
                    signature_text: $sig,
                    signature: OnceLock::new(),
                    js_length: $len,
                    js_params: $params,
                    implementation: $f,
                }, )*
            ])
        }
    };
}

builtins! {
    "sum", "<a<n>:n>", 1, 1, sum;
    "count", "<a:n>", 1, 1, count;
    "max", "<a<n>:n>", 1, 1, max;
    "min", "<a<n>:n>", 1, 1, min;
    "average", "<a<n>:n>", 1, 1, average;
    "string", "<x-b?:s>", 1, 2, string;
    "substring", "<s-nn?:s>", 3, 3, substring;
    "substringBefore", "<s-s:s>", 2, 2, substring_before;
    "substringAfter", "<s-s:s>", 2, 2, substring_after;
    "lowercase", "<s-:s>", 1, 1, lowercase;
    "uppercase", "<s-:s>", 1, 1, uppercase;
    "length", "<s-:n>", 1, 1, length;
    "trim", "<s-:s>", 1, 1, trim;
    "pad", "<s-ns?:s>", 3, 3, pad;
    "match", "<s-f<s:o>n?:a<o>>", 3, 3, match_;
    "contains", "<s-(sf):b>", 2, 2, contains;
    "replace", "<s-(sf)(sf)n?:s>", 4, 4, replace;
    "split", "<s-(sf)n?:a<s>>", 3, 3, split;
    "join", "<a<s>s?:s>", 2, 2, join;
    "formatNumber", "<n-so?:s>", 3, 3, format_number;
    "formatBase", "<n-n?:s>", 2, 2, format_base;
    "formatInteger", "<n-s:s>", 2, 2, format_integer;
    "parseInteger", "<s-s:n>", 2, 2, parse_integer;
    "number", "<(nsb)-:n>", 1, 1, number;
    "floor", "<n-:n>", 1, 1, floor;
    "ceil", "<n-:n>", 1, 1, ceil;
    "round", "<n-n?:n>", 2, 2, round;
    "abs", "<n-:n>", 1, 1, abs;
    "sqrt", "<n-:n>", 1, 1, sqrt;
    "power", "<n-n:n>", 2, 2, power;
    "random", "<n?:n>", 0, 1, random;
    "boolean", "<x-:b>", 1, 1, boolean;
    "not", "<x-:b>", 1, 1, not;
    "map", "<af>", 2, 2, map;
    "zip", "<a+>", 0, 1, zip;
    "filter", "<af>", 2, 2, filter;
    "single", "<af?>", 2, 2, single;
    "reduce", "<afj?:j>", 3, 3, reduce;
    "sift", "<o-f?:o>", 2, 2, sift;
    "keys", "<x-:a<s>>", 1, 1, keys;
    "lookup", "<x-s:x>", 2, 2, lookup_fn;
    "append", "<xx:a>", 2, 2, append_fn;
    "exists", "<x:b>", 1, 1, exists;
    "spread", "<x-:a<o>>", 1, 1, spread_fn;
    "merge", "<a<o>:o>", 1, 1, merge;
    "reverse", "<a:a>", 1, 1, reverse;
    "each", "<o-f:a>", 2, 2, each;
    "error", "<s?:x>", 1, 1, error;
    "assert", "<bs?:x>", 2, 2, assert;
    "type", "<x:s>", 1, 1, type_;
    "sort", "<af?:a>", 2, 2, sort;
    "shuffle", "<a:a>", 1, 1, shuffle;
    "distinct", "<x:x>", 1, 1, distinct;
    "base64encode", "<s-:s>", 1, 1, base64encode;
    "base64decode", "<s-:s>", 1, 1, base64decode;
    "encodeUrlComponent", "<s-:s>", 1, 1, encode_url_component;
    "encodeUrl", "<s-:s>", 1, 1, encode_url;
    "decodeUrlComponent", "<s-:s>", 1, 1, decode_url_component;
    "decodeUrl", "<s-:s>", 1, 1, decode_url;
    "toMillis", "<s-s?:n>", 2, 2, to_millis;
    "fromMillis", "<n-s?s?:s>", 3, 3, from_millis;
    "clone", "<(oa)-:o>", 1, 1, clone;
    "now", "<s?s?:s>", 2, 2, now;
    "millis", "<:n>", 0, 1, millis;
    "partition", "<an:a>", 2, 2, partition;
    "range", "<nnn?:a>", 3, 3, range;
    "hash", "<ss:s>", 2, 2, hash;
    "uuid", "<:s>", 0, 1, uuid;
    "parse", "<s:x>", 1, 1, parse;
}

/// The built-in named `name` (without the `$`).
pub(crate) fn lookup(name: &str) -> Option<&'static Builtin> {
    static INDEX: OnceLock<std::collections::HashMap<&'static str, usize>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        table()
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name, i))
            .collect()
    });
    index.get(name).map(|&i| &table()[i])
}

/// Names of every built-in, for tests and the differential generator.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    table().iter().map(|b| b.name)
}

fn arg<'a>(args: &[Value<'a>], i: usize) -> Value<'a> {
    args.get(i).cloned().unwrap_or(Value::Undefined)
}

fn num(args: &[Value<'_>], i: usize) -> Option<f64> {
    match args.get(i) {
        Some(Value::Number(n)) => Some(*n),
        _ => None,
    }
}

fn text<'v>(args: &'v [Value<'_>], i: usize) -> Option<&'v str> {
    args.get(i).and_then(Value::as_str)
}

fn infinite(n: f64) -> Fail {
    Fail::new("D1001").value_text(js_number_to_string(n))
}

// ---- helpers used by the evaluator ------------------------------------------------------

/// jsonata's `fn.lookup`: a field of an object, or of each object in an array.
pub(crate) fn lookup_field<'a>(input: &Value<'a>, key: &str) -> Value<'a> {
    match input {
        Value::JsonObject(o) => o.get(key).map(Value::from_json).unwrap_or(Value::Undefined),
        Value::Object(o) => o.borrow().get(key).cloned().unwrap_or(Value::Undefined),
        Value::Array(_) | Value::JsonArray(_) => {
            let mut out = Vec::new();
            input.for_each_item(|item| {
                let res = lookup_field(&item, key);
                match &res {
                    Value::Undefined => {}
                    Value::Array(a) => out.extend(a.items.iter().cloned()),
                    Value::JsonArray(a) => out.extend(a.iter().map(Value::from_json)),
                    _ => out.push(res),
                }
            });
            Value::seq(out)
        }
        _ => Value::Undefined,
    }
}

/// jsonata's `fn.append`.
pub(crate) fn append<'a>(a: Value<'a>, b: Value<'a>) -> Value<'a> {
    if a.is_undefined() {
        return b;
    }
    if b.is_undefined() {
        return a;
    }
    let mut items = if a.is_array() {
        a.array_items()
    } else {
        vec![a]
    };
    if b.is_array() {
        b.for_each_item(|v| items.push(v));
    } else {
        items.push(b);
    }
    Value::array(items)
}

/// jsonata's `fn.string`.
pub(crate) fn string_of(me: &Eval<'_, '_>, v: &Value<'_>, pretty: bool) -> R<String> {
    let s = match v {
        Value::Str(s) => s.to_string(),
        Value::Func(_) => String::new(),
        Value::Number(n) if !n.is_finite() => {
            return Err(Fail::new("D3001").value_text(js_number_to_string(*n)));
        }
        other => {
            let mut budget = me.budget();
            budget.nodes = budget.nodes.min(me.limits.max_string_bytes);
            stringify(other, pretty, &mut budget).map_err(|e| me.walk_error(e))?
        }
    };
    me.check_string(&s)?;
    Ok(s)
}

/// JavaScript's truthiness (used on a `$sort` comparator's result).
fn js_truthy(v: &Value<'_>) -> bool {
    match v {
        Value::Undefined | Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => *n != 0.0 && !n.is_nan(),
        Value::Str(s) => !s.is_empty(),
        _ => true,
    }
}

fn boolean_of<'a>(me: &Eval<'a, '_>, v: &Value<'a>) -> R<Option<bool>> {
    truthy(v, &mut me.budget()).map_err(|e| me.walk_error(e))
}

// ---- aggregation ------------------------------------------------------------------------

fn numbers(v: &Value<'_>) -> Vec<f64> {
    let mut out = Vec::new();
    v.for_each_item(|item| {
        if let Value::Number(n) = item {
            out.push(n);
        }
    });
    out
}

fn sum<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let a = arg(&args, 0);
    if a.is_undefined() {
        return Ok(Value::Undefined);
    }
    let ns = numbers(&a);
    me.steps(ns.len())?;
    Ok(Value::Number(ns.iter().fold(0.0, |t, n| t + n)))
}

fn count<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let a = arg(&args, 0);
    if a.is_undefined() {
        return Ok(Value::Number(0.0));
    }
    Ok(Value::Number(a.array_len() as f64))
}

fn max<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let ns = numbers(&arg(&args, 0));
    me.steps(ns.len())?;
    if ns.is_empty() {
        return Ok(Value::Undefined);
    }
    Ok(Value::Number(ns.iter().fold(f64::NEG_INFINITY, |m, &n| {
        if n.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(n)
        }
    })))
}

fn min<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let ns = numbers(&arg(&args, 0));
    me.steps(ns.len())?;
    if ns.is_empty() {
        return Ok(Value::Undefined);
    }
    Ok(Value::Number(ns.iter().fold(f64::INFINITY, |m, &n| {
        if n.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.min(n)
        }
    })))
}

fn average<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let ns = numbers(&arg(&args, 0));
    me.steps(ns.len())?;
    if ns.is_empty() {
        return Ok(Value::Undefined);
    }
    Ok(Value::Number(
        ns.iter().fold(0.0, |t, n| t + n) / ns.len() as f64,
    ))
}

// ---- strings ----------------------------------------------------------------------------

fn string<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let a = arg(&args, 0);
    if a.is_undefined() {
        return Ok(Value::Undefined);
    }
    let pretty = matches!(args.get(1), Some(Value::Bool(true)));
    Ok(Value::string(string_of(me, &a, pretty)?))
}

/// `Array.prototype.slice`'s index conversion.
fn slice_index(x: f64, len: usize) -> usize {
    let rel = if x.is_nan() { 0.0 } else { x.trunc() };
    if rel < 0.0 {
        (len as f64 + rel).max(0.0) as usize
    } else {
        rel.min(len as f64) as usize
    }
}

fn substring<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len();
    let mut start = num(&args, 1).unwrap_or(f64::NAN);
    if len as f64 + start < 0.0 {
        start = 0.0;
    }
    if let Some(length) = num(&args, 2) {
        if length <= 0.0 {
            return Ok(Value::str(""));
        }
        let end = if start >= 0.0 {
            start + length
        } else {
            len as f64 + start + length
        };
        let (a, b) = (slice_index(start, len), slice_index(end, len));
        return Ok(Value::string(if a < b {
            chars[a..b].iter().collect()
        } else {
            String::new()
        }));
    }
    let a = slice_index(start, len);
    Ok(Value::string(chars[a..].iter().collect()))
}

fn substring_before<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let chars = text(&args, 1).unwrap_or("undefined");
    Ok(match s.find(chars) {
        Some(pos) => Value::str(&s[..pos]),
        None => arg(&args, 0),
    })
}

fn substring_after<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let chars = text(&args, 1).unwrap_or("undefined");
    Ok(match s.find(chars) {
        Some(pos) => Value::str(&s[pos + chars.len()..]),
        None => arg(&args, 0),
    })
}

fn lowercase<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(text(&args, 0).map_or(Value::Undefined, |s| Value::string(s.to_lowercase())))
}

fn uppercase<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(text(&args, 0).map_or(Value::Undefined, |s| Value::string(s.to_uppercase())))
}

fn length<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(text(&args, 0).map_or(
        Value::Undefined,
        |s| Value::Number(s.chars().count() as f64),
    ))
}

fn trim<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    let out = out.strip_prefix(' ').unwrap_or(&out);
    let out = out.strip_suffix(' ').unwrap_or(out);
    Ok(Value::str(out))
}

fn pad<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let width = num(&args, 1).unwrap_or(f64::NAN);
    let pad_char = match text(&args, 2) {
        Some(c) if !c.is_empty() => c,
        _ => " ",
    };
    let pad_len = width.abs().trunc() - s.chars().count() as f64;
    if pad_len.is_nan() || pad_len <= 0.0 {
        return Ok(arg(&args, 0));
    }
    if pad_len * pad_char.len() as f64 > me.limits.max_string_bytes as f64 {
        return Err(Fail::new("D2015").value_text(me.limits.max_string_bytes.to_string()));
    }
    let pad_len = pad_len as usize;
    let padding: String = pad_char.chars().cycle().take(pad_len).collect();
    Ok(Value::string(if width > 0.0 {
        format!("{s}{padding}")
    } else {
        format!("{padding}{s}")
    }))
}

// ---- regular expressions ----------------------------------------------------------------

/// Byte offset in `s` of the UTF-16 offset `u`.
fn byte_of_utf16(s: &str, u: usize) -> usize {
    if s.is_ascii() {
        return u.min(s.len());
    }
    let mut units = 0;
    for (i, c) in s.char_indices() {
        if units >= u {
            return i;
        }
        units += c.len_utf16();
    }
    s.len()
}

fn utf16_of_byte(s: &str, b: usize) -> usize {
    if s.is_ascii() {
        return b;
    }
    utf16_len(&s[..b.min(s.len())])
}

/// Calling a regex literal as a function: the first match at or after `from` (UTF-16).
pub(crate) fn regex_closure<'a>(
    me: &mut Eval<'a, '_>,
    re: &Arc<JsRegex>,
    text: &Value<'a>,
    from: usize,
) -> R<Value<'a>> {
    let Value::Str(s) = text else {
        return Ok(Value::Undefined);
    };
    let s: Rc<str> = Rc::from(&**s);
    me.steps(1 + s.len() / 64)?;
    let start = byte_of_utf16(&s, from);
    let Some(m) = re.exec(&s, start) else {
        return Ok(Value::Undefined);
    };
    let mut map = Map::new();
    map.insert(Rc::from("match"), Value::str(&s[m.start..m.end]));
    map.insert(
        Rc::from("start"),
        Value::Number(utf16_of_byte(&s, m.start) as f64),
    );
    map.insert(
        Rc::from("end"),
        Value::Number(utf16_of_byte(&s, m.end) as f64),
    );
    let groups = m
        .groups
        .iter()
        .map(|g| match g {
            Some((a, b)) => Value::str(&s[*a..*b]),
            None => Value::Undefined,
        })
        .collect();
    map.insert(Rc::from("groups"), Value::array(groups));
    map.insert(
        Rc::from("next"),
        Value::func(Func::RegexNext {
            regex: re.clone(),
            text: s.clone(),
            from: utf16_of_byte(&s, m.end),
        }),
    );
    Ok(Value::object(map))
}

pub(crate) fn regex_next<'a>(
    me: &mut Eval<'a, '_>,
    re: &Arc<JsRegex>,
    text: &Rc<str>,
    from: usize,
) -> R<Value<'a>> {
    if from >= utf16_len(text) {
        return Ok(Value::Undefined);
    }
    let next = regex_closure(me, re, &Value::Str(Str::Owned(text.clone())), from)?;
    if matches!(next.get_prop("match"), Value::Str(ref m) if m.is_empty()) {
        return Err(Fail::new("D1004").value_text(crate::error::json_string(&re.source)));
    }
    Ok(next)
}

/// jsonata's `evaluateMatcher`: calls the matcher and checks the structure it returns.
fn matcher<'a>(me: &mut Eval<'a, '_>, m: &Value<'a>, s: Value<'a>) -> R<Value<'a>> {
    let result = me.apply(m, vec![s], &Value::Null)?;
    check_match(&result)?;
    Ok(result)
}

fn check_match(result: &Value<'_>) -> R<()> {
    if js_truthy(result) {
        let ok = matches!(result.get_prop("start"), Value::Number(_))
            || result.get_prop("groups").is_array()
            || result.get_prop("next").is_function();
        if !ok {
            return Err(Fail::new("T1010"));
        }
    }
    Ok(())
}

fn next_match<'a>(me: &mut Eval<'a, '_>, current: &Value<'a>) -> R<Value<'a>> {
    let next = current.get_prop("next");
    let result = me.apply(&next, Vec::new(), &Value::Null)?;
    check_match(&result)?;
    Ok(result)
}

fn match_<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let s = arg(&args, 0);
    if s.is_undefined() {
        return Ok(Value::Undefined);
    }
    let limit = num(&args, 2);
    if let Some(l) = limit
        && l < 0.0
    {
        return Err(Fail::new("D3040").value(&Value::Number(l)).index(3));
    }
    let mut result = Vec::new();
    if limit.is_none_or(|l| l > 0.0) {
        let mut count = 0.0;
        let mut m = matcher(me, &arg(&args, 1), s)?;
        while !m.is_undefined() && limit.is_none_or(|l| count < l) {
            let mut map = Map::new();
            map.insert(Rc::from("match"), m.get_prop("match"));
            map.insert(Rc::from("index"), m.get_prop("start"));
            map.insert(Rc::from("groups"), m.get_prop("groups"));
            result.push(Value::object(map));
            me.check_size(result.len())?;
            m = next_match(me, &m)?;
            count += 1.0;
        }
    }
    Ok(Value::seq(result))
}

fn contains<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    if let Some(token) = text(&args, 1) {
        return Ok(Value::Bool(s.contains(token)));
    }
    let m = matcher(me, &arg(&args, 1), arg(&args, 0))?;
    Ok(Value::Bool(!m.is_undefined()))
}

/// The text of a `$replace` replacement string for one match (`$0`, `$1`..., `$$`).
fn substitute(replacement: &str, matched: &str, groups: &[Value<'_>]) -> String {
    let mut out = String::new();
    let mut position = 0;
    let bytes = replacement.as_bytes();
    let mut index = replacement[position..].find('$').map(|i| i + position);
    while let Some(idx) = index {
        if position >= replacement.len() {
            break;
        }
        out.push_str(&replacement[position..idx]);
        position = idx + 1;
        let dollar = bytes.get(position).copied();
        if dollar == Some(b'$') {
            out.push('$');
            position += 1;
        } else if dollar == Some(b'0') {
            out.push_str(matched);
            position += 1;
        } else {
            let max_digits = if groups.is_empty() {
                1
            } else {
                ((groups.len() as f64).ln() * std::f64::consts::LOG10_E).floor() as usize + 1
            };
            let digits_at = |n: usize| -> Option<usize> {
                let end = (position + n).min(replacement.len());
                let s = &replacement[position..end];
                let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            };
            let mut group = digits_at(max_digits);
            if max_digits > 1
                && let Some(g) = group
                && g > groups.len()
            {
                group = digits_at(max_digits - 1);
            }
            match group {
                Some(g) => {
                    if !groups.is_empty()
                        && g >= 1
                        && let Some(Value::Str(sub)) = groups.get(g - 1)
                    {
                        out.push_str(sub);
                    }
                    position += g.to_string().len();
                }
                None => out.push('$'),
            }
        }
        index = replacement
            .get(position..)
            .and_then(|r| r.find('$'))
            .map(|i| i + position);
    }
    if position < replacement.len() {
        out.push_str(&replacement[position..]);
    }
    out
}

fn replace<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0).map(str::to_string) else {
        return Ok(Value::Undefined);
    };
    let pattern = arg(&args, 1);
    if pattern.as_str() == Some("") {
        return Err(Fail::new("D3010").value(&pattern).index(2));
    }
    let limit = num(&args, 3);
    if let Some(l) = limit
        && l < 0.0
    {
        return Err(Fail::new("D3011").value(&Value::Number(l)).index(4));
    }
    let replacement = arg(&args, 2);
    if !limit.is_none_or(|l| l > 0.0) {
        return Ok(arg(&args, 0));
    }
    let mut result = String::new();
    let mut count = 0.0;
    if let Some(p) = pattern.as_str() {
        let rep = match &replacement {
            Value::Str(r) => r.to_string(),
            other => string_of(me, other, false).unwrap_or_default(),
        };
        let mut position = 0;
        while let Some(i) = s[position..].find(p) {
            if !limit.is_none_or(|l| count < l) {
                break;
            }
            let index = position + i;
            result.push_str(&s[position..index]);
            result.push_str(&rep);
            me.check_string(&result)?;
            position = index + p.len();
            count += 1.0;
        }
        result.push_str(&s[position..]);
        return Ok(Value::string(result));
    }
    let mut m = matcher(me, &pattern, arg(&args, 0))?;
    if m.is_undefined() {
        return Ok(arg(&args, 0));
    }
    let mut position = 0usize;
    while !m.is_undefined() && limit.is_none_or(|l| count < l) {
        let start = match m.get_prop("start") {
            Value::Number(n) => byte_of_utf16(&s, n.max(0.0) as usize),
            _ => position,
        };
        result.push_str(s.get(position..start).unwrap_or(""));
        let replaced = match &replacement {
            Value::Str(r) => {
                let groups = m.get_prop("groups").array_items();
                let matched = m.get_prop("match");
                Value::string(substitute(r, matched.as_str().unwrap_or(""), &groups))
            }
            f => me.apply(f, vec![m.clone()], &Value::Null)?,
        };
        match &replaced {
            Value::Str(r) => result.push_str(r),
            other => return Err(Fail::new("D3012").value(other)),
        }
        me.check_string(&result)?;
        let matched_len = m.get_prop("match").as_str().map_or(0, str::len);
        position = start + matched_len;
        count += 1.0;
        m = next_match(me, &m)?;
    }
    result.push_str(s.get(position..).unwrap_or(""));
    Ok(Value::string(result))
}

/// JavaScript's `ToUint32`.
fn to_uint32(x: f64) -> u64 {
    if !x.is_finite() {
        return 0;
    }
    (x.trunc().rem_euclid(4_294_967_296.0)) as u64
}

fn split<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0).map(str::to_string) else {
        return Ok(Value::Undefined);
    };
    let limit = num(&args, 2);
    if let Some(l) = limit
        && l < 0.0
    {
        return Err(Fail::new("D3020").value(&Value::Number(l)).index(3));
    }
    let mut result: Vec<Value<'a>> = Vec::new();
    if !limit.is_none_or(|l| l > 0.0) {
        return Ok(Value::array(result));
    }
    let separator = arg(&args, 1);
    if let Some(sep) = separator.as_str() {
        let max = limit.map_or(u64::MAX, to_uint32) as usize;
        if max == 0 {
            return Ok(Value::array(result));
        }
        if sep.is_empty() {
            for c in s.chars() {
                if result.len() >= max {
                    break;
                }
                result.push(Value::string(c.to_string()));
            }
        } else {
            for part in s.split(sep) {
                if result.len() >= max {
                    break;
                }
                result.push(Value::str(part));
            }
        }
        me.steps(result.len())?;
        return Ok(Value::array(result));
    }
    let mut count = 0.0;
    let mut m = matcher(me, &separator, arg(&args, 0))?;
    if m.is_undefined() {
        result.push(arg(&args, 0));
        return Ok(Value::array(result));
    }
    let mut start = 0usize;
    while !m.is_undefined() && limit.is_none_or(|l| count < l) {
        let mstart = match m.get_prop("start") {
            Value::Number(n) => byte_of_utf16(&s, n.max(0.0) as usize),
            _ => start,
        };
        result.push(Value::str(s.get(start..mstart).unwrap_or("")));
        start = match m.get_prop("end") {
            Value::Number(n) => byte_of_utf16(&s, n.max(0.0) as usize),
            _ => mstart,
        };
        me.check_size(result.len())?;
        m = next_match(me, &m)?;
        count += 1.0;
    }
    if limit.is_none_or(|l| count < l) {
        result.push(Value::str(s.get(start..).unwrap_or("")));
    }
    Ok(Value::array(result))
}

fn join<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let strs = arg(&args, 0);
    if strs.is_undefined() {
        return Ok(Value::Undefined);
    }
    let sep = text(&args, 1).unwrap_or("");
    let mut out = String::new();
    let mut first = true;
    let mut err = None;
    strs.for_each_item(|item| {
        if !first {
            out.push_str(sep);
        }
        first = false;
        if let Value::Str(s) = item {
            out.push_str(&s);
        }
        if err.is_none() && out.len() > me.limits.max_string_bytes {
            err = Some(Fail::new("D2015").value_text(me.limits.max_string_bytes.to_string()));
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    Ok(Value::string(out))
}

// ---- numbers ----------------------------------------------------------------------------

fn format_number<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(value) = num(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let picture = text(&args, 1).unwrap_or("");
    let options = arg(&args, 2);
    let s = crate::format::format_number(value, picture, &options)?;
    me.check_string(&s)?;
    Ok(Value::string(s))
}

fn format_base<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(value) = num(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let value = round_half_even(value, 0.0);
    let radix = match num(&args, 1) {
        None => 10.0,
        Some(r) => round_half_even(r, 0.0),
    };
    if !(2.0..=36.0).contains(&radix) {
        return Err(Fail::new("D3100").value(&Value::Number(radix)));
    }
    if !value.is_finite() {
        return Ok(Value::string(js_number_to_string(value)));
    }
    Ok(Value::string(to_radix(value, radix as u32)))
}

fn format_integer<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(value) = num(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let picture = text(&args, 1).unwrap_or("");
    Ok(Value::string(crate::datetime::format_integer(
        value, picture,
    )?))
}

fn parse_integer<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(value) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let picture = text(&args, 1).unwrap_or("");
    Ok(crate::datetime::parse_integer(value, picture)?.map_or(Value::Undefined, Value::Number))
}

/// JavaScript's `Number(string)` for the strings `$number` hands it.
fn js_string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if t.is_empty() {
        return 0.0;
    }
    let radix = |p: &str, r: u32| -> f64 {
        if p.is_empty() || !p.chars().all(|c| c.is_digit(r)) {
            return f64::NAN;
        }
        p.chars().fold(0.0, |acc, c| {
            acc * f64::from(r) + f64::from(c.to_digit(r).unwrap_or(0))
        })
    };
    let lower = t.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("0x") {
        return radix(h, 16);
    }
    if let Some(o) = lower.strip_prefix("0o") {
        return radix(o, 8);
    }
    if let Some(b) = lower.strip_prefix("0b") {
        return radix(b, 2);
    }
    match t {
        "Infinity" | "+Infinity" => return f64::INFINITY,
        "-Infinity" => return f64::NEG_INFINITY,
        _ => {}
    }
    let valid = {
        let body = t.strip_prefix(['+', '-']).unwrap_or(t);
        let (mant, exp) = match body.find(['e', 'E']) {
            Some(i) => (&body[..i], Some(&body[i + 1..])),
            None => (body, None),
        };
        let (int, frac) = match mant.find('.') {
            Some(i) => (&mant[..i], Some(&mant[i + 1..])),
            None => (mant, None),
        };
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        let mant_ok = digits(int)
            && frac.is_none_or(digits)
            && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
        let exp_ok = exp.is_none_or(|e| {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        });
        mant_ok && exp_ok
    };
    if !valid {
        return f64::NAN;
    }
    t.parse().unwrap_or(f64::NAN)
}

fn is_decimal_number(s: &str) -> bool {
    // /^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == fs {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len()
}

/// `/^(0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+)$/`, with its alternation that
/// binds looser than the anchors.
fn is_prefixed_number(s: &str) -> bool {
    let b = s.as_bytes();
    let run = |from: usize, ok: fn(u8) -> bool| -> usize {
        let mut i = from;
        while i < b.len() && ok(b[i]) {
            i += 1;
        }
        i - from
    };
    if b.len() >= 3
        && b[0] == b'0'
        && (b[1] == b'x' || b[1] == b'X')
        && run(2, |c| c.is_ascii_hexdigit()) > 0
    {
        return true;
    }
    for i in 0..b.len().saturating_sub(2) {
        if b[i] == b'0'
            && (b[i + 1] == b'o' || b[i + 1] == b'O')
            && run(i + 2, |c| (b'0'..=b'7').contains(&c)) > 0
        {
            return true;
        }
    }
    for i in 0..b.len().saturating_sub(2) {
        if b[i] == b'0' && (b[i + 1] == b'b' || b[i + 1] == b'B') {
            let n = run(i + 2, |c| c == b'0' || c == b'1');
            if n > 0 && i + 2 + n == b.len() {
                return true;
            }
        }
    }
    false
}

fn number<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let a = arg(&args, 0);
    Ok(match &a {
        Value::Undefined => Value::Undefined,
        Value::Number(n) => Value::Number(*n),
        Value::Str(s) if is_decimal_number(s) => {
            let n: f64 = s.parse().unwrap_or(f64::NAN);
            if n.is_finite() {
                Value::Number(n)
            } else {
                return Err(Fail::new("D3030").value(&a).index(1));
            }
        }
        Value::Str(s) if is_prefixed_number(s) => Value::Number(js_string_to_number(s)),
        Value::Bool(true) => Value::Number(1.0),
        Value::Bool(false) => Value::Number(0.0),
        other => return Err(Fail::new("D3030").value(other).index(1)),
    })
}

fn floor<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(num(&args, 0).map_or(Value::Undefined, |n| Value::Number(n.floor())))
}

fn ceil<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(num(&args, 0).map_or(Value::Undefined, |n| Value::Number(n.ceil())))
}

fn abs<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(num(&args, 0).map_or(Value::Undefined, |n| Value::Number(n.abs())))
}

fn round<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(n) = num(&args, 0) else {
        return Ok(Value::Undefined);
    };
    Ok(Value::Number(round_half_even(
        n,
        num(&args, 1).unwrap_or(0.0),
    )))
}

fn sqrt<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(n) = num(&args, 0) else {
        return Ok(Value::Undefined);
    };
    if n < 0.0 {
        return Err(Fail::new("D3060").value(&Value::Number(n)).index(1));
    }
    Ok(Value::Number(n.sqrt()))
}

fn power<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(base) = num(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let exp = num(&args, 1).unwrap_or(f64::NAN);
    let result = js_pow(base, exp);
    if !result.is_finite() {
        let mut f = Fail::new("D3061").value(&Value::Number(base)).index(1);
        f.fields.exp = Some(js_number_to_string(exp));
        return Err(f);
    }
    Ok(Value::Number(result))
}

/// `Math.pow`, which differs from `f64::powf` for a base of ±1 and an infinite or NaN
/// exponent (NaN in JavaScript).
fn js_pow(base: f64, exp: f64) -> f64 {
    if exp.is_nan() || ((base == 1.0 || base == -1.0) && exp.is_infinite()) {
        return f64::NAN;
    }
    base.powf(exp)
}

/// `java.util.Random`, so `$random(seed)` gives what a seed gives on a JVM.
struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> u64 {
        self.seed = (self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        self.seed >> (48 - bits)
    }

    fn next_double(&mut self) -> f64 {
        let hi = self.next(26);
        let lo = self.next(27);
        ((hi << 27) + lo) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// A double in [0, 1) from 53 random bits.
fn unit_random(me: &mut Eval<'_, '_>) -> f64 {
    (me.random.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn random<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    match num(&args, 0) {
        Some(seed) => {
            if !seed.is_finite() {
                return Err(Fail::new("T0410").index(1).value(&Value::Number(seed)));
            }
            Ok(Value::Number(
                JavaRandom::new(seed.trunc() as i64).next_double(),
            ))
        }
        None => Ok(Value::Number(unit_random(me))),
    }
}

// ---- booleans ---------------------------------------------------------------------------

fn boolean<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(boolean_of(me, &arg(&args, 0))?.map_or(Value::Undefined, Value::Bool))
}

fn not<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(boolean_of(me, &arg(&args, 0))?.map_or(Value::Undefined, |b| Value::Bool(!b)))
}

// ---- higher-order functions -------------------------------------------------------------

/// The arguments a higher-order function passes: the value, then the position and the
/// whole structure if the function takes them.
fn hof_args<'a>(
    f: &Value<'a>,
    value: Value<'a>,
    pos: Value<'a>,
    whole: &Value<'a>,
) -> Vec<Value<'a>> {
    let arity = match f {
        Value::Func(f) => f.arity(),
        _ => 0,
    };
    let mut args = vec![value];
    if arity >= 2 {
        args.push(pos);
    }
    if arity >= 3 {
        args.push(whole.clone());
    }
    args
}

fn map<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    let f = arg(&args, 1);
    let mut result = Vec::new();
    for (i, item) in arr.array_items().into_iter().enumerate() {
        let a = hof_args(&f, item, Value::Number(i as f64), &arr);
        let res = me.apply(&f, a, &Value::Null)?;
        if !res.is_undefined() {
            result.push(res);
        }
    }
    Ok(Value::seq(result))
}

fn filter<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    let f = arg(&args, 1);
    let mut result = Vec::new();
    for (i, item) in arr.array_items().into_iter().enumerate() {
        let a = hof_args(&f, item.clone(), Value::Number(i as f64), &arr);
        let res = me.apply(&f, a, &Value::Null)?;
        if boolean_of(me, &res)? == Some(true) {
            result.push(item);
        }
    }
    Ok(Value::seq(result))
}

fn single<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    let f = arg(&args, 1);
    let mut found: Option<Value<'a>> = None;
    for (i, item) in arr.array_items().into_iter().enumerate() {
        let positive = if f.is_undefined() {
            true
        } else {
            let a = hof_args(&f, item.clone(), Value::Number(i as f64), &arr);
            let res = me.apply(&f, a, &Value::Null)?;
            boolean_of(me, &res)? == Some(true)
        };
        if positive {
            if found.is_some() {
                return Err(Fail::new("D3138").index(i));
            }
            found = Some(item);
        }
    }
    found.ok_or_else(|| Fail::new("D3139"))
}

fn zip<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let len = args
        .iter()
        .map(|a| if a.is_array() { a.array_len() } else { 0 })
        .min()
        .unwrap_or(0);
    me.steps(len)?;
    let result = (0..len)
        .map(|i| Value::array(args.iter().map(|a| a.array_get(i)).collect()))
        .collect();
    Ok(Value::array(result))
}

fn reduce<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let seq = arg(&args, 0);
    if seq.is_undefined() {
        return Ok(Value::Undefined);
    }
    let f = arg(&args, 1);
    let arity = match &f {
        Value::Func(f) => f.arity(),
        _ => 0,
    };
    if arity < 2 {
        return Err(Fail::new("D3050").index(1));
    }
    let items = seq.array_items();
    let init = arg(&args, 2);
    let (mut result, mut index) = if init.is_undefined() && !items.is_empty() {
        (items[0].clone(), 1)
    } else {
        (init, 0)
    };
    while index < items.len() {
        let mut a = vec![result, items[index].clone()];
        if arity >= 3 {
            a.push(Value::Number(index as f64));
        }
        if arity >= 4 {
            a.push(seq.clone());
        }
        result = me.apply(&f, a, &Value::Null)?;
        index += 1;
    }
    Ok(result)
}

fn sift<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let obj = arg(&args, 0);
    let f = arg(&args, 1);
    let mut result = Map::new();
    for (k, v) in obj.entries() {
        let a = hof_args(&f, v.clone(), Value::Str(Str::Owned(k.clone())), &obj);
        let res = me.apply(&f, a, &Value::Null)?;
        if boolean_of(me, &res)? == Some(true) {
            result.insert(k, v);
        }
    }
    if result.is_empty() {
        return Ok(Value::Undefined);
    }
    Ok(Value::object(result))
}

fn each<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let obj = arg(&args, 0);
    let f = arg(&args, 1);
    let mut result = Vec::new();
    for (k, v) in obj.entries() {
        let a = hof_args(&f, v, Value::Str(Str::Owned(k)), &obj);
        let res = me.apply(&f, a, &Value::Null)?;
        if !res.is_undefined() {
            result.push(res);
        }
    }
    Ok(Value::seq(result))
}

// ---- objects and arrays -----------------------------------------------------------------

fn keys_of<'a>(me: &Eval<'a, '_>, v: &Value<'a>, depth: usize) -> R<Vec<Rc<str>>> {
    if depth > me.limits.max_depth {
        return Err(Fail::new("D1011"));
    }
    if v.is_array() {
        let mut merged: indexmap::IndexSet<Rc<str>> = indexmap::IndexSet::new();
        for item in v.array_items() {
            let keys =
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || keys_of(me, &item, depth + 1))?;
            merged.extend(keys);
        }
        Ok(merged.into_iter().collect())
    } else if v.is_object() {
        Ok(v.keys())
    } else {
        Ok(Vec::new())
    }
}

fn keys<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let ks = keys_of(me, &arg(&args, 0), 0)?;
    me.steps(ks.len())?;
    Ok(Value::seq(
        ks.into_iter().map(|k| Value::Str(Str::Owned(k))).collect(),
    ))
}

fn lookup_fn<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(lookup_field(
        &arg(&args, 0),
        text(&args, 1).unwrap_or("undefined"),
    ))
}

fn append_fn<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let r = append(arg(&args, 0), arg(&args, 1));
    me.check_size(r.array_len())?;
    Ok(r)
}

fn exists<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(Value::Bool(!arg(&args, 0).is_undefined()))
}

fn spread<'a>(me: &mut Eval<'a, '_>, v: &Value<'a>, depth: usize) -> R<Value<'a>> {
    if depth > me.limits.max_depth {
        return Err(Fail::new("D1011"));
    }
    if v.is_array() {
        let mut result = Value::seq(Vec::new());
        for item in v.array_items() {
            let s = stacker::maybe_grow(64 * 1024, 1024 * 1024, || spread(me, &item, depth + 1))?;
            result = append(result, s);
            me.check_size(result.array_len())?;
        }
        Ok(result)
    } else if v.is_object() {
        let items = v
            .entries()
            .into_iter()
            .map(|(k, val)| {
                let mut m = Map::new();
                m.insert(k, val);
                Value::object(m)
            })
            .collect();
        Ok(Value::seq(items))
    } else if let Value::Func(f) = v
        && matches!(**f, Func::Builtin(_) | Func::Transform { .. })
    {
        // jsonata.js spreads its built-in function objects into their members
        // (`_jsonata_function`, the implementation, the signature): no longer a function
        // itself, but holding one.
        let mut flag = Map::new();
        flag.insert(Rc::from("_jsonata_function"), Value::Bool(true));
        let mut implementation = Map::new();
        implementation.insert(Rc::from("implementation"), v.clone());
        Ok(Value::seq(vec![
            Value::object(flag),
            Value::object(implementation),
        ]))
    } else {
        Ok(v.clone())
    }
}

fn spread_fn<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    spread(me, &arg(&args, 0), 0)
}

fn merge<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    let mut result = Map::new();
    arr.for_each_item(|obj| {
        for (k, v) in obj.entries() {
            result.insert(k, v);
        }
    });
    Ok(Value::object(result))
}

fn reverse<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if arr.is_undefined() || arr.array_len() <= 1 {
        return Ok(arr);
    }
    let mut items = arr.array_items();
    items.reverse();
    Ok(Value::array(items))
}

fn error<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let message = match text(&args, 0) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => "$error() function evaluated".to_string(),
    };
    Err(Fail::new("D3137").message(message))
}

fn assert<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    if !matches!(args.first(), Some(Value::Bool(true))) {
        let message = match text(&args, 1) {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => "$assert() statement failed".to_string(),
        };
        return Err(Fail::new("D3141").message(message));
    }
    Ok(Value::Undefined)
}

fn type_<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(match arg(&args, 0) {
        Value::Undefined => Value::Undefined,
        Value::Null => Value::str("null"),
        Value::Number(n) if n.is_infinite() => return Err(infinite(n)),
        Value::Number(n) if !n.is_nan() => Value::str("number"),
        Value::Str(_) => Value::str("string"),
        Value::Bool(_) => Value::str("boolean"),
        Value::Array(_) | Value::JsonArray(_) => Value::str("array"),
        Value::Func(_) => Value::str("function"),
        _ => Value::str("object"),
    })
}

fn sort<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if arr.is_undefined() || arr.array_len() <= 1 {
        return Ok(arr);
    }
    let items = arr.array_items();
    let f = arg(&args, 1);
    let sorted = if f.is_undefined() {
        let all_numbers = items
            .iter()
            .all(|v| matches!(v, Value::Number(n) if !n.is_nan()));
        if all_numbers
            && let Some(Value::Number(n)) = items
                .iter()
                .find(|v| matches!(v, Value::Number(n) if n.is_infinite()))
        {
            return Err(infinite(*n));
        }
        let all_strings = items.iter().all(Value::is_string);
        if !all_numbers && !all_strings {
            return Err(Fail::new("D3070").index(1));
        }
        merge_sort(me, items, &mut |_, a, b| {
            Ok(match (a, b) {
                (Value::Number(x), Value::Number(y)) => x > y,
                (Value::Str(x), Value::Str(y)) => js_str_cmp(x, y) == std::cmp::Ordering::Greater,
                _ => false,
            })
        })?
    } else {
        merge_sort(me, items, &mut |me, a, b| {
            let r = me.apply(&f, vec![a.clone(), b.clone()], &Value::Null)?;
            Ok(js_truthy(&r))
        })?
    };
    Ok(Value::array(sorted))
}

fn shuffle<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if arr.is_undefined() || arr.array_len() <= 1 {
        return Ok(arr);
    }
    let items = arr.array_items();
    me.steps(items.len())?;
    let mut result: Vec<Value<'a>> = vec![Value::Undefined; items.len()];
    for (i, item) in items.into_iter().enumerate() {
        let j = (unit_random(me) * (i + 1) as f64).floor() as usize;
        if i != j {
            result[i] = result[j].clone();
        }
        result[j] = item;
    }
    Ok(Value::array(result))
}

fn distinct<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if !arr.is_array() || arr.array_len() <= 1 {
        return Ok(arr);
    }
    let sequence = arr.is_sequence();
    let mut results: Vec<Value<'a>> = Vec::new();
    for value in arr.array_items() {
        me.steps(results.len() + 1)?;
        let mut seen = false;
        for r in &results {
            if me.deep_equal(&value, r)? {
                seen = true;
                break;
            }
        }
        if !seen {
            results.push(value);
        }
    }
    Ok(Value::with_flags(
        results,
        Flags {
            sequence,
            ..Flags::default()
        },
    ))
}

// ---- encodings --------------------------------------------------------------------------

fn base64encode<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    // Node's 'binary' (latin1) encoding keeps the low byte of each UTF-16 unit.
    let bytes: Vec<u8> = s.encode_utf16().map(|u| (u & 0xFF) as u8).collect();
    Ok(Value::string(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

fn base64decode<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    // Node decodes leniently: characters outside the alphabet are skipped, `=` ends the
    // data, `-` and `_` are accepted as in the URL-safe alphabet.
    let mut sextets = Vec::with_capacity(s.len());
    for c in s.chars() {
        let v = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' | '-' => 62,
            '/' | '_' => 63,
            '=' => break,
            _ => continue,
        };
        sextets.push(v);
    }
    let mut bytes = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let mut acc = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            acc |= v << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => 0,
        };
        for i in 0..n {
            bytes.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Ok(Value::string(bytes.into_iter().map(char::from).collect()))
}

fn percent_encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || keep.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

const URI_UNRESERVED: &str = "-_.!~*'()";
const URI_RESERVED: &str = ";/?:@&=+$,#";

fn encode_url_component<'a>(
    _: &mut Eval<'a, '_>,
    args: Vec<Value<'a>>,
    _: &Value<'a>,
) -> R<Value<'a>> {
    Ok(text(&args, 0).map_or(Value::Undefined, |s| {
        Value::string(percent_encode(s, URI_UNRESERVED))
    }))
}

fn encode_url<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let keep = format!("{URI_UNRESERVED}{URI_RESERVED}");
    Ok(text(&args, 0).map_or(Value::Undefined, |s| {
        Value::string(percent_encode(s, &keep))
    }))
}

/// JavaScript's `decodeURIComponent` / `decodeURI` (which keeps escapes of reserved
/// characters): `None` where JavaScript throws a URIError.
fn percent_decode(s: &str, keep_reserved: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let hex = |i: usize| -> Option<u8> {
        let h = s.get(i + 1..i + 3)?;
        if h.chars().all(|c| c.is_ascii_hexdigit()) {
            u8::from_str_radix(h, 16).ok()
        } else {
            None
        }
    };
    while i < bytes.len() {
        if bytes[i] != b'%' {
            let c = s[i..].chars().next()?;
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        let b = hex(i)?;
        if b < 0x80 {
            let c = char::from(b);
            if keep_reserved && URI_RESERVED.contains(c) {
                out.push_str(&s[i..i + 3]);
            } else {
                out.push(c);
            }
            i += 3;
            continue;
        }
        let n = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return None,
        };
        let mut buf = vec![b];
        let mut j = i + 3;
        for _ in 1..n {
            if bytes.get(j) != Some(&b'%') {
                return None;
            }
            let c = hex(j)?;
            if c & 0xC0 != 0x80 {
                return None;
            }
            buf.push(c);
            j += 3;
        }
        out.push_str(std::str::from_utf8(&buf).ok()?);
        i = j;
    }
    Some(out)
}

fn decode<'a>(args: &[Value<'a>], keep_reserved: bool, name: &str) -> R<Value<'a>> {
    let Some(s) = text(args, 0) else {
        return Ok(Value::Undefined);
    };
    match percent_decode(s, keep_reserved) {
        Some(d) => Ok(Value::string(d)),
        None => {
            let mut f = Fail::new("D3140").value(&arg(args, 0));
            f.fields.function_name = Some(name.to_string());
            Err(f)
        }
    }
}

fn decode_url_component<'a>(
    _: &mut Eval<'a, '_>,
    args: Vec<Value<'a>>,
    _: &Value<'a>,
) -> R<Value<'a>> {
    decode(&args, false, "decodeUrlComponent")
}

fn decode_url<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    decode(&args, true, "decodeUrl")
}

// ---- dates ------------------------------------------------------------------------------

fn to_millis<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(ts) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    let picture = text(&args, 1);
    Ok(crate::datetime::to_millis(ts, picture, me.timestamp)?
        .map_or(Value::Undefined, Value::Number))
}

fn from_millis<'a>(_: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(millis) = num(&args, 0) else {
        return Ok(Value::Undefined);
    };
    Ok(Value::string(crate::datetime::from_millis(
        millis,
        text(&args, 1),
        text(&args, 2),
    )?))
}

fn now<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(Value::string(crate::datetime::from_millis(
        me.timestamp as f64,
        text(&args, 0),
        text(&args, 1),
    )?))
}

fn millis<'a>(me: &mut Eval<'a, '_>, _: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    Ok(Value::Number(me.timestamp as f64))
}

fn clone<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let a = arg(&args, 0);
    if a.is_undefined() {
        return Ok(Value::Undefined);
    }
    let text = string_of(me, &a, false)?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Fail::new("D3137").message(e.to_string()))?;
    Ok(owned(&json))
}

/// A JSON value as owned, mutable values (for `$clone` and the transform operator).
pub(crate) fn owned<'a>(json: &serde_json::Value) -> Value<'a> {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        J::String(s) => Value::str(s),
        J::Array(a) => Value::array(a.iter().map(owned).collect()),
        J::Object(o) => {
            let mut m = Map::with_capacity(o.len());
            for (k, v) in o {
                m.insert(Rc::from(k.as_str()), owned(v));
            }
            Value::object(m)
        }
    }
}

// ---- Step Functions additions -----------------------------------------------------------

/// `$partition(array, size)`: the array in chunks of `size` (the last may be shorter),
/// as `States.ArrayPartition`.
fn partition<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let arr = arg(&args, 0);
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    let size = num(&args, 1).unwrap_or(f64::NAN);
    if size.is_nan() || size < 1.0 || size.fract() != 0.0 {
        return Err(Fail::new("T0410").index(2).value(&arg(&args, 1)));
    }
    let items = arr.array_items();
    me.steps(items.len())?;
    let chunks = items
        .chunks(size.min(usize::MAX as f64) as usize)
        .map(|c| Value::array(c.to_vec()))
        .collect();
    Ok(Value::array(chunks))
}

/// `$range(start, end, step)`: from `start` to `end` inclusive, as `States.ArrayRange`.
fn range<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let (Some(start), Some(end)) = (num(&args, 0), num(&args, 1)) else {
        return Ok(Value::Undefined);
    };
    let step = num(&args, 2).unwrap_or(1.0);
    for (i, v) in [start, end, step].iter().enumerate() {
        if !v.is_finite() {
            return Err(Fail::new("T0410").index(i + 1).value(&Value::Number(*v)));
        }
    }
    if step == 0.0 {
        return Err(Fail::new("T0410").index(3).value(&Value::Number(step)));
    }
    let count = ((end - start) / step).floor() + 1.0;
    if count > me.limits.max_sequence_length as f64 {
        return Err(Fail::new("D2015").value_text(me.limits.max_sequence_length.to_string()));
    }
    let count = count.max(0.0) as usize;
    me.steps(count)?;
    Ok(Value::seq(
        (0..count)
            .map(|i| Value::Number(start + step * i as f64))
            .collect(),
    ))
}

/// `$hash(value, algorithm)`, as `States.Hash`: lowercase hex.
fn hash<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    use sha2::Digest as _;
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    me.steps(s.len() / 64)?;
    let data = s.as_bytes();
    let digest: Vec<u8> = match text(&args, 1).unwrap_or("") {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        _ => return Err(Fail::new("T0410").index(2).value(&arg(&args, 1))),
    };
    Ok(Value::string(
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// `$uuid()`: a version 4 UUID from the host's random source.
fn uuid<'a>(me: &mut Eval<'a, '_>, _: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&me.random.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&me.random.next_u64().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{b:02x}"));
    }
    Ok(Value::string(out))
}

/// `$parse(text)`: the JSON value `text` holds.
fn parse<'a>(me: &mut Eval<'a, '_>, args: Vec<Value<'a>>, _: &Value<'a>) -> R<Value<'a>> {
    let Some(s) = text(&args, 0) else {
        return Ok(Value::Undefined);
    };
    me.steps(s.len() / 64)?;
    let json: serde_json::Value = serde_json::from_str(s)
        .map_err(|e| Fail::new("D3137").message(format!("Unable to parse JSON: {e}")))?;
    Ok(owned(&json))
}

/// jsonata's stable merge sort (`fn.sort`): `swap(a, b)` true means `b` goes first.
pub(crate) fn merge_sort<'a, 'x, F>(
    me: &mut Eval<'a, 'x>,
    items: Vec<Value<'a>>,
    swap: &mut F,
) -> R<Vec<Value<'a>>>
where
    F: FnMut(&mut Eval<'a, 'x>, &Value<'a>, &Value<'a>) -> R<bool>,
{
    if items.len() <= 1 {
        return Ok(items);
    }
    let middle = items.len() / 2;
    let mut items = items;
    let right = items.split_off(middle);
    let left = merge_sort(me, items, swap)?;
    let right = merge_sort(me, right, swap)?;
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        match (l.peek(), r.peek()) {
            (None, _) => {
                merged.extend(r);
                break;
            }
            (_, None) => {
                merged.extend(l);
                break;
            }
            (Some(a), Some(b)) => {
                me.step()?;
                if swap(me, a, b)? {
                    merged.push(r.next().unwrap_or(Value::Undefined));
                } else {
                    merged.push(l.next().unwrap_or(Value::Undefined));
                }
            }
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::Signature;

    #[test]
    fn every_signature_parses() {
        for b in table() {
            assert!(Signature::parse(b.signature_text).is_ok(), "{}", b.name);
        }
        assert!(
            lookup("eval").is_none(),
            "$eval is not available in Step Functions"
        );
    }

    #[test]
    fn rounds_half_to_even() {
        for (x, p, want) in [
            (2.5, 0.0, 2.0),
            (3.5, 0.0, 4.0),
            (-2.5, 0.0, -2.0),
            (1.005, 2.0, 1.0),
            (12.345, 2.0, 12.34),
            (1234.5, -2.0, 1200.0),
            (0.5, 0.0, 0.0),
        ] {
            assert_eq!(round_half_even(x, p), want, "{x} {p}");
        }
    }

    #[test]
    fn number_strings() {
        assert!(is_decimal_number("-1.5e3"));
        assert!(!is_decimal_number("1."));
        assert!(is_prefixed_number("0x1F"));
        assert_eq!(js_string_to_number("0x1F"), 31.0);
        assert!(js_string_to_number("0x1g").is_nan());
    }

    #[test]
    fn url_decoding() {
        assert_eq!(percent_decode("%E2%82%AC", false).as_deref(), Some("€"));
        assert_eq!(percent_decode("%2F", true).as_deref(), Some("%2F"));
        assert_eq!(percent_decode("%E2%82", false), None);
        assert_eq!(percent_decode("%ZZ", false), None);
    }

    #[test]
    fn java_random_matches_the_jvm() {
        // new java.util.Random(42).nextDouble()
        assert_eq!(JavaRandom::new(42).next_double(), 0.7275636800328681);
    }
}
