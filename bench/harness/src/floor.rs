//! The floor of the in-process cost: one `serde_json::from_str` pass over
//! the event into a borrowed struct of exactly the fields a request model
//! needs, for every event shape at once (REST v1, HTTP API v2 and ALB
//! fields in one struct), everything else skipped.
//!
//! Strings borrow from the payload where JSON allows it (no escapes);
//! header and query maps are lists of pairs built by small visitors, no
//! `HashMap`, no `HeaderMap`, nothing validated. No layer that reads these
//! fields can do less per request than this, so `bench-inproc` times it
//! beside the peers (it answers nothing, and its answer is not checked).

use std::borrow::Cow;
use std::fmt;
use std::hint::black_box;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// A map of single values as sent (`headers`, `queryStringParameters`).
pub type Pairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;
/// A map of lists as sent (`multiValueHeaders`, `multiValueQueryStringParameters`).
pub type MultiPairs<'a> = Vec<(Cow<'a, str>, Vec<Cow<'a, str>>)>;

/// The fields of an HTTP event that a request model reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    #[serde(borrow, default, deserialize_with = "text")]
    pub version: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub http_method: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub path: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub raw_path: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub raw_query_string: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "pairs")]
    pub headers: Pairs<'a>,
    #[serde(borrow, default, deserialize_with = "multi_pairs")]
    pub multi_value_headers: MultiPairs<'a>,
    #[serde(borrow, default, deserialize_with = "pairs")]
    pub query_string_parameters: Pairs<'a>,
    #[serde(borrow, default, deserialize_with = "multi_pairs")]
    pub multi_value_query_string_parameters: MultiPairs<'a>,
    #[serde(borrow, default, deserialize_with = "texts")]
    pub cookies: Vec<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub body: Option<Cow<'a, str>>,
    #[serde(default)]
    pub is_base64_encoded: Option<bool>,
    #[serde(borrow, default)]
    pub request_context: Option<Context<'a>>,
}

/// `requestContext`: REST's and HTTP API's fields, and whether ALB's `elb` is there.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Context<'a> {
    #[serde(borrow, default, deserialize_with = "text")]
    pub stage: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub request_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub domain_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub http_method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub identity: Option<Identity<'a>>,
    #[serde(borrow, default)]
    pub http: Option<Http<'a>>,
    #[serde(default)]
    pub elb: Option<IgnoredAny>,
    #[serde(borrow, default)]
    pub authorizer: Option<&'a RawValue>,
}

/// REST's `requestContext.identity`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity<'a> {
    #[serde(borrow, default, deserialize_with = "text")]
    pub source_ip: Option<Cow<'a, str>>,
}

/// HTTP API's `requestContext.http`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http<'a> {
    #[serde(borrow, default, deserialize_with = "text")]
    pub method: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub path: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub source_ip: Option<Cow<'a, str>>,
}

/// The one pass; panics on a payload that is not an HTTP event's JSON
/// (every benchmark event is one).
pub fn parse(payload: &str) -> Event<'_> {
    serde_json::from_str(payload).expect("an HTTP event")
}

/// What `bench-inproc` times: [`parse`], the result kept from the optimiser.
pub fn call(payload: &str) {
    black_box(parse(payload));
}

/// A JSON string, borrowed unless it has escapes. (`Cow<str>`'s own
/// `Deserialize` always copies; serde's `borrow` only helps a bare
/// `Cow<str>` field, not one in an `Option` or a `Vec`.)
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(StrVisitor)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Str<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Str(Cow::Owned(v)))
    }
}

fn text<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<Str<'a>>::deserialize(deserializer)?.map(|s| s.0))
}

fn texts<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Cow<'a, str>>, D::Error> {
    deserializer.deserialize_any(ListVisitor)
}

fn pairs<'de: 'a, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Pairs<'a>, D::Error> {
    deserializer.deserialize_any(PairsVisitor)
}

fn multi_pairs<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<MultiPairs<'a>, D::Error> {
    deserializer.deserialize_any(MultiPairsVisitor)
}

/// A list of strings, or `null` (none).
struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Vec<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Str(value)) = seq.next_element()? {
            list.push(value);
        }
        Ok(list)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

/// A list of strings as a map's value.
struct List<'a>(Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for List<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListVisitor).map(List)
    }
}

/// A map of strings, or `null` (none).
struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Pairs<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((Str(name), Str(value))) = map.next_entry()? {
            pairs.push((name, value));
        }
        Ok(pairs)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

/// A map of lists of strings, or `null` (none).
struct MultiPairsVisitor;

impl<'de> Visitor<'de> for MultiPairsVisitor {
    type Value = MultiPairs<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of lists of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((Str(name), List(values))) = map.next_entry()? {
            pairs.push((name, values));
        }
        Ok(pairs)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../../shared/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn reads_a_rest_v1_event() {
        let text = fixture("article-rest-v1-get-ping.json");
        let event = parse(&text);
        assert_eq!(event.http_method.as_deref(), Some("GET"));
        assert_eq!(event.path.as_deref(), Some("/ping"));
        assert!(!event.headers.is_empty());
        assert!(!event.multi_value_headers.is_empty());
        assert!(matches!(event.path, Some(Cow::Borrowed(_))));
        let context = event.request_context.expect("a context");
        assert!(context.stage.is_some() && context.request_id.is_some());
        assert!(context.identity.and_then(|i| i.source_ip).is_some());
        assert!(context.http.is_none() && context.elb.is_none());
    }

    #[test]
    fn reads_an_http_api_v2_event() {
        let text = fixture("http-v2-multi-value.json");
        let event = parse(&text);
        assert_eq!(event.version.as_deref(), Some("2.0"));
        assert!(event.raw_path.is_some() && event.raw_query_string.is_some());
        assert!(!event.cookies.is_empty());
        assert!(!event.query_string_parameters.is_empty());
        let context = event.request_context.expect("a context");
        assert!(context.stage.is_some() && context.request_id.is_some());
        let http = context.http.expect("http");
        assert!(http.method.is_some() && http.path.is_some() && http.source_ip.is_some());
    }

    #[test]
    fn reads_an_alb_event_and_an_authorizer() {
        let alb = fixture("alb-multi-value.json");
        let event = parse(&alb);
        assert!(event.request_context.expect("a context").elb.is_some());
        let rest = fixture("rest-v1-lambda-authorizer.json");
        let event = parse(&rest);
        assert!(
            event
                .request_context
                .expect("a context")
                .authorizer
                .is_some()
        );
    }

    #[test]
    fn escaped_strings_are_copied_the_rest_borrowed() {
        let event = parse(r#"{"path":"/plain","body":"{\"a\":1}","headers":null,"cookies":null}"#);
        assert!(matches!(event.path, Some(Cow::Borrowed("/plain"))));
        assert!(matches!(event.body, Some(Cow::Owned(ref b)) if b == r#"{"a":1}"#));
        assert!(event.headers.is_empty() && event.cookies.is_empty());
    }
}
