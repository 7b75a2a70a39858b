//! Order validation, one case per line.

use orders::{Order, OrderRequest};
use serde_json::{Value, json};

use crate::common::{order, order_with, order_without};

fn valid(input: Value) {
    if let Err(error) = Order::try_from(OrderRequest::new(input.clone())) {
        panic!("{input} was rejected: {error}");
    }
}

fn invalid(input: Value, message: &str) {
    match Order::try_from(OrderRequest::new(input.clone())) {
        Ok(_) => panic!("{input} was accepted, expected: {message}"),
        Err(error) => {
            assert_eq!(error.to_string(), message, "{input}");
            assert_eq!(error.name(), "ValidationError", "{message}");
        }
    }
}

fn items(prices: &[Value]) -> Value {
    let items: Vec<Value> = prices
        .iter()
        .enumerate()
        .map(|(n, price)| json!({"itemId": format!("item-{n}"), "price": price, "itemDescription": "thing"}))
        .collect();
    json!({"items": items})
}

fn with_items(prices: &[Value], total: Value) -> Value {
    let mut order = order_with("/orderContents", items(prices));
    order["orderTotal"] = total;
    order
}

#[test]
fn valid_orders() {
    valid(order());
    valid(order_with("/customerId", json!("c-id-56392")));
    valid({
        let mut order = order();
        order["orderId"] = json!("o-2026-11-24.001");
        order
    });
    valid({
        let mut order = order();
        order["orderId"] = Value::Null;
        order
    });
    valid(with_items(&[json!(19.99), json!(0.01)], json!(20)));
    valid(with_items(&[json!(0.1), json!(0.2)], json!(0.3)));
    valid(with_items(&[json!(19.99), json!(5)], json!(24.99)));
    valid(with_items(&vec![json!(1); 100], json!(100)));
    valid(order_with(
        "/orderContents/items/0/itemDescription",
        json!(""),
    ));
    valid(order_with(
        "/orderContents/items/0/itemDescription",
        json!("Mäcbook « Pro »\nwith newline"),
    ));
    valid(order_with(
        "/paymentDetails/name",
        json!("Zoë O'Brien-Łukasz"),
    ));
    valid(order_with(
        "/paymentDetails/cardNumber",
        json!("not a number at all"),
    ));
    valid(order_with("/paymentDetails/cardType", json!("DINERS")));
    valid({
        let mut order = order();
        order["extra"] = json!({"ignored": true});
        order
    });
}

#[test]
fn invalid_orders() {
    invalid(json!([]), "input must be an object, found an array");
    invalid(json!(null), "input must be an object, found null");
    invalid(order_without("/orderContents"), "orderContents is required");
    invalid(
        order_with("/orderContents", json!("items")),
        "orderContents must be an object, found a string",
    );
    invalid(
        order_without("/orderContents/items"),
        "orderContents.items is required",
    );
    invalid(
        order_with("/orderContents/items", json!({})),
        "orderContents.items must be an array, found an object",
    );
    invalid(
        order_with("/orderContents/items", json!([])),
        "orderContents.items must contain at least 1 item",
    );
    invalid(
        with_items(&vec![json!(1); 101], json!(101)),
        "orderContents.items must contain at most 100 items, found 101",
    );
    invalid(
        order_with("/orderContents/items/1", json!(5)),
        "orderContents.items[1] must be an object, found a number",
    );
    invalid(
        order_without("/orderContents/items/0/itemId"),
        "orderContents.items[0].itemId is required",
    );
    invalid(
        order_with("/orderContents/items/0/itemId", json!("")),
        "orderContents.items[0].itemId must not be empty",
    );
    invalid(
        order_with("/orderContents/items/0/itemId", json!(7)),
        "orderContents.items[0].itemId must be a string, found a number",
    );
    invalid(
        order_with("/orderContents/items/0/itemId", json!("x".repeat(129))),
        "orderContents.items[0].itemId must be at most 128 characters long, found 129",
    );
    invalid(
        order_with("/orderContents/items/0/itemId", json!("a\u{0}b")),
        "orderContents.items[0].itemId must not contain '\\0'; use printable characters only",
    );
    invalid(
        order_with("/orderContents/items/2/price", json!(0)),
        "orderContents.items[2].price must be greater than 0, found 0",
    );
    invalid(
        order_with("/orderContents/items/2/price", json!(-750)),
        "orderContents.items[2].price must be greater than 0, found -750",
    );
    invalid(
        order_with("/orderContents/items/2/price", json!("750")),
        "orderContents.items[2].price must be a number, found a string",
    );
    invalid(
        order_with("/orderContents/items/2/price", json!(null)),
        "orderContents.items[2].price must be a number, found null",
    );
    invalid(
        order_with("/orderContents/items/2/price", json!(749.999)),
        "orderContents.items[2].price must have at most 2 decimal places, found 749.999",
    );
    invalid(
        order_with("/orderContents/items/2/price", json!(1e13)),
        "orderContents.items[2].price must be at most 1000000000000, found 10000000000000.0",
    );
    invalid(
        order_without("/orderContents/items/1/itemDescription"),
        "orderContents.items[1].itemDescription is required",
    );
    invalid(
        order_with("/orderContents/items/1/itemDescription", json!(["iPhone"])),
        "orderContents.items[1].itemDescription must be a string, found an array",
    );
    invalid(
        order_with(
            "/orderContents/items/1/itemDescription",
            json!("x".repeat(1025)),
        ),
        "orderContents.items[1].itemDescription must be at most 1024 characters long, found 1025",
    );
    invalid(order_without("/orderTotal"), "orderTotal is required");
    invalid(
        order_with("/orderTotal", json!("2250")),
        "orderTotal must be a number, found a string",
    );
    invalid(
        order_with("/orderTotal", json!(2000)),
        "orderTotal must equal the sum of the item prices 2250, found 2000",
    );
    invalid(
        order_with("/orderTotal", json!(2250.01)),
        "orderTotal must equal the sum of the item prices 2250, found 2250.01",
    );
    invalid(
        with_items(&[json!(0.1), json!(0.2)], json!(0.31)),
        "orderTotal must equal the sum of the item prices 0.3, found 0.31",
    );
    invalid(order_without("/customerId"), "customerId is required");
    invalid(
        order_with("/customerId", json!("  ")),
        "customerId must not be empty",
    );
    invalid(
        order_with("/customerId", json!(true)),
        "customerId must be a string, found a boolean",
    );
    invalid(
        order_without("/paymentDetails"),
        "paymentDetails is required",
    );
    invalid(
        order_with("/paymentDetails", json!([])),
        "paymentDetails must be an object, found an array",
    );
    invalid(
        order_without("/paymentDetails/name"),
        "paymentDetails.name is required",
    );
    invalid(
        order_with("/paymentDetails/name", json!("")),
        "paymentDetails.name must not be empty",
    );
    invalid(
        order_with("/paymentDetails/name", json!("x".repeat(201))),
        "paymentDetails.name must be at most 200 characters long, found 201",
    );
    invalid(
        order_without("/paymentDetails/cardType"),
        "paymentDetails.cardType is required",
    );
    invalid(
        order_with("/paymentDetails/cardType", json!("X".repeat(33))),
        "paymentDetails.cardType must be at most 32 characters long, found 33",
    );
    invalid(
        order_without("/paymentDetails/cardNumber"),
        "paymentDetails.cardNumber is required",
    );
    invalid(
        order_with("/paymentDetails/cardNumber", json!(5555555555554444_u64)),
        "paymentDetails.cardNumber must be a string, found a number",
    );
    invalid(
        order_with("/paymentDetails/cardNumber", json!("5".repeat(65))),
        "paymentDetails.cardNumber must be at most 64 characters long, found 65",
    );
    invalid(
        order_without("/paymentDetails/expiration"),
        "paymentDetails.expiration is required",
    );
    invalid(
        order_with("/paymentDetails/expiration", json!(826)),
        "paymentDetails.expiration must be a string, found a number",
    );
    invalid(
        order_with("/customerId", json!("")),
        "customerId must not be empty",
    );
    invalid(
        json!({"orderId": "", "orderContents": {}}),
        "orderId must not be empty",
    );
    invalid(
        json!({"orderId": "o 1"}),
        "orderId must not contain ' '; use letters, digits, '-', '_', '.' and ':' only",
    );
    invalid(
        json!({"orderId": 1001}),
        "orderId must be a string, found a number",
    );
    invalid(
        json!({"orderId": "o".repeat(65)}),
        "orderId must be at most 64 characters long, found 65",
    );
}

#[test]
fn reads_the_reference_amounts_exactly() {
    let order = Order::try_from(OrderRequest::new(with_items(
        &[json!(19.99), json!(0.01)],
        json!(20),
    )))
    .expect("valid");
    let prices: Vec<String> = order
        .items()
        .iter()
        .map(|item| item.price().to_string())
        .collect();
    assert_eq!(prices, ["19.99", "0.01"]);
    assert_eq!(order.total().to_string(), "20");
}

/// A card number in any field but `cardNumber` is refused, whatever its form, and the message
/// names the field without repeating the value.
#[test]
fn card_numbers_outside_the_card_number_field() {
    let forms = [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111.1111.1111.1111",
        "4111:1111:1111:1111",
        "4111\u{a0}1111\u{a0}1111\u{a0}1111",
        "４１１１１１１１１１１１１１１１",
        "ref4111111111111111",
        "paid with 4111 1111 1111 1111, thanks",
    ];
    let fields = [
        ("/orderId", "orderId"),
        ("/customerId", "customerId"),
        (
            "/orderContents/items/1/itemId",
            "orderContents.items[1].itemId",
        ),
        (
            "/orderContents/items/2/itemDescription",
            "orderContents.items[2].itemDescription",
        ),
        ("/paymentDetails/name", "paymentDetails.name"),
        ("/paymentDetails/cardType", "paymentDetails.cardType"),
        ("/paymentDetails/expiration", "paymentDetails.expiration"),
    ];
    for (pointer, field) in fields {
        for form in forms {
            let mut input = order();
            if pointer == "/orderId" {
                input["orderId"] = json!(form);
            } else {
                *input.pointer_mut(pointer).expect("in the sample") = json!(form);
            }
            let error = Order::try_from(OrderRequest::new(input)).expect_err(form);
            let message = error.to_string();
            assert!(
                !message.contains("4111") && !message.contains("１１１１"),
                "{form:?} in {field}: the message repeats it: {message}"
            );
            // A shorter rule may refuse it first (the identifier charset of orderId, the
            // length of cardType); the card-number rule refuses everything else.
            let other_rule =
                message.contains("must not contain '") || message.contains("characters long");
            if !other_rule {
                assert_eq!(
                    message,
                    format!(
                        "{field} must not contain a card number; send the card number in paymentDetails.cardNumber only"
                    ),
                    "{form:?} in {field}"
                );
            }
            assert!(message.starts_with(field), "{message}");
            assert_eq!(error.name(), "ValidationError");
        }
    }
}

/// An amount that is a card number is refused, and the message shows only its last four.
#[test]
fn card_number_amounts_are_not_repeated() {
    invalid(
        order_with("/orderTotal", json!(4111111111111111_u64)),
        "orderTotal must be at most 1000000000000, found ************1111",
    );
    invalid(
        order_with("/orderContents/items/0/price", json!(-4111111111111111_i64)),
        "orderContents.items[0].price must be at most 1000000000000, found -************1111",
    );
}
