//! Event adaptation: recognise which HTTP event source sent a payload, and
//! turn it into a [`Request`].
//!
//! The shape is detected from a few discriminating fields before the full
//! parse, so one binary serves API Gateway REST (payload 1.0), HTTP API
//! (payload 2.0), Lambda Function URLs and ALB target groups.

use std::borrow::Cow;
use std::fmt;

use aws_lambda_events::alb::AlbTargetGroupRequest;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine as _;
use http::header::HeaderName;
use http::{HeaderMap, HeaderValue, header};
use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::request::Request;

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

/// Only the fields that tell the shapes apart; everything else is skipped.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default)]
    version: Option<&'a RawValue>,
    #[serde(rename = "rawPath", default)]
    raw_path: Option<IgnoredAny>,
    #[serde(rename = "httpMethod", default)]
    http_method: Option<IgnoredAny>,
    #[serde(rename = "requestContext", default)]
    request_context: Option<ProbeContext>,
}

/// `requestContext`: notes whether `elb` / `http` are present. Anything but
/// an object reads as an empty context, so a broken HTTP event still gets
/// a 400 in its shape rather than being taken for a non-HTTP event.
#[derive(Default)]
struct ProbeContext {
    elb: bool,
    http: bool,
}

impl<'de> Deserialize<'de> for ProbeContext {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ProbeContextVisitor)
    }
}

struct ProbeContextVisitor;

impl<'de> serde::de::Visitor<'de> for ProbeContextVisitor {
    type Value = ProbeContext;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request context")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ProbeContext, A::Error> {
        let mut context = ProbeContext::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let present = map.next_value::<Option<IgnoredAny>>()?.is_some();
            match key.as_ref() {
                "elb" => context.elb |= present,
                "http" => context.http |= present,
                _ => {}
            }
        }
        Ok(context)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ProbeContext, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ProbeContext::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<ProbeContext, E> {
        Ok(ProbeContext::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<ProbeContext, E> {
        Ok(ProbeContext::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<ProbeContext, E> {
        Ok(ProbeContext::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<ProbeContext, E> {
        Ok(ProbeContext::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<ProbeContext, E> {
        Ok(ProbeContext::default())
    }

    fn visit_unit<E>(self) -> Result<ProbeContext, E> {
        Ok(ProbeContext::default())
    }
}

/// Most header fields an event may carry in `headers`, and separately in
/// `multiValueHeaders` (each value counts): more is a 400.
///
/// `http::HeaderMap` panics beyond 24,576 distinct names, and API Gateway
/// passes at most 10 KB of headers, so no real client comes near this.
pub const MAX_HEADER_FIELDS: usize = 1_000;

/// `headers` and `multiValueHeaders` counted, nothing else parsed.
#[derive(Deserialize)]
struct HeaderProbe {
    #[serde(default)]
    headers: Option<FieldCount>,
    #[serde(rename = "multiValueHeaders", default)]
    multi_value_headers: Option<FieldCount>,
}

/// The number of fields in a header object: one per string, one per
/// element of an array; anything else counts as nothing.
#[derive(Default)]
struct FieldCount(usize);

impl<'de> Deserialize<'de> for FieldCount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldCountVisitor)
    }
}

struct FieldCountVisitor;

impl<'de> serde::de::Visitor<'de> for FieldCountVisitor {
    type Value = FieldCount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("headers")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<FieldCount, A::Error> {
        let mut count = 0usize;
        while map.next_key::<IgnoredAny>()?.is_some() {
            count = count.saturating_add(map.next_value::<ValueCount>()?.0);
        }
        Ok(FieldCount(count))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<FieldCount, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(FieldCount::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<FieldCount, E> {
        Ok(FieldCount::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<FieldCount, E> {
        Ok(FieldCount::default())
    }

    fn visit_i64<E>(self, _: i64) -> Result<FieldCount, E> {
        Ok(FieldCount::default())
    }

    fn visit_u64<E>(self, _: u64) -> Result<FieldCount, E> {
        Ok(FieldCount::default())
    }

    fn visit_f64<E>(self, _: f64) -> Result<FieldCount, E> {
        Ok(FieldCount::default())
    }

    fn visit_unit<E>(self) -> Result<FieldCount, E> {
        Ok(FieldCount::default())
    }
}

/// How many header fields one value of a header object stands for.
struct ValueCount(usize);

impl<'de> Deserialize<'de> for ValueCount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueCountVisitor)
    }
}

struct ValueCountVisitor;

impl<'de> serde::de::Visitor<'de> for ValueCountVisitor {
    type Value = ValueCount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header value")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ValueCount, A::Error> {
        let mut count = 0usize;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count = count.saturating_add(1);
        }
        Ok(ValueCount(count))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ValueCount, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ValueCount(1))
    }

    fn visit_str<E>(self, _: &str) -> Result<ValueCount, E> {
        Ok(ValueCount(1))
    }

    fn visit_bool<E>(self, _: bool) -> Result<ValueCount, E> {
        Ok(ValueCount(1))
    }

    fn visit_i64<E>(self, _: i64) -> Result<ValueCount, E> {
        Ok(ValueCount(1))
    }

    fn visit_u64<E>(self, _: u64) -> Result<ValueCount, E> {
        Ok(ValueCount(1))
    }

    fn visit_f64<E>(self, _: f64) -> Result<ValueCount, E> {
        Ok(ValueCount(1))
    }

    fn visit_unit<E>(self) -> Result<ValueCount, E> {
        Ok(ValueCount(0))
    }
}

/// Refuses an event with more than [`MAX_HEADER_FIELDS`] header fields
/// before the full parse (which would panic on an absurd count). The error
/// comes with whether `multiValueHeaders` has entries (ALB's response mode).
fn check_header_count(payload: &str) -> Result<(), (bool, ApiError)> {
    let Ok(probe) = serde_json::from_str::<HeaderProbe>(payload) else {
        // Only a repeated `headers` / `multiValueHeaders` key gets here (the
        // payload is a JSON object): uncountable, so refused.
        tracing::warn!("refused an event whose headers cannot be counted");
        return Err((
            false,
            ApiError::BadRequest(
                "malformed HTTP event: required fields are missing or invalid".into(),
            ),
        ));
    };
    let single = probe.headers.unwrap_or_default().0;
    let multi = probe.multi_value_headers.unwrap_or_default().0;
    if single.max(multi) > MAX_HEADER_FIELDS {
        tracing::warn!(single, multi, "refused an event with too many headers");
        return Err((
            multi > 0,
            ApiError::BadRequest(format!(
                "request has too many headers; the limit is {MAX_HEADER_FIELDS}"
            )),
        ));
    }
    Ok(())
}

/// Tells which source sent `payload` (a JSON document).
///
/// HTTP API v2 is checked first: cargo-lambda's v2 events also carry a
/// stray top-level `httpMethod`.
pub fn detect(payload: &str) -> Result<Source, NotHttpEvent> {
    // serde would also read a struct from a JSON array: only objects are events.
    if !payload.trim_start().starts_with('{') {
        return Err(NotHttpEvent::of(payload));
    }
    let probe: Probe<'_> = serde_json::from_str(payload).map_err(|_| NotHttpEvent::of(payload))?;
    let context = probe.request_context.as_ref();
    if context.is_some_and(|c| c.elb) {
        return Ok(Source::Alb { multi_value: false });
    }
    let version_2 = probe.version.is_some_and(|v| v.get() == "\"2.0\"");
    if version_2 || probe.raw_path.is_some() || context.is_some_and(|c| c.http) {
        return Ok(Source::HttpV2);
    }
    if probe.http_method.is_some() && context.is_some() {
        return Ok(Source::RestV1);
    }
    Err(NotHttpEvent::Unsupported)
}

/// Parses a payload of a known source into a [`Request`].
///
/// A payload that looks like the source but does not parse, or whose body
/// or path cannot be decoded, is a client error answered in that shape, so
/// the source comes back either way (refined: ALB's header mode).
/// `invocation_id` is the Lambda request id, used when the event has none.
pub fn parse(
    payload: &str,
    source: Source,
    invocation_id: &str,
) -> (Source, Result<Request, ApiError>) {
    if let Err((multi_value, error)) = check_header_count(payload) {
        let source = match source {
            Source::Alb { .. } => Source::Alb { multi_value },
            other => other,
        };
        return (source, Err(error));
    }
    let (source, request) = match source {
        Source::RestV1 => (source, parse_lenient(payload).and_then(from_rest_v1)),
        Source::HttpV2 => (source, parse_lenient(payload).and_then(from_http_v2)),
        Source::Alb { .. } => match parse_lenient::<AlbTargetGroupRequest>(payload) {
            Ok(event) => (
                Source::Alb {
                    multi_value: !event.multi_value_headers.is_empty(),
                },
                from_alb(event),
            ),
            Err(error) => (source, Err(error)),
        },
    };
    let request = request.map(|mut request| {
        if request.request_id.is_empty() {
            invocation_id.clone_into(&mut request.request_id);
        }
        request
    });
    (source, request)
}

/// Parses an event, tolerating headers that `http` refuses.
///
/// Real payloads carry them: AWS's own REST example (the one the original
/// article sends) has a header with an empty name. The fast path parses
/// directly; only on failure are unusable headers dropped and the parse
/// retried. What still fails is logged and answered with a 400.
fn parse_lenient<T: DeserializeOwned>(payload: &str) -> Result<T, ApiError> {
    let first = match serde_json::from_str(payload) {
        Ok(event) => return Ok(event),
        Err(error) => error,
    };
    let retried = serde_json::from_str::<Value>(payload)
        .ok()
        .and_then(|mut value| drop_unusable_headers(&mut value).then_some(value))
        .and_then(|value| serde_json::from_value(value).ok());
    retried.ok_or_else(|| {
        tracing::warn!(error = %first, "malformed HTTP event");
        ApiError::BadRequest("malformed HTTP event: required fields are missing or invalid".into())
    })
}

/// Removes header entries that are not legal HTTP; says whether any were.
fn drop_unusable_headers(event: &mut Value) -> bool {
    let mut dropped = false;
    for key in ["headers", "multiValueHeaders"] {
        let Some(field) = event.get_mut(key) else {
            continue;
        };
        if field.is_null() {
            continue;
        }
        let Some(map) = field.as_object_mut() else {
            *field = Value::Null;
            dropped = true;
            continue;
        };
        let before = map.len();
        map.retain(|name, value| {
            HeaderName::from_bytes(name.as_bytes()).is_ok()
                && match value {
                    Value::String(v) => HeaderValue::from_str(v).is_ok(),
                    Value::Array(values) => values
                        .iter()
                        .all(|v| v.as_str().is_some_and(|v| HeaderValue::from_str(v).is_ok())),
                    _ => false,
                }
        });
        dropped |= map.len() != before;
    }
    if dropped {
        tracing::warn!("dropped headers that are not legal HTTP from the event");
    }
    dropped
}

/// Detects and parses in one go; see [`detect`] and [`parse`].
pub fn adapt(
    payload: &str,
    invocation_id: &str,
) -> Result<(Source, Result<Request, ApiError>), NotHttpEvent> {
    let source = detect(payload)?;
    Ok(parse(payload, source, invocation_id))
}

fn from_rest_v1(event: ApiGatewayProxyRequest) -> Result<Request, ApiError> {
    let mut headers = event.multi_value_headers;
    merge_missing(&mut headers, event.headers);
    let query = if event.multi_value_query_string_parameters.is_empty() {
        query_pairs(&event.query_string_parameters)
    } else {
        query_pairs(&event.multi_value_query_string_parameters)
    };
    let context = event.request_context;
    Ok(Request {
        method: event.http_method,
        // API Gateway REST hands over the path already decoded and without the stage.
        path: event.path.unwrap_or_else(|| "/".into()),
        domain_name: context.domain_name.or_else(|| host(&headers)),
        headers,
        query,
        params: Vec::new(),
        body: decode_body(event.body, event.is_base64_encoded)?,
        request_id: context.request_id.unwrap_or_default(),
        stage: context.stage,
        source_ip: context.identity.source_ip,
    })
}

fn from_http_v2(event: ApiGatewayV2httpRequest) -> Result<Request, ApiError> {
    let context = event.request_context;
    let raw_path = event
        .raw_path
        .or(context.http.path)
        .unwrap_or_else(|| "/".into());
    let path = decode_path(strip_stage(&raw_path, context.stage.as_deref()))?;
    let mut headers = event.headers;
    if let Some(cookies) = event.cookies.filter(|c| !c.is_empty())
        && let Ok(value) = HeaderValue::from_str(&cookies.join("; "))
    {
        headers.insert(header::COOKIE, value);
    }
    let query = match event.raw_query_string.as_deref() {
        Some(raw) => parse_query(raw)?,
        None => query_pairs(&event.query_string_parameters),
    };
    Ok(Request {
        method: context.http.method,
        path,
        domain_name: context.domain_name.or_else(|| host(&headers)),
        headers,
        query,
        params: Vec::new(),
        body: decode_body(event.body, event.is_base64_encoded)?,
        request_id: context.request_id.unwrap_or_default(),
        stage: context.stage,
        source_ip: context.http.source_ip,
    })
}

fn from_alb(event: AlbTargetGroupRequest) -> Result<Request, ApiError> {
    let mut headers = event.multi_value_headers;
    merge_missing(&mut headers, event.headers);
    // ALB passes the query string as the client sent it: still encoded.
    let raw_query = if event.multi_value_query_string_parameters.is_empty() {
        query_pairs(&event.query_string_parameters)
    } else {
        query_pairs(&event.multi_value_query_string_parameters)
    };
    let query = raw_query
        .into_iter()
        .map(|(k, v)| Ok((decode_component(&k)?, decode_component(&v)?)))
        .collect::<Result<_, ApiError>>()?;
    let source_ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned());
    Ok(Request {
        method: event.http_method,
        path: decode_path(event.path.as_deref().unwrap_or("/"))?,
        domain_name: host(&headers),
        headers,
        query,
        params: Vec::new(),
        body: decode_body(event.body, event.is_base64_encoded)?,
        request_id: String::new(),
        stage: None,
        source_ip,
    })
}

/// Removes a named stage (`/dev/ping` -> `/ping`); `$default` has none in the path.
fn strip_stage<'a>(raw_path: &'a str, stage: Option<&str>) -> &'a str {
    let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
        return raw_path;
    };
    match raw_path
        .strip_prefix('/')
        .and_then(|p| p.strip_prefix(stage))
    {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => raw_path,
    }
}

/// Percent-decodes a path once; the result must be UTF-8.
fn decode_path(raw: &str) -> Result<String, ApiError> {
    match percent_decode_str(raw).decode_utf8() {
        Ok(Cow::Borrowed(path)) => Ok(path.to_owned()),
        Ok(Cow::Owned(path)) => Ok(path),
        Err(_) => Err(ApiError::BadRequest(
            "request path is not valid UTF-8 after percent-decoding".into(),
        )),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
fn decode_component(raw: &str) -> Result<String, ApiError> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| ApiError::BadRequest("query string is not valid UTF-8 after decoding".into()))
}

/// Parses a raw query string (`a=1&b=2&a=3`), keeping repeated keys in order.
fn parse_query(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode_component(key)?, decode_component(value)?))
        })
        .collect()
}

/// Every (key, value) of a query map; a key sent with no values is left out.
///
/// Not `QueryMap::iter`: it indexes each key's first value and panics on a
/// key with none (`"key": []` in an event). Its serialised form is a plain
/// map of value lists, safe to walk.
fn query_pairs(map: &QueryMap) -> Vec<(String, String)> {
    if map.is_empty() {
        return Vec::new();
    }
    let Ok(Value::Object(entries)) = serde_json::to_value(map) else {
        return Vec::new();
    };
    entries
        .into_iter()
        .flat_map(|(key, values)| {
            let values = match values {
                Value::Array(values) => values,
                other => vec![other],
            };
            values.into_iter().filter_map(move |value| match value {
                Value::String(value) => Some((key.clone(), value)),
                _ => None,
            })
        })
        .collect()
}

/// Adds the single-value headers that the multi-value map does not already hold.
fn merge_missing(into: &mut HeaderMap, from: HeaderMap) {
    for (name, value) in from {
        if let Some(name) = name
            && !into.contains_key(&name)
        {
            into.insert(name, value);
        }
    }
}

fn host(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn decode_body(body: Option<String>, is_base64: bool) -> Result<Vec<u8>, ApiError> {
    let Some(body) = body else {
        return Ok(Vec::new());
    };
    if !is_base64 {
        return Ok(body.into_bytes());
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| ApiError::BadRequest("request body is not valid base64".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
            let (source, request) = adapt(&payload, "id").expect("an HTTP event");
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
        let (_, request) = adapt(&payload, "id").expect("an HTTP event");
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
        let (_, request) = adapt(&payload, "id").expect("an HTTP event");
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
            let (_, request) = adapt(&event.to_string(), "id").expect("an HTTP event");
            let request = request.expect("parses");
            assert_eq!(request.query("key"), None, "{event}");
            assert_eq!(request.query("a"), Some("1"), "{event}");
        }
    }

    #[test]
    fn up_to_the_limit_is_served() {
        let payload = v2_with_headers(Value::Object(distinct_headers(MAX_HEADER_FIELDS)));
        let (_, request) = adapt(&payload, "id").expect("an HTTP event");
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
        let (source, request) = adapt(&payload, "id").expect("an HTTP event");
        assert_eq!(source, Source::Alb { multi_value: true });
        assert!(request.is_err());
    }
}
