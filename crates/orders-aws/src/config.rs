//! The SDK configuration of a Lambda function: built once at start-up, from the variables the
//! Lambda environment defines.

use std::time::Duration;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use orders::OrderError;

use crate::DynamoDbLedger;

/// The variable naming the charge-ledger table; the ledger is off when it is unset or empty.
pub const LEDGER_TABLE_VARIABLE: &str = "LEDGER_TABLE_NAME";

/// The variable giving, in whole days, how long ledger entries are kept before the table's
/// time to live may delete them; entries never expire when it is unset or empty.
pub const LEDGER_RETENTION_VARIABLE: &str = "LEDGER_RETENTION_DAYS";

/// The SDK configuration for a function: the region from `AWS_REGION` (or
/// `AWS_DEFAULT_REGION`), the credentials Lambda puts in the environment, and endpoints as
/// aws-config resolves them, so `AWS_ENDPOINT_URL` sends every call to a local endpoint.
///
/// Neither the region nor the credentials fall back to the SDK's default chains: their last
/// resort asks the instance metadata service over the network, which only lengthens a cold
/// start in Lambda and hangs a misconfigured local run.
pub async fn lambda_sdk_config() -> Result<SdkConfig, OrderError> {
    let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .ok_or_else(|| OrderError::Config {
            variable: "AWS_REGION",
            problem: "must name the region of the charge-ledger table (Lambda sets it)".to_owned(),
        })?;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    // The function has 10 s in all; a ledger call that cannot finish in a few seconds should
    // fail as `ServiceUnavailable` (a timeout is transient) while the state machine can still
    // retry the charge.
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(6))
        .build();
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .http_client(http)
        // A throttled ledger call is retried here, cheaply, before the whole charge is.
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(timeouts)
        .load()
        .await)
}

impl DynamoDbLedger {
    /// The ledger in the table `LEDGER_TABLE_NAME` names, its entries expiring after
    /// `LEDGER_RETENTION_DAYS` days when that is set, with a client built by
    /// [`lambda_sdk_config`]; `None` when the table variable is unset or empty.
    pub async fn from_env() -> Result<Option<DynamoDbLedger>, OrderError> {
        let Some(table) = std::env::var(LEDGER_TABLE_VARIABLE)
            .ok()
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        let retention = retention(std::env::var(LEDGER_RETENTION_VARIABLE).ok().as_deref())?;
        let config = lambda_sdk_config().await?;
        let ledger = DynamoDbLedger::new(aws_sdk_dynamodb::Client::new(&config), table);
        Ok(Some(match retention {
            Some(after) => ledger.expire_after(after),
            None => ledger,
        }))
    }
}

/// `LEDGER_RETENTION_DAYS` as a duration: a whole number of days from 1 to 3650.
fn retention(days: Option<&str>) -> Result<Option<Duration>, OrderError> {
    let Some(text) = days.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    match text.parse::<u64>() {
        Ok(days @ 1..=3650) => Ok(Some(Duration::from_secs(days * 86_400))),
        _ => Err(OrderError::Config {
            variable: LEDGER_RETENTION_VARIABLE,
            problem: format!("must be a whole number of days from 1 to 3650, found {text:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_whole_days() {
        assert_eq!(retention(None), Ok(None));
        assert_eq!(retention(Some(" ")), Ok(None));
        assert_eq!(
            retention(Some("45")),
            Ok(Some(Duration::from_secs(45 * 86_400)))
        );
        for bad in ["0", "-1", "1.5", "forever", "3651"] {
            let error = retention(Some(bad)).expect_err(bad);
            assert_eq!(error.name(), "ConfigurationError", "{bad}");
            assert!(
                error
                    .to_string()
                    .starts_with("LEDGER_RETENTION_DAYS must be"),
                "{error}"
            );
        }
    }
}
