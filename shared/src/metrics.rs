//! CloudWatch metrics in Embedded Metric Format (EMF), carried by the one
//! log line each request gets: CloudWatch Logs extracts them from the log
//! event itself, so publishing costs no API call, no latency and no
//! permission beyond writing logs.
//!
//! [`init`] (called by [`crate::run`]) turns them on for the process. From
//! then on the request line is one JSON object on stdout, whatever
//! `AWS_LAMBDA_LOG_FORMAT` says: Lambda passes a custom runtime's lines
//! through unchanged in both formats, and CloudWatch Logs reads a log event
//! that is exactly a JSON object with `_aws` as EMF. The line is written
//! whatever the log level, since the metrics ride on it. Without [`init`]
//! (an [`crate::App`] used in process, by tests and benchmarks) the request
//! line goes through tracing and no metrics are published.
//!
//! Namespace [`NAMESPACE`]. Each request publishes `Requests`, `Latency`,
//! `4XXError` and `5XXError` by `FunctionName` and by `FunctionName, Route`
//! (the route template, or [`UNMATCHED`]: a bounded set, never the raw
//! path), and `ColdStart` by `FunctionName` (1 on the first request line of
//! the process, 0 after).

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric this crate publishes.
pub const NAMESPACE: &str = "RustLambdaApi";

/// The `Route` of a request that matched no route (and of an unreadable
/// event): one value, so a scan of random paths cannot create metrics.
pub const UNMATCHED: &str = "unmatched";

/// Dimension: the Lambda function (`AWS_LAMBDA_FUNCTION_NAME`).
pub const FUNCTION_NAME: &str = "FunctionName";
/// Dimension: the route template, `/api/v1/users/{id}`.
pub const ROUTE: &str = "Route";

/// The request metrics (name, unit), published by function and by route.
pub const REQUEST_METRICS: [(&str, &str); 4] = [
    ("Requests", "Count"),
    ("Latency", "Milliseconds"),
    ("4XXError", "Count"),
    ("5XXError", "Count"),
];
/// The process metric, published by function only.
pub const COLD_START: (&str, &str) = ("ColdStart", "Count");

/// The span lambda_runtime opens around each invocation, and its fields:
/// the request line repeats it as tracing's JSON format writes it on every
/// other line (`span.requestId`), so one query finds all of a request.
const RUNTIME_SPAN: &str = "Lambda runtime invoke";

static FUNCTION: OnceLock<String> = OnceLock::new();
static COLD: AtomicBool = AtomicBool::new(true);

/// Publishes metrics from now on, as function `function_name`.
pub fn init(function_name: &str) {
    let _ = FUNCTION.set(function_name.to_owned());
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
        let Some(function) = FUNCTION.get() else {
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
        let line = self.emf(function, cold_start, SystemTime::now());
        // One write of the whole line; a line that cannot be written has
        // nowhere else to be reported.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }

    /// The request line as an EMF document, at `now`.
    pub fn emf(&self, function: &str, cold_start: bool, now: SystemTime) -> Value {
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let metric_list = |metrics: &[(&str, &str)]| -> Vec<Value> {
            metrics
                .iter()
                .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
                .collect()
        };
        let mut span = Map::new();
        span.insert("name".into(), RUNTIME_SPAN.into());
        span.insert("requestId".into(), self.invocation_id.into());
        if let Some(header) = self.trace_header {
            span.insert("xrayTraceId".into(), header.into());
        }
        let class = self.status / 100;
        json!({
            "timestamp": rfc3339(since_epoch.as_secs(), since_epoch.subsec_micros()),
            "level": "INFO",
            "message": "request",
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "span": span,
            FUNCTION_NAME: function,
            ROUTE: self.route.unwrap_or(UNMATCHED),
            "Requests": 1,
            "Latency": self.latency_ms,
            "4XXError": u8::from(class == 4),
            "5XXError": u8::from(class == 5),
            COLD_START.0: u8::from(cold_start),
            "_aws": {
                "Timestamp": u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX),
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [[FUNCTION_NAME], [FUNCTION_NAME, ROUTE]],
                        "Metrics": metric_list(&REQUEST_METRICS),
                    },
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [[FUNCTION_NAME]],
                        "Metrics": metric_list(&[COLD_START]),
                    },
                ],
            },
        })
    }
}

/// `2025-12-01T22:00:00.000000Z`: the timestamp format of the other log
/// lines (RFC 3339, UTC, microseconds), which Lambda's log-level filter reads.
fn rfc3339(secs: u64, micros: u32) -> String {
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
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
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
            assert_eq!(rfc3339(secs, micros), expected);
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
            let doc = record(status, route).emf("users-fn", status == 200, now);
            assert_eq!(doc[ROUTE], dimension, "{status}");
            assert_eq!(doc["4XXError"], client, "{status}");
            assert_eq!(doc["5XXError"], server, "{status}");
            assert_eq!(doc["ColdStart"], u8::from(status == 200), "{status}");
            assert_eq!(doc["Requests"], 1);
            assert_eq!(doc["Latency"], 1.5);
            assert_eq!(doc[FUNCTION_NAME], "users-fn");
            assert_eq!(doc["_aws"]["Timestamp"], 1_764_626_400_123_u64);
            assert_eq!(doc["timestamp"], "2025-12-01T22:00:00.123000Z");
            assert_eq!(doc["span"]["requestId"], "inv-1");
            assert_eq!(doc["path"], "/users/42");
        }
    }

    #[test]
    fn without_a_trace_header_the_span_has_none() {
        let mut untraced = record(200, None);
        untraced.trace_header = None;
        let doc = untraced.emf("f", false, UNIX_EPOCH);
        assert_eq!(doc["span"], json!({"name": RUNTIME_SPAN, "requestId": "inv-1"}));
    }

    #[test]
    fn every_declared_metric_and_dimension_is_on_the_line() {
        let doc = record(500, Some("/x")).emf("f", true, UNIX_EPOCH);
        for directive in doc["_aws"]["CloudWatchMetrics"].as_array().expect("directives") {
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
            }
        }
    }
}
