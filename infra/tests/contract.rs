//! The resource contract (`order-resources`) against the definitions and the stack: each
//! definition uses exactly the placeholders the contract lists for it, and the stack
//! substitutes exactly those, each with the resource the contract names.

use std::collections::BTreeSet;

use order_resources::{Definition, Resource};

use crate::assertions::{Template, compact, read};

/// The `${...}` names of a definition file, read independently of the crate's own parser.
fn placeholders_in(path: &str) -> BTreeSet<String> {
    read(path)
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

fn contract_placeholders(definition: Definition) -> BTreeSet<String> {
    definition
        .resources()
        .iter()
        .map(|r| r.placeholder().to_owned())
        .collect()
}

#[test]
fn each_definition_uses_the_placeholders_of_the_contract() {
    for definition in Definition::ALL {
        assert_eq!(
            placeholders_in(definition.path()),
            contract_placeholders(definition),
            "{}: placeholders in the file vs the contract",
            definition.path()
        );
    }
}

#[test]
fn the_stack_substitutes_each_resource_of_the_contract() {
    let t = Template::synth();
    for definition in Definition::ALL {
        let machine = definition.logical_id();
        assert_eq!(
            t.resource(machine)["Type"],
            "AWS::StepFunctions::StateMachine",
            "{machine}"
        );
        let substitutions = t.properties(machine)["DefinitionSubstitutions"]
            .as_object()
            .unwrap_or_else(|| panic!("{machine} has no DefinitionSubstitutions"));
        let substituted: BTreeSet<String> = substitutions.keys().cloned().collect();
        assert_eq!(
            substituted,
            contract_placeholders(definition),
            "{machine}: substitutions vs the contract"
        );
        for resource in definition.resources() {
            let id = resource.logical_id();
            // A function by its ARN, a table by its name, a topic or state machine by its
            // ARN, which is their `Ref`.
            let (kind, value) = match resource {
                Resource::Function(_) => ("AWS::Serverless::Function", format!("{id}.Arn")),
                Resource::OrdersTable => ("AWS::DynamoDB::Table", format!("Ref {id}")),
                Resource::OrderNotificationsTopic => ("AWS::SNS::Topic", format!("Ref {id}")),
                Resource::OrderProcessingStateMachine => {
                    ("AWS::StepFunctions::StateMachine", format!("Ref {id}"))
                }
            };
            assert_eq!(t.resource(id)["Type"], kind, "{id}");
            assert_eq!(
                compact(&substitutions[resource.placeholder()]),
                value,
                "{machine}: ${{{}}}",
                resource.placeholder()
            );
        }
    }
}
