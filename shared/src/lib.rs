//! `shared`: the thin HTTP layer every function of this workspace runs on.
//!
//! A function builds a [`Router`] of async handlers, wraps it with its state
//! in an [`App`], and calls [`run`]. Each Lambda payload is recognised (API
//! Gateway REST v1, HTTP API v2, Function URL, ALB), adapted into one
//! [`Request`], routed on `matchit`, and answered in the shape its source
//! expects. Client mistakes are JSON 4xx answers; faults and panics are
//! logged and answered with a generic 500; the process keeps serving.
//!
//! # Layout
//! - [`event`]: the wire format both ways: detect the event source, adapt
//!   the payload into a [`Request`], answer in the source's shape
//!   ([`LambdaResponse`]).
//! - [`request`]: the request model (headers, query, params, body, JSON).
//! - [`headers`]: a request's headers, read as sent; an `http::HeaderMap`
//!   is built only when asked for.
//! - [`router`]: path-then-method routing, nesting, 404/405 + `Allow`,
//!   HEAD, OPTIONS.
//! - [`response`]: the handler-facing [`Response`] and its JSON helpers.
//! - [`error`]: [`ApiError`], one enum mapped to HTTP statuses.
//! - [`cors`]: allowed origins and the CORS headers on every response.
//! - [`config`]: settings read once at start-up, over what a function declares.
//! - [`deadline`]: the invocation's deadline less a safety margin; a
//!   handler still running then is answered `503`.
//! - [`logging`]: tracing set-up honouring Lambda's log controls.
//! - [`metrics`]: CloudWatch metrics (EMF) on each request's log line.
//! - [`shutdown`]: SIGTERM/SIGINT end the process cleanly, logs flushed.
//! - [`trace`]: the invocation's X-Ray trace header, for AWS SDK clients
//!   (`trace::TraceHeader` with the `aws-sdk` feature).
//! - `https` (feature `https`): the one HTTPS client stack of outbound
//!   calls, and (feature `aws-sdk`) the HTTP client of AWS SDK clients.
//! - [`app`]: one invocation end to end (5xx causes logged there), and [`run`].
//! - [`auth`]: the caller ([`auth::Principal`]) and, with feature `auth`,
//!   JWT verification against the issuer's JWKS.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use shared::{App, Config, HandlerResult, Request, Response, Router, get};
//!
//! async fn ping(_request: Request, _state: Arc<()>) -> HandlerResult {
//!     Ok(Response::ok(&serde_json::json!({"Success": "Pong!"})))
//! }
//!
//! let app = App::new(Router::new().route("/ping", get(ping)), (), Config::default());
//! let event = r#"{"version":"2.0","rawPath":"/ping","requestContext":{"http":{"method":"GET"}}}"#;
//! let response = tokio_test_block_on(app.invoke(event, "local-1")).unwrap();
//! let body = serde_json::to_value(response).unwrap();
//! assert_eq!(body["statusCode"], 200);
//! assert_eq!(body["body"], r#"{"Success":"Pong!"}"#);
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod config;
pub mod cors;
pub mod deadline;
pub mod error;
pub mod event;
pub mod headers;
#[cfg(feature = "https")]
pub mod https;
pub mod logging;
pub mod metrics;
pub mod request;
pub mod response;
pub mod router;
pub mod shutdown;
pub mod trace;

pub use app::{App, run, run_with};
pub use config::Config;
pub use error::{ApiError, BoxError, ErrorBody, FieldError};
pub use event::LambdaResponse;
pub use headers::RequestHeaders;
pub use request::Request;
pub use response::Response;
pub use router::{HandlerResult, MethodRouter, RouteInfo, Router, delete, get, patch, post, put};

/// Re-exported so functions and tests name the same `http` types.
pub use http;
/// Re-exported: route groups describe their routes with `utoipa`.
pub use utoipa;
