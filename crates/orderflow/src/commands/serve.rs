//! `orderflow serve`: the Step Functions API on loopback (`sfn-server`), with the order
//! workflow's state machines created as deployed and its Task states answered as by
//! `orderflow run`: the functions in process, DynamoDB and SNS in the store (or at an
//! endpoint), the processing machine nested under the entry.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use order_workflow::integrations::faults::FaultPlan;
use order_workflow::redact::redact;
use order_workflow::workflow::LocalOptions;
use order_workflow::{ENTRY_DEFINITION, Time, Workflow};
use serde_json::{Value, json};
use sfn_server::{Server, Service};

use sfn_testing::MockConfig;

use super::run::clients;
use super::{BadInput, open_store};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The loopback address to listen on (port 0: a free one, printed).
    #[arg(long, default_value = "127.0.0.1:8083", value_name = "ADDR")]
    addr: SocketAddr,
    /// Also create a Standard state machine for each `*.json` definition in DIR, named after
    /// the file (`order.asl.json` → `order`).
    #[arg(long, value_name = "DIR")]
    definitions: Option<PathBuf>,
    /// Virtual time: waits and retry intervals take none (for tests).
    #[arg(long)]
    virtual_time: bool,
    /// Send DynamoDB and SNS tasks to this endpoint through the AWS SDK instead of the
    /// embedded store.
    #[arg(long, value_name = "URL")]
    aws_endpoint: Option<String>,
    /// Send the order workflow's Lambda invocations to this Lambda Invoke endpoint (e.g.
    /// `cargo lambda watch`) instead of the functions in process.
    #[arg(long, value_name = "URL")]
    lambda_endpoint: Option<String>,
    /// A mock configuration (Step Functions Local's format): a `stateMachineArn` ending
    /// `#TestCase` in StartExecution or StartSyncExecution runs that test case of the state
    /// machine of that name, its mocked states answered from the file.
    #[arg(long, value_name = "FILE")]
    mock_config: Option<PathBuf>,
    /// Share of the order workflow's task attempts refused as throttled (0–1), for trying
    /// clients and crash recovery under retries.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    fault_rate: f64,
    /// Share of attempts of the workflow's states with TimeoutSeconds that time out (0–1).
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    timeout_rate: f64,
    /// Seeds the injected faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The role the local state machines are created with.
fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/orderflow-local")
}

/// Creates a state machine, or updates it when one of that name holds another definition
/// (the project's definitions changed since the store was made).
async fn register(
    service: &Arc<Service>,
    name: &str,
    kind: &str,
    definition: &str,
) -> anyhow::Result<()> {
    let role = role_arn(service.store().account_id());
    let created = service
        .call(
            "CreateStateMachine",
            &json!({"name": name, "definition": definition, "roleArn": role, "type": kind}),
        )
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.code == "StateMachineAlreadyExists" => {
            let arn = service.state_machine_arn(name);
            service
                .call(
                    "UpdateStateMachine",
                    &json!({"stateMachineArn": arn, "definition": definition, "roleArn": role}),
                )
                .await
                .map(drop)
                .with_context(|| format!("updating the state machine {name}"))
        }
        Err(e) => Err(e).with_context(|| format!("creating the state machine {name}")),
    }
}

/// The definitions a `--definitions` directory holds: (name, text), by file name.
fn definitions_in(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the definitions directory {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".json") else {
            continue;
        };
        let name = stem.strip_suffix(".asl").unwrap_or(stem).to_owned();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        found.push((name, text));
    }
    found.sort();
    Ok(found)
}

pub fn run(args: ServeArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let mocks = match &args.mock_config {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                BadInput(format!(
                    "reading the mock configuration {}: {e}",
                    path.display()
                ))
            })?;
            Some(
                MockConfig::from_json(&text)
                    .map_err(|e| BadInput(format!("{}: {e}", path.display())))?,
            )
        }
    };
    let store = open_store(store)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let time = if args.virtual_time {
            Time::Virtual
        } else {
            Time::Real
        };
        let services = match &args.aws_endpoint {
            Some(url) => Some(clients(Some(url)).await?),
            None => None,
        };
        let lambda = match &args.lambda_endpoint {
            Some(url) => Some(clients(Some(url)).await?),
            None => None,
        };
        let faults = FaultPlan {
            transient_rate: args.fault_rate,
            timeout_rate: args.timeout_rate,
            seed: args.seed,
            ..FaultPlan::none()
        }
        .validated()?;
        let mut builder = Workflow::builder(store.clone())
            .entry(ENTRY_DEFINITION)
            .time(time)
            .options(LocalOptions {
                faults,
                ..LocalOptions::default()
            });
        if let Some(services) = &services {
            builder = builder.service_endpoint(services);
        }
        if let Some(lambda) = &lambda {
            builder = builder.lambda_endpoint(lambda);
        }
        let flow = builder.build().await?;
        let server_time = match time {
            Time::Virtual => sfn_server::Time::Virtual,
            Time::Real => sfn_server::Time::Real,
        };
        // Standard executions are kept through a crash, and resumed below.
        let mut service = Service::new(store, flow.handlers().clone(), server_time)
            .with_redaction(Arc::new(|value: &mut Value| redact(value)))
            .durable()?;
        if let Some(mocks) = mocks {
            service = service.with_mock_config(mocks);
        }
        let service = Arc::new(service);
        let mut names = Vec::new();
        for (name, kind, definition) in flow.state_machines() {
            register(&service, name, kind, definition).await?;
            names.push(name.to_owned());
        }
        if let Some(dir) = &args.definitions {
            for (name, definition) in definitions_in(dir)? {
                register(&service, &name, "STANDARD", &definition).await?;
                names.push(name);
            }
        }
        let server = Server::bind(args.addr, Arc::clone(&service)).await?;
        let resumed = service
            .resume_running()
            .await
            .map_err(|e| anyhow::anyhow!("resuming the executions left running: {e}"))?;
        let addr = server.local_addr();
        println!("orderflow serve: the Step Functions API on http://{addr}");
        if resumed > 0 {
            println!("  resumed {resumed} Standard executions left running when it last stopped");
        }
        for name in &names {
            println!("  {}", service.state_machine_arn(name));
        }
        println!("  (Ctrl-C stops it)");
        server
            .run_until(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(ExitCode::SUCCESS)
    })
}
