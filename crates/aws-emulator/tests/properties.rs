//! Property tests: no input panics the expression parsers or the item validation, and valid
//! items round-trip.

use aws_emulator::Store;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::store;

/// Arbitrary JSON, up to a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Values shaped like AttributeValues, valid or not: a known tag with an arbitrary payload.
fn attribute_like() -> impl Strategy<Value = Value> {
    let tag = prop_oneof![
        Just("S"),
        Just("N"),
        Just("B"),
        Just("BOOL"),
        Just("NULL"),
        Just("M"),
        Just("L"),
        Just("SS"),
        Just("NS"),
        Just("BS"),
        Just("X")
    ];
    let leaf = (tag, any_json()).prop_map(|(t, v)| json!({ t: v }));
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|l| json!({"L": l})),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4).prop_map(|m| json!({"M": m})),
        ]
    })
}

/// Valid AttributeValues.
fn valid_attribute() -> impl Strategy<Value = Value> {
    let number = (any::<i64>(), 0u32..6).prop_map(|(n, scale)| {
        let s = n.to_string();
        if scale == 0 {
            s
        } else {
            format!("{s}e-{scale}")
        }
    });
    let leaf = prop_oneof![
        ".{0,10}".prop_map(|s| json!({"S": s})),
        number.prop_map(|n| json!({"N": n})),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(|b| {
            use base64::Engine as _;
            json!({"B": base64::engine::general_purpose::STANDARD.encode(b)})
        }),
        any::<bool>().prop_map(|b| json!({"BOOL": b})),
        Just(json!({"NULL": true})),
        prop::collection::btree_set("[a-z]{1,5}", 1..4).prop_map(|s| json!({"SS": s})),
        prop::collection::btree_set(0i32..1000, 1..4)
            .prop_map(|s| json!({"NS": s.iter().map(i32::to_string).collect::<Vec<_>>()})),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|l| json!({"L": l})),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4).prop_map(|m| json!({"M": m})),
        ]
    })
}

/// Strings made of expression tokens, which reach deeper into the grammar than random text.
fn expression_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("a"),
        Just("b.c"),
        Just("l[0]"),
        Just("#n"),
        Just(":v"),
        Just(":w"),
        Just("="),
        Just("<>"),
        Just("<"),
        Just(">="),
        Just("("),
        Just(")"),
        Just(","),
        Just("AND"),
        Just("OR"),
        Just("NOT"),
        Just("BETWEEN"),
        Just("IN"),
        Just("size"),
        Just("attribute_exists"),
        Just("begins_with"),
        Just("contains"),
        Just("if_not_exists"),
        Just("list_append"),
        Just("SET"),
        Just("REMOVE"),
        Just("ADD"),
        Just("DELETE"),
        Just("+"),
        Just("-"),
        Just("[9"),
        Just("."),
        Just("#"),
        Just(":"),
        Just("status"),
    ];
    prop::collection::vec(token, 0..24).prop_map(|t| t.join(" "))
}

fn expression_request(field: &str, text: String) -> (Value, Value) {
    let names = json!({"#n": "name"});
    let values = json!({":v": {"N": "1"}, ":w": {"L": []}});
    let put = json!({
        "TableName": "Orders",
        "Item": {"orderId": {"S": "p"}},
        "ConditionExpression": text,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    });
    let mut update = json!({
        "TableName": "Orders",
        "Key": {"orderId": {"S": "p"}},
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    });
    update[field] = Value::String(text);
    (put, update)
}

fn exercise_expressions(s: &Store, text: String) {
    let (put, update) = expression_request("UpdateExpression", text.clone());
    let _ = s.put_item(&put);
    let _ = s.update_item(&update);
    let (_, with_condition) = expression_request("ConditionExpression", text.clone());
    let _ = s.update_item(&with_condition);
    let _ = s.get_item(&json!({"TableName": "Orders", "Key": {"orderId": {"S": "p"}}, "ProjectionExpression": text}));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn expression_parsers_never_panic_on_arbitrary_text(text in "\\PC{0,80}") {
        exercise_expressions(&store(), text);
    }

    #[test]
    fn expression_parsers_never_panic_on_token_soup(text in expression_like()) {
        exercise_expressions(&store(), text);
    }

    #[test]
    fn put_item_never_panics_on_arbitrary_json(value in any_json(), shaped in attribute_like()) {
        let s = store();
        let _ = s.put_item(&json!({"TableName": "Orders", "Item": {"orderId": {"S": "p"}, "a": value.clone()}}));
        let _ = s.put_item(&json!({"TableName": "Orders", "Item": {"orderId": {"S": "p"}, "a": shaped}}));
        let _ = s.put_item(&json!({"TableName": "Orders", "Item": value.clone()}));
        let _ = s.put_item(&value);
    }

    #[test]
    fn valid_items_round_trip_in_canonical_form(value in valid_attribute()) {
        let s = store();
        let put = json!({"TableName": "Orders", "Item": {"orderId": {"S": "p"}, "a": value}});
        s.put_item(&put).unwrap();
        let first = s.get_item(&json!({"TableName": "Orders", "Key": {"orderId": {"S": "p"}}})).unwrap();
        // Storing the canonical form again changes nothing.
        s.put_item(&json!({"TableName": "Orders", "Item": first["Item"].clone()})).unwrap();
        let second = s.get_item(&json!({"TableName": "Orders", "Key": {"orderId": {"S": "p"}}})).unwrap();
        prop_assert_eq!(&first, &second);
        // And the stored value equals the one put, by DynamoDB's equality.
        let check = s.put_item(&json!({
            "TableName": "Orders",
            "Item": {"orderId": {"S": "p"}},
            "ConditionExpression": "a = :v",
            "ExpressionAttributeValues": {":v": put["Item"]["a"].clone()},
        }));
        prop_assert!(check.is_ok(), "{:?}", check);
    }
}
