//! Invoking a function through `cargo lambda watch`'s Invoke API
//! (`POST /2015-03-31/functions/<name>/invocations`, cargo-lambda's
//! `trigger_router.rs`), which builds, starts and hot-reloads the binary.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::Value as Json;
use tokio::net::TcpStream;

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    /// The function's result (any JSON).
    Answer(Json),
    /// A Lambda error (`errorType`, `errorMessage`).
    FunctionError(Json),
    /// No answer within the deadline.
    Timeout,
    /// The emulator could not be reached or did not know the function.
    Unreachable(String),
}

/// The emulator's Invoke API on `127.0.0.1:<port>`.
#[derive(Debug, Clone)]
pub struct Invoker {
    port: u16,
    timeout: Duration,
}

impl Invoker {
    /// Invokes on `port`, waiting at most `timeout` per invocation.
    pub fn new(port: u16, timeout: Duration) -> Self {
        Self { port, timeout }
    }

    /// Invokes `function` with `payload` (JSON).
    pub async fn invoke(&self, function: &str, payload: &str) -> Outcome {
        match tokio::time::timeout(self.timeout, self.post(function, payload.to_owned())).await {
            Err(_) => Outcome::Timeout,
            Ok(Err(e)) => Outcome::Unreachable(e),
            Ok(Ok((status, body))) => {
                let document: Json = match serde_json::from_slice(&body) {
                    Ok(document) => document,
                    Err(_) => {
                        return Outcome::Unreachable(format!(
                            "status {status}, not JSON: {}",
                            String::from_utf8_lossy(&body)
                        ));
                    }
                };
                match status {
                    200 => Outcome::Answer(document),
                    // cargo lambda watch: `{"title": "Missing function", ...}`.
                    404 if document.get("title").is_some() => Outcome::Unreachable(format!(
                        "cargo lambda watch has no function `{function}`: {document}"
                    )),
                    _ => Outcome::FunctionError(document),
                }
            }
        }
    }

    async fn post(&self, function: &str, payload: String) -> Result<(u16, Bytes), String> {
        let stream = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .map_err(|e| {
                format!(
                    "cannot reach cargo lambda watch on 127.0.0.1:{}: {e}",
                    self.port
                )
            })?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("invoke handshake: {e}"))?;
        tokio::spawn(connection);
        let request = http::Request::post(format!("/2015-03-31/functions/{function}/invocations"))
            .header(http::header::HOST, format!("127.0.0.1:{}", self.port))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(payload)))
            .map_err(|e| format!("invoke request: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("invoke: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("invoke answer: {e}"))?
            .to_bytes();
        Ok((status, body))
    }
}
