//! The HTTP side: one loopback listener, AWS JSON 1.0 requests (`POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Action>`), bounded in size and in connections, refused
//! when their `Host` is not this server's address (DNS rebinding) or when a browser sends
//! them from another origin.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderValue, ORIGIN};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::Service;
use crate::error::ApiError;

/// The largest request body taken: a definition may be 1 MiB (AWS's quota), plus room for
/// the JSON around it.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024 + 64 * 1024;

/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 256;

const TARGET_PREFIX: &str = "AWSStepFunctions.";
const JSON_1_0: &str = "application/x-amz-json-1.0";

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Something else listens on the address.
    #[error(
        "{addr} is already in use: another orderflow serve (or another program) listens there; stop it or pick another port with --addr"
    )]
    AddrInUse {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// Only loopback addresses are served.
    #[error("{addr} is not a loopback address: the local endpoint serves 127.0.0.1 or [::1] only")]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// Binding or accepting failed otherwise.
    #[error("listening on {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        source: std::io::Error,
    },
}

/// A bound server; [`Server::run`] serves it.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    service: Arc<Service>,
}

impl Server {
    /// Binds `addr` (a loopback address; port 0 picks a free one).
    pub async fn bind(addr: SocketAddr, service: Arc<Service>) -> Result<Server, ServerError> {
        if !addr.ip().is_loopback() {
            return Err(ServerError::NotLoopback { addr });
        }
        let listener = TcpListener::bind(addr).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                ServerError::AddrInUse { addr }
            } else {
                ServerError::Io { addr, source }
            }
        })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServerError::Io { addr, source })?;
        Ok(Server {
            listener,
            addr,
            service,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until the process ends (or the listener fails).
    pub async fn run(self) -> Result<(), ServerError> {
        self.run_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), ServerError> {
        let permits = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let addr = self.addr;
        tokio::pin!(shutdown);
        loop {
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                return Ok(());
            };
            let accepted = tokio::select! {
                () = &mut shutdown => return Ok(()),
                accepted = self.listener.accept() => accepted,
            };
            let (stream, _) = match accepted {
                Ok(pair) => pair,
                // A connection that failed before it was accepted (reset, out of files for
                // a moment) is that client's problem, not the server's.
                Err(e) if is_transient(&e) => continue,
                Err(source) => return Err(ServerError::Io { addr, source }),
            };
            let service = Arc::clone(&self.service);
            tokio::spawn(async move {
                let handler = hyper::service::service_fn(move |request| {
                    let service = Arc::clone(&service);
                    async move {
                        Ok::<_, std::convert::Infallible>(answer(&service, addr, request).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), handler)
                    .await;
                drop(permit);
            });
        }
    }
}

fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    ) || e
        .raw_os_error()
        .is_some_and(|code| code == 24 || code == 23)
}

/// Whether `host` (a `Host` header or an origin's authority) is this server's address.
fn is_own_host(host: &str, addr: SocketAddr) -> bool {
    let port = addr.port();
    [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ]
    .iter()
    .any(|own| own.eq_ignore_ascii_case(host))
}

async fn answer(
    service: &Arc<Service>,
    addr: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    match checked(service, addr, request).await {
        Ok(value) => reply(StatusCode::OK, &value, None),
        Err(e) => error_reply(&e),
    }
}

async fn checked(
    service: &Arc<Service>,
    addr: SocketAddr,
    request: Request<Incoming>,
) -> Result<Value, ApiError> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let host = header(HOST.as_str()).unwrap_or_default();
    if !is_own_host(host, addr) {
        return Err(forbidden(format!(
            "the Host header {host:?} is not this server's address ({addr}); requests through another name are refused"
        )));
    }
    // A browser page of another origin must not drive the API.
    if let Some(origin) = header(ORIGIN.as_str()) {
        let authority = origin.strip_prefix("http://").unwrap_or("");
        if !is_own_host(authority, addr) {
            return Err(forbidden(format!(
                "requests from the origin {origin:?} are refused"
            )));
        }
    }
    if request.method() != Method::POST || request.uri().path() != "/" {
        return Err(ApiError {
            code: "UnknownOperationException",
            message: format!(
                "{} {} is not an AWS JSON 1.0 request: POST / with X-Amz-Target: AWSStepFunctions.<Action>",
                request.method(),
                request.uri().path()
            ),
            status: 404,
        });
    }
    let target = header("x-amz-target").unwrap_or_default().to_owned();
    let Some(action) = target.strip_prefix(TARGET_PREFIX).map(str::to_owned) else {
        return Err(ApiError::unknown_operation(&target));
    };
    let declared = header(CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BYTES) {
        return Err(too_large());
    }
    let body = Limited::new(request.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
        .map_err(|_| too_large())?
        .to_bytes();
    let params: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError {
            code: "SerializationException",
            message: format!("the request body is not JSON: {e}"),
            status: 400,
        })?
    };
    service.call(&action, &params).await
}

fn forbidden(message: String) -> ApiError {
    ApiError {
        code: "AccessDeniedException",
        message,
        status: 403,
    }
}

fn too_large() -> ApiError {
    ApiError {
        code: "ValidationException",
        message: format!("the request body is over {MAX_REQUEST_BYTES} bytes"),
        status: 413,
    }
}

fn reply(status: StatusCode, value: &Value, error_type: Option<&str>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_1_0));
    if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        headers.insert("x-amzn-requestid", id);
    }
    if let Some(kind) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert("x-amzn-errortype", kind);
    }
    response
}

fn error_reply(e: &ApiError) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    reply(
        status,
        &json!({"__type": e.code, "message": e.message}),
        Some(e.code),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bound_address_is_its_own_host() {
        let addr: SocketAddr = "127.0.0.1:8083".parse().expect("an address");
        for own in [
            "127.0.0.1:8083",
            "localhost:8083",
            "LOCALHOST:8083",
            "[::1]:8083",
        ] {
            assert!(is_own_host(own, addr), "{own}");
        }
        for other in [
            "",
            "127.0.0.1",
            "127.0.0.1:8084",
            "evil.example:8083",
            "sync-127.0.0.1:8083",
        ] {
            assert!(!is_own_host(other, addr), "{other}");
        }
    }
}
