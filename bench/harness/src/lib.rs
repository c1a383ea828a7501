//! Benchmark tools (not shipped), run by `bench/run`:
//!
//! - `bench-driver`: a minimal Lambda Runtime API on 127.0.0.1 that starts a
//!   function process (ours, the axum peer or the Python peer under
//!   `awslambdaric`), feeds it one fixed event and times cold starts, warm
//!   invocations and memory.
//! - `bench-inproc`: the in-process cost of one request, event bytes in and
//!   response bytes out, for our [`shared::App`], for `lambda_http` +
//!   axum and for the [`floor`] (one borrowed parse of the event).
//!
//! This library holds what both share: [`ours`] (the article's app on
//! `shared`), [`floor`], [`stats`] and a small [`args`] reader.

pub mod args;
pub mod floor;
pub mod ours;
pub mod stats;
