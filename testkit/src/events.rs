//! HTTP events built from real payloads, so tests send what AWS sends.
//!
//! REST v1 events start from the original article's event (AWS's REST proxy
//! example); HTTP API v2 events from the shape cargo-lambda's watcher sends.
//!
//! [`Shape::event`] and [`Shape::event_with`] come from a [`Caller`] that
//! holds every scope of the API ([`Caller::full`]), as the authorizer
//! context API Gateway adds once it has verified a token: REST's Lambda
//! authorizer context, HTTP API's JWT claims. [`Shape::event_as`] sends
//! another caller, or none. [`function_url`] events carry no authorizer
//! context: their caller is the bearer token, if any.

use serde_json::{Value, json};

const ARTICLE_EVENT: &str =
    include_str!("../../shared/tests/fixtures/article-rest-v1-get-ping.json");

/// Which event shape a request travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// API Gateway REST proxy (production).
    RestV1,
    /// HTTP API payload 2.0 (`cargo lambda watch`, Function URLs).
    HttpV2,
}

/// The subject of [`Caller::full`].
pub const TEST_SUBJECT: &str = "testkit-user";
/// Every scope the API's routes require.
pub const ALL_SCOPES: &str = "users:read users:write";

/// Who sends a test event, as API Gateway's authorizer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// No authorizer context (a public route, or a request API Gateway
    /// would not have let through).
    Anonymous,
    /// A verified caller with these scopes (space-separated).
    Principal {
        /// The token's `sub`.
        subject: &'a str,
        /// The granted scopes, space-separated (`scope` claim).
        scope: &'a str,
    },
}

impl Caller<'static> {
    /// [`TEST_SUBJECT`] with [`ALL_SCOPES`]: the caller of default events.
    pub const fn full() -> Self {
        Self::Principal {
            subject: TEST_SUBJECT,
            scope: ALL_SCOPES,
        }
    }
}

impl Caller<'_> {
    /// Adds this caller to `event` of `shape` as API Gateway does: REST's
    /// Lambda authorizer context (`principalId`, `sub`, `scope`), HTTP
    /// API's JWT authorizer claims.
    pub fn authorize(self, shape: Shape, event: &mut Value) {
        let Self::Principal { subject, scope } = self else {
            return;
        };
        event["requestContext"]["authorizer"] = match shape {
            Shape::RestV1 => json!({
                "principalId": subject,
                "sub": subject,
                "scope": scope,
                "integrationLatency": 0,
            }),
            Shape::HttpV2 => json!({
                "jwt": {
                    "claims": {"sub": subject, "scope": scope, "iss": "https://issuer.test"},
                    "scopes": null,
                }
            }),
        };
    }
}

impl Shape {
    /// Both shapes, for scenarios that must behave the same through each.
    pub const ALL: [Shape; 2] = [Shape::RestV1, Shape::HttpV2];

    /// An event for `method path` with an optional JSON body, from
    /// [`Caller::full`].
    pub fn event(self, method: &str, path: &str, body: Option<&str>) -> Value {
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        self.event_with(method, path, headers, body)
    }

    /// An event with explicit headers (replacing the defaults), from
    /// [`Caller::full`].
    pub fn event_with(
        self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Value {
        self.event_as(Caller::full(), method, path, headers, body)
    }

    /// An event from `caller`, with explicit headers.
    pub fn event_as(
        self,
        caller: Caller<'_>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Value {
        let mut event = match self {
            Shape::RestV1 => rest_v1(method, path, headers, body),
            Shape::HttpV2 => http_v2(method, path, headers, body),
        };
        caller.authorize(self, &mut event);
        event
    }
}

fn split_query(path: &str) -> (&str, &str) {
    path.split_once('?').unwrap_or((path, ""))
}

/// The article's REST v1 event with method, path, headers, query and body
/// replaced: [`RestV1Event`] with only a `Host` header and `headers`.
pub fn rest_v1(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let mut event = RestV1Event::article().request(method, path).body(body);
    event.clear_headers();
    for (name, value) in headers {
        event = event.header(name, value);
    }
    event.build()
}

/// The one REST v1 (API Gateway proxy) event builder, from a template:
/// the article's event by default. Tests use it through [`rest_v1`],
/// scripts through `cargo run -q -p testkit --bin event`.
#[derive(Debug, Clone)]
pub struct RestV1Event {
    event: Value,
    /// Header names set by [`RestV1Event::header`] (lowercase): a second
    /// value of one of these is added, not replacing the first.
    added: Vec<String>,
}

impl RestV1Event {
    /// The original article's event (`GET /ping`), as AWS's REST proxy example sends it.
    pub fn article() -> Self {
        Self::from_template(
            serde_json::from_str(ARTICLE_EVENT).expect("the article's event is JSON"),
        )
    }

    /// Starts from `template`, a REST v1 event.
    pub fn from_template(template: Value) -> Self {
        Self {
            event: template,
            added: Vec::new(),
        }
    }

    /// Sets the method and the path; the query string of `path` becomes
    /// both query maps, percent-decoded as API Gateway REST hands them over
    /// (`null` without one).
    pub fn request(mut self, method: &str, path: &str) -> Self {
        let (path, query) = split_query(path);
        let event = &mut self.event;
        event["httpMethod"] = json!(method);
        event["path"] = json!(path);
        event["resource"] = json!("/{proxy+}");
        event["requestContext"]["httpMethod"] = json!(method);
        event["requestContext"]["resourcePath"] = json!("/{proxy+}");
        let mut single = serde_json::Map::new();
        let mut multi = serde_json::Map::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (key, value) = (decode(key), decode(value));
            single.insert(key.clone(), json!(value));
            push(&mut multi, key, &value);
        }
        let or_null = |map: serde_json::Map<String, Value>| {
            if map.is_empty() {
                Value::Null
            } else {
                Value::Object(map)
            }
        };
        event["queryStringParameters"] = or_null(single);
        event["multiValueQueryStringParameters"] = or_null(multi);
        self
    }

    /// Drops every header of the template but `Host` (the default
    /// execute-api host when the template has none).
    pub fn clear_headers(&mut self) {
        let host = self.event["headers"]
            .as_object()
            .and_then(|h| h.iter().find(|(n, _)| n.eq_ignore_ascii_case("host")))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("gy415nuibc.execute-api.us-east-1.amazonaws.com")
            .to_owned();
        self.event["headers"] = json!({ "Host": host });
        self.event["multiValueHeaders"] = json!({ "Host": [host] });
        self.added.clear();
    }

    /// Sets a header: the template's values of that name (any case) are
    /// replaced; values added by earlier calls are kept, so a repeated name
    /// is listed in `multiValueHeaders` (and `headers` holds the last).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        for key in ["headers", "multiValueHeaders"] {
            if !self.event[key].is_object() {
                self.event[key] = json!({});
            }
        }
        if !self.added.contains(&lower) {
            for key in ["headers", "multiValueHeaders"] {
                if let Some(map) = self.event[key].as_object_mut() {
                    map.retain(|n, _| !n.eq_ignore_ascii_case(name));
                }
            }
            self.added.push(lower);
        }
        // A repeated name keeps the spelling of its first value.
        let key = |map: &serde_json::Map<String, Value>| {
            map.keys()
                .find(|n| n.eq_ignore_ascii_case(name))
                .cloned()
                .unwrap_or_else(|| name.to_owned())
        };
        if let Some(single) = self.event["headers"].as_object_mut() {
            single.insert(key(single), json!(value));
        }
        if let Some(multi) = self.event["multiValueHeaders"].as_object_mut() {
            push(multi, key(multi), value);
        }
        self
    }

    /// Sets the body (`null` for none), sent as text.
    pub fn body(mut self, body: Option<&str>) -> Self {
        self.event["body"] = body.map_or(Value::Null, |b| json!(b));
        self.event["isBase64Encoded"] = json!(false);
        self
    }

    /// Sets `requestContext.requestId`, the request id the function logs.
    pub fn request_id(mut self, id: &str) -> Self {
        self.event["requestContext"]["requestId"] = json!(id);
        self
    }

    /// The event.
    pub fn build(self) -> Value {
        self.event
    }
}

/// Appends `value` to the list of `key`.
fn push(map: &mut serde_json::Map<String, Value>, key: String, value: &str) {
    let values = map.entry(key).or_insert_with(|| json!([]));
    if let Some(values) = values.as_array_mut() {
        values.push(json!(value));
    }
}

/// Percent-decodes one query component (`+` is a space), as API Gateway does.
fn decode(raw: &str) -> String {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// AWS's Function URL request example (payload 2.0, its own domain, an
/// IAM `authorizer` and no API Gateway one).
const FUNCTION_URL_EVENT: &str =
    include_str!("../../shared/tests/fixtures/function-url-aws-example.json");

/// A Function URL event for `method path` with exactly `headers` (and the
/// URL's `host`): AWS's example with the request replaced. It passes no
/// authorizer, so a protected route needs a bearer token the function
/// verifies itself.
pub fn function_url(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Value {
    let (path, query) = split_query(path);
    let mut event: Value =
        serde_json::from_str(FUNCTION_URL_EVENT).expect("the Function URL example is JSON");
    let host = event["requestContext"]["domainName"].clone();
    let mut header_map = serde_json::Map::new();
    header_map.insert("host".into(), host);
    for (name, value) in headers {
        header_map.insert(name.to_ascii_lowercase(), json!(value));
    }
    let mut single = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        single.insert(decode(key), json!(decode(value)));
    }
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["queryStringParameters"] = if single.is_empty() {
        Value::Null
    } else {
        Value::Object(single)
    };
    event["headers"] = Value::Object(header_map);
    event["cookies"] = Value::Null;
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["body"] = body.map_or(Value::Null, |b| json!(b));
    event["isBase64Encoded"] = json!(false);
    event
}

/// An HTTP API v2 event as cargo-lambda's watcher builds it (`$default` stage).
pub fn http_v2(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let (path, query) = split_query(path);
    let mut header_map = serde_json::Map::new();
    header_map.insert("host".into(), json!("127.0.0.1:9000"));
    for (name, value) in headers {
        header_map.insert(name.to_ascii_lowercase(), json!(value));
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": header_map,
        "requestContext": {
            "routeKey": "$default",
            "stage": "$default",
            "requestId": "test-request",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "testkit"
            },
            "timeEpoch": 0
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rest_v1_builder_sets_what_it_is_given() {
        let event = RestV1Event::article()
            .request("POST", "/api/v1/users?tag=a%20b&tag=c+d&empty=")
            .body(Some(r#"{"name":"Ada"}"#))
            .header("content-type", "text/plain")
            .header("X-Twice", "1")
            .header("x-twice", "2")
            .request_id("id-1")
            .build();
        assert_eq!(event["httpMethod"], "POST");
        assert_eq!(event["path"], "/api/v1/users");
        assert_eq!(event["requestContext"]["httpMethod"], "POST");
        assert_eq!(event["requestContext"]["requestId"], "id-1");
        assert_eq!(event["body"], r#"{"name":"Ada"}"#);
        assert_eq!(
            event["queryStringParameters"],
            json!({"tag": "c d", "empty": ""})
        );
        assert_eq!(
            event["multiValueQueryStringParameters"],
            json!({"tag": ["a b", "c d"], "empty": [""]})
        );
        // The template's `Content-Type` is replaced, whatever its case.
        assert_eq!(event["headers"]["content-type"], "text/plain");
        assert!(event["headers"].get("Content-Type").is_none());
        assert_eq!(
            event["multiValueHeaders"]["content-type"],
            json!(["text/plain"])
        );
        assert_eq!(event["multiValueHeaders"]["X-Twice"], json!(["1", "2"]));
        assert_eq!(event["headers"]["X-Twice"], "2");
        // The template's other headers stay.
        assert_eq!(event["headers"]["headerName"], "headerValue");
    }

    #[test]
    fn test_events_carry_only_the_headers_given() {
        let event = rest_v1("GET", "/ping", &[("accept", "a/b")], None);
        assert_eq!(
            event["headers"],
            json!({"Host": "gy415nuibc.execute-api.us-east-1.amazonaws.com", "accept": "a/b"})
        );
        assert_eq!(event["body"], Value::Null);
        assert_eq!(event["queryStringParameters"], Value::Null);
        assert_eq!(event["multiValueQueryStringParameters"], Value::Null);
    }
}
