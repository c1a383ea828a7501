//! A function's HTTP answer, read back from any of the response shapes.

use base64::Engine as _;
use serde_json::Value;

/// Status, headers (lowercased names, all values) and body of a response.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The HTTP status.
    pub status: u16,
    /// Header name (lowercase) and value pairs; `Set-Cookie` from `cookies` too.
    pub headers: Vec<(String, String)>,
    /// The body, base64-decoded when `isBase64Encoded`.
    pub body: Vec<u8>,
}

impl HttpReply {
    /// Reads a REST v1, HTTP API v2 or ALB response document.
    pub fn from_lambda(result: &Value) -> Self {
        let status = result["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or_else(|| panic!("no statusCode in {result}"));
        let mut headers = Vec::new();
        if let Some(map) = result["headers"].as_object() {
            for (name, value) in map {
                headers.push((
                    name.to_ascii_lowercase(),
                    value.as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        if let Some(map) = result["multiValueHeaders"].as_object() {
            for (name, values) in map {
                for value in values.as_array().into_iter().flatten() {
                    headers.push((
                        name.to_ascii_lowercase(),
                        value.as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
        for cookie in result["cookies"].as_array().into_iter().flatten() {
            headers.push((
                "set-cookie".into(),
                cookie.as_str().unwrap_or_default().to_owned(),
            ));
        }
        let text = result["body"].as_str().unwrap_or_default();
        let body = if result["isBase64Encoded"].as_bool() == Some(true) {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("base64 body")
        } else {
            text.as_bytes().to_vec()
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
