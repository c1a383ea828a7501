//! Tracing set-up: one `init` for every function.

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the global subscriber, once; later calls do nothing.
///
/// The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging
/// controls), then `RUST_LOG`, then INFO. `RUST_LOG` takes a level and
/// `target=level` directives (`warn,users=debug`), as a
/// [`Targets`] filter parses them; span and field filters, which need
/// `EnvFilter` and the regex engine it links into every binary, are not
/// supported, and a value with one is ignored. `AWS_LAMBDA_LOG_FORMAT=JSON` writes
/// one JSON object per line, which CloudWatch Logs Insights can query; the
/// fields of the invocation's span (lambda_runtime's: `requestId`,
/// `xrayTraceId`) are under `span` on each line. Lines go to stdout, where
/// the request line with its metrics goes too ([`crate::metrics`]), so they
/// reach CloudWatch in the order they were written.
/// Panics are logged through tracing too, on one line with their location.
pub fn init() {
    let filter = filter_from(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok(),
        std::env::var("RUST_LOG").ok(),
    );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let installed = subscriber(filter, json).try_init();
    if installed.is_ok() {
        std::panic::set_hook(Box::new(|info| {
            // The message on the event's own line, as every field is: a
            // panic's `Display` ("panicked at …:\n<message>") would split it,
            // and the text format's second line would name no request.
            let message = info
                .payload_as_str()
                .unwrap_or("(a non-string payload)")
                .replace('\n', "\\n");
            match info.location() {
                Some(location) => tracing::error!(panic = message.as_str(), %location, "panic"),
                None => tracing::error!(panic = message.as_str(), "panic"),
            }
        }));
    }
}

/// The subscriber [`init`] installs: `filter` alone decides what is
/// written (the fmt subscriber's own level, INFO unless told, is lifted).
fn subscriber(filter: Targets, json: bool) -> Box<dyn Subscriber + Send + Sync> {
    let builder = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_writer(std::io::stdout)
        .with_ansi(false)
        .with_target(false);
    if json {
        Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_span_list(false)
                .finish()
                .with(filter),
        )
    } else {
        Box::new(builder.finish().with(filter))
    }
}

fn filter_from(lambda_level: Option<String>, rust_log: Option<String>) -> Targets {
    lambda_level
        .and_then(|level| {
            // Lambda's levels: TRACE, DEBUG, INFO, WARN, ERROR, FATAL.
            let level = if level.eq_ignore_ascii_case("fatal") {
                "error"
            } else {
                level.as_str()
            };
            level.parse::<tracing::Level>().ok()
        })
        .map(|level| Targets::new().with_default(level))
        .or_else(|| {
            rust_log
                // `Targets` would take `[span]` for a target name.
                .filter(|value| !value.contains(['[', '{']))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the filter lets through is what gets written, in both formats:
    /// the fmt subscriber's own default (INFO) must not cut DEBUG.
    #[test]
    fn the_filter_alone_decides() {
        use tracing::Level;
        let cases = [
            ("debug", Level::DEBUG, true),
            ("debug", Level::TRACE, false),
            ("trace", Level::TRACE, true),
            ("warn", Level::INFO, false),
            ("warn", Level::WARN, true),
        ];
        for json in [false, true] {
            for (directives, level, enabled) in cases {
                let filter = filter_from(None, Some(directives.into()));
                tracing::subscriber::with_default(subscriber(filter, json), || {
                    let got = match level {
                        Level::TRACE => tracing::enabled!(Level::TRACE),
                        Level::DEBUG => tracing::enabled!(Level::DEBUG),
                        Level::INFO => tracing::enabled!(Level::INFO),
                        Level::WARN => tracing::enabled!(Level::WARN),
                        _ => tracing::enabled!(Level::ERROR),
                    };
                    assert_eq!(got, enabled, "{directives} {level} json={json}");
                });
            }
        }
    }

    #[test]
    fn level_precedence() {
        let cases = [
            (Some("DEBUG"), Some("warn"), "debug"),
            (None, Some("warn"), "warn"),
            (None, None, "info"),
            (Some("not a level!!"), Some("error"), "error"),
            (Some("FATAL"), None, "error"),
            (Some("warn"), None, "warn"),
            (None, Some("warn,users=debug"), "users=debug,warn"),
            // A span filter needs EnvFilter: ignored, not half-applied.
            (None, Some("info,[request]=trace"), "info"),
            (None, Some("users[request{id=1}]=debug"), "info"),
            (None, Some("users=loud"), "info"),
        ];
        for (lambda, rust_log, expected) in cases {
            let filter = filter_from(lambda.map(Into::into), rust_log.map(Into::into));
            assert_eq!(filter.to_string(), expected, "{lambda:?} {rust_log:?}");
        }
    }
}
