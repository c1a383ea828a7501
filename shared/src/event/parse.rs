//! The full parse of an event whose source is known, into a [`Request`]:
//! the typed parse into `aws_lambda_events` (lenient about illegal
//! headers), then each source's fields mapped onto the one request model.

use aws_lambda_events::alb::AlbTargetGroupRequest;
use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use http::header::HeaderName;
use http::{HeaderValue, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Source;
use super::authorizer;
use super::decode::{
    decode_body, decode_component, decode_path, host, is_execute_api, merge_missing, parse_query,
    query_pairs, split_prefix,
};
use super::probe::check_header_count;
use crate::config::BasePath;
use crate::error::ApiError;
use crate::request::Request;

/// The 400 for an event of a known source whose fields do not parse.
pub(super) fn malformed() -> ApiError {
    ApiError::BadRequest("malformed HTTP event: required fields are missing or invalid".into())
}

/// Parses a payload of a known source into a [`Request`].
///
/// A payload that looks like the source but does not parse, or whose body
/// or path cannot be decoded, is a client error answered in that shape, so
/// the source comes back either way (refined: ALB's header mode).
/// `invocation_id` is the Lambda request id, used when the event has none.
/// `base_path` is the custom domain's base path mapping
/// ([`crate::Config::base_path`]), stripped on hosts other than
/// `execute-api` (REST v1 and HTTP API v2 events).
pub fn parse(
    payload: &str,
    source: Source,
    invocation_id: &str,
    base_path: Option<&BasePath>,
) -> (Source, Result<Request, ApiError>) {
    if let Err((multi_value, error)) = check_header_count(payload) {
        let source = match source {
            Source::Alb { .. } => Source::Alb { multi_value },
            other => other,
        };
        return (source, Err(error));
    }
    let (source, request) = match source {
        Source::RestV1 => (
            source,
            parse_lenient(payload).and_then(|event| from_rest_v1(event, base_path)),
        ),
        Source::HttpV2 => (
            source,
            parse_lenient(payload).and_then(|event| from_http_v2(event, base_path)),
        ),
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
        malformed()
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

fn from_rest_v1(
    event: ApiGatewayProxyRequest,
    base_path: Option<&BasePath>,
) -> Result<Request, ApiError> {
    let mut headers = event.multi_value_headers;
    merge_missing(&mut headers, event.headers);
    let query = if event.multi_value_query_string_parameters.is_empty() {
        query_pairs(&event.query_string_parameters)
    } else {
        query_pairs(&event.multi_value_query_string_parameters)
    };
    let context = event.request_context;
    let domain_name = context.domain_name.or_else(|| host(&headers));
    // API Gateway REST hands over the path already decoded, without the
    // stage, but with a custom domain's base path.
    let full_path = event.path.unwrap_or_else(|| "/".into());
    let (public_prefix, path) = split_prefix(
        &full_path,
        is_execute_api(domain_name.as_deref()),
        context.stage.as_deref(),
        false,
        base_path,
    );
    let path = path.to_owned();
    Ok(Request {
        method: event.http_method,
        path,
        public_prefix,
        domain_name,
        headers,
        query,
        params: Vec::new(),
        body: decode_body(event.body, event.is_base64_encoded)?,
        request_id: context.request_id.unwrap_or_default(),
        stage: context.stage,
        source_ip: context.identity.source_ip,
        principal: authorizer::rest(&context.authorizer.fields),
    })
}

fn from_http_v2(
    event: ApiGatewayV2httpRequest,
    base_path: Option<&BasePath>,
) -> Result<Request, ApiError> {
    let context = event.request_context;
    let raw_path = event
        .raw_path
        .or(context.http.path)
        .unwrap_or_else(|| "/".into());
    let mut headers = event.headers;
    // Payload 2.0 comes from an HTTP API or a Function URL; only the first
    // has authorizers. A Function URL's domain is always AWS's own; an
    // event naming no domain at all is not trusted either.
    let function_url = context
        .domain_name
        .as_deref()
        .is_none_or(|d| d.contains(".lambda-url.") || d.ends_with(".on.aws"));
    let domain_name = context.domain_name.or_else(|| host(&headers));
    // `rawPath` holds the named stage on the execute-api host only, and a
    // custom domain's mapping key (base path) in front of the API's path.
    let (public_prefix, own_path) = split_prefix(
        &raw_path,
        is_execute_api(domain_name.as_deref()),
        context.stage.as_deref(),
        true,
        base_path,
    );
    let path = decode_path(own_path)?;
    if let Some(cookies) = event.cookies.filter(|c| !c.is_empty())
        && let Ok(value) = HeaderValue::from_str(&cookies.join("; "))
    {
        headers.insert(header::COOKIE, value);
    }
    let query = match event.raw_query_string.as_deref() {
        Some(raw) => parse_query(raw)?,
        None => query_pairs(&event.query_string_parameters),
    };
    let principal = if function_url {
        None
    } else {
        authorizer::http_api(context.authorizer.as_ref())
    };
    Ok(Request {
        method: context.http.method,
        path,
        public_prefix,
        domain_name,
        headers,
        query,
        params: Vec::new(),
        body: decode_body(event.body, event.is_base64_encoded)?,
        request_id: context.request_id.unwrap_or_default(),
        stage: context.stage,
        source_ip: context.http.source_ip,
        principal,
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
        public_prefix: String::new(),
        domain_name: host(&headers),
        headers,
        query,
        params: Vec::new(),
        body: decode_body(event.body, event.is_base64_encoded)?,
        request_id: String::new(),
        stage: None,
        source_ip,
        principal: None,
    })
}
