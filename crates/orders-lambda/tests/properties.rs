//! No event panics a handler.

use orders::{SimulatedGateway, SimulatedInventory, Simulation};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use crate::common::{PANS, today};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        "\\PC{0,16}".prop_map(Value::String),
        Just(Value::String("5555 5555 5555 4444".to_owned())),
    ];
    let key = prop_oneof![
        Just("items".to_owned()),
        Just("orderId".to_owned()),
        Just("amount".to_owned()),
        Just("paymentToken".to_owned()),
        Just("cardNumber".to_owned()),
        "[a-z]{0,6}",
    ];
    leaf.prop_recursive(3, 32, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn handlers_never_panic_nor_echo_card_numbers(event in json_value()) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let gateway = SimulatedGateway::new(Simulation::Random { seed: 3 });
        let inventory = SimulatedInventory::new(Simulation::Random { seed: 3 });
        let results = runtime.block_on(async {
            [
                orders_lambda::verify_payment(event.clone(), &gateway, &today()).await,
                orders_lambda::check_stock(event.clone(), &inventory).await,
                orders_lambda::charge_payment(event.clone(), &gateway).await,
            ]
        });
        for result in results {
            if let Err(error) = result {
                let message = error.to_string();
                prop_assert!(PANS.iter().all(|pan| !message.contains(pan)), "{}", message);
            }
        }
    }
}
