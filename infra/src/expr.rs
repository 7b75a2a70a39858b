//! Logical ids and the values that refer to them (`Ref`, `Fn::GetAtt`, `Fn::Sub`).
//!
//! References are made by code from a construct's [`LogicalId`], never typed by hand, so
//! renaming a construct renames every reference to it.

use std::fmt;

use crate::InfraError;
use crate::node::Node;

/// A CloudFormation logical id: 1 to 255 ASCII letters or digits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogicalId(String);

impl LogicalId {
    /// Checks `id` against CloudFormation's rules.
    pub fn new(id: &str) -> Result<Self, InfraError> {
        let valid = (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if valid {
            Ok(LogicalId(id.to_owned()))
        } else {
            Err(InfraError::InvalidLogicalId { id: id.to_owned() })
        }
    }

    /// The id of a resource a construct owns, e.g. `VerifyPaymentFunctionRole`.
    pub fn child(&self, suffix: &str) -> Result<Self, InfraError> {
        LogicalId::new(&format!("{}{suffix}", self.0))
    }

    /// The id as written in the template.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value CloudFormation resolves at deploy time, or a literal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Expr {
    /// A literal string.
    Str(String),
    /// `Ref`: a resource's id-like value (ARN for topics and state machines, name for tables
    /// and functions), a parameter's value, or a pseudo parameter such as `AWS::StackName`.
    Ref(String),
    /// `Fn::GetAtt`: an attribute of a resource, e.g. a function's `Arn`.
    GetAtt(String, String),
    /// `Fn::Sub`: the parts concatenated.
    Sub(Vec<Expr>),
}

impl Expr {
    /// A literal.
    pub fn literal(s: impl Into<String>) -> Self {
        Expr::Str(s.into())
    }

    /// `Ref` to a resource or parameter.
    pub fn reference(id: &LogicalId) -> Self {
        Expr::Ref(id.as_str().to_owned())
    }

    /// `Fn::GetAtt` of a resource.
    pub fn attribute(id: &LogicalId, attribute: &str) -> Self {
        Expr::GetAtt(id.as_str().to_owned(), attribute.to_owned())
    }

    /// The parts joined into one string by `Fn::Sub`.
    pub fn concat(parts: impl IntoIterator<Item = Expr>) -> Self {
        Expr::Sub(parts.into_iter().collect())
    }

    /// The stack's name (`AWS::StackName`).
    pub fn stack_name() -> Self {
        Expr::Ref("AWS::StackName".to_owned())
    }

    /// The account the stack is deployed in (`AWS::AccountId`).
    pub fn account_id() -> Self {
        Expr::Ref("AWS::AccountId".to_owned())
    }

    /// The partition the stack is deployed in (`AWS::Partition`).
    pub fn partition() -> Self {
        Expr::Ref("AWS::Partition".to_owned())
    }

    /// The region the stack is deployed in (`AWS::Region`).
    pub fn region() -> Self {
        Expr::Ref("AWS::Region".to_owned())
    }

    /// The logical id this value refers to, when it refers to a resource or parameter.
    pub fn target(&self) -> Option<&str> {
        match self {
            Expr::Ref(id) | Expr::GetAtt(id, _) if !id.starts_with("AWS::") => Some(id),
            _ => None,
        }
    }

    /// The value in the template's long form (`Ref:`, `Fn::GetAtt:`, `Fn::Sub:`).
    pub fn to_node(&self) -> Node {
        match self {
            Expr::Str(s) => Node::from(s.as_str()),
            Expr::Ref(id) => Node::map().with("Ref", id.as_str()),
            Expr::GetAtt(id, attribute) => {
                Node::map().with("Fn::GetAtt", Node::seq([id.as_str(), attribute.as_str()]))
            }
            Expr::Sub(_) => {
                let mut text = String::new();
                self.write_sub(&mut text);
                Node::map().with("Fn::Sub", text)
            }
        }
    }

    fn write_sub(&self, out: &mut String) {
        match self {
            // `${!` is Fn::Sub's escape for a literal `${`.
            Expr::Str(s) => out.push_str(&s.replace("${", "${!")),
            Expr::Ref(id) => {
                out.push_str("${");
                out.push_str(id);
                out.push('}');
            }
            Expr::GetAtt(id, attribute) => {
                out.push_str("${");
                out.push_str(id);
                out.push('.');
                out.push_str(attribute);
                out.push('}');
            }
            Expr::Sub(parts) => parts.iter().for_each(|p| p.write_sub(out)),
        }
    }
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Expr::literal(s)
    }
}

impl From<Expr> for Node {
    fn from(e: Expr) -> Self {
        e.to_node()
    }
}

impl From<&Expr> for Node {
    fn from(e: &Expr) -> Self {
        e.to_node()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> LogicalId {
        LogicalId::new(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn rejects(s: &str) {
        assert!(LogicalId::new(s).is_err(), "`{s}` should be rejected");
    }

    fn sub(e: Expr) -> serde_json::Value {
        e.to_node().to_json()
    }

    #[test]
    fn logical_ids() {
        assert_eq!(id("OrdersTable").as_str(), "OrdersTable");
        assert_eq!(
            id("Fn").child("Role").map(|c| c.to_string()).ok(),
            Some("FnRole".into())
        );
        rejects("");
        rejects("Orders-Table");
        rejects("Orders Table");
        rejects("Ordérs");
        rejects(&"A".repeat(256));
    }

    #[test]
    fn long_form_intrinsics() {
        let t = id("OrdersTable");
        assert_eq!(
            sub(Expr::reference(&t)),
            serde_json::json!({"Ref": "OrdersTable"})
        );
        assert_eq!(
            sub(Expr::attribute(&t, "Arn")),
            serde_json::json!({"Fn::GetAtt": ["OrdersTable", "Arn"]})
        );
    }

    #[test]
    fn sub_renders_references_inline_and_escapes_literals() {
        let f = id("Fn");
        let e = Expr::concat([Expr::attribute(&f, "Arn"), ":*".into()]);
        assert_eq!(sub(e), serde_json::json!({"Fn::Sub": "${Fn.Arn}:*"}));
        let e = Expr::concat(["echo ${HOME} in ".into(), Expr::stack_name()]);
        assert_eq!(
            sub(e),
            serde_json::json!({"Fn::Sub": "echo ${!HOME} in ${AWS::StackName}"})
        );
    }

    #[test]
    fn targets() {
        let f = id("Fn");
        assert_eq!(Expr::attribute(&f, "Arn").target(), Some("Fn"));
        assert_eq!(Expr::reference(&f).target(), Some("Fn"));
        assert_eq!(Expr::stack_name().target(), None);
        assert_eq!(Expr::literal("x").target(), None);
    }
}
