//! The synthesized document: an ordered tree of YAML values that may carry comments.
//!
//! Constructs lower themselves into this tree; it is written out as YAML (with comments) for
//! `template.yaml`, or as plain JSON (without comments) for assertions in tests.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// One value of the template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// A list, in order.
    Seq(Vec<Node>),
    /// A mapping, in insertion order (the order the template is read in).
    Map(Vec<(String, Node)>),
    /// A scalar followed by a `# comment` on the same line.
    Commented(Box<Node>, String),
}

impl Node {
    /// An empty mapping to be filled with [`Node::with`].
    pub fn map() -> Self {
        Node::Map(Vec::new())
    }

    /// This mapping with one more entry (a no-op on anything but a mapping).
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Node>) -> Self {
        if let Node::Map(entries) = &mut self {
            entries.push((key.into(), value.into()));
        }
        self
    }

    /// This mapping with one more entry when `value` is `Some`.
    pub fn with_some(self, key: impl Into<String>, value: Option<impl Into<Node>>) -> Self {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    /// A list of the given values.
    pub fn seq<T: Into<Node>>(items: impl IntoIterator<Item = T>) -> Self {
        Node::Seq(items.into_iter().map(Into::into).collect())
    }

    /// This scalar with a comment explaining it.
    pub fn commented(self, comment: impl Into<String>) -> Self {
        Node::Commented(Box::new(self), comment.into())
    }

    /// The value under `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Node::Commented(inner, _) => inner.get(key),
            _ => None,
        }
    }

    /// The tree as JSON, comments dropped.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Node::Commented(inner, _) => inner.to_json(),
        }
    }

    /// Every comment in the tree with the scalar it is attached to, in document order.
    pub fn comments(&self) -> Vec<(&Node, &str)> {
        let mut out = Vec::new();
        self.collect_comments(&mut out);
        out
    }

    fn collect_comments<'a>(&'a self, out: &mut Vec<(&'a Node, &'a str)>) {
        match self {
            Node::Seq(items) => items.iter().for_each(|n| n.collect_comments(out)),
            Node::Map(entries) => entries.iter().for_each(|(_, n)| n.collect_comments(out)),
            Node::Commented(inner, comment) => out.push((inner, comment)),
            Node::Bool(_) | Node::Int(_) | Node::Str(_) => {}
        }
    }
}

impl From<&str> for Node {
    fn from(s: &str) -> Self {
        Node::Str(s.to_owned())
    }
}

impl From<String> for Node {
    fn from(s: String) -> Self {
        Node::Str(s)
    }
}

impl From<bool> for Node {
    fn from(b: bool) -> Self {
        Node::Bool(b)
    }
}

impl From<i64> for Node {
    fn from(i: i64) -> Self {
        Node::Int(i)
    }
}

impl From<u32> for Node {
    fn from(i: u32) -> Self {
        Node::Int(i64::from(i))
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Int(i) => serializer.serialize_i64(*i),
            Node::Str(s) => serializer.serialize_str(s),
            Node::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            Node::Commented(inner, comment) => {
                serde_saphyr::Commented(inner.as_ref(), comment.clone()).serialize(serializer)
            }
        }
    }
}

/// The tree as YAML, comments included.
pub(crate) fn to_yaml(node: &Node) -> Result<String, crate::InfraError> {
    // Long strings (the start-execution command) stay on one line: easier to copy from the file.
    let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
    serde_saphyr::to_string_with_options(node, options)
        .map_err(|e| crate::InfraError::Yaml(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(node: Node) -> String {
        to_yaml(&node).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn mappings_keep_insertion_order() {
        let node = Node::map().with("Zeta", 1_i64).with("Alpha", 2_i64);
        assert_eq!(yaml(node), "Zeta: 1\nAlpha: 2\n");
    }

    #[test]
    fn comments_follow_their_scalar() {
        let node = Node::map().with("Resource", Node::from("*").commented("why"));
        assert_eq!(yaml(node), "Resource: \"*\" # why\n");
    }

    #[test]
    fn strings_that_look_like_other_types_are_quoted() {
        let node = Node::map()
            .with("Version", "2012-10-17")
            .with("Flag", "true");
        assert_eq!(yaml(node), "Version: \"2012-10-17\"\nFlag: \"true\"\n");
    }

    #[test]
    fn json_drops_comments() {
        let node = Node::map().with("Resource", Node::from("*").commented("why"));
        assert_eq!(node.to_json(), serde_json::json!({"Resource": "*"}));
        assert_eq!(node.comments(), vec![(&Node::from("*"), "why")]);
    }
}
