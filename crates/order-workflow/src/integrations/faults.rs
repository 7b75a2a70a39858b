//! Fault injection for the local integrations: a Task handler decorator that fails a share of
//! calls the way AWS services fail, reproducibly from a seed.
//!
//! Three kinds of fault, each with its own rate:
//! - **transient**: the call is refused before it does anything (`Lambda.ServiceException`,
//!   `Lambda.TooManyRequestsException`, `DynamoDB.ProvisionedThroughputExceededException`,
//!   `DynamoDB.ThrottlingException`, `SNS.ThrottledException`), the errors the definition's
//!   `Retry` rules name;
//! - **crash after**: the call runs — the card is charged, the item written — and then the
//!   answer is lost (`Lambda.ServiceException`, `DynamoDB.InternalServerErrorException`), so
//!   the retry repeats a side effect that already happened;
//! - **timeout**: `States.Timeout`, half of them before the call and half after it, only for
//!   states with `TimeoutSeconds` (the only ones Step Functions times out).
//!
//! Whether a call fails is a hash of the seed, the state, the attempt and the request, never
//! of timing, so a run with the same seed and orders meets the same faults at any
//! concurrency. Faults are transient: a call fails at most `max_consecutive` attempts in a
//! row (at most two for timeouts, the budget the definition gives them), fewer than the retry
//! rules allow, so every fault is absorbed by a retry; a larger burst makes the workflow's
//! retry budget run out, which the load invariants then report.
//!
//! SNS is never crashed after the publish: a standard topic has no idempotency key, so a
//! retried publish would send a second message. See the README's reliability section.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::future::BoxFuture;
use serde_json::Value;
use sfn_local::{StatesError, TaskFailure, TaskHandler, TaskRequest};

use crate::seed::{Fnv1a, scramble};

/// What to inject, and how often.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultPlan {
    /// Share of attempts refused before the call, 0–1.
    pub transient_rate: f64,
    /// Share of attempts that run and then lose their answer, 0–1.
    pub crash_after_rate: f64,
    /// Share of attempts of states with `TimeoutSeconds` that time out, 0–1.
    pub timeout_rate: f64,
    /// The seed every decision derives from.
    pub seed: u64,
    /// The most attempts of one call that fail in a row.
    pub max_consecutive: u32,
}

/// A rate outside 0–1, or rates that add up to more than 1.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("fault rates must each be between 0 and 1 and add up to at most 1, found {0}")]
pub struct BadRates(String);

impl FaultPlan {
    /// No faults.
    pub fn none() -> FaultPlan {
        FaultPlan {
            transient_rate: 0.0,
            crash_after_rate: 0.0,
            timeout_rate: 0.0,
            seed: 0,
            max_consecutive: 3,
        }
    }

    /// Checks the rates.
    pub fn validated(self) -> Result<FaultPlan, BadRates> {
        let rates = [
            self.transient_rate,
            self.crash_after_rate,
            self.timeout_rate,
        ];
        let each = rates.iter().all(|r| (0.0..=1.0).contains(r));
        if each && rates.iter().sum::<f64>() <= 1.0 + 1e-9 {
            Ok(self)
        } else {
            Err(BadRates(format!(
                "transient {}, crash-after {}, timeout {}",
                self.transient_rate, self.crash_after_rate, self.timeout_rate
            )))
        }
    }

    /// Whether any fault can happen.
    pub fn is_active(&self) -> bool {
        self.transient_rate + self.crash_after_rate + self.timeout_rate > 0.0
    }
}

/// Which service a resource belongs to, for the error names it fails with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Lambda,
    DynamoDb,
    Sns,
    Other,
}

impl Service {
    fn of(resource: &str) -> Service {
        if resource.contains(":lambda:") {
            Service::Lambda
        } else if resource.contains(":dynamodb:") {
            Service::DynamoDb
        } else if resource.contains(":sns:") {
            Service::Sns
        } else {
            Service::Other
        }
    }

    fn transient(self, pick: u64) -> Option<&'static str> {
        let two = |a, b| Some(if pick % 2 == 0 { a } else { b });
        match self {
            Service::Lambda => two("Lambda.ServiceException", "Lambda.TooManyRequestsException"),
            Service::DynamoDb => two(
                "DynamoDB.ProvisionedThroughputExceededException",
                "DynamoDB.ThrottlingException",
            ),
            Service::Sns => Some("SNS.ThrottledException"),
            Service::Other => None,
        }
    }

    fn lost_answer(self) -> Option<&'static str> {
        match self {
            Service::Lambda => Some("Lambda.ServiceException"),
            Service::DynamoDb => Some("DynamoDB.InternalServerErrorException"),
            Service::Sns | Service::Other => None,
        }
    }
}

/// What happened to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Transient,
    CrashAfter,
    TimeoutBefore,
    TimeoutAfter,
}

/// How many faults of each kind a decorator injected.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// Transient failures.
    pub transient: AtomicU64,
    /// Answers lost after the call ran.
    pub crash_after: AtomicU64,
    /// Timeouts, before or after the call.
    pub timeout: AtomicU64,
}

impl FaultCounts {
    /// The counts as `(transient, crash_after, timeout)`.
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.transient.load(Ordering::Relaxed),
            self.crash_after.load(Ordering::Relaxed),
            self.timeout.load(Ordering::Relaxed),
        )
    }
}

/// A Task handler that fails some calls to `inner` as the plan says.
pub struct Faulty {
    inner: Arc<dyn TaskHandler>,
    plan: FaultPlan,
    counts: Arc<FaultCounts>,
}

impl Faulty {
    /// `inner` with the plan's faults, counted in `counts`.
    pub fn new(inner: Arc<dyn TaskHandler>, plan: FaultPlan, counts: Arc<FaultCounts>) -> Self {
        Faulty {
            inner,
            plan,
            counts,
        }
    }

    fn decide(&self, request: &TaskRequest, service: Service) -> (Fault, u64) {
        if request.attempt > self.plan.max_consecutive || service == Service::Other {
            return (Fault::None, 0);
        }
        let hash = decision_hash(self.plan.seed, request);
        // 53 bits give a uniform float in [0, 1).
        let roll = (hash >> 11) as f64 / (1_u64 << 53) as f64;
        let plan = &self.plan;
        let timeouts = request.timeout_seconds.is_some() && request.attempt <= 2;
        let mut edge = plan.transient_rate;
        if roll < edge {
            return (Fault::Transient, hash);
        }
        edge += plan.crash_after_rate;
        if roll < edge {
            return match service.lost_answer() {
                Some(_) => (Fault::CrashAfter, hash),
                None => (Fault::None, hash),
            };
        }
        edge += plan.timeout_rate;
        if roll < edge && timeouts {
            return if hash & 1 == 0 {
                (Fault::TimeoutBefore, hash)
            } else {
                (Fault::TimeoutAfter, hash)
            };
        }
        (Fault::None, hash)
    }
}

/// FNV-1a over the seed, state, attempt and request, then a SplitMix64 finaliser so that
/// nearby inputs give unrelated rolls.
fn decision_hash(seed: u64, request: &TaskRequest) -> u64 {
    let hash = Fnv1a::new(seed)
        .feed(request.state_name.as_bytes())
        .feed(&request.attempt.to_le_bytes())
        .feed(request.input.to_string().as_bytes())
        .finish();
    scramble(hash)
}

fn timeout(request: &TaskRequest) -> TaskFailure {
    TaskFailure::new(
        StatesError::Timeout.name(),
        format!(
            "injected fault: {} did not answer within {} seconds",
            request.state_name,
            request.timeout_seconds.unwrap_or_default()
        ),
    )
}

impl TaskHandler for Faulty {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        let service = Service::of(&request.resource);
        let (fault, hash) = self.decide(&request, service);
        Box::pin(async move {
            let counts = &self.counts;
            match fault {
                Fault::None => self.inner.invoke(request).await,
                Fault::Transient => {
                    counts.transient.fetch_add(1, Ordering::Relaxed);
                    let name = service
                        .transient(hash >> 1)
                        .unwrap_or(StatesError::TaskFailed.name());
                    Err(TaskFailure::new(
                        name,
                        format!("injected fault: {name} before {} ran", request.state_name),
                    ))
                }
                Fault::TimeoutBefore => {
                    counts.timeout.fetch_add(1, Ordering::Relaxed);
                    Err(timeout(&request))
                }
                Fault::CrashAfter | Fault::TimeoutAfter => {
                    let failure = if fault == Fault::CrashAfter {
                        let name = service
                            .lost_answer()
                            .unwrap_or(StatesError::TaskFailed.name());
                        TaskFailure::new(
                            name,
                            format!(
                                "injected fault: {} ran, then its answer was lost",
                                request.state_name
                            ),
                        )
                    } else {
                        timeout(&request)
                    };
                    // The side effect happens whatever the call answered; only the answer
                    // is lost.
                    let _ = self.inner.invoke(request).await;
                    let counter = if fault == Fault::CrashAfter {
                        &counts.crash_after
                    } else {
                        &counts.timeout
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    Err(failure)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;

    /// Counts the calls that reached it and answers with the input.
    #[derive(Default)]
    struct Recorder(Mutex<u32>);

    impl TaskHandler for Recorder {
        fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
            if let Ok(mut calls) = self.0.lock() {
                *calls += 1;
            }
            Box::pin(async move { Ok(request.input) })
        }
    }

    fn request(resource: &str, attempt: u32, n: u64, timeout: Option<u64>) -> TaskRequest {
        TaskRequest {
            resource: resource.into(),
            input: json!({"n": n}),
            state_name: "State".into(),
            attempt,
            timeout_seconds: timeout,
            heartbeat_seconds: None,
            task_token: None,
            submission: Default::default(),
        }
    }

    fn plan(transient: f64, crash: f64, timeout: f64) -> FaultPlan {
        FaultPlan {
            transient_rate: transient,
            crash_after_rate: crash,
            timeout_rate: timeout,
            seed: 7,
            max_consecutive: 3,
        }
    }

    /// Runs 1000 first attempts at `resource`; returns (errors by name, calls that ran).
    fn run(resource: &str, plan: FaultPlan, timeout: Option<u64>) -> (Vec<String>, u32) {
        let recorder = Arc::new(Recorder::default());
        let faulty = Faulty::new(recorder.clone(), plan, Arc::default());
        let errors = (0..1000)
            .filter_map(|n| {
                futures::executor::block_on(faulty.invoke(request(resource, 1, n, timeout))).err()
            })
            .map(|f| f.error)
            .collect();
        let calls = *recorder.0.lock().expect("not poisoned");
        (errors, calls)
    }

    #[test]
    fn transient_faults_come_before_the_call_at_about_the_rate() {
        let (errors, calls) = run("arn:aws:states:::lambda:invoke", plan(0.2, 0.0, 0.0), None);
        assert!((150..250).contains(&errors.len()), "{}", errors.len());
        assert_eq!(calls as usize, 1000 - errors.len());
        assert!(errors.iter().any(|e| e == "Lambda.ServiceException"));
        assert!(
            errors
                .iter()
                .any(|e| e == "Lambda.TooManyRequestsException")
        );
        let (errors, _) = run(
            "arn:aws:states:::dynamodb:putItem",
            plan(0.2, 0.0, 0.0),
            None,
        );
        assert!(errors.iter().any(|e| e == "DynamoDB.ThrottlingException"));
        assert!(
            errors
                .iter()
                .any(|e| e == "DynamoDB.ProvisionedThroughputExceededException")
        );
        let (errors, _) = run("arn:aws:states:::sns:publish", plan(0.2, 0.0, 0.0), None);
        assert!(errors.iter().all(|e| e == "SNS.ThrottledException"));
    }

    #[test]
    fn crashes_run_the_call_and_lose_the_answer() {
        let (errors, calls) = run("arn:aws:states:::lambda:invoke", plan(0.0, 0.3, 0.0), None);
        assert!((230..370).contains(&errors.len()), "{}", errors.len());
        assert_eq!(calls, 1000);
        let (errors, calls) = run(
            "arn:aws:states:::dynamodb:putItem",
            plan(0.0, 0.3, 0.0),
            None,
        );
        assert!(
            errors
                .iter()
                .all(|e| e == "DynamoDB.InternalServerErrorException")
        );
        assert_eq!(calls, 1000);
        let (errors, _) = run("arn:aws:states:::sns:publish", plan(0.0, 0.3, 0.0), None);
        assert!(
            errors.is_empty(),
            "a publish is never crashed after: {errors:?}"
        );
    }

    #[test]
    fn timeouts_only_where_the_state_has_a_timeout() {
        let (errors, calls) = run(
            "arn:aws:states:::lambda:invoke",
            plan(0.0, 0.0, 0.4),
            Some(30),
        );
        assert!(errors.iter().all(|e| e == "States.Timeout"));
        assert!((300..500).contains(&errors.len()), "{}", errors.len());
        assert!(
            calls > 1000 - errors.len() as u32,
            "some time out after the call"
        );
        assert!(calls < 1000, "some time out before it");
        let (errors, _) = run("arn:aws:states:::lambda:invoke", plan(0.0, 0.0, 0.4), None);
        assert!(errors.is_empty());
    }

    #[test]
    fn the_same_seed_gives_the_same_faults_and_bursts_end() {
        let a = run("arn:aws:states:::lambda:invoke", plan(0.3, 0.1, 0.0), None);
        let b = run("arn:aws:states:::lambda:invoke", plan(0.3, 0.1, 0.0), None);
        assert_eq!(a, b);
        let faulty = Faulty::new(
            Arc::new(Recorder::default()),
            plan(1.0, 0.0, 0.0),
            Arc::default(),
        );
        let attempt = |n| {
            futures::executor::block_on(faulty.invoke(request(
                "arn:aws:states:::lambda:invoke",
                n,
                1,
                None,
            )))
        };
        assert!(attempt(3).is_err());
        assert!(attempt(4).is_ok(), "the fourth attempt goes through");
    }

    #[test]
    fn rates_are_checked() {
        assert!(plan(0.2, 0.1, 0.1).validated().is_ok());
        assert!(plan(1.2, 0.0, 0.0).validated().is_err());
        assert!(plan(0.6, 0.5, 0.0).validated().is_err());
        assert!(plan(-0.1, 0.0, 0.0).validated().is_err());
    }
}
