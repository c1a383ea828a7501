//! The request model handlers see, the same whichever event source sent it.

use std::fmt;

use http::Method;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::headers::RequestHeaders;

/// An HTTP request adapted from a Lambda event.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The method (`HEAD` reaches a GET handler as `HEAD`).
    pub method: Method,
    /// The API's own path, percent-decoded once: never with the stage or
    /// a custom domain's base path in front.
    pub path: String,
    /// What the client's URL has in front of [`Request::path`]: the named
    /// stage on the `execute-api` host (`/dev`), the base path on a custom
    /// domain with a mapping (`/orders`, `API_BASE_PATH`), else nothing.
    pub public_prefix: String,
    /// Headers, as sent: [`RequestHeaders::get`] reads them as they are,
    /// [`RequestHeaders::map`] gives an `http::HeaderMap`.
    pub headers: RequestHeaders,
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
    /// The authenticated caller: from API Gateway's authorizer context, or
    /// from the bearer token the function verified itself. Always set when
    /// the route requires a scope (and the caller has it).
    pub principal: Option<Principal>,
}

impl Request {
    /// The first value of a header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
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

    /// The body deserialised straight into `T`, after checking it is
    /// declared as JSON; no intermediate tree is built, so what a body costs
    /// in memory is what `T` keeps of it.
    ///
    /// Missing or non-JSON `content-type` is a 415; an empty or malformed
    /// body is a 400, and so is a key repeated inside one object: derived
    /// structs refuse a repeated field, and [`IgnoredUnique`] (for values a
    /// type skips) and [`KeySet`] (for hand-written visitors) refuse any
    /// repeated key. Any other error `T` raises (a number where it wants a
    /// string...) is a 422 on `body`. Nesting is bounded by `serde_json`'s
    /// recursion limit.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
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
        let mut deserializer = serde_json::Deserializer::from_slice(&self.body);
        T::deserialize(&mut deserializer)
            .and_then(|value| deserializer.end().map(|()| value))
            .map_err(body_error)
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

    /// The path a client must use to reach `path` of this API from outside:
    /// `path` behind the prefix this request came with
    /// ([`Request::public_prefix`]). On the `execute-api` host of a named
    /// stage that is the stage (`/dev/api/v1/users/1`); on a custom domain
    /// the base path mapping (`/orders/api/v1/users/1`); behind `$default`,
    /// a domain without a mapping or a local emulator, nothing. Use it for
    /// `Location` headers and links.
    pub fn public_path(&self, path: &str) -> String {
        format!("{}{path}", self.public_prefix)
    }
}

/// Longest part of a duplicate key quoted back in the 400 message.
const MAX_QUOTED_KEY_CHARS: usize = 100;

/// How a repeated key is reported by the visitors of this module (and by
/// serde's derived structs, as ``duplicate field `name` ``).
const DUPLICATE_KEY: &str = "duplicate key \"";
const DUPLICATE_FIELD: &str = "duplicate field `";

/// The error a visitor raises for `key` repeated in one object; `json`
/// answers it with a 400 naming the key.
pub fn duplicate_key<E: de::Error>(key: &str) -> E {
    E::custom(format!("{DUPLICATE_KEY}{}\"", quoted_key(key)))
}

/// The answer to a body `serde_json` or the target type refused.
fn body_error(error: serde_json::Error) -> ApiError {
    if error.classify() != Category::Data {
        return ApiError::BadRequest(format!("request body is not valid JSON: {error}"));
    }
    // Data errors carry the position too; the message alone reads better.
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    let message = text.strip_suffix(&position).unwrap_or(&text);
    if let Some(key) = message.strip_prefix(DUPLICATE_KEY) {
        ApiError::BadRequest(format!("request body has a {DUPLICATE_KEY}{key}"))
    } else if let Some(field) = message
        .strip_prefix(DUPLICATE_FIELD)
        .and_then(|rest| rest.strip_suffix('`'))
    {
        ApiError::BadRequest(format!(
            "request body has a {DUPLICATE_KEY}{}\"",
            quoted_key(field)
        ))
    } else {
        ApiError::Validation(vec![FieldError::new("body", message)])
    }
}

/// At most [`MAX_QUOTED_KEY_CHARS`] of a client's key, for a message.
fn quoted_key(key: &str) -> String {
    match key.char_indices().nth(MAX_QUOTED_KEY_CHARS) {
        Some((end, _)) => format!("{}...", &key[..end]),
        None => key.to_owned(),
    }
}

/// The keys of one JSON object, for a hand-written visitor that must
/// refuse a repeated key: read each key with [`KeySet::next_key`], call
/// [`KeySet::finish`] after the last value.
///
/// Keys are kept in one buffer (8 bytes of bookkeeping each) and compared
/// once, sorted, at the end of the object, so an object of a million short
/// keys costs a few megabytes, not a hash set of strings.
#[derive(Debug, Default)]
pub struct KeySet {
    text: String,
    /// `(start, end)` of each key in `text`, in document order.
    spans: Vec<(u32, u32)>,
}

impl KeySet {
    /// Reads the next key of `map` (unescaped), or `None` after the last.
    pub fn next_key<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
    ) -> Result<Option<&str>, A::Error> {
        let start = self.text.len();
        if map.next_key_seed(KeyInto(&mut self.text))?.is_none() {
            return Ok(None);
        }
        let too_long = || de::Error::custom("request body is too large");
        let span = (
            u32::try_from(start).map_err(|_| too_long())?,
            u32::try_from(self.text.len()).map_err(|_| too_long())?,
        );
        self.spans.push(span);
        Ok(Some(&self.text[start..]))
    }

    /// Refuses the object when a key appeared twice, naming the key whose
    /// second appearance comes first.
    pub fn finish<E: de::Error>(mut self) -> Result<(), E> {
        let text = &self.text;
        let key = |(start, end): (u32, u32)| &text[start as usize..end as usize];
        // Equal keys end up side by side, in document order.
        self.spans
            .sort_unstable_by(|a, b| key(*a).cmp(key(*b)).then(a.0.cmp(&b.0)));
        let repeated = self
            .spans
            .windows(2)
            .filter(|pair| key(pair[0]) == key(pair[1]))
            .map(|pair| pair[1])
            .min_by_key(|span| span.0);
        match repeated {
            Some(span) => Err(duplicate_key(key(span))),
            None => Ok(()),
        }
    }
}

/// Appends a key, unescaped, to a [`KeySet`]'s buffer.
struct KeyInto<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for KeyInto<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<(), E> {
        self.0.push_str(key);
        Ok(())
    }
}

/// Any JSON value, read and dropped, refusing a key repeated in one object
/// at any depth: for the parts of a body a type does not keep (unknown
/// fields, a value of the wrong type). Numbers and strings are checked as
/// `serde_json::Value` would check them, so what it accepts is what a
/// `Value` would accept; only object keys are kept, while their object is
/// being read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IgnoredUnique;

impl<'de> Deserialize<'de> for IgnoredUnique {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IgnoredUnique)
    }
}

impl<'de> Visitor<'de> for IgnoredUnique {
    type Value = IgnoredUnique;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_none<E>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self, D::Error> {
        IgnoredUnique::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredUnique>()?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut keys = KeySet::default();
        while keys.next_key(&mut map)?.is_some() {
            map.next_value::<IgnoredUnique>()?;
        }
        keys.finish()?;
        Ok(self)
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
            .map_mut()
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

    /// A typed body, as a handler declares one.
    #[derive(Debug, PartialEq, Deserialize)]
    struct Named {
        name: String,
        #[serde(default)]
        extra: Option<IgnoredUnique>,
    }

    fn with_body(body: &[u8]) -> Request {
        let mut request = with_content_type("application/json");
        request.body = body.to_vec();
        request
    }

    #[test]
    fn json_body_errors() {
        let mut request = with_content_type("application/json");
        assert!(matches!(
            request.json::<Named>(),
            Err(ApiError::BadRequest(_))
        ));
        request.body = b"{\"a\":".to_vec();
        assert!(matches!(
            request.json::<Named>(),
            Err(ApiError::BadRequest(_))
        ));
        request.body = b"{\"name\":\"Ada\"}".to_vec();
        assert_eq!(request.json::<Named>().expect("valid").name, "Ada");
        let mut plain = with_content_type("text/plain");
        plain.body = b"{}".to_vec();
        assert!(matches!(
            plain.json::<Named>(),
            Err(ApiError::UnsupportedMediaType(_))
        ));
    }

    #[test]
    fn what_the_type_refuses_is_a_422_on_body() {
        for body in [
            r#"{"name":5}"#,
            r#"{}"#,
            r#"[1]"#,
            r#"{"name":"A","extra":1e400}"#,
        ] {
            match with_body(body.as_bytes()).json::<Named>() {
                Err(ApiError::Validation(errors)) => {
                    assert_eq!(errors.len(), 1, "{body}");
                    assert_eq!(errors[0].field, "body", "{body}");
                    assert!(!errors[0].message.contains(" at line "), "{body}");
                }
                // A number out of range is refused by the parser itself.
                Err(ApiError::BadRequest(message)) if body.contains("1e400") => {
                    assert!(message.starts_with("request body is not valid JSON"));
                }
                other => panic!("{body}: expected a 422, got {other:?}"),
            }
        }
    }

    #[test]
    fn deeply_nested_json_is_a_400_not_a_stack_overflow() {
        for body in [
            "[".repeat(100_000),
            "{\"a\":".repeat(100_000),
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        ] {
            let request = with_body(body.as_bytes());
            assert!(matches!(
                request.json::<IgnoredUnique>(),
                Err(ApiError::BadRequest(_))
            ));
        }
        // serde_json's limit (128 levels) still admits ordinary nesting.
        let body = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(with_body(body.as_bytes()).json::<IgnoredUnique>().is_ok());
    }

    fn bad_request_message(body: &[u8]) -> String {
        match with_body(body).json::<IgnoredUnique>() {
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
            // Two keys repeated: the one repeated first is named.
            (r#"{"b":1,"a":1,"a":2,"b":2}"#, "a"),
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
    fn a_derived_struct_refuses_a_repeated_field_the_same_way() {
        let body = br#"{"name":"A","name":"B"}"#;
        match with_body(body).json::<Named>() {
            Err(ApiError::BadRequest(message)) => {
                assert_eq!(message, "request body has a duplicate key \"name\"");
            }
            other => panic!("expected a 400, got {other:?}"),
        }
        let nested = br#"{"name":"A","extra":{"k":[{"z":0,"z":1}]}}"#;
        assert!(matches!(
            with_body(nested).json::<Named>(),
            Err(ApiError::BadRequest(m)) if m == "request body has a duplicate key \"z\""
        ));
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
        let body = br#"{"a":{"k":1},"b":{"k":2},"c":[{"k":3},{"k":4}]}"#;
        assert!(with_body(body).json::<IgnoredUnique>().is_ok());
    }

    /// `IgnoredUnique` accepts exactly what `serde_json::Value` accepts
    /// (duplicate keys aside).
    #[test]
    fn accepts_what_serde_json_accepts() {
        let bodies = [
            r#"{"name":"Ada","email":"ada@example.com"}"#,
            r#"{"n":null,"t":true,"f":false,"i":-5,"u":18446744073709551615,"x":1.5e3}"#,
            r#"["\u00e9\ud83d\ude00", {"nested": [[], {}]}, "tab\tquote\""]"#,
            " \n 42 \n",
            r#""just a string""#,
            r#"{"a":1}{"b":2}"#,
            r#"{"a":1,}"#,
            r#""\ud800""#,
            "1e400",
            "{'a':1}",
            "[1,2",
        ];
        for body in bodies {
            let ours = with_body(body.as_bytes()).json::<IgnoredUnique>().is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(body).is_ok();
            assert_eq!(ours, theirs, "{body}");
        }
    }

    /// Found by the `users_body` fuzz target when bodies went through
    /// `Value`: with its `raw_value` feature, `serde_json`'s own `Value`
    /// refuses an object whose first key is its private RawValue marker.
    /// Here every key is an ordinary key (then a 422 as an unknown field).
    #[test]
    fn serde_json_private_marker_keys_are_ordinary_keys() {
        for body in [
            r#"{"$serde_json::private::RawValue":"A","name":"B"}"#,
            r#"{"$serde_json::private::RawValue":1}"#,
            r#"{"$serde_json::private::Number":"1"}"#,
        ] {
            assert!(
                with_body(body.as_bytes()).json::<IgnoredUnique>().is_ok(),
                "{body}"
            );
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
    fn public_path_puts_the_prefix_back() {
        for (prefix, expected) in [
            ("", "/x"),
            ("/dev", "/dev/x"),
            ("/v1/orders", "/v1/orders/x"),
        ] {
            let request = Request {
                public_prefix: prefix.to_owned(),
                ..Request::default()
            };
            assert_eq!(request.public_path("/x"), expected, "{prefix}");
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
