//! The authenticated caller: who (`sub`), what they may do (scopes), and
//! the token's claims.

use serde_json::{Map, Value};

use super::error::Rejection;

/// The claims that grant scopes: OAuth's `scope` (space-separated, RFC
/// 8693), `scp` (Okta, Azure AD; a string or an array), and Cognito's
/// user-pool groups.
const SCOPE_CLAIMS: [&str; 3] = ["scope", "scp", "cognito:groups"];

/// A caller whose token has been verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The token's `sub`.
    pub subject: String,
    /// Every scope granted, each once, in the order the claims list them.
    pub scopes: Vec<String>,
    /// All claims of the token, as sent.
    pub claims: Map<String, Value>,
}

impl Principal {
    /// Reads the subject and the scopes out of verified claims. Scope
    /// claims of another type than a string or an array of strings grant
    /// nothing.
    pub fn from_claims(claims: Map<String, Value>) -> Result<Self, Rejection> {
        let subject = match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err(Rejection::Claim("sub".into())),
        };
        let mut scopes: Vec<String> = Vec::new();
        for claim in SCOPE_CLAIMS {
            let granted: Vec<&str> = match claims.get(claim) {
                Some(Value::String(list)) => list.split_whitespace().collect(),
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for scope in granted {
                if !scope.is_empty() && !scopes.iter().any(|s| s == scope) {
                    scopes.push(scope.to_owned());
                }
            }
        }
        Ok(Self {
            subject,
            scopes,
            claims,
        })
    }

    /// Whether the caller was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The scopes as one space-separated string (the form of `scope`).
    pub fn scope_string(&self) -> String {
        self.scopes.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn principal(claims: Value) -> Result<Principal, Rejection> {
        match claims {
            Value::Object(map) => Principal::from_claims(map),
            other => panic!("claims must be an object: {other}"),
        }
    }

    #[test]
    fn scopes_come_from_scope_scp_and_cognito_groups() {
        let cases = [
            (json!({"sub": "ada"}), vec![]),
            (
                json!({"sub": "ada", "scope": "users:read  users:write"}),
                vec!["users:read", "users:write"],
            ),
            (
                json!({"sub": "ada", "scope": ["users:read", "users:write"]}),
                vec!["users:read", "users:write"],
            ),
            (
                json!({"sub": "ada", "scp": "users:read"}),
                vec!["users:read"],
            ),
            (
                json!({"sub": "ada", "scp": ["users:read", 7, null]}),
                vec!["users:read"],
            ),
            (
                json!({"sub": "ada", "scope": "a b", "scp": ["b", "c"], "cognito:groups": ["admins", "a"]}),
                vec!["a", "b", "c", "admins"],
            ),
            (json!({"sub": "ada", "scope": 42}), vec![]),
            (json!({"sub": "ada", "scope": {"users:read": true}}), vec![]),
        ];
        for (claims, expected) in cases {
            let principal = principal(claims.clone()).unwrap_or_else(|e| panic!("{claims}: {e}"));
            assert_eq!(principal.subject, "ada");
            assert_eq!(principal.scopes, expected, "{claims}");
            assert_eq!(principal.scope_string(), expected.join(" "));
            for scope in &expected {
                assert!(principal.has_scope(scope), "{claims}: {scope}");
            }
            assert!(!principal.has_scope("users:delete"));
            assert_eq!(Value::Object(principal.claims), claims);
        }
    }

    #[test]
    fn a_subject_is_a_non_empty_string() {
        for claims in [
            json!({}),
            json!({"sub": ""}),
            json!({"sub": 7}),
            json!({"sub": null}),
            json!({"sub": ["ada"]}),
        ] {
            assert_eq!(
                principal(claims.clone()),
                Err(Rejection::Claim("sub".into())),
                "{claims}"
            );
        }
    }
}
