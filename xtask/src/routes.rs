//! The functions of the workspace and the routes their routers declare.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

/// One route as a function's `--routes` prints it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) path: String,
    pub(crate) methods: Vec<String>,
    /// Method (upper case) -> the scope it requires; public methods are absent.
    #[serde(default)]
    pub(crate) scopes: BTreeMap<String, String>,
}

impl Route {
    /// The scope `method` requires here, `None` when it is public.
    pub(crate) fn scope(&self, method: &str) -> Option<&str> {
        self.scopes
            .get(&method.to_ascii_uppercase())
            .map(String::as_str)
    }
}

/// A function binary, its routes and their OpenAPI description.
#[derive(Debug, Clone)]
pub(crate) struct Function {
    pub(crate) name: String,
    pub(crate) routes: Vec<Route>,
    pub(crate) openapi: serde_json::Value,
}

/// `(path, METHOD, function)`: the unit every source is compared in.
pub(crate) type RouteSet = BTreeSet<(String, String, String)>;

/// Flattens functions into a [`RouteSet`].
pub(crate) fn route_set(functions: &[Function]) -> RouteSet {
    functions
        .iter()
        .flat_map(|f| {
            f.routes.iter().flat_map(move |r| {
                r.methods
                    .iter()
                    .map(move |m| (r.path.clone(), m.to_ascii_uppercase(), f.name.clone()))
            })
        })
        .collect()
}

/// Every binary of every package under `functions/`, with its routes, read by
/// building it and running `<binary> --routes` (no network, no AWS, no store).
pub(crate) fn read_all(root: &Path) -> Result<Vec<Function>, String> {
    let functions = crate::functions::read(root)?;
    let names = functions.binaries;
    let mut build = Command::new("cargo");
    build.args(["build", "--quiet"]).current_dir(root);
    for (package, _) in &names {
        build.args(["--package", package]);
    }
    let status = build
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err("cargo build of the functions failed".into());
    }
    names
        .into_iter()
        .map(|(_, binary)| {
            let path = functions.target_directory.join("debug").join(&binary);
            let routes: Vec<Route> = serde_json::from_slice(&run_flag(&path, &binary, "--routes")?)
                .map_err(|e| format!("`{binary} --routes` printed no route list: {e}"))?;
            let openapi = serde_json::from_slice(&run_flag(&path, &binary, "--openapi")?)
                .map_err(|e| format!("`{binary} --openapi` printed no JSON document: {e}"))?;
            Ok(Function {
                name: binary,
                routes,
                openapi,
            })
        })
        .collect()
}

fn run_flag(path: &Path, binary: &str, flag: &str) -> Result<Vec<u8>, String> {
    let output = Command::new(path)
        .arg(flag)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`{binary} {flag}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(output.stdout)
}

/// `(path, METHOD, function)` -> the scope of every protected route.
pub(crate) fn scopes(functions: &[Function]) -> BTreeMap<(String, String, String), String> {
    functions
        .iter()
        .flat_map(|f| {
            f.routes.iter().flat_map(move |r| {
                r.scopes.iter().map(move |(method, scope)| {
                    (
                        (r.path.clone(), method.to_ascii_uppercase(), f.name.clone()),
                        scope.clone(),
                    )
                })
            })
        })
        .collect()
}
