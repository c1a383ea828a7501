//! The request model handlers see, the same whichever event source sent it.

use http::{HeaderMap, Method};
use serde_json::Value;

use crate::error::ApiError;

/// An HTTP request adapted from a Lambda event.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The method (`HEAD` reaches a GET handler as `HEAD`).
    pub method: Method,
    /// The path, percent-decoded once, never containing the API stage.
    pub path: String,
    /// Headers; lookups are case-insensitive and may hold several values.
    pub headers: HeaderMap,
    /// Query parameters in the order received, decoded, repeated keys kept.
    pub query: Vec<(String, String)>,
    /// Path parameters filled in by the router (`{id}` -> `("id", ...)`).
    pub params: Vec<(String, String)>,
    /// The body bytes, base64-decoded when the event said so.
    pub body: Vec<u8>,
    /// API Gateway's request id, or the Lambda invocation id when there is none.
    pub request_id: String,
    /// The API Gateway stage (`dev`, `$default`), when there is one.
    pub stage: Option<String>,
    /// The client address as seen by the event source.
    pub source_ip: Option<String>,
    /// The host the client called (API Gateway domain name or `Host`).
    pub domain_name: Option<String>,
}

impl Request {
    /// The first value of a header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter, in order.
    pub fn query_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A path parameter captured by the route template.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, after checking it is declared as JSON.
    ///
    /// Missing or non-JSON `content-type` is a 415; an empty or malformed
    /// body is a 400. Nesting is bounded by `serde_json`'s recursion limit.
    pub fn json(&self) -> Result<Value, ApiError> {
        if !self.is_json() {
            return Err(ApiError::UnsupportedMediaType(
                "content-type must be application/json".into(),
            ));
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest(
                "request body is empty; send a JSON object".into(),
            ));
        }
        serde_json::from_slice(&self.body).map_err(|error| {
            ApiError::BadRequest(format!("request body is not valid JSON: {error}"))
        })
    }

    /// Whether `content-type` names JSON (`application/json`, `application/*+json`).
    pub fn is_json(&self) -> bool {
        let Some(value) = self.header("content-type") else {
            return false;
        };
        let essence = value.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json")
            || (essence.len() > 17
                && essence[..12].eq_ignore_ascii_case("application/")
                && essence[essence.len() - 5..].eq_ignore_ascii_case("+json"))
    }

    /// The path a client must use to reach `path` of this API from outside.
    ///
    /// Behind the default `execute-api` host of a named stage, URLs carry the
    /// stage (`/dev/api/v1/users/1`); behind a custom domain, `$default` or a
    /// local emulator they do not. Use it for `Location` headers and links.
    pub fn public_path(&self, path: &str) -> String {
        let on_execute_api = self
            .domain_name
            .as_deref()
            .is_some_and(|d| d.contains(".execute-api.") && d.ends_with(".amazonaws.com"));
        match self.stage.as_deref() {
            Some(stage) if on_execute_api && !stage.is_empty() && stage != "$default" => {
                format!("/{stage}{path}")
            }
            _ => path.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_content_type(value: &str) -> Request {
        let mut request = Request::default();
        request
            .headers
            .insert("content-type", HeaderValue::from_str(value).expect("valid"));
        request
    }

    #[test]
    fn json_content_types() {
        let cases = [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("application/problem+JSON", true),
            ("text/plain", false),
            ("application/jsonx", false),
            ("application/x-www-form-urlencoded", false),
            ("+json", false),
        ];
        for (value, expected) in cases {
            assert_eq!(with_content_type(value).is_json(), expected, "{value}");
        }
        assert!(!Request::default().is_json());
    }

    #[test]
    fn json_body_errors() {
        let mut request = with_content_type("application/json");
        assert!(matches!(request.json(), Err(ApiError::BadRequest(_))));
        request.body = b"{\"a\":".to_vec();
        assert!(matches!(request.json(), Err(ApiError::BadRequest(_))));
        request.body = b"{\"a\":1}".to_vec();
        assert_eq!(request.json().expect("valid")["a"], 1);
        let mut plain = with_content_type("text/plain");
        plain.body = b"{}".to_vec();
        assert!(matches!(
            plain.json(),
            Err(ApiError::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn deeply_nested_json_is_a_400_not_a_stack_overflow() {
        let mut request = with_content_type("application/json");
        request.body = "[".repeat(100_000).into_bytes();
        assert!(matches!(request.json(), Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn public_path_adds_the_stage_only_on_execute_api_hosts() {
        let cases = [
            (
                Some("dev"),
                Some("abc.execute-api.eu-west-1.amazonaws.com"),
                "/dev/x",
            ),
            (
                Some("$default"),
                Some("abc.execute-api.eu-west-1.amazonaws.com"),
                "/x",
            ),
            (Some("dev"), Some("api.example.com"), "/x"),
            (Some("dev"), None, "/x"),
            (None, Some("abc.execute-api.eu-west-1.amazonaws.com"), "/x"),
        ];
        for (stage, domain, expected) in cases {
            let request = Request {
                stage: stage.map(str::to_owned),
                domain_name: domain.map(str::to_owned),
                ..Request::default()
            };
            assert_eq!(request.public_path("/x"), expected, "{stage:?} {domain:?}");
        }
    }

    #[test]
    fn query_keeps_repeated_keys() {
        let request = Request {
            query: vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
                ("a".into(), "3".into()),
            ],
            ..Request::default()
        };
        assert_eq!(request.query("a"), Some("1"));
        assert_eq!(request.query_all("a").collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(request.query("c"), None);
    }
}
