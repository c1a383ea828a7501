//! A large body lifted out of its payload before the one `serde_json`
//! pass (`wire`), so that its text is read once, by a reader made for it.
//!
//! A JSON body inside an event has an escaped quote every few bytes.
//! `serde_json` pays a scan and a copy per escape: reading such a literal
//! costs it some 24 instructions a byte, and even skipping it 16. Here one
//! walk over the payload's top-level object finds `body` and unescapes
//! its literal in the same pass, eight bytes at a time between the
//! escapes (about 9 a byte); `wire` then reads the payload with `null` in
//! its place. The 100 KiB REST case of `bench/run` went from 6.7 to 4.9
//! million instructions a request (callgrind, `bench/README.md`).
//!
//! The walk only ever declines: on anything it does not expect (not an
//! object, a key with an escape, a body that is not a string, a control
//! character, an escape JSON does not have, a `\u` surrogate without its
//! pair) it gives up, and `wire` reads the payload as sent, so every
//! refusal stays `serde_json`'s. What it lifts is what `serde_json` would
//! have read, byte for byte (tests below, `tests/lifted_bodies.rs` and the
//! `event` fuzz target compare the two ways). Swapping a string for `null`
//! cannot make a payload valid JSON that was not, and `wire` still sees a
//! second `body` key and refuses it.

/// Payloads from this size on have their body lifted. An event without a
/// body is 1.5 to 3 KB, so below this the body is too small for the walk
/// to pay for itself.
pub(super) const LIFT_FROM: usize = 4 * 1024;

/// A payload whose body was lifted out.
pub(super) struct Lifted {
    /// The payload with `null` where the body's literal was.
    pub(super) rest: String,
    /// The body's text, unescaped (still base64 when the event says so).
    pub(super) body: Vec<u8>,
}

/// The payload's top-level `body` string, lifted out; `None` when there is
/// none, or anything about the payload is unexpected (`wire` reads it all).
pub(super) fn lift(payload: &str) -> Option<Lifted> {
    let bytes = payload.as_bytes();
    if !may_have_string_body(bytes) {
        return None;
    }
    let mut at = skip_space(bytes, 0);
    if *bytes.get(at)? != b'{' {
        return None;
    }
    at += 1;
    loop {
        at = skip_space(bytes, at);
        // `}` (an object without `body`) or anything else: nothing to lift.
        if *bytes.get(at)? != b'"' {
            return None;
        }
        let key_end = skip_string(bytes, at)?;
        let key = &bytes[at + 1..key_end - 1];
        at = skip_space(bytes, key_end);
        if *bytes.get(at)? != b':' {
            return None;
        }
        at = skip_space(bytes, at + 1);
        if key == b"body" && bytes.get(at) == Some(&b'"') {
            let (body, end) = unescape(bytes, at)?;
            let mut rest = String::with_capacity(payload.len() - (end - at) + 4);
            rest.push_str(&payload[..at]);
            rest.push_str("null");
            rest.push_str(&payload[end..]);
            return Some(Lifted { rest, body });
        }
        at = skip_space(bytes, skip_value(bytes, at)?);
        if *bytes.get(at)? != b',' {
            return None;
        }
        at += 1;
    }
}

/// Whether `"body"` is anywhere followed by `:` and a string: what makes
/// the walk worth it. (A large GET has no body, or `"body": null`; its
/// headers are no reason to walk.) Inside a JSON string every quote is
/// escaped, so this finds each `body` key, and seldom anything else.
fn may_have_string_body(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"\"body\"").any(|at| {
        let at = skip_space(bytes, at + 6);
        bytes.get(at) == Some(&b':') && bytes.get(skip_space(bytes, at + 1)) == Some(&b'"')
    })
}

/// Past JSON's whitespace from `at`.
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Past the string whose opening quote is at `at` (not checked: `wire`
/// reads it).
fn skip_string(bytes: &[u8], mut at: usize) -> Option<usize> {
    at += 1;
    loop {
        at += plain_run(bytes.get(at..)?, |word| {
            equal_to(word, b'"') | equal_to(word, b'\\')
        });
        match *bytes.get(at)? {
            b'"' => return Some(at + 1),
            _ => at += 2,
        }
    }
}

/// How many bytes of `text` come before the first one `found` marks in a
/// word (the length of `text` when none): eight at a time.
fn plain_run(text: &[u8], found: impl Fn(u64) -> u64) -> usize {
    let mut at = 0;
    while let Some(slice) = text.get(at..at + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(slice);
        let marks = found(u64::from_le_bytes(word));
        if marks != 0 {
            return at + marks.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    // The last bytes, padded to a word: a mark in the padding comes after
    // any in `tail`, and counts as none.
    let tail = &text[at..];
    let mut word = [0; 8];
    word[..tail.len()].copy_from_slice(tail);
    let marks = found(u64::from_le_bytes(word));
    at + (marks.trailing_zeros() as usize / 8).min(tail.len())
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` (little-endian) that is `byte`, and
/// perhaps of bytes after one, never before one: the lowest is exact.
fn equal_to(word: u64, byte: u8) -> u64 {
    let diff = word ^ (ONES * u64::from(byte));
    diff.wrapping_sub(ONES) & !diff & HIGH
}

/// As [`equal_to`], for each byte below 0x20 (a control character).
fn control(word: u64) -> u64 {
    word.wrapping_sub(ONES * 0x20) & !word & HIGH
}

/// Past the value that starts at `at`: a string, an object or array with
/// everything nested in it, or a scalar up to what follows it.
fn skip_value(bytes: &[u8], mut at: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        let byte = *bytes.get(at)?;
        match byte {
            b'"' => at = skip_string(bytes, at)?,
            b'{' | b'[' => {
                depth += 1;
                at += 1;
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                at += 1;
            }
            b'}' | b']' | b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return Some(at),
            _ => at += 1,
        }
        if depth == 0 && matches!(byte, b'"' | b'}' | b']') {
            return Some(at);
        }
    }
}

/// The text of the string literal whose opening quote is at `at`,
/// unescaped, and where the literal ends; `None` where `serde_json` would
/// refuse it as a Rust `String`.
fn unescape(bytes: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let text = &bytes[at + 1..];
    // Every escape is longer than what it stands for.
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    loop {
        // Plain bytes a word at a time, and `\"`, the usual escape in a
        // JSON body, without leaving the loop.
        while let Some(slice) = text.get(i..i + 8) {
            let mut chunk = [0; 8];
            chunk.copy_from_slice(slice);
            let found = special(u64::from_le_bytes(chunk));
            // All eight bytes go in; those from the first special one on
            // come off again (`out` has room for all of `text`).
            out.extend_from_slice(&chunk);
            if found == 0 {
                i += 8;
                continue;
            }
            let run = found.trailing_zeros() as usize / 8;
            out.truncate(out.len() - (8 - run));
            i += run;
            if text.get(i..i + 2) != Some(br#"\""#) {
                break;
            }
            out.push(b'"');
            i += 2;
        }
        // The last bytes, up to the next special one.
        let run = plain_run(&text[i..], special);
        out.extend_from_slice(&text[i..i + run]);
        i += run;
        let plain = match *text.get(i)? {
            b'"' => return Some((out, at + 1 + i + 1)),
            b'\\' => match *text.get(i + 1)? {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let (c, len) = unicode(&text[i..])?;
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    i += len;
                    continue;
                }
                _ => return None,
            },
            // A control character, which JSON strings may not hold as is.
            _ => return None,
        };
        out.push(plain);
        i += 2;
    }
}

/// The bytes of `word` a JSON string cannot hold as they are: a quote, a
/// backslash, a control character (as [`equal_to`] marks them).
fn special(word: u64) -> u64 {
    equal_to(word, b'"') | equal_to(word, b'\\') | control(word)
}

/// The character a `\uXXXX` escape at the start of `text` stands for (two
/// escapes for a surrogate pair), and how many bytes it took.
fn unicode(text: &[u8]) -> Option<(char, usize)> {
    let unit = hex4(text.get(2..6)?)?;
    match unit {
        0xD800..=0xDBFF => {
            if text.get(6..8)? != b"\\u" {
                return None;
            }
            let low = hex4(text.get(8..12)?)?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return None;
            }
            let c = 0x1_0000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            Some((char::from_u32(c)?, 12))
        }
        0xDC00..=0xDFFF => None,
        _ => Some((char::from_u32(u32::from(unit))?, 6)),
    }
}

/// Four hex digits, either case.
fn hex4(digits: &[u8]) -> Option<u16> {
    digits.iter().try_fold(0u16, |n, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        Some(n << 4 | u16::from(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `serde_json` makes of `literal` as a `String`: the oracle.
    fn serde_json_reads(literal: &str) -> Option<Vec<u8>> {
        serde_json::from_str::<String>(literal)
            .ok()
            .map(String::into_bytes)
    }

    /// What [`unescape`] makes of `literal`, when it reads all of it.
    fn ours(literal: &str) -> Option<Vec<u8>> {
        unescape(literal.as_bytes(), 0)
            .filter(|(_, end)| *end == literal.len())
            .map(|(text, _)| text)
    }

    #[test]
    fn each_escape_reads_as_serde_json_reads_it() {
        let cases = [
            r#""""#,
            r#""plain text, no escape, longer than a word""#,
            r#""{\"items\":[{\"id\":0,\"name\":\"user 0\"}]}""#,
            r#""\"\\\/\b\f\n\r\t""#,
            r#""a\u0041b\u00e9\u20AC\u0000""#,
            r#""\ud83d\ude00 and \uD83D\uDE00""#,
            r#""caf\u00e9 café 😀 \\u0041""#,
            r#""ends with an escape\n""#,
            r#""\\""#,
        ];
        for literal in cases {
            let expected = serde_json_reads(literal);
            assert!(expected.is_some(), "{literal}");
            assert_eq!(ours(literal), expected, "{literal}");
        }
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        let cases = [
            // Surrogates that do not pair up.
            r#""\ud800""#,
            r#""\ud800 ""#,
            r#""\ud800\n""#,
            r#""\ud800\u0041""#,
            r#""\ud800\ud800""#,
            r#""\udc00""#,
            r#""\udfff\ud800""#,
            r#""x\uDBFF""#,
            // Escapes JSON does not have, or cut short.
            r#""\x41""#,
            r#""\u12""#,
            r#""\u12G4""#,
            r#""\"#,
            // Control characters as they are.
            "\"a\nb\"",
            "\"tab\there, in a run of plain text\"",
            "\"\u{0}\"",
            "\"\u{1f}\"",
            // No end.
            r#""never closed"#,
        ];
        for literal in cases {
            assert_eq!(serde_json_reads(literal), None, "{literal}");
            assert_eq!(ours(literal), None, "{literal}");
        }
    }

    /// Random literals from a small alphabet dense in escapes, surrogates,
    /// control characters and multi-byte characters, with runs shorter and
    /// longer than the eight bytes copied at a time, against `serde_json`:
    /// the same bytes, or both refuse.
    #[test]
    fn random_literals_read_as_serde_json_reads_them() {
        const PIECES: [&str; 16] = [
            "a",
            "a run of plain text",
            "é",
            "😀",
            "\\\"",
            "\\\\",
            "\\/",
            "\\n",
            "\t",
            "\\u0041",
            "\\u00E9",
            "\\ud83d",
            "\\ude00",
            "\\uDBFF\\uDFFF",
            "\\u0000",
            "{\\\"k\\\":1}",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut read, mut refused) = (0, 0);
        for _ in 0..20_000 {
            let pieces = next() % 12;
            let mut literal = String::from("\"");
            for _ in 0..pieces {
                literal.push_str(PIECES[(next() % 16) as usize]);
            }
            literal.push('"');
            let expected = serde_json_reads(&literal);
            if expected.is_some() {
                read += 1
            } else {
                refused += 1
            }
            assert_eq!(ours(&literal), expected, "{literal}");
        }
        assert!(
            read > 1_000 && refused > 1_000,
            "{read} read, {refused} refused"
        );
    }

    #[test]
    fn the_top_level_body_is_lifted_and_anything_unexpected_declined() {
        let cases: [(&str, Option<(&str, &str)>); 14] = [
            (r#"{"body":"a\"b"}"#, Some((r#"{"body":null}"#, "a\"b"))),
            (
                r#" { "path" : "/x" , "headers":{"body":"no"}, "body" : "hi" , "x":1}"#,
                Some((
                    r#" { "path" : "/x" , "headers":{"body":"no"}, "body" : null , "x":1}"#,
                    "hi",
                )),
            ),
            (
                r#"{"a":[1,{"b":"}"}],"n":-1.5e3,"t":true,"body":"x"}"#,
                Some((
                    r#"{"a":[1,{"b":"}"}],"n":-1.5e3,"t":true,"body":null}"#,
                    "x",
                )),
            ),
            // Only the first: `wire` refuses the second as a repeated field.
            (
                r#"{"body":"1","body":"2"}"#,
                Some((r#"{"body":null,"body":"2"}"#, "1")),
            ),
            (r#"{"body":null}"#, None),
            (r#"{"body":{"a":1}}"#, None),
            (r#"{"headers":{"body":"x"}}"#, None),
            (r#"{"bo\u0064y":"x"}"#, None),
            (r#"{"body":"\ud800"}"#, None),
            (r#"{"body":"never closed}"#, None),
            (r#"{"a" 1,"body":"x"}"#, None),
            (r#"{"a":1 "body":"x"}"#, None),
            (r#"["body","x"]"#, None),
            ("{}", None),
        ];
        for (payload, expected) in cases {
            let lifted = lift(payload).map(|l| (l.rest, String::from_utf8(l.body).expect("UTF-8")));
            let expected = expected.map(|(rest, body)| (rest.to_owned(), body.to_owned()));
            assert_eq!(lifted, expected, "{payload}");
        }
    }

    /// Every fixture event with a string body has it lifted, whatever it
    /// held before, and the rest reads as the event without a body.
    #[test]
    fn every_fixture_has_its_body_lifted() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut lifted = 0;
        for entry in std::fs::read_dir(dir).expect("the fixtures folder") {
            let path = entry.expect("a fixture").path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("readable");
            let mut event: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            event["body"] = "{\"a\":\"\\u00e9\"}\n".into();
            let payload = serde_json::to_string_pretty(&event).expect("serialises");
            let Lifted { rest, body } = lift(&payload).unwrap_or_else(|| panic!("{path:?}"));
            assert_eq!(body, "{\"a\":\"\\u00e9\"}\n".as_bytes(), "{path:?}");
            event["body"] = serde_json::Value::Null;
            let rest: serde_json::Value = serde_json::from_str(&rest).expect("still JSON");
            assert_eq!(rest, event, "{path:?}");
            lifted += 1;
        }
        assert!(lifted >= 15, "{lifted}");
    }

    #[test]
    fn a_run_ends_at_its_first_mark_wherever_it_falls_in_a_word() {
        let marks = |word| equal_to(word, b'"') | equal_to(word, b'\\');
        for len in 0..=19 {
            let plain = vec![b'x'; len];
            assert_eq!(plain_run(&plain, marks), len, "{len} plain bytes");
            for at in 0..len {
                for mark in [b'"', b'\\'] {
                    let mut text = plain.clone();
                    text[at] = mark;
                    // A second mark after it changes nothing.
                    if at + 1 < len {
                        text[len - 1] = b'"';
                    }
                    assert_eq!(
                        plain_run(&text, marks),
                        at,
                        "{:?}",
                        String::from_utf8_lossy(&text)
                    );
                }
            }
        }
    }

    #[test]
    fn only_a_body_key_with_a_string_makes_the_walk_worth_it() {
        let cases = [
            (r#"{"body":"x"}"#, true),
            ("{\"body\" :\n \"x\"}", true),
            (r#"{"body":null}"#, false),
            (r#"{"body":{"a":"b"}}"#, false),
            (r#"{"headers":{"x":"\"body\": \"no\""}}"#, false),
            (r#"{"nobody":1}"#, false),
            (r#"{"body""#, false),
        ];
        for (payload, expected) in cases {
            assert_eq!(
                may_have_string_body(payload.as_bytes()),
                expected,
                "{payload}"
            );
        }
    }
}
