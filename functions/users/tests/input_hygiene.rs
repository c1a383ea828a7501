//! Input hygiene at the route (issue 15, item 6), on both stores: control
//! and format characters in a name or an email are a 422 naming the field,
//! `<script>@x.y` is no email, and composed and decomposed `josé` are one
//! address (409 on the second), as are domains in another case. Before,
//! each of these was a 201.

use serde_json::{Value, json};
use testkit::dynamo::Moto;
use testkit::users::{Store, start_users};
use testkit::{Emulator, HttpReply, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_users");
const USERS: &str = "/api/v1/users";

fn post(emulator: &Emulator, shape: Shape, name: &str, email: &str) -> HttpReply {
    let body = json!({"name": name, "email": email}).to_string();
    emulator.request("users", &shape.event("POST", USERS, Some(&body)))
}

/// The fields a 422 names.
fn fields(reply: &HttpReply) -> Vec<String> {
    reply.json()["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn scenario(emulator: &Emulator, store: &str) {
    // (label, name, email, the field refused)
    let refused: [(&str, &str, &str, &str); 14] = [
        ("NUL in the name", "Ada\u{0}", "nul@example.com", "name"),
        ("ESC in the name", "\u{1b}[2JAda", "esc@example.com", "name"),
        (
            "a newline in the name",
            "Ada\nLovelace",
            "nl@example.com",
            "name",
        ),
        (
            "U+202E in the name",
            "Ada\u{202e}ecalevol",
            "rlo@example.com",
            "name",
        ),
        (
            "a zero-width space in the name",
            "A\u{200b}da",
            "zw@example.com",
            "name",
        ),
        (
            "a BOM in the name",
            "\u{feff}Ada",
            "bom@example.com",
            "name",
        ),
        (
            "a line separator in the name",
            "Ada\u{2028}King",
            "ls@example.com",
            "name",
        ),
        (
            "a zero-width space in the email",
            "Ada",
            "ada\u{200b}@example.com",
            "email",
        ),
        (
            "U+202E in the email",
            "Ada",
            "ada@exa\u{202e}mple.com",
            "email",
        ),
        ("NUL in the email", "Ada", "ada\u{0}@example.com", "email"),
        ("a tab in the email", "Ada", "ada\t@example.com", "email"),
        ("<script>@x.y", "Ada", "<script>@x.y", "email"),
        ("a quoted local part", "Ada", "\"a b\"@example.com", "email"),
        (
            "a comma in the local part",
            "Ada",
            "a,b@example.com",
            "email",
        ),
    ];
    for shape in Shape::ALL {
        for (label, name, email, field) in refused {
            let reply = post(emulator, shape, name, email);
            assert_eq!(
                (reply.status, fields(&reply)),
                (422, vec![field.to_owned()]),
                "{store} {shape:?} {label}: {}",
                reply.text()
            );
        }
    }

    // One address, whatever the normal form or the domain's case.
    let composed = post(emulator, Shape::RestV1, "José", "jos\u{e9}@example.com");
    assert_eq!(composed.status, 201, "{store}: {}", composed.text());
    let stored: Value = composed.json();
    assert_eq!(stored["email"], "jos\u{e9}@example.com");
    let same_address = [
        ("decomposed", "jose\u{301}@example.com"),
        ("decomposed, domain in capitals", "jose\u{301}@EXAMPLE.COM"),
        ("local part in capitals", "JOS\u{c9}@example.com"),
    ];
    for shape in Shape::ALL {
        for (label, email) in same_address {
            let reply = post(emulator, shape, "Another José", email);
            assert_eq!(
                (reply.status, reply.json()["message"].clone()),
                (409, json!("email is already used by another user")),
                "{store} {shape:?} {label}"
            );
        }
    }

    // Stored in NFC with the domain in lower case; names in NFC.
    let decomposed = post(
        emulator,
        Shape::HttpV2,
        "Rene\u{301}e",
        "Rene\u{301}e@E\u{301}COLE.fr",
    );
    assert_eq!(decomposed.status, 201, "{store}: {}", decomposed.text());
    let user: Value = decomposed.json();
    assert_eq!(
        (user["name"].clone(), user["email"].clone()),
        (json!("Ren\u{e9}e"), json!("Ren\u{e9}e@\u{e9}cole.fr"))
    );
    let id = user["id"].as_str().expect("id");
    let read = emulator.request(
        "users",
        &Shape::RestV1.event("GET", &format!("{USERS}/{id}"), None),
    );
    assert_eq!(read.json(), user, "{store}");

    // The same email once the zero-width space is gone is an ordinary user.
    let plain = post(emulator, Shape::RestV1, "Ada", "ada@example.com");
    assert_eq!(plain.status, 201, "{store}: {}", plain.text());
}

#[test]
fn hostile_characters_and_unicode_forms_on_sqlite() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.sqlite3");
    let _users = start_users(&emulator, BIN, Store::Sqlite(&db), &[]);
    scenario(&emulator, "sqlite");
}

#[test]
fn hostile_characters_and_unicode_forms_on_dynamodb() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    let table = "users-hygiene";
    testkit::block_on(moto.create_users_table(table));
    let _users = start_users(&emulator, BIN, Store::Dynamo { moto: &moto, table }, &[]);
    scenario(&emulator, "dynamodb");
}
