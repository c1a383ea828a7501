//! The response a handler returns: status, headers and a text or binary
//! body, with JSON helpers. Its translation into each event source's shape
//! is [`crate::event::LambdaResponse`].

pub use aws_lambda_events::encodings::Body;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde_json::value::RawValue;

/// An HTTP response: status, headers and a text or binary body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// Headers, multi-valued (`Set-Cookie` may repeat).
    pub headers: HeaderMap,
    /// The body; [`Body::Binary`] goes out base64-encoded.
    pub body: Body,
}

impl Response {
    /// An empty response with `status`.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: Body::Empty,
        }
    }

    /// `204 No Content`.
    pub fn no_content() -> Self {
        Self::new(StatusCode::NO_CONTENT)
    }

    /// `value` as JSON with `content-type: application/json`.
    ///
    /// Serialising our own types does not fail in practice; if it does, the
    /// fault is logged and the answer is a 500 with the generic error body.
    pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Self {
        let (status, text) = match serde_json::to_string(value) {
            Ok(text) => (status, text),
            Err(error) => {
                tracing::error!(%error, "response body did not serialise");
                let generic = r#"{"message":"internal server error"}"#.to_owned();
                (StatusCode::INTERNAL_SERVER_ERROR, generic)
            }
        };
        Self::json_text(status, text)
    }

    /// `200 OK` with `value` as JSON.
    pub fn ok<T: Serialize + ?Sized>(value: &T) -> Self {
        Self::json(StatusCode::OK, value)
    }

    /// JSON text already checked, as the body with `content-type:
    /// application/json`, as it is: not serialised again, nor copied. A
    /// `Box<RawValue>` is JSON by its type; it comes from
    /// [`Request::json`](crate::Request::json) (a body to store or pass
    /// on), from `serde_json::value::to_raw_value`, or from text a store
    /// kept (`RawValue::from_string` checks it once). [`Response::json`]
    /// of a `RawValue` gives the same bytes through a copy.
    pub fn raw_json(status: StatusCode, json: Box<RawValue>) -> Self {
        let text: Box<str> = json.into();
        Self::json_text(status, text.into_string())
    }

    fn json_text(status: StatusCode, text: String) -> Self {
        let mut response = Self::new(status).with_body(Body::Text(text));
        // A constant value: no copy, nothing to check.
        response.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }

    /// Text content (HTML, CSV, ...) of `content_type`.
    pub fn text(status: StatusCode, content_type: &str, text: String) -> Self {
        Self::new(status)
            .with_header(header::CONTENT_TYPE, content_type)
            .with_body(Body::Text(text))
    }

    /// Binary content, sent base64-encoded with `isBase64Encoded: true`.
    pub fn binary(status: StatusCode, content_type: &str, bytes: Vec<u8>) -> Self {
        Self::new(status)
            .with_header(header::CONTENT_TYPE, content_type)
            .with_body(Body::Binary(bytes))
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Sets a header, replacing any previous value. A value that is not a
    /// legal header value is dropped with a warning rather than panicking.
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        match HeaderValue::from_str(value) {
            Ok(value) => {
                self.headers.insert(name, value);
            }
            Err(_) => tracing::warn!(header = %name, "dropped an invalid header value"),
        }
        self
    }

    /// The first value of a header, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as bytes, whatever its kind.
    pub fn body_bytes(&self) -> &[u8] {
        match &self.body {
            Body::Empty => &[],
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `raw_json` answers the text as it came, spaces and escapes kept,
    /// where `json` of the same `RawValue` gives the same bytes by a copy.
    #[test]
    fn raw_json_keeps_the_text_as_it_is() {
        let cases = [
            r#"{"a":1}"#,
            r#" { "name" : "x\"y\u00e9" , "list" : [1, 2.5e3, null] } "#,
            r#""just a string""#,
            "[]",
        ];
        for text in cases {
            for status in [StatusCode::OK, StatusCode::CREATED] {
                let raw = RawValue::from_string(text.to_owned()).expect("valid JSON");
                // `from_string` drops the spaces around the value, no others.
                assert_eq!(raw.get(), text.trim());
                let by_copy = Response::json(status, &raw);
                let response = Response::raw_json(status, raw);
                assert_eq!(response, by_copy, "{text}");
                assert_eq!(response.status, status);
                assert_eq!(response.body_bytes(), text.trim().as_bytes());
                assert_eq!(response.header("content-type"), Some("application/json"));
            }
        }
    }
}
