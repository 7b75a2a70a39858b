//! Filter expressions, `[?(…)]`, with Jayway's operators and its value comparisons.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::parse::{Cursor, Mode, parse_segments};
use super::{Segment, is_definite, select, walk_definite, write_segments};

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// `@.isbn`: the path resolves (to anything, `null` included).
    Exists(PathOperand),
    Compare {
        left: Operand,
        op: Op,
        right: Operand,
    },
}

/// A path inside a filter: from the current item (`@`) or the document (`$`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PathOperand {
    from_document: bool,
    segments: Vec<Segment>,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Path(PathOperand),
    Literal(Value),
    Pattern(Pattern),
}

/// A `/…/flags` regular expression, matched against the whole string as Java's
/// `Matcher.matches` does.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    source: Box<str>,
    flags: Box<str>,
    regex: regex::Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.flags == other.flags
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Matches,
    In,
    Nin,
    Contains,
    SubsetOf,
    AnyOf,
    NoneOf,
    Size,
    Empty,
    Exists,
}

/// The most conditions one `&&` or `||` chain may join: chains become nested trees, and
/// evaluating (or dropping) a tree recurses once per level.
const MAX_CHAIN: usize = 64;

/// Symbolic operators, longest first so `===` is not read as `==`.
const SYMBOLS: &[(&str, Op)] = &[
    ("===", Op::StrictEq),
    ("!==", Op::StrictNe),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("=~", Op::Matches),
    ("<", Op::Lt),
    (">", Op::Gt),
];

const WORDS: &[(&str, Op)] = &[
    ("nin", Op::Nin),
    ("in", Op::In),
    ("contains", Op::Contains),
    ("subsetof", Op::SubsetOf),
    ("anyof", Op::AnyOf),
    ("noneof", Op::NoneOf),
    ("size", Op::Size),
    ("empty", Op::Empty),
    ("exists", Op::Exists),
];

impl Op {
    fn text(self) -> &'static str {
        SYMBOLS
            .iter()
            .chain(WORDS)
            .find(|(_, op)| *op == self)
            .map_or("==", |(text, _)| text)
    }
}

/// Parses the expression inside `[?(` … `)]`.
pub(super) fn parse_expr(c: &mut Cursor<'_>) -> Result<Expr, String> {
    let mut left = parse_and(c)?;
    for _ in 0..MAX_CHAIN {
        c.skip_ws();
        if !c.eat_str("||") {
            return Ok(left);
        }
        let right = parse_and(c)?;
        left = Expr::Or(Box::new(left), Box::new(right));
    }
    Err(format!("more than {MAX_CHAIN} conditions joined by '||'"))
}

fn parse_and(c: &mut Cursor<'_>) -> Result<Expr, String> {
    let mut left = parse_unary(c)?;
    for _ in 0..MAX_CHAIN {
        c.skip_ws();
        if !c.eat_str("&&") {
            return Ok(left);
        }
        let right = parse_unary(c)?;
        left = Expr::And(Box::new(left), Box::new(right));
    }
    Err(format!("more than {MAX_CHAIN} conditions joined by '&&'"))
}

fn parse_unary(c: &mut Cursor<'_>) -> Result<Expr, String> {
    c.skip_ws();
    if c.peek() == Some(b'!') && c.peek_at(1) != Some(b'=') {
        c.pos += 1;
        c.enter()?;
        let inner = parse_unary(c)?;
        c.leave();
        return Ok(Expr::Not(Box::new(inner)));
    }
    if c.eat(b'(') {
        c.enter()?;
        let inner = parse_expr(c)?;
        c.leave();
        c.skip_ws();
        c.expect(b')', "')' closing a group")?;
        return Ok(inner);
    }
    let left = parse_operand(c)?;
    c.skip_ws();
    match parse_op(c) {
        Some(op) => {
            c.skip_ws();
            let right = parse_operand(c)?;
            Ok(Expr::Compare { left, op, right })
        }
        None => match left {
            Operand::Path(path) => Ok(Expr::Exists(path)),
            _ => Err(format!(
                "expected a comparison operator after a value {}",
                c.here()
            )),
        },
    }
}

fn parse_op(c: &mut Cursor<'_>) -> Option<Op> {
    for (text, op) in SYMBOLS {
        if c.eat_str(text) {
            return Some(*op);
        }
    }
    for (text, op) in WORDS {
        let rest = c.rest();
        let boundary = rest
            .as_bytes()
            .get(text.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric());
        if rest.starts_with(text) && boundary {
            c.pos += text.len();
            return Some(*op);
        }
    }
    None
}

fn parse_operand(c: &mut Cursor<'_>) -> Result<Operand, String> {
    c.skip_ws();
    match c.peek() {
        Some(b'@') => {
            c.pos += 1;
            let segments = parse_segments(c, Mode::Filter)?;
            Ok(Operand::Path(PathOperand {
                from_document: false,
                segments,
            }))
        }
        Some(b'$') => {
            c.pos += 1;
            let segments = parse_segments(c, Mode::Filter)?;
            Ok(Operand::Path(PathOperand {
                from_document: true,
                segments,
            }))
        }
        Some(b'/') => parse_pattern(c).map(Operand::Pattern),
        Some(_) => literal(c, 0).map(Operand::Literal),
        None => Err("expected a value at the end".to_owned()),
    }
}

/// A literal: a quoted string, a number, `true`, `false`, `null`, or a JSON array or object
/// (whose strings may use single quotes, as Jayway's lenient JSON reader allows).
fn literal(c: &mut Cursor<'_>, depth: usize) -> Result<Value, String> {
    if depth > 32 {
        return Err("a literal nested deeper than 32 levels".to_owned());
    }
    c.skip_ws();
    match c.peek() {
        Some(q @ (b'\'' | b'"')) => quoted(c, q).map(Value::String),
        Some(b'[') => {
            c.pos += 1;
            let mut items = Vec::new();
            c.skip_ws();
            if c.eat(b']') {
                return Ok(Value::Array(items));
            }
            loop {
                items.push(literal(c, depth + 1)?);
                c.skip_ws();
                if c.eat(b']') {
                    return Ok(Value::Array(items));
                }
                c.expect(b',', "',' or ']' in a list")?;
            }
        }
        Some(b'{') => {
            c.pos += 1;
            let mut map = Map::new();
            c.skip_ws();
            if c.eat(b'}') {
                return Ok(Value::Object(map));
            }
            loop {
                c.skip_ws();
                let key = match c.peek() {
                    Some(q @ (b'\'' | b'"')) => quoted(c, q)?,
                    _ => return Err(format!("expected a quoted key {}", c.here())),
                };
                c.skip_ws();
                c.expect(b':', "':' after a key")?;
                let value = literal(c, depth + 1)?;
                map.insert(key, value);
                c.skip_ws();
                if c.eat(b'}') {
                    return Ok(Value::Object(map));
                }
                c.expect(b',', "',' or '}' in an object")?;
            }
        }
        Some(b) if b == b'-' || b.is_ascii_digit() => number(c),
        _ => {
            for (word, value) in [
                ("true", Value::Bool(true)),
                ("false", Value::Bool(false)),
                ("null", Value::Null),
            ] {
                if c.eat_str(word) {
                    return Ok(value);
                }
            }
            Err(format!("expected a value {}", c.here()))
        }
    }
}

fn quoted(c: &mut Cursor<'_>, quote: u8) -> Result<String, String> {
    c.pos += 1;
    let mut out = String::new();
    loop {
        let Some(ch) = c.rest().chars().next() else {
            return Err("unclosed quote in a filter".to_owned());
        };
        c.bump_char();
        match ch {
            '\\' => {
                let Some(next) = c.rest().chars().next() else {
                    return Err("unclosed quote in a filter".to_owned());
                };
                c.bump_char();
                out.push(match next {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    other => other,
                });
            }
            ch if ch as u32 == u32::from(quote) => return Ok(out),
            ch => out.push(ch),
        }
    }
}

fn number(c: &mut Cursor<'_>) -> Result<Value, String> {
    let start = c.pos;
    c.eat(b'-');
    let digits = |c: &mut Cursor<'_>| {
        let from = c.pos;
        while c.peek().is_some_and(|b| b.is_ascii_digit()) {
            c.pos += 1;
        }
        c.pos > from
    };
    let mut ok = digits(c);
    if c.peek() == Some(b'.') && c.peek_at(1).is_some_and(|b| b.is_ascii_digit()) {
        c.pos += 1;
        ok &= digits(c);
    }
    if matches!(c.peek(), Some(b'e' | b'E')) {
        c.pos += 1;
        if matches!(c.peek(), Some(b'+' | b'-')) {
            c.pos += 1;
        }
        ok &= digits(c);
    }
    let text = c.src.get(start..c.pos).unwrap_or("");
    match serde_json::from_str::<Number>(text) {
        Ok(n) if ok => Ok(Value::Number(n)),
        _ => Err(format!("'{text}' is not a number")),
    }
}

fn parse_pattern(c: &mut Cursor<'_>) -> Result<Pattern, String> {
    c.pos += 1;
    let mut source = String::new();
    loop {
        let Some(ch) = c.rest().chars().next() else {
            return Err("unclosed regular expression in a filter".to_owned());
        };
        c.bump_char();
        match ch {
            '/' => break,
            '\\' => {
                let Some(next) = c.rest().chars().next() else {
                    return Err("unclosed regular expression in a filter".to_owned());
                };
                c.bump_char();
                // `\/` only protects the delimiter; the regex itself wants a plain `/`.
                if next != '/' {
                    source.push('\\');
                }
                source.push(next);
            }
            ch => source.push(ch),
        }
    }
    let flags_start = c.pos;
    while c.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
        c.pos += 1;
    }
    let flags = c.src.get(flags_start..c.pos).unwrap_or("");
    let mut builder = regex::RegexBuilder::new(&format!("^(?:{source})$"));
    builder.size_limit(1 << 20);
    for flag in flags.chars() {
        match flag {
            'i' => builder.case_insensitive(true),
            'm' => builder.multi_line(true),
            's' => builder.dot_matches_new_line(true),
            'x' => builder.ignore_whitespace(true),
            // Java's UNICODE_CASE and UNIX_LINES change nothing the Rust engine does not
            // already do.
            'u' | 'd' => &mut builder,
            other => return Err(format!("unknown regular expression flag '{other}'")),
        };
    }
    let regex = builder
        .build()
        .map_err(|e| format!("invalid regular expression /{source}/: {e}"))?;
    Ok(Pattern {
        source: source.into(),
        flags: flags.into(),
        regex,
    })
}

/// A value as Jayway's `ValueNode` sees it.
enum Node<'a, 'e> {
    Undefined,
    Value(Cow<'a, Value>),
    Pattern(&'e Pattern),
}

/// The kind of a defined, non-pattern node.
enum Kind<'v> {
    Null,
    Bool(bool),
    Num(&'v Number),
    Str(&'v str),
    /// An array or an object.
    Json(&'v Value),
}

impl Node<'_, '_> {
    fn kind(&self) -> Option<Kind<'_>> {
        match self {
            Node::Value(v) => Some(kind(v)),
            _ => None,
        }
    }

    fn list(&self) -> Option<&[Value]> {
        match self {
            Node::Value(v) => v.as_array().map(Vec::as_slice),
            _ => None,
        }
    }
}

fn kind(v: &Value) -> Kind<'_> {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(b) => Kind::Bool(*b),
        Value::Number(n) => Kind::Num(n),
        Value::String(s) => Kind::Str(s),
        other => Kind::Json(other),
    }
}

impl Expr {
    /// Whether `item` (the `@` of the filter) passes; `root` is what `$` means.
    pub(crate) fn test(&self, item: &Value, root: &Value) -> bool {
        match self {
            Expr::Or(a, b) => a.test(item, root) || b.test(item, root),
            Expr::And(a, b) => a.test(item, root) && b.test(item, root),
            Expr::Not(inner) => !inner.test(item, root),
            Expr::Exists(path) => match path.eval(item, root) {
                Node::Undefined => false,
                // An indefinite path exists when it matches something.
                Node::Value(v) if !is_definite(&path.segments) => {
                    v.as_array().is_some_and(|a| !a.is_empty())
                }
                _ => true,
            },
            Expr::Compare { left, op, right } => {
                let l = left.eval(item, root);
                let r = right.eval(item, root);
                compare(&l, *op, &r)
            }
        }
    }

    /// Prints the expression so that it parses back to itself.
    pub(crate) fn write(&self, out: &mut String) {
        match self {
            Expr::Or(a, b) => {
                out.push('(');
                a.write(out);
                out.push_str(" || ");
                b.write(out);
                out.push(')');
            }
            Expr::And(a, b) => {
                out.push('(');
                a.write(out);
                out.push_str(" && ");
                b.write(out);
                out.push(')');
            }
            Expr::Not(inner) => {
                out.push('!');
                inner.write(out);
            }
            Expr::Exists(path) => path.write(out),
            Expr::Compare { left, op, right } => {
                left.write(out);
                out.push(' ');
                out.push_str(op.text());
                out.push(' ');
                right.write(out);
            }
        }
    }
}

impl PathOperand {
    fn eval<'a>(&self, item: &'a Value, root: &'a Value) -> Node<'a, 'static> {
        let start = if self.from_document { root } else { item };
        if is_definite(&self.segments) {
            match walk_definite(&self.segments, start) {
                Ok(v) => Node::Value(v),
                Err(_) => Node::Undefined,
            }
        } else {
            let matches = select(&self.segments, start, root);
            Node::Value(Cow::Owned(Value::Array(
                matches.into_iter().map(Cow::into_owned).collect(),
            )))
        }
    }

    fn write(&self, out: &mut String) {
        out.push(if self.from_document { '$' } else { '@' });
        write_segments(out, &self.segments);
    }
}

impl Operand {
    fn eval<'a, 'e>(&'e self, item: &'a Value, root: &'a Value) -> Node<'a, 'e> {
        match self {
            Operand::Path(path) => path.eval(item, root),
            Operand::Literal(v) => Node::Value(Cow::Owned(v.clone())),
            Operand::Pattern(p) => Node::Pattern(p),
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            Operand::Path(path) => path.write(out),
            Operand::Literal(v) => write_literal(out, v),
            Operand::Pattern(p) => {
                out.push('/');
                out.push_str(&p.source.replace('/', "\\/"));
                out.push('/');
                out.push_str(&p.flags);
            }
        }
    }
}

fn write_literal(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => {
            out.push('\'');
            for ch in s.chars() {
                match ch {
                    '\'' | '\\' => {
                        out.push('\\');
                        out.push(ch);
                    }
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    ch => out.push(ch),
                }
            }
            out.push('\'');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_literal(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_literal(out, &Value::String(k.clone()));
                out.push_str(": ");
                write_literal(out, item);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn compare(l: &Node<'_, '_>, op: Op, r: &Node<'_, '_>) -> bool {
    match op {
        Op::Eq => equals(l, r),
        Op::Ne => !equals(l, r),
        Op::StrictEq => same_class(l, r) && equals(l, r),
        Op::StrictNe => !(same_class(l, r) && equals(l, r)),
        Op::Lt => order(l, r) == Some(Ordering::Less),
        Op::Le => matches!(order(l, r), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => order(l, r) == Some(Ordering::Greater),
        Op::Ge => matches!(order(l, r), Some(Ordering::Greater | Ordering::Equal)),
        Op::Matches => match (l, r) {
            (Node::Pattern(p), other) | (other, Node::Pattern(p)) => {
                if matches!(other, Node::Pattern(_)) {
                    return false;
                }
                p.regex.is_match(&regex_input(other))
            }
            _ => false,
        },
        Op::In => in_list(l, r),
        Op::Nin => !in_list(l, r),
        Op::Contains => match (l.kind(), r.kind()) {
            (Some(Kind::Str(a)), Some(Kind::Str(b))) => a.contains(b),
            _ => l
                .list()
                .is_some_and(|items| items.iter().any(|v| equals_value(r, v))),
        },
        Op::SubsetOf => match (l.list(), r.list()) {
            (Some(left), Some(right)) => left.iter().all(|a| contains(right, a)),
            _ => false,
        },
        Op::AnyOf => match (l.list(), r.list()) {
            (Some(left), Some(right)) => left.iter().any(|a| contains(right, a)),
            _ => false,
        },
        Op::NoneOf => match (l.list(), r.list()) {
            (Some(left), Some(right)) => !left.iter().any(|a| contains(right, a)),
            _ => false,
        },
        Op::Size => {
            let Some(Kind::Num(n)) = r.kind() else {
                return false;
            };
            // Jayway takes the number's intValue, dropping any fraction.
            let expected = n.as_f64().map(|f| f.trunc() as i64);
            let actual = match l.kind() {
                Some(Kind::Str(s)) => i64::try_from(s.encode_utf16().count()).ok(),
                Some(Kind::Json(Value::Array(a))) => i64::try_from(a.len()).ok(),
                Some(Kind::Json(Value::Object(m))) => i64::try_from(m.len()).ok(),
                _ => None,
            };
            actual.is_some() && actual == expected
        }
        Op::Empty => {
            let Some(Kind::Bool(want)) = r.kind() else {
                return false;
            };
            match l.kind() {
                Some(Kind::Str(s)) => s.is_empty() == want,
                Some(Kind::Json(Value::Array(a))) => a.is_empty() == want,
                Some(Kind::Json(Value::Object(m))) => m.is_empty() == want,
                _ => false,
            }
        }
        Op::Exists => match r.kind() {
            Some(Kind::Bool(want)) => !matches!(l, Node::Undefined) == want,
            _ => false,
        },
    }
}

fn contains(list: &[Value], v: &Value) -> bool {
    let node = Node::Value(Cow::Borrowed(v));
    list.iter().any(|item| equals_value(&node, item))
}

fn in_list(l: &Node<'_, '_>, r: &Node<'_, '_>) -> bool {
    r.list()
        .is_some_and(|items| items.iter().any(|v| equals_value(l, v)))
}

fn equals_value(l: &Node<'_, '_>, v: &Value) -> bool {
    equals(l, &Node::Value(Cow::Borrowed(v)))
}

/// Jayway's `ValueNode.equals`: a number equals a string holding the same number, a string
/// equals a number printed the same way; other kinds only equal their own kind.
fn equals(l: &Node<'_, '_>, r: &Node<'_, '_>) -> bool {
    match (l.kind(), r.kind()) {
        (Some(Kind::Num(a)), Some(Kind::Num(b))) => num_cmp(a, b) == Some(Ordering::Equal),
        (Some(Kind::Num(a)), Some(Kind::Str(s))) => {
            decimal(s).zip(a.as_f64()).is_some_and(|(b, a)| a == b)
        }
        (Some(Kind::Str(s)), Some(Kind::Num(n))) => s == n.to_string(),
        (Some(Kind::Str(a)), Some(Kind::Str(b))) => a == b,
        (Some(Kind::Bool(a)), Some(Kind::Bool(b))) => a == b,
        (Some(Kind::Null), Some(Kind::Null)) => true,
        (Some(Kind::Json(a)), Some(Kind::Json(b))) => a == b,
        _ => false,
    }
}

fn same_class(l: &Node<'_, '_>, r: &Node<'_, '_>) -> bool {
    let class = |n: &Node<'_, '_>| match n.kind() {
        None => match n {
            Node::Pattern(_) => 1,
            _ => 0,
        },
        Some(Kind::Null) => 2,
        Some(Kind::Bool(_)) => 3,
        Some(Kind::Num(_)) => 4,
        Some(Kind::Str(_)) => 5,
        Some(Kind::Json(_)) => 6,
    };
    class(l) == class(r)
}

/// `<` and friends: numbers with numbers, strings with strings (UTF-16 order, as Java's
/// `String.compareTo`), nothing else.
fn order(l: &Node<'_, '_>, r: &Node<'_, '_>) -> Option<Ordering> {
    match (l.kind()?, r.kind()?) {
        (Kind::Num(a), Kind::Num(b)) => num_cmp(a, b),
        (Kind::Str(a), Kind::Str(b)) => Some(a.encode_utf16().cmp(b.encode_utf16())),
        _ => None,
    }
}

pub(crate) fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// A string Java's `BigDecimal` would read as a number.
fn decimal(s: &str) -> Option<f64> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && s.chars().any(|c| c.is_ascii_digit());
    if ok { s.parse().ok() } else { None }
}

/// What `=~` matches a value against, as Jayway's `RegexEvaluator` reads it.
fn regex_input(node: &Node<'_, '_>) -> String {
    match node.kind() {
        Some(Kind::Str(s)) => s.to_owned(),
        Some(Kind::Num(n)) => n.to_string(),
        Some(Kind::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}
