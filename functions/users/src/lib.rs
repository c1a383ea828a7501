//! `users`: the `/api/v1/users` resource.
//!
//! # Layout
//! - [`routes`]: the router and its handlers (start here to add a route).
//! - [`model`]: the user, and validation of client input (422s).
//! - [`cursor`]: opaque pagination cursors (400 when tampered with).
//! - [`store`]: the [`store::UserStore`] trait and its backends.
//! - [`config`]: which store to open, from the environment.

pub mod config;
pub mod cursor;
pub mod model;
pub mod routes;
pub mod store;

pub use routes::router;

/// What every request of this function shares: the store, opened once.
#[derive(Debug)]
pub struct AppState {
    /// The users store chosen at start-up.
    pub store: Box<dyn store::UserStore>,
}
