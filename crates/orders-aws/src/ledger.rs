//! The charge ledger on DynamoDB: one item per order id, written once with a conditional
//! `PutItem`.

use std::collections::HashMap;
use std::time::SystemTime;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::AttributeValue;
use orders::{ChargeLedger, LedgerEntry, OrderError, OrderId};
use serde_json::{Map, Value};

/// The partition key.
const KEY: &str = "OrderId";

/// When the gateway's answer was recorded (RFC 3339, UTC), for people reading the table; the
/// domain does not read it back.
const CHARGED_AT: &str = "ChargedAt";

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
/// `declined` with `Reason`), never a card number.
///
/// Every failure, a missing table included, is [`OrderError::Unavailable`] (errorType
/// `ServiceUnavailable`): the order is not at fault, and a later retry may succeed.
#[derive(Debug, Clone)]
pub struct DynamoDbLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoDbLedger {
    /// The ledger kept in `table` (partition key `OrderId`, a string), through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoDbLedger {
            client,
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn unavailable<E, R>(&self, operation: &str, error: &SdkError<E, R>) -> OrderError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let reason = match (error.code(), error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            _ => DisplayErrorContext(error).to_string(),
        };
        OrderError::Unavailable {
            service: "payment ledger",
            reason: format!("{operation} on table {} failed: {reason}", self.table),
        }
    }
}

fn item_of(entry: &LedgerEntry, charged_at: SystemTime) -> HashMap<String, AttributeValue> {
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
            .map_err(|e| self.unavailable("GetItem", &e))?;
        read.item().map(|item| entry_of(order_id, item)).transpose()
    }

    async fn record_if_absent(&self, entry: &LedgerEntry) -> Result<LedgerEntry, OrderError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(entry, SystemTime::now())))
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
                    .ok_or_else(|| OrderError::Unavailable {
                        service: "payment ledger",
                        reason: format!(
                            "table {} refused the entry of order {} as a duplicate but has none",
                            self.table, entry.order_id
                        ),
                    })
            }
            Err(e) => Err(self.unavailable("PutItem", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
        let item = item_of(&entry, SystemTime::UNIX_EPOCH + Duration::from_secs(86_400));
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
        );
        assert_eq!(item.get("Amount"), Some(&AttributeValue::S("22.5".into())));
    }

    #[test]
    fn an_item_of_another_shape_is_unavailable() {
        let order_id = entry(ChargeOutcome::Charged(ChargeId::new("c"))).order_id;
        let mut item = HashMap::new();
        item.insert("Outcome".to_owned(), AttributeValue::S("charged".into()));
        item.insert("Amount".to_owned(), AttributeValue::N("22.5".into()));
        let read = entry_of(&order_id, &item).map_err(|e| e.name());
        assert_eq!(read, Err("ServiceUnavailable"));
    }
}
