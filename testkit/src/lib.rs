//! Test helpers for black-box tests of the function binaries.
//!
//! The binaries are driven through a real Lambda Runtime API: cargo-lambda's
//! emulator (`cargo lambda watch --only-lambda-apis`), which queues each
//! invocation for the function process polling `/.rt/<name>/...`.
//!
//! # Layout
//! - [`Emulator`]: starts the emulator on a free loopback port, invokes.
//! - [`Function`]: a function binary running against the emulator.
//! - [`events`]: REST v1 and HTTP API v2 events built from real payloads.
//! - [`HttpReply`]: a function's answer, whatever the event shape.
//! - `wire`: the one HTTP POST to the emulator (plain socket, with a deadline).
//! - [`require_tool`]: skip on a laptop without a tool, fail under CI.
//! - [`dynamo`]: a DynamoDB-compatible server (moto) and the users table.
//! - [`jwks`]: a test token issuer: generated keys, tokens, forgeries, and
//!   a JWKS server on 127.0.0.1 that counts requests and fails on demand.

pub mod dynamo;
pub mod events;
pub mod jwks;
mod process;
mod reply;
mod wire;

pub use events::Shape;
pub use process::{Emulator, Function, Invocation, free_port, require_tool, workspace_root};
pub use reply::HttpReply;
