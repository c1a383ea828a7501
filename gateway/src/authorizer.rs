//! The Lambda TOKEN authorizer in front of protected methods, as API
//! Gateway REST runs it: the token from the identity source (no header:
//! 401 without calling the function), the TOKEN event, the IAM policy
//! answer evaluated against the `methodArn` (an explicit `Deny` wins,
//! then an `Allow`), the policy cached by token for `resultTtlInSeconds`
//! and re-evaluated for every method it is reused on (why a policy must
//! cover the whole stage), the Lambda error `Unauthorized` as 401 and any
//! other failure as 500.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value as Json, json};
use serde_yaml_ng::Value;

use crate::invoke::{Invoker, Outcome};
use crate::responses::GatewayError;

/// `authorizer:` of an http event (osls syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerConfig {
    /// The function key in `functions.yml` (the cache is per authorizer).
    pub name: String,
    /// The binary that runs it.
    pub function: String,
    /// The request header holding the token.
    pub header: String,
    /// `resultTtlInSeconds` (osls default 300; 0 disables the cache).
    pub ttl: Duration,
}

impl AuthorizerConfig {
    /// Reads `authorizer: name` or `authorizer: {name, type, identitySource,
    /// resultTtlInSeconds}`; anything else is refused (not emulated).
    pub fn from_event(value: &Value, binaries: &BTreeMap<String, String>) -> Result<Self, String> {
        let (name, ttl, identity) = match value {
            Value::String(name) => (name.clone(), 300, None),
            Value::Mapping(_) => {
                for key in [
                    "arn",
                    "authorizerId",
                    "identityValidationExpression",
                    "claims",
                    "scopes",
                ] {
                    if value.get(key).is_some() {
                        return Err(format!("authorizer `{key}` is not emulated"));
                    }
                }
                let kind = value.get("type").and_then(Value::as_str).unwrap_or("token");
                if !kind.eq_ignore_ascii_case("token") {
                    return Err(format!(
                        "authorizer type `{kind}` is not emulated (only token)"
                    ));
                }
                let name = value
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or("authorizer needs a `name`")?
                    .to_owned();
                let ttl = match value.get("resultTtlInSeconds") {
                    None => 300,
                    Some(Value::Number(n)) => n.as_u64().ok_or("resultTtlInSeconds: 0 to 3600")?,
                    Some(Value::String(s)) => {
                        s.parse().map_err(|_| "resultTtlInSeconds: a number")?
                    }
                    Some(_) => return Err("resultTtlInSeconds: a number".into()),
                };
                let identity = value
                    .get("identitySource")
                    .map(|s| {
                        s.as_str()
                            .map(str::to_owned)
                            .ok_or("identitySource: a string")
                    })
                    .transpose()?;
                (name, ttl, identity)
            }
            _ => return Err("authorizer: a function name or a mapping".into()),
        };
        if ttl > 3600 {
            return Err("resultTtlInSeconds: at most 3600".into());
        }
        let identity = identity.unwrap_or_else(|| "method.request.header.Authorization".into());
        let header = identity
            .strip_prefix("method.request.header.")
            .filter(|h| !h.is_empty() && !h.contains(','))
            .ok_or_else(|| {
                format!("identitySource `{identity}`: a TOKEN authorizer reads one header")
            })?
            .to_owned();
        let function = binaries
            .get(&name)
            .cloned()
            .ok_or_else(|| format!("authorizer `{name}` is not a function of functions.yml"))?;
        Ok(Self {
            name,
            function,
            header,
            ttl: Duration::from_secs(ttl),
        })
    }
}

/// A verdict of the authorizer function (cached as is).
#[derive(Debug, Clone)]
struct Policy {
    principal_id: String,
    statements: Vec<Statement>,
    context: Map<String, Json>,
}

#[derive(Debug, Clone)]
struct Statement {
    allow: bool,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// Whether the cache answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// The method has no authorizer.
    None,
    /// The policy came from the cache.
    Hit,
    /// The authorizer function ran.
    Miss,
}

impl Cache {
    /// For the log line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "-",
            Self::Hit => "hit",
            Self::Miss => "miss",
        }
    }
}

/// The authorizers' cache, shared by every request.
#[derive(Debug, Default)]
pub struct Authorizers {
    cache: Mutex<HashMap<(String, String), (Instant, Policy)>>,
}

/// The parts of the request the authorizer needs.
#[derive(Debug)]
pub struct Ask<'a> {
    /// Its configuration.
    pub config: &'a AuthorizerConfig,
    /// The identity source header's value, if sent.
    pub token: Option<&'a str>,
    /// `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`.
    pub method_arn: &'a str,
}

impl Authorizers {
    /// Runs the authorizer for one request: `Ok` with the
    /// `requestContext.authorizer` object, or the gateway's answer.
    pub async fn authorize(
        &self,
        invoker: &Invoker,
        ask: &Ask<'_>,
        cache: &mut Cache,
    ) -> Result<Json, GatewayError> {
        let token = ask
            .token
            .filter(|t| !t.is_empty())
            .ok_or(GatewayError::Unauthorized)?;
        let key = (ask.config.name.clone(), token.to_owned());
        let cached = self.cached(&key);
        let started = Instant::now();
        let policy = match cached {
            Some(policy) => {
                *cache = Cache::Hit;
                policy
            }
            None => {
                *cache = Cache::Miss;
                let event = json!({
                    "type": "TOKEN",
                    "authorizationToken": token,
                    "methodArn": ask.method_arn,
                });
                let policy = match invoker
                    .invoke(&ask.config.function, &event.to_string())
                    .await
                {
                    Outcome::Answer(answer) => parse_policy(&answer).map_err(|e| {
                        eprintln!("gateway: authorizer {}: {e}", ask.config.name);
                        GatewayError::AuthorizerConfiguration
                    })?,
                    Outcome::FunctionError(error) => {
                        if error.get("errorMessage").and_then(Json::as_str) == Some("Unauthorized")
                        {
                            return Err(GatewayError::Unauthorized);
                        }
                        eprintln!("gateway: authorizer {} failed: {error}", ask.config.name);
                        return Err(GatewayError::AuthorizerConfiguration);
                    }
                    Outcome::Timeout | Outcome::Unreachable(_) => {
                        eprintln!("gateway: authorizer {} did not answer", ask.config.name);
                        return Err(GatewayError::AuthorizerConfiguration);
                    }
                };
                if !ask.config.ttl.is_zero() {
                    self.store(key, policy.clone(), ask.config.ttl);
                }
                policy
            }
        };
        evaluate(&policy, ask.method_arn)?;
        let mut authorizer = policy.context.clone();
        authorizer.insert(
            "principalId".into(),
            Json::String(policy.principal_id.clone()),
        );
        let latency = if *cache == Cache::Hit {
            0
        } else {
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
        };
        authorizer.insert("integrationLatency".into(), json!(latency));
        Ok(Json::Object(authorizer))
    }

    fn cached(&self, key: &(String, String)) -> Option<Policy> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        cache.retain(|_, (expires, _)| *expires > now);
        cache.get(key).map(|(_, policy)| policy.clone())
    }

    fn store(&self, key: (String, String), policy: Policy, ttl: Duration) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.insert(key, (Instant::now() + ttl, policy));
    }
}

fn one_or_many(value: Option<&Json>, what: &str) -> Result<Vec<String>, String> {
    match value {
        Some(Json::String(s)) => Ok(vec![s.clone()]),
        Some(Json::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{what}: strings"))
            })
            .collect(),
        _ => Err(format!("{what}: a string or a list of strings")),
    }
}

/// Reads the authorizer's answer as API Gateway does; anything else is an
/// `AuthorizerConfigurationException`.
fn parse_policy(answer: &Json) -> Result<Policy, String> {
    let principal_id = answer
        .get("principalId")
        .and_then(Json::as_str)
        .ok_or("no principalId string")?
        .to_owned();
    let document = answer.get("policyDocument").ok_or("no policyDocument")?;
    let statements = match document.get("Statement") {
        Some(Json::Array(items)) => items.clone(),
        Some(item @ Json::Object(_)) => vec![item.clone()],
        _ => return Err("policyDocument.Statement: a statement or a list".into()),
    };
    let statements = statements
        .iter()
        .map(|s| {
            let allow = match s.get("Effect").and_then(Json::as_str) {
                Some(e) if e.eq_ignore_ascii_case("allow") => true,
                Some(e) if e.eq_ignore_ascii_case("deny") => false,
                _ => return Err("Statement.Effect: Allow or Deny".to_owned()),
            };
            Ok(Statement {
                allow,
                actions: one_or_many(s.get("Action"), "Statement.Action")?,
                resources: one_or_many(s.get("Resource"), "Statement.Resource")?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let context = match answer.get("context") {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(context)) => {
            // API Gateway refuses nested values in the context.
            if let Some((key, _)) = context
                .iter()
                .find(|(_, v)| v.is_object() || v.is_array() || v.is_null())
            {
                return Err(format!("context.{key}: only strings, numbers and booleans"));
            }
            context.clone()
        }
        Some(_) => return Err("context: an object".into()),
    };
    Ok(Policy {
        principal_id,
        statements,
        context,
    })
}

fn evaluate(policy: &Policy, method_arn: &str) -> Result<(), GatewayError> {
    let applies = |s: &&Statement| {
        s.actions.iter().any(|a| wildcard(a, "execute-api:Invoke"))
            && s.resources.iter().any(|r| wildcard(r, method_arn))
    };
    if policy.statements.iter().filter(applies).any(|s| !s.allow) {
        return Err(GatewayError::ExplicitDeny);
    }
    if policy.statements.iter().filter(applies).any(|s| s.allow) {
        return Ok(());
    }
    Err(GatewayError::NotAllowed)
}

/// IAM wildcards: `*` any run of characters, `?` one character.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::{AuthorizerConfig, evaluate, parse_policy, wildcard};
    use crate::responses::GatewayError;
    use serde_json::json;
    use std::collections::BTreeMap;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:devgateway/dev/GET/api/v1/users";

    fn policy(statements: serde_json::Value) -> super::Policy {
        parse_policy(&json!({"principalId": "ada", "policyDocument": {"Version": "2012-10-17", "Statement": statements}}))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn policies_evaluate_like_iam() {
        let stage = "arn:aws:execute-api:eu-west-1:123456789012:devgateway/dev/*/*";
        let other = "arn:aws:execute-api:eu-west-1:123456789012:devgateway/dev/POST/api/v1/users";
        let allow =
            |r: &str| json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": r});
        let deny =
            |r: &str| json!({"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": r});
        let cases = [
            (json!([allow(stage)]), Ok(())),
            (json!(allow(ARN)), Ok(())),
            (json!([allow(other)]), Err(GatewayError::NotAllowed)),
            (json!([deny(stage)]), Err(GatewayError::ExplicitDeny)),
            (
                json!([allow(stage), deny(ARN)]),
                Err(GatewayError::ExplicitDeny),
            ),
            (
                json!([allow(other), deny(other)]),
                Err(GatewayError::NotAllowed),
            ),
            (
                json!([{"Effect": "Allow", "Action": ["execute-api:*"], "Resource": ["*"]}]),
                Ok(()),
            ),
            (
                json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]),
                Err(GatewayError::NotAllowed),
            ),
        ];
        for (statements, expected) in cases {
            assert_eq!(
                evaluate(&policy(statements.clone()), ARN),
                expected,
                "{statements}"
            );
        }
    }

    #[test]
    fn malformed_answers_are_configuration_errors() {
        let cases = [
            json!(null),
            json!({"policyDocument": {"Statement": []}}),
            json!({"principalId": "a"}),
            json!({"principalId": "a", "policyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}}),
            json!({"principalId": "a", "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "context": {"nested": {"a": 1}}}),
        ];
        for answer in cases {
            assert!(parse_policy(&answer).is_err(), "{answer}");
        }
    }

    #[test]
    fn wildcards() {
        let cases = [
            ("*", "anything", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbb", false),
            ("a?c", "abc", true),
            ("arn:*/dev/*/*", "arn:x/dev/GET/a/b", true),
            ("arn:*/prod/*/*", "arn:x/dev/GET/a/b", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(wildcard(pattern, text), expected, "{pattern} {text}");
        }
    }

    #[test]
    fn authorizer_settings_read_like_osls() {
        let binaries = BTreeMap::from([("authorizer".to_owned(), "authorizer-bin".to_owned())]);
        let read = |yaml: &str| {
            let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).unwrap_or_default();
            AuthorizerConfig::from_event(&value, &binaries)
        };
        let full = read("{name: authorizer, identitySource: method.request.header.Authorization, resultTtlInSeconds: 0, type: token}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                full.function.as_str(),
                full.header.as_str(),
                full.ttl.as_secs()
            ),
            ("authorizer-bin", "Authorization", 0)
        );
        let short = read("authorizer").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(short.ttl.as_secs(), 300);
        for refused in [
            "{name: authorizer, type: request}",
            "{name: missing}",
            "{name: authorizer, identitySource: 'method.request.header.A, method.request.querystring.b'}",
            "{name: authorizer, resultTtlInSeconds: 4000}",
            "{arn: 'arn:aws:lambda:x'}",
        ] {
            assert!(read(refused).is_err(), "{refused}");
        }
    }
}
