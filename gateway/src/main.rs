//! `gateway`: the local REST API gateway (see the crate docs).
//!
//! Usage: gateway --watch-port N [--port 9000] [--root DIR] [--stage S]
//!        [--region R] [--integration-timeout SECONDS]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use gateway::Gateway;
use gateway::config::{self, Sources};

struct Args {
    port: u16,
    watch_port: u16,
    root: PathBuf,
    stage: Option<String>,
    region: Option<String>,
    timeout: Option<Duration>,
}

fn parse() -> Result<Args, String> {
    let (mut port, mut watch_port, mut root) = (9000, None, PathBuf::from("."));
    let (mut stage, mut region, mut timeout) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |text: String| text.parse::<u16>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--port" => port = number(value()?)?,
            "--watch-port" => watch_port = Some(number(value()?)?),
            "--root" => root = PathBuf::from(value()?),
            "--stage" => stage = Some(value()?),
            "--region" => region = Some(value()?),
            "--integration-timeout" => {
                let seconds = number(value()?)?;
                timeout = Some(Duration::from_secs(seconds.into()));
            }
            "-h" | "--help" => {
                return Err("usage: gateway --watch-port N [--port 9000] [--root DIR] [--stage S] [--region R] [--integration-timeout SECONDS]".into());
            }
            other => return Err(format!("unknown argument `{other}` (see --help)")),
        }
    }
    let watch_port =
        watch_port.ok_or("--watch-port is required: the port of `cargo lambda watch`")?;
    Ok(Args {
        port,
        watch_port,
        root,
        stage,
        region,
        timeout,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("gateway: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sources = Sources::in_dir(&args.root);
    sources.stage = args.stage;
    sources.region = args.region;
    let mut api = match config::load(&sources) {
        Ok(api) => api,
        Err(e) => {
            eprintln!("gateway: refusing to start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(timeout) = args.timeout {
        api.integration_timeout = timeout;
    }
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("gateway: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "gateway: http://127.0.0.1:{}/{}/ (stage {}) -> cargo lambda watch on 127.0.0.1:{}",
        args.port, api.stage, api.stage, args.watch_port
    );
    for resource in api.routes.resources() {
        let mut methods: Vec<&str> = resource.methods.keys().map(String::as_str).collect();
        if resource.cors.is_some() {
            methods.push("OPTIONS(cors)");
        }
        eprintln!("gateway:   {} {}", resource.path, methods.join(" "));
    }
    let gateway = Arc::new(Gateway::new(api, args.watch_port));
    tokio::select! {
        result = gateway.serve(listener) => {
            if let Err(e) = result {
                eprintln!("gateway: {e}");
                return ExitCode::FAILURE;
            }
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    ExitCode::SUCCESS
}
