//! The article's app on our `shared` layer, for the in-process measures:
//! the same routes and bodies as the two peers. `/ping` is the shipped
//! `health` function's own router.

use std::sync::Arc;

use serde_json::value::RawValue;
use shared::config::Defaults;
use shared::http::StatusCode;
use shared::{App, Config, HandlerResult, Request, Response, Router, get, post};

/// The article app's body limit: the 6 MiB of a synchronous Lambda payload,
/// so the body-size cases (up to 1 MiB) measure carrying the body, not the
/// 413 that the default limit (64 KiB) would answer first.
const ECHO_MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// `/ping` (the `health` function), `/api/v1/users/` and
/// `/api/v1/users/{id}` with the article's bodies, and `POST /echo` (check
/// the body is JSON, answer it as sent) for the body-size measures.
pub fn article_app() -> App<()> {
    let users = Router::new()
        .route("/", get(get_users))
        .route("/{id}", get(get_user));
    let router = Router::new()
        .nest("/", health::router())
        .nest("/api/v1/users", users)
        .route("/echo", post(echo));
    let config = Config::from(Defaults::new().max_body_bytes(ECHO_MAX_BODY_BYTES));
    App::new(router, (), config)
}

/// `count` routes `GET /r{i}/items/{id}`, each answering the ping body.
pub fn many_routes_app(count: usize) -> App<()> {
    let router = (0..count).fold(Router::new(), |router, i| {
        router.route(&format!("/r{i}/items/{{id}}"), get(pong))
    });
    App::new(router, (), Config::default())
}

async fn pong(_request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&serde_json::json!({"Success": "Pong!"})))
}

async fn get_users(_request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&serde_json::json!({"Success": "All users!"})))
}

async fn get_user(_request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(
        &serde_json::json!({"Success": "This is one user!"}),
    ))
}

/// The body validated as JSON and answered as sent: no tree is built, and
/// the checked text goes back as it is (`Response::raw_json`), so the body
/// cases measure what the layer costs to carry a body (the axum peer's echo
/// does the same).
async fn echo(request: Request, _state: Arc<()>) -> HandlerResult {
    let body: Box<RawValue> = request.json()?;
    Ok(Response::raw_json(StatusCode::OK, body))
}
