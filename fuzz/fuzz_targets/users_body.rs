//! Any bytes as the body of `POST /api/v1/users`.
//!
//! 1. Decoding: `Request::json::<UserBody>()` then `UserInput::from_body`,
//!    checked against plain `serde_json` (the same documents accepted,
//!    except that a duplicate key is refused) and against the validation
//!    rules (a valid input is trimmed, in NFC, 1..=100 characters of name,
//!    a plausible email, no control or format characters).
//! 2. The real route: `App::handle` with `users::router()` on an in-memory
//!    SQLite store; the status must be the one the decoding implies
//!    (400 / 422, or 201 / 409 for a valid input), never a 5xx.

#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use shared::http::{HeaderValue, Method};
use shared::auth::Principal;
use shared::{ApiError, App, Config, Request};
use users::AppState;
use users::model::{MAX_EMAIL_CHARS, MAX_NAME_CHARS, UserBody, UserInput};
use users::store::sqlite::SqliteStore;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime")
});

static APP: LazyLock<App<AppState>> = LazyLock::new(|| {
    let store = SqliteStore::open(Path::new(":memory:")).expect("an in-memory store");
    App::new(
        users::router(),
        AppState {
            store: Box::new(store),
        },
        // Every input is decoded: the size limit is not what is fuzzed.
        Config {
            max_body_bytes: shared::config::LAMBDA_PAYLOAD_BYTES,
            ..Config::default()
        },
    )
});

fn post(body: &[u8]) -> Request {
    let mut request = Request {
        method: Method::POST,
        path: "/api/v1/users".into(),
        body: body.to_vec(),
        request_id: "fuzz".into(),
        // A caller allowed to create users: the body is what is fuzzed.
        principal: Some(Principal {
            subject: "fuzz".into(),
            scopes: vec![users::routes::WRITE_SCOPE.into()],
            claims: serde_json::Map::new(),
        }),
        ..Request::default()
    };
    request
        .headers
        .map_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    request
}

fn check_valid(input: &UserInput) {
    assert_eq!(input.name, input.name.trim());
    assert_eq!(input.email, input.email.trim());
    let name_chars = input.name.chars().count();
    assert!((1..=MAX_NAME_CHARS).contains(&name_chars), "{input:?}");
    assert!(input.email.chars().count() <= MAX_EMAIL_CHARS, "{input:?}");
    assert_eq!(input.email.matches('@').count(), 1, "{input:?}");
    assert!(
        !input.email.chars().any(char::is_control) && !input.name.chars().any(char::is_control),
        "{input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let request = post(data);
    let plain = serde_json::from_slice::<Value>(data);
    let expected_status = match request.json::<UserBody>() {
        Ok(body) => {
            // serde_json's `Value` (with `raw_value`) treats an object whose
            // first key is its private RawValue marker as raw JSON text (a
            // number, an error...); `json()` reads it as a plain key.
            let marker = data.windows(22).any(|w| w == b"$serde_json::private::");
            if !marker {
                assert!(plain.is_ok(), "accepted what serde_json refuses");
            }
            match UserInput::from_body(body) {
                Ok(input) => {
                    check_valid(&input);
                    None
                }
                Err(ApiError::Validation(errors)) => {
                    assert!(!errors.is_empty());
                    Some(422)
                }
                Err(other) => panic!("from_body answered {other:?}"),
            }
        }
        Err(ApiError::BadRequest(message)) => {
            // Only a duplicate key, or a body serde_json refuses too, is a
            // 400. (Parsing stops at the first problem: a duplicate key
            // before a syntax error is reported as the duplicate key.)
            let duplicate = message.starts_with("request body has a duplicate key \"");
            if !duplicate && !data.iter().all(u8::is_ascii_whitespace) {
                assert!(plain.is_err(), "refused valid JSON: {message}");
            }
            Some(400)
        }
        Err(other) => panic!("json() answered {other:?}"),
    };
    let response = RUNTIME.block_on(APP.handle(request));
    let status = response.status.as_u16();
    match expected_status {
        Some(expected) => assert_eq!(status, expected),
        None => assert!(
            status == 201 || status == 409,
            "valid input answered {status}"
        ),
    }
});
