//! The sample events in `events/` mean what their names say.

use orders::simulated::{CHARGE_DECLINED_CARD, OUT_OF_STOCK_PREFIX, REFUSED_CARD};
use orders::{
    Charge, ChargeOutcome, ChargeRequest, Order, OrderRequest, PaymentGateway, SimulatedGateway,
    Simulation, StockRequest, Verification,
};
use serde_json::Value;

use crate::common::{ORDER, block_on, today};

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("sample events are JSON")
}

fn order(text: &str) -> Order {
    Order::try_from(OrderRequest::new(json(text))).expect("a valid order")
}

fn card_number(text: &str) -> String {
    json(text)
        .pointer("/paymentDetails/cardNumber")
        .and_then(Value::as_str)
        .expect("a card number")
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

fn verify(text: &str) -> Verification {
    let gateway = SimulatedGateway::new(Simulation::Deterministic);
    block_on(orders::verify_payment(&order(text), &gateway, &today()))
        .expect("verifies")
        .outcome
}

fn token(text: &str) -> String {
    match verify(text) {
        Verification::Verified(token) => token.as_str().to_owned(),
        Verification::NotVerified(reason) => panic!("not verified: {reason}"),
    }
}

#[test]
fn the_sample_order_is_the_reference_order() {
    let order = order(ORDER);
    let prices: Vec<String> = order
        .items()
        .iter()
        .map(|item| item.price().to_string())
        .collect();
    assert_eq!(prices, ["1000", "500", "750"]);
    assert_eq!(order.total().to_string(), "2250");
    assert_eq!(order.customer_id().as_str(), "c-id-56392");
    let card = order.card().expect("a card order");
    assert_eq!(card.card_type(), "MASTERCARD");
    assert_eq!(card.expiration(), "08/31");
    assert_eq!(format!("{:?}", card.card_number()), "CardNumber(****4444)");
    assert!(matches!(verify(ORDER), Verification::Verified(_)));
}

#[test]
fn workflow_orders() {
    assert_eq!(
        json(include_str!("../../../events/workflow/order-ok.json")),
        json(ORDER)
    );
    let not_verified = include_str!("../../../events/workflow/payment-not-verified.json");
    assert_eq!(card_number(not_verified), REFUSED_CARD);
    assert!(matches!(verify(not_verified), Verification::NotVerified(_)));
    let out_of_stock = order(include_str!("../../../events/workflow/out-of-stock.json"));
    assert!(
        out_of_stock
            .items()
            .iter()
            .any(|item| item.item_id().as_str().starts_with(OUT_OF_STOCK_PREFIX))
    );
    let declined = include_str!("../../../events/workflow/charge-declined.json");
    assert_eq!(card_number(declined), CHARGE_DECLINED_CARD);
    assert!(token(declined).starts_with("tok_sim_chargeDeclined_"));
    let invalid = OrderRequest::new(json(include_str!(
        "../../../events/workflow/invalid-order.json"
    )));
    let error = Order::try_from(invalid).expect_err("invalid");
    assert_eq!(
        error.to_string(),
        "orderContents.items[2].price must be greater than 0, found 0"
    );
}

#[test]
fn verify_payment_events() {
    assert!(matches!(
        verify(include_str!("../../../events/verify-payment/verified.json")),
        Verification::Verified(_)
    ));
    let not_verified = verify(include_str!(
        "../../../events/verify-payment/not-verified.json"
    ));
    assert!(
        matches!(not_verified, Verification::NotVerified(_)),
        "{not_verified:?}"
    );
    let invalid = OrderRequest::new(json(include_str!(
        "../../../events/verify-payment/invalid-order.json"
    )));
    assert!(Order::try_from(invalid).is_err());
}

#[test]
fn check_stock_events() {
    let items = |text| StockRequest::new(json(text)).items();
    let in_stock = items(include_str!("../../../events/check-stock/in-stock.json")).expect("valid");
    assert!(
        in_stock
            .iter()
            .all(|item| !item.item_id().as_str().starts_with(OUT_OF_STOCK_PREFIX))
    );
    let out = items(include_str!(
        "../../../events/check-stock/out-of-stock.json"
    ))
    .expect("valid");
    assert!(
        out.iter()
            .any(|item| item.item_id().as_str().starts_with(OUT_OF_STOCK_PREFIX))
    );
    let error =
        items(include_str!("../../../events/check-stock/invalid.json")).expect_err("invalid");
    assert_eq!(error.to_string(), "items[0].itemId is required");
}

#[test]
fn charge_payment_events_carry_the_tokens_verification_issues() {
    let charge = |text| Charge::try_from(ChargeRequest::new(json(text)));
    let success =
        charge(include_str!("../../../events/charge-payment/success.json")).expect("valid");
    assert_eq!(
        success.token.as_str(),
        token(include_str!("../../../events/verify-payment/verified.json"))
    );
    let declined =
        charge(include_str!("../../../events/charge-payment/declined.json")).expect("valid");
    assert_eq!(
        declined.token.as_str(),
        token(include_str!(
            "../../../events/workflow/charge-declined.json"
        ))
    );

    let gateway = SimulatedGateway::new(Simulation::Deterministic);
    assert!(matches!(
        block_on(gateway.charge(&success)),
        Ok(ChargeOutcome::Charged(_))
    ));
    assert!(matches!(
        block_on(gateway.charge(&declined)),
        Ok(ChargeOutcome::Declined { .. })
    ));
    let error =
        charge(include_str!("../../../events/charge-payment/invalid.json")).expect_err("invalid");
    assert_eq!(
        error.to_string(),
        "amount must be greater than 0, found -2250"
    );
}

/// `events/workflow/tokenized.json` pays with the token the simulated provider's client-side
/// tokenization issues for the Visa test card, and carries no card field.
#[test]
fn the_tokenized_sample_carries_the_token_issued_for_its_card() {
    use orders::{CardNumber, Payment, PaymentDetails, YearMonth};

    let value: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/workflow/tokenized.json"))
            .expect("JSON");
    let order = Order::try_from(OrderRequest::new(value.clone())).expect("a valid order");
    let card = PaymentDetails::new(
        "John Doe",
        "VISA",
        CardNumber::new("4242 4242 4242 4242"),
        "08/31",
    )
    .expect("valid details");
    let issued = SimulatedGateway::tokenize(&card, YearMonth::new(2026, 11).expect("a month"))
        .expect("tokenized");
    match order.payment() {
        Payment::Token(tokenized) => assert_eq!(tokenized.token(), &issued),
        Payment::Card(_) => panic!("the sample pays with a token"),
    }
    let details = value["paymentDetails"].as_object().expect("an object");
    assert_eq!(
        details.keys().collect::<Vec<_>>(),
        ["name", "paymentToken"],
        "no card field"
    );
}
