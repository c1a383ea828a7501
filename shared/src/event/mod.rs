//! The wire format, both ways: recognise which HTTP event source sent a
//! payload and turn it into a [`crate::Request`], then answer with a
//! [`LambdaResponse`] in the shape that source expects.
//!
//! One pass reads the fields of every source at once, and a few of them
//! tell which source sent the event, so one binary serves API Gateway REST
//! (payload 1.0), HTTP API (payload 2.0), Lambda Function URLs and ALB
//! target groups.
//!
//! # Layout
//! - `scan`: the one walk over a payload as AWS sends it, filling `wire`'s
//!   event model without `serde`; it declines anything else.
//! - `wire`: the event model (the fields a request needs), and
//!   `serde_json`'s borrowed pass over a payload, the reference and what
//!   reads whatever `scan` declines: header maps read leniently and counted.
//! - `parse`: [`adapt`] a payload: its source, and its fields mapped onto a
//!   [`crate::Request`].
//! - `probe`: [`detect`] the source from the discriminating fields alone
//!   (what `adapt` asks when it cannot read a payload).
//! - `text`: JSON string literals a word at a time, read (`scan`) and
//!   written (`reply`) byte for byte as `serde_json` does.
//! - `decode`: the stage or base path in front of a path, percent-encoding,
//!   query strings, base64 bodies.
//! - `authorizer`: the caller API Gateway verified, from
//!   `requestContext.authorizer` (REST and HTTP API events only).
//! - `reply`: [`LambdaResponse`], a [`crate::Response`] in the source's shape.

use std::fmt;

use serde::de::IgnoredAny;

/// The `visit_*` methods of JSON's scalars, for the visitors of `probe` and
/// `wire` that read any JSON value where they expect one shape: a string,
/// a boolean or a number reads as `$scalar`, `null` as `$null`. With
/// `@not_str`, all but the string (the visitor reads strings itself).
macro_rules! scalars_read_as {
    ($scalar:expr, null => $null:expr) => {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        scalars_read_as!(@not_str $scalar, null => $null);
    };
    (@not_str $scalar:expr, null => $null:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($null)
        }
    };
}

mod authorizer;
mod decode;
mod parse;
mod probe;
mod reply;
mod scan;
mod text;
mod wire;

pub use parse::{Pass, adapt, adapt_with, read};
pub use probe::detect;
pub use reply::LambdaResponse;
pub use wire::MAX_HEADER_FIELDS;

/// Which event source sent the request; decides the response shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// API Gateway REST API, Lambda proxy integration (payload 1.0).
    RestV1,
    /// API Gateway HTTP API (payload 2.0) or a Lambda Function URL.
    HttpV2,
    /// An ALB target group; `multi_value` when the group has multi-value headers on.
    Alb {
        /// The request came with `multiValueHeaders`, so the response must too.
        multi_value: bool,
    },
}

/// A payload that is not an HTTP event at all: answered with a Lambda error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotHttpEvent {
    /// Not JSON, with serde_json's reason (`expected value at line 1 column 1`).
    NotJson(String),
    /// JSON, but not an HTTP event (an SQS batch, `42`, `[]`...).
    Unsupported,
}

impl NotHttpEvent {
    /// Tells the two apart for a payload that is not an HTTP event: only on
    /// that error path is the payload read a second time.
    fn of(payload: &str) -> Self {
        match serde_json::from_str::<IgnoredAny>(payload) {
            Err(error) if error.is_syntax() || error.is_eof() => Self::NotJson(error.to_string()),
            _ => Self::Unsupported,
        }
    }
}

impl fmt::Display for NotHttpEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotJson(reason) => write!(f, "payload is not valid JSON ({reason}): expected "),
            Self::Unsupported => f.write_str("unsupported event: expected "),
        }?;
        f.write_str("an API Gateway (REST or HTTP API), Function URL or ALB HTTP event")
    }
}

impl std::error::Error for NotHttpEvent {}

impl From<NotHttpEvent> for lambda_runtime::Diagnostic {
    fn from(error: NotHttpEvent) -> Self {
        let error_type = match error {
            NotHttpEvent::NotJson(_) => "InvalidJsonPayload",
            NotHttpEvent::Unsupported => "UnsupportedEvent",
        };
        Self {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use serde_json::{Value, json};

    fn v2_with_headers(headers: Value) -> String {
        json!({
            "version": "2.0",
            "rawPath": "/ping",
            "headers": headers,
            "requestContext": {"http": {"method": "GET"}},
        })
        .to_string()
    }

    fn rest_with_headers(single: Value, multi: Value) -> String {
        json!({
            "httpMethod": "GET",
            "path": "/ping",
            "headers": single,
            "multiValueHeaders": multi,
            "requestContext": {},
        })
        .to_string()
    }

    fn distinct_headers(count: usize) -> serde_json::Map<String, Value> {
        (0..count)
            .map(|n| (format!("x-h{n}"), json!("v")))
            .collect()
    }

    #[test]
    fn an_absurd_header_count_is_a_400_not_a_panic() {
        // `http::HeaderMap` panics past 24,576 distinct names.
        let many = Value::Object(distinct_headers(30_000));
        let multi: serde_json::Map<String, Value> = (0..30_000)
            .map(|n| (format!("x-h{n}"), json!(["v"])))
            .collect();
        let payloads = [
            (v2_with_headers(many.clone()), Source::HttpV2),
            (
                rest_with_headers(many, Value::Object(multi)),
                Source::RestV1,
            ),
        ];
        for (payload, expected) in payloads {
            let (source, request) = adapt(&payload, "id", None).expect("an HTTP event");
            assert_eq!(source, expected);
            match request {
                Err(ApiError::BadRequest(message)) => assert_eq!(
                    message,
                    format!("request has too many headers; the limit is {MAX_HEADER_FIELDS}")
                ),
                other => panic!("expected a 400, got {other:?}"),
            }
        }
    }

    #[test]
    fn many_values_of_one_header_count_too() {
        let values: Vec<Value> = (0..MAX_HEADER_FIELDS + 1).map(|_| json!("v")).collect();
        let payload = rest_with_headers(json!({}), json!({ "x-many": values }));
        let (_, request) = adapt(&payload, "id", None).expect("an HTTP event");
        assert!(matches!(request, Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn a_repeated_headers_key_is_a_400() {
        // serde_json's `Value` keeps the last of repeated keys: the lenient
        // re-parse must not see headers that were never counted.
        // The illegal name sends the parse down the lenient path.
        let mut headers = distinct_headers(30_000);
        headers.insert(String::new(), json!("illegal name"));
        let many = Value::Object(headers).to_string();
        let payload = format!(
            r#"{{"version":"2.0","rawPath":"/ping","headers":{{}},"headers":{many},"requestContext":{{"http":{{"method":"GET"}}}}}}"#
        );
        let (_, request) = adapt(&payload, "id", None).expect("an HTTP event");
        assert!(matches!(request, Err(ApiError::BadRequest(_))));
    }

    /// Found by the `event` fuzz target: `query_map`'s iterator indexes the
    /// first value of every key, and panicked on a key with none (`[]`).
    #[test]
    fn query_map_empty_values_panic_is_fixed() {
        let cases = [
            json!({
                "httpMethod": "GET", "path": "/items",
                "multiValueQueryStringParameters": {"key": [], "a": ["1", "2"]},
                "requestContext": {"httpMethod": "GET"},
            }),
            json!({
                "httpMethod": "GET", "path": "/items",
                "queryStringParameters": {"key": [], "a": "1"},
                "requestContext": {"httpMethod": "GET"},
            }),
            json!({
                "httpMethod": "GET", "path": "/",
                "multiValueQueryStringParameters": {"key": [], "a": ["1", "2"]},
                "requestContext": {"elb": {"targetGroupArn": "arn"}},
            }),
            json!({
                "version": "2.0", "rawPath": "/items",
                "queryStringParameters": {"key": [], "a": "1"},
                "requestContext": {"http": {"method": "GET"}},
            }),
        ];
        for event in cases {
            let (_, request) = adapt(&event.to_string(), "id", None).expect("an HTTP event");
            let request = request.expect("parses");
            assert_eq!(request.query("key"), None, "{event}");
            assert_eq!(request.query("a"), Some("1"), "{event}");
        }
    }

    #[test]
    fn up_to_the_limit_is_served() {
        let payload = v2_with_headers(Value::Object(distinct_headers(MAX_HEADER_FIELDS)));
        let (_, request) = adapt(&payload, "id", None).expect("an HTTP event");
        assert_eq!(request.expect("parses").headers.len(), MAX_HEADER_FIELDS);
    }

    #[test]
    fn an_alb_event_refused_for_its_headers_keeps_its_response_shape() {
        let values: Vec<Value> = (0..MAX_HEADER_FIELDS + 1).map(|_| json!("v")).collect();
        let payload = json!({
            "httpMethod": "GET",
            "path": "/",
            "multiValueHeaders": { "x-many": values },
            "requestContext": {"elb": {"targetGroupArn": "arn"}},
        })
        .to_string();
        let (source, request) = adapt(&payload, "id", None).expect("an HTTP event");
        assert_eq!(source, Source::Alb { multi_value: true });
        assert!(request.is_err());
    }
}
