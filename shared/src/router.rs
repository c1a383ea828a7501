//! Routing on `matchit`: path first, then method.
//!
//! Rules decided here, once: a trailing slash is ignored (`/users` and
//! `/users/` are one route, no redirect); an unknown path is 404; a known
//! path with another method is 405 with `Allow`; `HEAD` runs the GET handler
//! and drops the body ([`respond`]); `OPTIONS` is answered by the router
//! (204 + `Allow`). A bad route panics at registration, naming the caller's
//! line (`#[track_caller]`).
//!
//! A method may require a scope ([`MethodRouter::require`]), declared next
//! to its handler: [`crate::App::handle`] checks the caller has it before
//! the handler runs, and `--routes` prints it for the generated
//! `functions.yml` authorizers and OpenAPI security.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Method;
use serde::Serialize;
use utoipa::openapi::{OpenApi, OpenApiBuilder};

use crate::error::ApiError;
use crate::request::Request;
use crate::response::{Body, Response};

/// What a handler returns: a response, or an error answered as JSON.
pub type HandlerResult = Result<Response, ApiError>;

type BoxFuture = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;
type BoxHandler<S> = Arc<dyn Fn(Request, Arc<S>) -> BoxFuture + Send + Sync>;

/// One method of a path: its handler and the scope it requires, if any.
struct Endpoint<S> {
    method: Method,
    handler: BoxHandler<S>,
    scope: Option<&'static str>,
}

impl<S> Clone for Endpoint<S> {
    fn clone(&self) -> Self {
        Self {
            method: self.method.clone(),
            handler: Arc::clone(&self.handler),
            scope: self.scope,
        }
    }
}

/// The handlers of one path, by method.
pub struct MethodRouter<S> {
    handlers: Vec<Endpoint<S>>,
}

impl<S> fmt::Debug for MethodRouter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.handlers.iter().map(|e| (&e.method, e.scope)))
            .finish()
    }
}

impl<S> Clone for MethodRouter<S> {
    fn clone(&self) -> Self {
        Self {
            handlers: self.handlers.clone(),
        }
    }
}

macro_rules! method_fns {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("Routes `", stringify!($method), "` to `handler`.")]
            #[track_caller]
            pub fn $name<S, H, F>(handler: H) -> MethodRouter<S>
            where
                S: Send + Sync + 'static,
                H: Fn(Request, Arc<S>) -> F + Send + Sync + 'static,
                F: Future<Output = HandlerResult> + Send + 'static,
            {
                MethodRouter::new().on(Method::$method, handler)
            }
        )*

        impl<S: Send + Sync + 'static> MethodRouter<S> {
            $(
                #[doc = concat!("Adds `", stringify!($method), "` to this path.")]
                #[track_caller]
                pub fn $name<H, F>(self, handler: H) -> Self
                where
                    H: Fn(Request, Arc<S>) -> F + Send + Sync + 'static,
                    F: Future<Output = HandlerResult> + Send + 'static,
                {
                    self.on(Method::$method, handler)
                }
            )*
        }
    };
}

method_fns!(get => GET, post => POST, put => PUT, patch => PATCH, delete => DELETE);

impl<S: Send + Sync + 'static> MethodRouter<S> {
    fn new() -> Self {
        Self {
            handlers: Vec::new(),
        }
    }

    /// Routes `method` to `handler`. Registering a method twice panics.
    #[track_caller]
    pub fn on<H, F>(mut self, method: Method, handler: H) -> Self
    where
        H: Fn(Request, Arc<S>) -> F + Send + Sync + 'static,
        F: Future<Output = HandlerResult> + Send + 'static,
    {
        assert!(
            method != Method::OPTIONS,
            "OPTIONS is answered by the router (CORS preflight); do not register it"
        );
        assert!(
            self.handlers.iter().all(|e| e.method != method),
            "method {method} registered twice on one path"
        );
        let handler: BoxHandler<S> =
            Arc::new(move |request, state| Box::pin(handler(request, state)));
        self.handlers.push(Endpoint {
            method,
            handler,
            scope: None,
        });
        self
    }

    /// Requires `scope` of the caller for every method registered so far
    /// that requires none yet: `get(list).require("users:read")
    /// .post(create).require("users:write")`. A caller without credentials
    /// gets a 401, one without the scope a 403, before the handler runs.
    /// Panics on a blank scope, or when no method is left to protect.
    #[track_caller]
    pub fn require(mut self, scope: &'static str) -> Self {
        assert!(
            !scope.is_empty() && !scope.contains(char::is_whitespace),
            "scope `{scope}` must be one word, without spaces"
        );
        let mut protected = 0;
        for endpoint in self.handlers.iter_mut().filter(|e| e.scope.is_none()) {
            endpoint.scope = Some(scope);
            protected += 1;
        }
        assert!(
            protected > 0,
            "require(\"{scope}\") follows no method without a scope; put it after the method it protects"
        );
        self
    }

    fn endpoint(&self, method: &Method) -> Option<&Endpoint<S>> {
        self.handlers.iter().find(|e| e.method == *method)
    }

    fn find(&self, method: &Method) -> Option<&BoxHandler<S>> {
        self.endpoint(method).map(|e| &e.handler)
    }

    /// The endpoint a `method` request runs: its own, or GET's for `HEAD`;
    /// `None` for `OPTIONS`, which the router answers itself.
    fn serving(&self, method: &Method) -> Option<&Endpoint<S>> {
        if *method == Method::OPTIONS {
            return None;
        }
        self.endpoint(method).or_else(|| {
            (*method == Method::HEAD)
                .then(|| self.endpoint(&Method::GET))
                .flatten()
        })
    }

    /// The methods a client may use here: the registered ones, `HEAD` when
    /// there is a GET, and `OPTIONS`; sorted, as sent in `Allow`.
    pub fn allowed(&self) -> Vec<Method> {
        let mut methods: Vec<Method> = self.handlers.iter().map(|e| e.method.clone()).collect();
        if self.find(&Method::GET).is_some() && self.find(&Method::HEAD).is_none() {
            methods.push(Method::HEAD);
        }
        methods.push(Method::OPTIONS);
        methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        methods
    }
}

/// One route as declared: its template, the methods it was registered
/// with and the scope each protected method requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteInfo {
    /// The path template, `{param}` syntax, no trailing slash.
    pub path: String,
    /// The registered methods (without the implied `HEAD` and `OPTIONS`).
    pub methods: Vec<String>,
    /// Method -> the scope it requires; public methods are absent.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scopes: BTreeMap<String, String>,
}

/// A path router whose handlers receive the shared state `S`, and the
/// OpenAPI description of its routes.
pub struct Router<S> {
    tree: matchit::Router<usize>,
    routes: Vec<(String, MethodRouter<S>)>,
    /// Builders of the OpenAPI description, run only when it is asked for
    /// (`--openapi`), never at start-up; always empty without the `openapi`
    /// feature.
    openapi: Vec<Box<dyn Fn() -> OpenApi + Send + Sync>>,
}

impl<S> fmt::Debug for Router<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.routes.iter().map(|(p, m)| (p, m)))
            .finish()
    }
}

impl<S: Send + Sync + 'static> Default for Router<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// A request's route, from one lookup ([`Router::resolve`]).
pub(crate) struct Routed<'r, S> {
    /// The route's template; `None` when no route has the path.
    pub(crate) template: Option<&'r str>,
    /// The scope the method requires ([`Router::required_scope`]).
    pub(crate) scope: Option<&'static str>,
    /// What to run ([`Router::dispatch`]).
    pub(crate) found: Match<'r, S>,
}

/// What matching a method and path found.
pub(crate) enum Match<'r, S> {
    /// A handler, with the path parameters it captured.
    Handler(&'r BoxHandler<S>, Vec<(String, String)>),
    /// The path exists: these are its methods (for 405 and `OPTIONS`).
    Methods(Vec<Method>),
    /// No route has this path.
    NotFound,
}

impl<S: Send + Sync + 'static> Router<S> {
    /// An empty router.
    pub fn new() -> Self {
        Self {
            tree: matchit::Router::new(),
            routes: Vec::new(),
            openapi: Vec::new(),
        }
    }

    /// Attaches the OpenAPI description of these routes: the builder of a
    /// `utoipa` `#[derive(OpenApi)]` document (`UsersApi::openapi`), run
    /// when [`Router::documentation`] is asked for; several calls merge.
    /// `cargo xtask routes --check` compares it with the routes.
    ///
    /// Without the `openapi` feature (the image's build: AWS never asks for
    /// the description) the builder is dropped here. `document` is generic,
    /// so a fn item passed in is a zero-sized value: nothing refers to the
    /// builder, and the description's code is not linked at all.
    pub fn openapi<F>(self, document: F) -> Self
    where
        F: Fn() -> OpenApi + Send + Sync + 'static,
    {
        #[cfg(feature = "openapi")]
        {
            let mut this = self;
            this.openapi.push(Box::new(document));
            this
        }
        #[cfg(not(feature = "openapi"))]
        {
            let _ = document;
            self
        }
    }

    /// The OpenAPI description attached to this router (empty if none).
    pub fn documentation(&self) -> OpenApi {
        let mut builders = self.openapi.iter();
        let Some(first) = builders.next() else {
            return OpenApiBuilder::new().build();
        };
        let mut document = first();
        for build in builders {
            document.merge(build());
        }
        document
    }

    /// Adds a route. Panics at start-up, at the caller's line, on a bad
    /// template: not starting with `/`, pre-0.8 `:param` / `*rest` syntax,
    /// or a conflict with another route.
    #[track_caller]
    pub fn route(mut self, path: &str, methods: MethodRouter<S>) -> Self {
        let path = normalize_template(path);
        check_syntax(&path);
        if let Err(error) = self.tree.insert(path.clone(), self.routes.len()) {
            panic!("cannot register route `{path}`: {error}");
        }
        self.routes.push((path, methods));
        self
    }

    /// Mounts every route of `group` under `prefix` (like FastAPI's
    /// `include_router(router, prefix=...)`): `/` in the group becomes `prefix`.
    #[track_caller]
    pub fn nest(mut self, prefix: &str, group: Router<S>) -> Self {
        let prefix = normalize_template(prefix);
        let prefix = if prefix == "/" { "" } else { prefix.as_str() };
        // A loop, not a fold: a closure would end the `#[track_caller]` chain.
        for (path, methods) in group.routes {
            let joined = if path == "/" {
                prefix.to_owned()
            } else {
                format!("{prefix}{path}")
            };
            self = self.route(&joined, methods);
        }
        self
    }

    /// Every route with its methods, in registration order.
    pub fn routes(&self) -> Vec<RouteInfo> {
        self.routes
            .iter()
            .map(|(path, methods)| RouteInfo {
                path: path.clone(),
                methods: methods
                    .handlers
                    .iter()
                    .map(|e| e.method.as_str().to_owned())
                    .collect(),
                scopes: methods
                    .handlers
                    .iter()
                    .filter_map(|e| Some((e.method.as_str().to_owned(), e.scope?.to_owned())))
                    .collect(),
            })
            .collect()
    }

    /// The scope a `method` request to `path` requires: `None` for a public
    /// method, and for what routing answers itself (404, 405, `OPTIONS`).
    /// `HEAD` requires what the GET it runs requires.
    pub fn required_scope(&self, method: &Method, path: &str) -> Option<&'static str> {
        let (_, methods, _) = self.lookup(path)?;
        methods.serving(method)?.scope
    }

    /// The template of the route that serves `path` (`/users/{id}` for
    /// `/users/42/`), whatever the method; `None` when no route has it.
    /// Metrics are counted per template: a bounded set, unlike raw paths.
    pub fn template(&self, path: &str) -> Option<&str> {
        self.lookup(path).map(|(template, _, _)| template)
    }

    /// The route serving `path`: its template, methods and the parameters
    /// its template captured. The one tree lookup every question asks.
    fn lookup<'p>(
        &self,
        path: &'p str,
    ) -> Option<(&str, &MethodRouter<S>, matchit::Params<'_, 'p>)> {
        let found = self.tree.at(normalize_request_path(path)).ok()?;
        let (template, methods) = &self.routes[*found.value];
        Some((template.as_str(), methods, found.params))
    }

    /// Everything a `method` request to `path` needs from the router, from
    /// one lookup: the template (for the log), the scope
    /// ([`Router::required_scope`]) and what to run.
    pub(crate) fn resolve(&self, method: &Method, path: &str) -> Routed<'_, S> {
        let Some((template, methods, params)) = self.lookup(path) else {
            return Routed {
                template: None,
                scope: None,
                found: Match::NotFound,
            };
        };
        let endpoint = methods.serving(method);
        let found = match endpoint {
            Some(endpoint) => {
                let params = params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                Match::Handler(&endpoint.handler, params)
            }
            None => Match::Methods(methods.allowed()),
        };
        Routed {
            template: Some(template),
            scope: endpoint.and_then(|e| e.scope),
            found,
        }
    }

    /// Routes `request` and runs its handler; routing misses become errors.
    pub async fn call(&self, request: Request, state: Arc<S>) -> HandlerResult {
        let found = self.resolve(&request.method, &request.path).found;
        Self::dispatch(found, request, state).await
    }

    /// Runs what [`Router::resolve`] found for `request`: the handler's
    /// future as it is (boxed already), so whoever awaits it holds 16 bytes,
    /// not the request; what routing answers itself is ready at once.
    pub(crate) fn dispatch(found: Match<'_, S>, mut request: Request, state: Arc<S>) -> BoxFuture {
        let answer = match found {
            Match::Handler(handler, params) => {
                request.params = params;
                return handler(request, state);
            }
            Match::Methods(allowed) if request.method == Method::OPTIONS => Ok(
                Response::no_content().with_header(http::header::ALLOW, &allow_header(&allowed)),
            ),
            Match::Methods(allowed) => Err(ApiError::MethodNotAllowed(allowed)),
            Match::NotFound => Err(ApiError::NotFound(format!(
                "no route for {}",
                truncate(&request.path, 200)
            ))),
        };
        Box::pin(std::future::ready(answer))
    }
}

/// The response for the outcome of a `method` request: an error becomes its
/// JSON body, a 405 with `Allow`; the answer to `HEAD` loses its body (the
/// GET handler ran, see [`Router::call`]).
pub fn respond(method: &Method, result: HandlerResult) -> Response {
    let mut response = match result {
        Ok(response) => response,
        Err(ApiError::MethodNotAllowed(allowed)) => {
            let allow = allow_header(&allowed);
            ApiError::MethodNotAllowed(allowed)
                .into_response()
                .with_header(http::header::ALLOW, &allow)
        }
        Err(error) => error.into_response(),
    };
    if *method == Method::HEAD {
        response.body = Body::Empty;
    }
    response
}

/// `GET, HEAD, OPTIONS`: the value of an `Allow` header.
fn allow_header(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// `/users/` -> `/users`; `` -> `/`.
#[track_caller]
fn normalize_template(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        panic!("route `{path}` must start with `/`")
    }
}

fn normalize_request_path(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// matchit 0.8+ reads `:id` and `*rest` as literals: catch the old syntax loudly.
#[track_caller]
fn check_syntax(path: &str) {
    for segment in path.split('/') {
        if segment.starts_with(':') || segment.starts_with('*') {
            let name = segment.trim_start_matches([':', '*']);
            let hint = if segment.starts_with(':') {
                format!("{{{name}}}")
            } else {
                format!("{{*{name}}}")
            };
            panic!(
                "route `{path}` uses the pre-0.8 `{segment}` syntax, which matchit treats as \
                 literal text; write `{hint}` instead"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    #[test]
    fn method_not_allowed_carries_allow() {
        let response = respond(
            &Method::GET,
            Err(ApiError::MethodNotAllowed(vec![Method::GET, Method::HEAD])),
        );
        assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.header("allow"), Some("GET, HEAD"));
    }

    #[test]
    fn template_is_the_route_whatever_the_path_and_method() {
        async fn nothing(_request: Request, _state: Arc<()>) -> HandlerResult {
            Ok(Response::no_content())
        }
        let router = Router::new()
            .route("/users", crate::get(nothing))
            .route("/users/{id}", crate::delete(nothing))
            .route("/files/{*rest}", crate::get(nothing));
        let cases = [
            ("/users", Some("/users")),
            ("/users/", Some("/users")),
            ("/users/42", Some("/users/{id}")),
            ("/users/42/", Some("/users/{id}")),
            ("/files/a/b/c", Some("/files/{*rest}")),
            ("/users/42/extra", None),
            ("/", None),
            ("", None),
        ];
        for (path, expected) in cases {
            assert_eq!(router.template(path), expected, "{path}");
        }
    }

    #[test]
    fn head_answers_have_no_body() {
        let cases = [
            Ok(Response::ok(&"a body")),
            Err(ApiError::NotFound("no route for /x".into())),
        ];
        for result in cases {
            let response = respond(&Method::HEAD, result);
            assert_eq!(response.body, Body::Empty);
        }
    }

    async fn ok(_request: Request, _state: Arc<()>) -> HandlerResult {
        Ok(Response::no_content())
    }

    fn protected() -> Router<()> {
        let items = Router::new()
            .route(
                "/",
                get(ok)
                    .require("items:read")
                    .post(ok)
                    .require("items:write"),
            )
            .route("/{id}", get(ok).put(ok).require("items:write").delete(ok));
        Router::new()
            .route("/ping", get(ok))
            .nest("/api/v1/items", items)
    }

    #[test]
    fn each_method_requires_the_scope_declared_after_it() {
        let router = protected();
        let cases = [
            (Method::GET, "/api/v1/items", Some("items:read")),
            (Method::GET, "/api/v1/items/", Some("items:read")),
            (Method::HEAD, "/api/v1/items", Some("items:read")),
            (Method::POST, "/api/v1/items", Some("items:write")),
            // `require` covers every method before it that has none yet.
            (Method::GET, "/api/v1/items/7", Some("items:write")),
            (Method::HEAD, "/api/v1/items/7", Some("items:write")),
            (Method::PUT, "/api/v1/items/7", Some("items:write")),
            // Registered after the last `require`: public.
            (Method::DELETE, "/api/v1/items/7", None),
            (Method::GET, "/ping", None),
            (Method::HEAD, "/ping", None),
            // What routing answers itself: preflight, 405, 404.
            (Method::OPTIONS, "/api/v1/items", None),
            (Method::PATCH, "/api/v1/items", None),
            (Method::DELETE, "/api/v1/items", None),
            (Method::GET, "/api/v1/nothing", None),
            (Method::GET, "/api/v1/items/7/more", None),
        ];
        for (method, path, scope) in cases {
            assert_eq!(
                router.required_scope(&method, path),
                scope,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn routes_list_the_scope_of_each_protected_method() {
        let scopes: Vec<(String, Vec<(String, String)>)> = protected()
            .routes()
            .into_iter()
            .map(|r| (r.path, r.scopes.into_iter().collect()))
            .collect();
        let pair = |m: &str, s: &str| (m.to_owned(), s.to_owned());
        assert_eq!(
            scopes,
            vec![
                ("/ping".to_owned(), vec![]),
                (
                    "/api/v1/items".to_owned(),
                    vec![pair("GET", "items:read"), pair("POST", "items:write")]
                ),
                (
                    "/api/v1/items/{id}".to_owned(),
                    vec![pair("GET", "items:write"), pair("PUT", "items:write")]
                ),
            ]
        );
    }

    #[test]
    #[should_panic(expected = "must be one word")]
    fn a_scope_is_one_word() {
        let _ = get::<(), _, _>(ok).require("users:read users:write");
    }

    #[test]
    #[should_panic(expected = "follows no method without a scope")]
    fn require_protects_some_method() {
        let _ = get::<(), _, _>(ok).require("a").require("b");
    }
}
