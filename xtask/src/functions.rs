//! The function packages: the workspace's packages under `functions/` and
//! their binaries, from `cargo metadata`. The one list of the functions:
//! `cargo xtask functions` prints it for `image/build-functions` and
//! `bench/run` (with `--build-args`, how the image builds each), and the
//! route tasks start from it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// The functions of one workspace.
#[derive(Debug)]
pub(crate) struct Functions {
    /// `(package, binary)` for each binary of each package under
    /// `functions/`, sorted.
    pub(crate) binaries: Vec<(String, String)>,
    /// The packages that declare an [`IMAGE_FEATURE`].
    pub(crate) image_features: Vec<String>,
    /// Cargo's target directory for this workspace.
    pub(crate) target_directory: PathBuf,
}

/// The feature a function package declares when the image must not build
/// its defaults: the image then builds it with `--no-default-features
/// --features image` (users: DynamoDB only, no SQLite, which is for local
/// runs).
pub(crate) const IMAGE_FEATURE: &str = "image";

impl Functions {
    /// The package names, sorted, each once.
    pub(crate) fn packages(&self) -> Vec<&str> {
        let mut packages: Vec<&str> = self.binaries.iter().map(|(p, _)| p.as_str()).collect();
        packages.dedup();
        packages
    }

    /// The cargo arguments the image builds each package with, one package
    /// a build (so no package gets the features another turns on in a
    /// shared dependency): `-p NAME`, and the image feature where declared.
    pub(crate) fn build_args(&self) -> Vec<String> {
        self.packages()
            .into_iter()
            .map(|package| {
                if self.image_features.iter().any(|p| p == package) {
                    format!("-p {package} --no-default-features --features {IMAGE_FEATURE}")
                } else {
                    format!("-p {package}")
                }
            })
            .collect()
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
    #[serde(default)]
    features: std::collections::BTreeMap<String, Vec<String>>,
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
    let mut image_features = Vec::new();
    for package in &metadata.packages {
        if !package.manifest_path.starts_with(&functions_dir) {
            continue;
        }
        if package.features.contains_key(IMAGE_FEATURE) {
            image_features.push(package.name.clone());
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
        image_features,
        target_directory: metadata.target_directory,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_builds_each_package_alone_with_its_image_feature() {
        let functions = Functions {
            binaries: [("docs", "docs"), ("health", "health"), ("users", "users")]
                .map(|(p, b)| (p.to_owned(), b.to_owned()))
                .into(),
            image_features: vec!["users".into()],
            target_directory: PathBuf::from("target"),
        };
        assert_eq!(
            functions.build_args(),
            [
                "-p docs",
                "-p health",
                "-p users --no-default-features --features image"
            ]
        );
    }

    #[test]
    fn the_workspace_declares_the_users_image_feature() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let functions = read(&root).expect("cargo metadata");
        assert_eq!(functions.image_features, ["users"]);
    }
}
