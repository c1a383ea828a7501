//! `health`: the uptime check, `GET /ping` -> `{"Success":"Pong!"}`.
//!
//! The body is exactly the original FastAPI app's; clients and uptime
//! checks compare it byte for byte.

use std::sync::Arc;

use shared::{HandlerResult, Request, Response, Router, get};

/// The routes of this function.
pub fn router() -> Router<()> {
    Router::new().route("/ping", get(ping))
}

async fn ping(_request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&serde_json::json!({ "Success": "Pong!" })))
}
