//! A fault-injecting HTTP proxy on 127.0.0.1, in front of a real server
//! (moto): it forwards every request, except those a [`Rule`] catches,
//! which get the rule's [`Answer`] instead: an error the real server never
//! sends (DynamoDB throttling inside a transaction), or a slow answer.
//!
//! Rules match on the `X-Amz-Target` header (the AWS JSON protocol names
//! the operation there) and apply to the first N matching requests, or to
//! all of them. Each connection carries one exchange (`Connection: close`
//! on every answer), so a client never reuses a connection the proxy has
//! dropped.

use std::collections::HashMap;
use std::io::{self, BufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::http1::Message;

/// `X-Amz-Target` of DynamoDB's `TransactWriteItems`.
pub const TRANSACT_WRITE_ITEMS: &str = "DynamoDB_20120810.TransactWriteItems";
/// `X-Amz-Target` of DynamoDB's `GetItem`.
pub const GET_ITEM: &str = "DynamoDB_20120810.GetItem";

/// What a caught request gets.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status and JSON body, without asking the server.
    Error {
        /// The HTTP status (DynamoDB answers its client errors with 400).
        status: u16,
        /// The error document.
        body: String,
    },
    /// The server's own answer, after this delay.
    Slow(Duration),
}

impl Answer {
    /// A DynamoDB error as the service sends it: `__type` with the
    /// `com.amazonaws.dynamodb.v20120810#` prefix, and a message.
    pub fn dynamodb_error(status: u16, error_type: &str, message: &str) -> Self {
        let body = serde_json::json!({
            "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
            "message": message,
        });
        Self::Error {
            status,
            body: body.to_string(),
        }
    }

    /// A `TransactionCanceledException` with one cancellation reason per
    /// item of the transaction (`"None"` for an item that was fine), in
    /// the shape DynamoDB sends: `CancellationReasons` and a `Message`
    /// listing the codes.
    pub fn transaction_canceled(reasons: &[&str]) -> Self {
        let message = format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            reasons.join(", ")
        );
        let reasons: Vec<_> = reasons
            .iter()
            .map(|code| match *code {
                "None" => serde_json::json!({ "Code": "None" }),
                "ThrottlingError" => serde_json::json!({
                    "Code": code,
                    "Message": "Throughput exceeds the current capacity of your table or index. \
                                DynamoDB is automatically scaling your table or index so please \
                                try again shortly.",
                }),
                "ProvisionedThroughputExceeded" => serde_json::json!({
                    "Code": code,
                    "Message": "The level of configured provisioned throughput for the table \
                                was exceeded. Consider increasing your provisioning level with \
                                the UpdateTable API",
                }),
                _ => serde_json::json!({ "Code": code, "Message": code }),
            })
            .collect();
        let body = serde_json::json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "CancellationReasons": reasons,
            "Message": message,
        });
        Self::Error {
            status: 400,
            body: body.to_string(),
        }
    }

    /// `TransactionInProgressException`: a transaction with the same client
    /// request token is still running.
    pub fn transaction_in_progress() -> Self {
        Self::dynamodb_error(
            400,
            "TransactionInProgressException",
            "Transaction is ongoing for the item",
        )
    }
}

/// Which requests get an [`Answer`] instead of the server's.
#[derive(Debug, Clone)]
pub struct Rule {
    target: String,
    /// How many more requests it catches; `None`: all of them.
    remaining: Option<usize>,
    answer: Answer,
}

impl Rule {
    /// Catches every request for operation `target` (`X-Amz-Target`).
    pub fn always(target: &str, answer: Answer) -> Self {
        Self {
            target: target.to_owned(),
            remaining: None,
            answer,
        }
    }

    /// Catches the next `n` requests for `target`, then lets them through.
    pub fn first(n: usize, target: &str, answer: Answer) -> Self {
        Self {
            remaining: Some(n),
            ..Self::always(target, answer)
        }
    }
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<Rule>,
    /// Requests seen per `X-Amz-Target`, caught or forwarded.
    seen: HashMap<String, usize>,
    /// Requests answered by a rule's error.
    faults: usize,
}

/// The proxy, listening on a free loopback port until the test ends.
#[derive(Debug)]
pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .unwrap_or(upstream)
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    // A client that hangs up mid-exchange is not the test's concern.
                    let _ = exchange(client, &upstream, &state);
                });
            }
        });
        Self { port, state }
    }

    /// The endpoint URL to give the client (`DYNAMODB_ENDPOINT`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Adds a rule; the first rule that matches a request answers it.
    pub fn add(&self, rule: Rule) {
        self.lock().rules.push(rule);
    }

    /// Drops every rule: all requests go through again.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// How many requests for `target` came in so far.
    pub fn seen(&self, target: &str) -> usize {
        self.lock().seen.get(target).copied().unwrap_or(0)
    }

    /// How many requests got a rule's error.
    pub fn faults(&self) -> usize {
        self.lock().faults
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// Answers one request: with a rule's error, or the server's answer.
fn exchange(client: TcpStream, upstream: &str, state: &Mutex<State>) -> io::Result<()> {
    let timeout = Some(Duration::from_secs(60));
    client.set_read_timeout(timeout)?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    let Some(request) = Message::read(&mut reader, false)? else {
        return Ok(());
    };
    let target = request.header("x-amz-target").unwrap_or("").to_owned();
    let answer = {
        let mut state = lock(state);
        *state.seen.entry(target.clone()).or_default() += 1;
        let rule = state
            .rules
            .iter_mut()
            .find(|rule| rule.target.eq_ignore_ascii_case(&target) && rule.remaining != Some(0));
        let answer = rule.map(|rule| {
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            rule.answer.clone()
        });
        if matches!(answer, Some(Answer::Error { .. })) {
            state.faults += 1;
        }
        answer
    };
    let response = match answer {
        Some(Answer::Error { status, body }) => Message {
            start: format!("HTTP/1.1 {status} {}", reason_phrase(status)),
            headers: vec![
                ("Content-Type".into(), "application/x-amz-json-1.0".into()),
                ("Content-Length".into(), body.len().to_string()),
                ("x-amzn-RequestId".into(), "fault-proxy".into()),
            ],
            body: body.into_bytes(),
        },
        Some(Answer::Slow(delay)) => {
            std::thread::sleep(delay);
            forward(&request, upstream)?
        }
        None => forward(&request, upstream)?,
    };
    response.write(&mut writer)
}

fn forward(request: &Message, upstream: &str) -> io::Result<Message> {
    let mut server = TcpStream::connect(upstream)?;
    server.set_read_timeout(Some(Duration::from_secs(60)))?;
    request.write(&mut server)?;
    Message::read(&mut BufReader::new(server), true)?.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed without answering",
        )
    })
}
