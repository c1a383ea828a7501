//! `health`: the uptime check, `GET /ping` -> `{"Success":"Pong!"}`.
//!
//! The body is exactly the original FastAPI app's; clients and uptime
//! checks compare it byte for byte.

#![warn(missing_docs)]

use std::sync::Arc;

use serde::Serialize;
use shared::{ErrorBody, HandlerResult, Request, Response, Router, get};
use utoipa::{OpenApi, ToSchema};

/// The routes of this function, with their OpenAPI description.
pub fn router() -> Router<()> {
    Router::new()
        .route("/ping", get(ping))
        .openapi(HealthApi::openapi)
}

/// The OpenAPI description of the health routes.
#[derive(Debug, OpenApi)]
#[openapi(
    paths(ping),
    components(schemas(Pong, ErrorBody)),
    tags((name = "Healthcheck", description = "Is the API up?"))
)]
pub struct HealthApi;

/// The answer of `GET /ping`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pong {
    /// Always `Pong!`.
    #[serde(rename = "Success")]
    #[schema(example = "Pong!")]
    pub success: &'static str,
}

/// Healthcheck: answers while the function is up.
#[utoipa::path(
    get,
    path = "/ping",
    operation_id = "healthcheck",
    tag = "Healthcheck",
    responses(
        (status = 200, description = "The API is up", body = Pong),
        (status = 500, description = "Internal error", body = ErrorBody),
    )
)]
async fn ping(_request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&Pong { success: "Pong!" }))
}
