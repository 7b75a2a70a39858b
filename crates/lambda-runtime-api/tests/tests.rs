//! The server speaks the Runtime API as a runtime client expects, checked with a plain HTTP
//! client.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use lambda_runtime_api::{Outcome, RuntimeApi, RuntimeApiError};
use serde_json::{Value, json};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(10);

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }
}

/// One request on a fresh connection, as the runtime client's pool may do.
async fn request(
    api: &RuntimeApi,
    method: Method,
    path: &str,
    body: &str,
    header: Option<(&str, &str)>,
) -> Reply {
    let stream = TcpStream::connect(api.addr()).await.expect("connects");
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", api.endpoint());
    if let Some((name, value)) = header {
        builder = builder.header(name, value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request");
    let response = tokio::time::timeout(TIMEOUT, sender.send_request(request))
        .await
        .expect("in time")
        .expect("sent");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

async fn next(api: &RuntimeApi) -> Reply {
    request(
        api,
        Method::GET,
        "/2018-06-01/runtime/invocation/next",
        "",
        None,
    )
    .await
}

#[tokio::test]
async fn serves_events_and_records_answers() {
    let api = RuntimeApi::builder()
        .function_name("check-stock")
        .start()
        .await
        .expect("listens");
    assert!(api.addr().ip().is_loopback());
    let first = api.enqueue_json(&json!({"items": []}));
    let second = api.enqueue_json(&json!({"n": 2}));

    let event = next(&api).await;
    assert_eq!(event.status, StatusCode::OK);
    assert_eq!(
        event.header("lambda-runtime-aws-request-id"),
        Some(first.clone())
    );
    assert_eq!(
        event
            .header("lambda-runtime-invoked-function-arn")
            .as_deref(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:check-stock")
    );
    let deadline: u128 = event
        .header("lambda-runtime-deadline-ms")
        .expect("deadline")
        .parse()
        .expect("millis");
    assert!(deadline > 1_700_000_000_000, "{deadline}");
    assert_eq!(
        serde_json::from_slice::<Value>(&event.body).expect("json"),
        json!({"items": []})
    );
    assert_eq!(api.polls(), 1);

    let path = format!("/2018-06-01/runtime/invocation/{first}/response");
    assert_eq!(
        request(&api, Method::POST, &path, "[1,2]", None)
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let outcome = api.wait_for(&first, TIMEOUT).await.expect("answered");
    assert_eq!(outcome.json(), Some(json!([1, 2])));

    let event = next(&api).await;
    assert_eq!(
        event.header("lambda-runtime-aws-request-id"),
        Some(second.clone())
    );
    let path = format!("/2018-06-01/runtime/invocation/{second}/error");
    let body = r#"{"errorType":"PaymentError","errorMessage":"declined"}"#;
    let reply = request(
        &api,
        Method::POST,
        &path,
        body,
        Some(("lambda-runtime-function-error-type", "unhandled")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let Outcome::Error(error) = api.wait_for(&second, TIMEOUT).await.expect("answered") else {
        panic!("an error")
    };
    assert_eq!(
        (error.error_type.as_str(), error.error_message.as_str()),
        ("PaymentError", "declined")
    );
    assert_eq!(error.header_error_type.as_deref(), Some("unhandled"));

    // A second answer, or one for an id never issued, is refused as the real API does.
    let path = format!("/2018-06-01/runtime/invocation/{second}/response");
    assert_eq!(
        request(&api, Method::POST, &path, "{}", None).await.status,
        StatusCode::BAD_REQUEST
    );
    let path = "/2018-06-01/runtime/invocation/nope/response";
    assert_eq!(
        request(&api, Method::POST, path, "{}", None).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        request(&api, Method::GET, "/elsewhere", "", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    api.shutdown().await;
}

#[tokio::test]
async fn next_waits_for_an_event() {
    let api = RuntimeApi::start().await.expect("listens");
    let polling = {
        let addr = api.addr();
        tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connects");
            let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(connection);
            let request = Request::get("/2018-06-01/runtime/invocation/next")
                .body(Full::new(Bytes::new()))
                .expect("request");
            let response = sender.send_request(request).await.expect("sent");
            response
                .headers()
                .get("lambda-runtime-aws-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
    };
    api.wait_until_polled(TIMEOUT).await.expect("polled");
    let id = api.enqueue("{}");
    let served = tokio::time::timeout(TIMEOUT, polling)
        .await
        .expect("in time")
        .expect("joined");
    assert_eq!(served, Some(id));
    api.shutdown().await;
}

#[tokio::test]
async fn waiting_is_bounded() {
    let api = RuntimeApi::start().await.expect("listens");
    let id = api.enqueue("{}");
    let error = api
        .wait_for(&id, Duration::from_millis(50))
        .await
        .expect_err("nobody answers");
    assert!(matches!(error, RuntimeApiError::Timeout { .. }), "{error}");
    let error = api
        .wait_until_polled(Duration::from_millis(50))
        .await
        .expect_err("nobody polls");
    assert!(matches!(error, RuntimeApiError::Timeout { .. }), "{error}");
    api.shutdown().await;
}

#[tokio::test]
async fn init_errors_end_the_wait() {
    let api = RuntimeApi::start().await.expect("listens");
    let body = r#"{"errorType":"ConfigurationError","errorMessage":"ORDERFLOW_SEED must be an unsigned 64-bit integer"}"#;
    let reply = request(
        &api,
        Method::POST,
        "/2018-06-01/runtime/init/error",
        body,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let error = api
        .wait_until_polled(TIMEOUT)
        .await
        .expect_err("failed to start");
    assert!(
        matches!(&error, RuntimeApiError::InitFailed(e) if e.error_type == "ConfigurationError"),
        "{error}"
    );
    assert!(api.init_error().is_some());
    api.shutdown().await;
}

#[tokio::test]
async fn shutdown_ends_pending_polls() {
    let api = RuntimeApi::start().await.expect("listens");
    let addr = api.addr();
    let polling = tokio::spawn(async move {
        let stream = TcpStream::connect(addr).await.expect("connects");
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        let request = Request::get("/2018-06-01/runtime/invocation/next")
            .body(Full::new(Bytes::new()))
            .expect("request");
        sender.send_request(request).await.is_err()
    });
    api.wait_until_polled(TIMEOUT).await.expect("polled");
    tokio::time::timeout(TIMEOUT, api.shutdown())
        .await
        .expect("shuts down in time");
    let cut = tokio::time::timeout(TIMEOUT, polling)
        .await
        .expect("poll ends")
        .expect("joined");
    assert!(cut, "the pending poll is cut rather than answered");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "nothing listens after shutdown"
    );
}
