//! Payment-details verification: what decides whether a card can pay at all.

use std::fmt;

use serde::Serialize;

use crate::{PaymentDetails, YearMonth};

/// A card brand that the payment step accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CardBrand {
    /// Visa: starts with 4; 13, 16 or 19 digits.
    Visa,
    /// Mastercard: starts with 51–55 or 2221–2720; 16 digits.
    Mastercard,
    /// American Express: starts with 34 or 37; 15 digits.
    Amex,
    /// Discover: starts with 6011, 622126–622925, 644–649 or 65; 16–19 digits.
    Discover,
}

impl CardBrand {
    /// All brands, in the order their names are listed to users.
    pub const ALL: [CardBrand; 4] = [
        CardBrand::Visa,
        CardBrand::Mastercard,
        CardBrand::Amex,
        CardBrand::Discover,
    ];

    /// The brand named by a `cardType`, ignoring case and surrounding spaces.
    pub fn from_card_type(card_type: &str) -> Option<CardBrand> {
        let wanted = card_type.trim();
        CardBrand::ALL
            .into_iter()
            .find(|brand| brand.name().eq_ignore_ascii_case(wanted))
    }

    /// The `cardType` spelling: `VISA`, `MASTERCARD`, `AMEX`, `DISCOVER`.
    pub fn name(self) -> &'static str {
        match self {
            CardBrand::Visa => "VISA",
            CardBrand::Mastercard => "MASTERCARD",
            CardBrand::Amex => "AMEX",
            CardBrand::Discover => "DISCOVER",
        }
    }

    /// Whether `digits` (ASCII digits only) have this brand's prefix and length.
    pub fn matches(self, digits: &str) -> bool {
        let len = digits.len();
        let prefix = |n: usize| {
            digits
                .get(..n)
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(0)
        };
        match self {
            CardBrand::Visa => digits.starts_with('4') && matches!(len, 13 | 16 | 19),
            CardBrand::Mastercard => {
                len == 16 && ((51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4)))
            }
            CardBrand::Amex => len == 15 && matches!(prefix(2), 34 | 37),
            CardBrand::Discover => {
                (16..=19).contains(&len)
                    && (prefix(4) == 6011
                        || prefix(2) == 65
                        || (644..=649).contains(&prefix(3))
                        || (622_126..=622_925).contains(&prefix(6)))
            }
        }
    }
}

impl fmt::Display for CardBrand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether `digits` pass the Luhn (mod 10) check. Anything but ASCII digits fails, as does
/// the empty string.
pub fn luhn_valid(digits: &str) -> bool {
    let values: Option<Vec<u8>> = digits
        .bytes()
        .map(|c| c.is_ascii_digit().then(|| c - b'0'))
        .collect();
    values.is_some_and(|values| crate::pan::luhn(&values))
}

/// Why a payment was not verified. Each reads as a sentence for the `reason` field, which is
/// recorded and published: none repeats a value of the payment details.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotVerified {
    /// `"5555 5555 5555 444x"`.
    InvalidCharacters,
    /// `"4242 4242"`: fewer than 12 or more than 19 digits.
    WrongLength {
        /// How many digits the number has.
        digits: usize,
    },
    /// `"5192 7402 9672 1055"`, the reference number.
    FailsLuhn,
    /// `"cardType": "DINERS"`. Like every reason, it does not repeat the value given.
    UnknownCardType,
    /// `"cardType": "VISA"` with a Mastercard number.
    TypeMismatch {
        /// The brand `cardType` named.
        brand: CardBrand,
    },
    /// `"expiration": "13/30"` or `"2030-01"`.
    InvalidExpiration,
    /// `"expiration": "08/26"` after August 2026.
    Expired,
    /// The payment gateway refused the card.
    Refused {
        /// The gateway's reason.
        reason: String,
    },
}

impl fmt::Display for NotVerified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotVerified::InvalidCharacters => {
                f.write_str("card number must contain only digits, spaces and dashes")
            }
            NotVerified::WrongLength { digits } => {
                write!(f, "card number must have 12 to 19 digits, found {digits}")
            }
            NotVerified::FailsLuhn => f.write_str("card number fails the Luhn check"),
            NotVerified::UnknownCardType => {
                f.write_str("card type is not accepted; use VISA, MASTERCARD, AMEX or DISCOVER")
            }
            NotVerified::TypeMismatch { brand } => {
                write!(f, "card number does not match card type {brand}")
            }
            NotVerified::InvalidExpiration => {
                f.write_str("expiration must be MM/YY with a month from 01 to 12")
            }
            NotVerified::Expired => f.write_str("card expired: its expiration month has passed"),
            NotVerified::Refused { reason } => f.write_str(reason),
        }
    }
}

/// What may leave the payment step about a card: its brand and last four digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaskedCard {
    /// The brand `cardType` names (`"MASTERCARD"`), or `"UNKNOWN"`.
    pub brand: String,
    /// The last four digits of the number, or `""` if it has fewer.
    pub last4: String,
}

impl MaskedCard {
    /// The masked form of `details`, whether or not the card verifies.
    pub fn of(details: &PaymentDetails) -> MaskedCard {
        MaskedCard {
            brand: CardBrand::from_card_type(details.card_type())
                .map_or("UNKNOWN", CardBrand::name)
                .to_owned(),
            last4: details.card_number().last4(),
        }
    }
}

/// The card checks that need no gateway: the number is 12–19 digits once spaces and dashes
/// are removed and passes the Luhn check, `cardType` names a brand the number belongs to,
/// and `expiration` is a real `MM/YY` month not before `today`.
///
/// Returns the brand, or why the card cannot pay.
pub fn check_card(details: &PaymentDetails, today: YearMonth) -> Result<CardBrand, NotVerified> {
    let digits = card_digits(details)?;
    if !luhn_valid(&digits) {
        return Err(NotVerified::FailsLuhn);
    }
    let brand =
        CardBrand::from_card_type(details.card_type()).ok_or(NotVerified::UnknownCardType)?;
    if !brand.matches(&digits) {
        return Err(NotVerified::TypeMismatch { brand });
    }
    let expires = parse_expiration(details.expiration()).ok_or(NotVerified::InvalidExpiration)?;
    if expires < today {
        return Err(NotVerified::Expired);
    }
    Ok(brand)
}

/// The digits of the card number, spaces and dashes removed.
pub(crate) fn card_digits(details: &PaymentDetails) -> Result<String, NotVerified> {
    let mut digits = String::with_capacity(19);
    for c in details.card_number().expose().chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' => {}
            _ => return Err(NotVerified::InvalidCharacters),
        }
    }
    if !(12..=19).contains(&digits.len()) {
        return Err(NotVerified::WrongLength {
            digits: digits.len(),
        });
    }
    Ok(digits)
}

/// `MM/YY` as the month it names, in the 2000s; a card is valid to the end of that month.
pub(crate) fn parse_expiration(text: &str) -> Option<YearMonth> {
    let (month, year) = text.split_once('/')?;
    let two_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(month) || !two_digits(year) {
        return None;
    }
    YearMonth::new(2000 + year.parse::<u16>().ok()?, month.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CardNumber;

    fn luhn(digits: &str, valid: bool) {
        assert_eq!(luhn_valid(digits), valid, "{digits}");
    }

    fn expiry(text: &str, expected: Option<(u16, u8)>) {
        let got = parse_expiration(text).map(|m| (m.year(), m.month()));
        assert_eq!(got, expected, "{text:?}");
    }

    fn brand(card_type: &str, digits: &str, matches: bool) {
        let brand = CardBrand::from_card_type(card_type).expect("known brand");
        assert_eq!(brand.matches(digits), matches, "{card_type} {digits}");
    }

    fn masked(card_type: &str, number: &str, brand: &str, last4: &str) {
        let details =
            PaymentDetails::new("Jo", card_type, CardNumber::new(number), "12/30").expect("valid");
        assert_eq!(
            MaskedCard::of(&details),
            MaskedCard {
                brand: brand.into(),
                last4: last4.into()
            }
        );
    }

    #[test]
    fn luhn_check() {
        luhn("4242424242424242", true);
        luhn("5555555555554444", true);
        luhn("378282246310005", true);
        luhn("6011111111111117", true);
        luhn("4000000000000002", true);
        luhn("4000000000000341", true);
        luhn("79927398713", true);
        luhn("0", true);
        luhn("5192740296721055", false); // the reference input's number
        luhn("4242424242424241", false);
        luhn("79927398710", false);
        luhn("", false);
        luhn("4242 4242 4242 4242", false);
        luhn("42424242424242x2", false);
    }

    #[test]
    fn expiration_format() {
        expiry("08/26", Some((2026, 8)));
        expiry("12/99", Some((2099, 12)));
        expiry("01/00", Some((2000, 1)));
        expiry("00/30", None);
        expiry("13/30", None);
        expiry("8/26", None);
        expiry("08/2026", None);
        expiry("08-26", None);
        expiry("+8/26", None);
        expiry("", None);
        expiry("/", None);
        expiry("0８/26", None);
    }

    #[test]
    fn brand_prefixes_and_lengths() {
        brand("VISA", "4242424242424242", true);
        brand("visa", "4222222222222", true);
        brand("VISA", "42424242424242", false);
        brand("MASTERCARD", "5555555555554444", true);
        brand("MASTERCARD", "2223003122003222", true);
        brand("MASTERCARD", "2720990000000007", true);
        brand("MASTERCARD", "2721000000000004", false);
        brand("MASTERCARD", "5655555555554444", false);
        brand("AMEX", "378282246310005", true);
        brand("AMEX", "371449635398431", true);
        brand("AMEX", "3782822463100050", false);
        brand("DISCOVER", "6011111111111117", true);
        brand("DISCOVER", "6500000000000002", true);
        brand("DISCOVER", "6221260000000000", true);
        brand("DISCOVER", "6229260000000000", false);
        assert_eq!(
            CardBrand::from_card_type(" Mastercard "),
            Some(CardBrand::Mastercard)
        );
        assert_eq!(CardBrand::from_card_type("DINERS"), None);
    }

    #[test]
    fn masked_card() {
        masked("MASTERCARD", "5555 5555 5555 4444", "MASTERCARD", "4444");
        masked("mastercard", "5555 5555 5555 4444", "MASTERCARD", "4444");
        masked("DINERS", "3056930009020004", "UNKNOWN", "0004");
        masked("", "12", "UNKNOWN", "");
    }
}
