//! Black-box CORS: the real `users` binary with `CORS_ALLOW_ORIGINS` set
//! enforces the allow-list on every answer (success, error, preflight), and
//! sends `*` only when `*` is configured. (The rules themselves are unit
//! tested in shared/src/cors.rs and shared/tests/router.rs.)

use testkit::users::{Store, start_users};
use testkit::{Emulator, Function, HttpReply, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_users");
const ALLOWED: &str = "https://app.example.com";
const ALSO_ALLOWED: &str = "https://admin.example.com";

fn start(emulator: &Emulator, db: &std::path::Path, origins: &str) -> Function {
    start_users(
        emulator,
        BIN,
        Store::Sqlite(db),
        &[("CORS_ALLOW_ORIGINS", origins)],
    )
}

fn values<'r>(reply: &'r HttpReply, name: &str) -> Vec<&'r str> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn varies_on_origin(reply: &HttpReply) -> bool {
    values(reply, "vary").iter().any(|v| {
        v.split(',')
            .any(|name| name.trim().eq_ignore_ascii_case("origin"))
    })
}

/// A request of each kind the function answers: a success, a 404 from the
/// router, a 422 from validation, a 415, and a preflight.
fn requests(shape: Shape, origin: Option<&str>) -> Vec<(&'static str, serde_json::Value, u16)> {
    let mut headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
    let mut json_headers = headers.clone();
    json_headers.push(("content-type", "application/json"));
    let list = shape.event_with("GET", "/api/v1/users", &headers, None);
    let missing = shape.event_with("GET", "/nowhere", &headers, None);
    let invalid = shape.event_with("POST", "/api/v1/users", &json_headers, Some("{}"));
    let plain = shape.event_with("POST", "/api/v1/users", &headers, Some("{}"));
    headers.push(("access-control-request-method", "POST"));
    headers.push(("access-control-request-headers", "content-type"));
    let preflight = shape.event_with("OPTIONS", "/api/v1/users", &headers, None);
    vec![
        ("list", list, 200),
        ("unknown path", missing, 404),
        ("validation error", invalid, 422),
        ("wrong content type", plain, 415),
        ("preflight", preflight, 204),
    ]
}

#[test]
fn an_allow_list_is_enforced_through_the_real_binary() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let _users = start(
        &emulator,
        &dir.path().join("users.sqlite3"),
        &format!("{ALLOWED}, {ALSO_ALLOWED}"),
    );
    let refused = [
        None,
        Some("https://evil.example.com"),
        Some("https://app.example.com.evil.example.com"),
        Some("http://app.example.com"),
        Some("https://app.example.com:8443"),
        Some("null"),
        Some("*"),
    ];
    for shape in Shape::ALL {
        for origin in [ALLOWED, ALSO_ALLOWED] {
            for (what, event, status) in requests(shape, Some(origin)) {
                let label = format!("{shape:?} {what} from {origin}");
                let reply = emulator.request("users", &event);
                assert_eq!(reply.status, status, "{label}: {}", reply.text());
                assert_eq!(
                    values(&reply, "access-control-allow-origin"),
                    [origin],
                    "{label}: the caller's origin, never *"
                );
                assert!(varies_on_origin(&reply), "{label}");
                if what == "preflight" {
                    let methods = reply.header("access-control-allow-methods").unwrap_or("");
                    assert!(methods.contains("POST"), "{label}: {methods}");
                    assert_eq!(
                        reply.header("access-control-allow-headers"),
                        Some("content-type")
                    );
                }
            }
        }
        for origin in refused {
            for (what, event, status) in requests(shape, origin) {
                let label = format!("{shape:?} {what} from {origin:?}");
                let reply = emulator.request("users", &event);
                assert_eq!(reply.status, status, "{label}: still answered");
                for name in [
                    "access-control-allow-origin",
                    "access-control-allow-methods",
                    "access-control-allow-headers",
                    "access-control-expose-headers",
                ] {
                    assert!(values(&reply, name).is_empty(), "{label}: {name} sent");
                }
                assert!(
                    varies_on_origin(&reply),
                    "{label}: caches must key on Origin"
                );
            }
        }
    }
}

#[test]
fn a_star_is_sent_only_when_configured() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let _users = start(&emulator, &dir.path().join("users.sqlite3"), "*");
        for shape in Shape::ALL {
            for (what, event, status) in requests(shape, Some("https://anyone.example.net")) {
                let reply = emulator.request("users", &event);
                assert_eq!(reply.status, status, "{shape:?} {what}");
                assert_eq!(
                    values(&reply, "access-control-allow-origin"),
                    ["*"],
                    "{shape:?} {what}"
                );
            }
        }
    }
    // One allowed origin: a request from it gets it back, not `*`.
    let _users = start(&emulator, &dir.path().join("users.sqlite3"), ALLOWED);
    for shape in Shape::ALL {
        for (what, event, _) in requests(shape, Some(ALLOWED)) {
            let reply = emulator.request("users", &event);
            assert_eq!(
                values(&reply, "access-control-allow-origin"),
                [ALLOWED],
                "{shape:?} {what}"
            );
        }
    }
}
