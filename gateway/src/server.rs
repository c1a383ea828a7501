//! The HTTP side: one request through the stage check, the body limit,
//! route matching, the CORS preflight, the authorizer, the function and
//! back, with one log line per request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming as Body};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::authorizer::{Ask, Authorizers, Cache};
use crate::config::{ACCOUNT_ID, API_ID, Api};
use crate::event::{self, Incoming, RequestIds, Target};
use crate::invoke::{Invoker, Outcome};
use crate::reply;
use crate::responses::{GatewayError, RequestFacts};
use crate::routes::Found;

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// The gateway's long-lived state.
#[derive(Debug)]
pub struct Gateway {
    api: Api,
    invoker: Invoker,
    authorizers: Authorizers,
}

/// What one request became, for the log line and the answer.
struct Handled {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    resource: String,
    function: String,
    cache: Cache,
}

impl Gateway {
    /// A gateway for `api` invoking through `cargo lambda watch` on `watch_port`.
    pub fn new(api: Api, watch_port: u16) -> Self {
        let invoker = Invoker::new(watch_port, api.integration_timeout);
        Self {
            api,
            invoker,
            authorizers: Authorizers::default(),
        }
    }

    /// The API being served.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Serves `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        let port = listener.local_addr()?.port();
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("gateway: accept: {e}");
                    continue;
                }
            };
            let gateway = Arc::clone(&self);
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let gateway = Arc::clone(&gateway);
                    async move { Ok::<_, Infallible>(gateway.handle(request, peer, port).await) }
                });
                if let Err(e) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    eprintln!("gateway: connection from {peer}: {e}");
                }
            });
        }
    }

    async fn handle(
        &self,
        request: http::Request<Body>,
        peer: SocketAddr,
        port: u16,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let ids = RequestIds::new();
        let method = request.method().as_str().to_ascii_uppercase();
        let full_path = request.uri().path().to_owned();
        let handled = self
            .handled(request, peer, port, &ids, &method, &full_path)
            .await;
        println!(
            "{method} {full_path} resource={} function={} status={} latency={}ms authorizer={} requestId={}",
            if handled.resource.is_empty() {
                "-"
            } else {
                &handled.resource
            },
            if handled.function.is_empty() {
                "-"
            } else {
                &handled.function
            },
            handled.status,
            started.elapsed().as_millis(),
            handled.cache.as_str(),
            ids.request_id,
        );
        let mut response = Response::new(Full::new(Bytes::from(handled.body)));
        *response.status_mut() =
            StatusCode::from_u16(handled.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let headers = response.headers_mut();
        let ours = [
            ("x-amzn-RequestId".to_owned(), ids.request_id.clone()),
            ("x-amz-apigw-id".to_owned(), ids.extended_request_id.clone()),
        ];
        for (name, value) in handled.headers.into_iter().chain(ours) {
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                (Ok(name), Ok(value)) => {
                    headers.append(name, value);
                }
                _ => eprintln!("gateway: dropped an invalid header `{name}`"),
            }
        }
        response
    }

    async fn handled(
        &self,
        request: http::Request<Body>,
        peer: SocketAddr,
        port: u16,
        ids: &RequestIds,
        method: &str,
        full_path: &str,
    ) -> Handled {
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut facts = RequestFacts {
            request_id: &ids.request_id,
            path: full_path,
            stage: &self.api.stage,
            resource_path: "",
            method,
            headers: headers.clone(),
        };
        let error = |error: GatewayError,
                     facts: &RequestFacts<'_>,
                     resource: &str,
                     function: &str,
                     cache| {
            let answer = self.api.responses.answer(error, facts);
            Handled {
                status: answer.status,
                headers: answer.headers,
                body: answer.body.into_bytes(),
                resource: resource.to_owned(),
                function: function.to_owned(),
                cache,
            }
        };
        let Some(path) = strip_stage(full_path, &self.api.stage) else {
            return error(GatewayError::UnknownStage, &facts, "", "", Cache::None);
        };
        let query = request.uri().query().map(str::to_owned);
        let declared = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            return error(GatewayError::RequestTooLarge, &facts, "", "", Cache::None);
        }
        let body = match Limited::new(request.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
        {
            Ok(body) => body.to_bytes().to_vec(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return error(GatewayError::RequestTooLarge, &facts, "", "", Cache::None);
            }
            Err(e) => {
                eprintln!("gateway: reading the request body: {e}");
                return error(GatewayError::Integration, &facts, "", "", Cache::None);
            }
        };
        let (resource, integration, params) = match self.api.routes.find(method, &path) {
            Found::Missing => {
                return error(
                    GatewayError::MissingAuthenticationToken,
                    &facts,
                    "",
                    "",
                    Cache::None,
                );
            }
            Found::Preflight(resource) => {
                let origin = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("origin"))
                    .map(|(_, v)| v.as_str());
                let mut answer: Vec<(String, String)> = resource
                    .cors
                    .as_ref()
                    .map(|c| c.headers(origin))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(n, v)| (n.to_owned(), v))
                    .collect();
                answer.push(("Content-Type".into(), "application/json".into()));
                return Handled {
                    status: 200,
                    headers: answer,
                    body: Vec::new(),
                    resource: resource.path.clone(),
                    function: "MOCK".into(),
                    cache: Cache::None,
                };
            }
            Found::Method {
                resource,
                method,
                params,
            } => (resource, method, params),
        };
        facts.resource_path = &resource.path;
        let incoming = Incoming {
            method: method.to_owned(),
            path,
            query,
            headers,
            body,
            source_ip: peer.ip().to_string(),
            port,
        };
        let mut cache = Cache::None;
        let authorizer = match &integration.authorizer {
            None => None,
            Some(config) => {
                let method_arn = format!(
                    "arn:aws:execute-api:{}:{ACCOUNT_ID}:{API_ID}/{}/{method}{}",
                    self.api.region, self.api.stage, incoming.path
                );
                let ask = Ask {
                    config,
                    token: incoming.header(&config.header),
                    method_arn: &method_arn,
                };
                match self
                    .authorizers
                    .authorize(&self.invoker, &ask, &mut cache)
                    .await
                {
                    Ok(context) => Some(context),
                    Err(e) => {
                        return error(e, &facts, &resource.path, &integration.function, cache);
                    }
                }
            }
        };
        let target = Target {
            resource: &resource.path,
            params: &params,
            authorizer,
        };
        let event = event::build(&self.api, &incoming, &target, ids);
        let fail = |facts: &RequestFacts<'_>, e: GatewayError| {
            error(e, facts, &resource.path, &integration.function, cache)
        };
        let answer = match self
            .invoker
            .invoke(&integration.function, &event.to_string())
            .await
        {
            Outcome::Answer(answer) => answer,
            Outcome::FunctionError(e) => {
                eprintln!("gateway: {} failed: {e}", integration.function);
                return fail(&facts, GatewayError::Integration);
            }
            Outcome::Timeout => {
                eprintln!(
                    "gateway: {} did not answer within {} s",
                    integration.function,
                    self.api.integration_timeout.as_secs()
                );
                return fail(&facts, GatewayError::IntegrationTimeout);
            }
            Outcome::Unreachable(e) => {
                eprintln!("gateway: {}: {e}", integration.function);
                return fail(&facts, GatewayError::Integration);
            }
        };
        match reply::from_function(
            &answer,
            incoming.header("accept"),
            &self.api.binary_media_types,
        ) {
            Ok(reply) => {
                if reply.base64_passed_through {
                    eprintln!(
                        "gateway: {} answered isBase64Encoded, sent as base64 text as API Gateway does: no binaryMediaTypes entry matches the request's Accept",
                        integration.function
                    );
                }
                let mut headers = reply.headers;
                headers.push(("X-Amzn-Trace-Id".into(), ids.trace_id.clone()));
                Handled {
                    status: reply.status,
                    headers,
                    body: reply.body,
                    resource: resource.path.clone(),
                    function: integration.function.clone(),
                    cache,
                }
            }
            Err(e) => {
                eprintln!(
                    "gateway: malformed Lambda proxy response from {}: {e}",
                    integration.function
                );
                fail(&facts, GatewayError::Integration)
            }
        }
    }
}

/// The path after `/<stage>`, or `None` when the first segment is not it.
fn strip_stage(path: &str, stage: &str) -> Option<String> {
    let rest = path.strip_prefix('/')?.strip_prefix(stage)?;
    match rest {
        "" => Some("/".into()),
        rest if rest.starts_with('/') => Some(rest.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::strip_stage;

    #[test]
    fn the_stage_is_the_first_segment() {
        let cases = [
            ("/dev/ping", Some("/ping")),
            ("/dev", Some("/")),
            ("/dev/", Some("/")),
            ("/ping", None),
            ("/devx/ping", None),
            ("/", None),
        ];
        for (path, expected) in cases {
            assert_eq!(strip_stage(path, "dev").as_deref(), expected, "{path}");
        }
    }
}
