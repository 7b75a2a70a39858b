//! The Lambda side of the order domain, shared by the `verify-payment`, `check-stock` and
//! `charge-payment` functions and by the local workflow runner, which calls the same handlers
//! in process.
//!
//! Each handler takes the event as JSON and the ports it uses, and answers JSON or a
//! [`HandlerError`] whose Lambda `errorType` is the domain error's name (`ValidationError`,
//! `PaymentError`) rather than a Rust type path, so that the state machine's `Catch` rules
//! match it. Each invocation writes one JSON log line, never with a card number.
//!
//! ```
//! use orders::{FixedClock, Simulation, SimulatedGateway, YearMonth};
//! use serde_json::json;
//!
//! # tokio_test_block_on(async {
//! let gateway = SimulatedGateway::new(Simulation::Deterministic);
//! let clock = FixedClock(YearMonth::new(2026, 11).expect("a month"));
//! let order: serde_json::Value = serde_json::from_str(include_str!("../../../events/order.json"))?;
//!
//! let answer = orders_lambda::verify_payment(order, &gateway, &clock).await?;
//! assert_eq!(answer["paymentVerified"], true);
//! assert_eq!(answer["card"], json!({"brand": "MASTERCARD", "last4": "4444"}));
//!
//! let charge = json!({"orderId": "o-1", "customerId": "c-id-56392", "amount": 2250,
//!                     "paymentToken": answer["paymentToken"]});
//! let receipt = orders_lambda::charge_payment(charge, &gateway).await?;
//! assert_eq!(receipt["paymentResult"], "SUCCESS");
//!
//! let error = orders_lambda::charge_payment(json!({"orderId": "o-2"}), &gateway).await.unwrap_err();
//! let diagnostic = lambda_runtime::Diagnostic::from(error);
//! assert_eq!(diagnostic.error_type, "ValidationError");
//! assert_eq!(diagnostic.error_message, "customerId is required");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f)
//! # }
//! ```
#![warn(missing_docs)]

mod handlers;
mod logging;

use std::fmt;

use lambda_runtime::Diagnostic;
use orders::OrderError;

pub use handlers::{charge_payment, check_stock, verify_payment};
pub use logging::{configured, env_filter, init_tracing, is_raw_payload, subscriber};

/// A handler's failure: a domain error, reported to Lambda under the domain error's name.
///
/// It exists because the orphan rule forbids implementing `From<OrderError>` for
/// [`Diagnostic`] here, and the domain crate must not depend on Lambda.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct HandlerError(#[from] pub OrderError);

/// The runtime logs a failed invocation with `Debug`; this makes that line read like the
/// error Lambda reports (`PaymentError: payment for order o-1 was declined: …`).
impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.0)
    }
}

impl HandlerError {
    /// The Lambda `errorType`: `ValidationError`, `PaymentError`, …
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        Diagnostic {
            error_type: error.name().to_owned(),
            error_message: error.0.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(error: OrderError, error_type: &str, error_message: &str) {
        let diagnostic = Diagnostic::from(HandlerError(error));
        assert_eq!(diagnostic.error_type, error_type);
        assert_eq!(diagnostic.error_message, error_message);
    }

    #[test]
    fn diagnostics_carry_the_domain_names() {
        diagnostic(
            OrderError::NotPositive {
                field: "orderContents.items[2].price".into(),
                value: "0".into(),
            },
            "ValidationError",
            "orderContents.items[2].price must be greater than 0, found 0",
        );
        diagnostic(
            OrderError::PaymentDeclined {
                order_id: "o-1".into(),
                reason: "the card issuer declined the charge".into(),
            },
            "PaymentError",
            "payment for order o-1 was declined: the card issuer declined the charge",
        );
    }

    #[test]
    fn debug_reads_like_the_lambda_error() {
        let error = HandlerError(OrderError::MissingField {
            field: "customerId".into(),
        });
        assert_eq!(
            format!("{error:?}"),
            "ValidationError: customerId is required"
        );
    }

    #[test]
    fn diagnostic_serialises_as_the_runtime_api_expects() {
        let diagnostic = Diagnostic::from(HandlerError(OrderError::UnknownToken));
        let json = serde_json::to_value(&diagnostic).expect("serialises");
        assert_eq!(json["errorType"], "ValidationError");
        assert!(
            json["errorMessage"]
                .as_str()
                .is_some_and(|m| m.starts_with("paymentToken")),
            "{json}"
        );
    }
}
