//! The way back: a [`Response`] in the shape its event's source expects
//! (REST v1: `multiValueHeaders`; HTTP API v2 and Function URLs: `cookies`
//! for `Set-Cookie`; ALB: `statusDescription` and its header mode).

use aws_lambda_events::alb::AlbTargetGroupResponse;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use http::HeaderMap;
use http::header::{self, HeaderValue};
use serde::Serialize;

use super::Source;
use crate::response::Response;

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

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
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
