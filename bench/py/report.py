"""Turns results.json into results.md (tables) and chart.svg / chart.png.

``python bench/py/report.py DIR`` rewrites DIR/results.md and the chart from
DIR/results.json; ``bench/py/run.py`` calls :func:`write` after measuring.
"""

import json
import sys
from pathlib import Path

PEERS = ("ours", "axum", "mangum")
LABELS = {"ours": "ours (shared)", "axum": "lambda_http + axum", "mangum": "FastAPI + Mangum", "floor": "floor"}
COLORS = {"ours": "#1b9e77", "axum": "#7570b3", "mangum": "#d95f02", "floor": "#666666"}
EVENTS = {"ping-v1": "article /ping", "users-v1": "users GET (SQLite)"}
LEAK_TOLERANCE_KB = 256
# The echo bodies, REST v1: case label -> how they are named in tables.
BODIES = {"100": "100 B", "1k": "1 KiB", "10k": "10 KiB", "100k": "100 KiB", "1m": "1 MiB"}
NOMINAL_BYTES = {"100": 100, "1k": 1024, "10k": 10 * 1024, "100k": 100 * 1024, "1m": 1024 * 1024}
# Issue 19's targets, each a ratio within one run.
FLOOR_LIMIT = 1.5  # ours ÷ floor, every in-process case
BODY_FLOOR_LIMIT = 2.0  # ours ÷ floor, the 100 KiB cases
MANGUM_FACTOR = 50  # Mangum ÷ ours, wherever the floor leaves room for it
PER_KIB_FLAT = 1.25  # max ÷ min of the per-KiB cost, 10 KiB to 1 MiB
PER_KIB_FROM = ("10k", "100k", "1m")
WARM_FLOOR_SHARE = 0.9  # ours ÷ null-function, warm invocations/s
DEPLOYED_VS_HEALTH = 1.2  # users as deployed ÷ health, cold start
COLD_MANGUM_FACTOR = 20
RSS_FACTOR = 5
USERS_BINARY_LIMIT = 10 * 1024 * 1024
LAYER_GZ_LIMIT = 6 * 1024 * 1024


# --- numbers ------------------------------------------------------------------


def cold_p50(results, event, peer):
    return results["cold_start"][event][peer]["first_response_ms"]["p50"]


def deployed_p50(results):
    """users configured as deployed (DynamoDB): its cold start p50, or None (an older run)."""
    deployed = results.get("cold_start_deployed")
    return deployed["first_response_ms"]["p50"] if deployed else None


def inproc_row(results, case):
    for row in results["inproc"]:
        if row["name"] == case:
            return row
    return None


def inproc_ns(results, case, peer):
    """The best batch's per-request time (see bench/README.md, in-process);
    None where the run has no such case or peer."""
    row = inproc_row(results, case)
    return row[peer]["min_ns"] if row and peer in row else None


def memory(results, event, peer):
    """(RSS at the first checkpoint, RSS at the last, peak at the last), kB."""
    points = results["warm"][event][peer]["memory"]
    return points[0]["rss_kb"], points[-1]["rss_kb"], points[-1]["peak_kb"]


def ratio(peer_value, ours_value):
    if peer_value is None or ours_value is None:
        return None
    return peer_value / ours_value if ours_value else float("inf")


def body_bytes(results, label):
    row = inproc_row(results, f"echo-{label}-v1")
    return (row or {}).get("body_bytes") or NOMINAL_BYTES[label]


def per_kib(results, peer):
    """Per-KiB cost of the REST v1 echo bodies, net of the 100 B case:
    (time at the size - time at 100 B) / (its body - the 100 B body, in KiB),
    in ns per KiB, by body label (1 KiB and up; None where not measured)."""
    base = inproc_ns(results, "echo-100-v1", peer)
    costs = {}
    for label in ("1k", "10k", "100k", "1m"):
        value = inproc_ns(results, f"echo-{label}-v1", peer)
        kib = (body_bytes(results, label) - body_bytes(results, "100")) / 1024
        costs[label] = None if value is None or base is None else (value - base) / kib
    return costs


def flatness(costs):
    """max ÷ min of the per-KiB costs from 10 KiB to 1 MiB, or None."""
    values = [costs[label] for label in PER_KIB_FROM]
    if any(v is None or v <= 0 for v in values):
        return None
    return max(values) / min(values)


def targets(results):
    """Each target (issue 19's, and the earlier ones still meaningful), with
    what this run measured."""
    rows = []

    def row(target, measured, met):
        rows.append({"target": target, "measured": measured, "met": met})

    inproc = results["inproc"]
    count = len(inproc)
    # --- cold start
    for event, label in EVENTS.items():
        ours, mangum = cold_p50(results, event, "ours"), cold_p50(results, event, "mangum")
        row(f"cold start, {label}: at least {COLD_MANGUM_FACTOR}x faster than FastAPI + Mangum",
            f"{fmt_ms(ours)} vs {fmt_ms(mangum)}: {ratio(mangum, ours):.1f}x", mangum >= COLD_MANGUM_FACTOR * ours)
    health, axum = cold_p50(results, "ping-v1", "ours"), cold_p50(results, "ping-v1", "axum")
    row("cold start, article /ping (`health`): not slower than lambda_http + axum",
        f"{fmt_ms(health)} vs {fmt_ms(axum)}: {ratio(axum, health):.2f}x", health <= axum)
    users, axum = cold_p50(results, "users-v1", "ours"), cold_p50(results, "users-v1", "axum")
    row("cold start, users GET (SQLite): no slower than lambda_http + axum",
        f"{fmt_ms(users)} vs {fmt_ms(axum)}: {ratio(axum, users):.2f}x", users <= axum)
    deployed = deployed_p50(results)
    if deployed is not None:
        case = results["cold_start_deployed"]
        row(f"cold start, users configured as deployed (DynamoDB): within {DEPLOYED_VS_HEALTH}x of `health`'s /ping",
            f"{fmt_ms(deployed)} vs {fmt_ms(health)}: {ratio(deployed, health):.2f}x (same rounds; "
            f"{case['request']}, answered {case['answer']['status']} before the store)",
            deployed <= DEPLOYED_VS_HEALTH * health)
    # --- in-process
    if all("floor" in r for r in inproc):
        vs_floor = sorted(((r["ours"]["min_ns"] / r["floor"]["min_ns"], r["name"]) for r in inproc), reverse=True)
        over = [name for value, name in vs_floor if value > FLOOR_LIMIT]
        row(f"in-process, every case ({count}): ours within {FLOOR_LIMIT}x of the floor",
            f"worst {vs_floor[0][0]:.2f}x ({vs_floor[0][1]}), best {vs_floor[-1][0]:.2f}x ({vs_floor[-1][1]})"
            + (f"; above {FLOOR_LIMIT}x on {'all' if len(over) == count else ', '.join(over)}" if over else ""),
            not over)
    vs_axum = sorted(((r["ours"]["min_ns"] / r["axum"]["min_ns"], r["name"]) for r in inproc), reverse=True)
    above_axum = [f"{name} ({value:.2f}x)" for value, name in vs_axum if value > 1]
    row(f"in-process, every case ({count}): not above lambda_http + axum",
        f"above (ours ÷ axum) on: {', '.join(above_axum)}" if above_axum
        else f"never above (ours ÷ axum {vs_axum[-1][0]:.2f}x to {vs_axum[0][0]:.2f}x)",
        not above_axum)
    if all("floor" in r for r in inproc):
        room = [r for r in inproc if r["floor"]["min_ns"] <= r["mangum"]["min_ns"] / MANGUM_FACTOR]
        no_room = [r for r in inproc if r not in room]
        worst_room = min(((r["mangum"]["min_ns"] / r["ours"]["min_ns"], r["name"]) for r in room), default=None)
        worst_floor = max(((r["ours"]["min_ns"] / r["floor"]["min_ns"], r["name"]) for r in no_room), default=None)
        parts = []
        if worst_room:
            short = [r["name"] for r in room if r["mangum"]["min_ns"] < MANGUM_FACTOR * r["ours"]["min_ns"]]
            parts.append(f"{len(room)} cases with room: lowest {worst_room[0]:.1f}x ({worst_room[1]})"
                         + (f", under {MANGUM_FACTOR}x on {len(short)}: {', '.join(short)}" if short else ""))
        if worst_floor:
            names = ", ".join(r["name"] for r in no_room)
            parts.append(
                f"the floor itself costs more than Mangum / {MANGUM_FACTOR} on {names}: there the target is "
                f"ours within {FLOOR_LIMIT}x of the floor (worst {worst_floor[0]:.2f}x, {worst_floor[1]})")
        row(f"in-process: at least {MANGUM_FACTOR}x below FastAPI + Mangum wherever the floor is at most "
            f"Mangum / {MANGUM_FACTOR} (elsewhere: within {FLOOR_LIMIT}x of the floor)",
            "; ".join(parts),
            (worst_room is None or worst_room[0] >= MANGUM_FACTOR)
            and (worst_floor is None or worst_floor[0] <= FLOOR_LIMIT))
        big = [r for r in inproc if r["name"].startswith("echo-100k-")]
        if big:
            ratios = [(r["ours"]["min_ns"] / r["floor"]["min_ns"], r) for r in big]
            row(f"in-process, 100 KiB bodies: ours within {BODY_FLOOR_LIMIT}x of the floor",
                "; ".join(f"{r['name']} {fmt_ns(r['ours']['min_ns'])} vs {fmt_ns(r['floor']['min_ns'])}: {v:.2f}x"
                          for v, r in ratios),
                all(v <= BODY_FLOOR_LIMIT for v, _ in ratios))
    costs = per_kib(results, "ours")
    flat = flatness(costs)
    if flat is not None:
        row(f"in-process, cost per KiB of body flat from 10 KiB to 1 MiB (REST v1 echo, net of the 100 B case): "
            f"max ÷ min at most {PER_KIB_FLAT}",
            ", ".join(f"{BODIES[label]} {fmt_ns(costs[label])}/KiB" for label in PER_KIB_FROM)
            + f": {flat:.2f}" + (f" (1 KiB: {fmt_ns(costs['1k'])}/KiB, not counted)" if costs["1k"] else ""),
            flat <= PER_KIB_FLAT)
    # --- warm
    floor = results.get("warm_floor")
    if floor:
        ours = results["warm"]["ping-v1"]["ours"]["per_second"]
        row(f"warm, article /ping via the Runtime API: invocations/s at least {WARM_FLOOR_SHARE:.0%} of the "
            "null-function's (the Runtime API floor)",
            f"{ours:,.0f} vs {floor['per_second']:,.0f}: {ours / floor['per_second']:.0%}",
            ours >= WARM_FLOOR_SHARE * floor["per_second"])
    # --- memory
    for event, label in EVENTS.items():
        ours_peak = memory(results, event, "ours")[2]
        mangum_peak = memory(results, event, "mangum")[2]
        row(f"peak RSS, {label}: at least {RSS_FACTOR}x below FastAPI + Mangum",
            f"{fmt_kb(ours_peak)} vs {fmt_kb(mangum_peak)}: {ratio(mangum_peak, ours_peak):.1f}x",
            mangum_peak >= RSS_FACTOR * ours_peak)
        first, last, _ = memory(results, event, "ours")
        checkpoints = results["warm"][event]["ours"]["memory"]
        row(f"no RSS growth, {label}, between {checkpoints[0]['invocations']:,} and "
            f"{checkpoints[-1]['invocations']:,} invocations (within {LEAK_TOLERANCE_KB} kB)",
            f"{fmt_kb(first)} -> {fmt_kb(last)} ({last - first:+,} kB)",
            last - first <= LEAK_TOLERANCE_KB)
    # --- size
    size = results["size"]
    users_bin = size["ours"]["binaries"].get("users")
    if users_bin is not None:
        row(f"`users` binary at most {fmt_bytes(USERS_BINARY_LIMIT)} stripped", fmt_bytes(users_bin),
            users_bin <= USERS_BINARY_LIMIT)
    layer_gz = size["ours"]["layer_gz_bytes"]
    row(f"image's added layer at most {fmt_bytes(LAYER_GZ_LIMIT)} gzip (all {len(size['ours']['binaries'])} functions)",
        f"{fmt_bytes(layer_gz)} (lambda_http + axum {fmt_bytes(size['axum']['layer_gz_bytes'])})",
        layer_gz <= LAYER_GZ_LIMIT)
    return rows


# --- formatting ---------------------------------------------------------------


def fmt_ns(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_ms(ms):
    return fmt_ns(None if ms is None else ms * 1e6)


def fmt_us(us):
    return fmt_ns(None if us is None else us * 1e3)


def fmt_kb(kb):
    return "n/a" if kb is None else f"{kb / 1024:.1f} MiB"


def fmt_bytes(n):
    if n is None:
        return "n/a"
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MiB"
    return f"{n / 1024:.0f} KiB"


def fmt_x(value):
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    return f"{value:.2f}x"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- markdown -----------------------------------------------------------------


def summary_rows(results):
    """(measure, ours, axum, mangum, floor, axum/ours, mangum/ours, ours/floor):
    the peer ratios > 1 favour ours; the floor ratio is how many times the
    floor's cost ours pays (1.00x is the floor, lower is better)."""
    rows = []

    def cost(measure, values, fmt, floor=None):
        ours, axum, mangum = values
        rows.append((measure, fmt(ours), fmt(axum), fmt(mangum), fmt(floor),
                     fmt_x(ratio(axum, ours)), fmt_x(ratio(mangum, ours)), fmt_x(ratio(ours, floor))))

    def gain(measure, values, fmt, floor=None):
        ours, axum, mangum = values
        rows.append((measure, fmt(ours), fmt(axum), fmt(mangum), fmt(floor),
                     fmt_x(ratio(ours, axum)), fmt_x(ratio(ours, mangum)), fmt_x(ratio(floor, ours))))

    for event, label in EVENTS.items():
        cost(f"cold start, {label} (p50)", [cold_p50(results, event, p) for p in PEERS], fmt_ms)
    deployed = deployed_p50(results)
    if deployed is not None:
        rows.append(("cold start, users as deployed (DynamoDB), GET of an unknown id, 404 before the store (p50)",
                     fmt_ms(deployed), "n/a (not run)", "n/a (not run)", "n/a", "n/a", "n/a", "n/a"))
    warm = results["warm"]["ping-v1"]
    floor = results.get("warm_floor") or {}
    n = warm["ours"]["invocations"]
    gain(f"warm, article /ping via Runtime API: invocations/s ({n:,} back to back)",
         [warm[p]["per_second"] for p in PEERS], lambda v: "n/a" if v is None else f"{v:,.0f}",
         floor.get("per_second"))
    for q in ("p50", "p99"):
        cost(f"warm, article /ping via Runtime API: {q} latency",
             [warm[p]["latency_us"][q] for p in PEERS], fmt_us, floor.get("latency_us", {}).get(q))
    for case, label in (("ping-v1", "article /ping, REST v1"), ("ping-v2", "/ping, HTTP API v2"),
                        ("echo-100k-v1", "100 KiB body, REST v1"), ("echo-100k-v2", "100 KiB body, HTTP API v2"),
                        ("echo-1m-v1", "1 MiB body, REST v1"), ("routes-1000", "last of 1,000 routes")):
        if inproc_row(results, case):
            cost(f"per-request cost in-process, {label}", [inproc_ns(results, case, p) for p in PEERS], fmt_ns,
                 inproc_ns(results, case, "floor"))
    for event, label in EVENTS.items():
        cost(f"peak RSS after {n:,} invocations, {label}", [memory(results, event, p)[2] for p in PEERS], fmt_kb)
    size = results["size"]
    axum_bin = size["axum"]["binaries"]["axum-peer"]
    for function in ("health", "users"):
        ours_bin = size["ours"]["binaries"][function]
        rows.append((f"stripped binary (ours: `{function}`; the axum peer: its one binary)", fmt_bytes(ours_bin),
                     fmt_bytes(axum_bin), "n/a (Python)", "n/a", fmt_x(ratio(axum_bin, ours_bin)), "n/a", "n/a"))
    count = len(size["ours"]["binaries"])
    cost(f"image's added layer, gzip (ours: all {count} functions)",
         [size[p]["layer_gz_bytes"] for p in PEERS], fmt_bytes)
    return rows


SUMMARY_HEADER = ["measure", LABELS["ours"], LABELS["axum"], LABELS["mangum"], "floor", "vs axum", "vs Mangum",
                  "vs floor"]
RATIOS_NOTE = (
    "Ratios: *vs axum* and *vs Mangum* are peer ÷ ours for costs (time, memory, size) and ours ÷ peer for "
    "throughput: above 1 means ours is better. *vs floor* is ours ÷ floor for costs (floor ÷ ours for "
    "throughput): how many times the floor's cost ours pays, 1.00x being the floor; lower is better. The "
    "floor is, in process, one borrowed `serde_json` pass over the event into the fields a request needs; "
    "through the Runtime API, the null-function (a `lambda_runtime` function answering a constant); n/a "
    "where there is none."
)


def markdown(results):
    meta = results["meta"]
    m = meta["machine"]
    v = meta["versions"]
    crates = v["crates"]
    pypi = v["pypi"]
    plan = meta["plan"]
    out = ["# Benchmark results", ""]
    if meta.get("noisy"):
        out += ["**NOISY RUN: not for publishing.** Why:", ""]
        out += [f"- {reason}" for reason in meta.get("noise_reasons", [])]
        out += [""]
    load = f"load average before {meta['load_before'][0]}"
    if "load_at_start" in meta:
        load += f" (sampled before the build), when measuring began {meta['load_at_start'][0]}"
    out += [
        f"- **Date**: {meta['date']} · **mode**: {meta['mode']} · **command**: `{meta['command']}` "
        f"(took {meta['seconds']:.0f} s after the build)",
        f"- **Code**: {meta.get('source', 'unknown')}",
        f"- **Machine**: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, Linux {m['kernel']}; "
        f"{load}, after {meta['load_after'][0]}"
        + (f"; run at niceness {meta['niceness']}" if meta.get("niceness") else ""),
        f"- **Noise**: " + ("**noisy** (above)" if meta.get("noisy") else "quiet" if "noisy" in meta else "not checked")
        + (f" (limits: load average {meta['noise_limits']['load']} before the run; median batch or warm segment "
           f"at most {meta['noise_limits']['spread']}x the best, for ours and the floor)" if "noise_limits" in meta
           else ""),
        f"- **Versions**: {v['rustc']}; lambda_runtime {crates['lambda_runtime']}, "
        f"lambda_http {crates['lambda_http']}, axum {crates['axum']}, matchit {crates['matchit']}; "
        f"Python {v['python']}, fastapi {pypi['fastapi']}, starlette {pypi['starlette']}, "
        f"pydantic {pypi['pydantic']}, mangum {pypi['mangum']}, awslambdaric {pypi['awslambdaric']}",
        f"- **Plan**: {plan['cold_trials']} cold starts per function and event; "
        f"{plan['warm_invocations']:,} warm invocations (statistics skip the first {plan['warm_warmup']}); "
        f"in-process {plan['inproc_rounds']} timed batches over {plan['inproc_seconds']} s per case",
        "",
        RATIOS_NOTE + " Method: [bench/README.md](../README.md).",
        "",
        "![chart](chart.svg)",
        "",
        "## Summary",
        "",
        table(SUMMARY_HEADER, summary_rows(results)),
        "",
        "## Targets",
        "",
        table(["target", "measured (ours vs peer)", "met"],
              [(t["target"], t["measured"], "yes" if t["met"] else "**no**") for t in results["targets"]]),
        "",
        "## Cold start: process start to first response",
        "",
    ]
    rows = []
    for event, label in EVENTS.items():
        for peer in PEERS:
            c = results["cold_start"][event][peer]
            f, i = c["first_response_ms"], c["init_ms"]
            rows.append((label, LABELS[peer], fmt_ms(f["p50"]), fmt_ms(f["min"]), fmt_ms(f["max"]),
                         fmt_ms(i["p50"]), f["count"]))
    deployed = results.get("cold_start_deployed")
    if deployed:
        f, i = deployed["first_response_ms"], deployed["init_ms"]
        rows.append(("users as deployed (DynamoDB), GET of an unknown id", "ours (`users`)", fmt_ms(f["p50"]),
                     fmt_ms(f["min"]), fmt_ms(f["max"]), fmt_ms(i["p50"]), f["count"]))
    out += [table(["event", "function", "p50", "min", "max", "init p50 (to first /next)", "starts"], rows), ""]
    if deployed:
        out += [f"*users as deployed*: the `users` binary with {deployed['config']}; the request is "
                f"{deployed['request']}, answered {deployed['answer']['status']} "
                f"`{json.dumps(deployed['answer']['body'])}` before the store is reached. Its starts take turns "
                "with the /ping ones: each right after each other function's equally often.", ""]
    out += ["## Warm: back-to-back invocations through the Runtime API", ""]
    rows = []
    for event, label in EVENTS.items():
        for peer in PEERS:
            w = results["warm"][event][peer]
            lat = w["latency_us"]
            mem = w["memory"]
            rss = " → ".join(f"{fmt_kb(p['rss_kb'])} @{p['invocations']:,}" for p in mem)
            rows.append((label, LABELS[peer], f"{w['per_second']:,.0f}", fmt_us(lat["p50"]), fmt_us(lat["p90"]),
                         fmt_us(lat["p99"]), fmt_us(lat["max"]), rss, fmt_kb(mem[-1]["peak_kb"])))
    floor = results.get("warm_floor")
    if floor:
        lat = floor["latency_us"]
        rows.append(("article /ping", "*floor: a lambda_runtime function answering a constant*",
                     f"{floor['per_second']:,.0f}", fmt_us(lat["p50"]), fmt_us(lat["p90"]), fmt_us(lat["p99"]),
                     fmt_us(lat["max"]), "", fmt_kb(floor["memory"][-1]["peak_kb"])))
    out += [table(["event", "function", "invocations/s", "p50", "p90", "p99", "max", "RSS", "peak RSS"], rows), "",
            "Latency is from queuing the invocation to receiving the function's response, one invocation at "
            "a time. The floor row is the Runtime API round trip itself (the driver's HTTP and the runtime "
            "client's loop): what is above it is the function's own work.", ""]
    out += ["## In-process: per-request cost, event bytes in, response bytes out", "",
            "Per request, the best of the timed batches (each batch averages many requests; the batches of "
            "ours, the axum peer, the floor and the typed parse alternate; the median batch is in results.json).",
            ""]
    rows = []
    for r in results["inproc"]:
        o, a, g = (r[p]["min_ns"] for p in PEERS)
        f = r["floor"]["min_ns"] if "floor" in r else None
        parse = r["event_parse"]["min_ns"]
        rows.append((f"`{r['name']}`", r["desc"], fmt_ns(o), fmt_ns(a), fmt_ns(g), fmt_ns(f), fmt_x(ratio(a, o)),
                     fmt_x(ratio(g, o)), fmt_x(ratio(o, f)), f"{fmt_ns(parse)} ({parse / o:.0%})"))
    out += [table(["case", "request", LABELS["ours"], LABELS["axum"], LABELS["mangum"], "floor", "vs axum",
                   "vs Mangum", "vs floor (ours ÷ floor)", "typed event parse alone (share of ours)"], rows), "",
            "The floor and the last column are no peers and answer nothing. The floor is one `serde_json` pass "
            "over the event into a borrowed struct of the fields a request needs (REST v1, HTTP API v2 and ALB "
            "fields in one struct; `harness/src/floor.rs`): no layer that reads them can do less. The last "
            "column is `serde_json::from_str` of the event into the `aws_lambda_events` type, the first step "
            "of both Rust peers. `POST /echo` checks the body is JSON and answers it as sent in both Rust "
            "peers (`Box<RawValue>`, its text answered without a copy); FastAPI's takes it as a `dict`, as the article's handlers do.", ""]
    out += stages_section(results)
    out += ["## Scaling", "", "Per-request cost (in-process, best batch) as routes and body size grow; "
            "the request matches the last-registered route.", ""]
    rows = []
    for count in (10, 100, 1000):
        rows.append((f"{count:,} routes", *(fmt_ns(inproc_ns(results, f"routes-{count}", p)) for p in PEERS),
                     fmt_ns(inproc_ns(results, f"routes-{count}", "floor"))))
    for label, name in BODIES.items():
        if inproc_row(results, f"echo-{label}-v1"):
            rows.append((f"body {name} (REST v1 echo)",
                         *(fmt_ns(inproc_ns(results, f"echo-{label}-v1", p)) for p in (*PEERS, "floor"))))
    out += [table(["", LABELS["ours"], LABELS["axum"], LABELS["mangum"], "floor"], rows), ""]
    costs = {peer: per_kib(results, peer) for peer in ("ours", "axum", "floor")}
    rows = [(f"{BODIES[label]} ({body_bytes(results, label):,} B)", *(fmt_ns(costs[p][label]) for p in costs))
            for label in ("1k", "10k", "100k", "1m")]
    rows.append((f"max ÷ min, {BODIES[PER_KIB_FROM[0]]} to {BODIES[PER_KIB_FROM[-1]]}",
                 *(fmt_x(flatness(costs[p])) for p in costs)))
    out += ["## Cost per KiB of body", "",
            "REST v1 echo, per KiB of body, net of the 100 B case: (time at the size − time at 100 B) ÷ "
            "(its body − the 100 B body, in KiB). Flat means each KiB costs the same from 10 KiB to 1 MiB "
            f"(target: max ÷ min at most {PER_KIB_FLAT} for ours); at 1 KiB the net time is too small a "
            "difference to weigh.", "",
            table(["body", LABELS["ours"], LABELS["axum"], "floor"], rows), ""]
    size = results["size"]
    out += ["## Size", "", table(["function", "stripped binaries", "image's added layer (tar)", "same, gzip"], [
        (LABELS["ours"], ", ".join(f"{k} {fmt_bytes(b)}" for k, b in size["ours"]["binaries"].items()),
         fmt_bytes(size["ours"]["layer_bytes"]), fmt_bytes(size["ours"]["layer_gz_bytes"])),
        (LABELS["axum"], ", ".join(f"{k} {fmt_bytes(b)}" for k, b in size["axum"]["binaries"].items()),
         fmt_bytes(size["axum"]["layer_bytes"]), fmt_bytes(size["axum"]["layer_gz_bytes"])),
        (LABELS["mangum"], "n/a: fastapi + mangum and their dependencies, and the app's source",
         fmt_bytes(size["mangum"]["layer_bytes"]), fmt_bytes(size["mangum"]["layer_gz_bytes"])),
    ]), ""]
    probe = results["article_event"]
    out += ["## The article's event, verbatim", "",
            "Its `multiValueHeaders` hold a header with an empty name. The measures above use the event "
            "without that one header, so that all three answer; as it is:", ""]
    out += [table(["function", "answers", "error"], [
        (LABELS[p], "yes" if probe[p]["ok"] else "**no**", (probe[p]["error"] or "").replace("|", "\\|")[:300])
        for p in PEERS
    ]), ""]
    return "\n".join(out)


# Ours' stages, in order, as bench-inproc names them, and their headings.
STAGES = {"read": "reading the event", "adapt": "building the `Request`", "handle": "routing, handler, CORS",
          "reply": "writing the response", "rest": "the rest of `App::invoke`"}


def stages_section(results):
    """Where ours spends its time, stage by stage, beside the floor; none
    when the run has no stage timings."""
    rows = [r for r in results["inproc"] if "stages" in r and "floor" in r]
    if not rows:
        return []
    table_rows = []
    for r in rows:
        floor, ours, stages = r["floor"]["min_ns"], r["ours"]["min_ns"], r["stages"]
        past_event = ours - stages["read"]
        table_rows.append((f"`{r['name']}`", fmt_ns(floor), *(fmt_ns(stages[s]) for s in STAGES), fmt_ns(ours),
                           fmt_x(ratio(stages["read"], floor)), fmt_x(ratio(past_event, floor))))
    return ["## In-process: where ours spends its time", "",
            "Ours cut short after each stage, timed in the same rounds as the table above (`bench-inproc "
            "--peers stages`): a stage is one prefix's best batch less the one before, so a small stage "
            "carries the noise of two batches and can read below zero. *Reading* is the walk over the "
            "payload (`scan`); *building* maps it onto a `Request` (headers checked, REST's two maps merged); "
            "*routing, handler, CORS* is `App::handle`; *writing* is `LambdaResponse::new` and the "
            "serialisation the runtime does; *the rest* is what `App::invoke` adds (the log line's record, "
            "moves, drops).", "",
            table(["case", "floor", *STAGES.values(), "ours", "reading ÷ floor", "past the event ÷ floor"],
                  table_rows), ""]


# --- chart --------------------------------------------------------------------


def chart(results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = results["meta"]
    fig, axes = plt.subplots(2, 4, figsize=(18, 8.5))
    fig.suptitle(
        f"ours (shared) vs lambda_http + axum vs FastAPI + Mangum: {meta['date']}, "
        f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores ({meta['mode']} run, lower is better unless noted)"
        + (" [NOISY RUN]" if meta.get("noisy") else ""),
        fontsize=11,
    )

    def short(v):
        if v >= 1000:
            return f"{v / 1000:.0f}k" if v >= 10_000 else f"{v / 1000:.1f}k"
        return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"

    def bars(ax, groups, values, title, unit, log=True, fmt=short):
        width = 0.8 / len(PEERS)
        for i, peer in enumerate(PEERS):
            xs = [g + (i - 1) * width for g in range(len(groups))]
            ys = [values[g][i] for g in range(len(groups))]
            drawn = ax.bar(xs, ys, width, color=COLORS[peer], label=LABELS[peer])
            ax.bar_label(drawn, labels=["" if y != y else fmt(y) for y in ys], fontsize=6, padding=1)
        ax.set_xticks(range(len(groups)), groups, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)

    bars(axes[0][0], list(EVENTS.values()),
         [[cold_p50(results, e, p) for p in PEERS] for e in EVENTS], "cold start (p50)", "ms")
    warm = results["warm"]
    bars(axes[0][1], ["p50 /ping", "p99 /ping", "p50 users", "p99 users"],
         [[warm[e][p]["latency_us"][q] for p in PEERS] for e in EVENTS for q in ("p50", "p99")],
         "warm latency via Runtime API", "µs")
    bars(axes[0][2], list(EVENTS.values()),
         [[warm[e][p]["per_second"] for p in PEERS] for e in EVENTS],
         "warm invocations/s (higher is better)", "invocations/s")
    cases = ["ping-v1", "ping-v2", "echo-100k-v1", "echo-100k-v2"]
    bars(axes[0][3], ["/ping v1", "/ping v2", "100 KiB v1", "100 KiB v2"],
         [[inproc_ns(results, c, p) / 1e3 for p in PEERS] for c in cases], "per request, in-process", "µs")
    bars(axes[1][0], list(EVENTS.values()),
         [[memory(results, e, p)[2] / 1024 for p in PEERS] for e in EVENTS],
         f"peak RSS after {warm['ping-v1']['ours']['invocations']:,} invocations", "MiB", log=False,
         fmt=lambda v: f"{v:.1f}")
    size = results["size"]
    nan = float("nan")
    axum_bin = size["axum"]["binaries"]["axum-peer"] / 2**20
    bars(axes[1][1], ["binary: health", "binary: users", "image layer (gzip)"],
         [[size["ours"]["binaries"]["health"] / 2**20, axum_bin, nan],
          [size["ours"]["binaries"]["users"] / 2**20, axum_bin, nan],
          [size[p]["layer_gz_bytes"] / 2**20 for p in PEERS]], "size (stripped; axum: its one binary)", "MiB",
         log=False, fmt=lambda v: f"{v:.1f}")
    bodies = [label for label in BODIES if inproc_row(results, f"echo-{label}-v1")]
    for ax, xs, names, title, xlabel in (
        (axes[1][2], [10, 100, 1000], [f"routes-{n}" for n in (10, 100, 1000)],
         "per request vs routes in the router", "routes"),
        (axes[1][3], [NOMINAL_BYTES[label] for label in bodies], [f"echo-{label}-v1" for label in bodies],
         "per request vs JSON body size (echo)", "body bytes"),
    ):
        for peer in (*PEERS, "floor"):
            values = [inproc_ns(results, n, peer) for n in names]
            if None in values:
                continue
            label = "floor (in process: one borrowed parse of the event)" if peer == "floor" else LABELS[peer]
            ax.plot(xs, [v / 1e3 for v in values], marker="o", color=COLORS[peer], label=label,
                    linestyle="--" if peer == "floor" else "-")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("µs")
        ax.grid(alpha=0.3)
    handles, labels = axes[1][2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), bbox_to_anchor=(0.5, 0.955), fontsize=9,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    fig.savefig(out / "chart.svg", metadata={"Date": None})
    fig.savefig(out / "chart.png", dpi=80)
    plt.close(fig)


def write(results, out):
    out = Path(out)
    (out / "results.md").write_text(markdown(results) + "\n")
    chart(results, out)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "results")
    data = json.loads((folder / "results.json").read_text())
    data["targets"] = targets(data)
    write(data, folder)
