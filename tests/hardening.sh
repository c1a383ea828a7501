#!/usr/bin/env bash
# Hardening checks beyond `cargo test`: the dependency policy (cargo-deny:
# licenses, bans, sources), each libFuzzer target for a bounded time, and a
# short soak of the real users binary through the Runtime API emulator.
# (The hostile-input, kill-mid-request and CORS black-box tests are ordinary
# cargo tests: functions/users/tests/{hostile,kill,cors}.rs.)
#
# Usage: tests/hardening.sh [--help]
# Settings: FUZZ_SECONDS (per target, default 20), SOAK_INVOCATIONS
# (default 5000). Needs cargo-deny, cargo-fuzz (nightly Rust if installed,
# else RUSTC_BOOTSTRAP=1 on the default toolchain), cargo-lambda;
# a missing tool skips the suite (exit 77) unless CI=true, where it fails.
set -euo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
SOAK_INVOCATIONS="${SOAK_INVOCATIONS:-5000}"
PASSED=0
FAILED=0
LOG="$(mktemp -d)"
trap 'rm -rf "$LOG"' EXIT

summary() { echo "hardening: $PASSED passed, $FAILED failed"; }

# need NAME CHECK_COMMAND INSTALL_HINT: skip (77) or, under CI, fail.
need() {
  local name="$1" check="$2" hint="$3"
  bash -c "$check" >/dev/null 2>&1 && return 0
  if [[ "${CI:-}" == true ]]; then
    echo "not ok - $name is installed (install with: $hint)"
    FAILED=$((FAILED + 1))
    summary
    exit 1
  fi
  echo "SKIP: $name is missing; install with: $hint"
  exit 77
}

need cargo-deny "cargo deny --version" "cargo install --locked cargo-deny"
need cargo-fuzz "cargo fuzz --version" "cargo install --locked cargo-fuzz"
need cargo-lambda "cargo lambda --version" "pip install cargo-lambda"

# check NAME COMMAND...: run, print ok / not ok, show the log's tail on failure.
check() {
  local name="$1" log="$LOG/check.log" started=$SECONDS
  shift
  if "$@" >"$log" 2>&1; then
    echo "ok - $name ($((SECONDS - started)) s)"
    PASSED=$((PASSED + 1))
  else
    echo "not ok - $name ($((SECONDS - started)) s)"
    tail -n 40 "$log" | sed 's/^/#   /'
    FAILED=$((FAILED + 1))
  fi
  # Lines worth keeping in the CI log either way.
  grep -E '^(fuzz [a-z_]+:|soak: \{|  "(invocations|per_second|seconds|rss_kib_[a-z_]+|rss_bytes_[a-z_]+|stored_at_end|expected_at_end|unavailable_503)")' "$log" \
    | sed 's/^/# /' || true
}

check "cargo deny check licenses bans sources" \
  cargo deny --log-level error check licenses bans sources

check "fuzz targets, $FUZZ_SECONDS s each, no crash" \
  fuzz/run --seconds "$FUZZ_SECONDS"

check "soak: $SOAK_INVOCATIONS invocations, no crash, flat memory, store consistent" \
  env SOAK_INVOCATIONS="$SOAK_INVOCATIONS" \
  cargo test --locked -p users --test soak -- --ignored --nocapture

summary
((FAILED == 0))
