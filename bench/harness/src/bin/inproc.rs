//! `bench-inproc`: the in-process cost of one request, event bytes in and
//! response bytes out, for our `shared::App` and for `lambda_http` + axum,
//! beside the floor (`bench_harness::floor`: one borrowed parse of the
//! fields a request needs) and the typed parse alone (`event_parse`).
//!
//! Each peer does what its runtime loop does per invocation, minus the
//! Runtime API's HTTP: ours `App::invoke(payload)`; the peer
//! `serde_json::from_str::<LambdaRequest>` then `lambda_http::Adapter` over
//! the axum router (what `lambda_http::run` calls); both then serialise the
//! response to JSON. Every case's answer is checked before it is timed.
//!
//! Method (the same as `bench/py/inproc_mangum.py`): run the case for the
//! warm-up time to estimate one call's cost, size a batch to last
//! `seconds / rounds`, time `rounds` batches (the peers' batches in turn,
//! round after round), report per-call nanoseconds: the best batch (the
//! one other load on the machine disturbed least, as Python's `timeit`
//! advises), the median batch and the worst.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayV2httpRequest};
use axum_peer::axum;
use axum_peer::lambda_http::request::LambdaRequest;
use axum_peer::lambda_http::tower::ServiceExt as _;
use axum_peer::lambda_http::{Adapter, Context, LambdaEvent, Service as _};
use bench_harness::args::{Args, fail};
use bench_harness::{floor, ours, stats};
use serde_json::{Value, json};
use shared::event::Pass;
use shared::{App, LambdaResponse};

const USAGE: &str = "\
Usage: bench-inproc --cases FILE [--peers ours,axum,floor,event_parse|stages] [--seconds S] [--warmup S] [--rounds N]

Times each case of FILE (written by bench/py/run.py: a JSON list of
{name, app, event, status, body}) for each peer; prints JSON to stdout.
`floor` and `event_parse` are no peers and answer nothing: `floor` is one
serde_json pass over the event into a borrowed struct of the fields a
request needs (the least any layer can do), `event_parse` the typed parse
of the event (aws_lambda_events), which both Rust peers do first.
`--peers stages` times where ours spends its time instead: the floor,
ours cut short after each stage (`read`, `adapt`, `handle`, `reply`) and
ours in full, in the same rounds; each case's row then has `stages`, a
stage's nanoseconds being one prefix's best batch less the one before.
  --seconds S   measured time per case and peer (default 1.0)
  --warmup S    warm-up time per case and peer (default 0.3)
  --rounds N    timed batches per case and peer (default 15)
Needs AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH=1: the REST events carry a stage,
which lambda_http otherwise puts in front of the path.";

/// One request path under test: event JSON in, response JSON out.
trait Target {
    /// The peer's name in the results.
    const NAME: &'static str;
    async fn call(&mut self, payload: &str) -> String;
}

struct Ours(App<()>);

impl Target for Ours {
    const NAME: &'static str = "ours";
    async fn call(&mut self, payload: &str) -> String {
        let response = self
            .0
            .invoke(payload, "bench-request")
            .await
            .expect("an HTTP event");
        serde_json::to_string(&response).expect("a serialisable response")
    }
}

struct Axum(Adapter<'static, axum::response::Response, axum::Router>);

impl Target for Axum {
    const NAME: &'static str = "axum";
    async fn call(&mut self, payload: &str) -> String {
        let request: LambdaRequest = serde_json::from_str(payload).expect("an HTTP event");
        let event = LambdaEvent::new(request, Context::default());
        let service = self.0.ready().await.expect("axum is always ready");
        let response = service.call(event).await.expect("axum is infallible");
        serde_json::to_string(&response).expect("a serialisable response")
    }
}

/// Not a peer: the floor, one borrowed parse of the fields a request needs
/// (`bench_harness::floor`).
struct Floor;

impl Target for Floor {
    const NAME: &'static str = "floor";
    async fn call(&mut self, payload: &str) -> String {
        floor::call(payload);
        String::new()
    }
}

/// Not a peer: only the typed parse of the event that both Rust peers do
/// first (`aws_lambda_events`), to show how much of their cost it is.
struct EventParse;

impl Target for EventParse {
    const NAME: &'static str = "event_parse";
    async fn call(&mut self, payload: &str) -> String {
        if payload.contains(r#""version": "2.0""#) || payload.contains(r#""version":"2.0""#) {
            let event: ApiGatewayV2httpRequest = serde_json::from_str(payload).expect("a v2 event");
            black_box(event);
        } else {
            let event: ApiGatewayProxyRequest = serde_json::from_str(payload).expect("a v1 event");
            black_box(event);
        }
        String::new()
    }
}

/// Not a peer: ours cut short after a stage (`--stages`). Each prefix
/// does what `App::invoke` does up to its stage, so one stage's cost is
/// the difference between two prefixes timed in the same rounds.
struct Prefix {
    app: App<()>,
    upto: Stage,
}

/// The stages of one invocation, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// The payload read into the event model (`scan`), then dropped.
    Read,
    /// Read and mapped onto a `Request` (`event::adapt`).
    Adapt,
    /// And answered: routing, the handler, CORS (`App::handle`).
    Handle,
    /// And written in the source's shape, then serialised as the runtime
    /// does (`LambdaResponse::new`, `serde_json::to_string`).
    Reply,
}

impl Stage {
    /// Each stage, its peer name and what the stage table calls it.
    const ALL: [(Self, &'static str, &'static str); 4] = [
        (Self::Read, "read", "reading the event"),
        (Self::Adapt, "adapt", "building the Request"),
        (Self::Handle, "handle", "routing, handler, CORS"),
        (Self::Reply, "reply", "writing the response"),
    ];
}

impl Stage {
    /// This stage's peer name.
    fn peer(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(stage, _, _)| *stage == self)
            .map_or("", |&(_, peer, _)| peer)
    }
}

/// `--peers stages`: the floor, each prefix, and ours in full.
const STAGES: &str = "floor,read,adapt,handle,reply,ours";

/// Each stage's nanoseconds (best batches): a prefix less the one before,
/// and what `App::invoke` adds past the last (`rest`: the log line's
/// record, moves, drops). `None` unless every prefix and ours were timed.
fn stage_costs(row: &Value) -> Option<Value> {
    let best = |peer: &str| row.get(peer)?["min_ns"].as_f64();
    let mut costs = serde_json::Map::new();
    let mut before = 0.0;
    for (_, peer, _) in Stage::ALL {
        let upto = best(peer)?;
        costs.insert(peer.to_owned(), json!(upto - before));
        before = upto;
    }
    costs.insert("rest".to_owned(), json!(best(Ours::NAME)? - before));
    Some(Value::Object(costs))
}

impl Prefix {
    async fn call(&mut self, payload: &str) -> String {
        if self.upto == Stage::Read {
            assert!(shared::event::read(payload, Pass::Scan), "an HTTP event");
            return String::new();
        }
        let (source, request) =
            shared::event::adapt(payload, "bench-request", None).expect("an HTTP event");
        let request = request.expect("a readable HTTP event");
        if self.upto == Stage::Adapt {
            black_box(request);
            return String::new();
        }
        let response = self.app.handle(request).await;
        if self.upto == Stage::Handle {
            black_box(response);
            return String::new();
        }
        let response = LambdaResponse::new(response, source);
        serde_json::to_string(&response).expect("a serialisable response")
    }
}

/// One case of the cases file.
struct Case {
    name: String,
    /// `article` or `routes:N`.
    app: String,
    payload: String,
    status: u64,
    /// The expected body as JSON; `None` for "the request's body" (echo).
    body: Option<Value>,
}

impl Case {
    fn from_json(case: &Value) -> Self {
        let field = |name: &str| {
            case[name]
                .as_str()
                .unwrap_or_else(|| fail(USAGE, &format!("case without `{name}`: {case}")))
                .to_owned()
        };
        let event = field("event");
        let payload = std::fs::read_to_string(&event)
            .unwrap_or_else(|e| fail(USAGE, &format!("cannot read {event}: {e}")));
        let body = match &case["body"] {
            Value::String(s) if s == "$echo" => None,
            other => Some(other.clone()),
        };
        Self {
            name: field("name"),
            app: field("app"),
            payload,
            status: case["status"].as_u64().unwrap_or(200),
            body,
        }
    }

    /// Fails loudly unless `answer` is this case's status and body.
    fn check(&self, peer: &str, answer: &str) {
        let answer: Value = serde_json::from_str(answer).expect("a JSON response");
        let body_text = answer["body"].as_str().unwrap_or_default();
        let body: Value = serde_json::from_str(body_text).unwrap_or(Value::Null);
        let expected = match &self.body {
            Some(body) => body.clone(),
            None => {
                let event: Value = serde_json::from_str(&self.payload).expect("a JSON event");
                serde_json::from_str(event["body"].as_str().unwrap_or_default())
                    .expect("an echo event has a JSON body")
            }
        };
        if answer["statusCode"].as_u64() != Some(self.status) || body != expected {
            let shown: String = answer.to_string().chars().take(400).collect();
            panic!("{peer} answered case {} wrongly: {shown}", self.name);
        }
    }
}

fn ours_app(app: &str) -> App<()> {
    match routes_count(app) {
        Some(count) => ours::many_routes_app(count),
        None => ours::article_app(),
    }
}

fn axum_app(app: &str) -> Adapter<'static, axum::response::Response, axum::Router> {
    let router = match routes_count(app) {
        Some(count) => axum_peer::many_routes(count),
        None => axum_peer::bench_router(),
    };
    Adapter::from(router)
}

fn routes_count(app: &str) -> Option<usize> {
    match app.strip_prefix("routes:") {
        Some(count) => Some(
            count
                .parse()
                .unwrap_or_else(|_| fail(USAGE, &format!("bad app `{app}`"))),
        ),
        None if app == "article" => None,
        None => fail(USAGE, &format!("unknown app `{app}`")),
    }
}

/// A peer under test, whichever it is (the rounds interleave them).
enum Peer {
    Ours(Box<Ours>),
    Axum(Box<Axum>),
    Floor(Floor),
    EventParse(EventParse),
    Prefix(Box<Prefix>),
}

impl Peer {
    fn new(name: &str, case: &Case) -> Self {
        match name {
            "ours" => Self::Ours(Box::new(Ours(ours_app(&case.app)))),
            "axum" => Self::Axum(Box::new(Axum(axum_app(&case.app)))),
            "floor" => Self::Floor(Floor),
            "event_parse" => Self::EventParse(EventParse),
            other => match Stage::ALL.iter().find(|(_, peer, _)| *peer == other) {
                Some(&(upto, _, _)) => Self::Prefix(Box::new(Prefix {
                    app: ours_app(&case.app),
                    upto,
                })),
                None => fail(USAGE, &format!("unknown peer `{other}`")),
            },
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Ours(_) => Ours::NAME,
            Self::Axum(_) => Axum::NAME,
            Self::Floor(_) => Floor::NAME,
            Self::EventParse(_) => EventParse::NAME,
            Self::Prefix(prefix) => prefix.upto.peer(),
        }
    }

    async fn call(&mut self, payload: &str) -> String {
        match self {
            Self::Ours(target) => target.call(payload).await,
            Self::Axum(target) => target.call(payload).await,
            Self::Floor(target) => target.call(payload).await,
            Self::EventParse(target) => target.call(payload).await,
            Self::Prefix(target) => target.call(payload).await,
        }
    }

    /// Whether the peer answers in full (and its answer is checked).
    fn answers(&self) -> bool {
        match self {
            Self::Ours(_) | Self::Axum(_) => true,
            Self::Floor(_) | Self::EventParse(_) => false,
            Self::Prefix(prefix) => prefix.upto == Stage::Reply,
        }
    }

    /// Times `batch` calls; nanoseconds per call.
    async fn batch(&mut self, payload: &str, batch: u64) -> f64 {
        let started = Instant::now();
        for _ in 0..batch {
            black_box(self.call(black_box(payload)).await);
        }
        started.elapsed().as_nanos() as f64 / batch as f64
    }
}

/// How long to measure each case.
struct Plan {
    seconds: f64,
    warmup: f64,
    rounds: usize,
}

impl Plan {
    /// Checks each peer's answer, warms it up (estimating one call's cost
    /// to size its batch), then times `rounds` rounds, each one batch of
    /// every peer in turn, so that other load on the machine falls on all
    /// peers alike.
    async fn run(&self, case: &Case, peers: &mut [Peer]) -> Vec<Value> {
        let mut batches = Vec::with_capacity(peers.len());
        for peer in peers.iter_mut() {
            let answer = peer.call(&case.payload).await;
            // The floor, the typed parse and the shorter prefixes answer nothing.
            if peer.answers() {
                case.check(peer.name(), &answer);
            }
            let warmup = Duration::from_secs_f64(self.warmup);
            let started = Instant::now();
            let mut calls = 0u64;
            while started.elapsed() < warmup {
                black_box(peer.call(black_box(&case.payload)).await);
                calls += 1;
            }
            let per_call = started.elapsed().as_secs_f64() / calls as f64;
            let round = self.seconds / self.rounds as f64;
            batches.push(((round / per_call).ceil() as u64).max(1));
        }
        let mut per_call_ns = vec![Vec::with_capacity(self.rounds); peers.len()];
        for _ in 0..self.rounds {
            for (i, peer) in peers.iter_mut().enumerate() {
                per_call_ns[i].push(peer.batch(&case.payload, batches[i]).await);
            }
        }
        per_call_ns
            .iter_mut()
            .zip(batches)
            .map(|(samples, batch)| {
                let summary = stats::summary(samples);
                json!({
                    "min_ns": summary["min"],
                    "median_ns": summary["p50"],
                    "max_ns": summary["max"],
                    "batch": batch,
                    "rounds": self.rounds,
                })
            })
            .collect()
    }
}

fn main() {
    let args = Args::parse(std::env::args().skip(1), USAGE);
    let cases_path = args.required("cases", USAGE);
    let names: Vec<&str> = match args.get("peers") {
        Some("stages") => STAGES,
        Some(peers) => peers,
        None => "ours,axum,floor,event_parse",
    }
    .split(',')
    .collect();
    let plan = Plan {
        seconds: args.number("seconds", 1.0, USAGE),
        warmup: args.number("warmup", 0.3, USAGE),
        rounds: args.number("rounds", 15, USAGE),
    };
    if plan.rounds == 0 || plan.seconds <= 0.0 || plan.warmup <= 0.0 {
        fail(
            USAGE,
            "--seconds and --warmup must be positive, --rounds at least 1",
        );
    }
    if std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_none() {
        fail(USAGE, "set AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH=1");
    }
    let text = std::fs::read_to_string(cases_path)
        .unwrap_or_else(|e| fail(USAGE, &format!("cannot read {cases_path}: {e}")));
    let cases: Vec<Value> = serde_json::from_str(&text)
        .unwrap_or_else(|e| fail(USAGE, &format!("{cases_path} is not a JSON list: {e}")));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut results = Vec::new();
    for case in &cases {
        let case = Case::from_json(case);
        let mut peers: Vec<Peer> = names.iter().map(|name| Peer::new(name, &case)).collect();
        let measured = runtime.block_on(plan.run(&case, &mut peers));
        let mut row = json!({"name": case.name});
        for (name, measured) in names.iter().zip(measured) {
            eprintln!(
                "  {:<18} {:<11} {:>12.0} ns/request (best batch)",
                case.name,
                name,
                measured["min_ns"].as_f64().unwrap_or(0.0)
            );
            row[*name] = measured;
        }
        if let Some(stages) = stage_costs(&row) {
            for (_, peer, what) in Stage::ALL {
                eprintln!(
                    "  {:<18} {what:<24} {:>8.0} ns",
                    case.name,
                    stages[peer].as_f64().unwrap_or(0.0)
                );
            }
            let rest = stages["rest"].as_f64().unwrap_or(0.0);
            eprintln!(
                "  {:<18} {:<24} {rest:>8.0} ns",
                case.name, "the rest of App::invoke"
            );
            row["stages"] = stages;
        }
        results.push(row);
    }
    println!("{}", json!({ "cases": results }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best(ns: f64) -> Value {
        json!({ "min_ns": ns })
    }

    #[test]
    fn a_stage_is_its_prefix_less_the_one_before() {
        let row = json!({
            "name": "case",
            "floor": best(900.0),
            "read": best(1000.0),
            "adapt": best(1400.0),
            "handle": best(1900.0),
            "reply": best(2100.0),
            "ours": best(2250.0),
        });
        let expected = json!({
            "read": 1000.0, "adapt": 400.0, "handle": 500.0, "reply": 200.0, "rest": 150.0,
        });
        assert_eq!(stage_costs(&row), Some(expected));
        for missing in ["read", "adapt", "handle", "reply", "ours"] {
            let mut row = row.clone();
            row.as_object_mut().expect("an object").remove(missing);
            assert_eq!(stage_costs(&row), None, "without {missing}");
        }
    }

    #[test]
    fn the_last_prefix_answers_as_ours_does_and_each_names_its_stage() {
        let payload = r#"{"version":"2.0","rawPath":"/ping","headers":{"origin":"https://a.example"},
            "requestContext":{"http":{"method":"GET"},"requestId":"id"},"isBase64Encoded":false}"#;
        let case = Case {
            name: "ping".into(),
            app: "article".into(),
            payload: payload.into(),
            status: 200,
            body: Some(json!({"Success": "Pong!"})),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let answer = |name: &str| {
            let mut peer = Peer::new(name, &case);
            assert_eq!(peer.name(), name);
            runtime.block_on(peer.call(payload))
        };
        let ours = answer("ours");
        case.check("ours", &ours);
        assert_eq!(answer("reply"), ours);
        for stage in ["read", "adapt", "handle"] {
            assert_eq!(answer(stage), "", "{stage} answers nothing");
        }
        assert_eq!(STAGES.split(',').count(), Stage::ALL.len() + 2);
    }
}
