//! The REST proxy event (payload 1.0), built the way API Gateway builds it
//! for a Lambda proxy integration: every key of AWS's documented example,
//! `null` for absent maps, the last value in `headers` /
//! `queryStringParameters` and every value in the `multiValue*` twins,
//! decoded path and query, and the headers API Gateway adds
//! (`X-Forwarded-*`, `X-Amzn-Trace-Id`).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value as Json, json};

use crate::config::{ACCOUNT_ID, API_ID, Api};

/// One HTTP request as the gateway received it.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Upper-case method.
    pub method: String,
    /// The path after the stage, still percent-encoded (`/api/v1/users/1`).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// Headers in arrival order (names as received).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The client's address.
    pub source_ip: String,
    /// The port the gateway listens on.
    pub port: u16,
}

impl Incoming {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Ids and times of one request, shared by the event, the authorizer and
/// the log line.
#[derive(Debug, Clone)]
pub struct RequestIds {
    /// `requestContext.requestId` and `x-amzn-RequestId`.
    pub request_id: String,
    /// `requestContext.extendedRequestId` and `x-amz-apigw-id`.
    pub extended_request_id: String,
    /// `X-Amzn-Trace-Id`.
    pub trace_id: String,
    /// Milliseconds since the epoch.
    pub epoch_ms: u64,
}

impl RequestIds {
    /// Fresh ids for a request arriving now.
    pub fn new() -> Self {
        let now = SystemTime::now();
        let epoch_ms = now
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or_default();
        let random = uuid::Uuid::now_v7();
        let extended = uuid::Uuid::now_v7();
        let trace = uuid::Uuid::now_v7().simple().to_string();
        Self {
            request_id: random.to_string(),
            // API Gateway's look: 16 characters of base64.
            extended_request_id: STANDARD.encode(&extended.as_bytes()[5..16]),
            trace_id: format!("Root=1-{:08x}-{}", epoch_ms / 1000, &trace[..24]),
            epoch_ms,
        }
    }

    /// `requestContext.requestTime`: `15/May/2020:06:01:09 +0000`.
    pub fn request_time(&self) -> String {
        let time = UNIX_EPOCH + std::time::Duration::from_millis(self.epoch_ms);
        // `2020-05-15T06:01:09Z`
        let iso = humantime::format_rfc3339_seconds(time).to_string();
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = iso
            .get(5..7)
            .and_then(|m| m.parse::<usize>().ok())
            .and_then(|m| months.get(m.wrapping_sub(1)))
            .copied()
            .unwrap_or("Jan");
        format!(
            "{}/{month}/{}:{} +0000",
            iso.get(8..10).unwrap_or("01"),
            iso.get(0..4).unwrap_or("1970"),
            iso.get(11..19).unwrap_or("00:00:00"),
        )
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

/// What matched: the resource template and its path parameters.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// `/api/v1/users/{id}`.
    pub resource: &'a str,
    /// Decoded `pathParameters`.
    pub params: &'a BTreeMap<String, String>,
    /// `requestContext.authorizer`, for a protected method.
    pub authorizer: Option<Json>,
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// `{"k": last}` and `{"k": [all]}`, or `null` twice when empty.
fn single_and_multi(pairs: &[(String, String)]) -> (Json, Json) {
    if pairs.is_empty() {
        return (Json::Null, Json::Null);
    }
    let (mut single, mut multi) = (Map::new(), Map::<String, Json>::new());
    for (name, value) in pairs {
        single.insert(name.clone(), Json::String(value.clone()));
        match multi.get_mut(name) {
            Some(Json::Array(values)) => values.push(Json::String(value.clone())),
            _ => {
                multi.insert(name.clone(), json!([value]));
            }
        }
    }
    (Json::Object(single), Json::Object(multi))
}

/// Whether `content_type` is one of the binary media types (`*/*`,
/// `image/*` or exact, parameters ignored).
pub fn is_binary(content_type: Option<&str>, binary_media_types: &[String]) -> bool {
    let Some(essence) = content_type
        .and_then(|c| c.split(';').next())
        .map(str::trim)
    else {
        return false;
    };
    binary_media_types.iter().any(|t| {
        let t = t.trim();
        t == "*/*"
            || t.eq_ignore_ascii_case(essence)
            || t.strip_suffix("/*").is_some_and(|major| {
                essence
                    .split_once('/')
                    .is_some_and(|(m, _)| m.eq_ignore_ascii_case(major))
            })
    })
}

/// The event for `request` on `target`.
pub fn build(api: &Api, request: &Incoming, target: &Target<'_>, ids: &RequestIds) -> Json {
    let mut headers = request.headers.clone();
    let forwarded = match request.header("x-forwarded-for") {
        Some(chain) => format!("{chain}, {}", request.source_ip),
        None => request.source_ip.clone(),
    };
    headers.retain(|(n, _)| {
        ![
            "x-forwarded-for",
            "x-forwarded-port",
            "x-forwarded-proto",
            "x-amzn-trace-id",
        ]
        .iter()
        .any(|h| n.eq_ignore_ascii_case(h))
    });
    headers.extend([
        ("X-Amzn-Trace-Id".to_owned(), ids.trace_id.clone()),
        ("X-Forwarded-For".to_owned(), forwarded),
        ("X-Forwarded-Port".to_owned(), request.port.to_string()),
        ("X-Forwarded-Proto".to_owned(), "http".to_owned()),
    ]);
    let (headers_single, headers_multi) = single_and_multi(&headers);

    let query: Vec<(String, String)> = request
        .query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect();
    let (query_single, query_multi) = single_and_multi(&query);

    let path_parameters = if target.params.is_empty() {
        Json::Null
    } else {
        json!(target.params)
    };
    let content_type = request.header("content-type");
    let (body, is_base64_encoded) = if request.body.is_empty() {
        (Json::Null, false)
    } else if is_binary(content_type, &api.binary_media_types) {
        (Json::String(STANDARD.encode(&request.body)), true)
    } else {
        // Without a matching binary media type API Gateway passes text.
        (
            Json::String(String::from_utf8_lossy(&request.body).into_owned()),
            false,
        )
    };
    let path = decode(&request.path);
    let stage_path = format!("/{}{}", api.stage, request.path);

    let mut context = json!({
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": api.domain_name(),
        "domainPrefix": API_ID,
        "extendedRequestId": ids.extended_request_id,
        "httpMethod": request.method,
        "identity": {
            "accessKey": null,
            "accountId": null,
            "apiKey": null,
            "apiKeyId": null,
            "caller": null,
            "cognitoAuthenticationProvider": null,
            "cognitoAuthenticationType": null,
            "cognitoIdentityId": null,
            "cognitoIdentityPoolId": null,
            "principalOrgId": null,
            "sourceIp": request.source_ip,
            "user": null,
            "userAgent": request.header("user-agent"),
            "userArn": null,
        },
        "path": stage_path,
        "protocol": "HTTP/1.1",
        "requestId": ids.request_id,
        "requestTime": ids.request_time(),
        "requestTimeEpoch": ids.epoch_ms,
        "resourceId": resource_id(target.resource),
        "resourcePath": target.resource,
        "stage": api.stage,
    });
    if let (Some(authorizer), Some(object)) = (&target.authorizer, context.as_object_mut()) {
        object.insert("authorizer".into(), authorizer.clone());
    }
    json!({
        "resource": target.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers_single,
        "multiValueHeaders": headers_multi,
        "queryStringParameters": query_single,
        "multiValueQueryStringParameters": query_multi,
        "pathParameters": path_parameters,
        "stageVariables": null,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64_encoded,
    })
}

/// A stable six-character id per resource, like API Gateway's.
fn resource_id(resource: &str) -> String {
    // FNV-1a: stable across runs, unlike the std hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in resource.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|i| char::from(alphabet[usize::try_from((hash >> (i * 8)) % 36).unwrap_or(0)]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{RequestIds, is_binary};

    #[test]
    fn request_time_has_api_gateway_format() {
        let ids = RequestIds {
            epoch_ms: 1_589_522_469_693,
            ..RequestIds::new()
        };
        assert_eq!(ids.request_time(), "15/May/2020:06:01:09 +0000");
    }

    #[test]
    fn binary_media_types_match_like_api_gateway() {
        let types = vec!["image/*".to_owned(), "application/octet-stream".to_owned()];
        let cases = [
            (Some("image/png"), true),
            (Some("application/octet-stream; x=1"), true),
            (Some("application/json"), false),
            (None, false),
        ];
        for (content_type, expected) in cases {
            assert_eq!(
                is_binary(content_type, &types),
                expected,
                "{content_type:?}"
            );
        }
        assert!(is_binary(Some("text/plain"), &["*/*".to_owned()]));
    }
}
