//! `cargo xtask`: workspace tasks.
//!
//! `cargo xtask functions` prints the function packages (those under
//! `functions/`), one a line: the list `image/build-functions` and
//! `bench/run` build and run.
//!
//! `cargo xtask routes` prints every function's routes, read from the
//! routers themselves (`<binary> --routes`, with the scope each protected
//! method requires); `--write` regenerates the places that must match them
//! (`functions.yml` events with the `authorizer:` of the protected ones, the
//! watch router in `Cargo.toml`, the OpenAPI document served by `docs` with
//! its bearer security); `--check` fails, naming the route, method and file,
//! when one of them has what another lacks.
//!
//! # Layout
//! - [`functions`]: the function packages and binaries, from cargo metadata.
//! - [`routes`]: discover the functions and read their routes.
//! - [`watch`]: the `cargo lambda watch` router in the root `Cargo.toml`.
//! - [`functions_yml`]: the API Gateway events in `functions.yml`.
//! - [`openapi`]: the whole API's OpenAPI document, merged from the functions'.
//! - [`check`]: compare route sets and explain the differences.

mod check;
mod functions;
mod functions_yml;
mod openapi;
mod routes;
mod watch;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask functions [--build-args] [--root DIR]
       cargo xtask routes [--check | --write] [--root DIR]

  functions  print the function packages (under functions/), one a line;
             with --build-args, the cargo arguments the image builds each
             with, one build a line (`-p users --no-default-features
             --features image` where a package has an `image` feature)
  (no flag)  print every function's routes, read from its router
  --write    regenerate functions.yml events (an authorizer on each protected
             one), the watch router in Cargo.toml and the OpenAPI document
             functions/docs/openapi.json (with the scopes as bearer security)
  --check    fail when any of them differs from the routers";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let mut mode = None;
    let mut build_args = false;
    let mut root = None;
    let mut rest = args.iter();
    let task = match rest.next().map(String::as_str) {
        Some(task @ ("routes" | "functions")) => task,
        Some("-h" | "--help") | None => return Err(USAGE.into()),
        Some(other) => return Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--check" | "--write" if task == "routes" => mode = Some(arg.clone()),
            "--build-args" if task == "functions" => build_args = true,
            "--root" => root = rest.next().map(PathBuf::from),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    let root = match root {
        Some(root) => root,
        None => std::env::current_dir().map_err(|e| e.to_string())?,
    };
    if task == "functions" {
        let functions = functions::read(&root)?;
        let lines = if build_args {
            functions.build_args()
        } else {
            functions
                .packages()
                .into_iter()
                .map(str::to_owned)
                .collect()
        };
        for line in lines {
            println!("{line}");
        }
        return Ok(());
    }
    let functions = routes::read_all(&root)?;
    match mode.as_deref() {
        Some("--write") => {
            functions_yml::write(&root, &functions)?;
            watch::write(&root, &functions)?;
            openapi::write(&root, &functions)?;
            println!(
                "wrote functions.yml, the watch router in Cargo.toml and {}",
                openapi::FILE
            );
            Ok(())
        }
        Some(_) => check::run(&root, &functions),
        None => {
            for function in &functions {
                for route in &function.routes {
                    println!(
                        "{:<8} {:<24} {}",
                        function.name,
                        route.path,
                        route.methods.join(", ")
                    );
                }
            }
            Ok(())
        }
    }
}
