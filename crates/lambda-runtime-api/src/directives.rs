//! Running a function under every log filter a user may set, to check what reaches its logs.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::{FunctionProcess, Logs, RuntimeApi, RuntimeApiError};

/// Log filter directives of each form `tracing-subscriber`'s `EnvFilter` accepts (a level; a
/// target with a level; a span name, a span field, or both, with or without a target; several
/// at once) that enable the Lambda runtime's TRACE records, among them its raw-event record.
/// Lambda reads them from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
pub const TRACE_DIRECTIVES: [&str; 16] = [
    "trace",
    "TRACE",
    "lambda_runtime=trace",
    "lambda_runtime::layers=trace",
    "lambda_runtime::layers::api_response=trace",
    "lambda_runtime::layers::api_response[{body}]=trace",
    "[{requestId}]=trace",
    "[Lambda runtime invoke]=trace",
    "[Lambda runtime invoke{requestId}]=trace",
    "lambda_runtime[Lambda runtime invoke]=trace",
    "lambda_runtime::layers::trace[Lambda runtime invoke{requestId}]=trace",
    "[{body}]=trace",
    "info,lambda_runtime=trace",
    "off,[{requestId}]=trace",
    "trace,lambda_runtime::layers::api_response=debug",
    "debug,lambda_runtime::layers::api_response=trace,[{requestId}]=trace",
];

/// The variables a function reads its log filter from, in the order Lambda's runtime
/// interface clients consult them.
pub const LOG_LEVEL_VARIABLES: [&str; 2] = ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"];

/// Starts `program` as `function_name` against a fresh local Runtime API with `env`, invokes
/// each of `events` in turn (waiting at most `timeout` for each answer, whatever it is), stops
/// the process and returns what it wrote.
pub async fn logs_of(
    program: impl AsRef<Path>,
    function_name: &str,
    env: &[(&str, &str)],
    events: &[Value],
    timeout: Duration,
) -> Result<Logs, RuntimeApiError> {
    let api = RuntimeApi::builder()
        .function_name(function_name)
        .start()
        .await?;
    let function = FunctionProcess::spawn(program, &api, env)?;
    let mut answered = Ok(());
    for event in events {
        if let Err(error) = api.invoke(event, timeout).await {
            answered = Err(error);
            break;
        }
    }
    let logs = function.stop(timeout).await;
    api.shutdown().await;
    answered?;
    logs
}

/// Runs `program` under each of [`TRACE_DIRECTIVES`] in each of [`LOG_LEVEL_VARIABLES`] on
/// `events` (see [`logs_of`]) and returns, for every run whose output shows one of `secrets`,
/// the setting and what it showed; also when the plain `trace` setting wrote no JSON line at
/// all, since then the runs showed nothing because they logged nothing.
pub async fn secrets_in_logs(
    program: impl AsRef<Path>,
    function_name: &str,
    events: &[Value],
    secrets: &[&str],
    timeout: Duration,
) -> Result<Vec<String>, RuntimeApiError> {
    let program = program.as_ref();
    let mut found = Vec::new();
    for variable in LOG_LEVEL_VARIABLES {
        for directive in TRACE_DIRECTIVES {
            let logs = logs_of(
                program,
                function_name,
                &[(variable, directive)],
                events,
                timeout,
            )
            .await?;
            for secret in secrets {
                if logs.contains(secret) {
                    found.push(format!(
                        "{variable}={directive} shows {secret}:\n{}\n{}",
                        logs.stdout, logs.stderr
                    ));
                }
            }
            // A filter naming targets or spans only enables those; at plain TRACE the
            // function logs, so the other runs read real output.
            if directive == "trace" && logs.json_lines().is_empty() {
                found.push(format!("{variable}={directive} logged nothing"));
            }
        }
    }
    Ok(found)
}
