//! The scope check of `App::handle`, before the handler: no caller is a 401
//! (`WWW-Authenticate: Bearer`), a caller without the scope a 403, both
//! `{"message": ...}` with the CORS headers; `HEAD` needs what GET needs;
//! preflight, 404, 405 and public routes are untouched.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use shared::auth::Principal;
use shared::http::Method;
use shared::{App, Config, HandlerResult, Request, Response, Router, cors::Cors, get};
use testkit::block_on;

const ORIGIN: &str = "https://app.example";

/// How many times a handler ran, shared with the test.
#[derive(Debug, Default)]
struct Calls(Arc<AtomicUsize>);

/// Answers with the caller the handler was given.
async fn whoami(request: Request, state: Arc<Calls>) -> HandlerResult {
    state.0.fetch_add(1, Ordering::SeqCst);
    Ok(Response::ok(&json!({
        "subject": request.principal.map(|p| p.subject),
    })))
}

fn app() -> (App<Calls>, Arc<AtomicUsize>) {
    let items = Router::new()
        .route(
            "/",
            get(whoami)
                .require("items:read")
                .post(whoami)
                .require("items:write"),
        )
        .route("/{id}", get(whoami).require("items:read"));
    let router = Router::new()
        .route("/ping", get(whoami))
        .nest("/api/v1/items", items);
    let config = Config {
        cors: Cors::parse(ORIGIN),
        ..Config::default()
    };
    let calls = Arc::new(AtomicUsize::new(0));
    let app = App::new(router, Calls(Arc::clone(&calls)), config);
    (app, calls)
}

/// A request from `ORIGIN`, by `scopes`' holder (`None`: nobody).
fn request(method: Method, path: &str, scopes: Option<&str>) -> Request {
    let mut request = Request {
        method,
        path: path.into(),
        principal: scopes.map(|scope| {
            let claims = json!({"sub": "ada", "scope": scope});
            let Value::Object(claims) = claims else {
                unreachable!("an object")
            };
            Principal::from_claims(claims).expect("a subject")
        }),
        ..Request::default()
    };
    request
        .headers
        .map_mut()
        .insert("origin", ORIGIN.parse().expect("header"));
    request
}

fn body(response: &Response) -> Value {
    serde_json::from_slice(response.body_bytes()).unwrap_or(Value::Null)
}

#[test]
fn the_scope_is_checked_before_the_handler() {
    let read = Some("items:read");
    let write = Some("items:write");
    let both = Some("items:read items:write");
    let cases = [
        (Method::GET, "/api/v1/items", None, 401),
        (Method::GET, "/api/v1/items", Some(""), 403),
        (Method::GET, "/api/v1/items", write, 403),
        (Method::GET, "/api/v1/items", read, 200),
        (Method::GET, "/api/v1/items/", read, 200),
        (Method::GET, "/api/v1/items/7", None, 401),
        (Method::GET, "/api/v1/items/7", both, 200),
        (Method::HEAD, "/api/v1/items", None, 401),
        (Method::HEAD, "/api/v1/items", write, 403),
        (Method::HEAD, "/api/v1/items", read, 200),
        (Method::POST, "/api/v1/items", None, 401),
        (Method::POST, "/api/v1/items", read, 403),
        (Method::POST, "/api/v1/items", write, 200),
    ];
    for (method, path, scopes, status) in cases {
        let (app, calls) = app();
        let name = format!("{method} {path} by {scopes:?}");
        let response = block_on(app.handle(request(method.clone(), path, scopes)));
        assert_eq!(response.status.as_u16(), status, "{name}");
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some(ORIGIN),
            "{name}: CORS on every answer"
        );
        let www_authenticate = response.header("www-authenticate");
        match status {
            401 => {
                assert_eq!(www_authenticate, Some("Bearer"), "{name}");
                if method != Method::HEAD {
                    assert_eq!(
                        body(&response),
                        json!({"message": "missing or invalid bearer token"}),
                        "{name}"
                    );
                }
            }
            403 => {
                assert_eq!(www_authenticate, None, "{name}");
                if method != Method::HEAD {
                    let message = body(&response)["message"].as_str().map(str::to_owned);
                    let required = if method == Method::POST {
                        "items:write"
                    } else {
                        "items:read"
                    };
                    assert_eq!(
                        message,
                        Some(format!("this operation requires the scope {required}")),
                        "{name}"
                    );
                }
            }
            _ => {
                assert_eq!(www_authenticate, None, "{name}");
                if method != Method::HEAD {
                    assert_eq!(body(&response), json!({"subject": "ada"}), "{name}");
                }
            }
        }
        let ran = calls.load(Ordering::SeqCst);
        assert_eq!(
            ran,
            usize::from(status == 200),
            "{name}: the handler ran {ran} times"
        );
    }
}

#[test]
fn what_routing_answers_itself_needs_no_caller() {
    let cases = [
        (Method::OPTIONS, "/api/v1/items", 204),
        (Method::DELETE, "/api/v1/items", 405),
        (Method::GET, "/api/v1/nothing", 404),
        (Method::GET, "/ping", 200),
        (Method::HEAD, "/ping", 200),
    ];
    for (method, path, status) in cases {
        let mut request = request(method.clone(), path, None);
        if method == Method::OPTIONS {
            request.headers.map_mut().insert(
                "access-control-request-method",
                "POST".parse().expect("header"),
            );
        }
        let response = block_on(app().0.handle(request));
        assert_eq!(response.status.as_u16(), status, "{method} {path}");
        assert_eq!(response.header("www-authenticate"), None, "{method} {path}");
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some(ORIGIN),
            "{method} {path}"
        );
    }
}

#[test]
fn a_bearer_token_without_a_verifier_is_refused() {
    // No authorizer context and no `AUTH_*` to verify the token with:
    // fail closed, whatever the token says.
    for authorization in [
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ.",
        "Bearer x",
        "",
    ] {
        let mut request = request(Method::GET, "/api/v1/items", None);
        request
            .headers
            .map_mut()
            .insert("authorization", authorization.parse().expect("header"));
        let response = block_on(app().0.handle(request));
        assert_eq!(response.status.as_u16(), 401, "{authorization:?}");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
}
