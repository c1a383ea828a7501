//! Black-box: every request runs under its invocation's deadline. The real
//! `users` binary on moto behind the fault-injecting proxy, driven through
//! testkit's Runtime API, which gives each invocation a short deadline as
//! Lambda does (cargo-lambda's emulator sends a fixed one). A store that
//! answers slowly, or keeps throttling, gets a logged `503` with
//! `Retry-After` before Lambda's deadline, nothing keeps calling the store
//! after it, and the process serves the next request.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::dynamo::{Moto, TEST_ENV};
use testkit::fault_proxy::{Answer, FaultProxy, GET_ITEM, Rule, TRANSACT_WRITE_ITEMS};
use testkit::{Function, HttpReply, RuntimeApi, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_users");
const USERS: &str = "/api/v1/users";
/// The time each slow invocation has, as Lambda would give a function
/// with a 1.5 s timeout; `shared` keeps a tenth of it (150 ms) as margin.
const TIME_LEFT: Duration = Duration::from_millis(1_500);
/// Longer than the SDK's 2 s per attempt: without the deadline the SDK
/// would time the attempt out and send it again.
const SLOW: Duration = Duration::from_secs(5);

struct Api<'a> {
    runtime: &'a RuntimeApi,
}

impl Api<'_> {
    /// One request with `time_left` before Lambda's deadline; the reply and
    /// how long it took.
    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        time_left: Duration,
    ) -> (HttpReply, Duration) {
        let body = body.map(|b| b.to_string());
        let event = Shape::HttpV2.event(method, path, body.as_deref());
        let started = Instant::now();
        let invocation = self
            .runtime
            .invoke(&event.to_string(), time_left, Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{method} {path}: no answer"));
        let took = started.elapsed();
        assert_eq!(
            invocation.status, 200,
            "never a Lambda error: {}",
            invocation.body
        );
        (HttpReply::from_lambda(&invocation.body), took)
    }

    /// A request with all the time it needs.
    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> HttpReply {
        self.call(method, path, body, Duration::from_secs(30)).0
    }
}

/// The answer of a request that ran out of time.
fn assert_deadline_503(what: &str, reply: &HttpReply, took: Duration, time_left: Duration) {
    assert_eq!(reply.status, 503, "{what}: {}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"message": "service temporarily unavailable; retry later"}),
        "{what}"
    );
    assert_eq!(reply.header("retry-after"), Some("1"), "{what}");
    assert!(
        took < time_left,
        "{what}: answered before Lambda's deadline ({took:?} of {time_left:?})"
    );
}

#[test]
fn a_slow_store_is_a_503_before_the_deadline_and_the_next_request_is_served() {
    let Some(moto) = Moto::start() else { return };
    let table = "users-deadline";
    testkit::block_on(moto.create_users_table(table));
    let proxy = FaultProxy::start(&moto.endpoint());
    let runtime = RuntimeApi::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("users.log");
    let endpoint = proxy.endpoint();
    let mut env = vec![("USERS_TABLE", table), ("DYNAMODB_ENDPOINT", &endpoint)];
    env.extend_from_slice(TEST_ENV);
    let mut function = Function::start_logging_at(&runtime.address(), "users", BIN, &env, &log);
    let api = Api { runtime: &runtime };

    let created = api.ok(
        "POST",
        USERS,
        Some(json!({"name": "Ada", "email": "ada@deadline.example"})),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let user = format!("{USERS}/{id}");

    // A read that does not come back in time.
    proxy.add(Rule::always(GET_ITEM, Answer::Slow(SLOW)));
    let reads = proxy.seen(GET_ITEM);
    let (reply, took) = api.call("GET", &user, None, TIME_LEFT);
    assert_deadline_503("slow GetItem", &reply, took, TIME_LEFT);
    assert!(
        took >= TIME_LEFT - Duration::from_millis(300),
        "the handler had the time less the margin: {took:?}"
    );
    // Past the SDK's 2 s attempt timeout: the call was dropped with the
    // handler, so it was never sent again.
    std::thread::sleep(Duration::from_millis(2_500).saturating_sub(took));
    assert_eq!(
        proxy.seen(GET_ITEM) - reads,
        1,
        "no retry outlives the deadline"
    );
    proxy.clear();

    // A write whose transaction does not come back in time.
    proxy.add(Rule::always(TRANSACT_WRITE_ITEMS, Answer::Slow(SLOW)));
    let (reply, took) = api.call(
        "PUT",
        &user,
        Some(json!({"name": "Ada", "email": "new.ada@deadline.example"})),
        TIME_LEFT,
    );
    assert_deadline_503("slow TransactWriteItems", &reply, took, TIME_LEFT);
    proxy.clear();

    // A transaction throttled for good, with less time than the store's
    // 2 s retry budget: the back-off stops at the deadline.
    proxy.add(Rule::always(
        TRANSACT_WRITE_ITEMS,
        Answer::transaction_canceled(&["None", "ThrottlingError"]),
    ));
    let short = Duration::from_secs(1);
    let (reply, took) = api.call(
        "POST",
        USERS,
        Some(json!({"name": "Bo", "email": "bo@deadline.example"})),
        short,
    );
    assert_deadline_503("throttled", &reply, took, short);
    let sent = proxy.seen(TRANSACT_WRITE_ITEMS);
    std::thread::sleep(Duration::from_millis(1_000));
    assert_eq!(
        proxy.seen(TRANSACT_WRITE_ITEMS),
        sent,
        "no retry after the answer"
    );
    proxy.clear();

    // The process is alive and serves the next requests, within their time.
    assert!(function.is_running(), "a 503 never ends the process");
    let (reply, took) = api.call("GET", &user, None, TIME_LEFT);
    // (The cut-off PUT's outcome is unknown, as after any timeout: the
    // proxy still forwards its transaction once the delay is over.)
    assert_eq!(reply.status, 200, "served again: {}", reply.text());
    assert!(took < TIME_LEFT, "{took:?}");
    let reply = api.ok(
        "POST",
        USERS,
        Some(json!({"name": "Bo", "email": "bo@deadline.example"})),
    );
    assert_eq!(
        reply.status,
        201,
        "the throttled create stored nothing: {}",
        reply.text()
    );

    let log = std::fs::read_to_string(&log).expect("function log");
    let deadline_lines = log
        .lines()
        .filter(|line| line.contains("ERROR") && line.contains("request deadline reached"))
        .count();
    assert!(
        deadline_lines >= 2,
        "an ERROR line per cut-off request:\n{log}"
    );
    // The throttled create stops either because the store does not start a
    // back-off that would end past the deadline (almost always), or, when
    // the deadline falls in the middle of an attempt, at the deadline.
    let store_stopped = log.lines().any(|line| {
        line.contains("ERROR")
            && line.contains("dependency unavailable")
            && line.contains("the request deadline is nearer than the next back-off")
    });
    assert!(
        store_stopped || deadline_lines >= 3,
        "the throttled request logged why it stopped:\n{log}"
    );
    assert!(
        log.lines()
            .any(|line| line.contains("status=503") || line.contains("\"status\":503")),
        "the request line records the 503:\n{log}"
    );
}
