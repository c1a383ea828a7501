//! Async code from a synchronous test.

use std::future::Future;

/// Runs `future` to completion on a new current-thread tokio runtime (I/O
/// and timers enabled), as a synchronous test needs for the AWS SDK.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}
