//! The gateway over a real `cargo lambda watch`, and a small HTTP client.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_yaml_ng::{Mapping, Value};

/// Waits until something listens on `port`, failing if `child` exits first.
pub fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `cargo lambda watch` running (and building) the workspace's functions.
#[derive(Debug)]
pub struct Watch {
    child: Child,
    /// Its Invoke API port.
    pub port: u16,
    data: Option<tempfile::TempDir>,
}

impl Watch {
    /// Takes over a `cargo lambda watch` started elsewhere on `port`.
    pub fn adopt(child: Child, port: u16) -> Self {
        Self {
            child,
            port,
            data: None,
        }
    }

    /// The users store of a watcher this test started: in its own
    /// directory, never the repository's `.data/`.
    pub fn store(&self) -> Option<std::path::PathBuf> {
        Some(self.data.as_ref()?.path().join(".data/users.sqlite3"))
    }

    /// Starts it in the workspace, the users store in a fresh directory;
    /// `None` (after a SKIP message) without cargo-lambda.
    pub fn start() -> Option<Self> {
        if !testkit::require_tool(
            "cargo",
            &["lambda", "--version"],
            "pip install cargo-lambda",
        ) {
            return None;
        }
        let data = tempfile::tempdir().expect("a temporary directory");
        let port = testkit::free_port();
        let mut child = Command::new("cargo")
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "--quiet",
                "--disable-cors",
            ])
            .args([
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ])
            // Run from the temporary directory: the users package's
            // metadata (`.data/users.sqlite3`, relative) then points into
            // it; cargo-lambda lets no flag override a package's metadata.
            .arg("--manifest-path")
            .arg(testkit::workspace_root().join("Cargo.toml"))
            .current_dir(data.path())
            .stdout(Stdio::null())
            .stderr(logs())
            .spawn()
            .expect("cargo lambda watch starts");
        wait_for_port(port, &mut child, "cargo lambda watch");
        Some(Self {
            child,
            port,
            data: Some(data),
        })
    }
}

fn logs() -> Stdio {
    if std::env::var_os("TEST_FUNCTION_LOGS").is_some() {
        Stdio::inherit()
    } else {
        Stdio::null()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The service the tests deploy locally: the real `functions.yml` with
/// the authorizer on the users routes (as `cargo xtask routes --write` will
/// wire it), the authorizer function run by the `gateway-probe` binary, and
/// a `probe` function that echoes its event.
pub fn service_dir() -> tempfile::TempDir {
    let root = testkit::workspace_root();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text = std::fs::read_to_string(root.join("functions.yml")).expect("functions.yml");
    let mut document: Value = serde_yaml_ng::from_str(&text).expect("functions.yml is YAML");
    let functions = document
        .get_mut("functions")
        .and_then(Value::as_mapping_mut)
        .expect("functions:");
    let authorizer: Value = serde_yaml_ng::from_str(
        "{name: authorizer, identitySource: method.request.header.Authorization, resultTtlInSeconds: 300, type: token}",
    )
    .expect("YAML");
    if let Some(Value::Sequence(events)) =
        functions.get_mut("users").and_then(|u| u.get_mut("events"))
    {
        for event in events {
            if let Some(Value::Mapping(http)) = event.get_mut("http") {
                http.entry("authorizer".into())
                    .or_insert(authorizer.clone());
            }
        }
    }
    let probe = |events: &str| -> Value {
        serde_yaml_ng::from_str(&format!(
            "{{image: {{uri: 'probe', command: [gateway-probe]}}, events: {events}}}"
        ))
        .expect("YAML")
    };
    // Whatever runs `authorizer` in the real file, the probe runs it here.
    let mut entry = functions
        .get("authorizer")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_else(Mapping::new);
    entry.insert(
        "image".into(),
        probe("[]").get("image").cloned().unwrap_or_default(),
    );
    functions.insert("authorizer".into(), Value::Mapping(entry));
    functions.insert(
        "probe".into(),
        probe(
            "[{http: {path: '/probe/{proxy+}', method: any, cors: true, authorizer: {name: authorizer, resultTtlInSeconds: 300}}}, \
              {http: {path: /public-probe, method: get}}]",
        ),
    );
    let text = serde_yaml_ng::to_string(&document).expect("YAML out");
    std::fs::write(dir.path().join("functions.yml"), text).expect("write functions.yml");
    std::fs::copy(
        root.join("serverless.yml"),
        dir.path().join("serverless.yml"),
    )
    .expect("copy serverless.yml");
    dir
}

/// The gateway binary serving `root` over `watch`.
#[derive(Debug)]
pub struct Gateway {
    child: Child,
    /// Its port.
    pub port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Gateway {
    /// Starts it with extra `args`.
    pub fn start(root: &Path, watch: &Watch, args: &[&str]) -> Self {
        let port = testkit::free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_gateway"))
            .arg("--root")
            .arg(root)
            .args([
                "--port",
                &port.to_string(),
                "--watch-port",
                &watch.port.to_string(),
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(logs())
            .spawn()
            .expect("the gateway starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(stdout) = child.stdout.take() {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    lines.lock().expect("lines").push(line);
                }
            });
        }
        wait_for_port(port, &mut child, "the gateway");
        Self { child, port, lines }
    }

    /// The log line of the request with `x-amzn-RequestId` `id`.
    pub fn log_line(&self, id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .lines
                .lock()
                .expect("lines")
                .iter()
                .find(|l| l.ends_with(&format!("requestId={id}")))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(Instant::now() < deadline, "no log line for {id}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one request.
    pub fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        send(self.port, method, path, headers, body)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on its own connection (`connection: close`).
pub fn send(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(300)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write");
    // A refused body may be cut short by the server: ignore write errors.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse(&raw)
}

fn parse(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head: {}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// The API as deployed, for the answers the gateway itself gives.
pub fn deployed_api() -> gateway::Api {
    let sources = gateway::config::Sources::in_dir(&testkit::workspace_root());
    gateway::config::load(&sources).unwrap_or_else(|e| panic!("{e}"))
}

/// The workspace root.
pub fn root() -> PathBuf {
    testkit::workspace_root()
}

/// A request that declares a `content-length` of `length` and sends no
/// body: what API Gateway refuses by the header alone.
pub fn declare_length(port: u16, method: &str, path: &str, length: usize) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("write");
    let mut raw = vec![0; 4096];
    let read = stream.read(&mut raw).expect("an answer");
    parse(&raw[..read])
}
