//! `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem` over the DynamoDB API.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::operation::RequestId;
use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeValue, AttributeValueUpdate, Capacity, ComparisonOperator,
    ConditionalOperator, ConsumedCapacity, ExpectedAttributeValue, ItemCollectionMetrics,
    ReturnConsumedCapacity, ReturnItemCollectionMetrics, ReturnValue,
    ReturnValuesOnConditionCheckFailure,
};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use sfn_local::{Handlers, TaskFailure, TaskHandler, TaskRequest};

use crate::attribute::{attribute_from_json, item_from_json, item_to_json};
use crate::error::{Error, Service};
use crate::params::Params;
use crate::sdk::{self, Exchange};

/// The resource prefix of the optimised DynamoDB integration.
pub const DYNAMODB_PREFIX: &str = "arn:aws:states:::dynamodb:";

/// An item operation of the optimised DynamoDB integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamoDbOperation {
    /// `arn:aws:states:::dynamodb:putItem`
    PutItem,
    /// `arn:aws:states:::dynamodb:getItem`
    GetItem,
    /// `arn:aws:states:::dynamodb:updateItem`
    UpdateItem,
    /// `arn:aws:states:::dynamodb:deleteItem`
    DeleteItem,
}

impl DynamoDbOperation {
    /// Every operation.
    pub const ALL: [DynamoDbOperation; 4] = [
        DynamoDbOperation::PutItem,
        DynamoDbOperation::GetItem,
        DynamoDbOperation::UpdateItem,
        DynamoDbOperation::DeleteItem,
    ];

    /// The operation's Task resource.
    pub fn resource(self) -> &'static str {
        match self {
            DynamoDbOperation::PutItem => "arn:aws:states:::dynamodb:putItem",
            DynamoDbOperation::GetItem => "arn:aws:states:::dynamodb:getItem",
            DynamoDbOperation::UpdateItem => "arn:aws:states:::dynamodb:updateItem",
            DynamoDbOperation::DeleteItem => "arn:aws:states:::dynamodb:deleteItem",
        }
    }

    /// The operation a Task resource names, if it is one of these.
    pub fn from_resource(resource: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.resource() == resource)
    }

    fn name(self) -> &'static str {
        &self.resource()[DYNAMODB_PREFIX.len()..]
    }

    /// The parameters Step Functions passes through to the API.
    fn parameters(self) -> &'static [&'static str] {
        match self {
            DynamoDbOperation::GetItem => &[
                "TableName",
                "Key",
                "AttributesToGet",
                "ConsistentRead",
                "ExpressionAttributeNames",
                "ProjectionExpression",
                "ReturnConsumedCapacity",
            ],
            DynamoDbOperation::PutItem => &[
                "TableName",
                "Item",
                "ConditionalOperator",
                "ConditionExpression",
                "Expected",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ReturnConsumedCapacity",
                "ReturnItemCollectionMetrics",
                "ReturnValues",
                "ReturnValuesOnConditionCheckFailure",
            ],
            DynamoDbOperation::DeleteItem => &[
                "TableName",
                "Key",
                "ConditionalOperator",
                "ConditionExpression",
                "Expected",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ReturnConsumedCapacity",
                "ReturnItemCollectionMetrics",
                "ReturnValues",
                "ReturnValuesOnConditionCheckFailure",
            ],
            DynamoDbOperation::UpdateItem => &[
                "TableName",
                "Key",
                "AttributeUpdates",
                "ConditionalOperator",
                "ConditionExpression",
                "Expected",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ReturnConsumedCapacity",
                "ReturnItemCollectionMetrics",
                "ReturnValues",
                "ReturnValuesOnConditionCheckFailure",
                "UpdateExpression",
            ],
        }
    }
}

/// Answers DynamoDB Task states by calling the DynamoDB API.
#[derive(Debug, Clone)]
pub struct DynamoDbTask {
    client: aws_sdk_dynamodb::Client,
    endpoint: Arc<str>,
}

/// The parameters the three write operations share.
struct Write {
    condition_expression: Option<String>,
    conditional_operator: Option<ConditionalOperator>,
    expected: Option<HashMap<String, ExpectedAttributeValue>>,
    names: Option<HashMap<String, String>>,
    values: Option<HashMap<String, AttributeValue>>,
    consumed_capacity: Option<ReturnConsumedCapacity>,
    collection_metrics: Option<ReturnItemCollectionMetrics>,
    return_values: Option<ReturnValue>,
    on_condition_failure: Option<ReturnValuesOnConditionCheckFailure>,
}

impl Write {
    fn read(p: &Params<'_>) -> Result<Self, Error> {
        Ok(Write {
            condition_expression: p.string("ConditionExpression")?,
            conditional_operator: p
                .string("ConditionalOperator")?
                .as_deref()
                .map(ConditionalOperator::from),
            expected: expected(p)?,
            names: p.string_map("ExpressionAttributeNames")?,
            values: p
                .value("ExpressionAttributeValues")
                .map(|v| item_from_json("ExpressionAttributeValues", v))
                .transpose()?,
            consumed_capacity: p
                .string("ReturnConsumedCapacity")?
                .as_deref()
                .map(ReturnConsumedCapacity::from),
            collection_metrics: p
                .string("ReturnItemCollectionMetrics")?
                .as_deref()
                .map(ReturnItemCollectionMetrics::from),
            return_values: p.string("ReturnValues")?.as_deref().map(ReturnValue::from),
            on_condition_failure: p
                .string("ReturnValuesOnConditionCheckFailure")?
                .as_deref()
                .map(ReturnValuesOnConditionCheckFailure::from),
        })
    }
}

impl DynamoDbTask {
    /// A handler calling through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client) -> Self {
        let region = client
            .config()
            .region()
            .map_or_else(|| "no region".to_owned(), ToString::to_string);
        DynamoDbTask {
            client,
            endpoint: format!("the DynamoDB endpoint of {region}").into(),
        }
    }

    /// Registers this handler for the four item operations' resources.
    pub fn register(self, handlers: &mut Handlers) -> Result<(), Error> {
        let handler: Arc<dyn TaskHandler> = Arc::new(self);
        for op in DynamoDbOperation::ALL {
            crate::register(handlers, op.resource(), Arc::clone(&handler))?;
        }
        Ok(())
    }

    /// Runs one Task of `resource` with its parameters.
    pub async fn call(&self, resource: &str, input: &Value) -> Result<Value, Error> {
        let op = DynamoDbOperation::from_resource(resource)
            .ok_or_else(|| Error::UnsupportedResource(resource.to_owned()))?;
        let p = Params::new(
            Service::DynamoDb,
            &format!("dynamodb:{}", op.name()),
            input,
            op.parameters(),
        )?;
        let table = p.required_string("TableName")?;
        let exchange = Exchange::default();
        let (fields, request_id) = match op {
            DynamoDbOperation::GetItem => self.get_item(&p, table, &exchange).await?,
            DynamoDbOperation::PutItem => self.put_item(&p, table, &exchange).await?,
            DynamoDbOperation::UpdateItem => self.update_item(&p, table, &exchange).await?,
            DynamoDbOperation::DeleteItem => self.delete_item(&p, table, &exchange).await?,
        };
        Ok(sdk::result(fields, &exchange, request_id.as_deref()))
    }

    /// `GetItem`: the item (projected where asked) and the capacity it used.
    async fn get_item(
        &self,
        p: &Params<'_>,
        table: String,
        exchange: &Exchange,
    ) -> Result<(Fields, Option<String>), Error> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key(p)?))
            .set_attributes_to_get(p.string_list("AttributesToGet")?)
            .set_consistent_read(p.bool("ConsistentRead")?)
            .set_expression_attribute_names(p.string_map("ExpressionAttributeNames")?)
            .set_projection_expression(p.string("ProjectionExpression")?)
            .set_return_consumed_capacity(
                p.string("ReturnConsumedCapacity")?
                    .as_deref()
                    .map(ReturnConsumedCapacity::from),
            )
            .customize()
            .interceptor(exchange.clone())
            .send()
            .await
            .map_err(|e| sdk::from_sdk(Service::DynamoDb, e, exchange, &self.endpoint))?;
        let fields = vec![
            (
                "ConsumedCapacity",
                out.consumed_capacity().map(consumed_capacity),
            ),
            ("Item", out.item().map(item_to_json).transpose()?),
        ];
        Ok((fields, out.request_id().map(str::to_owned)))
    }

    /// `PutItem`, with the condition and return options every write takes.
    async fn put_item(
        &self,
        p: &Params<'_>,
        table: String,
        exchange: &Exchange,
    ) -> Result<(Fields, Option<String>), Error> {
        let item = p
            .value("Item")
            .ok_or_else(|| p.invalid("Item", "is required"))?;
        let w = Write::read(p)?;
        let out = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item_from_json("Item", item)?))
            .set_condition_expression(w.condition_expression)
            .set_conditional_operator(w.conditional_operator)
            .set_expected(w.expected)
            .set_expression_attribute_names(w.names)
            .set_expression_attribute_values(w.values)
            .set_return_consumed_capacity(w.consumed_capacity)
            .set_return_item_collection_metrics(w.collection_metrics)
            .set_return_values(w.return_values)
            .set_return_values_on_condition_check_failure(w.on_condition_failure)
            .customize()
            .interceptor(exchange.clone())
            .send()
            .await
            .map_err(|e| sdk::from_sdk(Service::DynamoDb, e, exchange, &self.endpoint))?;
        let fields = write_fields(
            out.attributes(),
            out.consumed_capacity(),
            out.item_collection_metrics(),
        )?;
        Ok((fields, out.request_id().map(str::to_owned)))
    }

    /// `UpdateItem`, by update expression or the legacy `AttributeUpdates`.
    async fn update_item(
        &self,
        p: &Params<'_>,
        table: String,
        exchange: &Exchange,
    ) -> Result<(Fields, Option<String>), Error> {
        let w = Write::read(p)?;
        let out = self
            .client
            .update_item()
            .table_name(table)
            .set_key(Some(key(p)?))
            .set_update_expression(p.string("UpdateExpression")?)
            .set_attribute_updates(attribute_updates(p)?)
            .set_condition_expression(w.condition_expression)
            .set_conditional_operator(w.conditional_operator)
            .set_expected(w.expected)
            .set_expression_attribute_names(w.names)
            .set_expression_attribute_values(w.values)
            .set_return_consumed_capacity(w.consumed_capacity)
            .set_return_item_collection_metrics(w.collection_metrics)
            .set_return_values(w.return_values)
            .set_return_values_on_condition_check_failure(w.on_condition_failure)
            .customize()
            .interceptor(exchange.clone())
            .send()
            .await
            .map_err(|e| sdk::from_sdk(Service::DynamoDb, e, exchange, &self.endpoint))?;
        let fields = write_fields(
            out.attributes(),
            out.consumed_capacity(),
            out.item_collection_metrics(),
        )?;
        Ok((fields, out.request_id().map(str::to_owned)))
    }

    /// `DeleteItem`, with the condition and return options every write takes.
    async fn delete_item(
        &self,
        p: &Params<'_>,
        table: String,
        exchange: &Exchange,
    ) -> Result<(Fields, Option<String>), Error> {
        let w = Write::read(p)?;
        let out = self
            .client
            .delete_item()
            .table_name(table)
            .set_key(Some(key(p)?))
            .set_condition_expression(w.condition_expression)
            .set_conditional_operator(w.conditional_operator)
            .set_expected(w.expected)
            .set_expression_attribute_names(w.names)
            .set_expression_attribute_values(w.values)
            .set_return_consumed_capacity(w.consumed_capacity)
            .set_return_item_collection_metrics(w.collection_metrics)
            .set_return_values(w.return_values)
            .set_return_values_on_condition_check_failure(w.on_condition_failure)
            .customize()
            .interceptor(exchange.clone())
            .send()
            .await
            .map_err(|e| sdk::from_sdk(Service::DynamoDb, e, exchange, &self.endpoint))?;
        let fields = write_fields(
            out.attributes(),
            out.consumed_capacity(),
            out.item_collection_metrics(),
        )?;
        Ok((fields, out.request_id().map(str::to_owned)))
    }
}

impl TaskHandler for DynamoDbTask {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        async move {
            self.call(&request.resource, &request.input)
                .await
                .map_err(TaskFailure::from)
        }
        .boxed()
    }
}

/// The `Key` of an item operation, which it requires.
fn key(p: &Params<'_>) -> Result<HashMap<String, AttributeValue>, Error> {
    p.value("Key")
        .map(|k| item_from_json("Key", k))
        .transpose()?
        .ok_or_else(|| p.invalid("Key", "is required"))
}

type Fields = Vec<(&'static str, Option<Value>)>;

fn write_fields(
    attributes: Option<&HashMap<String, AttributeValue>>,
    capacity: Option<&ConsumedCapacity>,
    metrics: Option<&ItemCollectionMetrics>,
) -> Result<Fields, Error> {
    let metrics = match metrics {
        Some(m) => {
            let mut map = Map::new();
            if let Some(key) = m.item_collection_key() {
                map.insert("ItemCollectionKey".to_owned(), item_to_json(key)?);
            }
            map.insert(
                "SizeEstimateRangeGB".to_owned(),
                json!(m.size_estimate_range_gb()),
            );
            Some(Value::Object(map))
        }
        None => None,
    };
    Ok(vec![
        ("Attributes", attributes.map(item_to_json).transpose()?),
        ("ConsumedCapacity", capacity.map(consumed_capacity)),
        ("ItemCollectionMetrics", metrics),
    ])
}

fn consumed_capacity(c: &ConsumedCapacity) -> Value {
    let mut map = Map::new();
    put(&mut map, "TableName", c.table_name().map(|t| json!(t)));
    put(
        &mut map,
        "CapacityUnits",
        c.capacity_units().map(|u| json!(u)),
    );
    put(
        &mut map,
        "ReadCapacityUnits",
        c.read_capacity_units().map(|u| json!(u)),
    );
    put(
        &mut map,
        "WriteCapacityUnits",
        c.write_capacity_units().map(|u| json!(u)),
    );
    put(&mut map, "Table", c.table().map(capacity));
    let indexes = |m: &HashMap<String, Capacity>| {
        Value::Object(m.iter().map(|(k, v)| (k.clone(), capacity(v))).collect())
    };
    put(
        &mut map,
        "LocalSecondaryIndexes",
        c.local_secondary_indexes().map(indexes),
    );
    put(
        &mut map,
        "GlobalSecondaryIndexes",
        c.global_secondary_indexes().map(indexes),
    );
    Value::Object(map)
}

fn capacity(c: &Capacity) -> Value {
    let mut map = Map::new();
    put(
        &mut map,
        "CapacityUnits",
        c.capacity_units().map(|u| json!(u)),
    );
    put(
        &mut map,
        "ReadCapacityUnits",
        c.read_capacity_units().map(|u| json!(u)),
    );
    put(
        &mut map,
        "WriteCapacityUnits",
        c.write_capacity_units().map(|u| json!(u)),
    );
    Value::Object(map)
}

fn put(map: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(name.to_owned(), value);
    }
}

/// The legacy `Expected` parameter: `{name: {Value?, Exists?, ComparisonOperator?, AttributeValueList?}}`.
fn expected(p: &Params<'_>) -> Result<Option<HashMap<String, ExpectedAttributeValue>>, Error> {
    let Some(entries) = p.object_map("Expected")? else {
        return Ok(None);
    };
    let mut out = HashMap::new();
    for (name, entry) in entries {
        let path = format!("Expected.{name}");
        let mut builder = ExpectedAttributeValue::builder();
        for (field, value) in entry {
            let here = format!("{path}.{field}");
            builder = match field.as_str() {
                "Value" => builder.value(attribute_from_json(&here, value)?),
                "Exists" => builder.exists(value.as_bool().ok_or_else(|| p.invalid(&here, "must be true or false"))?),
                "ComparisonOperator" => builder
                    .comparison_operator(ComparisonOperator::from(value.as_str().ok_or_else(|| p.invalid(&here, "must be a string"))?)),
                "AttributeValueList" => builder.set_attribute_value_list(Some(
                    value
                        .as_array()
                        .ok_or_else(|| p.invalid(&here, "must be an array of attribute values"))?
                        .iter()
                        .enumerate()
                        .map(|(i, v)| attribute_from_json(&format!("{here}[{i}]"), v))
                        .collect::<Result<_, _>>()?,
                )),
                _ => return Err(p.invalid(&here, "is not a field of Expected; it takes Value, Exists, ComparisonOperator, AttributeValueList")),
            };
        }
        out.insert(name.clone(), builder.build());
    }
    Ok(Some(out))
}

/// The legacy `AttributeUpdates` parameter: `{name: {Value?, Action?}}`.
fn attribute_updates(
    p: &Params<'_>,
) -> Result<Option<HashMap<String, AttributeValueUpdate>>, Error> {
    let Some(entries) = p.object_map("AttributeUpdates")? else {
        return Ok(None);
    };
    let mut out = HashMap::new();
    for (name, entry) in entries {
        let path = format!("AttributeUpdates.{name}");
        let mut builder = AttributeValueUpdate::builder();
        for (field, value) in entry {
            let here = format!("{path}.{field}");
            builder = match field.as_str() {
                "Value" => builder.value(attribute_from_json(&here, value)?),
                "Action" => builder.action(AttributeAction::from(
                    value
                        .as_str()
                        .ok_or_else(|| p.invalid(&here, "must be a string"))?,
                )),
                _ => {
                    return Err(p.invalid(
                        &here,
                        "is not a field of AttributeUpdates; it takes Value, Action",
                    ));
                }
            };
        }
        out.insert(name.clone(), builder.build());
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(text: &str, expected: Option<DynamoDbOperation>) {
        assert_eq!(DynamoDbOperation::from_resource(text), expected, "{text}");
    }

    #[test]
    fn resources() {
        resource(
            "arn:aws:states:::dynamodb:putItem",
            Some(DynamoDbOperation::PutItem),
        );
        resource(
            "arn:aws:states:::dynamodb:getItem",
            Some(DynamoDbOperation::GetItem),
        );
        resource(
            "arn:aws:states:::dynamodb:updateItem",
            Some(DynamoDbOperation::UpdateItem),
        );
        resource(
            "arn:aws:states:::dynamodb:deleteItem",
            Some(DynamoDbOperation::DeleteItem),
        );
        resource("arn:aws:states:::dynamodb:scan", None);
        resource("arn:aws:states:::dynamodb:putitem", None);
        resource("arn:aws:states:::aws-sdk:dynamodb:putItem", None);
    }

    #[test]
    fn operation_names() {
        assert_eq!(DynamoDbOperation::PutItem.name(), "putItem");
        assert_eq!(DynamoDbOperation::DeleteItem.name(), "deleteItem");
    }
}
