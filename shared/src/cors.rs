//! CORS: which origins may call the API, added to every response.
//!
//! API Gateway's `cors: true` only answers the preflight `OPTIONS` in front
//! of the function; with the proxy integration every other response must
//! carry the headers itself, errors included.

use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method};

use crate::response::Response;

/// The allowed origins, from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// `*`: any origin (the default).
    #[default]
    AnyOrigin,
    /// Only these exact origins (`https://app.example.com`); others get no
    /// `Access-Control-Allow-Origin`.
    Origins(Vec<String>),
}

/// Headers a browser may send when none were asked for in the preflight.
const DEFAULT_ALLOW_HEADERS: &str = "authorization, content-type";
const MAX_AGE_SECONDS: &str = "600";

impl Cors {
    /// Parses `*` or a comma-separated list of origins; empty means `*`.
    pub fn parse(value: &str) -> Self {
        let origins: Vec<String> = value
            .split(',')
            .map(|o| o.trim().trim_end_matches('/'))
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect();
        if origins.is_empty() || origins.iter().any(|o| o == "*") {
            Self::AnyOrigin
        } else {
            Self::Origins(origins)
        }
    }

    /// The request headers [`Cors::apply`] reads for a request with
    /// `method`: `Origin` when only some origins are allowed, and on a
    /// preflight the headers it asks for. A caller that cannot keep a
    /// request's headers until its response keeps these (none for the
    /// usual request to an API open to any origin).
    pub fn reads(&self, method: &Method) -> impl Iterator<Item = HeaderName> + use<> {
        let origin = matches!(self, Self::Origins(_)).then_some(header::ORIGIN);
        let requested =
            (*method == Method::OPTIONS).then_some(header::ACCESS_CONTROL_REQUEST_HEADERS);
        origin.into_iter().chain(requested)
    }

    /// Adds the CORS headers for a request with `request_headers` to `response`.
    ///
    /// A preflight (`OPTIONS` answered by the router with `Allow`) also gets
    /// the allowed methods, headers and a max age.
    pub fn apply(&self, method: &Method, request_headers: &HeaderMap, response: &mut Response) {
        let origin = request_headers.get(header::ORIGIN);
        let allow_origin = match self {
            Self::AnyOrigin => HeaderValue::from_static("*"),
            Self::Origins(list) => {
                response
                    .headers
                    .append(header::VARY, HeaderValue::from_static("Origin"));
                match origin {
                    Some(o)
                        if list
                            .iter()
                            .any(|allowed| allowed.as_bytes() == o.as_bytes()) =>
                    {
                        o.clone()
                    }
                    _ => return,
                }
            }
        };
        let headers = &mut response.headers;
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("location"),
        );
        if *method == Method::OPTIONS
            && let Some(allow) = headers.get(header::ALLOW).cloned()
        {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, allow);
            let requested = request_headers
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
                .cloned()
                .unwrap_or(HeaderValue::from_static(DEFAULT_ALLOW_HEADERS));
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECONDS),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn headers(origin: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(origin) = origin {
            headers.insert(
                header::ORIGIN,
                HeaderValue::from_str(origin).expect("valid"),
            );
        }
        headers
    }

    /// A preflight's headers: `origin`, asking for `requested`.
    fn preflight(origin: &str, requested: &'static str) -> HeaderMap {
        let mut request = headers(Some(origin));
        request.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static(requested),
        );
        request
    }

    #[test]
    fn parse_configuration() {
        let cases = [
            ("", Cors::AnyOrigin),
            ("*", Cors::AnyOrigin),
            (
                " https://a.example , https://b.example/ ",
                Cors::Origins(vec!["https://a.example".into(), "https://b.example".into()]),
            ),
            ("https://a.example,*", Cors::AnyOrigin),
        ];
        for (value, expected) in cases {
            assert_eq!(Cors::parse(value), expected, "{value:?}");
        }
    }

    #[test]
    fn allow_list_is_enforced() {
        let cors = Cors::parse("https://app.example");
        let cases = [
            (Some("https://app.example"), Some("https://app.example")),
            (Some("https://evil.example"), None),
            (Some("https://app.example.evil"), None),
            (None, None),
        ];
        for (origin, expected) in cases {
            let mut response = Response::new(StatusCode::OK);
            cors.apply(&Method::GET, &headers(origin), &mut response);
            assert_eq!(
                response.header("access-control-allow-origin"),
                expected,
                "{origin:?}"
            );
            assert_eq!(response.header("vary"), Some("Origin"));
        }
    }

    /// What `apply` answers from the headers `reads` names alone is what
    /// it answers from all of a request's headers.
    #[test]
    fn the_headers_it_reads_are_all_it_needs() {
        let mut all = preflight("https://app.example", "x-trace");
        all.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let configs = [
            Cors::AnyOrigin,
            Cors::parse("https://app.example"),
            Cors::parse("https://other.example"),
        ];
        for cors in &configs {
            for method in [Method::GET, Method::POST, Method::OPTIONS] {
                let mut read = HeaderMap::new();
                for name in cors.reads(&method) {
                    if let Some(value) = all.get(&name) {
                        read.insert(name, value.clone());
                    }
                }
                let answer = |request: &HeaderMap| {
                    let mut response =
                        Response::no_content().with_header(header::ALLOW, "GET, OPTIONS");
                    cors.apply(&method, request, &mut response);
                    response
                };
                assert_eq!(answer(&read), answer(&all), "{cors:?} {method}");
            }
        }
        let names = |cors: &Cors, method| cors.reads(&method).collect::<Vec<_>>();
        assert_eq!(
            names(&Cors::AnyOrigin, Method::GET),
            Vec::<HeaderName>::new()
        );
        assert_eq!(
            names(&configs[1], Method::OPTIONS),
            [header::ORIGIN, header::ACCESS_CONTROL_REQUEST_HEADERS]
        );
    }

    #[test]
    fn any_origin_is_a_star_on_every_response() {
        let mut response = Response::new(StatusCode::NOT_FOUND);
        Cors::AnyOrigin.apply(&Method::GET, &headers(None), &mut response);
        assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn preflight_gets_methods_headers_and_max_age() {
        let request = preflight("https://x.example", "content-type, x-trace");
        let mut response = Response::no_content().with_header(header::ALLOW, "GET, HEAD, OPTIONS");
        Cors::AnyOrigin.apply(&Method::OPTIONS, &request, &mut response);
        assert_eq!(
            response.header("access-control-allow-methods"),
            Some("GET, HEAD, OPTIONS")
        );
        assert_eq!(
            response.header("access-control-allow-headers"),
            Some("content-type, x-trace")
        );
        assert_eq!(response.header("access-control-max-age"), Some("600"));
    }
}
