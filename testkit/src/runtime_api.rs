//! A minimal Lambda Runtime API on 127.0.0.1 whose invocations carry the
//! deadline a test chooses, as Lambda's do.
//!
//! cargo-lambda's emulator ([`crate::Emulator`]) sends the same
//! `Lambda-Runtime-Deadline-Ms` for every invocation, `600000` (ten minutes
//! past the Unix epoch), so a function cannot tell how long it has there.
//! This one serves what a runtime client calls (`GET
//! /2018-06-01/runtime/invocation/next`, `POST .../invocation/{id}/response`
//! and `.../{id}/error`) with the headers Lambda sends, and a deadline of
//! "now + the time the test gives the invocation" when the function takes
//! it. One exchange per connection (`Connection: close`).

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufReader};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::http1::Message;
use crate::process::Invocation;

/// An invocation waiting for the function to take it.
struct Queued {
    id: String,
    payload: String,
    /// How long the function has from the moment it takes the invocation.
    time_left: Duration,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Results by invocation id: 200 for a response, 500 for an error.
    results: HashMap<String, Invocation>,
    serial: u64,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stopped: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The Runtime API, listening on a free loopback port until dropped.
#[derive(Debug)]
pub struct RuntimeApi {
    port: u16,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared")
    }
}

impl RuntimeApi {
    /// Starts the Runtime API.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the Runtime API");
        let port = listener.local_addr().expect("Runtime API address").port();
        let shared = Arc::new(Shared::default());
        let serving = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = Arc::clone(&serving);
                std::thread::spawn(move || {
                    // A function process that dies mid-exchange is the test's
                    // to notice (no result), not the server's.
                    let _ = exchange(client, &shared);
                });
            }
        });
        Self { port, shared }
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for a function polling it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Queues `payload`; the function that takes it gets a deadline
    /// `time_left` after that moment. Waits at most `wait` for the result:
    /// `None` when none came.
    pub fn invoke(&self, payload: &str, time_left: Duration, wait: Duration) -> Option<Invocation> {
        let id = {
            let mut state = self.shared.lock();
            state.serial += 1;
            let id = format!("invocation-{}", state.serial);
            state.queue.push_back(Queued {
                id: id.clone(),
                payload: payload.to_owned(),
                time_left,
            });
            id
        };
        self.shared.changed.notify_all();
        let give_up = Instant::now() + wait;
        let mut state = self.shared.lock();
        loop {
            if let Some(result) = state.results.remove(&id) {
                return Some(result);
            }
            let now = Instant::now();
            if now >= give_up {
                return None;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, give_up - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
    }
}

fn millis_since_epoch(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// Answers one request of the function's runtime client.
fn exchange(client: TcpStream, shared: &Shared) -> io::Result<()> {
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    let Some(request) = Message::read(&mut reader, false)? else {
        return Ok(());
    };
    let mut parts = request.start.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let rest = path.strip_prefix("/2018-06-01/runtime/").unwrap_or("");
    let answer = if method == "GET" && rest == "invocation/next" {
        match next(shared) {
            Some(queued) => invocation(&queued),
            None => reply(410, r#"{"errorMessage":"shutting down"}"#),
        }
    } else if method == "POST" {
        if let Some(id) = rest.strip_prefix("invocation/") {
            let (id, status) = match (id.strip_suffix("/response"), id.strip_suffix("/error")) {
                (Some(id), _) => (id, 200),
                (_, Some(id)) => (id, 500),
                _ => ("", 0),
            };
            if status != 0 {
                let text = String::from_utf8_lossy(&request.body).into_owned();
                let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
                shared
                    .lock()
                    .results
                    .insert(id.to_owned(), Invocation { status, body });
                shared.changed.notify_all();
            }
        }
        reply(202, r#"{"status":"OK"}"#)
    } else {
        reply(404, r#"{"errorMessage":"unknown path"}"#)
    };
    answer.write(&mut writer)
}

/// Waits for the next queued invocation (`None` once the API is dropped).
fn next(shared: &Shared) -> Option<Queued> {
    let mut state = shared.lock();
    loop {
        if shared.stopped.load(Ordering::SeqCst) {
            return None;
        }
        if let Some(queued) = state.queue.pop_front() {
            return Some(queued);
        }
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(200))
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// The `/next` answer for `queued`, with Lambda's headers.
fn invocation(queued: &Queued) -> Message {
    let deadline = millis_since_epoch(SystemTime::now() + queued.time_left);
    let body = queued.payload.clone().into_bytes();
    Message {
        start: "HTTP/1.1 200 OK".into(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Content-Length".into(), body.len().to_string()),
            ("Lambda-Runtime-Aws-Request-Id".into(), queued.id.clone()),
            ("Lambda-Runtime-Deadline-Ms".into(), deadline.to_string()),
            (
                "Lambda-Runtime-Invoked-Function-Arn".into(),
                "arn:aws:lambda:us-east-1:123456789012:function:test".into(),
            ),
        ],
        body,
    }
}

fn reply(status: u16, body: &str) -> Message {
    let reason = match status {
        202 => "Accepted",
        404 => "Not Found",
        _ => "Gone",
    };
    Message {
        start: format!("HTTP/1.1 {status} {reason}"),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Content-Length".into(), body.len().to_string()),
        ],
        body: body.as_bytes().to_vec(),
    }
}
