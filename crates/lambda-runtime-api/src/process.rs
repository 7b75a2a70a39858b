//! A function binary running against a local Runtime API.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::{RuntimeApi, RuntimeApiError};

/// Variables that would change a function's behaviour if inherited from the caller's
/// environment; they are removed unless passed explicitly.
const SCRUBBED: [&str; 6] = [
    "ORDERFLOW_SIMULATION",
    "ORDERFLOW_SEED",
    "RUST_LOG",
    "AWS_LAMBDA_LOG_LEVEL",
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_LAMBDA_MAX_CONCURRENCY",
];

/// What a stopped function wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logs {
    /// Standard output, where Lambda functions log.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Logs {
    /// Standard output's lines that are JSON objects, as a function logging JSON writes them.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .filter(serde_json::Value::is_object)
            .collect()
    }

    /// Whether either stream contains `text`.
    pub fn contains(&self, text: &str) -> bool {
        self.stdout.contains(text) || self.stderr.contains(text)
    }
}

/// A function binary started with the Lambda environment pointing at a [`RuntimeApi`]. The
/// process is killed when this is dropped, so a failing test leaves nothing behind.
#[derive(Debug)]
pub struct FunctionProcess {
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
}

impl FunctionProcess {
    /// Starts `program` with `AWS_LAMBDA_RUNTIME_API` set to `api`'s endpoint and the other
    /// variables the Lambda environment defines (function name, memory size, version, log
    /// group and stream), then `env`, which may override any of them.
    pub fn spawn(
        program: impl AsRef<Path>,
        api: &RuntimeApi,
        env: &[(&str, &str)],
    ) -> Result<FunctionProcess, RuntimeApiError> {
        let program = program.as_ref();
        let name = api.function_name();
        let mut command = Command::new(program);
        for variable in SCRUBBED {
            command.env_remove(variable);
        }
        command
            .env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/01/01/[$LATEST]00000000000000000000000000000000",
            )
            .env("AWS_REGION", "us-east-1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|reason| RuntimeApiError::Spawn {
            program: program.display().to_string(),
            reason,
        })?;
        let stdout = collect(child.stdout.take());
        let stderr = collect(child.stderr.take());
        Ok(FunctionProcess {
            child,
            stdout,
            stderr,
        })
    }

    /// The operating system's process id, if the process is still running.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits at most `timeout` for the process to exit by itself, as one that fails to start
    /// does, and returns its exit status and what it wrote. On timeout it is killed.
    pub async fn wait_exit(
        mut self,
        timeout: Duration,
    ) -> Result<(ExitStatus, Logs), RuntimeApiError> {
        let status = match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => status.map_err(RuntimeApiError::Stop)?,
            Err(_) => {
                // The process is killed on drop.
                return Err(RuntimeApiError::Timeout {
                    what: "the function process to exit".to_owned(),
                    after: timeout,
                });
            }
        };
        let stdout = output(self.stdout, timeout).await?;
        let stderr = output(self.stderr, timeout).await?;
        Ok((status, Logs { stdout, stderr }))
    }

    /// Kills the process and returns what it wrote, waiting at most `timeout` for its output
    /// to close.
    pub async fn stop(mut self, timeout: Duration) -> Result<Logs, RuntimeApiError> {
        // An error here means the process already exited, which is what is wanted.
        let _ = self.child.start_kill();
        let waited = tokio::time::timeout(timeout, self.child.wait()).await;
        match waited {
            Ok(status) => status.map_err(RuntimeApiError::Stop)?,
            Err(_) => {
                return Err(RuntimeApiError::Timeout {
                    what: "the function process to exit".to_owned(),
                    after: timeout,
                });
            }
        };
        let stdout = output(self.stdout, timeout).await?;
        let stderr = output(self.stderr, timeout).await?;
        Ok(Logs { stdout, stderr })
    }
}

fn collect(stream: Option<impl AsyncRead + Unpin + Send + 'static>) -> JoinHandle<Vec<u8>> {
    tokio::spawn(async move {
        let mut bytes = Vec::new();
        if let Some(mut stream) = stream {
            // Output read before an error is kept; the error only ends the stream.
            let _ = stream.read_to_end(&mut bytes).await;
        }
        bytes
    })
}

async fn output(task: JoinHandle<Vec<u8>>, timeout: Duration) -> Result<String, RuntimeApiError> {
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(bytes)) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Ok(Err(join)) => Err(RuntimeApiError::Stop(std::io::Error::other(join))),
        Err(_) => Err(RuntimeApiError::Timeout {
            what: "the function's output to close".to_owned(),
            after: timeout,
        }),
    }
}
