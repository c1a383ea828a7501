//! The caller API Gateway already verified: `requestContext.authorizer`
//! read into a [`Principal`].
//!
//! Four shapes, one reader:
//! - REST, Lambda authorizer: the authorizer's `context` (`sub`, `scope`)
//!   beside `principalId`, flat in `authorizer`;
//! - REST, Cognito user-pool authorizer: the token's claims in
//!   `authorizer.claims`;
//! - HTTP API, JWT authorizer: `authorizer.jwt.claims` (every value a
//!   string) and `authorizer.jwt.scopes`;
//! - HTTP API, Lambda authorizer: the authorizer's `context` in
//!   `authorizer.lambda`.
//!
//! Only a source that can carry it is read (the caller, [`super::parse`],
//! decides): a Function URL or an ALB never passes through API Gateway,
//! so an `authorizer` in their events proves nothing and is ignored. A
//! context without a usable subject gives no principal: the function then
//! verifies the bearer token itself, or refuses.
//!
//! API Gateway hands claims over as strings: Cognito's `cognito:groups`
//! arrives as `"a,b"` (REST) or `"[a b]"` (HTTP API), and is read back
//! into the list it was in the token before it grants scopes.

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;
use serde_json::{Map, Value};

use crate::auth::Principal;

/// The principal of a REST API's `requestContext.authorizer` (a flat map),
/// read from the event's bytes; `Err` when it is not a map.
pub(super) fn rest(raw: Option<&str>) -> Result<Option<Principal>, serde_json::Error> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let Some(fields) = serde_json::from_str::<Option<HashMap<String, Value>>>(raw)? else {
        return Ok(None);
    };
    if fields.is_empty() {
        return Ok(None);
    }
    if let Some(Value::Object(claims)) = fields.get("claims") {
        return Ok(from_claims(claims.clone()));
    }
    Ok(lambda_context(&fields))
}

/// The principal of an HTTP API's `requestContext.authorizer`, read from
/// the event's bytes as `aws_lambda_events` models it; `Err` when it does
/// not fit that model.
pub(super) fn http_api(raw: Option<&str>) -> Result<Option<Principal>, serde_json::Error> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let Some(authorizer) = serde_json::from_str::<Option<ApiGatewayRequestAuthorizer>>(raw)? else {
        return Ok(None);
    };
    if let Some(jwt) = &authorizer.jwt {
        let claims: Map<String, Value> = jwt
            .claims
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let Some(mut principal) = from_claims(claims) else {
            return Ok(None);
        };
        for scope in jwt.scopes.iter().flatten() {
            if !scope.is_empty() && !principal.has_scope(scope) {
                principal.scopes.push(scope.clone());
            }
        }
        return Ok(Some(principal));
    }
    if authorizer.fields.is_empty() {
        return Ok(None);
    }
    Ok(lambda_context(&authorizer.fields))
}

/// A Lambda authorizer's context: `sub` (else REST's `principalId`) and
/// `scope`, every field kept as a claim.
fn lambda_context(fields: &HashMap<String, Value>) -> Option<Principal> {
    let mut claims: Map<String, Value> =
        fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if !claims.contains_key("sub")
        && let Some(id) = claims.get("principalId").cloned()
    {
        claims.insert("sub".into(), id);
    }
    from_claims(claims)
}

/// The claims' principal; `None` (logged) without a usable subject.
fn from_claims(mut claims: Map<String, Value>) -> Option<Principal> {
    if let Some(Value::String(groups)) = claims.get(GROUPS_CLAIM) {
        let groups = groups_list(groups);
        claims.insert(GROUPS_CLAIM.into(), groups);
    }
    Principal::from_claims(claims)
        .inspect_err(|error| {
            tracing::warn!(%error, "authorizer context without a usable subject: ignored");
        })
        .ok()
}

/// Cognito's user-pool groups, which grant scopes too.
const GROUPS_CLAIM: &str = "cognito:groups";

/// A stringified list of groups (`"a,b"`, `"[a b]"`, `"a"`) as a JSON array.
fn groups_list(groups: &str) -> Value {
    let inner = groups
        .trim()
        .strip_prefix('[')
        .and_then(|g| g.strip_suffix(']'))
        .unwrap_or(groups);
    inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|g| !g.is_empty())
        .map(|g| Value::String(g.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stringified_groups_are_read_back_into_a_list() {
        let cases: [(&str, &[&str]); 6] = [
            ("admins", &["admins"]),
            ("admins,users:read", &["admins", "users:read"]),
            ("[admins users:read]", &["admins", "users:read"]),
            ("[admins]", &["admins"]),
            ("", &[]),
            ("[]", &[]),
        ];
        for (groups, expected) in cases {
            let expected: Vec<Value> = expected.iter().map(|g| Value::from(*g)).collect();
            assert_eq!(groups_list(groups), Value::Array(expected), "{groups}");
        }
    }
}
