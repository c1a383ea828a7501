//! One invocation, end to end: event -> request -> router -> response in
//! the source's shape, with panics contained, the causes of 5xx logged (the
//! one place), CORS added and one log line.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use http::Method;
use lambda_runtime::{LambdaEvent, service_fn};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::config::{Config, Defaults};
use crate::error::{ApiError, BoxError};
use crate::event::{self, LambdaResponse, NotHttpEvent};
use crate::metrics::RequestRecord;
use crate::request::Request;
use crate::response::Response;
use crate::router::{self, RouteInfo, Router};

/// A function's router, its long-lived state and the HTTP settings.
#[derive(Debug)]
pub struct App<S> {
    router: Router<S>,
    state: Arc<S>,
    config: Config,
}

impl<S: Send + Sync + 'static> App<S> {
    /// Builds the app; `state` is shared by every request (clients, stores).
    pub fn new(router: Router<S>, state: S, config: Config) -> Self {
        Self {
            router,
            state: Arc::new(state),
            config,
        }
    }

    /// The routes this function serves.
    pub fn routes(&self) -> Vec<RouteInfo> {
        self.router.routes()
    }

    /// Answers one Lambda payload. `Err` only when it is not an HTTP event.
    pub async fn invoke(
        &self,
        payload: &str,
        invocation_id: &str,
    ) -> Result<LambdaResponse, NotHttpEvent> {
        let started = Instant::now();
        let (source, request) = event::adapt(payload, invocation_id).inspect_err(|error| {
            tracing::warn!(request_id = invocation_id, %error, "rejected a non-HTTP event");
        })?;
        let (response, method, path, request_id, route) = match request {
            Ok(request) => {
                let method = request.method.clone();
                let path = request.path.clone();
                let request_id = request.request_id.clone();
                let route = self.router.template(&path);
                (self.handle(request).await, method, path, request_id, route)
            }
            Err(error) => {
                tracing::warn!(request_id = invocation_id, error = %error, "unreadable HTTP event");
                let mut response = error.into_response();
                self.config
                    .cors
                    .apply(&Method::GET, &http::HeaderMap::new(), &mut response);
                (
                    response,
                    Method::GET,
                    String::new(),
                    invocation_id.to_owned(),
                    None,
                )
            }
        };
        crate::trace::with_current(|trace_header| {
            RequestRecord {
                invocation_id,
                trace_header,
                request_id: &request_id,
                method: method.as_str(),
                path: &path,
                route,
                status: response.status.as_u16(),
                latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            }
            .log();
        });
        Ok(LambdaResponse::new(response, source))
    }

    /// Answers one request: body limit, routing, handler (a panic is a
    /// 500), the cause of a 5xx logged, `HEAD` without body, CORS headers.
    pub async fn handle(&self, request: Request) -> Response {
        let method = request.method.clone();
        // Only what CORS reads survives the move into the handler; cloning
        // every header would cost each request an allocation per header.
        let mut cors_headers = http::HeaderMap::new();
        for name in [
            http::header::ORIGIN,
            http::header::ACCESS_CONTROL_REQUEST_HEADERS,
        ] {
            if let Some(value) = request.headers.get(&name) {
                cors_headers.insert(name, value.clone());
            }
        }
        let result = if request.body.len() > self.config.max_body_bytes {
            Err(ApiError::PayloadTooLarge(self.config.max_body_bytes))
        } else {
            contain_panics(self.router.call(request, Arc::clone(&self.state)))
                .await
                .unwrap_or_else(|()| Err(ApiError::internal("request handler panicked")))
        };
        if let Err(error) = &result {
            log_fault(error);
        }
        let mut response = router::respond(&method, result);
        self.config
            .cors
            .apply(&method, &cors_headers, &mut response);
        response
    }
}

/// Logs the cause of a 5xx, the one place faults are logged; the client
/// only gets the generic message.
fn log_fault(error: &ApiError) {
    match error {
        ApiError::Unavailable(cause) => tracing::error!(error = %cause, "dependency unavailable"),
        ApiError::Internal(cause) => tracing::error!(error = %cause, "internal error"),
        _ => {}
    }
}

/// The variables the Runtime API client needs; `lambda_runtime` panics
/// without them, so say plainly what is missing and how to run instead.
fn check_lambda_environment() -> Result<(), String> {
    let missing: Vec<&str> = [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    ]
    .into_iter()
    .filter(|name| std::env::var_os(name).is_none())
    .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} not set: this binary serves the Lambda Runtime API; run it on AWS Lambda, \
         in the container image, or locally with `scripts/dev` (cargo lambda watch)",
        missing.join(", ")
    ))
}

/// Polls `future`, turning a panic into `Err(())`; the panic itself is
/// logged by the hook that [`crate::logging::init`] installs.
async fn contain_panics<F: Future>(future: F) -> Result<F::Output, ()> {
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    })
    .await
}

/// Runs a function: sets up logging and metrics, reads [`Config`], builds
/// the state with `init` (clients and stores, once per process), then serves
/// the Lambda Runtime API until the process is stopped; on SIGTERM or SIGINT
/// it logs a last line, flushes and returns `Ok` (exit status 0, see
/// [`crate::shutdown`]). Each invocation runs inside lambda_runtime's span
/// (`requestId`, `xrayTraceId`: on every line it logs) and
/// [`crate::trace::scope`] with its X-Ray trace header.
///
/// With `--routes` (the route table) or `--openapi` (the OpenAPI description
/// of the routes) it prints JSON and exits before `init`, so tools can read a
/// function's routes without AWS, a network or a store.
pub async fn run<S, F>(router: Router<S>, init: F) -> Result<(), lambda_runtime::Error>
where
    S: Send + Sync + 'static,
    F: AsyncFnOnce() -> Result<S, BoxError>,
{
    run_with(router, Defaults::new(), init).await
}

/// [`run`] for a function that declares its own [`Defaults`] (the body size
/// its routes accept); the environment still overrides each.
pub async fn run_with<S, F>(
    router: Router<S>,
    defaults: Defaults,
    init: F,
) -> Result<(), lambda_runtime::Error>
where
    S: Send + Sync + 'static,
    F: AsyncFnOnce() -> Result<S, BoxError>,
{
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--routes" => {
                println!("{}", serde_json::to_string_pretty(&router.routes())?);
                return Ok(());
            }
            "--openapi" => {
                println!("{}", router.documentation().to_pretty_json()?);
                return Ok(());
            }
            _ => {}
        }
    }
    crate::logging::init();
    check_lambda_environment()?;
    crate::metrics::init(&std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default());
    let config = Config::from_env(defaults)?;
    let state = init().await.inspect_err(|error| {
        tracing::error!(%error, "start-up failed");
    })?;
    let app = Arc::new(App::new(router, state, config));
    let serve = lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| {
        let app = Arc::clone(&app);
        let LambdaEvent { payload, context } = event;
        crate::trace::scope(context.xray_trace_id, async move {
            match payload {
                Payload::Json(raw) => app.invoke(raw.get(), &context.request_id).await,
                Payload::NotJson(reason) => {
                    tracing::warn!(
                        request_id = context.request_id,
                        reason,
                        "payload is not JSON"
                    );
                    Err(NotHttpEvent::NotJson(reason))
                }
            }
        })
    }));
    tokio::select! {
        served = serve => served,
        signal = crate::shutdown::signal() => {
            crate::shutdown::finish(signal);
            Ok(())
        }
    }
}

/// A Lambda payload as lambda_runtime hands it over: the JSON text, kept
/// raw for [`event::adapt`], or why it is not JSON.
///
/// Reading never fails: lambda_runtime would answer a payload it cannot
/// read with a Lambda error whose `errorType` is its own Rust type name.
/// AWS never delivers one (Invoke refuses a body that is not JSON), but a
/// local caller can; this way it gets `InvalidJsonPayload` from
/// [`NotHttpEvent`], with serde_json's reason.
#[derive(Debug)]
enum Payload {
    Json(Box<RawValue>),
    NotJson(String),
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Box::<RawValue>::deserialize(deserializer) {
            Ok(raw) => Self::Json(raw),
            Err(error) => Self::NotJson(error.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Payload;
    use serde::Deserialize;

    /// Read as lambda_runtime reads a payload: one value from the bytes,
    /// trailing data not checked.
    fn read(bytes: &[u8]) -> Payload {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        Payload::deserialize(&mut deserializer).expect("reading a payload never fails")
    }

    #[test]
    fn every_payload_reads_as_json_text_or_the_reason_it_is_not() {
        let cases: [(&[u8], Result<&str, &str>); 6] = [
            (br#"{"httpMethod":"GET"}"#, Ok(r#"{"httpMethod":"GET"}"#)),
            (b" [1, 2] ", Ok("[1, 2]")),
            (b"{} {}", Ok("{}")),
            (b"not JSON", Err("expected ident at line 1 column 2")),
            (b"{\"a\":\xff}", Err("expected value at line 1 column 6")),
            (b"", Err("EOF while parsing a value at line 1 column 0")),
        ];
        for (bytes, expected) in cases {
            let outcome = match read(bytes) {
                Payload::Json(raw) => Ok(raw.get().to_owned()),
                Payload::NotJson(reason) => Err(reason),
            };
            let expected = expected.map(str::to_owned).map_err(str::to_owned);
            assert_eq!(outcome, expected, "{}", String::from_utf8_lossy(bytes));
        }
    }
}
