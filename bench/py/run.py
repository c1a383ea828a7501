"""Runs every measure of the benchmark and writes results.json, results.md
and the chart. Started by ``bench/run`` (which builds the binaries and the
venv first); see ``bench/README.md`` for the method.

Usage: python bench/py/run.py --root DIR --out DIR [--release DIR]
       [--functions health,users,...] [--quick] [--command TEXT]
       [--load-before L1,L5,L15] [--noisy-out DIR] [--local-users FILE]

A noisy run (see :func:`noise`) is marked so in results.md and
results.json and exits with status 3 (0 with ``--quick``); with
``--noisy-out`` it is written there instead of ``--out``.
"""

import argparse
import datetime
import gzip
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import report  # noqa: E402
from order import cold_order  # noqa: E402

PEERS = ("ours", "axum", "mangum")
# bench-inproc's peers: the Rust peers, the floor, the typed parse, and ours
# cut short after each stage (a case's `stages` come from these and ours).
INPROC_PEERS = "ours,axum,floor,event_parse,read,adapt,handle,reply"

FULL = {
    # A multiple of 3 and of 2: the four /ping functions and the three users
    # ones each get whole cycles of the balanced order (order.py).
    "cold_trials": 24,
    "warm_invocations": 10_000,
    "warm_warmup": 100,
    "checkpoints": (1_000, 5_000, 10_000),
    "warm_repeats": 5,
    "inproc_seconds": 1.0,
    "inproc_warmup": 0.3,
    "inproc_rounds": 15,
}
QUICK = {
    "cold_trials": 2,
    "warm_invocations": 300,
    "warm_warmup": 20,
    "checkpoints": (100, 300),
    "warm_repeats": 1,
    "inproc_seconds": 0.1,
    "inproc_warmup": 0.03,
    "inproc_rounds": 5,
}

PING = {"Success": "Pong!"}
ALL_USERS = {"Success": "All users!"}
OURS_EMPTY_LIST = {"users": [], "next_cursor": None}
# users as deployed, asked for an id that is no user's id: answered before
# the store is reached (routes.rs `user_id`).
NO_SUCH_USER = (404, {"message": "user not found"})

# What makes a run noisy (README, "Noise"): the 1-minute load average before
# the run started above LOAD_LIMIT, or a median batch (in-process) or median
# segment (warm loop) more than SPREAD_LIMIT times the best one, for ours or
# the floor.
LOAD_LIMIT = 1.5
SPREAD_LIMIT = 1.25
NOISY_EXIT = 3


def step(message):
    print(f"==> {message}", file=sys.stderr, flush=True)


# --- events -------------------------------------------------------------------


def echo_body(size):
    """A deterministic JSON document of at most ``size`` bytes (ints,
    strings, bools): ``{"items":[...]}`` with as many items as fit (one at
    least)."""
    parts, length = [], len('{"items":[]}') - 1
    i = 0
    while True:
        item = json.dumps({"id": i, "name": f"user {i}", "email": f"user{i}@example.com", "active": i % 2 == 0},
                          separators=(",", ":"))
        if parts and length + 1 + len(item) > size:
            break
        parts.append(item)
        length += 1 + len(item)
        i += 1
    return '{"items":[' + ",".join(parts) + "]}"


class RestV1Builder:
    """REST v1 events from testkit's builder, the one the tests use
    (``testkit::events::RestV1Event``, through its ``event`` binary), on a
    template event written to ``work/events``."""

    def __init__(self, root, release, work, template):
        subprocess.run(["cargo", "build", "-q", "-p", "testkit", "--bin", "event"], cwd=root, check=True)
        self.binary = release.parent / "debug" / "event"
        self.template = work / "events" / "template-v1.json"
        self.template.parent.mkdir(parents=True, exist_ok=True)
        self.template.write_text(json.dumps(template, indent=2))

    def event(self, method, path, body=None):
        command = [str(self.binary), "--template", str(self.template), "--", method, path]
        if body is not None:
            command.append("-")
        done = subprocess.run(command, input=body or "", capture_output=True, text=True, check=True)
        return json.loads(done.stdout)


def http_v2(base, method, path, body=None):
    event = json.loads(json.dumps(base))
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    if body is not None:
        event["body"] = body
        event["headers"]["content-type"] = "application/json"
        event["headers"]["content-length"] = str(len(body.encode()))
    return event


def with_caller(event):
    """A REST v1 event as API Gateway passes it on after the authorizer
    allowed the call: its context names the caller and its scopes (the
    users routes require ``users:read``; the peers ignore it)."""
    event["requestContext"]["authorizer"] = {
        "principalId": "bench", "sub": "bench", "scope": "users:read", "integrationLatency": 0,
    }
    return event


def write_events(root, release, work):
    """Writes every event to ``work/events`` and returns their paths by name.

    The REST v1 events derive from the article's event minus its one header
    with an empty name, which lambda_http refuses (see ``probe_article_event``).
    """
    fixtures = root / "shared/tests/fixtures"
    article = json.loads((fixtures / "article-rest-v1-get-ping.json").read_text())
    v1 = json.loads(json.dumps(article))
    v1["multiValueHeaders"].pop("", None)
    v1["headers"].pop("", None)
    v2 = json.loads((fixtures / "http-v2-aws-example.json").read_text())
    rest_v1 = RestV1Builder(root, release, work, v1).event
    events = {
        "article-verbatim": article,
        "ping-v1": v1,
        "users-v1": with_caller(rest_v1("GET", "/api/v1/users/")),
        "users-deployed": with_caller(rest_v1("GET", "/api/v1/users/not-a-user-id")),
        "ping-v2": http_v2(v2, "GET", "/ping"),
    }
    for label, size in BODY_SIZES:
        body = echo_body(size)
        events[f"echo-{label}-v1"] = rest_v1("POST", "/echo", body)
        if label in ("100", "100k"):
            events[f"echo-{label}-v2"] = http_v2(v2, "POST", "/echo", body)
    for count in (10, 100, 1000):
        events[f"routes-{count}"] = rest_v1("GET", f"/r{count - 1}/items/42")
    folder = work / "events"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, event in events.items():
        path = folder / f"{name}.json"
        if name == "article-verbatim":
            shutil.copyfile(fixtures / "article-rest-v1-get-ping.json", path)
        else:
            path.write_text(json.dumps(event, indent=2))
        paths[name] = path
    return paths


# The echo bodies: (label, at most this many bytes); REST v1 for every size,
# HTTP API v2 for 100 B and 100 KiB.
BODY_SIZES = (("100", 100), ("1k", 1024), ("10k", 10 * 1024), ("100k", 100 * 1024), ("1m", 1024 * 1024))


def body_bytes(path):
    """The length of an event's body as the client sent it (0 without one)."""
    return len((json.loads(Path(path).read_text()).get("body") or "").encode())


def inproc_cases(events):
    """The in-process cases: (name, app, event, expected body, what it shows)."""
    cases = [
        ("ping-v1", "article", PING, "REST v1, GET /ping (the article's event)"),
        ("ping-v2", "article", PING, "HTTP API v2, GET /ping"),
        ("echo-100-v1", "article", "$echo", "REST v1, POST /echo, 100 B JSON body"),
        ("echo-1k-v1", "article", "$echo", "REST v1, POST /echo, 1 KiB JSON body"),
        ("echo-10k-v1", "article", "$echo", "REST v1, POST /echo, 10 KiB JSON body"),
        ("echo-100k-v1", "article", "$echo", "REST v1, POST /echo, 100 KiB JSON body"),
        ("echo-1m-v1", "article", "$echo", "REST v1, POST /echo, 1 MiB JSON body"),
        ("echo-100-v2", "article", "$echo", "HTTP API v2, POST /echo, 100 B JSON body"),
        ("echo-100k-v2", "article", "$echo", "HTTP API v2, POST /echo, 100 KiB JSON body"),
        ("routes-10", "routes:10", PING, "REST v1, last of 10 routes"),
        ("routes-100", "routes:100", PING, "REST v1, last of 100 routes"),
        ("routes-1000", "routes:1000", PING, "REST v1, last of 1,000 routes"),
    ]
    return [
        {"name": name, "app": app, "event": str(events[name]), "status": 200, "body": body, "desc": desc,
         "body_bytes": body_bytes(events[name])}
        for name, app, body, desc in cases
    ]


# --- processes ----------------------------------------------------------------


class Peers:
    """How to start each peer as a Lambda function, per event."""

    def __init__(self, root, release, venv_python, work, local_users=None):
        self.root = root
        self.release = release
        # users with the SQLite store, for the SQLite cases: its default
        # build; release/users is the image's (DynamoDB only).
        self.local_users = local_users or release / "users"
        self.venv_python = venv_python
        self.work = work
        self.app_dir = root / "bench/peers/fastapi"

    def function(self, peer, event):
        """(name, command, cwd, extra env) for ``peer`` answering ``event``;
        a ``None`` in the env removes that variable."""
        if peer == "users-deployed":
            # users configured as deployed: DynamoDB (USERS_TABLE), region and
            # static credentials from the environment as Lambda gives them, no
            # SQLite. Nothing listens at the endpoint: the event is answered
            # before the store is reached, and a call to it would be a 500.
            env = {
                "USERS_TABLE": "bench-users", "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench-not-a-key", "AWS_SECRET_ACCESS_KEY": "bench-not-a-secret",
                "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
                # No profile files, as in Lambda.
                "AWS_CONFIG_FILE": str(self.work / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.work / "no-aws-credentials"),
                "USERS_DB_PATH": None, "DYNAMODB_ENDPOINT": None, "AWS_PROFILE": None,
                "AWS_SESSION_TOKEN": None, "AWS_DEFAULT_REGION": None,
            }
            return "users", [str(self.release / "users")], self.work, env
        if peer == "ours" and event == "users-v1":
            # SQLite in the work folder; an empty USERS_TABLE keeps DynamoDB off.
            env = {"USERS_DB_PATH": str(self.work / "users.sqlite3"), "USERS_TABLE": ""}
            return "users", [str(self.local_users)], self.work, env
        if peer == "ours":
            return "health", [str(self.release / "health")], self.work, {}
        if peer == "floor":
            return "null-function", [str(self.release / "null-function")], self.work, {}
        if peer == "axum":
            env = {"AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": "1"}
            return "axum-peer", [str(self.release / "axum-peer")], self.work, env
        command = [str(self.venv_python), "-m", "awslambdaric", "main.handler"]
        return "mangum-peer", command, self.app_dir, {"LAMBDA_TASK_ROOT": str(self.app_dir)}

    @staticmethod
    def expected(peer, event):
        """(status, body) of ``peer``'s answer to ``event``."""
        if peer == "users-deployed":
            return NO_SUCH_USER
        if event == "users-v1":
            return 200, OURS_EMPTY_LIST if peer == "ours" else ALL_USERS
        return 200, PING


def drive(peers, mode, peer, event_name, event_path, options, check=True):
    name, command, cwd, env = peers.function(peer, event_name)
    status, body = Peers.expected(peer, event_name)
    environment = {**os.environ, **env}
    for key in [k for k, v in env.items() if v is None]:
        environment.pop(key, None)
    log = peers.work / "logs" / f"{mode}-{peer}-{event_name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    args = [
        str(peers.release / "bench-driver"), mode,
        "--event", str(event_path), "--name", name, "--log", str(log),
        "--expect-status", str(status), "--expect-body", json.dumps(body),
        *options, "--", *command,
    ]
    result = subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        if not check:
            return {"error": last_line(result.stderr, "panicked at") or result.stderr[-400:]}
        sys.stderr.write(result.stderr)
        raise SystemExit(f"bench-driver {mode} failed for {peer} ({event_name}); log: {log}")
    return json.loads(result.stdout)


def last_line(text, after):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if after in line and i + 1 < len(lines):
            return lines[i + 1].strip()
    return None


def fresh_users_db(work):
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{work / 'users.sqlite3'}{suffix}").unlink(missing_ok=True)


def summary(samples):
    """The summary ``bench-driver`` prints (nearest-rank quantiles)."""
    ordered = sorted(samples)

    def quantile(q):
        rank = max(1, min(len(ordered), -(-q * len(ordered) // 1)))
        return ordered[int(rank) - 1]

    return {
        "count": len(ordered), "min": ordered[0], "p50": quantile(0.5), "p90": quantile(0.9),
        "p99": quantile(0.99), "max": ordered[-1], "mean": sum(ordered) / len(ordered),
    }


# --- sizes --------------------------------------------------------------------


def stripped_size(path, work):
    """Size after ``strip --strip-all`` (the file's size where strip is missing)."""
    if not shutil.which("strip"):
        return path.stat().st_size
    out = work / f"{path.name}.stripped"
    subprocess.run(["strip", "--strip-all", "-o", str(out), str(path)], check=True)
    size = out.stat().st_size
    out.unlink()
    return size


def layer(files):
    """(tar bytes, gzip bytes) of a layer holding ``files`` ((path in image, path on disk))."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for arcname, path in sorted(files):
            tar.add(str(path), arcname=arcname, recursive=False)
    raw = buffer.getvalue()
    return len(raw), len(gzip.compress(raw, compresslevel=6, mtime=0))


def python_closure(names):
    """The distributions ``names`` need at run time (no extras), themselves included."""
    from packaging.requirements import Requirement

    seen, todo = {}, list(names)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        dist = metadata.distribution(name)
        seen[key] = dist
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            todo.append(requirement.name)
    return seen


def python_layer_files(app_dir):
    """What the article's Dockerfile adds to AWS's Python base image (which
    already holds awslambdaric): ``pip install fastapi mangum`` (with the
    byte code pip compiles) and the app's source."""
    files = []
    for dist in python_closure(["fastapi", "mangum"]).values():
        site = Path(dist.locate_file(""))
        # Entries outside site-packages (console scripts in bin/) are not the package.
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            path = site / top
            if path.is_dir():
                files += [(f"var/task/{p.relative_to(site)}", p) for p in path.rglob("*") if p.is_file()]
            elif path.is_file():
                files.append((f"var/task/{top}", path))
                cache = site / "__pycache__"
                files += [(f"var/task/__pycache__/{p.name}", p) for p in cache.glob(f"{Path(top).stem}.*.pyc")]
    files += [
        (f"var/task/{p.relative_to(app_dir)}", p)
        for p in app_dir.rglob("*.py")
    ]
    return files


def sizes(root, release, functions, app_dir, work):
    """Stripped binaries, and the layers each image adds to its AWS base image.

    Ours: what the Dockerfile copies onto ``provided:al2023``, every function
    binary in ``/var/task/bin`` and ``image/bootstrap``. The axum peer: its
    binary as the ``bootstrap`` of a ``provided:al2023`` image. The Python
    peer: see :func:`python_layer_files`.
    """
    result = {}
    ours = {name: stripped_size(release / name, work) for name in functions}
    files = [(f"var/task/bin/{n}", release / n) for n in functions]
    if (root / "image/bootstrap").is_file():
        files.append(("var/runtime/bootstrap", root / "image/bootstrap"))
    ours_layer = layer(files)
    result["ours"] = {"binaries": ours, "layer_bytes": ours_layer[0], "layer_gz_bytes": ours_layer[1]}
    axum = {"axum-peer": stripped_size(release / "axum-peer", work)}
    axum_layer = layer([("var/runtime/bootstrap", release / "axum-peer")])
    result["axum"] = {"binaries": axum, "layer_bytes": axum_layer[0], "layer_gz_bytes": axum_layer[1]}
    py_layer = layer(python_layer_files(app_dir))
    result["mangum"] = {"binaries": {}, "layer_bytes": py_layer[0], "layer_gz_bytes": py_layer[1]}
    return result


# --- noise ----------------------------------------------------------------------


def noise(results):
    """Why this run is too noisy to publish; an empty list when it is not.

    - the 1-minute load average before the run (before its build, as
      ``bench/run`` samples it) above ``LOAD_LIMIT``: other work was running;
    - an in-process case where the median batch took more than
      ``SPREAD_LIMIT`` times the best batch, for ours or the floor;
    - a warm loop (ours or the null-function, /ping) whose median segment (a
      tenth of the timed invocations) took more than ``SPREAD_LIMIT`` times
      its fastest segment.
    """
    reasons = []
    load = results["meta"]["load_before"][0]
    if load > LOAD_LIMIT:
        reasons.append(f"load average {load:.2f} before the run (limit {LOAD_LIMIT})")
    for row in results["inproc"]:
        for peer in ("ours", "floor"):
            spread = row[peer]["median_ns"] / row[peer]["min_ns"]
            if spread > SPREAD_LIMIT:
                reasons.append(f"in-process {row['name']}, {peer}: median batch {spread:.2f}x the best "
                               f"(limit {SPREAD_LIMIT}x)")
    for label, loop in (("ours", results["warm"]["ping-v1"]["ours"]), ("null-function", results["warm_floor"])):
        times = [1 / rate for rate in loop.get("segments_per_second") or [] if rate > 0]
        if times:
            spread = summary(times)["p50"] / min(times)
            if spread > SPREAD_LIMIT:
                reasons.append(f"warm loop, {label}: median segment {spread:.2f}x the fastest "
                               f"(limit {SPREAD_LIMIT}x)")
    return reasons


# --- facts about the run ------------------------------------------------------


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    os_name = platform.system()
    release = Path("/etc/os-release")
    if release.exists():
        match = re.search(r'^PRETTY_NAME="?([^"\n]*)', release.read_text(), re.M)
        os_name = match.group(1) if match else os_name
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": os_name,
    }


def versions(root):
    lock = (root / "Cargo.lock").read_text()
    crates = {}
    for name in ("lambda_runtime", "lambda_http", "aws_lambda_events", "axum", "matchit", "tokio", "hyper"):
        found = re.findall(rf'name = "{name}"\nversion = "([^"]+)"', lock)
        crates[name] = ", ".join(found)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    python = {
        name: metadata.version(name)
        for name in ("fastapi", "starlette", "pydantic", "mangum", "awslambdaric", "matplotlib")
    }
    return {"rustc": rustc, "python": platform.python_version(), "crates": crates, "pypi": python}


def source(root):
    """The commit measured, and whether the work tree differed from it
    (outside bench/); ``BENCH_SOURCE`` overrides, for a tree without git."""
    if os.environ.get("BENCH_SOURCE"):
        return os.environ["BENCH_SOURCE"]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", ".", ":!bench"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git work tree)"
    return f"{commit} with uncommitted changes" if changed else commit


# --- main ---------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--release", type=Path, help="folder of the release binaries")
    parser.add_argument("--functions", default="health,users",
                        help="comma-separated function binaries (all ship in the image)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--command", default="bench/run")
    parser.add_argument("--load-before", help="load averages (1, 5, 15 min) before the run began, "
                        "comma-separated (bench/run samples them before its build); default: now")
    parser.add_argument("--noisy-out", type=Path, help="where to write instead of --out when the run is noisy")
    parser.add_argument("--local-users", type=Path,
                        help="the users binary with the SQLite store, for the SQLite cases (default: RELEASE/users)")
    args = parser.parse_args()
    root = args.root.resolve()
    out = args.out.resolve()
    release = (args.release or root / "target/release").resolve()
    plan = QUICK if args.quick else FULL
    functions = [f for f in args.functions.split(",") if f]
    work = root / "target/bench-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    peers = Peers(root, release, Path(sys.executable), work, args.local_users and args.local_users.resolve())
    load_now = [round(x, 2) for x in os.getloadavg()]
    load_before = [float(x) for x in args.load_before.split(",")] if args.load_before else load_now

    results = {
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": "quick" if args.quick else "full",
            "command": args.command,
            "plan": {k: list(v) if isinstance(v, tuple) else v for k, v in plan.items()},
            "machine": machine(),
            "load_before": load_before,
            "load_at_start": load_now,
            "noise_limits": {"load": LOAD_LIMIT, "spread": SPREAD_LIMIT},
            "niceness": os.nice(0),
            "source": source(root),
            "users_sqlite_binary": str(peers.local_users),
            "versions": versions(root),
        }
    }
    events = write_events(root, release, work)
    load = load_before[0]
    if load > LOAD_LIMIT:
        step(f"warning: load average {load:.2f} on {os.cpu_count()} cores before the run (limit {LOAD_LIMIT}): "
             "other work will skew the timings, and the run will be marked noisy")

    step("the article's verbatim event (with its empty-named header), one invocation each")
    probe = {}
    for peer in PEERS:
        outcome = drive(peers, "warm", peer, "ping-v1", events["article-verbatim"],
                        ["--invocations", "1", "--warmup", "0", "--checkpoints", "1"], check=False)
        probe[peer] = {"ok": "error" not in outcome, "error": outcome.get("error")}
    results["article_event"] = probe

    cold = {}
    for event in ("ping-v1", "users-v1"):
        fresh_users_db(work)
        # With /ping (health), users as deployed takes its turn in the same
        # rounds: its target is a ratio to health's cold start.
        lineup = [(peer, peer, event) for peer in PEERS]
        if event == "ping-v1":
            lineup.append(("users-deployed", "users-deployed", "users-deployed"))
        names = ", ".join(key for key, _, _ in lineup)
        untimed, timed = cold_order(len(lineup), plan["cold_trials"])
        step(f"cold start, {event}: {len(timed) // len(lineup)} process starts of each ({names}), "
             "each right after each other one equally often")
        for i in untimed:  # the binaries, modules and files into the page cache
            _, peer, name = lineup[i]
            drive(peers, "cold", peer, name, events[name], ["--trials", "1", "--untimed", "1"])
        first = {key: [] for key, _, _ in lineup}
        init = {key: [] for key, _, _ in lineup}
        for i in timed:
            key, peer, name = lineup[i]
            one = drive(peers, "cold", peer, name, events[name], ["--trials", "1", "--untimed", "0"])
            first[key].append(one["first_response_ms"]["p50"])
            init[key].append(one["init_ms"]["p50"])
        measured = {
            key: {"samples_ms": first[key], "first_response_ms": summary(first[key]),
                  "init_ms": summary(init[key])}
            for key, _, _ in lineup
        }
        cold[event] = {peer: measured[peer] for peer in PEERS}
        if "users-deployed" in measured:
            status, body = NO_SUCH_USER
            results["cold_start_deployed"] = {
                **measured["users-deployed"],
                "function": "users",
                "request": "GET /api/v1/users/not-a-user-id (with the caller's users:read scope)",
                "answer": {"status": status, "body": body},
                "config": "USERS_TABLE=bench-users, AWS_REGION, static AWS credentials, "
                          "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:9 "
                          "(nothing listens), no USERS_DB_PATH",
                "compared_with": "ours, ping-v1 (health), in the same rounds",
            }
    results["cold_start"] = cold

    warm = {}
    for event in ("ping-v1", "users-v1"):
        warm[event] = {}
        for peer in PEERS:
            step(f"warm, {event}, {peer}: {plan['warm_invocations']} invocations through the Runtime API")
            fresh_users_db(work)
            warm[event][peer] = drive(peers, "warm", peer, event, events[event], [
                "--invocations", str(plan["warm_invocations"]),
                "--warmup", str(plan["warm_warmup"]),
                "--checkpoints", ",".join(map(str, plan["checkpoints"])),
            ])
    results["warm"] = warm
    step("warm, the Runtime API floor: a lambda_runtime function answering a constant")
    floor_options = [
        "--invocations", str(plan["warm_invocations"]),
        "--warmup", str(plan["warm_warmup"]),
        "--checkpoints", str(plan["warm_invocations"]),
    ]
    results["warm_floor"] = drive(peers, "warm", "floor", "ping-v1", events["ping-v1"], floor_options)
    # One loop each is at the mercy of the machine's phases: on 2 cores the
    # driver and the function wake each other up, and back-to-back runs of
    # the same binary differ by up to 20 %. So ours and the floor run again,
    # in turn, and each keeps its median run (all runs' rates recorded).
    runs = {"ours": [warm["ping-v1"]["ours"]], "floor": [results["warm_floor"]]}
    for repeat in range(1, plan["warm_repeats"]):
        for peer in ("ours", "floor"):
            step(f"warm, ping-v1, {peer}: run {repeat + 1} of {plan['warm_repeats']}")
            options = floor_options if peer == "floor" else [
                "--invocations", str(plan["warm_invocations"]),
                "--warmup", str(plan["warm_warmup"]),
                "--checkpoints", ",".join(map(str, plan["checkpoints"])),
            ]
            runs[peer].append(drive(peers, "warm", peer, "ping-v1", events["ping-v1"], options))
    for peer, done in runs.items():
        chosen = sorted(done, key=lambda run: run["per_second"])[len(done) // 2]
        chosen["runs_per_second"] = [round(run["per_second"], 1) for run in done]
        if peer == "floor":
            results["warm_floor"] = chosen
        else:
            warm["ping-v1"]["ours"] = chosen

    cases = inproc_cases(events)
    cases_file = work / "cases.json"
    cases_file.write_text(json.dumps(cases, indent=2))
    timing = [
        "--seconds", str(plan["inproc_seconds"]),
        "--warmup", str(plan["inproc_warmup"]),
        "--rounds", str(plan["inproc_rounds"]),
    ]
    step(f"in-process, ours, lambda_http + axum, the floor, the typed event parse alone and ours stage by stage: "
         f"{len(cases)} cases")
    rust = subprocess.run(
        [str(release / "bench-inproc"), "--cases", str(cases_file), "--peers", INPROC_PEERS, *timing],
        env={**os.environ, "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": "1"},
        stdout=subprocess.PIPE, text=True, check=True, timeout=900,
    )
    step(f"in-process, FastAPI + Mangum: {len(cases)} cases")
    python = subprocess.run(
        [sys.executable, str(HERE / "inproc_mangum.py"), "--cases", str(cases_file),
         "--app-dir", str(peers.app_dir), *timing],
        stdout=subprocess.PIPE, text=True, check=True, timeout=900,
    )
    by_name = {row["name"]: row for row in json.loads(rust.stdout)["cases"]}
    for row in json.loads(python.stdout)["cases"]:
        by_name[row["name"]]["mangum"] = row["mangum"]
    results["inproc"] = [
        {"name": case["name"], "desc": case["desc"], "body_bytes": case["body_bytes"],
         **{p: by_name[case["name"]][p] for p in (*PEERS, "floor", "event_parse", "stages")}}
        for case in cases
    ]

    step("sizes: stripped binaries and image layers")
    results["size"] = sizes(root, release, functions, peers.app_dir, work)

    results["meta"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    reasons = noise(results)
    results["meta"]["noisy"] = bool(reasons)
    results["meta"]["noise_reasons"] = reasons
    if reasons and args.noisy_out:
        step(f"noisy run: writing to {args.noisy_out} instead of {args.out}, which is left as it was")
        out = args.noisy_out.resolve()
        out.mkdir(parents=True, exist_ok=True)
    results["targets"] = report.targets(results)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    report.write(results, out)
    step(f"wrote {out}/results.md, results.json, chart.svg, chart.png in {results['meta']['seconds']} s")
    print((out / "results.md").read_text())
    if reasons:
        print("noisy run, not for publishing:", file=sys.stderr)
        for reason in reasons:
            print(f"  - {reason}", file=sys.stderr)
        if args.quick:
            print("(--quick: recorded, exit status 0)", file=sys.stderr)
        else:
            raise SystemExit(NOISY_EXIT)


if __name__ == "__main__":
    main()
