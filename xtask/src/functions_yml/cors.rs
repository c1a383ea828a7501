//! The CORS preflight of every event: which origins API Gateway's MOCK
//! `OPTIONS` answer allows.
//!
//! Each event gets `cors: ${self:custom.cors}`, and serverless.yml builds
//! `custom.cors` from `CORS_ALLOW_ORIGINS`, the setting the functions read:
//! the preflight allows exactly the origins the functions do, whatever
//! deploy.env says, without regenerating functions.yml (osls splits a comma
//! list and echoes a listed `Origin`; `*` stays `*`). A literal `cors: true`
//! would answer `Access-Control-Allow-Origin: *` even when a list is set.

use std::path::Path;

use serde_yaml_ng::Value;

/// The `cors:` value of every generated event.
pub(super) const EVENT_VALUE: &str = "${self:custom.cors}";
/// What `custom.cors.origin` in serverless.yml must be.
const ORIGIN: &str = "${self:provider.environment.CORS_ALLOW_ORIGINS}";
const SERVERLESS_YML: &str = "serverless.yml";

/// Whether an event's `cors` is the generated one.
pub(super) fn is_generated(cors: Option<&Value>) -> bool {
    cors.and_then(Value::as_str) == Some(EVENT_VALUE)
}

/// Problems with serverless.yml's `custom.cors`: it must take its origins
/// from the functions' `CORS_ALLOW_ORIGINS`.
pub(super) fn check_serverless_yml(root: &Path) -> Result<Vec<String>, String> {
    let path = root.join(SERVERLESS_YML);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let document: Value =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(origin_problems(&document))
}

fn origin_problems(document: &Value) -> Vec<String> {
    let origin = document
        .get("custom")
        .and_then(|c| c.get("cors"))
        .and_then(|c| c.get("origin"))
        .and_then(Value::as_str);
    if origin == Some(ORIGIN) {
        Vec::new()
    } else {
        vec![format!(
            "{SERVERLESS_YML}: custom.cors.origin must be `{ORIGIN}` (the functions' origins), found {origin:?}"
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).expect("test YAML")
    }

    #[test]
    fn only_the_generated_reference_counts() {
        let cases = [
            ("cors: ${self:custom.cors}", true),
            ("cors: true", false),
            ("cors: {origin: 'https://a.example'}", false),
            ("method: get", false),
        ];
        for (event, expected) in cases {
            assert_eq!(is_generated(yaml(event).get("cors")), expected, "{event}");
        }
    }

    #[test]
    fn origin_must_be_the_functions_setting() {
        let cases = [
            (
                "custom: {cors: {origin: '${self:provider.environment.CORS_ALLOW_ORIGINS}'}}",
                0,
            ),
            ("custom: {cors: {origin: '*'}}", 1),
            ("custom: {}", 1),
            ("service: x", 1),
        ];
        for (document, problems) in cases {
            assert_eq!(
                origin_problems(&yaml(document)).len(),
                problems,
                "{document}"
            );
        }
    }
}
