//! One HTTPS client stack for every outbound call a function makes: hyper's
//! HTTP/1.1 client (in every function already, through lambda_runtime) on
//! rustls with ring and the system's CA certificates.
//!
//! - [`connector`]: the TLS connector; the JWKS fetch (`auth`) uses it.
//! - [`SdkHttpClient`] (feature `aws-sdk`): the same stack as an AWS SDK
//!   client's HTTP client, in place of `aws-smithy-http-client`, which
//!   always links HTTP/2 (`h2`, about 0.4 MiB of a binary) for calls that
//!   HTTP/1.1 serves as well (bench/README.md, Size).

use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::{ConfigBuilderExt, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// Which servers a [`connector`] can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roots {
    /// `https` servers with a certificate the system's CAs signed; their
    /// absence is an error.
    System,
    /// Plain `http` only (a loopback server): no certificate is trusted.
    None,
}

/// A connector for `http` and `https` URLs, each connection attempt given
/// up after `connect_timeout`, TCP_NODELAY on.
pub fn connector(
    connect_timeout: Option<Duration>,
    roots: Roots,
) -> Result<HttpsConnector<HttpConnector>, String> {
    Ok(connector_with(tls_config(roots)?, connect_timeout))
}

/// rustls on ring, trusting what `roots` says (the system's CA bundle is
/// read here).
fn tls_config(roots: Roots) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?;
    Ok(match roots {
        Roots::System => builder
            .with_native_roots()
            .map_err(|e| format!("no CA certificates to check servers with: {e}"))?
            .with_no_client_auth(),
        Roots::None => builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    })
}

/// [`connector`] on a TLS configuration already made.
fn connector_with(
    tls: rustls::ClientConfig,
    connect_timeout: Option<Duration>,
) -> HttpsConnector<HttpConnector> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(connect_timeout);
    HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http)
}

/// An error with its sources: hyper's own message ("client error
/// (Connect)") says little without them.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(feature = "aws-sdk")]
pub use sdk::SdkHttpClient;

#[cfg(feature = "aws-sdk")]
mod sdk {
    use std::sync::{Mutex, PoisonError};
    use std::time::Duration;

    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
        SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::retries::ErrorKind;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::body::SdkBody;
    use hyper_rustls::HttpsConnector;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
    use hyper_util::rt::TokioExecutor;

    use super::{Roots, chain, connector_with, tls_config};

    /// An AWS SDK HTTP client on [`super::connector`]: HTTP/1.1, pooled
    /// connections, the connect and read timeouts of the client's
    /// `TimeoutConfig`. Give it to the SDK's config builder
    /// (`.http_client(SdkHttpClient::new(roots)?.shared())`).
    ///
    /// Errors are told apart as the SDK's own client does, so its retry
    /// policy treats them alike: no connection or a dropped one is `io`, a
    /// timeout is `timeout`, a cut-off answer is transient.
    #[derive(Debug)]
    pub struct SdkHttpClient {
        /// Made once; each connector gets a copy (its certificates shared).
        tls: rustls::ClientConfig,
        /// The connector for the last settings asked for: one set per
        /// client in practice.
        built: Mutex<Option<(Settings, SharedHttpConnector)>>,
    }

    type Settings = (Option<Duration>, Option<Duration>);

    impl SdkHttpClient {
        /// A client for servers `roots` can check. Fails now, not at the
        /// first call, when [`Roots::System`] finds no CA certificates.
        pub fn new(roots: Roots) -> Result<Self, String> {
            Ok(Self {
                tls: tls_config(roots)?,
                built: Mutex::new(None),
            })
        }

        /// As the SDK's config builders take it.
        pub fn shared(self) -> SharedHttpClient {
            SharedHttpClient::new(self)
        }
    }

    impl HttpClient for SdkHttpClient {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            let wanted = (settings.connect_timeout(), settings.read_timeout());
            let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((settings, connector)) = built.as_ref()
                && *settings == wanted
            {
                return connector.clone();
            }
            let tls = connector_with(self.tls.clone(), wanted.0);
            let connector = SharedHttpConnector::new(Http1 {
                client: Client::builder(TokioExecutor::new()).build(tls),
                read_timeout: wanted.1,
            });
            *built = Some((wanted, connector.clone()));
            connector
        }
    }

    /// Sends each request on the pooled client.
    #[derive(Debug)]
    pub(super) struct Http1 {
        pub(super) client: Client<HttpsConnector<TcpConnector>, SdkBody>,
        pub(super) read_timeout: Option<Duration>,
    }

    impl HttpConnector for Http1 {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let client = self.client.clone();
            let read_timeout = self.read_timeout;
            HttpConnectorFuture::new(async move {
                let request = request
                    .try_into_http1x()
                    .map_err(|e| ConnectorError::user(e.into()))?;
                let sent = client.request(request);
                let response = match read_timeout {
                    Some(limit) => tokio::time::timeout(limit, sent).await.map_err(|_| {
                        ConnectorError::timeout(
                            format!("no answer within {} ms", limit.as_millis()).into(),
                        )
                    })?,
                    None => sent.await,
                }
                .map_err(|e| connector_error(&e)(chain(&e).into()))?;
                HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None))
            })
        }
    }

    /// What kind of failure `error` is, as `aws-smithy-http-client` tells
    /// them apart for the SDK's retry policy.
    fn connector_error(
        error: &hyper_util::client::legacy::Error,
    ) -> fn(aws_smithy_runtime_api::box_error::BoxError) -> ConnectorError {
        let hyper = find::<hyper::Error>(error);
        let io = find::<std::io::Error>(error);
        if hyper.is_some_and(hyper::Error::is_timeout)
            || io.is_some_and(|e| e.kind() == std::io::ErrorKind::TimedOut)
        {
            return ConnectorError::timeout;
        }
        if hyper.is_some_and(hyper::Error::is_user) {
            return ConnectorError::user;
        }
        if error.is_connect()
            || io.is_some()
            || hyper.is_some_and(|e| e.is_closed() || e.is_canceled())
        {
            return ConnectorError::io;
        }
        if hyper.is_some_and(hyper::Error::is_incomplete_message) {
            return |e| ConnectorError::other(e, Some(ErrorKind::TransientError));
        }
        |e| ConnectorError::other(e, None)
    }

    /// The first error of type `E` in `error`'s chain.
    fn find<'a, E: std::error::Error + 'static>(
        error: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a E> {
        let mut next = Some(error);
        while let Some(error) = next {
            if let Some(found) = error.downcast_ref::<E>() {
                return Some(found);
            }
            next = error.source();
        }
        None
    }
}

#[cfg(all(test, feature = "aws-sdk"))]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::Duration;

    use aws_smithy_runtime_api::client::http::HttpConnector as _;
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::retries::ErrorKind;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    use super::sdk::Http1;
    use super::{Roots, connector};

    /// How a loopback server answers one connection.
    #[derive(Debug, Clone, Copy)]
    enum Server {
        /// No server: the port is closed.
        Closed,
        /// A whole answer.
        Answers,
        /// Reads the request, then says nothing.
        Silent,
        /// Half of an answer, then the connection closes.
        CutOff,
    }

    /// A port where `server` answers, for as long as the test runs.
    fn serve(server: Server) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        if matches!(server, Server::Closed) {
            return port; // dropped: nothing listens there
        }
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let answer: &[u8] = match server {
                Server::Answers => b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
                Server::CutOff => b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{",
                _ => b"",
            };
            let _ = stream.write_all(answer);
            if matches!(server, Server::Silent) {
                std::thread::sleep(Duration::from_secs(5));
            }
        });
        port
    }

    fn kind(error: &ConnectorError) -> &'static str {
        match (
            error.is_io(),
            error.is_timeout(),
            error.is_user(),
            error.as_other(),
        ) {
            (true, ..) => "io",
            (_, true, ..) => "timeout",
            (_, _, true, _) => "user",
            (.., Some(ErrorKind::TransientError)) => "transient",
            _ => "other",
        }
    }

    /// Each failure gets the kind the SDK's retry policy expects: what
    /// `aws-smithy-http-client` says for it.
    #[tokio::test]
    async fn failures_are_told_apart_as_the_sdk_expects() {
        let cases = [
            (Server::Answers, Ok(200)),
            (Server::Closed, Err("io")),
            (Server::Silent, Err("timeout")),
            // The head arrived; the cut-off body fails when the SDK reads
            // it (a `ResponseError`, transient for the users store).
            (Server::CutOff, Ok(200)),
        ];
        for (server, expected) in cases {
            let port = serve(server);
            let tls = connector(Some(Duration::from_secs(1)), Roots::None).expect("a connector");
            let http = Http1 {
                client: Client::builder(TokioExecutor::new()).build(tls),
                read_timeout: Some(Duration::from_millis(300)),
            };
            let request = HttpRequest::get(format!("http://127.0.0.1:{port}/")).expect("a URL");
            let got = http
                .call(request)
                .await
                .map(|response| response.status().as_u16())
                .map_err(|e| kind(&e));
            assert_eq!(got, expected, "{server:?}");
        }
    }
}
