//! API Gateway REST resources and methods, and how a request path finds one.
//!
//! Rules emulated (API Gateway REST, not our `shared` router):
//! - a resource is a tree of path parts; at each level a literal part wins
//!   over `{param}`, which wins over a greedy `{proxy+}` (one or more parts);
//! - `{param}` matches one non-empty part, percent-decoded;
//! - one trailing slash is accepted (`/ping/` is `/ping`; the event's `path`
//!   keeps the slash); an empty part in the middle (`/a//b`) matches nothing;
//! - methods are per resource; `ANY` matches the methods API Gateway REST
//!   has (a declared method and the `cors` preflight win over it), and no
//!   other (TRACE, QUERY...); a resource without the method, or no
//!   resource, is `MISSING_AUTHENTICATION_TOKEN`.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;

use crate::authorizer::AuthorizerConfig;
use crate::cors::{Cors, CorsConfig};

/// The methods of API Gateway REST (besides `ANY`).
const REST_METHODS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/// One `http` event of `functions.yml`.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `/api/v1/users/{id}` (leading slash, no trailing one).
    pub path: String,
    /// Upper case; `ANY` for every method.
    pub method: String,
    /// The binary that `cargo lambda watch` runs.
    pub function: String,
    /// `authorizer:` of the event.
    pub authorizer: Option<AuthorizerConfig>,
    /// `cors:` of the event (`None` when absent or false).
    pub cors: Option<CorsConfig>,
}

/// A method's integration.
#[derive(Debug, Clone)]
pub struct Method {
    /// The binary invoked.
    pub function: String,
    /// The authorizer in front of it.
    pub authorizer: Option<AuthorizerConfig>,
}

/// One resource: a path template and its methods.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The template, `/api/v1/users/{id}`.
    pub path: String,
    /// Method name (upper case, or `ANY`) to integration.
    pub methods: BTreeMap<String, Method>,
    /// The MOCK `OPTIONS` osls generates for `cors: true`.
    pub cors: Option<Cors>,
}

/// What a request path and method found.
#[derive(Debug)]
pub enum Found<'a> {
    /// A method with a Lambda integration.
    Method {
        /// The resource.
        resource: &'a Resource,
        /// Its integration.
        method: &'a Method,
        /// `pathParameters`, decoded.
        params: BTreeMap<String, String>,
    },
    /// `OPTIONS` on a `cors` resource: the MOCK answer.
    Preflight(&'a Resource),
    /// No such resource, or not that method on it.
    Missing,
}

#[derive(Debug, Default)]
struct Node {
    literals: BTreeMap<String, Node>,
    param: Option<(String, Box<Node>)>,
    greedy: Option<(String, usize)>,
    resource: Option<usize>,
}

/// Every resource of the API.
#[derive(Debug)]
pub struct Routes {
    resources: Vec<Resource>,
    root: Node,
}

enum Part<'a> {
    Literal(&'a str),
    Param(&'a str),
    Greedy(&'a str),
}

fn parse_part(part: &str) -> Result<Part<'_>, String> {
    match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(name) if name.ends_with('+') && name.len() > 1 => {
            Ok(Part::Greedy(&name[..name.len() - 1]))
        }
        Some(name) if !name.is_empty() && !name.contains(['{', '}', '+']) => Ok(Part::Param(name)),
        Some(_) => Err(format!("`{part}` is not a path parameter")),
        None if part.is_empty() => Err("empty path part".into()),
        None if part.contains(['{', '}']) => Err(format!("`{part}` mixes text and a parameter")),
        None => Ok(Part::Literal(part)),
    }
}

impl Routes {
    /// Groups the endpoints into resources; refuses what API Gateway
    /// refuses (sibling parameters with different names, a greedy part
    /// that is not last, a method declared twice).
    pub fn new(endpoints: Vec<Endpoint>) -> Result<Self, String> {
        let mut resources: Vec<Resource> = Vec::new();
        let mut cors: BTreeMap<String, Vec<CorsConfig>> = BTreeMap::new();
        for endpoint in endpoints {
            let index = match resources.iter().position(|r| r.path == endpoint.path) {
                Some(index) => index,
                None => {
                    resources.push(Resource {
                        path: endpoint.path.clone(),
                        methods: BTreeMap::new(),
                        cors: None,
                    });
                    resources.len() - 1
                }
            };
            let method = Method {
                function: endpoint.function,
                authorizer: endpoint.authorizer,
            };
            if resources[index]
                .methods
                .insert(endpoint.method.clone(), method)
                .is_some()
            {
                return Err(format!(
                    "{} {} is declared twice",
                    endpoint.method, endpoint.path
                ));
            }
            if let Some(config) = endpoint.cors {
                cors.entry(endpoint.path).or_default().push(config);
            }
        }
        for resource in &mut resources {
            if let Some(configs) = cors.remove(&resource.path) {
                if resource.methods.contains_key("OPTIONS") {
                    return Err(format!(
                        "{}: `cors` and an OPTIONS method on the same resource",
                        resource.path
                    ));
                }
                resource.cors = Some(Cors::merge(&configs));
            }
        }
        let mut root = Node::default();
        for (index, resource) in resources.iter().enumerate() {
            insert(&mut root, &resource.path, index)
                .map_err(|e| format!("path {}: {e}", resource.path))?;
        }
        Ok(Self { resources, root })
    }

    /// Every resource, in declaration order.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// Finds `method` on the resource for `path` (the path after the stage,
    /// still percent-encoded).
    pub fn find(&self, method: &str, path: &str) -> Found<'_> {
        let Some((index, params)) = self.resource_for(path) else {
            return Found::Missing;
        };
        let resource = &self.resources[index];
        if let Some(found) = resource.methods.get(method) {
            return Found::Method {
                resource,
                method: found,
                params,
            };
        }
        if method == "OPTIONS" && resource.cors.is_some() {
            return Found::Preflight(resource);
        }
        match resource
            .methods
            .get("ANY")
            .filter(|_| REST_METHODS.contains(&method))
        {
            Some(found) => Found::Method {
                resource,
                method: found,
                params,
            },
            None => Found::Missing,
        }
    }

    fn resource_for(&self, path: &str) -> Option<(usize, BTreeMap<String, String>)> {
        let path = path.strip_prefix('/')?;
        let path = path.strip_suffix('/').unwrap_or(path);
        let parts: Vec<String> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('/')
                .map(|p| percent_decode_str(p).decode_utf8_lossy().into_owned())
                .collect()
        };
        let mut params = BTreeMap::new();
        let index = walk(&self.root, &parts, &mut params)?;
        Some((index, params))
    }
}

fn insert(root: &mut Node, path: &str, index: usize) -> Result<(), String> {
    let mut node = root;
    let parts: Vec<&str> = path
        .trim_start_matches('/')
        .split('/')
        .filter(|p| !p.is_empty() || path != "/")
        .collect();
    let count = parts.len();
    for (position, part) in parts.into_iter().enumerate() {
        match parse_part(part)? {
            Part::Literal(text) => node = node.literals.entry(text.to_owned()).or_default(),
            Part::Param(name) => {
                let (existing, child) = node
                    .param
                    .get_or_insert_with(|| (name.to_owned(), Box::default()));
                if existing != name {
                    return Err(format!(
                        "`{{{name}}}` beside `{{{existing}}}` at the same level"
                    ));
                }
                node = child;
            }
            Part::Greedy(name) => {
                if position + 1 != count {
                    return Err(format!("`{{{name}+}}` must be the last part"));
                }
                if node.greedy.is_some() {
                    return Err("two greedy parameters at the same level".into());
                }
                node.greedy = Some((name.to_owned(), index));
                return Ok(());
            }
        }
    }
    node.resource = Some(index);
    Ok(())
}

fn walk(node: &Node, parts: &[String], params: &mut BTreeMap<String, String>) -> Option<usize> {
    let Some((first, rest)) = parts.split_first() else {
        return node.resource;
    };
    if first.is_empty() {
        return None;
    }
    if let Some(child) = node.literals.get(first)
        && let Some(found) = walk(child, rest, params)
    {
        return Some(found);
    }
    if let Some((name, child)) = &node.param
        && let Some(found) = walk(child, rest, params)
    {
        params.insert(name.clone(), first.clone());
        return Some(found);
    }
    let (name, index) = node.greedy.as_ref()?;
    if rest.iter().any(String::is_empty) {
        return None;
    }
    params.insert(name.clone(), parts.join("/"));
    Some(*index)
}

#[cfg(test)]
mod tests {
    use super::{Endpoint, Found, Routes};

    fn endpoint(method: &str, path: &str) -> Endpoint {
        Endpoint {
            path: path.into(),
            method: method.into(),
            function: format!("fn{path}"),
            authorizer: None,
            cors: None,
        }
    }

    fn describe(found: Found<'_>) -> String {
        match found {
            Found::Method {
                resource, params, ..
            } => format!("{} {params:?}", resource.path),
            Found::Preflight(resource) => format!("preflight {}", resource.path),
            Found::Missing => "missing".into(),
        }
    }

    #[test]
    fn matching_follows_api_gateway_precedence() {
        let routes = Routes::new(vec![
            endpoint("GET", "/items/{id}"),
            endpoint("GET", "/items/special"),
            endpoint("GET", "/items/{id}/parts"),
            endpoint("ANY", "/files/{proxy+}"),
            endpoint("GET", "/"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let cases = [
            ("GET", "/items/special", "/items/special {}"),
            ("GET", "/items/42", r#"/items/{id} {"id": "42"}"#),
            ("GET", "/items/a%20b", r#"/items/{id} {"id": "a b"}"#),
            (
                "GET",
                "/items/special/parts",
                r#"/items/{id}/parts {"id": "special"}"#,
            ),
            ("GET", "/items/42/", r#"/items/{id} {"id": "42"}"#),
            ("GET", "/items", "missing"),
            ("GET", "/items//parts", "missing"),
            ("GET", "/items/42//", "missing"),
            ("POST", "/items/42", "missing"),
            (
                "DELETE",
                "/files/a/b.txt",
                r#"/files/{proxy+} {"proxy": "a/b.txt"}"#,
            ),
            ("GET", "/files", "missing"),
            ("TRACE", "/files/a", "missing"),
            ("QUERY", "/files/a", "missing"),
            ("GET", "/", "/ {}"),
            ("GET", "/nowhere", "missing"),
        ];
        for (method, path, expected) in cases {
            assert_eq!(
                describe(routes.find(method, path)),
                expected,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn what_api_gateway_refuses_is_refused() {
        let cases = [
            vec![endpoint("GET", "/a/{x}"), endpoint("GET", "/a/{y}/b")],
            vec![endpoint("GET", "/a/{p+}/b")],
            vec![endpoint("GET", "/a"), endpoint("GET", "/a")],
            vec![endpoint("GET", "/a/b{c}")],
        ];
        for endpoints in cases {
            let paths: Vec<String> = endpoints.iter().map(|e| e.path.clone()).collect();
            assert!(Routes::new(endpoints).is_err(), "{paths:?}");
        }
    }
}
