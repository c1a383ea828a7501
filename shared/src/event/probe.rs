//! Which source sent a payload ([`detect`]), from the few fields that tell
//! the sources apart, everything else skipped. The full pass
//! ([`super::parse`]) decides by the same [`Shape`]; it asks the probe
//! only when it cannot read the payload.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{NotHttpEvent, Source};

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

/// What tells the sources apart: whether there is a `requestContext` (and
/// in it a non-null `elb`, `http`), `version` `"2.0"`, a `rawPath`, an
/// `httpMethod` (non-null each).
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    pub(super) context: Option<(bool, bool)>,
    pub(super) version_2: bool,
    pub(super) raw_path: bool,
    pub(super) http_method: bool,
}

impl Shape {
    /// The source of an event of this shape.
    ///
    /// HTTP API v2 is checked before REST: cargo-lambda's v2 events also
    /// carry a stray top-level `httpMethod`.
    pub(super) fn source(self) -> Result<Source, NotHttpEvent> {
        let (elb, http) = self.context.unwrap_or_default();
        if elb {
            return Ok(Source::Alb { multi_value: false });
        }
        if self.version_2 || self.raw_path || http {
            return Ok(Source::HttpV2);
        }
        if self.http_method && self.context.is_some() {
            return Ok(Source::RestV1);
        }
        Err(NotHttpEvent::Unsupported)
    }
}

/// Tells which source sent `payload` (a JSON document).
pub fn detect(payload: &str) -> Result<Source, NotHttpEvent> {
    // serde would also read a struct from a JSON array: only objects are events.
    if !payload.trim_start().starts_with('{') {
        return Err(NotHttpEvent::of(payload));
    }
    let probe: Probe<'_> = serde_json::from_str(payload).map_err(|_| NotHttpEvent::of(payload))?;
    Shape {
        context: probe.request_context.map(|c| (c.elb, c.http)),
        version_2: probe.version.is_some_and(|v| v.get() == r#""2.0""#),
        raw_path: probe.raw_path.is_some(),
        http_method: probe.http_method.is_some(),
    }
    .source()
}
