#!/usr/bin/env bash
# The OpenAPI document and /docs, checked by real tools against the local
# API: cargo lambda watch at the production paths, embedded SQLite store.
#   1. openapi-spec-validator accepts the served document;
#   2. schemathesis (bounded) finds no server error, no response off its
#      schema and no undocumented status;
#   3. headless Chromium loads /docs; the Swagger UI assets come from a
#      public CDN that is unreachable offline, so the check is on the
#      rendered DOM: the page's script reads the right document URL.
# Usage: tests/openapi.sh   (SCHEMATHESIS_MAX_EXAMPLES, default 30)
# A missing tool skips (exit 77) on a laptop; under CI=true it fails.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WATCH_PID=""
cleanup() {
  if [[ -n "$WATCH_PID" ]]; then
    kill -- -"$WATCH_PID" 2>/dev/null || kill "$WATCH_PID" 2>/dev/null || true
    wait "$WATCH_PID" 2>/dev/null || true
  fi
}

need cargo-lambda
need openapi-spec-validator
need schemathesis
need chromium
need curl

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
cargo build --quiet --locked -p health -p users -p docs
# Own process group, so cleanup stops the watcher and the functions it runs.
setsid cargo lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$port" \
  --disable-cors --env-var "USERS_DB_PATH=$WORK/users.sqlite3" >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!

# The watcher starts each function on its first request: wait for all three.
ready() {
  for path in /ping /api/v1/users /openapi.json; do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' -m 30 "$base$path")" == 200 ]] || return 1
  done
}
for _ in $(seq 1 120); do ready && break; sleep 1; done
if ! ready; then
  echo "not ok - the local API starts"; tail -40 "$WORK/watch.log" | sed 's/^/#   /'
  FAILED=$((FAILED + 1)); summary; exit 1
fi

curl -s -m 10 "$base/openapi.json" >"$WORK/openapi.json"

case_spec_valid() {
  openapi-spec-validator "$WORK/openapi.json"
  python3 - "$WORK/openapi.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["openapi"].startswith("3.1"), doc["openapi"]
assert doc["servers"] == [{"url": "/"}], doc["servers"]
print(sorted(doc["paths"]))
PY
}

case_schemathesis() {
  PYTHONPATH="$PWD/tests" SCHEMATHESIS_HOOKS=schemathesis_hooks schemathesis run "$base/openapi.json" --url "$base" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" --seed 20261126 \
    --phases examples,coverage,fuzzing --workers 1 --request-timeout 20 \
    --generation-database none --no-color
}

case_docs_page() {
  local profile="$WORK/chromium"
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --virtual-time-budget=5000 --dump-dom "$base/docs" >"$WORK/dom.html" 2>"$WORK/chromium.log"
  grep -q '<div id="swagger-ui">' "$WORK/dom.html"
  grep -q 'url: "/openapi.json"' "$WORK/dom.html"
  grep -q 'swagger-ui-bundle.js' "$WORK/dom.html"
  echo "rendered /docs reads /openapi.json"
}

run_case "openapi-spec-validator accepts the served OpenAPI 3.1 document" case_spec_valid
run_case "schemathesis: no server error, responses match the schema and documented statuses" case_schemathesis
run_case "headless Chromium renders /docs reading /openapi.json" case_docs_page
summary
((FAILED == 0))
