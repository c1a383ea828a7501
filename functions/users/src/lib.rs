//! `users`: the `/api/v1/users` resource.
//!
//! # Layout
//! - [`routes`]: the router, its handlers and the [`AppState`] they share
//!   (start here to add a route).
//! - [`model`]: the user, and validation of client input (422s).
//! - [`pattern`]: the OpenAPI `pattern`s of its text fields, from the
//!   rules of [`model`].
//! - [`cursor`]: opaque pagination cursors (400 when tampered with).
//! - [`store`]: the [`store::UserStore`] trait and its backends.
//! - [`config`]: which store to open, from the environment.

#![warn(missing_docs)]

pub mod config;
pub mod cursor;
pub mod model;
pub mod pattern;
pub mod routes;
pub mod store;

pub use routes::{AppState, router};
