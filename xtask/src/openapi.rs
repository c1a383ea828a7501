//! The OpenAPI document of the whole API, `functions/docs/openapi.json`:
//! merged from every function's `--openapi` output (its `utoipa`
//! annotations), and compared with the routers.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value};

use crate::routes::Function;

pub(crate) const FILE: &str = "functions/docs/openapi.json";
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
    let mut document = Map::new();
    document.insert("openapi".into(), "3.1.0".into());
    document.insert(
        "info".into(),
        info.ok_or("no `docs` function describes the API (`info`)")?,
    );
    document.insert("paths".into(), Value::Object(paths));
    document.insert(
        "components".into(),
        serde_json::json!({ "schemas": schemas }),
    );
    document.insert("tags".into(), Value::Array(tags));
    Ok(canonical(Value::Object(document)))
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
