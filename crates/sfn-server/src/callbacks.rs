//! Task tokens: a `.waitForTaskToken` task runs its integration (which passes the token on,
//! say in a Lambda payload or a message), then waits until SendTaskSuccess or
//! SendTaskFailure answers its token, failing with `States.HeartbeatTimeout` when its
//! `HeartbeatSeconds` pass without a SendTaskHeartbeat (API reference, SendTaskHeartbeat;
//! developer guide, "Wait for a Callback with Task Token"). Heartbeats are timed in real
//! time, also under virtual time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Value, json};
use sfn_local::{StatesError, TaskFailure, TaskHandler, TaskRequest};
use tokio::sync::{Notify, oneshot};

use crate::error::ApiError;
use crate::wire::Params;

/// The largest task output SendTaskSuccess takes: 256 KiB, as an execution input.
const MAX_OUTPUT_BYTES: usize = 256 * 1024;

/// A waiting task: where its answer goes and what its heartbeats wake.
struct Waiting {
    answer: oneshot::Sender<Result<Value, TaskFailure>>,
    heartbeat: Arc<Notify>,
}

/// The tasks waiting for a callback, by token.
#[derive(Default)]
pub(crate) struct Callbacks {
    waiting: Mutex<HashMap<String, Waiting>>,
}

/// A task waiting for its token's callback; dropping it (the task answered, timed out or
/// its execution stopped) takes the token off.
pub(crate) struct Waiter {
    callbacks: Arc<Callbacks>,
    token: String,
    answered: oneshot::Receiver<Result<Value, TaskFailure>>,
    heartbeat: Arc<Notify>,
    heartbeat_seconds: Option<u64>,
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.callbacks.lock().remove(&self.token);
    }
}

impl Waiter {
    /// The callback's answer, or `States.HeartbeatTimeout` when `HeartbeatSeconds` pass
    /// without a heartbeat.
    pub(crate) async fn answer(mut self) -> Result<Value, TaskFailure> {
        loop {
            let heartbeat = Arc::clone(&self.heartbeat);
            let seconds = self.heartbeat_seconds;
            let beat = async move {
                match seconds {
                    Some(s) => {
                        tokio::select! {
                            () = heartbeat.notified() => true,
                            () = tokio::time::sleep(Duration::from_secs(s)) => false,
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                answer = &mut self.answered => {
                    return answer.unwrap_or_else(|_| Err(TaskFailure::new(
                        StatesError::Runtime.name(),
                        "the task's callback was dropped",
                    )));
                }
                alive = beat => if !alive {
                    return Err(TaskFailure {
                        error: StatesError::HeartbeatTimeout.name().to_owned(),
                        cause: None,
                        terminal: false,
                    });
                }
            }
        }
    }
}

impl Callbacks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a task waiting for `token`'s callback.
    pub(crate) fn register(
        self: &Arc<Self>,
        token: &str,
        heartbeat_seconds: Option<u64>,
    ) -> Waiter {
        let (answer, answered) = oneshot::channel();
        let heartbeat = Arc::new(Notify::new());
        self.lock().insert(
            token.to_owned(),
            Waiting {
                answer,
                heartbeat: Arc::clone(&heartbeat),
            },
        );
        Waiter {
            callbacks: Arc::clone(self),
            token: token.to_owned(),
            answered,
            heartbeat,
            heartbeat_seconds,
        }
    }

    /// `inner` made to wait for the callback of `.waitForTaskToken` tasks.
    pub(crate) fn wrap(self: &Arc<Self>, inner: Arc<dyn TaskHandler>) -> Arc<dyn TaskHandler> {
        Arc::new(WaitForToken {
            callbacks: Arc::clone(self),
            inner,
        })
    }

    fn take(&self, token: &str) -> Result<Waiting, ApiError> {
        self.lock().remove(token).ok_or_else(|| no_task(token))
    }

    pub(crate) fn send_success(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let token = p.string("taskToken")?;
        let output = p.string("output")?;
        if output.len() > MAX_OUTPUT_BYTES {
            return Err(ApiError::validation(format!(
                "the output is {} bytes, over the limit of {MAX_OUTPUT_BYTES}",
                output.len()
            )));
        }
        let value: Value = serde_json::from_str(output).map_err(|e| ApiError {
            code: "InvalidOutput",
            message: format!("Invalid Output: '{e}'"),
            status: 400,
        })?;
        let waiting = self.take(token)?;
        // A task that stopped waiting meanwhile is gone as far as the caller can tell.
        waiting.answer.send(Ok(value)).map_err(|_| no_task(token))?;
        Ok(json!({}))
    }

    pub(crate) fn send_failure(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let token = p.string("taskToken")?;
        let error = p.optional_string("error")?.unwrap_or_default().to_owned();
        let cause = p.optional_string("cause")?.map(str::to_owned);
        let waiting = self.take(token)?;
        let failure = TaskFailure {
            error,
            cause,
            terminal: false,
        };
        waiting
            .answer
            .send(Err(failure))
            .map_err(|_| no_task(token))?;
        Ok(json!({}))
    }

    pub(crate) fn send_heartbeat(&self, p: &Params<'_>) -> Result<Value, ApiError> {
        let token = p.string("taskToken")?;
        let waiting = self.lock();
        let task = waiting.get(token).ok_or_else(|| no_task(token))?;
        task.heartbeat.notify_one();
        Ok(json!({}))
    }
}

fn no_task(token: &str) -> ApiError {
    let shown: String = token.chars().take(64).collect();
    ApiError {
        code: "TaskDoesNotExist",
        message: format!("Task Does Not Exist: no task waits for the token '{shown}'"),
        status: 400,
    }
}

struct WaitForToken {
    callbacks: Arc<Callbacks>,
    inner: Arc<dyn TaskHandler>,
}

impl WaitForToken {
    async fn wait(&self, mut request: TaskRequest) -> Result<Value, TaskFailure> {
        let Some(token) = request.task_token.clone() else {
            return self.inner.invoke(request).await;
        };
        // The plain integration delivers the token (a handler registered for the plain
        // resource answers its `.waitForTaskToken` variant too).
        if let Some(base) = request.resource.strip_suffix(".waitForTaskToken") {
            request.resource = base.into();
        }
        let waiter = self.callbacks.register(&token, request.heartbeat_seconds);
        // The integration's own answer is not the task's result.
        self.inner.invoke(request).await?;
        waiter.answer().await
    }
}

impl TaskHandler for WaitForToken {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        Box::pin(self.wait(request))
    }
}
