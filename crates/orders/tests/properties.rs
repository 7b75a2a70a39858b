//! Properties: no input panics the parser, the validator or the verifier, no message shows
//! the card number, and amounts survive a round trip through JSON.

use orders::{
    CardNumber, Charge, ChargeRequest, Clock, Money, Order, OrderRequest, PaymentDetails,
    SimulatedGateway, SimulatedInventory, Simulation, StockRequest, YearMonth, check_card,
};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use crate::common::{PAN, block_on, order, today};

/// Any JSON value, with the keys of the order's shape mixed in so that deep paths are hit.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("orderId".to_owned()),
        Just("orderContents".to_owned()),
        Just("items".to_owned()),
        Just("itemId".to_owned()),
        Just("price".to_owned()),
        Just("itemDescription".to_owned()),
        Just("orderTotal".to_owned()),
        Just("customerId".to_owned()),
        Just("paymentDetails".to_owned()),
        Just("cardNumber".to_owned()),
        Just("expiration".to_owned()),
        Just("amount".to_owned()),
        Just("paymentToken".to_owned()),
        "[a-zA-Z]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "\\PC{0,24}".prop_map(Value::String),
        "[0-9 -]{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every JSON pointer in `value`, the root included.
fn pointers(value: &Value, at: String, all: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                pointers(member, format!("{at}/{key}"), all);
            }
        }
        Value::Array(elements) => {
            for (index, element) in elements.iter().enumerate() {
                pointers(element, format!("{at}/{index}"), all);
            }
        }
        _ => {}
    }
    all.push(at);
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
}

fn mutate(mut value: Value, mutations: &[Mutation]) -> Value {
    for mutation in mutations {
        let mut all = Vec::new();
        pointers(&value, String::new(), &mut all);
        let pick = |n: usize| all.get(n % all.len().max(1)).cloned().unwrap_or_default();
        match mutation {
            Mutation::Replace(n, replacement) => {
                if let Some(slot) = value.pointer_mut(&pick(*n)) {
                    *slot = replacement.clone();
                }
            }
            Mutation::Remove(n) => {
                let pointer = pick(*n);
                if let Some((parent, key)) = pointer.rsplit_once('/') {
                    match value.pointer_mut(parent) {
                        Some(Value::Object(members)) => {
                            members.remove(key);
                        }
                        Some(Value::Array(elements)) => {
                            if let Ok(index) = key.parse::<usize>() {
                                if index < elements.len() {
                                    elements.remove(index);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    value
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), json_value()).prop_map(|(n, value)| Mutation::Replace(n, value)),
        any::<usize>().prop_map(Mutation::Remove),
    ]
}

/// Runs everything that reads input on `value`, checking that no message shows the PAN.
fn exercise(value: Value, month: YearMonth) {
    let gateway = SimulatedGateway::new(Simulation::Random { seed: 1 });
    let inventory = SimulatedInventory::new(Simulation::Deterministic);
    match Order::try_from(OrderRequest::new(value.clone())) {
        Ok(order) => {
            if let Some(card) = order.card() {
                let _ = check_card(card, month);
            }
            let verification = block_on(orders::verify_payment(
                &order,
                &gateway,
                &orders::FixedClock(month),
            ));
            if let Ok(verification) = &verification {
                assert!(!format!("{verification:?}").contains(PAN));
            }
            let _ = block_on(orders::check_stock(order.items(), &inventory));
            assert!(!format!("{order:?}").contains(PAN));
        }
        Err(error) => assert!(!error.to_string().contains(PAN), "{error}"),
    }
    if let Ok(items) = StockRequest::new(value.clone()).items() {
        let _ = block_on(orders::check_stock(&items, &inventory));
    }
    if let Ok(charge) = Charge::try_from(ChargeRequest::new(value)) {
        let _ = block_on(orders::charge_payment(&charge, &gateway));
    }
}

fn month() -> impl Strategy<Value = YearMonth> {
    (2000_u16..2100, 1_u8..=12)
        .prop_filter_map("a month", |(year, month)| YearMonth::new(year, month))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_json_never_panics(value in json_value(), month in month()) {
        exercise(value, month);
    }

    #[test]
    fn mutated_orders_never_panic(mutations in prop::collection::vec(mutation(), 1..4), month in month()) {
        exercise(mutate(order(), &mutations), month);
    }

    #[test]
    fn arbitrary_text_is_never_read_as_json_panicking(text in "\\PC{0,64}") {
        let _ = OrderRequest::from_json(&text).map(Order::try_from);
    }

    #[test]
    fn arbitrary_card_details_never_panic(
        card_type in "\\PC{0,12}|VISA|MASTERCARD|AMEX|DISCOVER",
        number in "[0-9 -]{0,24}|\\PC{0,24}",
        expiration in "[0-9]{2}/[0-9]{2}|\\PC{0,8}",
        month in month(),
    ) {
        if let Ok(details) = PaymentDetails::new("Jo", &card_type, CardNumber::new(number.clone()), &expiration) {
            if let Err(reason) = check_card(&details, month) {
                let digits: String = number.chars().filter(char::is_ascii_digit).collect();
                if digits.len() >= 12 {
                    prop_assert!(!reason.to_string().contains(&digits), "{}", reason);
                }
            }
        }
    }

    #[test]
    fn money_round_trips_through_json(cents in 0_i64..=100_000_000_000_000) {
        let text = format!("{}.{:02}", cents / 100, cents % 100);
        let money: Money = text.parse().expect("valid amount");
        let Value::Number(number) = money.to_json() else { panic!("{text} is not a JSON number") };
        prop_assert_eq!(Money::from_json_number("amount", &number).expect("reads back"), money);
        let printed = serde_json::to_string(&money).expect("serialises");
        let reread: Number = serde_json::from_str(&printed).expect("JSON number");
        prop_assert_eq!(Money::from_json_number("amount", &reread).expect("reads back"), money);
    }
}

#[test]
fn the_reference_expiry_has_passed() {
    let order = Order::try_from(OrderRequest::new(crate::common::order_with(
        "/paymentDetails/expiration",
        "08/26".into(),
    )))
    .expect("valid order");
    let card = order.card().expect("a card order");
    let reason = check_card(card, today().today()).expect_err("expired");
    assert_eq!(
        reason.to_string(),
        "card expired: its expiration month has passed"
    );
}

/// The parser and validator fuzz target: arbitrary and mutated orders for a time budget
/// (`FUZZ_SECONDS`, default 5) in rounds of 256 cases, seeded by `FUZZ_SEED`:
///
/// ```text
/// FUZZ_SECONDS=600 cargo test --release -p orders --test tests fuzz_orders -- --ignored --nocapture
/// ```
#[test]
#[ignore = "a time-bounded fuzz run; see the doc comment"]
fn fuzz_orders() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    use std::time::{Duration, Instant};

    let number = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    let seconds = number("FUZZ_SECONDS").unwrap_or(5);
    let first_seed = number("FUZZ_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let strategy = (
        prop_oneof![
            json_value(),
            prop::collection::vec(mutation(), 1..5).prop_map(|m| mutate(order(), &m)),
        ],
        month(),
        "\\PC{0,64}",
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut cases, mut round) = (0_u64, 0_u64);
    while Instant::now() < deadline {
        let seed = first_seed.wrapping_add(round);
        let mut bytes = [0_u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let config = Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
        runner
            .run(&strategy, |(value, month, text)| {
                exercise(value, month);
                let _ = OrderRequest::from_json(&text).map(Order::try_from);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("fuzz_orders failed (FUZZ_SEED={seed}): {e}"));
        cases += 256;
        round += 1;
    }
    println!(
        "fuzz target orders: {cases} cases in {seconds} s, first seed {first_seed}, no failure"
    );
}
