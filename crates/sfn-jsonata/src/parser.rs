//! The parser, a port of jsonata.js 2.0.6 `parser.js`: Pratt's top-down operator precedence
//! parse into a raw tree, then the post-parse pass (`processAST`) that flattens paths into
//! steps, attaches predicates, groupings, bindings, sort terms and parent slots to the
//! steps they belong to, and wraps tail calls in thunks.

use std::sync::Arc;

use crate::ast::{BinOp, Group, Kind, Lambda, Node, SortTerm, Stage};
use crate::error::{Fields, ParseError, json_string};
use crate::lexer::{Lexer, RegexLiteral, Token, TokenValue};
use crate::regex::JsRegex;
use crate::signature::Signature;

/// Deepest nesting the parser accepts (brackets, and operators chained in one expression):
/// a hostile expression of a million `(` or `+` must fail cleanly, and the trees it builds
/// stay shallow enough to walk and drop.
pub(crate) const MAX_PARSE_DEPTH: usize = 1000;

/// The raw parse tree (jsonata's nodes before `processAST`).
#[derive(Debug)]
struct PNode {
    p: P,
    position: usize,
    keep_array: bool,
}

#[derive(Debug)]
enum P {
    Name(String),
    Variable(String),
    Str(String),
    Number(f64),
    Bool(bool),
    Null,
    Regex(RegexLiteral),
    /// An operator token in operand position: `and`, `or`, `in` (used as names) or `?`.
    Operator(&'static str),
    End,
    Binary(&'static str, Box<PNode>, Box<PNode>),
    Filter(Box<PNode>, Box<PNode>),
    Group(Box<PNode>, Vec<(PNode, PNode)>),
    Sort(Box<PNode>, Vec<(bool, PNode)>),
    Negate(Box<PNode>),
    Array(Vec<PNode>),
    Object(Vec<(PNode, PNode)>),
    Wildcard,
    Descendant,
    Parent,
    Block(Vec<PNode>),
    Transform(Box<PNode>, Box<PNode>, Option<Box<PNode>>),
    Function {
        procedure: Box<PNode>,
        arguments: Vec<PNode>,
        partial: bool,
    },
    Lambda {
        arguments: Vec<PNode>,
        signature: Option<Signature>,
        body: Box<PNode>,
    },
    Condition(Box<PNode>, Box<PNode>, Option<Box<PNode>>),
    Bind(Box<PNode>, Box<PNode>),
    Focus(Box<PNode>, Box<PNode>),
    Index(Box<PNode>, Box<PNode>),
    Apply(Box<PNode>, Box<PNode>),
}

/// The current token as the parser sees it (jsonata's `node`).
#[derive(Debug, Clone)]
struct Cur {
    /// The symbol id: the operator, `(name)`, `(literal)`, `(regex)` or `(end)`.
    id: &'static str,
    value: TokenValue,
    position: usize,
}

fn lbp(id: &str) -> u32 {
    match id {
        "." => 75,
        "[" | "(" | "@" | "#" => 80,
        "{" => 70,
        "*" | "/" | "%" => 60,
        "+" | "-" | "&" => 50,
        "=" | "<" | ">" | "!=" | "<=" | ">=" | "~>" | "in" | "^" => 40,
        "and" => 30,
        "or" => 25,
        "?" => 20,
        ":=" => 10,
        _ => 0,
    }
}

/// Tokens the symbol table knows; any other operator is `S0204`.
fn known_operator(op: &str) -> bool {
    !matches!(op, "!" | "~")
}

fn token_text(value: &TokenValue) -> String {
    match value {
        TokenValue::Name(s) | TokenValue::Variable(s) | TokenValue::Str(s) => json_string(s),
        TokenValue::Number(n) => crate::number::js_number_to_string(*n),
        TokenValue::Bool(b) => b.to_string(),
        TokenValue::Null => "null".into(),
        TokenValue::Regex(_) => "{}".into(),
        TokenValue::Operator(o) => json_string(o),
    }
}

struct Parser {
    lexer: Lexer,
    node: Cur,
    source_len: usize,
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

impl Parser {
    fn error(&self, code: &'static str, position: usize, token: &TokenValue) -> ParseError {
        ParseError::with_fields(
            code,
            position,
            Fields {
                token: Some(token_text(token)),
                ..Fields::default()
            },
        )
    }

    fn advance(&mut self, id: Option<&'static str>, infix: bool) -> PResult<()> {
        if let Some(id) = id
            && self.node.id != id
        {
            let code = if self.node.id == "(end)" {
                "S0203"
            } else {
                "S0202"
            };
            let token = if self.node.id == "(end)" {
                json_string("(end)")
            } else {
                token_text(&self.node.value)
            };
            return Err(ParseError::with_fields(
                code,
                self.node.position,
                Fields {
                    token: Some(token),
                    value: Some(json_string(id)),
                    ..Fields::default()
                },
            ));
        }
        match self.lexer.next(infix)? {
            None => {
                self.node = Cur {
                    id: "(end)",
                    value: TokenValue::Operator("(end)"),
                    position: self.source_len,
                };
            }
            Some(Token { value, position }) => {
                let id = match &value {
                    TokenValue::Name(_) | TokenValue::Variable(_) => "(name)",
                    TokenValue::Operator(op) => {
                        if !known_operator(op) {
                            return Err(self.error("S0204", position, &value));
                        }
                        op
                    }
                    TokenValue::Str(_)
                    | TokenValue::Number(_)
                    | TokenValue::Bool(_)
                    | TokenValue::Null => "(literal)",
                    TokenValue::Regex(_) => "(regex)",
                };
                self.node = Cur {
                    id,
                    value,
                    position,
                };
            }
        }
        Ok(())
    }

    fn expression(&mut self, rbp: u32) -> PResult<PNode> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expression_inner(rbp))
    }

    fn expression_inner(&mut self, rbp: u32) -> PResult<PNode> {
        self.depth += 1;
        if self.depth > MAX_PARSE_DEPTH {
            return Err(ParseError::with_fields(
                "S0201",
                self.node.position,
                Fields {
                    token: Some(json_string("nesting too deep")),
                    ..Fields::default()
                },
            ));
        }
        let t = self.node.clone();
        self.advance(None, true)?;
        let mut left = self.nud(t)?;
        // Each operator in a chain (`a.b.c...`, `1 + 2 + 3...`) nests the tree one level
        // deeper without recursing here, so count those levels too.
        let mut chain = 0;
        while rbp < lbp(self.node.id) {
            chain += 1;
            if self.depth + chain > MAX_PARSE_DEPTH {
                return Err(ParseError::with_fields(
                    "S0201",
                    self.node.position,
                    Fields {
                        token: Some(json_string("nesting too deep")),
                        ..Fields::default()
                    },
                ));
            }
            let t = self.node.clone();
            self.advance(None, false)?;
            left = self.led(t, left)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn pn(p: P, position: usize) -> PNode {
        PNode {
            p,
            position,
            keep_array: false,
        }
    }

    fn nud(&mut self, t: Cur) -> PResult<PNode> {
        let pos = t.position;
        match (t.id, &t.value) {
            ("(end)", _) => Ok(Self::pn(P::End, pos)),
            ("(name)", TokenValue::Name(n)) => Ok(Self::pn(P::Name(n.clone()), pos)),
            ("(name)", TokenValue::Variable(n)) => Ok(Self::pn(P::Variable(n.clone()), pos)),
            ("(literal)", v) => Ok(Self::pn(
                match v {
                    TokenValue::Str(s) => P::Str(s.clone()),
                    TokenValue::Number(n) => P::Number(*n),
                    TokenValue::Bool(b) => P::Bool(*b),
                    _ => P::Null,
                },
                pos,
            )),
            ("(regex)", TokenValue::Regex(r)) => Ok(Self::pn(P::Regex(r.clone()), pos)),
            ("and", _) | ("or", _) | ("in", _) => {
                let op = match t.id {
                    "and" => "and",
                    "or" => "or",
                    _ => "in",
                };
                Ok(Self::pn(P::Operator(op), pos))
            }
            ("-", _) => {
                let e = self.expression(70)?;
                Ok(Self::pn(P::Negate(Box::new(e)), pos))
            }
            ("*", _) => Ok(Self::pn(P::Wildcard, pos)),
            ("**", _) => Ok(Self::pn(P::Descendant, pos)),
            ("%", _) => Ok(Self::pn(P::Parent, pos)),
            ("(", _) => {
                let mut expressions = Vec::new();
                while self.node.id != ")" {
                    expressions.push(self.expression(0)?);
                    if self.node.id != ";" {
                        break;
                    }
                    self.advance(Some(";"), false)?;
                }
                self.advance(Some(")"), true)?;
                Ok(Self::pn(P::Block(expressions), pos))
            }
            ("[", _) => {
                let mut items = Vec::new();
                if self.node.id != "]" {
                    loop {
                        let mut item = self.expression(0)?;
                        if self.node.id == ".." {
                            let rpos = self.node.position;
                            self.advance(Some(".."), false)?;
                            let rhs = self.expression(0)?;
                            item = Self::pn(P::Binary("..", Box::new(item), Box::new(rhs)), rpos);
                        }
                        items.push(item);
                        if self.node.id != "," {
                            break;
                        }
                        self.advance(Some(","), false)?;
                    }
                }
                self.advance(Some("]"), true)?;
                Ok(Self::pn(P::Array(items), pos))
            }
            ("{", _) => {
                let pairs = self.object_pairs()?;
                Ok(Self::pn(P::Object(pairs), pos))
            }
            ("|", _) => {
                let pattern = self.expression(0)?;
                self.advance(Some("|"), false)?;
                let update = self.expression(0)?;
                let delete = if self.node.id == "," {
                    self.advance(Some(","), false)?;
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                self.advance(Some("|"), false)?;
                Ok(Self::pn(
                    P::Transform(Box::new(pattern), Box::new(update), delete),
                    pos,
                ))
            }
            _ => Err(self.error("S0211", pos, &t.value)),
        }
    }

    fn object_pairs(&mut self) -> PResult<Vec<(PNode, PNode)>> {
        let mut pairs = Vec::new();
        if self.node.id != "}" {
            loop {
                let n = self.expression(0)?;
                self.advance(Some(":"), false)?;
                let v = self.expression(0)?;
                pairs.push((n, v));
                if self.node.id != "," {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("}"), true)?;
        Ok(pairs)
    }

    // parser.js's infix handlers (`led`) as one match, one arm per operator: a dispatch table.
    fn led(&mut self, t: Cur, left: PNode) -> PResult<PNode> {
        let pos = t.position;
        let op = t.id;
        match op {
            "(" => {
                let mut arguments = Vec::new();
                let mut partial = false;
                if self.node.id != ")" {
                    loop {
                        if matches!(self.node.value, TokenValue::Operator("?")) {
                            partial = true;
                            arguments.push(Self::pn(P::Operator("?"), self.node.position));
                            self.advance(Some("?"), false)?;
                        } else {
                            arguments.push(self.expression(0)?);
                        }
                        if self.node.id != "," {
                            break;
                        }
                        self.advance(Some(","), false)?;
                    }
                }
                self.advance(Some(")"), true)?;
                let is_lambda = matches!(&left.p, P::Name(n) if n == "function" || n == "\u{03BB}");
                if !is_lambda {
                    return Ok(Self::pn(
                        P::Function {
                            procedure: Box::new(left),
                            arguments,
                            partial,
                        },
                        pos,
                    ));
                }
                for (index, arg) in arguments.iter().enumerate() {
                    if !matches!(arg.p, P::Variable(_)) {
                        return Err(ParseError::with_fields(
                            "S0208",
                            arg.position,
                            Fields {
                                token: Some(raw_token(&arg.p)),
                                value: Some((index + 1).to_string()),
                                ..Fields::default()
                            },
                        ));
                    }
                }
                let mut signature = None;
                if self.node.id == "<" {
                    let sig_pos = self.node.position;
                    let mut depth = 1;
                    let mut sig = String::from("<");
                    while depth > 0 && self.node.id != "{" && self.node.id != "(end)" {
                        self.advance(None, false)?;
                        let tok = &self.node;
                        if tok.id == ">" {
                            depth -= 1;
                        } else if tok.id == "<" {
                            depth += 1;
                        }
                        sig.push_str(&signature_text(&tok.value));
                    }
                    self.advance(Some(">"), false)?;
                    signature = Some(Signature::parse(&sig).map_err(|(code, offset)| {
                        ParseError::new(code, sig_pos + offset, None, None)
                    })?);
                }
                self.advance(Some("{"), false)?;
                let body = self.expression(0)?;
                self.advance(Some("}"), false)?;
                Ok(Self::pn(
                    P::Lambda {
                        arguments,
                        signature,
                        body: Box::new(body),
                    },
                    pos,
                ))
            }
            "[" => {
                if self.node.id == "]" {
                    let mut left = left;
                    mark_keep_array(&mut left);
                    self.advance(Some("]"), false)?;
                    Ok(left)
                } else {
                    let rhs = self.expression(0)?;
                    self.advance(Some("]"), true)?;
                    Ok(Self::pn(P::Filter(Box::new(left), Box::new(rhs)), pos))
                }
            }
            "^" => {
                self.advance(Some("("), false)?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if self.node.id == "<" {
                        self.advance(Some("<"), false)?;
                    } else if self.node.id == ">" {
                        descending = true;
                        self.advance(Some(">"), false)?;
                    }
                    let e = self.expression(0)?;
                    terms.push((descending, e));
                    if self.node.id != "," {
                        break;
                    }
                    self.advance(Some(","), false)?;
                }
                self.advance(Some(")"), false)?;
                Ok(Self::pn(P::Sort(Box::new(left), terms), pos))
            }
            "{" => {
                let pairs = self.object_pairs()?;
                Ok(Self::pn(P::Group(Box::new(left), pairs), pos))
            }
            ":=" => {
                if !matches!(left.p, P::Variable(_)) {
                    return Err(ParseError::with_fields(
                        "S0212",
                        left.position,
                        Fields {
                            token: Some(raw_token(&left.p)),
                            ..Fields::default()
                        },
                    ));
                }
                let rhs = self.expression(lbp(":=") - 1)?;
                Ok(Self::pn(P::Bind(Box::new(left), Box::new(rhs)), pos))
            }
            "@" | "#" => {
                let rhs = self.expression(80)?;
                if !matches!(rhs.p, P::Variable(_)) {
                    return Err(ParseError::with_fields(
                        "S0214",
                        rhs.position,
                        Fields {
                            token: Some(json_string(op)),
                            ..Fields::default()
                        },
                    ));
                }
                let p = if op == "@" {
                    P::Focus(Box::new(left), Box::new(rhs))
                } else {
                    P::Index(Box::new(left), Box::new(rhs))
                };
                Ok(Self::pn(p, pos))
            }
            "?" => {
                let then = self.expression(0)?;
                let otherwise = if self.node.id == ":" {
                    self.advance(Some(":"), false)?;
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                Ok(Self::pn(
                    P::Condition(Box::new(left), Box::new(then), otherwise),
                    pos,
                ))
            }
            "~>" => {
                let rhs = self.expression(lbp(op))?;
                Ok(Self::pn(P::Apply(Box::new(left), Box::new(rhs)), pos))
            }
            _ => {
                let rhs = self.expression(lbp(op))?;
                Ok(Self::pn(P::Binary(op, Box::new(left), Box::new(rhs)), pos))
            }
        }
    }
}

/// A token's text as the signature scanner concatenates it (`sig += tok.value`).
fn signature_text(v: &TokenValue) -> String {
    match v {
        TokenValue::Name(s) | TokenValue::Str(s) => s.clone(),
        TokenValue::Variable(s) => s.clone(),
        TokenValue::Number(n) => crate::number::js_number_to_string(*n),
        TokenValue::Bool(b) => b.to_string(),
        TokenValue::Null => "null".into(),
        TokenValue::Regex(r) => format!("/{}/{}", r.pattern, r.flags),
        TokenValue::Operator(o) => (*o).to_string(),
    }
}

fn raw_token(p: &P) -> String {
    match p {
        P::Name(s) | P::Variable(s) | P::Str(s) => json_string(s),
        P::Number(n) => crate::number::js_number_to_string(*n),
        P::Bool(b) => b.to_string(),
        P::Null => "null".into(),
        P::Operator(o) => json_string(o),
        _ => "undefined".into(),
    }
}

/// `[]` marks the innermost step of a chain of predicates to keep singleton arrays.
fn mark_keep_array(node: &mut PNode) {
    let mut step = node;
    while let P::Filter(lhs, _) = &mut step.p {
        step = lhs;
    }
    step.keep_array = true;
}

/// A parent slot: the label the evaluator binds the ancestor under, and how many steps up
/// it still has to climb.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub label: usize,
    level: i64,
}

struct Post {
    slots: Vec<Slot>,
    /// `ancestry[i]` is the slot created by the i-th `%`.
    ancestry: Vec<usize>,
    next_label: usize,
    depth: usize,
}

impl Post {
    fn err(code: &'static str, position: usize, token: Option<String>) -> ParseError {
        ParseError::with_fields(
            code,
            position,
            Fields {
                token,
                ..Fields::default()
            },
        )
    }

    fn seek_parent(&mut self, node: &mut Node, slot: usize) -> PResult<usize> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                self.slots[slot].level -= 1;
                if self.slots[slot].level == 0 {
                    if let Some(existing) = node.ancestor {
                        // Reuse the label of the step's existing ancestor.
                        let label = self.slots[existing].label;
                        let idx = self.ancestry[self.slot_index(slot)];
                        self.slots[idx].label = label;
                    }
                    node.ancestor = Some(slot);
                    node.tuple = true;
                }
                Ok(slot)
            }
            Kind::Parent(_) => {
                self.slots[slot].level += 1;
                Ok(slot)
            }
            Kind::Block(exprs) => {
                if let Some(last) = exprs.last_mut() {
                    node.tuple = true;
                    return self.seek_parent(last, slot);
                }
                Ok(slot)
            }
            Kind::Path { steps, .. } => {
                node.tuple = true;
                let mut index = steps.len() as isize - 1;
                let mut slot = self.seek_parent(&mut steps[index as usize], slot)?;
                index -= 1;
                while self.slots[slot].level > 0 && index >= 0 {
                    slot = self.seek_parent(&mut steps[index as usize], slot)?;
                    index -= 1;
                }
                Ok(slot)
            }
            _ => Err(Self::err(
                "S0217",
                node.position,
                Some(json_string(node.type_name())),
            )),
        }
    }

    /// The index of the `%` that created `slot` (slots and ancestry entries are created
    /// together, so they coincide).
    fn slot_index(&self, slot: usize) -> usize {
        slot
    }

    fn push_ancestry(result: &mut Node, value: &mut Node) {
        let mut slots = std::mem::take(&mut value.seeking_parent);
        if let Kind::Parent(slot) = value.kind {
            slots.push(slot);
        }
        result.seeking_parent.extend(slots);
    }

    fn resolve_ancestry(&mut self, path: &mut Node) -> PResult<()> {
        let Kind::Path { steps, .. } = &mut path.kind else {
            return Ok(());
        };
        let last = steps.len() - 1;
        let mut slots = std::mem::take(&mut steps[last].seeking_parent);
        if let Kind::Parent(slot) = steps[last].kind {
            slots.push(slot);
        }
        let mut seeking = Vec::new();
        for slot in slots {
            let mut slot = slot;
            let mut index = steps.len() as isize - 2;
            while self.slots[slot].level > 0 {
                if index < 0 {
                    seeking.push(slot);
                    break;
                }
                let mut i = index as usize;
                index -= 1;
                // Contiguous steps that bind the focus are skipped together.
                while index >= 0
                    && steps[i].focus.is_some()
                    && steps[index as usize].focus.is_some()
                {
                    i = index as usize;
                    index -= 1;
                }
                slot = self.seek_parent(&mut steps[i], slot)?;
            }
        }
        path.seeking_parent.extend(seeking);
        Ok(())
    }

    fn process(&mut self, expr: PNode) -> PResult<Node> {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.process_inner(expr))
    }

    // A port of jsonata.js's parser.js `processAST`, kept whole to compare with it.
    fn process_inner(&mut self, expr: PNode) -> PResult<Node> {
        self.depth += 1;
        if self.depth > MAX_PARSE_DEPTH * 2 {
            return Err(Self::err(
                "S0201",
                expr.position,
                Some(json_string("nesting too deep")),
            ));
        }
        let keep_array = expr.keep_array;
        let position = expr.position;
        let mut result = match expr.p {
            P::Binary(".", lhs, rhs) => {
                let lstep = self.process(*lhs)?;
                let mut result = if lstep.is_path() {
                    lstep
                } else {
                    let mut path = Node::new(
                        Kind::Path {
                            steps: Vec::new(),
                            keep_singleton_array: false,
                        },
                        position,
                    );
                    if let Kind::Parent(slot) = lstep.kind {
                        path.seeking_parent = vec![slot];
                    }
                    if let Kind::Path { steps, .. } = &mut path.kind {
                        steps.push(lstep);
                    }
                    path
                };
                let mut rest = self.process(*rhs)?;
                {
                    let Kind::Path { steps, .. } = &mut result.kind else {
                        unreachable!("result is a path")
                    };
                    if let Kind::Path {
                        steps: rest_steps, ..
                    } = &mut rest.kind
                    {
                        steps.append(rest_steps);
                    } else {
                        if !rest.predicate.is_empty() {
                            rest.stages = std::mem::take(&mut rest.predicate)
                                .into_iter()
                                .map(Stage::Filter)
                                .collect();
                        }
                        steps.push(rest);
                    }
                    for step in steps.iter_mut() {
                        match &step.kind {
                            Kind::Number(n) => {
                                return Err(ParseError::with_fields(
                                    "S0213",
                                    step.position,
                                    Fields {
                                        value: Some(crate::number::js_number_to_string(*n)),
                                        ..Fields::default()
                                    },
                                ));
                            }
                            Kind::Bool(b) => {
                                return Err(ParseError::with_fields(
                                    "S0213",
                                    step.position,
                                    Fields {
                                        value: Some(b.to_string()),
                                        ..Fields::default()
                                    },
                                ));
                            }
                            Kind::Null => {
                                return Err(ParseError::with_fields(
                                    "S0213",
                                    step.position,
                                    Fields {
                                        value: Some("null".into()),
                                        ..Fields::default()
                                    },
                                ));
                            }
                            Kind::String(s) => {
                                step.kind = Kind::Name(s.to_string());
                            }
                            _ => {}
                        }
                    }
                    let keep = steps.iter().any(|s| s.keep_array);
                    if let Some(first) = steps.first_mut()
                        && matches!(first.kind, Kind::Array(_))
                    {
                        first.consarray = true;
                    }
                    if let Some(last) = steps.last_mut()
                        && matches!(last.kind, Kind::Array(_))
                    {
                        last.consarray = true;
                    }
                    if keep
                        && let Kind::Path {
                            keep_singleton_array,
                            ..
                        } = &mut result.kind
                    {
                        *keep_singleton_array = true;
                    }
                }
                self.resolve_ancestry(&mut result)?;
                result
            }
            P::Filter(lhs, rhs) => {
                let mut result = self.process(*lhs)?;
                let is_path = result.is_path();
                let mut predicate = self.process(*rhs)?;
                let step: &mut Node = if let Kind::Path { steps, .. } = &mut result.kind {
                    steps.last_mut().expect("paths have steps")
                } else {
                    &mut result
                };
                if step.group.is_some() {
                    return Err(Self::err("S0209", position, None));
                }
                if !predicate.seeking_parent.is_empty() {
                    let seeking = predicate.seeking_parent.clone();
                    for slot in seeking {
                        if self.slots[slot].level == 1 {
                            self.seek_parent(step, slot)?;
                        } else {
                            self.slots[slot].level -= 1;
                        }
                    }
                    Self::push_ancestry(step, &mut predicate);
                }
                if is_path {
                    step.stages.push(Stage::Filter(predicate));
                } else {
                    step.predicate.push(predicate);
                }
                result
            }
            P::Group(lhs, pairs) => {
                let mut result = self.process(*lhs)?;
                if result.group.is_some() {
                    return Err(Self::err("S0210", position, None));
                }
                let mut processed = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    processed.push((self.process(k)?, self.process(v)?));
                }
                result.group = Some(Box::new(Group {
                    pairs: processed,
                    position,
                }));
                result
            }
            P::Sort(lhs, terms) => {
                let mut result = self.process(*lhs)?;
                if !result.is_path() {
                    let mut path = Node::new(
                        Kind::Path {
                            steps: Vec::new(),
                            keep_singleton_array: false,
                        },
                        position,
                    );
                    if let Kind::Path { steps, .. } = &mut path.kind {
                        steps.push(result);
                    }
                    result = path;
                }
                let mut sort_step = Node::new(Kind::Sort(Vec::new()), position);
                let mut sort_terms = Vec::with_capacity(terms.len());
                for (descending, e) in terms {
                    let mut expression = self.process(e)?;
                    Self::push_ancestry(&mut sort_step, &mut expression);
                    sort_terms.push(SortTerm {
                        descending,
                        expression,
                    });
                }
                sort_step.kind = Kind::Sort(sort_terms);
                if let Kind::Path { steps, .. } = &mut result.kind {
                    steps.push(sort_step);
                }
                self.resolve_ancestry(&mut result)?;
                result
            }
            P::Bind(lhs, rhs) => {
                let P::Variable(name) = lhs.p else {
                    unreachable!("checked by the parser")
                };
                let mut value = self.process(*rhs)?;
                let mut result = Node::new(
                    Kind::Bind {
                        name,
                        value: Box::new(Node::new(Kind::Null, 0)),
                    },
                    position,
                );
                Self::push_ancestry(&mut result, &mut value);
                if let Kind::Bind { value: slot, .. } = &mut result.kind {
                    **slot = value;
                }
                result
            }
            P::Focus(lhs, rhs) => {
                let mut result = self.process(*lhs)?;
                let P::Variable(name) = rhs.p else {
                    unreachable!("checked by the parser")
                };
                let step: &mut Node = if let Kind::Path { steps, .. } = &mut result.kind {
                    steps.last_mut().expect("paths have steps")
                } else {
                    &mut result
                };
                if !step.stages.is_empty() || !step.predicate.is_empty() {
                    return Err(Self::err("S0215", position, None));
                }
                if matches!(step.kind, Kind::Sort(_)) {
                    return Err(Self::err("S0216", position, None));
                }
                if keep_array {
                    step.keep_array = true;
                }
                step.focus = Some(name);
                step.tuple = true;
                result
            }
            P::Index(lhs, rhs) => {
                let mut result = self.process(*lhs)?;
                let P::Variable(name) = rhs.p else {
                    unreachable!("checked by the parser")
                };
                if !result.is_path() {
                    let mut step = result;
                    if !step.predicate.is_empty() {
                        step.stages = std::mem::take(&mut step.predicate)
                            .into_iter()
                            .map(Stage::Filter)
                            .collect();
                    }
                    let mut path = Node::new(
                        Kind::Path {
                            steps: Vec::new(),
                            keep_singleton_array: false,
                        },
                        position,
                    );
                    if let Kind::Path { steps, .. } = &mut path.kind {
                        steps.push(step);
                    }
                    result = path;
                }
                let Kind::Path { steps, .. } = &mut result.kind else {
                    unreachable!("made a path above")
                };
                let step = steps.last_mut().expect("paths have steps");
                if step.stages.is_empty() {
                    step.index = Some(name);
                } else {
                    step.stages.push(Stage::Index(name));
                }
                step.tuple = true;
                result
            }
            P::Apply(lhs, rhs) => {
                let lhs = self.process(*lhs)?;
                let rhs = self.process(*rhs)?;
                let keep = lhs.keep_array || rhs.keep_array;
                let mut result = Node::new(
                    Kind::Apply {
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    position,
                );
                result.keep_array = keep;
                result
            }
            P::Binary(op, lhs, rhs) => {
                let mut lhs = self.process(*lhs)?;
                let mut rhs = self.process(*rhs)?;
                let op = BinOp::from_symbol(op)
                    .ok_or_else(|| Self::err("S0201", position, Some(json_string(op))))?;
                let mut result = Node::new(Kind::Null, position);
                Self::push_ancestry(&mut result, &mut lhs);
                Self::push_ancestry(&mut result, &mut rhs);
                result.kind = Kind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                };
                result
            }
            P::Array(items) => {
                let mut result = Node::new(Kind::Null, position);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let mut value = self.process(item)?;
                    Self::push_ancestry(&mut result, &mut value);
                    out.push(value);
                }
                result.kind = Kind::Array(out);
                result
            }
            P::Object(pairs) => {
                let mut result = Node::new(Kind::Null, position);
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let mut key = self.process(k)?;
                    Self::push_ancestry(&mut result, &mut key);
                    let mut value = self.process(v)?;
                    Self::push_ancestry(&mut result, &mut value);
                    out.push((key, value));
                }
                result.kind = Kind::Object(out);
                result
            }
            P::Negate(e) => {
                let mut expression = self.process(*e)?;
                if let Kind::Number(n) = expression.kind {
                    expression.kind = Kind::Number(-n);
                    expression
                } else {
                    let mut result = Node::new(Kind::Null, position);
                    Self::push_ancestry(&mut result, &mut expression);
                    result.kind = Kind::Negate(Box::new(expression));
                    result
                }
            }
            P::Function {
                procedure,
                arguments,
                partial,
            } => {
                let mut result = Node::new(Kind::Null, position);
                let mut args = Vec::with_capacity(arguments.len());
                for arg in arguments {
                    let mut a = self.process(arg)?;
                    Self::push_ancestry(&mut result, &mut a);
                    args.push(a);
                }
                let procedure = Box::new(self.process(*procedure)?);
                result.kind = if partial {
                    Kind::Partial {
                        procedure,
                        arguments: args,
                    }
                } else {
                    Kind::Function {
                        procedure,
                        arguments: args,
                    }
                };
                result
            }
            P::Lambda {
                arguments,
                signature,
                body,
            } => {
                let params = arguments
                    .into_iter()
                    .map(|a| match a.p {
                        P::Variable(n) => n,
                        _ => String::new(),
                    })
                    .collect();
                let body = self.process(*body)?;
                let body = tail_call_optimize(body);
                Node::new(
                    Kind::Lambda(Arc::new(Lambda {
                        params,
                        signature,
                        body,
                        thunk: false,
                    })),
                    position,
                )
            }
            P::Condition(c, t, e) => {
                let mut result = Node::new(Kind::Null, position);
                let mut condition = self.process(*c)?;
                Self::push_ancestry(&mut result, &mut condition);
                let mut then = self.process(*t)?;
                Self::push_ancestry(&mut result, &mut then);
                let otherwise = match e {
                    Some(e) => {
                        let mut e = self.process(*e)?;
                        Self::push_ancestry(&mut result, &mut e);
                        Some(Box::new(e))
                    }
                    None => None,
                };
                result.kind = Kind::Condition {
                    condition: Box::new(condition),
                    then: Box::new(then),
                    otherwise,
                };
                result
            }
            P::Transform(pattern, update, delete) => {
                let pattern = Box::new(self.process(*pattern)?);
                let update = Box::new(self.process(*update)?);
                let delete = match delete {
                    Some(d) => Some(Box::new(self.process(*d)?)),
                    None => None,
                };
                Node::new(
                    Kind::Transform {
                        pattern,
                        update,
                        delete,
                    },
                    position,
                )
            }
            P::Block(items) => {
                let mut result = Node::new(Kind::Null, position);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let mut part = self.process(item)?;
                    Self::push_ancestry(&mut result, &mut part);
                    let cons = part.consarray
                        || matches!(&part.kind, Kind::Path { steps, .. } if steps.first().is_some_and(|s| s.consarray));
                    if cons {
                        result.consarray = true;
                    }
                    out.push(part);
                }
                result.kind = Kind::Block(out);
                result
            }
            P::Name(name) => {
                let mut step = Node::new(Kind::Name(name), position);
                step.keep_array = keep_array;
                let mut path = Node::new(
                    Kind::Path {
                        steps: vec![step],
                        keep_singleton_array: keep_array,
                    },
                    position,
                );
                path.keep_array = keep_array;
                return self.done(path);
            }
            P::Parent => {
                let label = self.next_label;
                self.next_label += 1;
                let slot = self.slots.len();
                self.slots.push(Slot { label, level: 1 });
                self.ancestry.push(slot);
                Node::new(Kind::Parent(slot), position)
            }
            P::Str(s) => Node::new(Kind::String(Arc::from(s)), position),
            P::Number(n) => Node::new(Kind::Number(n), position),
            P::Bool(b) => Node::new(Kind::Bool(b), position),
            P::Null => Node::new(Kind::Null, position),
            P::Wildcard => Node::new(Kind::Wildcard, position),
            P::Descendant => Node::new(Kind::Descendant, position),
            P::Variable(v) => Node::new(Kind::Variable(v), position),
            P::Regex(r) => {
                let re = JsRegex::new(&r.pattern, &r.flags).map_err(|message| {
                    ParseError::with_fields(
                        "S0303",
                        position,
                        Fields {
                            message: Some(message),
                            ..Fields::default()
                        },
                    )
                })?;
                Node::new(Kind::Regex(Arc::new(re)), position)
            }
            P::Operator(op) => {
                if op == "and" || op == "or" || op == "in" {
                    let mut step = Node::new(Kind::Name(op.to_string()), position);
                    step.keep_array = keep_array;
                    let mut path = Node::new(
                        Kind::Path {
                            steps: vec![step],
                            keep_singleton_array: keep_array,
                        },
                        position,
                    );
                    path.keep_array = keep_array;
                    return self.done(path);
                } else if op == "?" {
                    Node::new(Kind::Placeholder, position)
                } else {
                    return Err(Self::err("S0201", position, Some(json_string(op))));
                }
            }
            P::End => return Err(Self::err("S0207", position, Some(json_string("(end)")))),
        };
        if keep_array {
            result.keep_array = true;
        }
        self.done(result)
    }

    fn done(&mut self, node: Node) -> PResult<Node> {
        self.depth -= 1;
        Ok(node)
    }
}

/// Wraps a tail call in a thunk lambda so that `apply`'s trampoline runs it without growing
/// the stack (jsonata's `tailCallOptimize`).
fn tail_call_optimize(mut expr: Node) -> Node {
    match &mut expr.kind {
        Kind::Function { .. } if expr.predicate.is_empty() => {
            let position = expr.position;
            Node::new(
                Kind::Lambda(Arc::new(Lambda {
                    params: Vec::new(),
                    signature: None,
                    body: expr,
                    thunk: true,
                })),
                position,
            )
        }
        Kind::Condition {
            then, otherwise, ..
        } => {
            let t = std::mem::replace(then.as_mut(), Node::new(Kind::Null, 0));
            **then = tail_call_optimize(t);
            if let Some(o) = otherwise {
                let e = std::mem::replace(o.as_mut(), Node::new(Kind::Null, 0));
                **o = tail_call_optimize(e);
            }
            expr
        }
        Kind::Block(exprs) => {
            if let Some(last) = exprs.pop() {
                exprs.push(tail_call_optimize(last));
            }
            expr
        }
        _ => expr,
    }
}

/// A parsed expression: the processed tree and the labels of its parent slots.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub root: Node,
    pub slots: Vec<Slot>,
}

pub(crate) fn parse(source: &str) -> Result<Parsed, ParseError> {
    let lexer = Lexer::new(source);
    let source_len = lexer.len();
    let mut parser = Parser {
        lexer,
        node: Cur {
            id: "(end)",
            value: TokenValue::Operator("(end)"),
            position: 0,
        },
        source_len,
        depth: 0,
    };
    parser.advance(None, false)?;
    let expr = parser.expression(0)?;
    if parser.node.id != "(end)" {
        return Err(parser.error("S0201", parser.node.position, &parser.node.value.clone()));
    }
    let mut post = Post {
        slots: Vec::new(),
        ancestry: Vec::new(),
        next_label: 0,
        depth: 0,
    };
    let root = post.process(expr)?;
    if matches!(root.kind, Kind::Parent(_)) || !root.seeking_parent.is_empty() {
        return Err(Post::err(
            "S0217",
            root.position,
            Some(json_string(root.type_name())),
        ));
    }
    Ok(Parsed {
        root,
        slots: post.slots,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ok!(text)`: parses; `err!(text, code)`: fails with that code.
    macro_rules! ok {
        ($src:expr) => {
            if let Err(e) = parse($src) {
                panic!("{}: {e}", $src);
            }
        };
    }
    macro_rules! err {
        ($src:expr, $code:expr) => {
            match parse($src) {
                Ok(_) => panic!("{} parsed", $src),
                Err(e) => assert_eq!(e.code(), $code, "{}: {e}", $src),
            }
        };
    }

    #[test]
    fn parses_the_language() {
        ok!("a.b.c");
        ok!("a[0].b[c > 1]");
        ok!("$sum(a.b) + 1");
        ok!("function($x, $y){ $x + $y }(1, 2)");
        ok!("λ($x)<n:n>{ $x }");
        ok!("a{b: c}");
        ok!("a^(>b, <c)");
        ok!("a@$x.b#$i");
        ok!("a.b.%.c");
        ok!("| a | {'b': 1}, ['c'] |");
        ok!("($x := 1; $y := 2; $x + $y)");
        ok!("[1..5]");
        ok!("$substring(?, 1)");
        ok!("/ab+c/i");
        ok!("a ~> $uppercase");
        ok!("`weird name`.and.or.in");
        ok!("x ? y : z");
        ok!("a[]");
        ok!("/* comment */ 1");
    }

    #[test]
    fn reports_jsonata_codes() {
        err!("1 +", "S0207");
        err!("(1", "S0203");
        err!("[1 2]", "S0202");
        err!("a ! b", "S0204");
        err!("function(a){1}", "S0208");
        err!("(a){b:c}[0]", "S0209");
        err!("a{b:c}{d:e}", "S0210");
        err!("+1", "S0211");
        err!("1 := 2", "S0212");
        err!("a.1", "S0213");
        err!("a@b", "S0214");
        err!("a[0]@$x", "S0215");
        err!("a^(b)@$x", "S0216");
        err!("%", "S0217");
        err!("1)", "S0201");
        err!("function($x)<x<s>>{1}", "S0401");
    }

    #[test]
    fn bounds_nesting() {
        let deep = "(".repeat(100_000);
        err!(&deep, "S0201");
        let deep = "-".repeat(100_000) + "1";
        err!(&deep, "S0201");
    }
}
