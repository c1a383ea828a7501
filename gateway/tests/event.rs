//! The REST proxy event the gateway builds, against AWS's documented
//! example (`shared/tests/fixtures/rest-v1-aws-example.json`): the same
//! keys with the same JSON types (or `null` where AWS sends `null` for an
//! absent value), and a strict parse as `aws_lambda_events`' type that
//! loses no key.

mod common;

use std::collections::BTreeMap;

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use gateway::event::{Incoming, RequestIds, Target, build};
use serde_json::{Value, json};

/// AWS's example; see `shared/tests/fixtures/README.md`.
const AWS_EXAMPLE: &str = include_str!("../../shared/tests/fixtures/rest-v1-aws-example.json");

/// Maps whose keys are data (headers, parameters), not part of the shape.
const DATA_MAPS: [&str; 7] = [
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext.authorizer",
];

/// Where AWS sends `null` when the request has no such value.
fn may_be_null(path: &str) -> bool {
    path == "stageVariables"
        || (path.starts_with("requestContext.identity.")
            && !matches!(
                path,
                "requestContext.identity.sourceIp" | "requestContext.identity.userAgent"
            ))
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of `example` is in `ours` with the same type.
fn same_shape(example: &Value, ours: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(example) = example.as_object() else {
        return;
    };
    for (key, expected) in example {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match ours.get(key) {
            None => problems.push(format!("{here}: missing")),
            Some(Value::Null) if may_be_null(&here) => {}
            Some(value) if type_name(value) != type_name(expected) => problems.push(format!(
                "{here}: {} instead of {}",
                type_name(value),
                type_name(expected)
            )),
            Some(value) if !DATA_MAPS.contains(&here.as_str()) => {
                same_shape(expected, value, &here, problems);
            }
            Some(_) => {}
        }
    }
}

fn request() -> Incoming {
    Incoming {
        method: "POST".into(),
        path: "/api/v1/users/a%20b".into(),
        query: Some("name=me&name=you&flag".into()),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("user-agent".into(), "PostmanRuntime/2.4.5".into()),
            ("accept".into(), "*/*".into()),
            ("accept".into(), "application/json".into()),
        ],
        body: b"{\"a\": 1}".to_vec(),
        source_ip: "192.168.196.186".into(),
        port: 9000,
    }
}

fn event(authorizer: Option<Value>) -> Value {
    let api = common::deployed_api();
    let params = BTreeMap::from([("id".to_owned(), "a b".to_owned())]);
    let target = Target {
        resource: "/api/v1/users/{id}",
        params: &params,
        authorizer,
    };
    build(&api, &request(), &target, &RequestIds::new())
}

#[test]
fn events_have_the_shape_of_the_aws_example() {
    let example: Value = serde_json::from_str(AWS_EXAMPLE).expect("the fixture is JSON");
    let ours = event(Some(
        json!({"principalId": "ada", "sub": "ada", "scope": "users:read", "integrationLatency": 0}),
    ));
    let mut problems = Vec::new();
    same_shape(&example, &ours, "", &mut problems);
    assert!(problems.is_empty(), "{problems:#?}\n{ours:#}");
    // Documented by AWS beyond the example.
    for pointer in [
        "/isBase64Encoded",
        "/requestContext/extendedRequestId",
        "/requestContext/domainPrefix",
    ] {
        assert!(ours.pointer(pointer).is_some(), "{pointer}");
    }
}

#[test]
fn events_carry_what_api_gateway_puts_there() {
    let api = common::deployed_api();
    let ours = event(None);
    let checks = [
        ("/resource", json!("/api/v1/users/{id}")),
        ("/path", json!("/api/v1/users/a b")),
        ("/httpMethod", json!("POST")),
        ("/pathParameters", json!({"id": "a b"})),
        ("/queryStringParameters", json!({"name": "you", "flag": ""})),
        (
            "/multiValueQueryStringParameters",
            json!({"name": ["me", "you"], "flag": [""]}),
        ),
        ("/headers/accept", json!("application/json")),
        (
            "/multiValueHeaders/accept",
            json!(["*/*", "application/json"]),
        ),
        ("/headers/X-Forwarded-For", json!("192.168.196.186")),
        ("/headers/X-Forwarded-Proto", json!("http")),
        ("/stageVariables", Value::Null),
        ("/body", json!("{\"a\": 1}")),
        ("/isBase64Encoded", json!(false)),
        ("/requestContext/stage", json!(api.stage)),
        (
            "/requestContext/path",
            json!(format!("/{}/api/v1/users/a%20b", api.stage)),
        ),
        ("/requestContext/resourcePath", json!("/api/v1/users/{id}")),
        ("/requestContext/httpMethod", json!("POST")),
        ("/requestContext/protocol", json!("HTTP/1.1")),
        ("/requestContext/domainName", json!(api.domain_name())),
        (
            "/requestContext/identity/sourceIp",
            json!("192.168.196.186"),
        ),
        (
            "/requestContext/identity/userAgent",
            json!("PostmanRuntime/2.4.5"),
        ),
    ];
    for (pointer, expected) in checks {
        assert_eq!(ours.pointer(pointer), Some(&expected), "{pointer}");
    }
    assert!(
        ours["requestContext"].get("authorizer").is_none(),
        "public methods have no authorizer"
    );
    let bare = Incoming {
        query: None,
        body: Vec::new(),
        ..request()
    };
    let params = BTreeMap::new();
    let target = Target {
        resource: "/api/v1/users",
        params: &params,
        authorizer: None,
    };
    let bare = build(&api, &bare, &target, &RequestIds::new());
    for key in [
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "body",
    ] {
        assert_eq!(bare[key], Value::Null, "{key}");
    }
}

/// Keys AWS documents in the REST proxy input format that
/// `aws_lambda_events` 1.2 does not model (API Gateway sends them anyway).
const DOCUMENTED_UNMODELLED: [&str; 2] = [
    "requestContext.extendedRequestId",
    "requestContext.identity.principalOrgId",
];

/// The keys of the objects of `value` that are shapes, recursively.
fn shape_keys(value: &Value, path: &str, out: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        return;
    };
    for (key, child) in object {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        out.push(here.clone());
        if !DATA_MAPS.contains(&here.as_str()) {
            shape_keys(child, &here, out);
        }
    }
}

#[test]
fn events_parse_strictly_as_aws_lambda_events() {
    for authorizer in [
        None,
        Some(
            json!({"principalId": "ada", "sub": "ada", "scope": "users:read", "integrationLatency": 3}),
        ),
    ] {
        let ours = event(authorizer.clone());
        let parsed: ApiGatewayProxyRequest =
            serde_json::from_value(ours.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            parsed.path_parameters.get("id").map(String::as_str),
            Some("a b")
        );
        assert_eq!(
            parsed.multi_value_query_string_parameters.all("name"),
            Some(vec!["me", "you"])
        );
        assert_eq!(
            parsed.request_context.identity.source_ip.as_deref(),
            Some("192.168.196.186")
        );
        if authorizer.is_some() {
            assert_eq!(
                parsed.request_context.authorizer.fields.get("principalId"),
                Some(&json!("ada"))
            );
            assert_eq!(
                parsed.request_context.authorizer.fields.get("scope"),
                Some(&json!("users:read"))
            );
        }
        // No key of ours is unknown to the type (it would be dropped here).
        let round_trip = serde_json::to_value(&parsed).expect("serializes");
        let (mut ours_keys, mut known) = (Vec::new(), Vec::new());
        shape_keys(&ours, "", &mut ours_keys);
        shape_keys(&round_trip, "", &mut known);
        let unknown: Vec<&String> = ours_keys
            .iter()
            .filter(|k| !known.contains(k) && !DOCUMENTED_UNMODELLED.contains(&k.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "keys aws_lambda_events does not know: {unknown:?}"
        );
    }
}
