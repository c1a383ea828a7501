//! One invocation, end to end: event -> request -> router -> response in
//! the source's shape, with panics contained, the handler bounded by the
//! invocation's deadline, the causes of 5xx logged (the one place), CORS
//! added and one log line. A route that requires a scope is checked here,
//! before its handler (see [`App::handle`]).

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Instant;

use http::Method;
use lambda_runtime::{LambdaEvent, service_fn};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::auth::Principal;
#[cfg(feature = "auth")]
use crate::auth::{AuthError, Verifier};
use crate::config::{Config, Defaults};
use crate::deadline::{self, Deadline};
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
    /// Verifies bearer tokens when the event carries no authorizer context.
    #[cfg(feature = "auth")]
    verifier: Option<Verifier>,
}

impl<S: Send + Sync + 'static> App<S> {
    /// Builds the app; `state` is shared by every request (clients, stores).
    pub fn new(router: Router<S>, state: S, config: Config) -> Self {
        Self {
            router,
            state: Arc::new(state),
            config,
            #[cfg(feature = "auth")]
            verifier: None,
        }
    }

    /// Verifies bearer tokens with `verifier` on protected routes whose
    /// event carries no authorizer context (Function URL, ALB, `cargo
    /// lambda watch`). Without one, such requests are refused (401).
    #[cfg(feature = "auth")]
    pub fn with_verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = Some(verifier);
        self
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
        let base_path = self.config.base_path.as_ref();
        let (source, request) =
            event::adapt(payload, invocation_id, base_path).inspect_err(|error| {
                tracing::warn!(request_id = invocation_id, %error, "rejected a non-HTTP event");
            })?;
        let (response, method, path, request_id, route) = match request {
            Ok(request) => {
                let method = request.method.clone();
                let path = request.path.clone();
                let request_id = request.request_id.clone();
                let (response, route) = self.answer(request).await;
                (response, method, path, request_id, route)
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

    /// Answers one request: body limit, the caller and its scope on a
    /// protected route, routing, handler (a panic is a 500; still running
    /// at the [`deadline::current`] deadline, a 503 and the handler
    /// dropped), the cause of a 5xx logged, `HEAD` without body, CORS
    /// headers.
    pub async fn handle(&self, request: Request) -> Response {
        self.answer(request).await.0
    }

    /// [`App::handle`], and the template of the route that answered (for
    /// the request's log line): the router is asked once.
    ///
    /// What needs no waiting is done before the future is made, and the
    /// future holds the request once: an `async fn` holds its arguments and
    /// its locals apart, and what awaits it copies all of it.
    fn answer(&self, mut request: Request) -> impl Future<Output = (Response, Option<&str>)> + '_ {
        let method = request.method.clone();
        let routed = self.router.resolve(&request.method, &request.path);
        // Only what CORS reads survives the move into the handler (for a
        // GET to an API open to any origin, nothing): cloning every header
        // would cost each request an allocation per header.
        let mut cors_headers = http::HeaderMap::new();
        for name in self.config.cors.reads(&method) {
            if let Some(value) = request.headers.get(name.as_str())
                && let Ok(value) = http::HeaderValue::from_str(value)
            {
                cors_headers.insert(name, value);
            }
        }
        let too_large = request.body.len() > self.config.max_body_bytes;
        async move {
            let result = if too_large {
                Err(ApiError::PayloadTooLarge(self.config.max_body_bytes))
            } else if let Err(refused) = self.authorize(&mut request, routed.scope).await {
                Err(refused)
            } else {
                let state = Arc::clone(&self.state);
                let handler = contain_panics(|| Router::dispatch(routed.found, request, state));
                match deadline::current() {
                    None => handler.await,
                    Some(deadline) => tokio::time::timeout_at(deadline.instant().into(), handler)
                        .await
                        .unwrap_or(Ok(Err(ApiError::DeadlineExceeded(deadline.budget())))),
                }
                .unwrap_or_else(|()| Err(ApiError::internal("request handler panicked")))
            };
            if let Err(error) = &result {
                log_fault(error);
            }
            let mut response = router::respond(&method, result);
            self.config
                .cors
                .apply(&method, &cors_headers, &mut response);
            (response, routed.template)
        }
    }
}

impl<S: Send + Sync + 'static> App<S> {
    /// On a route that requires a scope: the caller is the principal the
    /// event source verified, else the one the bearer token proves; no
    /// caller is a 401, a caller without the scope a 403. Public routes
    /// pass untouched.
    async fn authorize(
        &self,
        request: &mut Request,
        scope: Option<&'static str>,
    ) -> Result<(), ApiError> {
        let Some(scope) = scope else {
            return Ok(());
        };
        if request.principal.is_none() {
            // Boxed: verifying a token (and perhaps fetching the JWKS) is
            // a large future every request would otherwise carry and move.
            request.principal = Some(Box::pin(self.authenticate(request)).await?);
        }
        match &request.principal {
            Some(principal) if principal.has_scope(scope) => Ok(()),
            Some(principal) => {
                tracing::info!(subject = principal.subject, scope, "missing scope");
                Err(ApiError::Forbidden(format!(
                    "this operation requires the scope {scope}"
                )))
            }
            None => Err(unauthorized()),
        }
    }

    /// The caller a request's bearer token proves, verified here.
    #[cfg(feature = "auth")]
    async fn authenticate(&self, request: &Request) -> Result<Principal, ApiError> {
        let Some(verifier) = &self.verifier else {
            tracing::warn!(
                "a protected route without authorizer context, and no AUTH_ISSUER/AUTH_AUDIENCE \
                 to verify the token with: refused"
            );
            return Err(unauthorized());
        };
        let token = request
            .header("authorization")
            .and_then(crate::auth::bearer_token)
            .ok_or_else(unauthorized)?;
        verifier.verify(token).await.map_err(|error| match error {
            AuthError::InvalidToken(rejection) => {
                tracing::info!(%rejection, "token refused");
                unauthorized()
            }
            AuthError::JwksUnavailable(cause) => {
                ApiError::Unavailable(format!("cannot verify the token: {cause}").into())
            }
        })
    }

    /// Without the `auth` feature no token can be verified: only callers
    /// API Gateway verified get in.
    #[cfg(not(feature = "auth"))]
    async fn authenticate(&self, _request: &Request) -> Result<Principal, ApiError> {
        tracing::warn!(
            "a protected route without authorizer context, built without `auth`: refused"
        );
        Err(unauthorized())
    }
}

/// The one 401 a caller gets, whatever is wrong with its credentials.
fn unauthorized() -> ApiError {
    ApiError::Unauthorized("missing or invalid bearer token".into())
}

/// Logs the cause of a 5xx, the one place faults are logged; the client
/// only gets the generic message.
fn log_fault(error: &ApiError) {
    match error {
        ApiError::Unavailable(cause) => tracing::error!(error = %cause, "dependency unavailable"),
        ApiError::DeadlineExceeded(budget) => tracing::error!(
            budget_ms = u64::try_from(budget.as_millis()).unwrap_or(u64::MAX),
            "request deadline reached; the handler was stopped"
        ),
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

/// The in-function verifier, when any `AUTH_*` variable is set (then all
/// must be valid, or the function refuses to start); `None` leaves
/// protected routes to API Gateway's authorizer context alone, which is
/// said at start-up when the function has any (`protected`).
#[cfg(feature = "auth")]
fn verifier_from_env(protected: bool) -> Result<Option<Verifier>, crate::config::ConfigError> {
    let any_set = ["AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL"]
        .into_iter()
        .any(|name| std::env::var_os(name).is_some());
    if !any_set {
        if protected {
            tracing::info!("AUTH_* not set: protected routes accept API Gateway's authorizer only");
        }
        return Ok(None);
    }
    Verifier::from_env().map(Some)
}

/// Starts the future `start` gives (at once) and polls it, turning a panic
/// in either into `Err(())`; the panic itself is logged by the hook that
/// [`crate::logging::init`] installs. What awaits this holds the started
/// future alone (boxed: 16 bytes), not what `start` captured.
fn contain_panics<F: Future + Unpin>(
    start: impl FnOnce() -> F,
) -> impl Future<Output = Result<F::Output, ()>> {
    let mut running = catch_unwind(AssertUnwindSafe(start)).ok();
    std::future::poll_fn(move |cx| {
        let Some(future) = &mut running else {
            return Poll::Ready(Err(()));
        };
        match catch_unwind(AssertUnwindSafe(|| Pin::new(future).poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    })
}

/// `--routes` (the route table) and `--openapi` (the OpenAPI description
/// of the routes), for `cargo xtask routes`: when one is among the
/// process's arguments, prints it as JSON and gives `Some` (the process
/// then exits); otherwise `None`. A build without the `openapi` feature
/// (the image's) has no description: `--openapi` is then an error that
/// says so.
pub fn describe<S>(router: &Router<S>) -> Option<Result<(), lambda_runtime::Error>>
where
    S: Send + Sync + 'static,
{
    let flag = std::env::args()
        .skip(1)
        .find(|arg| matches!(arg.as_str(), "--routes" | "--openapi"))?;
    let printed = if flag == "--routes" {
        serde_json::to_string_pretty(&router.routes()).map_err(Into::into)
    } else {
        openapi_json(router)
    };
    Some(printed.map(|json| println!("{json}")))
}

#[cfg(feature = "openapi")]
fn openapi_json<S: Send + Sync + 'static>(
    router: &Router<S>,
) -> Result<String, lambda_runtime::Error> {
    Ok(router.documentation().to_pretty_json()?)
}

#[cfg(not(feature = "openapi"))]
fn openapi_json<S>(_router: &Router<S>) -> Result<String, lambda_runtime::Error> {
    Err(
        "--openapi: this binary is built without the `openapi` feature (the image's build); \
         `cargo build` with the default features has it"
            .into(),
    )
}

/// Runs a function: sets up logging and metrics, reads [`Config`], builds
/// the state with `init` (clients and stores, once per process), then serves
/// the Lambda Runtime API until the process is stopped; on SIGTERM or SIGINT
/// it logs a last line, flushes and returns `Ok` (exit status 0, see
/// [`crate::shutdown`]). Each invocation runs inside lambda_runtime's span
/// (`requestId`, `xrayTraceId`: on every line it logs),
/// [`crate::trace::scope`] with its X-Ray trace header, and
/// [`deadline::scope`] with Lambda's deadline less the safety margin.
///
/// With `--routes` or `--openapi` ([`describe`]) it prints JSON and exits
/// before `init`, so tools can read a function's routes without AWS, a
/// network or a store.
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
    if let Some(described) = describe(&router) {
        return described;
    }
    crate::logging::init();
    check_lambda_environment()?;
    crate::metrics::init(&std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default());
    let config = Config::from_env(defaults).inspect_err(|error| {
        tracing::error!(%error, "start-up failed");
    })?;
    #[cfg(feature = "auth")]
    let protected = router.routes().iter().any(|route| !route.scopes.is_empty());
    #[cfg(feature = "auth")]
    let verifier = verifier_from_env(protected).inspect_err(|error| {
        tracing::error!(%error, "start-up failed");
    })?;
    let state = init().await.inspect_err(|error| {
        tracing::error!(%error, "start-up failed");
    })?;
    let app = App::new(router, state, config);
    #[cfg(feature = "auth")]
    let app = match verifier {
        Some(verifier) => app.with_verifier(verifier),
        None => app,
    };
    let app = Arc::new(app);
    let serve = lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| {
        let app = Arc::clone(&app);
        let LambdaEvent {
            payload,
            mut context,
        } = event;
        let deadline = invocation_deadline(&context);
        let trace_id = context.xray_trace_id.take();
        let served = deadline::scope(deadline, async move {
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
        });
        crate::trace::scope(trace_id, served)
    }));
    tokio::select! {
        served = serve => served,
        signal = crate::shutdown::signal() => {
            crate::shutdown::finish(signal);
            Ok(())
        }
    }
}

/// The handlers' deadline for an invocation; without one (a Lambda deadline
/// already past: a local emulator's) a warning, once per process.
fn invocation_deadline(context: &lambda_runtime::Context) -> Option<Deadline> {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let deadline = Deadline::from_lambda(context.deadline());
    if deadline.is_none() && !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            deadline_ms = context.deadline,
            "the Runtime API sent a deadline already past (a local emulator?); \
             invocations run without one"
        );
    }
    deadline
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
    use super::{App, Payload};
    use crate::deadline::{self, Deadline};
    use crate::{Config, HandlerResult, Request, Response, Router, get};
    use serde::Deserialize;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// Whether the slow handler finished, or was dropped before it could.
    #[derive(Debug, Default)]
    struct Seen {
        finished: AtomicBool,
        dropped: AtomicBool,
    }

    struct SetOnDrop<'a>(&'a AtomicBool);

    impl Drop for SetOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// Sleeps for the `ms` query parameter, then answers 200.
    async fn sleepy(request: Request, seen: Arc<Seen>) -> HandlerResult {
        let _guard = SetOnDrop(&seen.dropped);
        let ms = request
            .query("ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        seen.finished.store(true, Ordering::SeqCst);
        Ok(Response::ok(&serde_json::json!({"slept_ms": ms})))
    }

    fn sleep_request(ms: u64) -> Request {
        Request {
            path: "/sleep".into(),
            query: vec![("ms".into(), ms.to_string())],
            ..Request::default()
        }
    }

    /// The log lines written while `f` runs.
    fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("log buffer").extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let out = tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8_lossy(&buffer.0.lock().expect("log buffer")).into_owned();
        (out, text)
    }

    #[test]
    fn a_handler_still_running_at_the_deadline_is_a_503_and_is_stopped() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let app = App::new(
            Router::new().route("/sleep", get(sleepy)),
            Seen::default(),
            Config::default(),
        );
        let seen = Arc::clone(&app.state);
        let budget = Duration::from_millis(100);
        let started = Instant::now();
        let (response, log) = logged(|| {
            runtime.block_on(deadline::scope(
                Some(Deadline::after(budget)),
                app.handle(sleep_request(10_000)),
            ))
        });
        let elapsed = started.elapsed();
        assert_eq!(response.status.as_u16(), 503);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(response.body_bytes()).expect("JSON"),
            serde_json::json!({"message": "service temporarily unavailable; retry later"})
        );
        assert_eq!(response.header("retry-after"), Some("1"));
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert!(
            elapsed >= budget,
            "answered at the deadline, not before: {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_secs(2),
            "not after the sleep: {elapsed:?}"
        );
        assert!(
            seen.dropped.load(Ordering::SeqCst),
            "the handler was dropped"
        );
        assert!(!seen.finished.load(Ordering::SeqCst), "and never finished");
        assert!(
            log.lines().any(|line| line.contains("ERROR")
                && line.contains("request deadline reached")
                && line.contains("budget_ms=100")),
            "an ERROR line with the budget:\n{log}"
        );

        // The same app goes on serving: in time, and without a deadline.
        let fast = runtime.block_on(deadline::scope(
            Some(Deadline::after(Duration::from_secs(5))),
            app.handle(sleep_request(10)),
        ));
        assert_eq!(fast.status.as_u16(), 200);
        assert!(seen.finished.load(Ordering::SeqCst));
        let unbounded = runtime.block_on(app.handle(sleep_request(150)));
        assert_eq!(unbounded.status.as_u16(), 200, "no deadline: no limit");
    }

    /// Read as lambda_runtime reads a payload: one value from the bytes,
    /// trailing data not checked.
    fn read(bytes: &[u8]) -> Payload {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        Payload::deserialize(&mut deserializer).expect("reading a payload never fails")
    }

    /// The futures the runtime moves for every invocation: `invoke`'s, and
    /// the trace and deadline scopes around it, which must hold it once
    /// (as `async fn`s each held it twice: 3,720 bytes for `invoke`, 10 KiB
    /// with the scopes, copied at every layer of the runtime).
    #[test]
    fn an_invocation_future_is_small_and_held_once() {
        let app = App::new(Router::new().route("/ping", get(ok)), (), Config::default());
        let invoke = app.invoke("{}", "id");
        let size = size_of_val(&invoke);
        assert!(size <= 2048, "invoke's future is {size} bytes");
        let scoped = crate::trace::scope(None, deadline::scope(None, invoke));
        let scoped_size = size_of_val(&scoped);
        assert!(
            scoped_size <= size + 128,
            "{scoped_size} bytes in the scopes for a future of {size}"
        );
        let handle = app.handle(Request::default());
        assert!(size_of_val(&handle) <= 1536, "{}", size_of_val(&handle));
    }

    async fn ok(_request: Request, _state: Arc<()>) -> HandlerResult {
        Ok(Response::no_content())
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
