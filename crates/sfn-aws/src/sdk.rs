//! What the handlers share about calling the SDK: seeing the HTTP exchange, shaping
//! Step Functions' `SdkHttpMetadata`/`SdkResponseMetadata`, and turning SDK errors into
//! [`Error`]s.

use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Map, Value, json};

use crate::error::{Error, Service};

/// Records the endpoint a call went to and the HTTP answer it got. The SDK's outputs do not
/// carry the response headers Step Functions puts in `SdkHttpMetadata`, so each call gets its
/// own recorder, attached through `customize().interceptor(..)`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exchange(Arc<Mutex<Seen>>);

#[derive(Debug, Default)]
struct Seen {
    endpoint: Option<String>,
    status: Option<u16>,
    headers: Vec<(String, String)>,
}

impl Exchange {
    fn with<T>(&self, f: impl FnOnce(&mut Seen) -> T) -> T {
        // A panic elsewhere cannot leave `Seen` half-written: every write is one assignment.
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// `scheme://authority` of the last request sent, if one was.
    pub(crate) fn endpoint(&self) -> Option<String> {
        self.with(|seen| seen.endpoint.clone())
    }

    /// Step Functions' `SdkHttpMetadata` and `SdkResponseMetadata` for the answer received.
    pub(crate) fn metadata(&self, request_id: Option<&str>) -> [(&'static str, Value); 2] {
        let (status, headers) = self.with(|seen| (seen.status, seen.headers.clone()));
        let mut all = Map::new();
        let mut last = Map::new();
        for (name, value) in headers {
            if let Value::Array(values) = all
                .entry(name.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                values.push(Value::String(value.clone()));
            }
            last.insert(name, Value::String(value));
        }
        [
            (
                "SdkHttpMetadata",
                json!({"AllHttpHeaders": all, "HttpHeaders": last, "HttpStatusCode": status.unwrap_or(200)}),
            ),
            ("SdkResponseMetadata", json!({"RequestId": request_id})),
        ]
    }
}

impl Intercept for Exchange {
    fn name(&self) -> &'static str {
        "StepFunctionsExchange"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        let endpoint = match uri.split_once("://") {
            Some((scheme, rest)) => format!(
                "{scheme}://{}",
                rest.split(['/', '?']).next().unwrap_or(rest)
            ),
            None => uri.to_owned(),
        };
        self.with(|seen| seen.endpoint = Some(endpoint));
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        self.with(|seen| {
            seen.status = Some(status);
            seen.headers = headers;
        });
        Ok(())
    }
}

/// A result object: `fields` (those present) followed by the metadata, as Step Functions
/// returns a service integration's answer.
pub(crate) fn result(
    fields: Vec<(&'static str, Option<Value>)>,
    exchange: &Exchange,
    request_id: Option<&str>,
) -> Value {
    let mut map = Map::new();
    for (name, value) in fields {
        if let Some(value) = value {
            map.insert(name.to_owned(), value);
        }
    }
    for (name, value) in exchange.metadata(request_id) {
        map.insert(name.to_owned(), value);
    }
    Value::Object(map)
}

/// An SDK error as this crate reports it. `endpoint` names where the call was meant to go
/// when it failed before a request was sent.
pub(crate) fn from_sdk<E>(
    service: Service,
    error: SdkError<E, HttpResponse>,
    exchange: &Exchange,
    endpoint: &str,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let SdkError::ServiceError(context) = &error {
        let err = context.err();
        let headers = context.raw().headers();
        let request_id = err
            .meta()
            .extra("aws_request_id")
            .or_else(|| headers.get("x-amzn-requestid"))
            .or_else(|| headers.get("x-amz-request-id"))
            .map(str::to_owned);
        return Error::Service {
            service,
            code: err.code().map(str::to_owned),
            // An answer the SDK could not read a message from (a stand-in's own error page)
            // is shown as it came, so the cause still says what went wrong.
            message: err
                .message()
                .map(str::to_owned)
                .or_else(|| context.raw().body().bytes().and_then(body_text)),
            status: Some(context.raw().status().as_u16()),
            request_id,
        };
    }
    Error::Transport {
        service,
        endpoint: exchange.endpoint().unwrap_or_else(|| endpoint.to_owned()),
        reason: chain(&error),
    }
}

/// At most 1 KiB of a response body, as text; `None` when empty.
fn body_text(bytes: &[u8]) -> Option<String> {
    const LIMIT: usize = 1024;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(LIMIT)])
        .trim()
        .to_owned();
    (!text.is_empty()).then_some(text)
}

/// An error and its sources, outermost first: `dispatch failure: io error: … Connection refused`.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        // Some layers repeat their source's text in their own.
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}
