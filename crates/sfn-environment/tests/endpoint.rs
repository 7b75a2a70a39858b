//! The same definitions through the embedded store and through the SDK-backed integrations
//! (`--aws-endpoint`) against `moto_server`: the DynamoDB and SNS cases of the integrations
//! category give the same status, error, cause, output and event types both ways, once the
//! values that differ by server (request ids, message ids, HTTP metadata) are set aside.

use std::time::Duration;

use aws_emulator::KeyType;
use serde_json::Value;
use sfn_aws::AwsClients;
use sfn_aws::testing::Moto;
use sfn_environment::{Bindings, Case, Observed};
use sfn_local::{ExecuteOptions, Handlers, StateMachine};

use crate::integrations::load;

/// The account moto owns its resources in.
const MOTO_ACCOUNT: &str = "123456789012";

/// Cases moto (5.2.5, as scripts/requirements.txt pins it) does not answer as AWS does, each
/// with what it does instead; the embedded answers are the AWS-recorded ones
/// (tests/integrations.rs). The test fails if one of these stops differing.
const MOTO_DIFFERS: &[(&str, &str)] = &[
    (
        "dynamodb_task_service__base_integrations__DYNAMODB_PUT_UPDATE_GET_ITEM",
        "moto adds ConsumedCapacity to UpdateItem's answer unasked and orders GetItem's \
         attributes its own way",
    ),
    (
        "sns_task_service__fifo_message_attribute__input_params0-True",
        "moto refuses a FIFO publish without MessageGroupId with MissingParameter; AWS says \
         InvalidParameter",
    ),
    (
        "sns_task_service__fifo_message_attribute__input_params1-False",
        "moto's FIFO publish answers no SequenceNumber",
    ),
    (
        "task_service_dynamodb__invalid_param",
        "moto words the null-Item validation error its own way",
    ),
    (
        "task_service_dynamodb__put_item_invalid_table_name",
        "moto does not check the table name's pattern and answers ResourceNotFoundException",
    ),
];

/// What is compared of a run: everything but the values a server makes up.
fn comparable(observed: &Observed) -> Value {
    let mut output = observed.output.clone().unwrap_or(Value::Null);
    set_aside(&mut output, 0);
    serde_json::json!({
        "status": observed.status,
        "error": observed.error,
        "cause": observed.cause.as_deref().map(without_request_id),
        "output": output,
        "events": observed.events,
    })
}

/// Drops HTTP metadata and replaces ids made up per call.
fn set_aside(value: &mut Value, depth: usize) {
    if depth > 64 {
        return;
    }
    match value {
        Value::Object(members) => {
            members.shift_remove("SdkHttpMetadata");
            members.shift_remove("SdkResponseMetadata");
            for (key, inner) in members.iter_mut() {
                if matches!(key.as_str(), "MessageId" | "SequenceNumber") {
                    *inner = Value::String("<id>".into());
                } else {
                    set_aside(inner, depth + 1);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| set_aside(v, depth + 1)),
        _ => {}
    }
}

/// A cause with its `Request ID: …;` blanked.
fn without_request_id(cause: &str) -> String {
    const KEY: &str = "Request ID: ";
    match cause.find(KEY) {
        Some(at) => {
            let rest = &cause[at + KEY.len()..];
            let end = rest.find(';').unwrap_or(rest.len());
            format!("{}{KEY}<id>{}", &cause[..at], &rest[end..])
        }
        None => cause.to_owned(),
    }
}

async fn embedded(case: &Case) -> Observed {
    let local = case.local().expect("the environment");
    let options = ExecuteOptions::new()
        .name("TestExecution")
        .wall_clock_limit(Duration::from_secs(30));
    let execution = local
        .execute(&case.definition, case.input.clone(), options)
        .await
        .expect("the definition runs");
    Observed::of(&execution)
}

/// Creates what the case's environment declares on the endpoint, runs the definition with
/// the SDK-backed handlers, and deletes what it created.
async fn through_endpoint(case: &Case, aws: &AwsClients) -> Observed {
    for (name, table) in &case.environment.tables {
        let key = &table.key;
        assert!(
            key.sort_key.is_none() && key.partition_key.key_type == KeyType::S,
            "{}: table {name} is not keyed by one string attribute",
            case.name
        );
        aws.ensure_table(name, &key.partition_key.name)
            .await
            .expect("the table");
    }
    for (name, topic) in &case.environment.topics {
        let name = case.bindings().topic_name(name);
        if topic.fifo {
            aws.sns()
                .create_topic()
                .name(name)
                .attributes("FifoTopic", "true")
                .send()
                .await
                .expect("the FIFO topic");
        } else {
            aws.ensure_topic(&name).await.expect("the topic");
        }
    }
    let mut handlers = Handlers::new();
    aws.register_services(&mut handlers).expect("handlers");
    let machine = StateMachine::from_value(&case.definition).expect("the definition loads");
    let options = ExecuteOptions::new()
        .name("TestExecution")
        .handlers(handlers)
        .wall_clock_limit(Duration::from_secs(30));
    let execution = machine.execute(case.input.clone(), &options).await;
    for name in case.environment.tables.keys() {
        aws.dynamodb()
            .delete_table()
            .table_name(name)
            .send()
            .await
            .expect("the table deleted");
    }
    Observed::of(&execution)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_and_sns_cases_answer_alike_embedded_and_against_moto() {
    let Some(files) = load() else {
        return;
    };
    let Some(moto) = Moto::shared() else {
        return;
    };
    let aws = AwsClients::builder()
        .endpoint_url(moto.url())
        .region("us-east-1")
        .connect_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(20))
        .build()
        .await
        .expect("clients for moto");
    let mut compared = 0;
    let mut alike = 0;
    let mut moto_differs = 0;
    let mut differences = Vec::new();
    let mut alike_though_listed = Vec::new();
    for (path, value) in &files {
        let services: Vec<&str> = value["services"]
            .as_array()
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if services.is_empty() || !services.iter().all(|s| matches!(*s, "dynamodb" | "sns")) {
            continue;
        }
        let environment = value.get("environment").unwrap_or(&Value::Null);
        let bindings = Bindings::canonical(environment).with_account(MOTO_ACCOUNT);
        let case = Case::with_bindings(value, bindings).unwrap_or_else(|e| panic!("{path}: {e}"));
        let run = async { (embedded(&case).await, through_endpoint(&case, &aws).await) };
        let (local, remote) = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .unwrap_or_else(|_| panic!("{}: no answer within a minute", case.name));
        compared += 1;
        let (local, remote) = (comparable(&local), comparable(&remote));
        let known = MOTO_DIFFERS.iter().any(|(name, _)| *name == case.name);
        match (local == remote, known) {
            (false, false) => differences.push(format!(
                "{}:\n  embedded {local}\n  moto     {remote}",
                case.name
            )),
            (true, true) => alike_though_listed.push(case.name.clone()),
            (false, true) => moto_differs += 1,
            (true, false) => alike += 1,
        }
    }
    eprintln!(
        "embedded vs --aws-endpoint (moto): {compared} DynamoDB/SNS cases, {alike} alike, \
         {moto_differs} where moto is not AWS, {} differ",
        differences.len()
    );
    assert!(compared >= 19, "only {compared} DynamoDB/SNS cases found");
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(
        alike_though_listed.is_empty(),
        "listed in MOTO_DIFFERS but alike now (take them off): {alike_though_listed:?}"
    );
}
