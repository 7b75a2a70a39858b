//! DynamoDB semantics: items, conditions, updates, return values, validation, atomicity.

use std::sync::{Arc, Barrier};

use aws_emulator::{KeySchema, KeyType, Store, StoreError};
use serde_json::{Value, json};

use crate::common::{TempDir, assert_error, key, order_put, setup, store, with};

const VALIDATION: &str = "DynamoDB.ValidationException";
const CONDITION_FAILED: &str = "DynamoDB.ConditionalCheckFailedException";

fn not_exists() -> Value {
    json!({"ConditionExpression": "attribute_not_exists(orderId)"})
}

#[test]
fn put_then_get_returns_the_item_with_canonical_numbers() {
    let s = store();
    assert_eq!(
        s.put_item(&order_put("o-1", json!({"tags": {"SS": ["a"]}})))
            .unwrap(),
        json!({})
    );
    let got = s.get_item(&key("o-1")).unwrap();
    assert_eq!(
        got,
        json!({"Item": {"orderId": {"S": "o-1"}, "State": {"S": "PAYMENT_PROCESSED"}, "total": {"N": "42.5"}, "tags": {"SS": ["a"]}}})
    );
    assert_eq!(s.get_item(&key("nope")).unwrap(), json!({}));
}

#[test]
fn put_replaces_and_all_old_returns_the_previous_item() {
    let s = store();
    s.put_item(&order_put("o-1", json!({}))).unwrap();
    let replaced = s
        .put_item(&with(
            order_put("o-1", json!({"State": {"S": "ERROR"}})),
            json!({"ReturnValues": "ALL_OLD"}),
        ))
        .unwrap();
    assert_eq!(
        replaced["Attributes"]["State"],
        json!({"S": "PAYMENT_PROCESSED"})
    );
    assert_eq!(
        s.get_item(&key("o-1")).unwrap()["Item"]["State"],
        json!({"S": "ERROR"})
    );
    let fresh = s
        .put_item(&with(
            order_put("o-2", json!({})),
            json!({"ReturnValues": "ALL_OLD"}),
        ))
        .unwrap();
    assert_eq!(fresh, json!({}));
    assert_error(
        s.put_item(&with(
            order_put("o-1", json!({})),
            json!({"ReturnValues": "ALL_NEW"}),
        )),
        VALIDATION,
        "ReturnValues can only be ALL_OLD or NONE",
    );
}

#[test]
fn conditional_put_refuses_a_second_record() {
    let s = store();
    s.put_item(&with(order_put("o-1", json!({})), not_exists()))
        .unwrap();
    let second = s.put_item(&with(
        order_put("o-1", json!({"State": {"S": "ERROR"}})),
        not_exists(),
    ));
    assert_error(second, CONDITION_FAILED, "The conditional request failed");
    assert_eq!(
        s.get_item(&key("o-1")).unwrap()["Item"]["State"],
        json!({"S": "PAYMENT_PROCESSED"})
    );
    let with_old = s.put_item(&with(
        order_put("o-1", json!({})),
        json!({"ConditionExpression": "attribute_not_exists(orderId)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
    ));
    match with_old {
        Err(StoreError::ConditionalCheckFailed { item: Some(item) }) => {
            assert_eq!(item["orderId"], json!({"S": "o-1"}));
        }
        other => panic!("expected the old item with the failure, got {other:?}"),
    }
}

#[test]
fn conditions_use_placeholders_and_see_the_stored_item() {
    let s = store();
    s.put_item(&order_put("o-1", json!({}))).unwrap();
    let cond = |expr: &str, values: Value| {
        s.put_item(&with(
            order_put("o-1", json!({})),
            json!({"ConditionExpression": expr, "ExpressionAttributeNames": {"#s": "State"}, "ExpressionAttributeValues": values}),
        ))
    };
    assert!(cond("#s = :s", json!({":s": {"S": "PAYMENT_PROCESSED"}})).is_ok());
    assert_error(
        cond("#s = :s", json!({":s": {"S": "ERROR"}})),
        CONDITION_FAILED,
        "conditional request failed",
    );
    assert!(
        cond(
            "#s IN (:a, :b)",
            json!({":a": {"S": "ERROR"}, ":b": {"S": "PAYMENT_PROCESSED"}})
        )
        .is_ok()
    );
    assert_error(
        cond("#s = :s", json!({":s": {"S": "x"}, ":extra": {"S": "y"}})),
        VALIDATION,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}",
    );
    assert_error(
        s.put_item(&with(order_put("o-1", json!({})), json!({"ConditionExpression": "attribute_exists(orderId)", "ExpressionAttributeNames": {"#s": "State"}}))),
        VALIDATION,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#s}",
    );
    assert_error(
        s.put_item(&with(
            order_put("o-1", json!({})),
            json!({"ExpressionAttributeValues": {":v": {"S": "x"}}}),
        )),
        VALIDATION,
        "ExpressionAttributeValues can only be specified when using expressions",
    );
    assert_error(
        s.put_item(&with(order_put("o-1", json!({})), json!({"ConditionExpression": "State = :v", "ExpressionAttributeValues": {":v": {"S": "x"}}}))),
        VALIDATION,
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: State",
    );
}

#[test]
fn update_creates_increments_and_returns_values() {
    let s = store();
    let update = |expr: &str, values: Value, rv: &str| {
        s.update_item(&with(
            key("o-1"),
            json!({"UpdateExpression": expr, "ExpressionAttributeValues": values, "ReturnValues": rv}),
        ))
    };
    let created = update(
        "SET attempts = if_not_exists(attempts, :zero) + :one",
        json!({":zero": {"N": "0"}, ":one": {"N": "1"}}),
        "ALL_NEW",
    );
    assert_eq!(
        created.unwrap(),
        json!({"Attributes": {"orderId": {"S": "o-1"}, "attempts": {"N": "1"}}})
    );
    let again = update(
        "SET attempts = attempts + :one",
        json!({":one": {"N": "1"}}),
        "UPDATED_NEW",
    );
    assert_eq!(
        again.unwrap(),
        json!({"Attributes": {"attempts": {"N": "2"}}})
    );
    let old = update(
        "SET note = :n ADD tags :t",
        json!({":n": {"S": "hi"}, ":t": {"SS": ["x"]}}),
        "UPDATED_OLD",
    );
    assert_eq!(old.unwrap(), json!({}), "nothing updated existed before");
    let all_old = update("REMOVE note", json!({":unused": {"S": "x"}}), "ALL_OLD");
    assert_error(
        all_old,
        VALIDATION,
        "unused in expressions: keys: {:unused}",
    );
    let all_old = s
        .update_item(&with(
            key("o-1"),
            json!({"UpdateExpression": "REMOVE note", "ReturnValues": "ALL_OLD"}),
        ))
        .unwrap();
    assert_eq!(all_old["Attributes"]["note"], json!({"S": "hi"}));
    assert_eq!(
        s.get_item(&key("o-1")).unwrap(),
        json!({"Item": {"orderId": {"S": "o-1"}, "attempts": {"N": "2"}, "tags": {"SS": ["x"]}}})
    );
    assert_error(
        update("SET orderId = :v", json!({":v": {"S": "x"}}), "NONE"),
        VALIDATION,
        "Cannot update attribute orderId. This attribute is part of the key",
    );
    assert_error(
        update("SET a = :v", json!({":v": {"S": "x"}}), "EVERYTHING"),
        VALIDATION,
        "Value 'EVERYTHING' at 'returnValues'",
    );
}

#[test]
fn failed_update_condition_changes_nothing() {
    let s = store();
    s.put_item(&order_put("o-1", json!({}))).unwrap();
    let result = s.update_item(&with(
        key("o-1"),
        json!({
            "UpdateExpression": "SET #s = :new",
            "ConditionExpression": "#s = :expected",
            "ExpressionAttributeNames": {"#s": "State"},
            "ExpressionAttributeValues": {":new": {"S": "ERROR"}, ":expected": {"S": "INVALID"}}
        }),
    ));
    assert_error(result, CONDITION_FAILED, "The conditional request failed");
    assert_eq!(
        s.get_item(&key("o-1")).unwrap()["Item"]["State"],
        json!({"S": "PAYMENT_PROCESSED"})
    );
    assert_error(
        s.update_item(&with(key("o-1"), json!({"UpdateExpression": "SET total = total + :s", "ExpressionAttributeNames": {"#x": "x"}, "ExpressionAttributeValues": {":s": {"S": "x"}}}))),
        VALIDATION,
        "reserved keyword: total",
    );
    assert_error(
        s.update_item(&with(key("o-1"), json!({"UpdateExpression": "SET #t = #t + :s", "ExpressionAttributeNames": {"#t": "total"}, "ExpressionAttributeValues": {":s": {"S": "x"}}}))),
        VALIDATION,
        "Incorrect operand type for operator or function; operator or function: +, operand type: S",
    );
    assert_error(
        s.update_item(&with(key("o-1"), json!({"UpdateExpression": "SET #s = #s + :one", "ExpressionAttributeNames": {"#s": "State"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}))),
        VALIDATION,
        "An operand in the update expression has an incorrect data type",
    );
}

#[test]
fn delete_with_condition_and_all_old() {
    let s = store();
    s.put_item(&order_put("o-1", json!({}))).unwrap();
    assert_error(
        s.delete_item(&with(
            key("o-1"),
            json!({"ConditionExpression": "attribute_not_exists(orderId)"}),
        )),
        CONDITION_FAILED,
        "conditional request failed",
    );
    let deleted = s
        .delete_item(&with(key("o-1"), json!({"ReturnValues": "ALL_OLD"})))
        .unwrap();
    assert_eq!(deleted["Attributes"]["orderId"], json!({"S": "o-1"}));
    assert_eq!(s.get_item(&key("o-1")).unwrap(), json!({}));
    assert_eq!(
        s.delete_item(&key("o-1")).unwrap(),
        json!({}),
        "deleting a missing item succeeds"
    );
}

#[test]
fn get_with_projection() {
    let s = store();
    s.put_item(&order_put(
        "o-1",
        json!({"card": {"M": {"last4": {"S": "4242"}, "brand": {"S": "VISA"}}}}),
    ))
    .unwrap();
    let got = s
        .get_item(&with(key("o-1"), json!({"ProjectionExpression": "card.last4, #s", "ExpressionAttributeNames": {"#s": "State"}})))
        .unwrap();
    assert_eq!(
        got,
        json!({"Item": {"card": {"M": {"last4": {"S": "4242"}}}, "State": {"S": "PAYMENT_PROCESSED"}}})
    );
}

#[test]
fn composite_keys_compare_numbers_as_decimals() {
    let s = store();
    let put = |seq: &str| {
        s.put_item(&json!({"TableName": "Events", "Item": {"pk": {"S": "a"}, "seq": {"N": seq}, "v": {"S": seq}}}))
    };
    put("1").unwrap();
    put("1.0").unwrap();
    put("10").unwrap();
    put("2").unwrap();
    let items = s.scan("Events").unwrap();
    assert_eq!(items.len(), 3, "1 and 1.0 are the same key: {items:?}");
    let got = s
        .get_item(&json!({"TableName": "Events", "Key": {"pk": {"S": "a"}, "seq": {"N": "1.00"}}}))
        .unwrap();
    assert_eq!(got["Item"]["v"], json!({"S": "1.0"}));
    assert_error(
        s.get_item(&json!({"TableName": "Events", "Key": {"pk": {"S": "a"}}})),
        VALIDATION,
        "The provided key element does not match the schema: missing key attribute seq",
    );
}

#[test]
fn validation_errors_name_the_problem() {
    let s = store();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"TableName": "Orders", "Item": {"total": {"N": "1"}}}),
            "Missing the key orderId in the item",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"N": "1"}}}),
            "Type mismatch for key orderId expected: S actual: N",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": ""}}}),
            "cannot contain an empty string value. Key: orderId",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}, "n": {"N": "x1"}}}),
            "cannot be converted to a numeric value: x1 (at Item.n)",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}, "n": {"S": "a", "N": "1"}}}),
            "more than one datatypes",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}, "n": 5}}),
            "must be an object such as {\"S\": \"text\"}, found a number (at Item.n)",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}, "big": {"S": "x".repeat(410_000)}}}),
            "Item size has exceeded the maximum allowed size",
        ),
        (
            json!({"TableName": "Orders"}),
            "Value null at 'item' failed to satisfy constraint: Member must not be null",
        ),
        (
            json!({"Item": {"orderId": {"S": "a"}}}),
            "Value null at 'tableName'",
        ),
        (
            json!({"TableName": "x", "Item": {}}),
            "TableName \"x\" is invalid",
        ),
        // As recorded on AWS (conformance cases task_service_dynamodb__invalid_param and
        // task_service_dynamodb__put_item_invalid_table_name).
        (
            json!({"TableName": "Orders", "Item": null}),
            "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null",
        ),
        (
            json!({"TableName": "/bad_table", "Item": {"orderId": {"S": "a"}}}),
            "1 validation error detected: Value '/bad_table' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}}, "Expected": {}}),
            "Expected is a legacy parameter",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}}, "Bogus": 1}),
            "PutItem does not accept the parameter Bogus",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}}, "ConditionExpression": "x = :v"}),
            "An expression attribute value used in expression is not defined; attribute value: :v",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}}, "ConditionExpression": "#x = :v", "ExpressionAttributeValues": {":v": {"S": "1"}}}),
            "attribute name: #x",
        ),
        (
            json!({"TableName": "Orders", "Item": {"orderId": {"S": "a"}}, "ConditionExpression": "a = = :v", "ExpressionAttributeValues": {":v": {"S": "1"}}}),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :v\"",
        ),
        (
            json!([1, 2]),
            "PutItem request must be a JSON object, found an array",
        ),
    ];
    for (request, fragment) in cases {
        assert_error(s.put_item(&request), VALIDATION, fragment);
    }
    assert_error(
        s.put_item(&json!({"TableName": "Nope", "Item": {"id": {"S": "a"}}})),
        "DynamoDB.ResourceNotFoundException",
        "Table: Nope not found",
    );
    assert_error(
        s.get_item(
            &json!({"TableName": "Orders", "Key": {"orderId": {"S": "a"}, "extra": {"S": "b"}}}),
        ),
        VALIDATION,
        "The provided key element does not match the schema: extra is not a key attribute",
    );
    assert_error(
        s.get_item(&json!({"TableName": "Orders", "Key": {"orderId": {"N": "1"}}})),
        VALIDATION,
        "key orderId expected type S, found N",
    );
}

#[test]
fn create_table_is_idempotent_but_refuses_another_schema() {
    let s = store();
    s.create_table("Orders", &KeySchema::new("orderId", KeyType::S))
        .unwrap();
    let err = s
        .create_table("Orders", &KeySchema::new("id", KeyType::N))
        .unwrap_err();
    assert_eq!(err.error_name(), "DynamoDB.ResourceInUseException");
    assert!(err.message().contains("orderId (S)"), "{err}");
    assert_eq!(s.list_tables().unwrap(), ["Events", "Orders"]);
    assert_eq!(
        s.describe_table("Events").unwrap().to_string(),
        "pk (S), seq (N)"
    );
    assert_eq!(
        s.describe_table("Nope").unwrap_err().error_name(),
        "DynamoDB.ResourceNotFoundException"
    );
}

#[test]
fn concurrent_conditional_puts_have_exactly_one_winner() {
    let dir = TempDir::new("race");
    let shared = Store::open(dir.path()).unwrap();
    setup(&shared);
    const THREADS: usize = 8;
    const ROUNDS: usize = 25;
    // Half the threads share one store (one process), half open their own (as other
    // processes would: separate SQLite connections contending for the file lock).
    let stores: Vec<Store> = (0..THREADS)
        .map(|i| {
            if i % 2 == 0 {
                shared.clone()
            } else {
                Store::open(dir.path()).unwrap()
            }
        })
        .collect();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(t, store)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut wins = Vec::new();
                for round in 0..ROUNDS {
                    barrier.wait();
                    let put = with(
                        order_put(
                            &format!("race-{round}"),
                            json!({"winner": {"N": t.to_string()}}),
                        ),
                        json!({"ConditionExpression": "attribute_not_exists(orderId)"}),
                    );
                    match store.put_item(&put) {
                        Ok(_) => wins.push((round, t)),
                        Err(e) => assert_eq!(e.error_name(), CONDITION_FAILED, "{e}"),
                    }
                }
                wins
            })
        })
        .collect();
    let mut wins: Vec<(usize, usize)> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    wins.sort_unstable();
    assert_eq!(
        wins.iter().map(|w| w.0).collect::<Vec<_>>(),
        (0..ROUNDS).collect::<Vec<_>>(),
        "one winner per round"
    );
    for (round, thread) in wins {
        let item = shared.get_item(&key(&format!("race-{round}"))).unwrap();
        assert_eq!(
            item["Item"]["winner"],
            json!({"N": thread.to_string()}),
            "the stored item is the winner's"
        );
    }
}

#[test]
fn items_persist_across_reopen() {
    let dir = TempDir::new("reopen");
    {
        let s = Store::open(dir.path()).unwrap();
        setup(&s);
        s.put_item(&order_put("o-1", json!({}))).unwrap();
    }
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(
        s.get_item(&key("o-1")).unwrap()["Item"]["orderId"],
        json!({"S": "o-1"})
    );
    assert_eq!(s.scan("Orders").unwrap().len(), 1);
    assert!(s.database_file().unwrap().ends_with("store.sqlite3"));
}
