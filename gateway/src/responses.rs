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

/// A text value of the template: a scalar with its variables resolved, or
/// the `Fn::Join` / `Fn::Select` (over `Fn::Split`) that CloudFormation
/// evaluates at deploy time, evaluated here the same way.
fn yaml_text(value: &Value, vars: &Vars) -> Result<String, String> {
    match value {
        Value::String(s) => vars.resolve(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Mapping(_) => {
            if let Some(args) = value.get("Fn::Join") {
                let [separator, items] = two_args(args, "Fn::Join")?;
                return Ok(yaml_list(items, vars)?.join(&yaml_text(separator, vars)?));
            }
            if let Some(args) = value.get("Fn::Select") {
                let [index, items] = two_args(args, "Fn::Select")?;
                let index: usize = yaml_text(index, vars)?
                    .parse()
                    .map_err(|e| format!("Fn::Select index: {e}"))?;
                let items = yaml_list(items, vars)?;
                return items.get(index).cloned().ok_or_else(|| {
                    format!("Fn::Select: no item {index} in a list of {}", items.len())
                });
            }
            Err("expected a string, Fn::Join or Fn::Select".into())
        }
        _ => Err("expected a string".into()),
    }
}

/// A list value: a YAML list of texts, or `Fn::Split`.
fn yaml_list(value: &Value, vars: &Vars) -> Result<Vec<String>, String> {
    if let Value::Sequence(items) = value {
        return items.iter().map(|item| yaml_text(item, vars)).collect();
    }
    if let Some(args) = value.get("Fn::Split") {
        let [separator, text] = two_args(args, "Fn::Split")?;
        let separator = yaml_text(separator, vars)?;
        let text = yaml_text(text, vars)?;
        return Ok(text.split(separator.as_str()).map(str::to_owned).collect());
    }
    Err("expected a list or Fn::Split".into())
}

fn two_args<'v>(args: &'v Value, function: &str) -> Result<[&'v Value; 2], String> {
    match args.as_sequence().map(Vec::as_slice) {
        Some([first, second]) => Ok([first, second]),
        _ => Err(format!("{function} takes a list of two arguments")),
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
    fn the_intrinsics_of_the_header_mappings_evaluate_like_cloudformation() {
        let mut vars = Vars::default();
        vars.options.insert(
            "origins".into(),
            "https://a.example,https://b.example".into(),
        );
        let first_origin = r#"{"Fn::Join": ["", ["'", {"Fn::Select": [0, {"Fn::Split": [",", "${opt:origins}"]}]}, "'"]]}"#;
        let cases = [
            (first_origin, Ok("'https://a.example'")),
            (r#"{"Fn::Select": [1, ["x", "y"]]}"#, Ok("y")),
            (r#"{"Fn::Join": ["-", ["a", 1, true]]}"#, Ok("a-1-true")),
            (
                r#"{"Fn::Select": [2, {"Fn::Split": [",", "a,b"]}]}"#,
                Err("Fn::Select: no item 2 in a list of 2"),
            ),
            (
                r#"{"Fn::Join": [","]}"#,
                Err("Fn::Join takes a list of two arguments"),
            ),
            (
                r#"{"Fn::GetAtt": ["A", "B"]}"#,
                Err("expected a string, Fn::Join or Fn::Select"),
            ),
        ];
        for (yaml, expected) in cases {
            let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap_or_default();
            let got = yaml_text(&value, &vars);
            assert_eq!(got.as_deref().map_err(String::as_str), expected, "{yaml}");
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
