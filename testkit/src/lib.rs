//! Test helpers for black-box tests of the function binaries.
//!
//! The binaries are driven through a real Lambda Runtime API: cargo-lambda's
//! emulator (`cargo lambda watch --only-lambda-apis`), which queues each
//! invocation for the function process polling `/.rt/<name>/...`.
//!
//! # Layout
//! - [`Emulator`], [`Function`]: the emulator on a free loopback port, and
//!   function binaries polling it (`process`).
//! - [`events`]: REST v1 and HTTP API v2 events built from real payloads
//!   (the one REST v1 builder; `cargo run -p testkit --bin event` prints one),
//!   from a [`Caller`] (by default one with every scope), and Function URL
//!   events ([`events::function_url`]), which carry no authorizer context.
//! - [`HttpReply`]: a function's answer, whatever the event shape (`reply`).
//! - `wire`: the one HTTP POST to the emulator (plain socket, with a deadline).
//! - [`RuntimeApi`]: a minimal Runtime API whose invocations carry the
//!   deadline a test chooses (the emulator's is fixed), `runtime_api`.
//! - `http1`: the HTTP/1.1 messages the loopback test servers exchange.
//! - [`require_tool`]: skip on a laptop without a tool, fail under CI.
//! - [`emf`]: a function's log read back: JSON lines, and the rules of
//!   CloudWatch's Embedded Metric Format checked on the request lines.
//! - [`dynamo`]: a DynamoDB-compatible server (moto) and the users table.
//! - [`users`]: the `users` binary started on SQLite or DynamoDB.
//! - [`hostile`]: table-driven hostile inputs and the checks on their answers.
//! - [`fault_proxy`]: a loopback proxy in front of a server that answers
//!   chosen requests with errors the real server never sends, or slowly.
//! - [`jwks`]: a test token issuer: generated keys, tokens, forgeries, and
//!   a JWKS server on 127.0.0.1 that counts requests and fails on demand.
//! - [`block_on`]: async code from a synchronous test.
//! - `bin/event.rs`: the REST v1 event builder as a command, for scripts.
//! - `bin/panicking-function.rs`: a function whose handler panics.
//! - `bin/dev-issuer.rs`: the local development token issuer
//!   (`scripts/token`, `scripts/dev`), on the [`jwks`] keys and server.

#![warn(missing_docs)]

mod block_on;
pub mod dynamo;
pub mod emf;
pub mod events;
pub mod fault_proxy;
pub mod hostile;
mod http1;
pub mod jwks;
mod process;
mod reply;
mod runtime_api;
pub mod users;
mod wire;

pub use block_on::block_on;
pub use events::{Caller, Shape};
pub use process::{
    Emulator, Function, Invocation, free_port, require_tool, run_to_exit, workspace_root,
};
pub use reply::HttpReply;
pub use runtime_api::RuntimeApi;
