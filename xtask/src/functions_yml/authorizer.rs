//! The `authorizer:` of every protected event: API Gateway asks the
//! `authorizer` function (a TOKEN authorizer reading the `Authorization`
//! header, its answer cached for 300 s) before the method runs. Which events
//! are protected comes from the routers (`.require(scope)`, printed by
//! `--routes`): exactly those get one, and a public event never does.
//!
//! The osls `http` event syntax: `authorizer: {name, type, identitySource,
//! resultTtlInSeconds}`, `name` being a function of the same service; osls
//! generates the `AWS::ApiGateway::Authorizer`, `AuthorizationType: CUSTOM`
//! on the method, and the Lambda permission for API Gateway.

use serde_yaml_ng::Value;

/// The function API Gateway calls (`functions/authorizer`).
pub(crate) const FUNCTION: &str = "authorizer";
/// Where API Gateway reads the token.
const IDENTITY_SOURCE: &str = "method.request.header.Authorization";
/// How long API Gateway caches a verdict, by token (its default, stated).
const TTL_SECONDS: u64 = 300;

/// The YAML of the generated `authorizer:`, indented for an `http` event.
pub(super) fn event_yaml() -> String {
    format!(
        "          authorizer:\n            name: {FUNCTION}\n            type: token\n            identitySource: {IDENTITY_SOURCE}\n            resultTtlInSeconds: {TTL_SECONDS}\n"
    )
}

/// Whether `authorizer` is the generated one.
fn is_generated(authorizer: &Value) -> bool {
    let text = event_yaml();
    serde_yaml_ng::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("authorizer").cloned())
        .is_some_and(|generated| generated == *authorizer)
}

/// What is wrong with the `authorizer` of the event `method path` of
/// `function`, which requires `scope` (`None`: a public route).
pub(super) fn problem(
    route: (&str, &str, &str),
    scope: Option<&str>,
    authorizer: Option<&Value>,
) -> Option<String> {
    let (path, method, function) = route;
    let file = super::FILE;
    match (scope, authorizer) {
        (Some(scope), None) => Some(format!(
            "{file}: {method} {path} of `{function}` requires `{scope}` but has no `authorizer:`"
        )),
        (None, Some(_)) => Some(format!(
            "{file}: {method} {path} of `{function}` is public but has an `authorizer:`"
        )),
        (Some(_), Some(authorizer)) if !is_generated(authorizer) => Some(format!(
            "{file}: {method} {path} of `{function}` has an `authorizer:` other than the generated one (`{FUNCTION}`, {IDENTITY_SOURCE}, {TTL_SECONDS} s)"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).expect("test YAML")
    }

    #[test]
    fn exactly_the_protected_events_have_the_generated_authorizer() {
        let generated = yaml(&event_yaml())["authorizer"].clone();
        let other_ttl = yaml(
            "{name: authorizer, type: token, identitySource: method.request.header.Authorization, resultTtlInSeconds: 0}",
        );
        let by_name = yaml("authorizer");
        let route = ("/api/v1/users", "GET", "users");
        let cases: [(Option<&str>, Option<&Value>, Option<&str>); 6] = [
            (Some("users:read"), Some(&generated), None),
            (None, None, None),
            (
                Some("users:read"),
                None,
                Some(
                    "functions.yml: GET /api/v1/users of `users` requires `users:read` but has no `authorizer:`",
                ),
            ),
            (
                None,
                Some(&generated),
                Some(
                    "functions.yml: GET /api/v1/users of `users` is public but has an `authorizer:`",
                ),
            ),
            (
                Some("users:read"),
                Some(&other_ttl),
                Some("other than the generated one"),
            ),
            (
                Some("users:read"),
                Some(&by_name),
                Some("other than the generated one"),
            ),
        ];
        for (scope, authorizer, expected) in cases {
            let found = problem(route, scope, authorizer);
            match (expected, &found) {
                (None, None) => {}
                (Some(want), Some(got)) if got.contains(want) => {}
                _ => panic!(
                    "scope {scope:?}, authorizer {authorizer:?}: expected {expected:?}, found {found:?}"
                ),
            }
        }
    }
}
