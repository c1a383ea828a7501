//! `authorizer`: the Lambda authorizer of the REST API (TOKEN type, the
//! identity source being the `Authorization` header).
//!
//! API Gateway calls it with the caller's `Authorization` value and the
//! `methodArn` being called. A valid `Bearer` JWT of the configured issuer
//! ([`shared::auth::Verifier`]) gets an Allow for the whole stage, with the
//! caller's `sub` as `principalId` and `sub` and `scope` in the context; an
//! invalid, expired or missing one the Lambda error `Unauthorized` (401).
//! When the issuer's keys cannot be fetched it fails with another error
//! (API Gateway answers 500): never an Allow.
//!
//! # Layout
//! - [`authorize`]: one event, one answer.
//! - [`policy`]: the stage-wide resource and the Allow response.
//! - [`error`]: [`AuthorizerError`], as the Lambda error API Gateway reads.
//! - [`run`]: reads the configuration (or refuses to start, naming the
//!   variable), then serves the Lambda Runtime API.
//!
//! # Example
//! ```no_run
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     authorizer::run().await
//! }
//! ```

pub mod error;
pub mod policy;

use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use shared::auth::{AuthError, Rejection, Verifier, bearer_token};

pub use error::AuthorizerError;
pub use policy::{AuthorizerResponse, Context};

/// Decides on one TOKEN authorizer event.
pub async fn authorize(
    verifier: &Verifier,
    event: &ApiGatewayCustomAuthorizerRequest,
) -> Result<AuthorizerResponse, AuthorizerError> {
    if event.type_.as_deref() != Some("TOKEN") {
        return Err(AuthorizerError::InvalidEvent(format!(
            "`type` is {:?}, not \"TOKEN\"",
            event.type_
        )));
    }
    let method_arn = event.method_arn.as_deref().unwrap_or_default();
    let resource = policy::stage_resource(method_arn).ok_or_else(|| {
        AuthorizerError::InvalidEvent(format!(
            "`methodArn` {method_arn:?} is not an execute-api method ARN"
        ))
    })?;
    let token = event
        .authorization_token
        .as_deref()
        .and_then(bearer_token)
        .ok_or(AuthorizerError::Unauthorized(Rejection::Missing))?;
    match verifier.verify(token).await {
        Ok(principal) => Ok(policy::allow(&principal, resource)),
        Err(AuthError::InvalidToken(rejection)) => Err(AuthorizerError::Unauthorized(rejection)),
        Err(AuthError::JwksUnavailable(reason)) => Err(AuthorizerError::JwksUnavailable(reason)),
    }
}

/// Runs the authorizer: logging, the verifier from `AUTH_*` (or a refusal
/// to start that names the variable), then the Lambda Runtime API loop.
///
/// `--routes` and `--openapi` print an empty route table and document and
/// exit, as every function binary does for `cargo xtask routes`: the
/// authorizer serves no route of its own.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    if let Some(described) = shared::app::describe(&shared::Router::<()>::new()) {
        return described;
    }
    shared::logging::init();
    let verifier = Verifier::from_env().inspect_err(|error| {
        tracing::error!(%error, "start-up failed");
    })?;
    let verifier = &verifier;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequest>| async move {
            let request_id = event.context.request_id;
            let outcome = authorize(verifier, &event.payload).await;
            match &outcome {
                Ok(response) => tracing::info!(
                    request_id,
                    sub = response.context.sub,
                    scope = response.context.scope,
                    "allowed"
                ),
                Err(error @ AuthorizerError::Unauthorized(_)) => {
                    tracing::info!(request_id, %error, "unauthorized");
                }
                Err(error) => tracing::error!(request_id, %error, "authorizer fault"),
            }
            outcome
        },
    ))
    .await
}
