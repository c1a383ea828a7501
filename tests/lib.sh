# shellcheck shell=bash
# shellcheck disable=SC2034 # CASE_RC and the counts are read by the suites
# The harness every tests/*.sh shares: source it first; it changes to the
# repository root, puts the project's tools (scripts/setup) on PATH and
# makes a scratch folder $WORK, removed at exit after the suite's own
# `cleanup` function, if it defines one.
#   need TOOL [FIX]        skip the suite (exit 77) without TOOL, or under CI fail
#   missing REASON FIX     the same for any other missing requirement
#   run_case NAME CMD...   run CMD in a subshell with errexit: `ok - NAME (N s)`
#                          and its `# ` lines, or `not ok - NAME` and its output;
#                          sets CASE_RC
#   skip_case NAME REASON FIX   a case that cannot run here: counted as skipped,
#                          under CI as failed
#   fail MSG               print FAIL: MSG and return 1 (inside a case)
#   expect_fail PATTERN CMD...  CMD must exit non-zero and print PATTERN
#   summary                `SUITE: N passed, N failed, N skipped`
#   free_port              a free TCP port on 127.0.0.1
# Counts are also appended to $TEST_TALLY_LOG and skips to $TEST_SKIP_LOG
# when scripts/test sets them.

SUITE="$(basename "$0" .sh)"
SUITE_FILE="tests/$(basename "$0")"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh
use_tools
PASSED=0
FAILED=0
SKIPPED=0
CASE_RC=0
WORK="$(mktemp -d)"

on_exit() {
  if declare -F cleanup >/dev/null; then cleanup || true; fi
  rm -rf "$WORK"
}
trap on_exit EXIT

# record_skip TEST REASON FIX: the line scripts/test counts and lists.
record_skip() {
  [[ -n "${TEST_SKIP_LOG:-}" ]] || return 0
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$TEST_SKIP_LOG"
}

summary() {
  echo "$SUITE: $PASSED passed, $FAILED failed, $SKIPPED skipped"
  [[ -z "${TEST_TALLY_LOG:-}" ]] ||
    printf '%s\t%s\t%s\t%s\n' "$SUITE_FILE" "$PASSED" "$FAILED" "$SKIPPED" >>"$TEST_TALLY_LOG"
}

missing() {
  if [[ "${CI:-}" == true ]]; then
    echo "not ok - $1 (install with: $2)"
    FAILED=$((FAILED + 1))
    summary
    exit 1
  fi
  echo "SKIP: $1; install with: $2"
  SKIPPED=1
  record_skip "$SUITE_FILE" "$1" "$2"
  summary
  exit 77
}

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  missing "$1 is not installed" "${2:-$(install_hint "$1")}"
}

run_case() {
  local name="$1" log="$WORK/case.log" rc started=$SECONDS
  shift
  set +e
  (set -e; "$@") >"$log" 2>&1
  rc=$?
  set -e
  if ((rc == 0)); then
    echo "ok - $name ($((SECONDS - started)) s)"
    grep '^# ' "$log" || true
    PASSED=$((PASSED + 1))
  else
    echo "not ok - $name ($((SECONDS - started)) s)"
    tail -n 200 "$log" | sed 's/^/#   /'
    FAILED=$((FAILED + 1))
  fi
  CASE_RC=$rc
}

skip_case() {
  if [[ "${CI:-}" == true ]]; then
    echo "not ok - $1 # under CI=true a skip fails: $2 (fix: $3)"
    FAILED=$((FAILED + 1))
    return 0
  fi
  echo "ok - $1 # SKIP $2 (fix: $3)"
  SKIPPED=$((SKIPPED + 1))
  record_skip "$SUITE_FILE: $1" "$2" "$3"
}

fail() {
  echo "FAIL: $*"
  return 1
}

expect_fail() {
  local pattern="$1" out
  shift
  if out="$("$@" 2>&1)"; then fail "expected failure from: $*"; fi
  echo "$out"
  grep -qE -- "$pattern" <<<"$out" || fail "output lacks /$pattern/"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
