//! The charge ledger: at most one charge per order id.

use std::time::SystemTime;

use rusqlite::{OptionalExtension as _, params};
use serde_json::Value;

use crate::Store;
use crate::db::{DbResult as _, from_ms, now_ms};
use crate::error::{Result, Service, StoreError};

const SERVICE: Service = Service::Ledger;

/// What [`Store::charge_once`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum ChargeOutcome {
    /// No charge was recorded for the order; this one now is.
    New,
    /// The order was already charged; this is the original record, to be answered again.
    Existing(Value),
}

/// One ledger entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Charge {
    /// The order id (the idempotency key).
    pub order_id: String,
    /// The charge result as recorded.
    pub record: Value,
    /// When it was recorded.
    pub charged_at: SystemTime,
}

impl Store {
    /// Records `record` as the charge of `order_id` unless one is recorded already, atomically:
    /// of any number of concurrent calls for one order id (threads or processes), exactly one
    /// gets [`ChargeOutcome::New`] and the others the winner's record.
    pub fn charge_once(&self, order_id: &str, record: &Value) -> Result<ChargeOutcome> {
        if order_id.is_empty() {
            return Err(StoreError::InvalidRecord {
                field: "order_id",
                reason: "must not be empty".into(),
            });
        }
        let text = record.to_string();
        let order_id = order_id.to_owned();
        self.inner.db.write(SERVICE, move |tx| {
            let order_id = order_id.as_str();
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO charges (order_id, record, charged_ms) VALUES (?1, ?2, ?3) ON CONFLICT (order_id) DO NOTHING",
                )
                .and_then(|mut st| st.execute(params![order_id, text, now_ms()]))
                .db(SERVICE)?;
            if inserted == 1 {
                return Ok(ChargeOutcome::New);
            }
            let existing: String = tx
                .prepare_cached("SELECT record FROM charges WHERE order_id = ?1")
                .and_then(|mut st| st.query_row([order_id], |r| r.get(0)))
                .db(SERVICE)?;
            parse_record(order_id, &existing).map(ChargeOutcome::Existing)
        })
    }

    /// The charge recorded for an order, if any.
    pub fn charge(&self, order_id: &str) -> Result<Option<Charge>> {
        self.inner.db.read(|conn| {
            let row: Option<(String, i64)> = conn
                .prepare_cached("SELECT record, charged_ms FROM charges WHERE order_id = ?1")
                .and_then(|mut st| {
                    st.query_row([order_id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .db(SERVICE)?;
            row.map(|(text, ms)| {
                Ok(Charge {
                    order_id: order_id.to_owned(),
                    record: parse_record(order_id, &text)?,
                    charged_at: from_ms(ms),
                })
            })
            .transpose()
        })
    }

    /// Every recorded charge, oldest first.
    pub fn charges(&self) -> Result<Vec<Charge>> {
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached("SELECT order_id, record, charged_ms FROM charges ORDER BY charged_ms, order_id")
                .db(SERVICE)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
                .db(SERVICE)?;
            rows.map(|row| {
                let (order_id, text, ms) = row.db(SERVICE)?;
                let record = parse_record(&order_id, &text)?;
                Ok(Charge { order_id, record, charged_at: from_ms(ms) })
            })
            .collect()
        })
    }
}

fn parse_record(order_id: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: format!("charge record of order {order_id}"),
        detail: e.to_string(),
    })
}
