#!/usr/bin/env bash
# Hardening checks beyond `cargo test`: the dependency policy (cargo-deny:
# licenses, bans, sources) and each libFuzzer target for a bounded time.
# (The hostile-input, kill-mid-request, CORS, memory and soak black-box
# tests are ordinary cargo tests: functions/users/tests/{hostile,kill,cors,
# soak}.rs, functions/health/tests/memory.rs.)
#
# Usage: tests/hardening.sh [--help]
# Settings: FUZZ_SECONDS (per target, default 20). Needs cargo-deny and
# cargo-fuzz (nightly Rust if installed, else RUSTC_BOOTSTRAP=1 on the
# default toolchain); a missing tool skips the suite (exit 77) unless
# CI=true, where it fails.
set -euo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
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
  grep -E '^fuzz [a-z_]+:' "$log" \
    | sed 's/^/# /' || true
}

check "cargo deny check licenses bans sources" \
  cargo deny --log-level error check licenses bans sources

check "fuzz targets, $FUZZ_SECONDS s each, no crash" \
  fuzz/run --seconds "$FUZZ_SECONDS"

summary
((FAILED == 0))
