//! `bench-driver`: a minimal Lambda Runtime API on 127.0.0.1 that starts one
//! function process and feeds it a fixed event, to time it from outside.
//!
//! It serves what a runtime client calls (`GET .../invocation/next`,
//! `POST .../invocation/{id}/response`, `.../{id}/error`, `.../init/error`),
//! with the headers Lambda sends. The same driver runs our binaries, the
//! `lambda_http` + axum peer and the Python peer under `awslambdaric`, so
//! the three pay the same Runtime API cost. cargo-lambda's emulator is not
//! used: it only accepts functions that are binaries of this workspace (not
//! the Python peer), and its own routing adds to every invocation.
//!
//! Each process run gets its own listener on a fresh port, so a killed
//! process's pending `/next` can never take the next run's event.
//!
//! - `cold`: per trial, queue the event, start the process, wait for the
//!   response: process start to first response, and to the first `/next`
//!   (the init phase). `--untimed` starts first (default 1) warm the page
//!   cache.
//! - `warm`: start once, then invocations back to back (the next one is
//!   queued the moment the previous response arrives, as one busy Lambda
//!   instance sees them): latency per invocation (queued -> response
//!   received), invocations per second (overall, and for each tenth of the
//!   timed invocations, to show how steady the loop was), and the process's
//!   RSS and peak RSS (`/proc/PID/status` `VmRSS`, `VmHWM`) after given
//!   invocation counts.

use std::convert::Infallible;
use std::fs::File;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bench_harness::args::{Args, fail};
use bench_harness::stats;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;

const USAGE: &str = "\
Usage:
  bench-driver cold --event FILE --name NAME [--trials N] [--untimed N] [--expect-status S]
                    [--expect-body JSON] [--log FILE] [--timeout-s S] -- COMMAND...
  bench-driver warm --event FILE --name NAME [--invocations N] [--warmup N]
                    [--checkpoints N,N] [--expect-status S] [--expect-body JSON]
                    [--log FILE] [--timeout-s S] -- COMMAND...

Starts COMMAND as Lambda function NAME against a Runtime API on 127.0.0.1
(AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_NAME, _VERSION=1,
_MEMORY_SIZE=128 are set; the rest of the environment is passed through),
feeds it the event in FILE and prints the measures as JSON on stdout.
  cold: --trials timed process starts (default 10), after --untimed ones
        (default 1) that warm the page cache.
  warm: --invocations back to back (default 10000); latency statistics skip
        the first --warmup (default 100), and invocations/s is also given
        for each consecutive tenth of the timed ones; RSS is read after each
        of --checkpoints (default 1000,10000) invocations.
  --expect-status/--expect-body: the answer every checked response must give
        (default 200 / any body); the first and last responses are checked.
  --log FILE: the process's stdout and stderr (default: discarded).
  --timeout-s: longest wait for one response (default 30).";

/// What the function process did, as the Runtime API saw it.
#[derive(Debug)]
enum Seen {
    /// It asked for the next invocation.
    Next(Instant),
    /// It answered an invocation (received at `at`).
    Response { body: Bytes, at: Instant },
    /// It reported an invocation error or an init error.
    Error { path: String, body: Bytes },
}

/// The state one listener's connections share.
struct Api {
    name: String,
    queue: Mutex<mpsc::UnboundedReceiver<(String, Bytes)>>,
    seen: mpsc::UnboundedSender<Seen>,
    /// Invocations handed out, for unique trace headers.
    traces: AtomicU64,
}

/// A Runtime API listening on its own loopback port.
struct RuntimeApi {
    addr: SocketAddr,
    queue: mpsc::UnboundedSender<(String, Bytes)>,
    seen: mpsc::UnboundedReceiver<Seen>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    async fn start(name: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let (seen_tx, seen_rx) = mpsc::unbounded_channel();
        let api = Arc::new(Api {
            name: name.to_owned(),
            queue: Mutex::new(queue_rx),
            seen: seen_tx,
            traces: AtomicU64::new(0),
        });
        let server = tokio::spawn(async move {
            // Dropping the set (when the server task is aborted) ends every connection.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let api = Arc::clone(&api);
                connections.spawn(async move {
                    let service = service_fn(move |request| serve(Arc::clone(&api), request));
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
        Self {
            addr,
            queue: queue_tx,
            seen: seen_rx,
            server,
        }
    }

    fn enqueue(&self, id: String, event: Bytes) {
        self.queue.send((id, event)).expect("the server is running");
    }

    fn stop(self) {
        self.server.abort();
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    api: Arc<Api>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let reply = |status: StatusCode, body: &'static str| {
        let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = status;
        response
    };
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            r#"{"errorMessage":"unknown path"}"#,
        ));
    };
    if method == Method::GET && rest == "invocation/next" {
        let _ = api.seen.send(Seen::Next(Instant::now()));
        let next = api.queue.lock().await.recv().await;
        let Some((id, event)) = next else {
            return Ok(reply(
                StatusCode::GONE,
                r#"{"errorMessage":"shutting down"}"#,
            ));
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let deadline_ms = now.as_millis() + 900_000;
        // A new trace header per invocation, as Lambda sends: a runtime that
        // copies it into the environment pays for that here too.
        let serial = api.traces.fetch_add(1, Ordering::Relaxed);
        let trace_id = format!(
            "Root=1-{:08x}-{serial:024x};Parent={serial:016x};Sampled=0",
            now.as_secs()
        );
        let arn = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            api.name
        );
        let response = Response::builder()
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &id)
            .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
            .header("lambda-runtime-invoked-function-arn", arn)
            .header("lambda-runtime-trace-id", trace_id)
            .body(Full::new(event))
            .expect("a valid response");
        return Ok(response);
    }
    if method == Method::POST {
        let body = match request.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Bytes::new(),
        };
        let at = Instant::now();
        let seen = if rest.starts_with("invocation/") && rest.ends_with("/response") {
            Seen::Response { body, at }
        } else {
            Seen::Error {
                path: path.clone(),
                body,
            }
        };
        let _ = api.seen.send(seen);
        return Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#));
    }
    Ok(reply(
        StatusCode::NOT_FOUND,
        r#"{"errorMessage":"unknown path"}"#,
    ))
}

/// What is being run and how it must answer.
struct Setup {
    name: String,
    command: Vec<String>,
    event: Bytes,
    expect_status: u64,
    expect_body: Option<Value>,
    log: Option<String>,
    timeout: Duration,
}

impl Setup {
    fn spawn(&self, api: &RuntimeApi) -> Child {
        let (program, args) = self.command.split_first().expect("a command");
        let mut command = Command::new(program);
        command
            .args(args)
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        match &self.log {
            Some(path) => {
                let file = File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap_or_else(|e| panic!("cannot open log {path}: {e}"));
                let copy = file.try_clone().expect("a second log handle");
                command.stdout(Stdio::from(file)).stderr(Stdio::from(copy));
            }
            None => {
                command.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
    }

    /// Waits for the next `Next` or `Response`; dies on an error report, a
    /// process exit or the timeout.
    async fn wait(&self, api: &mut RuntimeApi, child: &mut Child, what: &str) -> Seen {
        let seen = tokio::select! {
            seen = api.seen.recv() => seen.expect("the server is running"),
            status = child.wait() => {
                panic!("{} exited ({status:?}) while waiting for {what}; see its log", self.name)
            }
            () = tokio::time::sleep(self.timeout) => {
                panic!("{} gave no {what} within {:?}", self.name, self.timeout)
            }
        };
        if let Seen::Error { path, body } = &seen {
            panic!(
                "{} reported an error at {path}: {}",
                self.name,
                String::from_utf8_lossy(body)
            );
        }
        seen
    }

    /// Waits for a response, skipping `/next` polls.
    async fn response(&self, api: &mut RuntimeApi, child: &mut Child) -> (Bytes, Instant) {
        loop {
            if let Seen::Response { body, at } = self.wait(api, child, "response").await {
                return (body, at);
            }
        }
    }

    /// Fails loudly unless `body` is the expected answer.
    fn check(&self, body: &[u8]) {
        let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let status_ok = answer["statusCode"].as_u64() == Some(self.expect_status);
        let body_ok = self.expect_body.as_ref().is_none_or(|expected| {
            let text = answer["body"].as_str().unwrap_or_default();
            serde_json::from_str::<Value>(text).ok().as_ref() == Some(expected)
        });
        assert!(
            status_ok && body_ok,
            "{} answered wrongly: {}",
            self.name,
            String::from_utf8_lossy(body)
        );
    }
}

async fn stop(child: &mut Child) {
    let _ = child.start_kill();
    let _ = child.wait().await;
}

async fn cold(setup: &Setup, untimed: usize, trials: usize) -> Value {
    let mut first_response_ms = Vec::with_capacity(trials);
    let mut init_ms = Vec::with_capacity(trials);
    // The untimed starts warm the page cache for the binary and its files.
    for trial in 0..untimed + trials {
        let mut api = RuntimeApi::start(&setup.name).await;
        api.enqueue(format!("cold-{trial:04}"), setup.event.clone());
        let started = Instant::now();
        let mut child = setup.spawn(&api);
        let mut first_next = None;
        let (body, at) = loop {
            match setup.wait(&mut api, &mut child, "first response").await {
                Seen::Next(at) => {
                    first_next.get_or_insert(at);
                }
                Seen::Response { body, at } => break (body, at),
                Seen::Error { .. } => unreachable!("wait() fails on errors"),
            }
        };
        stop(&mut child).await;
        api.stop();
        setup.check(&body);
        if trial >= untimed {
            first_response_ms.push(ms(at - started));
            init_ms.push(ms(first_next.unwrap_or(at) - started));
        }
    }
    json!({
        "samples_ms": first_response_ms.clone(),
        "first_response_ms": stats::summary(&mut first_response_ms),
        "init_ms": stats::summary(&mut init_ms),
    })
}

async fn warm(setup: &Setup, invocations: usize, warmup: usize, checkpoints: &[usize]) -> Value {
    let mut api = RuntimeApi::start(&setup.name).await;
    let mut child = setup.spawn(&api);
    let pid = child.id().expect("a running process");
    // Ready when it first asks for work.
    while !matches!(
        setup.wait(&mut api, &mut child, "first /next").await,
        Seen::Next(_)
    ) {}
    let mut latencies_us = Vec::with_capacity(invocations);
    let mut answered = Vec::with_capacity(invocations.saturating_sub(warmup));
    let mut memory = Vec::new();
    let mut measured_from = Instant::now();
    for i in 0..invocations {
        if i == warmup {
            measured_from = Instant::now();
        }
        let queued = Instant::now();
        api.enqueue(format!("warm-{i:08}"), setup.event.clone());
        let (body, at) = setup.response(&mut api, &mut child).await;
        if i >= warmup {
            latencies_us.push((at - queued).as_secs_f64() * 1e6);
            answered.push(at);
        }
        if i == 0 || i + 1 == invocations {
            setup.check(&body);
        }
        if checkpoints.contains(&(i + 1)) {
            memory.push(json!({"invocations": i + 1, "rss_kb": status_kb(pid, "VmRSS"), "peak_kb": status_kb(pid, "VmHWM")}));
        }
    }
    let measured = measured_from.elapsed().as_secs_f64();
    stop(&mut child).await;
    api.stop();
    let timed = latencies_us.len();
    json!({
        "invocations": invocations,
        "timed": timed,
        "per_second": if measured > 0.0 { timed as f64 / measured } else { 0.0 },
        "segments_per_second": segments_per_second(measured_from, &answered),
        "latency_us": stats::summary(&mut latencies_us),
        "memory": memory,
    })
}

/// How many consecutive segments `warm` splits its timed invocations into.
const SEGMENTS: usize = 10;

/// Invocations per second within each of [`SEGMENTS`] consecutive runs of
/// the timed invocations (fewer when there are fewer invocations), given
/// when each was answered and when the first was queued.
fn segments_per_second(from: Instant, answered: &[Instant]) -> Vec<f64> {
    let count = SEGMENTS.min(answered.len());
    let mut rates = Vec::with_capacity(count);
    let mut start = from;
    let mut done = 0;
    for segment in 1..=count {
        let end = answered.len() * segment / count;
        let last = answered[end - 1];
        let seconds = (last - start).as_secs_f64();
        rates.push(if seconds > 0.0 {
            (end - done) as f64 / seconds
        } else {
            0.0
        });
        start = last;
        done = end;
    }
    rates
}

/// A `kB` field of `/proc/PID/status`, or 0 where there is none.
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let value = line.strip_prefix(field)?.strip_prefix(':')?;
                value.trim().trim_end_matches("kB").trim().parse().ok()
            })
        })
        .unwrap_or(0)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn main() {
    let mut argv = std::env::args().skip(1);
    let mode = argv.next().unwrap_or_default();
    if mode == "-h" || mode == "--help" {
        println!("{USAGE}");
        return;
    }
    if mode != "cold" && mode != "warm" {
        fail(USAGE, "the first argument is `cold` or `warm`");
    }
    let args = Args::parse(argv, USAGE);
    if args.command.is_empty() {
        fail(USAGE, "give the function's command after `--`");
    }
    let event_path = args.required("event", USAGE);
    let event = std::fs::read(event_path)
        .unwrap_or_else(|e| fail(USAGE, &format!("cannot read {event_path}: {e}")));
    let expect_body = args.get("expect-body").map(|text| {
        serde_json::from_str(text)
            .unwrap_or_else(|e| fail(USAGE, &format!("--expect-body is not JSON: {e}")))
    });
    let setup = Setup {
        name: args.required("name", USAGE).to_owned(),
        command: args.command.clone(),
        event: Bytes::from(event),
        expect_status: args.number("expect-status", 200, USAGE),
        expect_body,
        log: args.get("log").map(str::to_owned),
        timeout: Duration::from_secs_f64(args.number("timeout-s", 30.0, USAGE)),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = if mode == "cold" {
        let trials = args.number("trials", 10, USAGE).max(1);
        let untimed = args.number("untimed", 1, USAGE);
        runtime.block_on(cold(&setup, untimed, trials))
    } else {
        let invocations: usize = args.number("invocations", 10_000, USAGE).max(1);
        let warmup = args.number("warmup", 100, USAGE).min(invocations - 1);
        let checkpoints: Vec<usize> = args
            .get("checkpoints")
            .unwrap_or("1000,10000")
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .unwrap_or_else(|_| fail(USAGE, &format!("bad checkpoint `{n}`")))
            })
            .collect();
        runtime.block_on(warm(&setup, invocations, warmup, &checkpoints))
    };
    println!("{result}");
}
