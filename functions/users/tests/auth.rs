//! Black-box: who may call what on the real `users` binary, through the
//! Lambda Runtime API. Every route with no caller (401), a caller without
//! the scope (403) and one with it, over REST v1 (a Lambda authorizer's
//! context), HTTP API v2 (JWT authorizer claims) and a Function URL with a
//! bearer token the function verifies itself against a JWKS served on
//! 127.0.0.1 (keys generated here).

use serde_json::{Value, json};
use testkit::events::function_url;
use testkit::jwks::{JwksServer, SigningKey, now};
use testkit::{Caller, Emulator, Function, HttpReply, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_users");
const AUDIENCE: &str = "rust-lambda-api";
const READ: &str = "users:read";
const WRITE: &str = "users:write";
const JSON: (&str, &str) = ("content-type", "application/json");

/// How a request reaches the function, and how its caller is told.
#[derive(Debug, Clone, Copy)]
enum Transport {
    /// API Gateway's authorizer context (REST) or JWT claims (HTTP API).
    Gateway(Shape),
    /// A Function URL: a bearer token, verified in the function.
    FunctionUrl,
}

struct Api<'e> {
    emulator: &'e Emulator,
    key: &'e SigningKey,
    issuer: String,
}

impl Api<'_> {
    fn token(&self, scope: &str, changes: Value) -> String {
        let mut claims = json!({
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "ada",
            "scope": scope,
            "iat": now(),
            "exp": now() + 300,
        });
        if let (Value::Object(base), Value::Object(changes)) = (&mut claims, changes) {
            base.extend(changes);
        }
        self.key.sign(&claims)
    }

    /// `method path` over `transport` by a caller with `scope`, or by
    /// nobody (`None`).
    fn call(
        &self,
        transport: Transport,
        scope: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> HttpReply {
        let json: &[(&str, &str)] = if body.is_some() { &[JSON] } else { &[] };
        let event = match transport {
            Transport::Gateway(shape) => {
                let caller = scope.map_or(Caller::Anonymous, |scope| Caller::Principal {
                    subject: "ada",
                    scope,
                });
                shape.event_as(caller, method, path, json, body)
            }
            Transport::FunctionUrl => {
                let bearer = scope.map(|scope| format!("Bearer {}", self.token(scope, json!({}))));
                let mut headers = json.to_vec();
                if let Some(bearer) = &bearer {
                    headers.push(("authorization", bearer));
                }
                function_url(method, path, &headers, body)
            }
        };
        self.emulator.request("users", &event)
    }
}

fn start(emulator: &Emulator, db: &std::path::Path, auth: &[(&str, &str)]) -> Function {
    let mut env = vec![("USERS_DB_PATH", db.to_str().expect("utf-8 path"))];
    env.extend_from_slice(auth);
    Function::start(emulator, "users", BIN, &env)
}

fn assert_refused(name: &str, reply: &HttpReply, status: u16, head: bool) {
    assert_eq!(reply.status, status, "{name}: {}", reply.text());
    let www_authenticate = (status == 401).then_some("Bearer");
    assert_eq!(reply.header("www-authenticate"), www_authenticate, "{name}");
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("*"),
        "{name}: CORS on a refusal too"
    );
    if !head {
        assert!(
            reply.json()["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}: {}",
            reply.text()
        );
    }
}

#[test]
fn every_route_needs_its_scope_over_every_transport() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let key = SigningKey::rsa("users-test");
    let server = JwksServer::start(&[&key]);
    let (issuer, jwks_url) = (server.issuer(), server.jwks_url());
    let dir = tempfile::tempdir().expect("temp dir");
    let _users = start(
        &emulator,
        &dir.path().join("users.sqlite3"),
        &[
            ("AUTH_ISSUER", &issuer),
            ("AUTH_AUDIENCE", AUDIENCE),
            ("AUTH_JWKS_URL", &jwks_url),
        ],
    );
    let api = Api {
        emulator: &emulator,
        key: &key,
        issuer: issuer.clone(),
    };
    let transports = [
        Transport::Gateway(Shape::RestV1),
        Transport::Gateway(Shape::HttpV2),
        Transport::FunctionUrl,
    ];
    for (n, transport) in transports.into_iter().enumerate() {
        let email = format!("ada{n}@example.com");
        let created = json!({"name": "Ada", "email": email}).to_string();
        let replaced = json!({"name": "Ada L.", "email": email}).to_string();
        // POST first: the id the other routes use is the one it creates.
        let post = api.call(transport, None, "POST", "/api/v1/users", Some(&created));
        assert_refused(&format!("{transport:?} POST by nobody"), &post, 401, false);
        let post = api.call(
            transport,
            Some(READ),
            "POST",
            "/api/v1/users",
            Some(&created),
        );
        assert_refused(
            &format!("{transport:?} POST by a reader"),
            &post,
            403,
            false,
        );
        let post = api.call(
            transport,
            Some(WRITE),
            "POST",
            "/api/v1/users",
            Some(&created),
        );
        assert_eq!(post.status, 201, "{transport:?}: {}", post.text());
        let id = post.json()["id"].as_str().expect("an id").to_owned();
        let one = format!("/api/v1/users/{id}");

        let routes: [(&str, &str, Option<&str>, &str, u16); 6] = [
            ("GET", "/api/v1/users", None, READ, 200),
            ("HEAD", "/api/v1/users", None, READ, 200),
            ("GET", &one, None, READ, 200),
            ("HEAD", &one, None, READ, 200),
            ("PUT", &one, Some(&replaced), WRITE, 200),
            ("DELETE", &one, None, WRITE, 204),
        ];
        for (method, path, body, scope, status) in routes {
            let name = format!("{transport:?} {method} {path}");
            let head = method == "HEAD";
            let other = if scope == READ { WRITE } else { READ };
            let reply = api.call(transport, None, method, path, body);
            assert_refused(&format!("{name} by nobody"), &reply, 401, head);
            let reply = api.call(transport, Some(other), method, path, body);
            assert_refused(&format!("{name} with {other} only"), &reply, 403, head);
            let reply = api.call(transport, Some(""), method, path, body);
            assert_refused(&format!("{name} with no scope"), &reply, 403, head);
            // Still there: the refused DELETEs deleted nothing.
            let reply = api.call(transport, Some(scope), method, path, body);
            assert_eq!(reply.status, status, "{name}: {}", reply.text());
            if method == "PUT" {
                assert_eq!(reply.json()["name"], "Ada L.", "{name}");
            }
        }
        let gone = api.call(transport, Some(READ), "GET", &one, None);
        assert_eq!(gone.status, 404, "{transport:?}: {}", gone.text());
    }
    assert!(
        server.requests() >= 1,
        "the Function URL tokens were verified"
    );
}

#[test]
fn a_bearer_token_is_verified_when_the_event_has_no_authorizer_context() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let (key, stranger) = (SigningKey::ec("users-ec"), SigningKey::ec("stranger"));
    let server = JwksServer::start(&[&key]);
    let (issuer, jwks_url) = (server.issuer(), server.jwks_url());
    let dir = tempfile::tempdir().expect("temp dir");
    let _users = start(
        &emulator,
        &dir.path().join("users.sqlite3"),
        &[
            ("AUTH_ISSUER", &issuer),
            ("AUTH_AUDIENCE", AUDIENCE),
            ("AUTH_JWKS_URL", &jwks_url),
        ],
    );
    let api = Api {
        emulator: &emulator,
        key: &key,
        issuer: issuer.clone(),
    };
    let forged = Api {
        emulator: &emulator,
        key: &stranger,
        issuer: issuer.clone(),
    };
    let list = |authorization: &str, shape: Option<Shape>| {
        let headers = [("authorization", authorization)];
        let event = match shape {
            // API Gateway without an authorizer on the route.
            Some(shape) => {
                shape.event_as(Caller::Anonymous, "GET", "/api/v1/users", &headers, None)
            }
            None => function_url("GET", "/api/v1/users", &headers, None),
        };
        emulator.request("users", &event)
    };
    let bearer = |token: String| format!("Bearer {token}");
    let refused = [
        (
            "expired",
            bearer(api.token(READ, json!({"exp": now() - 120}))),
        ),
        (
            "wrong audience",
            bearer(api.token(READ, json!({"aud": "other"}))),
        ),
        (
            "wrong issuer",
            bearer(api.token(READ, json!({"iss": "https://evil.example"}))),
        ),
        ("unknown key", bearer(forged.token(READ, json!({})))),
        ("garbage", "Bearer not.a.token".to_owned()),
        ("Basic", "Basic YWRhOnB3".to_owned()),
        ("empty", String::new()),
    ];
    for (name, authorization) in &refused {
        assert_refused(name, &list(authorization, None), 401, false);
    }
    let read = bearer(api.token(READ, json!({})));
    assert_eq!(list(&read, None).status, 200);
    let write = bearer(api.token(WRITE, json!({})));
    assert_refused("Function URL writer lists", &list(&write, None), 403, false);
    for shape in Shape::ALL {
        assert_eq!(list(&read, Some(shape)).status, 200, "{shape:?}");
        assert_refused(
            &format!("{shape:?} expired"),
            &list(&refused[0].1, Some(shape)),
            401,
            false,
        );
    }
}

#[test]
fn without_auth_settings_only_api_gateway_callers_get_in() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let key = SigningKey::rsa("unused");
    let server = JwksServer::start(&[&key]);
    let dir = tempfile::tempdir().expect("temp dir");
    let _users = start(&emulator, &dir.path().join("users.sqlite3"), &[]);
    let api = Api {
        emulator: &emulator,
        key: &key,
        issuer: server.issuer(),
    };
    // A token this function has no way to verify: fail closed.
    let reply = api.call(
        Transport::FunctionUrl,
        Some(READ),
        "GET",
        "/api/v1/users",
        None,
    );
    assert_refused("Function URL without AUTH_*", &reply, 401, false);
    for shape in Shape::ALL {
        let reply = api.call(
            Transport::Gateway(shape),
            Some(READ),
            "GET",
            "/api/v1/users",
            None,
        );
        assert_eq!(reply.status, 200, "{shape:?}: {}", reply.text());
    }
    assert_eq!(server.requests(), 0);
}

#[test]
fn partial_or_malformed_auth_settings_refuse_to_start_naming_the_variable() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("AUTH_AUDIENCE", AUDIENCE)], "AUTH_ISSUER"),
        (
            &[("AUTH_ISSUER", "https://issuer.example")],
            "AUTH_AUDIENCE",
        ),
        (
            &[("AUTH_JWKS_URL", "https://issuer.example/keys")],
            "AUTH_ISSUER",
        ),
        (
            &[("AUTH_ISSUER", "not-a-url"), ("AUTH_AUDIENCE", AUDIENCE)],
            "AUTH_ISSUER",
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.sqlite3");
    for (env, variable) in cases {
        let db = db.to_str().expect("utf-8 path");
        let env: Vec<(&str, &str)> = std::iter::once(("USERS_DB_PATH", db))
            .chain(env.iter().copied())
            .collect();
        let (success, text) = testkit::run_to_exit(
            BIN,
            "users",
            &[
                "AUTH_ISSUER",
                "AUTH_AUDIENCE",
                "AUTH_JWKS_URL",
                "USERS_TABLE",
            ],
            &env,
        );
        assert!(!success, "{env:?}: {text}");
        assert!(
            text.contains(&format!("invalid {variable}:")),
            "{env:?}: {text}"
        );
    }
}
