//! Decoders for the pieces of an event: the stage or base path in front of a path,
//! percent-encoding, query strings, the `Host` header, base64 bodies. Each
//! undecodable piece is a 400 naming it.

use std::borrow::Cow;

use crate::headers::RequestHeaders;
use base64::Engine as _;
use percent_encoding::percent_decode_str;

use crate::config::BasePath;
use crate::error::ApiError;

/// Whether `domain` is an API's default host
/// (`<api-id>.execute-api.<region>.amazonaws.com`, `.amazonaws.com.cn` in
/// China), where URLs carry the stage; a custom domain's do not.
pub(super) fn is_execute_api(domain: Option<&str>) -> bool {
    const MIDDLE: &[u8] = b".execute-api.";
    let ends_with = |d: &[u8], suffix: &[u8]| {
        d.len() >= suffix.len() && d[d.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    domain.is_some_and(|d| {
        let d = d.as_bytes();
        (ends_with(d, b".amazonaws.com") || ends_with(d, b".amazonaws.com.cn"))
            // The middle part starts at a dot: only those are compared
            // (the API id's dot, the first, on API Gateway's own names).
            && memchr::memchr_iter(b'.', d).any(|at| {
                d.get(at..at + MIDDLE.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(MIDDLE))
            })
    })
}

/// Removes `prefix` (`/dev`, `/orders`, `/v1/orders`) from the front of
/// `path` when it is there as whole segments (`/dev/ping` -> `/ping`, `/dev`
/// -> `/`; not from `/devices`).
pub(super) fn strip_segments<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    match path.strip_prefix(prefix) {
        Some("") => Some("/"),
        Some(rest) if rest.starts_with('/') => Some(rest),
        _ => None,
    }
}

/// Splits the path a client called into what is in front of the API's own
/// path, and that path: on the `execute-api` host, the named stage
/// (`$default` has none in the path; REST v1 delivers `path` without it,
/// `stage_in_path` is false there); on any other host (a custom domain),
/// the configured base path, when the path starts with it.
pub(super) fn split_prefix<'a>(
    path: &'a str,
    on_execute_api: bool,
    stage: Option<&str>,
    stage_in_path: bool,
    base_path: Option<&BasePath>,
) -> (String, &'a str) {
    let prefix = if on_execute_api {
        match stage.filter(|s| !s.is_empty() && *s != "$default") {
            Some(stage) => format!("/{stage}"),
            None => return (String::new(), path),
        }
    } else {
        match base_path {
            Some(base) => base.as_str().to_owned(),
            None => return (String::new(), path),
        }
    };
    if on_execute_api && !stage_in_path {
        return (prefix, path);
    }
    match strip_segments(path, &prefix) {
        Some(rest) => (prefix, rest),
        None => (String::new(), path),
    }
}

/// Percent-decodes a path once; the result must be UTF-8.
pub(super) fn decode_path(raw: &str) -> Result<String, ApiError> {
    match percent_decode_str(raw).decode_utf8() {
        Ok(Cow::Borrowed(path)) => Ok(path.to_owned()),
        Ok(Cow::Owned(path)) => Ok(path),
        Err(_) => Err(ApiError::BadRequest(
            "request path is not valid UTF-8 after percent-decoding".into(),
        )),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
pub(super) fn decode_component(raw: &str) -> Result<String, ApiError> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| ApiError::BadRequest("query string is not valid UTF-8 after decoding".into()))
}

/// Parses a raw query string (`a=1&b=2&a=3`), keeping repeated keys in order.
pub(super) fn parse_query(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode_component(key)?, decode_component(value)?))
        })
        .collect()
}

/// The `Host` header, when it is text.
pub(super) fn host(headers: &RequestHeaders) -> Option<String> {
    headers.get("host").map(str::to_owned)
}

/// The body as bytes: as sent, or base64-decoded when flagged.
pub(super) fn decode_body(
    body: Option<Cow<'_, [u8]>>,
    is_base64: bool,
) -> Result<Vec<u8>, ApiError> {
    let Some(body) = body else {
        return Ok(Vec::new());
    };
    if !is_base64 {
        return Ok(body.into_owned());
    }
    base64::engine::general_purpose::STANDARD
        .decode(&body)
        .map_err(|_| ApiError::BadRequest("request body is not valid base64".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execute_api_hosts_are_told_apart_in_any_case() {
        let cases = [
            (Some("abc123.execute-api.us-east-1.amazonaws.com"), true),
            (Some("ABC123.Execute-API.us-east-1.AmazonAWS.com"), true),
            (Some("abc123.execute-api.cn-north-1.amazonaws.com.cn"), true),
            (Some("api.example.com"), false),
            (Some("execute-api.example.com"), false),
            (Some("abc.execute-api.evil.example"), false),
            (Some(".execute-api.amazonaws.co"), false),
            (Some("a.b.execute-api.us-east-1.amazonaws.com"), true),
            (Some("abc123.execute-apix.us-east-1.amazonaws.com"), false),
            (Some(".execute-api.amazonaws.com"), true),
            (Some(""), false),
            (None, false),
        ];
        for (domain, expected) in cases {
            assert_eq!(is_execute_api(domain), expected, "{domain:?}");
        }
    }
}
