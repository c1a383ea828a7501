//! Ids are UUIDs (issue 15, item 2): a path id that does not parse as one
//! is the same 404 as an unknown id, on both stores, and the store is never
//! asked. Before, `GET /api/v1/users/<1,100 bytes>` reached DynamoDB's
//! `GetItem`, which refuses a key over 1,024 bytes (`ValidationException`):
//! a 500 and an ERROR log. moto does not check key sizes, so the proof
//! that the store is not reached is a function whose DynamoDB endpoint is a
//! closed port: a malformed id is still a 404 there, a well-formed one 503.

use serde_json::{Value, json};
use testkit::dynamo::{Moto, TEST_ENV};
use testkit::users::{Store, start_users};
use testkit::{Emulator, Function, HttpReply, Shape, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_users");
const USERS: &str = "/api/v1/users";
/// A well-formed UUIDv7 no user has.
const UNKNOWN: &str = "01900000-0000-7000-8000-000000000000";

/// Path ids that are not UUIDs in their hyphenated form, percent-encoded
/// as they travel in a path.
fn not_uuids() -> Vec<(&'static str, String)> {
    vec![
        ("1,100 bytes", "a".repeat(1_100)),
        ("1,100 bytes of hex", "0".repeat(1_100)),
        ("a word", "nobody".into()),
        ("one digit short", UNKNOWN[..35].into()),
        ("one digit long", format!("{UNKNOWN}0")),
        ("a UUID and a suffix", format!("{UNKNOWN}.json")),
        ("the simple form", UNKNOWN.replace('-', "")),
        ("braced", format!("%7B{UNKNOWN}%7D")),
        ("a URN", format!("urn:uuid:{UNKNOWN}")),
        ("a non-hex digit", UNKNOWN.replace('7', "g")),
        (
            "hyphens moved",
            "0190000-00000-7000-8000-000000000000".into(),
        ),
        ("NUL", "%00".into()),
        ("a NUL in a UUID", format!("{}%00", &UNKNOWN[..35])),
        ("non-ASCII of 36 bytes", "é".repeat(18)),
        ("spaces around", format!("%20{UNKNOWN}%20")),
    ]
}

fn call(emulator: &Emulator, method: &str, id: &str) -> HttpReply {
    call_in(emulator, Shape::RestV1, method, id)
}

fn call_in(emulator: &Emulator, shape: Shape, method: &str, id: &str) -> HttpReply {
    let body = json!({"name": "X", "email": "x@example.com"}).to_string();
    let body = (method == "PUT").then_some(body.as_str());
    emulator.request(
        "users",
        &shape.event(method, &format!("{USERS}/{id}"), body),
    )
}

/// Every method on every malformed id: the body of an unknown id.
fn malformed_ids_are_unknown_ids(emulator: &Emulator, store: &str) {
    for (shape, method) in Shape::ALL
        .into_iter()
        .flat_map(|shape| ["GET", "PUT", "DELETE"].map(|method| (shape, method)))
    {
        let unknown = call_in(emulator, shape, method, UNKNOWN);
        assert_eq!(unknown.status, 404, "{store} {method}: {}", unknown.text());
        assert_eq!(unknown.json(), json!({"message": "user not found"}));
        for (label, id) in not_uuids() {
            let reply = call_in(emulator, shape, method, &id);
            assert_eq!(
                (reply.status, reply.json()),
                (404, unknown.json()),
                "{store} {shape:?} {method} {label}"
            );
        }
    }
}

/// A stored user is found by its id, in either case, and by nothing else.
fn the_real_id_still_works(emulator: &Emulator, store: &str) {
    let created = emulator.request(
        "users",
        &Shape::RestV1.event(
            "POST",
            USERS,
            Some(&json!({"name": "Ada", "email": format!("ada-{store}@example.com")}).to_string()),
        ),
    );
    assert_eq!(created.status, 201, "{store}: {}", created.text());
    let user: Value = created.json();
    let id = user["id"].as_str().expect("id");
    for form in [id.to_owned(), id.to_uppercase()] {
        let got = call(emulator, "GET", &form);
        assert_eq!(
            (got.status, got.json()),
            (200, user.clone()),
            "{store} {form}"
        );
    }
    let simple = call(emulator, "GET", &id.replace('-', ""));
    assert_eq!(simple.status, 404, "{store}");
    let deleted = call(emulator, "DELETE", &id.to_uppercase());
    assert_eq!(deleted.status, 204, "{store}");
}

#[test]
fn ids_that_are_not_uuids_are_404_on_sqlite() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.sqlite3");
    let _users = start_users(&emulator, BIN, Store::Sqlite(&db), &[]);
    malformed_ids_are_unknown_ids(&emulator, "sqlite");
    the_real_id_still_works(&emulator, "sqlite");
}

#[test]
fn ids_that_are_not_uuids_are_404_on_dynamodb() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    let table = "users-ids";
    testkit::block_on(moto.create_users_table(table));
    let _users = start_users(&emulator, BIN, Store::Dynamo { moto: &moto, table }, &[]);
    malformed_ids_are_unknown_ids(&emulator, "dynamodb");
    the_real_id_still_works(&emulator, "dynamodb");
}

/// Issue 15, item 2: the 1,100-byte id that real DynamoDB refuses never
/// reaches the store. The endpoint is a closed loopback port, so any store
/// call fails (503); the malformed ids are answered 404 all the same.
#[test]
fn a_malformed_id_never_reaches_the_store() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    // Bound and dropped: nothing listens there.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let mut env = vec![
        ("USERS_TABLE", "users-unreachable"),
        ("DYNAMODB_ENDPOINT", closed.as_str()),
    ];
    env.extend_from_slice(TEST_ENV);
    let mut users = Function::start(&emulator, "users", BIN, &env);
    for method in ["GET", "PUT", "DELETE"] {
        // The control: a well-formed id does reach the (dead) store.
        let reached = call(&emulator, method, UNKNOWN);
        assert_eq!(reached.status, 503, "{method}: {}", reached.text());
        for (label, id) in not_uuids() {
            let reply = call(&emulator, method, &id);
            assert_eq!(
                (reply.status, reply.json()),
                (404, json!({"message": "user not found"})),
                "{method} {label}"
            );
        }
    }
    assert!(users.is_running());
}
