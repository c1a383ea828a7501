//! The OpenAPI `pattern`s of the user fields, built from the character rules
//! [`crate::model`] applies, so the document promises no text the API
//! refuses (schemathesis checks both ways).
//!
//! A pattern reads the same in ECMA-262 (`u` flag) and Python's `re`:
//! basic-plane characters as `\uXXXX` escapes, the others literally, and
//! [`END`] for the end of the text.

use std::fmt::Write as _;

use crate::model::is_control_or_format;

/// The end of the text: `$`, and not before a final newline (Python's `$`
/// also matches there; ECMA-262's does not).
pub const END: &str = "$(?!\\n)";

/// What a name accepts: no control or format character, and no whitespace
/// at either end (a name is stored trimmed).
pub fn name() -> String {
    let inner = class(is_control_or_format);
    let end = class(|c| is_control_or_format(c) || c.is_whitespace());
    format!("^[^{end}](?:[^{inner}]*[^{end}])?{END}")
}

/// What an email accepts besides `format: email`: no control, format or
/// whitespace character anywhere (the finer rules are in its description).
pub fn email() -> String {
    let refused = class(|c| is_control_or_format(c) || c.is_whitespace());
    format!("^[^{refused}]+{END}")
}

/// The body of a character class (`a-b` ranges) of every `char` where
/// `matches` holds.
fn class(matches: impl Fn(char) -> bool) -> String {
    let mut ranges: Vec<(char, char)> = Vec::new();
    for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
        if !matches(c) {
            continue;
        }
        match ranges.last_mut() {
            Some((_, last)) if u32::from(*last) + 1 == u32::from(c) => *last = c,
            _ => ranges.push((c, c)),
        }
    }
    let mut out = String::new();
    for (first, last) in ranges {
        push(&mut out, first);
        if last != first {
            out.push('-');
            push(&mut out, last);
        }
    }
    out
}

fn push(out: &mut String, c: char) {
    if u32::from(c) <= 0xFFFF {
        let _ = write!(out, "\\u{:04X}", u32::from(c));
    } else {
        out.push(c);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn classes_are_ranges_of_the_rule() {
        let class = super::class(|c| matches!(c, 'a'..='c' | 'x' | '\u{1F600}'..='\u{1F601}'));
        assert_eq!(class, "\\u0061-\\u0063\\u0078\u{1F600}-\u{1F601}");
    }

    #[test]
    fn a_name_pattern_refuses_controls_and_edge_spaces() {
        let name = super::name();
        assert!(name.starts_with("^[^\\u0000-\\u0020"), "{name}");
        assert!(name.contains("\\u202E"), "bidi override: {name}");
        assert!(name.contains('\u{E0001}'), "language tag: {name}");
    }
}
