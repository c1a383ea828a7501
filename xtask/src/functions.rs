//! The function packages: the workspace's packages under `functions/` and
//! their binaries, from `cargo metadata`. The one list of the functions:
//! `cargo xtask functions` prints it for `image/build-functions` and
//! `bench/run`, and the route tasks start from it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// The functions of one workspace.
#[derive(Debug)]
pub(crate) struct Functions {
    /// `(package, binary)` for each binary of each package under
    /// `functions/`, sorted.
    pub(crate) binaries: Vec<(String, String)>,
    /// Cargo's target directory for this workspace.
    pub(crate) target_directory: PathBuf,
}

impl Functions {
    /// The package names, sorted, each once.
    pub(crate) fn packages(&self) -> Vec<&str> {
        let mut packages: Vec<&str> = self.binaries.iter().map(|(p, _)| p.as_str()).collect();
        packages.dedup();
        packages
    }
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    target_directory: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    manifest_path: PathBuf,
    targets: Vec<Target>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
    kind: Vec<String>,
}

/// Reads the functions of the workspace at `root` (no build, no network).
pub(crate) fn read(root: &Path) -> Result<Functions, String> {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: Metadata = serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    let functions_dir = root
        .join("functions")
        .canonicalize()
        .map_err(|e| format!("{}: {e}", root.join("functions").display()))?;
    let mut binaries: Vec<(String, String)> = Vec::new();
    for package in &metadata.packages {
        if !package.manifest_path.starts_with(&functions_dir) {
            continue;
        }
        for target in package
            .targets
            .iter()
            .filter(|t| t.kind.iter().any(|k| k == "bin"))
        {
            binaries.push((package.name.clone(), target.name.clone()));
        }
    }
    binaries.sort();
    if binaries.is_empty() {
        return Err("no function binaries under functions/".into());
    }
    Ok(Functions {
        binaries,
        target_directory: metadata.target_directory,
    })
}
