//! A warm function does not grow per invocation.
//!
//! The real `health` binary (no store, so any growth is the runtime or
//! `shared`) serves thousands of invocations from the Runtime API emulator,
//! which, like Lambda, sends a new trace header with each. Its RssAnon
//! (heap and stacks; code pages are RssFile) is sampled as it goes, and the
//! growth per invocation over the second half, once warm, must stay under
//! `MAX_BYTES_PER_INVOCATION`. lambda_runtime 1.5.0
//! as published grows ~150 bytes per invocation (it sets `_X_AMZN_TRACE_ID`
//! in the environment each time, and glibc never frees a replaced value);
//! `vendor/README.md` has the patch this test guards.
//!
//! Setting: `MEMORY_INVOCATIONS` (default 6,000).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use testkit::{Emulator, Function, Shape};

/// Client threads sending invocations at once.
const CLIENTS: u64 = 4;
const MAX_BYTES_PER_INVOCATION: f64 = 24.0;

fn invocations() -> u64 {
    std::env::var("MEMORY_INVOCATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6_000)
}

/// Least-squares slope of `ys` over `xs`.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
    let cov: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let var: f64 = points.iter().map(|(x, _)| (x - mx) * (x - mx)).sum();
    cov / var
}

#[test]
fn rss_anon_stays_flat_over_thousands_of_invocations() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let health = Function::start(
        &emulator,
        "health",
        env!("CARGO_BIN_EXE_health"),
        &[("AWS_LAMBDA_LOG_LEVEL", "error")],
    );
    let events = [
        Shape::RestV1.event("GET", "/ping", None),
        Shape::HttpV2.event("GET", "/ping", None),
        Shape::RestV1.event("GET", "/nowhere", None),
        Shape::HttpV2.event("POST", "/ping", Some("{}")),
    ];
    let total = invocations().max(1_000);
    let done = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    // (invocations done, RssAnon in bytes), every 50 ms and at the end.
    let samples = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = Vec::new();
            loop {
                let last = finished.load(Ordering::SeqCst);
                let anon = health
                    .status_kib("RssAnon")
                    .expect("the function is running");
                samples.push((done.load(Ordering::SeqCst) as f64, anon as f64 * 1024.0));
                if last {
                    return samples;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        // Several clients keep the emulator's queue full: the function
        // itself serves one invocation at a time, as on Lambda.
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let (emulator, events, done) = (&emulator, &events, &done);
                scope.spawn(move || {
                    for i in (client..total).step_by(CLIENTS as usize) {
                        if i % 50 == 49 {
                            // Not an HTTP event: never reaches the router.
                            let invocation = emulator.invoke_raw("health", r#"{"Records":[]}"#);
                            assert_ne!(invocation.status, 200, "{}", invocation.body);
                        } else {
                            let event = &events[(i % events.len() as u64) as usize];
                            let status = emulator.request("health", event).status;
                            assert!([200, 404, 405].contains(&status), "status {status}");
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().expect("client thread");
        }
        finished.store(true, Ordering::SeqCst);
        sampler.join().expect("sampler thread")
    });
    let second_half: Vec<(f64, f64)> = samples
        .iter()
        .copied()
        .filter(|(at, _)| *at >= (total / 2) as f64)
        .collect();
    assert!(second_half.len() >= 8, "too few samples: {samples:?}");
    let growth = slope(&second_half);
    let kib: Vec<(u64, u64)> = samples
        .iter()
        .step_by((samples.len() / 20).max(1))
        .map(|(at, bytes)| (*at as u64, (*bytes / 1024.0) as u64))
        .collect();
    eprintln!("memory: (invocations, RssAnon KiB): {kib:?}");
    eprintln!("memory: {growth:.1} bytes per invocation over the second half");
    assert!(
        growth <= MAX_BYTES_PER_INVOCATION,
        "RssAnon grows {growth:.1} bytes per invocation (at most {MAX_BYTES_PER_INVOCATION}): {kib:?}"
    );
}
