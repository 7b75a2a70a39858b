//! Each sample event gives the documented answer.

use lambda_runtime::Diagnostic;
use orders::{SimulatedGateway, SimulatedInventory, Simulation};
use orders_lambda::{HandlerError, charge_payment, check_stock, verify_payment};
use serde_json::{Value, json};

use crate::common::{order, sample, today};

fn diagnostic(result: Result<Value, HandlerError>) -> (String, String) {
    let error = result.expect_err("an error");
    let diagnostic = Diagnostic::from(error);
    (diagnostic.error_type, diagnostic.error_message)
}

fn pair(error_type: &str, message: &str) -> (String, String) {
    (error_type.to_owned(), message.to_owned())
}

async fn verify(event: Value) -> Result<Value, HandlerError> {
    verify_payment(
        event,
        &SimulatedGateway::new(Simulation::Deterministic),
        &today(),
    )
    .await
}

async fn stock(event: Value) -> Result<Value, HandlerError> {
    check_stock(event, &SimulatedInventory::new(Simulation::Deterministic)).await
}

#[tokio::test]
async fn verify_payment_answers() {
    let answer = verify(sample("verify-payment", "verified"))
        .await
        .expect("answers");
    assert_eq!(
        answer,
        json!({"paymentVerified": true, "paymentToken": "tok_sim_8b4638b6b035f3b3",
               "card": {"brand": "MASTERCARD", "last4": "4444"}})
    );
    let answer = verify(sample("verify-payment", "not-verified"))
        .await
        .expect("answers");
    assert_eq!(
        answer,
        json!({"paymentVerified": false, "reason": "the card issuer refused the card",
               "card": {"brand": "VISA", "last4": "0002"}})
    );
    assert_eq!(
        diagnostic(verify(sample("verify-payment", "invalid-order")).await),
        pair(
            "ValidationError",
            "orderContents.items[2].price must be greater than 0, found 0"
        )
    );
}

#[tokio::test]
async fn the_reference_card_is_not_verified() {
    let mut reference = order();
    reference["paymentDetails"]["cardNumber"] = json!("5192 7402 9672 1055");
    reference["paymentDetails"]["expiration"] = json!("08/26");
    let answer = verify(reference).await.expect("answers");
    assert_eq!(
        answer,
        json!({"paymentVerified": false, "reason": "card number fails the Luhn check",
               "card": {"brand": "MASTERCARD", "last4": "1055"}})
    );
    let mut expired = order();
    expired["paymentDetails"]["expiration"] = json!("08/26");
    let answer = verify(expired).await.expect("answers");
    assert_eq!(
        answer["reason"],
        "card expired: its expiration month has passed"
    );
    let mut unknown = order();
    unknown["paymentDetails"]["cardType"] = json!("diners");
    let answer = verify(unknown).await.expect("answers");
    assert_eq!(answer["card"], json!({"brand": "UNKNOWN", "last4": "4444"}));
    assert_eq!(answer["paymentVerified"], false);
}

#[tokio::test]
async fn check_stock_answers() {
    let answer = stock(sample("check-stock", "in-stock"))
        .await
        .expect("answers");
    let items = answer.as_array().expect("an array");
    assert_eq!(items.len(), 3);
    for (item, original) in items.iter().zip(
        sample("check-stock", "in-stock")["items"]
            .as_array()
            .expect("items"),
    ) {
        let level = item["quantityInStock"].as_u64().expect("an integer level");
        assert!((1..=9).contains(&level), "{item}");
        let mut without_level = item.clone();
        without_level
            .as_object_mut()
            .map(|object| object.remove("quantityInStock"));
        assert_eq!(&without_level, original);
    }
    let answer = stock(sample("check-stock", "out-of-stock"))
        .await
        .expect("answers");
    assert_eq!(answer[1]["itemId"], "oos-g7b2q");
    assert_eq!(answer[1]["quantityInStock"], 0);
    assert_eq!(
        diagnostic(stock(sample("check-stock", "invalid")).await),
        pair("ValidationError", "items[0].itemId is required")
    );
}

#[tokio::test]
async fn check_stock_answers_only_validated_fields_and_replaces_old_levels() {
    // Fields the function does not read are not passed on: they could carry anything,
    // a card number included.
    let event = json!({"items": [{"itemId": "a", "price": 19.99, "itemDescription": "", "colour": "red", "quantityInStock": 99}]});
    let answer = stock(event).await.expect("answers");
    assert_eq!(answer[0].get("colour"), None);
    assert_eq!(answer[0]["itemId"], "a");
    assert_eq!(answer[0]["price"].to_string(), "19.99");
    assert_ne!(answer[0]["quantityInStock"], 99);
}

#[tokio::test]
async fn charge_payment_answers() {
    let gateway = SimulatedGateway::new(Simulation::Deterministic);
    let answer = charge_payment(sample("charge-payment", "success"), &gateway)
        .await
        .expect("answers");
    assert_eq!(answer["paymentResult"], "SUCCESS");
    assert_eq!(answer["amount"], json!(2250));
    assert!(
        answer["chargeId"]
            .as_str()
            .is_some_and(|id| id.starts_with("ch_sim_")),
        "{answer}"
    );
    let again = charge_payment(sample("charge-payment", "success"), &gateway)
        .await
        .expect("answers");
    assert_eq!(again, answer, "a repeated charge repeats the answer");

    assert_eq!(
        diagnostic(charge_payment(sample("charge-payment", "declined"), &gateway).await),
        pair(
            "PaymentError",
            "payment for order o-1004 was declined: the card issuer declined the charge"
        )
    );
    assert_eq!(
        diagnostic(charge_payment(sample("charge-payment", "invalid"), &gateway).await),
        pair(
            "ValidationError",
            "amount must be greater than 0, found -2250"
        )
    );
    let foreign =
        json!({"orderId": "o-9", "customerId": "c", "amount": 1, "paymentToken": "tok_visa"});
    assert_eq!(
        diagnostic(charge_payment(foreign, &gateway).await).0,
        "ValidationError"
    );
}

#[tokio::test]
async fn amounts_keep_their_decimal_text() {
    let gateway = SimulatedGateway::new(Simulation::Deterministic);
    let mut event = sample("charge-payment", "success");
    event["orderId"] = json!("o-decimal");
    event["amount"] = json!(19.99);
    let answer = charge_payment(event, &gateway).await.expect("answers");
    assert_eq!(
        serde_json::to_string(&answer["amount"]).expect("json"),
        "19.99"
    );
}

#[tokio::test]
async fn verification_and_charge_chain() {
    let gateway = SimulatedGateway::new(Simulation::Deterministic);
    let verified = verify_payment(sample("verify-payment", "verified"), &gateway, &today())
        .await
        .expect("answers");
    let charge = json!({"orderId": "o-1001", "customerId": "c-id-56392", "amount": 2250,
                        "paymentToken": verified["paymentToken"]});
    assert_eq!(
        charge,
        sample("charge-payment", "success"),
        "the sample charge carries the sample token"
    );
    let answer = charge_payment(charge, &gateway).await.expect("answers");
    assert_eq!(answer["paymentResult"], "SUCCESS");
}
