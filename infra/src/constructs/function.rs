//! A Rust Lambda function built by cargo-lambda (`sam build`), with its own role and log group.

use super::Binding;
use super::Substitution;
use super::key::KmsKey;
use super::log_group::LogGroup;
use crate::InfraError;
use crate::expr::{Expr, LogicalId};
use crate::iam::{self, Action, Grant, Grantee, Policy, Service};
use crate::node::Node;
use crate::stack::{Construct, Resource, Scope, Suppression};

const NO_RESERVED_CONCURRENCY: Suppression = Suppression {
    check: "CKV_AWS_115",
    reason: "reserving concurrency fails to deploy in accounts still at the default quota of 10 \
             concurrent executions; throttles surface as Lambda.TooManyRequestsException, which \
             the state machine retries",
};
const NO_DEAD_LETTER_QUEUE: Suppression = Suppression {
    check: "CKV_AWS_116",
    reason: "invoked synchronously by Step Functions, which retries and catches every failure; \
             a dead-letter queue only ever receives asynchronous invocations",
};
const NO_VPC: Suppression = Suppression {
    check: "CKV_AWS_117",
    reason: "calls only AWS service endpoints and reaches no private network resource; a VPC \
             would add NAT or endpoint cost without isolating anything",
};
const PLAIN_ENVIRONMENT: Suppression = Suppression {
    check: "CKV_AWS_173",
    reason: "the variables hold resource names, never secrets; Lambda encrypts them at rest \
             with its AWS-managed key",
};

/// Builds a [`RustFunction`].
#[derive(Clone, Debug)]
pub struct RustFunctionBuilder {
    id: String,
    binary: String,
    description: String,
    memory_mb: u32,
    timeout_secs: u32,
    environment: Vec<(String, Expr)>,
    log_retention_days: Option<Expr>,
    log_key: Option<LogicalId>,
}

impl RustFunctionBuilder {
    /// A function with logical id `id` running the workspace binary `binary` (its `[[bin]]`
    /// name, which cargo-lambda builds into `target/lambda/<binary>/bootstrap`).
    ///
    /// Defaults: 128 MB of memory, a 10 second timeout.
    pub fn new(id: &str, binary: &str) -> Self {
        RustFunctionBuilder {
            id: id.to_owned(),
            binary: binary.to_owned(),
            description: String::new(),
            memory_mb: 128,
            timeout_secs: 10,
            environment: Vec::new(),
            log_retention_days: None,
            log_key: None,
        }
    }

    /// What the function does, shown in the Lambda console.
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.to_owned();
        self
    }

    /// Memory in MB (128 to 10240); CPU share grows with it.
    pub fn memory_mb(mut self, memory_mb: u32) -> Self {
        self.memory_mb = memory_mb;
        self
    }

    /// Timeout in seconds (1 to 900).
    pub fn timeout_secs(mut self, timeout_secs: u32) -> Self {
        self.timeout_secs = timeout_secs;
        self
    }

    /// An environment variable, e.g. the name of a table the code uses.
    pub fn environment(mut self, name: &str, value: Expr) -> Self {
        self.environment.push((name.to_owned(), value));
        self
    }

    /// How long the function's log group keeps its logs (required).
    pub fn log_retention_days(mut self, days: Expr) -> Self {
        self.log_retention_days = Some(days);
        self
    }

    /// The customer-managed key the function's log group is encrypted with (required).
    pub fn logs_encrypted_with(mut self, key: &KmsKey) -> Self {
        self.log_key = Some(key.logical_id().clone());
        self
    }

    /// Checks the settings against Lambda's limits.
    pub fn build(self) -> Result<RustFunction, InfraError> {
        let id = LogicalId::new(&self.id)?;
        let invalid = |setting, value: String, expected| InfraError::InvalidSetting {
            construct: self.id.clone(),
            setting,
            value,
            expected,
        };
        let binary_ok = !self.binary.is_empty()
            && self
                .binary
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !binary_ok {
            return Err(invalid(
                "binary",
                self.binary.clone(),
                "a cargo binary name: letters, digits, `-` or `_`",
            ));
        }
        if !(128..=10_240).contains(&self.memory_mb) {
            return Err(invalid(
                "memory size",
                format!("{} MB", self.memory_mb),
                "Lambda accepts 128 to 10240 MB",
            ));
        }
        if !(1..=900).contains(&self.timeout_secs) {
            return Err(invalid(
                "timeout",
                format!("{} s", self.timeout_secs),
                "Lambda accepts 1 to 900 seconds",
            ));
        }
        for (name, _) in &self.environment {
            let valid = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            // Lambda sets the `AWS_*` variables itself and rejects templates that set them.
            if !valid || name.starts_with("AWS_") {
                return Err(invalid(
                    "environment variable",
                    name.clone(),
                    "a name of letters, digits and `_` that starts with a letter and not `AWS_`",
                ));
            }
        }
        let retention = super::required(&self.id, "log retention", self.log_retention_days)?;
        let log_key = self.log_key.ok_or_else(|| InfraError::InvalidSetting {
            construct: self.id.clone(),
            setting: "log encryption key",
            value: "missing".to_owned(),
            expected: "every log group is encrypted with a customer-managed key",
        })?;
        let log_group = LogGroup::new(
            id.child("LogGroup")?,
            Expr::concat([
                "/aws/lambda/".into(),
                Expr::stack_name(),
                Expr::literal(format!("/{}", self.binary)),
            ]),
            retention,
            &log_key,
        );
        let mut policy = Policy::default();
        policy.add(log_group.write_grant());
        policy.add_unscoped(iam::LAMBDA_TRACING);
        Ok(RustFunction {
            role_id: id.child("Role")?,
            id,
            binary: self.binary,
            description: self.description,
            memory_mb: self.memory_mb,
            timeout_secs: self.timeout_secs,
            environment: self.environment,
            log_group,
            policy,
        })
    }
}

/// A Lambda function on `provided.al2023`/arm64 whose role holds only what it is granted,
/// plus writing to its own log group and sending X-Ray traces.
#[derive(Clone, Debug)]
pub struct RustFunction {
    id: LogicalId,
    role_id: LogicalId,
    binary: String,
    description: String,
    memory_mb: u32,
    timeout_secs: u32,
    environment: Vec<(String, Expr)>,
    log_group: LogGroup,
    policy: Policy,
}

impl RustFunction {
    /// The function's logical id.
    pub fn logical_id(&self) -> &LogicalId {
        &self.id
    }

    /// The function's ARN.
    pub fn arn(&self) -> Expr {
        Expr::attribute(&self.id, "Arn")
    }

    /// The function's name (what `cargo lambda deploy` and `aws lambda invoke` take).
    pub fn name(&self) -> Expr {
        Expr::reference(&self.id)
    }

    /// Lets `grantee` invoke this function, unqualified or through any version or alias
    /// (Step Functions calls `…:function:name:$LATEST`-style qualified ARNs too).
    pub fn grant_invoke(&self, grantee: &mut impl Grantee) {
        let qualified = Expr::concat([self.arn(), ":*".into()]);
        grantee.grant(Grant::new(
            &self.id,
            &[Action::LambdaInvokeFunction],
            vec![self.arn(), qualified],
        ));
    }
}

impl Grantee for RustFunction {
    fn grant(&mut self, grant: Grant) {
        self.policy.add(grant);
    }
}

impl Substitution for RustFunction {
    /// `${<LogicalId>Arn}`, e.g. `${VerifyPaymentFunctionArn}`.
    fn binding(&self) -> Binding {
        Binding::new(format!("{}Arn", self.id), self.arn(), &self.id)
    }
}

impl Construct for RustFunction {
    fn synthesize(self, scope: &mut Scope) -> Result<(), InfraError> {
        let mut suppressions = vec![NO_RESERVED_CONCURRENCY, NO_DEAD_LETTER_QUEUE, NO_VPC];
        if !self.environment.is_empty() {
            suppressions.push(PLAIN_ENVIRONMENT);
        }
        let environment = (!self.environment.is_empty()).then(|| {
            let variables = self
                .environment
                .iter()
                .map(|(name, value)| (name.clone(), value.to_node()))
                .collect();
            Node::map().with("Variables", Node::Map(variables))
        });
        let properties = Node::map()
            .with_some(
                "Description",
                (!self.description.is_empty()).then_some(self.description.as_str()),
            )
            .with("CodeUri", scope.asset(""))
            .with("Handler", "bootstrap")
            .with("Runtime", "provided.al2023")
            .with("Architectures", Node::seq(["arm64"]))
            .with("MemorySize", self.memory_mb)
            .with("Timeout", self.timeout_secs)
            .with("Tracing", "Active")
            .with("Role", Expr::attribute(&self.role_id, "Arn"))
            .with(
                "LoggingConfig",
                Node::map()
                    .with("LogFormat", "JSON")
                    .with("LogGroup", Expr::reference(self.log_group.id())),
            )
            .with_some("Environment", environment);
        let function = Resource::new("AWS::Serverless::Function", properties)
            .metadata("BuildMethod", "rust-cargolambda".into())
            .metadata(
                "BuildProperties",
                Node::map().with("Binary", self.binary.as_str()),
            )
            .suppress(&suppressions);
        let policy_id = self.role_id.child("Policy")?;
        scope.add(&self.id, function.depends_on(&policy_id))?;
        scope.add(&self.role_id, iam::role(&self.id, Service::Lambda, &[]))?;
        scope.add(&policy_id, iam::role_policy(&self.role_id, &self.policy))?;
        for key_use in self.policy.key_uses(&self.id, &self.role_id) {
            scope.use_key(key_use)?;
        }
        scope.use_key(self.log_group.key_use())?;
        scope.add(self.log_group.id(), self.log_group.resource())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(b: RustFunctionBuilder) -> Result<RustFunction, InfraError> {
        let key = KmsKey::new("Key", "logs", "logs").unwrap_or_else(|e| panic!("{e}"));
        b.log_retention_days(Expr::literal("30"))
            .logs_encrypted_with(&key)
            .build()
    }

    fn rejected(b: RustFunctionBuilder, setting: &str) {
        match build(b) {
            Err(InfraError::InvalidSetting { setting: s, .. }) => assert_eq!(s, setting),
            other => panic!("expected an invalid {setting}, got {other:?}"),
        }
    }

    fn f() -> RustFunctionBuilder {
        RustFunctionBuilder::new("Fn", "fn-bin")
    }

    #[test]
    fn settings_outside_lambda_limits_are_rejected() {
        assert!(build(f()).is_ok());
        rejected(f().memory_mb(64), "memory size");
        rejected(f().memory_mb(10_241), "memory size");
        rejected(f().timeout_secs(0), "timeout");
        rejected(f().timeout_secs(901), "timeout");
        rejected(
            f().environment("AWS_REGION", Expr::literal("x")),
            "environment variable",
        );
        rejected(
            f().environment("1X", Expr::literal("x")),
            "environment variable",
        );
        rejected(
            f().environment("", Expr::literal("x")),
            "environment variable",
        );
        rejected(RustFunctionBuilder::new("Fn", "a b"), "binary");
        assert!(matches!(
            f().build(),
            Err(InfraError::InvalidSetting {
                setting: "log retention",
                ..
            })
        ));
        assert!(matches!(
            f().log_retention_days(Expr::literal("30")).build(),
            Err(InfraError::InvalidSetting {
                setting: "log encryption key",
                ..
            })
        ));
    }

    #[test]
    fn invoke_grants_cover_qualified_arns() {
        #[derive(Default)]
        struct Sink(Vec<Grant>);
        impl Grantee for Sink {
            fn grant(&mut self, grant: Grant) {
                self.0.push(grant);
            }
        }
        let function = build(f()).unwrap_or_else(|e| panic!("{e}"));
        let mut sink = Sink::default();
        function.grant_invoke(&mut sink);
        let resources = Node::seq(
            sink.0
                .iter()
                .flat_map(|g| g.resources().iter().map(Expr::to_node)),
        );
        assert_eq!(
            resources.to_json(),
            serde_json::json!([{"Fn::GetAtt": ["Fn", "Arn"]}, {"Fn::Sub": "${Fn.Arn}:*"}])
        );
    }
}
