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
    /// Cargo's target directory for this workspace.
    pub(crate) target_directory: PathBuf,
}

/// The feature the image builds every function package with, instead of
/// its defaults: `--no-default-features --features image` (no OpenAPI
/// description, which only `cargo xtask routes` reads; `users`: DynamoDB
/// only, no SQLite, which is for local runs).
pub(crate) const IMAGE_FEATURE: &str = "image";

/// The feature that links the routes' OpenAPI description (`--openapi`):
/// on by default, off in the image.
const OPENAPI_FEATURE: &str = "openapi";

/// What every function package's `[features]` must say, so that
/// `cargo xtask routes` (default features) can read its description and
/// the image ([`IMAGE_FEATURE`]) does not carry it.
fn check_features(
    manifest: &Path,
    features: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<(), String> {
    let has = |feature: &str, entry: &str| {
        features
            .get(feature)
            .is_some_and(|entries| entries.iter().any(|e| e == entry))
    };
    let image_has_openapi = has(IMAGE_FEATURE, OPENAPI_FEATURE)
        || has(IMAGE_FEATURE, &format!("shared/{OPENAPI_FEATURE}"));
    if has("default", OPENAPI_FEATURE)
        && has(OPENAPI_FEATURE, &format!("shared/{OPENAPI_FEATURE}"))
        && features.contains_key(IMAGE_FEATURE)
        && !image_has_openapi
    {
        return Ok(());
    }
    Err(format!(
        "{}: every function package declares, in [features], \
         default = [\"openapi\"] (with its other defaults), openapi = [\"shared/openapi\"] \
         and image = [...] without openapi (what the image builds); \
         copy them from functions/health/Cargo.toml",
        manifest.display()
    ))
}

impl Functions {
    /// The package names, sorted, each once.
    pub(crate) fn packages(&self) -> Vec<&str> {
        let mut packages: Vec<&str> = self.binaries.iter().map(|(p, _)| p.as_str()).collect();
        packages.dedup();
        packages
    }

    /// The cargo arguments the image builds each package with, one package
    /// a build (so no package gets the features another turns on in a
    /// shared dependency): `-p NAME` with [`IMAGE_FEATURE`] alone.
    pub(crate) fn build_args(&self) -> Vec<String> {
        self.packages()
            .into_iter()
            .map(|package| format!("-p {package} --no-default-features --features {IMAGE_FEATURE}"))
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
    for package in &metadata.packages {
        if !package.manifest_path.starts_with(&functions_dir) {
            continue;
        }
        check_features(&package.manifest_path, &package.features)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_builds_each_package_alone_with_its_image_feature() {
        let functions = Functions {
            binaries: [("docs", "docs"), ("health", "health"), ("users", "users")]
                .map(|(p, b)| (p.to_owned(), b.to_owned()))
                .into(),
            target_directory: PathBuf::from("target"),
        };
        assert_eq!(
            functions.build_args(),
            [
                "-p docs --no-default-features --features image",
                "-p health --no-default-features --features image",
                "-p users --no-default-features --features image"
            ]
        );
    }

    #[test]
    fn every_function_package_declares_the_openapi_and_image_features() {
        let features = |entries: &[(&str, &[&str])]| {
            entries
                .iter()
                .map(|(f, e)| ((*f).to_owned(), e.iter().map(|s| (*s).to_owned()).collect()))
                .collect::<std::collections::BTreeMap<String, Vec<String>>>()
        };
        let openapi: (&str, &[&str]) = ("openapi", &["shared/openapi"]);
        let cases: [(&str, _, bool); 7] = [
            (
                "health's",
                features(&[("default", &["openapi"]), openapi, ("image", &[])]),
                true,
            ),
            (
                "users'",
                features(&[
                    ("default", &["dynamodb", "sqlite", "openapi"]),
                    openapi,
                    ("image", &["dynamodb"]),
                    ("dynamodb", &[]),
                ]),
                true,
            ),
            ("none", features(&[]), false),
            (
                "openapi not a default",
                features(&[("default", &[]), openapi, ("image", &[])]),
                false,
            ),
            (
                "openapi not shared's",
                features(&[("default", &["openapi"]), ("openapi", &[]), ("image", &[])]),
                false,
            ),
            (
                "no image feature",
                features(&[("default", &["openapi"]), openapi]),
                false,
            ),
            (
                "the image turns openapi on",
                features(&[("default", &["openapi"]), openapi, ("image", &["openapi"])]),
                false,
            ),
        ];
        for (case, features, ok) in cases {
            let checked = check_features(Path::new("functions/x/Cargo.toml"), &features);
            assert_eq!(checked.is_ok(), ok, "{case}: {checked:?}");
            if let Err(message) = checked {
                assert!(message.starts_with("functions/x/Cargo.toml: "), "{message}");
                assert!(message.contains("functions/health/Cargo.toml"), "{message}");
            }
        }
    }

    #[test]
    fn the_workspace_functions_declare_their_features() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let functions = read(&root).expect("cargo metadata, features as required");
        assert_eq!(
            functions.packages(),
            ["authorizer", "docs", "health", "users"]
        );
    }
}
