//! Who is calling: the [`Principal`] a request carries, and (feature
//! `auth`) access tokens (JWTs) of an OpenID issuer verified against its
//! JWKS.
//!
//! A principal comes from what the event source already verified (API
//! Gateway's authorizer context, read by [`crate::event`]) or, when the
//! event carries none, from the bearer token verified in the function
//! ([`crate::App::handle`]).
//!
//! A `Verifier` is built once per process from `AuthConfig`
//! (`AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL`). `Verifier::verify`
//! accepts RS256 and ES256 tokens only, with the algorithm fixed by the key
//! the `kid` names (`none`, HMAC and any algorithm the key does not declare
//! are refused), checks `iss`, `aud` (or, for Cognito access tokens, which
//! have none, `client_id`), `exp` and `nbf` (60 s of clock skew), and
//! yields a [`Principal`]. An [`AuthError`] tells a bad token (401)
//! from an issuer whose keys cannot be fetched (a fault).
//!
//! # Layout
//! - `config` (feature `auth`): `AuthConfig`, read once at start-up.
//! - `bearer`: [`bearer_token`], the token of an `Authorization` value.
//! - `verifier` (feature `auth`): `Verifier`, header checks, then `jsonwebtoken`.
//! - `crypto` (feature `auth`): `jsonwebtoken`'s signature checks on ring.
//! - `jwks` (feature `auth`): the issuer's keys, cached, refetched on an
//!   unknown `kid` at most once per `REFETCH_INTERVAL`, and once they are
//!   `MAX_KEY_AGE` old.
//! - `fetch` (feature `auth`): the HTTPS GET of the JWKS, with a deadline
//!   (`JWKS_TIMEOUT`).
//! - `principal`: [`Principal`], the caller and its scopes.
//! - `error`: [`AuthError`] and [`Rejection`].
//!
//! # Example
//! ```no_run
//! # #[cfg(feature = "auth")] mod example {
//! use shared::auth::{AuthError, Verifier, bearer_token};
//!
//! # async fn example(authorization: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::from_env()?; // once, at start-up
//! let token = bearer_token(authorization).unwrap_or_default();
//! match verifier.verify(token).await {
//!     Ok(principal) => println!("{} may {:?}", principal.subject, principal.scopes),
//!     Err(AuthError::InvalidToken(why)) => println!("401: {why}"),
//!     Err(AuthError::JwksUnavailable(why)) => println!("fault: {why}"),
//! }
//! # Ok(())
//! # }
//! # }
//! ```

mod bearer;
#[cfg(feature = "auth")]
mod config;
#[cfg(feature = "auth")]
mod crypto;
mod error;
#[cfg(feature = "auth")]
mod fetch;
#[cfg(feature = "auth")]
mod jwks;
mod principal;
#[cfg(feature = "auth")]
mod verifier;

pub use bearer::bearer_token;
#[cfg(feature = "auth")]
pub use config::{AuthConfig, JWKS_PATH};
pub use error::{AuthError, Rejection};
#[cfg(feature = "auth")]
pub use jwks::{MAX_KEY_AGE, REFETCH_INTERVAL};
pub use principal::Principal;
#[cfg(feature = "auth")]
pub use verifier::{JWKS_TIMEOUT, LEEWAY_SECONDS, Verifier};
