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

use std::collections::HashMap;

use aws_lambda_events::apigw::ApiGatewayRequestAuthorizer;
use serde_json::{Map, Value};

use crate::auth::Principal;

/// The principal of a REST API's `requestContext.authorizer` (the flat map
/// `aws_lambda_events` keeps in `fields`).
pub(super) fn rest(fields: &HashMap<String, Value>) -> Option<Principal> {
    if fields.is_empty() {
        return None;
    }
    if let Some(Value::Object(claims)) = fields.get("claims") {
        return from_claims(claims.clone());
    }
    lambda_context(fields)
}

/// The principal of an HTTP API's `requestContext.authorizer`.
pub(super) fn http_api(authorizer: Option<&ApiGatewayRequestAuthorizer>) -> Option<Principal> {
    let authorizer = authorizer?;
    if let Some(jwt) = &authorizer.jwt {
        let claims: Map<String, Value> = jwt
            .claims
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut principal = from_claims(claims)?;
        for scope in jwt.scopes.iter().flatten() {
            if !scope.is_empty() && !principal.has_scope(scope) {
                principal.scopes.push(scope.clone());
            }
        }
        return Some(principal);
    }
    if authorizer.fields.is_empty() {
        return None;
    }
    lambda_context(&authorizer.fields)
}

/// A Lambda authorizer's context: `sub` (else REST's `principalId`) and
/// `scope`, every field kept as a claim.
fn lambda_context(fields: &HashMap<String, Value>) -> Option<Principal> {
    let mut claims: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !claims.contains_key("sub")
        && let Some(id) = claims.get("principalId").cloned()
    {
        claims.insert("sub".into(), id);
    }
    from_claims(claims)
}

fn from_claims(claims: Map<String, Value>) -> Option<Principal> {
    Principal::from_claims(claims)
        .inspect_err(|error| {
            tracing::warn!(%error, "authorizer context without a usable subject: ignored");
        })
        .ok()
}
