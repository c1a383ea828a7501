//! The way back: a [`Response`] in the shape its event's source expects
//! (REST v1: `multiValueHeaders`; HTTP API v2 and Function URLs: `cookies`
//! for `Set-Cookie`; ALB: `statusDescription` and its header mode).

use std::cell::RefCell;
use std::iter::Peekable;

use aws_lambda_events::alb::AlbTargetGroupResponse;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use http::HeaderMap;
use http::header::{self, Entry, HeaderValue};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

use super::Source;
use crate::response::Response;

/// The invocation result, serialised in the shape of the source event:
/// the JSON `aws_lambda_events` writes for each type, without copying
/// each header value into a `String` of its own first.
#[derive(Debug, Clone, PartialEq)]
pub enum LambdaResponse {
    /// API Gateway REST API (payload 1.0): `multiValueHeaders`.
    RestV1(ApiGatewayProxyResponse),
    /// HTTP API (payload 2.0) and Function URLs: `cookies` for `Set-Cookie`.
    HttpV2(ApiGatewayV2httpResponse),
    /// Application Load Balancer: `statusDescription`.
    Alb(AlbTargetGroupResponse),
}

impl LambdaResponse {
    /// Translates `response` into what `source` expects back.
    pub fn new(response: Response, source: Source) -> Self {
        let Response {
            status,
            headers,
            body,
        } = response;
        let status_code = i64::from(status.as_u16());
        let is_base64_encoded = matches!(body, Body::Binary(_));
        let body = match body {
            Body::Empty => None,
            body => Some(body),
        };
        match source {
            Source::RestV1 => {
                let mut out = ApiGatewayProxyResponse::default();
                out.status_code = status_code;
                out.multi_value_headers = headers;
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                Self::RestV1(out)
            }
            Source::HttpV2 => {
                let mut out = ApiGatewayV2httpResponse::default();
                let (headers, cookies) = split_cookies(headers);
                out.status_code = status_code;
                out.headers = headers;
                out.cookies = cookies;
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                Self::HttpV2(out)
            }
            Source::Alb { multi_value } => {
                let mut out = AlbTargetGroupResponse::default();
                out.status_code = status_code;
                out.status_description = Some(format!(
                    "{} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("Unknown")
                ));
                if multi_value {
                    out.multi_value_headers = headers;
                } else {
                    out.headers = join_values(headers);
                }
                out.body = body;
                out.is_base64_encoded = is_base64_encoded;
                Self::Alb(out)
            }
        }
    }
}

impl Serialize for LambdaResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::RestV1(out) => {
                let mut s = serializer.serialize_struct("ApiGatewayProxyResponse", 5)?;
                s.serialize_field("statusCode", &out.status_code)?;
                header_maps(&mut s, &out.headers, &out.multi_value_headers)?;
                body(&mut s, out.body.as_ref(), out.is_base64_encoded)?;
                s.end()
            }
            Self::HttpV2(out) => {
                let mut s = serializer.serialize_struct("ApiGatewayV2httpResponse", 6)?;
                s.serialize_field("statusCode", &out.status_code)?;
                header_maps(&mut s, &out.headers, &out.multi_value_headers)?;
                body(&mut s, out.body.as_ref(), out.is_base64_encoded)?;
                s.serialize_field("cookies", &out.cookies)?;
                s.end()
            }
            Self::Alb(out) => {
                let mut s = serializer.serialize_struct("AlbTargetGroupResponse", 6)?;
                s.serialize_field("statusCode", &out.status_code)?;
                s.serialize_field("statusDescription", &out.status_description)?;
                header_maps(&mut s, &out.headers, &out.multi_value_headers)?;
                body(&mut s, out.body.as_ref(), out.is_base64_encoded)?;
                s.end()
            }
        }
    }
}

/// `headers` and `multiValueHeaders`, as every response type writes them.
fn header_maps<S: SerializeStruct>(
    s: &mut S,
    single: &HeaderMap,
    multi: &HeaderMap,
) -> Result<(), S::Error> {
    s.serialize_field("headers", &FirstValues(single))?;
    s.serialize_field("multiValueHeaders", &AllValues(multi))
}

/// `body` (left out when there is none) and `isBase64Encoded`, as every
/// response type writes them.
fn body<S: SerializeStruct>(s: &mut S, body: Option<&Body>, base64: bool) -> Result<(), S::Error> {
    match body {
        Some(body) => s.serialize_field("body", body)?,
        None => s.skip_field("body")?,
    }
    s.serialize_field("isBase64Encoded", &base64)
}

/// A header value as text: a byte that is not UTF-8 becomes U+FFFD (where
/// `aws_lambda_events` fails the whole response).
fn text(value: &HeaderValue) -> std::borrow::Cow<'_, str> {
    // `to_str` (visible ASCII, the usual value) is one quick pass.
    match value.to_str() {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    }
}

/// `{"name": "first value"}`.
struct FirstValues<'a>(&'a HeaderMap);

impl Serialize for FirstValues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.keys_len()))?;
        // The map yields a name's values one after the other, first first,
        // each with the same name: one pass, no lookup per name.
        let mut last: Option<&header::HeaderName> = None;
        for (name, value) in self.0 {
            if !last.is_some_and(|last| std::ptr::eq(last, name)) {
                last = Some(name);
                map.serialize_entry(name.as_str(), &text(value))?;
            }
        }
        map.end()
    }
}

/// The map's values in its order, shared by the lists of [`AllValues`].
type ValuesInOrder<'m> = RefCell<Peekable<header::Iter<'m, HeaderValue>>>;

/// `{"name": ["value", ...]}`.
struct AllValues<'a>(&'a HeaderMap);

impl Serialize for AllValues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.keys_len()))?;
        let values: ValuesInOrder<'_> = RefCell::new(self.0.iter().peekable());
        loop {
            let Some(name) = values.borrow_mut().peek().map(|&(name, _)| name) else {
                break;
            };
            map.serialize_entry(name.as_str(), &Values(&values, name))?;
            // A serializer that wrote no list left the values behind.
            Values(&values, name).skip();
        }
        map.end()
    }
}

/// Every value of one name, as a list: the run of the map's values that
/// carry this very name.
struct Values<'a, 'm>(&'a ValuesInOrder<'m>, &'m header::HeaderName);

impl Values<'_, '_> {
    fn next(&self) -> Option<&HeaderValue> {
        self.0
            .borrow_mut()
            .next_if(|&(name, _)| std::ptr::eq(name, self.1))
            .map(|(_, value)| value)
    }

    fn skip(&self) {
        while self.next().is_some() {}
    }
}

impl Serialize for Values<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_seq(None)?;
        while let Some(value) = self.next() {
            list.serialize_element(&text(value))?;
        }
        list.end()
    }
}

/// HTTP API v2 takes single-valued headers plus a `cookies` list for `Set-Cookie`.
fn split_cookies(mut headers: HeaderMap) -> (HeaderMap, Vec<String>) {
    if !headers.contains_key(header::SET_COOKIE) {
        return (join_values(headers), Vec::new());
    }
    let cookies = match headers.entry(header::SET_COOKIE) {
        Entry::Occupied(entry) => entry
            .remove_entry_mult()
            .1
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect(),
        Entry::Vacant(_) => Vec::new(),
    };
    (join_values(headers), cookies)
}

/// Folds repeated headers into one comma-separated value (RFC 9110 5.3).
/// A map with one value per name (the usual answer) comes back as it is.
fn join_values(headers: HeaderMap) -> HeaderMap {
    if headers.len() == headers.keys_len() {
        return headers;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
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

    fn to_json(response: LambdaResponse) -> Value {
        serde_json::to_value(response).expect("serialises")
    }

    /// The JSON each type's own `Serialize` writes, byte for byte.
    fn as_aws_lambda_events_writes_it(response: &LambdaResponse) -> String {
        match response {
            LambdaResponse::RestV1(out) => serde_json::to_string(out),
            LambdaResponse::HttpV2(out) => serde_json::to_string(out),
            LambdaResponse::Alb(out) => serde_json::to_string(out),
        }
        .expect("serialises")
    }

    #[test]
    fn the_json_is_what_aws_lambda_events_writes() {
        let responses = [
            sample(),
            Response::no_content(),
            Response::binary(StatusCode::OK, "image/png", vec![0, 159, 146, 150]),
            Response::ok(&json!({"quote": "a \"b\" \\ c\n"})),
        ];
        for response in responses {
            for source in [
                Source::RestV1,
                Source::HttpV2,
                Source::Alb { multi_value: false },
                Source::Alb { multi_value: true },
            ] {
                let out = LambdaResponse::new(response.clone(), source);
                let ours = serde_json::to_string(&out).expect("serialises");
                assert_eq!(ours, as_aws_lambda_events_writes_it(&out), "{source:?}");
            }
        }
    }

    #[test]
    fn a_header_value_that_is_not_utf8_does_not_fail_the_response() {
        let mut response = Response::no_content();
        response.headers.insert(
            "x-raw",
            HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is allowed"),
        );
        let out = to_json(LambdaResponse::new(response, Source::RestV1));
        assert_eq!(out["multiValueHeaders"]["x-raw"], json!(["caf\u{fffd}"]));
    }

    #[test]
    fn rest_v1_uses_multi_value_headers() {
        let out = to_json(LambdaResponse::new(sample(), Source::RestV1));
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
        let out = to_json(LambdaResponse::new(sample(), Source::HttpV2));
        assert_eq!(out["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(out["headers"]["vary"], "Origin, Accept");
        assert!(out["headers"].get("set-cookie").is_none());
        assert_eq!(out["headers"]["content-type"], "application/json");
    }

    #[test]
    fn alb_has_status_description_and_follows_the_header_mode() {
        let single = to_json(LambdaResponse::new(
            sample(),
            Source::Alb { multi_value: false },
        ));
        assert_eq!(single["statusDescription"], "200 OK");
        assert_eq!(single["headers"]["vary"], "Origin, Accept");
        let multi = to_json(LambdaResponse::new(
            sample(),
            Source::Alb { multi_value: true },
        ));
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
            let out = to_json(LambdaResponse::new(response.clone(), source));
            assert_eq!(out["isBase64Encoded"], true);
            assert_eq!(out["body"], "AJ+Slg==");
        }
    }

    #[test]
    fn empty_bodies_are_omitted() {
        let out = to_json(LambdaResponse::new(Response::no_content(), Source::RestV1));
        assert_eq!(out["statusCode"], 204);
        assert!(out.get("body").is_none());
    }
}
