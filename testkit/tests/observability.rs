//! Black-box: what a `shared` function binary writes to its log, read back
//! line by line from the real process serving the Runtime API emulator
//! (which sends a trace header with every invocation, as Lambda does with
//! active tracing):
//! - every line of a request names its Lambda request id and X-Ray trace
//!   id, in the text and the JSON log format;
//! - the request line is valid EMF (the spec's rules, `testkit::emf`) with
//!   the documented namespace, dimensions, metrics and units, per route
//!   template, cold start 1 then 0;
//! - SIGTERM and SIGINT, while the function waits for its next invocation,
//!   end it promptly with a last log line and exit status 0.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use testkit::events::RestV1Event;
use testkit::{Emulator, Function, emf};

const NAME: &str = "panicking-function";
const BIN: &str = env!("CARGO_BIN_EXE_panicking-function");

/// The log formats Lambda can be set to (`LoggingConfig.LogFormat`).
const FORMATS: [&str; 2] = ["Text", "JSON"];

/// One request the test sends: method, path, API Gateway request id, and
/// what the request line must then say (status, route template).
struct Sent {
    method: &'static str,
    path: &'static str,
    api_id: &'static str,
    status: u16,
    route: &'static str,
}

/// A route, a route with a parameter, a path no route serves, a panic.
const REQUESTS: [Sent; 5] = [
    Sent {
        method: "GET",
        path: "/fine",
        api_id: "api-fine",
        status: 200,
        route: "/fine",
    },
    Sent {
        method: "GET",
        path: "/fine/42",
        api_id: "api-fine-42",
        status: 200,
        route: "/fine/{id}",
    },
    Sent {
        method: "GET",
        path: "/fine/7/",
        api_id: "api-fine-7",
        status: 200,
        route: "/fine/{id}",
    },
    Sent {
        method: "GET",
        path: "/nowhere/x",
        api_id: "api-nowhere",
        status: 404,
        route: "unmatched",
    },
    Sent {
        method: "POST",
        path: "/panic",
        api_id: "api-panic",
        status: 500,
        route: "/panic",
    },
];

fn start(emulator: &Emulator, format: &str, log: &Path) -> Function {
    Function::start_logging(
        emulator,
        NAME,
        BIN,
        &[("AWS_LAMBDA_LOG_FORMAT", format)],
        log,
    )
}

/// Sends [`REQUESTS`], then a non-HTTP event (a Lambda error, logged).
fn send_all(emulator: &Emulator) {
    for sent in &REQUESTS {
        let event = RestV1Event::article()
            .request(sent.method, sent.path)
            .request_id(sent.api_id)
            .build();
        let reply = emulator.request(NAME, &event);
        assert_eq!(reply.status, sent.status, "{} {}", sent.method, sent.path);
    }
    let not_http = emulator.invoke_raw(NAME, r#"{"Records":[{"eventSource":"aws:sqs"}]}"#);
    assert_eq!(not_http.status, 500, "{}", not_http.body);
}

/// The Lambda request id and X-Ray trace id a log line names: in the JSON
/// format (and on the request line) under `span`, in the text format in
/// the span prefix `Lambda runtime invoke{requestId="…" xrayTraceId="…"}:`.
fn ids(line: &str) -> (Option<String>, Option<String>) {
    if let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) {
        let field = |name: &str| object.get("span")?.get(name)?.as_str().map(str::to_owned);
        return (field("requestId"), field("xrayTraceId"));
    }
    let field = |name: &str| {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = line[start..].find('"')?;
        Some(line[start..start + end].to_owned())
    };
    (field("requestId"), field("xrayTraceId"))
}

fn read(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_else(|e| panic!("read {}: {e}", log.display()))
}

#[test]
fn every_line_of_a_request_names_its_request_and_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    for format in FORMATS {
        // A fresh emulator each time: one a stopped process polled may hand
        // it the next invocation.
        let Some(emulator) = Emulator::start() else {
            return;
        };
        let log = dir.path().join(format!("{format}.log"));
        let mut function = start(&emulator, format, &log);
        send_all(&emulator);
        let (status, _) = function.signal("TERM");
        assert!(status.success(), "{format}: {status}");
        let text = read(&log);
        let mut lines: Vec<&str> = text.lines().collect();
        let last = lines.pop().unwrap_or_default();
        assert!(
            last.contains("shutting down"),
            "{format}: the last line: {text}"
        );

        // Every other line was written while serving an invocation.
        let mut request_ids = BTreeSet::new();
        let mut trace_ids = BTreeSet::new();
        for line in &lines {
            let (request_id, trace_id) = ids(line);
            let request_id = request_id.unwrap_or_else(|| panic!("{format}: no requestId: {line}"));
            let trace_id = trace_id.unwrap_or_else(|| panic!("{format}: no xrayTraceId: {line}"));
            assert!(trace_id.starts_with("Root=1-"), "{format}: {trace_id}");
            request_ids.insert(request_id);
            trace_ids.insert(trace_id);
        }
        let invocations = REQUESTS.len() + 1;
        assert_eq!(
            request_ids.len(),
            invocations,
            "{format}: one id per invocation: {text}"
        );
        assert_eq!(
            trace_ids.len(),
            invocations,
            "{format}: one trace per invocation: {text}"
        );

        // The panic's own line and its request line name the same invocation.
        let panic_line = lines
            .iter()
            .find(|l| l.contains("deliberate panic"))
            .unwrap_or_else(|| panic!("{format}: the panic is logged: {text}"));
        let request_line = emf::request_lines(&text)
            .into_iter()
            .find(|l| l["request_id"] == "api-panic")
            .unwrap_or_else(|| panic!("{format}: a request line for the panic: {text}"));
        assert_eq!(
            ids(panic_line).0.as_deref(),
            request_line["span"]["requestId"].as_str()
        );
        if format == "JSON" {
            for line in &lines {
                assert!(
                    serde_json::from_str::<Value>(line).is_ok(),
                    "not JSON: {line}"
                );
            }
        }
    }
}

#[test]
fn the_request_line_is_emf_per_route_and_cold_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    for format in FORMATS {
        // A fresh emulator each time: one a stopped process polled may hand
        // it the next invocation.
        let Some(emulator) = Emulator::start() else {
            return;
        };
        let log = dir.path().join(format!("{format}.log"));
        let started = SystemTime::now();
        let mut function = start(&emulator, format, &log);
        send_all(&emulator);
        let (status, _) = function.signal("TERM");
        assert!(status.success(), "{format}: {status}");
        let ended = SystemTime::now();
        let text = read(&log);
        // `request_lines` fails the test on a line that breaks an EMF rule.
        let lines = emf::request_lines(&text);
        assert_eq!(
            lines.len(),
            REQUESTS.len(),
            "{format}: one per HTTP request: {text}"
        );
        for (n, (line, sent)) in lines.iter().zip(&REQUESTS).enumerate() {
            let what = format!("{format} {} {}", sent.method, sent.path);
            check_directives(line, &what);
            let millis =
                |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
            let at = u128::from(line["_aws"]["Timestamp"].as_u64().expect("timestamp"));
            assert!(
                millis(started) <= at && at <= millis(ended),
                "{what}: Timestamp {at}"
            );
            let class = sent.status / 100;
            let expected = json!({
                "FunctionName": NAME,
                "Route": sent.route,
                "Requests": 1,
                "4XXError": u8::from(class == 4),
                "5XXError": u8::from(class == 5),
                "ColdStart": u8::from(n == 0),
                "status": sent.status,
                "method": sent.method,
                "path": sent.path,
                "request_id": sent.api_id,
                "level": "INFO",
                "message": "request",
            });
            for (key, value) in expected.as_object().expect("object") {
                assert_eq!(&line[key], value, "{what}: {key}");
            }
            let latency = line["Latency"].as_f64().expect("Latency");
            assert!((0.0..60_000.0).contains(&latency), "{what}: {latency}");
            assert_eq!(line["Latency"], line["latency_ms"], "{what}");
        }
    }
}

/// The directives, exactly as documented in `shared::metrics`.
fn check_directives(line: &Map<String, Value>, what: &str) {
    let units = |metrics: &[(&str, &str)]| -> Value {
        metrics
            .iter()
            .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
            .collect()
    };
    let expected = json!([
        {
            "Namespace": shared::metrics::NAMESPACE,
            "Dimensions": [["FunctionName"], ["FunctionName", "Route"]],
            "Metrics": units(&[
                ("Requests", "Count"),
                ("Latency", "Milliseconds"),
                ("4XXError", "Count"),
                ("5XXError", "Count"),
            ]),
        },
        {
            "Namespace": shared::metrics::NAMESPACE,
            "Dimensions": [["FunctionName"]],
            "Metrics": units(&[("ColdStart", "Count")]),
        },
    ]);
    assert_eq!(line["_aws"]["CloudWatchMetrics"], expected, "{what}");
}

#[test]
fn a_signal_while_idle_ends_the_process_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [("Text", "TERM"), ("JSON", "TERM"), ("Text", "INT")];
    for (format, signal) in cases {
        let Some(emulator) = Emulator::start() else {
            return;
        };
        let log = dir.path().join(format!("{format}-{signal}.log"));
        let mut function = start(&emulator, format, &log);
        // One answered invocation: the process is up and polling again.
        let reply = emulator.request(
            NAME,
            &RestV1Event::article().request("GET", "/fine").build(),
        );
        assert_eq!(reply.status, 200);
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            function.is_running(),
            "{format} {signal}: waits for the next invocation"
        );

        let (status, took) = function.signal(signal);
        assert_eq!(status.code(), Some(0), "{format} SIG{signal}: {status}");
        assert!(
            took < Duration::from_secs(2),
            "{format} SIG{signal}: exited after {took:?}"
        );
        let text = read(&log);
        let last = text.lines().last().unwrap_or_default();
        let named = format!("SIG{signal}");
        match format {
            "JSON" => {
                let line: Value = serde_json::from_str(last).expect("a JSON last line");
                assert_eq!(line["message"], "shutting down", "{last}");
                assert_eq!(line["signal"], named.as_str(), "{last}");
            }
            _ => assert!(
                last.contains("shutting down") && last.contains(&named),
                "{format} SIG{signal}: the last line: {text}"
            ),
        }
    }
}
