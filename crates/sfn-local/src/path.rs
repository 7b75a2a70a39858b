//! JSONPath as Step Functions evaluates it in the JSONPath query language.
//!
//! Step Functions evaluates `InputPath`, `OutputPath`, `ItemsPath`, the `.$` fields of payload
//! templates, Choice `Variable`s and intrinsic-function arguments with Jayway JsonPath. A
//! [`Path`] is parsed once, when the definition is loaded, and evaluated many times without
//! re-reading its text.
//!
//! ```
//! use serde_json::json;
//! use sfn_local::path::Path;
//!
//! let input = json!({"order": {"items": [{"price": 7}, {"price": 12}]}});
//! let context = json!({"Execution": {"Name": "run-1"}});
//!
//! let price = Path::parse("$.order.items[0].price").unwrap();
//! assert_eq!(price.eval(&input, &context).unwrap(), json!(7));
//!
//! // Wildcards, slices, filters and `..` give every match as an array.
//! let cheap = Path::parse("$.order.items[?(@.price < 10)].price").unwrap();
//! assert_eq!(cheap.eval(&input, &context).unwrap(), json!([7]));
//!
//! // `$$` reads the context object.
//! let name = Path::parse("$$.Execution.Name").unwrap();
//! assert_eq!(name.eval(&input, &context).unwrap(), json!("run-1"));
//!
//! // ResultPath writes, creating missing objects on the way.
//! let mut doc = json!({"order": {}});
//! Path::parse("$.result.total").unwrap().set(&mut doc, json!(19)).unwrap();
//! assert_eq!(doc, json!({"order": {}, "result": {"total": 19}}));
//! ```
//!
//! # Semantics
//!
//! A *definite* path (names, single indexes, and a multi-name bracket as the last step) yields
//! one value, and fails with [`PathError::NotFound`] when nothing is there; Step Functions
//! reports that as `States.Runtime`. Every other path is *indefinite* and yields a JSON array
//! of its matches; missing data on the way is skipped, so no match gives `[]` (the conformance
//! corpus records `$.items[1:].itemValue` on `{}` as `[]`).
//!
//! # Where this differs from RFC 9535
//!
//! The behaviour follows Jayway, which AWS runs, rather than the later JSONPath RFC:
//!
//! - A filter applied to an object tests the object itself (`$.book[?(@.price)]` on an object
//!   yields the object when it has a price); RFC 9535 tests each member value.
//! - Bracket names are taken verbatim: a backslash only keeps the next character from closing
//!   the name and stays part of it. AWS resolves `$['Test\""Name"']` to the key
//!   `Test\""Name"`; RFC 9535 would unescape it.
//! - Dot names accept any character but `.`, `[`, `(` and whitespace (`$.delivery-partner`),
//!   where RFC 9535 limits the shorthand to identifier characters.
//! - `==` between a number and a string converts the string to a number, and `<`/`>` compare
//!   only number with number and string with string (in UTF-16 order, as Java does).
//! - Slices take no step, and `[-2:3]` walks from index `-2` up to `2` as Jayway does.
//! - Filters also offer Jayway's `=~` (a whole-string match, in Rust `regex` syntax, so without
//!   back-references or look-around), `in`, `nin`, `subsetof`, `anyof`, `noneof`, `size`,
//!   `empty`, `contains` and `exists`.
//! - A trailing function such as `$.items.length()` parses, but never resolves: AWS reports
//!   such a path as not found.

mod filter;
mod parse;

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

pub(crate) use filter::Expr;
// The variables a path reads are defined with the scopes that hold them (so `vars` need not
// know paths); `Documents` names them, so they are also public here.
pub use crate::vars::{NoVariables, Variables};

/// Deepest nesting `..` descends into, so a document built up over many states cannot
/// exhaust the stack.
const MAX_DESCENT: usize = 512;

/// Errors from parsing, evaluating or writing a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The text is not a JSONPath Step Functions accepts, e.g. `$.a b` or `$.items[`.
    #[error("invalid path '{path}': {reason}")]
    Syntax {
        /// The path text as written.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A definite path matched nothing, e.g. `$.missing` on `{}`.
    #[error("path '{path}' matched nothing")]
    NotFound {
        /// The path text as written.
        path: String,
    },
    /// A path that must be a Reference Path uses more than names and indexes, e.g. a
    /// `ResultPath` of `$.items[*]`.
    #[error("path '{path}' must be a reference path (only names and non-negative indexes)")]
    NotReference {
        /// The path text as written.
        path: String,
    },
    /// A result could not be written at the path, e.g. `$.a.b` when `a` holds a string.
    #[error("cannot write to path '{path}': {reason}")]
    CannotSet {
        /// The path text as written.
        path: String,
        /// Why the write failed.
        reason: String,
    },
}

impl PathError {
    /// The Step Functions error name an execution fails with when this happens at run time.
    pub fn error_name(&self) -> &'static str {
        match self {
            PathError::CannotSet { .. } => crate::StatesError::ResultPathMatchFailure.name(),
            _ => crate::StatesError::Runtime.name(),
        }
    }
}

/// A parsed path with the text it came from (for error messages).
#[derive(Debug)]
pub(crate) struct PathExpr {
    pub text: Box<str>,
    pub path: Path,
}

impl PathExpr {
    /// Evaluates against the state input (`$…`), the context object (`$$…`) or a variable
    /// (`$name…`), borrowing when the path selects one existing value.
    pub fn eval<'v>(
        &self,
        input: &'v Value,
        docs: Documents<'v>,
    ) -> Result<Cow<'v, Value>, PathError> {
        self.path.eval_in(input, docs)
    }

    /// AWS's message for a path that selected nothing:
    /// `Invalid path '$.x' : No results for path: $['x']`.
    pub fn not_found(&self, input: &Value, docs: Documents<'_>) -> String {
        let detail = self
            .path
            .not_found_detail_in(input, docs)
            .unwrap_or_else(|| format!("No results for path: {}", self.path.normalized()));
        format!("Invalid path '{}' : {detail}", self.text)
    }
}

/// What a path reads besides the state input: the context object (`$$`) and the workflow
/// variables (`$name`).
#[derive(Clone, Copy)]
pub struct Documents<'a> {
    /// The context object.
    pub context: &'a Value,
    /// The variables in scope.
    pub variables: &'a dyn Variables,
}

impl<'a> Documents<'a> {
    /// The context object and no variables.
    pub fn context(context: &'a Value) -> Self {
        Documents {
            context,
            variables: &NoVariables,
        }
    }
}

impl fmt::Debug for Documents<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Documents")
            .field("context", self.context)
            .finish_non_exhaustive()
    }
}

/// Which document a path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// `$`: the state's input (or effective input).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable (see [`Path::variable`]).
    Variable,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment {
    /// `.name` or `['name']`.
    Name(Box<str>),
    /// `['a','b']`: merged into one object as the last step, each name in turn otherwise.
    Names(Vec<Box<str>>),
    /// `[0]`, `[-1]`.
    Index(i64),
    /// `[0,2]`.
    Indices(Vec<i64>),
    /// `[1:3]`, `[1:]`, `[:2]`.
    Slice { from: Option<i64>, to: Option<i64> },
    /// `.*` or `[*]`.
    Wildcard,
    /// `..x`: the inner step applied at every depth.
    Descendant(Box<Segment>),
    /// `[?(...)]`.
    Filter(Box<Expr>),
    /// A trailing `.name()`; never resolves.
    Function(Box<str>),
}

/// A parsed JSONPath, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Path {
    text: Box<str>,
    root: Root,
    /// The variable a `$name…` path reads; empty for the other roots.
    variable: Box<str>,
    segments: Vec<Segment>,
    definite: bool,
    /// Only names and indexes: resolvable by borrowing, without building anything.
    simple: bool,
    reference: bool,
}

impl PartialEq for Path {
    fn eq(&self, other: &Self) -> bool {
        self.root == other.root
            && self.variable == other.variable
            && self.segments == other.segments
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Path {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Path::parse(s)
    }
}

impl Path {
    /// Parses a path such as `$.a.b[0]`, `$['x y']`, `$..id` or `$$.Execution.Id`.
    ///
    /// Surrounding whitespace is ignored, as Jayway ignores it.
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let (root, variable, segments) =
            parse::parse_path(text.trim()).map_err(|reason| PathError::Syntax {
                path: text.to_owned(),
                reason,
            })?;
        Ok(Path::from_parts(text, root, variable, segments))
    }

    fn from_parts(text: &str, root: Root, variable: &str, segments: Vec<Segment>) -> Path {
        let simple = segments
            .iter()
            .all(|s| matches!(s, Segment::Name(_) | Segment::Index(_)));
        let reference = segments.iter().all(|s| match s {
            Segment::Name(_) => true,
            Segment::Index(i) => *i >= 0,
            _ => false,
        });
        Path {
            text: text.into(),
            root,
            variable: variable.into(),
            definite: is_definite(&segments),
            simple,
            reference,
            segments,
        }
    }

    /// The path as written, for error messages.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Which document the path reads.
    pub fn root(&self) -> Root {
        self.root
    }

    /// Whether the path reads the context object (`$$…`).
    pub fn is_context(&self) -> bool {
        self.root == Root::Context
    }

    /// The workflow variable a `$name…` path reads.
    pub fn variable(&self) -> Option<&str> {
        (self.root == Root::Variable).then_some(&*self.variable)
    }

    /// Whether the path is a Reference Path: only names and non-negative single indexes, so
    /// it names at most one node. `ResultPath`, `ItemsPath`, Choice `Variable` and the
    /// `…Path` comparisons require one.
    pub fn is_reference(&self) -> bool {
        self.reference
    }

    /// Whether the path yields one value (as opposed to an array of matches).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// Whether the path is the whole document (`$` or `$$`).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The path in Jayway's normalised form, `$['a'][0]`, as Jayway prints it in its messages.
    /// Filters are printed in full, so the result parses back to the same path.
    ///
    /// Bracket names are verbatim, as in Jayway, so a name holding both `'` and `"`, or a
    /// backslash (which would escape the closing quote), has no bracket form and its
    /// normalised text does not parse back; every other path round-trips.
    pub fn normalized(&self) -> String {
        let mut out = match self.root {
            Root::Input => "$".to_owned(),
            Root::Context => "$$".to_owned(),
            Root::Variable => format!("${}", self.variable),
        };
        write_segments(&mut out, &self.segments);
        out
    }

    /// Picks the document this path reads: `None` for a variable that is not defined.
    fn doc<'a>(&self, input: &'a Value, docs: Documents<'a>) -> Option<&'a Value> {
        match self.root {
            Root::Input => Some(input),
            Root::Context => Some(docs.context),
            Root::Variable => docs.variables.variable(&self.variable),
        }
    }

    /// Borrows the value a path of names and indexes points at in `doc` (the document the
    /// path's root names: the input for `$…`, the context object for `$$…`).
    ///
    /// Returns `None` when there is nothing there, and for any other kind of path: use
    /// [`Path::eval_cow`] for those.
    pub fn get<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        if !self.simple {
            return None;
        }
        get_simple(&self.segments, doc)
    }

    /// Like [`Path::get`], choosing between the input and the context object by the root.
    pub fn resolve<'a>(&self, input: &'a Value, context: &'a Value) -> Option<&'a Value> {
        self.get(self.doc(input, Documents::context(context))?)
    }

    /// Evaluates the path: `$…` against `input`, `$$…` against `context`.
    ///
    /// A definite path gives its value or [`PathError::NotFound`]; an indefinite one gives
    /// an array of its matches, empty when nothing matches.
    pub fn eval(&self, input: &Value, context: &Value) -> Result<Value, PathError> {
        self.eval_cow(input, context).map(Cow::into_owned)
    }

    /// [`Path::eval`] without copying: a definite path borrows its value from the document.
    pub fn eval_cow<'a>(
        &self,
        input: &'a Value,
        context: &'a Value,
    ) -> Result<Cow<'a, Value>, PathError> {
        self.eval_in(input, Documents::context(context))
    }

    /// [`Path::eval_cow`] with workflow variables: a `$name…` path reads the variable, and
    /// finds nothing when it is not defined.
    pub fn eval_in<'a>(
        &self,
        input: &'a Value,
        docs: Documents<'a>,
    ) -> Result<Cow<'a, Value>, PathError> {
        let Some(doc) = self.doc(input, docs) else {
            return Err(self.not_found());
        };
        if self.simple {
            return get_simple(&self.segments, doc)
                .map(Cow::Borrowed)
                .ok_or_else(|| self.not_found());
        }
        if self.definite {
            return walk_definite(&self.segments, doc).map_err(|_| self.not_found());
        }
        let matches = select(&self.segments, doc, doc);
        Ok(Cow::Owned(Value::Array(
            matches.into_iter().map(Cow::into_owned).collect(),
        )))
    }

    /// Why a definite path found nothing, worded as Jayway words it (AWS quotes it after
    /// `Invalid path '<path>' : `), e.g. `No results for path: $['NoSuchInputPath']` or
    /// `Missing property in path $['a']`. `None` when the path does resolve, or is indefinite.
    pub fn not_found_detail(&self, input: &Value, context: &Value) -> Option<String> {
        self.not_found_detail_in(input, Documents::context(context))
    }

    /// [`Path::not_found_detail`] with workflow variables.
    pub fn not_found_detail_in(&self, input: &Value, docs: Documents<'_>) -> Option<String> {
        let Some(doc) = self.doc(input, docs) else {
            return Some(format!(
                "The variable '{}' is not defined in this scope",
                self.variable
            ));
        };
        if !self.definite {
            return None;
        }
        walk_definite(&self.segments, doc).err()
    }

    fn not_found(&self) -> PathError {
        PathError::NotFound {
            path: self.text.to_string(),
        }
    }

    /// Writes `value` where a Reference Path points, as `ResultPath` does: `$` replaces the
    /// whole document, missing objects on the way are created, and writing through anything
    /// but an object (or an existing array element) fails with [`PathError::CannotSet`].
    pub fn set(&self, doc: &mut Value, value: Value) -> Result<(), PathError> {
        match self.root {
            Root::Input => {}
            Root::Context => {
                return Err(self.cannot_set("the context object cannot be written".into()));
            }
            Root::Variable => {
                return Err(self.cannot_set("a variable is written by Assign, not a path".into()));
            }
        }
        if !self.reference {
            return Err(PathError::NotReference {
                path: self.text.to_string(),
            });
        }
        let Some((last, init)) = self.segments.split_last() else {
            *doc = value;
            return Ok(());
        };
        let mut cur = doc;
        for (i, seg) in init.iter().enumerate() {
            let next_is_name = matches!(self.segments.get(i + 1), Some(Segment::Name(_)));
            cur = match (seg, cur) {
                (Segment::Name(name), Value::Object(map)) => {
                    if !map.contains_key(&**name) && !next_is_name {
                        return Err(self.cannot_set(format!(
                            "{} does not exist, and only objects are created on the way",
                            jayway_prefix(&self.segments[..=i])
                        )));
                    }
                    map.entry(name.to_string())
                        .or_insert_with(|| Value::Object(Map::new()))
                }
                (Segment::Index(index), Value::Array(items)) => {
                    let len = items.len();
                    usize::try_from(*index)
                        .ok()
                        .and_then(|i| items.get_mut(i))
                        .ok_or_else(|| {
                            self.cannot_set(format!(
                                "index {index} is out of bounds at {} (length {len})",
                                jayway_prefix(&self.segments[..i])
                            ))
                        })?
                }
                (seg, other) => {
                    return Err(self.cannot_set(wrong_container(seg, other, &self.segments[..i])));
                }
            };
        }
        let at = &self.segments[..init.len()];
        match (last, cur) {
            (Segment::Name(name), Value::Object(map)) => {
                map.insert(name.to_string(), value);
                Ok(())
            }
            (Segment::Index(index), Value::Array(items)) => {
                let len = items.len();
                match usize::try_from(*index).ok().and_then(|i| items.get_mut(i)) {
                    Some(slot) => {
                        *slot = value;
                        Ok(())
                    }
                    None => Err(self.cannot_set(format!(
                        "index {index} is out of bounds at {} (length {len})",
                        jayway_prefix(at)
                    ))),
                }
            }
            (seg, other) => Err(self.cannot_set(wrong_container(seg, other, at))),
        }
    }

    fn cannot_set(&self, reason: String) -> PathError {
        PathError::CannotSet {
            path: self.text.to_string(),
            reason,
        }
    }
}

fn wrong_container(seg: &Segment, found: &Value, at: &[Segment]) -> String {
    let wanted = match seg {
        Segment::Index(_) => "an array",
        _ => "an object",
    };
    format!(
        "{} holds {}, not {wanted}",
        jayway_prefix(at),
        crate::show::json_kind(found)
    )
}

/// Jayway's rule: every step is definite, with a multi-name step only as the last one.
pub(crate) fn is_definite(segments: &[Segment]) -> bool {
    let last = segments.len().saturating_sub(1);
    segments.iter().enumerate().all(|(i, s)| match s {
        Segment::Name(_) | Segment::Index(_) | Segment::Function(_) => true,
        Segment::Names(_) => i == last,
        _ => false,
    })
}

fn get_simple<'a>(segments: &[Segment], doc: &'a Value) -> Option<&'a Value> {
    let mut cur = doc;
    for seg in segments {
        cur = match seg {
            Segment::Name(name) => cur.as_object()?.get(&**name)?,
            Segment::Index(i) => index(cur.as_array()?, *i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Jayway's index rule: negative counts from the end.
fn index(items: &[Value], i: i64) -> Option<&Value> {
    let len = i64::try_from(items.len()).ok()?;
    let effective = if i < 0 { len + i } else { i };
    usize::try_from(effective).ok().and_then(|e| items.get(e))
}

/// Evaluates a definite path, or explains in Jayway's words why it found nothing.
pub(crate) fn walk_definite<'a>(
    segments: &[Segment],
    doc: &'a Value,
) -> Result<Cow<'a, Value>, String> {
    let no_results = || format!("No results for path: {}", jayway_prefix(segments));
    let mut cur = doc;
    for (i, seg) in segments.iter().enumerate() {
        let is_last = i + 1 == segments.len();
        cur = match seg {
            Segment::Name(name) => match cur {
                Value::Object(map) => match map.get(&**name) {
                    Some(v) => v,
                    None if is_last => return Err(no_results()),
                    None => {
                        return Err(format!(
                            "Missing property in path {}",
                            jayway_prefix(&segments[..=i])
                        ));
                    }
                },
                other => return Err(not_an_object(seg, other, &segments[..i])),
            },
            Segment::Index(n) => match cur {
                Value::Array(items) => match index(items, *n) {
                    Some(v) => v,
                    // Jayway skips an index out of bounds silently, then finds no result.
                    None => return Err(no_results()),
                },
                Value::Null => {
                    return Err(format!(
                        "The path {} is null",
                        jayway_prefix(&segments[..i])
                    ));
                }
                other => {
                    return Err(format!(
                        "Filter: [{n}] can only be applied to arrays. Current context is: {}",
                        crate::show::java_string(other)
                    ));
                }
            },
            Segment::Names(names) => match cur {
                Value::Object(map) => return Ok(Cow::Owned(merge_names(map, names))),
                other => return Err(not_an_object(seg, other, &segments[..i])),
            },
            // AWS resolves no path functions; anything else is not definite.
            _ => return Err(no_results()),
        };
    }
    Ok(Cow::Borrowed(cur))
}

fn not_an_object(seg: &Segment, found: &Value, at: &[Segment]) -> String {
    let mut fragment = String::new();
    write_segments(&mut fragment, std::slice::from_ref(seg));
    let class = match found {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.is_f64() => "java.lang.Double",
        Value::Number(n) if n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()) => {
            "java.lang.Integer"
        }
        Value::Number(_) => "java.lang.Long",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "net.minidev.json.JSONArray",
        Value::Object(_) => "net.minidev.json.JSONObject",
    };
    format!(
        "Expected to find an object with property {fragment} in path {} but found '{class}'. \
         This is not a json object according to the JsonProvider: \
         'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.",
        jayway_prefix(at)
    )
}

fn merge_names(map: &Map<String, Value>, names: &[Box<str>]) -> Value {
    let mut merged = Map::new();
    for name in names {
        if let Some(v) = map.get(&**name) {
            merged.insert(name.to_string(), v.clone());
        }
    }
    Value::Object(merged)
}

/// `$` followed by the segments in Jayway's printed form.
fn jayway_prefix(segments: &[Segment]) -> String {
    let mut out = String::from("$");
    write_segments(&mut out, segments);
    out
}

/// Every match of an indefinite path (or of any path, ignoring definiteness), in document
/// order; `root` is what `$` means inside filters.
pub(crate) fn select<'a>(
    segments: &[Segment],
    start: &'a Value,
    root: &'a Value,
) -> Vec<Cow<'a, Value>> {
    let Some((last, init)) = segments.split_last() else {
        return vec![Cow::Borrowed(start)];
    };
    let mut cur = vec![start];
    for seg in init {
        let mut next = Vec::with_capacity(cur.len());
        for node in cur {
            apply(seg, node, root, &mut next);
        }
        cur = next;
    }
    match last {
        Segment::Names(names) => cur
            .into_iter()
            .filter_map(Value::as_object)
            .map(|map| Cow::Owned(merge_names(map, names)))
            .collect(),
        seg => {
            let mut out = Vec::with_capacity(cur.len());
            for node in cur {
                apply(seg, node, root, &mut out);
            }
            out.into_iter().map(Cow::Borrowed).collect()
        }
    }
}

/// Applies one step to one node, skipping whatever is missing or of the wrong kind.
fn apply<'a>(seg: &Segment, node: &'a Value, root: &'a Value, out: &mut Vec<&'a Value>) {
    match seg {
        Segment::Name(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get(&**name)) {
                out.push(v);
            }
        }
        Segment::Names(names) => {
            if let Some(map) = node.as_object() {
                out.extend(names.iter().filter_map(|n| map.get(&**n)));
            }
        }
        Segment::Index(i) => {
            if let Some(v) = node.as_array().and_then(|a| index(a, *i)) {
                out.push(v);
            }
        }
        Segment::Indices(list) => {
            if let Some(items) = node.as_array() {
                out.extend(list.iter().filter_map(|i| index(items, *i)));
            }
        }
        Segment::Slice { from, to } => {
            if let Some(items) = node.as_array() {
                slice(items, *from, *to, out);
            }
        }
        Segment::Wildcard => match node {
            Value::Object(map) => out.extend(map.values()),
            Value::Array(items) => out.extend(items.iter()),
            _ => {}
        },
        Segment::Descendant(inner) => descend(inner, node, root, out, 0),
        Segment::Filter(expr) => match node {
            Value::Object(_) if expr.test(node, root) => out.push(node),
            Value::Array(items) => out.extend(items.iter().filter(|v| expr.test(v, root))),
            _ => {}
        },
        Segment::Function(_) => {}
    }
}

/// Jayway's slice rules, quirks included: no step, and a negative start in `[a:b]` is
/// walked index by index from `a` (each negative index counting from the end).
fn slice<'a>(items: &'a [Value], from: Option<i64>, to: Option<i64>, out: &mut Vec<&'a Value>) {
    let Ok(len) = i64::try_from(items.len()) else {
        return;
    };
    if len == 0 {
        return;
    }
    let (start, end) = match (from, to) {
        (Some(from), None) => {
            let from = if from < 0 { len + from } else { from };
            (from.max(0), len)
        }
        (None, Some(to)) => {
            let to = if to < 0 { len + to } else { to };
            (0, to.min(len))
        }
        (Some(from), Some(to)) => (from, to.min(len)),
        (None, None) => return,
    };
    // Indexes below -len select nothing; skipping them bounds the walk by the array's length.
    let start = start.max(-len);
    let mut i = start;
    while i < end {
        if let Some(v) = index(items, i) {
            out.push(v);
        }
        i += 1;
    }
}

/// `..step`: the step applied to the node and to everything below it, in document order.
fn descend<'a>(
    inner: &Segment,
    node: &'a Value,
    root: &'a Value,
    out: &mut Vec<&'a Value>,
    depth: usize,
) {
    if depth > MAX_DESCENT {
        return;
    }
    match inner {
        // Jayway tests the filter against each node itself; an array's elements are only
        // filtered when the array itself passes, as Jayway's scan predicate does.
        Segment::Filter(expr) => match node {
            Value::Object(_) if expr.test(node, root) => out.push(node),
            Value::Array(items) if expr.test(node, root) => {
                out.extend(items.iter().filter(|v| expr.test(v, root)));
            }
            _ => {}
        },
        other => apply(other, node, root, out),
    }
    match node {
        Value::Object(map) => {
            for v in map.values() {
                descend(inner, v, root, out, depth + 1);
            }
        }
        Value::Array(items) => {
            for v in items {
                descend(inner, v, root, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn write_segments(out: &mut String, segments: &[Segment]) {
    for seg in segments {
        write_segment(out, seg);
    }
}

fn write_name(out: &mut String, name: &str) {
    let quote = if name.contains('\'') { '"' } else { '\'' };
    out.push(quote);
    out.push_str(name);
    out.push(quote);
}

fn write_segment(out: &mut String, seg: &Segment) {
    use std::fmt::Write as _;
    match seg {
        Segment::Name(name) => {
            out.push('[');
            write_name(out, name);
            out.push(']');
        }
        Segment::Names(names) => {
            out.push('[');
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_name(out, name);
            }
            out.push(']');
        }
        Segment::Index(i) => {
            let _ = write!(out, "[{i}]");
        }
        Segment::Indices(list) => {
            out.push('[');
            for (n, i) in list.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{i}");
            }
            out.push(']');
        }
        Segment::Slice { from, to } => {
            out.push('[');
            if let Some(f) = from {
                let _ = write!(out, "{f}");
            }
            out.push(':');
            if let Some(t) = to {
                let _ = write!(out, "{t}");
            }
            out.push(']');
        }
        Segment::Wildcard => out.push_str("[*]"),
        Segment::Descendant(inner) => {
            out.push_str("..");
            write_segment(out, inner);
        }
        Segment::Filter(expr) => {
            out.push_str("[?(");
            expr.write(out);
            out.push_str(")]");
        }
        Segment::Function(name) => {
            out.push('.');
            out.push_str(name);
            out.push_str("()");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// `yields!(path, input, expected)`: parse and evaluate against `input`, with a fixed
    /// context object for `$$` paths.
    macro_rules! yields {
        ($path:expr, $input:tt, $expected:tt) => {{
            let path = Path::parse($path).unwrap_or_else(|e| panic!("{}: {e}", $path));
            let got = path.eval(&json!($input), &context());
            assert_eq!(got, Ok(json!($expected)), "path {}", $path);
        }};
    }

    /// `missing!(path, input, detail)`: a definite path that finds nothing, with Jayway's
    /// explanation.
    macro_rules! missing {
        ($path:expr, $input:tt, $detail:expr) => {{
            let path = Path::parse($path).unwrap();
            let input = json!($input);
            assert_eq!(
                path.eval(&input, &context()),
                Err(PathError::NotFound {
                    path: $path.to_string()
                }),
                "path {}",
                $path
            );
            assert_eq!(
                path.not_found_detail(&input, &context()).as_deref(),
                Some($detail)
            );
        }};
    }

    /// `syntax!(path)`: text that is not a path.
    macro_rules! syntax {
        ($path:expr) => {{
            let got = Path::parse($path);
            assert!(
                matches!(got, Err(PathError::Syntax { .. })),
                "{} parsed as {got:?}",
                $path
            );
        }};
    }

    /// `kind!(path, reference, definite)`.
    macro_rules! kind {
        ($path:expr, $reference:expr, $definite:expr) => {{
            let path = Path::parse($path).unwrap();
            assert_eq!(
                (path.is_reference(), path.is_definite()),
                ($reference, $definite),
                "{}",
                $path
            );
        }};
    }

    /// `sets!(path, doc, value, expected)`: ResultPath writing.
    macro_rules! sets {
        ($path:expr, $doc:tt, $value:tt, $expected:tt) => {{
            let mut doc = json!($doc);
            Path::parse($path)
                .unwrap()
                .set(&mut doc, json!($value))
                .unwrap_or_else(|e| panic!("{}: {e}", $path));
            assert_eq!(doc, json!($expected), "path {}", $path);
        }};
    }

    /// `set_fails!(path, doc)`.
    macro_rules! set_fails {
        ($path:expr, $doc:tt) => {{
            let mut doc = json!($doc);
            let got = Path::parse($path).unwrap().set(&mut doc, json!(1));
            assert!(
                matches!(
                    got,
                    Err(PathError::CannotSet { .. } | PathError::NotReference { .. })
                ),
                "{} on {}: {got:?}",
                $path,
                doc
            );
        }};
    }

    fn context() -> Value {
        json!({"Execution": {"Id": "arn:exec", "Input": {"k": 1}}, "State": {"Name": "S"}})
    }

    fn store() -> Value {
        json!({"store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick",
                 "isbn": "0-553-21311-3", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord",
                 "isbn": "0-395-19395-8", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        }, "expensive": 10})
    }

    #[test]
    fn definite_paths() {
        yields!("$", {"a": 1}, {"a": 1});
        yields!("$.a", {"a": 1}, 1);
        yields!("$.a", {"a": null}, null);
        yields!("$.a.b", {"a": {"b": [1]}}, [1]);
        yields!("$['a']", {"a": 1}, 1);
        yields!("$[\"a\"]", {"a": 1}, 1);
        yields!("$['a b']", {"a b": 1}, 1);
        yields!("$.abc.['def ghi']", {"abc": {"def ghi": 2}}, 2);
        yields!("$.delivery-partner", {"delivery-partner": "UQS"}, "UQS");
        yields!("$.a$b", {"a$b": 1}, 1);
        yields!("$.0", {"0": "zero"}, "zero");
        yields!("$.élan", {"élan": 1}, 1);
        yields!("$[0]", [7, 8], 7);
        yields!("$[ 1 ]", [7, 8], 8);
        yields!("$[-1]", [7, 8], 8);
        yields!("$.items[10]", {"items": [0,1,2,3,4,5,6,7,8,9,10]}, 10);
        yields!("$.a[0][1]", {"a": [[1, 2]]}, 2);
        yields!("  $.a  ", {"a": 1}, 1);
        yields!("$['a','b']", {"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2});
        yields!("$['a','zz']", {"a": 1}, {"a": 1});
    }

    #[test]
    fn variable_paths() {
        let vars = json!({"order": {"items": [{"sku": "A"}, {"sku": "B"}]}, "n": 2});
        let Value::Object(vars) = vars else {
            unreachable!()
        };
        let docs = Documents {
            context: &Value::Null,
            variables: &vars,
        };
        let eval = |text: &str| {
            let path = Path::parse(text).unwrap();
            path.eval_in(&json!({"order": "input"}), docs)
                .map(Cow::into_owned)
        };
        assert_eq!(
            Path::parse("$order.items").unwrap().variable(),
            Some("order")
        );
        assert_eq!(Path::parse("$.order").unwrap().variable(), None);
        assert_eq!(eval("$order.items[1].sku"), Ok(json!("B")));
        assert_eq!(eval("$order.items[*].sku"), Ok(json!(["A", "B"])));
        assert_eq!(eval("$n"), Ok(json!(2)));
        assert_eq!(eval("$.order"), Ok(json!("input")));
        assert!(eval("$missing").is_err());
        let missing = Path::parse("$missing.a").unwrap();
        assert_eq!(
            missing.not_found_detail_in(&json!({}), docs).as_deref(),
            Some("The variable 'missing' is not defined in this scope")
        );
        assert_eq!(
            Path::parse("$order.items[0]").unwrap().normalized(),
            "$order['items'][0]"
        );
        assert!(
            Path::parse("$order.items[0]")
                .unwrap()
                .set(&mut json!({}), json!(1))
                .is_err()
        );
        for bad in ["$1a", "$a-b", "$a b", "$states.x"] {
            assert!(Path::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn escapes_in_bracket_names_are_verbatim() {
        // Recorded on AWS: base_scenarios__escape_sequence_parsing__ESCAPE_SEQUENCES_JSONPATH.
        yields!(r#"$['Test\""Name"']"#, {"Test\\\"\"Name\"": "Value\"\\"}, "Value\"\\");
        yields!(r"$['it\'s']", {"it\\'s": 1}, 1);
        yields!(r#"$["it's"]"#, {"it's": 1}, 1);
    }

    #[test]
    fn context_paths() {
        yields!("$$", {}, {"Execution": {"Id": "arn:exec", "Input": {"k": 1}}, "State": {"Name": "S"}});
        yields!("$$.Execution.Id", {}, "arn:exec");
        yields!("$$.Execution.Input.k", {"k": 2}, 1);
        yields!("$$.State['Name']", {}, "S");
    }

    #[test]
    fn indefinite_paths() {
        yields!("$.items[*]", {"items": [1, 2]}, [1, 2]);
        yields!("$.items.*", {"items": [1, 2]}, [1, 2]);
        yields!("$.*", {"a": 1, "b": [2]}, [1, [2]]);
        yields!("$[*]", 5, []);
        yields!("$.items[1:]", {"items": [1, 2, 3]}, [2, 3]);
        yields!("$.items[:1]", {"items": [1, 2, 3]}, [1]);
        yields!("$.items[1:5]", {"items": [1, 2, 3]}, [2, 3]);
        yields!("$.items[-2:]", {"items": [1, 2, 3]}, [2, 3]);
        yields!("$.items[:-1]", {"items": [1, 2, 3]}, [1, 2]);
        yields!("$.items[-2:2]", {"items": [1, 2, 3, 4]}, [3, 4, 1, 2]);
        yields!("$.items[2:1]", {"items": [1, 2, 3]}, []);
        yields!("$.items[-2147483648:1]", {"items": [1, 2, 3]}, [1, 2, 3, 1]);
        yields!("$.items[5:]", {"items": [1, 2, 3]}, []);
        yields!("$.items[0,2]", {"items": [1, 2, 3]}, [1, 3]);
        yields!("$.items[0,-1,9]", {"items": [1, 2, 3]}, [1, 3]);
        yields!("$.items[*].v", {"items": [{"v": 1}, {"w": 2}, 3, {"v": null}]}, [1, null]);
        yields!("$.items[*]['v','w']", {"items": [{"v": 1}, {"w": 2}, 3]}, [{"v": 1}, {"w": 2}]);
        yields!("$['a','b'].x", {"a": {"x": 1}, "b": {"x": 2}}, [1, 2]);
        yields!("$..id", {"id": 1, "a": {"id": 2, "b": [{"id": 3}]}}, [1, 2, 3]);
        yields!("$..*", {"a": {"b": 1}, "c": [2]}, [{"b": 1}, [2], 1, 2]);
        yields!("$..[0]", {"a": [1, [2, 3]], "b": {"c": [4]}}, [1, 2, 4]);
        // A node's own match comes before those below it, as Jayway's scan does.
        yields!("$..b.c", {"a": {"b": {"c": 1}}, "b": {"c": 2}}, [2, 1]);
    }

    #[test]
    fn indefinite_paths_on_missing_data_are_empty() {
        // Recorded on AWS: base__json_path_array_wildcard_or_slice_with_no_input__*.
        yields!("$.item.items[1:5].itemValue", {}, []);
        yields!("$.item.items[1:5]", {}, []);
        yields!("$.item.items[1:]", {}, []);
        yields!("$.item.items[*]", {}, []);
        yields!("$.item.items[:1]", {}, []);
        yields!("$.items[1:].itemValue", {}, []);
        yields!("$.items[*].itemValue", {}, []);
        yields!("$.items[:1].itemValue", {}, []);
        yields!("$[*]", {}, []);
        yields!("$.a[?(@.b)]", {"a": "text"}, []);
    }

    #[test]
    fn filters() {
        // Recorded on AWS: base__state_pass_regex_json_path_base.
        yields!("$.users[?(@.status == 0)]",
            {"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]},
            [{"year": 1997, "status": 0}]);
        let s = store();
        let f = |p: &str| Path::parse(p).unwrap().eval(&s, &context()).unwrap();
        assert_eq!(
            f("$.store.book[?(@.price < 10)].title"),
            json!(["Sayings", "Moby Dick"])
        );
        assert_eq!(
            f("$.store.book[?(@.isbn)].title"),
            json!(["Moby Dick", "The Lord"])
        );
        assert_eq!(
            f("$.store.book[?(!@.isbn)].title"),
            json!(["Sayings", "Sword"])
        );
        assert_eq!(
            f("$.store.book[?(@.price > $.expensive)].title"),
            json!(["Sword", "The Lord"])
        );
        assert_eq!(
            f("$.store.book[?(@.category == 'fiction' && @.price < 10)].title"),
            json!(["Moby Dick"])
        );
        assert_eq!(
            f("$.store.book[?(@.category == 'reference' || @.price > 20)].title"),
            json!(["Sayings", "The Lord"])
        );
        assert_eq!(
            f("$.store.book[?((@.price < 9 || @.price > 20) && @.isbn)].title"),
            json!(["Moby Dick", "The Lord"])
        );
        assert_eq!(
            f("$.store.book[?(@.author =~ /.*Melville/)].title"),
            json!(["Moby Dick"])
        );
        assert_eq!(
            f("$.store.book[?(@.author =~ /herman.*/i)].title"),
            json!(["Moby Dick"])
        );
        assert_eq!(f("$.store.book[?(@.author =~ /Herman/)].title"), json!([]));
        assert_eq!(f("$..book[?(@.price <= 8.95)].price"), json!([8.95]));
        assert_eq!(f("$..[?(@.color)].color"), json!(["red"]));
        assert_eq!(
            f("$.store.bicycle[?(@.color == 'red')].price"),
            json!([19.95])
        );
        assert_eq!(f("$..price").as_array().map(Vec::len), Some(5));
    }

    #[test]
    fn filter_operators() {
        yields!("$[?(@.a != 1)]", [{"a": 1}, {"a": 2}, {}], [{"a": 2}, {}]);
        yields!("$[?(@.a >= 2)]", [{"a": 1}, {"a": 2}, {"a": "3"}], [{"a": 2}]);
        yields!("$[?(@.a > 'b')]", [{"a": "a"}, {"a": "c"}, {"a": 9}], [{"a": "c"}]);
        yields!("$[?(@.a == '2')]", [{"a": 2}, {"a": "2"}], [{"a": 2}, {"a": "2"}]);
        yields!("$[?(@.a == 2.0)]", [{"a": 2}, {"a": 2.5}], [{"a": 2}]);
        yields!("$[?(@.a === '2')]", [{"a": 2}, {"a": "2"}], [{"a": "2"}]);
        yields!("$[?(@.a == true)]", [{"a": true}, {"a": "true"}], [{"a": true}]);
        yields!("$[?(@.a == null)]", [{"a": null}, {}], [{"a": null}]);
        yields!("$[?(@.a in ['x', 'y'])]", [{"a": "x"}, {"a": "z"}], [{"a": "x"}]);
        yields!("$[?(@.a nin [1, 2])]", [{"a": 1}, {"a": 3}], [{"a": 3}]);
        yields!("$[?(@.t contains 'b')]", [{"t": ["a", "b"]}, {"t": "abc"}, {"t": "x"}],
            [{"t": ["a", "b"]}, {"t": "abc"}]);
        yields!("$[?(@.t subsetof ['a', 'b', 'c'])]", [{"t": ["a", "b"]}, {"t": ["d"]}],
            [{"t": ["a", "b"]}]);
        yields!("$[?(@.t anyof ['a'])]", [{"t": ["a", "b"]}, {"t": ["d"]}], [{"t": ["a", "b"]}]);
        yields!("$[?(@.t noneof ['a'])]", [{"t": ["a", "b"]}, {"t": ["d"]}], [{"t": ["d"]}]);
        yields!("$[?(@.t size 2)]", [{"t": ["a", "b"]}, {"t": "ab"}, {"t": "abc"}],
            [{"t": ["a", "b"]}, {"t": "ab"}]);
        yields!("$[?(@.t empty true)]", [{"t": []}, {"t": ""}, {"t": [1]}], [{"t": []}, {"t": ""}]);
        yields!("$[?(@.t exists false)]", [{"t": 1}, {}], [{}]);
        yields!("$[?(@.a == {'b': 1})]", [{"a": {"b": 1}}, {"a": {"b": 2}}], [{"a": {"b": 1}}]);
        yields!("$[?(@ > 1)]", [1, 2, 3], [2, 3]);
        yields!("$[?(@.a[0] == 1)]", [{"a": [1]}, {"a": [2]}], [{"a": [1]}]);
        yields!("$[?(@.a.b)]", [{"a": {"b": null}}, {"a": 1}], [{"a": {"b": null}}]);
    }

    #[test]
    fn not_found() {
        // Recorded on AWS: base_scenarios__invalid_jsonpath__ST.INVALID_JSONPATH_IN_INPUTPATH.
        missing!("$.NoSuchInputPath", {"int-literal": 0}, "No results for path: $['NoSuchInputPath']");
        missing!("$.a.b", {"a": {}}, "No results for path: $['a']['b']");
        missing!("$.a.b", {}, "Missing property in path $['a']");
        missing!("$.a[3]", {"a": [1]}, "No results for path: $['a'][3]");
        missing!("$.a[0]", {"a": null}, "The path $['a'] is null");
        missing!("$.a[0]", {"a": {"b": 1}}, "Filter: [0] can only be applied to arrays. Current context is: {b=1}");
        missing!("$.a.b", {"a": "x"},
            "Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.String'. \
             This is not a json object according to the JsonProvider: \
             'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'.");
        // AWS resolves no path functions (re:Post: "$.Jobs.sum()" could not be found).
        missing!("$.a.length()", {"a": [1]}, "No results for path: $['a'].length()");
        missing!(
            "$$.Execution.Nope",
            {},
            "No results for path: $['Execution']['Nope']"
        );
    }

    #[test]
    fn syntax_errors() {
        syntax!("");
        syntax!("a");
        syntax!("$a b");
        syntax!("$.");
        syntax!("$..");
        syntax!("$.a.");
        syntax!("$.a b");
        syntax!("$ .a");
        syntax!("$[");
        syntax!("$[]");
        syntax!("$['a'");
        syntax!("$['a' 'b']");
        syntax!("$[1");
        syntax!("$[a]");
        syntax!("$[:]");
        syntax!("$[1,]");
        syntax!("$[99999999999]");
        syntax!("$[*");
        syntax!("$.*a");
        syntax!("$[?(@.a]");
        syntax!("$[?(@.a ==)]");
        syntax!("$[?(1)]");
        syntax!("$[?(@.a =~ /(/)]");
        syntax!("$.a()b");
        syntax!("$$$");
        syntax!(&format!("$[?({}@.a)]", "@.a && ".repeat(70)));
        syntax!(&format!("$[?({}@.a{})]", "(".repeat(40), ")".repeat(40)));
    }

    #[test]
    fn kinds() {
        kind!("$", true, true);
        kind!("$.a.b", true, true);
        kind!("$['a'][0]", true, true);
        kind!("$$.Execution.Id", true, true);
        kind!("$.a[-1]", false, true);
        kind!("$['a','b']", false, true);
        kind!("$['a','b'].c", false, false);
        kind!("$.a[*]", false, false);
        kind!("$.a[0,1]", false, false);
        kind!("$.a[0:1]", false, false);
        kind!("$..a", false, false);
        kind!("$.a[?(@.b)]", false, false);
    }

    #[test]
    fn accessors() {
        let p = Path::parse("$$.Execution['Id']").unwrap();
        assert!(p.is_context());
        assert_eq!(p.as_str(), "$$.Execution['Id']");
        assert_eq!(p.to_string(), "$$.Execution['Id']");
        assert_eq!(p.normalized(), "$$['Execution']['Id']");
        assert_eq!(p.resolve(&json!({}), &context()), Some(&json!("arn:exec")));
        assert_eq!(p.get(&context()), Some(&json!("arn:exec")));
        assert_eq!(Path::parse("$.a[*]").unwrap().get(&json!({"a": [1]})), None);
        assert!(Path::parse("$").unwrap().is_root());
        assert_eq!(
            PathError::NotFound { path: "$.a".into() }.error_name(),
            "States.Runtime"
        );
    }

    #[test]
    fn set() {
        sets!("$", {"a": 1}, {"b": 2}, {"b": 2});
        sets!("$", "text", 5, 5);
        sets!("$.a", {"a": 1, "c": 3}, 2, {"a": 2, "c": 3});
        sets!("$.result", {}, [1], {"result": [1]});
        sets!("$.a.b.c", {}, 1, {"a": {"b": {"c": 1}}});
        sets!("$.a.b", {"a": {"x": 0}}, 1, {"a": {"x": 0, "b": 1}});
        sets!("$['a b']", {}, 1, {"a b": 1});
        sets!("$.a[1]", {"a": [0, 0]}, 1, {"a": [0, 1]});
        sets!("$.a[0].b", {"a": [{}]}, 1, {"a": [{"b": 1}]});
        set_fails!("$.a", "text");
        set_fails!("$.a", [1]);
        set_fails!("$.a.b", {"a": "x"});
        set_fails!("$.a.b", {"a": null});
        set_fails!("$.a[0]", {});
        set_fails!("$.a[3]", {"a": [1]});
        set_fails!("$[0]", {});
        set_fails!("$.a[*]", {"a": [1]});
        set_fails!("$.a[-1]", {"a": [1]});
        set_fails!("$$.x", {});
    }

    #[test]
    fn set_error_names_the_place() {
        let mut doc = json!({"a": "x"});
        let err = Path::parse("$.a.b")
            .unwrap()
            .set(&mut doc, json!(1))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot write to path '$.a.b': $['a'] holds a string, not an object"
        );
        assert_eq!(err.error_name(), "States.ResultPathMatchFailure");
    }

    /// Arbitrary JSON, a few levels deep.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|n| json!(n)),
            "[a-c ]{0,3}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Path text from the grammar, over the same small key alphabet as `json_value`.
    fn path_text() -> impl Strategy<Value = String> {
        let name = "[a-c]{1,2}";
        let step = prop_oneof![
            name.prop_map(|n| format!(".{n}")),
            name.prop_map(|n| format!("['{n}']")),
            (name, name).prop_map(|(a, b)| format!("['{a}','{b}']")),
            (-3i32..4).prop_map(|i| format!("[{i}]")),
            (-3i32..4, -3i32..4).prop_map(|(a, b)| format!("[{a},{b}]")),
            (-3i32..4, -3i32..4).prop_map(|(a, b)| format!("[{a}:{b}]")),
            (-3i32..4).prop_map(|a| format!("[{a}:]")),
            Just(".*".to_string()),
            Just("[*]".to_string()),
            name.prop_map(|n| format!("..{n}")),
            Just("..*".to_string()),
            (name, -2i32..3).prop_map(|(n, v)| format!("[?(@.{n} > {v})]")),
            (name, name).prop_map(|(a, b)| format!("[?(@.{a} && !@.{b} || @ == 'a')]")),
            name.prop_map(|n| format!("[?(@.{n} in [1, 'a'] || @.{n} size 1)]")),
            name.prop_map(|n| format!("[?(@.{n} =~ /a.*/i)]")),
        ];
        (prop::bool::ANY, prop::collection::vec(step, 0..5)).prop_map(|(ctx, steps)| {
            let mut s = String::from(if ctx { "$$" } else { "$" });
            for step in steps {
                s.push_str(&step);
            }
            s
        })
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in ".{0,40}") {
            let _ = Path::parse(&text);
        }

        #[test]
        fn parsing_path_like_text_never_panics(text in r"[$.@\[\]'?()*:,0-9a-c =<>!&|/-]{0,30}") {
            let _ = Path::parse(&text);
        }

        #[test]
        fn evaluating_never_panics(text in path_text(), input in json_value(), ctx in json_value()) {
            let path = Path::parse(&text).unwrap();
            let _ = path.eval(&input, &ctx);
            let _ = path.not_found_detail(&input, &ctx);
            let _ = path.get(&input);
            let mut doc = input.clone();
            let _ = path.set(&mut doc, json!(1));
        }

        #[test]
        fn normalized_form_parses_back(text in path_text()) {
            let path = Path::parse(&text).unwrap();
            let again = Path::parse(&path.normalized()).unwrap();
            prop_assert_eq!(again, path);
        }

        #[test]
        fn get_agrees_with_eval(text in path_text(), input in json_value()) {
            let path = Path::parse(&text).unwrap();
            if let Some(v) = path.get(&input) {
                let evaluated = path.eval(&input, &input).ok();
                prop_assert_eq!(evaluated.as_ref(), Some(v));
            }
        }
    }
}
