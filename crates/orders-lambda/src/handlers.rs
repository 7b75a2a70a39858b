//! The three function handlers, callable with or without the Lambda runtime.

use orders::{
    Charge, ChargeRequest, Clock, Inventory, Item, Order, OrderError, OrderId, OrderRequest,
    PaymentGateway, StockRequest, Verification,
};
use serde_json::{Map, Value, json};
use tracing::{info, warn};

use crate::HandlerError;

/// `verify-payment`: validates the order and verifies its card.
///
/// Answers `{"paymentVerified": true, "paymentToken": "tok_…", "card": {"brand", "last4"}}`
/// or `{"paymentVerified": false, "reason": "…", "card": {…}}`; an invalid order is a
/// `ValidationError`.
pub async fn verify_payment(
    event: Value,
    gateway: &impl PaymentGateway,
    clock: &impl Clock,
) -> Result<Value, HandlerError> {
    const FUNCTION: &str = "verify-payment";
    let order_id = order_id_of(&event);
    let order = match Order::try_from(OrderRequest::new(event)) {
        Ok(order) => order,
        Err(error) => return Err(rejected(FUNCTION, order_id.as_ref(), error)),
    };
    let verification = match orders::verify_payment(&order, gateway, clock).await {
        Ok(verification) => verification,
        Err(error) => return Err(rejected(FUNCTION, order_id.as_ref(), error)),
    };
    let card = json!({"brand": verification.card.brand, "last4": verification.card.last4});
    Ok(match verification.outcome {
        Verification::Verified(token) => {
            info!(
                function = FUNCTION,
                order_id = order_id.as_ref().map(OrderId::as_str),
                outcome = "verified",
                card_brand = %verification.card.brand,
                card_last4 = %verification.card.last4,
                "payment verified"
            );
            json!({"paymentVerified": true, "paymentToken": token.as_str(), "card": card})
        }
        Verification::NotVerified(reason) => {
            let reason = reason.to_string();
            info!(
                function = FUNCTION,
                order_id = order_id.as_ref().map(OrderId::as_str),
                outcome = "not_verified",
                card_brand = %verification.card.brand,
                card_last4 = %verification.card.last4,
                reason = %reason,
                "payment not verified"
            );
            json!({"paymentVerified": false, "reason": reason, "card": card})
        }
    })
}

/// `check-stock`: answers the event's `items`, each with an added integer `quantityInStock`.
///
/// Item fields other than the validated ones are passed through unchanged. Invalid items are
/// a `ValidationError`.
pub async fn check_stock(event: Value, inventory: &impl Inventory) -> Result<Value, HandlerError> {
    const FUNCTION: &str = "check-stock";
    let request = StockRequest::new(event);
    let items = match request.items() {
        Ok(items) => items,
        Err(error) => return Err(rejected(FUNCTION, None, error)),
    };
    let levels = match orders::check_stock(&items, inventory).await {
        Ok(levels) => levels,
        Err(error) => return Err(rejected(FUNCTION, None, error)),
    };
    // Each item is answered from its validated fields only: whatever else a client put in an
    // item (a card number in a field nobody reads, say) goes no further than this function.
    let mut answer = Vec::with_capacity(items.len());
    let mut out_of_stock = Vec::new();
    for (item, level) in items.iter().zip(levels) {
        let mut object = item_json(item);
        object.insert("quantityInStock".to_owned(), Value::from(level));
        if level == 0 {
            out_of_stock.push(item.item_id().as_str());
        }
        answer.push(Value::Object(object));
    }
    info!(
        function = FUNCTION,
        outcome = if out_of_stock.is_empty() { "in_stock" } else { "out_of_stock" },
        items = items.len(),
        out_of_stock = ?out_of_stock,
        "stock checked"
    );
    Ok(Value::Array(answer))
}

/// An item as its three validated fields, for when the original object is not at hand.
fn item_json(item: &Item) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("itemId".to_owned(), Value::from(item.item_id().as_str()));
    object.insert("price".to_owned(), item.price().to_json());
    object.insert(
        "itemDescription".to_owned(),
        Value::from(item.description()),
    );
    object
}

/// `charge-payment`: charges the token for the order.
///
/// Answers `{"paymentResult": "SUCCESS", "chargeId": "ch_…", "amount": 2250}`; a declined
/// charge is a `PaymentError`, invalid input a `ValidationError`. Charging an order id twice
/// repeats the first answer.
pub async fn charge_payment(
    event: Value,
    gateway: &impl PaymentGateway,
) -> Result<Value, HandlerError> {
    const FUNCTION: &str = "charge-payment";
    let order_id = order_id_of(&event);
    let charge = match Charge::try_from(ChargeRequest::new(event)) {
        Ok(charge) => charge,
        Err(error) => return Err(rejected(FUNCTION, order_id.as_ref(), error)),
    };
    match orders::charge_payment(&charge, gateway).await {
        Ok(charge_id) => {
            info!(
                function = FUNCTION,
                order_id = charge.order_id.as_str(),
                outcome = "charged",
                charge_id = charge_id.as_str(),
                amount = %charge.amount,
                "payment charged"
            );
            Ok(
                json!({"paymentResult": "SUCCESS", "chargeId": charge_id.as_str(), "amount": charge.amount.to_json()}),
            )
        }
        Err(error) => Err(rejected(FUNCTION, Some(&charge.order_id), error)),
    }
}

/// The event's `orderId` for the log line, only if it is a valid one: whatever else is in
/// that field stays out of the logs.
fn order_id_of(event: &Value) -> Option<OrderId> {
    event
        .get("orderId")
        .and_then(Value::as_str)
        .and_then(|text| OrderId::new(text).ok())
}

/// Logs a failed invocation and wraps its error. Error messages name fields and amounts but
/// never echo a card number, so they are safe to log.
fn rejected(function: &'static str, order_id: Option<&OrderId>, error: OrderError) -> HandlerError {
    let outcome = match error {
        OrderError::PaymentDeclined { .. } => "declined",
        _ => "rejected",
    };
    warn!(
        function,
        order_id = order_id.map(OrderId::as_str),
        outcome,
        error_type = error.name(),
        error = %error,
        "invocation failed"
    );
    HandlerError(error)
}
