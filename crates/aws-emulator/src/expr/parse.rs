//! Syntax of DynamoDB condition, update and projection expressions, parsed with winnow.
//!
//! The parser only checks syntax and builds a tree that still holds `#name` and `:value`
//! placeholders and function names as written; [`super::resolve`] checks names, placeholders,
//! functions and operand types against the request, as DynamoDB does after parsing.

use winnow::ascii::multispace0;
use winnow::combinator::{cut_err, fail};
use winnow::error::{ContextError, StrContext};
use winnow::prelude::*;
use winnow::token::{one_of, take_while};

/// Longest expression DynamoDB accepts (4 KB); also bounds parsing time.
pub(crate) const MAX_EXPRESSION_LEN: usize = 4096;
/// Deepest nesting of parentheses, NOT and function calls accepted. DynamoDB's own limit is
/// not published; this bound keeps recursion (and so the stack) small on hostile input.
pub(crate) const MAX_NESTING: usize = 64;
/// Context label of the error raised past [`MAX_NESTING`].
const TOO_DEEP: &str = "too deeply nested";

type PResult<O> = ModalResult<O>;

/// An attribute name as written: plain (`orderId`) or a placeholder (`#s`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Name {
    Plain(String),
    Placeholder(String),
}

/// One step of a document path.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PathElem {
    Name(Name),
    Index(usize),
}

/// A document path such as `a.#b[0].c`; never empty, always starts with a name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Path {
    pub(crate) elems: Vec<PathElem>,
}

/// An operand: a path, a `:value` placeholder, or a function call such as `size(a)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Operand {
    Path(Path),
    Value(String),
    Call(String, Vec<Operand>),
}

/// Comparators.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// A condition expression as written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Condition {
    Cmp(Operand, CmpOp, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    /// A function used as a condition, e.g. `attribute_not_exists(orderId)`.
    Call(String, Vec<Operand>),
}

/// Right-hand side of a SET action.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SetValue {
    Single(Operand),
    Plus(Operand, Operand),
    Minus(Operand, Operand),
}

/// One clause of an update expression.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Clause {
    Set(Vec<(Path, SetValue)>),
    Remove(Vec<Path>),
    Add(Vec<(Path, Operand)>),
    Delete(Vec<(Path, Operand)>),
}

impl Clause {
    pub(crate) fn keyword(&self) -> &'static str {
        match self {
            Self::Set(_) => "SET",
            Self::Remove(_) => "REMOVE",
            Self::Add(_) => "ADD",
            Self::Delete(_) => "DELETE",
        }
    }
}

/// Why an expression did not parse; turned into DynamoDB's message by [`SyntaxError::message`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SyntaxError {
    /// The expression is empty or only whitespace.
    Empty,
    /// Longer than [`MAX_EXPRESSION_LEN`] bytes.
    TooLong(usize),
    /// Nesting beyond [`MAX_NESTING`].
    TooDeep,
    /// Unexpected input at this byte offset.
    At(usize),
}

impl SyntaxError {
    /// DynamoDB's wording, e.g. `Syntax error; token: "=", near: "a = = :v"`, without the
    /// `Invalid ConditionExpression:` prefix.
    pub(crate) fn message(&self, text: &str) -> String {
        match self {
            Self::Empty => "The expression can not be empty;".into(),
            Self::TooLong(n) => format!(
                "Expression size has exceeded the maximum allowed size; expression size: {n}"
            ),
            Self::TooDeep => format!(
                "The expression is nested more than {MAX_NESTING} levels deep (parentheses, NOT and function calls)"
            ),
            Self::At(offset) => {
                let (token, near) = token_near(text, *offset);
                format!("Syntax error; token: \"{token}\", near: \"{near}\"")
            }
        }
    }
}

/// Parses a ConditionExpression.
pub(crate) fn condition(text: &str) -> Result<Condition, SyntaxError> {
    run(text, |i| {
        ws(i)?;
        or_expr(i, 0)
    })
}

/// Parses an UpdateExpression.
pub(crate) fn update(text: &str) -> Result<Vec<Clause>, SyntaxError> {
    run(text, |i| {
        ws(i)?;
        let mut clauses = Vec::new();
        loop {
            let start = i.checkpoint();
            let Ok(word) = ident.parse_next(i) else { break };
            let kind = word.to_ascii_uppercase();
            ws(i)?;
            let clause = match kind.as_str() {
                "SET" => Clause::Set(list(i, set_action)?),
                "REMOVE" => Clause::Remove(list(i, path_ws)?),
                "ADD" => Clause::Add(list(i, path_value)?),
                "DELETE" => Clause::Delete(list(i, path_value)?),
                _ => {
                    i.reset(&start);
                    break;
                }
            };
            clauses.push(clause);
        }
        if clauses.is_empty() {
            return cut_err(fail).parse_next(i);
        }
        Ok(clauses)
    })
}

/// Parses a ProjectionExpression: paths separated by commas.
pub(crate) fn projection(text: &str) -> Result<Vec<Path>, SyntaxError> {
    run(text, |i| {
        ws(i)?;
        list(i, path_ws)
    })
}

/// Runs a parser over the whole text, mapping failures to [`SyntaxError`].
fn run<O>(text: &str, mut parser: impl FnMut(&mut &str) -> PResult<O>) -> Result<O, SyntaxError> {
    if text.len() > MAX_EXPRESSION_LEN {
        return Err(SyntaxError::TooLong(text.len()));
    }
    if text.trim().is_empty() {
        return Err(SyntaxError::Empty);
    }
    let mut input = text;
    let result = parser(&mut input);
    let offset = text.len() - input.len();
    match result {
        Ok(out) if input.is_empty() => Ok(out),
        Ok(_) => Err(SyntaxError::At(offset)),
        Err(err) => {
            let too_deep = err.into_inner().ok().is_some_and(|e: ContextError| {
                e.context()
                    .any(|c| matches!(c, StrContext::Label(l) if *l == TOO_DEEP))
            });
            Err(if too_deep {
                SyntaxError::TooDeep
            } else {
                SyntaxError::At(offset)
            })
        }
    }
}

fn ws(i: &mut &str) -> PResult<()> {
    multispace0.void().parse_next(i)
}

/// Fails without backtracking: the input is on the right branch but wrong here.
fn syntax_error<O>(i: &mut &str) -> PResult<O> {
    cut_err(fail).parse_next(i)
}

fn check_depth(i: &mut &str, depth: usize) -> PResult<()> {
    if depth > MAX_NESTING {
        return cut_err(fail.context(StrContext::Label(TOO_DEEP))).parse_next(i);
    }
    Ok(())
}

/// A bare identifier: a letter or underscore, then letters, digits and underscores.
fn ident<'a>(i: &mut &'a str) -> PResult<&'a str> {
    (
        one_of(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(0.., |c: char| c.is_ascii_alphanumeric() || c == '_'),
    )
        .take()
        .parse_next(i)
}

/// The keyword `kw` (case-insensitive) followed by whitespace; backtracks on anything else.
fn keyword(i: &mut &str, kw: &str) -> PResult<bool> {
    let start = i.checkpoint();
    match ident.parse_next(i) {
        Ok(word) if word.eq_ignore_ascii_case(kw) => {
            ws(i)?;
            Ok(true)
        }
        _ => {
            i.reset(&start);
            Ok(false)
        }
    }
}

/// Consumes `symbol` and trailing whitespace if present.
fn symbol(i: &mut &str, symbol: &str) -> PResult<bool> {
    if let Some(rest) = i.strip_prefix(symbol) {
        *i = rest;
        ws(i)?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Requires `symbol`, failing without backtracking.
fn expect(i: &mut &str, sym: &str) -> PResult<()> {
    if symbol(i, sym)? {
        Ok(())
    } else {
        syntax_error(i)
    }
}

/// One or more items separated by commas.
fn list<O>(i: &mut &str, mut item: impl FnMut(&mut &str) -> PResult<O>) -> PResult<Vec<O>> {
    let mut out = vec![cut_err(|i: &mut &str| item(i)).parse_next(i)?];
    while symbol(i, ",")? {
        out.push(cut_err(|i: &mut &str| item(i)).parse_next(i)?);
    }
    Ok(out)
}

fn or_expr(i: &mut &str, depth: usize) -> PResult<Condition> {
    let mut left = and_expr(i, depth)?;
    while keyword(i, "OR")? {
        let right = cut_err(|i: &mut &str| and_expr(i, depth)).parse_next(i)?;
        left = Condition::Or(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn and_expr(i: &mut &str, depth: usize) -> PResult<Condition> {
    let mut left = not_expr(i, depth)?;
    while keyword(i, "AND")? {
        let right = cut_err(|i: &mut &str| not_expr(i, depth)).parse_next(i)?;
        left = Condition::And(Box::new(left), Box::new(right));
    }
    Ok(left)
}

fn not_expr(i: &mut &str, depth: usize) -> PResult<Condition> {
    check_depth(i, depth)?;
    if keyword(i, "NOT")? {
        let inner = cut_err(|i: &mut &str| not_expr(i, depth + 1)).parse_next(i)?;
        return Ok(Condition::Not(Box::new(inner)));
    }
    primary(i, depth)
}

fn primary(i: &mut &str, depth: usize) -> PResult<Condition> {
    if symbol(i, "(")? {
        check_depth(i, depth + 1)?;
        let inner = cut_err(|i: &mut &str| or_expr(i, depth + 1)).parse_next(i)?;
        expect(i, ")")?;
        return Ok(inner);
    }
    let left = cut_err(|i: &mut &str| operand(i, depth)).parse_next(i)?;
    if let Some(op) = comparator(i)? {
        let right = cut_err(|i: &mut &str| operand(i, depth)).parse_next(i)?;
        return Ok(Condition::Cmp(left, op, right));
    }
    if keyword(i, "BETWEEN")? {
        let low = cut_err(|i: &mut &str| operand(i, depth)).parse_next(i)?;
        if !keyword(i, "AND")? {
            return syntax_error(i);
        }
        let high = cut_err(|i: &mut &str| operand(i, depth)).parse_next(i)?;
        return Ok(Condition::Between(left, low, high));
    }
    if keyword(i, "IN")? {
        expect(i, "(")?;
        let candidates = list(i, |i| operand(i, depth))?;
        expect(i, ")")?;
        return Ok(Condition::In(left, candidates));
    }
    match left {
        Operand::Call(name, args) => Ok(Condition::Call(name, args)),
        _ => syntax_error(i),
    }
}

fn comparator(i: &mut &str) -> PResult<Option<CmpOp>> {
    // Two-character operators first, so `<=` is not read as `<`.
    for (sym, op) in [
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("<>", CmpOp::Ne),
        ("=", CmpOp::Eq),
        ("<", CmpOp::Lt),
        (">", CmpOp::Gt),
    ] {
        if symbol(i, sym)? {
            return Ok(Some(op));
        }
    }
    Ok(None)
}

/// `:value`, a path, or `function(args…)`.
fn operand(i: &mut &str, depth: usize) -> PResult<Operand> {
    check_depth(i, depth)?;
    if i.starts_with(':') {
        let name = placeholder(i, ':')?;
        ws(i)?;
        return Ok(Operand::Value(name));
    }
    if !i.starts_with('#') {
        let start = i.checkpoint();
        let name = ident.parse_next(i)?;
        ws(i)?;
        if symbol(i, "(")? {
            let args = if symbol(i, ")")? {
                Vec::new()
            } else {
                let args = list(i, |i| operand(i, depth + 1))?;
                expect(i, ")")?;
                args
            };
            return Ok(Operand::Call(name.to_owned(), args));
        }
        i.reset(&start);
    }
    let path = path(i)?;
    ws(i)?;
    Ok(Operand::Path(path))
}

/// `#name` or `:name` (the sigil included).
fn placeholder(i: &mut &str, sigil: char) -> PResult<String> {
    (
        sigil,
        take_while(1.., |c: char| c.is_ascii_alphanumeric() || c == '_'),
    )
        .take()
        .map(str::to_owned)
        .parse_next(i)
}

fn path_ws(i: &mut &str) -> PResult<Path> {
    let p = path(i)?;
    ws(i)?;
    Ok(p)
}

/// `name` or `#name`, then any of `.name`, `.#name`, `[index]`.
fn path(i: &mut &str) -> PResult<Path> {
    let mut elems = vec![PathElem::Name(path_name(i)?)];
    loop {
        if let Some(rest) = i.strip_prefix('.') {
            *i = rest;
            elems.push(PathElem::Name(cut_err(path_name).parse_next(i)?));
        } else if let Some(rest) = i.strip_prefix('[') {
            *i = rest;
            let digits = cut_err(take_while(1.., |c: char| c.is_ascii_digit())).parse_next(i)?;
            let Ok(index) = digits.parse::<usize>() else {
                return syntax_error(i);
            };
            let Some(rest) = i.strip_prefix(']') else {
                return syntax_error(i);
            };
            *i = rest;
            elems.push(PathElem::Index(index));
        } else {
            break;
        }
    }
    Ok(Path { elems })
}

fn path_name(i: &mut &str) -> PResult<Name> {
    if i.starts_with('#') {
        return placeholder(i, '#').map(Name::Placeholder);
    }
    ident.map(|s: &str| Name::Plain(s.to_owned())).parse_next(i)
}

fn set_action(i: &mut &str) -> PResult<(Path, SetValue)> {
    let target = path_ws(i)?;
    expect(i, "=")?;
    let first = cut_err(|i: &mut &str| operand(i, 0)).parse_next(i)?;
    let value = if symbol(i, "+")? {
        SetValue::Plus(first, cut_err(|i: &mut &str| operand(i, 0)).parse_next(i)?)
    } else if symbol(i, "-")? {
        SetValue::Minus(first, cut_err(|i: &mut &str| operand(i, 0)).parse_next(i)?)
    } else {
        SetValue::Single(first)
    };
    Ok((target, value))
}

fn path_value(i: &mut &str) -> PResult<(Path, Operand)> {
    let target = path_ws(i)?;
    let value = cut_err(|i: &mut &str| operand(i, 0)).parse_next(i)?;
    Ok((target, value))
}

/// The token at `offset` and the text around it, for DynamoDB-style syntax messages.
fn token_near(text: &str, offset: usize) -> (String, String) {
    let slice = |from: usize, to: usize| text.get(from..to).unwrap_or_default();
    let offset = offset.min(text.len());
    let rest = slice(offset, text.len());
    let start = offset + (rest.len() - rest.trim_start().len());
    let token_end = start + token_len(slice(start, text.len()));
    let token = if token_end == start {
        "<EOF>"
    } else {
        slice(start, token_end)
    };
    // "near" spans the previous token, the bad token and the next one, as DynamoDB shows it.
    let before = slice(0, start).trim_end();
    let near_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(at, c)| at + c.len_utf8());
    let after = slice(token_end, text.len());
    let next_start = token_end + (after.len() - after.trim_start().len());
    let near_end = next_start + token_len(slice(next_start, text.len()));
    (token.to_owned(), slice(near_start, near_end).to_owned())
}

/// Length in bytes of the token at the start of `text` (a word, a two-character operator or
/// one character).
fn token_len(text: &str) -> usize {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '#' | ':');
    let mut chars = text.chars();
    match chars.next() {
        None => 0,
        Some(c) if word(c) => text.find(|c: char| !word(c)).unwrap_or(text.len()),
        Some(c) => {
            let two = text.get(..2);
            if matches!(two, Some("<=" | ">=" | "<>")) {
                2
            } else {
                c.len_utf8()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Condition {
        condition(text).unwrap_or_else(|e| panic!("{text}: {}", e.message(text)))
    }
    fn err(text: &str, expected: &str) {
        let e = condition(text).expect_err(text);
        assert_eq!(e.message(text), expected, "{text}");
    }
    fn p(name: &str) -> Operand {
        Operand::Path(Path {
            elems: vec![PathElem::Name(Name::Plain(name.into()))],
        })
    }
    fn v(name: &str) -> Operand {
        Operand::Value(name.into())
    }

    #[test]
    fn precedence() {
        let a = Condition::Cmp(p("a"), CmpOp::Eq, v(":a"));
        let b = Condition::Cmp(p("b"), CmpOp::Eq, v(":b"));
        let c = Condition::Cmp(p("c"), CmpOp::Eq, v(":c"));
        let bx = Box::new;
        // AND binds tighter than OR; NOT tighter than AND.
        assert_eq!(
            ok("a = :a OR b = :b AND c = :c"),
            Condition::Or(
                bx(a.clone()),
                bx(Condition::And(bx(b.clone()), bx(c.clone())))
            )
        );
        assert_eq!(
            ok("(a = :a OR b = :b) AND c = :c"),
            Condition::And(
                bx(Condition::Or(bx(a.clone()), bx(b.clone()))),
                bx(c.clone())
            )
        );
        assert_eq!(
            ok("NOT a = :a AND b = :b"),
            Condition::And(bx(Condition::Not(bx(a.clone()))), bx(b.clone()))
        );
        assert_eq!(
            ok("a BETWEEN :x AND :y AND b = :b"),
            Condition::And(bx(Condition::Between(p("a"), v(":x"), v(":y"))), bx(b))
        );
    }

    #[test]
    fn paths_and_calls() {
        let path = ok("a.#b[3].c <> :v");
        let Condition::Cmp(Operand::Path(path), CmpOp::Ne, _) = path else {
            panic!("{path:?}")
        };
        assert_eq!(
            path.elems,
            vec![
                PathElem::Name(Name::Plain("a".into())),
                PathElem::Name(Name::Placeholder("#b".into())),
                PathElem::Index(3),
                PathElem::Name(Name::Plain("c".into())),
            ]
        );
        assert_eq!(
            ok("size (a) >= :n"),
            Condition::Cmp(
                Operand::Call("size".into(), vec![p("a")]),
                CmpOp::Ge,
                v(":n")
            )
        );
        assert_eq!(
            ok("attribute_not_exists(orderId)"),
            Condition::Call("attribute_not_exists".into(), vec![p("orderId")])
        );
        assert_eq!(
            ok("a in (:x,:y)"),
            Condition::In(p("a"), vec![v(":x"), v(":y")])
        );
    }

    #[test]
    fn syntax_errors() {
        err("a = ", "Syntax error; token: \"<EOF>\", near: \"= \"");
        err("a == :v", "Syntax error; token: \"=\", near: \"== :v\"");
        err("a = 1", "Syntax error; token: \"1\", near: \"= 1\"");
        err("(a = :v", "Syntax error; token: \"<EOF>\", near: \":v\"");
        err(
            "a BETWEEN :x",
            "Syntax error; token: \"<EOF>\", near: \":x\"",
        );
        err("", "The expression can not be empty;");
        err(&"(".repeat(100), &SyntaxError::TooDeep.message(""));
        err(
            &format!("a = :{}", "v".repeat(5000)),
            "Expression size has exceeded the maximum allowed size; expression size: 5005",
        );
    }

    #[test]
    fn updates() {
        let clauses = update(
            "SET a = :a, b = if_not_exists(b, :z) + :one REMOVE c[1] ADD n :one DELETE s :s",
        )
        .unwrap();
        assert_eq!(
            clauses.iter().map(Clause::keyword).collect::<Vec<_>>(),
            ["SET", "REMOVE", "ADD", "DELETE"]
        );
        assert!(update("set a = :a remove b").is_ok());
        assert_eq!(update("SET").unwrap_err(), SyntaxError::At(3));
        assert_eq!(update("PUT a = :a").unwrap_err(), SyntaxError::At(0));
        assert_eq!(update("SET a = :a,").unwrap_err(), SyntaxError::At(11));
    }

    #[test]
    fn projections() {
        assert_eq!(projection("a, b.c, #d[0]").unwrap().len(), 3);
        assert!(projection("a,").is_err());
    }

    fn print_path(p: &Path) -> String {
        let mut out = String::new();
        for (i, e) in p.elems.iter().enumerate() {
            match e {
                PathElem::Name(Name::Plain(n) | Name::Placeholder(n)) => {
                    if i > 0 {
                        out.push('.');
                    }
                    out.push_str(n);
                }
                PathElem::Index(ix) => out.push_str(&format!("[{ix}]")),
            }
        }
        out
    }

    fn print_operand(o: &Operand) -> String {
        match o {
            Operand::Path(p) => print_path(p),
            Operand::Value(v) => v.clone(),
            Operand::Call(name, args) => format!(
                "{name}({})",
                args.iter()
                    .map(print_operand)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// Prints a condition fully parenthesised, so parsing it back gives the same tree.
    fn print(c: &Condition) -> String {
        match c {
            Condition::Cmp(a, op, b) => {
                format!("{} {} {}", print_operand(a), op.symbol(), print_operand(b))
            }
            Condition::Between(a, b, c) => format!(
                "{} BETWEEN {} AND {}",
                print_operand(a),
                print_operand(b),
                print_operand(c)
            ),
            Condition::In(a, list) => format!(
                "{} IN ({})",
                print_operand(a),
                list.iter().map(print_operand).collect::<Vec<_>>().join(",")
            ),
            Condition::And(a, b) => format!("({}) AND ({})", print(a), print(b)),
            Condition::Or(a, b) => format!("({}) or ({})", print(a), print(b)),
            Condition::Not(a) => format!("NOT ({})", print(a)),
            Condition::Call(name, args) => format!(
                "{name}({})",
                args.iter().map(print_operand).collect::<Vec<_>>().join(",")
            ),
        }
    }

    fn arb_name() -> impl Strategy<Value = Name> {
        prop_oneof![
            "[a-z_][a-zA-Z0-9_]{0,5}"
                .prop_filter("keywords", |n| !["and", "or", "not", "between", "in"]
                    .contains(&n.to_ascii_lowercase().as_str()))
                .prop_map(Name::Plain),
            "#[a-zA-Z0-9_]{1,4}".prop_map(Name::Placeholder),
        ]
    }

    fn arb_path() -> impl Strategy<Value = Path> {
        let elem = prop_oneof![
            arb_name().prop_map(PathElem::Name),
            (0usize..100).prop_map(PathElem::Index)
        ];
        (arb_name(), prop::collection::vec(elem, 0..3)).prop_map(|(first, rest)| {
            let mut elems = vec![PathElem::Name(first)];
            elems.extend(rest);
            Path { elems }
        })
    }

    fn arb_operand() -> impl Strategy<Value = Operand> {
        prop_oneof![
            arb_path().prop_map(Operand::Path),
            ":[a-z0-9]{1,4}".prop_map(Operand::Value),
            arb_path().prop_map(|p| Operand::Call("size".into(), vec![Operand::Path(p)])),
        ]
    }

    fn arb_condition() -> impl Strategy<Value = Condition> {
        let op = prop_oneof![
            Just(CmpOp::Eq),
            Just(CmpOp::Ne),
            Just(CmpOp::Lt),
            Just(CmpOp::Le),
            Just(CmpOp::Gt),
            Just(CmpOp::Ge)
        ];
        let leaf = prop_oneof![
            (arb_operand(), op, arb_operand()).prop_map(|(a, op, b)| Condition::Cmp(a, op, b)),
            (arb_operand(), arb_operand(), arb_operand())
                .prop_map(|(a, b, c)| Condition::Between(a, b, c)),
            (arb_operand(), prop::collection::vec(arb_operand(), 1..4))
                .prop_map(|(a, l)| Condition::In(a, l)),
            (arb_path(), arb_operand())
                .prop_map(|(p, o)| Condition::Call("contains".into(), vec![Operand::Path(p), o])),
        ];
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Condition::Not(Box::new(a))),
            ]
        })
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_of_print_is_identity(c in arb_condition()) {
            let text = print(&c);
            prop_assert_eq!(condition(&text), Ok(c), "{}", text);
        }

        #[test]
        fn parsers_never_panic(text in "\\PC{0,120}") {
            let _ = condition(&text).map_err(|e| e.message(&text));
            let _ = update(&text).map_err(|e| e.message(&text));
            let _ = projection(&text).map_err(|e| e.message(&text));
        }

        #[test]
        fn deep_nesting_is_an_error_not_a_crash(depth in 0usize..2000, kind in 0u8..3) {
            let text = match kind {
                0 => format!("{}a = :v{}", "(".repeat(depth), ")".repeat(depth)),
                1 => format!("{}a = :v", "NOT ".repeat(depth)),
                _ => format!("{}a{}", "size(".repeat(depth), ")".repeat(depth)),
            };
            let result = condition(&text);
            if depth > MAX_NESTING + 1 {
                prop_assert!(result.is_err());
            }
        }
    }
}
