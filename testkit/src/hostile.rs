//! Table-driven hostile inputs: a case is a payload per event shape and the
//! answer it must get; [`check`] verifies one answer, [`run_all`] runs a
//! table and reports every failed case, not only the first.
//!
//! Used in process (`shared/tests/hostile_events.rs`, through `App::invoke`)
//! and black-box (`functions/users/tests/hostile.rs`, through the Runtime
//! API emulator): both read an answer as an [`Invocation`].

use serde_json::{Value, json};

use crate::events::Shape;
use crate::process::Invocation;
use crate::reply::HttpReply;

/// Text that would show internals: Rust paths and type names, debug dumps,
/// source locations, panics, backtraces, file-system paths.
const LEAK_MARKERS: &[&str] = &[
    "::",
    "Error(",
    "/src/",
    ".rs:",
    "panicked",
    "backtrace",
    "{ ",
    "/root",
    "/home",
    "/tmp",
    "/usr/",
    "/var/",
];

/// Fails when `text` shows internals (see `LEAK_MARKERS`).
pub fn assert_no_leak(label: &str, text: &str) {
    let lower = text.to_lowercase();
    for marker in LEAK_MARKERS {
        assert!(
            !lower.contains(&marker.to_lowercase()),
            "{label}: answer contains {marker:?}: {}",
            shorten(text)
        );
    }
}

/// The first 300 characters of `text`, for failure messages.
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((end, _)) => format!("{}... ({} bytes)", &text[..end], text.len()),
        None => text.to_owned(),
    }
}

/// What a case must be answered with.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// An HTTP answer with this status and exactly this `message`.
    Exact(u16, &'static str),
    /// An HTTP answer with this status and a `message` starting so.
    Prefix(u16, &'static str),
    /// A Lambda error (invoke status 500) with this `errorType`.
    LambdaError(&'static str),
}

/// One hostile input: a label, its Lambda payload per shape, the answer.
pub struct Case {
    /// What the input is, for failure messages.
    pub label: &'static str,
    payload: Box<dyn Fn(Shape) -> String>,
    /// The answer it must get.
    pub expect: Expect,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("label", &self.label)
            .field("expect", &self.expect)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// The Lambda payload of this case in `shape`.
    pub fn payload(&self, shape: Shape) -> String {
        (self.payload)(shape)
    }
}

/// A case whose event is built per shape.
pub fn case(label: &'static str, expect: Expect, event: impl Fn(Shape) -> Value + 'static) -> Case {
    Case {
        label,
        payload: Box::new(move |shape| event(shape).to_string()),
        expect,
    }
}

/// A case whose payload is the same text in every shape.
pub fn raw(label: &'static str, expect: Expect, payload: impl Into<String>) -> Case {
    let payload = payload.into();
    Case {
        label,
        payload: Box::new(move |_| payload.clone()),
        expect,
    }
}

/// Checks one answer: the status and `message` (or the Lambda error's
/// type), a JSON content type, a short answer, no internals shown.
pub fn check(label: &str, expect: Expect, invocation: &Invocation) {
    match expect {
        Expect::LambdaError(error_type) => {
            assert_eq!(invocation.status, 500, "{label}: {}", invocation.body);
            assert_eq!(invocation.body["errorType"], error_type, "{label}");
            let message = invocation.body["errorMessage"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("unsupported event: "),
                "{label}: {message}"
            );
            assert_no_leak(label, &invocation.body.to_string());
        }
        Expect::Exact(status, expected) | Expect::Prefix(status, expected) => {
            assert_eq!(
                invocation.status,
                200,
                "{label}: an HTTP event is never a Lambda error: {}",
                shorten(&invocation.body.to_string())
            );
            let reply = HttpReply::from_lambda(&invocation.body);
            let text = reply.text();
            assert_eq!(reply.status, status, "{label}: {}", shorten(&text));
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{label}"
            );
            let body = reply.json();
            let message = body["message"].as_str().unwrap_or_default();
            match expect {
                Expect::Exact(..) => assert_eq!(message, expected, "{label}"),
                _ => assert!(message.starts_with(expected), "{label}: {message}"),
            }
            assert!(
                text.len() < 4096,
                "{label}: a hostile input gets a short answer, not {} bytes",
                text.len()
            );
            assert_no_leak(label, &text);
        }
    }
}

/// Runs `run` for every (case, shape), then fails listing every run that
/// failed, not only the first.
pub fn run_all(runs: &[(&Case, Shape)], mut run: impl FnMut(&Case, Shape)) {
    let mut failures = Vec::new();
    for (case, shape) in runs {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(case, *shape);
        }));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|m| (*m).to_owned()))
                .unwrap_or_default();
            failures.push(message);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        runs.len(),
        failures.join("\n")
    );
}

/// Each case in both shapes.
pub fn in_both_shapes(cases: &[Case]) -> Vec<(&Case, Shape)> {
    cases
        .iter()
        .flat_map(|case| Shape::ALL.map(|shape| (case, shape)))
        .collect()
}

/// A POST of `body` (text, `content-type: application/json`) to `path`.
pub fn post_json(shape: Shape, path: &str, body: &str) -> Value {
    shape.event_with("POST", path, JSON, Some(body))
}

/// A POST whose body is sent base64-encoded (`isBase64Encoded: true`).
pub fn post_base64(shape: Shape, path: &str, encoded: &str) -> Value {
    let mut event = post_json(shape, path, encoded);
    event["isBase64Encoded"] = json!(true);
    event
}

/// `content-type: application/json`.
pub const JSON: &[(&str, &str)] = &[("content-type", "application/json")];

/// An event for `method` on a path as the client sent it: REST v1 gets it
/// decoded (as API Gateway hands it over), HTTP API v2 as the raw path.
pub fn on_path(shape: Shape, method: &str, decoded: &str, raw: &str) -> Value {
    match shape {
        Shape::RestV1 => shape.event(method, decoded, None),
        Shape::HttpV2 => {
            let mut event = shape.event(method, "/", None);
            event["rawPath"] = json!(raw);
            event["requestContext"]["http"]["path"] = json!(raw);
            event
        }
    }
}

/// A GET of `path` with `count` distinct headers (in `multiValueHeaders`
/// too for REST v1).
pub fn with_headers(shape: Shape, path: &str, count: usize) -> Value {
    let mut event = shape.event("GET", path, None);
    let single: serde_json::Map<String, Value> = (0..count)
        .map(|n| (format!("x-header-{n}"), json!("v")))
        .collect();
    if shape == Shape::RestV1 {
        let multi: serde_json::Map<String, Value> = single
            .iter()
            .map(|(name, value)| (name.clone(), json!([value])))
            .collect();
        event["multiValueHeaders"] = Value::Object(multi);
    }
    event["headers"] = Value::Object(single);
    event
}
