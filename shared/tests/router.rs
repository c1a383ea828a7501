//! Routing rules, table-driven through `App::handle`: matches, 404, 405 +
//! `Allow`, trailing slash, HEAD, OPTIONS, percent-encoded paths, nesting,
//! panics, the body limit and CORS on errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use shared::http::Method;
use shared::{
    ApiError, App, Config, HandlerResult, Request, Response, Router, cors::Cors, delete, get, post,
};
use testkit::block_on;

#[derive(Debug, Default)]
struct Counter(AtomicUsize);

async fn echo(request: Request, state: Arc<Counter>) -> HandlerResult {
    state.0.fetch_add(1, Ordering::SeqCst);
    Ok(Response::ok(&serde_json::json!({
        "method": request.method.as_str(),
        "path": request.path,
        "id": request.param("id"),
    })))
}

async fn boom(_request: Request, _state: Arc<Counter>) -> HandlerResult {
    panic!("handler bug")
}

async fn fail(_request: Request, _state: Arc<Counter>) -> HandlerResult {
    Err(ApiError::internal("database password is hunter2"))
}

fn app(config: Config) -> App<Counter> {
    let items = Router::new()
        .route("/", get(echo).post(echo))
        .route("/{id}", get(echo).delete(echo));
    let router = Router::new()
        .route("/ping", get(echo))
        .route("/boom", post(boom))
        .route("/fail", delete(fail))
        .nest("/api/v1/items", items);
    App::new(router, Counter::default(), config)
}

fn request(method: Method, path: &str) -> Request {
    Request {
        method,
        path: path.into(),
        ..Request::default()
    }
}

#[test]
fn routing_table() {
    struct Case {
        method: Method,
        path: &'static str,
        status: u16,
        id: Option<&'static str>,
        allow: Option<&'static str>,
    }
    let case = |method, path, status| Case {
        method,
        path,
        status,
        id: None,
        allow: None,
    };
    let cases = [
        case(Method::GET, "/ping", 200),
        case(Method::GET, "/ping/", 200),
        case(Method::GET, "/api/v1/items", 200),
        case(Method::GET, "/api/v1/items/", 200),
        case(Method::POST, "/api/v1/items/", 200),
        Case {
            id: Some("42"),
            ..case(Method::GET, "/api/v1/items/42", 200)
        },
        Case {
            id: Some("42"),
            ..case(Method::GET, "/api/v1/items/42/", 200)
        },
        Case {
            id: Some("a b"),
            ..case(Method::DELETE, "/api/v1/items/a b", 200)
        },
        Case {
            id: Some("é%20"),
            ..case(Method::GET, "/api/v1/items/é%20", 200)
        },
        case(Method::GET, "/nope", 404),
        case(Method::GET, "/api/v1/items/1/extra", 404),
        case(Method::GET, "/PING", 404),
        case(Method::GET, "/", 404),
        case(Method::GET, "", 404),
        Case {
            allow: Some("GET, HEAD, OPTIONS"),
            ..case(Method::POST, "/ping", 405)
        },
        Case {
            allow: Some("GET, HEAD, OPTIONS, POST"),
            ..case(Method::PUT, "/api/v1/items", 405)
        },
        Case {
            allow: Some("DELETE, GET, HEAD, OPTIONS"),
            ..case(Method::PATCH, "/api/v1/items/7", 405)
        },
        Case {
            allow: Some("OPTIONS, POST"),
            ..case(Method::from_bytes(b"BREW").expect("method"), "/boom", 405)
        },
        case(Method::HEAD, "/ping", 200),
        Case {
            allow: Some("GET, HEAD, OPTIONS"),
            ..case(Method::OPTIONS, "/ping", 204)
        },
        case(Method::OPTIONS, "/nope", 404),
    ];
    let app = app(Config::default());
    for case in cases {
        let label = format!("{} {}", case.method, case.path);
        let response = block_on(app.handle(request(case.method.clone(), case.path)));
        assert_eq!(response.status.as_u16(), case.status, "{label}");
        assert_eq!(response.header("allow"), case.allow, "{label}: Allow");
        if response.status.is_client_error() {
            let body: serde_json::Value =
                serde_json::from_slice(response.body_bytes()).expect("JSON error body");
            assert!(body["message"].is_string(), "{label}: {body}");
        }
        if case.status == 200 && case.method != Method::HEAD {
            let body: serde_json::Value =
                serde_json::from_slice(response.body_bytes()).expect("JSON body");
            assert_eq!(body["id"].as_str(), case.id, "{label}: id");
        }
    }
}

#[test]
fn head_runs_get_without_a_body() {
    let app = app(Config::default());
    let response = block_on(app.handle(request(Method::HEAD, "/api/v1/items/9")));
    assert_eq!(response.status.as_u16(), 200);
    assert!(response.body_bytes().is_empty());
    assert_eq!(response.header("content-type"), Some("application/json"));
}

/// `POST /boom` on `app` panics: a generic 500, and `GET /ping` is
/// answered after it.
fn assert_a_panic_is_a_500_and_the_app_keeps_serving(app: &App<Counter>) {
    let response = block_on(app.handle(request(Method::POST, "/boom")));
    assert_eq!(response.status.as_u16(), 500);
    assert_eq!(
        response.body_bytes(),
        br#"{"message":"internal server error"}"#
    );
    let next = block_on(app.handle(request(Method::GET, "/ping")));
    assert_eq!(next.status.as_u16(), 200);
}

#[test]
fn a_panicking_handler_is_a_500_and_the_app_keeps_serving() {
    assert_a_panic_is_a_500_and_the_app_keeps_serving(&app(Config::default()));
}

/// A handler that panics before it has a future to give (a plain `fn`
/// returning one, not an `async fn`).
fn boom_before_the_future(
    _request: Request,
    _state: Arc<Counter>,
) -> std::future::Ready<HandlerResult> {
    panic!("handler bug before its future")
}

#[test]
fn a_handler_panicking_before_its_future_is_a_500_too() {
    let router = Router::new()
        .route("/boom", post(boom_before_the_future))
        .route("/ping", get(echo));
    let app = App::new(router, Counter::default(), Config::default());
    assert_a_panic_is_a_500_and_the_app_keeps_serving(&app);
}

#[test]
fn faults_do_not_leak_their_cause() {
    let app = app(Config::default());
    let response = block_on(app.handle(request(Method::DELETE, "/fail")));
    assert_eq!(response.status.as_u16(), 500);
    assert_eq!(
        response.body_bytes(),
        br#"{"message":"internal server error"}"#
    );
}

#[test]
fn bodies_over_the_limit_are_413_before_the_handler_runs() {
    let app = app(Config {
        max_body_bytes: 8,
        ..Config::default()
    });
    let mut big = request(Method::POST, "/api/v1/items");
    big.body = vec![b'x'; 9];
    let response = block_on(app.handle(big));
    assert_eq!(response.status.as_u16(), 413);
    let mut fits = request(Method::POST, "/api/v1/items");
    fits.body = vec![b'x'; 8];
    assert_eq!(block_on(app.handle(fits)).status.as_u16(), 200);
}

#[test]
fn cors_headers_are_on_errors_too() {
    let app = app(Config {
        cors: Cors::parse("https://app.example"),
        ..Config::default()
    });
    let mut from_app = request(Method::GET, "/nope");
    from_app
        .headers
        .map_mut()
        .insert("origin", "https://app.example".parse().expect("header"));
    let response = block_on(app.handle(from_app));
    assert_eq!(response.status.as_u16(), 404);
    assert_eq!(
        response.header("access-control-allow-origin"),
        Some("https://app.example")
    );

    let mut from_elsewhere = request(Method::GET, "/ping");
    from_elsewhere
        .headers
        .map_mut()
        .insert("origin", "https://evil.example".parse().expect("header"));
    let response = block_on(app.handle(from_elsewhere));
    assert_eq!(response.header("access-control-allow-origin"), None);
}

#[test]
fn preflight_is_answered_by_the_router() {
    let app = app(Config::default());
    let mut preflight = request(Method::OPTIONS, "/api/v1/items/3");
    preflight
        .headers
        .map_mut()
        .insert("origin", "https://app.example".parse().expect("header"));
    preflight.headers.map_mut().insert(
        "access-control-request-method",
        "DELETE".parse().expect("header"),
    );
    let response = block_on(app.handle(preflight));
    assert_eq!(response.status.as_u16(), 204);
    assert_eq!(
        response.header("access-control-allow-methods"),
        Some("DELETE, GET, HEAD, OPTIONS")
    );
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn routes_lists_templates_and_methods() {
    let routes: Vec<(String, Vec<String>)> = app(Config::default())
        .routes()
        .into_iter()
        .map(|r| (r.path, r.methods))
        .collect();
    assert_eq!(
        routes,
        [
            ("/ping".to_owned(), vec!["GET".to_owned()]),
            ("/boom".to_owned(), vec!["POST".to_owned()]),
            ("/fail".to_owned(), vec!["DELETE".to_owned()]),
            (
                "/api/v1/items".to_owned(),
                vec!["GET".to_owned(), "POST".to_owned()]
            ),
            (
                "/api/v1/items/{id}".to_owned(),
                vec!["GET".to_owned(), "DELETE".to_owned()]
            ),
        ]
    );
}

#[test]
fn registration_errors_fail_loudly_at_start_up() {
    let cases: [(&str, fn()); 6] = [
        ("pre-0.8 `:id`", || {
            let _ = Router::<Counter>::new().route("/users/:id", get(echo));
        }),
        ("pre-0.8 `*rest`", || {
            let _ = Router::<Counter>::new().route("/files/*path", get(echo));
        }),
        ("no leading slash", || {
            let _ = Router::<Counter>::new().route("users", get(echo));
        }),
        ("conflicting templates", || {
            let _ = Router::<Counter>::new()
                .route("/users/{id}", get(echo))
                .route("/users/{name}", post(echo));
        }),
        ("a conflict made by nesting", || {
            let group = Router::<Counter>::new().route("/{name}", post(echo));
            let _ = Router::<Counter>::new()
                .route("/users/{id}", get(echo))
                .nest("/users", group);
        }),
        ("a method twice", || {
            let _ = Router::<Counter>::new().route("/users", get(echo).get(echo));
        }),
    ];
    for (label, register) in cases {
        let (outcome, location) = panic_location(register);
        assert!(outcome.is_err(), "{label} must panic at registration");
        // `#[track_caller]`: the panic names the line that registered the
        // route, in this file, not a line inside the router.
        let location = location.unwrap_or_default();
        assert!(
            location.starts_with(concat!(file!(), ":")),
            "{label}: panicked at {location}, expected the caller's line in {}",
            file!()
        );
    }
}

thread_local! {
    static PANICKED_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f`, returning its outcome and, if it panicked, where (`file:line`).
/// The hook records panics of this thread only; others go to the default hook.
fn panic_location(f: fn()) -> (std::thread::Result<()>, Option<String>) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let recorded = PANICKED_AT.with(|at| {
                let mut at = at.borrow_mut();
                at.as_mut().map(|slot| {
                    *slot = info
                        .location()
                        .map(|l| format!("{}:{}", l.file(), l.line()))
                        .unwrap_or_default();
                })
            });
            if recorded.is_none() {
                default(info);
            }
        }));
    });
    PANICKED_AT.with(|at| *at.borrow_mut() = Some(String::new()));
    let outcome = std::panic::catch_unwind(f);
    let location = PANICKED_AT
        .with(|at| at.borrow_mut().take())
        .filter(|l| !l.is_empty());
    (outcome, location)
}
