//! The stack: parameters, constructs and outputs, synthesized into one SAM template.

use crate::InfraError;
use crate::expr::{Expr, LogicalId};
use crate::key_use::KeyUse;
use crate::node::{self, Node};

/// A piece of the stack that lowers itself into one or more resources.
pub trait Construct {
    /// Adds this construct's resources to `scope`, checking what can only be checked once
    /// every grant has been made.
    fn synthesize(self, scope: &mut Scope) -> Result<(), InfraError>;
}

/// A checkov finding accepted on purpose, with the reason written into the template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The checkov check id, e.g. `CKV_AWS_116`.
    pub check: &'static str,
    /// Why the finding does not apply: never empty.
    pub reason: &'static str,
}

/// One resource of the template.
#[derive(Clone, Debug)]
pub struct Resource {
    kind: &'static str,
    properties: Node,
    metadata: Node,
    depends_on: Vec<LogicalId>,
    /// `Retain` or `Delete`, written as both `DeletionPolicy` and `UpdateReplacePolicy`.
    policy: Option<&'static str>,
}

impl Resource {
    /// A resource of CloudFormation type `kind`.
    pub fn new(kind: &'static str, properties: Node) -> Self {
        Resource {
            kind,
            properties,
            metadata: Node::map(),
            depends_on: Vec::new(),
            policy: None,
        }
    }

    /// This resource created only after `id` (CloudFormation's `DependsOn`), for an order
    /// no reference implies: a state machine after the policy that lets its role log.
    pub fn depends_on(mut self, id: &LogicalId) -> Self {
        self.depends_on.push(id.clone());
        self
    }

    /// This resource kept when the stack is deleted or the resource replaced
    /// (`DeletionPolicy` and `UpdateReplacePolicy: Retain`): data outlives its stack.
    pub fn retained(mut self) -> Self {
        self.policy = Some("Retain");
        self
    }

    /// This resource deleted with the stack or when replaced, said explicitly for a resource
    /// that holds data only for a while (a queue whose messages expire).
    pub fn deleted_with_stack(mut self) -> Self {
        self.policy = Some("Delete");
        self
    }

    /// This resource with one more `Metadata` entry.
    pub fn metadata(mut self, key: &str, value: Node) -> Self {
        self.metadata = self.metadata.with(key, value);
        self
    }

    /// This resource with checkov findings suppressed, each with its reason.
    pub fn suppress(self, suppressions: &[Suppression]) -> Self {
        if suppressions.is_empty() {
            return self;
        }
        let skips = suppressions
            .iter()
            .map(|s| Node::map().with("id", s.check).with("comment", s.reason));
        self.metadata("checkov", Node::map().with("skip", Node::seq(skips)))
    }

    fn to_node(&self) -> Node {
        let node = Node::map().with("Type", self.kind);
        let node = match self.policy {
            Some(policy) => node
                .with("DeletionPolicy", policy)
                .with("UpdateReplacePolicy", policy),
            None => node,
        };
        let node = match self.depends_on.as_slice() {
            [] => node,
            ids => node.with("DependsOn", Node::seq(ids.iter().map(LogicalId::as_str))),
        };
        let node = match &self.metadata {
            Node::Map(entries) if entries.is_empty() => node,
            metadata => node.with("Metadata", metadata.clone()),
        };
        node.with("Properties", self.properties.clone())
    }
}

/// Where constructs put their resources.
#[derive(Debug)]
pub struct Scope {
    asset_root: String,
    resources: Vec<(LogicalId, Resource)>,
    key_uses: Vec<KeyUse>,
    keys_written: Vec<LogicalId>,
}

impl Scope {
    /// Adds a resource under `id`.
    pub fn add(&mut self, id: &LogicalId, resource: Resource) -> Result<(), InfraError> {
        if self.resources.iter().any(|(existing, _)| existing == id) {
            return Err(InfraError::DuplicateLogicalId {
                id: id.as_str().to_owned(),
            });
        }
        self.resources.push((id.clone(), resource));
        Ok(())
    }

    /// `path` (relative to the repository root) as seen from the template's folder, which is
    /// how SAM resolves `CodeUri` and `DefinitionS3Location`.
    pub fn asset(&self, path: &str) -> String {
        format!("{}{path}", self.asset_root)
    }

    /// Records that a principal uses a KMS key, for the key's policy. The key must not have
    /// been added to the stack yet: its policy is written from the uses made before it.
    pub(crate) fn use_key(&mut self, key_use: KeyUse) -> Result<(), InfraError> {
        if self.keys_written.contains(&key_use.key) {
            return Err(InfraError::KeyAddedTooEarly {
                key: key_use.key.to_string(),
                user: key_use.sid,
            });
        }
        self.key_uses.push(key_use);
        Ok(())
    }

    /// The uses recorded for `key`, which is being written now; later uses are refused.
    pub(crate) fn take_key_uses(&mut self, key: &LogicalId) -> Vec<KeyUse> {
        self.keys_written.push(key.clone());
        let (mine, others) = std::mem::take(&mut self.key_uses)
            .into_iter()
            .partition(|u| &u.key == key);
        self.key_uses = others;
        mine
    }

    /// Fails when a key use names a key the stack never added.
    pub(crate) fn check_key_uses(&self) -> Result<(), InfraError> {
        match self.key_uses.first() {
            Some(orphan) => Err(InfraError::UnknownKey {
                key: orphan.key.to_string(),
                user: orphan.sid.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// The type of a template parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterType {
    /// `String`
    String,
    /// `Number`
    Number,
}

/// A value the deployer chooses (`sam deploy --guided` asks for each).
#[derive(Clone, Debug)]
pub struct Parameter {
    id: LogicalId,
    kind: ParameterType,
    description: String,
    allowed: Vec<String>,
    default: String,
}

/// Builds a [`Parameter`].
#[derive(Clone, Debug)]
pub struct ParameterBuilder {
    id: String,
    kind: ParameterType,
    description: String,
    allowed: Vec<String>,
    default: Option<String>,
}

impl ParameterBuilder {
    /// A parameter named `id`.
    pub fn new(id: &str, kind: ParameterType) -> Self {
        ParameterBuilder {
            id: id.to_owned(),
            kind,
            description: String::new(),
            allowed: Vec::new(),
            default: None,
        }
    }

    /// What the deployer is choosing.
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.to_owned();
        self
    }

    /// The only values accepted.
    pub fn allowed<S: ToString>(mut self, values: impl IntoIterator<Item = S>) -> Self {
        self.allowed = values.into_iter().map(|v| v.to_string()).collect();
        self
    }

    /// The value used when the deployer gives none; must be one of the allowed values.
    pub fn default(mut self, value: impl ToString) -> Self {
        self.default = Some(value.to_string());
        self
    }

    /// Checks the parameter.
    pub fn build(self) -> Result<Parameter, InfraError> {
        let id = LogicalId::new(&self.id)?;
        let invalid = |setting, value: String, expected| InfraError::InvalidSetting {
            construct: self.id.clone(),
            setting,
            value,
            expected,
        };
        let default = self
            .default
            .clone()
            .ok_or_else(|| invalid("default", "missing".into(), "a parameter needs a default"))?;
        if !self.allowed.is_empty() && !self.allowed.contains(&default) {
            return Err(invalid(
                "default",
                default,
                "the default must be one of the allowed values",
            ));
        }
        if self.kind == ParameterType::Number {
            if let Some(bad) = std::iter::once(&default)
                .chain(&self.allowed)
                .find(|v| v.parse::<i64>().is_err())
            {
                return Err(invalid(
                    "value",
                    bad.clone(),
                    "a Number parameter takes integers",
                ));
            }
        }
        Ok(Parameter {
            id,
            kind: self.kind,
            description: self.description,
            allowed: self.allowed,
            default,
        })
    }
}

impl Parameter {
    fn value_node(&self, value: &str) -> Node {
        match (self.kind, value.parse::<i64>()) {
            (ParameterType::Number, Ok(n)) => Node::Int(n),
            _ => Node::from(value),
        }
    }

    fn to_node(&self) -> Node {
        let kind = match self.kind {
            ParameterType::String => "String",
            ParameterType::Number => "Number",
        };
        let node = Node::map()
            .with("Type", kind)
            .with("Description", self.description.as_str());
        let node = if self.allowed.is_empty() {
            node
        } else {
            node.with(
                "AllowedValues",
                Node::Seq(self.allowed.iter().map(|v| self.value_node(v)).collect()),
            )
        };
        node.with("Default", self.value_node(&self.default))
    }
}

/// A stack output: shown by `sam deploy` and in the CloudFormation console.
#[derive(Clone, Debug)]
struct Output {
    name: LogicalId,
    description: String,
    value: Expr,
}

/// The whole stack; [`Stack::to_yaml`] writes the SAM template.
#[derive(Debug)]
pub struct Stack {
    description: String,
    parameters: Vec<Parameter>,
    scope: Scope,
    outputs: Vec<Output>,
}

impl Stack {
    /// An empty stack. `asset_root` is the repository root as seen from the template's folder
    /// (`../` for `infra/template.yaml`).
    pub fn new(description: &str, asset_root: &str) -> Self {
        Stack {
            description: description.to_owned(),
            parameters: Vec::new(),
            scope: Scope {
                asset_root: asset_root.to_owned(),
                resources: Vec::new(),
                key_uses: Vec::new(),
                keys_written: Vec::new(),
            },
            outputs: Vec::new(),
        }
    }

    /// Declares a parameter and returns a reference to its value.
    pub fn parameter(&mut self, parameter: Parameter) -> Result<Expr, InfraError> {
        if self.parameters.iter().any(|p| p.id == parameter.id) {
            return Err(InfraError::DuplicateLogicalId {
                id: parameter.id.to_string(),
            });
        }
        let reference = Expr::reference(&parameter.id);
        self.parameters.push(parameter);
        Ok(reference)
    }

    /// Adds a construct (after every grant to it has been made: adding consumes it).
    pub fn add(&mut self, construct: impl Construct) -> Result<(), InfraError> {
        construct.synthesize(&mut self.scope)
    }

    /// Declares an output.
    pub fn output(&mut self, name: &str, description: &str, value: Expr) -> Result<(), InfraError> {
        let name = LogicalId::new(name)?;
        if self.outputs.iter().any(|o| o.name == name) {
            return Err(InfraError::DuplicateLogicalId {
                id: name.to_string(),
            });
        }
        self.outputs.push(Output {
            name,
            description: description.to_owned(),
            value,
        });
        Ok(())
    }

    /// The template as a tree.
    pub fn to_node(&self) -> Node {
        let parameters = Node::Map(
            self.parameters
                .iter()
                .map(|p| (p.id.to_string(), p.to_node()))
                .collect(),
        );
        let resources = Node::Map(
            self.scope
                .resources
                .iter()
                .map(|(id, r)| (id.to_string(), r.to_node()))
                .collect(),
        );
        let outputs = Node::Map(
            self.outputs
                .iter()
                .map(|o| {
                    let node = Node::map()
                        .with("Description", o.description.as_str())
                        .with("Value", &o.value);
                    (o.name.to_string(), node)
                })
                .collect(),
        );
        Node::map()
            .with("AWSTemplateFormatVersion", "2010-09-09")
            .with("Transform", "AWS::Serverless-2016-10-31")
            .with("Description", self.description.as_str())
            .with("Parameters", parameters)
            .with("Resources", resources)
            .with("Outputs", outputs)
    }

    /// The template as JSON, for assertions.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_node().to_json()
    }

    /// Checks what can only be checked once every construct is in: every key use names a key
    /// of the stack.
    pub fn check(&self) -> Result<(), InfraError> {
        self.scope.check_key_uses()
    }

    /// The template as YAML, with a header saying where it comes from.
    pub fn to_yaml(&self) -> Result<String, InfraError> {
        self.check()?;
        let body = node::to_yaml(&self.to_node())?;
        Ok(format!(
            "# Generated by `cargo run -p infra -- synth` from infra/src: edit the Rust, not this file.\n{body}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(b: ParameterBuilder) -> Result<Parameter, InfraError> {
        b.build()
    }

    #[test]
    fn parameters_are_checked() {
        let ok = ParameterBuilder::new("Kind", ParameterType::String)
            .allowed(["A", "B"])
            .default("A");
        assert!(param(ok).is_ok());
        let bad_default = ParameterBuilder::new("Kind", ParameterType::String)
            .allowed(["A", "B"])
            .default("C");
        assert!(matches!(
            param(bad_default),
            Err(InfraError::InvalidSetting { .. })
        ));
        let no_default = ParameterBuilder::new("Kind", ParameterType::String);
        assert!(matches!(
            param(no_default),
            Err(InfraError::InvalidSetting { .. })
        ));
        let not_a_number = ParameterBuilder::new("Days", ParameterType::Number).default("x");
        assert!(matches!(
            param(not_a_number),
            Err(InfraError::InvalidSetting { .. })
        ));
        let bad_id = ParameterBuilder::new("Days-1", ParameterType::Number).default(1);
        assert!(matches!(
            param(bad_id),
            Err(InfraError::InvalidLogicalId { .. })
        ));
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let mut stack = Stack::new("d", "../");
        let p = || {
            ParameterBuilder::new("Kind", ParameterType::String)
                .default("A")
                .build()
        };
        assert!(p().and_then(|p| stack.parameter(p)).is_ok());
        assert!(matches!(
            p().and_then(|p| stack.parameter(p)),
            Err(InfraError::DuplicateLogicalId { .. })
        ));
        assert!(stack.output("Out", "d", Expr::stack_name()).is_ok());
        assert!(stack.output("Out", "d", Expr::stack_name()).is_err());
    }
}
