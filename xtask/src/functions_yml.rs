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

use crate::routes::{Function, RouteSet, scopes};

pub(crate) const FILE: &str = "functions.yml";
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
        }
    }
    let path = root.join(FILE);
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))
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
    let served = crate::routes::route_set(functions);
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
            if !cors::is_generated(http.get("cors")) {
                problems.push(format!(
                    "{FILE}: {method} {path} of `{name}` lacks `cors: {}`",
                    cors::EVENT_VALUE
                ));
            }
            let key = (path, method, name.clone());
            // A route the routers lack is reported as such, not twice.
            if served.contains(&key) {
                let (path, method, name) = &key;
                problems.extend(authorizer::problem(
                    (path, method, name),
                    protected.get(&key).map(String::as_str),
                    http.get("authorizer"),
                ));
            }
            routes.insert(key);
        }
    }
    Ok(Committed { routes, problems })
}
