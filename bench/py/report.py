"""Turns results.json into results.md (tables) and chart.svg / chart.png.

``python bench/py/report.py DIR`` rewrites DIR/results.md and the chart from
DIR/results.json; ``bench/py/run.py`` calls :func:`write` after measuring.
"""

import json
import sys
from pathlib import Path

PEERS = ("ours", "axum", "mangum")
LABELS = {"ours": "ours (shared)", "axum": "lambda_http + axum", "mangum": "FastAPI + Mangum"}
COLORS = {"ours": "#1b9e77", "axum": "#7570b3", "mangum": "#d95f02"}
EVENTS = {"ping-v1": "article /ping", "users-v1": "users GET"}
LEAK_TOLERANCE_KB = 256


# --- numbers ------------------------------------------------------------------


def cold_p50(results, event, peer):
    return results["cold_start"][event][peer]["first_response_ms"]["p50"]


def inproc_ns(results, case, peer):
    """The best batch's per-request time (see bench/README.md, in-process)."""
    for row in results["inproc"]:
        if row["name"] == case:
            return row[peer]["min_ns"]
    raise KeyError(case)


def memory(results, event, peer):
    """(RSS at the first checkpoint, RSS at the last, peak at the last), kB."""
    points = results["warm"][event][peer]["memory"]
    return points[0]["rss_kb"], points[-1]["rss_kb"], points[-1]["peak_kb"]


def ratio(peer_value, ours_value):
    return peer_value / ours_value if ours_value else float("inf")


def targets(results):
    """Each target of the issue, with what this run measured."""
    rows = []
    for event, label in EVENTS.items():
        ours, axum, mangum = (cold_p50(results, event, p) for p in PEERS)
        rows.append({
            "target": f"cold start, {label}: at least 20x faster than FastAPI + Mangum",
            "measured": f"{fmt_ms(ours)} vs {fmt_ms(mangum)}: {ratio(mangum, ours):.1f}x",
            "met": mangum >= 20 * ours,
        })
        rows.append({
            "target": f"cold start, {label}: no slower than lambda_http + axum",
            "measured": f"{fmt_ms(ours)} vs {fmt_ms(axum)}: {ratio(axum, ours):.2f}x",
            "met": ours <= axum,
        })
    ours, axum, mangum = (inproc_ns(results, "ping-v1", p) for p in PEERS)
    rows.append({
        "target": "warm per-request overhead (in-process, article /ping): at least 50x lower than Mangum's",
        "measured": f"{fmt_ns(ours)} vs {fmt_ns(mangum)}: {ratio(mangum, ours):.0f}x",
        "met": mangum >= 50 * ours,
    })
    rows.append({
        "target": "warm per-request overhead (in-process, article /ping): not above lambda_http + axum's",
        "measured": f"{fmt_ns(ours)} vs {fmt_ns(axum)}: {ratio(axum, ours):.2f}x",
        "met": ours <= axum,
    })
    worst_mangum = min(
        ((ratio(r["mangum"]["min_ns"], r["ours"]["min_ns"]), r["name"]) for r in results["inproc"])
    )
    above_axum = [r["name"] for r in results["inproc"] if r["ours"]["min_ns"] > r["axum"]["min_ns"]]
    rows.append({
        "target": f"same, on every in-process case ({len(results['inproc'])}): at least 50x lower than Mangum's",
        "measured": f"lowest ratio {worst_mangum[0]:.0f}x ({worst_mangum[1]})",
        "met": worst_mangum[0] >= 50,
    })
    rows.append({
        "target": f"same, on every in-process case ({len(results['inproc'])}): not above lambda_http + axum's",
        "measured": "above on: " + ", ".join(above_axum) if above_axum else "never above",
        "met": not above_axum,
    })
    for event, label in EVENTS.items():
        ours_peak = memory(results, event, "ours")[2]
        mangum_peak = memory(results, event, "mangum")[2]
        rows.append({
            "target": f"peak RSS, {label}: at least 5x below FastAPI + Mangum",
            "measured": f"{fmt_kb(ours_peak)} vs {fmt_kb(mangum_peak)}: {ratio(mangum_peak, ours_peak):.1f}x",
            "met": mangum_peak >= 5 * ours_peak,
        })
        first, last, _ = memory(results, event, "ours")
        checkpoints = results["warm"][event]["ours"]["memory"]
        rows.append({
            "target": (
                f"no RSS growth, {label}, between {checkpoints[0]['invocations']:,} and "
                f"{checkpoints[-1]['invocations']:,} invocations (within {LEAK_TOLERANCE_KB} kB)"
            ),
            "measured": f"{fmt_kb(first)} -> {fmt_kb(last)} ({last - first:+,} kB)",
            "met": last - first <= LEAK_TOLERANCE_KB,
        })
    return rows


# --- formatting ---------------------------------------------------------------


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fmt_ms(ms):
    return fmt_ns(ms * 1e6)


def fmt_us(us):
    return fmt_ns(us * 1e3)


def fmt_kb(kb):
    return f"{kb / 1024:.1f} MiB"


def fmt_bytes(n):
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MiB"
    return f"{n / 1024:.0f} KiB"


def fmt_x(value):
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
    """(measure, ours, axum, mangum, axum/ours, mangum/ours): ratios > 1 favour ours."""
    rows = []

    def cost(measure, values, fmt):
        ours, axum, mangum = values
        rows.append((measure, fmt(ours), fmt(axum), fmt(mangum),
                     fmt_x(ratio(axum, ours)), fmt_x(ratio(mangum, ours))))

    def gain(measure, values, fmt):
        ours, axum, mangum = values
        rows.append((measure, fmt(ours), fmt(axum), fmt(mangum),
                     fmt_x(ratio(ours, axum)), fmt_x(ratio(ours, mangum))))

    for event, label in EVENTS.items():
        cost(f"cold start, {label} (p50)", [cold_p50(results, event, p) for p in PEERS], fmt_ms)
    warm = results["warm"]["ping-v1"]
    n = warm["ours"]["invocations"]
    gain(f"warm, article /ping via Runtime API: invocations/s ({n:,} back to back)",
         [warm[p]["per_second"] for p in PEERS], lambda v: f"{v:,.0f}")
    cost("warm, article /ping via Runtime API: p50 latency",
         [warm[p]["latency_us"]["p50"] for p in PEERS], fmt_us)
    cost("warm, article /ping via Runtime API: p99 latency",
         [warm[p]["latency_us"]["p99"] for p in PEERS], fmt_us)
    for case, label in (("ping-v1", "article /ping, REST v1"), ("ping-v2", "/ping, HTTP API v2"),
                        ("echo-100k-v1", "100 KiB body, REST v1"), ("echo-100k-v2", "100 KiB body, HTTP API v2")):
        cost(f"per-request cost in-process, {label}", [inproc_ns(results, case, p) for p in PEERS], fmt_ns)
    cost(f"peak RSS after {n:,} invocations (/ping)", [memory(results, "ping-v1", p)[2] for p in PEERS], fmt_kb)
    size = results["size"]
    axum_bin = size["axum"]["binaries"]["axum-peer"]
    for function in ("health", "users"):
        ours_bin = size["ours"]["binaries"][function]
        rows.append((f"stripped binary (ours: `{function}`; the axum peer: its one binary)", fmt_bytes(ours_bin),
                     fmt_bytes(axum_bin), "n/a (Python)", fmt_x(ratio(axum_bin, ours_bin)), "n/a"))
    count = len(size["ours"]["binaries"])
    cost(f"image's added layer, gzip (ours: all {count} functions)",
         [size[p]["layer_gz_bytes"] for p in PEERS], fmt_bytes)
    return rows


def markdown(results):
    meta = results["meta"]
    m = meta["machine"]
    v = meta["versions"]
    crates = v["crates"]
    pypi = v["pypi"]
    plan = meta["plan"]
    out = [
        "# Benchmark results",
        "",
        f"- **Date**: {meta['date']} · **mode**: {meta['mode']} · **command**: `{meta['command']}` "
        f"(took {meta['seconds']:.0f} s after the build)",
        f"- **Code**: {meta.get('source', 'unknown')}",
        f"- **Machine**: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, Linux {m['kernel']}; "
        f"load average before {meta['load_before'][0]}, after {meta['load_after'][0]}"
        + (f"; run at niceness {meta['niceness']}" if meta.get("niceness") else ""),
        f"- **Versions**: {v['rustc']}; lambda_runtime {crates['lambda_runtime']}, "
        f"lambda_http {crates['lambda_http']}, axum {crates['axum']}, matchit {crates['matchit']}; "
        f"Python {v['python']}, fastapi {pypi['fastapi']}, starlette {pypi['starlette']}, "
        f"pydantic {pypi['pydantic']}, mangum {pypi['mangum']}, awslambdaric {pypi['awslambdaric']}",
        f"- **Plan**: {plan['cold_trials']} cold starts per function and event; "
        f"{plan['warm_invocations']:,} warm invocations (statistics skip the first {plan['warm_warmup']}); "
        f"in-process {plan['inproc_rounds']} timed batches over {plan['inproc_seconds']} s per case",
        "",
        "Ratios are peer ÷ ours for costs (time, memory, size) and ours ÷ peer for throughput: "
        "above 1 means ours is better. Method: [bench/README.md](../README.md).",
        "",
        "![chart](chart.svg)",
        "",
        "## Summary",
        "",
        table(["measure", LABELS["ours"], LABELS["axum"], LABELS["mangum"], "vs axum", "vs Mangum"],
              summary_rows(results)),
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
    out += [table(["event", "function", "p50", "min", "max", "init p50 (to first /next)", "starts"], rows), ""]
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
            "Per request, the best of the timed batches (each batch averages many requests; the peers' "
            "batches alternate; the median batch is in results.json).", ""]
    rows = []
    for r in results["inproc"]:
        o, a, g = (r[p]["min_ns"] for p in PEERS)
        parse = r["event_parse"]["min_ns"]
        rows.append((f"`{r['name']}`", r["desc"], fmt_ns(o), fmt_ns(a), fmt_ns(g), fmt_x(ratio(a, o)),
                     fmt_x(ratio(g, o)), f"{fmt_ns(parse)} ({parse / o:.0%})"))
    out += [table(["case", "request", LABELS["ours"], LABELS["axum"], LABELS["mangum"], "vs axum", "vs Mangum",
                   "typed event parse alone (share of ours)"], rows), "",
            "The last column is no peer: only `serde_json::from_str` of the event into the "
            "`aws_lambda_events` type, the first step of both Rust peers.", ""]
    out += ["## Scaling", "", "Per-request cost (in-process, best batch) as routes and body size grow; "
            "the request matches the last-registered route.", ""]
    rows = []
    for count in (10, 100, 1000):
        rows.append((f"{count:,} routes", *(fmt_ns(inproc_ns(results, f"routes-{count}", p)) for p in PEERS)))
    for label in ("100", "1k", "10k", "100k"):
        rows.append((f"body {label.replace('k', ' KiB') if 'k' in label else label + ' B'} (REST v1 echo)",
                     *(fmt_ns(inproc_ns(results, f"echo-{label}-v1", p)) for p in PEERS)))
    out += [table(["", LABELS["ours"], LABELS["axum"], LABELS["mangum"]], rows), ""]
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


# --- chart --------------------------------------------------------------------


def chart(results, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = results["meta"]
    fig, axes = plt.subplots(2, 4, figsize=(18, 8.5))
    fig.suptitle(
        f"ours (shared) vs lambda_http + axum vs FastAPI + Mangum: {meta['date']}, "
        f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores ({meta['mode']} run, lower is better unless noted)",
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
    for ax, xs, names, title, xlabel in (
        (axes[1][2], [10, 100, 1000], [f"routes-{n}" for n in (10, 100, 1000)],
         "per request vs routes in the router", "routes"),
        (axes[1][3], [100, 1024, 10240, 102400], [f"echo-{s}-v1" for s in ("100", "1k", "10k", "100k")],
         "per request vs JSON body size (echo)", "body bytes"),
    ):
        for peer in PEERS:
            ax.plot(xs, [inproc_ns(results, n, peer) / 1e3 for n in names], marker="o",
                    color=COLORS[peer], label=LABELS[peer])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("µs")
        ax.grid(alpha=0.3)
    handles, labels = axes[1][2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=3, bbox_to_anchor=(0.5, 0.955), fontsize=9, frameon=False)
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
