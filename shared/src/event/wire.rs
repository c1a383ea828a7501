//! The event model both passes fill, and the reference pass: `serde_json`
//! reading every field a [`crate::Request`] needs, of every source at
//! once, borrowed from the payload where JSON allows it (a string without
//! escapes), everything else skipped. `scan` reads the events AWS sends
//! into the same [`Event`] without `serde`; this pass reads whatever it
//! declines, so its rules below are the rules.
//!
//! Header maps are read leniently, as API Gateway's own examples need (an
//! empty header name): an entry that is not a string, or a list of strings,
//! is dropped, and so is one whose name or value `http` refuses (when the
//! map is built, [`Headers::build_into`]). Every field is counted on the
//! way, so an absurd count is refused ([`MAX_HEADER_FIELDS`]) without
//! keeping more than the limit. Any other field of the wrong type fails the
//! pass: the caller then answers with a 400 in the source's shape.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::headers::{RequestHeaders, valid_name, valid_value};

/// Most header fields an event may carry in `headers`, and separately in
/// `multiValueHeaders` (each value counts): more is a 400.
///
/// `http::HeaderMap` panics beyond 24,576 distinct names, and API Gateway
/// passes at most 10 KB of headers, so no real client comes near this.
pub const MAX_HEADER_FIELDS: usize = 1_000;

/// The fields of an HTTP event that the request model reads: REST v1's,
/// HTTP API v2's and ALB's, in one struct.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Event<'a> {
    /// Its JSON text (`"2.0"`, quotes included).
    #[serde(borrow, default, deserialize_with = "raw")]
    pub(super) version: Option<&'a str>,
    #[serde(borrow, default)]
    pub(super) raw_path: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) raw_query_string: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) http_method: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) path: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) headers: Headers<'a>,
    #[serde(borrow, default)]
    pub(super) multi_value_headers: Headers<'a>,
    #[serde(borrow, default)]
    pub(super) query_string_parameters: Option<Query<'a>>,
    #[serde(borrow, default)]
    pub(super) multi_value_query_string_parameters: Option<Query<'a>>,
    #[serde(borrow, default)]
    pub(super) cookies: Option<Vec<Str<'a>>>,
    /// Unescaped (still base64 when `isBase64Encoded` says so).
    #[serde(borrow, default, deserialize_with = "bytes")]
    pub(super) body: Option<Cow<'a, [u8]>>,
    #[serde(default)]
    pub(super) is_base64_encoded: Option<bool>,
    #[serde(borrow, default, deserialize_with = "object")]
    pub(super) request_context: Option<Context<'a>>,
}

/// `requestContext`: REST's and HTTP API's fields, and whether ALB's `elb`
/// is there.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Context<'a> {
    #[serde(default)]
    pub(super) elb: Option<IgnoredAny>,
    #[serde(borrow, default, deserialize_with = "object")]
    pub(super) http: Option<HttpDescription<'a>>,
    #[serde(borrow, default)]
    pub(super) http_method: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) stage: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) request_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) domain_name: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "object")]
    pub(super) identity: Option<Identity<'a>>,
    /// Its JSON text, read only when there, in the shape of the source
    /// that sent it.
    #[serde(borrow, default, deserialize_with = "raw")]
    pub(super) authorizer: Option<&'a str>,
}

/// HTTP API's `requestContext.http`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HttpDescription<'a> {
    #[serde(borrow, default)]
    pub(super) method: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) path: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(super) source_ip: Option<Str<'a>>,
}

/// REST's `requestContext.identity`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Identity<'a> {
    #[serde(borrow, default)]
    pub(super) source_ip: Option<Str<'a>>,
}

/// A struct read from a JSON object only; `null` is none. (A derived
/// struct also reads an array, by position: `"requestContext": ["x"]`
/// would be an ALB event's context, its `elb` the `"x"`.)
fn object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectVisitor<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(Some)
        }
    }

    deserializer.deserialize_any(ObjectVisitor(PhantomData))
}

/// A string's bytes, borrowed from the payload unless it has escapes;
/// `null` is none.
fn bytes<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, [u8]>>, D::Error> {
    Ok(
        Option::<Str<'a>>::deserialize(deserializer)?.map(|text| match text.0 {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        }),
    )
}

/// Any JSON value, as its text in the payload; `null` is none.
fn raw<'de: 'a, 'a, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'a str>, D::Error> {
    Ok(Option::<&'de RawValue>::deserialize(deserializer)?.map(RawValue::get))
}

/// A JSON string, borrowed from the payload unless it has escapes.
///
/// (`Option<Cow<str>>` never borrows with serde's derive: hence this type.)
#[derive(Debug)]
pub(super) struct Str<'a>(pub(super) Cow<'a, str>);

impl<'a> Str<'a> {
    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    pub(super) fn into_string(self) -> String {
        self.0.into_owned()
    }

    /// Whether `http` takes it as a header value ([`valid_value`]). A
    /// string borrowed from the payload had no escape, and JSON holds no
    /// control character as it is: only DEL can be in it.
    fn is_header_value(&self) -> bool {
        match &self.0 {
            // Every byte looked at, no branch on one (`contains` stops at
            // the first, one mispredicted branch in a few a value).
            Cow::Borrowed(text) => !text.bytes().fold(false, |del, b| del | (b == 0x7f)),
            Cow::Owned(text) => valid_value(text),
        }
    }
}

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

/// A header map as sent: each entry's name with its value (`headers`) or
/// values (`multiValueHeaders`), nothing validated yet, and how many
/// fields the map had in all.
#[derive(Debug, Default)]
pub(super) struct Headers<'a> {
    pub(super) entries: Vec<(Str<'a>, Values<'a>)>,
    /// Every field the map carried, kept or not: one per string, one per
    /// element of a list, one per any other value but `null`.
    pub(super) fields: usize,
}

/// The value of a header entry: one string, or a list of them (a list of
/// one, the usual case, without a `Vec` of its own).
#[derive(Debug)]
pub(super) enum Values<'a> {
    One(Str<'a>),
    ListOfOne(Str<'a>),
    List(Vec<Str<'a>>),
}

impl<'a> Values<'a> {
    fn as_slice(&self) -> &[Str<'a>] {
        match self {
            Values::One(value) | Values::ListOfOne(value) => std::slice::from_ref(value),
            Values::List(values) => values,
        }
    }
}

impl Headers<'_> {
    /// Whether the map carried more fields than [`MAX_HEADER_FIELDS`].
    pub(super) fn too_many(&self) -> bool {
        self.fields > MAX_HEADER_FIELDS
    }

    /// At most how many fields and bytes of names and values
    /// [`Headers::build_into`] adds.
    pub(super) fn size(&self) -> (usize, usize) {
        self.entries
            .iter()
            .fold((0, 0), |(fields, bytes), (name, values)| {
                let values = values.as_slice();
                let len = name.as_str().len();
                let bytes = values.iter().fold(bytes, |b, v| b + len + v.as_str().len());
                (fields + values.len(), bytes)
            })
    }

    /// Adds the entries `http` accepts to `into`: a single value replaces
    /// what its name had, a list is appended. With `only_missing`, an entry
    /// whose name `into` already holds is skipped, and only the first value
    /// of each other is taken (a REST or ALB event's `headers`, second to
    /// its `multiValueHeaders`). An entry with one value `http` refuses is
    /// dropped whole.
    pub(super) fn build_into(&self, into: &mut RequestHeaders, only_missing: bool) {
        let mut hint = 0;
        for (name, values) in &self.entries {
            let name = name.as_str();
            // A name `http` refuses is never in `into`: asking first spares
            // the check for the usual name already there.
            if (only_missing && into.contains(name, &mut hint)) || !valid_name(name) {
                continue;
            }
            let (values, replaces) = match (values, only_missing) {
                (Values::One(value), _) => (std::slice::from_ref(value), true),
                (list, true) => (&list.as_slice()[..list.as_slice().len().min(1)], true),
                (list, false) => (list.as_slice(), false),
            };
            if values.iter().all(Str::is_header_value) {
                for value in values {
                    into.push(name, value.as_str(), replaces);
                }
            }
        }
    }

    /// The headers of this map alone; see [`Headers::build_into`].
    pub(super) fn build(&self) -> RequestHeaders {
        let (fields, bytes) = self.size();
        let mut headers = RequestHeaders::with_capacity(fields, bytes);
        self.build_into(&mut headers, false);
        headers
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Headers<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(HeadersVisitor)
    }
}

struct HeadersVisitor;

impl<'de> Visitor<'de> for HeadersVisitor {
    type Value = Headers<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("headers")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut headers = Headers::default();
        while let Some(name) = map.next_key::<Str<'de>>()? {
            if headers.entries.capacity() == 0 {
                // One allocation for the usual event (API Gateway's carry a
                // few dozen headers at most), none for an empty map.
                headers.entries.reserve(32);
            }
            let room = MAX_HEADER_FIELDS.saturating_sub(headers.fields);
            let (fields, values) = map.next_value_seed(HeaderValueSeed { room })?;
            headers.fields = headers.fields.saturating_add(fields);
            if let Some(values) = values
                && headers.fields <= MAX_HEADER_FIELDS
            {
                headers.entries.push((name, values));
            }
        }
        Ok(headers)
    }

    /// Not a map (an array, a string...): no headers.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Headers::default())
    }

    scalars_read_as!(Headers::default(), null => Headers::default());
}

/// One header entry's value: how many fields it counts for, and the
/// value(s) when usable (a string, or a list of strings no longer than
/// `room`).
struct HeaderValueSeed {
    room: usize,
}

impl<'de> DeserializeSeed<'de> for HeaderValueSeed {
    type Value = (usize, Option<Values<'de>>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeaderValueSeed {
    type Value = (usize, Option<Values<'de>>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok((1, Some(Values::One(Str(Cow::Borrowed(v))))))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok((1, Some(Values::One(Str(Cow::Owned(v.to_owned()))))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut fields = 0usize;
        let (mut first, mut more, mut usable) = (None, Vec::new(), true);
        while let Some(element) = seq.next_element::<Element<'de>>()? {
            fields = fields.saturating_add(1);
            match element {
                Element::Str(value) if usable && fields <= self.room => match first {
                    None => first = Some(value),
                    Some(_) => more.push(value),
                },
                _ => usable = false,
            }
        }
        let values = usable.then(|| match first {
            None => Values::List(Vec::new()),
            Some(one) if more.is_empty() => Values::ListOfOne(one),
            Some(one) => {
                more.insert(0, one);
                Values::List(more)
            }
        });
        Ok((fields, values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok((1, None))
    }

    scalars_read_as!(@not_str (1, None), null => (0, None));
}

/// An element of a header's list: a string, or anything else (skipped).
enum Element<'a> {
    Str(Str<'a>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Element<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Element::Str(Str(Cow::Borrowed(v))))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Element::Str(Str(Cow::Owned(v.to_owned()))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Element::Other)
    }

    scalars_read_as!(@not_str Element::Other, null => Element::Other);
}

/// A query parameter map as sent, in order: each key with its string or
/// list of strings. Any other value fails the pass.
#[derive(Debug)]
pub(super) struct Query<'a> {
    pub(super) entries: Vec<(Str<'a>, QueryValue<'a>)>,
}

/// A query parameter's value: one string, or a list of them.
#[derive(Debug)]
pub(super) enum QueryValue<'a> {
    One(Str<'a>),
    Many(Vec<Str<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for QueryValue<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QueryValueVisitor)
    }
}

struct QueryValueVisitor;

impl<'de> Visitor<'de> for QueryValueVisitor {
    type Value = QueryValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(QueryValue::One(Str(Cow::Borrowed(v))))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(QueryValue::One(Str(Cow::Owned(v.to_owned()))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element::<Str<'de>>()? {
            values.push(value);
        }
        Ok(QueryValue::Many(values))
    }
}

impl Query<'_> {
    /// Whether the map has no key at all (a key with an empty list counts).
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every (key, value), in order; a key with an empty list gives none.
    /// With `split_commas` (HTTP API's map, which joins repeated keys with
    /// commas) one string stands for each of its comma-separated values.
    pub(super) fn pairs(self, split_commas: bool) -> Vec<(String, String)> {
        let mut pairs = Vec::with_capacity(self.entries.len());
        for (key, value) in self.entries {
            match value {
                QueryValue::One(value) if split_commas => pairs.extend(
                    value
                        .as_str()
                        .split(',')
                        .map(|v| (key.as_str().to_owned(), v.to_owned())),
                ),
                QueryValue::One(value) => pairs.push((key.into_string(), value.into_string())),
                QueryValue::Many(values) => pairs.extend(
                    values
                        .into_iter()
                        .map(|v| (key.as_str().to_owned(), v.into_string())),
                ),
            }
        }
        pairs
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Query<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(QueryVisitor)
    }
}

struct QueryVisitor;

impl<'de> Visitor<'de> for QueryVisitor {
    type Value = Query<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("query string parameters")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<Str<'de>, QueryValue<'de>>()? {
            entries.push(entry);
        }
        Ok(Query { entries })
    }
}

/// The method as `aws_lambda_events` reads it (empty is `GET`); `None`
/// when `http` refuses it (`GET POST`).
pub(super) fn method(text: &str) -> Option<http::Method> {
    if text.is_empty() {
        return Some(http::Method::GET);
    }
    http::Method::from_bytes(text.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    /// Expected (name, value) pairs.
    type Pairs = &'static [(&'static str, &'static str)];

    fn headers(json: &str) -> Headers<'_> {
        serde_json::from_str(json).expect("headers always parse")
    }

    fn pairs(map: &HeaderMap) -> Vec<(String, String)> {
        map.iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_owned()))
            .collect()
    }

    #[test]
    fn header_maps_keep_what_http_accepts_and_count_everything() {
        // (map as sent, fields counted, headers kept)
        let cases: [(&str, usize, Pairs); 13] = [
            (
                r#"{"Host":"a","X-Y":"b"}"#,
                2,
                &[("host", "a"), ("x-y", "b")],
            ),
            (r#"{"":"empty name","ok":"1"}"#, 2, &[("ok", "1")]),
            (r#"{"x":"a\u0000b","ok":"1"}"#, 2, &[("ok", "1")]),
            // DEL as it is (a borrowed value) and escaped; a tab, only
            // ever escaped in JSON, is a value's one control character.
            ("{\"x\":\"a\u{7f}b\",\"ok\":\"1\"}", 2, &[("ok", "1")]),
            (r#"{"x":"a\u007fb","ok":"1"}"#, 2, &[("ok", "1")]),
            (r#"{"x":"a\tb"}"#, 1, &[("x", "a\tb")]),
            (
                r#"{"x y":"1","x(":"2","é":"3","ok":"4"}"#,
                4,
                &[("ok", "4")],
            ),
            (r#"{"x":["1","2"],"y":[]}"#, 2, &[("x", "1"), ("x", "2")]),
            (r#"{"x":["1",2],"y":["3"]}"#, 3, &[("y", "3")]),
            (r#"{"x":{"a":1},"y":5,"z":true,"n":null}"#, 3, &[]),
            (r#"["a","b"]"#, 0, &[]),
            ("null", 0, &[]),
            (r#""text""#, 0, &[]),
        ];
        for (json, fields, kept) in cases {
            let parsed = headers(json);
            assert_eq!(parsed.fields, fields, "{json}");
            let expected: Vec<(String, String)> = kept
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(pairs(parsed.build().map()), expected, "{json}");
        }
    }

    #[test]
    fn past_the_limit_fields_are_counted_not_kept() {
        let many: String = (0..MAX_HEADER_FIELDS + 5)
            .map(|n| format!(r#""x-{n}":"v""#))
            .collect::<Vec<_>>()
            .join(",");
        let json = format!("{{{many}}}");
        let parsed = headers(&json);
        assert!(parsed.too_many());
        assert_eq!(parsed.fields, MAX_HEADER_FIELDS + 5);
        assert_eq!(parsed.entries.len(), MAX_HEADER_FIELDS);
    }

    #[test]
    fn single_values_fill_in_only_names_the_multi_value_map_lacks() {
        let multi = headers(r#"{"accept":["a","b"]}"#);
        let single = headers(r#"{"Accept":"b","host":"h","x":["1","2"]}"#);
        let mut headers = multi.build();
        single.build_into(&mut headers, true);
        assert_eq!(
            pairs(headers.map()),
            [("accept", "a"), ("accept", "b"), ("host", "h"), ("x", "1")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn strings_are_borrowed_unless_escaped() {
        let event: Event<'_> =
            serde_json::from_str(r#"{"path":"/plain","body":"a\"b"}"#).expect("parses");
        assert!(matches!(
            event.path.map(|p| p.0),
            Some(Cow::Borrowed("/plain"))
        ));
        assert!(matches!(event.body, Some(Cow::Owned(b)) if b == b"a\"b"));
    }

    #[test]
    fn query_maps_keep_the_order_sent() {
        let cases: [(&str, bool, Pairs); 4] = [
            (r#"{"b":"1","a":"2"}"#, false, &[("b", "1"), ("a", "2")]),
            (
                r#"{"t":["x","y"],"e":[]}"#,
                false,
                &[("t", "x"), ("t", "y")],
            ),
            (r#"{"t":"x,y"}"#, true, &[("t", "x"), ("t", "y")]),
            (r#"{"t":"x,y"}"#, false, &[("t", "x,y")]),
        ];
        for (json, split, expected) in cases {
            let query: Query<'_> = serde_json::from_str(json).expect("parses");
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(query.pairs(split), expected, "{json}");
        }
        for wrong in [r#"{"a":5}"#, r#"{"a":[5]}"#, r#"["a"]"#] {
            assert!(serde_json::from_str::<Query<'_>>(wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn methods_read_as_aws_lambda_events_reads_them() {
        assert_eq!(method(""), Some(http::Method::GET));
        assert_eq!(method("PATCH"), Some(http::Method::PATCH));
        assert_eq!(method("get").map(|m| m.to_string()), Some("get".into()));
        assert_eq!(method("GET POST"), None);
    }
}
