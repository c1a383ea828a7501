//! Hostile events, in process through `App::invoke`, over REST v1 and HTTP
//! API v2 where the input fits both: detection of what is not an HTTP event
//! (a Lambda error), missing, null and mistyped fields, methods, header
//! counts, base64 bodies, paths and query strings. Every HTTP-looking event
//! gets the documented JSON 4xx (status and `message` checked) and no answer
//! leaks internals (`testkit::hostile`).
//!
//! The router has the users function's paths and its 404 for an unknown id,
//! so each expected answer is the one the real binary gives; its body and
//! limit cases are black-box, in `functions/users/tests/hostile.rs`.

use std::sync::Arc;

use base64::Engine as _;
use serde_json::json;
use shared::http::StatusCode;
use shared::{ApiError, App, Config, HandlerResult, Request, Response, Router, get};
use testkit::hostile::{
    Case, Expect, case, check, in_both_shapes, on_path, post_base64, raw, run_all, with_headers,
};
use testkit::{Invocation, Shape, block_on};

const USERS: &str = "/api/v1/users";
const MISSING_ID: &str = "01900000-0000-7000-8000-000000000000";

async fn list(_request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(&json!({ "users": [] })))
}

async fn create(request: Request, _state: Arc<()>) -> HandlerResult {
    let body: serde_json::Value = request.json()?;
    Ok(Response::json(StatusCode::CREATED, &body))
}

async fn missing(_request: Request, _state: Arc<()>) -> HandlerResult {
    Err(ApiError::NotFound("user not found".into()))
}

fn app() -> App<()> {
    let users = Router::new()
        .route("/", get(list).post(create))
        .route("/{id}", get(missing).put(missing).delete(missing));
    App::new(Router::new().nest(USERS, users), (), Config::default())
}

/// Invokes in process; the answer reads as the emulator's would: the
/// response document, or a Lambda error's type and message with status 500.
fn invoke(app: &App<()>, payload: &str) -> Invocation {
    match block_on(app.invoke(payload, "hostile-1")) {
        Ok(response) => Invocation {
            status: 200,
            body: serde_json::to_value(response).expect("the response serialises"),
        },
        Err(error) => {
            let diagnostic = lambda_runtime::Diagnostic::from(error);
            Invocation {
                status: 500,
                body: json!({
                    "errorType": diagnostic.error_type,
                    "errorMessage": diagnostic.error_message,
                }),
            }
        }
    }
}

fn event_cases() -> Vec<Case> {
    use Expect::{Exact, LambdaError, Prefix};
    let unsupported = LambdaError("UnsupportedEvent");
    let malformed = Exact(
        400,
        "malformed HTTP event: required fields are missing or invalid",
    );
    vec![
        // Not HTTP events at all.
        raw("a JSON array", unsupported, "[1,2,3]"),
        raw("a JSON string", unsupported, r#""GET /api/v1/users""#),
        raw("a JSON number", unsupported, "42"),
        raw("JSON null", unsupported, "null"),
        raw("an empty object", unsupported, "{}"),
        raw(
            "an SQS event",
            unsupported,
            r#"{"Records":[{"eventSource":"aws:sqs","body":"x"}]}"#,
        ),
        raw(
            "a REST event whose httpMethod is null",
            unsupported,
            r#"{"httpMethod":null,"path":"/api/v1/users","requestContext":{}}"#,
        ),
        raw(
            "a REST event whose requestContext is null",
            unsupported,
            r#"{"httpMethod":"GET","path":"/api/v1/users","requestContext":null}"#,
        ),
        // HTTP events with missing, null or mistyped fields.
        raw(
            "a REST event without requestContext.httpMethod",
            malformed,
            r#"{"httpMethod":"GET","path":"/api/v1/users","requestContext":{}}"#,
        ),
        raw(
            "a REST event with only the two methods",
            Exact(404, "no route for /"),
            r#"{"httpMethod":"GET","requestContext":{"httpMethod":"GET"}}"#,
        ),
        raw(
            "a REST event with null path, headers, query, body and flags",
            Exact(404, "no route for /"),
            r#"{"httpMethod":"GET","path":null,"headers":null,"multiValueHeaders":null,
                "queryStringParameters":null,"multiValueQueryStringParameters":null,
                "pathParameters":null,"stageVariables":null,"body":null,
                "isBase64Encoded":null,"requestContext":{"httpMethod":"GET"}}"#,
        ),
        raw(
            "a REST event whose headers are an array",
            Exact(404, "no route for /"),
            r#"{"httpMethod":"GET","headers":["a","b"],"requestContext":{"httpMethod":"GET"}}"#,
        ),
        raw(
            "a REST event whose header values are objects",
            Exact(404, "no route for /"),
            r#"{"httpMethod":"GET","headers":{"x":{"y":1}},"multiValueHeaders":{"x":[[1]]},
                "requestContext":{"httpMethod":"GET"}}"#,
        ),
        raw(
            "a REST event whose httpMethod is a number",
            malformed,
            r#"{"httpMethod":5,"path":"/api/v1/users","requestContext":{}}"#,
        ),
        raw(
            "a REST event whose path is an object",
            malformed,
            r#"{"httpMethod":"GET","path":{"a":1},"requestContext":{}}"#,
        ),
        raw(
            "a REST event whose body is a number",
            malformed,
            r#"{"httpMethod":"POST","path":"/api/v1/users","body":5,"requestContext":{}}"#,
        ),
        raw(
            "a REST event whose body is an object",
            malformed,
            r#"{"httpMethod":"POST","path":"/api/v1/users","body":{"name":"Ada"},
                "requestContext":{"httpMethod":"POST"}}"#,
        ),
        raw(
            "a REST event whose body has a lone surrogate escape",
            malformed,
            r#"{"httpMethod":"POST","path":"/api/v1/users","body":"{\"name\":\"\ud800\"}",
                "requestContext":{"httpMethod":"POST"}}"#,
        ),
        raw(
            "a v2 event without method",
            malformed,
            r#"{"version":"2.0","rawPath":"/api/v1/users","requestContext":{"http":{}}}"#,
        ),
        raw(
            "a v2 event with a null rawPath",
            Exact(404, "no route for /"),
            r#"{"version":"2.0","rawPath":null,"requestContext":{"http":{"method":"GET"}}}"#,
        ),
        raw(
            "a v2 event whose requestContext is a string",
            malformed,
            r#"{"version":"2.0","rawPath":"/api/v1/users","requestContext":"x"}"#,
        ),
        // Found by the `event` fuzz target: a derived struct reads an
        // array by position, so `["x"]` was an ALB context (its `elb` the
        // "x") while the probe saw no HTTP event, and `[null, null, "GET"]`
        // a REST one with a method. Contexts are objects or nothing.
        raw(
            "a requestContext that is an array",
            unsupported,
            r#"{"requestContext":["requestContexto"]}"#,
        ),
        raw(
            "a REST requestContext that is an array, its method in place",
            malformed,
            r#"{"httpMethod":"GET","path":"/api/v1/users","requestContext":[null,null,"GET"]}"#,
        ),
        raw(
            "a v2 requestContext.http that is an array",
            malformed,
            r#"{"version":"2.0","rawPath":"/api/v1/users","requestContext":{"http":["GET"]}}"#,
        ),
        raw(
            "a REST requestContext.identity that is an array",
            malformed,
            r#"{"httpMethod":"GET","path":"/api/v1/users","requestContext":{"httpMethod":"GET",
                "identity":["1.2.3.4"]}}"#,
        ),
        raw(
            "a v2 event whose isBase64Encoded is a string",
            malformed,
            r#"{"version":"2.0","rawPath":"/api/v1/users","isBase64Encoded":"yes",
                "requestContext":{"http":{"method":"GET"}}}"#,
        ),
        // Found by the `event` fuzz target: a query key with no values
        // panicked inside query_map (a Lambda error naming Rust types).
        raw(
            "a REST query key with an empty value list",
            Exact(404, "user not found"),
            format!(
                r#"{{"httpMethod":"GET","path":"{USERS}/{MISSING_ID}",
                    "queryStringParameters":{{"limit":[]}},
                    "multiValueQueryStringParameters":{{"limit":[],"cursor":[]}},
                    "requestContext":{{"httpMethod":"GET"}}}}"#
            ),
        ),
        raw(
            "an ALB query key with an empty value list",
            Exact(404, "user not found"),
            format!(
                r#"{{"httpMethod":"GET","path":"{USERS}/{MISSING_ID}",
                    "multiValueQueryStringParameters":{{"x":[]}},
                    "multiValueHeaders":{{"host":["lb"]}},
                    "requestContext":{{"elb":{{"targetGroupArn":"arn"}}}}}}"#
            ),
        ),
        raw(
            "a v2 query key with an empty value list",
            Exact(404, "user not found"),
            format!(
                r#"{{"version":"2.0","rawPath":"{USERS}/{MISSING_ID}",
                    "queryStringParameters":{{"x":[]}},
                    "requestContext":{{"http":{{"method":"GET"}}}}}}"#
            ),
        ),
        // Methods.
        case(
            "an unknown method on a known path",
            Exact(405, "method not allowed on this path"),
            |shape| shape.event("BREW", USERS, None),
        ),
        case(
            "an unknown method on an unknown path",
            Exact(404, "no route for /coffee"),
            |shape| shape.event("BREW", "/coffee", None),
        ),
        case("a method with a space", malformed, |shape| {
            shape.event("GET POST", USERS, None)
        }),
        // aws_lambda_events reads an empty method as GET (API Gateway never
        // sends one); harmless: GET only reads. (A POST here would be a 405.)
        case(
            "an empty method reads as GET",
            Exact(404, "user not found"),
            |shape| shape.event("", &format!("{USERS}/{MISSING_ID}"), None),
        ),
        case(
            "a lowercase method",
            Exact(405, "method not allowed on this path"),
            |shape| shape.event("get", USERS, None),
        ),
        // Headers.
        case(
            "30,000 headers",
            Exact(400, "request has too many headers; the limit is 1000"),
            |shape| with_headers(shape, USERS, 30_000),
        ),
        case(
            "1,001 headers",
            Exact(400, "request has too many headers; the limit is 1000"),
            |shape| with_headers(shape, USERS, 1_001),
        ),
        case(
            "a header value with control characters",
            Exact(404, "user not found"),
            |shape| {
                shape.event_with(
                    "GET",
                    &format!("{USERS}/{MISSING_ID}"),
                    &[("x-evil", "a\u{0}b\r\nset-cookie: x=1")],
                    None,
                )
            },
        ),
        // Bodies in the event.
        case(
            "invalid base64 with isBase64Encoded",
            Exact(400, "request body is not valid base64"),
            |shape| post_base64(shape, USERS, "this is %%% not base64!"),
        ),
        case(
            "a non-UTF-8 body (base64)",
            Prefix(400, "request body is not valid JSON: "),
            |shape| {
                let bytes = b"{\"name\":\"\xff\xfe\",\"email\":\"a@b.co\"}";
                post_base64(
                    shape,
                    USERS,
                    &base64::engine::general_purpose::STANDARD.encode(bytes),
                )
            },
        ),
        case(
            "a body of binary garbage (base64)",
            Prefix(400, "request body is not valid JSON: "),
            |shape| {
                let bytes: Vec<u8> = (0..=255u8).rev().collect();
                post_base64(
                    shape,
                    USERS,
                    &base64::engine::general_purpose::STANDARD.encode(bytes),
                )
            },
        ),
        // Paths.
        case(
            "a path with ..",
            Exact(404, "no route for /api/v1/users/../../etc/passwd"),
            |shape| {
                on_path(
                    shape,
                    "GET",
                    "/api/v1/users/../../etc/passwd",
                    "/api/v1/users/../../etc/passwd",
                )
            },
        ),
        case("a user id of ..", Exact(404, "user not found"), |shape| {
            on_path(shape, "GET", "/api/v1/users/..", "/api/v1/users/%2e%2e")
        }),
        case(
            "a NUL in the user id",
            Exact(404, "user not found"),
            |shape| on_path(shape, "GET", "/api/v1/users/a\u{0}b", "/api/v1/users/a%00b"),
        ),
        case("a NUL in a DELETE", Exact(404, "user not found"), |shape| {
            on_path(shape, "DELETE", "/api/v1/users/\u{0}", "/api/v1/users/%00")
        }),
        case(
            "a double-encoded id (decoded once)",
            Exact(404, "user not found"),
            |shape| {
                on_path(
                    shape,
                    "GET",
                    "/api/v1/users/%2e%2e",
                    "/api/v1/users/%252e%252e",
                )
            },
        ),
        case(
            "a double-encoded slash stays in the id",
            Exact(404, "user not found"),
            |shape| on_path(shape, "GET", "/api/v1/users/a%2Fb", "/api/v1/users/a%252Fb"),
        ),
        case(
            "an invalid percent-encoding (v2 decodes)",
            Exact(404, "user not found"),
            |shape| on_path(shape, "GET", "/api/v1/users/%zz", "/api/v1/users/%zz"),
        ),
        case(
            "a very long user id",
            Exact(404, "user not found"),
            |shape| {
                let path = format!("{USERS}/{}", "a".repeat(200_000));
                on_path(shape, "GET", &path, &path)
            },
        ),
    ]
}

fn v2_only_cases() -> Vec<Case> {
    use Expect::Exact;
    vec![
        case(
            "a path that is not UTF-8 once decoded",
            Exact(
                400,
                "request path is not valid UTF-8 after percent-decoding",
            ),
            |_| on_path(Shape::HttpV2, "GET", "", "/api/v1/users/%ff%fe"),
        ),
        case(
            "a query that is not UTF-8 once decoded",
            Exact(400, "query string is not valid UTF-8 after decoding"),
            |_| {
                let mut event = Shape::HttpV2.event("GET", USERS, None);
                event["rawQueryString"] = json!("limit=%ff");
                event
            },
        ),
        case(
            "a very long unknown path (echo shortened)",
            Expect::Prefix(404, "no route for /xxxxxxxx"),
            |_| {
                let path = format!("/{}", "x".repeat(500_000));
                on_path(Shape::HttpV2, "GET", &path, &path)
            },
        ),
    ]
}

#[test]
fn hostile_events_get_clean_answers() {
    let app = app();
    let (both, v2_only) = (event_cases(), v2_only_cases());
    let mut runs = in_both_shapes(&both);
    runs.extend(v2_only.iter().map(|case| (case, Shape::HttpV2)));
    run_all(&runs, |case, shape| {
        let label = format!("{shape:?}: {}", case.label);
        check(&label, case.expect, &invoke(&app, &case.payload(shape)));
    });
}
