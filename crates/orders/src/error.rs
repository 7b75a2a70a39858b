//! The one error type of the order domain.

use crate::Money;

/// Everything that can go wrong while reading an order, a stock check or a charge, or while
/// charging it.
///
/// Every variant has a stable name for Step Functions `Catch`/`Retry` rules, given by
/// [`OrderError::name`]. Messages are lowercase, name the offending field with its JSON path
/// (`orderContents.items[2].price`) and never contain a card number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// The input is not JSON at all: `{"orderTotal": }`.
    #[error("input is not valid JSON: {reason}")]
    NotJson {
        /// What the JSON parser reported.
        reason: String,
    },
    /// A required field is absent: an item without `itemId`.
    #[error("{field} is required")]
    MissingField {
        /// JSON path of the field.
        field: String,
    },
    /// A field has the wrong JSON type: `"orderTotal": "2250"`.
    #[error("{field} must be {expected}, found {found}")]
    WrongType {
        /// JSON path of the field.
        field: String,
        /// The JSON type the field must have, with its article ("a string").
        expected: &'static str,
        /// The JSON type it has.
        found: &'static str,
    },
    /// A text field is empty or only whitespace: `"customerId": " "`.
    #[error("{field} must not be empty")]
    Empty {
        /// JSON path of the field.
        field: String,
    },
    /// A text field is longer than allowed: a 500-character `itemId`.
    #[error("{field} must be at most {max} characters long, found {len}")]
    TooLong {
        /// JSON path of the field.
        field: String,
        /// The largest allowed length, in characters.
        max: usize,
        /// The length found.
        len: usize,
    },
    /// A text field holds a character it may not hold: `"orderId": "a b"`, or a control
    /// character in `customerId`.
    #[error("{field} must not contain {found:?}; {allowed}")]
    ForbiddenCharacter {
        /// JSON path of the field.
        field: String,
        /// The first offending character.
        found: char,
        /// What the field may contain.
        allowed: &'static str,
    },
    /// A field other than `paymentDetails.cardNumber` holds a card number, in any of the forms
    /// [`crate::contains_card_number`] finds: `"customerId": "4111 1111 1111 1111"`. The value
    /// is not repeated.
    #[error(
        "{field} must not contain a card number; send the card number in paymentDetails.cardNumber only"
    )]
    CardNumber {
        /// JSON path of the field.
        field: String,
    },
    /// An amount is zero or negative: `"price": 0`.
    #[error("{field} must be greater than 0, found {value}")]
    NotPositive {
        /// JSON path of the field.
        field: String,
        /// The amount found, as text.
        value: String,
    },
    /// An amount has more decimal places than money has: `"price": 19.999`.
    #[error("{field} must have at most {max} decimal places, found {value}")]
    TooPrecise {
        /// JSON path of the field.
        field: String,
        /// The most decimal places allowed.
        max: u32,
        /// The amount found, as text.
        value: String,
    },
    /// An amount is larger than any order may be: `"orderTotal": 1e15`.
    #[error("{field} must be at most {max}, found {value}")]
    TooLarge {
        /// JSON path of the field.
        field: String,
        /// The largest allowed amount.
        max: Money,
        /// The amount found, as text.
        value: String,
    },
    /// Two fields that cannot be sent together: `paymentDetails` with both `paymentToken`
    /// and `cardNumber`.
    #[error("{field} and {other} exclude each other; send the token only")]
    ExclusiveFields {
        /// JSON path of the field kept.
        field: String,
        /// JSON path of the field that must go.
        other: String,
    },
    /// An order or stock check without items: `"items": []`.
    #[error("{field} must contain at least 1 item")]
    NoItems {
        /// JSON path of the item list.
        field: String,
    },
    /// More items than one order may hold: 101 items.
    #[error("{field} must contain at most {max} items, found {count}")]
    TooManyItems {
        /// JSON path of the item list.
        field: String,
        /// The most items allowed.
        max: usize,
        /// The number of items found.
        count: usize,
    },
    /// `orderTotal` is not the sum of the item prices: items 1000 + 500 + 750 with
    /// `"orderTotal": 2000`.
    #[error("orderTotal must equal the sum of the item prices {sum}, found {total}")]
    TotalMismatch {
        /// The order total given.
        total: Money,
        /// The sum of the item prices.
        sum: Money,
    },
    /// A payment token that the payment gateway did not issue: `"paymentToken": "tok_visa"`
    /// given to the simulated gateway.
    #[error(
        "paymentToken was not issued by this payment gateway; pass the token returned by verify-payment"
    )]
    UnknownToken,
    /// An order id charged before with a different amount or token. The order id is the
    /// idempotency key of a charge, so a second charge under it must repeat the first.
    #[error(
        "orderId {order_id} was already charged with a different amount or payment token; use a new orderId for a new order"
    )]
    IdempotencyConflict {
        /// The order id.
        order_id: String,
    },
    /// The payment gateway declined the charge: a token issued for the simulated
    /// charge-declined card.
    #[error("payment for order {order_id} was declined: {reason}")]
    PaymentDeclined {
        /// The order id.
        order_id: String,
        /// Why the gateway declined it.
        reason: String,
    },
    /// A service behind a port could not answer for now: the payment ledger's table is
    /// throttled, timed out or returned a server error. Transient, so the workflow retries it.
    #[error("the {service} is unavailable: {reason}")]
    Unavailable {
        /// Which service.
        service: &'static str,
        /// What failed.
        reason: String,
    },
    /// A service behind a port failed in a way that a retry would repeat: the payment ledger
    /// refused the request as invalid, or holds an entry for the order in a shape this code
    /// never writes. Permanent, so the workflow does not retry it.
    #[error("the {service} failed: {reason}")]
    ServiceFault {
        /// Which service.
        service: &'static str,
        /// What failed.
        reason: String,
    },
    /// An adapter is misconfigured: `ORDERFLOW_SIMULATION=sometimes`.
    #[error("{variable} {problem}")]
    Config {
        /// The environment variable or setting.
        variable: &'static str,
        /// What is wrong with it and what to use instead.
        problem: String,
    },
}

impl OrderError {
    /// The stable name of the error, used as the Lambda `errorType` and matched by the state
    /// machine's `ErrorEquals`: `ValidationError` for bad input, `PaymentError` for a declined
    /// charge, `ConfigurationError` for a misconfigured adapter, `ServiceUnavailable` when a
    /// service behind a port cannot answer for now (retried), `ServiceFault` when it failed for
    /// good (not retried).
    pub fn name(&self) -> &'static str {
        match self {
            OrderError::PaymentDeclined { .. } => "PaymentError",
            OrderError::Config { .. } => "ConfigurationError",
            OrderError::Unavailable { .. } => "ServiceUnavailable",
            OrderError::ServiceFault { .. } => "ServiceFault",
            OrderError::NotJson { .. }
            | OrderError::MissingField { .. }
            | OrderError::WrongType { .. }
            | OrderError::Empty { .. }
            | OrderError::TooLong { .. }
            | OrderError::ForbiddenCharacter { .. }
            | OrderError::CardNumber { .. }
            | OrderError::NotPositive { .. }
            | OrderError::TooPrecise { .. }
            | OrderError::TooLarge { .. }
            | OrderError::NoItems { .. }
            | OrderError::TooManyItems { .. }
            | OrderError::TotalMismatch { .. }
            | OrderError::ExclusiveFields { .. }
            | OrderError::UnknownToken
            | OrderError::IdempotencyConflict { .. } => "ValidationError",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(error: OrderError, name: &str) {
        assert_eq!(error.name(), name, "{error}");
    }

    #[test]
    fn names_are_the_state_machine_names() {
        named(OrderError::UnknownToken, "ValidationError");
        named(
            OrderError::MissingField {
                field: "customerId".into(),
            },
            "ValidationError",
        );
        named(
            OrderError::PaymentDeclined {
                order_id: "o-1".into(),
                reason: "no".into(),
            },
            "PaymentError",
        );
        named(
            OrderError::Config {
                variable: "ORDERFLOW_SEED",
                problem: "x".into(),
            },
            "ConfigurationError",
        );
        named(
            OrderError::Unavailable {
                service: "payment ledger",
                reason: "throttled".into(),
            },
            "ServiceUnavailable",
        );
        named(
            OrderError::ServiceFault {
                service: "payment ledger",
                reason: "unreadable entry".into(),
            },
            "ServiceFault",
        );
    }

    #[test]
    fn messages_name_the_field() {
        let error = OrderError::NotPositive {
            field: "orderContents.items[2].price".into(),
            value: "0".into(),
        };
        assert_eq!(
            error.to_string(),
            "orderContents.items[2].price must be greater than 0, found 0"
        );
    }
}
