//! The OpenAPI document of the whole API, `functions/docs/openapi.json`:
//! merged from every function's `--openapi` output (its `utoipa`
//! annotations), and compared with the routers.
//!
//! The security comes from the routers too (`.require(scope)`, in
//! `--routes`): a bearer JWT `securitySchemes` entry, and on each protected
//! operation its `security` (the scope it requires, as OpenAPI 3.1 allows
//! for non-OAuth schemes) and the 401/403 answers. Swagger UI on `/docs`
//! shows the Authorize button for it.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use crate::routes::Function;

pub(crate) const FILE: &str = "functions/docs/openapi.json";
/// The name of the bearer scheme in `components.securitySchemes`.
const SCHEME: &str = "bearer";
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Merges the functions' documents: paths, schemas and tags. The `info`
/// comes from the `docs` function, which owns the API's title.
pub(crate) fn merge(functions: &[Function]) -> Result<Value, String> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut tags: Vec<Value> = Vec::new();
    let mut info = None;
    for function in functions {
        let document = &function.openapi;
        if function.name == "docs" {
            info = document.get("info").cloned();
        }
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            let merged = paths
                .entry(path.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            for (method, operation) in item.as_object().into_iter().flatten() {
                if merged.get(method).is_some() {
                    return Err(format!(
                        "{} {path} is documented by two functions",
                        method.to_uppercase()
                    ));
                }
                merged[method] = operation.clone();
            }
        }
        for (name, schema) in document["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            match schemas.get(name) {
                Some(existing) if existing != schema => {
                    return Err(format!(
                        "schema `{name}` differs between functions; rename one"
                    ));
                }
                _ => {
                    schemas.insert(name.clone(), schema.clone());
                }
            }
        }
        for tag in document["tags"].as_array().into_iter().flatten() {
            if !tags.iter().any(|t| t["name"] == tag["name"]) {
                tags.push(tag.clone());
            }
        }
    }
    let secured = secure(&mut paths, functions)?;
    let mut components = serde_json::json!({ "schemas": schemas });
    if secured {
        components["securitySchemes"] = serde_json::json!({
            SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token (JWT) of the API's OpenID issuer (AUTH_ISSUER, audience AUTH_AUDIENCE) whose `scope` holds the operation's scope. Locally: `scripts/token --scope \"users:read users:write\"`."
            }
        });
    }
    let mut document = Map::new();
    document.insert("openapi".into(), "3.1.0".into());
    document.insert(
        "info".into(),
        info.ok_or("no `docs` function describes the API (`info`)")?,
    );
    document.insert("paths".into(), Value::Object(paths));
    document.insert("components".into(), components);
    document.insert("tags".into(), Value::Array(tags));
    Ok(canonical(Value::Object(document)))
}

/// Adds `security` and the 401/403 answers to every operation whose route
/// requires a scope; whether there was any.
fn secure(paths: &mut Map<String, Value>, functions: &[Function]) -> Result<bool, String> {
    let error = serde_json::json!({
        "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } }
    });
    let mut secured = false;
    for function in functions {
        for route in &function.routes {
            for (method, scope) in &route.scopes {
                let operation = paths
                    .get_mut(&route.path)
                    .and_then(|item| item.get_mut(method.to_ascii_lowercase()))
                    .and_then(Value::as_object_mut)
                    .ok_or_else(|| {
                        format!(
                            "{method} {} requires `{scope}` but is not documented",
                            route.path
                        )
                    })?;
                operation.insert("security".into(), serde_json::json!([{ SCHEME: [scope] }]));
                let responses = operation
                    .entry("responses")
                    .or_insert_with(|| Value::Object(Map::new()));
                responses["401"] = serde_json::json!({
                    "description": "No valid bearer token (missing, expired, or not of the API's issuer)",
                    "headers": {
                        "WWW-Authenticate": {
                            "description": "`Bearer`, the scheme to authenticate with",
                            "schema": { "type": "string" }
                        }
                    },
                    "content": error.clone(),
                });
                responses["403"] = serde_json::json!({
                    "description": format!("The token does not grant the `{scope}` scope"),
                    "content": error.clone(),
                });
                secured = true;
            }
        }
    }
    Ok(secured)
}

/// Object keys sorted at every depth: the same text whatever the map type.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// Writes the merged document.
pub(crate) fn write(root: &Path, functions: &[Function]) -> Result<(), String> {
    let text = serde_json::to_string_pretty(&merge(functions)?).map_err(|e| e.to_string())? + "\n";
    let path = root.join(FILE);
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Differences between each function's document and its router, and
/// whether the committed document is the merge of the current ones.
pub(crate) fn problems(root: &Path, functions: &[Function]) -> Vec<String> {
    let mut problems = Vec::new();
    for function in functions {
        let routed: BTreeSet<(String, String)> = function
            .routes
            .iter()
            .flat_map(|r| {
                r.methods
                    .iter()
                    .map(move |m| (r.path.clone(), m.to_ascii_uppercase()))
            })
            .collect();
        let documented: BTreeSet<(String, String)> = function.openapi["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(move |m| (path.clone(), m.to_ascii_uppercase()))
            })
            .collect();
        let name = &function.name;
        for (path, method) in routed.difference(&documented) {
            problems.push(format!(
                "the `{name}` OpenAPI description lacks {method} {path}, which the `{name}` router serves (add a #[utoipa::path])"
            ));
        }
        for (path, method) in documented.difference(&routed) {
            problems.push(format!(
                "the `{name}` OpenAPI description documents {method} {path}, but the `{name}` router has no such route"
            ));
        }
    }
    match merge(functions) {
        Err(error) => problems.push(format!("{FILE}: {error}")),
        Ok(merged) => {
            let path = root.join(FILE);
            let committed = std::fs::read_to_string(&path)
                .ok()
                .and_then(|text| serde_json::from_str::<Value>(&text).ok());
            if committed.map(canonical) != Some(merged) {
                problems.push(format!(
                    "{FILE} is not the merge of the functions' OpenAPI descriptions"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Route;

    fn function(name: &str, routes: Vec<Route>, paths: Value) -> Function {
        Function {
            name: name.into(),
            routes,
            openapi: serde_json::json!({ "info": { "title": "t" }, "paths": paths }),
        }
    }

    fn route(path: &str, methods: &[&str], scopes: &[(&str, &str)]) -> Route {
        Route {
            path: path.into(),
            methods: methods.iter().map(|m| (*m).into()).collect(),
            scopes: scopes
                .iter()
                .map(|(m, s)| ((*m).into(), (*s).into()))
                .collect(),
        }
    }

    #[test]
    fn protected_operations_get_security_and_401_403_public_ones_none() {
        let ok = serde_json::json!({ "responses": { "200": { "description": "ok" } } });
        let functions = [
            function(
                "docs",
                vec![route("/ping", &["GET"], &[])],
                serde_json::json!({ "/ping": { "get": ok } }),
            ),
            function(
                "users",
                vec![route(
                    "/u",
                    &["GET", "POST"],
                    &[("GET", "u:read"), ("POST", "u:write")],
                )],
                serde_json::json!({ "/u": { "get": ok, "post": ok } }),
            ),
        ];
        let document = merge(&functions).unwrap_or_else(|e| panic!("{e}"));
        let scheme = &document["components"]["securitySchemes"][SCHEME];
        assert_eq!(
            (&scheme["type"], &scheme["scheme"], &scheme["bearerFormat"]),
            (&"http".into(), &"bearer".into(), &"JWT".into())
        );
        let cases = [
            ("/ping", "get", None),
            ("/u", "get", Some("u:read")),
            ("/u", "post", Some("u:write")),
        ];
        for (path, method, scope) in cases {
            let operation = &document["paths"][path][method];
            let responses = &operation["responses"];
            match scope {
                None => {
                    assert!(operation.get("security").is_none(), "{method} {path}");
                    assert!(responses.get("401").is_none() && responses.get("403").is_none());
                }
                Some(scope) => {
                    assert_eq!(
                        operation["security"],
                        serde_json::json!([{ SCHEME: [scope] }]),
                        "{method} {path}"
                    );
                    for status in ["401", "403"] {
                        assert_eq!(
                            responses[status]["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{method} {path} {status}"
                        );
                    }
                    assert!(
                        responses.get("200").is_some(),
                        "{method} {path} kept its answers"
                    );
                }
            }
        }
    }

    #[test]
    fn a_public_api_has_no_security_scheme() {
        let functions = [function(
            "docs",
            vec![route("/ping", &["GET"], &[])],
            serde_json::json!({ "/ping": { "get": { "responses": {} } } }),
        )];
        let document = merge(&functions).unwrap_or_else(|e| panic!("{e}"));
        assert!(document["components"].get("securitySchemes").is_none());
    }
}
