//! Black-box: the gateway binary over a real `cargo lambda watch` running
//! the real function binaries, with the test-only `gateway-probe` as the
//! authorizer. Expected gateway answers come from the deployed
//! `serverless.yml` (so its GatewayResponses flow into the expectations).

mod common;

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use common::{Gateway, Reply, Watch, declare_length, deployed_api, service_dir};
use gateway::GatewayError;
use gateway::responses::RequestFacts;
use serde_json::{Value, json};

fn expected(error: GatewayError) -> (u16, Value) {
    let answer = deployed_api()
        .responses
        .answer(error, &RequestFacts::default());
    let body = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    (answer.status, body)
}

fn assert_gateway_answer(reply: &Reply, error: GatewayError, what: &str) {
    assert_eq!((reply.status, reply.json()), expected(error), "{what}");
    assert!(
        reply.header("x-amzn-RequestId").is_some(),
        "{what}: x-amzn-RequestId"
    );
}

const ADA: (&str, &str) = ("authorization", "Bearer allow-ada");
const JSON: (&str, &str) = ("content-type", "application/json");

#[test]
fn the_gateway_serves_the_deployed_api_over_cargo_lambda_watch() {
    let Some(watch) = Watch::start() else {
        return;
    };
    let service = service_dir();
    // The first invocation of each function waits for cargo to build it;
    // the short-timeout gateway below checks the 29 s behaviour.
    let gateway = Gateway::start(service.path(), &watch, &["--integration-timeout", "600"]);

    // Public routes, the stage in the path.
    let ping = gateway.send("GET", "/dev/ping", &[], b"");
    assert_eq!(ping.status, 200, "{}", ping.text());
    assert!(ping.header("x-amzn-RequestId").is_some());
    assert_eq!(
        gateway.send("GET", "/dev/ping/", &[], b"").status,
        200,
        "one trailing slash"
    );
    let line = gateway.log_line(ping.header("x-amzn-RequestId").unwrap_or_default());
    assert!(
        line.starts_with("GET /dev/ping resource=/ping function=health status=200 latency="),
        "{line}"
    );

    // What API Gateway answers itself.
    assert_gateway_answer(
        &gateway.send("GET", "/ping", &[], b""),
        GatewayError::UnknownStage,
        "no stage",
    );
    assert_gateway_answer(
        &gateway.send("GET", "/dev/nowhere", &[], b""),
        GatewayError::MissingAuthenticationToken,
        "unmapped path",
    );
    // A method API Gateway REST does not have matches no `ANY`.
    for method in ["TRACE", "QUERY"] {
        assert_gateway_answer(
            &gateway.send(method, "/dev/ping", &[], b""),
            GatewayError::MissingAuthenticationToken,
            method,
        );
    }
    // Any other undeclared method reaches the function through the path's
    // `ANY`: its router answers 405 with `Allow`.
    for method in ["PATCH", "POST", "DELETE"] {
        let reply = gateway.send(method, "/dev/ping", &[], b"");
        assert_eq!(reply.status, 405, "{method} /dev/ping: {}", reply.text());
        assert_eq!(
            reply.header("allow"),
            Some("GET, HEAD, OPTIONS"),
            "{method}"
        );
    }
    assert_gateway_answer(
        &declare_length(
            gateway.port,
            "POST",
            "/dev/api/v1/users",
            10 * 1024 * 1024 + 1,
        ),
        GatewayError::RequestTooLarge,
        "over 10 MB",
    );

    // The MOCK preflight of `cors: true`, without the authorizer.
    let origin = ("origin", "https://app.example");
    let preflight = gateway.send("OPTIONS", "/dev/api/v1/users", &[origin], b"");
    assert_eq!(preflight.status, 200);
    assert_eq!(preflight.body, b"");
    let api = deployed_api();
    let gateway::routes::Found::Preflight(resource) = api.routes.find("OPTIONS", "/api/v1/users")
    else {
        panic!("/api/v1/users has cors");
    };
    for (name, value) in resource
        .cors
        .as_ref()
        .map(|c| c.headers(Some(origin.1)))
        .unwrap_or_default()
    {
        assert_eq!(preflight.header(name), Some(value.as_str()), "{name}");
    }
    let methods = preflight
        .header("access-control-allow-methods")
        .unwrap_or_default();
    for method in ["OPTIONS", "GET", "POST"] {
        assert!(methods.split(',').any(|m| m == method), "{methods}");
    }

    // The authorizer in front of the users routes.
    let users = "/dev/api/v1/users";
    assert_gateway_answer(
        &gateway.send("GET", users, &[], b""),
        GatewayError::Unauthorized,
        "no token",
    );
    assert_gateway_answer(
        &gateway.send("GET", users, &[("authorization", "Bearer nope")], b""),
        GatewayError::Unauthorized,
        "a bad token",
    );
    assert_gateway_answer(
        &gateway.send("GET", users, &[("authorization", "Bearer deny-eve")], b""),
        GatewayError::ExplicitDeny,
        "an explicit deny",
    );
    assert_gateway_answer(
        &gateway.send("GET", users, &[("authorization", "Bearer broken")], b""),
        GatewayError::AuthorizerConfiguration,
        "a failing authorizer",
    );

    // The `ANY` of a protected path has the authorizer in front.
    assert_gateway_answer(
        &gateway.send("PATCH", users, &[], b""),
        GatewayError::Unauthorized,
        "PATCH, no token",
    );
    let patch = gateway.send("PATCH", users, &[ADA], b"");
    assert_eq!(patch.status, 405, "{}", patch.text());
    assert_eq!(patch.header("allow"), Some("GET, HEAD, OPTIONS, POST"));

    // Users CRUD with a token: the Location carries the stage.
    let created = gateway.send(
        "POST",
        users,
        &[ADA, JSON],
        br#"{"name":"Ada","email":"ada@example.com"}"#,
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let store = watch.store().unwrap_or_default();
    assert!(store.is_file(), "the users store is {}", store.display());
    let location = created.header("location").unwrap_or_default().to_owned();
    let id = created.json()["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(location, format!("/dev/api/v1/users/{id}"));
    let fetched = gateway.send("GET", &location, &[ADA], b"");
    assert_eq!((fetched.status, fetched.json()), (200, created.json()));
    let listed = gateway.send("GET", users, &[ADA], b"");
    assert_eq!(listed.status, 200, "{}", listed.text());
    let replaced = gateway.send(
        "PUT",
        &location,
        &[ADA, JSON],
        br#"{"name":"Ada L.","email":"ada@example.com"}"#,
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_eq!(replaced.json()["name"], "Ada L.");
    assert_eq!(gateway.send("DELETE", &location, &[ADA], b"").status, 204);
    assert_eq!(gateway.send("GET", &location, &[ADA], b"").status, 404);

    // /docs loads the document from the stage-correct URL.
    let docs = gateway.send("GET", "/dev/docs", &[], b"");
    assert_eq!(docs.status, 200);
    assert!(docs.text().contains("/dev/openapi.json"), "{}", docs.text());
    assert_eq!(
        gateway.send("GET", "/dev/openapi.json", &[], b"").status,
        200
    );

    // The event the function receives, and the authorizer cache.
    let probe = gateway.send(
        "GET",
        "/dev/probe/a/b%20c?x=1&x=2&empty=",
        &[
            ("authorization", "Bearer allow-grace"),
            ("x-multi", "1"),
            ("x-multi", "2"),
        ],
        b"",
    );
    assert_eq!(probe.status, 200, "{}", probe.text());
    let event = probe.json();
    let parsed: ApiGatewayProxyRequest =
        serde_json::from_value(event.clone()).unwrap_or_else(|e| panic!("{e}: {event}"));
    assert_eq!(parsed.resource.as_deref(), Some("/probe/{proxy+}"));
    assert_eq!(parsed.path.as_deref(), Some("/probe/a/b c"));
    assert_eq!(
        parsed.path_parameters.get("proxy").map(String::as_str),
        Some("a/b c")
    );
    assert_eq!(parsed.request_context.stage.as_deref(), Some("dev"));
    assert_eq!(event["requestContext"]["path"], "/dev/probe/a/b%20c");
    assert_eq!(
        event["queryStringParameters"],
        json!({"x": "2", "empty": ""})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"]["x"],
        json!(["1", "2"])
    );
    assert_eq!(event["multiValueHeaders"]["x-multi"], json!(["1", "2"]));
    assert_eq!(event["headers"]["x-multi"], "2");
    let authorizer = &event["requestContext"]["authorizer"];
    assert_eq!(authorizer["principalId"], "grace");
    assert_eq!(authorizer["sub"], "grace");
    assert_eq!(authorizer["scope"], "users:read users:write");
    let first = gateway.log_line(probe.header("x-amzn-RequestId").unwrap_or_default());
    assert!(
        first.contains("function=gateway-probe")
            && first.ends_with(&format!(
                "authorizer=miss requestId={}",
                probe.header("x-amzn-RequestId").unwrap_or_default()
            )),
        "{first}"
    );
    let again = gateway.send(
        "POST",
        "/dev/probe/other",
        &[("authorization", "Bearer allow-grace")],
        b"{}",
    );
    assert_eq!(again.status, 200);
    let second = gateway.log_line(again.header("x-amzn-RequestId").unwrap_or_default());
    assert!(second.contains("authorizer=hit"), "{second}");
    assert!(
        !gateway.send("GET", "/dev/public-probe", &[], b"").json()["requestContext"]
            .as_object()
            .is_some_and(|c| c.contains_key("authorizer"))
    );

    // A policy for the first methodArn only breaks the next route from the cache.
    let narrow = ("authorization", "Bearer only-this");
    assert_eq!(
        gateway.send("GET", "/dev/probe/one", &[narrow], b"").status,
        200
    );
    assert_gateway_answer(
        &gateway.send("GET", "/dev/probe/two", &[narrow], b""),
        GatewayError::NotAllowed,
        "a cached narrow policy",
    );

    // Function faults.
    assert_gateway_answer(
        &gateway.send("GET", "/dev/probe/x?answer=malformed", &[ADA], b""),
        GatewayError::Integration,
        "a malformed answer",
    );
    assert_gateway_answer(
        &gateway.send("GET", "/dev/probe/x?answer=error", &[ADA], b""),
        GatewayError::Integration,
        "a function error",
    );
    let impatient = Gateway::start(service.path(), &watch, &["--integration-timeout", "1"]);
    assert_gateway_answer(
        &impatient.send("GET", "/dev/public-probe?sleep=3000", &[], b""),
        GatewayError::IntegrationTimeout,
        "the integration timeout",
    );
}

#[test]
fn an_unreadable_functions_yml_refuses_to_start() {
    let empty = tempfile::tempdir().expect("a temporary directory");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("--root")
        .arg(empty.path())
        .args(["--watch-port", "1", "--port", "0"])
        .output()
        .expect("the gateway runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to start") && stderr.contains("functions.yml"),
        "{stderr}"
    );
}
