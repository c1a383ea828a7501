//! The Allow answer: a policy for every method of the stage, the caller as
//! `principalId`, and the context the API's functions read.

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde::{Deserialize, Serialize};
use shared::auth::Principal;

/// What API Gateway passes on to the function as
/// `requestContext.authorizer` (next to `principalId`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The token's `sub`.
    pub sub: String,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// The authorizer's answer.
pub type AuthorizerResponse = ApiGatewayCustomAuthorizerResponse<Context>;

/// Every method and path of the stage `method_arn` belongs to:
/// `arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/*/*`.
///
/// API Gateway caches the policy per token for every route the authorizer
/// guards, so a policy for only the method being called would deny the
/// others while cached. `None` for anything but an execute-api method ARN.
pub fn stage_resource(method_arn: &str) -> Option<String> {
    let mut fields = method_arn.splitn(6, ':');
    let (
        Some("arn"),
        Some(partition),
        Some("execute-api"),
        Some(region),
        Some(account),
        Some(path),
    ) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    )
    else {
        return None;
    };
    let mut segments = path.splitn(3, '/');
    let (Some(api), Some(stage), Some(_method_and_resource)) =
        (segments.next(), segments.next(), segments.next())
    else {
        return None;
    };
    let word = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    // The console's "Test authorizer" sends the stage `*`.
    let stage_ok = word(stage) || stage == "*";
    let fields_ok = [partition, region, account, api].into_iter().all(word);
    (fields_ok && stage_ok)
        .then(|| format!("arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/*/*"))
}

/// Allows `principal` to invoke `resource` (from [`stage_resource`]).
pub fn allow(principal: &Principal, resource: String) -> AuthorizerResponse {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = IamPolicyEffect::Allow;
    statement.resource = vec![resource];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];
    let mut response = AuthorizerResponse::default();
    response.principal_id = Some(principal.subject.clone());
    response.policy_document = policy;
    response.context = Context {
        sub: principal.subject.clone(),
        scope: principal.scope_string(),
    };
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_resource_covers_the_whole_stage_of_the_method() {
        let cases = [
            (
                "arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/GET/",
                Some("arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/*/*"),
            ),
            (
                "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/api/v1/users/42",
                Some("arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/*/*"),
            ),
            (
                "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod_2/DELETE/api/v1/users/{id}",
                Some("arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod_2/*/*"),
            ),
            ("", None),
            ("allow", None),
            (
                "arn:aws:lambda:us-west-2:123456789012:function:authorizer",
                None,
            ),
            ("arn:aws:execute-api:us-west-2:123456789012:abc123", None),
            (
                "arn:aws:execute-api:us-west-2:123456789012:abc123/dev",
                None,
            ),
            ("arn:aws:execute-api:us-west-2::abc123/dev/GET/", None),
            (
                "arn:aws:execute-api:us-west-2:123456789012:*/dev/GET/",
                None,
            ),
            ("arn:aws:execute-api:*:123456789012:abc123/dev/GET/", None),
            (
                "arn:aws:execute-api:us-west-2:123456789012:abc123//GET/",
                None,
            ),
            (
                "arn:aws:execute-api:us-west-2:123456789012:abc123/d*v/GET/",
                None,
            ),
        ];
        for (method_arn, expected) in cases {
            assert_eq!(
                stage_resource(method_arn).as_deref(),
                expected,
                "{method_arn}"
            );
        }
    }

    #[test]
    fn an_allow_names_the_caller_and_passes_sub_and_scope() {
        let claims = json!({"sub": "ada", "scope": "users:read users:write"});
        let Ok(principal) = Principal::from_claims(claims.as_object().cloned().unwrap_or_default())
        else {
            panic!("a principal");
        };
        let resource = "arn:aws:execute-api:us-west-2:123456789012:abc123/dev/*/*";
        let response = serde_json::to_value(allow(&principal, resource.into())).expect("JSON");
        assert_eq!(response["principalId"], "ada");
        assert_eq!(
            response["policyDocument"],
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Action": ["execute-api:Invoke"],
                    "Effect": "Allow",
                    "Resource": [resource],
                }],
            })
        );
        assert_eq!(
            response["context"],
            json!({"sub": "ada", "scope": "users:read users:write"})
        );
    }
}
