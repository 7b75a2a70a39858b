//! JSON-lines logging for CloudWatch.

use std::env;

use orders::{OrderError, Simulation};
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;
use tracing_subscriber::fmt::MakeWriter;

use crate::HandlerError;

/// The runtime logs every raw event at TRACE level under this target; events hold card
/// numbers, so this target is capped below TRACE whatever level is asked for.
const RAW_EVENT_TARGET_CAP: &str = "lambda_runtime::layers::api_response=debug";

/// The log filter: `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging controls), else
/// `RUST_LOG`, else `info`; never the runtime's raw-event trace.
pub fn env_filter() -> EnvFilter {
    let wanted = env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .or_else(|| env::var("RUST_LOG").ok());
    filter_for(wanted.as_deref())
}

fn filter_for(wanted: Option<&str>) -> EnvFilter {
    let directives = match wanted.map(str::trim) {
        None | Some("") => "info",
        // Lambda's levels include FATAL, which tracing calls ERROR.
        Some(level) if level.eq_ignore_ascii_case("fatal") => "error",
        Some(directives) => directives,
    };
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    match RAW_EVENT_TARGET_CAP.parse::<Directive>() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter,
    }
}

/// A subscriber writing one JSON object per line to `writer`: no colours, event fields at the
/// top level (`"order_id"`, `"outcome"`), and the runtime's invocation span with its
/// `requestId`.
pub fn subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

/// Installs the JSON subscriber on standard output, where Lambda collects logs. Returns
/// `false` if a global subscriber was already installed, which is then kept.
pub fn init_tracing() -> bool {
    tracing::subscriber::set_global_default(subscriber(env_filter(), std::io::stdout)).is_ok()
}

/// Logs a function's start with its simulation settings, the seed included so that a random
/// run can be repeated, or logs why the settings are wrong.
pub fn configured(
    function: &'static str,
    simulation: Result<Simulation, OrderError>,
) -> Result<Simulation, HandlerError> {
    match simulation {
        Ok(Simulation::Deterministic) => {
            tracing::info!(function, simulation = "deterministic", "function starting");
            Ok(Simulation::Deterministic)
        }
        Ok(Simulation::Random { seed }) => {
            tracing::info!(function, simulation = "random", seed, "function starting");
            Ok(Simulation::Random { seed })
        }
        Err(error) => {
            tracing::error!(function, error_type = error.name(), error = %error, "function cannot start");
            Err(HandlerError(error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(wanted: Option<&str>, expected: &str) {
        assert_eq!(filter_for(wanted).to_string(), expected, "{wanted:?}");
    }

    #[test]
    fn levels_come_from_lambda_or_rust_log() {
        filter(None, "lambda_runtime::layers::api_response=debug,info");
        filter(
            Some("DEBUG"),
            "lambda_runtime::layers::api_response=debug,debug",
        );
        filter(
            Some("FATAL"),
            "lambda_runtime::layers::api_response=debug,error",
        );
        filter(
            Some("trace"),
            "lambda_runtime::layers::api_response=debug,trace",
        );
        filter(
            Some("not a level=="),
            "lambda_runtime::layers::api_response=debug,info",
        );
    }
}
