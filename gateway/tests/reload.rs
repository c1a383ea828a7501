//! Black-box: hot reload through the gateway. A one-function workspace in a
//! temporary directory (so the test never edits this tree) runs under a
//! real `cargo lambda watch` behind the gateway; the test edits the
//! function's source and the next requests see the new answer.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Gateway, send, wait_for_port};

const FUNCTIONS_YML: &str = "functions:\n  hello:\n    image:\n      command: [hello]\n    events:\n      - http:\n          path: /hello\n          method: get\n";
const SERVERLESS_YML: &str = "service: reload\nprovider:\n  name: aws\n  stage: dev\n";

fn main_rs(greeting: &str) -> String {
    format!(
        r#"use lambda_runtime::{{Error, LambdaEvent, service_fn}};
use serde_json::{{Value, json}};

async fn handle(_event: LambdaEvent<Value>) -> Result<Value, Error> {{
    Ok(json!({{"statusCode": 200, "body": "{greeting}"}}))
}}

#[tokio::main]
async fn main() -> Result<(), Error> {{
    lambda_runtime::run(service_fn(handle)).await
}}
"#
    )
}

fn write_workspace(dir: &Path) {
    let root = common::root();
    let manifest = format!(
        "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nlambda_runtime = {{ path = \"{}\", default-features = false }}\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\nserde_json = \"1\"\n\n\
         [workspace]\n",
        root.join("vendor/lambda_runtime").display()
    );
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("Cargo.toml");
    // The workspace's lock: the same versions, already downloaded.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock");
    std::fs::write(dir.join("src/main.rs"), main_rs("first")).expect("main.rs");
    std::fs::write(dir.join("functions.yml"), FUNCTIONS_YML).expect("functions.yml");
    std::fs::write(dir.join("serverless.yml"), SERVERLESS_YML).expect("serverless.yml");
}

#[test]
fn an_edit_reaches_the_next_request_through_the_gateway() {
    if !testkit::require_tool(
        "cargo",
        &["lambda", "--version"],
        "pip install cargo-lambda",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    write_workspace(dir.path());
    // Its own target dir, kept between runs so only the first one builds
    // the dependencies.
    let target = common::root().join("target").join("gateway-reload-test");
    let build = Command::new("cargo")
        .args(["build", "--quiet", "--bin", "hello"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(dir.path())
        .status()
        .expect("cargo build runs");
    assert!(build.success(), "the one-function workspace builds");

    let watch_port = testkit::free_port();
    let mut child = Command::new("cargo")
        .args([
            "lambda",
            "watch",
            "--quiet",
            "--invoke-address",
            "127.0.0.1",
        ])
        .args(["--invoke-port", &watch_port.to_string()])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cargo lambda watch starts");
    wait_for_port(watch_port, &mut child, "cargo lambda watch");
    let watch = common::Watch::adopt(child, watch_port);
    let gateway = Gateway::start(dir.path(), &watch, &["--integration-timeout", "600"]);

    let first = send(gateway.port, "GET", "/dev/hello", &[], b"");
    assert_eq!((first.status, first.text().as_str()), (200, "first"));

    std::fs::write(dir.path().join("src/main.rs"), main_rs("second")).expect("edit main.rs");
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let reply = send(gateway.port, "GET", "/dev/hello", &[], b"");
        if reply.status == 200 && reply.text() == "second" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the edit never reached the gateway: {} {}",
            reply.status,
            reply.text()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
