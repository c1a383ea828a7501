//! In a throwaway copy of the workspace: the route check catches a route
//! added to a router only, and the README's "Adding a route group" recipe,
//! followed to the letter, gives a third function that builds, passes the
//! check and answers through the Runtime API.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testkit::{Emulator, Function, Shape, workspace_root};

const COPIED: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    ".cargo",
    "README.md",
    "functions.yml",
    "serverless.yml",
    "shared",
    "functions",
    "testkit",
    "xtask",
    "gateway",
    "bench/axum-peer",
    "bench/harness",
    "vendor",
];

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("entry");
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).expect("copy");
    }
}

/// Builds in the copy use their own target dir: the copy's binaries must not
/// replace the workspace's, which other tests run. It is kept between runs,
/// and seeded from the workspace's (see [`seed_target_dir`]).
fn target_dir() -> PathBuf {
    workspace_root().join("target").join("recipe-test")
}

/// The workspace's dev-profile folder: this test binary is `<it>/deps/recipe-<hash>`.
fn workspace_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(2)
        .expect("target/<profile>/deps/<binary>")
        .to_path_buf()
}

/// The target triple rustc builds for by default (`host:` of `rustc -vV`).
fn host_triple() -> String {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names its host")
        .to_owned()
}

/// Gives the copy's target dir the workspace's compiled crates.io
/// dependencies, so that the copy compiles only its own crates (the AWS SDK
/// alone takes minutes on 2 cores). Cargo names a dependency's artifacts by
/// a hash of its id, version, features and profile, the same in the copy,
/// so it finds them fresh. The workspace's own crates are left out: their
/// names would be the same too (their paths are hashed relative to the
/// workspace), and the copy's edited versions must not overwrite them.
/// Fingerprints, dep-info and build-script outputs are copied with their
/// times (cargo and build scripts rewrite them in place); compiled libraries
/// are hard links (rustc replaces an output file, it does not write into it).
fn seed_target_dir(from: &Path, to: &Path) {
    // Only the host's packages: the others (wasm-only ones under
    // jsonwebtoken) are never downloaded by a build, and offline cargo
    // metadata would fail on them on a fresh machine.
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host_triple()])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        stderr(&output)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let mut registry = std::collections::BTreeSet::new();
    let mut local = std::collections::BTreeSet::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let from_registry = package["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("registry+"));
        let names = std::iter::once(package["name"].as_str().expect("name").to_owned()).chain(
            package["targets"]
                .as_array()
                .expect("targets")
                .iter()
                .map(|t| t["name"].as_str().expect("target name").to_owned()),
        );
        for name in names {
            let set = if from_registry {
                &mut registry
            } else {
                &mut local
            };
            set.insert(name.replace('-', "_"));
        }
    }
    // `<name>-<hash>` or `lib<name>-<hash>.<ext>`, the name with `_` for `-`.
    let crate_of = |file: &str| -> Option<String> {
        let stem = file.split('.').next()?;
        let (name, hash) = stem.rsplit_once('-')?;
        if hash.len() != 16 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let name = name.replace('-', "_");
        [name.strip_prefix("lib").map(str::to_owned), Some(name)]
            .into_iter()
            .flatten()
            .find(|n| registry.contains(n) && !local.contains(n))
    };
    for (folder, link) in [("deps", true), ("build", false), (".fingerprint", false)] {
        let Ok(entries) = std::fs::read_dir(from.join(folder)) else {
            continue;
        };
        std::fs::create_dir_all(to.join(folder)).expect("mkdir");
        for entry in entries {
            let entry = entry.expect("entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let target = to.join(folder).join(&name);
            if crate_of(&name).is_none() || target.exists() {
                continue;
            }
            let is_library = [".rlib", ".rmeta", ".so"].iter().any(|e| name.ends_with(e));
            if link && is_library && std::fs::hard_link(entry.path(), &target).is_ok() {
                continue;
            }
            // `cp -a` keeps the times cargo compares to decide what is fresh.
            let copied = Command::new("cp")
                .arg("-a")
                .args([entry.path(), target])
                .status()
                .expect("cp runs");
            assert!(copied.success(), "cp -a {name}");
        }
    }
}

fn run(root: &Path, line: &str) -> Output {
    let mut words = line.split_whitespace();
    let program = words.next().expect("a command");
    Command::new(program)
        .args(words)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `<!-- recipe-file: PATH -->` blocks and `<!-- recipe-commands -->` lines.
fn recipe(readme: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut files = Vec::new();
    let mut commands = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let marker = line.trim();
        let target = if let Some(path) = marker.strip_prefix("<!-- recipe-file: ") {
            Some(path.trim_end_matches("-->").trim().to_owned())
        } else if marker == "<!-- recipe-commands -->" {
            None
        } else {
            continue;
        };
        let fence = lines.next().expect("a fenced block follows the marker");
        assert!(
            fence.starts_with("```"),
            "marker must precede a fence: {fence}"
        );
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        match target {
            Some(path) => files.push((path, body.join("\n") + "\n")),
            None => commands.extend(body.iter().map(|l| (*l).to_owned())),
        }
    }
    (files, commands)
}

#[test]
fn drift_is_caught_and_the_readme_recipe_works() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    seed_target_dir(&workspace_profile_dir(), &target_dir().join("debug"));
    for item in COPIED {
        copy_tree(&workspace_root().join(item), &root.join(item));
    }

    // 1. A route added to a router only: the check names it, per file.
    let routes_rs = root.join("functions/users/src/routes.rs");
    let original = std::fs::read_to_string(&routes_rs).expect("routes.rs");
    let drifted = original.replace(
        ".route(\n            \"/{id}\",",
        ".route(\"/{id}/avatar\", get(get_user))\n        .route(\n            \"/{id}\",",
    );
    assert_ne!(drifted, original, "the test must really add a route");
    std::fs::write(&routes_rs, drifted).expect("write");
    let check = run(root, "cargo xtask routes --check");
    assert!(!check.status.success(), "the check must fail on drift");
    let message = stderr(&check);
    for expected in [
        "functions.yml lacks GET /api/v1/users/{id}/avatar, which the `users` router serves",
        "Cargo.toml lacks GET /api/v1/users/{id}/avatar, which the `users` router serves",
        "the `users` OpenAPI description lacks GET /api/v1/users/{id}/avatar, which the `users` router serves",
    ] {
        assert!(
            message.contains(expected),
            "missing `{expected}` in:\n{message}"
        );
    }
    // 1b. A scope dropped from a router, one added, one changed: the
    // authorizers of functions.yml, or the OpenAPI security, no longer match.
    let health_rs = root.join("functions/health/src/lib.rs");
    let health = std::fs::read_to_string(&health_rs).expect("health lib.rs");
    for (file, text, from, to, expected) in [
        (
            &routes_rs,
            &original,
            "get(list_users)\n                .require(READ_SCOPE)\n                .post(create_user)\n                .require(WRITE_SCOPE),",
            "get(list_users).post(create_user),",
            "functions.yml: GET /api/v1/users of `users` is public but has an `authorizer:`",
        ),
        (
            &health_rs,
            &health,
            ".route(\"/ping\", get(ping))",
            ".route(\"/ping\", get(ping).require(\"health:read\"))",
            "functions.yml: GET /ping of `health` requires `health:read` but has no `authorizer:`",
        ),
        (
            &routes_rs,
            &original,
            ".delete(delete_user)\n                .require(WRITE_SCOPE),",
            ".require(WRITE_SCOPE)\n                .delete(delete_user)\n                .require(\"users:admin\"),",
            "functions/docs/openapi.json is not the merge",
        ),
    ] {
        let drifted = text.replace(from, to);
        assert_ne!(&drifted, text, "the test must really change a scope");
        std::fs::write(file, drifted).expect("write");
        let check = run(root, "cargo xtask routes --check");
        std::fs::write(file, text).expect("restore");
        assert!(!check.status.success(), "the check must fail on `{to}`");
        let message = stderr(&check);
        assert!(
            message.contains(expected),
            "missing `{expected}` in:\n{message}"
        );
    }
    std::fs::write(&routes_rs, original).expect("restore");

    // 2. The README recipe, to the letter.
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let (files, commands) = recipe(&readme);
    assert_eq!(
        files.len(),
        3,
        "Cargo.toml, lib.rs and main.rs of the new group"
    );
    assert!(!commands.is_empty());
    for (path, body) in &files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
    }
    for line in &commands {
        let output = run(root, line);
        assert!(
            output.status.success(),
            "`{line}` failed:\n{}",
            stderr(&output)
        );
    }
    let listed = run(root, "cargo xtask functions");
    assert!(listed.status.success(), "{}", stderr(&listed));
    let before = run(
        root,
        &format!(
            "cargo xtask functions --root {}",
            workspace_root().display()
        ),
    );
    let mut expected: Vec<String> = String::from_utf8_lossy(&before.stdout)
        .lines()
        .map(str::to_owned)
        .chain(["orders".to_owned()])
        .collect();
    expected.sort();
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        expected.join("\n") + "\n",
        "`cargo xtask functions` lists the new group with the others"
    );
    let functions_yml = std::fs::read_to_string(root.join("functions.yml")).expect("functions.yml");
    assert!(
        functions_yml.contains("  orders:\n    image:"),
        "{functions_yml}"
    );
    assert!(functions_yml.contains("command: [orders]"));
    assert!(functions_yml.contains("path: /api/v1/orders/{id}\n          method: get"));
    let document =
        std::fs::read_to_string(root.join("functions/docs/openapi.json")).expect("openapi.json");
    assert!(
        document.contains("\"/api/v1/orders/{id}\""),
        "the OpenAPI document has the new routes"
    );
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    assert!(
        manifest
            .contains("\"/api/v1/orders\" = [\n    { method = \"GET\", function = \"orders\" }")
    );

    // 3. The new function answers through the Runtime API.
    let Some(emulator) = Emulator::start_in(root) else {
        return;
    };
    let binary = target_dir().join("debug").join("orders");
    let _orders = Function::start(&emulator, "orders", binary.to_str().expect("utf-8"), &[]);
    for shape in Shape::ALL {
        let list = emulator.request("orders", &shape.event("GET", "/api/v1/orders/", None));
        assert_eq!(
            (list.status, list.text()),
            (200, r#"{"orders":[]}"#.to_owned()),
            "{shape:?}"
        );
        let one = emulator.request("orders", &shape.event("GET", "/api/v1/orders/7", None));
        assert_eq!(one.status, 404, "{shape:?}");
        assert_eq!(one.json()["message"], "order 7 not found");
    }
}
