//! The emulator and function processes, killed when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::reply::HttpReply;

/// The workspace root (where `Cargo.toml` with `[workspace]` is).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the workspace root")
        .to_path_buf()
}

/// Whether `program --version` runs. Without it the test is skipped: on a
/// laptop this records the skip (as `record_skip` says) and returns `false`;
/// under CI (`CI=true`) it fails, where a skip would hide a missing install
/// step.
pub fn require_tool(program: &str, args: &[&str], install: &str) -> bool {
    let found = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        // `cargo lambda`, not `cargo`, is what is missing for a cargo subcommand.
        let tool = match (program, args.first()) {
            ("cargo", Some(sub)) if !sub.starts_with('-') => format!("cargo {sub}"),
            _ => program.to_owned(),
        };
        let reason = format!("`{tool}` is not installed");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{reason}; install it with: {install}"
        );
        record_skip(&reason, install);
    }
    found
}

/// Records that the running test skips: `SKIP:` on stderr (cargo hides it
/// for a passing test), and one line `test<TAB>reason<TAB>fix` appended to
/// the file named by `TEST_SKIP_LOG`, which `scripts/test` sets, counts and
/// lists. The test is named by the command that re-runs it.
fn record_skip(reason: &str, fix: &str) {
    let test = current_test();
    eprintln!("SKIP: {test}: {reason}; fix: {fix}");
    let Some(log) = std::env::var_os("TEST_SKIP_LOG") else {
        return;
    };
    let field = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    let line = format!("{}\t{}\t{}\n", field(&test), field(reason), field(fix));
    // One append-mode write per line: lines from concurrent tests stay whole.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut file| std::io::Write::write_all(&mut file, line.as_bytes()));
    if let Err(e) = written {
        panic!("cannot record the skip in {}: {e}", log.to_string_lossy());
    }
}

/// `cargo test -p PACKAGE [--test BINARY] -- NAME` for the running test:
/// cargo sets `CARGO_PKG_NAME` when it runs a test binary, whose file is
/// `BINARY-<hash>`, and libtest names each test's thread after the test.
fn current_test() -> String {
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "?".into());
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
            _ => stem,
        })
        .unwrap_or_default();
    let name = std::thread::current()
        .name()
        .unwrap_or("<unnamed thread>")
        .to_owned();
    if binary.is_empty() || binary == package.replace('-', "_") {
        format!("cargo test -p {package} -- {name}")
    } else {
        format!("cargo test -p {package} --test {binary} -- {name}")
    }
}

/// How to get the Python tools (cargo-lambda, moto): the project's venv.
pub(crate) const SETUP_FIX: &str =
    "scripts/setup python, then put .venv/bin on PATH (scripts/test does both)";

/// A loopback port nothing listens on, never handed out twice by this
/// process, and outside the kernel's ephemeral range.
///
/// Asking the kernel for port 0 and closing the socket leaves a race: the
/// kernel hands the same port to the next `bind` to port 0 or outgoing
/// connection, and a server started by a test running beside this one
/// can take it before the child meant for it binds it (the child then
/// exits, and what answers on the port is someone else's). Ports below
/// the ephemeral range are never handed out by the kernel, and a counter
/// shared by the process's tests hands each one out once; the offset
/// taken from the process id keeps two test processes apart.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ports = unassigned_ports();
    let offset = std::process::id().wrapping_mul(7_919);
    next_free_port(&NEXT, ports, offset)
}

/// The next port of `low..high`, counting with `next` (which it advances)
/// from `offset` into the range, on which nothing listens.
fn next_free_port(next: &AtomicU32, (low, high): (u16, u16), offset: u32) -> u16 {
    let span = u32::from(high - low);
    let offset = offset % span;
    for _ in 0..span {
        let next = next.fetch_add(1, Ordering::Relaxed);
        let port = low + u16::try_from((offset + next) % span).expect("below the span");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {low}..{high}");
}

/// The ports `free_port` hands out: from 10000 up to the low end of the
/// kernel's ephemeral range (`ip_local_port_range`, 32768 by default).
fn unassigned_ports() -> (u16, u16) {
    const LOW: u16 = 10_000;
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    assert!(
        ephemeral_low > LOW + 1_000,
        "the ephemeral port range starts at {ephemeral_low}: no room below it for test servers"
    );
    (LOW, ephemeral_low)
}

/// Waits until something listens on `port`, failing if `child` exits first.
pub(crate) fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before listening: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// cargo-lambda's Lambda Runtime API emulator on a free loopback port.
#[derive(Debug)]
pub struct Emulator {
    child: Mutex<Child>,
    port: u16,
    /// Its stdout and stderr (a few start-up lines, then only errors and
    /// its shutdown), quoted when an invocation cannot reach it.
    log: PathBuf,
}

/// The raw outcome of one invocation through the emulator.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// 200 for a function result, 5xx for a Lambda error.
    pub status: u16,
    /// The function's JSON result, or the Lambda error document.
    pub body: Value,
}

impl Emulator {
    /// Starts the emulator for this workspace, or `None` (after a SKIP
    /// message) without cargo-lambda.
    pub fn start() -> Option<Self> {
        Self::start_in(&workspace_root())
    }

    /// Starts the emulator for the workspace at `root` (it accepts the
    /// names of that workspace's binaries).
    pub fn start_in(root: &Path) -> Option<Self> {
        if !require_tool("cargo", &["lambda", "--version"], SETUP_FIX) {
            return None;
        }
        let port = free_port();
        let log = emulator_log(root, port);
        let (stdout, stderr) = log_output(&log);
        let mut child = Command::new("cargo")
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args([
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ])
            .current_dir(root)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("cargo lambda watch starts");
        wait_for_port(port, &mut child, "cargo lambda watch");
        Some(Self {
            child: Mutex::new(child),
            port,
            log,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for function `name`.
    pub fn runtime_api(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/.rt/{name}", self.port)
    }

    /// Invokes function `name` with `payload` (any JSON) and waits for it
    /// (at most a minute).
    pub fn invoke_raw(&self, name: &str, payload: &str) -> Invocation {
        let (status, body) = self
            .post(name, payload, Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("invoke {name}: {e}; {}", self.state()));
        let text = String::from_utf8_lossy(&body).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Invocation { status, body }
    }

    /// Invokes with an HTTP event, waiting at most `deadline`: `None` when
    /// the invocation is cut off (the function process died with it, or
    /// the answer did not come in time) or ends in a Lambda error.
    pub fn try_request(&self, name: &str, event: &Value, deadline: Duration) -> Option<HttpReply> {
        let (status, body) = self.post(name, &event.to_string(), deadline).ok()?;
        if status != 200 {
            return None;
        }
        let document: Value = serde_json::from_slice(&body).ok()?;
        Some(HttpReply::from_lambda(&document))
    }

    fn post(
        &self,
        name: &str,
        payload: &str,
        deadline: Duration,
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let path = format!("/2015-03-31/functions/{name}/invocations");
        crate::wire::post(self.port, &path, payload, deadline)
    }

    /// Whether the emulator still runs, and the end of its log: what a
    /// failed invocation reports.
    fn state(&self) -> String {
        let running = match self.child.lock().map(|mut child| child.try_wait()) {
            Ok(Ok(None)) => "still runs".to_owned(),
            Ok(Ok(Some(status))) => format!("exited ({status})"),
            Ok(Err(e)) => format!("cannot be waited for ({e})"),
            Err(_) => "is not known (a test panicked holding it)".to_owned(),
        };
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!(
            "the emulator on port {} {running}; the end of its log ({}):\n{tail}",
            self.port,
            self.log.display()
        )
    }

    /// Invokes with an HTTP event and reads the HTTP answer out of the result.
    pub fn request(&self, name: &str, event: &Value) -> HttpReply {
        let invocation = self.invoke_raw(name, &event.to_string());
        assert_eq!(
            invocation.status, 200,
            "an HTTP event must never be a Lambda error: {}",
            invocation.body
        );
        HttpReply::from_lambda(&invocation.body)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let child = self
            .child
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
        // A failed test's emulator log stays for reading (its message names it).
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// Where the emulator on `port` writes its output: `target/testkit-logs/`
/// of the workspace at `root`, one file a port and process, kept when the
/// test that held the emulator failed.
fn emulator_log(root: &Path, port: u16) -> PathBuf {
    let dir = root.join("target").join("testkit-logs");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    dir.join(format!("emulator-{port}-{}.log", std::process::id()))
}

/// A child's stdout and stderr, both written to the file `log` (created).
fn log_output(log: &Path) -> (Stdio, Stdio) {
    let file =
        std::fs::File::create(log).unwrap_or_else(|e| panic!("create {}: {e}", log.display()));
    let stderr = file
        .try_clone()
        .unwrap_or_else(|e| panic!("reopen {}: {e}", log.display()));
    (Stdio::from(file), Stdio::from(stderr))
}

/// A function binary polling the emulator for its invocations.
#[derive(Debug)]
pub struct Function {
    child: Child,
}

impl Function {
    /// Starts `binary` as function `name`, with extra environment `env`.
    pub fn start(emulator: &Emulator, name: &str, binary: &str, env: &[(&str, &str)]) -> Self {
        let output = || {
            if std::env::var_os("TEST_FUNCTION_LOGS").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            }
        };
        Self::spawn(
            &emulator.runtime_api(name),
            name,
            binary,
            env,
            (output(), output()),
        )
    }

    /// Like [`Function::start`], with the process's log (stdout, where the
    /// log lines and metrics go, and stderr) written to `log`, for a test
    /// to read.
    pub fn start_logging(
        emulator: &Emulator,
        name: &str,
        binary: &str,
        env: &[(&str, &str)],
        log: &Path,
    ) -> Self {
        Self::start_logging_at(&emulator.runtime_api(name), name, binary, env, log)
    }

    /// Like [`Function::start_logging`], polling the Runtime API at
    /// `runtime_api` (the value of `AWS_LAMBDA_RUNTIME_API`), such as a
    /// [`crate::RuntimeApi`]'s.
    pub fn start_logging_at(
        runtime_api: &str,
        name: &str,
        binary: &str,
        env: &[(&str, &str)],
        log: &Path,
    ) -> Self {
        Self::spawn(runtime_api, name, binary, env, log_output(log))
    }

    fn spawn(
        runtime_api: &str,
        name: &str,
        binary: &str,
        env: &[(&str, &str)],
        (stdout, stderr): (Stdio, Stdio),
    ) -> Self {
        let child = lambda_command(binary, runtime_api, name)
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        Self { child }
    }

    /// Kills the process at once (what Lambda does on a timeout).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` (`TERM`: what Lambda sends before it ends an
    /// environment that has an extension; `INT`: Ctrl-C) and waits for the
    /// process to exit, at most a minute: its status, and how long it took.
    pub fn signal(&mut self, signal: &str) -> (std::process::ExitStatus, Duration) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-s", signal, &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "kill -s {signal} {pid}");
        let sent_at = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the function") {
                return (status, sent_at.elapsed());
            }
            assert!(
                sent_at.elapsed() < Duration::from_secs(60),
                "the function did not exit within 60 s of SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A memory figure of the process in KiB, from `/proc/<pid>/status`:
    /// `VmRSS`, `RssAnon` (heap and stacks), `RssFile` (mapped files, the
    /// binary's code among them)... `None` once the process is gone.
    pub fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `binary` with the environment Lambda gives function `name`.
fn lambda_command(binary: &str, runtime_api: &str, name: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
    command
}

/// Runs `binary` as function `name` until it exits, `unset` removed from
/// its environment and `env` added, against a Runtime API nobody serves (a
/// start-up refusal must come before it is reached): whether it exited
/// successfully, and its output (the log on stdout, then stderr).
pub fn run_to_exit(
    binary: &str,
    name: &str,
    unset: &[&str],
    env: &[(&str, &str)],
) -> (bool, String) {
    let mut command = lambda_command(binary, "127.0.0.1:9", name);
    for variable in unset {
        command.env_remove(variable);
    }
    let output = command
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("run {binary}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        let (low, high) = unassigned_ports();
        let ports: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| (0..50).map(|_| free_port()).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("no panic"))
                .collect()
        });
        let distinct: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "a port handed out twice");
        for port in ports {
            assert!((low..high).contains(&port), "{port} outside {low}..{high}");
            TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
        }
    }

    #[test]
    fn a_port_something_listens_on_is_skipped() {
        let range = unassigned_ports();
        let first = next_free_port(&AtomicU32::new(0), range, 1_234);
        let _listening = TcpListener::bind(("127.0.0.1", first)).expect("free");
        let second = next_free_port(&AtomicU32::new(0), range, 1_234);
        assert_eq!(second, first + 1, "the port listened on is passed over");
    }

    #[test]
    fn an_invocation_the_emulator_cannot_take_says_whether_it_exited_and_quotes_its_log() {
        let Some(emulator) = Emulator::start() else {
            return;
        };
        let log = emulator.log.clone();
        {
            let mut child = emulator.child.lock().expect("not poisoned");
            child.kill().expect("kill the emulator");
            child.wait().expect("reap it");
        }
        let message = std::panic::catch_unwind(|| emulator.invoke_raw("health", "{}"))
            .map(|_| "no panic".to_owned())
            .unwrap_or_else(|panic| match panic.downcast::<String>() {
                Ok(text) => *text,
                Err(_) => "a panic without text".to_owned(),
            });
        for expected in [
            "invoke health: ",
            &format!("the emulator on port {} exited (signal: 9", emulator.port),
            &log.display().to_string(),
            "starting Runtime server",
        ] {
            assert!(
                message.contains(expected),
                "{expected:?} not in {message:?}"
            );
        }
        drop(emulator);
        assert!(!log.exists(), "the log of a test that passed is removed");
    }
}
