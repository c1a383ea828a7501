#!/usr/bin/env bash
# Hardening checks beyond `cargo test`: the dependency policy (cargo-deny:
# licenses, bans, sources) and each libFuzzer target for a bounded time.
# (The hostile-input, kill-mid-request, CORS, memory and soak black-box
# tests are ordinary cargo tests: functions/users/tests/{hostile,kill,cors,
# soak}.rs, functions/health/tests/memory.rs.)
#
# Usage: tests/hardening.sh [--help]
# Settings: FUZZ_SECONDS (per target, default 20). Needs cargo-deny and
# cargo-fuzz (scripts/setup python; nightly Rust if installed, else
# RUSTC_BOOTSTRAP=1 on the default toolchain); a missing tool skips the
# suite (exit 77) unless CI=true, where it fails.
set -euo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"

cargo deny --version >/dev/null 2>&1 || missing "cargo-deny is not installed" "$(install_hint cargo-deny)"
cargo fuzz --version >/dev/null 2>&1 || missing "cargo-fuzz is not installed" "$(install_hint cargo-fuzz)"

run_case "cargo deny check licenses bans sources" \
  cargo deny --log-level error check licenses bans sources

# The per-target lines are worth keeping in the CI log either way.
case_fuzz() { fuzz/run --seconds "$FUZZ_SECONDS" 2>&1 | sed -E 's/^(fuzz [a-z_]+:)/# \1/'; }
run_case "fuzz targets, $FUZZ_SECONDS s each, no crash" case_fuzz

summary
((FAILED == 0))
