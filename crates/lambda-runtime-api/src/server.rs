//! The HTTP server and its record of invocations.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use crate::RuntimeApiError;

const PREFIX: &str = "/2018-06-01/runtime";

/// What a function posted for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The function answered, at `…/invocation/{id}/response`.
    Response {
        /// The answer, as posted.
        body: Vec<u8>,
    },
    /// The function reported an error, at `…/invocation/{id}/error`.
    Error(FunctionError),
}

impl Outcome {
    /// The answer as JSON, if the function answered with JSON.
    pub fn json(&self) -> Option<Value> {
        match self {
            Outcome::Response { body } => serde_json::from_slice(body).ok(),
            Outcome::Error(_) => None,
        }
    }

    /// The error, if the function reported one.
    pub fn error(&self) -> Option<&FunctionError> {
        match self {
            Outcome::Error(error) => Some(error),
            Outcome::Response { .. } => None,
        }
    }
}

/// An error a function reported: the `{"errorType", "errorMessage"}` body and the
/// `Lambda-Runtime-Function-Error-Type` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// `errorType` of the body, or `""` if the body has none.
    pub error_type: String,
    /// `errorMessage` of the body, or `""` if the body has none.
    pub error_message: String,
    /// The `Lambda-Runtime-Function-Error-Type` header, if sent.
    pub header_error_type: Option<String>,
    /// The body, as posted.
    pub body: Vec<u8>,
}

impl FunctionError {
    fn from_post(body: Vec<u8>, header_error_type: Option<String>) -> FunctionError {
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let field = |name: &str| {
            json.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        FunctionError {
            error_type: field("errorType"),
            error_message: field("errorMessage"),
            header_error_type,
            body,
        }
    }
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.error_message)
    }
}

/// One queued event.
#[derive(Debug)]
struct Invocation {
    request_id: String,
    body: Bytes,
}

/// State shared by the server's connections and the handle.
#[derive(Debug)]
struct Shared {
    function_arn: String,
    deadline: Duration,
    next_id: AtomicU64,
    queue: Mutex<VecDeque<Invocation>>,
    /// Wakes a `/next` poll when an event is queued.
    queued: Notify,
    record: Mutex<Record>,
    /// Wakes waiters whenever `record` changes.
    changed: Notify,
}

#[derive(Debug, Default)]
struct Record {
    polls: u64,
    pending: Vec<String>,
    outcomes: HashMap<String, Outcome>,
    init_error: Option<FunctionError>,
}

/// A lock that survives a panicking holder; every critical section leaves the data whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Settings of a [`RuntimeApi`].
#[derive(Debug, Clone)]
pub struct RuntimeApiBuilder {
    addr: SocketAddr,
    function_name: String,
    deadline: Duration,
}

impl Default for RuntimeApiBuilder {
    fn default() -> RuntimeApiBuilder {
        RuntimeApiBuilder::new()
    }
}

impl RuntimeApiBuilder {
    /// Listen on a free port of 127.0.0.1, for a function named `function`, with a 30-second
    /// deadline per invocation.
    pub fn new() -> RuntimeApiBuilder {
        RuntimeApiBuilder {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            function_name: "function".to_owned(),
            deadline: Duration::from_secs(30),
        }
    }

    /// The address to listen on; port 0 picks a free port.
    pub fn addr(mut self, addr: SocketAddr) -> RuntimeApiBuilder {
        self.addr = addr;
        self
    }

    /// The function name in the `Lambda-Runtime-Invoked-Function-Arn` header.
    pub fn function_name(mut self, name: impl Into<String>) -> RuntimeApiBuilder {
        self.function_name = name.into();
        self
    }

    /// The time each invocation gets, sent as `Lambda-Runtime-Deadline-Ms`.
    pub fn deadline(mut self, deadline: Duration) -> RuntimeApiBuilder {
        self.deadline = deadline;
        self
    }

    /// Opens the socket and starts serving.
    pub async fn start(self) -> Result<RuntimeApi, RuntimeApiError> {
        let listener =
            TcpListener::bind(self.addr)
                .await
                .map_err(|reason| RuntimeApiError::Bind {
                    addr: self.addr,
                    reason,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|reason| RuntimeApiError::Bind {
                addr: self.addr,
                reason,
            })?;
        let shared = Arc::new(Shared {
            function_arn: format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{}",
                self.function_name
            ),
            deadline: self.deadline,
            next_id: AtomicU64::new(1),
            queue: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
            record: Mutex::new(Record::default()),
            changed: Notify::new(),
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        Ok(RuntimeApi {
            addr,
            function_name: self.function_name,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running local Runtime API. Dropping it stops the server.
#[derive(Debug)]
pub struct RuntimeApi {
    addr: SocketAddr,
    function_name: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// Settings for a new server.
    pub fn builder() -> RuntimeApiBuilder {
        RuntimeApiBuilder::new()
    }

    /// A server on a free port of 127.0.0.1 with default settings.
    pub async fn start() -> Result<RuntimeApi, RuntimeApiError> {
        RuntimeApiBuilder::new().start().await
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for a function's `AWS_LAMBDA_RUNTIME_API`: `127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// The function name it was built with.
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// Queues an event for the next `/next` poll and returns its request id.
    pub fn enqueue(&self, body: impl Into<Vec<u8>>) -> String {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("00000000-0000-4000-8000-{id:012x}");
        lock(&self.shared.record).pending.push(request_id.clone());
        lock(&self.shared.queue).push_back(Invocation {
            request_id: request_id.clone(),
            body: Bytes::from(body.into()),
        });
        self.shared.queued.notify_one();
        request_id
    }

    /// Queues a JSON event and returns its request id.
    pub fn enqueue_json(&self, event: &Value) -> String {
        self.enqueue(event.to_string())
    }

    /// Waits until the function posts an answer or an error for `request_id`.
    pub async fn wait_for(
        &self,
        request_id: &str,
        timeout: Duration,
    ) -> Result<Outcome, RuntimeApiError> {
        self.wait(timeout, &format!("the answer to {request_id}"), |record| {
            if let Some(error) = &record.init_error {
                return Some(Err(RuntimeApiError::InitFailed(error.clone())));
            }
            record.outcomes.get(request_id).cloned().map(Ok)
        })
        .await
    }

    /// Queues `event` and waits for its outcome.
    pub async fn invoke(
        &self,
        event: &Value,
        timeout: Duration,
    ) -> Result<Outcome, RuntimeApiError> {
        let request_id = self.enqueue_json(event);
        self.wait_for(&request_id, timeout).await
    }

    /// Waits until the function has polled for an event at least once: it has started. A
    /// start-up benchmark measures the time to this point.
    pub async fn wait_until_polled(&self, timeout: Duration) -> Result<(), RuntimeApiError> {
        self.wait(timeout, "the first poll for an event", |record| {
            if let Some(error) = &record.init_error {
                return Some(Err(RuntimeApiError::InitFailed(error.clone())));
            }
            (record.polls > 0).then_some(Ok(()))
        })
        .await
    }

    /// How many times the function has polled `/next`.
    pub fn polls(&self) -> u64 {
        lock(&self.shared.record).polls
    }

    /// The initialisation error the function posted, if any.
    pub fn init_error(&self) -> Option<FunctionError> {
        lock(&self.shared.record).init_error.clone()
    }

    /// Stops serving and drops every open connection, including a function's pending poll.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // The serve task ends as soon as it sees the signal; an error here means it was
            // aborted or panicked, and either way it is gone.
            let _ = task.await;
        }
    }

    async fn wait<T>(
        &self,
        timeout: Duration,
        what: &str,
        mut ready: impl FnMut(&Record) -> Option<Result<T, RuntimeApiError>>,
    ) -> Result<T, RuntimeApiError> {
        let waiting = async {
            loop {
                // Register for the wake-up before looking, so a change in between is not lost.
                let changed = self.shared.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if let Some(result) = ready(&lock(&self.shared.record)) {
                    return result;
                }
                changed.await;
            }
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .unwrap_or_else(|_| {
                Err(RuntimeApiError::Timeout {
                    what: what.to_owned(),
                    after: timeout,
                })
            })
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Accepts connections until told to stop; dropping the connection set aborts them all.
async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&shared), request));
                    // A client hanging up mid-request is its business, not the server's.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let Some(route) = path.strip_prefix(PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, "UnknownPath", &path));
    };
    let route: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    Ok(match (method, route.as_slice()) {
        (Method::GET, ["invocation", "next"]) => next(&shared).await,
        (Method::POST, ["invocation", request_id, kind @ ("response" | "error")]) => {
            let request_id = (*request_id).to_owned();
            let is_error = *kind == "error";
            let header = header_text(&request, "lambda-runtime-function-error-type");
            let body = read_body(request).await;
            let outcome = if is_error {
                Outcome::Error(FunctionError::from_post(body, header))
            } else {
                Outcome::Response { body }
            };
            post_outcome(&shared, request_id, outcome)
        }
        (Method::POST, ["init", "error"]) => {
            let header = header_text(&request, "lambda-runtime-function-error-type");
            let body = read_body(request).await;
            lock(&shared.record).init_error = Some(FunctionError::from_post(body, header));
            shared.changed.notify_waiters();
            accepted()
        }
        _ => reply(StatusCode::NOT_FOUND, "UnknownPath", &path),
    })
}

/// `GET /next`: long-polls until an event is queued, as the real API does.
async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    lock(&shared.record).polls += 1;
    shared.changed.notify_waiters();
    let invocation = loop {
        if let Some(invocation) = lock(&shared.queue).pop_front() {
            break invocation;
        }
        shared.queued.notified().await;
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + shared.deadline;
    let mut response = Response::new(Full::new(invocation.body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &invocation.request_id);
    set(
        "lambda-runtime-deadline-ms",
        &deadline.as_millis().to_string(),
    );
    set("lambda-runtime-invoked-function-arn", &shared.function_arn);
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
    );
    response
}

fn post_outcome(shared: &Shared, request_id: String, outcome: Outcome) -> Response<Full<Bytes>> {
    let mut record = lock(&shared.record);
    let Some(position) = record
        .pending
        .iter()
        .position(|pending| *pending == request_id)
    else {
        return reply(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            &format!("unknown or answered request id {request_id}"),
        );
    };
    record.pending.swap_remove(position);
    record.outcomes.insert(request_id, outcome);
    drop(record);
    shared.changed.notify_waiters();
    accepted()
}

async fn read_body(request: Request<Incoming>) -> Vec<u8> {
    // A body cut short is recorded as what arrived; the waiting test then fails on it.
    request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes().to_vec())
        .unwrap_or_default()
}

fn header_text(request: &Request<Incoming>, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn accepted() -> Response<Full<Bytes>> {
    json_response(StatusCode::ACCEPTED, &serde_json::json!({"status": "OK"}))
}

fn reply(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(
        status,
        &serde_json::json!({"errorType": error_type, "errorMessage": message}),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_leniently() {
        let error = FunctionError::from_post(
            br#"{"errorType":"PaymentError","errorMessage":"declined"}"#.to_vec(),
            None,
        );
        assert_eq!(
            (error.error_type.as_str(), error.error_message.as_str()),
            ("PaymentError", "declined")
        );
        let error = FunctionError::from_post(b"not json".to_vec(), Some("Runtime.Unknown".into()));
        assert_eq!(error.error_type, "");
        assert_eq!(error.header_error_type.as_deref(), Some("Runtime.Unknown"));
    }
}
