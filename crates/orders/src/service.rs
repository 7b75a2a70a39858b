//! The three payment and stock steps, over the ports.

use crate::card::{MaskedCard, check_card};
use crate::{
    Charge, ChargeId, ChargeOutcome, Clock, Inventory, Item, Order, OrderError, Payment,
    PaymentGateway, Verification,
};

/// The answer of the payment-verification step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentVerification {
    /// Brand and last four digits: all that leaves this step about the card.
    pub card: MaskedCard,
    /// A token to charge, or why the card cannot pay.
    pub outcome: Verification,
}

impl PaymentVerification {
    /// Whether the card can pay.
    pub fn is_verified(&self) -> bool {
        matches!(self.outcome, Verification::Verified(_))
    }
}

/// Checks the card of `order` ([`check_card`] at `clock`'s month), then asks `gateway`; for an
/// order that pays with a provider's token, asks `gateway` about the token.
/// A card that cannot pay is an `Ok` answer with a reason, not an error.
pub async fn verify_payment(
    order: &Order,
    gateway: &impl PaymentGateway,
    clock: &impl Clock,
) -> Result<PaymentVerification, OrderError> {
    let details = match order.payment() {
        Payment::Card(details) => details,
        Payment::Token(tokenized) => {
            return gateway
                .verify_token(order, tokenized.token(), clock.today())
                .await;
        }
    };
    let card = MaskedCard::of(details);
    let outcome = match check_card(details, clock.today()) {
        Ok(brand) => gateway.verify(order, brand).await?,
        Err(reason) => Verification::NotVerified(reason),
    };
    Ok(PaymentVerification { card, outcome })
}

/// The stock level of each item, in order.
pub async fn check_stock(
    items: &[Item],
    inventory: &impl Inventory,
) -> Result<Vec<u32>, OrderError> {
    let mut levels = Vec::with_capacity(items.len());
    for item in items {
        levels.push(inventory.stock_level(item.item_id()).await?);
    }
    Ok(levels)
}

/// Charges `charge` through `gateway`; a declined charge is [`OrderError::PaymentDeclined`],
/// whose name is `PaymentError`.
pub async fn charge_payment(
    charge: &Charge,
    gateway: &impl PaymentGateway,
) -> Result<ChargeId, OrderError> {
    match gateway.charge(charge).await? {
        ChargeOutcome::Charged(id) => Ok(id),
        ChargeOutcome::Declined { reason } => Err(OrderError::PaymentDeclined {
            order_id: charge.order_id.to_string(),
            reason,
        }),
    }
}
