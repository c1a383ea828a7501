//! The request model handlers see, the same whichever event source sent it.

use std::cell::RefCell;
use std::fmt;

use http::{HeaderMap, Method};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

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
    /// body, or one repeating a key inside an object (at any depth), is a
    /// 400. Nesting is bounded by `serde_json`'s recursion limit.
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
        parse_unique_keys(&self.body)
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

/// Longest part of a duplicate key quoted back in the 400 message.
const MAX_QUOTED_KEY_CHARS: usize = 100;

/// Parses `body` as one JSON document into a [`Value`], refusing a key that
/// appears twice in one object (where `serde_json` would keep the last).
///
/// Runs on `serde_json`'s own deserializer, so its recursion limit still
/// turns absurd nesting into an error instead of a stack overflow.
fn parse_unique_keys(body: &[u8]) -> Result<Value, ApiError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed = UniqueKeys(&duplicate)
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|error| match duplicate.into_inner() {
        Some(key) => ApiError::BadRequest(format!(
            "request body has a duplicate key \"{}\"",
            quoted_key(&key)
        )),
        None => ApiError::BadRequest(format!("request body is not valid JSON: {error}")),
    })
}

/// At most [`MAX_QUOTED_KEY_CHARS`] of a client's key, for a message.
fn quoted_key(key: &str) -> String {
    match key.char_indices().nth(MAX_QUOTED_KEY_CHARS) {
        Some((end, _)) => format!("{}...", &key[..end]),
        None => key.to_owned(),
    }
}

/// Deserializes any JSON value like `Value` does, but records the first
/// duplicate key it meets (in the cell) and stops there with an error.
#[derive(Clone, Copy)]
struct UniqueKeys<'a>(&'a RefCell<Option<String>>);

impl<'de> DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element_seed(self)? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let message = format!("duplicate key \"{}\"", quoted_key(&key));
                *self.0.borrow_mut() = Some(key);
                return Err(de::Error::custom(message));
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
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
        for body in [
            "[".repeat(100_000),
            "{\"a\":".repeat(100_000),
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ] {
            request.body = body.into_bytes();
            assert!(matches!(request.json(), Err(ApiError::BadRequest(_))));
        }
        // serde_json's limit (128 levels) still admits ordinary nesting.
        request.body = format!("{}1{}", "[".repeat(100), "]".repeat(100)).into_bytes();
        assert!(request.json().is_ok());
    }

    fn bad_request_message(body: &[u8]) -> String {
        let mut request = with_content_type("application/json");
        request.body = body.to_vec();
        match request.json() {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!(
                "{}: expected a 400, got {other:?}",
                String::from_utf8_lossy(body)
            ),
        }
    }

    #[test]
    fn duplicate_keys_are_a_400_at_any_depth() {
        let cases = [
            (r#"{"name":"A","name":"B"}"#, "name"),
            (r#"{"a":1,"b":2,"a":1}"#, "a"),
            (r#"{"outer":{"x":1,"x":2}}"#, "x"),
            (r#"[{"ok":1},{"y":[{"z":0,"z":0}]}]"#, "z"),
            (r#"{"":1,"":2}"#, ""),
            // The same key once JSON escapes are undone is the same key.
            (r#"{"email":"a@b.co","em\u0061il":"c@d.ee"}"#, "email"),
        ];
        for (body, key) in cases {
            assert_eq!(
                bad_request_message(body.as_bytes()),
                format!("request body has a duplicate key \"{key}\""),
                "{body}"
            );
        }
    }

    #[test]
    fn a_long_duplicate_key_is_quoted_shortened() {
        let key = "k".repeat(10_000);
        let message = bad_request_message(format!(r#"{{"{key}":1,"{key}":2}}"#).as_bytes());
        assert!(message.len() < 200, "{message}");
        assert!(message.starts_with("request body has a duplicate key \"kkk"));
        assert!(message.ends_with("...\""));
    }

    #[test]
    fn one_key_in_different_objects_is_fine() {
        let mut request = with_content_type("application/json");
        request.body = br#"{"a":{"k":1},"b":{"k":2},"c":[{"k":3},{"k":4}]}"#.to_vec();
        assert_eq!(request.json().expect("valid")["c"][1]["k"], 4);
    }

    #[test]
    fn parses_like_serde_json() {
        let bodies = [
            r#"{"name":"Ada","email":"ada@example.com"}"#,
            r#"{"n":null,"t":true,"f":false,"i":-5,"u":18446744073709551615,"x":1.5e3}"#,
            r#"["\u00e9\ud83d\ude00", {"nested": [[], {}]}, "tab\tquote\""]"#,
            " \n 42 \n",
            r#""just a string""#,
        ];
        for body in bodies {
            let mut request = with_content_type("application/json");
            request.body = body.as_bytes().to_vec();
            let expected: Value = serde_json::from_str(body).expect("valid JSON");
            assert_eq!(request.json().expect(body), expected, "{body}");
        }
    }

    /// Found by the `users_body` fuzz target (a difference, not a crash of
    /// the API): with its `raw_value` feature, `serde_json`'s own `Value`
    /// refuses an object whose first key is its private RawValue marker.
    /// Here every key is an ordinary key (then a 422 as an unknown field).
    #[test]
    fn serde_json_private_marker_keys_are_ordinary_keys() {
        for body in [
            r#"{"$serde_json::private::RawValue":"A","name":"B"}"#,
            r#"{"$serde_json::private::RawValue":1}"#,
            r#"{"$serde_json::private::Number":"1"}"#,
        ] {
            let mut request = with_content_type("application/json");
            request.body = body.as_bytes().to_vec();
            let value = request.json().expect(body);
            assert!(value.as_object().is_some_and(|o| !o.is_empty()), "{body}");
        }
    }

    #[test]
    fn malformed_bodies_are_a_400_with_a_plain_message() {
        let bodies: [&[u8]; 8] = [
            br#"{"a":1}{"b":2}"#,
            br#"{"a":1} trailing"#,
            b"{'a':1}",
            br#"{"a":1,}"#,
            br#""\ud800""#,
            b"1e400",
            b"{\"name\":\"\x00\"}",
            b"{\"name\":\"\xff\xfe\"}",
        ];
        for body in bodies {
            let message = bad_request_message(body);
            assert!(
                message.starts_with("request body is not valid JSON: "),
                "{}: {message}",
                String::from_utf8_lossy(body)
            );
        }
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
