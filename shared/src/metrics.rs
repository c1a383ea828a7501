//! CloudWatch metrics in Embedded Metric Format (EMF), carried by the one
//! log line each request gets: CloudWatch Logs extracts them from the log
//! event itself, so publishing costs no API call, no latency and no
//! permission beyond writing logs.
//!
//! [`init`] (called by [`crate::run`]) turns them on for the process. From
//! then on the request line is one JSON object on stdout, whatever
//! `AWS_LAMBDA_LOG_FORMAT` says: Lambda passes a custom runtime's lines
//! through unchanged in both formats, and CloudWatch Logs reads a log event
//! that is exactly a JSON object with `_aws` as EMF. It has the fields of a
//! JSON log line (`timestamp`, `level`, `message: "request"`, and `span`
//! with `requestId` and `xrayTraceId`, as [`crate::logging`] writes them)
//! plus `request_id` (API Gateway's, the one in its access log), `method`,
//! `path`, `status`, `latency_ms`. It is written whatever the level
//! `tracing` filters at, since the metrics ride on it; but Lambda's own
//! log-level filter (`AWS_LAMBDA_LOG_LEVEL` above INFO, JSON format) drops
//! it, and the metrics with it. Without [`init`] (an [`crate::App`] used in
//! process, by tests and benchmarks) the request line goes through tracing
//! and no metrics are published.
//!
//! # Metrics
//!
//! Namespace [`NAMESPACE`]. Each request line publishes:
//!
//! | metric      | unit         | value                               | dimension sets                      |
//! |-------------|--------------|-------------------------------------|-------------------------------------|
//! | `Requests`  | Count        | 1                                   | `FunctionName`; `FunctionName, Route` |
//! | `Latency`   | Milliseconds | payload in to response out          | `FunctionName`; `FunctionName, Route` |
//! | `4XXError`  | Count        | 1 for a 4xx answer, else 0          | `FunctionName`; `FunctionName, Route` |
//! | `5XXError`  | Count        | 1 for a 5xx answer, else 0          | `FunctionName`; `FunctionName, Route` |
//! | `ColdStart` | Count        | 1 on the process's first request, else 0 | `FunctionName`                 |
//!
//! `FunctionName` is `AWS_LAMBDA_FUNCTION_NAME`; `Route` is the template of
//! the route that matched the path (`/api/v1/users/{id}`), whatever the
//! method, or [`UNMATCHED`] for a path no route serves (and an unreadable
//! event): a bounded set of values, never the raw path. The average of
//! `4XXError` or `5XXError` is the error rate; `Latency` has percentiles.

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::json;
use serde_json::value::RawValue;

/// The CloudWatch namespace of every metric this crate publishes.
pub const NAMESPACE: &str = "RustLambdaApi";

/// The `Route` of a request that matched no route (and of an unreadable
/// event): one value, so a scan of random paths cannot create metrics.
pub const UNMATCHED: &str = "unmatched";

/// Dimension: the Lambda function (`AWS_LAMBDA_FUNCTION_NAME`).
pub const FUNCTION_NAME: &str = "FunctionName";
/// Dimension: the route template, `/api/v1/users/{id}`.
pub const ROUTE: &str = "Route";

/// Metric: one per request.
pub const REQUESTS: &str = "Requests";
/// Metric: the request's latency in milliseconds.
pub const LATENCY: &str = "Latency";
/// Metric: 1 when the answer is a 4xx.
pub const CLIENT_ERROR: &str = "4XXError";
/// Metric: 1 when the answer is a 5xx.
pub const SERVER_ERROR: &str = "5XXError";
/// Metric: 1 on the first request line of the process.
pub const COLD_START: &str = "ColdStart";

/// The request metrics (name, unit), by function and by function and route.
pub const REQUEST_METRICS: [(&str, &str); 4] = [
    (REQUESTS, "Count"),
    (LATENCY, "Milliseconds"),
    (CLIENT_ERROR, "Count"),
    (SERVER_ERROR, "Count"),
];
/// The process metrics (name, unit), by function only.
pub const PROCESS_METRICS: [(&str, &str); 1] = [(COLD_START, "Count")];

/// The span lambda_runtime opens around each invocation: the request line
/// repeats it as tracing's JSON format writes it on every other line
/// (`span.requestId`), so one query finds all the lines of a request.
const RUNTIME_SPAN: &str = "Lambda runtime invoke";

/// What [`init`] fixes for the process: the function name, and the
/// `CloudWatchMetrics` directives, the same on every line (written once).
#[derive(Debug)]
struct Publisher {
    function: String,
    directives: Box<RawValue>,
}

static PUBLISHER: OnceLock<Publisher> = OnceLock::new();
static COLD: AtomicBool = AtomicBool::new(true);

/// Publishes metrics from now on, as function `function_name`.
pub fn init(function_name: &str) {
    let _ = PUBLISHER.set(Publisher::new(function_name));
}

impl Publisher {
    fn new(function: &str) -> Self {
        let metrics = |list: &[(&str, &str)]| -> Vec<serde_json::Value> {
            list.iter()
                .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
                .collect()
        };
        let directives = json!([
            {
                "Namespace": NAMESPACE,
                "Dimensions": [[FUNCTION_NAME], [FUNCTION_NAME, ROUTE]],
                "Metrics": metrics(&REQUEST_METRICS),
            },
            {
                "Namespace": NAMESPACE,
                "Dimensions": [[FUNCTION_NAME]],
                "Metrics": metrics(&PROCESS_METRICS),
            },
        ]);
        let directives = serde_json::value::to_raw_value(&directives)
            .unwrap_or_else(|_| unreachable!("a JSON value always serializes"));
        Self {
            function: function.to_owned(),
            directives,
        }
    }
}

/// One answered request, as its log line reports it.
#[derive(Debug, Clone, Copy)]
pub struct RequestRecord<'a> {
    /// The Lambda request id (the invocation's).
    pub invocation_id: &'a str,
    /// The invocation's X-Ray trace header, when Lambda sent one.
    pub trace_header: Option<&'a str>,
    /// The event source's request id (API Gateway's `requestId`, the one
    /// in its access log), else the invocation's.
    pub request_id: &'a str,
    /// The request method.
    pub method: &'a str,
    /// The raw request path (logged, never a dimension).
    pub path: &'a str,
    /// The template of the route that matched the path, if one did.
    pub route: Option<&'a str>,
    /// The response status.
    pub status: u16,
    /// Time from the payload's arrival to the response, in milliseconds.
    pub latency_ms: f64,
}

impl RequestRecord<'_> {
    /// Writes the request line: the EMF document on stdout once [`init`]
    /// ran, else a tracing event.
    pub fn log(&self) {
        let Some(publisher) = PUBLISHER.get() else {
            tracing::info!(
                request_id = self.request_id,
                method = self.method,
                path = self.path,
                route = self.route.unwrap_or(UNMATCHED),
                status = self.status,
                latency_ms = self.latency_ms,
                "request"
            );
            return;
        };
        let cold_start = COLD.swap(false, Ordering::Relaxed);
        let mut line = self.emf(publisher, cold_start, SystemTime::now());
        line.push('\n');
        // One write of the whole line, so it never interleaves with another;
        // a line that cannot be written has nowhere else to be reported.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }

    /// The request line as an EMF document, at `now`: one allocation, the
    /// line itself.
    fn emf(&self, publisher: &Publisher, cold_start: bool, now: SystemTime) -> String {
        let line = Line {
            record: self,
            publisher,
            cold_start,
            since_epoch: now.duration_since(UNIX_EPOCH).unwrap_or_default(),
        };
        let mut out = Vec::with_capacity(1024);
        // Writing to a Vec cannot fail, nor can these fields (string keys).
        let _ = serde_json::to_writer(&mut out, &line);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The request line, serialized field by field straight into its buffer.
struct Line<'a> {
    record: &'a RequestRecord<'a>,
    publisher: &'a Publisher,
    cold_start: bool,
    since_epoch: std::time::Duration,
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.record;
        let class = r.status / 100;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("timestamp", &Rfc3339(self.since_epoch))?;
        map.serialize_entry("level", "INFO")?;
        map.serialize_entry("message", "request")?;
        map.serialize_entry("request_id", r.request_id)?;
        map.serialize_entry("method", r.method)?;
        map.serialize_entry("path", r.path)?;
        map.serialize_entry("status", &r.status)?;
        map.serialize_entry("latency_ms", &r.latency_ms)?;
        map.serialize_entry(
            "span",
            &Span {
                name: RUNTIME_SPAN,
                request_id: r.invocation_id,
                xray_trace_id: r.trace_header,
            },
        )?;
        map.serialize_entry(FUNCTION_NAME, &self.publisher.function)?;
        map.serialize_entry(ROUTE, r.route.unwrap_or(UNMATCHED))?;
        map.serialize_entry(REQUESTS, &1)?;
        map.serialize_entry(LATENCY, &r.latency_ms)?;
        map.serialize_entry(CLIENT_ERROR, &u8::from(class == 4))?;
        map.serialize_entry(SERVER_ERROR, &u8::from(class == 5))?;
        map.serialize_entry(COLD_START, &u8::from(self.cold_start))?;
        map.serialize_entry(
            "_aws",
            &Aws {
                timestamp: u64::try_from(self.since_epoch.as_millis()).unwrap_or(u64::MAX),
                directives: &self.publisher.directives,
            },
        )?;
        map.end()
    }
}

/// The `span` member as tracing's JSON format writes it.
#[derive(Serialize)]
struct Span<'a> {
    name: &'a str,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(rename = "xrayTraceId", skip_serializing_if = "Option::is_none")]
    xray_trace_id: Option<&'a str>,
}

/// The EMF metadata: `Timestamp` in milliseconds since the epoch.
#[derive(Serialize)]
struct Aws<'a> {
    #[serde(rename = "Timestamp")]
    timestamp: u64,
    #[serde(rename = "CloudWatchMetrics")]
    directives: &'a RawValue,
}

/// `2025-12-01T22:00:00.000000Z`: the timestamp format of the other log
/// lines (RFC 3339, UTC, microseconds), which Lambda's log-level filter
/// reads; written into the line without an intermediate string.
struct Rfc3339(std::time::Duration);

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
        let rem = secs % 86_400;
        // Days to a civil date (Howard Hinnant's `civil_from_days`).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3_600,
            rem % 3_600 / 60,
            rem % 60,
            self.0.subsec_micros()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::time::Duration;

    #[test]
    fn rfc3339_dates() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, 7, "2000-02-29T00:00:00.000007Z"),
            (1_764_626_400, 123_456, "2025-12-01T22:00:00.123456Z"),
            (4_102_444_799, 999_999, "2099-12-31T23:59:59.999999Z"),
        ];
        for (secs, micros, expected) in cases {
            let at = Duration::from_secs(secs) + Duration::from_micros(micros);
            assert_eq!(Rfc3339(at).to_string(), expected);
        }
    }

    fn record(status: u16, route: Option<&'static str>) -> RequestRecord<'static> {
        RequestRecord {
            invocation_id: "inv-1",
            trace_header: Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            request_id: "api-1",
            method: "GET",
            path: "/users/42",
            route,
            status,
            latency_ms: 1.5,
        }
    }

    fn document(record: &RequestRecord<'_>, cold_start: bool, now: SystemTime) -> Value {
        let line = record.emf(&Publisher::new("users-fn"), cold_start, now);
        serde_json::from_str(&line).expect("the line is JSON")
    }

    #[test]
    fn status_classes_and_routes() {
        let now = UNIX_EPOCH + Duration::from_millis(1_764_626_400_123);
        let cases = [
            (200, Some("/users/{id}"), "/users/{id}", 0, 0),
            (404, None, UNMATCHED, 1, 0),
            (405, Some("/users/{id}"), "/users/{id}", 1, 0),
            (503, Some("/users/{id}"), "/users/{id}", 0, 1),
            (302, Some("/users/{id}"), "/users/{id}", 0, 0),
        ];
        for (status, route, dimension, client, server) in cases {
            let doc = document(&record(status, route), status == 200, now);
            assert_eq!(doc[ROUTE], dimension, "{status}");
            assert_eq!(doc[CLIENT_ERROR], client, "{status}");
            assert_eq!(doc[SERVER_ERROR], server, "{status}");
            assert_eq!(doc[COLD_START], u8::from(status == 200), "{status}");
            assert_eq!(doc[REQUESTS], 1);
            assert_eq!(doc[LATENCY], 1.5);
            assert_eq!(doc["latency_ms"], 1.5);
            assert_eq!(doc["status"], status);
            assert_eq!(doc[FUNCTION_NAME], "users-fn");
            assert_eq!(doc["_aws"]["Timestamp"], 1_764_626_400_123_u64);
            assert_eq!(doc["timestamp"], "2025-12-01T22:00:00.123000Z");
            assert_eq!(doc["span"]["requestId"], "inv-1");
            assert_eq!(doc["request_id"], "api-1");
            assert_eq!(doc["path"], "/users/42");
        }
    }

    #[test]
    fn without_a_trace_header_the_span_has_none() {
        let mut untraced = record(200, None);
        untraced.trace_header = None;
        let doc = document(&untraced, false, UNIX_EPOCH);
        assert_eq!(
            doc["span"],
            json!({"name": RUNTIME_SPAN, "requestId": "inv-1"})
        );
        let traced = document(&record(200, None), false, UNIX_EPOCH);
        assert_eq!(
            traced["span"]["xrayTraceId"],
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
        );
    }

    #[test]
    fn every_declared_metric_and_dimension_is_on_the_line() {
        let doc = document(&record(500, Some("/x")), true, UNIX_EPOCH);
        let directives = doc["_aws"]["CloudWatchMetrics"]
            .as_array()
            .expect("directives");
        let mut declared = Vec::new();
        for directive in directives {
            assert_eq!(directive["Namespace"], NAMESPACE);
            for set in directive["Dimensions"].as_array().expect("dimension sets") {
                for name in set.as_array().expect("dimension set") {
                    let name = name.as_str().expect("dimension name");
                    assert!(doc[name].is_string(), "{name}");
                }
            }
            for metric in directive["Metrics"].as_array().expect("metrics") {
                let name = metric["Name"].as_str().expect("metric name");
                assert!(doc[name].is_number(), "{name}");
                declared.push(name.to_owned());
            }
        }
        let all: Vec<&str> = REQUEST_METRICS
            .iter()
            .chain(&PROCESS_METRICS)
            .map(|m| m.0)
            .collect();
        assert_eq!(declared, all);
    }
}
