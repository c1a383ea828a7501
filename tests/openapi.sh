#!/usr/bin/env bash
# The OpenAPI document and /docs, checked by real tools against the local
# API as scripts/dev runs it: the local REST API gateway (gateway/, stage
# `dev` in the path) in front of cargo lambda watch, embedded SQLite store.
#   1. openapi-spec-validator accepts the served document;
#   2. schemathesis with every check it has (`--checks all`) and every
#      phase, the stateful one included (bounded), finds nothing;
#   3. headless Chromium loads /docs; the Swagger UI assets come from a
#      public CDN that is unreachable offline, so the check is on the
#      rendered DOM: the page's script reads the stage's document URL.
# Usage: tests/openapi.sh   (SCHEMATHESIS_MAX_EXAMPLES, default 100; SCHEMATHESIS_SEED)
# A missing tool skips (exit 77) on a laptop; under CI=true it fails.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WATCH_PID="" GATEWAY_PID="" ISSUER_PID=""
cleanup() {
  local pid
  for pid in "$GATEWAY_PID" "$WATCH_PID" "$ISSUER_PID"; do
    [[ -n "$pid" ]] || continue
    kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

need cargo-lambda
need openapi-spec-validator
need schemathesis
need chromium
need curl

port="$(free_port)"
watch_port="$(free_port)"
stage=dev
base="http://127.0.0.1:$port/$stage"
cargo build --quiet --locked -p gateway
cargo build --quiet --locked -p testkit --bin dev-issuer
for function in $(cargo xtask functions); do
  cargo build --quiet --locked --bin "$function"
done
# The local development issuer (as scripts/dev runs it), its key in $WORK:
# the authorizer and the functions trust it, schemathesis sends its token.
issuer="${CARGO_TARGET_DIR:-target}/debug/dev-issuer"
issuer_port="$(free_port)"
"$issuer" serve --dir "$WORK/issuer" --port "$issuer_port" >"$WORK/issuer.log" 2>&1 &
ISSUER_PID=$!
while IFS= read -r setting; do
  export "${setting?}"
done < <("$issuer" env --port "$issuer_port")
token="$("$issuer" token --dir "$WORK/issuer" --scope "users:read users:write" --sub schemathesis)"
auth=(-H "Authorization: Bearer $token")
# Own process groups, so cleanup stops the watcher and the functions it runs.
# From $WORK: the users package's metadata (`.data/users.sqlite3`, relative)
# then points into it, not at the repository's dev data; cargo-lambda lets
# no flag override a package's metadata.
setsid env -C "$WORK" cargo lambda watch --manifest-path "$PWD/Cargo.toml" --ignore-changes \
  --invoke-address 127.0.0.1 --invoke-port "$watch_port" --disable-cors >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!
setsid target/debug/gateway --port "$port" --watch-port "$watch_port" --stage "$stage" \
  >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!

# The watcher starts each function on its first request: wait for all three.
ready() {
  for path in /ping /api/v1/users /openapi.json; do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' -m 30 "${auth[@]}" "$base$path")" == 200 ]] || return 1
  done
}
for _ in $(seq 1 120); do ready && break; sleep 1; done
if ! ready; then
  echo "not ok - the local API starts"
  tail -20 "$WORK/gateway.log" "$WORK/watch.log" | sed 's/^/#   /'
  FAILED=$((FAILED + 1)); summary; exit 1
fi

curl -s -m 10 "$base/openapi.json" >"$WORK/openapi.json"

case_spec_valid() {
  openapi-spec-validator "$WORK/openapi.json"
  python3 - "$WORK/openapi.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["openapi"].startswith("3.1"), doc["openapi"]
assert doc["servers"] == [{"url": "/dev"}], doc["servers"]
print(sorted(doc["paths"]))
PY
}

case_schemathesis() {
  # Every check, settings (and why) in tests/schemathesis.toml.
  schemathesis --config-file tests/schemathesis.toml run "$base/openapi.json" --url "$base" "${auth[@]}" \
    --checks all \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}" --seed "${SCHEMATHESIS_SEED:-20261126}" \
    --phases examples,coverage,fuzzing,stateful --workers 1 --request-timeout 20 \
    --generation-database none --no-color >"$WORK/schemathesis.log" 2>&1 || {
    cat "$WORK/schemathesis.log"
    return 1
  }
  # The store the run wrote is the suite's own.
  [[ -s "$WORK/.data/users.sqlite3" ]] || { echo "the users store is not under the suite's directory"; return 1; }
  # What ran, in the suite's output.
  grep -E '^ *(Tested:|Scenarios:|[0-9]+ generated,)|No issues found' "$WORK/schemathesis.log" | sed 's/^ */# /'
}

case_docs_page() {
  local profile="$WORK/chromium"
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --virtual-time-budget=5000 --dump-dom "$base/docs" >"$WORK/dom.html" 2>"$WORK/chromium.log"
  grep -q '<div id="swagger-ui" data-url="/dev/openapi.json">' "$WORK/dom.html"
  grep -q 'url: root.dataset.url' "$WORK/dom.html"
  grep -qE '<script src="[^"]*swagger-ui-bundle.js" integrity="sha384-' "$WORK/dom.html"
  echo "rendered /dev/docs reads /dev/openapi.json"
}

run_case "openapi-spec-validator accepts the served OpenAPI 3.1 document" case_spec_valid
run_case "schemathesis --checks all, stateful phase included, finds nothing" case_schemathesis
run_case "headless Chromium renders /dev/docs reading /dev/openapi.json" case_docs_page
summary
((FAILED == 0))
