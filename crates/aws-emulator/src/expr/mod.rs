//! DynamoDB expressions: parse ([`parse`]), check against the request ([`Resolver`]), then
//! evaluate against items ([`eval`]).
//!
//! Checking follows DynamoDB's order: syntax first, then each expression's names, placeholders,
//! functions and literal operand types, and finally, once every expression of the request is
//! resolved, placeholders that no expression used ([`Resolver::finish`]).

pub(crate) mod eval;
pub(crate) mod parse;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::error::StoreError;
use crate::reserved::is_reserved;
use crate::value::{AttrValue, json_kind};
use parse::{Clause, CmpOp, Condition, Name, Operand, Path, PathElem, SetValue};

/// Most values DynamoDB accepts on the right of IN.
const MAX_IN_OPERANDS: usize = 100;
/// Type names `attribute_type` accepts.
const TYPE_NAMES: [&str; 10] = ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];

/// One step of a resolved document path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Elem {
    Key(String),
    Index(usize),
}

/// A resolved document path: placeholders replaced by names.
pub(crate) type DocPath = Vec<Elem>;

/// A resolved condition operand.
#[derive(Clone, Debug)]
pub(crate) enum Opd {
    Path(DocPath),
    Value(AttrValue),
    Size(DocPath),
}

/// A resolved condition.
#[derive(Clone, Debug)]
pub(crate) enum Cond {
    Cmp(Opd, CmpOp, Opd),
    Between(Opd, Opd, Opd),
    In(Opd, Vec<Opd>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Exists(DocPath),
    NotExists(DocPath),
    IsType(DocPath, String),
    BeginsWith(Opd, Opd),
    Contains(Opd, Opd),
}

/// A resolved update operand.
#[derive(Clone, Debug)]
pub(crate) enum UpdOpd {
    Path(DocPath),
    Value(AttrValue),
    IfNotExists(DocPath, Box<UpdOpd>),
    ListAppend(Box<UpdOpd>, Box<UpdOpd>),
}

/// A resolved SET right-hand side.
#[derive(Clone, Debug)]
pub(crate) enum SetRhs {
    Single(UpdOpd),
    Plus(UpdOpd, UpdOpd),
    Minus(UpdOpd, UpdOpd),
}

/// A resolved update expression.
#[derive(Clone, Debug, Default)]
pub(crate) struct Update {
    pub(crate) set: Vec<(DocPath, SetRhs)>,
    pub(crate) remove: Vec<DocPath>,
    pub(crate) add: Vec<(DocPath, AttrValue)>,
    pub(crate) delete: Vec<(DocPath, AttrValue)>,
}

impl Update {
    /// Every path the update writes, for UPDATED_OLD / UPDATED_NEW.
    pub(crate) fn targets(&self) -> Vec<DocPath> {
        self.set
            .iter()
            .map(|(p, _)| p.clone())
            .chain(self.remove.iter().cloned())
            .chain(self.add.iter().map(|(p, _)| p.clone()))
            .chain(self.delete.iter().map(|(p, _)| p.clone()))
            .collect()
    }
}

/// Which expression parameter is being checked; prefixes DynamoDB's messages.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Condition,
    Update,
    Projection,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Condition => "Invalid ConditionExpression",
            Self::Update => "Invalid UpdateExpression",
            Self::Projection => "Invalid ProjectionExpression",
        }
    }
}

/// Resolves the expressions of one request against its `ExpressionAttributeNames` and
/// `ExpressionAttributeValues`, remembering which placeholders were used.
pub(crate) struct Resolver {
    names: HashMap<String, String>,
    values: HashMap<String, AttrValue>,
    used_names: HashSet<String>,
    used_values: HashSet<String>,
    any_expression: bool,
    values_given: bool,
    names_given: bool,
}

impl Resolver {
    /// Reads the placeholder maps from the request (either may be absent).
    pub(crate) fn new(names: Option<&Value>, values: Option<&Value>) -> Result<Self, StoreError> {
        let mut resolver = Self {
            names: HashMap::new(),
            values: HashMap::new(),
            used_names: HashSet::new(),
            used_values: HashSet::new(),
            any_expression: false,
            values_given: values.is_some(),
            names_given: names.is_some(),
        };
        if let Some(names) = names {
            let Value::Object(map) = names else {
                return Err(StoreError::validation(format!(
                    "ExpressionAttributeNames must be an object of \"#name\": \"attribute\", found {}",
                    json_kind(names)
                )));
            };
            if map.is_empty() {
                return Err(StoreError::validation(
                    "ExpressionAttributeNames must not be empty",
                ));
            }
            for (key, value) in map {
                let Some(name) = value.as_str() else {
                    return Err(StoreError::validation(format!(
                        "ExpressionAttributeNames contains invalid value for key {key}: expected a string, found {}",
                        json_kind(value)
                    )));
                };
                if !is_placeholder(key, '#') {
                    return Err(StoreError::validation(format!(
                        "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{key}\""
                    )));
                }
                if name.is_empty() {
                    return Err(StoreError::validation(format!(
                        "ExpressionAttributeNames contains invalid value: Empty attribute name for key {key}"
                    )));
                }
                resolver.names.insert(key.clone(), name.to_owned());
            }
        }
        if let Some(values) = values {
            let Value::Object(map) = values else {
                return Err(StoreError::validation(format!(
                    "ExpressionAttributeValues must be an object of \":name\": AttributeValue, found {}",
                    json_kind(values)
                )));
            };
            if map.is_empty() {
                return Err(StoreError::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            for (key, value) in map {
                if !is_placeholder(key, ':') {
                    return Err(StoreError::validation(format!(
                        "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{key}\""
                    )));
                }
                let parsed =
                    AttrValue::from_json(value, &format!("ExpressionAttributeValues.{key}"))
                        .map_err(|e| {
                            StoreError::validation(format!(
                                "ExpressionAttributeValues contains invalid value: {e}"
                            ))
                        })?;
                resolver.values.insert(key.clone(), parsed);
            }
        }
        Ok(resolver)
    }

    /// Parses and resolves a ConditionExpression.
    pub(crate) fn condition(&mut self, text: &str) -> Result<Cond, StoreError> {
        self.any_expression = true;
        let kind = Kind::Condition;
        let ast = parse::condition(text).map_err(|e| invalid(kind, e.message(text)))?;
        self.cond(&ast).map_err(|m| invalid(kind, m))
    }

    /// Parses and resolves an UpdateExpression; `keys` are the table's key attribute names,
    /// which an update may not touch.
    pub(crate) fn update(&mut self, text: &str, keys: &[&str]) -> Result<Update, StoreError> {
        self.any_expression = true;
        let kind = Kind::Update;
        let clauses = parse::update(text).map_err(|e| invalid(kind, e.message(text)))?;
        let update = self
            .update_clauses(&clauses)
            .map_err(|m| invalid(kind, m))?;
        let targets = update.targets();
        check_overlaps(&targets).map_err(|m| invalid(kind, m))?;
        for target in &targets {
            if let Some(Elem::Key(first)) = target.first() {
                if keys.contains(&first.as_str()) {
                    return Err(StoreError::validation(format!(
                        "One or more parameter values were invalid: Cannot update attribute {first}. This attribute is part of the key"
                    )));
                }
            }
        }
        Ok(update)
    }

    /// Parses and resolves a ProjectionExpression.
    pub(crate) fn projection(&mut self, text: &str) -> Result<Vec<DocPath>, StoreError> {
        self.any_expression = true;
        let kind = Kind::Projection;
        let paths = parse::projection(text).map_err(|e| invalid(kind, e.message(text)))?;
        let resolved = paths
            .iter()
            .map(|p| self.path(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| invalid(kind, m))?;
        check_overlaps(&resolved).map_err(|m| invalid(kind, m))?;
        Ok(resolved)
    }

    /// Checks for placeholder maps given without expressions and placeholders never used.
    pub(crate) fn finish(self) -> Result<(), StoreError> {
        if !self.any_expression {
            if self.values_given {
                return Err(StoreError::validation(
                    "ExpressionAttributeValues can only be specified when using expressions",
                ));
            }
            if self.names_given {
                return Err(StoreError::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
        }
        fn unused<'a, V>(all: &'a HashMap<String, V>, used: &HashSet<String>) -> Vec<&'a str> {
            let mut left: Vec<&str> = all
                .keys()
                .filter(|k| !used.contains(*k))
                .map(String::as_str)
                .collect();
            left.sort_unstable();
            left
        }
        let names = unused(&self.names, &self.used_names);
        if !names.is_empty() {
            return Err(StoreError::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            )));
        }
        let values = unused(&self.values, &self.used_values);
        if !values.is_empty() {
            return Err(StoreError::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            )));
        }
        Ok(())
    }

    fn name(&mut self, name: &Name) -> Result<String, String> {
        match name {
            Name::Plain(plain) => {
                if is_reserved(plain) {
                    return Err(format!(
                        "Attribute name is a reserved keyword; reserved keyword: {plain}"
                    ));
                }
                Ok(plain.clone())
            }
            Name::Placeholder(key) => {
                let Some(resolved) = self.names.get(key) else {
                    return Err(format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {key}"
                    ));
                };
                self.used_names.insert(key.clone());
                Ok(resolved.clone())
            }
        }
    }

    fn path(&mut self, path: &Path) -> Result<DocPath, String> {
        path.elems
            .iter()
            .map(|e| match e {
                PathElem::Name(n) => self.name(n).map(Elem::Key),
                PathElem::Index(i) => Ok(Elem::Index(*i)),
            })
            .collect()
    }

    fn value(&mut self, key: &str) -> Result<AttrValue, String> {
        let Some(value) = self.values.get(key) else {
            return Err(format!(
                "An expression attribute value used in expression is not defined; attribute value: {key}"
            ));
        };
        self.used_values.insert(key.to_owned());
        Ok(value.clone())
    }

    fn cond(&mut self, c: &Condition) -> Result<Cond, String> {
        Ok(match c {
            Condition::Cmp(a, op, b) => {
                let (a, b) = (self.opd(a)?, self.opd(b)?);
                if *op != CmpOp::Eq && *op != CmpOp::Ne {
                    for side in [&a, &b] {
                        if let Opd::Value(v) = side {
                            if !v.is_ordered() {
                                return Err(wrong_operand(op.symbol(), v));
                            }
                        }
                    }
                }
                Cond::Cmp(a, *op, b)
            }
            Condition::Between(x, low, high) => {
                let (x, low, high) = (self.opd(x)?, self.opd(low)?, self.opd(high)?);
                for side in [&x, &low, &high] {
                    if let Opd::Value(v) = side {
                        if !v.is_ordered() {
                            return Err(wrong_operand("BETWEEN", v));
                        }
                    }
                }
                if let (Opd::Value(l), Opd::Value(h)) = (&low, &high) {
                    let shown = |v: &AttrValue| v.to_json().to_string();
                    match eval::order(l, h) {
                        None => {
                            return Err(format!(
                                "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                                shown(l),
                                shown(h)
                            ));
                        }
                        Some(std::cmp::Ordering::Greater) => {
                            return Err(format!(
                                "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                                shown(l),
                                shown(h)
                            ));
                        }
                        Some(_) => {}
                    }
                }
                Cond::Between(x, low, high)
            }
            Condition::In(x, list) => {
                if list.len() > MAX_IN_OPERANDS {
                    return Err(format!(
                        "The IN operator is provided with too many operands; number of operands: {}",
                        list.len()
                    ));
                }
                Cond::In(
                    self.opd(x)?,
                    list.iter().map(|o| self.opd(o)).collect::<Result<_, _>>()?,
                )
            }
            Condition::And(a, b) => Cond::And(Box::new(self.cond(a)?), Box::new(self.cond(b)?)),
            Condition::Or(a, b) => Cond::Or(Box::new(self.cond(a)?), Box::new(self.cond(b)?)),
            Condition::Not(a) => Cond::Not(Box::new(self.cond(a)?)),
            Condition::Call(name, args) => self.cond_call(name, args)?,
        })
    }

    fn cond_call(&mut self, name: &str, args: &[Operand]) -> Result<Cond, String> {
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                    args.len()
                ))
            }
        };
        match name {
            "attribute_exists" | "attribute_not_exists" => {
                arity(1)?;
                let path = self.path_arg(name, args.first())?;
                Ok(if name == "attribute_exists" {
                    Cond::Exists(path)
                } else {
                    Cond::NotExists(path)
                })
            }
            "attribute_type" => {
                arity(2)?;
                let path = self.path_arg(name, args.first())?;
                let type_name = match args.get(1).map(|a| self.opd(a)).transpose()? {
                    Some(Opd::Value(AttrValue::S(t))) => {
                        if !TYPE_NAMES.contains(&t.as_str()) {
                            return Err(format!(
                                "Invalid attribute type name found; type: {t}, access path: {}",
                                show_path(&path)
                            ));
                        }
                        t
                    }
                    Some(Opd::Value(other)) => return Err(wrong_operand(name, &other)),
                    _ => {
                        return Err(format!(
                            "Operator or function requires a value operand; operator or function: {name}"
                        ));
                    }
                };
                Ok(Cond::IsType(path, type_name))
            }
            "begins_with" | "contains" => {
                arity(2)?;
                let (a, b) = match args {
                    [a, b] => (self.opd(a)?, self.opd(b)?),
                    _ => {
                        return Err(format!(
                            "Incorrect number of operands for operator or function; operator or function: {name}"
                        ));
                    }
                };
                if name == "begins_with" {
                    for side in [&a, &b] {
                        if let Opd::Value(v) = side {
                            if !matches!(v, AttrValue::S(_) | AttrValue::B(_)) {
                                return Err(wrong_operand(name, v));
                            }
                        }
                    }
                    Ok(Cond::BeginsWith(a, b))
                } else {
                    Ok(Cond::Contains(a, b))
                }
            }
            "size" => Err(format!(
                "The function is not allowed to be used this way in an expression; function: {name}"
            )),
            "if_not_exists" | "list_append" => Err(format!(
                "The function is not allowed in a condition expression; function: {name}"
            )),
            _ => Err(format!("Invalid function name; function: {name}")),
        }
    }

    fn path_arg(&mut self, function: &str, arg: Option<&Operand>) -> Result<DocPath, String> {
        match arg {
            Some(Operand::Path(p)) => self.path(p),
            _ => Err(format!(
                "Operator or function requires a document path; operator or function: {function}"
            )),
        }
    }

    fn opd(&mut self, o: &Operand) -> Result<Opd, String> {
        Ok(match o {
            Operand::Path(p) => Opd::Path(self.path(p)?),
            Operand::Value(v) => Opd::Value(self.value(v)?),
            Operand::Call(name, args) => match name.as_str() {
                "size" => {
                    if args.len() != 1 {
                        return Err(format!(
                            "Incorrect number of operands for operator or function; operator or function: size, number of operands: {}",
                            args.len()
                        ));
                    }
                    Opd::Size(self.path_arg("size", args.first())?)
                }
                "attribute_exists"
                | "attribute_not_exists"
                | "attribute_type"
                | "begins_with"
                | "contains" => {
                    return Err(format!(
                        "The function is not allowed to be used this way in an expression; function: {name}"
                    ));
                }
                "if_not_exists" | "list_append" => {
                    return Err(format!(
                        "The function is not allowed in a condition expression; function: {name}"
                    ));
                }
                _ => return Err(format!("Invalid function name; function: {name}")),
            },
        })
    }

    fn update_clauses(&mut self, clauses: &[Clause]) -> Result<Update, String> {
        let mut update = Update::default();
        let mut seen = HashSet::new();
        for clause in clauses {
            if !seen.insert(clause.keyword()) {
                return Err(format!(
                    "The \"{}\" section can only be used once in an update expression;",
                    clause.keyword()
                ));
            }
            match clause {
                Clause::Set(actions) => {
                    for (path, value) in actions {
                        let target = self.path(path)?;
                        let rhs = match value {
                            SetValue::Single(o) => SetRhs::Single(self.upd(o)?),
                            SetValue::Plus(a, b) => {
                                SetRhs::Plus(self.arith(a, "+")?, self.arith(b, "+")?)
                            }
                            SetValue::Minus(a, b) => {
                                SetRhs::Minus(self.arith(a, "-")?, self.arith(b, "-")?)
                            }
                        };
                        update.set.push((target, rhs));
                    }
                }
                Clause::Remove(paths) => {
                    for path in paths {
                        update.remove.push(self.path(path)?);
                    }
                }
                Clause::Add(actions) => {
                    for (path, value) in actions {
                        let target = self.path(path)?;
                        let value = self.literal(value, "ADD")?;
                        if !matches!(value, AttrValue::N(_)) && !value.is_set() {
                            return Err(format!(
                                "Incorrect operand type for operator or function; operator: ADD, operand type: {}",
                                value.long_type_name()
                            ));
                        }
                        update.add.push((target, value));
                    }
                }
                Clause::Delete(actions) => {
                    for (path, value) in actions {
                        let target = self.path(path)?;
                        let value = self.literal(value, "DELETE")?;
                        if !value.is_set() {
                            return Err(format!(
                                "Incorrect operand type for operator or function; operator: DELETE, operand type: {}",
                                value.long_type_name()
                            ));
                        }
                        update.delete.push((target, value));
                    }
                }
            }
        }
        Ok(update)
    }

    /// The operand of ADD or DELETE, which must be a `:value`.
    fn literal(&mut self, operand: &Operand, action: &str) -> Result<AttrValue, String> {
        match operand {
            Operand::Value(v) => self.value(v),
            _ => Err(format!(
                "Syntax error; {action} requires a :value operand after the path"
            )),
        }
    }

    /// An operand of `+` or `-`, whose literal must be a number.
    fn arith(&mut self, o: &Operand, symbol: &str) -> Result<UpdOpd, String> {
        let resolved = self.upd(o)?;
        if let UpdOpd::Value(v) = &resolved {
            if !matches!(v, AttrValue::N(_)) {
                return Err(wrong_operand(symbol, v));
            }
        }
        Ok(resolved)
    }

    fn upd(&mut self, o: &Operand) -> Result<UpdOpd, String> {
        Ok(match o {
            Operand::Path(p) => UpdOpd::Path(self.path(p)?),
            Operand::Value(v) => UpdOpd::Value(self.value(v)?),
            Operand::Call(name, args) => match (name.as_str(), args.as_slice()) {
                ("if_not_exists", [Operand::Path(p), fallback]) => {
                    UpdOpd::IfNotExists(self.path(p)?, Box::new(self.upd(fallback)?))
                }
                ("if_not_exists", [_, _]) => {
                    return Err("Operator or function requires a document path; operator or function: if_not_exists".into());
                }
                ("list_append", [a, b]) => {
                    let (a, b) = (self.upd(a)?, self.upd(b)?);
                    for side in [&a, &b] {
                        if let UpdOpd::Value(v) = side {
                            if !matches!(v, AttrValue::L(_)) {
                                return Err(wrong_operand("list_append", v));
                            }
                        }
                    }
                    UpdOpd::ListAppend(Box::new(a), Box::new(b))
                }
                ("if_not_exists" | "list_append", _) => {
                    return Err(format!(
                        "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                        args.len()
                    ));
                }
                (
                    "attribute_exists"
                    | "attribute_not_exists"
                    | "attribute_type"
                    | "begins_with"
                    | "contains"
                    | "size",
                    _,
                ) => {
                    return Err(format!(
                        "The function is not allowed in an update expression; function: {name}"
                    ));
                }
                _ => return Err(format!("Invalid function name; function: {name}")),
            },
        })
    }
}

fn invalid(kind: Kind, message: String) -> StoreError {
    StoreError::validation(format!("{}: {message}", kind.prefix()))
}

fn wrong_operand(function: &str, value: &AttrValue) -> String {
    format!(
        "Incorrect operand type for operator or function; operator or function: {function}, operand type: {}",
        value.type_name()
    )
}

fn is_placeholder(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil).is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// A path as DynamoDB prints it in messages: `[a, b, [0]]`.
pub(crate) fn show_path(path: &[Elem]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|e| match e {
            Elem::Key(k) => k.clone(),
            Elem::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Rejects two paths where one is a prefix of (or equal to) the other.
fn check_overlaps(paths: &[DocPath]) -> Result<(), String> {
    for (i, a) in paths.iter().enumerate() {
        for b in paths.iter().skip(i + 1) {
            if a.iter().zip(b).all(|(x, y)| x == y) {
                let what = if a.len() == b.len() {
                    "conflict"
                } else {
                    "overlap"
                };
                return Err(format!(
                    "Two document paths {what} with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                    show_path(a),
                    show_path(b)
                ));
            }
        }
    }
    Ok(())
}
