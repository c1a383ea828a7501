//! Event adaptation over real payloads (see `fixtures/README.md` for where
//! each file comes from): source detection, and every field of the request.

use std::sync::Arc;

use shared::config::BasePath;
use shared::event::{NotHttpEvent, Source, adapt, detect};
use shared::http::Method;
use shared::{App, Config, HandlerResult, Request, Response, Router, get};

struct Case {
    fixture: &'static str,
    payload: &'static str,
    source: Source,
    method: Method,
    path: &'static str,
    query: &'static [(&'static str, &'static str)],
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    request_id: &'static str,
    stage: Option<&'static str>,
    source_ip: Option<&'static str>,
}

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_str!(concat!("fixtures/", $name)))
    };
}

fn cases() -> Vec<Case> {
    let case = |(fixture, payload): (&'static str, &'static str)| Case {
        fixture,
        payload,
        source: Source::RestV1,
        method: Method::GET,
        path: "/",
        query: &[],
        headers: &[],
        body: b"",
        request_id: "",
        stage: None,
        source_ip: None,
    };
    vec![
        Case {
            path: "/ping",
            headers: &[
                ("content-type", "application/json"),
                ("headername", "headerValue"),
            ],
            body: b"{}",
            request_id: "deef4878-7910-11e6-8f14-25afc3e9ae33",
            stage: Some("testStage"),
            source_ip: Some("192.168.196.186"),
            ..case(fixture!("article-rest-v1-get-ping.json"))
        },
        Case {
            method: Method::POST,
            path: "/hello/world",
            query: &[("name", "me")],
            headers: &[("accept-encoding", "gzip, deflate")],
            body: b"{\r\n\t\"a\": 1\r\n}",
            request_id: "deef4878-7910-11e6-8f14-25afc3e9ae33",
            stage: Some("testStage"),
            source_ip: Some("192.168.196.186"),
            ..case(fixture!("rest-v1-aws-example.json"))
        },
        Case {
            method: Method::POST,
            path: "/hello/world",
            query: &[("name", "me"), ("name", "me2")],
            body: b"{\r\n\t\"a\": 1\r\n}",
            request_id: "deef4878-7910-11e6-8f14-25afc3e9ae33",
            stage: Some("testStage"),
            source_ip: Some("192.168.196.186"),
            ..case(fixture!("rest-v1-multi-value.json"))
        },
        Case {
            method: Method::POST,
            path: "/api/v1/users",
            headers: &[("content-type", "application/octet-stream")],
            body: &[0x00, 0xff, 0x10, 0xff],
            request_id: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            stage: Some("prod"),
            source_ip: Some("203.0.113.7"),
            ..case(fixture!("rest-v1-base64-body.json"))
        },
        Case {
            source: Source::HttpV2,
            headers: &[("host", "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com")],
            request_id: "LV7fzho-PHcEJPw=",
            stage: Some("$default"),
            source_ip: Some("1.2.3.4"),
            ..case(fixture!("http-v2-aws-example.json"))
        },
        Case {
            source: Source::HttpV2,
            path: "/my/path",
            query: &[("Parameter1", "value1"), ("Parameter1", "value2")],
            headers: &[("header2", "value1,value2")],
            body: b"{\r\n\t\"a\": 1\r\n}",
            request_id: "id",
            stage: Some("$default"),
            source_ip: Some("IP"),
            ..case(fixture!("http-v2-multi-value.json"))
        },
        Case {
            source: Source::HttpV2,
            method: Method::PUT,
            path: "/api/v1/users/café au lait",
            query: &[("tag", "a&b"), ("tag", "c d"), ("empty", "")],
            headers: &[("content-type", "application/json")],
            body: b"{\"name\":\"Ada\"}",
            request_id: "JKJaXmPLvHcESHA=",
            stage: Some("dev"),
            source_ip: Some("205.255.255.176"),
            ..case(fixture!("http-v2-named-stage-base64.json"))
        },
        Case {
            source: Source::HttpV2,
            method: Method::POST,
            path: "/my/path",
            query: &[
                ("parameter1", "value1"),
                ("parameter1", "value2"),
                ("parameter2", "value"),
            ],
            headers: &[("cookie", "cookie1; cookie2"), ("header2", "value1,value2")],
            body: b"Hello from client!",
            request_id: "id",
            stage: Some("$default"),
            source_ip: Some("123.123.123.123"),
            ..case(fixture!("function-url-aws-example.json"))
        },
        Case {
            source: Source::Alb { multi_value: false },
            query: &[("key", "hello")],
            headers: &[(
                "host",
                "lambda-test-alb-1334523864.us-east-1.elb.amazonaws.com",
            )],
            request_id: "invocation-1",
            source_ip: Some("25.12.198.67"),
            ..case(fixture!("alb-headers-only.json"))
        },
        Case {
            source: Source::Alb { multi_value: true },
            query: &[("key", "hello")],
            headers: &[("x-myheader", "123")],
            body: b"Some text",
            request_id: "invocation-1",
            source_ip: Some("72.21.198.67"),
            ..case(fixture!("alb-multi-value.json"))
        },
    ]
}

#[test]
fn every_fixture_adapts_to_the_expected_request() {
    for case in cases() {
        let name = case.fixture;
        let (source, request) = adapt(case.payload, "invocation-1", None).expect(name);
        let request = request.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(source, case.source, "{name}: source");
        assert_eq!(request.method, case.method, "{name}: method");
        assert_eq!(request.path, case.path, "{name}: path");
        let query: Vec<(&str, &str)> = request
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for pair in case.query {
            assert!(query.contains(pair), "{name}: query {pair:?} in {query:?}");
        }
        if case
            .query
            .iter()
            .any(|(k, _)| *k == "name" || *k == "Parameter1")
        {
            assert_eq!(query.len(), case.query.len(), "{name}: repeated keys kept");
        }
        for (header, value) in case.headers {
            let values: Vec<&str> = request
                .headers
                .map()
                .get_all(*header)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            assert!(
                values.contains(value),
                "{name}: header {header}={value} in {values:?}"
            );
        }
        lookups_agree_with_the_map(name, &request);
        assert_eq!(request.body, case.body, "{name}: body");
        assert_eq!(request.request_id, case.request_id, "{name}: request id");
        assert_eq!(request.stage.as_deref(), case.stage, "{name}: stage");
        assert_eq!(
            request.source_ip.as_deref(),
            case.source_ip,
            "{name}: source ip"
        );
    }
}

/// `Request::header` reads the headers as sent, without building the map:
/// it must answer as the map does, for every name in any case.
fn lookups_agree_with_the_map(name: &str, request: &Request) {
    let as_sent = request.headers.clone();
    let map = request.headers.map();
    let names = map.keys().map(|k| k.as_str().to_owned());
    for header in names.chain(["missing".to_owned(), "x-".repeat(3)]) {
        let expected = map.get(&header).and_then(|v| v.to_str().ok());
        for spelled in [header.clone(), header.to_ascii_uppercase()] {
            assert_eq!(as_sent.get(&spelled), expected, "{name}: header {spelled}");
        }
    }
    assert_eq!(as_sent.is_empty(), map.is_empty(), "{name}: no headers");
}

#[test]
fn header_lookups_are_case_insensitive() {
    let (_, request) = adapt(
        include_str!("fixtures/article-rest-v1-get-ping.json"),
        "x",
        None,
    )
    .expect("http");
    let request = request.expect("parses");
    assert_eq!(request.header("CONTENT-TYPE"), Some("application/json"));
    assert_eq!(request.header("Content-Type"), Some("application/json"));
}

#[test]
fn cargo_lambda_v2_events_with_a_stray_http_method_are_v2() {
    // cargo-lambda's watch emulator serialises `ApiGatewayV2httpRequest`, whose
    // deprecated top-level `httpMethod` defaults to GET.
    let payload = r#"{"version":"2.0","httpMethod":"GET","rawPath":"/api/v1/users",
        "requestContext":{"http":{"method":"POST"},"stage":"$default"},"isBase64Encoded":false}"#;
    assert_eq!(detect(payload).expect("http"), Source::HttpV2);
    let (_, request) = adapt(payload, "x", None).expect("http");
    assert_eq!(request.expect("parses").method, Method::POST);
}

#[test]
fn named_stage_is_stripped_only_as_a_whole_segment() {
    let cases = [
        ("dev", "/dev/ping", "/ping"),
        ("dev", "/dev", "/"),
        ("dev", "/devices/1", "/devices/1"),
        ("$default", "/dev/ping", "/dev/ping"),
        ("prod", "/ping", "/ping"),
    ];
    for (stage, raw_path, expected) in cases {
        let payload = serde_json::json!({
            "version": "2.0",
            "rawPath": raw_path,
            "requestContext": {
                "http": {"method": "GET"},
                "stage": stage,
                "domainName": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
            },
        })
        .to_string();
        let (_, request) = adapt(&payload, "x", None).expect("http");
        assert_eq!(
            request.expect("parses").path,
            expected,
            "{stage} {raw_path}"
        );
    }
}

/// The stage is in front of the path on the API's `execute-api` host only,
/// a custom domain's base path mapping on that domain only.
#[test]
fn the_stage_is_stripped_on_execute_api_hosts_and_the_base_path_on_custom_domains() {
    let orders = BasePath::parse("/orders").expect("a base path");
    let configured = Some(&orders);
    // (fixture, API_BASE_PATH, routed path, public path of that path)
    let cases = [
        // The execute-api host of a named stage: REST v1 delivers the path
        // without the stage, HTTP API v2 with it. A base path is a custom
        // domain's: it is not looked for here.
        (
            fixture!("rest-v1-aws-example.json"),
            None,
            "/hello/world",
            "/testStage/hello/world",
        ),
        (
            fixture!("rest-v1-aws-example.json"),
            configured,
            "/hello/world",
            "/testStage/hello/world",
        ),
        (
            fixture!("http-v2-named-stage-base64.json"),
            None,
            "/api/v1/users/café au lait",
            "/dev/api/v1/users/café au lait",
        ),
        (
            fixture!("http-v2-named-stage-base64.json"),
            configured,
            "/api/v1/users/café au lait",
            "/dev/api/v1/users/café au lait",
        ),
        // A custom domain without a mapping: no stage in the path, even
        // when the stage is named like the path's first segment (`api`).
        (
            fixture!("rest-v1-custom-domain.json"),
            None,
            "/hello/world",
            "/hello/world",
        ),
        (
            fixture!("http-v2-custom-domain.json"),
            None,
            "/api/v1/users",
            "/api/v1/users",
        ),
        // ... and with a base path configured, a path without it as is.
        (
            fixture!("rest-v1-custom-domain.json"),
            configured,
            "/hello/world",
            "/hello/world",
        ),
        (
            fixture!("http-v2-custom-domain.json"),
            configured,
            "/api/v1/users",
            "/api/v1/users",
        ),
        // A custom domain with the base path mapping `/orders`.
        (
            fixture!("rest-v1-custom-domain-base-path.json"),
            configured,
            "/hello/world",
            "/orders/hello/world",
        ),
        (
            fixture!("http-v2-custom-domain-base-path.json"),
            configured,
            "/api/v1/users",
            "/orders/api/v1/users",
        ),
        // ... without `API_BASE_PATH`: routed with it (a 404).
        (
            fixture!("rest-v1-custom-domain-base-path.json"),
            None,
            "/orders/hello/world",
            "/orders/hello/world",
        ),
        (
            fixture!("http-v2-custom-domain-base-path.json"),
            None,
            "/orders/api/v1/users",
            "/orders/api/v1/users",
        ),
    ];
    for ((name, payload), base_path, path, public) in cases {
        let (_, request) = adapt(payload, "x", base_path).expect(name);
        let request = request.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(request.path, path, "{name} {base_path:?}: routed path");
        assert_eq!(
            request.public_path(&request.path),
            public,
            "{name} {base_path:?}: public path"
        );
    }
}

/// Echoes the public path of the user collection, as the users create
/// handler does for `Location`.
async fn location(request: Request, _state: Arc<()>) -> HandlerResult {
    Ok(Response::ok(
        &serde_json::json!({ "location": request.public_path("/api/v1/users/1") }),
    ))
}

/// Issue 15: on a custom domain, an HTTP API stage named `api` was
/// stripped from `/api/v1/users` (a 404). Through the app, with the base
/// path read from the environment as a function reads it.
#[test]
fn a_stage_named_like_the_path_is_not_stripped_on_a_custom_domain() {
    let router = || Router::new().route("/api/v1/users", get(location));
    let mapped = Config::from_lookup(|name| (name == "API_BASE_PATH").then(|| "orders".into()))
        .expect("a valid base path");
    let cases = [
        (
            Config::default(),
            include_str!("fixtures/http-v2-custom-domain.json"),
            "/api/v1/users/1",
        ),
        (
            mapped,
            include_str!("fixtures/http-v2-custom-domain-base-path.json"),
            "/orders/api/v1/users/1",
        ),
    ];
    for (config, payload, expected) in cases {
        let app = App::new(router(), (), config);
        let response = testkit::block_on(app.invoke(payload, "x")).expect("an HTTP event");
        let body = serde_json::to_value(response).expect("serialises");
        assert_eq!(body["statusCode"], 200, "{body}");
        let answer: serde_json::Value =
            serde_json::from_str(body["body"].as_str().expect("a body")).expect("JSON");
        assert_eq!(answer["location"], expected);
    }
}

#[test]
fn paths_are_percent_decoded_exactly_once() {
    let cases = [
        ("/api/v1/users/a%20b", "/api/v1/users/a b"),
        ("/api/v1/users/a%2520b", "/api/v1/users/a%20b"),
        ("/api/v1/%75sers", "/api/v1/users"),
    ];
    for (raw_path, expected) in cases {
        let payload = serde_json::json!({
            "version": "2.0",
            "rawPath": raw_path,
            "requestContext": {"http": {"method": "GET"}, "stage": "$default"},
        })
        .to_string();
        let (_, request) = adapt(&payload, "x", None).expect("http");
        assert_eq!(request.expect("parses").path, expected, "{raw_path}");
    }
}

#[test]
fn undecodable_requests_are_client_errors_in_the_source_shape() {
    let cases = [
        (
            r#"{"version":"2.0","rawPath":"/%FF","requestContext":{"http":{"method":"GET"}}}"#,
            Source::HttpV2,
        ),
        (
            r#"{"version":"2.0","rawPath":"/","body":"***","isBase64Encoded":true,"requestContext":{"http":{"method":"POST"}}}"#,
            Source::HttpV2,
        ),
        (
            r#"{"httpMethod":"GET","path":"/","requestContext":"not an object"}"#,
            Source::RestV1,
        ),
    ];
    for (payload, expected_source) in cases {
        let (source, request) = adapt(payload, "x", None).expect("looks like HTTP");
        assert_eq!(source, expected_source, "{payload}");
        let error = request.expect_err(payload);
        assert_eq!(error.status().as_u16(), 400, "{payload}");
    }
}

#[test]
fn non_http_events_are_refused() {
    let cases = [
        r#"{}"#,
        r#"{"Records":[{"eventSource":"aws:sqs"}]}"#,
        r#"[1,2,3]"#,
        r#""ping""#,
        r#"{"httpMethod":"GET"}"#,
        r#"{"detail-type":"Scheduled Event","source":"aws.events"}"#,
    ];
    for payload in cases {
        assert_eq!(detect(payload), Err(NotHttpEvent::Unsupported), "{payload}");
    }
}

#[test]
fn payloads_that_are_not_json_say_so_without_rust_names() {
    let cases: [(&str, &str); 5] = [
        ("<html>", "expected value at line 1 column 1"),
        ("this is not JSON", "expected ident at line 1 column 2"),
        (
            r#"{"httpMethod":"#,
            "EOF while parsing a value at line 1 column 14",
        ),
        ("{\"a\":1,}", "key must be a string at line 1 column 8"),
        ("", "EOF while parsing a value at line 1 column 0"),
    ];
    for (payload, reason) in cases {
        let error = detect(payload).expect_err(payload);
        assert_eq!(error, NotHttpEvent::NotJson(reason.into()), "{payload}");
        let diagnostic = lambda_runtime::Diagnostic::from(error.clone());
        assert_eq!(diagnostic.error_type, "InvalidJsonPayload");
        assert_eq!(
            diagnostic.error_message,
            format!(
                "payload is not valid JSON ({reason}): expected an API Gateway \
                 (REST or HTTP API), Function URL or ALB HTTP event"
            )
        );
        assert!(!diagnostic.error_message.contains("::"), "{payload}");
    }
    // Nested deeper than serde_json's recursion limit is still JSON: the
    // probe skips it, it is not parsed.
    let deep = "[".repeat(200) + &"]".repeat(200);
    assert_eq!(detect(&deep), Err(NotHttpEvent::Unsupported));
    let unsupported = lambda_runtime::Diagnostic::from(NotHttpEvent::Unsupported);
    assert_eq!(unsupported.error_type, "UnsupportedEvent");
}
