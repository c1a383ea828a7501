//! What the deployed API is, read from the same `functions.yml` and
//! `serverless.yml` that osls deploys. Anything the gateway cannot emulate
//! faithfully (another integration type, API keys, REQUEST authorizers)
//! refuses to start rather than being served differently from AWS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml_ng::{Mapping, Value};

use crate::authorizer::AuthorizerConfig;
use crate::cors::CorsConfig;
use crate::responses::GatewayResponses;
use crate::routes::{Endpoint, Routes};
use crate::vars::Vars;

/// The API id the local API claims (10 lowercase characters, like AWS's).
pub const API_ID: &str = "devgateway";
/// The account id in `methodArn` and `requestContext.accountId`.
pub const ACCOUNT_ID: &str = "123456789012";

/// Where to read the service from, and the `--stage` / `--region` options.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `functions.yml`.
    pub functions: PathBuf,
    /// `serverless.yml`.
    pub serverless: PathBuf,
    /// `--stage` (osls `opt:stage`).
    pub stage: Option<String>,
    /// `--region` (osls `opt:region`).
    pub region: Option<String>,
}

impl Sources {
    /// The two files at the root of the workspace `root`.
    pub fn in_dir(root: &Path) -> Self {
        Self {
            functions: root.join("functions.yml"),
            serverless: root.join("serverless.yml"),
            stage: None,
            region: None,
        }
    }
}

/// The API as deployed.
#[derive(Debug)]
pub struct Api {
    /// The stage name, first path segment of every URL (`dev`).
    pub stage: String,
    /// The region, in `methodArn`.
    pub region: String,
    /// `provider.apiGateway.binaryMediaTypes`.
    pub binary_media_types: Vec<String>,
    /// Resources and methods.
    pub routes: Routes,
    /// `AWS::ApiGateway::GatewayResponse` resources of `serverless.yml`.
    pub responses: GatewayResponses,
    /// How long API Gateway waits for the integration.
    pub integration_timeout: Duration,
}

impl Api {
    /// `<api>.execute-api.<region>.amazonaws.com`, the default host.
    pub fn domain_name(&self) -> String {
        format!("{API_ID}.execute-api.{}.amazonaws.com", self.region)
    }
}

/// API Gateway REST's maximum integration timeout (the default).
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

fn read_yaml(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| format!("{} is not valid YAML: {e}", path.display()))
}

/// Reads and checks both files.
pub fn load(sources: &Sources) -> Result<Api, String> {
    let functions_doc = read_yaml(&sources.functions)?;
    let serverless = read_yaml(&sources.serverless)?;
    let mut vars = Vars::default();
    for (name, value) in [("stage", &sources.stage), ("region", &sources.region)] {
        if let Some(value) = value {
            vars.options.insert(name.into(), value.clone());
        }
    }
    vars.document = serverless.clone();
    let provider = serverless.get("provider").cloned().unwrap_or(Value::Null);
    let setting = |key: &str, default: &str| -> Result<String, String> {
        match provider.get(key).and_then(Value::as_str) {
            Some(text) => vars
                .resolve(text)
                .map_err(|e| format!("provider.{key}: {e}")),
            None => Ok(default.to_owned()),
        }
    };
    let stage = setting("stage", "dev")?;
    let region = setting("region", "us-east-1")?;
    vars.known.insert("sls:stage".into(), stage.clone());
    vars.known.insert("aws:region".into(), region.clone());
    if stage.is_empty() || stage.contains('/') {
        return Err(format!("provider.stage `{stage}` is not a stage name"));
    }

    let binary_media_types = provider
        .get("apiGateway")
        .and_then(|g| g.get("binaryMediaTypes"))
        .and_then(Value::as_sequence)
        .map(|types| {
            types
                .iter()
                .map(|t| {
                    t.as_str()
                        .ok_or_else(|| "binaryMediaTypes entries must be strings".to_owned())
                        .and_then(|t| vars.resolve(t))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();

    let functions = functions_doc
        .get("functions")
        .and_then(Value::as_mapping)
        .ok_or_else(|| {
            format!(
                "{} has no `functions:` mapping",
                sources.functions.display()
            )
        })?;
    let endpoints = endpoints(functions, &vars)?;
    if endpoints.is_empty() {
        return Err(format!(
            "{} declares no `http` events: nothing to serve",
            sources.functions.display()
        ));
    }
    let routes = Routes::new(endpoints)?;
    let resources = serverless
        .get("resources")
        .and_then(|r| r.get("Resources"))
        .and_then(Value::as_mapping);
    let responses = GatewayResponses::from_resources(resources, &vars)?;
    Ok(Api {
        stage,
        region,
        binary_media_types,
        routes,
        responses,
        integration_timeout: INTEGRATION_TIMEOUT,
    })
}

/// The binary a function entry runs: `image.command[0]`, else its key.
fn binary(key: &str, entry: &Value) -> String {
    entry
        .get("image")
        .and_then(|i| i.get("command"))
        .and_then(Value::as_sequence)
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        .unwrap_or(key)
        .to_owned()
}

fn endpoints(functions: &Mapping, vars: &Vars) -> Result<Vec<Endpoint>, String> {
    let binaries: BTreeMap<String, String> = functions
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), binary(k.as_str()?, v))))
        .collect();
    let mut out = Vec::new();
    for (key, entry) in functions {
        let key = key.as_str().ok_or("function names must be strings")?;
        let events = entry
            .get("events")
            .and_then(Value::as_sequence)
            .cloned()
            .unwrap_or_default();
        for event in events {
            let Some(http) = event.get("http") else {
                continue;
            };
            let context = |e: String| format!("functions.{key}: http event: {e}");
            out.push(endpoint(key, &binaries, http, vars).map_err(context)?);
        }
    }
    Ok(out)
}

fn endpoint(
    key: &str,
    binaries: &BTreeMap<String, String>,
    http: &Value,
    vars: &Vars,
) -> Result<Endpoint, String> {
    // The short form `http: GET /path` as osls reads it.
    let (method, path) = match http {
        Value::String(short) => {
            let (method, path) = short
                .split_once(' ')
                .ok_or_else(|| format!("`{short}` is not `METHOD path`"))?;
            (method.to_owned(), path.to_owned())
        }
        Value::Mapping(_) => (
            http.get("method")
                .and_then(Value::as_str)
                .ok_or("no `method`")?
                .to_owned(),
            http.get("path")
                .and_then(Value::as_str)
                .ok_or("no `path`")?
                .to_owned(),
        ),
        _ => return Err("expected a mapping or `METHOD path`".into()),
    };
    if let Some(integration) = http.get("integration").and_then(Value::as_str) {
        let normalized = integration.to_ascii_lowercase().replace('_', "-");
        if !matches!(normalized.as_str(), "lambda-proxy" | "aws-proxy") {
            return Err(format!(
                "integration `{integration}` is not emulated (only lambda-proxy is)"
            ));
        }
    }
    if http.get("private").and_then(Value::as_bool) == Some(true) {
        return Err("`private: true` (API keys) is not emulated".into());
    }
    for unsupported in ["request", "response", "async", "operationId"] {
        if http.get(unsupported).is_some() {
            return Err(format!("`{unsupported}` is not emulated"));
        }
    }
    let authorizer = http
        .get("authorizer")
        .map(|a| AuthorizerConfig::from_event(a, binaries))
        .transpose()?;
    // `cors: ${self:custom.cors}` is the mapping serverless.yml holds.
    let cors = http
        .get("cors")
        .map(|c| vars.resolve_value(c))
        .transpose()?
        .map(|c| CorsConfig::from_event(&c, &method))
        .transpose()?
        .flatten();
    // osls strips one leading and one trailing slash.
    let trimmed = path.strip_prefix('/').unwrap_or(&path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    Ok(Endpoint {
        path: format!("/{trimmed}"),
        method: method.to_ascii_uppercase(),
        function: binaries.get(key).cloned().unwrap_or_else(|| key.to_owned()),
        authorizer,
        cors,
    })
}

#[cfg(test)]
mod tests {
    use super::{Sources, load};

    fn workspace() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    }

    #[test]
    fn the_deployed_files_load() {
        let api = load(&Sources::in_dir(&workspace()));
        let api = api.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(api.stage, "dev");
        assert_eq!(
            api.domain_name(),
            format!("devgateway.execute-api.{}.amazonaws.com", api.region)
        );
    }

    #[test]
    fn the_stage_option_wins_like_osls() {
        let mut sources = Sources::in_dir(&workspace());
        sources.stage = Some("prod".into());
        let api = load(&sources).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(api.stage, "prod");
    }

    #[test]
    fn an_unreadable_functions_file_is_a_clear_error() {
        let mut sources = Sources::in_dir(&workspace());
        sources.functions = "no-such-dir/functions.yml".into();
        let error = load(&sources).err().unwrap_or_default();
        assert!(
            error.contains("cannot read no-such-dir/functions.yml"),
            "{error}"
        );
    }
}
