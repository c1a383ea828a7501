#!/usr/bin/env bash
# The benchmark command runs end to end at tiny iteration counts and writes
# its table, data and chart. No timing is asserted: bench/run --quick only
# proves the command works (the full run is `bench/run`, see bench/README.md).
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case_quick() {
  # The smoke run asserts no timing, so its release build may skip the slow
  # link-time optimisation the image's binaries get (CI time, not results).
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    bench/run --quick --out "$WORK/out"
  [[ -s "$WORK/out/results.md" && -s "$WORK/out/results.json" ]] || fail "no results.md or results.json"
  [[ -s "$WORK/out/chart.svg" || -s "$WORK/out/chart.png" ]] || fail "no chart"
}
run_case "bench/run --quick writes results.md, results.json and a chart" case_quick

case_order() {
  python3 -m unittest --quiet bench/py/test_order.py
}
run_case "cold starts: each function starts right after each other one equally often" case_order

summary
((FAILED == 0))
