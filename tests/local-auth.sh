#!/usr/bin/env bash
# The local authentication flow, end to end, as the README shows it:
# scripts/dev (the local gateway, cargo lambda watch, the dev issuer's JWKS)
# on free ports, tokens from scripts/token. A token with the scope gets in,
# through the real authorizer function and the users function; no token, a
# forged one or one without the scope does not. Nothing is written to the
# users store (the only write attempted is refused with 403).
# Usage: tests/local-auth.sh   (needs cargo-lambda: scripts/setup python; curl)
# A missing tool skips (exit 77) on a laptop; under CI=true it fails.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DEV_PID=""
cleanup() {
  if [[ -n "$DEV_PID" ]]; then
    kill -- -"$DEV_PID" 2>/dev/null || kill "$DEV_PID" 2>/dev/null || true
    wait "$DEV_PID" 2>/dev/null || true
  fi
}

need cargo-lambda
need curl
need python3

# scripts/dev uses --port, --port + 1 (cargo lambda watch) and --port + 2
# (the issuer's JWKS): three consecutive free ports.
port="$(python3 - <<'PY'
import socket
for base in range(20000, 60000, 7):
    try:
        socks = [socket.socket() for _ in range(3)]
        for i, s in enumerate(socks):
            s.bind(("127.0.0.1", base + i))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
PY
)"
base="http://127.0.0.1:$port/dev"

# status METHOD PATH [CURL_ARGS...]: the HTTP status; the body in $WORK/body.
status() {
  local method="$1" path="$2"
  shift 2
  curl -s -m 30 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X "$method" "$@" "$base$path"
}

case_token() {
  scripts/token --scope "users:read users:write" --sub ada >"$WORK/token"
  scripts/token --scope users:read --sub bob >"$WORK/read-token"
  python3 - "$WORK/token" <<'PY'
import base64, json, sys
token = open(sys.argv[1]).read().strip()
header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in token.split(".")[:2])
assert header["alg"] == "ES256" and header["kid"], header
assert claims["sub"] == "ada" and claims["scope"] == "users:read users:write", claims
assert claims["exp"] > claims["iat"], claims
print(f"# token: ES256 kid {header['kid']}, sub {claims['sub']}, scope {claims['scope']!r}")
PY
  local mode
  mode="$(stat -c %a .data/dev-issuer/es256.pk8)"
  [[ "$mode" == 600 ]] || fail "the private key is mode $mode, not 600"
  mode="$(stat -c %a .data/dev-issuer)"
  [[ "$mode" == 700 ]] || fail "its directory is mode $mode, not 700"
  scripts/token --sub ada >"$WORK/again"
  [[ "$(cut -d. -f1 "$WORK/again")" == "$(cut -d. -f1 "$WORK/token")" ]] ||
    fail "a second token names another key: the key pair was not kept"
  echo "# .data/dev-issuer/es256.pk8 0600 in a 0700 directory, reused"
}
run_case "scripts/token signs with a key pair generated once under .data/ (0600)" case_token

# Own process group, so cleanup stops the gateway, the watcher, the
# functions and the issuer.
setsid scripts/dev --port "$port" >"$WORK/dev.log" 2>&1 &
DEV_PID=$!
for _ in $(seq 1 900); do
  [[ "$(status GET /ping 2>/dev/null)" == 200 ]] && break
  kill -0 "$DEV_PID" 2>/dev/null || break
  sleep 1
done
if [[ "$(status GET /ping)" != 200 ]]; then
  echo "not ok - scripts/dev starts"; tail -40 "$WORK/dev.log" | sed 's/^/#   /'
  FAILED=$((FAILED + 1)); summary; exit 1
fi

case_banner() {
  # shellcheck disable=SC2016 # the banner's literal $(...), not for bash
  grep -qF 'token=$(scripts/token --scope "users:read users:write" --sub ada)' "$WORK/dev.log" ||
    fail "the banner shows no token"
  grep -qF "curl -H \"Authorization: Bearer \$token\" $base/api/v1/users" "$WORK/dev.log" ||
    fail "the banner shows no curl with the token"
}
run_case "the scripts/dev banner shows how to get a token and use it with curl" case_banner

case_public() {
  [[ "$(status GET /ping)" == 200 ]] || fail "GET /ping: $(cat "$WORK/body")"
}
run_case "a public route needs no token" case_public

case_no_token() {
  local code
  code="$(status GET /api/v1/users)"
  [[ "$code" == 401 ]] || fail "no token: $code $(cat "$WORK/body")"
  python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert b["message"], b' "$WORK/body"
  grep -qi '^www-authenticate: Bearer' "$WORK/headers" || fail "no WWW-Authenticate: Bearer: $(cat "$WORK/headers")"
  code="$(status GET /api/v1/users -H 'Authorization: Basic YWRhOnNlY3JldA==')"
  [[ "$code" == 401 ]] || fail "Basic credentials: $code $(cat "$WORK/body")"
  echo "# no token: 401 $(cat "$WORK/body")"
}
run_case "no token, or not a bearer token: 401" case_no_token

case_forged() {
  local token forged code
  token="$(cat "$WORK/token")"
  # The same claims with another signature: a token this issuer never signed.
  forged="${token%.*}.$(printf 'x%.0s' {1..86})"
  code="$(status GET /api/v1/users -H "Authorization: Bearer $forged")"
  [[ "$code" == 401 ]] || fail "forged token: $code $(cat "$WORK/body")"
}
run_case "a token with a forged signature: 401" case_forged

case_token_accepted() {
  local code
  code="$(status GET /api/v1/users -H "Authorization: Bearer $(cat "$WORK/token")")"
  [[ "$code" == 200 ]] || fail "with the token: $code $(cat "$WORK/body")"
  python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); assert isinstance(b["users"], list), b' "$WORK/body"
  # Again: API Gateway's (and the gateway's) authorizer cache answers.
  code="$(status GET /api/v1/users -H "Authorization: Bearer $(cat "$WORK/token")")"
  [[ "$code" == 200 ]] || fail "again: $code"
  grep -q 'GET /dev/api/v1/users .*status=200 .*authorizer=miss' "$WORK/dev.log" ||
    fail "the gateway logged no authorizer call"
  grep -q 'GET /dev/api/v1/users .*status=200 .*authorizer=hit' "$WORK/dev.log" ||
    fail "the second request did not hit the authorizer cache"
  echo "# GET /dev/api/v1/users with the token: 200"
}
run_case "a token from scripts/token is accepted by the local API" case_token_accepted

case_scope() {
  local code
  code="$(status POST /api/v1/users -H "Authorization: Bearer $(cat "$WORK/read-token")" \
    -H 'content-type: application/json' -d '{"name":"Bob","email":"bob@example.com"}')"
  [[ "$code" == 403 ]] || fail "POST with users:read only: $code $(cat "$WORK/body")"
  cp "$WORK/body" "$WORK/refused"
  code="$(status GET /api/v1/users -H "Authorization: Bearer $(cat "$WORK/read-token")")"
  [[ "$code" == 200 ]] || fail "GET with users:read: $code"
  echo "# users:read only: GET 200, POST 403 $(cat "$WORK/refused")"
}
run_case "a token without the route's scope: 403" case_scope

# Last: stops the API. A SIGTERM to the script alone (a process manager's,
# or `kill`), not to its group as Ctrl-C sends it.
case_sigterm_stops_all() {
  local ports_free=false
  kill -TERM "$DEV_PID"
  for _ in $(seq 1 50); do
    if ! kill -0 "$DEV_PID" 2>/dev/null &&
      python3 - "$port" <<'PY'
import socket, sys
base = int(sys.argv[1])
for p in (base, base + 1, base + 2):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
    then
      ports_free=true
      break
    fi
    sleep 0.2
  done
  $ports_free || fail "after SIGTERM: $(pgrep -s "$DEV_PID" -a | head -5)"
  echo "# SIGTERM to scripts/dev: it exited; the gateway's, watch's and issuer's ports are free"
}
run_case "a SIGTERM to scripts/dev stops the gateway, cargo lambda watch and the issuer" case_sigterm_stops_all

summary
((FAILED == 0))
