//! The processed syntax tree the evaluator walks: jsonata.js's post-parse AST (`processAST`),
//! with paths flattened into steps and predicates, groupings, bindings and parent slots
//! attached to the steps they apply to.

use std::sync::Arc;

use crate::regex::JsRegex;
use crate::signature::Signature;

/// A node of the processed tree, with the annotations jsonata's post-parser attaches.
#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub position: usize,
    /// `[]` after a step: keep singleton arrays.
    pub keep_array: bool,
    /// Filters on a node that is not a path step (`$x[0]`, `(a)[1]`).
    pub predicate: Vec<Node>,
    /// Filters and `#` index bindings on a path step, in order.
    pub stages: Vec<Stage>,
    /// `{...}` grouping after the node.
    pub group: Option<Box<Group>>,
    /// `@$v`: the variable the step's value binds to.
    pub focus: Option<String>,
    /// `#$i`: the variable the step's position binds to.
    pub index: Option<String>,
    /// The step takes part in a tuple stream (bindings, parent references).
    pub tuple: bool,
    /// The parent slot this step provides for a `%` further on.
    pub ancestor: Option<usize>,
    /// An array constructor at the start or end of a path, which must not be flattened.
    pub consarray: bool,
    /// Parent slots still looking for their ancestor step (post-parse only).
    pub seeking_parent: Vec<usize>,
}

#[derive(Debug)]
pub(crate) enum Stage {
    Filter(Node),
    Index(String),
}

#[derive(Debug)]
pub(crate) struct Group {
    pub pairs: Vec<(Node, Node)>,
    pub position: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    And,
    Or,
    In,
    Range,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Concat => "&",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::In => "in",
            BinOp::Range => "..",
        }
    }

    pub fn from_symbol(s: &str) -> Option<BinOp> {
        Some(match s {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            "=" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "&" => BinOp::Concat,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            "in" => BinOp::In,
            ".." => BinOp::Range,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub(crate) struct SortTerm {
    pub descending: bool,
    pub expression: Node,
}

#[derive(Debug)]
pub(crate) struct Lambda {
    pub params: Vec<String>,
    pub signature: Option<Signature>,
    pub body: Node,
    /// A tail call wrapped by the post-parser; the trampoline in `apply` unpacks it.
    pub thunk: bool,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Path {
        steps: Vec<Node>,
        keep_singleton_array: bool,
    },
    Binary {
        op: BinOp,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Negate(Box<Node>),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
    Name(String),
    String(Arc<str>),
    Number(f64),
    Bool(bool),
    Null,
    Wildcard,
    Descendant,
    Parent(usize),
    Condition {
        condition: Box<Node>,
        then: Box<Node>,
        otherwise: Option<Box<Node>>,
    },
    Block(Vec<Node>),
    Bind {
        name: String,
        value: Box<Node>,
    },
    Regex(Arc<JsRegex>),
    Function {
        procedure: Box<Node>,
        arguments: Vec<Node>,
    },
    Partial {
        procedure: Box<Node>,
        arguments: Vec<Node>,
    },
    Placeholder,
    Variable(String),
    Lambda(Arc<Lambda>),
    Apply {
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Transform {
        pattern: Box<Node>,
        update: Box<Node>,
        delete: Option<Box<Node>>,
    },
    Sort(Vec<SortTerm>),
}

impl Node {
    pub fn new(kind: Kind, position: usize) -> Node {
        Node {
            kind,
            position,
            keep_array: false,
            predicate: Vec::new(),
            stages: Vec::new(),
            group: None,
            focus: None,
            index: None,
            tuple: false,
            ancestor: None,
            consarray: false,
            seeking_parent: Vec::new(),
        }
    }

    pub fn is_path(&self) -> bool {
        matches!(self.kind, Kind::Path { .. })
    }

    /// jsonata's `type` of the node, as it appears in error messages (`S0217`).
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Path { .. } => "path",
            Kind::Binary { .. } => "binary",
            Kind::Negate(_) | Kind::Array(_) | Kind::Object(_) => "unary",
            Kind::Name(_) => "name",
            Kind::String(_) => "string",
            Kind::Number(_) => "number",
            Kind::Bool(_) | Kind::Null => "value",
            Kind::Wildcard => "wildcard",
            Kind::Descendant => "descendant",
            Kind::Parent(_) => "parent",
            Kind::Condition { .. } => "condition",
            Kind::Block(_) => "block",
            Kind::Bind { .. } => "bind",
            Kind::Regex(_) => "regex",
            Kind::Function { .. } => "function",
            Kind::Partial { .. } => "partial",
            Kind::Placeholder => "operator",
            Kind::Variable(_) => "variable",
            Kind::Lambda(_) => "lambda",
            Kind::Apply { .. } => "apply",
            Kind::Transform { .. } => "transform",
            Kind::Sort(_) => "sort",
        }
    }
}
