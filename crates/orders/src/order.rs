//! The order model: the request as received and the validated order.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::json::{Charset, Object, as_str, check_no_card_number, check_text};
use crate::{CustomerId, ItemId, Money, OrderError, OrderId, PaymentToken};

/// The most items one order (or one stock check) may hold.
pub const MAX_ITEMS: usize = 100;

/// An order as received, not yet validated: any JSON value.
///
/// It is kept as JSON rather than deserialised into structs so that validation can name
/// the exact JSON path of a bad field. It has no `Serialize` and its `Debug` is redacted,
/// because it holds the card number.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct OrderRequest(Value);

impl OrderRequest {
    /// Wraps a JSON value.
    pub fn new(value: Value) -> OrderRequest {
        OrderRequest(value)
    }

    /// Parses JSON text.
    pub fn from_json(text: &str) -> Result<OrderRequest, OrderError> {
        serde_json::from_str(text)
            .map(OrderRequest)
            .map_err(|error| OrderError::NotJson {
                reason: error.to_string(),
            })
    }
}

impl From<Value> for OrderRequest {
    fn from(value: Value) -> OrderRequest {
        OrderRequest(value)
    }
}

impl fmt::Debug for OrderRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OrderRequest { .. }")
    }
}

/// A validated order: at least one and at most [`MAX_ITEMS`] items with positive prices,
/// `orderTotal` equal to their sum, non-empty ids and card holder.
///
/// Whether the card can pay is not part of validation; see [`crate::check_card`].
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    order_id: Option<OrderId>,
    items: Vec<Item>,
    total: Money,
    customer_id: CustomerId,
    payment: Payment,
}

/// How an order pays: with the card's details, or with a token its payment provider issued
/// for the card before the order was sent (the provider's client-side tokenization), so that
/// the card number never reaches this system.
#[derive(Debug, Clone, PartialEq)]
pub enum Payment {
    /// `paymentDetails` with `cardNumber`, `cardType` and `expiration`.
    Card(PaymentDetails),
    /// `paymentDetails` with `paymentToken` instead.
    Token(TokenizedPayment),
}

/// `paymentDetails` that carry a provider's token instead of the card: `{"name",
/// "paymentToken"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizedPayment {
    name: String,
    token: PaymentToken,
}

impl TokenizedPayment {
    /// The card holder.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The provider's token for the card.
    pub fn token(&self) -> &PaymentToken {
        &self.token
    }

    /// `paymentDetails` holding `paymentToken`: a card field beside it is refused, so that a
    /// client cannot send the number it meant to keep out.
    fn parse(details: &Object<'_>) -> Result<TokenizedPayment, OrderError> {
        for card_field in ["cardNumber", "cardType", "expiration"] {
            if details.optional(card_field).is_some() {
                return Err(OrderError::ExclusiveFields {
                    field: details.path_of("paymentToken"),
                    other: details.path_of(card_field),
                });
            }
        }
        let name = details.string("name")?;
        check_text(
            "paymentDetails.name",
            name,
            PaymentDetails::MAX_NAME_LEN,
            Charset::Printable,
        )?;
        let token = details.string("paymentToken")?;
        check_text(
            "paymentDetails.paymentToken",
            token,
            PaymentToken::MAX_LEN,
            Charset::Identifier,
        )?;
        Ok(TokenizedPayment {
            name: name.to_owned(),
            token: PaymentToken::trusted(token.to_owned()),
        })
    }
}

impl Order {
    /// The client's order id, if it sent one.
    pub fn order_id(&self) -> Option<&OrderId> {
        self.order_id.as_ref()
    }

    /// The items, in order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// `orderTotal`, equal to the sum of the item prices.
    pub fn total(&self) -> Money {
        self.total
    }

    /// The customer.
    pub fn customer_id(&self) -> &CustomerId {
        &self.customer_id
    }

    /// How the order pays.
    pub fn payment(&self) -> &Payment {
        &self.payment
    }

    /// The card's details, card number included, when the order pays with them.
    pub fn card(&self) -> Option<&PaymentDetails> {
        match &self.payment {
            Payment::Card(details) => Some(details),
            Payment::Token(_) => None,
        }
    }
}

impl TryFrom<OrderRequest> for Order {
    type Error = OrderError;

    fn try_from(request: OrderRequest) -> Result<Order, OrderError> {
        Order::try_from(&request)
    }
}

impl TryFrom<&OrderRequest> for Order {
    type Error = OrderError;

    fn try_from(request: &OrderRequest) -> Result<Order, OrderError> {
        let root = Object::root(&request.0)?;

        let order_id = match root.optional("orderId") {
            None => None,
            Some(value) => Some(OrderId::at(
                "orderId",
                as_str(value, || "orderId".to_owned())?,
            )?),
        };

        let contents = Object::new(root.required("orderContents")?, "orderContents")?;
        let items = parse_items(contents.array("items")?, "orderContents.items")?;

        let total = root.money("orderTotal")?;
        let mut sum = Money::ZERO;
        for item in &items {
            // Cannot overflow: at most MAX_ITEMS amounts, each at most Money::MAX.
            sum = sum.checked_add(item.price).unwrap_or(Money::MAX);
        }
        if total != sum {
            return Err(OrderError::TotalMismatch { total, sum });
        }

        let customer_id = CustomerId::at("customerId", root.string("customerId")?)?;
        let details = Object::new(root.required("paymentDetails")?, "paymentDetails")?;
        let payment = match details.optional("paymentToken") {
            Some(_) => Payment::Token(TokenizedPayment::parse(&details)?),
            None => Payment::Card(PaymentDetails::parse(details)?),
        };

        Ok(Order {
            order_id,
            items,
            total,
            customer_id,
            payment,
        })
    }
}

/// One item of an order.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    item_id: ItemId,
    price: Money,
    description: String,
}

impl Item {
    /// The longest accepted `itemDescription`, in characters.
    pub const MAX_DESCRIPTION_LEN: usize = 1024;

    /// The item id.
    pub fn item_id(&self) -> &ItemId {
        &self.item_id
    }

    /// The price, greater than zero.
    pub fn price(&self) -> Money {
        self.price
    }

    /// `itemDescription`, possibly empty.
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// Reads a list of items at `path` (`orderContents.items`, or `items` for a stock check).
pub(crate) fn parse_items(values: &[Value], path: &str) -> Result<Vec<Item>, OrderError> {
    if values.is_empty() {
        return Err(OrderError::NoItems {
            field: path.to_owned(),
        });
    }
    if values.len() > MAX_ITEMS {
        return Err(OrderError::TooManyItems {
            field: path.to_owned(),
            max: MAX_ITEMS,
            count: values.len(),
        });
    }
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let item_path = format!("{path}[{index}]");
            let item = Object::new(value, &item_path)?;
            let item_id = ItemId::at(&item.path_of("itemId"), item.string("itemId")?)?;
            let price = item.positive_money("price")?;
            let description = item.string("itemDescription")?;
            let len = description.chars().count();
            if len > Item::MAX_DESCRIPTION_LEN {
                return Err(OrderError::TooLong {
                    field: item.path_of("itemDescription"),
                    max: Item::MAX_DESCRIPTION_LEN,
                    len,
                });
            }
            check_no_card_number(&item.path_of("itemDescription"), description)?;
            Ok(Item {
                item_id,
                price,
                description: description.to_owned(),
            })
        })
        .collect()
}

/// An order's `{"items": [...]}` as sent to the stock check, not yet validated.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct StockRequest(Value);

impl StockRequest {
    /// Wraps a JSON value.
    pub fn new(value: Value) -> StockRequest {
        StockRequest(value)
    }

    /// The JSON value as received.
    pub fn into_value(self) -> Value {
        self.0
    }

    /// Validates the items, naming bad fields as `items[0].price`.
    pub fn items(&self) -> Result<Vec<Item>, OrderError> {
        let root = Object::root(&self.0)?;
        parse_items(root.array("items")?, "items")
    }
}

/// The `paymentDetails` of an order. The card number is only checked for presence and type
/// here; whether it can pay is decided by [`crate::check_card`].
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentDetails {
    name: String,
    card_type: String,
    card_number: CardNumber,
    expiration: String,
}

impl PaymentDetails {
    /// The longest accepted card holder name, in characters.
    pub const MAX_NAME_LEN: usize = 200;
    /// The longest accepted `cardType`, in characters.
    pub const MAX_CARD_TYPE_LEN: usize = 32;
    /// The longest accepted `cardNumber` text, in characters (19 digits plus separators).
    pub const MAX_CARD_NUMBER_LEN: usize = 64;
    /// The longest accepted `expiration`, in characters.
    pub const MAX_EXPIRATION_LEN: usize = 16;

    /// Builds payment details in code, with the same checks as the JSON input.
    pub fn new(
        name: &str,
        card_type: &str,
        card_number: CardNumber,
        expiration: &str,
    ) -> Result<PaymentDetails, OrderError> {
        check_text(
            "paymentDetails.name",
            name,
            Self::MAX_NAME_LEN,
            Charset::Printable,
        )?;
        check_len(
            "paymentDetails.cardType",
            card_type,
            Self::MAX_CARD_TYPE_LEN,
        )?;
        check_no_card_number("paymentDetails.cardType", card_type)?;
        check_len(
            "paymentDetails.cardNumber",
            card_number.expose(),
            Self::MAX_CARD_NUMBER_LEN,
        )?;
        check_len(
            "paymentDetails.expiration",
            expiration,
            Self::MAX_EXPIRATION_LEN,
        )?;
        check_no_card_number("paymentDetails.expiration", expiration)?;
        Ok(PaymentDetails {
            name: name.to_owned(),
            card_type: card_type.to_owned(),
            card_number,
            expiration: expiration.to_owned(),
        })
    }

    fn parse(details: Object<'_>) -> Result<PaymentDetails, OrderError> {
        let name = details.string("name")?;
        let card_type = details.string("cardType")?;
        let card_number = CardNumber::new(details.string("cardNumber")?);
        let expiration = details.string("expiration")?;
        PaymentDetails::new(name, card_type, card_number, expiration)
    }

    /// The card holder.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `cardType` as given (`"MASTERCARD"`); it may name no known brand.
    pub fn card_type(&self) -> &str {
        &self.card_type
    }

    /// The card number.
    pub fn card_number(&self) -> &CardNumber {
        &self.card_number
    }

    /// `expiration` as given, expected as `MM/YY`.
    pub fn expiration(&self) -> &str {
        &self.expiration
    }
}

fn check_len(field: &str, text: &str, max: usize) -> Result<(), OrderError> {
    let len = text.chars().count();
    if len > max {
        return Err(OrderError::TooLong {
            field: field.to_owned(),
            max,
            len,
        });
    }
    Ok(())
}

/// A card number (PAN) as given, spaces and dashes included.
///
/// It never shows itself: `Debug` and `Display` print only the last four digits, it has no
/// `Serialize`, and only the payment check in this crate reads the digits.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl CardNumber {
    /// Wraps card number text such as `"5555 5555 5555 4444"`.
    pub fn new(text: impl Into<String>) -> CardNumber {
        CardNumber(text.into())
    }

    /// The last four digits, or `""` if the number has fewer than four.
    pub fn last4(&self) -> String {
        let digits: Vec<char> = self.0.chars().filter(char::is_ascii_digit).collect();
        match digits.len().checked_sub(4) {
            Some(start) => digits.get(start..).unwrap_or_default().iter().collect(),
            None => String::new(),
        }
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({self})")
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "****{}", self.last4())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn last4(number: &str, expected: &str) {
        assert_eq!(CardNumber::new(number).last4(), expected, "{number}");
    }

    #[test]
    fn card_number_shows_only_last_four() {
        let card = CardNumber::new("5555 5555 5555 4444");
        assert_eq!(format!("{card:?}"), "CardNumber(****4444)");
        assert_eq!(card.to_string(), "****4444");
        last4("5555-5555-5555-4444", "4444");
        last4("123", "");
        last4("", "");
        last4("12a34", "1234");
    }

    #[test]
    fn request_debug_is_redacted() {
        let request =
            OrderRequest::new(json!({"paymentDetails": {"cardNumber": "5555555555554444"}}));
        assert_eq!(format!("{request:?}"), "OrderRequest { .. }");
    }

    #[test]
    fn order_debug_has_no_card_number() {
        let request =
            OrderRequest::from_json(include_str!("../../../events/order.json")).expect("json");
        let order = Order::try_from(request).expect("valid");
        let debug = format!("{order:?}");
        assert!(!debug.contains("5555 5555 5555 4444"), "{debug}");
        assert!(debug.contains("CardNumber(****4444)"), "{debug}");
    }

    #[test]
    fn a_tokenized_order_carries_the_token_and_no_card() {
        let mut value: Value =
            serde_json::from_str(include_str!("../../../events/order.json")).expect("json");
        value["paymentDetails"] = json!({"name": "John Doe", "paymentToken": "pm_sim_x"});
        let order = Order::try_from(OrderRequest::new(value.clone())).expect("valid");
        assert!(order.card().is_none());
        match order.payment() {
            Payment::Token(t) => assert_eq!(t.token().as_str(), "pm_sim_x"),
            Payment::Card(_) => panic!("a token order"),
        }
        value["paymentDetails"]["cardNumber"] = json!("5555 5555 5555 4444");
        let both = Order::try_from(OrderRequest::new(value.clone())).expect_err("both");
        assert_eq!(
            both.to_string(),
            "paymentDetails.paymentToken and paymentDetails.cardNumber exclude each other; send the token only"
        );
        value["paymentDetails"] = json!({"name": "John Doe", "paymentToken": "pm sim"});
        let bad = Order::try_from(OrderRequest::new(value)).expect_err("a space");
        assert!(
            bad.to_string()
                .starts_with("paymentDetails.paymentToken must not contain ' '"),
            "{bad}"
        );
    }

    #[test]
    fn not_json_is_an_error() {
        let error = OrderRequest::from_json("{\"orderTotal\": }").expect_err("not json");
        assert_eq!(error.name(), "ValidationError");
        assert!(
            error.to_string().starts_with("input is not valid JSON: "),
            "{error}"
        );
    }
}
