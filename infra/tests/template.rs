//! The template: its resources, their settings, each role's exact permissions, and that the
//! committed file is what the code synthesizes.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::assertions::{Template, array, pairs, read, root, text};

const FUNCTIONS: [(&str, &str); 3] = [
    ("VerifyPaymentFunction", "verify-payment"),
    ("CheckStockFunction", "check-stock"),
    ("ChargePaymentFunction", "charge-payment"),
];

const XRAY_FUNCTION: [&str; 2] = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

#[test]
fn committed_template_is_the_synthesized_one() {
    let fresh = Template::synth().yaml;
    let committed = read(infra::orderflow::TEMPLATE_PATH);
    assert!(
        committed == fresh,
        "infra/template.yaml is out of date: run `cargo run -p infra -- synth`"
    );
}

#[test]
fn resource_counts() {
    let t = Template::synth();
    t.resource_count_is("AWS::Serverless::Function", 3);
    t.resource_count_is("AWS::Serverless::StateMachine", 2);
    t.resource_count_is("AWS::DynamoDB::Table", 2);
    t.resource_count_is("AWS::SNS::Topic", 1);
    t.resource_count_is("AWS::IAM::Role", 5);
    t.resource_count_is("AWS::Logs::LogGroup", 5);
    assert_eq!(t.resources().count(), 18, "no other resources");
}

#[test]
fn functions_are_cargo_lambda_builds_of_the_workspace_binaries() {
    let t = Template::synth();
    for (id, binary) in FUNCTIONS {
        let f = t.resource(id);
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{id}");
        assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], binary, "{id}");
        // The binary is a `[[bin]]` of the workspace crate of the same name.
        let manifest = read(&format!("crates/{binary}/Cargo.toml"));
        assert!(
            manifest.contains(&format!("[[bin]]\nname = \"{binary}\"")),
            "crates/{binary} has no [[bin]] named {binary}"
        );
        let p = &f["Properties"];
        assert_eq!(p["Runtime"], "provided.al2023", "{id}");
        assert_eq!(p["Architectures"], json!(["arm64"]), "{id}");
        assert_eq!(p["Handler"], "bootstrap", "{id}");
        assert_eq!(p["Tracing"], "Active", "{id}");
        assert_eq!(p["MemorySize"], 128, "{id}");
        assert!(
            p["Timeout"].as_i64().is_some_and(|t| (1..=30).contains(&t)),
            "{id}"
        );
        assert_eq!(p["LoggingConfig"]["LogFormat"], "JSON", "{id}");
        assert_eq!(
            p["LoggingConfig"]["LogGroup"],
            json!({"Ref": format!("{id}LogGroup")})
        );
        assert_eq!(
            p["Role"],
            json!({"Fn::GetAtt": [format!("{id}Role"), "Arn"]})
        );
        // CodeUri is relative to the template: the workspace root, which cargo-lambda builds.
        let code = root().join("infra").join(text(&p["CodeUri"]));
        let workspace = std::fs::read_to_string(code.join("Cargo.toml")).unwrap_or_default();
        assert!(
            workspace.contains("[workspace]"),
            "{id}: CodeUri is not the workspace root"
        );
        let logs = t.properties(&format!("{id}LogGroup"));
        assert_eq!(
            logs["RetentionInDays"],
            json!({"Ref": "LogRetentionInDays"})
        );
    }
    let env = &t.properties("ChargePaymentFunction")["Environment"]["Variables"];
    assert_eq!(
        env,
        &json!({"LEDGER_TABLE_NAME": {"Ref": "ChargeLedgerTable"}})
    );
    for id in ["VerifyPaymentFunction", "CheckStockFunction"] {
        assert!(
            t.properties(id).get("Environment").is_none(),
            "{id} needs no environment"
        );
    }
}

#[test]
fn tables_are_on_demand_recoverable_encrypted_and_protected() {
    let t = Template::synth();
    for id in ["OrdersTable", "ChargeLedgerTable"] {
        let p = t.properties(id);
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST", "{id}");
        assert_eq!(
            p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            true
        );
        assert_eq!(p["SSESpecification"]["SSEEnabled"], true, "{id}");
        assert_eq!(
            p["DeletionProtectionEnabled"],
            json!({"Ref": "DeletionProtection"})
        );
        assert_eq!(
            p["KeySchema"],
            json!([{"AttributeName": "OrderId", "KeyType": "HASH"}])
        );
    }
    let parameter = &t.json["Parameters"]["DeletionProtection"];
    assert_eq!(parameter["AllowedValues"], json!(["true", "false"]));
}

#[test]
fn topic_is_encrypted() {
    let t = Template::synth();
    assert_eq!(
        t.properties("OrderNotificationsTopic")["KmsMasterKeyId"],
        "alias/aws/sns"
    );
}

#[test]
fn state_machine_settings() {
    let t = Template::synth();
    let p = t.properties("OrderProcessingStateMachine");
    assert_eq!(p["Type"], json!({"Ref": "WorkflowType"}));
    let workflow = &t.json["Parameters"]["WorkflowType"];
    assert_eq!(workflow["AllowedValues"], json!(["EXPRESS", "STANDARD"]));
    assert_eq!(workflow["Default"], "EXPRESS");
    // DefinitionUri is relative to the template, in infra/.
    let uri = text(&p["DefinitionUri"]);
    assert_eq!(uri, format!("../{}", infra::orderflow::DEFINITION_PATH));
    assert!(
        root().join("infra").join(&uri).is_file(),
        "{uri} does not exist"
    );
    assert_eq!(
        p["Logging"]["IncludeExecutionData"], false,
        "card data must not be logged"
    );
    assert!(["ALL", "ERROR"].contains(&p["Logging"]["Level"].as_str().unwrap_or("")));
    assert_eq!(
        p["Logging"]["Destinations"],
        json!([{"CloudWatchLogsLogGroup": {"LogGroupArn":
            {"Fn::GetAtt": ["OrderProcessingStateMachineLogGroup", "Arn"]}}}])
    );
    assert_eq!(p["Tracing"], json!({"Enabled": true}));
    assert_eq!(
        p["Role"],
        json!({"Fn::GetAtt": ["OrderProcessingStateMachineRole", "Arn"]})
    );
}

#[test]
fn the_entry_is_standard_and_runs_processing_to_completion() {
    let t = Template::synth();
    let p = t.properties("OrderStateMachine");
    assert_eq!(p["Type"], "STANDARD");
    let uri = text(&p["DefinitionUri"]);
    assert_eq!(
        uri,
        format!("../{}", infra::orderflow::ENTRY_DEFINITION_PATH)
    );
    assert_eq!(
        p["DefinitionSubstitutions"],
        json!({"OrderProcessingStateMachineArn": {"Ref": "OrderProcessingStateMachine"}})
    );
    assert_eq!(p["Logging"]["IncludeExecutionData"], false);
    let role = t.properties("OrderStateMachineRole");
    let statements = role["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("no statements"));
    let actions = |resource_text: &str| -> Vec<String> {
        statements
            .iter()
            .filter(|s| s["Resource"].to_string().contains(resource_text))
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        actions("{\"Ref\":\"OrderProcessingStateMachine\"}"),
        ["states:StartExecution"]
    );
    assert_eq!(
        actions(":express:${OrderProcessingStateMachine.Name}:*:*"),
        ["states:DescribeExecution", "states:StopExecution"]
    );
    assert_eq!(
        actions("rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"),
        ["events:PutTargets", "events:PutRule", "events:DescribeRule"]
    );
}

#[test]
fn substitutions_match_the_placeholders_of_the_definition() {
    let t = Template::synth();
    let substituted: BTreeSet<String> =
        t.properties("OrderProcessingStateMachine")["DefinitionSubstitutions"]
            .as_object()
            .unwrap_or_else(|| panic!("no DefinitionSubstitutions"))
            .keys()
            .cloned()
            .collect();
    // Read independently of the crate's own parser.
    let asl = read(infra::orderflow::DEFINITION_PATH);
    let used: BTreeSet<String> = asl
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect();
    assert_eq!(
        substituted, used,
        "substitutions vs placeholders of the definition"
    );
    let expected: BTreeSet<String> = [
        "VerifyPaymentFunctionArn",
        "CheckStockFunctionArn",
        "ChargePaymentFunctionArn",
        "OrdersTableName",
        "OrderNotificationsTopicArn",
    ]
    .map(String::from)
    .into();
    assert_eq!(
        used, expected,
        "the placeholders fixed by the project's contract"
    );
}

#[test]
fn state_machine_role_has_exactly_its_grants() {
    let t = Template::synth();
    let mut expected = Vec::new();
    for (id, _) in FUNCTIONS {
        expected.push(("lambda:InvokeFunction", format!("{id}.Arn")));
        expected.push(("lambda:InvokeFunction", format!("Sub ${{{id}.Arn}}:*")));
    }
    expected.push(("dynamodb:PutItem", "OrdersTable.Arn".to_owned()));
    expected.push(("sns:Publish", "Ref OrderNotificationsTopic".to_owned()));
    for action in [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    ] {
        expected.push((action, "*".to_owned()));
    }
    let expected: BTreeSet<_> = expected
        .into_iter()
        .map(|(a, r)| (a.to_owned(), r))
        .collect();
    assert_eq!(t.permissions("OrderProcessingStateMachineRole"), expected);
    let trust = &t.properties("OrderProcessingStateMachineRole")["AssumeRolePolicyDocument"];
    assert_eq!(
        trust["Statement"],
        json!([{
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
        }])
    );
}

#[test]
fn function_roles_have_exactly_what_their_code_uses() {
    let t = Template::synth();
    let logs_and_traces = |id: &str| {
        let group = format!("{id}LogGroup.Arn");
        let mut p = pairs(&[
            ("logs:CreateLogStream", group.as_str()),
            ("logs:PutLogEvents", group.as_str()),
        ]);
        p.extend(pairs(&XRAY_FUNCTION.map(|a| (a, "*"))));
        p
    };
    for id in ["VerifyPaymentFunction", "CheckStockFunction"] {
        assert_eq!(
            t.permissions(&format!("{id}Role")),
            logs_and_traces(id),
            "{id}"
        );
    }
    let mut charge = logs_and_traces("ChargePaymentFunction");
    charge.extend(pairs(&[
        ("dynamodb:GetItem", "ChargeLedgerTable.Arn"),
        ("dynamodb:PutItem", "ChargeLedgerTable.Arn"),
    ]));
    assert_eq!(t.permissions("ChargePaymentFunctionRole"), charge);
    for (id, _) in FUNCTIONS {
        let trust = &t.properties(&format!("{id}Role"))["AssumeRolePolicyDocument"];
        assert_eq!(
            trust["Statement"][0]["Principal"],
            json!({"Service": "lambda.amazonaws.com"})
        );
        assert_eq!(array(&trust["Statement"]).len(), 1);
    }
}

/// Every string under an `Action` or `Resource` key, anywhere in the template.
fn iam_values<'a>(v: &'a Value, key: Option<&str>, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => map.iter().for_each(|(k, v)| iam_values(v, Some(k), out)),
        Value::Array(items) => items.iter().for_each(|v| iam_values(v, key, out)),
        Value::String(s) => {
            if let Some(k @ ("Action" | "Resource")) = key {
                out.push((k.to_owned(), s));
            }
        }
        _ => {}
    }
}

#[test]
fn wildcards_only_where_aws_requires_them_each_with_a_comment() {
    let t = Template::synth();
    let mut values = Vec::new();
    iam_values(&t.json, None, &mut values);
    for (key, value) in &values {
        if key == "Action" {
            assert!(!value.contains('*'), "wildcard action {value}");
        } else {
            assert!(
                *value == "*" || !value.contains('*'),
                "partial wildcard resource {value}"
            );
        }
    }
    // `*` resources only on statements of X-Ray and log-delivery actions.
    for (id, resource) in t.resources() {
        if resource["Type"] != "AWS::IAM::Role" {
            continue;
        }
        for policy in array(&resource["Properties"]["Policies"]) {
            for statement in array(&policy["PolicyDocument"]["Statement"]) {
                if statement["Resource"] != "*" {
                    continue;
                }
                for action in array(&statement["Action"]).iter().map(text) {
                    let unscoped = action.starts_with("xray:")
                        || (action.starts_with("logs:")
                            && !action.ends_with("LogStream")
                            && action != "logs:PutLogEvents");
                    assert!(unscoped, "{id}: {action} on `*` can be scoped");
                }
            }
        }
    }
    // Each `*` in the YAML is followed by a comment saying why.
    let stars: Vec<&str> = t.yaml.lines().filter(|l| l.contains("\"*\"")).collect();
    assert_eq!(
        stars.len(),
        7,
        "3 function X-Ray statements, and each state machine's logs and X-Ray"
    );
    for line in stars {
        let comment = line.split_once(" # ").map(|(_, c)| c).unwrap_or("");
        assert!(
            comment.contains("AWS requires"),
            "no reason beside `*`: {line}"
        );
    }
}

#[test]
fn every_checkov_suppression_has_a_reason() {
    let t = Template::synth();
    let mut count = 0;
    for (id, resource) in t.resources() {
        if let Some(skips) = resource["Metadata"]["checkov"]["skip"].as_array() {
            for skip in skips {
                let check = text(&skip["id"]);
                assert!(check.starts_with("CKV_AWS_"), "{id}: {check}");
                assert!(
                    text(&skip["comment"]).len() > 40,
                    "{id}: {check} needs a reason"
                );
                count += 1;
            }
        }
    }
    // 3 per function, 1 for charge-payment's environment, 1 per table and log group.
    assert_eq!(count, 3 * 3 + 1 + 2 + 5);
}

#[test]
fn outputs_include_a_ready_start_execution_command() {
    let t = Template::synth();
    let outputs = &t.json["Outputs"];
    assert_eq!(
        outputs["StateMachineArn"]["Value"],
        json!({"Ref": "OrderStateMachine"})
    );
    assert_eq!(
        outputs["OrdersTableName"]["Value"],
        json!({"Ref": "OrdersTable"})
    );
    assert_eq!(
        outputs["OrderNotificationsTopicArn"]["Value"],
        json!({"Ref": "OrderNotificationsTopic"})
    );
    let command = text(&outputs["StartExecutionCommand"]["Value"]["Fn::Sub"]);
    assert_eq!(
        command,
        "aws stepfunctions start-execution --state-machine-arn ${OrderStateMachine} \
         --input file://events/order.json"
    );
    assert!(
        root().join("events/order.json").is_file(),
        "the command's input file exists"
    );
}
