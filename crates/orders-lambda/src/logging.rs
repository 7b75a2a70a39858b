//! JSON-lines logging for CloudWatch.

use std::env;

use orders::{OrderError, Simulation};
use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

use crate::HandlerError;

/// The log filter: `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging controls), else
/// `RUST_LOG`, else `info`.
///
/// The filter decides levels only: whatever it enables, [`subscriber`] never writes the
/// runtime's raw events (see [`is_raw_payload`]).
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
    EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Whether a log call site may carry an invocation's payload: lambda_runtime logs each raw
/// event (`body`, at TRACE, "raw JSON event received from Lambda") and each streamed
/// response's prelude; events hold card numbers. A directive cannot be trusted to keep them
/// out: span and field directives (`[{requestId}]=trace`, `[Lambda runtime invoke]=trace`,
/// `lambda_runtime::layers::api_response[{body}]=trace`) enable them past any target cap.
/// So they are dropped by a filter of this crate's, below every directive, whatever level the
/// environment asks for.
pub fn is_raw_payload(metadata: &Metadata<'_>) -> bool {
    let runtime = metadata.target().starts_with("lambda_runtime");
    let carries_data = metadata.fields().iter().any(|field| {
        matches!(
            field.name(),
            "body" | "payload" | "event" | "metadata_prelude"
        )
    });
    runtime && (carries_data || *metadata.level() == Level::TRACE)
}

/// A subscriber writing one JSON object per line to `writer`: no colours, event fields at the
/// top level (`"order_id"`, `"outcome"`), and the runtime's invocation span with its
/// `requestId`. `filter` chooses the levels; the runtime's raw payloads are never written.
pub fn subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let lines = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_ansi(false)
        .with_writer(writer)
        .with_filter(filter_fn(|metadata| !is_raw_payload(metadata)));
    tracing_subscriber::registry().with(filter).with(lines)
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
        filter(None, "info");
        filter(Some("DEBUG"), "debug");
        filter(Some("FATAL"), "error");
        filter(Some("trace"), "trace");
        // Span directives are kept as given (EnvFilter lists them among its dynamic ones).
        assert!(
            filter_for(Some("[{requestId}]=trace"))
                .to_string()
                .contains("[{requestId}]=trace")
        );
        filter(Some("not a level=="), "info");
    }
}
