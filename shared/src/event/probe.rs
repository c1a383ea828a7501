//! Reading a payload before the full parse: which source sent it
//! ([`detect`]), and how many header fields it carries
//! ([`check_header_count`]). Both read only a few fields and skip the rest.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{NotHttpEvent, Source};
use crate::error::ApiError;

/// Most header fields an event may carry in `headers`, and separately in
/// `multiValueHeaders` (each value counts): more is a 400.
///
/// `http::HeaderMap` panics beyond 24,576 distinct names, and API Gateway
/// passes at most 10 KB of headers, so no real client comes near this.
pub const MAX_HEADER_FIELDS: usize = 1_000;

/// Implements `Deserialize` for `$type` through `deserialize_any` with
/// `$visitor`: the probes accept any JSON value where they expect one shape.
macro_rules! deserialize_any_with {
    ($type:ty, $visitor:ident) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any($visitor)
            }
        }
    };
}

/// The `visit_*` methods of JSON's scalars: a string, a boolean or a number
/// reads as `$scalar`, `null` as `$null`.
macro_rules! scalars_read_as {
    ($scalar:expr, null => $null:expr) => {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($scalar)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($null)
        }
    };
}

/// Skips every element of an array.
fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<usize, A::Error> {
    let mut count = 0usize;
    while seq.next_element::<IgnoredAny>()?.is_some() {
        count = count.saturating_add(1);
    }
    Ok(count)
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

deserialize_any_with!(ProbeContext, ProbeContextVisitor);

struct ProbeContextVisitor;

impl<'de> Visitor<'de> for ProbeContextVisitor {
    type Value = ProbeContext;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request context")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProbeContext, A::Error> {
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

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ProbeContext, A::Error> {
        skip_seq(seq).map(|_| ProbeContext::default())
    }

    scalars_read_as!(ProbeContext::default(), null => ProbeContext::default());
}

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

deserialize_any_with!(FieldCount, FieldCountVisitor);

struct FieldCountVisitor;

impl<'de> Visitor<'de> for FieldCountVisitor {
    type Value = FieldCount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("headers")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldCount, A::Error> {
        let mut count = 0usize;
        while map.next_key::<IgnoredAny>()?.is_some() {
            count = count.saturating_add(map.next_value::<ValueCount>()?.0);
        }
        Ok(FieldCount(count))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<FieldCount, A::Error> {
        skip_seq(seq).map(|_| FieldCount::default())
    }

    scalars_read_as!(FieldCount::default(), null => FieldCount::default());
}

/// How many header fields one value of a header object stands for.
struct ValueCount(usize);

deserialize_any_with!(ValueCount, ValueCountVisitor);

struct ValueCountVisitor;

impl<'de> Visitor<'de> for ValueCountVisitor {
    type Value = ValueCount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ValueCount, A::Error> {
        skip_seq(seq).map(ValueCount)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValueCount, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ValueCount(1))
    }

    scalars_read_as!(ValueCount(1), null => ValueCount(0));
}

/// Refuses an event with more than [`MAX_HEADER_FIELDS`] header fields
/// before the full parse (which would panic on an absurd count). The error
/// comes with whether `multiValueHeaders` has entries (ALB's response mode).
pub(super) fn check_header_count(payload: &str) -> Result<(), (bool, ApiError)> {
    let Ok(probe) = serde_json::from_str::<HeaderProbe>(payload) else {
        // Only a repeated `headers` / `multiValueHeaders` key gets here (the
        // payload is a JSON object): uncountable, so refused.
        tracing::warn!("refused an event whose headers cannot be counted");
        return Err((false, super::parse::malformed()));
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
