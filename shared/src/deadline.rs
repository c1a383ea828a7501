//! The invocation's deadline, less a safety margin: the time handlers have.
//!
//! Lambda tells the runtime when it will stop the invocation
//! (`Lambda-Runtime-Deadline-Ms`, lambda_runtime's `Context::deadline`). At
//! that moment the process is killed mid-request: API Gateway answers 502,
//! nothing is logged, and the next request pays a cold start. So
//! [`crate::run`] gives each invocation a [`Deadline`] a little earlier than
//! Lambda's, and [`crate::App::handle`] answers `503` (with `Retry-After`,
//! the cause logged) when a handler is still running then; the handler's
//! future is dropped, which cancels its pending store call and any retry.
//!
//! The deadline is also readable inside the handler ([`current`]), for code
//! that retries on its own and should not start a back-off it cannot finish
//! (the users DynamoDB store does this).

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

/// How long before Lambda's deadline handlers must have answered: the time
/// to drop the handler, build and log the 503, and hand it to the Runtime
/// API. That work takes a few milliseconds, but at 128 to 256 MB a function
/// gets a sixth of a vCPU or less, so a burst of work runs several times
/// slower than on a core of its own, and timers fire late under load.
/// 250 ms covers that with room to spare, at a small cost to a handler
/// (2.5% of a 10 s timeout).
pub const SAFETY_MARGIN: Duration = Duration::from_millis(250);

/// The margin is at most this fraction (1/N) of the time the invocation
/// had when it arrived, so a very short timeout still leaves handlers most
/// of its time: 100 ms of a 1 s timeout (Lambda's minimum).
pub const MARGIN_SHARE: u32 = 10;

/// The margin for an invocation that arrives with `time_left` before
/// Lambda's deadline: [`SAFETY_MARGIN`], capped at a [`MARGIN_SHARE`]th.
pub fn margin(time_left: Duration) -> Duration {
    SAFETY_MARGIN.min(time_left / MARGIN_SHARE)
}

/// When handlers must have answered, and how long they were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// Handlers get `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self {
            at: Instant::now() + budget,
            budget,
        }
    }

    /// The deadline of an invocation Lambda stops at `lambda_deadline`, less
    /// the [`margin`]. `None` when that moment has already passed as the
    /// invocation arrives: Lambda never sends such a deadline, but local
    /// emulators do (cargo-lambda's sends a fixed `600000`, ten minutes past
    /// the Unix epoch); those invocations run without one, as before.
    pub fn from_lambda(lambda_deadline: SystemTime) -> Option<Self> {
        let time_left = lambda_deadline.duration_since(SystemTime::now()).ok()?;
        if time_left.is_zero() {
            return None;
        }
        Some(Self::after(time_left - margin(time_left)))
    }

    /// The moment handlers must have answered by.
    pub fn instant(&self) -> Instant {
        self.at
    }

    /// The time handlers were given, for logs.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The time left until the deadline (zero once it has passed).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

tokio::task_local! {
    static DEADLINE: Option<Deadline>;
}

/// Runs `future` under `deadline`: [`current`] returns it there, and
/// [`crate::App::handle`] answers `503` when it passes. Not an `async fn`,
/// which would hold `future` twice (the argument and what it awaits).
pub fn scope<F: Future>(deadline: Option<Deadline>, future: F) -> impl Future<Output = F::Output> {
    DEADLINE.scope(deadline, future)
}

/// The deadline of the invocation being served, if it has one and the
/// caller runs inside [`scope`] (every handler [`crate::run`] serves does).
pub fn current() -> Option<Deadline> {
    DEADLINE.try_with(|deadline| *deadline).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_capped_for_short_timeouts() {
        let ms = Duration::from_millis;
        let cases = [
            (Duration::from_secs(900), SAFETY_MARGIN),
            (Duration::from_secs(10), SAFETY_MARGIN),
            (Duration::from_secs(3), SAFETY_MARGIN),
            (ms(2_500), SAFETY_MARGIN),
            (Duration::from_secs(1), ms(100)),
            (ms(300), ms(30)),
            (ms(5), Duration::from_micros(500)),
            (Duration::ZERO, Duration::ZERO),
        ];
        for (time_left, expected) in cases {
            assert_eq!(margin(time_left), expected, "{time_left:?}");
        }
    }

    #[test]
    fn a_lambda_deadline_leaves_the_budget_less_the_margin() {
        let deadline = Deadline::from_lambda(SystemTime::now() + Duration::from_secs(10))
            .expect("a deadline in the future");
        let budget = deadline.budget();
        assert!(
            budget <= Duration::from_secs(10) - SAFETY_MARGIN,
            "{budget:?}"
        );
        assert!(budget > Duration::from_millis(9_700), "{budget:?}");
        assert!(deadline.remaining() <= budget);
        let short = Deadline::from_lambda(SystemTime::now() + Duration::from_secs(1))
            .expect("a deadline in the future");
        assert!(short.budget() > Duration::from_millis(850), "{short:?}");
        assert!(short.budget() <= Duration::from_millis(900), "{short:?}");
    }

    #[test]
    fn a_deadline_already_past_is_none() {
        // What cargo-lambda's emulator sends for every invocation.
        let emulator = SystemTime::UNIX_EPOCH + Duration::from_millis(600_000);
        assert_eq!(Deadline::from_lambda(emulator), None);
        assert_eq!(Deadline::from_lambda(SystemTime::now()), None);
    }

    #[test]
    fn current_is_the_scoped_deadline_and_nothing_outside() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let deadline = Deadline::after(Duration::from_secs(5));
        assert_eq!(current(), None);
        let inside = runtime.block_on(scope(Some(deadline), async {
            tokio::task::yield_now().await;
            current()
        }));
        assert_eq!(inside, Some(deadline));
        assert_eq!(runtime.block_on(scope(None, async { current() })), None);
    }
}
