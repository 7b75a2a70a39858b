//! The state machine's grants against the Task states of its definition: every integration a
//! state calls is granted, and nothing else is.

use std::collections::BTreeSet;

use infra::InfraError;
use serde_json::Value;
use sfn_local::{StateMachine, StateType, StateView};

use crate::assertions::{Template, compact, read, stack_for, text};

/// What a Task state's `Resource` needs, worked out here independently of the crate (the
/// states are read through the engine's model, as the crate reads them).
fn needed_by(state: &StateView<'_>) -> Option<(String, String)> {
    let resource = state.resource()?;
    let parameters = state
        .arguments()
        .or_else(|| state.parameters())
        .unwrap_or(&Value::Null);
    let (action, field) = match resource.trim_end_matches(".waitForTaskToken") {
        "arn:aws:states:::states:startExecution.sync:2" => {
            ("states:StartExecution", "StateMachineArn")
        }
        "arn:aws:states:::lambda:invoke" => ("lambda:InvokeFunction", "FunctionName"),
        "arn:aws:states:::dynamodb:putItem" => ("dynamodb:PutItem", "TableName"),
        "arn:aws:states:::dynamodb:getItem" => ("dynamodb:GetItem", "TableName"),
        "arn:aws:states:::dynamodb:updateItem" => ("dynamodb:UpdateItem", "TableName"),
        "arn:aws:states:::dynamodb:deleteItem" => ("dynamodb:DeleteItem", "TableName"),
        "arn:aws:states:::sns:publish" => ("sns:Publish", "TopicArn"),
        other => panic!("a Task calls {other}: teach this test and the crate its permission"),
    };
    let target = text(&parameters[field]);
    let placeholder = target
        .strip_prefix("${")
        .and_then(|t| t.split_once('}'))
        .map(|(name, _)| name.to_owned())
        .unwrap_or_else(|| panic!("{field} is not a placeholder: {target}"));
    Some((action.to_owned(), placeholder))
}

/// For each state machine: every integration a Task state calls is granted, on the resource
/// substituted for it, and nothing else is (logging, tracing and the nested execution's
/// describe, stop and rule are checked in template.rs).
#[test]
fn every_task_integration_is_granted_and_nothing_more() {
    let t = Template::synth();
    for (machine, path) in [
        (
            "OrderProcessingStateMachine",
            infra::orderflow::DEFINITION_PATH,
        ),
        ("OrderStateMachine", infra::orderflow::ENTRY_DEFINITION_PATH),
    ] {
        // The real definitions name their resources inside `Parameters` only, so the engine
        // loads them with their placeholders unsubstituted.
        let loaded = StateMachine::from_json(&read(path)).unwrap_or_else(|e| panic!("{e}"));
        let needed: Vec<(String, String)> = loaded
            .definition()
            .all_states()
            .iter()
            .filter(|s| s.state_type() == StateType::Task)
            .filter_map(needed_by)
            .collect();
        assert!(!needed.is_empty(), "{path} has Task states");

        let substitutions = &t.properties(machine)["DefinitionSubstitutions"];
        // The resources each needed action must be allowed on: the substituted value, and
        // for functions their qualified ARNs too.
        let mut expected = BTreeSet::new();
        for (action, placeholder) in &needed {
            let value = compact(&substitutions[placeholder.as_str()]);
            if action == "lambda:InvokeFunction" {
                expected.insert((action.clone(), format!("Sub ${{{value}}}:*")));
            }
            // Tables are substituted by name, but IAM takes their ARN.
            let value = match (action.starts_with("dynamodb:"), value.strip_prefix("Ref ")) {
                (true, Some(table)) => format!("{table}.Arn"),
                _ => value,
            };
            expected.insert((action.clone(), value));
        }
        let granted: BTreeSet<(String, String)> = t
            .permissions(&format!("{machine}Role"))
            .into_iter()
            .filter(|(action, resource)| {
                resource != "*"
                    && !action.starts_with("events:")
                    && action != "states:DescribeExecution"
                    && action != "states:StopExecution"
            })
            .collect();
        assert_eq!(granted, expected, "{machine}");
    }
}

/// A definition using all five placeholders, looking the order up, recording and marking it,
/// with `extra` as one more state after `Notify`.
fn definition(notify: &str, extra: &str) -> String {
    let invoke = |name: &str, placeholder: &str, next: &str| {
        format!(
            r#""{name}": {{"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {{"FunctionName": "${{{placeholder}}}", "Payload.$": "$"}}, "Next": "{next}"}}"#
        )
    };
    format!(
        r#"{{"StartAt": "Look Up", "States": {{
            "Look Up": {{"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {{"TableName": "${{OrdersTableName}}", "Key": {{"OrderId": {{"S.$": "$.id"}}}}}},
                "Next": "Verify"}},
            {verify}, {stock}, {charge},
            "Record": {{"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {{"TableName": "${{OrdersTableName}}", "Item": {{"OrderId": {{"S.$": "$.id"}}}}}},
                "Next": "Mark"}},
            "Mark": {{"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {{"TableName": "${{OrdersTableName}}", "Key": {{"OrderId": {{"S.$": "$.id"}}}}}},
                "Next": "Notify"}},
            "Notify": {notify}
            {extra}
        }}}}"#,
        verify = invoke("Verify", "VerifyPaymentFunctionArn", "Stock"),
        stock = invoke("Stock", "CheckStockFunctionArn", "Charge"),
        charge = invoke("Charge", "ChargePaymentFunctionArn", "Record"),
    )
}

const PUBLISH: &str = r#"{"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
    "Parameters": {"TopicArn": "${OrderNotificationsTopicArn}", "Message": "m"}, "End": true}"#;

/// [`PUBLISH`], going on to the state `next` (every state must be reachable).
fn publish_then(next: &str) -> String {
    PUBLISH.replace(r#""End": true"#, &format!(r#""Next": "{next}""#))
}

fn error(asl: &str) -> InfraError {
    match stack_for(asl) {
        Ok(_) => panic!("the stack should be rejected"),
        Err(e) => e,
    }
}

#[test]
fn a_definition_that_matches_the_grants_is_accepted() {
    assert!(stack_for(&definition(PUBLISH, "")).is_ok());
}

#[test]
fn a_task_without_a_grant_is_rejected() {
    let delete = r#", "Delete": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:deleteItem",
        "Parameters": {"TableName": "${OrdersTableName}", "Key": {"OrderId": {"S": "x"}}}, "End": true}"#;
    let e = error(&definition(&publish_then("Delete"), delete));
    assert!(
        matches!(&e, InfraError::MissingGrant { state, action: "dynamodb:DeleteItem", .. } if state == "Delete"),
        "{e}"
    );
}

#[test]
fn a_grant_no_task_uses_is_rejected() {
    // The topic is still substituted (a Pass state mentions it) but nothing publishes.
    let pass =
        r#"{"Type": "Pass", "Result": {"topic": "${OrderNotificationsTopicArn}"}, "End": true}"#;
    let e = error(&definition(pass, ""));
    assert!(
        matches!(&e, InfraError::UnusedGrant { action: "sns:Publish", target } if target == "OrderNotificationsTopic"),
        "{e}"
    );
}

#[test]
fn placeholders_and_substitutions_must_match() {
    let unknown = r#", "Audit": {"Type": "Pass", "Result": "${AuditTableName}", "End": true}"#;
    let e = error(&definition(&publish_then("Audit"), unknown));
    assert!(
        matches!(&e, InfraError::MissingSubstitution { placeholder } if placeholder == "AuditTableName"),
        "{e}"
    );

    let no_topic = r#"{"Type": "Succeed"}"#;
    let e = error(&definition(no_topic, ""));
    assert!(
        matches!(&e, InfraError::UnusedSubstitution { placeholder } if placeholder == "OrderNotificationsTopicArn"),
        "{e}"
    );
}

#[test]
fn an_item_without_the_table_key_is_rejected() {
    let asl = definition(PUBLISH, "").replace(
        r#""OrderId": {"S.$": "$.id"}"#,
        r#""orderId": {"S.$": "$.id"}"#,
    );
    let e = error(&asl);
    assert!(
        matches!(&e, InfraError::MissingKeyAttribute { attribute, .. } if attribute == "OrderId"),
        "{e}"
    );
}
