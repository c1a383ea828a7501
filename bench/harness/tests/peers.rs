//! The benchmark compares like with like: ours and the axum peer answer the
//! article's routes with the same status and body. (No timing here: the
//! measures live in `bench/run`.)

use axum_peer::lambda_http::request::LambdaRequest;
use axum_peer::lambda_http::tower::ServiceExt as _;
use axum_peer::lambda_http::{Adapter, Context, LambdaEvent, Service as _};
use serde_json::{Value, json};

/// An HTTP API v2 event (`$default` stage, so no stage-in-path setting).
fn event(method: &str, path: &str, body: Option<&str>) -> String {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "example.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "example.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4", "userAgent": "test"},
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Apr/2020:15:08:21 +0000",
            "timeEpoch": 1587481701067_u64
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

fn status_and_body(answer: &Value) -> (u64, Value) {
    let body = serde_json::from_str(answer["body"].as_str().expect("a body")).expect("a JSON body");
    (answer["statusCode"].as_u64().expect("a status"), body)
}

/// Ours' answer to `payload`, as the runtime would send it.
async fn raw_ours(payload: &str, app: &shared::App<()>) -> Value {
    let response = app.invoke(payload, "test").await.expect("an HTTP event");
    serde_json::to_value(&response).expect("serialisable")
}

/// The axum peer's answer to `payload`, as the runtime would send it.
async fn raw_axum(payload: &str, router: axum_peer::axum::Router) -> Value {
    let mut adapter = Adapter::from(router);
    let request: LambdaRequest = serde_json::from_str(payload).expect("an HTTP event");
    let service = adapter.ready().await.expect("ready");
    let response = service
        .call(LambdaEvent::new(request, Context::default()))
        .await
        .expect("infallible");
    serde_json::to_value(&response).expect("serialisable")
}

async fn ours(payload: &str, app: &shared::App<()>) -> (u64, Value) {
    status_and_body(&raw_ours(payload, app).await)
}

async fn axum(payload: &str, router: axum_peer::axum::Router) -> (u64, Value) {
    status_and_body(&raw_axum(payload, router).await)
}

#[test]
fn ours_and_the_axum_peer_answer_alike() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let echo = r#"{"items":[{"id":1,"name":"a"}]}"#;
    let cases = [
        (event("GET", "/ping", None), json!({"Success": "Pong!"})),
        (
            event("GET", "/api/v1/users/", None),
            json!({"Success": "All users!"}),
        ),
        (
            event("GET", "/api/v1/users/7", None),
            json!({"Success": "This is one user!"}),
        ),
        (
            event("POST", "/echo", Some(echo)),
            serde_json::from_str(echo).expect("JSON"),
        ),
    ];
    let app = bench_harness::ours::article_app();
    for (payload, body) in cases {
        let expected = (200, body);
        assert_eq!(
            runtime.block_on(ours(&payload, &app)),
            expected,
            "ours: {payload}"
        );
        let router = axum_peer::bench_router();
        assert_eq!(
            runtime.block_on(axum(&payload, router)),
            expected,
            "axum: {payload}"
        );
    }
    let routes = event("GET", "/r99/items/42", None);
    let pong = (200, json!({"Success": "Pong!"}));
    let many = bench_harness::ours::many_routes_app(100);
    assert_eq!(runtime.block_on(ours(&routes, &many)), pong);
    assert_eq!(
        runtime.block_on(axum(&routes, axum_peer::many_routes(100))),
        pong
    );
}

/// `POST /echo` answers the body as sent, byte for byte (no tree is built
/// and written back), and both peers refuse a body that is not JSON alike.
#[test]
fn echo_answers_the_body_as_sent() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let app = bench_harness::ours::article_app();
    let sent = r#"{ "b": [1, 2.50, "x"],  "a": null }"#;
    for peer in ["ours", "axum"] {
        let payload = event("POST", "/echo", Some(sent));
        let answer = if peer == "ours" {
            runtime.block_on(raw_ours(&payload, &app))
        } else {
            runtime.block_on(raw_axum(&payload, axum_peer::bench_router()))
        };
        assert_eq!(answer["statusCode"], 200, "{peer}: {answer}");
        assert_eq!(answer["body"], sent, "{peer}: {answer}");
        let payload = event("POST", "/echo", Some(r#"{"a":"#));
        let answer = if peer == "ours" {
            runtime.block_on(raw_ours(&payload, &app))
        } else {
            runtime.block_on(raw_axum(&payload, axum_peer::bench_router()))
        };
        assert_eq!(answer["statusCode"], 400, "{peer}: {answer}");
    }
}
