//! The benchmark's `lambda_http` + axum peer: the original article's app
//! (`GET /ping` and the two users routes, with the article's bodies), written
//! the way the `lambda_http` documentation writes an axum function.
//!
//! Not shipped: it exists so `bench/run` can compare our `shared` layer with
//! the usual Rust way of serving HTTP on Lambda, same routes, same bodies.
//!
//! `lambda_http` prefixes REST API paths with the stage (`/testStage/ping`)
//! unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set; the benchmark sets
//! it, as a function deployed behind a stage would.

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::value::RawValue;
use serde_json::{Value, json};

/// The peer's crates, re-exported so the benchmark names the same versions.
pub use {axum, lambda_http};

/// The article's routes: `/ping`, `/api/v1/users/` and `/api/v1/users/{id}`.
pub fn article_router() -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/api/v1/users/", get(get_users))
        .route("/api/v1/users/{id}", get(get_user))
}

/// The article's routes plus `POST /echo` (check the body is JSON, answer
/// it as sent), used by the in-process body-size measures.
pub fn bench_router() -> Router {
    article_router().route("/echo", post(echo))
}

/// `count` routes `GET /r{i}/items/{id}`, each answering the ping body; the
/// benchmark requests the last one.
pub fn many_routes(count: usize) -> Router {
    (0..count).fold(Router::new(), |router, i| {
        router.route(&format!("/r{i}/items/{{id}}"), get(ping))
    })
}

async fn ping() -> Json<Value> {
    Json(json!({"Success": "Pong!"}))
}

async fn get_users() -> Json<Value> {
    Json(json!({"Success": "All users!"}))
}

async fn get_user() -> Json<Value> {
    Json(json!({"Success": "This is one user!"}))
}

/// The body validated as JSON and answered as sent, as ours does: no tree
/// is built, and the checked text goes back as it is (a `String` body, not
/// serialised again), so the body cases measure what the layer costs to
/// carry it.
async fn echo(Json(body): Json<Box<RawValue>>) -> impl IntoResponse {
    let text: Box<str> = body.into();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text.into_string(),
    )
}
