//! Any Lambda payload, end to end through `shared`: event detection and
//! adaptation (`shared::event::adapt`), then `App::invoke` with a small
//! router that exercises path parameters, query strings, headers and JSON
//! bodies. The walk made for AWS's events must answer as `serde_json`'s
//! pass does (`event::adapt_with`). Nothing may panic (libFuzzer aborts on any
//! panic, even one the app would contain), every answer must serialise to
//! a valid Lambda response, and no input may make the app answer 5xx:
//! these handlers never fail, so a 5xx could only be a framework fault. Two
//! answers echo what the request carried (a created item its body, the
//! list its query, a header and its path): read out of the event and
//! written back into the response, that text must come back as
//! `serde_json` writes it.

#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use shared::event::{self, Source};
use shared::http::Method;
use shared::{App, Config, HandlerResult, Request, Response, Router, delete, get};

async fn ping(_request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&json!({ "Success": "Pong!" })))
}

async fn list(request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&listed(&request)))
}

/// What `list` answers: text from the query, a header and the path.
fn listed(request: &Request) -> Value {
    json!({
        "limit": request.query("limit"),
        "all": request.query_all("tag").collect::<Vec<_>>(),
        "origin": request.header("origin"),
        "location": request.public_path("/items"),
    })
}

async fn create(request: Request, _state: Arc<()>) -> HandlerResult {
    let body: Value = request.json()?;
    Ok(Response::json(
        shared::http::StatusCode::CREATED,
        &created(body),
    ))
}

/// What `create` answers: the body it read.
fn created(body: Value) -> Value {
    json!({ "got": body })
}

async fn item(request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&json!({ "id": request.param("id") })))
}

async fn rest(request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&json!({ "rest": request.param("rest") })))
}

fn app(config: Config) -> App<()> {
    let router = Router::new()
        .route("/ping", get(ping))
        .route("/items", get(list).post(create))
        .route("/items/{id}", get(item).put(create).delete(item))
        .route("/files/{*rest}", get(rest))
        .route("/", delete(item));
    App::new(router, (), config)
}

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime")
});

/// Default settings, and a small body limit with an origin allow-list.
static APPS: LazyLock<[App<()>; 2]> = LazyLock::new(|| {
    let strict = Config::from_lookup(|name| match name {
        "CORS_ALLOW_ORIGINS" => Some("https://app.example.com,https://admin.example.com".into()),
        "MAX_BODY_BYTES" => Some("64".into()),
        _ => None,
    })
    .expect("valid settings");
    [app(Config::default()), app(strict)]
});

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = std::str::from_utf8(data) else {
        return;
    };
    // Scanned (as `adapt` reads it), or by `serde_json`'s pass alone: the
    // same answer.
    let scanned = event::adapt_with(payload, "fuzz-invocation", None, event::Pass::Scan);
    let serde = event::adapt_with(payload, "fuzz-invocation", None, event::Pass::Serde);
    assert_eq!(
        format!("{scanned:?}"),
        format!("{serde:?}"),
        "scanned and serde_json's pass differ for {payload:?}"
    );
    // Detection alone must agree with the full adaptation.
    let detected = event::detect(payload);
    // The request as the handlers get it, for the echo checks below.
    let mut sent = None;
    match event::adapt(payload, "fuzz-invocation", None) {
        Err(not_http) => {
            assert_eq!(detected, Err(not_http.clone()));
            // The Lambda error names no Rust type.
            let diagnostic = lambda_runtime::Diagnostic::from(not_http);
            assert!(!diagnostic.error_type.contains("::"), "{diagnostic:?}");
            assert!(!diagnostic.error_message.contains("::"), "{diagnostic:?}");
        }
        Ok((source, request)) => {
            let detected = detected.expect("adapt accepted what detect refused");
            match (detected, source) {
                (Source::Alb { .. }, Source::Alb { .. }) => {}
                (a, b) => assert_eq!(a, b),
            }
            if let Ok(request) = request {
                assert!(!request.request_id.is_empty());
                sent = Some(request);
            }
        }
    }
    for app in APPS.iter() {
        let Ok(response) = RUNTIME.block_on(app.invoke(payload, "fuzz-invocation")) else {
            continue;
        };
        let document: Value = serde_json::to_value(&response).expect("the response serialises");
        let status = document["statusCode"].as_u64().expect("a statusCode");
        assert!(
            (200..500).contains(&status),
            "status {status} for {payload:?}: {document}"
        );
        // Error bodies are JSON with a message (a HEAD answer has no body).
        let body = document["body"].as_str().unwrap_or_default();
        // `create` (201) and `list` (a GET of /items) answer text they
        // read, as `serde_json` writes it: the reply's escape must read
        // back as that text.
        let echo = match &sent {
            Some(request) if status == 201 => {
                let value = serde_json::from_slice(&request.body).expect("a 201 body is JSON");
                Some(created(value))
            }
            Some(request)
                if status == 200 && request.method == Method::GET && request.path == "/items" =>
            {
                Some(listed(request))
            }
            None if status == 201 => panic!("a 201 for a request adapt refused: {payload:?}"),
            _ => None,
        };
        if let Some(echo) = echo {
            let wrote = serde_json::to_string(&echo).expect("JSON");
            assert_eq!(body, wrote, "the echo of {payload:?}");
        }
        if status >= 400 && !body.is_empty() {
            let error: Value = serde_json::from_str(body).expect("error bodies are JSON");
            assert!(error["message"].is_string(), "no message in {body}");
        }
    }
});
