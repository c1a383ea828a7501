//! The interactive docs page: Swagger UI at a pinned version from jsDelivr,
//! each file checked by the browser against its Subresource Integrity hash,
//! and a Content-Security-Policy that allows exactly what the page loads:
//! those two files, its one inline script (by hash), the data: images of
//! Swagger UI's stylesheet, and requests to its own origin (the document
//! and "Try it out").
//!
//! To move to another Swagger UI version: `npm pack swagger-ui-dist@X`, and
//! for each file `openssl dgst -sha384 -binary FILE | openssl base64 -A`;
//! update [`SWAGGER_UI_VERSION`], the two hashes, and the test fixture
//! (`tests/fixtures/swagger-ui-dist.json`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// The `swagger-ui-dist` npm version the page loads.
pub const SWAGGER_UI_VERSION: &str = "5.35.0";
/// Where jsDelivr serves that npm package's files, byte for byte.
const CDN: &str = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@";

/// One file the page loads from the CDN, with its integrity hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The file in the npm package.
    pub file: &'static str,
    /// `sha384-<base64>` of that file in the package of [`SWAGGER_UI_VERSION`].
    pub integrity: &'static str,
}

impl Asset {
    /// Its URL on the CDN, at the pinned version.
    pub fn url(&self) -> String {
        format!("{CDN}{SWAGGER_UI_VERSION}/{}", self.file)
    }
}

/// Swagger UI's stylesheet.
pub const STYLESHEET: Asset = Asset {
    file: "swagger-ui.css",
    integrity: "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I",
};

/// Swagger UI's script, with its dependencies bundled.
pub const BUNDLE: Asset = Asset {
    file: "swagger-ui-bundle.js",
    integrity: "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9",
};

/// The page's one inline script: constant, so its hash can be in the
/// policy; the document URL comes from the `data-url` attribute.
pub const INLINE_SCRIPT: &str = r##"
    const root = document.getElementById("swagger-ui");
    window.ui = SwaggerUIBundle({ url: root.dataset.url, dom_id: "#swagger-ui", validatorUrl: null });
  "##;

const TEMPLATE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Rust Lambda API - docs</title>
  <link rel="stylesheet" href="{STYLESHEET_URL}" integrity="{STYLESHEET_INTEGRITY}" crossorigin="anonymous">
</head>
<body>
  <div id="swagger-ui" data-url="{DOCUMENT_URL}"></div>
  <script src="{BUNDLE_URL}" integrity="{BUNDLE_INTEGRITY}" crossorigin="anonymous"></script>
  <script>{INLINE_SCRIPT}</script>
</body>
</html>
"##;

/// The page and its policy, built once at start-up.
#[derive(Debug)]
pub struct Page {
    /// The page with `{DOCUMENT_URL}` still to fill in.
    template: String,
    policy: String,
}

impl Page {
    /// Builds the page and its `Content-Security-Policy`.
    pub fn new() -> Self {
        let template = TEMPLATE
            .replace("{STYLESHEET_URL}", &STYLESHEET.url())
            .replace("{STYLESHEET_INTEGRITY}", STYLESHEET.integrity)
            .replace("{BUNDLE_URL}", &BUNDLE.url())
            .replace("{BUNDLE_INTEGRITY}", BUNDLE.integrity)
            .replace("{INLINE_SCRIPT}", INLINE_SCRIPT);
        let inline = STANDARD.encode(Sha256::digest(INLINE_SCRIPT.as_bytes()));
        let policy = [
            "default-src 'none'".to_owned(),
            format!("script-src {} 'sha256-{inline}'", BUNDLE.url()),
            format!("style-src {}", STYLESHEET.url()),
            "img-src data:".to_owned(),
            "connect-src 'self'".to_owned(),
            "base-uri 'none'".to_owned(),
            "form-action 'none'".to_owned(),
            "frame-ancestors 'none'".to_owned(),
        ]
        .join("; ");
        Self { template, policy }
    }

    /// The page reading the OpenAPI document at `document_url`.
    pub fn html(&self, document_url: &str) -> String {
        self.template
            .replace("{DOCUMENT_URL}", &attribute(document_url))
    }

    /// The value of the page's `Content-Security-Policy` header.
    pub fn policy(&self) -> &str {
        &self.policy
    }
}

impl Default for Page {
    fn default() -> Self {
        Self::new()
    }
}

/// `value` escaped for a double-quoted HTML attribute.
fn attribute(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_url_cannot_leave_its_attribute() {
        let cases = [
            ("/dev/openapi.json", "/dev/openapi.json"),
            (
                "/x\"><script>alert(1)</script>",
                "/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("/a&b'c", "/a&amp;b&#39;c"),
        ];
        let page = Page::new();
        for (url, escaped) in cases {
            let html = page.html(url);
            assert!(
                html.contains(&format!("data-url=\"{escaped}\"")),
                "{url}: {html}"
            );
            assert_eq!(html.matches("<script").count(), 2, "{url}");
        }
    }
}
