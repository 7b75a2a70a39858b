//! Money as an exact decimal amount.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Serialize, Serializer};
use serde_json::{Number, Value};

use crate::OrderError;

/// An amount of money, exact to the cent: `0.1 + 0.2 == 0.3`.
///
/// JSON numbers are read through their shortest text form (`19.99` stays `19.99`, never
/// `19.989999999999998`) and written back as JSON numbers, integral amounts without a
/// fraction (`2250`, not `2250.0`) so the payloads keep the reference shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

impl Money {
    /// The most decimal places an amount may have.
    pub const MAX_DECIMAL_PLACES: u32 = 2;

    /// The largest amount accepted: one trillion. It keeps every amount within 15
    /// significant digits, which is what a JSON number (an `f64` for most readers) carries
    /// exactly.
    pub const MAX: Money = Money(Decimal::from_parts(3_567_587_328, 232, 0, false, 0));

    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// The exact decimal value.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Reads a JSON number as money, naming `field` in any error. The amount must be at
    /// most [`Money::MAX`] with at most [`Money::MAX_DECIMAL_PLACES`] decimals; zero and
    /// negative amounts are accepted here and rejected where a positive amount is required.
    pub fn from_json_number(field: &str, number: &Number) -> Result<Money, OrderError> {
        let text = number.to_string();
        // serde_json prints large and tiny floats in exponent form ("1e+300", "1e-7").
        let parsed = if text.contains(['e', 'E']) {
            Decimal::from_scientific(&text.replace("e+", "e").replace("E+", "E"))
        } else {
            Decimal::from_str_exact(&text)
        };
        let too_large = || OrderError::TooLarge {
            field: field.to_owned(),
            max: Money::MAX,
            value: shown(&text),
        };
        let decimal = parsed.map_err(|_| too_large())?.normalize();
        if decimal.abs() > Money::MAX.0 {
            return Err(too_large());
        }
        if decimal.scale() > Money::MAX_DECIMAL_PLACES {
            return Err(OrderError::TooPrecise {
                field: field.to_owned(),
                max: Money::MAX_DECIMAL_PLACES,
                value: shown(&text),
            });
        }
        Ok(Money(decimal))
    }

    /// Like [`Money::from_json_number`], and the amount must be greater than zero.
    pub fn positive_from_json_number(field: &str, number: &Number) -> Result<Money, OrderError> {
        let money = Money::from_json_number(field, number)?;
        if money.0 <= Decimal::ZERO {
            return Err(OrderError::NotPositive {
                field: field.to_owned(),
                value: shown(&number.to_string()),
            });
        }
        Ok(money)
    }

    /// The sum, or `None` if it would overflow the decimal range.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0
            .checked_add(other.0)
            .map(|sum| Money(sum.normalize()))
    }

    /// The amount as a JSON value: an integer when the amount is whole, else a float whose
    /// shortest form is the amount's text.
    pub fn to_json(self) -> Value {
        match self.as_integer() {
            Some(integer) => Value::from(integer),
            None => self
                .as_float()
                .and_then(Number::from_f64)
                .map_or(Value::Null, Value::Number),
        }
    }

    fn as_integer(self) -> Option<i64> {
        let normal = self.0.normalize();
        if normal.scale() == 0 {
            normal.to_i64()
        } else {
            None
        }
    }

    fn as_float(self) -> Option<f64> {
        // Parsing the decimal text is correctly rounded, and with at most 15 significant
        // digits the shortest float text is the decimal text again.
        self.0.normalize().to_string().parse().ok()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.normalize(), f)
    }
}

impl FromStr for Money {
    type Err = OrderError;

    /// Parses decimal text such as `"19.99"`, with the same bounds as JSON amounts.
    fn from_str(text: &str) -> Result<Money, OrderError> {
        let number: Number = text.parse().map_err(|_| OrderError::WrongType {
            field: "amount".to_owned(),
            expected: "a number",
            found: "text",
        })?;
        Money::from_json_number("amount", &number)
    }
}

impl From<u32> for Money {
    fn from(units: u32) -> Money {
        Money(Decimal::from(units))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(integer) = self.as_integer() {
            return serializer.serialize_i64(integer);
        }
        match self.as_float() {
            Some(float) => serializer.serialize_f64(float),
            None => Err(serde::ser::Error::custom(format!(
                "amount {self} is not representable"
            ))),
        }
    }
}

/// An amount's text as an error message may repeat it: a card number sent as an amount is
/// masked to its last four digits.
fn shown(text: &str) -> String {
    crate::mask_card_numbers(text).unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(json: &str) -> Money {
        let number: Number = serde_json::from_str(json).expect("test input is a JSON number");
        Money::from_json_number("price", &number).expect("test input is valid money")
    }

    fn rejected(json: &str, message: &str) {
        let number: Number = serde_json::from_str(json).expect("test input is a JSON number");
        let error = Money::positive_from_json_number("price", &number).expect_err(json);
        assert_eq!(error.to_string(), message, "{json}");
    }

    fn prints(json: &str, text: &str) {
        assert_eq!(money(json).to_string(), text, "{json}");
        assert_eq!(
            serde_json::to_string(&money(json)).expect("serialises"),
            text,
            "{json}"
        );
        assert_eq!(money(json).to_json().to_string(), text, "{json}");
    }

    #[test]
    fn adds_without_floating_point_error() {
        let sum = money("0.1").checked_add(money("0.2")).expect("no overflow");
        assert_eq!(sum, money("0.3"));
        assert_eq!(sum.to_string(), "0.3");
        // The same sum in f64 is 0.30000000000000004.
        assert_ne!(0.1_f64 + 0.2_f64, 0.3_f64);
    }

    #[test]
    fn keeps_the_shortest_text() {
        prints("19.99", "19.99");
        prints("2250", "2250");
        prints("2250.0", "2250");
        prints("0.1", "0.1");
        prints("19.90", "19.9");
        prints("999999999999.99", "999999999999.99");
        prints("1000000000000", "1000000000000");
        prints("1e3", "1000");
        prints("1.5e2", "150");
        prints("0", "0");
        prints("-5", "-5");
    }

    #[test]
    fn rejects_bad_amounts() {
        rejected("0", "price must be greater than 0, found 0");
        rejected("-0.0", "price must be greater than 0, found -0.0");
        rejected("-19.99", "price must be greater than 0, found -19.99");
        rejected(
            "19.999",
            "price must have at most 2 decimal places, found 19.999",
        );
        rejected(
            "1e-7",
            "price must have at most 2 decimal places, found 1e-7",
        );
        rejected(
            "1000000000000.01",
            "price must be at most 1000000000000, found 1000000000000.01",
        );
        rejected("1e300", "price must be at most 1000000000000, found 1e+300");
        rejected("1e20", "price must be at most 1000000000000, found 1e+20");
        rejected(
            "18446744073709551615",
            "price must be at most 1000000000000, found 18446744073709551615",
        );
    }

    #[test]
    fn parses_text() {
        assert_eq!("19.99".parse::<Money>().expect("valid"), money("19.99"));
        assert!("nineteen".parse::<Money>().is_err());
        assert_eq!(Money::from(2250), money("2250"));
    }

    #[test]
    fn max_is_one_trillion() {
        assert_eq!(Money::MAX.to_string(), "1000000000000");
    }
}
