//! What the state machine definition asks of the stack: the `${...}` placeholders it expects
//! through `DefinitionSubstitutions`, and the IAM action each Task state performs on which
//! placeholder's resource.
//!
//! The definition is read by the engine that runs it locally (`sfn_local`), so what infra
//! checks is the definition as Step Functions would load it, not a second reading of the JSON.
//! Step Functions validates a definition once its placeholders are substituted, and so does
//! the engine: before substitution, a placeholder standing for a whole value
//! (`"Resource": "${VerifyPaymentFunctionArn}"`) is not an ARN. So each such value is replaced
//! by a marker the engine accepts there, a Lambda function ARN named after the placeholder
//! ([`MARKER_PREFIX`]), and mapped back to its placeholder when a Task's needs are read. A
//! placeholder inside a longer string is left as it is: a literal string may hold any text.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use sfn_local::{QueryLanguage, StateMachine, StateType, StateView};

use crate::InfraError;
use crate::iam::Action;

/// What a whole-value placeholder becomes while the engine reads the definition: the ARN of
/// a Lambda function named after it, `${Name}` becoming this prefix followed by `Name`.
/// A function ARN is what the engine accepts as a Task's `Resource`, and is plain text
/// anywhere else; account `000000000000` belongs to no one, so it cannot be one of the
/// definition's own ARNs (a definition that contains it anyway is rejected).
pub const MARKER_PREFIX: &str = "arn:aws:lambda:us-east-1:000000000000:function:";

/// One permission a Task state needs: `action` on the resource substituted for `placeholder`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskNeed {
    /// The Task state's name.
    pub state: String,
    /// The IAM action the integration performs.
    pub action: Action,
    /// The placeholder naming the resource, without `${}`.
    pub placeholder: String,
    /// For DynamoDB tasks with a literal `Item` or `Key`: its top-level attribute names.
    pub key_attributes: Option<BTreeSet<String>>,
}

/// A parsed Amazon States Language definition.
#[derive(Clone, Debug)]
pub struct Definition {
    path: String,
    placeholders: BTreeSet<String>,
    needs: Vec<TaskNeed>,
}

impl Definition {
    /// Reads `path` (relative to the repository root `root`).
    pub fn load(root: &Path, path: &str) -> Result<Self, InfraError> {
        let file = root.join(path);
        let text = std::fs::read_to_string(&file)
            .map_err(|source| InfraError::ReadDefinition { path: file, source })?;
        Definition::parse(path, &text)
    }

    /// Parses `text`, which the template will reference as `path` (relative to the repository
    /// root), and loads it with the engine: a definition Step Functions would reject is an
    /// [`InfraError::ParseDefinition`] carrying the engine's reason.
    pub fn parse(path: &str, text: &str) -> Result<Self, InfraError> {
        let invalid = |reason: String| InfraError::ParseDefinition {
            path: path.to_owned(),
            reason,
        };
        let mut json: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let placeholders = placeholders(text)?;
        if text.contains(MARKER_PREFIX) {
            return Err(invalid(format!(
                "it contains `{MARKER_PREFIX}`, which stands for placeholders while the \
                 definition is checked; use another account id"
            )));
        }
        mark_placeholders(&mut json);
        let machine = StateMachine::from_value(&json).map_err(|e| invalid(e.to_string()))?;
        let markers = Markers {
            names: &placeholders,
        };
        let mut needs = Vec::new();
        for state in machine.definition().all_states() {
            if state.state_type() == StateType::Task {
                needs.extend(task_needs(&state, &markers)?);
            }
        }
        Ok(Definition {
            path: path.to_owned(),
            placeholders,
            needs,
        })
    }

    /// The path the template references, relative to the repository root.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Every `${Name}` in the definition, as `Name`.
    pub fn placeholders(&self) -> &BTreeSet<String> {
        &self.placeholders
    }

    /// What each Task state needs, in the definition's order (a state before the states
    /// nested in it).
    pub fn needs(&self) -> &[TaskNeed] {
        &self.needs
    }
}

/// The names of every `${...}` in `text`.
fn placeholders(text: &str) -> Result<BTreeSet<String>, InfraError> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some((_, after)) = rest.split_once("${") {
        let Some((name, next)) = after.split_once('}') else {
            return Err(InfraError::InvalidPlaceholder {
                placeholder: after.chars().take(40).collect(),
            });
        };
        if !is_placeholder_name(name) {
            return Err(InfraError::InvalidPlaceholder {
                placeholder: name.to_owned(),
            });
        }
        found.insert(name.to_owned());
        rest = next;
    }
    Ok(found)
}

fn is_placeholder_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Replaces every string value that is one placeholder, optionally followed by a
/// `:qualifier` (a function version or alias such as `:$LATEST`), with its marker. This
/// looks at JSON strings only, wherever they are: which of them are ASL fields is the
/// engine's business.
fn mark_placeholders(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Some((name, qualifier)) = whole_placeholder(text) {
                *text = format!("{MARKER_PREFIX}{name}{qualifier}");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mark_placeholders),
        Value::Object(fields) => fields.values_mut().for_each(mark_placeholders),
        _ => {}
    }
}

/// `(Name, ":qualifier")` when `text` is `${Name}` or `${Name}:qualifier`.
fn whole_placeholder(text: &str) -> Option<(&str, &str)> {
    let (name, rest) = text.strip_prefix("${")?.split_once('}')?;
    let qualified = rest.is_empty() || (rest.starts_with(':') && !rest.contains("${"));
    (is_placeholder_name(name) && qualified).then_some((name, rest))
}

/// The definition's placeholders, to read markers back as the placeholders they stand for.
struct Markers<'a> {
    names: &'a BTreeSet<String>,
}

impl Markers<'_> {
    /// The placeholder `value` stands for: a marker (`${Name}` or `${Name}:qualifier` as
    /// written) of one of the definition's placeholders.
    fn placeholder(&self, value: &str) -> Option<String> {
        let marked = value.strip_prefix(MARKER_PREFIX)?;
        let name = marked.split(':').next().unwrap_or(marked);
        self.names.contains(name).then(|| name.to_owned())
    }

    /// `text` with each marker written as the placeholder it stands for, for messages.
    fn restore(&self, text: &str) -> String {
        // Longest first, so that the marker of `FG` is not read as `F` followed by `G`.
        let mut names: Vec<&String> = self.names.iter().collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        names.iter().fold(text.to_owned(), |text, name| {
            text.replace(&format!("{MARKER_PREFIX}{name}"), &format!("${{{name}}}"))
        })
    }
}

/// What a Task state needs: one action, or for a nested execution run to completion
/// (`states:startExecution.sync`), the actions Step Functions takes to start, watch and stop
/// it (Step Functions developer guide, "IAM policies for calling Step Functions").
fn task_needs(state: &StateView<'_>, markers: &Markers<'_>) -> Result<Vec<TaskNeed>, InfraError> {
    let need = task_need(state, markers)?;
    let resource = state.resource().unwrap_or("");
    let waits = resource.starts_with("arn:aws:states:::states:startExecution.sync");
    if !waits {
        return Ok(vec![need]);
    }
    Ok([
        Action::StatesStartExecution,
        Action::StatesDescribeExecution,
        Action::StatesStopExecution,
        Action::EventsPutTargets,
        Action::EventsPutRule,
        Action::EventsDescribeRule,
    ]
    .into_iter()
    .map(|action| TaskNeed {
        action,
        ..need.clone()
    })
    .collect())
}

fn task_need(state: &StateView<'_>, markers: &Markers<'_>) -> Result<TaskNeed, InfraError> {
    let state_name = state.name();
    let resource = state.resource().unwrap_or("");
    let unsupported = || InfraError::UnsupportedTaskResource {
        state: state_name.to_owned(),
        resource: markers.restore(resource),
    };
    // A plain function ARN substituted straight into `Resource`.
    if let Some(placeholder) = markers.placeholder(resource) {
        return Ok(TaskNeed {
            state: state_name.to_owned(),
            action: Action::LambdaInvokeFunction,
            placeholder,
            key_attributes: None,
        });
    }
    let integration = resource
        .strip_prefix("arn:aws:states:::")
        .ok_or_else(unsupported)?;
    // `.waitForTaskToken` changes how Step Functions waits, not the IAM action; `.sync`
    // adds actions (see `task_needs`).
    let integration = integration
        .strip_suffix(".waitForTaskToken")
        .or_else(|| integration.strip_suffix(".sync:2"))
        .or_else(|| integration.strip_suffix(".sync"))
        .unwrap_or(integration);
    let (action, field, key_field) = match integration {
        "lambda:invoke" => (Action::LambdaInvokeFunction, "FunctionName", None),
        "dynamodb:putItem" => (Action::DynamoDbPutItem, "TableName", Some("Item")),
        "dynamodb:getItem" => (Action::DynamoDbGetItem, "TableName", Some("Key")),
        "dynamodb:updateItem" => (Action::DynamoDbUpdateItem, "TableName", Some("Key")),
        "dynamodb:deleteItem" => (Action::DynamoDbDeleteItem, "TableName", Some("Key")),
        "sns:publish" => (Action::SnsPublish, "TopicArn", None),
        "states:startExecution" => (Action::StatesStartExecution, "StateMachineArn", None),
        _ => return Err(unsupported()),
    };
    // JSONPath states take `Parameters`, JSONata states take `Arguments`.
    let (block_name, block) = match state.query_language() {
        QueryLanguage::JsonPath => ("Parameters", state.parameters()),
        QueryLanguage::Jsonata => ("Arguments", state.arguments()),
    };
    let block = block.unwrap_or(&Value::Null);
    let target = block.get(field);
    let placeholder = target
        .and_then(Value::as_str)
        .and_then(|t| markers.placeholder(t))
        .ok_or_else(|| InfraError::UnresolvedTaskTarget {
            state: state_name.to_owned(),
            field: format!("{block_name}.{field}"),
            found: match (target, block.get(format!("{field}.$"))) {
                (Some(v), _) => markers.restore(&v.to_string()),
                (None, Some(_)) => format!("a path (`{field}.$`)"),
                (None, None) => "nothing".to_owned(),
            },
        })?;
    let key_attributes = key_field
        .and_then(|k| block.get(k))
        .and_then(Value::as_object)
        .map(|item| item.keys().cloned().collect());
    Ok(TaskNeed {
        state: state_name.to_owned(),
        action,
        placeholder,
        key_attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Definition, InfraError> {
        Definition::parse("test.asl.json", text)
    }

    /// A definition whose only state is `state`, named `S`.
    fn one(state: &str) -> String {
        format!(r#"{{"StartAt": "S", "States": {{"S": {state}}}}}"#)
    }

    fn need(state: &str) -> (Action, String) {
        let d = parse(&one(state)).unwrap_or_else(|e| panic!("{e}"));
        let n = d
            .needs()
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("no need"));
        (n.action, n.placeholder)
    }

    fn error(state: &str) -> String {
        match parse(&one(state)) {
            Ok(_) => panic!("{state} should be rejected"),
            Err(e) => e.to_string(),
        }
    }

    fn task(resource: &str, parameters: &str) -> String {
        format!(
            r#"{{"Type": "Task", "Resource": "{resource}", "Parameters": {parameters}, "End": true}}"#
        )
    }

    const INVOKE: &str = "arn:aws:states:::lambda:invoke";

    #[test]
    fn a_nested_execution_run_to_completion_needs_to_start_watch_and_stop_it() {
        let state = |resource: &str| {
            format!(
                r#"{{"Type": "Task", "Resource": "{resource}", "Parameters": {{"StateMachineArn": "${{M}}"}}, "End": true}}"#
            )
        };
        let d = parse(&one(&state(
            "arn:aws:states:::states:startExecution.sync:2",
        )))
        .unwrap_or_else(|e| panic!("{e}"));
        let actions: Vec<Action> = d.needs().iter().map(|n| n.action).collect();
        assert_eq!(
            actions,
            [
                Action::StatesStartExecution,
                Action::StatesDescribeExecution,
                Action::StatesStopExecution,
                Action::EventsPutTargets,
                Action::EventsPutRule,
                Action::EventsDescribeRule,
            ]
        );
        assert!(d.needs().iter().all(|n| n.placeholder == "M"));
        // Started and left to run: only the start.
        let d = parse(&one(&state("arn:aws:states:::states:startExecution")))
            .unwrap_or_else(|e| panic!("{e}"));
        let actions: Vec<Action> = d.needs().iter().map(|n| n.action).collect();
        assert_eq!(actions, [Action::StatesStartExecution]);
    }

    #[test]
    fn task_needs() {
        let a = |s: &str| s.to_owned();
        assert_eq!(
            need(&task(
                INVOKE,
                r#"{"FunctionName": "${F}", "Payload.$": "$"}"#
            )),
            (Action::LambdaInvokeFunction, a("F"))
        );
        assert_eq!(
            need(&task(INVOKE, r#"{"FunctionName": "${F}:$LATEST"}"#)),
            (Action::LambdaInvokeFunction, a("F"))
        );
        assert_eq!(
            need(&task(
                "arn:aws:states:::lambda:invoke.waitForTaskToken",
                r#"{"FunctionName": "${F}"}"#
            )),
            (Action::LambdaInvokeFunction, a("F"))
        );
        assert_eq!(
            need(&task("${F}", "{}")),
            (Action::LambdaInvokeFunction, a("F"))
        );
        assert_eq!(
            need(&task(
                "arn:aws:states:::dynamodb:putItem",
                r#"{"TableName": "${T}", "Item": {}}"#
            )),
            (Action::DynamoDbPutItem, a("T"))
        );
        assert_eq!(
            need(&task(
                "arn:aws:states:::dynamodb:getItem",
                r#"{"TableName": "${T}", "Key": {}}"#
            )),
            (Action::DynamoDbGetItem, a("T"))
        );
        assert_eq!(
            need(&task(
                "arn:aws:states:::dynamodb:updateItem",
                r#"{"TableName": "${T}"}"#
            )),
            (Action::DynamoDbUpdateItem, a("T"))
        );
        assert_eq!(
            need(&task(
                "arn:aws:states:::dynamodb:deleteItem",
                r#"{"TableName": "${T}"}"#
            )),
            (Action::DynamoDbDeleteItem, a("T"))
        );
        assert_eq!(
            need(&task(
                "arn:aws:states:::sns:publish",
                r#"{"TopicArn": "${N}", "Message": "m"}"#
            )),
            (Action::SnsPublish, a("N"))
        );
        assert_eq!(
            need(
                r#"{"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::sns:publish", "Arguments": {"TopicArn": "${N}"}, "End": true}"#
            ),
            (Action::SnsPublish, a("N"))
        );
    }

    #[test]
    fn tasks_inside_parallel_and_map_states_are_found() {
        let text = format!(
            r#"{{"StartAt": "P", "States": {{
                "P": {{"Type": "Parallel", "Branches": [{{"StartAt": "A", "States": {{"A": {a}}}}}], "Next": "M"}},
                "M": {{"Type": "Map", "ItemProcessor": {{"StartAt": "B", "States": {{"B": {b}}}}}, "End": true}}
            }}}}"#,
            a = task(INVOKE, r#"{"FunctionName": "${F}"}"#),
            b = task(INVOKE, r#"{"FunctionName": "${G}"}"#),
        );
        let d = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        // Sorted: serde_json may or may not keep the file's key order (`preserve_order`).
        let states: BTreeSet<_> = d
            .needs()
            .iter()
            .map(|n| (n.state.as_str(), n.placeholder.as_str()))
            .collect();
        assert_eq!(states, [("A", "F"), ("B", "G")].into());
        assert_eq!(d.placeholders().iter().collect::<Vec<_>>(), vec!["F", "G"]);
    }

    #[test]
    fn key_attributes_of_literal_items() {
        let d = parse(&one(&task(
            "arn:aws:states:::dynamodb:putItem",
            r#"{"TableName": "${T}", "Item": {"orderId": {"S.$": "$.id"}, "State": {"S": "X"}}}"#,
        )))
        .unwrap_or_else(|e| panic!("{e}"));
        let keys = d.needs().first().and_then(|n| n.key_attributes.clone());
        assert_eq!(
            keys,
            Some(["State".to_owned(), "orderId".to_owned()].into())
        );
    }

    #[test]
    fn rejected_tasks() {
        assert!(
            error(&task(
                "arn:aws:states:::sqs:sendMessage",
                r#"{"QueueUrl": "${Q}"}"#
            ))
            .contains("sqs:sendMessage")
        );
        assert!(
            error(&task(
                "arn:aws:lambda:us-east-1:123456789012:function:f",
                "{}"
            ))
            .contains("not modelled")
        );
        assert!(
            error(&task(
                INVOKE,
                r#"{"FunctionName": "arn:aws:lambda:us-east-1:1:function:f"}"#
            ))
            .contains("Parameters.FunctionName")
        );
        assert!(error(&task(INVOKE, r#"{"FunctionName.$": "$.fn"}"#)).contains("a path"));
        assert!(
            error(&task(
                "arn:aws:states:::dynamodb:putItem",
                r#"{"Item": {}}"#
            ))
            .contains("found nothing")
        );
        assert!(
            error(&task(
                "arn:aws:states:::sns:publish",
                r#"{"TopicArn": "${A}${B}"}"#
            ))
            .contains("TopicArn")
        );
    }

    #[test]
    fn placeholder_names() {
        let names = |t: &str| placeholders(t).map(|s| s.into_iter().collect::<Vec<_>>());
        assert_eq!(
            names("a ${X} b ${Y_2} ${X}").ok(),
            Some(vec!["X".to_owned(), "Y_2".to_owned()])
        );
        assert_eq!(names("$.path and $$.Execution.Id").ok(), Some(vec![]));
        assert!(names("${Orders Table}").is_err());
        assert!(names("${}").is_err());
        assert!(names("${Unclosed").is_err());
    }

    #[test]
    fn malformed_definitions() {
        assert!(matches!(
            parse("{"),
            Err(InfraError::ParseDefinition { .. })
        ));
        assert!(matches!(
            parse("[]"),
            Err(InfraError::ParseDefinition { .. })
        ));
        assert!(matches!(
            parse(r#"{"StartAt": "S"}"#),
            Err(InfraError::ParseDefinition { .. })
        ));
    }

    /// What Step Functions would refuse to create is refused here, with the engine's reason.
    #[test]
    fn definitions_the_engine_rejects() {
        let rejected = |text: &str| match parse(text) {
            Err(InfraError::ParseDefinition { path, reason }) => {
                assert_eq!(path, "test.asl.json");
                reason
            }
            other => panic!("{text} should not load: {other:?}"),
        };
        let lost = rejected(
            r#"{"StartAt": "S", "States": {"S": {"Type": "Succeed"}, "Lost": {"Type": "Succeed"}}}"#,
        );
        assert!(lost.contains("\"Lost\" is not reachable"), "{lost}");
        assert!(rejected(&one(r#"{"Type": "Pass"}"#)).contains("'Next' or 'End'"));
        assert!(
            rejected(&one(r#"{"Type": "Task", "Resource": "f", "End": true}"#)).contains("\"f\"")
        );
    }

    #[test]
    fn a_placeholder_for_the_whole_resource_is_a_function() {
        let d = parse(&one(&task("${F}:$LATEST", "{}"))).unwrap_or_else(|e| panic!("{e}"));
        let n = d.needs().first().cloned();
        assert_eq!(
            n.map(|n| (n.action, n.placeholder)),
            Some((Action::LambdaInvokeFunction, "F".to_owned()))
        );
        // Inside a longer resource it is part of an ARN whose permission is not modelled.
        assert!(matches!(
            parse(&one(&task("arn:aws:lambda:${Region}:1:function:f", "{}"))),
            Err(InfraError::UnsupportedTaskResource { .. })
        ));
    }

    /// Messages show placeholders as the definition writes them, never their markers.
    #[test]
    fn messages_name_placeholders() {
        let e = error(&task(INVOKE, r#"{"FunctionName": ["${F}"]}"#));
        assert!(e.contains(r#"found ["${F}"]"#), "{e}");
        assert!(!e.contains(MARKER_PREFIX), "{e}");
    }

    #[test]
    fn a_definition_that_spells_a_marker_is_rejected() {
        let text = one(&task(&format!("{MARKER_PREFIX}F"), "{}"));
        assert!(matches!(
            parse(&text),
            Err(InfraError::ParseDefinition { reason, .. }) if reason.contains(MARKER_PREFIX)
        ));
    }
}
