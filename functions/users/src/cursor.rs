//! Opaque pagination cursors: clients pass back `next_cursor` unchanged.
//!
//! A cursor wraps the id of the last user of a page (the key the next page
//! starts after), versioned and base64url-encoded. Anything that does not
//! decode to that shape is a 400, so a tampered cursor never reaches a store.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shared::ApiError;
use uuid::Uuid;

const PREFIX: &str = "v1:";

/// Encodes the id the next page starts after.
pub fn encode(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{last_id}"))
}

/// Decodes a client's cursor back to an id, or explains the 400.
pub fn decode(cursor: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::BadRequest(
            "cursor is invalid; pass the next_cursor of a previous page unchanged".into(),
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let id = text.strip_prefix(PREFIX).ok_or_else(invalid)?;
    let parsed = Uuid::try_parse(id).map_err(|_| invalid())?;
    Ok(parsed.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let id = Uuid::now_v7().to_string();
        assert_eq!(decode(&encode(&id)).expect("valid"), id);
    }

    #[test]
    fn tampering_is_a_bad_request() {
        let good = encode(&Uuid::now_v7().to_string());
        let mut flipped = good.clone().into_bytes();
        flipped[5] = if flipped[5] == b'A' { b'B' } else { b'A' };
        let cases = [
            String::new(),
            "!!!".into(),
            URL_SAFE_NO_PAD.encode("v1:not-a-uuid"),
            URL_SAFE_NO_PAD.encode("v2:0190a0c1-0000-7000-8000-000000000000"),
            URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
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
