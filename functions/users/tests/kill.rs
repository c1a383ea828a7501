//! Killing the function process mid-request, what Lambda does on a
//! timeout, never leaves half a user behind, on SQLite and on DynamoDB
//! (moto's server).
//!
//! Client threads keep creating, replacing and deleting their own users
//! through the Runtime API emulator while the function processes are
//! SIGKILLed at random moments and restarted (bounded rounds). A request cut
//! off that way has an unknown outcome; the test tracks every state each
//! user may be in. At the end, on fresh processes:
//! - every listed user is complete, and is in a state its requests allow;
//! - every acknowledged user is there, unchanged since its last answer;
//! - every email is claimed exactly when a user has it: a create with a
//!   listed email is a 409, with any other email ever used a 201 (no claim
//!   left behind by a cut-off write);
//! - SQLite: `PRAGMA integrity_check` is `ok`; DynamoDB: every EMAIL item
//!   points at a USER item with that email, and every USER item has its
//!   EMAIL item.
//!
//! Settings: `KILL_ROUNDS` (default 6), `KILL_SEED` (default 7).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use testkit::dynamo::Moto;
use testkit::users::{Store, start_users};
use testkit::{Emulator, Function, HttpReply, Shape, block_on};

mod common;
use common::{Rng, USERS, list_all, setting};

const BIN: &str = env!("CARGO_BIN_EXE_users");
/// Function processes serving at once.
const PROCESSES: usize = 2;
/// Client threads per round.
const CLIENTS: u64 = 4;
/// How long a round lasts; kills happen inside it.
const ROUND: Duration = Duration::from_millis(1_500);
/// A request cut off by a kill is given up after this long.
const CUT_OFF: Duration = Duration::from_secs(4);

/// One invocation with a deadline: `None` when it is cut off (the function
/// died with the request, or the answer did not come in time).
fn invoke(emulator: &Emulator, event: &Value) -> Option<HttpReply> {
    emulator.try_request("users", event, CUT_OFF)
}

/// A user's stored state: `None` = no such user, else (name, email).
type State = Option<(String, String)>;

/// What a client knows about one of its users.
#[derive(Debug, Clone)]
struct Known {
    /// Every state the user may be in, given the answers so far.
    possible: Vec<State>,
    /// The full user from the last acknowledged write (for created_at).
    last: Option<Value>,
}

#[derive(Default)]
struct Ledger {
    /// Users with a known id.
    by_id: BTreeMap<String, Known>,
    /// Creates cut off before an answer: (name, email); the id is unknown.
    unknown_creates: Vec<(String, String)>,
    /// Every email any request tried to use.
    emails: HashSet<String>,
    acknowledged: u64,
    cut_off: u64,
    failures: Vec<String>,
}

struct Client<'e> {
    emulator: &'e Emulator,
    thread: u64,
    serial: u64,
    rng: Rng,
    ledger: Ledger,
}

impl Client<'_> {
    fn fresh(&mut self) -> (String, String) {
        self.serial += 1;
        let (t, n) = (self.thread, self.serial);
        let email = format!("kill-{t}-{n}@example.com");
        self.ledger.emails.insert(email.clone());
        (format!("Kill {t}-{n}"), email)
    }

    fn fail(&mut self, message: String) {
        self.ledger.failures.push(message);
    }

    fn step(&mut self) {
        let shape = self.rng.shape();
        let ids: Vec<String> = self
            .ledger
            .by_id
            .iter()
            .filter(|(_, k)| k.possible.iter().any(Option::is_some))
            .map(|(id, _)| id.clone())
            .collect();
        let roll = self.rng.below(100);
        if ids.is_empty() || roll < 60 {
            return self.create(shape);
        }
        let id = ids[usize::try_from(self.rng.below(ids.len() as u64)).unwrap_or(0)].clone();
        if roll < 85 {
            self.replace(shape, &id);
        } else {
            self.delete(shape, &id);
        }
    }

    fn create(&mut self, shape: Shape) {
        let (name, email) = self.fresh();
        let body = json!({"name": name, "email": email}).to_string();
        match invoke(self.emulator, &shape.event("POST", USERS, Some(&body))) {
            Some(reply) if reply.status == 201 => {
                let user = reply.json();
                let id = user["id"].as_str().unwrap_or_default().to_owned();
                self.ledger.acknowledged += 1;
                self.ledger.by_id.insert(
                    id,
                    Known {
                        possible: vec![Some((name, email))],
                        last: Some(user),
                    },
                );
            }
            Some(reply) if reply.status == 503 => {
                self.ledger.unknown_creates.push((name, email));
            }
            Some(reply) => self.fail(format!(
                "create {email}: {} {} (a fresh email is never taken)",
                reply.status,
                reply.text()
            )),
            None => {
                self.ledger.cut_off += 1;
                self.ledger.unknown_creates.push((name, email));
            }
        }
    }

    fn replace(&mut self, shape: Shape, id: &str) {
        let (name, email) = self.fresh();
        let body = json!({"name": name, "email": email}).to_string();
        let reply = invoke(
            self.emulator,
            &shape.event("PUT", &format!("{USERS}/{id}"), Some(&body)),
        );
        let known = self.ledger.by_id.get_mut(id).expect("a tracked id");
        let new_state = Some((name, email));
        match reply {
            Some(reply) if reply.status == 200 => {
                known.possible = vec![new_state];
                known.last = Some(reply.json());
                self.ledger.acknowledged += 1;
            }
            Some(reply) if reply.status == 404 => known.possible = vec![None],
            Some(reply) if reply.status == 503 => known.possible.push(new_state),
            Some(reply) => {
                let message = format!("replace {id}: {} {}", reply.status, reply.text());
                self.fail(message);
            }
            None => {
                self.ledger.cut_off += 1;
                known.possible.push(new_state);
            }
        }
    }

    fn delete(&mut self, shape: Shape, id: &str) {
        let reply = invoke(
            self.emulator,
            &shape.event("DELETE", &format!("{USERS}/{id}"), None),
        );
        let known = self.ledger.by_id.get_mut(id).expect("a tracked id");
        match reply {
            Some(reply) if reply.status == 204 || reply.status == 404 => {
                known.possible = vec![None];
                self.ledger.acknowledged += u64::from(reply.status == 204);
            }
            Some(reply) if reply.status == 503 => known.possible.push(None),
            Some(reply) => {
                let message = format!("delete {id}: {} {}", reply.status, reply.text());
                self.fail(message);
            }
            None => {
                self.ledger.cut_off += 1;
                known.possible.push(None);
            }
        }
    }
}

/// Runs the rounds: clients write while processes are killed and restarted.
fn rounds(emulator: &Emulator, store: Store<'_>, rounds: u64, seed: u64) -> Ledger {
    let processes: Vec<Mutex<Function>> = (0..PROCESSES)
        .map(|_| Mutex::new(start_users(emulator, BIN, store, &[])))
        .collect();
    let mut clients: Vec<Client> = (0..CLIENTS)
        .map(|thread| Client {
            emulator,
            thread,
            serial: 0,
            rng: Rng::new(seed * 100 + thread),
            ledger: Ledger::default(),
        })
        .collect();
    let mut killer = Rng::new(seed);
    let mut kills = 0;
    for _ in 0..rounds {
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for client in &mut clients {
                let stop = &stop;
                scope.spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        client.step();
                    }
                });
            }
            // Two kills per round, at random moments, each followed by a
            // restart (Lambda starts a new execution environment).
            let started = Instant::now();
            for _ in 0..2 {
                std::thread::sleep(Duration::from_millis(100 + killer.below(600)));
                let victim = usize::try_from(killer.below(PROCESSES as u64)).unwrap_or(0);
                let mut process = processes[victim].lock().expect("process");
                process.kill();
                *process = start_users(emulator, BIN, store, &[]);
                kills += 1;
            }
            std::thread::sleep(ROUND.saturating_sub(started.elapsed()));
            stop.store(true, Ordering::SeqCst);
        });
    }
    eprintln!("kill: {rounds} rounds, {kills} kills");
    drop(processes);
    let mut ledger = Ledger::default();
    for client in clients {
        let part = client.ledger;
        ledger.by_id.extend(part.by_id);
        ledger.unknown_creates.extend(part.unknown_creates);
        ledger.emails.extend(part.emails);
        ledger.acknowledged += part.acknowledged;
        ledger.cut_off += part.cut_off;
        ledger.failures.extend(part.failures);
    }
    ledger
}

/// The checks on fresh processes; returns the listed users.
fn verify(emulator: &Emulator, store: Store<'_>, ledger: &Ledger) -> Vec<Value> {
    assert!(
        ledger.failures.is_empty(),
        "unexpected answers: {:#?}",
        ledger.failures
    );
    let _fresh: Vec<Function> = (0..PROCESSES)
        .map(|_| start_users(emulator, BIN, store, &[]))
        .collect();
    let users = list_all(emulator);
    let mut seen_ids = HashSet::new();
    let mut unknown: Vec<(String, String)> = ledger.unknown_creates.clone();
    let mut listed_emails = HashSet::new();
    let mut committed_unanswered = 0;
    for user in &users {
        let field = |name: &str| user[name].as_str().unwrap_or_default().to_owned();
        for name in ["id", "name", "email", "created_at"] {
            assert!(!field(name).is_empty(), "incomplete user: {user}");
        }
        let (id, name, email) = (field("id"), field("name"), field("email"));
        assert!(seen_ids.insert(id.clone()), "listed twice: {user}");
        assert!(
            listed_emails.insert(email.to_lowercase()),
            "two users share {email}"
        );
        let state = Some((name.clone(), email.clone()));
        if let Some(known) = ledger.by_id.get(&id) {
            assert!(
                known.possible.contains(&state),
                "{user} is not a state its requests allow: {:?}",
                known.possible
            );
            if known.possible.len() == 1
                && let Some(last) = &known.last
            {
                assert_eq!(user, last, "an acknowledged user changed");
            }
        } else {
            // A create whose answer was cut off, that did commit.
            committed_unanswered += 1;
            let index = unknown
                .iter()
                .position(|(n, e)| *n == name && *e == email)
                .unwrap_or_else(|| panic!("a user no request made: {user}"));
            unknown.swap_remove(index);
        }
        let reply = invoke(
            emulator,
            &Shape::RestV1.event("GET", &format!("{USERS}/{id}"), None),
        )
        .expect("read answers");
        assert_eq!((reply.status, &reply.json()), (200, user), "readable");
    }
    for (id, known) in &ledger.by_id {
        if !known.possible.contains(&None) {
            assert!(seen_ids.contains(id), "acknowledged user {id} is missing");
        }
    }
    // Email claims: taken exactly when a listed user has the email.
    for email in &ledger.emails {
        let body = json!({"name": "Claim check", "email": email.to_uppercase()}).to_string();
        let reply = invoke(emulator, &Shape::HttpV2.event("POST", USERS, Some(&body)))
            .expect("create answers");
        let expected = if listed_emails.contains(email) {
            409
        } else {
            201
        };
        assert_eq!(
            reply.status,
            expected,
            "{email}: a claim {} a user: {}",
            if expected == 409 {
                "missing for"
            } else {
                "left behind without"
            },
            reply.text()
        );
        if expected == 201 {
            let id = reply.json()["id"].as_str().unwrap_or_default().to_owned();
            let deleted = invoke(
                emulator,
                &Shape::HttpV2.event("DELETE", &format!("{USERS}/{id}"), None),
            )
            .expect("delete answers");
            assert_eq!(deleted.status, 204);
        }
    }
    eprintln!(
        "kill: {} acknowledged writes, {} cut off ({} creates among them committed), \
         {} users at the end, {} emails checked",
        ledger.acknowledged,
        ledger.cut_off,
        committed_unanswered,
        users.len(),
        ledger.emails.len()
    );
    assert!(ledger.acknowledged > 0, "the rounds wrote nothing");
    users
}

#[test]
fn sqlite_keeps_whole_users_when_the_process_is_killed_mid_request() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.sqlite3");
    let store = Store::Sqlite(&db);
    let ledger = rounds(
        &emulator,
        store,
        setting("KILL_ROUNDS", 6),
        setting("KILL_SEED", 7),
    );
    let users = verify(&emulator, store, &ledger);

    let connection = rusqlite::Connection::open(&db).expect("open the database");
    let integrity: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
    let rows: i64 = connection
        .query_row("SELECT count(*) FROM users", [], |row| row.get(0))
        .expect("count");
    assert_eq!(
        usize::try_from(rows).ok(),
        Some(users.len()),
        "rows vs listed"
    );
}

type Item = HashMap<String, AttributeValue>;

async fn scan(moto: &Moto, table: &str) -> Vec<Item> {
    let client = moto.client();
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("scan");
        items.extend(page.items().iter().cloned());
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return items,
        }
    }
}

fn text(item: &Item, name: &str) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

#[test]
fn dynamodb_keeps_whole_users_and_claims_when_the_process_is_killed_mid_request() {
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let Some(moto) = Moto::start() else {
        return;
    };
    let table = "users-kill";
    block_on(moto.create_users_table(table));
    let store = Store::Dynamo { moto: &moto, table };
    let ledger = rounds(
        &emulator,
        store,
        setting("KILL_ROUNDS", 6),
        setting("KILL_SEED", 7),
    );
    let users = verify(&emulator, store, &ledger);

    let items = block_on(scan(&moto, table));
    let user_items: HashMap<String, &Item> = items
        .iter()
        .filter(|i| text(i, "pk") == "USER")
        .map(|i| (text(i, "sk"), i))
        .collect();
    let claims: HashMap<String, String> = items
        .iter()
        .filter(|i| text(i, "pk") == "EMAIL")
        .map(|i| (text(i, "sk"), text(i, "user_id")))
        .collect();
    assert_eq!(
        items.len(),
        user_items.len() + claims.len(),
        "only USER and EMAIL items"
    );
    assert_eq!(user_items.len(), users.len(), "USER items vs listed users");
    for (key, user_id) in &claims {
        let user = user_items
            .get(user_id)
            .unwrap_or_else(|| panic!("claim {key} points at a missing user {user_id}"));
        assert_eq!(&text(user, "email_key"), key, "claim {key} vs its user");
        assert_eq!(text(user, "email").to_lowercase(), *key);
    }
    for (id, user) in &user_items {
        for field in ["name", "email", "email_key", "created_at"] {
            assert!(!text(user, field).is_empty(), "user {id} without {field}");
        }
        let key = text(user, "email_key");
        assert_eq!(
            claims.get(&key),
            Some(id),
            "user {id} without its claim {key}"
        );
    }
}
