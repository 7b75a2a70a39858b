//! Payment-details verification, one case per line, at 2026-11-24.

use orders::{CardNumber, Clock, PaymentDetails, check_card};

use crate::common::today;

fn check(card_type: &str, number: &str, expiration: &str) -> Result<String, String> {
    let details = PaymentDetails::new("John Doe", card_type, CardNumber::new(number), expiration)
        .expect("valid details");
    check_card(&details, today().today())
        .map(|brand| brand.to_string())
        .map_err(|reason| reason.to_string())
}

fn verified(card_type: &str, number: &str, expiration: &str, brand: &str) {
    assert_eq!(
        check(card_type, number, expiration),
        Ok(brand.to_owned()),
        "{card_type} {number} {expiration}"
    );
}

fn refused(card_type: &str, number: &str, expiration: &str, reason: &str) {
    assert_eq!(
        check(card_type, number, expiration),
        Err(reason.to_owned()),
        "{card_type} {number} {expiration}"
    );
}

#[test]
fn verified_cards() {
    verified("MASTERCARD", "5555 5555 5555 4444", "08/31", "MASTERCARD");
    verified("MASTERCARD", "5555-5555-5555-4444", "08/31", "MASTERCARD");
    verified("MASTERCARD", "5555555555554444", "08/31", "MASTERCARD");
    verified("mastercard", "2223 0031 2200 3222", "01/27", "MASTERCARD");
    verified("VISA", "4242 4242 4242 4242", "12/30", "VISA");
    verified(" visa ", "4242424242424242", "12/30", "VISA");
    verified("VISA", "4222222222222", "12/30", "VISA");
    verified("AMEX", "3782 822463 10005", "12/30", "AMEX");
    verified("DISCOVER", "6011 1111 1111 1117", "12/30", "DISCOVER");
    verified("VISA", "4000 0000 0000 0002", "12/30", "VISA"); // refused later, by the gateway
    verified("MASTERCARD", "5555 5555 5555 4444", "11/26", "MASTERCARD"); // valid to the end of this month
    verified("MASTERCARD", "5555 5555 5555 4444", "12/26", "MASTERCARD");
}

#[test]
fn refused_cards() {
    refused(
        "MASTERCARD",
        "5192 7402 9672 1055",
        "08/26",
        "card number fails the Luhn check",
    ); // the reference input
    refused(
        "MASTERCARD",
        "5555 5555 5555 4444",
        "08/26",
        "card expired: its expiration month has passed",
    );
    refused(
        "MASTERCARD",
        "5555 5555 5555 4444",
        "10/26",
        "card expired: its expiration month has passed",
    );
    refused(
        "MASTERCARD",
        "5555 5555 5555 4444",
        "12/25",
        "card expired: its expiration month has passed",
    );
    refused(
        "MASTERCARD",
        "5555 5555 5555 4444",
        "13/30",
        "expiration must be MM/YY with a month from 01 to 12",
    );
    refused(
        "MASTERCARD",
        "5555 5555 5555 4444",
        "00/30",
        "expiration must be MM/YY with a month from 01 to 12",
    );
    refused(
        "MASTERCARD",
        "5555 5555 5555 4444",
        "2030-01",
        "expiration must be MM/YY with a month from 01 to 12",
    );
    refused(
        "MASTERCARD",
        "5555 5555 5555 4444",
        "",
        "expiration must be MM/YY with a month from 01 to 12",
    );
    refused(
        "MASTERCARD",
        "5555 5555 5555 444x",
        "08/31",
        "card number must contain only digits, spaces and dashes",
    );
    refused(
        "MASTERCARD",
        "5555.5555.5555.4444",
        "08/31",
        "card number must contain only digits, spaces and dashes",
    );
    refused(
        "VISA",
        "4242 4242",
        "08/31",
        "card number must have 12 to 19 digits, found 8",
    );
    refused(
        "VISA",
        "42424242424242424242",
        "08/31",
        "card number must have 12 to 19 digits, found 20",
    );
    refused(
        "VISA",
        "",
        "08/31",
        "card number must have 12 to 19 digits, found 0",
    );
    refused(
        "VISA",
        "4242424242424241",
        "08/31",
        "card number fails the Luhn check",
    );
    refused(
        "DINERS",
        "4242424242424242",
        "08/31",
        "card type is not accepted; use VISA, MASTERCARD, AMEX or DISCOVER",
    );
    refused(
        "",
        "4242424242424242",
        "08/31",
        "card type is not accepted; use VISA, MASTERCARD, AMEX or DISCOVER",
    );
    refused(
        "VISA",
        "5555 5555 5555 4444",
        "08/31",
        "card number does not match card type VISA",
    );
    refused(
        "AMEX",
        "4242424242424242",
        "08/31",
        "card number does not match card type AMEX",
    );
    refused(
        "MASTERCARD",
        "378282246310005",
        "08/31",
        "card number does not match card type MASTERCARD",
    );
}

#[test]
fn reasons_never_contain_the_number() {
    for (card_type, number) in [
        ("VISA", "5555555555554444"),
        ("DINERS", "5555555555554444"),
        ("MASTERCARD", "5555555555554441"),
    ] {
        for expiration in ["08/31", "08/26", "bad"] {
            if let Err(reason) = check(card_type, number, expiration) {
                assert!(!reason.contains(number), "{reason}");
            }
        }
    }
}
