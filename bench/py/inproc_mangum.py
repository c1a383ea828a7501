"""In-process cost of one request through FastAPI + Mangum: event bytes in,
response bytes out, as awslambdaric does per invocation minus the Runtime
API's HTTP: ``json.loads(payload)``, ``handler(event, context)``,
``json.dumps(result)``.

The method is the one of ``bench-inproc`` (Rust): run the case for the
warm-up time to estimate one call's cost, size a batch to last
``seconds / rounds``, time ``rounds`` batches with ``time.perf_counter_ns``,
report per-call nanoseconds: the best batch (the one other load on the
machine disturbed least, as ``timeit`` advises), the median and the worst. Every
case's answer is checked before it is timed.

Usage: python inproc_mangum.py --cases FILE --app-dir DIR
       [--seconds S] [--warmup S] [--rounds N]
Prints ``{"cases": [{"name", "mangum": {...}}]}`` on stdout.
"""

import argparse
import json
import statistics
import sys
import time


class Context:
    """The parts of awslambdaric's LambdaContext a handler may read."""

    function_name = "mangum-peer"
    function_version = "1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:mangum-peer"
    memory_limit_in_mb = 128
    aws_request_id = "bench-request"
    log_group_name = "/aws/lambda/mangum-peer"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis():
        return 900_000


def article_handler():
    """The article's ``main.handler``, its app extended with ``POST /echo``."""
    import main  # the article's module, from --app-dir

    @main.app.post("/echo")
    async def echo(payload: dict):
        return payload

    return main.handler


def many_routes_handler(count):
    """``count`` routes ``GET /r{i}/items/{id}`` answering the ping body."""
    from fastapi import FastAPI
    from mangum import Mangum

    async def pong():
        return {"Success": "Pong!"}

    app = FastAPI()
    for i in range(count):
        app.add_api_route(f"/r{i}/items/{{id}}", pong, methods=["GET"])
    return Mangum(app)


def handler_for(app, cache={}):
    if app not in cache:
        if app == "article":
            cache[app] = article_handler()
        elif app.startswith("routes:"):
            cache[app] = many_routes_handler(int(app.split(":", 1)[1]))
        else:
            raise SystemExit(f"unknown app {app!r}")
    return cache[app]


def check(case, payload, answer):
    result = json.loads(answer)
    expected = case["body"]
    if expected == "$echo":
        expected = json.loads(json.loads(payload)["body"])
    body = json.loads(result.get("body") or "null")
    if result.get("statusCode") != case.get("status", 200) or body != expected:
        raise SystemExit(f"mangum answered case {case['name']} wrongly: {answer[:400]}")


def measure(call, seconds, warmup, rounds):
    started = time.perf_counter()
    calls = 0
    while time.perf_counter() - started < warmup:
        call()
        calls += 1
    per_call = (time.perf_counter() - started) / calls
    batch = max(1, int(-(-(seconds / rounds) // per_call)))
    per_call_ns = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(batch):
            call()
        per_call_ns.append((time.perf_counter_ns() - t0) / batch)
    return {
        "min_ns": min(per_call_ns),
        "median_ns": statistics.median(per_call_ns),
        "max_ns": max(per_call_ns),
        "batch": batch,
        "rounds": rounds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", required=True)
    parser.add_argument("--app-dir", required=True)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    sys.path.insert(0, args.app_dir)
    with open(args.cases) as f:
        cases = json.load(f)
    context = Context()
    rows = []
    for case in cases:
        handler = handler_for(case["app"])
        with open(case["event"]) as f:
            payload = f.read()

        def call(handler=handler, payload=payload):
            return json.dumps(handler(json.loads(payload), context))

        check(case, payload, call())
        measured = measure(call, args.seconds, args.warmup, args.rounds)
        print(f"  {case['name']:<18} mangum      {measured['min_ns']:>12.0f} ns/request (best batch)", file=sys.stderr)
        rows.append({"name": case["name"], "mangum": measured})
    json.dump({"cases": rows}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
