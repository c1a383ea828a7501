//! HTTP events built from real payloads, so tests send what AWS sends.
//!
//! REST v1 events start from the original article's event (AWS's REST proxy
//! example); HTTP API v2 events from the shape cargo-lambda's watcher sends.

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

impl Shape {
    /// Both shapes, for scenarios that must behave the same through each.
    pub const ALL: [Shape; 2] = [Shape::RestV1, Shape::HttpV2];

    /// An event for `method path` with an optional JSON body.
    pub fn event(self, method: &str, path: &str, body: Option<&str>) -> Value {
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        self.event_with(method, path, headers, body)
    }

    /// An event with explicit headers (replacing the defaults).
    pub fn event_with(
        self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Value {
        match self {
            Shape::RestV1 => rest_v1(method, path, headers, body),
            Shape::HttpV2 => http_v2(method, path, headers, body),
        }
    }
}

fn split_query(path: &str) -> (&str, &str) {
    path.split_once('?').unwrap_or((path, ""))
}

/// The article's REST v1 event with method, path, headers, query and body replaced.
pub fn rest_v1(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let mut event: Value =
        serde_json::from_str(ARTICLE_EVENT).expect("the article's event is JSON");
    let (path, query) = split_query(path);
    event["httpMethod"] = json!(method);
    event["path"] = json!(path);
    event["resource"] = json!("/{proxy+}");
    event["requestContext"]["httpMethod"] = json!(method);
    event["requestContext"]["resourcePath"] = json!("/{proxy+}");
    event["body"] = body.map_or(Value::Null, |b| json!(b));
    let mut single = serde_json::Map::new();
    let mut multi = serde_json::Map::new();
    single.insert(
        "Host".into(),
        json!("gy415nuibc.execute-api.us-east-1.amazonaws.com"),
    );
    multi.insert(
        "Host".into(),
        json!(["gy415nuibc.execute-api.us-east-1.amazonaws.com"]),
    );
    for (name, value) in headers {
        single.insert((*name).into(), json!(value));
        multi
            .entry(*name)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("array")
            .push(json!(value));
    }
    event["headers"] = Value::Object(single);
    event["multiValueHeaders"] = Value::Object(multi);
    // API Gateway REST decodes the query string before handing it over.
    let mut single_query = serde_json::Map::new();
    let mut multi_query = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        single_query.insert(key.into(), json!(value));
        multi_query
            .entry(key)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("array")
            .push(json!(value));
    }
    event["queryStringParameters"] = if single_query.is_empty() {
        Value::Null
    } else {
        Value::Object(single_query)
    };
    event["multiValueQueryStringParameters"] = if multi_query.is_empty() {
        Value::Null
    } else {
        Value::Object(multi_query)
    };
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
