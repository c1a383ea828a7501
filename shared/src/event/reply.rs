//! The way back: a [`Response`] in the shape its event's source expects
//! (REST v1: `multiValueHeaders`; HTTP API v2 and Function URLs: `cookies`
//! for `Set-Cookie`; ALB: `statusDescription` and its header mode),
//! written as JSON once, in one pass, as `aws_lambda_events` writes each
//! shape.
//!
//! Through `serde`, each header name and value and the body went through
//! a serializer call and `serde_json`'s escaping, a byte at a time: a
//! 100 KiB JSON body cost 1.9 million instructions to write back. Here the
//! text is escaped eight bytes at a time between escapes (`text`), and
//! `serde_json` (lambda_runtime's, or a test's) copies the result as it is.

use base64::Engine as _;
use http::HeaderMap;
use http::header::{self, HeaderName};
use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::Source;
use super::text::{escape_into, escaped_size};
use crate::response::{Body, Response};

/// The invocation result: the JSON its source expects, written once.
/// `Serialize` hands that text to `serde_json` as it is (a `RawValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaResponse {
    json: String,
}

impl LambdaResponse {
    /// Writes `response` in the shape `source` expects.
    pub fn new(response: Response, source: Source) -> Self {
        Self {
            json: write(&response, source),
        }
    }

    /// The response's JSON, as Lambda receives it.
    pub fn json(&self) -> &str {
        &self.json
    }
}

impl Serialize for LambdaResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `serde_json`'s protocol for a `RawValue` (`RawValue`'s own
        // `Serialize` does this, with this name): its serializers, to text
        // or to a `Value`, take the field's text as JSON as it is. Pinned
        // by `serde_json_writes_the_text_as_it_is` below.
        const RAW_VALUE: &str = "$serde_json::private::RawValue";
        let mut raw = serializer.serialize_struct(RAW_VALUE, 1)?;
        raw.serialize_field(RAW_VALUE, &self.json)?;
        raw.end()
    }
}

/// The JSON of `response` in `source`'s shape, fields in the order
/// `aws_lambda_events` writes them.
fn write(response: &Response, source: Source) -> String {
    let Response {
        status,
        headers,
        body,
    } = response;
    let headers_size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 8)
        .sum();
    let body_size = match body {
        Body::Text(text) => escaped_size(text.len()),
        Body::Binary(bytes) => bytes.len() / 3 * 4 + 4,
        _ => 0,
    };
    let mut out = Vec::with_capacity(128 + headers_size + body_size);
    out.extend_from_slice(br#"{"statusCode":"#);
    out.extend_from_slice(status.as_str().as_bytes());
    if let Source::Alb { .. } = source {
        out.extend_from_slice(br#","statusDescription":"#);
        let reason = status.canonical_reason().unwrap_or("Unknown");
        escape_into(&mut out, &format!("{} {reason}", status.as_str()));
    }
    let mut cookies = Vec::new();
    match source {
        Source::RestV1 | Source::Alb { multi_value: true } => {
            out.extend_from_slice(br#","headers":{},"multiValueHeaders":"#);
            all_values(&mut out, headers);
        }
        Source::HttpV2 => {
            out.extend_from_slice(br#","headers":"#);
            joined_values(&mut out, headers, Some(&mut cookies));
            out.extend_from_slice(br#","multiValueHeaders":{}"#);
        }
        Source::Alb { multi_value: false } => {
            out.extend_from_slice(br#","headers":"#);
            joined_values(&mut out, headers, None);
            out.extend_from_slice(br#","multiValueHeaders":{}"#);
        }
    }
    let base64 = match body {
        Body::Empty => false,
        Body::Text(text) => {
            out.extend_from_slice(br#","body":"#);
            escape_into(&mut out, text);
            false
        }
        Body::Binary(bytes) => {
            out.extend_from_slice(br#","body":""#);
            let start = out.len();
            out.resize(
                start + base64::encoded_len(bytes.len(), true).unwrap_or(0),
                0,
            );
            let written = base64::engine::general_purpose::STANDARD
                .encode_slice(bytes, &mut out[start..])
                .unwrap_or(0);
            out.truncate(start + written);
            out.push(b'"');
            true
        }
        // A kind `aws_lambda_events` may add: written as it writes it.
        other => {
            out.extend_from_slice(br#","body":"#);
            let written = serde_json::to_writer(&mut out, other);
            if written.is_err() {
                out.extend_from_slice(b"null");
            }
            false
        }
    };
    out.extend_from_slice(if base64 {
        br#","isBase64Encoded":true"#
    } else {
        br#","isBase64Encoded":false"#
    });
    if source == Source::HttpV2 {
        out.extend_from_slice(br#","cookies":["#);
        for (i, cookie) in cookies.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            escape_into(&mut out, cookie);
        }
        out.push(b']');
    }
    out.push(b'}');
    // Every piece was text, and `escape_into` keeps it so: never lossy.
    String::from_utf8(out)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// A header name as a JSON string: a name is lowercase token characters
/// (`http` checks), none of which needs an escape.
fn name(out: &mut Vec<u8>, name: &HeaderName) {
    debug_assert!(!name.as_str().contains(['"', '\\']));
    out.push(b'"');
    out.extend_from_slice(name.as_str().as_bytes());
    out.extend_from_slice(b"\":");
}

/// A header value as a JSON string: a byte that is not UTF-8 becomes
/// U+FFFD (where `aws_lambda_events` fails the whole response).
fn value(out: &mut Vec<u8>, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => escape_into(out, text),
        Err(_) => escape_into(out, &String::from_utf8_lossy(bytes)),
    }
}

/// `{"name": ["value", ...]}`, names in the map's order. `HeaderMap::iter`
/// yields a name's values one after the other, each with the very same
/// name: one pass, and no lookup per name (here and in [`joined_values`]).
fn all_values(out: &mut Vec<u8>, headers: &HeaderMap) {
    out.push(b'{');
    let mut pairs = headers.iter().peekable();
    let mut first = true;
    while let Some((key, one)) = pairs.next() {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        name(out, key);
        out.push(b'[');
        value(out, one.as_bytes());
        while let Some((_, more)) = pairs.next_if(|(next, _)| std::ptr::eq(*next, key)) {
            out.push(b',');
            value(out, more.as_bytes());
        }
        out.push(b']');
    }
    out.push(b'}');
}

/// `{"name": "value, value"}`: repeated headers folded into one
/// comma-separated value (RFC 9110 5.3). With `cookies`, `Set-Cookie` goes
/// there instead (HTTP API v2 takes it apart), each value that is text.
fn joined_values(out: &mut Vec<u8>, headers: &HeaderMap, mut cookies: Option<&mut Vec<String>>) {
    out.push(b'{');
    let mut pairs = headers.iter().peekable();
    let mut first = true;
    let mut joined = Vec::new();
    while let Some((key, one)) = pairs.next() {
        let mut more = std::iter::from_fn(|| {
            pairs
                .next_if(|(next, _)| std::ptr::eq(*next, key))
                .map(|(_, value)| value)
        });
        if let Some(cookies) = cookies.as_deref_mut()
            && key == header::SET_COOKIE
        {
            let values = std::iter::once(one).chain(more);
            cookies.extend(values.filter_map(|v| v.to_str().ok().map(str::to_owned)));
            continue;
        }
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        name(out, key);
        match more.next() {
            None => value(out, one.as_bytes()),
            Some(second) => {
                joined.clear();
                joined.extend_from_slice(one.as_bytes());
                for part in std::iter::once(second).chain(more) {
                    joined.extend_from_slice(b", ");
                    joined.extend_from_slice(part.as_bytes());
                }
                value(out, &joined);
            }
        }
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::alb::AlbTargetGroupResponse;
    use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
    use http::HeaderValue;
    use http::StatusCode;
    use serde_json::{Value, json};

    fn sample() -> Response {
        let mut response = Response::ok(&json!({"ok": true}));
        // Two names' values appended in turn: each is still one list.
        let headers = &mut response.headers;
        headers.append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        headers.append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        headers.append(header::VARY, HeaderValue::from_static("Accept"));
        response
    }

    fn to_json(response: Response, source: Source) -> Value {
        serde_json::to_value(LambdaResponse::new(response, source)).expect("serialises")
    }

    /// Every value of each name folded into one ("a, b").
    fn folded(headers: &HeaderMap) -> HeaderMap {
        headers
            .keys()
            .map(|name| {
                let parts: Vec<&[u8]> =
                    headers.get_all(name).iter().map(|v| v.as_bytes()).collect();
                let joined = parts.join(&b", "[..]);
                let value = HeaderValue::from_bytes(&joined).expect("values joined are a value");
                (name.clone(), value)
            })
            .collect()
    }

    /// The oracle: the response as `aws_lambda_events`' own types hold
    /// it, written by their own `Serialize`.
    fn as_aws_lambda_events_writes_it(response: &Response, source: Source) -> String {
        let status_code = i64::from(response.status.as_u16());
        let body = match &response.body {
            Body::Empty => None,
            Body::Text(text) => Some(Body::Text(text.clone())),
            Body::Binary(bytes) => Some(Body::Binary(bytes.clone())),
            _ => unreachable!("the responses below"),
        };
        let is_base64_encoded = matches!(response.body, Body::Binary(_));
        match source {
            Source::RestV1 => {
                let mut out = ApiGatewayProxyResponse::default();
                out.status_code = status_code;
                out.multi_value_headers = response.headers.clone();
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                serde_json::to_string(&out)
            }
            Source::HttpV2 => {
                let mut out = ApiGatewayV2httpResponse::default();
                let mut headers = response.headers.clone();
                out.cookies = headers
                    .get_all(header::SET_COOKIE)
                    .iter()
                    .map(|v| v.to_str().expect("text").to_owned())
                    .collect();
                headers.remove(header::SET_COOKIE);
                out.status_code = status_code;
                out.headers = folded(&headers);
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                serde_json::to_string(&out)
            }
            Source::Alb { multi_value } => {
                let mut out = AlbTargetGroupResponse::default();
                out.status_code = status_code;
                out.status_description = Some(format!(
                    "{} {}",
                    response.status.as_u16(),
                    response.status.canonical_reason().unwrap_or("Unknown")
                ));
                if multi_value {
                    out.multi_value_headers = response.headers.clone();
                } else {
                    out.headers = folded(&response.headers);
                }
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                serde_json::to_string(&out)
            }
        }
        .expect("serialises")
    }

    const SOURCES: [Source; 4] = [
        Source::RestV1,
        Source::HttpV2,
        Source::Alb { multi_value: false },
        Source::Alb { multi_value: true },
    ];

    #[test]
    fn the_json_is_what_aws_lambda_events_writes() {
        let mut quoted = Response::ok(&json!({"quote": "a \"b\" \\ c\n", "ctl": "\u{1}\u{7f}é"}));
        quoted
            .headers
            .insert("x-note", HeaderValue::from_static("tab\there \"quoted\""));
        let responses = [
            sample(),
            Response::no_content(),
            Response::binary(StatusCode::OK, "image/png", vec![0, 159, 146, 150]),
            quoted,
            Response::new(StatusCode::from_u16(599).expect("a status")),
        ];
        for response in responses {
            for source in SOURCES {
                let ours = LambdaResponse::new(response.clone(), source);
                let theirs = as_aws_lambda_events_writes_it(&response, source);
                assert_eq!(ours.json(), theirs, "{source:?}");
            }
        }
    }

    /// The text goes out as it is, whichever `serde_json` serializer
    /// writes it (lambda_runtime's `to_vec`, a test's `to_value`).
    #[test]
    fn serde_json_writes_the_text_as_it_is() {
        for source in SOURCES {
            let response = LambdaResponse::new(sample(), source);
            let text = response.json().to_owned();
            assert_eq!(serde_json::to_string(&response).expect("writes"), text);
            assert_eq!(
                serde_json::to_vec(&response).expect("writes"),
                text.as_bytes()
            );
            let value: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(serde_json::to_value(&response).expect("writes"), value);
            let nested = serde_json::to_string(&[&response, &response]).expect("writes");
            assert_eq!(nested, format!("[{text},{text}]"));
        }
    }

    #[test]
    fn a_header_value_that_is_not_utf8_does_not_fail_the_response() {
        let mut response = Response::no_content();
        response.headers.insert(
            "x-raw",
            HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is allowed"),
        );
        response.headers.append(
            "x-raw",
            HeaderValue::from_bytes(b"\xff").expect("obs-text is allowed"),
        );
        let out = to_json(response.clone(), Source::RestV1);
        assert_eq!(
            out["multiValueHeaders"]["x-raw"],
            json!(["caf\u{fffd}", "\u{fffd}"])
        );
        let out = to_json(response, Source::HttpV2);
        assert_eq!(out["headers"]["x-raw"], "caf\u{fffd}, \u{fffd}");
    }

    #[test]
    fn rest_v1_uses_multi_value_headers() {
        let out = to_json(sample(), Source::RestV1);
        assert_eq!(out["statusCode"], 200);
        assert_eq!(out["headers"], json!({}));
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
        let out = to_json(sample(), Source::HttpV2);
        assert_eq!(out["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(out["headers"]["vary"], "Origin, Accept");
        assert!(out["headers"].get("set-cookie").is_none());
        assert_eq!(out["headers"]["content-type"], "application/json");
        assert_eq!(out["multiValueHeaders"], json!({}));
    }

    #[test]
    fn alb_has_status_description_and_follows_the_header_mode() {
        let single = to_json(sample(), Source::Alb { multi_value: false });
        assert_eq!(single["statusDescription"], "200 OK");
        assert_eq!(single["headers"]["vary"], "Origin, Accept");
        assert_eq!(single["headers"]["set-cookie"], "a=1, b=2");
        let multi = to_json(sample(), Source::Alb { multi_value: true });
        assert_eq!(
            multi["multiValueHeaders"]["set-cookie"],
            json!(["a=1", "b=2"])
        );
        let unknown = to_json(
            Response::new(StatusCode::from_u16(599).expect("a status")),
            Source::Alb { multi_value: false },
        );
        assert_eq!(unknown["statusDescription"], "599 Unknown");
    }

    #[test]
    fn binary_bodies_go_out_base64() {
        let response = Response::binary(StatusCode::OK, "image/png", vec![0, 159, 146, 150]);
        for source in SOURCES {
            let out = to_json(response.clone(), source);
            assert_eq!(out["isBase64Encoded"], true);
            assert_eq!(out["body"], "AJ+Slg==");
        }
    }

    #[test]
    fn empty_bodies_are_omitted() {
        for source in SOURCES {
            let out = to_json(Response::no_content(), source);
            assert_eq!(out["statusCode"], 204);
            assert!(out.get("body").is_none(), "{source:?}");
        }
    }
}
