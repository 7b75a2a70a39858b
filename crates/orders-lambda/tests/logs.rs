//! One JSON log line per invocation, and never a card number, even at TRACE level.

// Shared with the `tests` target, which uses the helpers this one does not.
#[allow(dead_code)]
mod common;

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use orders::{SimulatedGateway, SimulatedInventory, Simulation};
use serde_json::Value;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use common::{EVENTS, PANS, event, today};

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn one_line_per_invocation_without_card_numbers() {
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(orders_lambda::subscriber(
        EnvFilter::new("trace"),
        captured.clone(),
    ));
    let gateway = SimulatedGateway::new(Simulation::Deterministic);
    let inventory = SimulatedInventory::new(Simulation::Deterministic);
    for (function, _, text) in EVENTS {
        let payload = event(text);
        let _ = match function {
            "verify-payment" => orders_lambda::verify_payment(payload, &gateway, &today()).await,
            "check-stock" => orders_lambda::check_stock(payload, &inventory).await,
            _ => orders_lambda::charge_payment(payload, &gateway).await,
        };
    }
    // The charge-declined card goes through verification too.
    let declined = event(include_str!(
        "../../../events/workflow/charge-declined.json"
    ));
    orders_lambda::verify_payment(declined, &gateway, &today())
        .await
        .expect("answers");

    let text = captured.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert_eq!(lines.len(), EVENTS.len() + 1, "{text}");
    for line in &lines {
        assert!(
            line["function"].is_string() && line["outcome"].is_string(),
            "{line}"
        );
        assert!(
            line["level"].is_string() && line["timestamp"].is_string(),
            "{line}"
        );
    }
    let outcomes: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["outcome"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        [
            "verified",
            "not_verified",
            "rejected",
            "in_stock",
            "out_of_stock",
            "rejected",
            "charged",
            "declined",
            "rejected",
            "verified"
        ]
    );
    assert_eq!(lines[0]["order_id"], "o-1001");
    assert_eq!(lines[0]["card_last4"], "4444");
    assert_eq!(lines[7]["error_type"], "PaymentError");
    for pan in PANS {
        assert!(!text.contains(pan), "a log line shows {pan}:\n{text}");
    }
    assert!(!text.contains('\u{1b}'), "no terminal colours in logs");
}

#[test]
fn starting_logs_the_seed() {
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(orders_lambda::subscriber(
        EnvFilter::new("info"),
        captured.clone(),
    ));
    let simulation = orders_lambda::configured("check-stock", Ok(Simulation::Random { seed: 42 }))
        .expect("configured");
    assert_eq!(simulation, Simulation::Random { seed: 42 });
    let bad = Simulation::from_vars(Some("sometimes"), None);
    let error = orders_lambda::configured("check-stock", bad).expect_err("misconfigured");
    assert_eq!(error.name(), "ConfigurationError");
    let lines: Vec<Value> = captured
        .text()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["simulation"].as_str(), lines[0]["seed"].as_u64()),
        (Some("random"), Some(42))
    );
    assert_eq!(lines[1]["level"], "ERROR");
}

/// The runtime's raw-event record, emitted as lambda_runtime emits it: inside the invocation
/// span, at TRACE, under its own target, with the payload as the `body` field.
fn emit_raw_event(payload: &str) {
    let span = tracing::info_span!(
        target: "lambda_runtime::layers::trace",
        "Lambda runtime invoke",
        requestId = "r-1"
    );
    let _entered = span.enter();
    tracing::trace!(
        target: "lambda_runtime::layers::api_response",
        body = payload,
        "raw JSON event received from Lambda"
    );
    tracing::info!(target: "verify_payment", outcome = "verified", "handled");
}

/// Span, field and target directives enable the runtime's raw-event record past any level
/// cap; the functions' subscriber drops it whatever the directive.
#[test]
fn no_log_directive_writes_the_raw_event() {
    let payload = r#"{"paymentDetails":{"cardNumber":"5555555555554444"}}"#;
    let mut enabled_by_plain_filter = 0;
    for directive in lambda_runtime_api::TRACE_DIRECTIVES {
        // The same directive on a plain subscriber: what the record would do without ours.
        let plain = Captured::default();
        {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_env_filter(EnvFilter::new(directive))
                .with_writer(plain.clone())
                .finish();
            let _guard = tracing::subscriber::set_default(subscriber);
            emit_raw_event(payload);
        }
        if plain.text().contains("5555555555554444") {
            enabled_by_plain_filter += 1;
        } else {
            eprintln!("not enabled on a plain subscriber: {directive}");
        }

        let ours = Captured::default();
        {
            let _guard = tracing::subscriber::set_default(orders_lambda::subscriber(
                EnvFilter::new(directive),
                ours.clone(),
            ));
            emit_raw_event(payload);
        }
        let text = ours.text();
        assert!(
            !text.contains("5555555555554444"),
            "{directive}: the raw event was written:\n{text}"
        );
        // A directive with a plain level enables the function's own line, which is kept.
        let global = directive
            .split(',')
            .any(|d| !d.contains('=') && !d.eq_ignore_ascii_case("off"));
        if global {
            assert!(
                text.contains("\"outcome\":\"verified\""),
                "{directive}: the function's own line is kept:\n{text}"
            );
        }
    }
    // Without the subscriber's own filter, every form but the one capping the target below
    // TRACE would have written the card.
    assert!(
        enabled_by_plain_filter == lambda_runtime_api::TRACE_DIRECTIVES.len() - 1,
        "only {enabled_by_plain_filter} directives enable the record on a plain subscriber"
    );
}
