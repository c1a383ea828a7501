//! A test-only function on `shared` whose `POST /panic` handler panics:
//! black-box proof that a panic is a 500 and the process keeps serving.
//! `GET /fine` and `GET /fine/{id}` answer 200 (a route with a parameter,
//! for the per-route metrics of `tests/observability.rs`).

use std::sync::Arc;

use shared::{HandlerResult, Request, Response, Router, get, post};

async fn panics(_request: Request, _state: Arc<()>) -> HandlerResult {
    panic!("deliberate panic for the black-box test")
}

async fn fine(_request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&serde_json::json!({ "ok": true })))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let router = Router::new()
        .route("/panic", post(panics))
        .route("/fine", get(fine))
        .route("/fine/{id}", get(fine));
    shared::run(router, async || Ok(())).await
}
