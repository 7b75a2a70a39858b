//! The charge ledger on DynamoDB: one item per order id, written once with a conditional
//! `PutItem`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use orders::{ChargeLedger, LedgerEntry, OrderError, OrderId};
use serde_json::{Map, Value};

/// The partition key.
const KEY: &str = "OrderId";

/// When the gateway's answer was recorded (RFC 3339, UTC), for people reading the table; the
/// domain does not read it back.
const CHARGED_AT: &str = "ChargedAt";

/// The table's time-to-live attribute: the epoch second after which DynamoDB may delete the
/// entry (a number, as TTL requires).
pub const EXPIRES_AT: &str = "ExpiresAt";

/// [`LedgerEntry::to_json`] field → item attribute. Every value is a string: `Amount` stays
/// text because a DynamoDB number comes back normalised (`22.50` as `22.5`), and a
/// repeat compares amounts exactly.
const ATTRIBUTES: [(&str, &str); 6] = [
    ("orderId", KEY),
    ("outcome", "Outcome"),
    ("chargeId", "ChargeId"),
    ("reason", "Reason"),
    ("amount", "Amount"),
    ("token", "Token"),
];

/// A DynamoDB table as the domain's [`ChargeLedger`]. Items hold the order id, the amount,
/// the gateway's opaque payment token and its answer (`Outcome` `charged` with `ChargeId`, or
/// `declined` with `Reason`), never a card number; with [`DynamoDbLedger::expire_after`],
/// also the epoch second (`ExpiresAt`) after which the table's time to live may delete them.
///
/// A failure that a retry can cure (throttling, a timeout, a server error, a lost connection:
/// what the SDK itself retries) is [`OrderError::Unavailable`], errorType
/// `ServiceUnavailable`, which the state machine retries. A table the function cannot use
/// (missing, or its role or key denies it) is [`OrderError::Config`]; any other refusal is
/// [`OrderError::ServiceFault`]: retrying would fail the same way.
#[derive(Debug, Clone)]
pub struct DynamoDbLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
    expire_after: Option<Duration>,
}

/// Error codes that say the table cannot be used as configured: no retry helps until someone
/// fixes the deployment (`LEDGER_TABLE_NAME`, the role's policy, the key's policy).
const MISCONFIGURED: [&str; 7] = [
    "ResourceNotFoundException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
    "KMSNotFoundException",
];

impl DynamoDbLedger {
    /// The ledger kept in `table` (partition key `OrderId`, a string), through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoDbLedger {
            client,
            table: table.into(),
            expire_after: None,
        }
    }

    /// Entries carry `ExpiresAt`, `after` from when they are recorded, for the table's time to
    /// live. It must outlast every way an order can be charged again: a redrive (up to 14 days
    /// after its execution ends) and a resubmission of the same order id.
    pub fn expire_after(mut self, after: Duration) -> Self {
        self.expire_after = Some(after);
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn failure<E>(&self, operation: &str, error: &SdkError<E, HttpResponse>) -> OrderError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let reason = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(error).to_string(),
        };
        let reason = format!("{operation} on table {} failed: {reason}", self.table);
        match classify(error) {
            Kind::Transient => OrderError::Unavailable {
                service: "payment ledger",
                reason,
            },
            Kind::Misconfigured => OrderError::Config {
                variable: crate::LEDGER_TABLE_VARIABLE,
                problem: format!("names a table the function cannot use: {reason}"),
            },
            Kind::Permanent => OrderError::ServiceFault {
                service: "payment ledger",
                reason,
            },
        }
    }
}

/// How a failed call should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transient,
    Misconfigured,
    Permanent,
}

/// The SDK's own judgement, after its standard retries have run out: throttling and transient
/// codes (the lists `aws-runtime` retries), server errors and transport failures can succeed
/// later; anything else the service said would be said again.
fn classify<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> Kind {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Kind::Transient
        }
        SdkError::ConstructionFailure(_) => Kind::Permanent,
        SdkError::ServiceError(failed) => {
            let code = failed.err().code().unwrap_or_default();
            let status = failed.raw().status().as_u16();
            if THROTTLING_ERRORS.contains(&code)
                || TRANSIENT_ERRORS.contains(&code)
                || code == "InternalServerError"
                || code == "ServiceUnavailable"
                || code == "KMSThrottlingException"
                || matches!(status, 500 | 502 | 503 | 504)
            {
                Kind::Transient
            } else if MISCONFIGURED.contains(&code) {
                Kind::Misconfigured
            } else {
                Kind::Permanent
            }
        }
        _ => Kind::Permanent,
    }
}

fn item_of(
    entry: &LedgerEntry,
    charged_at: SystemTime,
    expire_after: Option<Duration>,
) -> HashMap<String, AttributeValue> {
    let record = entry.to_json();
    let mut item: HashMap<String, AttributeValue> = ATTRIBUTES
        .iter()
        .filter_map(|(field, attribute)| {
            let value = record.get(field)?.as_str()?;
            Some(((*attribute).to_owned(), AttributeValue::S(value.to_owned())))
        })
        .collect();
    if let Ok(time) = DateTime::from(charged_at).fmt(DateTimeFormat::DateTime) {
        item.insert(CHARGED_AT.to_owned(), AttributeValue::S(time));
    }
    let expires = expire_after
        .and_then(|after| charged_at.checked_add(after))
        .and_then(|at| at.duration_since(SystemTime::UNIX_EPOCH).ok());
    if let Some(expires) = expires {
        item.insert(
            EXPIRES_AT.to_owned(),
            AttributeValue::N(expires.as_secs().to_string()),
        );
    }
    item
}

fn entry_of(
    order_id: &OrderId,
    item: &HashMap<String, AttributeValue>,
) -> Result<LedgerEntry, OrderError> {
    let record: Map<String, Value> = ATTRIBUTES
        .iter()
        .filter_map(|(field, attribute)| {
            let value = item.get(*attribute)?.as_s().ok()?;
            Some(((*field).to_owned(), Value::String(value.clone())))
        })
        .collect();
    LedgerEntry::from_json(order_id, &Value::Object(record))
}

impl ChargeLedger for DynamoDbLedger {
    async fn get(&self, order_id: &OrderId) -> Result<Option<LedgerEntry>, OrderError> {
        // Strongly consistent: an eventually consistent read could miss an entry written a
        // moment ago by another instance, and the order would be charged again.
        let read = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(order_id.as_str().to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.failure("GetItem", &e))?;
        read.item().map(|item| entry_of(order_id, item)).transpose()
    }

    async fn record_if_absent(&self, entry: &LedgerEntry) -> Result<LedgerEntry, OrderError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(entry, SystemTime::now(), self.expire_after)))
            .condition_expression("attribute_not_exists(#key)")
            .expression_attribute_names("#key", KEY)
            .send()
            .await;
        match written {
            Ok(_) => Ok(entry.clone()),
            // Another instance recorded this order first: its entry is the answer.
            Err(SdkError::ServiceError(failed))
                if matches!(
                    failed.err(),
                    PutItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                self.get(&entry.order_id)
                    .await?
                    .ok_or_else(|| OrderError::ServiceFault {
                        service: "payment ledger",
                        reason: format!(
                            "table {} refused the entry of order {} as a duplicate but has none",
                            self.table, entry.order_id
                        ),
                    })
            }
            Err(e) => Err(self.failure("PutItem", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use orders::{Charge, ChargeId, ChargeOutcome, ChargeRequest};
    use serde_json::json;

    use super::*;

    fn entry(outcome: ChargeOutcome) -> LedgerEntry {
        let charge = Charge::try_from(ChargeRequest::new(json!({
            "orderId": "o-1", "customerId": "c-1", "amount": 22.5,
            "paymentToken": "tok_sim_0123456789abcdef"
        })))
        .expect("a valid charge");
        LedgerEntry::new(&charge, outcome)
    }

    fn round_trips(outcome: ChargeOutcome, attributes: &[&str]) {
        let entry = entry(outcome);
        let item = item_of(
            &entry,
            SystemTime::UNIX_EPOCH + Duration::from_secs(86_400),
            None,
        );
        let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, attributes);
        assert_eq!(
            item.get(CHARGED_AT)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str),
            Some("1970-01-02T00:00:00Z")
        );
        assert_eq!(entry_of(&entry.order_id, &item), Ok(entry));
    }

    #[test]
    fn entries_round_trip_through_items() {
        round_trips(
            ChargeOutcome::Charged(ChargeId::new("ch_sim_1")),
            &[
                "Amount",
                "ChargeId",
                "ChargedAt",
                "OrderId",
                "Outcome",
                "Token",
            ],
        );
        round_trips(
            ChargeOutcome::Declined {
                reason: "the card issuer declined the charge".into(),
            },
            &[
                "Amount",
                "ChargedAt",
                "OrderId",
                "Outcome",
                "Reason",
                "Token",
            ],
        );
    }

    #[test]
    fn the_amount_is_kept_as_text() {
        let item = item_of(
            &entry(ChargeOutcome::Charged(ChargeId::new("c"))),
            SystemTime::now(),
            None,
        );
        assert_eq!(item.get("Amount"), Some(&AttributeValue::S("22.5".into())));
    }

    #[test]
    fn an_item_of_another_shape_is_a_service_fault() {
        let order_id = entry(ChargeOutcome::Charged(ChargeId::new("c"))).order_id;
        let mut item = HashMap::new();
        item.insert("Outcome".to_owned(), AttributeValue::S("charged".into()));
        item.insert("Amount".to_owned(), AttributeValue::N("22.5".into()));
        let read = entry_of(&order_id, &item).map_err(|e| e.name());
        assert_eq!(read, Err("ServiceFault"));
    }

    #[test]
    fn entries_expire_after_the_retention_when_one_is_set() {
        let charged = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let item = item_of(
            &entry(ChargeOutcome::Charged(ChargeId::new("c"))),
            charged,
            Some(Duration::from_secs(45 * 86_400)),
        );
        assert_eq!(
            item.get(EXPIRES_AT),
            Some(&AttributeValue::N((1_000 + 45 * 86_400).to_string()))
        );
        // The domain reads the entry back without it.
        assert!(
            entry_of(
                &entry(ChargeOutcome::Charged(ChargeId::new("c"))).order_id,
                &item
            )
            .is_ok()
        );
    }
}
