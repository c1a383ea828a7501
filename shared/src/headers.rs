//! A request's headers, kept as the event sent them and made into an
//! `http::HeaderMap` only when a handler asks for one.
//!
//! The event adapter copies the fields that `http` accepts into one string
//! (no allocation per name or value, nothing hashed) in the order a
//! `HeaderMap` would take them. [`RequestHeaders::get`] reads that list as
//! the map would answer; [`RequestHeaders::map`] builds the map the first
//! time it is called. A `/ping` that reads `Origin` and nothing else never
//! builds it.

use std::fmt;
use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue};

/// Headers of one request: lookups are case-insensitive, as `HeaderMap`'s.
#[derive(Clone, Default)]
pub struct RequestHeaders {
    /// Every kept name and value, one after the other.
    text: String,
    /// In map order: a field that replaces drops what its name had so far
    /// (`HeaderMap::insert`), the others add a value (`append`).
    fields: Vec<Field>,
    /// Built on first use; from then on the only truth ([`Self::map_mut`]).
    /// Boxed: a request moves from the event to its handler several times,
    /// and seldom builds the map.
    map: OnceLock<Box<HeaderMap>>,
}

#[derive(Clone, Copy)]
struct Field {
    name: (usize, usize),
    value: (usize, usize),
    replaces: bool,
}

impl RequestHeaders {
    /// Room for `fields` fields of `bytes` bytes of names and values.
    pub(crate) fn with_capacity(fields: usize, bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            fields: Vec::with_capacity(fields),
            map: OnceLock::new(),
        }
    }

    /// Adds a field `http` accepts ([`valid_name`], [`valid_value`]):
    /// `replaces` as `HeaderMap::insert`, else as `append`.
    pub(crate) fn push(&mut self, name: &str, value: &str, replaces: bool) {
        debug_assert!(valid_name(name) && valid_value(value));
        let name = self.append_text(name);
        let value = self.append_text(value);
        self.fields.push(Field {
            name,
            value,
            replaces,
        });
    }

    fn append_text(&mut self, text: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(text);
        (start, self.text.len())
    }

    fn name_of(&self, field: &Field) -> &str {
        &self.text[field.name.0..field.name.1]
    }

    /// Whether `field` is named `name`, ASCII case ignored; the length is
    /// compared before the name is sliced out.
    fn is_named(&self, field: &Field, name: &str) -> bool {
        field.name.1 - field.name.0 == name.len() && {
            let field = self.name_of(field);
            // Spelled alike (the usual case) is one memcmp.
            field == name || field.eq_ignore_ascii_case(name)
        }
    }

    fn value_of(&self, field: &Field) -> &str {
        &self.text[field.value.0..field.value.1]
    }

    /// Whether any field has this name (ASCII case ignored). `hint` is
    /// where to look first, and becomes the field after the one found: a
    /// map that repeats another's names in the same order (a REST event's
    /// `headers` after its `multiValueHeaders`) is then read in one pass.
    pub(crate) fn contains(&self, name: &str, hint: &mut usize) -> bool {
        if let Some(map) = self.map.get() {
            return map.contains_key(name);
        }
        let start = (*hint).min(self.fields.len());
        let found = (start..self.fields.len())
            .chain(0..start)
            .find(|&i| self.is_named(&self.fields[i], name));
        if let Some(i) = found {
            *hint = i + 1;
        }
        found.is_some()
    }

    /// How many values there are, as `HeaderMap::len` counts them (builds
    /// the map).
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether there are no headers at all.
    pub fn is_empty(&self) -> bool {
        self.map
            .get()
            .map_or(self.fields.is_empty(), |map| map.is_empty())
    }

    /// The first value of `name` (ASCII case ignored), if it is visible
    /// ASCII: what `HeaderMap::get` and `HeaderValue::to_str` give.
    pub fn get(&self, name: &str) -> Option<&str> {
        if let Some(map) = self.map.get() {
            return map.get(name).and_then(|v| v.to_str().ok());
        }
        // The first value left standing: the last field that replaced,
        // else the first one added.
        let mut first = None;
        for field in &self.fields {
            if self.is_named(field, name) && (field.replaces || first.is_none()) {
                first = Some(field);
            }
        }
        first
            .map(|field| self.value_of(field))
            .filter(|value| value.bytes().all(visible))
    }

    /// The headers as an `http::HeaderMap`, built on the first call.
    pub fn map(&self) -> &HeaderMap {
        self.map.get_or_init(|| Box::new(self.build()))
    }

    /// The map the fields make.
    fn build(&self) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(self.fields.len());
        for field in &self.fields {
            // Checked on the way in: neither fails.
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(self.name_of(field).as_bytes()),
                HeaderValue::from_str(self.value_of(field)),
            ) else {
                continue;
            };
            if field.replaces {
                map.insert(name, value);
            } else {
                map.append(name, value);
            }
        }
        map
    }

    /// The map, to change: built first if need be, and what every later
    /// lookup reads.
    pub fn map_mut(&mut self) -> &mut HeaderMap {
        self.map();
        self.fields = Vec::new();
        self.text = String::new();
        self.map.get_mut().expect("built just above")
    }
}

impl From<HeaderMap> for RequestHeaders {
    fn from(map: HeaderMap) -> Self {
        Self {
            map: OnceLock::from(Box::new(map)),
            ..Self::default()
        }
    }
}

impl fmt::Debug for RequestHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.map(), f)
    }
}

/// A name `http::HeaderName::from_bytes` takes: 1 to 65,535 token
/// characters (RFC 9110 5.6.2), any case.
pub(crate) fn valid_name(name: &str) -> bool {
    // No early exit: the loop has no branch per byte.
    (1..=65_535).contains(&name.len())
        && name.bytes().fold(true, |ok, b| ok & TOKEN[usize::from(b)])
}

/// A value `http::HeaderValue::from_str` takes: no control characters but
/// tab.
pub(crate) fn valid_value(value: &str) -> bool {
    // No early exit, so the loop is vectorised.
    value.bytes().fold(true, |ok, b| {
        ok & ((b == b'\t') | ((b >= 0x20) & (b != 0x7f)))
    })
}

/// The token characters of RFC 9110 5.6.2, by byte.
const TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let symbols = b"!#$%&'*+-.^_`|~";
    let mut i = 0;
    while i < symbols.len() {
        table[symbols[i] as usize] = true;
        i += 1;
    }
    table
};

/// What `HeaderValue::to_str` accepts.
fn visible(b: u8) -> bool {
    b == b'\t' || (0x20..0x7f).contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_value_checks_agree_with_http_on_every_byte() {
        for b in 0..=u8::MAX {
            let one = [b];
            let as_str = std::str::from_utf8(&one);
            if let Ok(text) = as_str {
                assert_eq!(
                    valid_name(text),
                    HeaderName::from_bytes(&one).is_ok(),
                    "name byte {b}"
                );
                assert_eq!(
                    valid_value(text),
                    HeaderValue::from_str(text).is_ok(),
                    "value byte {b}"
                );
            }
        }
        let two_bytes = "é";
        assert_eq!(
            valid_name(two_bytes),
            HeaderName::from_bytes(two_bytes.as_bytes()).is_ok()
        );
        assert_eq!(
            valid_value(two_bytes),
            HeaderValue::from_str(two_bytes).is_ok()
        );
        for len in [0, 1, 65_535, 65_536] {
            let name = "a".repeat(len);
            assert_eq!(
                valid_name(&name),
                HeaderName::from_bytes(name.as_bytes()).is_ok(),
                "{len}"
            );
        }
    }

    /// Fields pushed: (name, value, replaces).
    type Fields = &'static [(&'static str, &'static str, bool)];

    #[test]
    fn lookups_answer_as_the_built_map_does() {
        let cases: &[(&str, Fields)] = &[
            ("nothing", &[]),
            ("one", &[("Accept", "*/*", true)]),
            (
                "appended values keep the first",
                &[("vary", "a", false), ("Vary", "b", false)],
            ),
            (
                "a replacing field drops what came before",
                &[
                    ("x-a", "1", false),
                    ("X-A", "2", false),
                    ("x-a", "3", true),
                    ("x-a", "4", false),
                ],
            ),
            (
                "not visible ASCII: no text",
                &[("x-name", "caf\u{e9}", true)],
            ),
            (
                "names apart",
                &[("a", "1", true), ("b", "2", true), ("A", "3", true)],
            ),
        ];
        for (what, fields) in cases {
            let mut headers = RequestHeaders::default();
            for (name, value, replaces) in *fields {
                headers.push(name, value, *replaces);
            }
            let built = headers.clone();
            let map = built.map();
            // The last two are names `http` refuses: never found
            // (`wire::Headers::build_into` relies on it).
            for name in [
                "accept", "ACCEPT", "vary", "x-a", "x-name", "a", "b", "missing", "x a", "",
            ] {
                assert_eq!(
                    headers.get(name),
                    map.get(name).and_then(|v| v.to_str().ok()),
                    "{what}: {name}"
                );
                assert_eq!(headers.get(name), built.get(name), "{what}: {name}");
                for hint in [0, 1, 5] {
                    let found = headers.contains(name, &mut hint.clone());
                    assert_eq!(found, map.contains_key(name), "{what}: {name} from {hint}");
                }
            }
            assert_eq!(headers.is_empty(), map.is_empty(), "{what}");
            assert_eq!(headers.len(), map.len(), "{what}");
        }
    }

    #[test]
    fn a_changed_map_is_what_lookups_read() {
        let mut headers = RequestHeaders::default();
        headers.push("origin", "https://a.example", true);
        headers
            .map_mut()
            .insert("origin", HeaderValue::from_static("https://b.example"));
        assert_eq!(headers.get("Origin"), Some("https://b.example"));
        let from_map = RequestHeaders::from(headers.map().clone());
        assert_eq!(from_map.get("origin"), Some("https://b.example"));
        assert_eq!(from_map.len(), 1);
    }
}
