//! Soak: many invocations of the real `users` binary (SQLite store) through
//! the Lambda Runtime API emulator, good and hostile events mixed, from
//! several client threads against several function processes sharing one
//! database file (as Lambda scales out).
//!
//! Checked: every answer has the status its request implies (no crash, no
//! 5xx besides the documented 503, counted); the function processes stay
//! alive with flat memory (VmRSS sampled, bounded; RssAnon growth per
//! invocation reported); at the end every acknowledged
//! user is stored, readable and unchanged, and nothing else is stored.
//!
//! Bounded and loopback only. `cargo test` runs 5,000 invocations (about
//! 20 s); the long run:
//!
//! ```sh
//! SOAK_INVOCATIONS=100000 cargo test --release -p users --test soak -- --nocapture
//! ```
//!
//! Settings (environment): `SOAK_INVOCATIONS` (default 5,000),
//! `SOAK_THREADS` (client threads, default 4), `SOAK_PROCESSES` (function
//! processes, default 2), `SOAK_SEED` (default 1), `SOAK_REPORT` (a file to
//! write the result to, as JSON).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use testkit::users::{Store, start_users};
use testkit::{Emulator, Function, HttpReply, Shape};

mod common;
use common::{Rng, USERS, list_all, setting};

const BIN: &str = env!("CARGO_BIN_EXE_users");

/// A hostile invocation and what it must be answered with.
struct Hostile {
    label: &'static str,
    payload: String,
    /// HTTP status, or `None` for a Lambda error (invoke status 500).
    status: Option<u16>,
}

fn hostile_events() -> Vec<Hostile> {
    let json_type: &[(&str, &str)] = &[("content-type", "application/json")];
    let post = |shape: Shape, body: &str| shape.event_with("POST", USERS, json_type, Some(body));
    let mut list = Vec::new();
    for shape in Shape::ALL {
        let mut bad_base64 = post(shape, "%%% not base64");
        bad_base64["isBase64Encoded"] = json!(true);
        let mut non_utf8 = post(
            shape,
            &base64::engine::general_purpose::STANDARD.encode(b"{\"name\":\"\xff\"}"),
        );
        non_utf8["isBase64Encoded"] = json!(true);
        let mut many_headers = shape.event("GET", USERS, None);
        many_headers["headers"] = Value::Object(
            (0..1_500)
                .map(|n| (format!("x-h{n}"), json!("v")))
                .collect(),
        );
        let nested = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
        let events: Vec<(&'static str, Value, u16)> = vec![
            ("invalid JSON", post(shape, r#"{"name":"#), 400),
            (
                "duplicate key",
                post(shape, r#"{"name":"A","name":"B"}"#),
                400,
            ),
            ("deep nesting", post(shape, &nested), 400),
            ("bad base64", bad_base64, 400),
            ("non-UTF-8 body", non_utf8, 400),
            (
                "text/plain",
                shape.event_with(
                    "POST",
                    USERS,
                    &[("content-type", "text/plain")],
                    Some(r#"{"name":"A","email":"a@b.co"}"#),
                ),
                415,
            ),
            (
                "validation",
                post(shape, r#"{"name":"","email":"nope","admin":true}"#),
                422,
            ),
            (
                "a 64 KB name (over the group's 16 KiB body limit)",
                post(
                    shape,
                    &json!({"name": "n".repeat(65_536), "email": "a@b.co"}).to_string(),
                ),
                413,
            ),
            (
                "a 10 KB name",
                post(
                    shape,
                    &json!({"name": "n".repeat(10_000), "email": "a@b.co"}).to_string(),
                ),
                422,
            ),
            (
                "numbers for strings",
                post(shape, r#"{"name":1,"email":2}"#),
                422,
            ),
            ("unknown method", shape.event("BREW", USERS, None), 405),
            (
                "NUL in the id",
                shape.event("GET", &format!("{USERS}/%00"), None),
                404,
            ),
            (
                "tampered cursor",
                shape.event("GET", &format!("{USERS}?cursor=djE6eA"), None),
                400,
            ),
            (
                "unknown path",
                shape.event("GET", "/api/v1/users/a/b/../c", None),
                404,
            ),
            ("1,500 headers", many_headers, 400),
        ];
        list.extend(events.into_iter().map(|(label, event, status)| Hostile {
            label,
            payload: event.to_string(),
            status: Some(status),
        }));
    }
    list.push(Hostile {
        label: "an SQS event",
        payload: r#"{"Records":[{"eventSource":"aws:sqs"}]}"#.into(),
        status: None,
    });
    list.push(Hostile {
        label: "a payload that is not JSON",
        payload: "GET / HTTP/1.1".into(),
        status: None,
    });
    list
}

/// What one client thread saw and holds.
#[derive(Default)]
struct Tally {
    invocations: u64,
    /// HTTP statuses of the HTTP events.
    by_status: BTreeMap<u16, u64>,
    /// Lambda errors, for the payloads that are not HTTP events.
    lambda_errors: u64,
    /// Users this thread created and did not delete: id -> user JSON.
    users: BTreeMap<String, Value>,
    created: u64,
    deleted: u64,
    updated: u64,
    unavailable: u64,
    /// Emails whose create got a 503: stored or not, unknown.
    unsure_emails: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, message: String) {
        if self.failures.len() < 20 {
            self.failures.push(message);
        }
    }
}

struct Client<'a> {
    emulator: &'a Emulator,
    thread: u64,
    rng: Rng,
    tally: Tally,
    serial: u64,
    hostile: &'a [Hostile],
}

impl Client<'_> {
    fn http(&mut self, event: &Value) -> HttpReply {
        let invocation = self.emulator.invoke_raw("users", &event.to_string());
        self.tally.invocations += 1;
        if invocation.status != 200 {
            self.tally.fail(format!(
                "an HTTP event got a Lambda error {}: {}",
                invocation.status, invocation.body
            ));
            return HttpReply {
                status: 0,
                headers: Vec::new(),
                body: Vec::new(),
            };
        }
        let reply = HttpReply::from_lambda(&invocation.body);
        *self.tally.by_status.entry(reply.status).or_default() += 1;
        if reply.status == 503 {
            self.tally.unavailable += 1;
        }
        reply
    }

    fn expect(&mut self, what: &str, reply: &HttpReply, status: u16) -> bool {
        if reply.status == status {
            return true;
        }
        if reply.status != 503 {
            let text = reply.text();
            let text = text
                .get(..text.len().min(300))
                .unwrap_or_default()
                .to_owned();
            self.tally.fail(format!(
                "{what}: expected {status}, got {}: {text}",
                reply.status
            ));
        }
        false
    }

    fn pick_user(&mut self) -> Option<(String, Value)> {
        let count = self.tally.users.len() as u64;
        if count == 0 {
            return None;
        }
        let index = usize::try_from(self.rng.below(count)).unwrap_or(0);
        self.tally
            .users
            .iter()
            .nth(index)
            .map(|(id, user)| (id.clone(), user.clone()))
    }

    fn step(&mut self) {
        let shape = self.rng.shape();
        match self.rng.below(100) {
            0..25 => self.create(shape),
            25..30 => self.create_duplicate(shape),
            30..50 => self.read(shape),
            50..60 => self.list(shape),
            60..68 => self.update(shape),
            68..75 => self.delete(shape),
            _ => self.hostile(),
        }
    }

    fn create(&mut self, shape: Shape) {
        self.serial += 1;
        let (t, n) = (self.thread, self.serial);
        let body =
            json!({"name": format!("Soak {t}-{n}"), "email": format!("soak-{t}-{n}@example.com")});
        let reply = self.http(&shape.event("POST", USERS, Some(&body.to_string())));
        if reply.status == 503 {
            self.tally
                .unsure_emails
                .push(body["email"].as_str().unwrap_or_default().into());
        }
        if self.expect("create", &reply, 201) {
            let user = reply.json();
            if user["name"] != body["name"] || user["email"] != body["email"] {
                self.tally
                    .fail(format!("create answered {user} for {body}"));
            }
            let id = user["id"].as_str().unwrap_or_default().to_owned();
            self.tally.users.insert(id, user);
            self.tally.created += 1;
        }
    }

    fn create_duplicate(&mut self, shape: Shape) {
        let Some((_, user)) = self.pick_user() else {
            return self.create(shape);
        };
        let email = user["email"].as_str().unwrap_or_default().to_uppercase();
        let body = json!({"name": "Copy", "email": email}).to_string();
        let reply = self.http(&shape.event("POST", USERS, Some(&body)));
        self.expect("duplicate email", &reply, 409);
    }

    fn read(&mut self, shape: Shape) {
        let Some((id, user)) = self.pick_user() else {
            return self.list(shape);
        };
        let reply = self.http(&shape.event("GET", &format!("{USERS}/{id}"), None));
        if self.expect("read", &reply, 200) && reply.json() != user {
            self.tally
                .fail(format!("read {id}: {} instead of {user}", reply.text()));
        }
    }

    fn list(&mut self, shape: Shape) {
        let limit = 1 + self.rng.below(100);
        let reply = self.http(&shape.event("GET", &format!("{USERS}?limit={limit}"), None));
        if self.expect("list", &reply, 200) {
            let page = reply.json();
            let count = page["users"].as_array().map_or(0, Vec::len) as u64;
            if count > limit {
                self.tally
                    .fail(format!("list limit={limit} gave {count} users"));
            }
        }
    }

    fn update(&mut self, shape: Shape) {
        let Some((id, user)) = self.pick_user() else {
            return self.create(shape);
        };
        self.serial += 1;
        let (t, n) = (self.thread, self.serial);
        let body = json!({"name": format!("Renamed {t}-{n}"), "email": format!("soak-{t}-{n}@example.com")});
        let reply =
            self.http(&shape.event("PUT", &format!("{USERS}/{id}"), Some(&body.to_string())));
        if reply.status == 503 {
            // Stored or not: unknown; stop checking this user's contents.
            self.tally.users.remove(&id);
            self.tally
                .unsure_emails
                .push(body["email"].as_str().unwrap_or_default().into());
            self.tally
                .unsure_emails
                .push(user["email"].as_str().unwrap_or_default().into());
        }
        if self.expect("update", &reply, 200) {
            let updated = reply.json();
            let mut expected = user;
            expected["name"] = body["name"].clone();
            expected["email"] = body["email"].clone();
            if updated != expected {
                self.tally
                    .fail(format!("update {id}: {updated} instead of {expected}"));
            }
            self.tally.users.insert(id, updated);
            self.tally.updated += 1;
        }
    }

    fn delete(&mut self, shape: Shape) {
        let Some((id, user)) = self.pick_user() else {
            return self.create(shape);
        };
        let reply = self.http(&shape.event("DELETE", &format!("{USERS}/{id}"), None));
        if reply.status == 503 {
            self.tally.users.remove(&id);
            self.tally
                .unsure_emails
                .push(user["email"].as_str().unwrap_or_default().into());
        }
        if self.expect("delete", &reply, 204) {
            self.tally.users.remove(&id);
            self.tally.deleted += 1;
        }
    }

    fn hostile(&mut self) {
        let index = usize::try_from(self.rng.below(self.hostile.len() as u64)).unwrap_or(0);
        let hostile = &self.hostile[index];
        let invocation = self.emulator.invoke_raw("users", &hostile.payload);
        self.tally.invocations += 1;
        match hostile.status {
            None => {
                self.tally.lambda_errors += 1;
                let error_type = invocation.body["errorType"].as_str();
                if invocation.status != 500
                    || !matches!(error_type, Some("UnsupportedEvent" | "InvalidJsonPayload"))
                {
                    self.tally.fail(format!(
                        "{}: expected a Lambda error, got {} {}",
                        hostile.label, invocation.status, invocation.body
                    ));
                }
            }
            Some(status) => {
                if invocation.status != 200 {
                    self.tally.fail(format!(
                        "{}: a Lambda error {}: {}",
                        hostile.label, invocation.status, invocation.body
                    ));
                    return;
                }
                let reply = HttpReply::from_lambda(&invocation.body);
                *self.tally.by_status.entry(reply.status).or_default() += 1;
                let label = hostile.label;
                self.expect(label, &reply, status);
            }
        }
    }
}

#[test]
fn soak_good_and_hostile_invocations() {
    let total = setting("SOAK_INVOCATIONS", 5_000);
    let threads = setting("SOAK_THREADS", 4).max(1);
    let process_count = setting("SOAK_PROCESSES", 2).max(1);
    let seed = setting("SOAK_SEED", 1);
    let Some(emulator) = Emulator::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("users.sqlite3");
    let quiet = [("AWS_LAMBDA_LOG_LEVEL", "error")];
    let processes: Vec<Mutex<Function>> = (0..process_count)
        .map(|_| Mutex::new(start_users(&emulator, BIN, Store::Sqlite(&db), &quiet)))
        .collect();
    // Every process is polling before the clock starts.
    let probe = Shape::HttpV2.event("GET", "/api/v1/users?limit=1", None);
    for _ in 0..process_count * 2 {
        assert_eq!(emulator.request("users", &probe).status, 200);
    }

    let hostile = hostile_events();
    let done = AtomicU64::new(0);
    let warm_after = (total / 10).max(1);
    let finished = AtomicBool::new(false);
    let samples: Mutex<Vec<(f64, u64, Vec<u64>)>> = Mutex::new(Vec::new());
    // RssAnon (heap and stacks; no code pages) at the same moments.
    let anon_samples: Mutex<Vec<(u64, Vec<u64>)>> = Mutex::new(Vec::new());
    let started = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        scope.spawn(|| {
            // VmRSS and RssAnon of every process, every 250 ms, and once at the end.
            loop {
                let last = finished.load(Ordering::SeqCst);
                let read = |field: &str| -> Vec<u64> {
                    processes
                        .iter()
                        .map(|p| p.lock().map_or(0, |p| p.status_kib(field).unwrap_or(0)))
                        .collect()
                };
                let (rss, anon) = (read("VmRSS"), read("RssAnon"));
                let at = done.load(Ordering::SeqCst);
                anon_samples.lock().expect("samples").push((at, anon));
                samples
                    .lock()
                    .expect("samples")
                    .push((started.elapsed().as_secs_f64(), at, rss));
                if last {
                    break;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        let clients: Vec<_> = (0..threads)
            .map(|thread| {
                let (emulator, hostile, done) = (&emulator, &hostile, &done);
                scope.spawn(move || {
                    let mut client = Client {
                        emulator,
                        thread,
                        rng: Rng::new(seed.wrapping_mul(1_000).wrapping_add(thread)),
                        tally: Tally::default(),
                        serial: 0,
                        hostile,
                    };
                    while done.fetch_add(1, Ordering::SeqCst) < total {
                        client.step();
                    }
                    client.tally
                })
            })
            .collect();
        let tallies = clients
            .into_iter()
            .map(|c| c.join().expect("client thread"))
            .collect();
        finished.store(true, Ordering::SeqCst);
        tallies
    });
    let elapsed = started.elapsed();

    // Totals.
    let mut by_status: BTreeMap<u16, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut expected: HashMap<String, Value> = HashMap::new();
    let (mut invocations, mut created, mut updated, mut deleted, mut unavailable) = (0, 0, 0, 0, 0);
    let mut lambda_errors = 0;
    let mut unsure_emails = Vec::new();
    for tally in tallies {
        invocations += tally.invocations;
        lambda_errors += tally.lambda_errors;
        created += tally.created;
        updated += tally.updated;
        deleted += tally.deleted;
        unavailable += tally.unavailable;
        for (status, count) in tally.by_status {
            *by_status.entry(status).or_default() += count;
        }
        failures.extend(tally.failures);
        unsure_emails.extend(tally.unsure_emails);
        expected.extend(tally.users);
    }

    // The processes: alive, and memory flat after warm-up.
    let breakdown: Vec<Value> = processes
        .iter()
        .map(|p| {
            let p = p.lock().expect("process");
            json!({
                "anon": p.status_kib("RssAnon"),
                "file": p.status_kib("RssFile"),
                "shmem": p.status_kib("RssShmem"),
            })
        })
        .collect();
    let alive: Vec<bool> = processes
        .iter()
        .map(|p| p.lock().expect("process").is_running())
        .collect();
    let samples = samples.into_inner().expect("samples");
    let baseline = samples
        .iter()
        .find(|(_, at, _)| *at >= warm_after)
        .or(samples.last())
        .map(|(_, _, rss)| rss.clone())
        .unwrap_or_default();
    let last = samples
        .last()
        .map(|(_, _, rss)| rss.clone())
        .unwrap_or_default();
    // Anonymous memory growth per invocation served over the second half of
    // the run (least squares), per process, reported: code pages (RssFile)
    // are left out, but SQLite's page cache (up to 2 MiB per process) keeps
    // growing with the database, so it is not asserted here. The growth of
    // the runtime itself is, in functions/health/tests/memory.rs: it used
    // to be ~150 bytes (see vendor/README.md).
    let anon_samples = anon_samples.into_inner().expect("samples");
    let second_half: Vec<&(u64, Vec<u64>)> = anon_samples
        .iter()
        .filter(|(at, _)| *at >= total / 2)
        .collect();
    let bytes_per_invocation: Vec<f64> = (0..processes.len())
        .map(|i| {
            let n = second_half.len() as f64;
            let xs: Vec<f64> = second_half.iter().map(|(at, _)| *at as f64).collect();
            let ys: Vec<f64> = second_half
                .iter()
                .map(|(_, anon)| anon[i] as f64 * 1024.0)
                .collect();
            let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
            let cov: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
            let var: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
            // Per process: each serves about 1/processes of the invocations.
            if var > 0.0 {
                (cov / var * processes.len() as f64).round()
            } else {
                0.0
            }
        })
        .collect();
    let peak: Vec<u64> = (0..processes.len())
        .map(|i| samples.iter().map(|(_, _, rss)| rss[i]).max().unwrap_or(0))
        .collect();

    // The store: everything acknowledged is there, readable, unchanged.
    let stored = list_all(&emulator);
    let stored_by_id: HashMap<String, Value> = stored
        .iter()
        .map(|u| (u["id"].as_str().unwrap_or_default().to_owned(), u.clone()))
        .collect();
    let mut store_problems = Vec::new();
    if stored_by_id.len() != stored.len() {
        store_problems.push("the listing repeats a user".to_owned());
    }
    for (id, user) in &expected {
        match stored_by_id.get(id) {
            None => store_problems.push(format!("acknowledged user {id} is missing")),
            Some(found) if found != user => {
                store_problems.push(format!("user {id} is {found}, expected {user}"));
            }
            Some(_) => {
                let reply = emulator.request(
                    "users",
                    &Shape::RestV1.event("GET", &format!("{USERS}/{id}"), None),
                );
                if reply.status != 200 || reply.json() != *user {
                    store_problems.push(format!("user {id} reads as {}", reply.text()));
                }
            }
        }
    }
    let mut unsure_stored = 0;
    for (id, user) in &stored_by_id {
        let unsure = user["email"]
            .as_str()
            .is_some_and(|e| unsure_emails.iter().any(|u| u == e));
        if !expected.contains_key(id) {
            if unsure {
                unsure_stored += 1;
            } else {
                store_problems.push(format!("user {id} was never acknowledged: {user}"));
            }
        }
    }
    store_problems.truncate(20);

    let report = json!({
        "invocations": invocations,
        "threads": threads,
        "processes": process_count,
        "seconds": (elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "per_second": (invocations as f64 / elapsed.as_secs_f64()).round(),
        "by_status": by_status.iter().map(|(s, c)| (s.to_string(), json!(c))).collect::<serde_json::Map<_, _>>(),
        "lambda_errors_for_non_http_payloads": lambda_errors,
        "created": created,
        "updated": updated,
        "deleted": deleted,
        "unavailable_503": unavailable,
        "stored_at_end": stored.len(),
        "stored_after_a_503": unsure_stored,
        "expected_at_end": expected.len(),
        "rss_kib_after_warmup": baseline,
        "rss_kib_peak": peak,
        "rss_kib_last": last,
        "rss_kib_last_by_kind": breakdown,
        "rss_anon_bytes_per_invocation_served_second_half": bytes_per_invocation,
        "rss_samples": samples.len(),
        // Twenty samples spread over the run: [invocations done, KiB per process].
        "rss_kib_timeline": (0..20)
            .filter_map(|i| samples.get(i * samples.len() / 20))
            .chain(samples.last())
            .map(|(_, at, rss)| json!([at, rss]))
            .collect::<Vec<_>>(),
        // The same for RssAnon.
        "rss_anon_kib_timeline": (0..20)
            .filter_map(|i| anon_samples.get(i * anon_samples.len() / 20))
            .chain(anon_samples.last())
            .map(|(at, anon)| json!([at, anon]))
            .collect::<Vec<_>>(),
        "processes_alive": alive,
        "failures": failures,
        "store_problems": store_problems,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    });
    println!(
        "soak: {}",
        serde_json::to_string_pretty(&report).expect("JSON")
    );
    if let Ok(path) = std::env::var("SOAK_REPORT") {
        std::fs::write(&path, serde_json::to_string_pretty(&report).expect("JSON"))
            .expect("write SOAK_REPORT");
    }

    assert!(invocations >= total, "ran {invocations} of {total}");
    assert!(failures.is_empty(), "unexpected answers: {failures:#?}");
    assert!(
        alive.iter().all(|a| *a),
        "a function process died: {alive:?}"
    );
    assert!(store_problems.is_empty(), "store: {store_problems:#?}");
    assert_eq!(
        stored.len(),
        expected.len() + unsure_stored,
        "count: stored vs acknowledged (+ stored after a 503)"
    );
    for (i, (first, end)) in baseline.iter().zip(&last).enumerate() {
        // Flat: at most 20% above the post-warm-up sample, plus 8 MiB of slack.
        let bound = first + first / 5 + 8 * 1024;
        assert!(
            *end <= bound,
            "process {i}: VmRSS grew from {first} KiB to {end} KiB (bound {bound} KiB)"
        );
    }
}
