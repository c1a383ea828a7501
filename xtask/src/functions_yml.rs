//! `functions.yml`: what API Gateway routes to each function in production.
//!
//! `--write` regenerates every function's `events` from its router and keeps
//! the rest of each entry (`image`, and keys such as `memorySize`).
//!
//! # Layout
//! - [`cors`]: the `cors:` of every event, and its origins in serverless.yml.
//! - [`authorizer`]: the `authorizer:` of exactly the protected events.

mod authorizer;
mod cors;

use std::fmt::Write as _;
use std::path::Path;

use serde_yaml_ng::{Mapping, Value};

use crate::routes::{Function, RouteSet, route_set, scopes};

pub(crate) const FILE: &str = "functions.yml";
/// The method of each path's catch-all event.
const ANY: &str = "any";
const PLACEHOLDER_URI: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/rust-lambda-api@sha256:0000000000000000000000000000000000000000000000000000000000000000";

fn load(root: &Path) -> Result<Mapping, String> {
    let path = root.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let document: Value =
        serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(document
        .get("functions")
        .and_then(Value::as_mapping)
        .cloned()
        .unwrap_or_default())
}

/// Rewrites the file: existing entries keep their image and other keys; new
/// functions get the image URI of the others (one image holds every binary).
pub(crate) fn write(root: &Path, functions: &[Function]) -> Result<(), String> {
    let protected = scopes(functions);
    if !protected.is_empty() && !functions.iter().any(|f| f.name == authorizer::FUNCTION) {
        return Err(format!(
            "routes require scopes, but there is no `{}` function to authorize them",
            authorizer::FUNCTION
        ));
    }
    let existing = load(root)?;
    let shared_uri = existing
        .values()
        .find_map(|f| {
            f.get("image")
                .and_then(|i| i.get("uri"))
                .and_then(Value::as_str)
        })
        .unwrap_or(PLACEHOLDER_URI)
        .to_owned();
    let mut out = String::from(
        "# One entry per binary in the container image; `command` picks the binary.\n\
         # `events` are generated from each function's router by `cargo xtask routes --write`\n\
         # (checked by `cargo xtask routes --check`); other keys are kept.\n\
         # The `uri:` lines are rewritten by scripts/set-image-digest (run by\n\
         # scripts/build-push); the all-zero digest is a placeholder that\n\
         # scripts/deploy refuses to deploy.\n\
         functions:\n",
    );
    for (index, function) in functions.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let entry = existing
            .get(Value::String(function.name.clone()))
            .and_then(Value::as_mapping)
            .cloned()
            .unwrap_or_default();
        let uri = entry
            .get("image")
            .and_then(|i| i.get("uri"))
            .and_then(Value::as_str)
            .unwrap_or(&shared_uri)
            .to_owned();
        let _ = writeln!(out, "  {}:", function.name);
        let _ = writeln!(
            out,
            "    image:\n      uri: {uri}\n      command: [{}]",
            function.name
        );
        let mut others = Mapping::new();
        for (key, value) in entry {
            if !matches!(key.as_str(), Some("image" | "events")) {
                others.insert(key, value);
            }
        }
        if !others.is_empty() {
            let yaml = serde_yaml_ng::to_string(&others).map_err(|e| e.to_string())?;
            for line in yaml.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        out.push_str("    events:\n");
        for route in &function.routes {
            for method in &route.methods {
                let _ = writeln!(
                    out,
                    "      - http:\n          path: {}\n          method: {}\n          cors: {}",
                    route.path,
                    method.to_ascii_lowercase(),
                    cors::EVENT_VALUE
                );
                if route.scope(method).is_some() {
                    out.push_str(&authorizer::event_yaml());
                }
            }
            // Every other method API Gateway routes reaches the function,
            // whose router answers 405 with `Allow`; no `cors` (the
            // preflight lists the declared methods only).
            let _ = writeln!(
                out,
                "      - http:\n          path: {}\n          method: {ANY}",
                route.path
            );
            if !route.scopes.is_empty() {
                out.push_str(&authorizer::event_yaml());
            }
        }
    }
    let path = root.join(FILE);
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))
}

/// What `functions.yml` must route: every route of the routers, and per
/// route path an `ANY` to its function (protected when any method there
/// is), so an undeclared method gets the router's 405 and not API
/// Gateway's MISSING_AUTHENTICATION_TOKEN.
pub(crate) fn expected(functions: &[Function]) -> RouteSet {
    let mut routes = route_set(functions);
    for function in functions {
        for route in &function.routes {
            routes.insert((
                route.path.clone(),
                ANY.to_ascii_uppercase(),
                function.name.clone(),
            ));
        }
    }
    routes
}

/// The scope guarding the `ANY` event of `path` of `function`: the first
/// scope any method there requires (the function checks the exact one).
fn any_scope<'a>(functions: &'a [Function], path: &str, function: &str) -> Option<&'a str> {
    functions
        .iter()
        .filter(|f| f.name == function)
        .flat_map(|f| &f.routes)
        .filter(|r| r.path == path)
        .find_map(|r| r.scopes.values().next())
        .map(String::as_str)
}

/// What the committed file routes, and events without the generated `cors`
/// or `authorizer`.
pub(crate) struct Committed {
    pub(crate) routes: RouteSet,
    pub(crate) problems: Vec<String>,
}

/// Reads the `http` events of every function; the authorizers are checked
/// against the scopes the `functions`' routers require.
pub(crate) fn read(root: &Path, functions: &[Function]) -> Result<Committed, String> {
    let protected = scopes(functions);
    let served = expected(functions);
    let mut routes = RouteSet::new();
    let mut problems = cors::check_serverless_yml(root)?;
    for (name, entry) in load(root)? {
        let name = name.as_str().unwrap_or_default().to_owned();
        let events = entry
            .get("events")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for event in events {
            let Some(http) = event.get("http") else {
                continue;
            };
            let raw = http.get("path").and_then(Value::as_str).unwrap_or_default();
            let path = format!("/{}", raw.trim_matches('/'));
            let method = http
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_uppercase();
            let any = method == ANY.to_ascii_uppercase();
            match (any, http.get("cors")) {
                (true, Some(_)) => problems.push(format!(
                    "{FILE}: {method} {path} of `{name}` has `cors`; the preflight lists the declared methods only"
                )),
                (false, cors) if !cors::is_generated(cors) => problems.push(format!(
                    "{FILE}: {method} {path} of `{name}` lacks `cors: {}`",
                    cors::EVENT_VALUE
                )),
                _ => {}
            }
            let key = (path, method, name.clone());
            // A route the routers lack is reported as such, not twice.
            if served.contains(&key) {
                let (path, method, name) = &key;
                let scope = if any {
                    any_scope(functions, path, name)
                } else {
                    protected.get(&key).map(String::as_str)
                };
                problems.extend(authorizer::problem(
                    (path, method, name),
                    scope,
                    http.get("authorizer"),
                ));
            }
            routes.insert(key);
        }
    }
    Ok(Committed { routes, problems })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::routes::Route;

    fn function(name: &str, path: &str, scope: Option<&str>) -> Function {
        Function {
            name: name.into(),
            routes: vec![Route {
                path: path.into(),
                methods: vec!["GET".into()],
                scopes: scope
                    .map(|s| BTreeMap::from([("GET".to_owned(), s.to_owned())]))
                    .unwrap_or_default(),
            }],
            openapi: serde_json::Value::Null,
        }
    }

    /// `functions.yml` as `write` generates it, then edited by `edit`:
    /// what `read` reports.
    fn read_edited(edit: impl Fn(&str) -> String) -> (Committed, RouteSet) {
        let functions = [
            Function {
                routes: Vec::new(),
                ..function(authorizer::FUNCTION, "/", None)
            },
            function("health", "/ping", None),
            function("users", "/users", Some("users:read")),
        ];
        let dir = tempfile::tempdir().expect("temp dir");
        let serverless = testkit::workspace_root().join("serverless.yml");
        std::fs::copy(&serverless, dir.path().join("serverless.yml")).expect("serverless.yml");
        std::fs::write(dir.path().join(FILE), "functions: {}\n").expect("seed");
        write(dir.path(), &functions).expect("write");
        let generated = std::fs::read_to_string(dir.path().join(FILE)).expect("read");
        std::fs::write(dir.path().join(FILE), edit(&generated)).expect("edit");
        let committed = read(dir.path(), &functions).expect("read");
        (committed, expected(&functions))
    }

    #[test]
    fn every_path_has_an_any_without_cors_guarded_like_its_methods() {
        let any_of =
            |path: &str| format!("      - http:\n          path: {path}\n          method: any\n");
        let users_any = format!("{}{}", any_of("/users"), authorizer::event_yaml());
        type Edit<'a> = Box<dyn Fn(&str) -> String + 'a>;
        let cases: [(&str, Edit, Option<&str>); 5] = [
            ("as generated", Box::new(str::to_owned), None),
            (
                "no ANY on /ping",
                Box::new(|g: &str| g.replace(&any_of("/ping"), "")),
                Some("missing"),
            ),
            (
                "ANY with cors",
                Box::new(|g: &str| {
                    g.replace(
                        &any_of("/ping"),
                        &format!("{}          cors: true\n", any_of("/ping")),
                    )
                }),
                Some("ANY /ping of `health` has `cors`"),
            ),
            (
                "a protected path's ANY without the authorizer",
                Box::new(|g: &str| g.replace(&users_any, &any_of("/users"))),
                Some("ANY /users of `users` requires `users:read` but has no `authorizer:`"),
            ),
            (
                "a public path's ANY with the authorizer",
                Box::new(|g: &str| {
                    g.replace(
                        &any_of("/ping"),
                        &format!("{}{}", any_of("/ping"), authorizer::event_yaml()),
                    )
                }),
                Some("ANY /ping of `health` is public but has an `authorizer:`"),
            ),
        ];
        for (what, edit, expected_problem) in cases {
            let (committed, expected) = read_edited(edit);
            let found = if committed.routes != expected {
                vec!["missing".to_owned()]
            } else {
                committed.problems
            };
            match expected_problem {
                None => assert!(found.is_empty(), "{what}: {found:?}"),
                Some(want) => assert!(
                    found.len() == 1 && found[0].contains(want),
                    "{what}: want {want:?}, found {found:?}"
                ),
            }
        }
    }
}
