//! A test-only function for the local gateway's black-box tests, in two roles.
//!
//! As a TOKEN authorizer (an event with `authorizationToken`), it answers
//! like `functions/authorizer` does, keyed on the token instead of a JWT:
//! - `Bearer allow-<sub>`: Allow on the whole stage, context `sub` and
//!   `scope` (`users:read users:write`);
//! - `Bearer reader-<sub>`: the same with scope `users:read`;
//! - `Bearer deny-<sub>`: an explicit Deny on the whole stage;
//! - `Bearer only-this`: Allow on the first `methodArn` only (the classic
//!   caching mistake);
//! - `Bearer broken`: a Lambda error that is not `Unauthorized`;
//! - anything else: the Lambda error `Unauthorized`.
//!
//! As a proxy integration (any other event), it answers 200 with the event
//! it received as the body, after sleeping `?sleep=<ms>` milliseconds;
//! `?answer=malformed` answers a body that is not a string, and
//! `?answer=error` fails with a Lambda error.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

fn policy(effect: &str, principal: &str, resource: &str, scope: &str) -> Value {
    json!({
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": {"sub": principal, "scope": scope},
    })
}

fn authorize(token: &str, method_arn: &str) -> Result<Value, Error> {
    // arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>
    let stage_wide = {
        let mut parts = method_arn.splitn(3, '/');
        let (api, stage) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        format!("{api}/{stage}/*/*")
    };
    let token = token.strip_prefix("Bearer ").unwrap_or_default();
    if let Some(sub) = token.strip_prefix("allow-") {
        return Ok(policy("Allow", sub, &stage_wide, "users:read users:write"));
    }
    if let Some(sub) = token.strip_prefix("reader-") {
        return Ok(policy("Allow", sub, &stage_wide, "users:read"));
    }
    if let Some(sub) = token.strip_prefix("deny-") {
        return Ok(policy("Deny", sub, &stage_wide, ""));
    }
    match token {
        "only-this" => Ok(policy("Allow", "narrow", method_arn, "users:read")),
        "broken" => Err("the probe's deliberate authorizer failure".into()),
        _ => Err("Unauthorized".into()),
    }
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let event = event.payload;
    if let Some(token) = event.get("authorizationToken").and_then(Value::as_str) {
        let method_arn = event
            .get("methodArn")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return authorize(token, method_arn);
    }
    let sleep = event
        .pointer("/queryStringParameters/sleep")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_millis(sleep)).await;
    match event
        .pointer("/queryStringParameters/answer")
        .and_then(Value::as_str)
    {
        Some("malformed") => return Ok(json!({"statusCode": 200, "body": {"not": "a string"}})),
        Some("error") => return Err("the probe's deliberate function error".into()),
        _ => {}
    }
    Ok(json!({
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": event.to_string(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
