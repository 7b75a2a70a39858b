//! The order domain of orderflow: orders, money, validation, payment verification, and the
//! payment-gateway and inventory ports with simulated adapters. It knows nothing of AWS or
//! Lambda.
//!
//! An order arrives as JSON ([`OrderRequest`]), is validated into an [`Order`], its card is
//! verified into a token, its items are checked for stock, and the token is charged:
//!
//! ```
//! use orders::{Charge, ChargeRequest, FixedClock, Order, OrderRequest, SimulatedGateway};
//! use orders::{SimulatedInventory, Simulation, Verification, YearMonth};
//! use serde_json::json;
//!
//! # futures::executor::block_on(async {
//! let order = Order::try_from(OrderRequest::new(json!({
//!     "orderId": "o-1001",
//!     "orderContents": {"items": [
//!         {"itemId": "item-c9f4x", "price": 19.99, "itemDescription": "Macbook sleeve"},
//!         {"itemId": "oos-g7b2q", "price": 0.01, "itemDescription": "Sticker"}
//!     ]},
//!     "orderTotal": 20,
//!     "customerId": "c-id-56392",
//!     "paymentDetails": {"name": "John Doe", "cardType": "MASTERCARD",
//!                        "cardNumber": "5555 5555 5555 4444", "expiration": "08/31"}
//! })))?;
//!
//! let gateway = SimulatedGateway::new(Simulation::Deterministic);
//! let clock = FixedClock(YearMonth::new(2026, 11).expect("a month"));
//! let verification = orders::verify_payment(&order, &gateway, &clock).await?;
//! assert_eq!(verification.card.last4, "4444");
//! let Verification::Verified(token) = verification.outcome else { panic!("not verified") };
//!
//! let inventory = SimulatedInventory::new(Simulation::Deterministic);
//! let levels = orders::check_stock(order.items(), &inventory).await?;
//! assert_eq!(levels[1], 0); // "oos-" items are out of stock
//!
//! let charge = Charge::try_from(ChargeRequest::new(json!({
//!     "orderId": "o-1001", "customerId": "c-id-56392", "amount": 20,
//!     "paymentToken": token.as_str()
//! })))?;
//! let charge_id = orders::charge_payment(&charge, &gateway).await?;
//! assert!(charge_id.as_str().starts_with("ch_sim_"));
//! # Ok::<(), orders::OrderError>(())
//! # }).expect("the example runs");
//! ```
//!
//! Invalid input is an [`OrderError`] naming the field, whose [`OrderError::name`] is the
//! error name the state machine matches (`ValidationError`, `PaymentError`).
#![warn(missing_docs)]

mod card;
mod clock;
mod error;
mod ids;
mod json;
mod ledger;
mod money;
mod order;
mod pan;
mod ports;
mod service;
pub mod simulated;

pub use card::{CardBrand, MaskedCard, NotVerified, check_card, luhn_valid};
pub use clock::{Clock, FixedClock, SystemClock, YearMonth};
pub use error::OrderError;
pub use ids::{CustomerId, ItemId, OrderId};
pub use ledger::{ChargeLedger, LedgerEntry, LedgerGateway};
pub use money::Money;
pub use order::{
    CardNumber, Item, MAX_ITEMS, Order, OrderRequest, Payment, PaymentDetails, StockRequest,
    TokenizedPayment,
};
pub use pan::{contains_card_number, mask_card_numbers};
pub use ports::{
    Charge, ChargeId, ChargeOutcome, ChargeRequest, Inventory, PaymentGateway, PaymentToken,
    Verification,
};
pub use service::{PaymentVerification, charge_payment, check_stock, verify_payment};
pub use simulated::{SimulatedGateway, SimulatedInventory, Simulation};
