//! `orderflow run`: one order through the order workflow, shown as the console shows an
//! execution, then its outcome, its order record and its notification.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use aws_emulator::{Store, StoredMessage};
use order_workflow::integrations::inject::Injection;
use order_workflow::seed::fnv1a;
use order_workflow::{
    DEFINITION, ENTRY_DEFINITION, LocalOptions, Run, TABLE_KEY, TABLE_NAME, Time, Workflow,
};
use serde_json::{Value, json};
use sfn_aws::AwsClients;
use sfn_local::{EventDetails, HistoryEvent, Status};
use sfn_view::table;

use super::{BadInput, message_json, read_event};

/// The sample order `orderflow run` processes when given no file (`events/order.json`),
/// built in so the command works from any directory.
const SAMPLE_EVENT: &str = include_str!("../../../../events/order.json");

#[derive(clap::Args)]
pub struct RunArgs {
    /// The order to process: a JSON file as the state machine's input (default: the sample
    /// order, events/order.json, built in).
    #[arg(value_name = "EVENT_FILE")]
    event: Option<PathBuf>,
    /// Print one JSON object (status, error, cause, orderId, orderState, executionId, …).
    #[arg(long)]
    json: bool,
    /// Show each state's input and output under it.
    #[arg(long)]
    io: bool,
    /// The execution name (default: a new UUID); a name already used is refused.
    #[arg(long)]
    name: Option<String>,
    /// Another copy of the state machine definition (default: the built-in
    /// statemachine/order-processing.asl.json).
    #[arg(long, value_name = "FILE")]
    definition: Option<PathBuf>,
    /// Start the Standard entry (statemachine/order.asl.json) as the template deploys it:
    /// order processing then runs as its nested Express execution, and both are shown.
    #[arg(long)]
    entry: bool,
    /// Virtual time: retry back-offs and waits cost nothing. Only with everything in process:
    /// a virtual clock runs ahead while a real endpoint answers, so task timeouts would fire.
    #[arg(long, conflicts_with_all = ["aws_endpoint", "aws", "lambda_endpoint"])]
    virtual_time: bool,
    /// Seed for intrinsic functions and retry jitter (default: from the execution name).
    #[arg(long)]
    seed: Option<u64>,
    /// Send DynamoDB and SNS tasks to this endpoint (e.g. a moto_server) through the AWS SDK
    /// instead of the embedded store.
    #[arg(long, value_name = "URL")]
    aws_endpoint: Option<String>,
    /// Send DynamoDB and SNS tasks to the AWS account of the environment (credentials,
    /// region) instead of the embedded store.
    #[arg(long, conflicts_with = "aws_endpoint")]
    aws: bool,
    /// Invoke the functions through the Lambda Invoke API at this endpoint (e.g. `cargo
    /// lambda watch`) instead of in process.
    #[arg(long, value_name = "URL")]
    lambda_endpoint: Option<String>,
    /// Refuse the charge ledger's first N calls as a throttled DynamoDB table does
    /// (charge-payment then fails with ServiceUnavailable, which the definition retries).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        conflicts_with = "lambda_endpoint"
    )]
    throttle_ledger: u32,
    /// Fail a state's attempts with ERROR before its task runs: all of them, or the first
    /// TIMES (e.g. `--inject "Notify=SNS.InternalErrorException*7"`). Repeatable.
    #[arg(
        long,
        value_name = "STATE=ERROR[*TIMES]",
        conflicts_with = "lambda_endpoint"
    )]
    inject: Vec<Injection>,
}

/// Runs the order and prints what happened; exits 1 when the execution did not succeed.
pub fn run(args: RunArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let input = match &args.event {
        Some(path) => read_event(path)?,
        None => serde_json::from_str(SAMPLE_EVENT).context("the built-in sample order")?,
    };
    let definition = match &args.definition {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            BadInput(format!(
                "cannot read the definition {}: {e}",
                path.display()
            ))
        })?,
        None => DEFINITION.to_owned(),
    };
    let store =
        Store::open(store).with_context(|| format!("opening the store {}", store.display()))?;
    let time = if args.virtual_time {
        Time::Virtual
    } else {
        Time::Real
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let seed = args.seed.unwrap_or_else(|| fnv1a(&name));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (run, record, notifications) = runtime.block_on(async {
        let services = match (&args.aws_endpoint, args.aws) {
            (Some(url), _) => Some(clients(Some(url)).await?),
            (None, true) => Some(clients(None).await?),
            (None, false) => None,
        };
        let lambda = match &args.lambda_endpoint {
            Some(url) => Some(clients(Some(url)).await?),
            None => None,
        };
        let options = LocalOptions {
            ledger_throttles: args.throttle_ledger,
            injections: args.inject.clone(),
            ..LocalOptions::default()
        };
        let mut builder = Workflow::builder(store)
            .definition(&definition)
            .time(time)
            .options(options);
        if let Some(lambda) = &lambda {
            builder = builder.lambda_endpoint(lambda);
        }
        if let Some(services) = &services {
            builder = builder.service_endpoint(services);
        }
        if args.entry {
            builder = builder.entry(ENTRY_DEFINITION);
        }
        let flow = builder.build().await?;
        let run = flow.run(input, &name, seed).await?;
        let (record, notifications) = match &services {
            None => (
                order_record(flow.store(), run.order_id.as_deref())?,
                notifications_of(flow.store(), run.order_id.as_deref())?
                    .iter()
                    .map(message_json)
                    .collect(),
            ),
            Some(aws) => (
                remote_record(aws, run.order_id.as_deref()).await?,
                published(&run.history),
            ),
        };
        anyhow::Ok((run, record, notifications))
    })?;
    if args.json {
        println!("{}", summary(&run, record.as_ref(), &notifications));
    } else {
        print_run(&run, record.as_ref(), &notifications, args.io);
    }
    Ok(if run.execution.status == Status::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub(crate) async fn clients(endpoint: Option<&str>) -> anyhow::Result<AwsClients> {
    let builder = AwsClients::builder().set_endpoint_url(endpoint.map(str::to_owned));
    builder
        .build()
        .await
        .with_context(|| format!("cannot reach {}", endpoint.unwrap_or("AWS")))
}

/// The order's record, read back from DynamoDB at the endpoint.
async fn remote_record(aws: &AwsClients, order_id: Option<&str>) -> anyhow::Result<Option<Value>> {
    let Some(order_id) = order_id else {
        return Ok(None);
    };
    let items = aws.scan_table(TABLE_NAME).await?;
    let item = items
        .into_iter()
        .find(|item| item[TABLE_KEY]["S"] == order_id);
    Ok(match item {
        Some(item) => Some(aws_emulator::unmarshal(&item)?),
        None => None,
    })
}

/// SNS cannot be read back: what the run published, as the history's publish results say.
fn published(history: &[HistoryEvent]) -> Vec<Value> {
    history
        .iter()
        .filter_map(|event| match &event.details {
            EventDetails::TaskSucceeded {
                resource_type,
                output,
                ..
            } if resource_type == "sns" => Some(json!({"messageId": output["MessageId"]})),
            _ => None,
        })
        .collect()
}

/// The order's record, as plain JSON.
pub fn order_record(store: &Store, order_id: Option<&str>) -> anyhow::Result<Option<Value>> {
    let Some(order_id) = order_id else {
        return Ok(None);
    };
    let got =
        store.get_item(&json!({"TableName": TABLE_NAME, "Key": {TABLE_KEY: {"S": order_id}}}))?;
    Ok(match got.get("Item") {
        Some(item) => Some(aws_emulator::unmarshal(item)?),
        None => None,
    })
}

/// The notifications published about the order.
pub fn notifications_of(
    store: &Store,
    order_id: Option<&str>,
) -> anyhow::Result<Vec<StoredMessage>> {
    let Some(order_id) = order_id else {
        return Ok(Vec::new());
    };
    Ok(store
        .messages()?
        .into_iter()
        .filter(|m| {
            serde_json::from_str::<Value>(&m.message).is_ok_and(|body| body["orderId"] == order_id)
        })
        .collect())
}

fn summary(run: &Run, record: Option<&Value>, notifications: &[Value]) -> Value {
    let execution = &run.execution;
    json!({
        "status": execution.status.as_str(),
        "error": execution.error,
        "cause": execution.cause,
        "output": execution.output,
        "orderId": run.order_id,
        "orderState": run.order_state,
        "executionId": run.execution_arn,
        "executionName": run.name,
        "nestedExecutionIds": run.nested.iter().map(|n| n.execution_arn.as_str()).collect::<Vec<_>>(),
        "record": record,
        "notifications": notifications,
    })
}

fn print_run(run: &Run, record: Option<&Value>, notifications: &[Value], io: bool) {
    let execution = &run.execution;
    println!("execution    {}", run.execution_arn);
    println!();
    let rows = table::rows(&run.history, None);
    println!("{}", table::table(&rows, io));
    println!();
    for nested in &run.nested {
        println!("nested       {}", nested.execution_arn);
        println!();
        let rows = table::rows(&nested.history, None);
        println!("{}", table::table(&rows, io));
        println!();
    }
    println!(
        "status       {} in {} ms",
        execution.status.as_str(),
        execution.stop_millis - execution.start_millis
    );
    if execution.status != Status::Succeeded {
        println!(
            "error        {}",
            execution.error.as_deref().unwrap_or("(none)")
        );
        println!(
            "cause        {}",
            execution.cause.as_deref().unwrap_or("(none)")
        );
    }
    match (&run.order_id, &run.order_state) {
        (Some(id), Some(state)) => println!("order        {id} ({state})"),
        _ => println!("order        (not recorded)"),
    }
    match record {
        Some(record) => println!("record       {}", pretty(record)),
        None => println!("record       (none)"),
    }
    if notifications.is_empty() {
        println!("notification (none)");
    }
    for message in notifications {
        println!("notification {}", pretty(message));
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_default()
        .replace('\n', "\n             ")
}
