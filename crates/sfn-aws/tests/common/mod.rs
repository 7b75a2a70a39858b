//! Harness: a `moto_server` on loopback, a stand-in for the Lambda Invoke API, and helpers.

pub mod fake_lambda;
pub mod moto;

use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use sfn_aws::AwsClients;
use sfn_local::TaskRequest;

/// Runs `test`, failing it if it takes longer than `seconds`: no test may hang.
pub async fn within<T>(seconds: u64, test: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(seconds), test).await {
        Ok(value) => value,
        Err(_) => panic!("the test did not finish within {seconds} s"),
    }
}

/// Clients for `endpoint`, each call bounded.
pub async fn clients(endpoint: &str) -> AwsClients {
    AwsClients::builder()
        .endpoint_url(endpoint)
        .region("us-east-1")
        .connect_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(20))
        .build()
        .await
        .expect("clients for a loopback endpoint")
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A Task request as the engine builds it.
pub fn request(resource: &str, input: Value) -> TaskRequest {
    TaskRequest::new(resource, input)
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}
