//! Task states are answered by handlers the host registers by resource ARN pattern.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use serde_json::Value;

use crate::Error;

/// What a Task state asks of its handler.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    /// The state's `Resource`, e.g. `arn:aws:states:::lambda:invoke`.
    pub resource: Arc<str>,
    /// The effective input: the state input after `InputPath` and `Parameters`.
    pub input: Value,
    /// The Task state's name.
    pub state_name: Arc<str>,
    /// 1 for the first attempt, 2 for the first retry, …
    pub attempt: u32,
    /// `TimeoutSeconds` (or the value `TimeoutSecondsPath` selected), if any.
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds`, if any.
    pub heartbeat_seconds: Option<u64>,
    /// For `.waitForTaskToken` resources: the token also found at `$$.Task.Token`. The
    /// handler completes its future when the callback (SendTaskSuccess/Failure) arrives.
    pub task_token: Option<String>,
    /// Where a `.sync` handler reports that its job was started (see [`Submission`]).
    pub submission: Submission,
}

/// A `.sync` (run a job) handler's report that the job was submitted: the engine then
/// records a `TaskSubmitted` event with this output before the task's end, as AWS records
/// one once the job has started. The event's timestamp is the task's end, when the engine
/// collects the report.
#[derive(Debug, Clone, Default)]
pub struct Submission(Arc<Mutex<Option<Value>>>);

impl Submission {
    /// Reports the job submitted, with the starting call's answer.
    pub fn submit(&self, output: Value) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(output);
    }

    /// The reported output, once.
    pub fn take(&self) -> Option<Value> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl TaskRequest {
    /// A first attempt at `resource` with `input` and nothing else set: what a host's tests
    /// or a host calling its own handlers directly need.
    pub fn new(resource: &str, input: Value) -> Self {
        TaskRequest {
            resource: resource.into(),
            input,
            state_name: "Task".into(),
            attempt: 1,
            timeout_seconds: None,
            heartbeat_seconds: None,
            task_token: None,
            submission: Submission::default(),
        }
    }
}

/// A task's failure, as a Lambda function or service integration reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    /// The error name matched by `Retry`/`Catch` `ErrorEquals`, e.g. `PaymentError`.
    pub error: String,
    /// Free text; `None` when the task gave none.
    pub cause: Option<String>,
    /// The execution fails at once with this error: no Retry or Catch sees it. What a
    /// host reports when the task could not be answered at all, as a mock configuration
    /// with no response for an invocation.
    pub terminal: bool,
}

impl TaskFailure {
    /// A failure with an error name and a cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskFailure {
            error: error.into(),
            cause: Some(cause.into()),
            terminal: false,
        }
    }

    /// A failure that ends the execution at once (see [`terminal`](TaskFailure::terminal)).
    pub fn terminal(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskFailure {
            terminal: true,
            ..TaskFailure::new(error, cause)
        }
    }
}

/// Answers Task states.
pub trait TaskHandler: Send + Sync {
    /// Runs the task and returns its result (before `ResultSelector`/`ResultPath`).
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>>;
}

impl<F> TaskHandler for F
where
    F: Fn(TaskRequest) -> BoxFuture<'static, Result<Value, TaskFailure>> + Send + Sync,
{
    fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
        self(request)
    }
}

/// A glob split at its `*`s, and its handler.
type Glob = (Vec<Box<str>>, Arc<dyn TaskHandler>);

/// Handlers by resource pattern: an exact ARN, or a glob where `*` matches any run of
/// characters (`arn:aws:lambda:*:*:function:*`). Exact matches win; globs are tried in
/// registration order. A handler registered for a state by its name
/// ([`register_state`](Handlers::register_state)) answers that state whatever its resource,
/// as a test case's mocked response does.
#[derive(Clone, Default)]
pub struct Handlers {
    exact: HashMap<Box<str>, Arc<dyn TaskHandler>>,
    globs: Vec<Glob>,
    states: HashMap<Box<str>, Arc<dyn TaskHandler>>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handlers")
            .field("exact", &self.exact.keys().collect::<Vec<_>>())
            .field(
                "globs",
                &self
                    .globs
                    .iter()
                    .map(|(g, _)| g.join("*"))
                    .collect::<Vec<_>>(),
            )
            .field("states", &self.states.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Handlers {
    /// No handlers: every Task fails as an unknown resource.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for resources matching `pattern`.
    pub fn register(
        &mut self,
        pattern: &str,
        handler: impl TaskHandler + 'static,
    ) -> Result<&mut Self, Error> {
        self.register_arc(pattern, Arc::new(handler))
    }

    /// The same handlers, each wrapped by `wrap` (say, to make every `.waitForTaskToken`
    /// task wait for its callback), under the same patterns. Handlers registered for a state
    /// by name are kept as they are: they answer in place of the resource.
    pub fn wrapped(&self, wrap: impl Fn(Arc<dyn TaskHandler>) -> Arc<dyn TaskHandler>) -> Handlers {
        Handlers {
            states: self.states.clone(),
            exact: self
                .exact
                .iter()
                .map(|(pattern, h)| (pattern.clone(), wrap(Arc::clone(h))))
                .collect(),
            globs: self
                .globs
                .iter()
                .map(|(pieces, h)| (pieces.clone(), wrap(Arc::clone(h))))
                .collect(),
        }
    }

    /// As [`register`](Handlers::register), for a shared handler.
    pub fn register_arc(
        &mut self,
        pattern: &str,
        handler: Arc<dyn TaskHandler>,
    ) -> Result<&mut Self, Error> {
        if pattern.is_empty() || pattern.chars().any(char::is_whitespace) {
            return Err(Error::InvalidPattern(pattern.to_owned()));
        }
        if pattern.contains('*') {
            self.globs
                .push((pattern.split('*').map(Box::from).collect(), handler));
        } else {
            self.exact.insert(pattern.into(), handler);
        }
        Ok(self)
    }

    /// Registers `handler` for every Task state named `state` (in any branch or iteration),
    /// in place of the handler of its resource.
    pub fn register_state(&mut self, state: &str, handler: Arc<dyn TaskHandler>) -> &mut Self {
        self.states.insert(state.into(), handler);
        self
    }

    /// The handler for the state named `state` calling `resource`: the state's own, else
    /// the resource's.
    pub fn find_for(&self, state: &str, resource: &str) -> Option<&Arc<dyn TaskHandler>> {
        self.states.get(state).or_else(|| self.find(resource))
    }

    /// The handler for `resource`, if any.
    pub fn find(&self, resource: &str) -> Option<&Arc<dyn TaskHandler>> {
        if let Some(h) = self.exact.get(resource) {
            return Some(h);
        }
        // `.sync`/`.waitForTaskToken` variants fall back to the plain integration's handler.
        let base = resource
            .strip_suffix(".waitForTaskToken")
            .or_else(|| resource.strip_suffix(".sync:2"))
            .or_else(|| resource.strip_suffix(".sync"));
        if let Some(h) = base.and_then(|b| self.exact.get(b)) {
            return Some(h);
        }
        self.globs
            .iter()
            .find(|(g, _)| glob_match(g, resource))
            .map(|(_, h)| h)
    }
}

fn glob_match(pieces: &[Box<str>], text: &str) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    let Some(mut remaining) = text.strip_prefix(&**first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for piece in middle {
        match remaining.find(&**piece) {
            Some(at) => remaining = &remaining[at + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(&**last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        let pieces: Vec<Box<str>> = pattern.split('*').map(Box::from).collect();
        glob_match(&pieces, text)
    }

    #[test]
    fn globs() {
        assert!(m(
            "arn:aws:lambda:*:*:function:*",
            "arn:aws:lambda:us-east-1:1:function:F"
        ));
        assert!(!m(
            "arn:aws:lambda:*:*:function:*",
            "arn:aws:states:::lambda:invoke"
        ));
        assert!(m(
            "arn:aws:states:::dynamodb:*",
            "arn:aws:states:::dynamodb:putItem"
        ));
        assert!(m("*:sns:publish", "arn:aws:states:::sns:publish"));
        assert!(!m("a*b*c", "ac"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("ab*ba", "aba"));
    }

    #[test]
    fn wrapped_handlers_keep_their_patterns() {
        struct Answer(&'static str);
        impl TaskHandler for Answer {
            fn invoke(&self, _: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
                let answer = self.0;
                Box::pin(async move { Ok(Value::String(answer.into())) })
            }
        }
        struct Loud(Arc<dyn TaskHandler>);
        impl TaskHandler for Loud {
            fn invoke(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, TaskFailure>> {
                Box::pin(async move {
                    let inner = self.0.invoke(request).await?;
                    Ok(Value::String(format!(
                        "{}!",
                        inner.as_str().unwrap_or_default()
                    )))
                })
            }
        }
        let mut handlers = Handlers::new();
        handlers
            .register("arn:aws:states:::lambda:invoke", Answer("exact"))
            .and_then(|h| h.register("arn:aws:lambda:*:*:function:*", Answer("glob")))
            .expect("patterns");
        let loud = handlers.wrapped(|h| Arc::new(Loud(h)));
        let answer = |resource: &str| {
            let handler = loud.find(resource).expect("a handler");
            futures::executor::block_on(handler.invoke(TaskRequest::new(resource, Value::Null)))
        };
        assert_eq!(
            answer("arn:aws:states:::lambda:invoke.waitForTaskToken"),
            Ok(Value::String("exact!".into()))
        );
        assert_eq!(
            answer("arn:aws:lambda:us-east-1:1:function:f"),
            Ok(Value::String("glob!".into()))
        );
        assert!(loud.find("arn:aws:states:::sns:publish").is_none());
    }
}
