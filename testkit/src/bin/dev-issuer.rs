//! The local development token issuer (`scripts/token`, `scripts/dev`):
//! one EC P-256 key generated once under `--dir` (`.data/dev-issuer/`,
//! the private key file 0600), tokens signed with it, and its JWKS served
//! on 127.0.0.1 for the authorizer and the functions. The keys and the
//! server are the test issuer's ([`testkit::jwks`]); never for production.
//!
//! ```text
//! dev-issuer token --dir DIR [--scope "users:read users:write"] [--sub ada] [--ttl 3600]
//! dev-issuer env   --port N   the AUTH_* settings that trust this issuer, KEY=value lines
//! dev-issuer serve --dir DIR --port N
//! ```

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use testkit::jwks::{JWKS_PATH, JwksServer, SigningKey, jwks, now};

/// The `iss` of its tokens (`AUTH_ISSUER`); a name, not where the keys are
/// (`AUTH_JWKS_URL` says that).
const ISSUER: &str = "https://dev-issuer.localhost";
/// The `aud` of its tokens (`AUTH_AUDIENCE`).
const AUDIENCE: &str = "rust-lambda-api";
/// The private key under `--dir`.
const KEY_FILE: &str = "es256.pk8";

const USAGE: &str = "usage: dev-issuer token --dir DIR [--scope SCOPES] [--sub SUB] [--ttl SECONDS]
       dev-issuer env --port N
       dev-issuer serve --dir DIR --port N";

#[derive(Default)]
struct Args {
    dir: Option<PathBuf>,
    port: Option<u16>,
    scope: Option<String>,
    sub: Option<String>,
    ttl: Option<i64>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = |what| format!("{flag}: `{value}` is not {what}");
        match flag.as_str() {
            "--dir" => out.dir = Some(PathBuf::from(value)),
            "--port" => out.port = Some(value.parse().map_err(|_| number("a port"))?),
            "--scope" => out.scope = Some(value.clone()),
            "--sub" => out.sub = Some(value.clone()),
            "--ttl" => {
                out.ttl = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|t| *t > 0)
                        .ok_or_else(|| number("a number of seconds"))?,
                )
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(out)
}

/// The issuer's key: read from `dir`, or generated there once (the
/// directory 0700, the file 0600, created exclusively so two first runs
/// agree on one key). Its `kid` is derived from the public key, so a new
/// key never reuses the old one's `kid`.
fn key(dir: &Path) -> Result<SigningKey, String> {
    let path = dir.join(KEY_FILE);
    let pkcs8 = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            let pkcs8 = SigningKey::generate_ec_pkcs8();
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut file) => file
                    .write_all(&pkcs8)
                    .map_err(|e| format!("{}: {e}", path.display()))?,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    return key(dir);
                }
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
            eprintln!("dev-issuer: generated a signing key in {}", path.display());
            pkcs8
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    // The kid of the key, before the key itself (which needs it).
    let probe =
        SigningKey::ec_from_pkcs8("", &pkcs8).map_err(|e| format!("{}: {e}", path.display()))?;
    let hash = digest(&SHA256, probe.public_key_der());
    let kid = URL_SAFE_NO_PAD.encode(&hash.as_ref()[..12]);
    SigningKey::ec_from_pkcs8(&kid, &pkcs8)
}

fn run(args: &[String]) -> Result<(), String> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    let args = parse(rest)?;
    let dir = || {
        args.dir
            .clone()
            .ok_or(format!("--dir is required\n{USAGE}"))
    };
    let port = || args.port.ok_or(format!("--port is required\n{USAGE}"));
    match command.as_str() {
        "token" => {
            let key = key(&dir()?)?;
            let issued = now();
            let claims = json!({
                "iss": ISSUER,
                "aud": AUDIENCE,
                "sub": args.sub.as_deref().unwrap_or("dev"),
                "scope": args.scope.as_deref().unwrap_or(""),
                "iat": issued,
                "nbf": issued,
                "exp": issued + args.ttl.unwrap_or(3600),
            });
            println!("{}", key.sign(&claims));
            Ok(())
        }
        "env" => {
            let port = port()?;
            println!("AUTH_ISSUER={ISSUER}");
            println!("AUTH_AUDIENCE={AUDIENCE}");
            println!("AUTH_JWKS_URL=http://127.0.0.1:{port}{JWKS_PATH}");
            Ok(())
        }
        "serve" => {
            let key = key(&dir()?)?;
            let port = port()?;
            let server = JwksServer::serving_on(port, jwks(&[&key]))
                .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
            eprintln!(
                "dev-issuer: JWKS on {} (kid {})",
                server.jwks_url(),
                key.kid()
            );
            loop {
                std::thread::park();
            }
        }
        "-h" | "--help" => Err(USAGE.into()),
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("dev-issuer: {message}");
            ExitCode::from(2)
        }
    }
}
