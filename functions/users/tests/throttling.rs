//! Black-box: DynamoDB throttling inside a transaction is transient. The
//! real `users` binary, through the Runtime API emulator, on moto behind a
//! fault-injecting proxy that answers `TransactWriteItems` with the errors
//! real DynamoDB sends under load (moto never does):
//! - a few faults, then success: the write goes through (retried with
//!   back-off), for every kind of fault and every write;
//! - faults that never stop: a logged `503` with `Retry-After`, nothing
//!   half-written, and the process keeps serving.

use serde_json::{Value, json};
use testkit::dynamo::{Moto, TEST_ENV};
use testkit::fault_proxy::{Answer, FaultProxy, Rule, TRANSACT_WRITE_ITEMS};
use testkit::{Emulator, Function, HttpReply, Shape};

const BIN: &str = env!("CARGO_BIN_EXE_users");
const USERS: &str = "/api/v1/users";
/// Faults in a row: more than the SDK's own 3 attempts, so its retries
/// alone cannot ride them out.
const FLAKY: usize = 4;

/// Each fault DynamoDB answers a transaction with when it is throttled.
fn faults() -> [(&'static str, Answer); 3] {
    [
        (
            "ThrottlingError",
            Answer::transaction_canceled(&["None", "ThrottlingError"]),
        ),
        (
            "ProvisionedThroughputExceeded",
            Answer::transaction_canceled(&["ProvisionedThroughputExceeded", "None"]),
        ),
        (
            "TransactionInProgressException",
            Answer::transaction_in_progress(),
        ),
    ]
}

struct Api<'e> {
    emulator: &'e Emulator,
}

impl Api<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> HttpReply {
        let body = body.map(|b| b.to_string());
        self.emulator
            .request("users", &Shape::HttpV2.event(method, path, body.as_deref()))
    }

    fn create(&self, email: &str) -> HttpReply {
        self.call("POST", USERS, Some(json!({"name": "Ada", "email": email})))
    }

    fn get(&self, id: &str) -> HttpReply {
        self.call("GET", &format!("{USERS}/{id}"), None)
    }

    fn emails(&self) -> Vec<String> {
        let reply = self.call("GET", &format!("{USERS}?limit=100"), None);
        assert_eq!(reply.status, 200, "list: {}", reply.text());
        reply.json()["users"]
            .as_array()
            .expect("users")
            .iter()
            .map(|u| u["email"].as_str().expect("email").to_owned())
            .collect()
    }
}

/// A write, and the status it answers with when it goes through.
#[derive(Debug, Clone, Copy)]
enum Write {
    Create,
    Update,
    Delete,
}

impl Write {
    const ALL: [Self; 3] = [Self::Create, Self::Update, Self::Delete];

    /// Runs the write on a fresh user (created before any fault is set up
    /// when the write needs one) and checks what it stored.
    fn run(self, api: &Api<'_>, proxy: &FaultProxy, answer: &Answer, tag: &str) -> HttpReply {
        let email = format!("{tag}-{self:?}@throttle.example").to_lowercase();
        let existing = match self {
            Self::Create => None,
            Self::Update | Self::Delete => {
                let reply = api.create(&email);
                assert_eq!(reply.status, 201, "{}", reply.text());
                Some(reply.json()["id"].as_str().expect("id").to_owned())
            }
        };
        proxy.add(Rule::first(FLAKY, TRANSACT_WRITE_ITEMS, answer.clone()));
        let path = |id: &Option<String>| format!("{USERS}/{}", id.as_deref().unwrap_or(""));
        match self {
            Self::Create => api.create(&email),
            Self::Update => api.call(
                "PUT",
                &path(&existing),
                Some(json!({"name": "Ada", "email": format!("new.{email}")})),
            ),
            Self::Delete => api.call("DELETE", &path(&existing), None),
        }
    }

    fn success(self) -> u16 {
        match self {
            Self::Create => 201,
            Self::Update => 200,
            Self::Delete => 204,
        }
    }
}

fn start(emulator: &Emulator, endpoint: &str, table: &str, log: &std::path::Path) -> Function {
    let mut env = vec![("USERS_TABLE", table), ("DYNAMODB_ENDPOINT", endpoint)];
    env.extend_from_slice(TEST_ENV);
    Function::start_logging(emulator, "users", BIN, &env, log)
}

#[test]
fn throttled_transactions_are_retried_then_a_503_with_retry_after() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    let table = "users-throttling";
    testkit::block_on(moto.create_users_table(table));
    let proxy = FaultProxy::start(&moto.endpoint());
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("users.log");
    let mut function = start(&emulator, &proxy.endpoint(), table, &log);
    let api = Api {
        emulator: &emulator,
    };

    // A few faults in a row, then DynamoDB takes the transaction.
    for (tag, answer) in faults() {
        for write in Write::ALL {
            let before = proxy.seen(TRANSACT_WRITE_ITEMS);
            let faults_before = proxy.faults();
            let reply = write.run(&api, &proxy, &answer, tag);
            assert_eq!(
                reply.status,
                write.success(),
                "{tag} {write:?}: retried until it goes through: {}",
                reply.text()
            );
            assert_eq!(proxy.faults() - faults_before, FLAKY, "{tag} {write:?}");
            assert!(
                proxy.seen(TRANSACT_WRITE_ITEMS) - before > FLAKY,
                "{tag} {write:?}: sent again after every fault"
            );
            proxy.clear();
            match write {
                Write::Create => {
                    let id = reply.json()["id"].as_str().expect("id").to_owned();
                    assert_eq!(api.get(&id).status, 200, "{tag}: stored");
                }
                Write::Update => {
                    let id = reply.json()["id"].as_str().expect("id").to_owned();
                    let stored = api.get(&id).json();
                    assert!(
                        stored["email"]
                            .as_str()
                            .is_some_and(|e| e.starts_with("new.")),
                        "{tag}: updated: {stored}"
                    );
                }
                Write::Delete => {}
            }
        }
    }
    let emails = api.emails();

    // Throttled for good: a 503 that says when to come back, and a log line.
    for (tag, answer) in faults() {
        proxy.add(Rule::always(TRANSACT_WRITE_ITEMS, answer));
        let email = format!("never-{tag}@throttle.example").to_lowercase();
        let reply = api.create(&email);
        proxy.clear();
        assert_eq!(reply.status, 503, "{tag}: {}", reply.text());
        assert_eq!(
            reply.json(),
            json!({"message": "service temporarily unavailable; retry later"}),
            "{tag}"
        );
        assert_eq!(reply.header("retry-after"), Some("1"), "{tag}");
        assert!(!api.emails().contains(&email), "{tag}: nothing stored");
    }
    assert!(function.is_running(), "a 503 never ends the process");
    assert_eq!(api.emails(), emails, "the refused writes changed nothing");
    let reply = api.create("after@throttle.example");
    assert_eq!(reply.status, 201, "serves again: {}", reply.text());

    let log = std::fs::read_to_string(&log).expect("function log");
    for (tag, _) in faults() {
        assert!(
            log.lines().any(|line| line.contains("ERROR")
                && line.contains("dependency unavailable")
                && line.contains(tag)),
            "an ERROR line naming {tag}:\n{log}"
        );
    }
    assert!(
        log.contains("dynamodb transaction throttled; retrying"),
        "each retry is logged:\n{log}"
    );
}
