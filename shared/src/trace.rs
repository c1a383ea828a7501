//! The invocation's X-Ray trace header, kept out of the process environment.
//!
//! Lambda hands each invocation a trace header (`Lambda-Runtime-Trace-Id`,
//! e.g. `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`).
//! AWS asks custom runtimes to copy it into `_X_AMZN_TRACE_ID`, where the
//! AWS SDKs look for it. Rewriting an environment variable on every
//! invocation leaks under glibc, which never frees a replaced value (about
//! 150 bytes per invocation; see `vendor/README.md`), and is a data race
//! with any thread reading the environment. So [`crate::run`] keeps the
//! header in a task-local for the duration of the invocation instead:
//! [`current`] reads it, and `TraceHeader` (feature `aws-sdk`) puts it on
//! every request an AWS SDK client sends, as the SDK would have from the
//! variable. That keeps X-Ray traces connected, and lets Lambda's recursive
//! loop detection see calls to SQS, SNS or Lambda made by a function.

use std::future::Future;

tokio::task_local! {
    static TRACE_ID: Option<String>;
}

/// Runs `future` with `trace_id` as the current invocation's trace header.
/// Not an `async fn`, which would hold `future` twice (the argument and
/// what it awaits).
pub fn scope<F: Future>(trace_id: Option<String>, future: F) -> impl Future<Output = F::Output> {
    TRACE_ID.scope(trace_id, future)
}

/// The trace header of the invocation being served, if Lambda sent one and
/// the caller runs inside [`scope`] (every handler does).
pub fn current() -> Option<String> {
    TRACE_ID.try_with(Clone::clone).ok().flatten()
}

/// Runs `f` with the current trace header borrowed, as [`current`] finds
/// it, without copying it (the request line of every invocation reads it).
pub fn with_current<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    let mut f = Some(f);
    if let Ok(Some(out)) = TRACE_ID.try_with(|id| f.take().map(|f| f(id.as_deref()))) {
        return out;
    }
    // Outside a scope: `try_with` did not run the closure, `f` is still here.
    f.map_or_else(|| unreachable!("f runs once"), |f| f(None))
}

#[cfg(feature = "aws-sdk")]
pub use sdk::TraceHeader;

#[cfg(feature = "aws-sdk")]
mod sdk {
    use aws_smithy_runtime_api::box_error::BoxError;
    use aws_smithy_runtime_api::client::interceptors::Intercept;
    use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::config_bag::ConfigBag;
    use percent_encoding::{CONTROLS, utf8_percent_encode};

    /// The header the AWS SDKs send the trace in.
    const HEADER: &str = "x-amzn-trace-id";

    /// An AWS SDK interceptor that sends the invocation's trace header
    /// ([`super::current`]) as `X-Amzn-Trace-Id`, the way the SDK's own
    /// recursion-detection interceptor does from `_X_AMZN_TRACE_ID`
    /// (control characters percent-encoded). A request that already has the
    /// header keeps it. Add it to every SDK client a function builds, with
    /// `.interceptor(shared::trace::TraceHeader)` on the client's config
    /// builder (as `functions/users/src/store/dynamodb.rs` does).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct TraceHeader;

    impl Intercept for TraceHeader {
        fn name(&self) -> &'static str {
            "TraceHeader"
        }

        fn modify_before_signing(
            &self,
            context: &mut BeforeTransmitInterceptorContextMut<'_>,
            _runtime_components: &RuntimeComponents,
            _cfg: &mut ConfigBag,
        ) -> Result<(), BoxError> {
            let request = context.request_mut();
            if request.headers().contains_key(HEADER) {
                return Ok(());
            }
            if let Some(trace_id) = super::current() {
                let value = utf8_percent_encode(&trace_id, CONTROLS).to_string();
                request.headers_mut().try_insert(HEADER, value)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn current_is_the_scoped_trace_id_and_nothing_outside() {
        assert_eq!(current(), None);
        let inside = block_on(scope(Some("Root=1-a;Sampled=1".into()), async {
            tokio::task::yield_now().await;
            current()
        }));
        assert_eq!(inside.as_deref(), Some("Root=1-a;Sampled=1"));
        assert_eq!(block_on(scope(None, async { current() })), None);
        assert_eq!(current(), None);
    }
}
