//! The template: its resources, their settings, each role's exact permissions, and that the
//! committed file is what the code synthesizes.

use std::collections::BTreeSet;

use order_resources::{Definition, Function, Resource};
use serde_json::{Value, json};

use crate::assertions::{Template, array, pairs, read, root, text};

/// Each function's logical id and binary, as the resource contract declares them.
fn functions() -> impl Iterator<Item = (&'static str, &'static str)> {
    Function::ALL
        .into_iter()
        .map(|f| (Resource::Function(f).logical_id(), f.name()))
}

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
    t.resource_count_is("AWS::StepFunctions::StateMachine", 2);
    t.resource_count_is("AWS::DynamoDB::Table", 2);
    t.resource_count_is("AWS::SNS::Topic", 2);
    t.resource_count_is("AWS::IAM::Role", 5);
    t.resource_count_is("AWS::IAM::RolePolicy", 5);
    t.resource_count_is("AWS::Logs::LogGroup", 5);
    t.resource_count_is("AWS::KMS::Key", 2);
    t.resource_count_is("AWS::KMS::Alias", 2);
    t.resource_count_is("AWS::SQS::Queue", 1);
    t.resource_count_is("AWS::SQS::QueuePolicy", 1);
    t.resource_count_is("AWS::Events::Rule", 1);
    t.resource_count_is("AWS::CloudWatch::Alarm", 13);
    assert_eq!(t.resources().count(), 44, "no other resources");
}

#[test]
fn functions_are_cargo_lambda_builds_of_the_workspace_binaries() {
    let t = Template::synth();
    for (id, binary) in functions() {
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
        // Created once its role may write its logs.
        assert_eq!(f["DependsOn"], json!([format!("{id}RolePolicy")]), "{id}");
    }
    let env = &t.properties("ChargePaymentFunction")["Environment"]["Variables"];
    assert_eq!(
        env,
        // The names charge-payment reads (orders-aws declares them).
        &json!({
            orders_aws::LEDGER_TABLE_VARIABLE: {"Ref": "ChargeLedgerTable"},
            orders_aws::LEDGER_RETENTION_VARIABLE: infra::orderflow::LEDGER_RETENTION_DAYS.to_string(),
        })
    );
    for id in ["VerifyPaymentFunction", "CheckStockFunction"] {
        assert!(
            t.properties(id).get("Environment").is_none(),
            "{id} needs no environment"
        );
    }
}

#[test]
fn tables_are_on_demand_recoverable_encrypted_protected_and_kept() {
    let t = Template::synth();
    for id in ["OrdersTable", "ChargeLedgerTable"] {
        let r = t.resource(id);
        assert_eq!(r["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(r["UpdateReplacePolicy"], "Retain", "{id}");
        let p = &r["Properties"];
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST", "{id}");
        assert_eq!(
            p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            true
        );
        assert_eq!(
            p["SSESpecification"],
            json!({"SSEEnabled": true, "SSEType": "KMS",
                   "KMSMasterKeyId": {"Fn::GetAtt": ["OrderDataKey", "Arn"]}}),
            "{id}"
        );
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
    // Only the ledger expires, and only after an order can no longer come back.
    assert!(
        t.properties("OrdersTable")
            .get("TimeToLiveSpecification")
            .is_none()
    );
    assert_eq!(
        t.properties("ChargeLedgerTable")["TimeToLiveSpecification"],
        json!({"AttributeName": orders_aws::EXPIRES_AT, "Enabled": true})
    );
    // What charge-payment is told to keep its entries for outlasts both ways an order comes
    // back: a redrive (Step Functions allows one for 14 days) and a resubmission.
    use infra::orderflow::{REDRIVE_WINDOW_DAYS, RESUBMISSION_WINDOW_DAYS};
    let env = &t.properties("ChargePaymentFunction")["Environment"]["Variables"];
    let retention: u32 = text(&env[orders_aws::LEDGER_RETENTION_VARIABLE])
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        REDRIVE_WINDOW_DAYS, 14,
        "Step Functions redrives for 14 days"
    );
    assert!(
        retention > REDRIVE_WINDOW_DAYS + RESUBMISSION_WINDOW_DAYS,
        "{retention}"
    );
}

#[test]
fn topics_are_encrypted_with_their_keys() {
    let t = Template::synth();
    for (id, key) in [
        ("OrderNotificationsTopic", "OrderDataKey"),
        ("AlarmTopic", "OperationsKey"),
    ] {
        assert_eq!(
            t.properties(id)["KmsMasterKeyId"],
            json!({"Fn::GetAtt": [key, "Arn"]}),
            "{id}"
        );
    }
}

/// Every state machine, topic, table, queue and log group is encrypted with a
/// customer-managed key of the stack.
#[test]
fn everything_that_holds_data_is_encrypted_with_a_customer_managed_key() {
    let t = Template::synth();
    let keys = t.ids_of("AWS::KMS::Key");
    let key_of = |value: &Value| -> String {
        let id = value["Fn::GetAtt"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(value["Fn::GetAtt"][1], "Arn", "{value}");
        id
    };
    let mut checked = 0;
    for (id, resource) in t.resources() {
        let p = &resource["Properties"];
        let key = match resource["Type"].as_str().unwrap_or_default() {
            "AWS::StepFunctions::StateMachine" => {
                assert_eq!(
                    p["EncryptionConfiguration"]["Type"],
                    "CUSTOMER_MANAGED_KMS_KEY"
                );
                key_of(&p["EncryptionConfiguration"]["KmsKeyId"])
            }
            "AWS::SNS::Topic" | "AWS::SQS::Queue" => key_of(&p["KmsMasterKeyId"]),
            "AWS::DynamoDB::Table" => key_of(&p["SSESpecification"]["KMSMasterKeyId"]),
            "AWS::Logs::LogGroup" => key_of(&p["KmsKeyId"]),
            _ => continue,
        };
        assert!(keys.contains(&key.as_str()), "{id} is encrypted with {key}");
        checked += 1;
    }
    assert_eq!(checked, 2 + 2 + 1 + 2 + 5);
    for key in keys {
        let r = t.resource(key);
        assert_eq!(r["Properties"]["EnableKeyRotation"], true, "{key}");
        // The data they protect is kept, so are they.
        assert_eq!(r["DeletionPolicy"], "Retain", "{key}");
    }
}

/// Who may decrypt what a key protects: the card number of an untokenized order lives in
/// the state machines' execution data, which only their two roles use directly; the account's
/// other principals use the keys only through the services that hold the data, and the
/// account itself administers them without using them.
#[test]
fn key_policies_let_only_the_roles_that_need_it_decrypt() {
    let t = Template::synth();
    let roles = t.ids_of("AWS::IAM::Role");
    let crypto = [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:ReEncryptFrom",
        "kms:CreateGrant",
    ];
    let mut execution_data_readers = BTreeSet::new();
    for key in ["OrderDataKey", "OperationsKey"] {
        for statement in t.key_statements(key) {
            let sid = text(&statement["Sid"]);
            let actions: Vec<String> = array(&statement["Action"]).iter().map(text).collect();
            let principal = &statement["Principal"];
            let condition = &statement["Condition"];
            if let Some(role) = principal["AWS"]["Fn::GetAtt"][0].as_str() {
                assert!(roles.contains(&role), "{key} {sid}: {role}");
                assert!(
                    condition.is_object(),
                    "{key} {sid}: a role only under a condition"
                );
                let context =
                    condition["StringEquals"]["kms:EncryptionContext:aws:states:stateMachineArn"]
                        .is_object();
                if context && actions.iter().any(|a| a == "kms:Decrypt") {
                    execution_data_readers.insert(role.to_owned());
                }
            } else if principal["AWS"].is_object() {
                let account = principal["AWS"]["Fn::Sub"].as_str().unwrap_or_default();
                assert!(account.ends_with(":root"), "{key} {sid}: {principal}");
                if sid == "KeyAdministrationWithoutUse" {
                    assert!(condition.is_null());
                    assert!(
                        !actions.iter().any(|a| crypto.contains(&a.as_str())),
                        "{key}: the account administers the key without using it"
                    );
                } else {
                    // Through a service only, from this account.
                    assert!(
                        condition["StringEquals"]["kms:ViaService"].is_array()
                            && condition["StringEquals"]["kms:CallerAccount"]
                                == json!({"Ref": "AWS::AccountId"}),
                        "{key} {sid}: {condition}"
                    );
                }
            } else {
                assert!(principal["Service"].is_string() || principal["Service"].is_object());
                // Delivery of the state machines' logs aside, a service uses a key only for
                // what the stack names.
                if sid != "LogDeliveryOfStateMachines" {
                    assert!(condition.is_object(), "{key} {sid}");
                }
            }
            for action in &actions {
                assert!(!action.contains('*'), "{key} {sid}: {action}");
            }
        }
    }
    assert_eq!(
        execution_data_readers,
        ["OrderProcessingStateMachineRole", "OrderStateMachineRole"]
            .map(String::from)
            .into()
    );
}

#[test]
fn state_machine_settings() {
    let t = Template::synth();
    let p = t.properties("OrderProcessingStateMachine");
    assert_eq!(p["StateMachineType"], json!({"Ref": "WorkflowType"}));
    assert_eq!(
        p["StateMachineName"],
        json!({"Fn::Sub": "${AWS::StackName}-order-processing"})
    );
    let workflow = &t.json["Parameters"]["WorkflowType"];
    assert_eq!(workflow["AllowedValues"], json!(["EXPRESS", "STANDARD"]));
    assert_eq!(workflow["Default"], "EXPRESS");
    // The definition's path is relative to the template, in infra/; SAM uploads it.
    let uri = text(&p["DefinitionS3Location"]);
    assert_eq!(uri, format!("../{}", infra::orderflow::DEFINITION_PATH));
    assert!(
        root().join("infra").join(&uri).is_file(),
        "{uri} does not exist"
    );
    assert_eq!(
        p["LoggingConfiguration"]["Destinations"],
        json!([{"CloudWatchLogsLogGroup": {"LogGroupArn":
            {"Fn::GetAtt": ["OrderProcessingStateMachineLogGroup", "Arn"]}}}])
    );
    assert_eq!(p["TracingConfiguration"], json!({"Enabled": true}));
    assert_eq!(
        p["RoleArn"],
        json!({"Fn::GetAtt": ["OrderProcessingStateMachineRole", "Arn"]})
    );
    assert_eq!(
        t.resource("OrderProcessingStateMachine")["DependsOn"],
        json!(["OrderProcessingStateMachineRolePolicy"])
    );
}

/// Neither state machine logs execution data; processing, an Express workflow whose logs are
/// its only history, logs its failures, and so does the Standard entry, whose history Step
/// Functions keeps anyway.
#[test]
fn no_state_machine_logs_execution_data() {
    let t = Template::synth();
    for id in t.ids_of("AWS::StepFunctions::StateMachine") {
        let logging = &t.properties(id)["LoggingConfiguration"];
        assert_eq!(logging["IncludeExecutionData"], false, "{id}");
        assert_eq!(logging["Level"], "ERROR", "{id}");
    }
    for id in t.ids_of("AWS::Logs::LogGroup") {
        let r = t.resource(id);
        assert_eq!(r["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(r["UpdateReplacePolicy"], "Retain", "{id}");
    }
}

#[test]
fn the_entry_is_standard_and_runs_processing_to_completion() {
    let t = Template::synth();
    let p = t.properties("OrderStateMachine");
    assert_eq!(p["StateMachineType"], "STANDARD");
    let uri = text(&p["DefinitionS3Location"]);
    assert_eq!(
        uri,
        format!("../{}", infra::orderflow::ENTRY_DEFINITION_PATH)
    );
    assert_eq!(
        p["DefinitionSubstitutions"],
        json!({
            "OrderProcessingStateMachineArn": {"Ref": "OrderProcessingStateMachine"},
            "OrdersTableName": {"Ref": "OrdersTable"},
            "OrderNotificationsTopicArn": {"Ref": "OrderNotificationsTopic"},
        })
    );
    let mut expected = pairs(&[
        ("states:StartExecution", "Ref OrderProcessingStateMachine"),
        (
            "states:DescribeExecution",
            "Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-order-processing:*",
        ),
        (
            "states:StopExecution",
            "Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-order-processing:*",
        ),
        (
            "states:DescribeExecution",
            "Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:express:${AWS::StackName}-order-processing:*:*",
        ),
        (
            "states:StopExecution",
            "Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:express:${AWS::StackName}-order-processing:*:*",
        ),
        ("dynamodb:PutItem", "OrdersTable.Arn"),
        ("sns:Publish", "Ref OrderNotificationsTopic"),
    ]);
    for action in ["events:PutTargets", "events:PutRule", "events:DescribeRule"] {
        expected.insert((
            action.to_owned(),
            "Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule".to_owned(),
        ));
    }
    expected.extend(pairs(&STATE_MACHINE_UNSCOPED.map(|a| (a, "*"))));
    assert_eq!(t.permissions("OrderStateMachineRole"), expected);
}

/// The entry's executions that do not succeed reach an encrypted queue through an
/// EventBridge rule, which alone may send to it, as messages that carry no execution data.
#[test]
fn unfinished_entry_executions_are_queued_for_redrive() {
    let t = Template::synth();
    let rule = t.properties("UnfinishedOrdersQueueRule");
    assert_eq!(
        rule["EventPattern"],
        json!({
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {
                "stateMachineArn": [{"Ref": "OrderStateMachine"}],
                "status": ["FAILED", "TIMED_OUT", "ABORTED"],
            },
        })
    );
    let target = &rule["Targets"][0];
    assert_eq!(
        target["Arn"],
        json!({"Fn::GetAtt": ["UnfinishedOrdersQueue", "Arn"]})
    );
    let template = text(&target["InputTransformer"]["InputTemplate"]);
    assert!(
        !template.contains("input") && !template.contains("output"),
        "{template}"
    );
    let queue = t.properties("UnfinishedOrdersQueue");
    assert_eq!(queue["MessageRetentionPeriod"], 14 * 24 * 3600);
    let policy = t.properties("UnfinishedOrdersQueuePolicy");
    assert_eq!(
        policy["PolicyDocument"]["Statement"][0]["Condition"],
        json!({"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["UnfinishedOrdersQueueRule", "Arn"]}}})
    );
}

/// The alarms: failed and timed-out executions of both state machines, the functions' errors
/// and throttles, the tables' throttles, failed deliveries of notifications; each notifies the
/// alarm topic.
#[test]
fn alarms_watch_executions_functions_tables_and_deliveries() {
    let t = Template::synth();
    let mut watched = BTreeSet::new();
    for id in t.ids_of("AWS::CloudWatch::Alarm") {
        let p = t.properties(id);
        assert_eq!(p["AlarmActions"], json!([{"Ref": "AlarmTopic"}]), "{id}");
        assert_eq!(p["TreatMissingData"], "notBreaching", "{id}");
        for metric in array(&p["Metrics"]) {
            let stat = &metric["MetricStat"]["Metric"];
            if stat.is_object() {
                let dimension = &stat["Dimensions"][0]["Value"];
                watched.insert(format!(
                    "{} {} {}",
                    text(&stat["Namespace"]),
                    text(&stat["MetricName"]),
                    dimension["Ref"]
                        .as_str()
                        .or_else(|| dimension["Fn::GetAtt"][0].as_str())
                        .unwrap_or_default()
                ));
            }
        }
    }
    let mut expected = BTreeSet::new();
    for machine in ["OrderStateMachine", "OrderProcessingStateMachine"] {
        for metric in [
            "ExecutionsFailed",
            "ExecutionsStarted",
            "ExecutionsTimedOut",
        ] {
            expected.insert(format!("AWS/States {metric} {machine}"));
        }
    }
    for (function, _) in functions() {
        for metric in ["Errors", "Invocations", "Throttles"] {
            expected.insert(format!("AWS/Lambda {metric} {function}"));
        }
    }
    for table in ["OrdersTable", "ChargeLedgerTable"] {
        for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] {
            expected.insert(format!("AWS/DynamoDB {metric} {table}"));
        }
    }
    expected.insert("AWS/SNS NumberOfNotificationsFailed OrderNotificationsTopic".to_owned());
    assert_eq!(watched, expected);
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
    let expected: BTreeSet<String> = Definition::OrderProcessing
        .resources()
        .iter()
        .map(|r| r.placeholder().to_owned())
        .collect();
    assert_eq!(
        used, expected,
        "the placeholders fixed by the project's contract"
    );
}

const STATE_MACHINE_UNSCOPED: [&str; 12] = [
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
];

#[test]
fn state_machine_role_has_exactly_its_grants() {
    let t = Template::synth();
    let mut expected = Vec::new();
    for (id, _) in functions() {
        expected.push(("lambda:InvokeFunction", format!("{id}.Arn")));
        expected.push(("lambda:InvokeFunction", format!("Sub ${{{id}.Arn}}:*")));
    }
    for action in [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ] {
        expected.push((action, "OrdersTable.Arn".to_owned()));
    }
    expected.push(("sns:Publish", "Ref OrderNotificationsTopic".to_owned()));
    for action in STATE_MACHINE_UNSCOPED {
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
    for (id, _) in functions() {
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
        if resource["Type"] != "AWS::IAM::RolePolicy" {
            continue;
        }
        for statement in array(&resource["Properties"]["PolicyDocument"]["Statement"]) {
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
    // Each `*` in the YAML is followed by a comment saying why: AWS requires it in an IAM
    // policy, and in a key policy it means the key itself.
    let stars: Vec<&str> = t.yaml.lines().filter(|l| l.contains("\"*\"")).collect();
    let key_statements: usize = t
        .ids_of("AWS::KMS::Key")
        .iter()
        .map(|key| t.key_statements(key).len())
        .sum();
    let iam = stars.iter().filter(|l| l.contains("AWS requires")).count();
    assert_eq!(
        iam, 7,
        "3 function X-Ray statements, and each state machine's logs and X-Ray"
    );
    let keys = stars.iter().filter(|l| l.contains("this key")).count();
    assert_eq!(keys, key_statements);
    assert_eq!(stars.len(), iam + keys, "no `*` without its reason");
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
    // 3 per function, 1 for charge-payment's environment.
    assert_eq!(count, 3 * 3 + 1);
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
    assert_eq!(
        outputs["AlarmTopicArn"]["Value"],
        json!({"Ref": "AlarmTopic"})
    );
    assert_eq!(
        outputs["UnfinishedOrdersQueueUrl"]["Value"],
        json!({"Ref": "UnfinishedOrdersQueue"})
    );
}
