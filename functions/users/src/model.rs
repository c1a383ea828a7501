//! The user resource and the validation of what clients send for it.
//!
//! A body is read straight from its JSON text into [`UserBody`] (the two
//! known fields, the names of a few unknown ones), never into a tree, so a
//! hostile body costs what it keeps; [`UserInput::from_body`] then applies
//! the rules and reports each broken one as a field error (422).

use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use shared::request::{IgnoredUnique, KeySet};
use shared::{ApiError, FieldError};
use unicode_general_category::{GeneralCategory, get_general_category};
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};

/// A stored user, as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    /// A UUIDv7: unique, and ordered by creation time.
    #[schema(format = Uuid)]
    pub id: String,
    /// Display name, trimmed, in NFC, 1..=100 characters.
    pub name: String,
    /// Email address in NFC with its domain in lower case; unique ignoring case.
    pub email: String,
    /// RFC 3339 UTC creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The body of `POST /api/v1/users` and `PUT /api/v1/users/{id}`, validated.
///
/// Its schema is what clients see in the OpenAPI document;
/// [`from_body`](UserInput::from_body) enforces the same rules and reports
/// each broken one as a field error.
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
// Read by utoipa only (`additionalProperties: false`); bodies are read
// through [`UserBody`], which names unknown fields in the 422.
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Display name: 1..=100 characters after trimming, no control or
    /// format characters.
    #[schema(schema_with = name_schema)]
    pub name: String,
    /// Email address: one `@`, a dotted domain, no spaces, controls or
    /// `<>()[]\,;:"`; unique ignoring case and Unicode normalisation.
    #[schema(schema_with = email_schema)]
    pub email: String,
}

/// The schema of [`UserInput::name`].
fn name_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Display name: 1..=100 characters after trimming, no control or format characters \
             (`pattern`; ZERO WIDTH (NON-)JOINER between two letters is accepted too).",
        ))
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        .pattern(Some(crate::pattern::name()))
        .examples(["Ada Lovelace"])
        .build()
}

/// The schema of [`UserInput::email`].
fn email_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .description(Some(
            "Email address: one `@`, a local part of at most 64 bytes, a dotted domain, no \
             spaces, controls or `<>()[]\\,;:\"`; unique ignoring case and Unicode normalisation.",
        ))
        .max_length(Some(MAX_EMAIL_CHARS))
        .pattern(Some(crate::pattern::email()))
        .examples(["ada@example.com"])
        .build()
}

/// Longest accepted name, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest accepted email (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Longest accepted local part, in bytes (RFC 5321).
pub const MAX_LOCAL_PART_BYTES: usize = 64;
/// Unknown fields named in a 422; the rest are counted.
const LISTED_UNKNOWN: usize = 10;
/// Characters of an unknown field's name quoted back.
const UNKNOWN_KEY_CHARS: usize = 100;

/// A user body as sent: what [`UserInput::from_body`] validates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserBody {
    /// Not a JSON object (an array, a string, a number...).
    NotObject,
    /// An object (keys unique at any depth).
    Object {
        /// The `name` member.
        name: Field,
        /// The `email` member.
        email: Field,
        /// The first unknown keys, each cut to 100 characters.
        unknown: Vec<String>,
        /// How many more unknown keys there were.
        more_unknown: usize,
    },
}

/// One member of a body as sent; only text is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field {
    /// Absent.
    #[default]
    Missing,
    /// `null`.
    Null,
    /// A string.
    Text(String),
    /// A number, boolean, array or object (read and dropped).
    NotText,
}

impl UserInput {
    /// Validates a body, collecting every problem as a field error (422).
    pub fn from_body(body: UserBody) -> Result<Self, ApiError> {
        let UserBody::Object {
            name,
            email,
            unknown,
            more_unknown,
        } = body
        else {
            return Err(ApiError::Validation(vec![FieldError::new(
                "body",
                "must be a JSON object with `name` and `email`",
            )]));
        };
        let mut errors: Vec<FieldError> = unknown
            .into_iter()
            .map(|key| FieldError::new(key, "unknown field; only `name` and `email` are accepted"))
            .collect();
        if more_unknown > 0 {
            errors.push(FieldError::new(
                "body",
                format!("{more_unknown} more unknown fields"),
            ));
        }
        let name = text("name", name, MAX_NAME_CHARS, &mut errors)
            .and_then(|name| check("name", valid_name(&name), &mut errors).then_some(name));
        let email = text("email", email, MAX_EMAIL_CHARS, &mut errors)
            .map(|email| normalise_email(&email))
            .and_then(|email| check("email", valid_email(&email), &mut errors).then_some(email));
        match (name, email) {
            (Some(name), Some(email)) if errors.is_empty() => Ok(Self { name, email }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// A required string field of at most `limit` characters as sent (after
/// trimming, as JSON Schema's `maxLength` counts), then in NFC; records why
/// when it is missing, not text or too long. A 6 MB string is counted, never
/// copied.
fn text(field: &str, value: Field, limit: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    match value {
        Field::Missing | Field::Null => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        Field::Text(text) if text.trim().chars().count() > limit => {
            errors.push(FieldError::new(
                field,
                format!("must be at most {limit} characters"),
            ));
            None
        }
        Field::Text(text) => Some(text.trim().nfc().collect()),
        Field::NotText => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

/// Records `outcome`'s message for `field`; whether it passed.
fn check(field: &str, outcome: Result<(), String>, errors: &mut Vec<FieldError>) -> bool {
    outcome
        .map_err(|message| errors.push(FieldError::new(field, message)))
        .is_ok()
}

/// Whether `c` is invisible or breaks a line: general categories Cc
/// (controls: NUL, ESC, newlines), Cf (format: U+202E, zero-width space,
/// BOM, soft hyphen) and the line and paragraph separators.
pub(crate) fn is_control_or_format(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

/// The first control or format character of `text` as a message, if any.
///
/// In a name, ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER (U+200C, U+200D)
/// are allowed between two letters or marks, where Persian and Indic
/// scripts (and emoji sequences) need them, as RFC 5892's CONTEXTJ rules
/// do; anywhere else, and always in an email, they are refused.
fn first_control(text: &str, allow_joiners: bool) -> Result<(), String> {
    let joinable =
        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || is_mark(c) || is_emoji_like(c));
    let mut previous = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let joiner = matches!(c, '\u{200C}' | '\u{200D}');
        let joins = joiner && joinable(previous) && joinable(chars.peek().copied());
        if is_control_or_format(c) && !(allow_joiners && joins) {
            return Err(format!(
                "must not contain control or format characters (found U+{:04X})",
                u32::from(c)
            ));
        }
        previous = Some(c);
    }
    Ok(())
}

fn is_mark(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::NonspacingMark
            | GeneralCategory::SpacingMark
            | GeneralCategory::EnclosingMark
    )
}

/// Symbols joined into emoji sequences (`👩‍💻`), skin tones included.
fn is_emoji_like(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::OtherSymbol | GeneralCategory::ModifierSymbol
    )
}

/// Not empty, no control or format characters (the length is checked as
/// sent, by [`text`]).
fn valid_name(name: &str) -> Result<(), String> {
    first_control(name, true)?;
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(())
}

/// The email in NFC with its domain in lower case: the form stored, and
/// the base of [`email_key`].
fn normalise_email(email: &str) -> String {
    let email: String = email.nfc().collect();
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase().nfc()),
        None => email,
    }
}

/// Characters a local part may not hold (RFC 5322 specials and quoting),
/// besides whitespace and controls: no quoted local parts, no comments.
const LOCAL_PART_SPECIALS: &[char] = &['<', '>', '(', ')', '[', ']', '\\', ',', ';', ':', '"', '@'];

/// One `@`; a local part of at most 64 bytes without specials, spaces or
/// stray dots; a dotted domain of letters, digits and hyphens.
fn valid_email(email: &str) -> Result<(), String> {
    first_control(email, false)?;
    const LIKE: &str = "must be an email address like name@example.com";
    let Some((local, domain)) = email.split_once('@') else {
        return Err(LIKE.into());
    };
    let dotted = |part: &str| {
        !part.is_empty() && !part.starts_with('.') && !part.ends_with('.') && !part.contains("..")
    };
    let local_ok = dotted(local)
        && local.len() <= MAX_LOCAL_PART_BYTES
        && !local
            .chars()
            .any(|c| c.is_whitespace() || LOCAL_PART_SPECIALS.contains(&c));
    let domain_ok = dotted(domain)
        && domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || is_mark(c) || c == '-' || c == '.');
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(LIKE.into())
    }
}

/// The key that makes emails unique: neither case nor Unicode
/// normalisation (composed or decomposed `é`) makes a new address.
pub fn email_key(email: &str) -> String {
    email
        .nfd()
        .collect::<String>()
        .to_lowercase()
        .nfc()
        .collect()
}

impl<'de> Deserialize<'de> for UserBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UserBodyVisitor)
    }
}

struct UserBodyVisitor;

impl<'de> Visitor<'de> for UserBodyVisitor {
    type Value = UserBody;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UserBody, A::Error> {
        let (mut name, mut email) = (Field::Missing, Field::Missing);
        let (mut unknown, mut more_unknown) = (Vec::new(), 0);
        let mut keys = KeySet::default();
        while let Some(key) = keys.next_key(&mut map)? {
            match key {
                "name" => name = map.next_value()?,
                "email" => email = map.next_value()?,
                other => {
                    if unknown.len() < LISTED_UNKNOWN {
                        unknown.push(other.chars().take(UNKNOWN_KEY_CHARS).collect());
                    } else {
                        more_unknown += 1;
                    }
                    map.next_value::<IgnoredUnique>()?;
                }
            }
        }
        keys.finish()?;
        Ok(UserBody::Object {
            name,
            email,
            unknown,
            more_unknown,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<UserBody, A::Error> {
        IgnoredUnique.visit_seq(seq).map(|_| UserBody::NotObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<UserBody, E> {
        Ok(UserBody::NotObject)
    }

    fn visit_i64<E>(self, _: i64) -> Result<UserBody, E> {
        Ok(UserBody::NotObject)
    }

    fn visit_u64<E>(self, _: u64) -> Result<UserBody, E> {
        Ok(UserBody::NotObject)
    }

    fn visit_f64<E>(self, _: f64) -> Result<UserBody, E> {
        Ok(UserBody::NotObject)
    }

    fn visit_str<E>(self, _: &str) -> Result<UserBody, E> {
        Ok(UserBody::NotObject)
    }

    fn visit_unit<E>(self) -> Result<UserBody, E> {
        Ok(UserBody::NotObject)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E>(self, text: &str) -> Result<Field, E> {
        Ok(Field::Text(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Field, E> {
        Ok(Field::Text(text))
    }

    fn visit_unit<E>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }

    fn visit_none<E>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field, D::Error> {
        Field::deserialize(deserializer)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Field, E> {
        Ok(Field::NotText)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Field, E> {
        Ok(Field::NotText)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Field, E> {
        Ok(Field::NotText)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Field, E> {
        Ok(Field::NotText)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field, A::Error> {
        IgnoredUnique.visit_seq(seq).map(|_| Field::NotText)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field, A::Error> {
        IgnoredUnique.visit_map(map).map(|_| Field::NotText)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `body` as the route does, then validates it.
    fn parse(body: &str) -> Result<UserInput, ApiError> {
        let body: UserBody = serde_json::from_str(body).expect("a readable body");
        UserInput::from_body(body)
    }

    fn errors(body: &str) -> Vec<(String, String)> {
        match parse(body) {
            Err(ApiError::Validation(errors)) => {
                errors.into_iter().map(|e| (e.field, e.message)).collect()
            }
            other => panic!("{body}: expected a validation error, got {other:?}"),
        }
    }

    fn fields(body: &str) -> Vec<String> {
        errors(body).into_iter().map(|(field, _)| field).collect()
    }

    fn user(name: &str, email: &str) -> String {
        serde_json::json!({"name": name, "email": email}).to_string()
    }

    #[test]
    fn accepts_and_trims() {
        let input = parse(r#"{"name": "  Ada  ", "email": " ada@example.com "}"#).expect("valid");
        assert_eq!(
            input,
            UserInput {
                name: "Ada".into(),
                email: "ada@example.com".into()
            }
        );
    }

    #[test]
    fn rejects_with_per_field_errors() {
        let long = "x".repeat(101);
        let cases: Vec<(String, Vec<&str>)> = vec![
            ("{}".into(), vec!["name", "email"]),
            (r#"{"name": "   ", "email": "a@b.co"}"#.into(), vec!["name"]),
            (user(&long, "a@b.co"), vec!["name"]),
            (r#"{"name": 5, "email": "a@b.co"}"#.into(), vec!["name"]),
            (
                r#"{"name": [{"a": 1}], "email": {"b": []}}"#.into(),
                vec!["name", "email"],
            ),
            (user("A", "not-an-email"), vec!["email"]),
            (user("A", "a@localhost"), vec!["email"]),
            (user("A", "a b@c.de"), vec!["email"]),
            (user("A", "a@@c.de"), vec!["email"]),
            (r#"{"name": "A", "email": null}"#.into(), vec!["email"]),
            (
                r#"{"name": "A", "email": "a@b.co", "admin": true}"#.into(),
                vec!["admin"],
            ),
            ("[1, 2]".into(), vec!["body"]),
            (r#""text""#.into(), vec!["body"]),
            ("42".into(), vec!["body"]),
            ("null".into(), vec!["body"]),
        ];
        for (body, expected) in cases {
            assert_eq!(fields(&body), expected, "{body}");
        }
    }

    #[test]
    fn messages_say_what_to_send() {
        let cases = [
            ("{}", "name", "is required"),
            (
                r#"{"name": 5, "email": "a@b.co"}"#,
                "name",
                "must be a string",
            ),
            (
                r#"{"name": " ", "email": "a@b.co"}"#,
                "name",
                "must not be empty",
            ),
            (
                r#"{"name": "A", "email": "nope"}"#,
                "email",
                "must be an email address like name@example.com",
            ),
            (
                r#"{"name": "A\u0000", "email": "a@b.co"}"#,
                "name",
                "must not contain control or format characters (found U+0000)",
            ),
        ];
        for (body, field, message) in cases {
            let found = errors(body);
            assert!(
                found.iter().any(|(f, m)| f == field && m == message),
                "{body}: {found:?}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_listed_a_few_at_a_time_in_document_order() {
        let mut body = serde_json::Map::new();
        body.insert("name".into(), "A".into());
        body.insert("email".into(), "a@b.co".into());
        let text = {
            let mut text = serde_json::Value::Object(body).to_string();
            text.pop();
            for n in 0..25 {
                text.push_str(&format!(r#","{n:02}{}":0"#, "k".repeat(300)));
            }
            text + "}"
        };
        let found = errors(&text);
        assert_eq!(found.len(), 11);
        assert!(found[..10].iter().all(|(f, _)| f.chars().count() == 100));
        assert!(found[0].0.starts_with("00k") && found[9].0.starts_with("09k"));
        assert_eq!(found[10], ("body".into(), "15 more unknown fields".into()));
    }

    #[test]
    fn hundred_characters_is_the_limit_not_hundred_bytes() {
        assert!(parse(&user(&"é".repeat(100), "a@b.co")).is_ok());
    }

    /// Issue 15, item 6: controls and format characters were stored.
    #[test]
    fn control_and_format_characters_are_refused_in_both_fields() {
        // In a name, a joiner is refused only where it joins nothing.
        let refused = [
            "\u{0}",
            "\u{1b}[31m",
            "\n",
            "\r",
            "\t",
            "\u{7f}",
            "\u{85}",
            "\u{202e}",
            "\u{202a}",
            "\u{2066}",
            "\u{200b}",
            "\u{feff}",
            "\u{ad}",
            "\u{2028}",
            "\u{2029}",
            " \u{200d}",
            "\u{200c} ",
            "\u{200c}\u{200c}",
        ];
        for bad in refused {
            let name = format!("Ada{bad}Lovelace");
            let found = errors(&user(&name, "a@b.co"));
            assert!(
                found.len() == 1
                    && found[0].0 == "name"
                    && found[0]
                        .1
                        .starts_with("must not contain control or format characters"),
                "name {name:?}: {found:?}"
            );
            let email = format!("ada{bad}x@example.com");
            assert_eq!(fields(&user("Ada", &email)), ["email"], "email {email:?}");
        }
    }

    /// Joiners between letters are how some scripts and emoji are written.
    #[test]
    fn joiners_inside_words_are_names() {
        for name in [
            "می\u{200c}خواهم",
            "क्\u{200d}ष",
            "👩\u{200d}💻 Ada",
            "👩🏽\u{200d}💻",
            "❤\u{fe0f}\u{200d}🔥",
        ] {
            let input = parse(&user(name, "a@b.co")).unwrap_or_else(|e| panic!("{name:?}: {e:?}"));
            assert_eq!(input.name, name.nfc().collect::<String>());
        }
        // Next to a non-letter in a name, and anywhere in an email: refused.
        assert_eq!(
            fields(&user("ada\u{200d}@b.co", "a\u{200d}b@c.de")),
            ["name", "email"]
        );
    }

    #[test]
    fn local_parts_refuse_specials_and_stray_dots() {
        let refused = [
            "<script>@x.y",
            "a<b@x.y",
            "(comment)a@x.y",
            "a[1]@x.y",
            "a\\b@x.y",
            "a,b@x.y",
            "a;b@x.y",
            "a:b@x.y",
            "\"quoted\"@x.y",
            ".a@x.y",
            "a.@x.y",
            "a..b@x.y",
            "a\u{a0}b@x.y",
            "a\u{3000}b@x.y",
            "a@x<y>.z",
            "a@x_y.z",
            "a@-.z..",
        ];
        for email in refused {
            assert_eq!(fields(&user("A", email)), ["email"], "{email}");
        }
        let local = "l".repeat(MAX_LOCAL_PART_BYTES);
        let accepted = [
            "ada+tag@example.com",
            "o'brien@example.ie",
            "first.last@sub.example.co.uk",
            "josé@exämple.com",
            "用户@例子.广告",
            "a_b-c!#$%&*=?^`{|}~@x.yz",
        ];
        for email in accepted
            .iter()
            .map(|e| (*e).to_owned())
            .chain([format!("{local}@x.yz")])
        {
            assert!(parse(&user("A", &email)).is_ok(), "{email}");
        }
        assert_eq!(fields(&user("A", &format!("{local}l@x.yz"))), ["email"]);
    }

    /// Issue 15, item 6: composed and decomposed `josé` were two users.
    #[test]
    fn emails_are_stored_in_nfc_with_the_domain_in_lower_case() {
        let cases = [
            ("jos\u{e9}@example.com", "jos\u{e9}@example.com"),
            ("jose\u{301}@example.com", "jos\u{e9}@example.com"),
            ("Ada@Example.COM", "Ada@example.com"),
            ("ADA@E\u{301}XAMPLE.com", "ADA@\u{e9}xample.com"),
        ];
        for (sent, stored) in cases {
            let input = parse(&user("A", sent)).expect(sent);
            assert_eq!(input.email, stored, "{sent}");
        }
    }

    #[test]
    fn one_key_per_address_whatever_the_case_or_normal_form() {
        let same = [
            [
                "jos\u{e9}@example.com",
                "jose\u{301}@example.com",
                "JOS\u{c9}@EXAMPLE.COM",
            ],
            [
                "JOSE\u{301}@example.com",
                "jos\u{e9}@Example.com",
                "jose\u{301}@EXAMPLE.com",
            ],
        ];
        for group in same {
            for email in group {
                assert_eq!(email_key(email), email_key(group[0]), "{email}");
            }
        }
        assert_eq!(
            email_key("jose\u{301}@example.com"),
            "jos\u{e9}@example.com"
        );
        assert_ne!(
            email_key("jose@example.com"),
            email_key("jos\u{e9}@example.com")
        );
    }

    #[test]
    fn repeated_keys_are_refused_by_the_reader() {
        for body in [
            r#"{"name":"A","name":"B","email":"a@b.co"}"#,
            r#"{"name":"A","email":"a@b.co","x":1,"x":2}"#,
            r#"{"name":"A","email":"a@b.co","x":{"y":[{"z":1,"z":2}]}}"#,
            r#"{"name":{"k":1,"k":2},"email":"a@b.co"}"#,
            r#"[{"k":1,"k":2}]"#,
        ] {
            let error = serde_json::from_str::<UserBody>(body).expect_err(body);
            assert!(
                error.to_string().starts_with("duplicate key"),
                "{body}: {error}"
            );
        }
    }
}
