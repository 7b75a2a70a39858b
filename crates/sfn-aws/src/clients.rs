//! SDK clients for one endpoint (or the normal AWS environment), and the calls that prepare a
//! local endpoint for the workflow.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use serde_json::Value;
use sfn_local::Handlers;

use crate::attribute::item_to_json;
use crate::error::{Error, Service};
use crate::sdk::{self, Exchange};
use crate::{DynamoDbTask, LambdaInvoke, SnsPublish};

/// The region used when neither the builder, the environment (`AWS_REGION`,
/// `AWS_DEFAULT_REGION`) nor the profile names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How long [`AwsClients::ensure_table`] waits for a new table to become `ACTIVE`.
const TABLE_ACTIVE_WAIT: Duration = Duration::from_secs(60);

/// Builds [`AwsClients`]: `AwsClientsBuilder::new().endpoint_url("http://127.0.0.1:5000").build()`.
#[derive(Debug, Clone)]
pub struct AwsClientsBuilder {
    endpoint_url: Option<String>,
    region: Option<String>,
    connect_timeout: Duration,
    operation_timeout: Option<Duration>,
}

impl Default for AwsClientsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl AwsClientsBuilder {
    /// The normal AWS environment: endpoints, region and credentials as the SDK finds them.
    pub fn new() -> Self {
        AwsClientsBuilder {
            endpoint_url: None,
            region: None,
            connect_timeout: Duration::from_secs(5),
            operation_timeout: None,
        }
    }

    /// Sends every call to this endpoint (moto, LocalStack, `cargo lambda watch`, …). Calls
    /// are signed with the environment's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, or
    /// without them with fixed test credentials, which local endpoints accept.
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// As [`endpoint_url`](Self::endpoint_url), when there may be none.
    pub fn set_endpoint_url(mut self, url: Option<String>) -> Self {
        self.endpoint_url = url;
        self
    }

    /// The region, instead of the environment's (or [`DEFAULT_REGION`]).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// How long to wait for a connection (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one call may take in all (default: no limit, as a function may run for
    /// 15 minutes; the state's `TimeoutSeconds` bounds it).
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }

    /// Resolves the configuration and builds the clients. Nothing is sent.
    pub async fn build(self) -> Result<AwsClients, Error> {
        if let Some(url) = &self.endpoint_url {
            let rest = url
                .strip_prefix("http://")
                .or_else(|| url.strip_prefix("https://"));
            if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                return Err(Error::InvalidEndpoint(url.clone()));
            }
        }
        // The region is settled here, without the SDK's default chain: its last resort asks
        // the EC2 instance metadata service over the network.
        let region = RegionProviderChain::first_try(self.region.clone().map(Region::new))
            .or_else(EnvironmentVariableRegionProvider::new())
            .or_else(ProfileFileRegionProvider::new())
            .or_else(Region::from_static(DEFAULT_REGION))
            .region()
            .await
            .unwrap_or(Region::from_static(DEFAULT_REGION));
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut timeouts = TimeoutConfig::builder().connect_timeout(self.connect_timeout);
        if let Some(limit) = self.operation_timeout {
            timeouts = timeouts.operation_timeout(limit);
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region.clone())
            .http_client(http)
            // Retries belong to the state machine's `Retry`, as on Step Functions, where a
            // throttled call reaches the state as `DynamoDB.ProvisionedThroughputExceededException`.
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts.build());
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url.clone());
            // Only the environment's keys, never the rest of the default chain: with nothing
            // configured, its last resort asks the instance metadata service over the network.
            loader = if has_environment_keys() {
                loader.credentials_provider(EnvironmentVariableCredentialsProvider::new())
            } else {
                loader.credentials_provider(Credentials::new(
                    "test",
                    "test",
                    None,
                    None,
                    "orderflow-local-endpoint",
                ))
            };
        }
        let config = loader.load().await;
        Ok(AwsClients {
            lambda: aws_sdk_lambda::Client::new(&config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            endpoint: self
                .endpoint_url
                .unwrap_or_else(|| format!("the AWS endpoints of {region}")),
            config,
        })
    }
}

fn has_environment_keys() -> bool {
    ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .iter()
        .all(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// Lambda, DynamoDB and SNS clients sharing one configuration and HTTP client.
#[derive(Debug, Clone)]
pub struct AwsClients {
    config: SdkConfig,
    lambda: aws_sdk_lambda::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    sns: aws_sdk_sns::Client,
    endpoint: String,
}

impl AwsClients {
    /// A builder; see [`AwsClientsBuilder`].
    pub fn builder() -> AwsClientsBuilder {
        AwsClientsBuilder::new()
    }

    /// The configuration the clients share, to build clients of other services.
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    /// The endpoint URL, or a description of the AWS endpoints used.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The Lambda client.
    pub fn lambda(&self) -> &aws_sdk_lambda::Client {
        &self.lambda
    }

    /// The DynamoDB client.
    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        &self.dynamodb
    }

    /// The SNS client.
    pub fn sns(&self) -> &aws_sdk_sns::Client {
        &self.sns
    }

    /// The `lambda:invoke` / function ARN handler.
    pub fn lambda_invoke(&self) -> LambdaInvoke {
        LambdaInvoke::new(self.lambda.clone())
    }

    /// The DynamoDB item operations' handler.
    pub fn dynamodb_task(&self) -> DynamoDbTask {
        DynamoDbTask::new(self.dynamodb.clone())
    }

    /// The `sns:publish` handler.
    pub fn sns_publish(&self) -> SnsPublish {
        SnsPublish::new(self.sns.clone())
    }

    /// Registers the DynamoDB and SNS handlers (the functions may run elsewhere).
    pub fn register_services(&self, handlers: &mut Handlers) -> Result<(), Error> {
        self.dynamodb_task().register(handlers)?;
        self.sns_publish().register(handlers)
    }

    /// Registers the Lambda, DynamoDB and SNS handlers.
    pub fn register_all(&self, handlers: &mut Handlers) -> Result<(), Error> {
        self.lambda_invoke().register(handlers)?;
        self.register_services(handlers)
    }

    /// Creates the on-demand table `name` keyed by the string attribute `partition_key`,
    /// unless it exists with that key, and waits (at most a minute) until it is `ACTIVE`.
    pub async fn ensure_table(&self, name: &str, partition_key: &str) -> Result<(), Error> {
        let exchange = Exchange::default();
        let created = self
            .dynamodb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(partition_key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| self.invalid_table(name, e))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(partition_key)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| self.invalid_table(name, e))?,
            )
            .customize()
            .interceptor(exchange.clone())
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => {
                return Err(sdk::from_sdk(
                    Service::DynamoDb,
                    e,
                    &exchange,
                    &self.endpoint,
                ));
            }
        }
        let started = Instant::now();
        loop {
            let exchange = Exchange::default();
            let described = self
                .dynamodb
                .describe_table()
                .table_name(name)
                .customize()
                .interceptor(exchange.clone())
                .send()
                .await
                .map_err(|e| sdk::from_sdk(Service::DynamoDb, e, &exchange, &self.endpoint))?;
            let table = described.table();
            let keys: Vec<(&str, &KeyType)> = table
                .map(|t| {
                    t.key_schema()
                        .iter()
                        .map(|k| (k.attribute_name(), k.key_type()))
                        .collect()
                })
                .unwrap_or_default();
            if keys != [(partition_key, &KeyType::Hash)] {
                return Err(Error::TableKeyMismatch {
                    table: name.to_owned(),
                    expected: partition_key.to_owned(),
                    found: keys
                        .iter()
                        .map(|(n, t)| format!("{n} ({})", t.as_str()))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            let status = table.and_then(|t| t.table_status());
            if status == Some(&TableStatus::Active) {
                return Ok(());
            }
            if started.elapsed() >= TABLE_ACTIVE_WAIT {
                return Err(Error::TableNotActive {
                    table: name.to_owned(),
                    status: status
                        .map_or("without a status", TableStatus::as_str)
                        .to_owned(),
                    seconds: TABLE_ACTIVE_WAIT.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Creates the standard topic `name` (a no-op if it exists) and returns its ARN.
    pub async fn ensure_topic(&self, name: &str) -> Result<String, Error> {
        let exchange = Exchange::default();
        let out = self
            .sns
            .create_topic()
            .name(name)
            .customize()
            .interceptor(exchange.clone())
            .send()
            .await
            .map_err(|e| sdk::from_sdk(Service::Sns, e, &exchange, &self.endpoint))?;
        out.topic_arn()
            .map(str::to_owned)
            .ok_or_else(|| Error::UnexpectedResponse {
                service: Service::Sns,
                reason: format!("CreateTopic for `{name}` returned no TopicArn"),
            })
    }

    /// Every item of table `name`, in DynamoDB JSON, reading all pages.
    pub async fn scan_table(&self, name: &str) -> Result<Vec<Value>, Error> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> = None;
        loop {
            let exchange = Exchange::default();
            let page = self
                .dynamodb
                .scan()
                .table_name(name)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .customize()
                .interceptor(exchange.clone())
                .send()
                .await
                .map_err(|e| sdk::from_sdk(Service::DynamoDb, e, &exchange, &self.endpoint))?;
            for item in page.items() {
                items.push(item_to_json(item)?);
            }
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(items),
            }
        }
    }

    fn invalid_table(&self, name: &str, error: impl std::fmt::Display) -> Error {
        Error::InvalidParameter {
            service: Service::DynamoDb,
            field: format!("CreateTable {name}"),
            reason: error.to_string(),
        }
    }
}

/// Takes the host prefix off the calls of a client of a local endpoint. Step Functions'
/// SDKs send StartSyncExecution to a `sync-` host, which a loopback endpoint (`127.0.0.1`)
/// cannot have; add it to a client's configuration with `.interceptor(NoHostPrefix)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHostPrefix;

impl aws_smithy_runtime_api::client::interceptors::Intercept for NoHostPrefix {
    fn name(&self) -> &'static str {
        "NoHostPrefix"
    }

    fn modify_before_retry_loop(
        &self,
        _context: &mut aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        cfg.interceptor_state()
            .unset::<aws_smithy_runtime_api::client::endpoint::EndpointPrefix>();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str, ok: bool) {
        let built = futures::executor::block_on(
            AwsClients::builder()
                .endpoint_url(url)
                .region("eu-west-1")
                .build(),
        );
        match built {
            Ok(clients) => {
                assert!(ok, "{url} was accepted");
                assert_eq!(clients.endpoint(), url);
                assert_eq!(
                    clients.sdk_config().region().map(Region::as_ref),
                    Some("eu-west-1")
                );
            }
            Err(e) => {
                assert!(!ok, "{url}: {e}");
                assert!(
                    matches!(e, Error::InvalidEndpoint(ref u) if u == url),
                    "{e}"
                );
            }
        }
    }

    #[test]
    fn endpoint_urls() {
        endpoint("http://127.0.0.1:5000", true);
        endpoint("https://dynamodb.example.test", true);
        endpoint("localhost:5000", false);
        endpoint("http://", false);
        endpoint("https:///path", false);
        endpoint("ftp://127.0.0.1", false);
        endpoint("", false);
    }
}
