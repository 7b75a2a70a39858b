//! A stand-in for the DynamoDB JSON API on loopback that answers each request with the next
//! of a scripted list of answers, the way DynamoDB answers a throttled, failing or slow call,
//! so the ledger's error mapping is tested through the real SDK and its retries.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use orders_aws::DynamoDbLedger;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One answer of the fake service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// 200 with an empty object: no item for a GetItem, a write for a PutItem.
    Empty,
    /// 400 `ProvisionedThroughputExceededException`.
    Throttled,
    /// 500 `InternalServerError`.
    ServerError,
    /// 400 `ValidationException`.
    Invalid,
    /// 400 `AccessDeniedException`.
    Denied,
    /// An empty object after three seconds, longer than the client waits.
    Slow,
}

/// The server; stops on drop. Once the script is used up it answers [`Answer::Empty`].
pub struct FakeDynamoDb {
    pub url: String,
    script: Arc<Mutex<VecDeque<Answer>>>,
    requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl FakeDynamoDb {
    pub async fn start(script: &[Answer]) -> FakeDynamoDb {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (queue, log) = (Arc::clone(&script), Arc::clone(&requests));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (queue, log) = (Arc::clone(&queue), Arc::clone(&log));
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        answer(request, Arc::clone(&queue), Arc::clone(&log))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeDynamoDb {
            url,
            script,
            requests,
            task,
        }
    }

    /// The `X-Amz-Target` operation of every request received, e.g. `DynamoDB_20120810.GetItem`.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Answers not given yet.
    pub fn remaining(&self) -> usize {
        self.script
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// A ledger on this server through a client configured as the function configures its
    /// own (three attempts, two-second attempt timeout), with back-offs short enough for a
    /// test.
    pub fn ledger(&self) -> DynamoDbLedger {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(http)
            .retry_config(
                aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(5))
                    .with_max_backoff(Duration::from_millis(20)),
            )
            .timeout_config(
                aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(1))
                    .operation_timeout(Duration::from_secs(5))
                    .build(),
            )
            .build();
        DynamoDbLedger::new(aws_sdk_dynamodb::Client::from_conf(config), "ledger")
    }
}

impl Drop for FakeDynamoDb {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    request: Request<Incoming>,
    script: Arc<Mutex<VecDeque<Answer>>>,
    log: Arc<Mutex<Vec<String>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // The body is read so the connection stays usable for the SDK's next attempt.
    let _ = request.into_body().collect().await;
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(target);
    let next = script
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front()
        .unwrap_or(Answer::Empty);
    let error = |status: u16, kind: &str, message: &str| {
        let body = format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"{message}"}}"#
        );
        Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amzn-RequestId", "req-fake")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default()
    };
    let empty = || {
        Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amzn-RequestId", "req-fake")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap_or_default()
    };
    Ok(match next {
        Answer::Empty => empty(),
        Answer::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            empty()
        }
        Answer::Throttled => error(
            400,
            "ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded.",
        ),
        Answer::ServerError => error(500, "InternalServerError", "Internal server error"),
        Answer::Invalid => error(
            400,
            "ValidationException",
            "One or more parameter values were invalid",
        ),
        Answer::Denied => error(
            400,
            "AccessDeniedException",
            "User is not authorized to perform: dynamodb:GetItem",
        ),
    })
}
