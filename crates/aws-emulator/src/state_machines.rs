//! Step Functions state machines: each one's current definition, type, role and tags.

use std::time::SystemTime;

use rusqlite::{OptionalExtension as _, params};
use serde_json::{Map, Value, json};

use crate::Store;
use crate::db::{DbResult as _, from_ms, to_ms};
use crate::error::{Result, Service, StoreError};

const SERVICE: Service = Service::Executions;

/// A state machine as CreateStateMachine and UpdateStateMachine leave it.
#[derive(Clone, Debug, PartialEq)]
pub struct StateMachineRecord {
    /// Its ARN; the record's identity.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// `STANDARD` or `EXPRESS`.
    pub machine_type: String,
    /// The definition text, as submitted.
    pub definition: String,
    /// The role it runs as.
    pub role_arn: String,
    /// When it was created.
    pub creation_date: SystemTime,
    /// The revision the last update made (`None` before any update).
    pub revision_id: Option<String>,
    /// When it was last updated.
    pub update_date: Option<SystemTime>,
    /// Its description.
    pub description: String,
    /// Its logging configuration, as the API takes it.
    pub logging: Value,
    /// Its tracing configuration, as the API takes it.
    pub tracing: Value,
    /// Its tags, in the order they were added.
    pub tags: Vec<(String, String)>,
}

impl StateMachineRecord {
    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.machine_type,
            "definition": self.definition,
            "roleArn": self.role_arn,
            "creationMs": to_ms(self.creation_date),
            "revisionId": self.revision_id,
            "updateMs": self.update_date.map(to_ms),
            "description": self.description,
            "logging": self.logging,
            "tracing": self.tracing,
            "tags": self.tags.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        })
    }

    fn from_json(arn: String, value: &Value) -> Result<Self> {
        let corrupt = |field: &str| StoreError::Corrupt {
            what: format!("state machine {arn}"),
            detail: format!("its {field} is missing or of the wrong type"),
        };
        let text = |field: &str| -> Result<String> {
            value
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| corrupt(field))
        };
        let tags = value
            .get("tags")
            .and_then(Value::as_array)
            .ok_or_else(|| corrupt("tags"))?
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(k), Value::String(v)]) => Ok((k.clone(), v.clone())),
                _ => Err(corrupt("tags")),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(StateMachineRecord {
            name: text("name")?,
            machine_type: text("type")?,
            definition: text("definition")?,
            role_arn: text("roleArn")?,
            creation_date: from_ms(
                value
                    .get("creationMs")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| corrupt("creationMs"))?,
            ),
            revision_id: value
                .get("revisionId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            update_date: value.get("updateMs").and_then(Value::as_i64).map(from_ms),
            description: text("description").unwrap_or_default(),
            logging: value
                .get("logging")
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
            tracing: value
                .get("tracing")
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
            tags,
            arn,
        })
    }
}

impl Store {
    /// Stores a state machine, replacing the record with the same ARN.
    pub fn put_state_machine(&self, record: &StateMachineRecord) -> Result<()> {
        if record.arn.is_empty() || record.name.is_empty() {
            return Err(StoreError::InvalidRecord {
                field: "state machine arn",
                reason: "must not be empty".into(),
            });
        }
        let (arn, name) = (record.arn.clone(), record.name.clone());
        let text = record.to_json().to_string();
        let created = to_ms(record.creation_date);
        self.inner.db.write(SERVICE, move |tx| {
            tx.prepare_cached(
                "INSERT INTO state_machines (arn, name, record, created_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (arn) DO UPDATE SET name = ?2, record = ?3",
            )
            .and_then(|mut st| st.execute(params![arn, name, text, created]))
            .db(SERVICE)?;
            Ok(())
        })
    }

    /// The state machine with this ARN, if there is one.
    pub fn get_state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>> {
        let row: Option<String> = self.inner.db.read(|conn| {
            conn.prepare_cached("SELECT record FROM state_machines WHERE arn = ?1")
                .and_then(|mut st| st.query_row([arn], |r| r.get(0)).optional())
                .db(SERVICE)
        })?;
        row.map(|text| parse(arn, &text)).transpose()
    }

    /// Every state machine, oldest first, then by ARN (ListStateMachines' order).
    pub fn list_state_machines(&self) -> Result<Vec<StateMachineRecord>> {
        let rows: Vec<(String, String)> = self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached("SELECT arn, record FROM state_machines ORDER BY created_ms, arn")
                .db(SERVICE)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .db(SERVICE)?;
            rows.map(|row| row.db(SERVICE)).collect()
        })?;
        rows.iter().map(|(arn, text)| parse(arn, text)).collect()
    }

    /// Deletes the state machine with this ARN; whether there was one.
    pub fn delete_state_machine(&self, arn: &str) -> Result<bool> {
        let arn = arn.to_owned();
        self.inner.db.write(SERVICE, move |tx| {
            let deleted = tx
                .prepare_cached("DELETE FROM state_machines WHERE arn = ?1")
                .and_then(|mut st| st.execute([&arn]))
                .db(SERVICE)?;
            Ok(deleted > 0)
        })
    }
}

fn parse(arn: &str, text: &str) -> Result<StateMachineRecord> {
    let value: Value = serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: format!("state machine {arn}"),
        detail: e.to_string(),
    })?;
    StateMachineRecord::from_json(arn.to_owned(), &value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str) -> StateMachineRecord {
        StateMachineRecord {
            arn: format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}"),
            name: name.to_owned(),
            machine_type: "STANDARD".into(),
            definition: r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#.into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            creation_date: from_ms(1_700_000_000_000),
            revision_id: None,
            update_date: None,
            description: String::new(),
            logging: json!({}),
            tracing: json!({"enabled": false}),
            tags: vec![("team".into(), "orders".into())],
        }
    }

    #[test]
    fn state_machines_are_stored_listed_replaced_and_deleted() {
        let store = Store::in_memory().expect("a store");
        let a = record("a");
        let mut b = record("b");
        b.creation_date = from_ms(1_700_000_000_001);
        store.put_state_machine(&b).expect("put");
        store.put_state_machine(&a).expect("put");
        assert_eq!(
            store.get_state_machine(&a.arn).expect("get"),
            Some(a.clone())
        );
        let names: Vec<String> = store
            .list_state_machines()
            .expect("list")
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        let mut updated = a.clone();
        updated.revision_id = Some("rev-1".into());
        updated.update_date = Some(from_ms(1_700_000_000_500));
        store.put_state_machine(&updated).expect("update");
        assert_eq!(store.get_state_machine(&a.arn).expect("get"), Some(updated));
        assert!(store.delete_state_machine(&a.arn).expect("delete"));
        assert!(!store.delete_state_machine(&a.arn).expect("delete again"));
        assert_eq!(store.get_state_machine(&a.arn).expect("get"), None);
    }

    #[test]
    fn a_file_store_keeps_its_state_machines() {
        let dir = tempfile::tempdir().expect("a directory");
        let a = record("kept");
        Store::open(dir.path())
            .expect("a store")
            .put_state_machine(&a)
            .expect("put");
        let again = Store::open(dir.path()).expect("reopened");
        assert_eq!(again.get_state_machine(&a.arn).expect("get"), Some(a));
    }
}

/// One activity of the Step Functions API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRecord {
    /// Its ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created: SystemTime,
}

impl Store {
    /// Creates the activity unless it exists (CreateActivity is idempotent), and returns it
    /// as stored.
    pub fn create_activity(
        &self,
        arn: &str,
        name: &str,
        now: SystemTime,
    ) -> Result<ActivityRecord> {
        let (arn, name) = (arn.to_owned(), name.to_owned());
        self.inner.db.write(SERVICE, move |tx| {
            tx.prepare_cached(
                "INSERT INTO activities (arn, name, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT (arn) DO NOTHING",
            )
            .and_then(|mut st| st.execute(rusqlite::params![arn, name, to_ms(now)]))
            .db(SERVICE)?;
            let (name, created): (String, i64) = tx
                .prepare_cached("SELECT name, created_ms FROM activities WHERE arn = ?1")
                .and_then(|mut st| st.query_row([&arn], |r| Ok((r.get(0)?, r.get(1)?))))
                .db(SERVICE)?;
            Ok(ActivityRecord {
                arn,
                name,
                created: from_ms(created),
            })
        })
    }

    /// Deletes the activity, if it exists.
    pub fn delete_activity(&self, arn: &str) -> Result<()> {
        let arn = arn.to_owned();
        self.inner.db.write(SERVICE, move |tx| {
            tx.prepare_cached("DELETE FROM activities WHERE arn = ?1")
                .and_then(|mut st| st.execute([&arn]))
                .db(SERVICE)?;
            Ok(())
        })
    }

    /// Every activity, oldest first.
    pub fn activities(&self) -> Result<Vec<ActivityRecord>> {
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT arn, name, created_ms FROM activities ORDER BY created_ms, arn",
                )
                .db(SERVICE)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .db(SERVICE)?;
            rows.map(|row| {
                let (arn, name, created) = row.db(SERVICE)?;
                Ok(ActivityRecord {
                    arn,
                    name,
                    created: from_ms(created),
                })
            })
            .collect()
        })
    }
}
