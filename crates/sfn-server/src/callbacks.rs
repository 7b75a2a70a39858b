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

/// Takes a token's entry off when its task stops waiting for any reason (answered, timed
/// out, its execution stopped).
struct Registered<'a> {
    callbacks: &'a Callbacks,
    token: String,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.callbacks.lock().remove(&self.token);
    }
}

impl Callbacks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiting>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
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
        let failure = TaskFailure { error, cause };
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
        let heartbeat_seconds = request.heartbeat_seconds;
        let (answer, mut answered) = oneshot::channel();
        let heartbeat = Arc::new(Notify::new());
        self.callbacks.lock().insert(
            token.clone(),
            Waiting {
                answer,
                heartbeat: Arc::clone(&heartbeat),
            },
        );
        let _registered = Registered {
            callbacks: &self.callbacks,
            token,
        };
        // The integration delivers the token; its own answer is not the task's result.
        self.inner.invoke(request).await?;
        loop {
            let beat = async {
                match heartbeat_seconds {
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
                answer = &mut answered => {
                    return answer.unwrap_or_else(|_| Err(TaskFailure::new(
                        StatesError::Runtime.name(),
                        "the task's callback was dropped",
                    )));
                }
                alive = beat => if !alive {
                    return Err(TaskFailure {
                        error: StatesError::HeartbeatTimeout.name().to_owned(),
                        cause: None,
                    });
                }
            }
        }
    }
}

impl TaskHandler for WaitForToken {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        Box::pin(self.wait(request))
    }
}
