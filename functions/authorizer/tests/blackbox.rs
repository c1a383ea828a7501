//! Black-box: the real `authorizer` binary through the Lambda Runtime API,
//! with API Gateway's TOKEN authorizer event, tokens signed by keys
//! generated here and the JWKS served on 127.0.0.1.

use std::process::Command;

use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};
use testkit::jwks::{JwksServer, Mode, SigningKey, forge, now};
use testkit::{Emulator, Function, Invocation};

const BIN: &str = env!("CARGO_BIN_EXE_authorizer");
const ISSUER: &str = "https://issuer.test/pool";
const AUDIENCE: &str = "rust-lambda-api";
/// The stage-wide resource for the fixture's `methodArn`
/// (`arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/`).
const FIXTURE_STAGE: &str = "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/*/*";

/// The fixture event with `authorizationToken` set to `authorization`.
fn event(authorization: &str) -> Value {
    let mut event: Value = serde_json::from_str(include_str!(
        "fixtures/example-apigw-custom-auth-request.json"
    ))
    .expect("the fixture is JSON");
    event["authorizationToken"] = json!(authorization);
    event
}

fn claims(changes: Value) -> Value {
    let mut claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "ada",
        "scope": "users:read users:write",
        "iat": now(),
        "exp": now() + 300,
    });
    if let (Value::Object(base), Value::Object(changes)) = (&mut claims, changes) {
        base.extend(changes);
    }
    claims
}

fn start(emulator: &Emulator, server: &JwksServer) -> Function {
    let url = server.jwks_url();
    let env = [
        ("AUTH_ISSUER", ISSUER),
        ("AUTH_AUDIENCE", AUDIENCE),
        ("AUTH_JWKS_URL", url.as_str()),
    ];
    Function::start(emulator, "authorizer", BIN, &env)
}

fn invoke(emulator: &Emulator, event: &Value) -> Invocation {
    emulator.invoke_raw("authorizer", &event.to_string())
}

fn assert_unauthorized(name: &str, invocation: &Invocation) {
    assert_ne!(invocation.status, 200, "{name}: {}", invocation.body);
    assert_eq!(
        (
            &invocation.body["errorType"],
            &invocation.body["errorMessage"]
        ),
        (&json!("Unauthorized"), &json!("Unauthorized")),
        "{name}: {}",
        invocation.body
    );
}

#[test]
fn valid_tokens_get_an_allow_for_the_whole_stage() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"));
    let server = JwksServer::start(&[&rsa, &ec]);
    let _authorizer = start(&emulator, &server);
    let cases = [
        ("RS256", rsa.sign(&claims(json!({}))), FIXTURE_STAGE),
        ("ES256", ec.sign(&claims(json!({}))), FIXTURE_STAGE),
    ];
    for (name, token, resource) in cases {
        let Invocation { status, body } = invoke(&emulator, &event(&format!("Bearer {token}")));
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["principalId"], "ada", "{name}");
        assert_eq!(
            body["policyDocument"],
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Action": ["execute-api:Invoke"],
                    "Effect": "Allow",
                    "Resource": [resource],
                }],
            }),
            "{name}"
        );
        assert_eq!(
            body["context"],
            json!({"sub": "ada", "scope": "users:read users:write"}),
            "{name}"
        );
    }

    let mut on_a_stage = event(&format!("Bearer {}", ec.sign(&claims(json!({})))));
    on_a_stage["methodArn"] =
        json!("arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/DELETE/api/v1/users/42");
    let Invocation { status, body } = invoke(&emulator, &on_a_stage);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["policyDocument"]["Statement"][0]["Resource"],
        json!(["arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/*/*"])
    );
    assert_eq!(server.requests(), 1, "one JWKS fetch for the process");
}

#[test]
fn invalid_expired_or_missing_tokens_are_unauthorized() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"));
    let server = JwksServer::start(&[&rsa, &ec]);
    let _authorizer = start(&emulator, &server);
    let valid = rsa.sign(&claims(json!({})));
    let mut unknown_kid = Header::new(Algorithm::ES256);
    unknown_kid.kid = Some("ec-9".into());
    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            format!("Bearer {}", rsa.sign(&claims(json!({"exp": now() - 120})))),
        ),
        (
            "not yet valid",
            format!("Bearer {}", ec.sign(&claims(json!({"nbf": now() + 120})))),
        ),
        (
            "wrong iss",
            format!(
                "Bearer {}",
                rsa.sign(&claims(json!({"iss": "https://evil.test/pool"})))
            ),
        ),
        (
            "wrong aud",
            format!("Bearer {}", ec.sign(&claims(json!({"aud": "another-api"})))),
        ),
        (
            "unknown kid",
            format!("Bearer {}", ec.sign_with(&unknown_kid, &claims(json!({})))),
        ),
        (
            "alg none",
            format!("Bearer {}", forge::unsigned("rsa-1", &claims(json!({})))),
        ),
        (
            "HS256 signed with the public key as the secret",
            format!(
                "Bearer {}",
                forge::hs256_with_public_key(&rsa, &claims(json!({})))
            ),
        ),
        (
            "tampered payload",
            format!(
                "Bearer {}",
                forge::tampered(&valid, &claims(json!({"scope": "admin"})))
            ),
        ),
        ("garbage", "Bearer garbage".into()),
        ("the token without `Bearer`", valid.clone()),
        ("empty header", String::new()),
        ("`Basic` header", "Basic YWRhOnBhc3N3b3Jk".into()),
    ];
    for (name, authorization) in &cases {
        assert_unauthorized(name, &invoke(&emulator, &event(authorization)));
    }
    let mut no_token = event("");
    no_token
        .as_object_mut()
        .map(|event| event.remove("authorizationToken"));
    assert_unauthorized("no authorizationToken", &invoke(&emulator, &no_token));

    let still = invoke(&emulator, &event(&format!("Bearer {valid}")));
    assert_eq!(
        still.status, 200,
        "the process still allows: {}",
        still.body
    );
}

#[test]
fn an_unreachable_jwks_is_a_fault_not_an_allow_nor_a_401() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let key = SigningKey::rsa("rsa-1");
    let server = JwksServer::start(&[&key]);
    server.set_mode(Mode::Failing);
    let _authorizer = start(&emulator, &server);
    let token = format!("Bearer {}", key.sign(&claims(json!({}))));
    for attempt in ["first", "second, while the fetch is not retried"] {
        let Invocation { status, body } = invoke(&emulator, &event(&token));
        assert_ne!(status, 200, "{attempt}: {body}");
        assert_eq!(body["errorType"], "JwksUnavailable", "{attempt}: {body}");
        assert_ne!(body["errorMessage"], "Unauthorized", "{attempt}");
        assert!(body.get("policyDocument").is_none(), "{attempt}");
    }
    assert_eq!(server.requests(), 1);
}

#[test]
fn an_event_that_is_not_a_token_authorizer_event_is_a_fault() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let key = SigningKey::ec("ec-1");
    let server = JwksServer::start(&[&key]);
    let _authorizer = start(&emulator, &server);
    let token = format!("Bearer {}", key.sign(&claims(json!({}))));
    let cases: [(&str, &str, Value); 4] = [
        ("no methodArn", "methodArn", Value::Null),
        (
            "a Lambda ARN",
            "methodArn",
            json!("arn:aws:lambda:us-west-2:123456789012:function:users"),
        ),
        (
            "a method ARN without stage",
            "methodArn",
            json!("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b"),
        ),
        ("a REQUEST event", "type", json!("REQUEST")),
    ];
    for (name, field, value) in cases {
        let mut event = event(&token);
        event[field] = value;
        let Invocation { status, body } = invoke(&emulator, &event);
        assert_ne!(status, 200, "{name}: {body}");
        assert_eq!(
            body["errorType"], "InvalidAuthorizerEvent",
            "{name}: {body}"
        );
        assert_ne!(body["errorMessage"], "Unauthorized", "{name}");
    }
    assert_eq!(server.requests(), 0, "no token is looked at");
}

#[test]
fn missing_or_malformed_configuration_refuses_to_start_naming_the_variable() {
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("AUTH_AUDIENCE", AUDIENCE)], "AUTH_ISSUER"),
        (&[("AUTH_ISSUER", ISSUER)], "AUTH_AUDIENCE"),
        (
            &[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", " ")],
            "AUTH_AUDIENCE",
        ),
        (
            &[
                ("AUTH_ISSUER", ISSUER),
                ("AUTH_AUDIENCE", AUDIENCE),
                ("AUTH_JWKS_URL", "http://keys.example/jwks.json"),
            ],
            "AUTH_JWKS_URL",
        ),
        (
            &[("AUTH_ISSUER", "not-a-url"), ("AUTH_AUDIENCE", AUDIENCE)],
            "AUTH_ISSUER",
        ),
    ];
    for (env, variable) in cases {
        let (success, text) = testkit::run_to_exit(
            BIN,
            "authorizer",
            &["AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL"],
            env,
        );
        assert!(!success, "{env:?}: {text}");
        assert!(
            text.contains(&format!("invalid {variable}:")),
            "{env:?}: {text}"
        );
    }
}

#[test]
fn it_serves_no_routes_for_the_route_tools() {
    let routes = Command::new(BIN).arg("--routes").output().expect("runs");
    assert!(routes.status.success());
    assert_eq!(
        serde_json::from_slice::<Value>(&routes.stdout).expect("JSON"),
        json!([])
    );
    let openapi = Command::new(BIN).arg("--openapi").output().expect("runs");
    assert!(openapi.status.success());
    let document: Value = serde_json::from_slice(&openapi.stdout).expect("JSON");
    assert_eq!(document["paths"], json!({}));
}
