//! The response a handler returns, and its translation into the shape each
//! event source expects (REST v1, HTTP API v2 / Function URL, ALB).

use aws_lambda_events::alb::AlbTargetGroupResponse;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
pub use aws_lambda_events::encodings::Body;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

use crate::event::Source;

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
        match serde_json::to_string(value) {
            Ok(text) => Self::new(status)
                .with_header(header::CONTENT_TYPE, "application/json")
                .with_body(Body::Text(text)),
            Err(error) => {
                tracing::error!(%error, "response body did not serialise");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR)
                    .with_header(header::CONTENT_TYPE, "application/json")
                    .with_body(Body::Text(r#"{"message":"internal server error"}"#.into()))
            }
        }
    }

    /// `200 OK` with `value` as JSON.
    pub fn ok<T: Serialize + ?Sized>(value: &T) -> Self {
        Self::json(StatusCode::OK, value)
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

    /// Translates into what the event's source expects back.
    pub fn into_lambda(self, source: Source) -> LambdaResponse {
        let status = i64::from(self.status.as_u16());
        let is_base64_encoded = matches!(self.body, Body::Binary(_));
        let body = match self.body {
            Body::Empty => None,
            body => Some(body),
        };
        match source {
            Source::RestV1 => {
                let mut out = ApiGatewayProxyResponse::default();
                out.status_code = status;
                out.multi_value_headers = self.headers;
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                LambdaResponse::RestV1(out)
            }
            Source::HttpV2 => {
                let mut out = ApiGatewayV2httpResponse::default();
                let (headers, cookies) = split_cookies(self.headers);
                out.status_code = status;
                out.headers = headers;
                out.cookies = cookies;
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                LambdaResponse::HttpV2(out)
            }
            Source::Alb { multi_value } => {
                let mut out = AlbTargetGroupResponse::default();
                out.status_code = status;
                out.status_description = Some(format!(
                    "{} {}",
                    self.status.as_u16(),
                    self.status.canonical_reason().unwrap_or("Unknown")
                ));
                if multi_value {
                    out.multi_value_headers = self.headers;
                } else {
                    out.headers = join_values(self.headers);
                }
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                LambdaResponse::Alb(out)
            }
        }
    }
}

/// HTTP API v2 takes single-valued headers plus a `cookies` list for `Set-Cookie`.
fn split_cookies(headers: HeaderMap) -> (HeaderMap, Vec<String>) {
    let mut cookies = Vec::new();
    let mut rest = HeaderMap::with_capacity(headers.len());
    for name in headers.keys() {
        if name == header::SET_COOKIE {
            cookies.extend(
                headers
                    .get_all(name)
                    .iter()
                    .filter_map(|v| v.to_str().ok().map(str::to_owned)),
            );
        }
    }
    for (name, value) in join_values(headers) {
        if let Some(name) = name
            && name != header::SET_COOKIE
        {
            rest.insert(name, value);
        }
    }
    (rest, cookies)
}

/// Folds repeated headers into one comma-separated value (RFC 9110 5.3).
fn join_values(headers: HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let mut values = headers.get_all(name).iter();
        let Some(first) = values.next() else { continue };
        let mut joined = first.as_bytes().to_vec();
        for value in values {
            joined.extend_from_slice(b", ");
            joined.extend_from_slice(value.as_bytes());
        }
        if let Ok(value) = HeaderValue::from_bytes(&joined) {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// The invocation result, serialised in the shape of the source event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LambdaResponse {
    /// API Gateway REST API (payload 1.0): `multiValueHeaders`.
    RestV1(ApiGatewayProxyResponse),
    /// HTTP API (payload 2.0) and Function URLs: `cookies` for `Set-Cookie`.
    HttpV2(ApiGatewayV2httpResponse),
    /// Application Load Balancer: `statusDescription`.
    Alb(AlbTargetGroupResponse),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn sample() -> Response {
        let mut response = Response::ok(&json!({"ok": true}));
        response
            .headers
            .append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        response
            .headers
            .append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        response
            .headers
            .append(header::VARY, HeaderValue::from_static("Origin"));
        response
            .headers
            .append(header::VARY, HeaderValue::from_static("Accept"));
        response
    }

    fn to_json(response: LambdaResponse) -> Value {
        serde_json::to_value(response).expect("serialises")
    }

    #[test]
    fn rest_v1_uses_multi_value_headers() {
        let out = to_json(sample().into_lambda(Source::RestV1));
        assert_eq!(out["statusCode"], 200);
        assert_eq!(
            out["multiValueHeaders"]["set-cookie"],
            json!(["a=1", "b=2"])
        );
        assert_eq!(
            out["multiValueHeaders"]["vary"],
            json!(["Origin", "Accept"])
        );
        assert_eq!(out["body"], r#"{"ok":true}"#);
        assert_eq!(out["isBase64Encoded"], false);
    }

    #[test]
    fn http_v2_moves_set_cookie_to_cookies() {
        let out = to_json(sample().into_lambda(Source::HttpV2));
        assert_eq!(out["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(out["headers"]["vary"], "Origin, Accept");
        assert!(out["headers"].get("set-cookie").is_none());
        assert_eq!(out["headers"]["content-type"], "application/json");
    }

    #[test]
    fn alb_has_status_description_and_follows_the_header_mode() {
        let single = to_json(sample().into_lambda(Source::Alb { multi_value: false }));
        assert_eq!(single["statusDescription"], "200 OK");
        assert_eq!(single["headers"]["vary"], "Origin, Accept");
        let multi = to_json(sample().into_lambda(Source::Alb { multi_value: true }));
        assert_eq!(
            multi["multiValueHeaders"]["set-cookie"],
            json!(["a=1", "b=2"])
        );
    }

    #[test]
    fn binary_bodies_go_out_base64() {
        let response = Response::binary(StatusCode::OK, "image/png", vec![0, 159, 146, 150]);
        for source in [
            Source::RestV1,
            Source::HttpV2,
            Source::Alb { multi_value: false },
        ] {
            let out = to_json(response.clone().into_lambda(source));
            assert_eq!(out["isBase64Encoded"], true);
            assert_eq!(out["body"], "AJ+Slg==");
        }
    }

    #[test]
    fn empty_bodies_are_omitted() {
        let out = to_json(Response::no_content().into_lambda(Source::RestV1));
        assert_eq!(out["statusCode"], 204);
        assert!(out.get("body").is_none());
    }
}
