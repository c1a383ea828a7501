//! Black-box: the real `users` binary behind a custom domain with the base
//! path mapping `/orders` (`API_BASE_PATH`), through the Runtime API
//! emulator, with events built from the custom-domain fixtures of
//! `shared/tests/fixtures`. Routed without the base path, `Location` with
//! it; on the `execute-api` host the stage instead; a malformed
//! `API_BASE_PATH` refuses to start.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::events::{Caller, RestV1Event};
use testkit::{Emulator, Function, HttpReply, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_users");
const REST_MAPPED: &str =
    include_str!("../../../shared/tests/fixtures/rest-v1-custom-domain-base-path.json");
const HTTP_MAPPED: &str =
    include_str!("../../../shared/tests/fixtures/http-v2-custom-domain-base-path.json");

/// A request on `api.example.com/orders`: the fixture of `shape` with the
/// method, the path (base path included) and a JSON body.
/// The mapped event for `method path`, from a caller with every scope.
fn mapped(shape: Shape, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut event = mapped_from_fixture(shape, method, path, body);
    Caller::full().authorize(shape, &mut event);
    event
}

fn mapped_from_fixture(shape: Shape, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(Value::to_string);
    match shape {
        Shape::RestV1 => {
            let template = serde_json::from_str(REST_MAPPED).expect("fixture JSON");
            let mut event = RestV1Event::from_template(template)
                .request(method, path)
                .body(body.as_deref());
            event.clear_headers();
            if body.is_some() {
                event = event.header("content-type", "application/json");
            }
            let mut event = event.build();
            event["requestContext"]["path"] = json!(path);
            event
        }
        Shape::HttpV2 => {
            let mut event: Value = serde_json::from_str(HTTP_MAPPED).expect("fixture JSON");
            event["rawPath"] = json!(path);
            event["requestContext"]["http"]["path"] = json!(path);
            event["requestContext"]["http"]["method"] = json!(method);
            if let Some(body) = body {
                event["body"] = json!(body);
                event["headers"]["content-type"] = json!("application/json");
            }
            event
        }
    }
}

#[test]
fn a_custom_domain_base_path_is_stripped_and_put_back_in_location() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.sqlite3");
    let db = db.to_str().expect("UTF-8 path");
    let _users = Function::start(
        &emulator,
        "users",
        BIN,
        &[("USERS_DB_PATH", db), ("API_BASE_PATH", "/orders")],
    );
    for shape in Shape::ALL {
        let tag = format!("{shape:?}").to_lowercase();
        let body = json!({"name": "Ada", "email": format!("ada.{tag}@base-path.example")});
        let reply: HttpReply = emulator.request(
            "users",
            &mapped(shape, "POST", "/orders/api/v1/users", Some(&body)),
        );
        assert_eq!(reply.status, 201, "{shape:?}: {}", reply.text());
        let id = reply.json()["id"].as_str().expect("id").to_owned();
        let location = format!("/orders/api/v1/users/{id}");
        assert_eq!(
            reply.header("location"),
            Some(location.as_str()),
            "{shape:?}"
        );
        // The Location works on the domain it was given on.
        let got = emulator.request("users", &mapped(shape, "GET", &location, None));
        assert_eq!(got.status, 200, "{shape:?}: {}", got.text());
        assert_eq!(got.json()["id"], id.as_str());
        // Stripped once: a doubled base path is no route.
        let unmapped = emulator.request(
            "users",
            &mapped(
                shape,
                "GET",
                &format!("/orders/orders/api/v1/users/{id}"),
                None,
            ),
        );
        assert_eq!(unmapped.status, 404, "{shape:?}: {}", unmapped.text());
    }
    // On the execute-api host the base path is not looked for: the stage
    // is what URLs carry there (REST), or nothing (`$default`).
    for (shape, prefix) in [(Shape::RestV1, "/testStage"), (Shape::HttpV2, "")] {
        let body = format!(r#"{{"name":"Bo","email":"bo.{shape:?}@base-path.example"}}"#);
        let reply = emulator.request("users", &shape.event("POST", "/api/v1/users", Some(&body)));
        assert_eq!(reply.status, 201, "{shape:?}: {}", reply.text());
        let id = reply.json()["id"].as_str().expect("id").to_owned();
        let location = format!("{prefix}/api/v1/users/{id}");
        assert_eq!(
            reply.header("location"),
            Some(location.as_str()),
            "{shape:?}"
        );
    }
}

#[test]
fn a_malformed_base_path_refuses_to_start() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.sqlite3");
    let db = db.to_str().expect("UTF-8 path");
    for bad in ["/orders/", "/a/../b", "/or ders", "/"] {
        let log = dir.path().join("users.log");
        let mut users = Function::start_logging(
            &emulator,
            "users",
            BIN,
            &[("USERS_DB_PATH", db), ("API_BASE_PATH", bad)],
            &log,
        );
        let give_up = Instant::now() + Duration::from_secs(20);
        while users.is_running() && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!users.is_running(), "{bad:?}: refused to start");
        let log = std::fs::read_to_string(&log).expect("log");
        assert!(
            log.contains("invalid API_BASE_PATH"),
            "{bad:?}: says why:\n{log}"
        );
    }
}
