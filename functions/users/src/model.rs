//! The user resource and the validation of what clients send for it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shared::{ApiError, FieldError};
use utoipa::ToSchema;

/// A stored user, as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct User {
    /// A UUIDv7: unique, and ordered by creation time.
    #[schema(format = Uuid)]
    pub id: String,
    /// Display name, trimmed, 1..=100 characters.
    pub name: String,
    /// Email address as given; unique ignoring case.
    pub email: String,
    /// RFC 3339 UTC creation time.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The body of `POST /api/v1/users` and `PUT /api/v1/users/{id}`, validated.
///
/// Its schema is what clients see in the OpenAPI document; [`from_json`]
/// enforces the same rules and reports each broken one as a field error.
///
/// [`from_json`]: UserInput::from_json
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// Display name: 1..=100 characters after trimming.
    #[schema(min_length = 1, max_length = 100, example = "Ada Lovelace")]
    pub name: String,
    /// Email address: one `@`, a dotted domain, no spaces; unique ignoring case.
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    pub email: String,
}

/// Longest accepted name, in characters, after trimming.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest accepted email (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

impl UserInput {
    /// Validates a JSON body, collecting every problem as a field error (422).
    pub fn from_json(body: &Value) -> Result<Self, ApiError> {
        let Some(object) = body.as_object() else {
            return Err(ApiError::Validation(vec![FieldError::new(
                "body",
                "must be a JSON object with `name` and `email`",
            )]));
        };
        let mut errors = unknown_fields(object);
        let name = text_field(object, "name", &mut errors).and_then(|name| {
            let count = name.chars().count();
            if count == 0 {
                errors.push(FieldError::new("name", "must not be empty"));
                None
            } else if count > MAX_NAME_CHARS {
                errors.push(FieldError::new(
                    "name",
                    format!("must be at most {MAX_NAME_CHARS} characters"),
                ));
                None
            } else {
                Some(name)
            }
        });
        let email = text_field(object, "email", &mut errors).and_then(|email| {
            if is_plausible_email(&email) {
                Some(email)
            } else {
                errors.push(FieldError::new(
                    "email",
                    "must be an email address like name@example.com",
                ));
                None
            }
        });
        match (name, email) {
            (Some(name), Some(email)) if errors.is_empty() => Ok(Self { name, email }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// Unknown keys listed by name, but only the first few, each cut to a sane
/// length: a hostile body with a million keys must not get an answer as big
/// as itself (Lambda's response limit is 6 MB; past it API Gateway says 502).
fn unknown_fields(object: &Map<String, Value>) -> Vec<FieldError> {
    const LISTED: usize = 10;
    const KEY_CHARS: usize = 100;
    let unknown: Vec<&String> = object
        .keys()
        .filter(|key| !matches!(key.as_str(), "name" | "email"))
        .collect();
    let mut errors: Vec<FieldError> = unknown
        .iter()
        .take(LISTED)
        .map(|key| {
            let shown: String = key.chars().take(KEY_CHARS).collect();
            FieldError::new(shown, "unknown field; only `name` and `email` are accepted")
        })
        .collect();
    if unknown.len() > LISTED {
        errors.push(FieldError::new(
            "body",
            format!("{} more unknown fields", unknown.len() - LISTED),
        ));
    }
    errors
}

/// A required string field, trimmed; records why when it is missing or not text.
fn text_field(
    object: &Map<String, Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match object.get(field) {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
        Some(Value::String(text)) => Some(text.trim().to_owned()),
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

/// One `@`, a non-empty local part, a dotted domain, no spaces or controls.
fn is_plausible_email(email: &str) -> bool {
    if email.chars().count() > MAX_EMAIL_CHARS
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// The key that makes emails unique: case does not make a new address.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(result: Result<UserInput, ApiError>) -> Vec<String> {
        match result {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_and_trims() {
        let input = UserInput::from_json(&json!({"name": "  Ada  ", "email": " ada@example.com "}))
            .expect("valid");
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
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({}), vec!["name", "email"]),
            (json!({"name": "   ", "email": "a@b.co"}), vec!["name"]),
            (json!({"name": long, "email": "a@b.co"}), vec!["name"]),
            (json!({"name": 5, "email": "a@b.co"}), vec!["name"]),
            (json!({"name": "A", "email": "not-an-email"}), vec!["email"]),
            (json!({"name": "A", "email": "a@localhost"}), vec!["email"]),
            (json!({"name": "A", "email": "a b@c.de"}), vec!["email"]),
            (json!({"name": "A", "email": "a@@c.de"}), vec!["email"]),
            (json!({"name": "A", "email": null}), vec!["email"]),
            (
                json!({"name": "A", "email": "a@b.co", "admin": true}),
                vec!["admin"],
            ),
            (json!([1, 2]), vec!["body"]),
            (json!("text"), vec!["body"]),
        ];
        for (body, expected) in cases {
            assert_eq!(fields(UserInput::from_json(&body)), expected, "{body}");
        }
    }

    #[test]
    fn unknown_fields_are_listed_a_few_at_a_time() {
        let mut body = json!({"name": "A", "email": "a@b.co"});
        for n in 0..25 {
            body[format!("{}{n}", "k".repeat(300))] = json!(0);
        }
        let names = fields(UserInput::from_json(&body));
        assert_eq!(names.len(), 11);
        assert!(names[..10].iter().all(|f| f.chars().count() == 100));
        assert_eq!(names[10], "body");
    }

    #[test]
    fn hundred_characters_is_the_limit_not_hundred_bytes() {
        let name = "é".repeat(100);
        assert!(UserInput::from_json(&json!({"name": name, "email": "a@b.co"})).is_ok());
    }
}
