//! Properties: no JSON input makes the engine panic on any conformance definition, JSONPath
//! or JSONata.

use proptest::prelude::*;
use serde_json::{Map, Value};
use sfn_local::{ExecuteOptions, StateMachine};

use crate::common::load_category;

pub(crate) fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-zA-Z0-9 $.*-]{0,12}".prop_map(Value::String),
        Just(Value::String("2024-01-01T00:00:00Z".into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("Variable".to_owned()),
                        Just("Value".to_owned()),
                        Just("items".to_owned()),
                        Just("Values".to_owned()),
                        "[a-zA-Z]{1,8}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[test]
fn no_input_panics_any_conformance_definition() {
    let (Some(jsonpath), Some(jsonata)) = (load_category("jsonpath"), load_category("jsonata"))
    else {
        return;
    };
    let machines: Vec<StateMachine> = jsonpath
        .iter()
        .chain(jsonata.iter())
        .filter_map(|c| StateMachine::from_value(&c.definition).ok())
        .collect();
    assert!(machines.len() > 850);
    let options = ExecuteOptions::new().virtual_start(0).history(true);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 200,
        ..ProptestConfig::default()
    });
    runner
        .run(&(arb_json(), 0..machines.len()), |(input, index)| {
            // Each input also runs on its neighbours, so every definition sees many inputs.
            for machine in machines.iter().cycle().skip(index).take(40) {
                let ex = futures::executor::block_on(machine.execute(input.clone(), &options));
                prop_assert!(ex.history.len() >= 2);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary definitions are loaded or rejected, never panic.
    #[test]
    fn loading_never_panics(def in arb_json()) {
        let _ = StateMachine::from_value(&def);
    }
}
