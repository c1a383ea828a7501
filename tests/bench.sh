#!/usr/bin/env bash
# The benchmark command runs end to end at tiny iteration counts and writes
# its table, data and chart. No timing is asserted: bench/run --quick only
# proves the command works (the full run is `bench/run`, see bench/README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
passed=0 failed=0
# The smoke run asserts no timing, so its release build may skip the slow
# link-time optimisation the image's binaries get (CI time, not results).
if CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  bench/run --quick --out "$out" && [[ -s "$out/results.md" && -s "$out/results.json" ]] &&
  [[ -s "$out/chart.svg" || -s "$out/chart.png" ]]; then
  echo "ok - bench/run --quick writes results.md, results.json and a chart"
  passed=1
else
  echo "not ok - bench/run --quick writes results.md, results.json and a chart"
  failed=1
fi
echo "bench: $passed passed, $failed failed"
((failed == 0))
