//! Opaque pagination cursors: clients pass back `next_cursor` unchanged.
//!
//! A cursor names the last user of a page (the key the next page starts
//! after): `v1.` and the id's 32 lowercase hex digits. Anything else is a
//! 400, so a tampered cursor never reaches a store; [`PATTERN`], in the
//! OpenAPI document, is exactly what is accepted.

use shared::ApiError;
use uuid::Uuid;

const PREFIX: &str = "v1.";

/// What `cursor` accepts, as a regular expression (ECMA-262 and Python
/// alike, ending in [`crate::pattern::END`]): empty (the first page, like no
/// cursor) or a cursor.
pub const PATTERN: &str = "^(v1\\.[0-9a-f]{32})?$(?!\\n)";

/// Encodes the id (a hyphenated UUID) the next page starts after.
pub fn encode(last_id: &str) -> String {
    format!("{PREFIX}{}", last_id.replace('-', ""))
}

/// Decodes a client's cursor back to an id, or explains the 400.
pub fn decode(cursor: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::BadRequest(
            "cursor is invalid; pass the next_cursor of a previous page unchanged".into(),
        )
    };
    let hex = cursor.strip_prefix(PREFIX).ok_or_else(invalid)?;
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if hex.len() != 32 || !hex.bytes().all(lower_hex) {
        return Err(invalid());
    }
    let parsed = Uuid::try_parse(hex).map_err(|_| invalid())?;
    Ok(parsed.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_declares_the_pattern() {
        use utoipa::OpenApi as _;
        let document = serde_json::to_value(crate::routes::UsersApi::openapi()).expect("JSON");
        let parameters = &document["paths"]["/api/v1/users"]["get"]["parameters"];
        let cursor = parameters
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "cursor"))
            .unwrap_or_else(|| panic!("no cursor parameter: {parameters}"));
        assert_eq!(cursor["schema"]["pattern"], PATTERN);
    }

    #[test]
    fn round_trips() {
        let id = Uuid::now_v7().to_string();
        assert_eq!(decode(&encode(&id)).expect("valid"), id);
    }

    #[test]
    fn tampering_is_a_bad_request() {
        let good = encode(&Uuid::now_v7().to_string());
        let mut flipped = good.clone().into_bytes();
        flipped[5] = b'g';
        let cases = [
            String::new(),
            "!!!".into(),
            "v1.not-a-uuid".into(),
            "v2.0190a0c1000070008000000000000000".into(),
            "v1.0190A0C1000070008000000000000000".into(),
            "v1.0190a0c1-0000-7000-8000-000000000000".into(),
            "v1.0190a0c100007000800000000000000".into(),
            "v1.0190a0c10000700080000000000000000".into(),
            "djE6MDE5MGEwYzEtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw".into(),
            String::from_utf8(flipped).expect("ascii"),
            format!("{good}="),
        ];
        for cursor in cases {
            assert!(
                matches!(decode(&cursor), Err(ApiError::BadRequest(_))),
                "{cursor:?}"
            );
        }
    }
}
