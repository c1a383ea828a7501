//! JSON string literals, a word at a time: where the next byte that needs
//! an escape is ([`special`], [`plain_run`]), a literal unescaped
//! ([`unescape`], for `scan`) and text escaped into one ([`escape_into`],
//! for `reply`), each byte for byte as `serde_json` reads and writes them.
//!
//! A JSON body inside an event, or a response, has a quote every few
//! bytes; `serde_json` pays a scan and a copy per escape (about 24
//! instructions a byte to read such a literal). Here the plain bytes
//! between escapes go eight at a time (9 a byte to read one). Writing, the
//! cost is a mispredicted branch per escape either way; a dense piece of
//! text is written a byte at a time without one ([`escape_into`]).

/// The length of the escape at the start of `text` (`\n`, `\u00e9`...),
/// as `serde_json` checks one in a string it skips.
pub(super) fn escape_length(text: &[u8]) -> Option<usize> {
    match *text.get(1)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(2),
        b'u' => hex4(text.get(2..6)?).map(|_| 6),
        _ => None,
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
#[inline]
fn equal_to(word: u64, byte: u8) -> u64 {
    let diff = word ^ (ONES * u64::from(byte));
    diff.wrapping_sub(ONES) & !diff & HIGH
}

/// As [`equal_to`], for each byte below 0x20 (a control character).
#[inline]
fn control(word: u64) -> u64 {
    word.wrapping_sub(ONES * 0x20) & !word & HIGH
}

/// The plain bytes of the word at `at` of `text`, appended to `out`: all
/// eight go in, and those from the first that needs an escape on come off
/// again. How many stayed (8: the whole word was plain); `None` when fewer
/// than eight bytes are left.
#[inline]
fn plain_word(out: &mut Vec<u8>, text: &[u8], at: usize) -> Option<usize> {
    let mut word = [0; 8];
    word.copy_from_slice(text.get(at..at + 8)?);
    out.extend_from_slice(&word);
    let found = special(u64::from_le_bytes(word));
    if found == 0 {
        return Some(8);
    }
    let run = found.trailing_zeros() as usize / 8;
    out.truncate(out.len() - (8 - run));
    Some(run)
}

/// The text of the string literal whose opening quote is at `at`,
/// unescaped, and where the literal ends; `None` where `serde_json` would
/// refuse it as a Rust `String`.
pub(super) fn unescape(bytes: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let text = &bytes[at + 1..];
    // Every escape is longer than what it stands for.
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    loop {
        // Plain bytes a word at a time, and `\"`, the usual escape in a
        // JSON body, without leaving the loop.
        // (`out` has room for all of `text`.)
        while let Some(run) = plain_word(&mut out, text, i) {
            i += run;
            if run == 8 {
                continue;
            }
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
#[inline]
pub(super) fn special(word: u64) -> u64 {
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

/// Appends `text` as a JSON string literal, quotes included, exactly as
/// `serde_json` writes a string: `\"`, `\\`, the short escapes of
/// `\b`, `\f`, `\n`, `\r`, `\t`, `\u00xx` for the other control
/// characters, everything else as it is (so `out` stays UTF-8).
///
/// A piece of text with an escape every few bytes and no control
/// character (a compact JSON body) goes a byte at a time, without a
/// branch on what each byte is ([`escape_dense`]); other text goes eight
/// plain bytes at a time between escapes ([`escape_sparse`]).
pub(super) fn escape_into(out: &mut Vec<u8>, text: &str) {
    out.reserve(escaped_size(text.len()));
    out.push(b'"');
    for piece in text.as_bytes().chunks(PIECE) {
        if piece.len() >= SAMPLE && dense(piece) && !has_control(piece) {
            escape_dense(out, piece);
        } else {
            escape_sparse(out, piece);
        }
    }
    out.push(b'"');
}

/// Text is escaped a piece at a time, each the way its own text needs.
const PIECE: usize = 4096;

/// Room for `len` bytes of text as a literal: a JSON body's escapes (one
/// every six bytes or so) and a dense piece's window of twice its size
/// and sixteen bytes fit without growing the buffer.
pub(super) fn escaped_size(len: usize) -> usize {
    len + len / 4 + 2 * len.min(PIECE) + 16 + 2
}

/// How much of a piece [`dense`] looks at; a shorter one is not worth it.
const SAMPLE: usize = 256;

/// Whether the start of `piece` has an escape every 16 bytes or more
/// often (its first [`SAMPLE`] bytes, a word at a time; a word's count
/// may be high after its first).
fn dense(piece: &[u8]) -> bool {
    let sample = &piece[..piece.len().min(SAMPLE)];
    let escapes: u32 = sample
        .chunks_exact(8)
        .map(|slice| {
            let mut word = [0; 8];
            word.copy_from_slice(slice);
            special(u64::from_le_bytes(word)).count_ones()
        })
        .sum();
    escapes as usize * 16 >= sample.len()
}

/// Whether `piece` may hold a control character (a word at a time; a
/// byte right after one may count as one too).
fn has_control(piece: &[u8]) -> bool {
    let mut words = piece.chunks_exact(8);
    let mut marks = 0;
    for slice in &mut words {
        let mut word = [0; 8];
        word.copy_from_slice(slice);
        marks |= control(u64::from_le_bytes(word));
    }
    marks != 0 || words.remainder().iter().any(|&b| b < 0x20)
}

/// For each byte: 0 when it goes out as it is, else the letter after the
/// backslash of its escape (`u` for `\u00xx`).
static ESCAPES: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table
};

/// `piece` (no control character in it) escaped into a window of twice
/// its size, a byte at a time: each byte is written, then the letter of
/// its escape; a plain byte keeps only the first, an escaped one becomes
/// a backslash and the letter. No branch depends on the text.
///
/// Eight bytes go into a window of sixteen, so the index into the window
/// needs no bounds check (a mask keeps it below sixteen, and it never
/// reaches that far): the loop is the table, two stores and an add a byte.
fn escape_dense(out: &mut Vec<u8>, piece: &[u8]) {
    let start = out.len();
    // Past twice the piece, room for the last window (sixteen bytes).
    out.resize(start + 2 * piece.len() + 16, 0);
    let room = &mut out[start..];
    let mut written = 0;
    let mut words = piece.chunks_exact(8);
    for word in &mut words {
        let window = window(room, written);
        let mut at = 0;
        for &byte in word {
            at += escape_byte(window, at, byte);
        }
        written += at;
    }
    for &byte in words.remainder() {
        written += escape_byte(window(room, written), 0, byte);
    }
    out.truncate(start + written);
}

/// The sixteen bytes of `room` from `at`: [`escape_dense`]'s room holds
/// twice its piece and sixteen bytes more, so a window from where it has
/// written to never runs past it.
#[inline(always)]
fn window(room: &mut [u8], at: usize) -> &mut [u8; 16] {
    room[at..]
        .first_chunk_mut()
        .expect("room for a window of sixteen bytes")
}

/// `byte` written at `at` of `window` as [`escape_dense`] writes it; how
/// many bytes it took (1 or 2). `at` is below 15.
#[inline(always)]
fn escape_byte(window: &mut [u8; 16], at: usize, byte: u8) -> usize {
    let letter = ESCAPES[usize::from(byte)];
    let escaped = usize::from(letter != 0);
    window[at & 15] = if escaped == 1 { b'\\' } else { byte };
    window[(at + 1) & 15] = letter;
    1 + escaped
}

/// `piece` escaped eight plain bytes at a time ([`plain_word`]).
fn escape_sparse(out: &mut Vec<u8>, piece: &[u8]) {
    let mut at = 0;
    loop {
        while let Some(run) = plain_word(out, piece, at) {
            at += run;
            if run < 8 {
                escape(out, piece[at]);
                at += 1;
            }
        }
        // The last bytes, up to the next that needs an escape.
        let run = plain_run(&piece[at..], special);
        out.extend_from_slice(&piece[at..at + run]);
        at += run;
        match piece.get(at) {
            Some(&byte) => {
                escape(out, byte);
                at += 1;
            }
            None => break,
        }
    }
}

/// The escape `serde_json` writes for `byte` (one [`special`] marks).
fn escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match ESCAPES[usize::from(byte)] {
        b'u' => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xf)],
        ]),
        letter => out.extend_from_slice(&[b'\\', letter]),
    }
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

    /// What `serde_json` writes for `text`: the oracle.
    fn serde_json_writes(text: &str) -> String {
        serde_json::to_string(text).expect("a string serialises")
    }

    fn escaped(text: &str) -> String {
        let mut out = b"prefix ".to_vec();
        escape_into(&mut out, text);
        let out = String::from_utf8(out).expect("still UTF-8");
        out.strip_prefix("prefix ").expect("appended").to_owned()
    }

    #[test]
    fn text_is_escaped_as_serde_json_escapes_it() {
        let mut every_byte: String = (0u8..0x80).map(char::from).collect();
        every_byte.push_str("é😀\u{7f}\u{80}\u{2028}");
        let cases = [
            "",
            "plain text, longer than one eight-byte word",
            r#"{"items":[{"id":0,"name":"user 0","active":true}]}"#,
            "\"\\/\u{8}\u{c}\n\r\t",
            "\u{0}\u{1}\u{1f} control",
            "ends with a quote\"",
            "\\",
            &every_byte,
        ];
        for text in cases {
            assert_eq!(escaped(text), serde_json_writes(text), "{text:?}");
        }
    }

    /// Texts longer than a piece, dense and sparse in escapes, with a
    /// control character here and there: every piece is written as
    /// `serde_json` writes it, whichever way it goes.
    #[test]
    fn long_text_is_escaped_as_serde_json_escapes_it_piece_by_piece() {
        let json_body = r#"{"id":1,"name":"user \u00e9 1","tags":["a","b"]},"#.repeat(400);
        let plain = "plain words and é and 😀, nothing to escape ".repeat(300);
        let mut mixed = format!("{json_body}{plain}");
        for at in [0, 7, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE + 3] {
            mixed.insert(at.min(mixed.len()), '\u{1}');
        }
        let html = "<p class=\"x\">Some text\tand a tab.</p>\n".repeat(500);
        for text in [json_body, plain, mixed, html] {
            assert!(text.len() > 2 * PIECE, "{}", text.len());
            assert_eq!(escaped(&text), serde_json_writes(&text));
        }
    }

    /// The dense writer at its most: every byte escaped (twice its size
    /// out), for every length of the last word, at the shortest dense
    /// piece and across a whole one.
    #[test]
    fn text_escaped_at_every_byte_fits_the_dense_window() {
        for len in (SAMPLE..SAMPLE + 17).chain(PIECE - 9..PIECE + 9) {
            for unit in ["\"", "\\", "\"a"] {
                let text: String = unit.repeat(len).chars().take(len).collect();
                assert!(dense(text.as_bytes()), "{len}");
                assert_eq!(escaped(&text), serde_json_writes(&text), "{len} {unit}");
            }
        }
    }

    /// Random text from a small alphabet dense in what needs an escape,
    /// with plain runs shorter and longer than a word, against `serde_json`.
    #[test]
    fn random_text_is_escaped_as_serde_json_escapes_it() {
        const PIECES: [&str; 10] = [
            "a",
            "a run of plain text",
            "é",
            "😀",
            "\"",
            "\\",
            "\n",
            "\u{1}",
            "\u{7f}",
            "{\"k\":1}",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut pieces = state;
            let text: String = (0..pieces % 14)
                .map(|_| {
                    pieces = pieces.rotate_right(5);
                    PIECES[(pieces % 10) as usize]
                })
                .collect();
            assert_eq!(escaped(&text), serde_json_writes(&text), "{text:?}");
        }
    }
}
