//! Ports: what the order workflow needs from a payment provider and a stock system.

use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::card::{MaskedCard, NotVerified};
use crate::json::{Charset, Object, check_text};
use crate::{
    CardBrand, CustomerId, ItemId, Money, Order, OrderError, OrderId, PaymentVerification,
    YearMonth,
};

/// A payment gateway's opaque token for a verified card. The card number stays with the
/// gateway; the token is what travels through the workflow to the charge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PaymentToken(String);

impl PaymentToken {
    /// The longest accepted token, in characters.
    pub const MAX_LEN: usize = 256;

    /// Validates token text: 1–256 letters, digits and `-_.:`. Whether a gateway issued it
    /// is for that gateway to say.
    pub fn new(text: impl Into<String>) -> Result<PaymentToken, OrderError> {
        let text = text.into();
        check_text("paymentToken", &text, Self::MAX_LEN, Charset::Identifier)?;
        Ok(PaymentToken(text))
    }

    /// A token the caller built itself and knows to be valid.
    pub(crate) fn trusted(text: String) -> PaymentToken {
        PaymentToken(text)
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PaymentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A payment gateway's id for a completed charge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ChargeId(String);

impl ChargeId {
    /// Wraps a gateway's charge id.
    pub fn new(text: impl Into<String>) -> ChargeId {
        ChargeId(text.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChargeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A gateway's answer to "can this card pay?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// The card can pay; charge it with this token.
    Verified(PaymentToken),
    /// The card cannot pay.
    NotVerified(NotVerified),
}

/// A gateway's answer to a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The money was taken.
    Charged(ChargeId),
    /// The issuer or the gateway declined the charge.
    Declined {
        /// Why, as the gateway put it.
        reason: String,
    },
}

/// A charge request as received (`{"orderId", "customerId", "amount", "paymentToken"}`), not
/// yet validated.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct ChargeRequest(Value);

impl ChargeRequest {
    /// Wraps a JSON value.
    pub fn new(value: Value) -> ChargeRequest {
        ChargeRequest(value)
    }
}

impl From<Value> for ChargeRequest {
    fn from(value: Value) -> ChargeRequest {
        ChargeRequest(value)
    }
}

/// A validated charge: take `amount` from the card behind `token` for `order_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The order, which is also the idempotency key: charging it twice charges once.
    pub order_id: OrderId,
    /// The customer.
    pub customer_id: CustomerId,
    /// The amount, greater than zero.
    pub amount: Money,
    /// The token from verification.
    pub token: PaymentToken,
}

impl TryFrom<&ChargeRequest> for Charge {
    type Error = OrderError;

    fn try_from(request: &ChargeRequest) -> Result<Charge, OrderError> {
        let root = Object::root(&request.0)?;
        Ok(Charge {
            order_id: OrderId::at("orderId", root.string("orderId")?)?,
            customer_id: CustomerId::at("customerId", root.string("customerId")?)?,
            amount: root.positive_money("amount")?,
            token: PaymentToken::new(root.string("paymentToken")?)?,
        })
    }
}

impl TryFrom<ChargeRequest> for Charge {
    type Error = OrderError;

    fn try_from(request: ChargeRequest) -> Result<Charge, OrderError> {
        Charge::try_from(&request)
    }
}

/// A payment provider: verifies cards and charges them.
///
/// Implementations return `Err` only for input the gateway cannot use (a token it did not
/// issue, an order id reused for a different charge) or when it cannot be reached; a refused
/// card or a declined charge is an `Ok` answer.
pub trait PaymentGateway: Send + Sync {
    /// Decides whether the card of `order`, which passed [`crate::check_card`] as `brand`,
    /// can pay; when it can, returns a token for [`PaymentGateway::charge`].
    fn verify(
        &self,
        order: &Order,
        brand: CardBrand,
    ) -> impl Future<Output = Result<Verification, OrderError>> + Send;

    /// Takes the money. Idempotent per `charge.order_id`: a repeat returns the first
    /// outcome.
    fn charge(
        &self,
        charge: &Charge,
    ) -> impl Future<Output = Result<ChargeOutcome, OrderError>> + Send;

    /// Decides whether the card behind `token`, which this provider issued for `order`'s
    /// client before the order was sent, can pay in `today`'s month; answers the masked card
    /// the provider knows and, when it can pay, a token for [`PaymentGateway::charge`].
    ///
    /// A provider that takes no tokens refuses every one, which is what this default does.
    fn verify_token(
        &self,
        order: &Order,
        token: &PaymentToken,
        today: YearMonth,
    ) -> impl Future<Output = Result<PaymentVerification, OrderError>> + Send {
        let _ = (order, token, today);
        std::future::ready(Ok(PaymentVerification {
            card: MaskedCard {
                brand: "UNKNOWN".to_owned(),
                last4: String::new(),
            },
            outcome: Verification::NotVerified(NotVerified::Refused {
                reason: "this payment provider takes card details, not payment tokens".to_owned(),
            }),
        }))
    }
}

/// A stock system.
pub trait Inventory: Send + Sync {
    /// How many of `item` are in stock; 0 means out of stock.
    fn stock_level(&self, item: &ItemId) -> impl Future<Output = Result<u32, OrderError>> + Send;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn charge_error(request: Value, message: &str) {
        let error = Charge::try_from(ChargeRequest::new(request)).expect_err(message);
        assert_eq!(error.to_string(), message);
        assert_eq!(error.name(), "ValidationError");
    }

    #[test]
    fn reads_a_charge() {
        let request = json!({"orderId": "o-1", "customerId": "c-1", "amount": 19.99, "paymentToken": "tok_x"});
        let charge = Charge::try_from(ChargeRequest::new(request)).expect("valid");
        assert_eq!(charge.amount.to_string(), "19.99");
        assert_eq!(charge.token.as_str(), "tok_x");
    }

    #[test]
    fn rejects_bad_charges() {
        let ok =
            json!({"orderId": "o-1", "customerId": "c-1", "amount": 5, "paymentToken": "tok_x"});
        let with = |key: &str, value: Value| {
            let mut request = ok.clone();
            request[key] = value;
            request
        };
        let without = |key: &str| {
            let mut request = ok.clone();
            request.as_object_mut().map(|object| object.remove(key));
            request
        };
        charge_error(json!("x"), "input must be an object, found a string");
        charge_error(without("orderId"), "orderId is required");
        charge_error(with("orderId", json!("")), "orderId must not be empty");
        charge_error(without("customerId"), "customerId is required");
        charge_error(
            with("amount", json!(-5)),
            "amount must be greater than 0, found -5",
        );
        charge_error(
            with("amount", json!("5")),
            "amount must be a number, found a string",
        );
        charge_error(without("paymentToken"), "paymentToken is required");
        charge_error(
            with("paymentToken", json!("tok x")),
            "paymentToken must not contain ' '; use letters, digits, '-', '_', '.' and ':' only",
        );
    }
}
