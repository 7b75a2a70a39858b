//! Card numbers never reach the store: an execution's input and history carry the order as
//! the client sent it, so before they are recorded every card number in them is masked to
//! its last four digits.
//!
//! Two rules, so neither a renamed field nor free text lets one through: the value of any
//! `cardNumber` field is masked whatever it holds, and in every string any run of 12 to 19
//! digits (single spaces or dashes between them allowed) that passes the Luhn check is
//! masked. JSON held inside strings (history inputs and outputs are JSON text) is parsed and
//! redacted the same way.

use serde_json::Value;

/// The field whose value is always masked.
const CARD_FIELD: &str = "cardNumber";

/// `value` with every card number masked.
pub fn redact(value: &mut Value) {
    masked(value);
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
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
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
    let digits_masked = mask_digit_runs(text);
    let trimmed = text.trim_start();
    // JSON text is parsed only when it can hold something to mask: a `cardNumber` field, a
    // card-like run of digits, or `\u` escapes that could spell either. Most of a history's
    // JSON holds none, and parsing it was most of the cost of masking.
    let worth_parsing =
        digits_masked.is_some() || text.contains(CARD_FIELD) || text.contains("\\u");
    if worth_parsing && (trimmed.starts_with('{') || trimmed.starts_with('[')) {
        if let Ok(mut parsed) = serde_json::from_str::<Value>(text) {
            return masked(&mut parsed).then(|| parsed.to_string());
        }
    }
    digits_masked
}

/// Masks Luhn-valid runs of 12–19 digits, keeping separators and the last four digits. A run
/// is card-like when it stands alone (no letter or digit touches either end: an identifier
/// such as the UUID `6ff16230-6993-476a-…` holds digit runs that are not card numbers) and,
/// when written in groups, its groups are of 3 to 6 digits, as printed cards group them.
fn mask_digit_runs(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        // A run: digits, with single separators between digits.
        let start = i;
        let mut end = i;
        // Only a run of at most 19 digits can be a card number: the rest are counted only.
        let mut buffer = [0u8; 19];
        let mut count = 0;
        let (mut group, mut groups, mut grouped_like_a_card) = (0, 1, true);
        let mut j = i;
        while j < bytes.len() {
            if bytes[j].is_ascii_digit() {
                if let Some(slot) = buffer.get_mut(count) {
                    *slot = bytes[j] - b'0';
                }
                count += 1;
                group += 1;
                end = j + 1;
                j += 1;
            } else if (bytes[j] == b' ' || bytes[j] == b'-')
                && j + 1 < bytes.len()
                && bytes[j + 1].is_ascii_digit()
            {
                grouped_like_a_card &= (3..=6).contains(&group);
                groups += 1;
                group = 0;
                j += 1;
            } else {
                break;
            }
        }
        grouped_like_a_card &= groups == 1 || (3..=6).contains(&group);
        let touches = |at: Option<&u8>| at.is_some_and(u8::is_ascii_alphanumeric);
        let alone =
            !touches(start.checked_sub(1).and_then(|k| bytes.get(k))) && !touches(bytes.get(end));
        let digits = &buffer[..count.min(buffer.len())];
        if (12..=19).contains(&count) && alone && grouped_like_a_card && luhn(digits) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..start]);
            let keep_from = digits.len() - 4;
            let mut seen = 0;
            for &b in &bytes[start..end] {
                if b.is_ascii_digit() {
                    out.push(if seen < keep_from { '*' } else { char::from(b) });
                    seen += 1;
                } else {
                    out.push(char::from(b));
                }
            }
            copied = end;
        }
        i = end.max(i + 1);
    }
    out.map(|mut out| {
        out.push_str(&text[copied..]);
        out
    })
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
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
            "ref4111111111111111",
            "4111111111111111x",
            "41-1111111-1111111",
        ] {
            redacted(json!(id), json!(id));
        }
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
        // A card-like JSON number outside a cardNumber field stays a number: the text stays
        // valid JSON.
        redacted(
            json!(r#"{"total":4111111111111111}"#),
            json!(r#"{"total":4111111111111111}"#),
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
