//! A local API Gateway REST API (Lambda proxy integrations, payload 1.0) in
//! front of `cargo lambda watch`, for development only (never in the image).
//!
//! It serves what `functions.yml` and `serverless.yml` deploy: the stage as
//! the first path segment, the resources and methods (403 `Missing
//! Authentication Token` elsewhere, or what the `GatewayResponse` resources
//! say), the MOCK `OPTIONS` of `cors: true`, TOKEN authorizers with their
//! cache, the REST proxy event, and the proxy answer mapped back, with API
//! Gateway's limits (10 MB body, 29 s integration timeout). `cargo lambda
//! watch` keeps building, running and hot-reloading the functions; the
//! gateway invokes them by binary name through its Invoke API.
//!
//! # Layout
//! - [`config`]: reads the two files into an [`Api`]; refuses what it cannot emulate.
//! - `vars`: the few osls `${...}` variables those files use.
//! - [`routes`]: resources, methods, and API Gateway's path matching.
//! - [`cors`]: the preflight osls generates for `cors:`.
//! - [`authorizer`]: TOKEN authorizer calls, policy evaluation, the cache.
//! - [`event`]: the REST proxy event.
//! - [`invoke`]: the Invoke API of `cargo lambda watch`.
//! - [`reply`]: the proxy answer back to HTTP.
//! - [`responses`]: API Gateway's own answers ([`GatewayError`]) and their customization.
//! - [`server`]: the HTTP server, one log line per request.
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), String> {
//! let api = gateway::config::load(&gateway::config::Sources::in_dir(".".as_ref()))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await.map_err(|e| e.to_string())?;
//! let gateway = std::sync::Arc::new(gateway::Gateway::new(api, 9001));
//! gateway.serve(listener).await.map_err(|e| e.to_string())
//! # }
//! ```

pub mod authorizer;
pub mod config;
pub mod cors;
pub mod event;
pub mod invoke;
pub mod reply;
pub mod responses;
pub mod routes;
pub mod server;
mod vars;

pub use config::Api;
pub use responses::GatewayError;
pub use server::Gateway;
