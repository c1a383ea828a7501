//! The one pass over a payload as AWS sends it: a reader made for the
//! fields of `wire`'s [`Event`], which fills it without `serde`.
//!
//! `serde_json` reads an event through a visitor call per value, a key
//! string per skipped member and a scan and a copy per escape. Here one
//! walk over the payload reads the fields a request needs (borrowed where
//! they hold no escape), checks everything else as JSON while it skips it
//! (keys of skipped objects only checked), and unescapes a body in the
//! same walk, eight bytes at a time between the escapes (about 9
//! instructions a byte where `serde_json` takes 24).
//!
//! The walk only ever declines: on anything it does not expect (not an
//! object, a field repeated or of another type, a header that is neither
//! a string nor a list of strings, more header fields than
//! [`MAX_HEADER_FIELDS`], nesting deeper than [`MAX_DEPTH`], a `\u`
//! surrogate without its pair, anything that is not JSON) it gives up,
//! and `wire`'s `serde_json` pass reads the payload. So every refusal and
//! every lenient reading stay that pass's, and what the walk reads is
//! what that pass reads, field for field: the tests below,
//! `tests/scanned_events.rs` and the `event` fuzz target compare the two.

use std::borrow::Cow;

use serde::de::IgnoredAny;

use super::text::{escape_length, special, unescape};
use super::wire::{
    Context, Event, Headers, HttpDescription, Identity, MAX_HEADER_FIELDS, Query, QueryValue, Str,
    Values,
};

/// Deepest nesting the walk follows (the event is level 0); deeper, it
/// declines, and `serde_json` (which skips without recursing) reads it.
/// AWS's events nest five levels at most.
pub(super) const MAX_DEPTH: usize = 32;

/// The event in `payload`, as `wire`'s pass would read it; `None` when
/// anything is not as AWS sends it (that pass then decides).
pub(super) fn scan(payload: &str) -> Option<Event<'_>> {
    let mut reader = Reader {
        text: payload,
        at: 0,
    };
    let event = reader.event()?;
    // Nothing but whitespace after the object.
    match reader.peek() {
        None => Some(event),
        Some(_) => None,
    }
}

/// Where the walk is in the payload.
struct Reader<'a> {
    text: &'a str,
    at: usize,
}

/// Marks each field of a struct as read: a second one declines (a
/// derived `Deserialize` refuses a repeated field).
fn first(seen: &mut u16, field: u16) -> Option<()> {
    let bit = 1 << field;
    (*seen & bit == 0).then(|| *seen |= bit)
}

impl<'a> Reader<'a> {
    /// The byte after JSON's whitespace from here (the reader moves past
    /// the whitespace, not the byte).
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&byte) = bytes.get(self.at) {
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(byte);
            }
            self.at += 1;
        }
        None
    }

    /// Past `byte`, the next one after whitespace.
    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Past `word` (`true`, `false`, `null`), which must be here.
    #[inline]
    fn word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.text.as_bytes().get(self.at..end)? == word).then(|| self.at = end)
    }

    /// Whether the value here is `null` (then read).
    #[inline]
    fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.word(b"null").map(|()| true)
    }

    /// Past the string literal here: its text's span, and whether it
    /// holds escapes (each checked as `serde_json` checks a string it
    /// skips: `\u` takes four hex digits, paired or not).
    #[inline]
    fn literal(&mut self) -> Option<(usize, usize, bool)> {
        let bytes = self.text.as_bytes();
        let start = self.at + 1;
        let mut at = start;
        let mut escaped = false;
        loop {
            // Up to the next quote, backslash or control character, eight
            // bytes at a time (one at a time in the payload's last seven).
            let byte = loop {
                if let Some(chunk) = bytes.get(at..at + 8) {
                    let mut word = [0; 8];
                    word.copy_from_slice(chunk);
                    let marks = special(u64::from_le_bytes(word));
                    if marks == 0 {
                        at += 8;
                        continue;
                    }
                    let first = marks.trailing_zeros() as usize / 8;
                    at += first;
                    break word[first];
                }
                let byte = *bytes.get(at)?;
                if matches!(byte, b'"' | b'\\' | ..0x20) {
                    break byte;
                }
                at += 1;
            };
            match byte {
                b'"' => {
                    self.at = at + 1;
                    return Some((start, at, escaped));
                }
                b'\\' => {
                    escaped = true;
                    at += escape_length(bytes.get(at..)?)?;
                }
                // A control character, which JSON strings may not hold as is.
                _ => return None,
            }
        }
    }

    /// The string here, borrowed, or unescaped when it has escapes.
    #[inline]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        if self.peek()? != b'"' {
            return None;
        }
        let opening = self.at;
        let (start, end, escaped) = self.literal()?;
        if !escaped {
            return Some(Cow::Borrowed(self.text.get(start..end)?));
        }
        let (text, _) = unescape(self.text.as_bytes(), opening)?;
        String::from_utf8(text).ok().map(Cow::Owned)
    }

    /// A string field: `null` is none.
    fn optional_string(&mut self) -> Option<Option<Str<'a>>> {
        if self.null()? {
            return Some(None);
        }
        self.string().map(|text| Some(Str(text)))
    }

    /// A list of strings.
    fn strings(&mut self) -> Option<Vec<Str<'a>>> {
        let mut list = Vec::new();
        self.array(|reader| {
            list.push(Str(reader.string()?));
            Some(())
        })?;
        Some(list)
    }

    /// Any value, as its text in the payload: `null` is none.
    fn raw(&mut self, depth: usize) -> Option<Option<&'a str>> {
        if self.null()? {
            return Some(None);
        }
        let start = self.at;
        self.skip(depth)?;
        self.text.get(start..self.at).map(Some)
    }

    /// Past a number, as JSON writes one.
    fn number(&mut self) -> Option<()> {
        let bytes = self.text.as_bytes();
        let digits = |at: usize| {
            bytes.get(at..).map_or(0, |rest| {
                rest.iter().take_while(|b| b.is_ascii_digit()).count()
            })
        };
        let mut at = self.at + usize::from(bytes.get(self.at) == Some(&b'-'));
        match *bytes.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => at += digits(at),
            _ => return None,
        }
        if bytes.get(at) == Some(&b'.') {
            let fraction = digits(at + 1);
            if fraction == 0 {
                return None;
            }
            at += 1 + fraction;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1 + usize::from(matches!(bytes.get(at + 1), Some(b'+' | b'-')));
            let exponent = digits(at);
            if exponent == 0 {
                return None;
            }
            at += exponent;
        }
        self.at = at;
        Some(())
    }

    /// Past the value here, every part of it checked as JSON.
    fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.literal().map(drop),
            b'{' if depth < MAX_DEPTH => self.skip_object(depth + 1),
            b'[' if depth < MAX_DEPTH => self.array(|reader| reader.skip(depth + 1)),
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// Past the object here, whose keys are only checked (as `serde_json`
    /// skips them), not read.
    fn skip_object(&mut self, depth: usize) -> Option<()> {
        if self.open(b'{', b'}')? {
            return Some(());
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            self.literal()?;
            self.eat(b':')?;
            self.skip(depth)?;
            if !self.next(b'}')? {
                return Some(());
            }
        }
    }

    /// Each member of the object here: `member` reads its value, the
    /// reader just before it.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        if self.open(b'{', b'}')? {
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            self.peek()?;
            member(self, key)?;
            if !self.next(b'}')? {
                return Some(());
            }
        }
    }

    /// Each element of the array here: `element` reads it.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if self.open(b'[', b']')? {
            return Some(());
        }
        loop {
            element(self)?;
            if !self.next(b']')? {
                return Some(());
            }
        }
    }

    /// Past the `open` of a container here; whether it is empty (then
    /// past its `close` too).
    fn open(&mut self, open: u8, close: u8) -> Option<bool> {
        self.eat(open)?;
        let empty = self.peek()? == close;
        if empty {
            self.at += 1;
        }
        Some(empty)
    }

    /// After a member or an element: past a `,` (another follows: `true`)
    /// or the container's `close` (`false`); anything else declines.
    fn next(&mut self, close: u8) -> Option<bool> {
        let byte = self.peek()?;
        if byte != b',' && byte != close {
            return None;
        }
        self.at += 1;
        Some(byte == b',')
    }

    /// The object here, if it is one (`null` is none; anything else
    /// declines: a derived struct also reads an array, by position).
    fn optional_object(
        &mut self,
        member: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<bool> {
        if self.null()? {
            return Some(false);
        }
        self.object(member).map(|()| true)
    }

    fn event(&mut self) -> Option<Event<'a>> {
        let mut event = Event::default();
        let mut seen = 0;
        let read = self.object(|reader, key| {
            match &*key {
                "version" => {
                    first(&mut seen, 0)?;
                    event.version = reader.raw(1)?;
                }
                "rawPath" => {
                    first(&mut seen, 1)?;
                    event.raw_path = reader.optional_string()?;
                }
                "rawQueryString" => {
                    first(&mut seen, 2)?;
                    event.raw_query_string = reader.optional_string()?;
                }
                "httpMethod" => {
                    first(&mut seen, 3)?;
                    event.http_method = reader.optional_string()?;
                }
                "path" => {
                    first(&mut seen, 4)?;
                    event.path = reader.optional_string()?;
                }
                "headers" => {
                    first(&mut seen, 5)?;
                    event.headers = reader.headers()?;
                }
                "multiValueHeaders" => {
                    first(&mut seen, 6)?;
                    event.multi_value_headers = reader.headers()?;
                }
                "queryStringParameters" => {
                    first(&mut seen, 7)?;
                    event.query_string_parameters = reader.query()?;
                }
                "multiValueQueryStringParameters" => {
                    first(&mut seen, 8)?;
                    event.multi_value_query_string_parameters = reader.query()?;
                }
                "cookies" => {
                    first(&mut seen, 9)?;
                    event.cookies = match reader.null()? {
                        true => None,
                        false => Some(reader.strings()?),
                    };
                }
                "body" => {
                    first(&mut seen, 10)?;
                    if !reader.null()? {
                        event.body = Some(Cow::Owned(reader.body()?));
                    }
                }
                "isBase64Encoded" => {
                    first(&mut seen, 11)?;
                    event.is_base64_encoded = match reader.peek()? {
                        b't' => reader.word(b"true").map(|()| Some(true))?,
                        b'f' => reader.word(b"false").map(|()| Some(false))?,
                        _ => reader.word(b"null").map(|()| None)?,
                    };
                }
                "requestContext" => {
                    first(&mut seen, 12)?;
                    event.request_context = reader.context()?;
                }
                _ => reader.skip(1)?,
            }
            Some(())
        });
        read.map(|()| event)
    }

    /// The body's text, unescaped in the one walk over its literal.
    fn body(&mut self) -> Option<Vec<u8>> {
        if self.peek()? != b'"' {
            return None;
        }
        let (text, end) = unescape(self.text.as_bytes(), self.at)?;
        self.at = end;
        Some(text)
    }

    /// A header map: each name with its string or list of strings (an
    /// entry whose value is `null` counts for nothing and is dropped, as
    /// `wire` drops it); `null` is none.
    fn headers(&mut self) -> Option<Headers<'a>> {
        let mut headers = Headers::default();
        self.optional_object(|reader, name| {
            if headers.entries.capacity() == 0 {
                // As `wire` reserves: one allocation for the usual event.
                headers.entries.reserve(32);
            }
            let values = match reader.peek()? {
                b'"' => {
                    headers.fields += 1;
                    Values::One(Str(reader.string()?))
                }
                b'[' => {
                    // A list of one, the usual entry, without a `Vec`.
                    let (mut first, mut more) = (None, Vec::new());
                    reader.array(|reader| {
                        let value = Str(reader.string()?);
                        headers.fields += 1;
                        match first {
                            None => first = Some(value),
                            Some(_) => more.push(value),
                        }
                        Some(())
                    })?;
                    match first {
                        None => Values::List(more),
                        Some(one) if more.is_empty() => Values::ListOfOne(one),
                        Some(one) => {
                            more.insert(0, one);
                            Values::List(more)
                        }
                    }
                }
                _ => return reader.word(b"null"),
            };
            if headers.fields > MAX_HEADER_FIELDS {
                return None;
            }
            headers.entries.push((Str(name), values));
            Some(())
        })?;
        Some(headers)
    }

    /// A query parameter map: each key with its string or list of
    /// strings; `null` is none.
    fn query(&mut self) -> Option<Option<Query<'a>>> {
        let mut entries = Vec::new();
        let there = self.optional_object(|reader, key| {
            let value = match reader.peek()? {
                b'[' => QueryValue::Many(reader.strings()?),
                _ => QueryValue::One(Str(reader.string()?)),
            };
            entries.push((Str(key), value));
            Some(())
        })?;
        Some(there.then_some(Query { entries }))
    }

    /// `requestContext`: REST's and HTTP API's fields, and whether ALB's
    /// `elb` is there; `null` is none.
    fn context(&mut self) -> Option<Option<Context<'a>>> {
        let mut context = Context::default();
        let mut seen = 0;
        let there = self.optional_object(|reader, key| {
            match &*key {
                "elb" => {
                    first(&mut seen, 0)?;
                    context.elb = reader.raw(2)?.map(|_| IgnoredAny);
                }
                "http" => {
                    first(&mut seen, 1)?;
                    context.http = reader.http()?;
                }
                "httpMethod" => {
                    first(&mut seen, 2)?;
                    context.http_method = reader.optional_string()?;
                }
                "stage" => {
                    first(&mut seen, 3)?;
                    context.stage = reader.optional_string()?;
                }
                "requestId" => {
                    first(&mut seen, 4)?;
                    context.request_id = reader.optional_string()?;
                }
                "domainName" => {
                    first(&mut seen, 5)?;
                    context.domain_name = reader.optional_string()?;
                }
                "identity" => {
                    first(&mut seen, 6)?;
                    context.identity = reader.identity()?;
                }
                "authorizer" => {
                    first(&mut seen, 7)?;
                    context.authorizer = reader.raw(2)?;
                }
                _ => reader.skip(2)?,
            }
            Some(())
        })?;
        Some(there.then_some(context))
    }

    /// HTTP API's `requestContext.http`; `null` is none.
    fn http(&mut self) -> Option<Option<HttpDescription<'a>>> {
        let mut http = HttpDescription::default();
        let mut seen = 0;
        let there = self.optional_object(|reader, key| {
            match &*key {
                "method" => {
                    first(&mut seen, 0)?;
                    http.method = reader.optional_string()?;
                }
                "path" => {
                    first(&mut seen, 1)?;
                    http.path = reader.optional_string()?;
                }
                "sourceIp" => {
                    first(&mut seen, 2)?;
                    http.source_ip = reader.optional_string()?;
                }
                _ => reader.skip(3)?,
            }
            Some(())
        })?;
        Some(there.then_some(http))
    }

    /// REST's `requestContext.identity`; `null` is none.
    fn identity(&mut self) -> Option<Option<Identity<'a>>> {
        let mut identity = Identity::default();
        let mut seen = 0;
        let there = self.optional_object(|reader, key| {
            if &*key == "sourceIp" {
                first(&mut seen, 0)?;
                identity.source_ip = reader.optional_string()?;
                Some(())
            } else {
                reader.skip(3)
            }
        })?;
        Some(there.then_some(identity))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `wire`'s pass reads.
    fn serde_reads(payload: &str) -> Option<String> {
        let event: Event<'_> = serde_json::from_str(payload).ok()?;
        Some(format!("{event:?}"))
    }

    fn deep(levels: usize) -> String {
        format!(r#"{{"x":{}1{}}}"#, "[".repeat(levels), "]".repeat(levels))
    }

    fn headers(count: usize) -> String {
        let fields: Vec<String> = (0..count).map(|n| format!(r#""x-{n}":"v""#)).collect();
        format!(r#"{{"headers":{{{}}}}}"#, fields.join(","))
    }

    #[test]
    fn what_it_reads_is_what_serde_json_reads_and_it_declines_the_rest() {
        // (payload, whether the walk reads it); `serde_json` reads all of
        // the first kind, and decides the second.
        let fixed: &[(&str, bool)] = &[
            (
                r#"{"httpMethod":"GET","path":"/a","requestContext":{"httpMethod":"GET"}}"#,
                true,
            ),
            (
                r#"{"version":"2.0","rawPath":"/p","rawQueryString":"a=1","cookies":["a=1","b=2"],
                   "headers":{"x":"1"},"queryStringParameters":{"a":"1","b":["2","3"]},
                   "requestContext":{"http":{"method":"GET","path":"/p","sourceIp":"1.2.3.4","x":[]},
                   "authorizer":{"jwt":{"claims":{"sub":"a"},"scopes":null}}}}"#,
                true,
            ),
            (" \n { \"path\" : \"/x\" ,\t\"body\":\"\"} \r\n", true),
            (
                r#"{"headers":{"a":"1","b":["2","3"],"c":[],"d":null,"":"no name","e":["4"]}}"#,
                true,
            ),
            (
                r#"{"h\u0065aders":{"x":"1"},"path":"/a\u00e9\"b\/c"}"#,
                true,
            ),
            (
                r#"{"x":{"a":[1,-2.5e+3,0.5E-2,true,false,null,"s\n\u0041"],"b":{}},"y":[]}"#,
                true,
            ),
            // A string it skips: `serde_json` does not pair its surrogates either.
            (r#"{"x":"\ud800","path":"/"}"#, true),
            (
                r#"{"path":null,"headers":null,"multiValueHeaders":null,"queryStringParameters":null,
                   "multiValueQueryStringParameters":null,"cookies":null,"body":null,
                   "isBase64Encoded":null,"requestContext":null,"version":null}"#,
                true,
            ),
            (
                r#"{"requestContext":{"elb":{"targetGroupArn":"a"},"identity":{"sourceIp":"1.2.3.4",
                   "x":1},"http":null,"authorizer":null,"stage":"dev","requestId":"r","domainName":"d"}}"#,
                true,
            ),
            (
                r#"{"version":2.0,"body":"{\"a\":1}","isBase64Encoded":false}"#,
                true,
            ),
            ("{}", true),
            // Declined.
            (r#"{"path":"/a","path":"/b"}"#, false),
            (r#"{"requestContext":{"stage":"a","stage":"b"}}"#, false),
            (r#"{"requestContext":[]}"#, false),
            // Not an object (a derived struct reads an array by position).
            (r#"["2.0"]"#, false),
            (r#"{"requestContext":{"http":[]}}"#, false),
            (r#"{"headers":["a"]}"#, false),
            (r#"{"headers":"x"}"#, false),
            (r#"{"headers":{"a":1}}"#, false),
            (r#"{"headers":{"a":["1",2]}}"#, false),
            (r#"{"queryStringParameters":{"a":null}}"#, false),
            (r#"{"cookies":"a=1"}"#, false),
            (r#"{"body":{"a":1}}"#, false),
            (r#"{"isBase64Encoded":"true"}"#, false),
            (r#"{"path":5}"#, false),
            (r#"{"body":"\ud800"}"#, false),
            (r#"{"path":"\udc00"}"#, false),
            (r#"{"x":"\x41"}"#, false),
            ("{\"x\":\"a\nb\"}", false),
        ];
        let mut cases: Vec<(String, bool)> =
            fixed.iter().map(|&(p, r)| (p.to_owned(), r)).collect();
        cases.extend([
            (deep(MAX_DEPTH - 1), true),
            (headers(MAX_HEADER_FIELDS), true),
            (deep(MAX_DEPTH), false),
            (headers(MAX_HEADER_FIELDS + 1), false),
        ]);
        for (payload, read) in cases {
            let scanned = scan(&payload).map(|event| format!("{event:?}"));
            assert_eq!(scanned.is_some(), read, "{payload}");
            if read {
                assert_eq!(scanned, serde_reads(&payload), "{payload}");
            }
        }
    }

    #[test]
    fn what_is_not_json_is_declined() {
        for payload in [
            r#"{"x":01}"#,
            r#"{"x":1.}"#,
            r#"{"x":-}"#,
            r#"{"x":.5}"#,
            r#"{"x":1e}"#,
            r#"{"x":+1}"#,
            r#"{"x":tru}"#,
            r#"{"x":nul}"#,
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a" 1}"#,
            r#"{"a":"never closed}"#,
            "{} x",
            "{}{}",
            "",
        ] {
            assert!(scan(payload).is_none(), "{payload}");
            assert!(
                serde_json::from_str::<Event<'_>>(payload).is_err(),
                "{payload}"
            );
        }
    }

    /// Every real event is the walk's to read: what AWS sends never goes
    /// to `serde_json`'s pass.
    #[test]
    fn every_fixture_is_read_by_the_walk_as_serde_json_reads_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).expect("the fixtures folder") {
            let path = entry.expect("a fixture").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let scanned = scan(&text).map(|event| format!("{event:?}"));
            assert!(scanned.is_some(), "{path:?}");
            assert_eq!(scanned, serde_reads(&text), "{path:?}");
            read += 1;
        }
        assert!(read >= 15, "{read}");
    }
}
