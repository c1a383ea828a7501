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
/// replace the workspace's, which other tests run.
fn target_dir() -> PathBuf {
    workspace_root().join("target").join("recipe-test")
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
    for item in COPIED {
        copy_tree(&workspace_root().join(item), &root.join(item));
    }

    // 1. A route added to a router only: the check names it, per file.
    let routes_rs = root.join("functions/users/src/routes.rs");
    let original = std::fs::read_to_string(&routes_rs).expect("routes.rs");
    let drifted = original.replace(
        ".route(\"/{id}\", get(get_user)",
        ".route(\"/{id}/avatar\", get(get_user))\n        .route(\"/{id}\", get(get_user)",
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
