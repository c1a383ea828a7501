//! Prints a REST v1 (API Gateway proxy) event built by testkit's one
//! builder (`testkit::events::RestV1Event`), for scripts: `scripts/invoke-local`
//! and the benchmark (`bench/py/run.py`).
//!
//! ```sh
//! cargo run -q -p testkit --bin event -- [--template FILE] [-H 'Name: value']... \
//!     [--request-id ID] METHOD PATH [BODY]
//! ```
//!
//! The event is the template's (the article's event by default), headers
//! included, with METHOD, PATH (its query string parsed), BODY (none by
//! default; `-` reads it from standard input) and each `-H` header
//! (replacing the template's of that name).

use std::process::ExitCode;

use testkit::events::RestV1Event;

const USAGE: &str = "usage: event [--template FILE] [-H 'Name: value']... [--request-id ID] \
                     METHOD PATH [BODY]";

fn main() -> ExitCode {
    match build(std::env::args().skip(1).collect()) {
        Ok(event) => {
            println!("{event}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("event: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn build(args: Vec<String>) -> Result<serde_json::Value, String> {
    let mut template = None;
    let mut headers = Vec::new();
    let mut request_id = None;
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--template" => template = Some(value("--template")?),
            "-H" | "--header" => headers.push(value("-H")?),
            "--request-id" => request_id = Some(value("--request-id")?),
            "--" => positional.extend(args.by_ref()),
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(format!("unknown option {flag}"));
            }
            _ => positional.push(arg),
        }
    }
    let (method, path, body) = match positional.as_slice() {
        [method, path] => (method, path, None),
        [method, path, body] if body == "-" => {
            let stdin = std::io::read_to_string(std::io::stdin())
                .map_err(|error| format!("cannot read the body from standard input: {error}"))?;
            (method, path, Some(stdin))
        }
        [method, path, body] => (method, path, Some(body.clone())),
        _ => return Err("expected METHOD PATH [BODY]".into()),
    };
    if !path.starts_with('/') {
        return Err(format!("PATH must start with /, got {path:?}"));
    }
    let mut event = match template {
        None => RestV1Event::article(),
        Some(file) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|error| format!("cannot read the template {file}: {error}"))?;
            let value = serde_json::from_str(&text)
                .map_err(|error| format!("the template {file} is not JSON: {error}"))?;
            RestV1Event::from_template(value)
        }
    }
    .request(method, path)
    .body(body.as_deref());
    for line in headers {
        let (name, value) = line
            .split_once(':')
            .filter(|(name, _)| !name.trim().is_empty())
            .ok_or(format!("a header is 'Name: value', got {line:?}"))?;
        event = event.header(name.trim(), value.trim());
    }
    if let Some(id) = request_id {
        event = event.request_id(&id);
    }
    Ok(event.build())
}
