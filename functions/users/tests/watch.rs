//! A plain `cargo lambda watch` serves users from SQLite with no store
//! setting given: the users package metadata
//! (`[package.metadata.lambda.env]`) sets `USERS_DB_PATH`, which the binary
//! itself no longer defaults (it refuses to start without a store).
//!
//! The watcher runs in a temporary folder with `--manifest-path`, so the
//! relative `.data/users.sqlite3` lands there and not in the checkout.
//! The watcher's events carry no authorizer context: the function verifies
//! the bearer token itself, against a JWKS served on 127.0.0.1.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::jwks::{JwksServer, SigningKey, now};
use testkit::{free_port, require_tool, workspace_root};

const AUDIENCE: &str = "rust-lambda-api";

/// The watcher, stopped with SIGTERM (it then stops its functions) and
/// killed if it lingers.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET path` with `Authorization: Bearer token` on the watcher's HTTP
/// port: the status line and the body.
fn get(port: u16, path: &str, token: &str) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    // The first request runs `cargo run --bin users` (built already by
    // `cargo test`); a function that never starts is never answered.
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or("").to_owned();
    Ok((status, body.to_owned()))
}

#[test]
fn cargo_lambda_watch_gets_the_sqlite_path_from_the_package_metadata() {
    if !require_tool(
        "cargo",
        &["lambda", "--version"],
        "pip install cargo-lambda",
    ) {
        return;
    }
    let key = SigningKey::rsa("watch");
    let server = JwksServer::start(&[&key]);
    let token = key.sign(&json!({
        "iss": server.issuer(),
        "aud": AUDIENCE,
        "sub": "ada",
        "scope": "users:read",
        "exp": now() + 600,
    }));
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let manifest = workspace_root().join("Cargo.toml");
    let log = std::fs::File::create(dir.path().join("watch.log")).expect("log file");
    let _watch = Watch(
        Command::new("cargo")
            .args(["lambda", "watch", "--ignore-changes", "--disable-cors"])
            .arg("--manifest-path")
            .arg(&manifest)
            .args(["--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(dir.path())
            .env_remove("USERS_TABLE")
            .env_remove("USERS_DB_PATH")
            .env("AUTH_ISSUER", server.issuer())
            .env("AUTH_AUDIENCE", AUDIENCE)
            .env("AUTH_JWKS_URL", server.jwks_url())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("cargo lambda watch starts"),
    );

    let deadline = Instant::now() + Duration::from_secs(300);
    let (status, body) = loop {
        match get(port, "/api/v1/users", &token) {
            Ok(answer) => break answer,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => {
                let log = std::fs::read_to_string(dir.path().join("watch.log")).unwrap_or_default();
                panic!("the watcher never answered: {e}\n{log}");
            }
        }
    };
    let log = || std::fs::read_to_string(dir.path().join("watch.log")).unwrap_or_default();
    assert!(status.contains(" 200 "), "{status}: {body}\n{}", log());
    assert!(body.contains("\"users\""), "{body}");
    let db = dir.path().join(".data/users.sqlite3");
    assert!(
        db.is_file(),
        "the metadata's path, relative to where the watcher runs: {}",
        log()
    );
}
