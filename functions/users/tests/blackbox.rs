//! Black-box: the real `users` binary through the Lambda Runtime API, the
//! whole contract over REST v1 (production) and HTTP API v2 (the watcher).

use std::collections::HashSet;

use serde_json::{Value, json};
use testkit::dynamo::Moto;
use testkit::users::{Store, start_users};
use testkit::{Emulator, Function, HttpReply, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_users");

struct Api<'e> {
    emulator: &'e Emulator,
    shape: Shape,
}

impl Api<'_> {
    fn call(&self, method: &str, path: &str, body: Option<&str>) -> HttpReply {
        self.emulator
            .request("users", &self.shape.event(method, path, body))
    }

    fn call_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> HttpReply {
        self.emulator.request(
            "users",
            &self.shape.event_with(method, path, headers, Some(body)),
        )
    }

    fn create(&self, name: &str, email: &str) -> Value {
        let reply = self.call(
            "POST",
            "/api/v1/users",
            Some(&json!({"name": name, "email": email}).to_string()),
        );
        assert_eq!(reply.status, 201, "{:?}: {}", self.shape, reply.text());
        reply.json()
    }
}

#[test]
fn the_users_contract_holds_over_both_event_shapes() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    for shape in Shape::ALL {
        let dir = tempfile::tempdir().expect("temp dir");
        let _users = start_users(
            &emulator,
            BIN,
            Store::Sqlite(&dir.path().join("users.sqlite3")),
            &[],
        );
        let api = Api {
            emulator: &emulator,
            shape,
        };
        scenario_crud(&api);
        scenario_client_mistakes(&api);
        scenario_pagination(&api);
    }
}

fn scenario_crud(api: &Api<'_>) {
    let shape = api.shape;
    let reply = api.call(
        "POST",
        "/api/v1/users/",
        Some(r#"{"name":"  Ada Lovelace ","email":"ada@example.com"}"#),
    );
    assert_eq!(reply.status, 201, "{shape:?}: {}", reply.text());
    let user = reply.json();
    let id = user["id"].as_str().expect("id").to_owned();
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["email"], "ada@example.com");
    assert!(
        user["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let expected_location = match shape {
        // Behind the default execute-api host, URLs carry the stage.
        Shape::RestV1 => format!("/testStage/api/v1/users/{id}"),
        Shape::HttpV2 => format!("/api/v1/users/{id}"),
    };
    assert_eq!(
        reply.header("location"),
        Some(expected_location.as_str()),
        "{shape:?}"
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));

    let got = api.call("GET", &format!("/api/v1/users/{id}"), None);
    assert_eq!((got.status, got.json()), (200, user.clone()), "{shape:?}");

    let head = api.call("HEAD", &format!("/api/v1/users/{id}"), None);
    assert_eq!((head.status, head.body.len()), (200, 0), "{shape:?}");

    let replaced = api.call(
        "PUT",
        &format!("/api/v1/users/{id}"),
        Some(r#"{"name":"Ada King","email":"ADA@example.com"}"#),
    );
    assert_eq!(
        replaced.status,
        200,
        "{shape:?}: own email, other case: {}",
        replaced.text()
    );
    assert_eq!(replaced.json()["name"], "Ada King");
    assert_eq!(replaced.json()["created_at"], user["created_at"]);

    let other = api.create("Grace", "grace@example.com");
    let clash = api.call(
        "PUT",
        &format!("/api/v1/users/{}", other["id"].as_str().expect("id")),
        Some(r#"{"name":"Grace","email":"ada@EXAMPLE.com"}"#),
    );
    assert_eq!(clash.status, 409, "{shape:?}");

    let duplicate = api.call(
        "POST",
        "/api/v1/users",
        Some(r#"{"name":"Copy","email":"Grace@Example.com"}"#),
    );
    assert_eq!(duplicate.status, 409, "{shape:?}");
    assert_eq!(
        duplicate.json()["message"],
        "email is already used by another user"
    );

    let missing = "01900000-0000-7000-8000-000000000000";
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(r#"{"name":"X","email":"x@y.zz"}"#)),
        ("DELETE", None),
    ] {
        let reply = api.call(method, &format!("/api/v1/users/{missing}"), body);
        assert_eq!(reply.status, 404, "{shape:?}: {method} missing");
        assert_eq!(reply.json()["message"], "user not found");
    }

    let deleted = api.call("DELETE", &format!("/api/v1/users/{id}"), None);
    assert_eq!((deleted.status, deleted.body.len()), (204, 0), "{shape:?}");
    let again = api.call("DELETE", &format!("/api/v1/users/{id}"), None);
    assert_eq!(again.status, 404, "{shape:?}");
    let gone = api.call("GET", &format!("/api/v1/users/{id}"), None);
    assert_eq!(gone.status, 404, "{shape:?}");

    // The deleted user's email is free again.
    api.create("Ada again", "ada@example.com");
}

fn scenario_client_mistakes(api: &Api<'_>) {
    let shape = api.shape;
    struct Case {
        label: &'static str,
        method: &'static str,
        path: &'static str,
        headers: &'static [(&'static str, &'static str)],
        body: &'static str,
        status: u16,
        fields: &'static [&'static str],
    }
    let json_type: &[(&str, &str)] = &[("content-type", "application/json")];
    let cases = [
        Case {
            label: "invalid JSON",
            method: "POST",
            path: "/api/v1/users",
            headers: json_type,
            body: "{\"name\":",
            status: 400,
            fields: &[],
        },
        Case {
            label: "empty body",
            method: "POST",
            path: "/api/v1/users",
            headers: json_type,
            body: "",
            status: 400,
            fields: &[],
        },
        Case {
            label: "text/plain",
            method: "POST",
            path: "/api/v1/users",
            headers: &[("content-type", "text/plain")],
            body: r#"{"name":"A","email":"a@b.co"}"#,
            status: 415,
            fields: &[],
        },
        Case {
            label: "no content type",
            method: "POST",
            path: "/api/v1/users",
            headers: &[],
            body: r#"{"name":"A","email":"a@b.co"}"#,
            status: 415,
            fields: &[],
        },
        Case {
            label: "missing fields",
            method: "POST",
            path: "/api/v1/users",
            headers: json_type,
            body: "{}",
            status: 422,
            fields: &["name", "email"],
        },
        Case {
            label: "blank name, bad email",
            method: "POST",
            path: "/api/v1/users",
            headers: json_type,
            body: r#"{"name":"  ","email":"nope"}"#,
            status: 422,
            fields: &["name", "email"],
        },
        Case {
            label: "unknown field",
            method: "POST",
            path: "/api/v1/users",
            headers: json_type,
            body: r#"{"name":"A","email":"a@b.co","role":"admin"}"#,
            status: 422,
            fields: &["role"],
        },
        Case {
            label: "number for a string",
            method: "POST",
            path: "/api/v1/users",
            headers: json_type,
            body: r#"{"name":42,"email":"a@b.co"}"#,
            status: 422,
            fields: &["name"],
        },
        Case {
            label: "array body",
            method: "POST",
            path: "/api/v1/users",
            headers: json_type,
            body: "[]",
            status: 422,
            fields: &["body"],
        },
        Case {
            label: "PUT invalid",
            method: "PUT",
            path: "/api/v1/users/01900000-0000-7000-8000-000000000000",
            headers: json_type,
            body: r#"{"name":"A"}"#,
            status: 422,
            fields: &["email"],
        },
        Case {
            label: "limit 0",
            method: "GET",
            path: "/api/v1/users?limit=0",
            headers: &[],
            body: "",
            status: 422,
            fields: &["limit"],
        },
        Case {
            label: "limit 101",
            method: "GET",
            path: "/api/v1/users?limit=101",
            headers: &[],
            body: "",
            status: 422,
            fields: &["limit"],
        },
        Case {
            label: "limit text",
            method: "GET",
            path: "/api/v1/users?limit=ten",
            headers: &[],
            body: "",
            status: 422,
            fields: &["limit"],
        },
        Case {
            label: "tampered cursor",
            method: "GET",
            path: "/api/v1/users?cursor=djE6bm90LWEtdXVpZA",
            headers: &[],
            body: "",
            status: 400,
            fields: &[],
        },
        Case {
            label: "PATCH",
            method: "PATCH",
            path: "/api/v1/users/x",
            headers: json_type,
            body: "{}",
            status: 405,
            fields: &[],
        },
        Case {
            label: "unknown path",
            method: "GET",
            path: "/api/v2/users",
            headers: &[],
            body: "",
            status: 404,
            fields: &[],
        },
    ];
    for case in cases {
        let label = format!("{shape:?}: {}", case.label);
        let reply = api.call_with(case.method, case.path, case.headers, case.body);
        assert_eq!(reply.status, case.status, "{label}: {}", reply.text());
        let body = reply.json();
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{label}: {body}"
        );
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(fields, case.fields, "{label}: {body}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{label}: CORS on errors"
        );
    }
}

fn scenario_pagination(api: &Api<'_>) {
    let shape = api.shape;
    let mut created: HashSet<String> = HashSet::new();
    for n in 0..7 {
        let user = api.create(&format!("User {n}"), &format!("user{n}@page.example"));
        created.insert(user["id"].as_str().expect("id").to_owned());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=3&cursor={c}"),
            None => "/api/v1/users?limit=3".to_owned(),
        };
        let reply = api.call("GET", &path, None);
        assert_eq!(reply.status, 200, "{shape:?}: {}", reply.text());
        let page = reply.json();
        let users = page["users"].as_array().expect("users");
        assert!(users.len() <= 3);
        seen.extend(
            users
                .iter()
                .map(|u| u["id"].as_str().expect("id").to_owned()),
        );
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 20, "pagination must end");
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "{shape:?}: no user repeated");
    assert!(
        created.iter().all(|id| seen.contains(id)),
        "{shape:?}: no user skipped"
    );
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen, "{shape:?}: stable id order");

    let default = api.call("GET", "/api/v1/users", None).json();
    assert!(default["users"].as_array().expect("users").len() <= 20);
    // The document declares any string valid; an empty cursor is the first page.
    let empty = api.call("GET", "/api/v1/users?cursor=", None);
    assert_eq!(
        (empty.status, empty.json()),
        (200, default),
        "{shape:?}: empty cursor"
    );
}

#[test]
fn the_users_contract_holds_on_dynamodb() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    for (n, shape) in Shape::ALL.into_iter().enumerate() {
        let table = format!("users-blackbox-{n}");
        testkit::block_on(moto.create_users_table(&table));
        let _users = start_users(
            &emulator,
            BIN,
            Store::Dynamo {
                moto: &moto,
                table: &table,
            },
            &[],
        );
        let api = Api {
            emulator: &emulator,
            shape,
        };
        scenario_crud(&api);
        scenario_client_mistakes(&api);
        scenario_pagination(&api);
    }
}

/// Several instances of the function (as Lambda scales out) get the same
/// email at the same moment: exactly one 201, the rest 409.
fn scenario_concurrent_duplicates(emulator: &Emulator) {
    let replies: Vec<HttpReply> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..4)
            .map(|n| {
                scope.spawn(move || {
                    let body = json!({"name": format!("Racer {n}"), "email": "racer@example.com"})
                        .to_string();
                    emulator.request(
                        "users",
                        &Shape::RestV1.event("POST", "/api/v1/users", Some(&body)),
                    )
                })
            })
            .collect();
        calls
            .into_iter()
            .map(|c| c.join().expect("thread"))
            .collect()
    });
    let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409]);
}

#[test]
fn concurrent_duplicate_creates_give_one_user_on_both_backends() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.sqlite3");
    {
        let _instances: Vec<Function> = (0..4)
            .map(|_| start_users(&emulator, BIN, Store::Sqlite(&db), &[]))
            .collect();
        scenario_concurrent_duplicates(&emulator);
    }
    let Some(moto) = Moto::start() else { return };
    testkit::block_on(moto.create_users_table("users-race"));
    let _instances: Vec<Function> = (0..4)
        .map(|_| {
            start_users(
                &emulator,
                BIN,
                Store::Dynamo {
                    moto: &moto,
                    table: "users-race",
                },
                &[],
            )
        })
        .collect();
    scenario_concurrent_duplicates(&emulator);
}

#[test]
fn a_dynamodb_outage_is_a_503_and_the_function_recovers() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let Some(mut moto) = Moto::start() else {
        return;
    };
    testkit::block_on(moto.create_users_table("users-outage"));
    let mut users = start_users(
        &emulator,
        BIN,
        Store::Dynamo {
            moto: &moto,
            table: "users-outage",
        },
        &[],
    );
    let api = Api {
        emulator: &emulator,
        shape: Shape::RestV1,
    };
    api.create("Before", "before@example.com");

    moto.stop();
    for (method, path, body) in [
        ("GET", "/api/v1/users", None),
        (
            "POST",
            "/api/v1/users",
            Some(r#"{"name":"During","email":"during@example.com"}"#),
        ),
    ] {
        let reply = api.call(method, path, body);
        assert_eq!(
            reply.status,
            503,
            "{method} during the outage: {}",
            reply.text()
        );
        assert_eq!(
            reply.json(),
            json!({"message": "service temporarily unavailable; retry later"})
        );
    }
    assert!(users.is_running(), "an outage never takes the process down");

    moto.restart();
    testkit::block_on(moto.create_users_table("users-outage"));
    let reply = api.call("GET", "/api/v1/users", None);
    assert_eq!(reply.status, 200, "serves again: {}", reply.text());
    api.create("After", "after@example.com");
}

#[test]
fn users_survive_a_restart_of_the_process() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("nested/dir/users.sqlite3");
    let api = Api {
        emulator: &emulator,
        shape: Shape::HttpV2,
    };
    let mut first = start_users(&emulator, BIN, Store::Sqlite(&db), &[]);
    let user = api.create("Persistent", "persist@example.com");
    first.kill();

    let _second = start_users(&emulator, BIN, Store::Sqlite(&db), &[]);
    let reply = api.call(
        "GET",
        &format!("/api/v1/users/{}", user["id"].as_str().expect("id")),
        None,
    );
    assert_eq!((reply.status, reply.json()), (200, user));
}

#[test]
fn routes_flag_lists_the_routes_and_their_scopes_without_a_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("must-not-exist.sqlite3");
    let output = std::process::Command::new(BIN)
        .arg("--routes")
        .env("USERS_DB_PATH", &db)
        .output()
        .expect("runs");
    assert!(output.status.success());
    let routes: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        routes,
        json!([
            {
                "path": "/api/v1/users",
                "methods": ["GET", "POST"],
                "scopes": {"GET": "users:read", "POST": "users:write"},
            },
            {
                "path": "/api/v1/users/{id}",
                "methods": ["GET", "PUT", "DELETE"],
                "scopes": {"GET": "users:read", "PUT": "users:write", "DELETE": "users:write"},
            },
        ])
    );
    assert!(!db.exists(), "--routes opens no store");
}
