//! Failures injected into named states, for `orderflow run --inject`: the first attempts of a
//! state fail with a chosen error before its task runs, so that a route AWS reaches only
//! through an outage (a notification that cannot be sent, processing that cannot be started)
//! can be run locally and end to end.
//!
//! Unlike the load run's random faults (`faults.rs`), these are exact: which state, which
//! error, how many times, counted across the executions of one process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::future::BoxFuture;
use serde_json::Value;
use sfn_local::{TaskFailure, TaskHandler, TaskRequest};

/// `STATE=ERROR` or `STATE=ERROR*TIMES`: the state's attempts fail with `ERROR`, all of them or
/// the first `TIMES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// The Task state's name, e.g. `Notify`.
    pub state: String,
    /// The error name its attempts fail with, e.g. `SNS.InternalErrorException`.
    pub error: String,
    /// How many attempts fail; every one when `None`.
    pub times: Option<u32>,
}

/// An injection that does not read as `STATE=ERROR[*TIMES]`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "--inject takes STATE=ERROR or STATE=ERROR*TIMES (e.g. \"Notify=SNS.InternalErrorException*7\"), found {0:?}"
)]
pub struct BadInjection(String);

impl std::str::FromStr for Injection {
    type Err = BadInjection;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadInjection(text.to_owned());
        let (state, rest) = text.split_once('=').ok_or_else(bad)?;
        let (error, times) = match rest.split_once('*') {
            Some((error, times)) => (error, Some(times.parse::<u32>().map_err(|_| bad())?)),
            None => (rest, None),
        };
        let state = state.trim();
        let error = error.trim();
        let name_ok = !error.is_empty()
            && error
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
        if state.is_empty() || !name_ok || times == Some(0) {
            return Err(bad());
        }
        Ok(Injection {
            state: state.to_owned(),
            error: error.to_owned(),
            times,
        })
    }
}

/// A Task handler that fails the injected states' attempts before calling `inner`.
pub struct Injected {
    inner: Arc<dyn TaskHandler>,
    injections: Arc<[(Injection, AtomicU32)]>,
}

impl Injected {
    /// `inner`, with `injections` shared with every other handler built from the same list,
    /// so that `TIMES` counts a state's attempts whichever handler answers them.
    pub fn new(inner: Arc<dyn TaskHandler>, injections: Arc<[(Injection, AtomicU32)]>) -> Self {
        Injected { inner, injections }
    }

    /// The shared counters for `injections`.
    pub fn counters(injections: &[Injection]) -> Arc<[(Injection, AtomicU32)]> {
        injections
            .iter()
            .map(|i| (i.clone(), AtomicU32::new(0)))
            .collect()
    }

    fn failure(&self, state: &str) -> Option<TaskFailure> {
        let (injection, used) = self.injections.iter().find(|(i, _)| i.state == state)?;
        let limit = injection.times.unwrap_or(u32::MAX);
        used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < limit).then_some(n + 1)
        })
        .ok()?;
        // Plain text, as an AWS API error's cause is.
        Some(TaskFailure::new(
            injection.error.clone(),
            format!(
                "{}: injected by --inject before state {state} ran",
                injection.error
            ),
        ))
    }
}

impl TaskHandler for Injected {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        match self.failure(&request.state_name) {
            Some(failure) => Box::pin(async move { Err(failure) }),
            None => self.inner.invoke(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parsed(text: &str) -> Result<Injection, BadInjection> {
        text.parse()
    }

    #[test]
    fn injections_read_state_error_and_times() {
        assert_eq!(
            parsed("Process Order=StepFunctions.StateMachineDoesNotExistException"),
            Ok(Injection {
                state: "Process Order".into(),
                error: "StepFunctions.StateMachineDoesNotExistException".into(),
                times: None,
            })
        );
        assert_eq!(
            parsed("Notify=SNS.InternalErrorException*7").map(|i| i.times),
            Ok(Some(7))
        );
        for bad in [
            "Notify",
            "=E",
            "Notify=",
            "Notify=E*0",
            "Notify=E*x",
            "Notify=bad name",
        ] {
            assert!(parsed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_first_times_attempts_fail_before_the_task_runs() {
        let calls = Arc::new(AtomicU32::new(0));
        let seen = Arc::clone(&calls);
        let inner: Arc<dyn TaskHandler> = Arc::new(
            move |request: TaskRequest| -> BoxFuture<'static, Result<Value, TaskFailure>> {
                seen.fetch_add(1, Ordering::Relaxed);
                Box::pin(async move { Ok(request.input) })
            },
        );
        let injections = Injected::counters(&[
            parsed("Notify=SNS.InternalErrorException*2").expect("an injection")
        ]);
        let handler = Injected::new(inner, injections);
        let attempt = |state: &str| {
            let mut request = TaskRequest::new("arn:aws:states:::sns:publish", json!({}));
            request.state_name = state.into();
            futures::executor::block_on(handler.invoke(request))
        };
        for _ in 0..2 {
            let failure = attempt("Notify").expect_err("injected");
            assert_eq!(failure.error, "SNS.InternalErrorException");
        }
        assert!(attempt("Notify").is_ok());
        assert!(attempt("Record Order").is_ok());
        assert_eq!(
            calls.load(Ordering::Relaxed),
            2,
            "failed attempts never ran"
        );
    }
}
