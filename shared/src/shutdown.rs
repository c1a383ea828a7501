//! Graceful shutdown: Lambda sends SIGTERM before it ends an execution
//! environment when an extension is registered (a monitoring layer, say);
//! without one it ends the process with no signal. Either way each log line
//! is written whole as it is logged, so nothing waits in a buffer; on a
//! signal [`crate::run`] logs why it stops, flushes stdout and returns, and
//! the process exits with status 0 within Lambda's shutdown budget.

use std::io::Write;

/// Waits for SIGTERM or SIGINT and names it. If the handlers cannot be
/// installed (never on Linux), it logs why and waits forever: the process
/// still serves, and stops as it would without them.
pub async fn signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut int) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(error), _) | (_, Err(error)) => {
            tracing::warn!(%error, "no graceful shutdown: cannot listen for signals");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

/// The last words of the process: one log line naming `signal`, then
/// stdout flushed (where every log line goes).
pub fn finish(signal: &str) {
    tracing::info!(signal, "shutting down");
    let _ = std::io::stdout().flush();
}
