//! A local AWS Lambda Runtime API: the HTTP interface a function's runtime client polls for
//! events and posts answers to (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>),
//! served on 127.0.0.1 so that a real function binary can be run and checked without AWS.
//!
//! It serves queued events at `GET /2018-06-01/runtime/invocation/next` with the
//! `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//! `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id` headers, and records
//! what the function posts to `…/invocation/{id}/response`, `…/invocation/{id}/error` and
//! `…/init/error`.
//!
//! ```no_run
//! use std::time::Duration;
//! use lambda_runtime_api::{FunctionProcess, Outcome, RuntimeApi};
//!
//! # async fn example() -> Result<(), lambda_runtime_api::RuntimeApiError> {
//! let api = RuntimeApi::builder().function_name("charge-payment").start().await?;
//! let function = FunctionProcess::spawn("target/debug/charge-payment", &api, &[])?;
//! let request_id = api.enqueue_json(&serde_json::json!({"orderId": "o-1"}));
//! match api.wait_for(&request_id, Duration::from_secs(10)).await? {
//!     Outcome::Response { body } => println!("answer: {}", String::from_utf8_lossy(&body)),
//!     Outcome::Error(error) => println!("{}: {}", error.error_type, error.error_message),
//! }
//! let logs = function.stop(Duration::from_secs(5)).await?;
//! print!("{}", logs.stdout);
//! api.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod directives;
mod process;
mod server;

use std::time::Duration;

pub use directives::{LOG_LEVEL_VARIABLES, TRACE_DIRECTIVES, logs_of, secrets_in_logs};
pub use process::{FunctionProcess, Logs};
pub use server::{FunctionError, Outcome, RuntimeApi, RuntimeApiBuilder};

/// What can go wrong running the local Runtime API or a function against it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeApiError {
    /// The listening socket could not be opened: the port is taken.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The operating system's error, part of the message.
        reason: std::io::Error,
    },
    /// Nothing arrived in time: a function that never polls, or never answers.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        after: Duration,
    },
    /// The function reported an initialisation error instead of polling for events.
    #[error("the function failed to start: {0}")]
    InitFailed(FunctionError),
    /// The function binary could not be started: a wrong path.
    #[error("cannot start {program}: {reason}")]
    Spawn {
        /// The program.
        program: String,
        /// The operating system's error, part of the message.
        reason: std::io::Error,
    },
    /// The function process could not be stopped or its output read.
    #[error("cannot stop the function process: {0}")]
    Stop(std::io::Error),
}
