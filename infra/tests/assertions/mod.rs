//! A synthesized template to assert on, and helpers that read it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use infra::orderflow::{self, DEFINITION_PATH, ENTRY_DEFINITION_PATH};
use infra::{Definition, InfraError, Stack};
use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("infra has no parent folder"))
}

pub fn read(path: &str) -> String {
    let file = root().join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
}

/// The stack around `asl` (a definition's text).
pub fn stack_for(asl: &str) -> Result<Stack, InfraError> {
    orderflow::stack(
        Definition::parse(DEFINITION_PATH, asl)?,
        Definition::parse(ENTRY_DEFINITION_PATH, &read(ENTRY_DEFINITION_PATH))?,
    )
}

/// A synthesized template.
pub struct Template {
    pub json: Value,
    pub yaml: String,
}

impl Template {
    /// The template of the real stack and definition.
    pub fn synth() -> Template {
        let stack = stack_for(&read(DEFINITION_PATH)).unwrap_or_else(|e| panic!("{e}"));
        Template {
            json: stack.to_json(),
            yaml: stack.to_yaml().unwrap_or_else(|e| panic!("{e}")),
        }
    }

    pub fn resources(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.json["Resources"]
            .as_object()
            .unwrap_or_else(|| panic!("no Resources"))
            .iter()
    }

    pub fn resource_count_is(&self, kind: &str, count: usize) {
        let found = self.resources().filter(|(_, r)| r["Type"] == kind).count();
        assert_eq!(found, count, "number of {kind}");
    }

    pub fn resource(&self, id: &str) -> &Value {
        let r = &self.json["Resources"][id];
        assert!(r.is_object(), "no resource {id}");
        r
    }

    pub fn properties(&self, id: &str) -> &Value {
        &self.resource(id)["Properties"]
    }

    /// Every (action, resource) pair the role's policy allows, resources written compactly.
    /// A role's permissions are the one `AWS::IAM::RolePolicy` attached to it.
    pub fn permissions(&self, role: &str) -> BTreeSet<(String, String)> {
        let r = self.resource(role);
        assert_eq!(r["Type"], "AWS::IAM::Role", "{role} is not a role");
        assert!(
            r["Properties"].get("Policies").is_none(),
            "{role}: permissions live in its RolePolicy"
        );
        let policies: Vec<&Value> = self
            .resources()
            .filter(|(_, p)| {
                p["Type"] == "AWS::IAM::RolePolicy" && p["Properties"]["RoleName"]["Ref"] == role
            })
            .map(|(_, p)| p)
            .collect();
        assert_eq!(policies.len(), 1, "{role} has one policy");
        let mut out = BTreeSet::new();
        for statement in array(&policies[0]["Properties"]["PolicyDocument"]["Statement"]) {
            assert_eq!(
                statement["Effect"], "Allow",
                "{role}: only Allow statements"
            );
            for action in one_or_many(&statement["Action"]) {
                for resource in one_or_many(&statement["Resource"]) {
                    out.insert((text(action), compact(resource)));
                }
            }
        }
        out
    }

    /// The statements of a KMS key's policy.
    pub fn key_statements(&self, key: &str) -> &Vec<Value> {
        let r = self.resource(key);
        assert_eq!(r["Type"], "AWS::KMS::Key", "{key} is not a key");
        array(&r["Properties"]["KeyPolicy"]["Statement"])
    }

    /// The ids of the resources of type `kind`.
    pub fn ids_of(&self, kind: &str) -> Vec<&str> {
        self.resources()
            .filter(|(_, r)| r["Type"] == kind)
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

pub fn array(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

pub fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

pub fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// `Ref X`, `X.Arn`, `Sub <text>` or the literal.
pub fn compact(v: &Value) -> String {
    if let Some(s) = v.as_str() {
        return s.to_owned();
    }
    if let Some(r) = v.get("Ref") {
        return format!("Ref {}", text(r));
    }
    if let Some(g) = v.get("Fn::GetAtt") {
        return array(g).iter().map(text).collect::<Vec<_>>().join(".");
    }
    if let Some(s) = v.get("Fn::Sub") {
        return format!("Sub {}", text(s));
    }
    panic!("unexpected value {v}")
}

/// `(action, resource)` pairs from string literals, for expected sets.
pub fn pairs(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, r)| ((*a).to_owned(), (*r).to_owned()))
        .collect()
}
