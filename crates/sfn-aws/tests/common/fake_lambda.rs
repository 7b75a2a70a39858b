//! A stand-in for the Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) on
//! loopback, answering as the Lambda service does for a few named functions.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request the functions received.
#[derive(Debug, Clone)]
pub struct Received {
    pub function: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The server; stops on drop.
pub struct FakeLambda {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl FakeLambda {
    /// Functions:
    /// - `echo`: answers the payload it got (202 and nothing for an `Event` invocation);
    /// - `declines`: a function error whose payload names `PaymentError`;
    /// - `times-out`: a function error whose payload has no `errorType`;
    /// - `emulated`: a function error as `cargo lambda watch` answers it (HTTP 500, the error
    ///   object, no `X-Amz-Function-Error`); `unlisted`: its answer for a function it lacks;
    /// - `busy`, `broken`, `denied`: 429 `TooManyRequestsException`, 500 `ServiceException`,
    ///   403 `AccessDeniedException`;
    /// - anything else: 404 `ResourceNotFoundException`.
    pub async fn start() -> FakeLambda {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(request, Arc::clone(&log)));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeLambda {
            url,
            received,
            task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FakeLambda {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    request: Request<Incoming>,
    log: Arc<Mutex<Vec<Received>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().replace("%3A", ":").replace("%3a", ":");
    let query = request.uri().query().unwrap_or_default().to_owned();
    let headers = request
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect::<Vec<_>>();
    let name = path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .map(|name| {
            name.rsplit(":function:")
                .next()
                .unwrap_or(name)
                .split(':')
                .next()
                .unwrap_or(name)
                .to_owned()
        })
        .unwrap_or_default();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let received = Received {
        function: name.clone(),
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let event = received.header("x-amz-invocation-type") == Some("Event");
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(received);

    let ok = |status: u16, body: Bytes| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("x-amzn-RequestId", "req-echo")
            .header("X-Amz-Executed-Version", "7")
            .body(Full::new(body))
    };
    let function_error = |payload: &'static str| {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("x-amzn-RequestId", "req-error")
            .header("X-Amz-Executed-Version", "$LATEST")
            .header("X-Amz-Function-Error", "Unhandled")
            .body(Full::new(Bytes::from_static(payload.as_bytes())))
    };
    let service_error = |status: u16, code: &str, message: &str| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("x-amzn-RequestId", "req-fault")
            .header("x-amzn-ErrorType", code)
            .body(Full::new(Bytes::from(format!(
                r#"{{"Type":"User","message":"{message}"}}"#
            ))))
    };
    let response = match name.as_str() {
        "echo" if event => ok(202, Bytes::new()),
        "echo" => ok(200, body),
        "declines" => {
            function_error(r#"{"errorType":"PaymentError","errorMessage":"card declined"}"#)
        }
        "times-out" => function_error(r#"{"errorMessage":"Task timed out after 3.00 seconds"}"#),
        "unlisted" => Response::builder()
            .status(404)
            .body(Full::new(Bytes::from_static(
                br#"{"title":"Missing function"}"#,
            ))),
        "emulated" => Response::builder()
            .status(500)
            .body(Full::new(Bytes::from_static(
                br#"{"errorType":"PaymentError","errorMessage":"declined"}"#,
            ))),
        "busy" => service_error(429, "TooManyRequestsException", "Rate Exceeded."),
        "broken" => service_error(500, "ServiceException", "Lambda is unavailable"),
        "denied" => service_error(403, "AccessDeniedException", "not allowed"),
        other => service_error(
            404,
            "ResourceNotFoundException",
            &format!("Function not found: arn:aws:lambda:us-east-1:123456789012:function:{other}"),
        ),
    };
    Ok(response.unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"bad response")))))
}
