//! One GET of the JWKS document, on the functions' one HTTPS stack
//! ([`crate::https`]). A deadline covers the whole exchange and the body is
//! capped, so a slow or hostile server costs little.

use std::time::Duration;

use bytes::Bytes;
use http::Uri;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::https::{Roots, chain, connector};

/// The largest JWKS document read; real ones are a few KiB.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Fetches one URL, the issuer's JWKS.
#[derive(Debug)]
pub(crate) struct Fetcher {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    url: Uri,
    timeout: Duration,
}

impl Fetcher {
    /// A client for `url` (`https`, or `http` to the loopback interface, as
    /// [`super::AuthConfig`] checked). `https` needs the system's CA
    /// certificates; their absence is an error at start-up, not at the
    /// first request.
    pub(crate) fn new(url: Uri, timeout: Duration) -> Result<Self, String> {
        let roots = if url.scheme_str() == Some("https") {
            Roots::System
        } else {
            Roots::None
        };
        let connector =
            connector(Some(timeout), roots).map_err(|e| format!("checking {url}: {e}"))?;
        // No idle connections kept: fetches are a minute apart at least, and
        // a connection parked while Lambda freezes the process is often dead
        // when it thaws.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        Ok(Self {
            client,
            url,
            timeout,
        })
    }

    /// The URL fetched.
    pub(crate) fn url(&self) -> &Uri {
        &self.url
    }

    /// The body of a 2xx answer; anything else (no answer within the
    /// timeout, another status, a body over the cap) is an error saying so.
    pub(crate) async fn get(&self) -> Result<Bytes, String> {
        let request = http::Request::get(self.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("request failed: {}", chain(&e)))?;
            let status = response.status();
            if !status.is_success() {
                return Err(format!("answered {status}"));
            }
            let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the body: {e}"))?;
            Ok(body.to_bytes())
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| format!("no answer within {} ms", self.timeout.as_millis()))?
    }
}
