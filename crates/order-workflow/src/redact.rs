//! Card numbers never reach the store: an execution's input and history carry the order as
//! the client sent it, so before they are recorded every card number in them is masked to
//! its last four digits.
//!
//! Two rules, so neither a renamed field nor free text lets one through: the value of any
//! `cardNumber` field is masked whatever it holds, and every string or number holding a card
//! number in any form the domain's detector finds ([`orders::mask_card_numbers`]: grouped by
//! spaces, dashes, dots or colons, in full-width digits, glued to letters) is masked, a number
//! becoming a string. JSON held inside strings (history inputs and outputs are JSON text) is
//! parsed and redacted the same way.

use serde_json::Value;

/// The field whose value is always masked.
const CARD_FIELD: &str = "cardNumber";

/// `value` with every card number masked.
pub fn redact(value: &mut Value) {
    masked(value);
}

/// As [`redact`], saying whether anything was masked.
pub fn redact_changed(value: &mut Value) -> bool {
    masked(value)
}

/// Masks `value` in place and says whether anything changed, so JSON held in a string is
/// serialised again only when it held a card number (no copy kept to compare).
fn masked(value: &mut Value) -> bool {
    match value {
        Value::String(text) => match redact_text(text) {
            Some(masked) => {
                *text = masked;
                true
            }
            None => false,
        },
        Value::Number(number) => match orders::mask_card_numbers(&number.to_string()) {
            Some(masked) => {
                *value = Value::String(masked);
                true
            }
            None => false,
        },
        Value::Array(values) => values
            .iter_mut()
            .fold(false, |changed, v| masked(v) | changed),
        Value::Object(map) => map.iter_mut().fold(false, |changed, (key, value)| {
            let this = if key == CARD_FIELD {
                mask_field(value)
            } else {
                masked(value)
            };
            this | changed
        }),
        Value::Null | Value::Bool(_) => false,
    }
}

/// Masks a `cardNumber` value; whether it differs from what was there.
fn mask_field(value: &mut Value) -> bool {
    let digits: String = match value {
        Value::String(text) => text.chars().filter(char::is_ascii_digit).collect(),
        Value::Number(number) => number
            .to_string()
            .chars()
            .filter(char::is_ascii_digit)
            .collect(),
        _ => return masked(value),
    };
    let last4 = &digits[digits.len().saturating_sub(4)..];
    let mask = format!(
        "{}{last4}",
        "*".repeat(digits.len().saturating_sub(4).max(4))
    );
    if value.as_str() == Some(mask.as_str()) {
        return false;
    }
    *value = Value::String(mask);
    true
}

/// The text with card numbers masked, or `None` when it has none.
fn redact_text(text: &str) -> Option<String> {
    let digits_masked = orders::mask_card_numbers(text);
    let trimmed = text.trim_start();
    // JSON text is parsed only when it can hold something to mask: a `cardNumber` field, a
    // card number, or `\u` escapes that could spell either. Most of a history's JSON holds
    // none, and parsing it was most of the cost of masking.
    let worth_parsing =
        digits_masked.is_some() || text.contains(CARD_FIELD) || text.contains("\\u");
    if worth_parsing && (trimmed.starts_with('{') || trimmed.starts_with('[')) {
        if let Ok(mut parsed) = serde_json::from_str::<Value>(text) {
            return masked(&mut parsed).then(|| parsed.to_string());
        }
    }
    digits_masked
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn redacted(input: Value, expected: Value) {
        let mut value = input.clone();
        redact(&mut value);
        assert_eq!(value, expected, "{input}");
    }

    #[test]
    fn card_numbers_are_masked() {
        redacted(
            json!({"cardNumber": "5555 5555 5555 4444"}),
            json!({"cardNumber": "************4444"}),
        );
        redacted(
            json!({"cardNumber": "5192 7402 9672 1055"}),
            json!({"cardNumber": "************1055"}),
        );
        redacted(
            json!({"cardNumber": 5555555555554444u64}),
            json!({"cardNumber": "************4444"}),
        );
        redacted(json!({"cardNumber": "12"}), json!({"cardNumber": "****12"}));
        redacted(
            json!({"cardNumber": {"nested": "4111111111111111"}}),
            json!({"cardNumber": {"nested": "************1111"}}),
        );
        redacted(
            json!("paid with 4111-1111-1111-1111."),
            json!("paid with ****-****-****-1111."),
        );
        redacted(
            json!("4111 1111 1111 1111 and 5555555555554444"),
            json!("**** **** **** 1111 and ************4444"),
        );
        redacted(
            json!("order 1234567890123 at 2026-11-24"),
            json!("order 1234567890123 at 2026-11-24"),
        );
        redacted(json!(["x", 1, null, true]), json!(["x", 1, null, true]));
        // Identifiers are not card numbers: a UUID whose digits happen to pass Luhn across
        // its dashes, digits glued to letters, groups no card prints.
        for id in [
            "6ff16230-6993-476a-abf3-ed55f13ddbf3",
            "41-1111111-1111111",
            "1732479542123",
        ] {
            redacted(json!(id), json!(id));
        }
        // Glued to letters, dotted, in full-width digits, as a number: still a card.
        redacted(json!("ref4111111111111111"), json!("ref************1111"));
        redacted(json!("4111.1111.1111.1111"), json!("****.****.****.1111"));
        redacted(json!("4111:1111:1111:1111"), json!("****:****:****:1111"));
        redacted(
            json!("4111\u{a0}1111\u{a0}1111\u{a0}1111"),
            json!("****\u{a0}****\u{a0}****\u{a0}1111"),
        );
        redacted(
            json!("４１１１１１１１１１１１１１１１"),
            json!("************１１１１"),
        );
        redacted(
            json!({"total": 4111111111111111u64}),
            json!({"total": "************1111"}),
        );
        redacted(
            json!({"when": 1732479542123u64}),
            json!({"when": 1732479542123u64}),
        );
        redacted(
            json!("Amex 3782 822463 10005, Visa (4111111111111111)"),
            json!("Amex **** ****** *0005, Visa (************1111)"),
        );
    }

    #[test]
    fn json_inside_strings_is_redacted() {
        let input = json!({"input": "{\"paymentDetails\":{\"cardNumber\":\"5192 7402 9672 1055\",\"name\":\"J\"}}"});
        let mut value = input;
        redact(&mut value);
        let inner: Value =
            serde_json::from_str(value["input"].as_str().expect("text")).expect("JSON");
        assert_eq!(inner["paymentDetails"]["cardNumber"], "************1055");
        assert_eq!(inner["paymentDetails"]["name"], "J");
    }

    #[test]
    fn json_text_is_read_as_json_only_when_it_may_hold_a_card() {
        // Short card numbers, escaped digits and escaped keys are found through parsing.
        let text = |v: Value| Value::String(v.to_string());
        redacted(
            text(json!({"cardNumber": "12"})),
            text(json!({"cardNumber": "****12"})),
        );
        redacted(
            json!(r#"{"note":"\u0034111111111111111"}"#),
            text(json!({"note": "************1111"})),
        );
        redacted(
            json!(r#"{"card\u004eumber":"4242"}"#),
            text(json!({"cardNumber": "****4242"})),
        );
        // A card number as a JSON number outside a cardNumber field becomes a masked string:
        // the text stays valid JSON.
        redacted(
            json!(r#"{"total":4111111111111111}"#),
            text(json!({"total": "************1111"})),
        );
        // Nothing to mask: the text is returned as it was, spacing included.
        redacted(
            json!(r#"{ "orderId": "o-1", "items": [1, 2] }"#),
            json!(r#"{ "orderId": "o-1", "items": [1, 2] }"#),
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_leaves_no_luhn_run(text in "[0-9 -]{0,60}|.{0,60}") {
            let mut value = Value::String(text);
            redact(&mut value);
            let again = value.clone();
            redact(&mut value);
            prop_assert_eq!(value, again);
        }
    }
}
