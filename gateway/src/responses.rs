//! API Gateway's own answers (gateway responses): each error the gateway
//! produces is one [`GatewayError`], mapped to its response type, default
//! status and default body as AWS answers them, then customized by the
//! `AWS::ApiGateway::GatewayResponse` resources of `serverless.yml` the way
//! API Gateway applies them (the type's own entry, else `DEFAULT_4XX` /
//! `DEFAULT_5XX`; a `StatusCode` on a default entry changes every status of
//! its class).

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_yaml_ng::{Mapping, Value};

use crate::vars::Vars;

/// Everything the gateway itself answers instead of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayError {
    /// No resource, or not that method on it.
    MissingAuthenticationToken,
    /// No token, or the authorizer said `Unauthorized`.
    Unauthorized,
    /// The policy denies explicitly.
    ExplicitDeny,
    /// The policy allows other resources only.
    NotAllowed,
    /// The authorizer failed, or answered something that is not a policy.
    AuthorizerConfiguration,
    /// The request body is over 10 MB.
    RequestTooLarge,
    /// The function error, a malformed answer, or no answer.
    Integration,
    /// No answer within the integration timeout.
    IntegrationTimeout,
    /// The first path segment is not the stage.
    UnknownStage,
}

struct Default_ {
    response_type: &'static str,
    status: u16,
    error_type: &'static str,
    message: Option<&'static str>,
    // ACCESS_DENIED from a Lambda authorizer policy has a capital `Message`.
    key: &'static str,
}

impl GatewayError {
    fn default(self) -> Default_ {
        let (response_type, status, error_type, message, key) = match self {
            Self::MissingAuthenticationToken => (
                "MISSING_AUTHENTICATION_TOKEN",
                403,
                "MissingAuthenticationTokenException",
                Some("Missing Authentication Token"),
                "message",
            ),
            Self::Unauthorized => (
                "UNAUTHORIZED",
                401,
                "UnauthorizedException",
                Some("Unauthorized"),
                "message",
            ),
            Self::ExplicitDeny => (
                "ACCESS_DENIED",
                403,
                "AccessDeniedException",
                Some("User is not authorized to access this resource with an explicit deny"),
                "Message",
            ),
            Self::NotAllowed => (
                "ACCESS_DENIED",
                403,
                "AccessDeniedException",
                Some("User is not authorized to access this resource"),
                "Message",
            ),
            Self::AuthorizerConfiguration => (
                "AUTHORIZER_CONFIGURATION_ERROR",
                500,
                "AuthorizerConfigurationException",
                None,
                "message",
            ),
            Self::RequestTooLarge => (
                "REQUEST_TOO_LARGE",
                413,
                "RequestTooLargeException",
                Some("Request Too Long"),
                "message",
            ),
            // A Lambda proxy error has no response type of its own.
            Self::Integration => (
                "DEFAULT_5XX",
                502,
                "InternalServerErrorException",
                Some("Internal server error"),
                "message",
            ),
            Self::IntegrationTimeout => (
                "INTEGRATION_TIMEOUT",
                504,
                "InternalServerErrorException",
                Some("Endpoint request timed out"),
                "message",
            ),
            Self::UnknownStage => ("", 403, "ForbiddenException", Some("Forbidden"), "message"),
        };
        Default_ {
            response_type,
            status,
            error_type,
            message,
            key,
        }
    }
}

/// One `AWS::ApiGateway::GatewayResponse`.
#[derive(Debug, Clone, Default)]
struct Custom {
    status: Option<u16>,
    /// `gatewayresponse.header.X` to `'literal'` or `method.request.header.Y`.
    headers: Vec<(String, String)>,
    /// The `application/json` template.
    template: Option<String>,
}

/// The customizations of the API, by response type.
#[derive(Debug, Clone, Default)]
pub struct GatewayResponses {
    by_type: BTreeMap<String, Custom>,
}

/// An answer built by the gateway.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body (JSON).
    pub body: String,
}

/// What a template may refer to about the request.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts<'a> {
    /// `$context.requestId`.
    pub request_id: &'a str,
    /// `$context.path` (with the stage).
    pub path: &'a str,
    /// `$context.stage`.
    pub stage: &'a str,
    /// `$context.resourcePath`.
    pub resource_path: &'a str,
    /// `$context.httpMethod`.
    pub method: &'a str,
    /// Request headers, lower-case names.
    pub headers: Vec<(String, String)>,
}

fn yaml_text(value: &Value, vars: &Vars) -> Result<String, String> {
    match evaluate(value, vars)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err("expected a string".into()),
    }
}

/// `value` with its osls variables resolved and the CloudFormation
/// functions serverless.yml applies to literals (`Fn::Join`, `Fn::Select`,
/// `Fn::Split`, as in the first-origin CORS header) evaluated as
/// CloudFormation does; other mappings are left as they are.
fn evaluate(value: &Value, vars: &Vars) -> Result<Value, String> {
    let list = |arg: &Value, name: &str| -> Result<Vec<Value>, String> {
        match evaluate(arg, vars)? {
            Value::Sequence(items) => Ok(items),
            _ => Err(format!("{name} takes a list")),
        }
    };
    let text = |item: Option<&Value>, name: &str| -> Result<String, String> {
        match item {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(format!("{name}: expected a string")),
        }
    };
    if let Value::Mapping(map) = value
        && map.len() == 1
        && let Some((Value::String(function), arg)) = map.iter().next()
    {
        match function.as_str() {
            "Fn::Join" => {
                let args = list(arg, function)?;
                let separator = text(args.first(), function)?;
                let parts = match args.get(1) {
                    Some(Value::Sequence(parts)) => parts,
                    _ => return Err("Fn::Join: [separator, [parts]]".into()),
                };
                let parts = parts
                    .iter()
                    .map(|p| text(Some(p), function))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(Value::String(parts.join(&separator)));
            }
            "Fn::Select" => {
                let args = list(arg, function)?;
                let index: usize = text(args.first(), function)?
                    .parse()
                    .map_err(|_| "Fn::Select: the index is a number")?;
                return match args.get(1) {
                    Some(Value::Sequence(items)) => items
                        .get(index)
                        .cloned()
                        .ok_or_else(|| format!("Fn::Select: no item {index}")),
                    _ => Err("Fn::Select: [index, [items]]".into()),
                };
            }
            "Fn::Split" => {
                let args = list(arg, function)?;
                let separator = text(args.first(), function)?;
                let whole = text(args.get(1), function)?;
                return Ok(Value::Sequence(
                    whole
                        .split(separator.as_str())
                        .map(|p| Value::String(p.to_owned()))
                        .collect(),
                ));
            }
            _ => {}
        }
    }
    match value {
        Value::String(s) => vars.resolve(s).map(Value::String),
        Value::Sequence(items) => items
            .iter()
            .map(|v| evaluate(v, vars))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Sequence),
        other => Ok(other.clone()),
    }
}

impl GatewayResponses {
    /// Reads the gateway responses among `resources` (`resources.Resources`).
    pub fn from_resources(resources: Option<&Mapping>, vars: &Vars) -> Result<Self, String> {
        let mut by_type = BTreeMap::new();
        for (name, resource) in resources.into_iter().flatten() {
            if resource.get("Type").and_then(Value::as_str)
                != Some("AWS::ApiGateway::GatewayResponse")
            {
                continue;
            }
            let name = name.as_str().unwrap_or("?");
            let context = |e: String| format!("resources.Resources.{name}: {e}");
            let properties = resource
                .get("Properties")
                .ok_or_else(|| context("no Properties".into()))?;
            let response_type = properties
                .get("ResponseType")
                .and_then(Value::as_str)
                .ok_or_else(|| context("no ResponseType".into()))?;
            let status = properties
                .get("StatusCode")
                .map(|s| {
                    yaml_text(s, vars)?
                        .parse::<u16>()
                        .map_err(|e| format!("StatusCode: {e}"))
                })
                .transpose()
                .map_err(context)?;
            let mut headers = Vec::new();
            for (key, value) in properties
                .get("ResponseParameters")
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
            {
                let key = key.as_str().unwrap_or_default();
                let header = key
                    .strip_prefix("gatewayresponse.header.")
                    .ok_or_else(|| context(format!("ResponseParameters key `{key}`")))?;
                headers.push((header.to_owned(), yaml_text(value, vars).map_err(context)?));
            }
            let template = properties
                .get("ResponseTemplates")
                .and_then(|t| t.get("application/json"))
                .map(|t| yaml_text(t, vars))
                .transpose()
                .map_err(context)?;
            by_type.insert(
                response_type.to_owned(),
                Custom {
                    status,
                    headers,
                    template,
                },
            );
        }
        Ok(Self { by_type })
    }

    /// The answer for `error` on a request described by `facts`.
    pub fn answer(&self, error: GatewayError, facts: &RequestFacts<'_>) -> Answer {
        let default = error.default();
        let class_default = if default.status >= 500 {
            "DEFAULT_5XX"
        } else {
            "DEFAULT_4XX"
        };
        // The stage check happens before the API's own configuration.
        let (own, fallback) = if default.response_type.is_empty() {
            (None, None)
        } else {
            (
                self.by_type.get(default.response_type),
                self.by_type.get(class_default),
            )
        };
        let custom = own.or(fallback);
        let status = own
            .and_then(|c| c.status)
            .or(fallback.and_then(|c| c.status))
            .unwrap_or(default.status);
        let body = match custom.and_then(|c| c.template.as_deref()) {
            Some(template) => render(template, default.message, default.response_type, facts),
            None => {
                let mut body = serde_json::Map::new();
                body.insert(
                    default.key.into(),
                    default
                        .message
                        .map_or(Json::Null, |m| Json::String(m.into())),
                );
                Json::Object(body).to_string()
            }
        };
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("x-amzn-ErrorType".to_owned(), default.error_type.to_owned()),
        ];
        for (name, source) in custom.map(|c| c.headers.as_slice()).unwrap_or_default() {
            if let Some(value) = parameter(source, facts) {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                headers.push((name.clone(), value));
            }
        }
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// A response parameter's value: `'literal'` or `method.request.header.X`.
fn parameter(source: &str, facts: &RequestFacts<'_>) -> Option<String> {
    if let Some(literal) = source.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Some(literal.to_owned());
    }
    let name = source.strip_prefix("method.request.header.")?;
    facts
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// The `$context` variables of a gateway response template (no VTL
/// directives: API Gateway does not run VTL in gateway responses).
fn render(
    template: &str,
    message: Option<&str>,
    response_type: &str,
    facts: &RequestFacts<'_>,
) -> String {
    let message_string =
        message.map_or_else(|| "null".into(), |m| Json::String(m.into()).to_string());
    let variables = [
        ("$context.error.messageString", message_string),
        (
            "$context.error.message",
            message.unwrap_or_default().to_owned(),
        ),
        ("$context.error.responseType", response_type.to_owned()),
        ("$context.requestId", facts.request_id.to_owned()),
        ("$context.resourcePath", facts.resource_path.to_owned()),
        ("$context.httpMethod", facts.method.to_owned()),
        ("$context.stage", facts.stage.to_owned()),
        ("$context.path", facts.path.to_owned()),
    ];
    let mut out = template.to_owned();
    // Longest names first: `message` is a prefix of `messageString`.
    for (name, value) in variables {
        for form in [
            format!("$context{}", &name[8..]),
            format!("${{context{}}}", &name[8..]),
        ] {
            out = out.replace(&form, &value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{GatewayError, GatewayResponses, RequestFacts, yaml_text};
    use crate::vars::Vars;

    #[test]
    fn the_cloudformation_functions_on_literals_evaluate_like_cloudformation() {
        let cases = [
            (
                "{Fn::Join: ['', [\"'\", {Fn::Select: [0, {Fn::Split: [',', 'https://a.example,https://b.example']}]}, \"'\"]]}",
                Some("'https://a.example'"),
            ),
            ("{Fn::Join: ['-', [a, b]]}", Some("a-b")),
            ("{Fn::Select: [2, [a, b]]}", None),
            ("{Fn::Split: [',', 'a,b']}", None),
            ("{Fn::GetAtt: [A, Arn]}", None),
            ("'plain'", Some("plain")),
        ];
        for (yaml, expected) in cases {
            let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap_or_default();
            assert_eq!(
                yaml_text(&value, &Vars::default()).ok().as_deref(),
                expected,
                "{yaml}"
            );
        }
    }

    fn facts() -> RequestFacts<'static> {
        RequestFacts {
            request_id: "req-1",
            headers: vec![("origin".into(), "https://app.example".into())],
            ..RequestFacts::default()
        }
    }

    #[test]
    fn aws_defaults_without_customization() {
        let responses = GatewayResponses::default();
        let cases = [
            (
                GatewayError::MissingAuthenticationToken,
                403,
                r#"{"message":"Missing Authentication Token"}"#,
            ),
            (
                GatewayError::Unauthorized,
                401,
                r#"{"message":"Unauthorized"}"#,
            ),
            (
                GatewayError::ExplicitDeny,
                403,
                r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
            ),
            (
                GatewayError::AuthorizerConfiguration,
                500,
                r#"{"message":null}"#,
            ),
            (
                GatewayError::Integration,
                502,
                r#"{"message":"Internal server error"}"#,
            ),
            (
                GatewayError::IntegrationTimeout,
                504,
                r#"{"message":"Endpoint request timed out"}"#,
            ),
            (
                GatewayError::RequestTooLarge,
                413,
                r#"{"message":"Request Too Long"}"#,
            ),
            (
                GatewayError::UnknownStage,
                403,
                r#"{"message":"Forbidden"}"#,
            ),
        ];
        for (error, status, body) in cases {
            let answer = responses.answer(error, &facts());
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (status, body),
                "{error:?}"
            );
        }
    }

    #[test]
    fn serverless_yml_gateway_responses_apply() {
        let yaml = r#"
NotFound:
  Type: AWS::ApiGateway::GatewayResponse
  Properties:
    ResponseType: MISSING_AUTHENTICATION_TOKEN
    StatusCode: '404'
    RestApiId: {Ref: ApiGatewayRestApi}
    ResponseTemplates:
      application/json: '{"message": "Not Found"}'
    ResponseParameters:
      gatewayresponse.header.Access-Control-Allow-Origin: "'${env:GATEWAY_TEST_UNSET_VAR, '*'}'"
Default4xx:
  Type: AWS::ApiGateway::GatewayResponse
  Properties:
    ResponseType: DEFAULT_4XX
    ResponseTemplates:
      application/json: '{"message": $context.error.messageString, "id": "$context.requestId"}'
    ResponseParameters:
      gatewayresponse.header.Access-Control-Allow-Origin: method.request.header.Origin
Table:
  Type: AWS::DynamoDB::Table
"#;
        let resources: serde_yaml_ng::Mapping = serde_yaml_ng::from_str(yaml).unwrap_or_default();
        let responses = GatewayResponses::from_resources(Some(&resources), &Vars::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let not_found = responses.answer(GatewayError::MissingAuthenticationToken, &facts());
        assert_eq!(not_found.status, 404);
        assert_eq!(not_found.body, r#"{"message": "Not Found"}"#);
        assert!(
            not_found
                .headers
                .contains(&("Access-Control-Allow-Origin".into(), "*".into()))
        );
        let unauthorized = responses.answer(GatewayError::Unauthorized, &facts());
        assert_eq!(unauthorized.status, 401);
        assert_eq!(
            unauthorized.body,
            r#"{"message": "Unauthorized", "id": "req-1"}"#
        );
        assert!(unauthorized.headers.contains(&(
            "Access-Control-Allow-Origin".into(),
            "https://app.example".into()
        )));
        let failure = responses.answer(GatewayError::Integration, &facts());
        assert_eq!(failure.body, r#"{"message":"Internal server error"}"#);
    }
}
