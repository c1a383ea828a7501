//! The invocation's X-Ray trace header reaches DynamoDB as `X-Amzn-Trace-Id`
//! (shared::trace), without `_X_AMZN_TRACE_ID` in the process environment:
//! first through the SDK pipeline in process, then from the real `users`
//! binary serving invocations from the Runtime API emulator.
//!
//! The DynamoDB endpoint is a loopback HTTP server that records each
//! request's headers and answers `{}` (an empty `GetItem`: no such user).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use testkit::dynamo::TEST_ENV;
use testkit::{Emulator, Function, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_users");

type Headers = HashMap<String, String>;

/// A DynamoDB stand-in that only records: every request's headers.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<Headers>>>,
}

impl Recorder {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = Arc::clone(&record);
                std::thread::spawn(move || serve(stream, &record));
            }
        });
        Self { port, seen }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `x-amzn-trace-id` of each recorded `GetItem` (None: no header).
    fn get_item_trace_ids(&self) -> Vec<Option<String>> {
        self.seen
            .lock()
            .expect("recorder")
            .iter()
            .filter(|h| {
                h.get("x-amz-target").map(String::as_str) == Some("DynamoDB_20120810.GetItem")
            })
            .map(|h| h.get("x-amzn-trace-id").cloned())
            .collect()
    }
}

/// Reads requests off one keep-alive connection until the client closes it.
fn serve(stream: TcpStream, record: &Mutex<Vec<Headers>>) {
    let mut writer = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = Headers::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let Some((name, value)) = line.trim_end().split_once(':') else {
                break;
            };
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
        let length = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        record.lock().expect("recorder").push(headers);
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 2\r\n\r\n{}";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(users::store::dynamodb::http_client())
        .interceptor(shared::trace::TraceHeader)
        .build();
    Client::from_conf(config)
}

async fn get_item(client: &Client) {
    client
        .get_item()
        .table_name("users")
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("USER".into()),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await
        .expect("GetItem against the recorder");
}

#[tokio::test]
async fn the_interceptor_sends_the_scoped_trace_id() {
    let recorder = Recorder::start();
    let client = client(&recorder.endpoint());
    let root = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let cases: [(Option<&str>, Option<&str>); 3] = [
        // (trace header of the invocation, header DynamoDB must receive)
        (Some(root), Some(root)),
        (None, None),
        // Control characters are percent-encoded, as the SDK does.
        (Some("Root=1-a\tb"), Some("Root=1-a%09b")),
    ];
    for (trace_id, _) in cases {
        shared::trace::scope(trace_id.map(str::to_owned), get_item(&client)).await;
    }
    // Outside any invocation: no header.
    get_item(&client).await;
    let expected: Vec<Option<String>> = cases
        .iter()
        .map(|(_, sent)| sent.map(str::to_owned))
        .chain([None])
        .collect();
    assert_eq!(recorder.get_item_trace_ids(), expected);
    assert_eq!(std::env::var_os("_X_AMZN_TRACE_ID"), None);
}

/// `Root=1-<8 hex>-<24 hex>;...`, the shape of an X-Ray trace header.
fn is_trace_header(value: &str) -> bool {
    let Some(root) = value
        .split(';')
        .find_map(|part| part.strip_prefix("Root=1-"))
    else {
        return false;
    };
    let parts: Vec<&str> = root.split('-').collect();
    parts.len() == 2
        && parts[0].len() == 8
        && parts[1].len() == 24
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[test]
fn each_invocation_sends_its_own_trace_id_to_dynamodb() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let recorder = Recorder::start();
    let endpoint = recorder.endpoint();
    let mut env = TEST_ENV.to_vec();
    env.extend([
        ("USERS_TABLE", "users"),
        ("DYNAMODB_ENDPOINT", endpoint.as_str()),
    ]);
    let _function = Function::start(&emulator, "users", BIN, &env);

    let path = "/api/v1/users/0190a4f2-7c1e-7d3a-9b2e-1f2a3b4c5d6e";
    for shape in [Shape::RestV1, Shape::HttpV2, Shape::RestV1] {
        let reply = emulator.request("users", &shape.event("GET", path, None));
        assert_eq!(reply.status, 404, "{}", reply.text());
    }

    let trace_ids = recorder.get_item_trace_ids();
    assert_eq!(
        trace_ids.len(),
        3,
        "one GetItem per invocation: {trace_ids:?}"
    );
    let trace_ids: Vec<String> = trace_ids
        .into_iter()
        .map(|id| id.expect("every GetItem carries X-Amzn-Trace-Id"))
        .collect();
    for id in &trace_ids {
        assert!(is_trace_header(id), "not an X-Ray trace header: {id}");
    }
    let mut distinct = trace_ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        3,
        "a new trace id per invocation: {trace_ids:?}"
    );
}
