//! A payload into a [`Request`]: one walk over it (`scan`), or `serde_json`'s
//! pass ([`wire`]) where the walk declines, which source sent it, then that
//! source's fields mapped onto the one request model.

use std::borrow::Cow;

use http::Method;

use super::decode::{
    decode_body, decode_component, decode_path, host, is_execute_api, parse_query, split_prefix,
};
use super::probe::{Shape, detect};
use super::scan::scan;
use super::wire::{self, Event, MAX_HEADER_FIELDS, Str};
use super::{NotHttpEvent, Source, authorizer};
use crate::config::BasePath;
use crate::error::ApiError;
use crate::headers::{RequestHeaders, valid_value};
use crate::request::Request;

/// The 400 for an event of a known source whose fields do not parse.
fn malformed() -> ApiError {
    ApiError::BadRequest("malformed HTTP event: required fields are missing or invalid".into())
}

/// Tells which source sent `payload` and parses it into a [`Request`].
///
/// `Err` when the payload is not an HTTP event at all. An event that looks
/// like a source's but does not parse, or whose body or path cannot be
/// decoded, is a client error answered in that source's shape, so the
/// source comes back either way (refined: ALB's header mode).
/// `invocation_id` is the Lambda request id, used when the event has none.
/// `base_path` is the custom domain's base path mapping
/// ([`crate::Config::base_path`]), stripped on hosts other than
/// `execute-api` (REST v1 and HTTP API v2 events).
pub fn adapt(
    payload: &str,
    invocation_id: &str,
    base_path: Option<&BasePath>,
) -> Result<(Source, Result<Request, ApiError>), NotHttpEvent> {
    adapt_with(payload, invocation_id, base_path, Pass::Scan)
}

/// How [`adapt_with`] reads a payload.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The walk made for AWS's events (`scan`), and `serde_json`'s pass
    /// for what it declines: what [`adapt`] does.
    Scan,
    /// `serde_json`'s pass alone (`wire`), the reference.
    Serde,
}

/// [`adapt`], reading the payload as `pass` says. Both ways must give the
/// same answer for every payload; tests and the `event` fuzz target
/// compare them.
#[doc(hidden)]
pub fn adapt_with(
    payload: &str,
    invocation_id: &str,
    base_path: Option<&BasePath>,
    pass: Pass,
) -> Result<(Source, Result<Request, ApiError>), NotHttpEvent> {
    if !is_object(payload) {
        return Err(NotHttpEvent::of(payload));
    }
    let event = match read_event(payload, pass) {
        Ok(event) => event,
        Err(error) => {
            // A field of the wrong type, a repeated key, not JSON: the
            // probe, which reads only what tells the sources apart, says
            // whether it was an HTTP event, and whose.
            let source = detect(payload)?;
            tracing::warn!(%error, "malformed HTTP event");
            return Ok((source, Err(malformed())));
        }
    };
    let source = shape_of(&event).source()?;
    if event.headers.too_many() || event.multi_value_headers.too_many() {
        let (single, multi) = (event.headers.fields, event.multi_value_headers.fields);
        tracing::warn!(single, multi, "refused an event with too many headers");
        let source = match source {
            Source::Alb { .. } => Source::Alb {
                multi_value: multi > 0,
            },
            other => other,
        };
        let refused = ApiError::BadRequest(format!(
            "request has too many headers; the limit is {MAX_HEADER_FIELDS}"
        ));
        return Ok((source, Err(refused)));
    }
    let (source, request) = match source {
        Source::RestV1 => (source, from_rest_v1(event, base_path)),
        Source::HttpV2 => (source, from_http_v2(event, base_path)),
        Source::Alb { .. } => from_alb(event),
    };
    let request = request.map(|mut request| {
        if request.request_id.is_empty() {
            invocation_id.clone_into(&mut request.request_id);
        }
        request
    });
    Ok((source, request))
}

/// Reads `payload` into the event model as `pass` says, and drops it:
/// whether it read. The first stage of [`adapt_with`] alone, for the
/// benchmark's stage timing (`bench-inproc --stages`).
#[doc(hidden)]
pub fn read(payload: &str, pass: Pass) -> bool {
    is_object(payload) && read_event(payload, pass).is_ok()
}

/// Whether `payload` can be an event: serde would also read a struct
/// from a JSON array, and only objects are events.
fn is_object(payload: &str) -> bool {
    payload.trim_start().starts_with('{')
}

/// `payload` in the event model: the walk's reading, or `serde_json`'s
/// where `pass` is [`Pass::Serde`] or the walk declines.
fn read_event(payload: &str, pass: Pass) -> Result<Event<'_>, serde_json::Error> {
    let scanned = match pass {
        Pass::Scan => scan(payload),
        Pass::Serde => None,
    };
    scanned.map_or_else(|| serde_json::from_str(payload), Ok)
}

/// What tells the sources apart, as [`detect`] reads it.
fn shape_of(event: &Event<'_>) -> Shape {
    let context = event.request_context.as_ref();
    Shape {
        context: context.map(|c| (c.elb.is_some(), c.http.is_some())),
        version_2: event.version == Some(r#""2.0""#),
        raw_path: event.raw_path.is_some(),
        http_method: event.http_method.is_some(),
    }
}

/// A method field: there, and a method `http` accepts.
fn method(field: Option<&Str<'_>>) -> Result<Method, ApiError> {
    field.and_then(|m| wire::method(m.as_str())).ok_or_else(|| {
        tracing::warn!("malformed HTTP event: no usable method");
        malformed()
    })
}

/// An optional string field as an owned string.
fn owned(field: Option<Str<'_>>) -> Option<String> {
    field.map(Str::into_string)
}

/// The body as sent, base64-decoded when flagged.
fn body(sent: Option<Cow<'_, [u8]>>, is_base64: Option<bool>) -> Result<Vec<u8>, ApiError> {
    decode_body(sent, is_base64.unwrap_or(false))
}

/// Logs why a present authorizer context could not be read; a 400.
fn unreadable_authorizer(error: serde_json::Error) -> ApiError {
    tracing::warn!(%error, "malformed HTTP event: unreadable authorizer context");
    malformed()
}

/// REST's and ALB's headers: `multiValueHeaders`, then each name of
/// `headers` that it does not have; and whether the first gave any.
fn merged_headers(event: &Event<'_>) -> (RequestHeaders, bool) {
    let (multi, single) = (&event.multi_value_headers, &event.headers);
    // `headers` repeats the names of `multiValueHeaders` (API Gateway
    // derives one from the other): room for it only when that one is empty.
    let (fields, bytes) = match multi.entries.is_empty() {
        true => single.size(),
        false => multi.size(),
    };
    let mut headers = RequestHeaders::with_capacity(fields, bytes);
    multi.build_into(&mut headers, false);
    let from_multi = !headers.is_empty();
    single.build_into(&mut headers, true);
    (headers, from_multi)
}

/// REST's and ALB's query: `multiValueQueryStringParameters` when it has
/// any key, else `queryStringParameters`.
fn rest_query(event: &mut Event<'_>) -> Vec<(String, String)> {
    let multi = event.multi_value_query_string_parameters.take();
    let single = event.query_string_parameters.take();
    match (multi, single) {
        (Some(multi), _) if !multi.is_empty() => multi.pairs(false),
        (_, Some(single)) => single.pairs(false),
        _ => Vec::new(),
    }
}

fn from_rest_v1(mut event: Event<'_>, base_path: Option<&BasePath>) -> Result<Request, ApiError> {
    let method = method(event.http_method.as_ref())?;
    let context = event.request_context.take().ok_or_else(malformed)?;
    // Required by the model (`aws_lambda_events` refuses an event without it).
    self::method(context.http_method.as_ref())?;
    let (headers, _) = merged_headers(&event);
    let query = rest_query(&mut event);
    let domain_name = owned(context.domain_name).or_else(|| host(&headers));
    let stage = owned(context.stage);
    // API Gateway REST hands over the path already decoded, without the
    // stage, but with a custom domain's base path.
    let full_path = event.path.map_or(Cow::Borrowed("/"), |p| p.0);
    let (public_prefix, path) = split_prefix(
        &full_path,
        is_execute_api(domain_name.as_deref()),
        stage.as_deref(),
        false,
        base_path,
    );
    let path = path.to_owned();
    Ok(Request {
        method,
        path,
        public_prefix,
        domain_name,
        headers,
        query,
        params: Vec::new(),
        principal: authorizer::rest(context.authorizer).map_err(unreadable_authorizer)?,
        body: body(event.body, event.is_base64_encoded)?,
        request_id: owned(context.request_id).unwrap_or_default(),
        stage,
        source_ip: context.identity.and_then(|i| owned(i.source_ip)),
    })
}

fn from_http_v2(mut event: Event<'_>, base_path: Option<&BasePath>) -> Result<Request, ApiError> {
    let context = event.request_context.take().ok_or_else(malformed)?;
    let http = context.http.ok_or_else(malformed)?;
    let method = method(http.method.as_ref())?;
    // `path` is `aws_lambda_events`' alias of `rawPath`.
    let raw_path = event
        .raw_path
        .take()
        .or(event.path.take())
        .or(http.path)
        .map_or(Cow::Borrowed("/"), |p| p.0);
    let mut headers = event.headers.build();
    // Payload 2.0 comes from an HTTP API or a Function URL; only the first
    // has authorizers. A Function URL's domain is always AWS's own; an
    // event naming no domain at all is not trusted either.
    let domain_name = owned(context.domain_name);
    let function_url = domain_name
        .as_deref()
        .is_none_or(|d| d.contains(".lambda-url.") || d.ends_with(".on.aws"));
    let domain_name = domain_name.or_else(|| host(&headers));
    let stage = owned(context.stage);
    // `rawPath` holds the named stage on the execute-api host only, and a
    // custom domain's mapping key (base path) in front of the API's path.
    let (public_prefix, own_path) = split_prefix(
        &raw_path,
        is_execute_api(domain_name.as_deref()),
        stage.as_deref(),
        true,
        base_path,
    );
    let path = decode_path(own_path)?;
    if let Some(cookies) = event.cookies.take().filter(|c| !c.is_empty()) {
        let joined = cookies
            .iter()
            .map(Str::as_str)
            .collect::<Vec<_>>()
            .join("; ");
        if valid_value(&joined) {
            headers.push("cookie", &joined, true);
        }
    }
    let query = match event.raw_query_string.take() {
        Some(raw) => parse_query(raw.as_str())?,
        None => event
            .query_string_parameters
            .take()
            .map(|q| q.pairs(true))
            .unwrap_or_default(),
    };
    let principal = if function_url {
        None
    } else {
        authorizer::http_api(context.authorizer).map_err(unreadable_authorizer)?
    };
    Ok(Request {
        method,
        path,
        public_prefix,
        domain_name,
        headers,
        query,
        params: Vec::new(),
        body: body(event.body, event.is_base64_encoded)?,
        request_id: owned(context.request_id).unwrap_or_default(),
        stage,
        source_ip: owned(http.source_ip),
        principal,
    })
}

/// An ALB event; the source comes back with its header mode: multi-value
/// when `multiValueHeaders` has a usable entry.
fn from_alb(mut event: Event<'_>) -> (Source, Result<Request, ApiError>) {
    let (headers, multi_value) = merged_headers(&event);
    (
        Source::Alb { multi_value },
        alb_request(&mut event, headers),
    )
}

fn alb_request(event: &mut Event<'_>, headers: RequestHeaders) -> Result<Request, ApiError> {
    let method = method(event.http_method.as_ref())?;
    // ALB passes the query string as the client sent it: still encoded.
    let query = rest_query(event)
        .into_iter()
        .map(|(k, v)| Ok((decode_component(&k)?, decode_component(&v)?)))
        .collect::<Result<_, ApiError>>()?;
    let source_ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned());
    let path = decode_path(event.path.as_ref().map_or("/", Str::as_str))?;
    Ok(Request {
        method,
        path,
        public_prefix: String::new(),
        domain_name: host(&headers),
        headers,
        query,
        params: Vec::new(),
        body: body(event.body.take(), event.is_base64_encoded)?,
        request_id: String::new(),
        stage: None,
        source_ip,
        principal: None,
    })
}
