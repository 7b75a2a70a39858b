//! DynamoDB tables: CreateTable's key schema, PutItem, GetItem, UpdateItem, DeleteItem and a
//! full-table scan, taking and returning the API's JSON shapes.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError};

use rusqlite::{Connection, OptionalExtension as _, params};
use serde_json::{Map as JsonMap, Value, json};

use crate::Store;
use crate::db::{DbResult as _, now_ms};
use crate::error::{Result, Service, StoreError};
use crate::expr::eval::{self, check};
use crate::expr::{Cond, Resolver};
use crate::value::{AttrValue, Item, check_item_limits, item_from_json, item_to_json, json_kind};

const SERVICE: Service = Service::DynamoDb;
/// DynamoDB's partition key size limit.
const MAX_PARTITION_KEY_BYTES: usize = 2048;
/// DynamoDB's sort key size limit.
const MAX_SORT_KEY_BYTES: usize = 1024;
/// Parameters of the pre-expression API, which this store does not emulate.
const LEGACY: [&str; 5] = [
    "Expected",
    "AttributeUpdates",
    "ConditionalOperator",
    "AttributesToGet",
    "ScanFilter",
];

/// The type of a key attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// String (`S`).
    S,
    /// Number (`N`).
    N,
    /// Binary (`B`).
    B,
}

impl KeyType {
    /// DynamoDB's type descriptor: `S`, `N` or `B`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S => "S",
            Self::N => "N",
            Self::B => "B",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "S" => Some(Self::S),
            "N" => Some(Self::N),
            "B" => Some(Self::B),
            _ => None,
        }
    }
}

/// One key attribute: its name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAttribute {
    /// Attribute name, e.g. `orderId`.
    pub name: String,
    /// Attribute type.
    pub key_type: KeyType,
}

/// A table's primary key: a partition key and an optional sort key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySchema {
    /// The partition (hash) key.
    pub partition_key: KeyAttribute,
    /// The sort (range) key, if the table has one.
    pub sort_key: Option<KeyAttribute>,
}

impl KeySchema {
    /// A schema with only a partition key.
    pub fn new(partition_key: impl Into<String>, key_type: KeyType) -> Self {
        Self {
            partition_key: KeyAttribute {
                name: partition_key.into(),
                key_type,
            },
            sort_key: None,
        }
    }

    /// Adds a sort key.
    pub fn with_sort_key(mut self, name: impl Into<String>, key_type: KeyType) -> Self {
        self.sort_key = Some(KeyAttribute {
            name: name.into(),
            key_type,
        });
        self
    }

    fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.partition_key).chain(self.sort_key.as_ref())
    }

    fn key_names(&self) -> Vec<&str> {
        self.attributes().map(|a| a.name.as_str()).collect()
    }

    /// The key of an item being put, with PutItem's messages.
    fn item_key(&self, item: &Item) -> Result<StoredKey> {
        let mut bytes = Vec::with_capacity(2);
        for attr in self.attributes() {
            let Some(value) = item.get(&attr.name) else {
                return Err(StoreError::validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    attr.name
                )));
            };
            bytes.push(encode_key(attr, value, |actual| {
                format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {actual}",
                    attr.name,
                    attr.key_type.as_str()
                )
            })?);
        }
        StoredKey::from_parts(bytes, self)
    }

    /// The key given in a `Key` parameter, which must hold exactly the key attributes.
    fn request_key(&self, key: &Item) -> Result<StoredKey> {
        let mismatch = |detail: String| {
            StoreError::validation(format!(
                "The provided key element does not match the schema: {detail}"
            ))
        };
        let expected = self.key_names();
        if let Some(extra) = key.keys().find(|k| !expected.contains(&k.as_str())) {
            return Err(mismatch(format!(
                "{extra} is not a key attribute; the key is {self}"
            )));
        }
        let mut bytes = Vec::with_capacity(2);
        for attr in self.attributes() {
            let Some(value) = key.get(&attr.name) else {
                return Err(mismatch(format!(
                    "missing key attribute {}; the key is {self}",
                    attr.name
                )));
            };
            bytes.push(encode_key(attr, value, |actual| {
                format!(
                    "The provided key element does not match the schema: key {} expected type {}, found {actual}",
                    attr.name,
                    attr.key_type.as_str()
                )
            })?);
        }
        StoredKey::from_parts(bytes, self)
    }
}

/// `orderId (S)` or `pk (S), sk (N)`.
impl fmt::Display for KeySchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .attributes()
            .map(|a| format!("{} ({})", a.name, a.key_type.as_str()))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// A key as stored: the encoded partition and sort key values (empty without a sort key).
struct StoredKey {
    pk: Vec<u8>,
    sk: Vec<u8>,
}

impl StoredKey {
    fn from_parts(mut parts: Vec<Vec<u8>>, schema: &KeySchema) -> Result<Self> {
        let sk = if schema.sort_key.is_some() {
            parts.pop().unwrap_or_default()
        } else {
            Vec::new()
        };
        let pk = parts.pop().unwrap_or_default();
        if pk.len() > MAX_PARTITION_KEY_BYTES {
            return Err(StoreError::validation(format!(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of {MAX_PARTITION_KEY_BYTES} bytes"
            )));
        }
        if sk.len() > MAX_SORT_KEY_BYTES {
            return Err(StoreError::validation(format!(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {MAX_SORT_KEY_BYTES} bytes"
            )));
        }
        Ok(Self { pk, sk })
    }
}

/// Encodes a key value for the primary key index; numbers use their canonical form so `1`
/// and `1.0` are the same key, as in DynamoDB.
fn encode_key(
    attr: &KeyAttribute,
    value: &AttrValue,
    mismatch: impl Fn(&str) -> String,
) -> Result<Vec<u8>> {
    let empty = |what: &str| {
        StoreError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {}",
            attr.name
        ))
    };
    match (attr.key_type, value) {
        (KeyType::S, AttrValue::S(s)) if s.is_empty() => Err(empty("string")),
        (KeyType::S, AttrValue::S(s)) => Ok(s.as_bytes().to_vec()),
        (KeyType::N, AttrValue::N(n)) => Ok(n.to_string().into_bytes()),
        (KeyType::B, AttrValue::B(b)) if b.is_empty() => Err(empty("binary")),
        (KeyType::B, AttrValue::B(b)) => Ok(b.clone()),
        (_, other) => Err(StoreError::validation(mismatch(other.type_name()))),
    }
}

/// The table key attributes of an item, as an item.
fn key_item(schema: &KeySchema, item: &Item) -> Item {
    schema
        .attributes()
        .filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
        .collect()
}

/// What to return from a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReturnValues {
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

/// A request object with typed accessors whose errors name the parameter.
struct Request<'a> {
    fields: &'a JsonMap<String, Value>,
}

impl<'a> Request<'a> {
    fn new(operation: &str, request: &'a Value, allowed: &[&str]) -> Result<Self> {
        let Value::Object(fields) = request else {
            return Err(StoreError::validation(format!(
                "{operation} request must be a JSON object, found {}",
                json_kind(request)
            )));
        };
        for name in fields.keys() {
            if LEGACY.contains(&name.as_str()) {
                return Err(StoreError::validation(format!(
                    "{operation} parameter {name} is a legacy parameter this store does not support; use expressions (ConditionExpression, UpdateExpression, ProjectionExpression) instead"
                )));
            }
            if !allowed.contains(&name.as_str()) {
                return Err(StoreError::validation(format!(
                    "{operation} does not accept the parameter {name}; accepted: {}",
                    allowed.join(", ")
                )));
            }
        }
        Ok(Self { fields })
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.fields.get(name)
    }

    /// A parameter given as `null` is missing, as DynamoDB reads it (recorded:
    /// task_service_dynamodb__invalid_param, `"Item": null`).
    fn required(&self, name: &str) -> Result<&'a Value> {
        self.get(name).filter(|v| !v.is_null()).ok_or_else(|| {
            let mut member = name.to_owned();
            if let Some(first) = member.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            StoreError::validation(format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }

    fn string(&self, name: &str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(StoreError::validation(format!(
                "{name} must be a string, found {}",
                json_kind(other)
            ))),
        }
    }

    fn table_name(&self) -> Result<&'a str> {
        let value = self.required("TableName")?;
        let Value::String(name) = value else {
            return Err(StoreError::validation(format!(
                "TableName must be a string, found {}",
                json_kind(value)
            )));
        };
        check_table_name(name)?;
        Ok(name)
    }

    fn item(&self, name: &str) -> Result<Item> {
        item_from_json(self.required(name)?, name).map_err(StoreError::validation)
    }

    fn return_values(&self, allowed: &[ReturnValues], restriction: &str) -> Result<ReturnValues> {
        let parsed = match self.string("ReturnValues")? {
            None | Some("NONE") => ReturnValues::None,
            Some("ALL_OLD") => ReturnValues::AllOld,
            Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
            Some("ALL_NEW") => ReturnValues::AllNew,
            Some("UPDATED_NEW") => ReturnValues::UpdatedNew,
            Some(other) => {
                return Err(StoreError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
                )));
            }
        };
        if allowed.contains(&parsed) {
            Ok(parsed)
        } else {
            Err(StoreError::validation(restriction))
        }
    }

    /// `ReturnValuesOnConditionCheckFailure`: whether a failed condition returns the old item.
    fn old_on_failure(&self) -> Result<bool> {
        match self.string("ReturnValuesOnConditionCheckFailure")? {
            None | Some("NONE") => Ok(false),
            Some("ALL_OLD") => Ok(true),
            Some(other) => Err(StoreError::validation(format!(
                "1 validation error detected: Value '{other}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
            ))),
        }
    }

    /// Parameters accepted for compatibility whose values are checked but change nothing
    /// here (capacity reporting, read consistency: a single SQLite file is always consistent).
    fn check_accepted(&self) -> Result<()> {
        let enum_check = |name: &str, member: &str, allowed: &[&str]| -> Result<()> {
            match self.string(name)? {
                Some(v) if !allowed.contains(&v) => Err(StoreError::validation(format!(
                    "1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ))),
                _ => Ok(()),
            }
        };
        enum_check(
            "ReturnConsumedCapacity",
            "returnConsumedCapacity",
            &["INDEXES", "TOTAL", "NONE"],
        )?;
        enum_check(
            "ReturnItemCollectionMetrics",
            "returnItemCollectionMetrics",
            &["SIZE", "NONE"],
        )?;
        match self.get("ConsistentRead") {
            None | Some(Value::Bool(_)) => Ok(()),
            Some(other) => Err(StoreError::validation(format!(
                "ConsistentRead must be true or false, found {}",
                json_kind(other)
            ))),
        }
    }

    fn resolver(&self) -> Result<Resolver> {
        Resolver::new(
            self.get("ExpressionAttributeNames"),
            self.get("ExpressionAttributeValues"),
        )
    }
}

fn check_table_name(name: &str) -> Result<()> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid_chars {
        // DynamoDB's message, as recorded (task_service_dynamodb__put_item_invalid_table_name).
        return Err(StoreError::validation(format!(
            "1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )));
    }
    if !(3..=255).contains(&name.len()) {
        return Err(StoreError::validation(format!(
            "TableName {name:?} is invalid: a table name is 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'"
        )));
    }
    Ok(())
}

const PUT_FIELDS: &[&str] = &[
    "TableName",
    "Item",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnValuesOnConditionCheckFailure",
    "ReturnConsumedCapacity",
    "ReturnItemCollectionMetrics",
];
const GET_FIELDS: &[&str] = &[
    "TableName",
    "Key",
    "ProjectionExpression",
    "ExpressionAttributeNames",
    "ConsistentRead",
    "ReturnConsumedCapacity",
];
const UPDATE_FIELDS: &[&str] = &[
    "TableName",
    "Key",
    "UpdateExpression",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnValuesOnConditionCheckFailure",
    "ReturnConsumedCapacity",
    "ReturnItemCollectionMetrics",
];
const DELETE_FIELDS: &[&str] = &[
    "TableName",
    "Key",
    "ConditionExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ReturnValues",
    "ReturnValuesOnConditionCheckFailure",
    "ReturnConsumedCapacity",
    "ReturnItemCollectionMetrics",
];

impl Store {
    /// Creates a table with this key schema. Creating an existing table again with the same
    /// schema does nothing; with a different schema it fails with
    /// [`StoreError::TableExists`].
    pub fn create_table(&self, name: &str, schema: &KeySchema) -> Result<()> {
        check_table_name(name)?;
        for attr in schema.attributes() {
            if attr.name.is_empty() || attr.name.len() > 255 {
                return Err(StoreError::validation(format!(
                    "key attribute name {:?} must be 1 to 255 bytes long",
                    attr.name
                )));
            }
        }
        if let Some(sort) = &schema.sort_key {
            if sort.name == schema.partition_key.name {
                return Err(StoreError::validation(format!(
                    "the partition key and the sort key are both named {}; they must differ",
                    sort.name
                )));
            }
        }
        let (table, wanted) = (name.to_owned(), schema.clone());
        self.inner.db.write(SERVICE, move |tx| {
            let (name, schema) = (table.as_str(), &wanted);
            if let Some(existing) = load_schema(tx, name)? {
                if &existing != schema {
                    return Err(StoreError::TableExists { table: name.to_owned(), existing: existing.to_string() });
                }
                return Ok(());
            }
            tx.prepare_cached(
                "INSERT INTO ddb_tables (name, pk_name, pk_type, sk_name, sk_type, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    name,
                    schema.partition_key.name,
                    schema.partition_key.key_type.as_str(),
                    schema.sort_key.as_ref().map(|k| k.name.as_str()),
                    schema.sort_key.as_ref().map(|k| k.key_type.as_str()),
                    now_ms(),
                ])
            })
            .db(SERVICE)?;
            Ok(())
        })?;
        self.tables_cache()
            .insert(name.to_owned(), Arc::new(schema.clone()));
        Ok(())
    }

    /// The key schema of a table ([`StoreError::TableNotFound`] if there is none).
    pub fn describe_table(&self, name: &str) -> Result<KeySchema> {
        self.schema(name).map(|s| (*s).clone())
    }

    /// Names of all tables, sorted.
    pub fn list_tables(&self) -> Result<Vec<String>> {
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached("SELECT name FROM ddb_tables ORDER BY name")
                .db(SERVICE)?;
            let rows = st
                .query_map([], |row| row.get::<_, String>(0))
                .db(SERVICE)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db(SERVICE)
        })
    }

    /// PutItem: writes a whole item, replacing any item with the same key, if the
    /// `ConditionExpression` (evaluated against the existing item) holds.
    ///
    /// Returns `{}`, or `{"Attributes": old item}` with `ReturnValues: ALL_OLD`.
    pub fn put_item(&self, request: &Value) -> Result<Value> {
        let req = Request::new("PutItem", request, PUT_FIELDS)?;
        let table = req.table_name()?;
        let item = req.item("Item")?;
        let return_values = req.return_values(
            &[ReturnValues::None, ReturnValues::AllOld],
            "ReturnValues can only be ALL_OLD or NONE",
        )?;
        let old_on_failure = req.old_on_failure()?;
        req.check_accepted()?;
        let mut resolver = req.resolver()?;
        let condition = req
            .string("ConditionExpression")?
            .map(|t| resolver.condition(t))
            .transpose()?;
        resolver.finish()?;
        let schema = self.schema(table)?;
        let key = schema.item_key(&item)?;
        check_item_limits(&item).map_err(StoreError::validation)?;
        let text = item_to_json(&item).to_string();
        let need_old = condition.is_some() || return_values == ReturnValues::AllOld;
        let table = table.to_owned();
        let old = self.inner.db.write(SERVICE, move |tx| {
            let table = table.as_str();
            let old = if need_old { load_item(tx, table, &key)? } else { None };
            check_condition(condition.as_ref(), old.as_ref(), old_on_failure)?;
            tx.prepare_cached("INSERT OR REPLACE INTO ddb_items (table_name, pk, sk, item) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut st| st.execute(params![table, key.pk, key.sk, text]))
                .db(SERVICE)?;
            Ok(old)
        })?;
        Ok(attributes(if return_values == ReturnValues::AllOld {
            old
        } else {
            None
        }))
    }

    /// GetItem: `{"Item": item}` or `{}` when there is no item with this key.
    /// `ProjectionExpression` selects attributes.
    pub fn get_item(&self, request: &Value) -> Result<Value> {
        let req = Request::new("GetItem", request, GET_FIELDS)?;
        let table = req.table_name()?;
        let key_attrs = req.item("Key")?;
        req.check_accepted()?;
        let mut resolver = Resolver::new(req.get("ExpressionAttributeNames"), None)?;
        let projection = req
            .string("ProjectionExpression")?
            .map(|t| resolver.projection(t))
            .transpose()?;
        resolver.finish()?;
        let schema = self.schema(table)?;
        let key = schema.request_key(&key_attrs)?;
        let item = self.inner.db.read(|conn| load_item(conn, table, &key))?;
        Ok(match item {
            None => json!({}),
            Some(item) => {
                let item = match &projection {
                    Some(paths) => eval::project(&item, paths),
                    None => item,
                };
                json!({ "Item": item_to_json(&item) })
            }
        })
    }

    /// UpdateItem: applies the `UpdateExpression` to the item with this key (creating it from
    /// the key when there is none) if the `ConditionExpression` holds.
    ///
    /// Returns `{}` or `{"Attributes": …}` according to `ReturnValues`.
    pub fn update_item(&self, request: &Value) -> Result<Value> {
        let req = Request::new("UpdateItem", request, UPDATE_FIELDS)?;
        let table = req.table_name()?;
        let key_attrs = req.item("Key")?;
        let return_values = req.return_values(
            &[
                ReturnValues::None,
                ReturnValues::AllOld,
                ReturnValues::UpdatedOld,
                ReturnValues::AllNew,
                ReturnValues::UpdatedNew,
            ],
            "",
        )?;
        let old_on_failure = req.old_on_failure()?;
        req.check_accepted()?;
        let schema = self.schema(table)?;
        let mut resolver = req.resolver()?;
        let update = req
            .string("UpdateExpression")?
            .map(|t| resolver.update(t, &schema.key_names()))
            .transpose()?
            .unwrap_or_default();
        let condition = req
            .string("ConditionExpression")?
            .map(|t| resolver.condition(t))
            .transpose()?;
        resolver.finish()?;
        let key = schema.request_key(&key_attrs)?;
        let key_only = key_item(&schema, &key_attrs);
        let targets = update.targets();
        let table = table.to_owned();
        let (old, new) = self.inner.db.write(SERVICE, move |tx| {
            let table = table.as_str();
            let old = load_item(tx, table, &key)?;
            check_condition(condition.as_ref(), old.as_ref(), old_on_failure)?;
            let new = eval::apply_update(old.as_ref(), &key_only, &update).map_err(StoreError::validation)?;
            check_item_limits(&new).map_err(StoreError::validation)?;
            tx.prepare_cached("INSERT OR REPLACE INTO ddb_items (table_name, pk, sk, item) VALUES (?1, ?2, ?3, ?4)")
                .and_then(|mut st| st.execute(params![table, key.pk, key.sk, item_to_json(&new).to_string()]))
                .db(SERVICE)?;
            Ok((old, new))
        })?;
        let returned = match return_values {
            ReturnValues::None => None,
            ReturnValues::AllOld => old,
            ReturnValues::AllNew => Some(new),
            ReturnValues::UpdatedOld => old.map(|o| eval::project(&o, &targets)),
            ReturnValues::UpdatedNew => Some(eval::project(&new, &targets)),
        };
        Ok(attributes(returned.filter(|i| !i.is_empty())))
    }

    /// DeleteItem: removes the item with this key, if the `ConditionExpression` holds.
    /// Deleting a missing item succeeds. Returns `{}` or, with `ALL_OLD`, the old item.
    pub fn delete_item(&self, request: &Value) -> Result<Value> {
        let req = Request::new("DeleteItem", request, DELETE_FIELDS)?;
        let table = req.table_name()?;
        let key_attrs = req.item("Key")?;
        let return_values = req.return_values(
            &[ReturnValues::None, ReturnValues::AllOld],
            "ReturnValues can only be ALL_OLD or NONE",
        )?;
        let old_on_failure = req.old_on_failure()?;
        req.check_accepted()?;
        let mut resolver = req.resolver()?;
        let condition = req
            .string("ConditionExpression")?
            .map(|t| resolver.condition(t))
            .transpose()?;
        resolver.finish()?;
        let schema = self.schema(table)?;
        let key = schema.request_key(&key_attrs)?;
        let table = table.to_owned();
        let old = self.inner.db.write(SERVICE, move |tx| {
            let table = table.as_str();
            let old = load_item(tx, table, &key)?;
            check_condition(condition.as_ref(), old.as_ref(), old_on_failure)?;
            if old.is_some() {
                tx.prepare_cached(
                    "DELETE FROM ddb_items WHERE table_name = ?1 AND pk = ?2 AND sk = ?3",
                )
                .and_then(|mut st| st.execute(params![table, key.pk, key.sk]))
                .db(SERVICE)?;
            }
            Ok(old)
        })?;
        Ok(attributes(if return_values == ReturnValues::AllOld {
            old
        } else {
            None
        }))
    }

    /// Every item of a table in DynamoDB JSON, ordered by key.
    pub fn scan(&self, table: &str) -> Result<Vec<Value>> {
        self.schema(table)?;
        self.inner.db.read(|conn| {
            let mut st = conn
                .prepare_cached("SELECT item FROM ddb_items WHERE table_name = ?1 ORDER BY pk, sk")
                .db(SERVICE)?;
            let rows = st
                .query_map([table], |row| row.get::<_, String>(0))
                .db(SERVICE)?;
            let mut items = Vec::new();
            for row in rows {
                let text = row.db(SERVICE)?;
                items.push(
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                        what: format!("item in table {table}"),
                        detail: e.to_string(),
                    })?,
                );
            }
            Ok(items)
        })
    }

    /// A table's schema, from the cache or the database.
    fn schema(&self, table: &str) -> Result<Arc<KeySchema>> {
        if let Some(schema) = self
            .inner
            .tables
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(table)
        {
            return Ok(schema.clone());
        }
        // Another process may have created the table since this one last looked.
        let schema = self
            .inner
            .db
            .read(|conn| load_schema(conn, table))?
            .ok_or_else(|| StoreError::TableNotFound {
                table: table.to_owned(),
            })?;
        let schema = Arc::new(schema);
        self.tables_cache().insert(table.to_owned(), schema.clone());
        Ok(schema)
    }

    fn tables_cache(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<KeySchema>>> {
        self.inner
            .tables
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn load_schema(conn: &Connection, table: &str) -> Result<Option<KeySchema>> {
    let row = conn
        .prepare_cached("SELECT pk_name, pk_type, sk_name, sk_type FROM ddb_tables WHERE name = ?1")
        .and_then(|mut st| {
            st.query_row([table], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<String>>(3)?,
                ))
            })
            .optional()
        })
        .db(SERVICE)?;
    let Some((pk_name, pk_type, sk_name, sk_type)) = row else {
        return Ok(None);
    };
    let key_type = |t: &str| {
        KeyType::parse(t).ok_or_else(|| StoreError::Corrupt {
            what: format!("key schema of table {table}"),
            detail: format!("unknown key type {t:?}"),
        })
    };
    let mut schema = KeySchema::new(pk_name, key_type(&pk_type)?);
    if let (Some(name), Some(t)) = (sk_name, sk_type) {
        schema = schema.with_sort_key(name, key_type(&t)?);
    }
    Ok(Some(schema))
}

fn load_item(conn: &Connection, table: &str, key: &StoredKey) -> Result<Option<Item>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT item FROM ddb_items WHERE table_name = ?1 AND pk = ?2 AND sk = ?3")
        .and_then(|mut st| {
            st.query_row(params![table, key.pk, key.sk], |row| row.get(0))
                .optional()
        })
        .db(SERVICE)?;
    let Some(text) = text else { return Ok(None) };
    let corrupt = |detail: String| StoreError::Corrupt {
        what: format!("item in table {table}"),
        detail,
    };
    let json: Value = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
    item_from_json(&json, "Item").map(Some).map_err(corrupt)
}

/// Evaluates the condition against the existing item (an empty one when there is none).
fn check_condition(
    condition: Option<&Cond>,
    old: Option<&Item>,
    old_on_failure: bool,
) -> Result<()> {
    let Some(condition) = condition else {
        return Ok(());
    };
    let empty = Item::new();
    if check(condition, old.unwrap_or(&empty)) {
        return Ok(());
    }
    let item = if old_on_failure {
        old.map(|i| Box::new(item_to_json(i)))
    } else {
        None
    };
    Err(StoreError::ConditionalCheckFailed { item })
}

fn attributes(item: Option<Item>) -> Value {
    match item {
        Some(item) => json!({ "Attributes": item_to_json(&item) }),
        None => json!({}),
    }
}
