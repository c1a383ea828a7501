//! The caller an event source already verified, over real payloads (see
//! `fixtures/README.md`): every authorizer shape API Gateway sends, and the
//! sources whose `authorizer` proves nothing.

use serde_json::{Value, json};
use shared::event::adapt;

macro_rules! fixture {
    ($name:literal) => {
        ($name, include_str!(concat!("fixtures/", $name)))
    };
}

/// A fixture: its name and its text.
type Fixture = (&'static str, &'static str);
/// A principal as expected: its subject and scopes.
type Expected = Option<(&'static str, &'static [&'static str])>;

/// The principal `payload` gives: its subject and scopes, or `None`.
fn principal(name: &str, payload: &str) -> Option<(String, Vec<String>)> {
    let (_, request) = adapt(payload, "invocation", None).unwrap_or_else(|e| panic!("{name}: {e}"));
    let request = request.unwrap_or_else(|e| panic!("{name}: {e:?}"));
    request.principal.map(|p| (p.subject, p.scopes))
}

#[test]
fn the_principal_of_each_source() {
    let cases: Vec<(Fixture, Expected)> = vec![
        // REST, Lambda authorizer: `principalId` beside its `context`.
        (
            fixture!("rest-v1-lambda-authorizer.json"),
            Some(("ada", &["users:read", "users:write"])),
        ),
        // REST, a Lambda authorizer context with a `principalId` only.
        (fixture!("rest-v1-aws-example.json"), Some(("admin", &[]))),
        // REST, Cognito user pool: the claims, groups comma-separated.
        (
            fixture!("rest-v1-cognito-authorizer.json"),
            Some((
                "2f1c5a1e-8d3b-4c59-9f0e-3b7d2c1a9e42",
                &["users:read", "admins", "users:write"],
            )),
        ),
        // HTTP API, JWT authorizer: claims (groups as `[a b]`) and scopes.
        (
            fixture!("http-v2-jwt-authorizer.json"),
            Some((
                "ada",
                &["users:read", "admins", "users:write", "scope1", "scope2"],
            )),
        ),
        // HTTP API, Lambda authorizer: its context under `lambda`.
        (
            fixture!("http-v2-lambda-authorizer.json"),
            Some(("ada", &["users:read", "users:write"])),
        ),
        // No authorizer at all.
        (fixture!("article-rest-v1-get-ping.json"), None),
        (fixture!("http-v2-aws-example.json"), None),
        // A Function URL (IAM authorizer only) and ALB never pass API
        // Gateway's authorizers.
        (fixture!("function-url-aws-example.json"), None),
        (fixture!("alb-headers-only.json"), None),
        (fixture!("alb-multi-value.json"), None),
    ];
    for ((name, payload), expected) in cases {
        let expected = expected.map(|(subject, scopes)| {
            (
                subject.to_owned(),
                scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
            )
        });
        assert_eq!(principal(name, payload), expected, "{name}");
    }
}

#[test]
fn a_principal_keeps_the_claims_it_came_with() {
    let (_, request) = adapt(
        include_str!("fixtures/http-v2-jwt-authorizer.json"),
        "invocation",
        None,
    )
    .expect("an HTTP event");
    let principal = request.expect("a request").principal.expect("a principal");
    assert_eq!(principal.claims["claim1"], "value1");
    assert_eq!(principal.claims["iss"], "https://issuer.example");
}

/// `payload` with `requestContext.authorizer` replaced.
fn with_authorizer(payload: &str, authorizer: Value) -> String {
    let mut event: Value = serde_json::from_str(payload).expect("a fixture is JSON");
    event["requestContext"]["authorizer"] = authorizer;
    event.to_string()
}

#[test]
fn an_authorizer_that_proves_nothing_gives_no_principal() {
    let jwt =
        json!({"jwt": {"claims": {"sub": "mallory", "scope": "users:write"}, "scopes": null}});
    let cases = [
        // A Function URL event is built by Lambda, never by an authorizer:
        // an `authorizer` in it is not API Gateway's.
        (
            "function URL with JWT claims",
            with_authorizer(
                include_str!("fixtures/function-url-aws-example.json"),
                jwt.clone(),
            ),
        ),
        (
            "function URL with a Lambda context",
            with_authorizer(
                include_str!("fixtures/function-url-aws-example.json"),
                json!({"lambda": {"sub": "mallory", "scope": "users:write"}}),
            ),
        ),
        // Contexts without a usable subject.
        (
            "REST context without a subject",
            with_authorizer(
                include_str!("fixtures/rest-v1-aws-example.json"),
                json!({"scope": "users:write", "integrationLatency": 0}),
            ),
        ),
        (
            "REST empty principalId",
            with_authorizer(
                include_str!("fixtures/rest-v1-aws-example.json"),
                json!({"principalId": "", "scope": "users:write"}),
            ),
        ),
        (
            "Cognito claims without sub",
            with_authorizer(
                include_str!("fixtures/rest-v1-aws-example.json"),
                json!({"claims": {"scope": "users:write"}}),
            ),
        ),
        (
            "JWT claims without sub",
            with_authorizer(
                include_str!("fixtures/http-v2-aws-example.json"),
                json!({"jwt": {"claims": {"scope": "users:write"}, "scopes": ["users:write"]}}),
            ),
        ),
        (
            "HTTP API IAM authorizer",
            with_authorizer(
                include_str!("fixtures/http-v2-aws-example.json"),
                json!({"iam": {"accountId": "111122223333", "userId": "AIDA"}}),
            ),
        ),
    ];
    for (name, payload) in cases {
        assert_eq!(principal(name, &payload), None, "{name}");
    }
}
