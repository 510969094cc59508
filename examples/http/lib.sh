# shellcheck shell=bash
# Helpers shared by the HTTP scenarios (sourced, not run): every step prints
# the omsctl command and its answer, and the scenario stops with exit 1 at the
# first surprise, be it a failure where success was expected or the reverse.
#
#   ok ARGS...            omsctl ARGS must succeed; its stdout is left in $OUT
#   fails CODE ARGS...    omsctl ARGS must fail with API error CODE (exit 1)
#   get FIELD ARGS...     prints one field of omsctl ARGS' answer, quietly
#   check WHAT ACTUAL EXPECTED
#   step TITLE            starts a numbered step
#   finish                prints the verdict
#
# Environment: OMSCTL (default build/omsctl), OMS_URL, OMS_TOKEN or
# OMS_TOKEN_FILE (the admin token).

set -euo pipefail

OMSCTL=${OMSCTL:-build/omsctl}
export OMS_URL=${OMS_URL:-http://127.0.0.1:8080}
SCENARIO=$(basename "$0" .sh)

if [ ! -x "$OMSCTL" ]; then
  echo "$SCENARIO: no omsctl at $OMSCTL: build it (ninja -C build omsctl)" \
    "or set OMSCTL=/path/to/omsctl" >&2
  exit 2
fi
if [ -z "${OMS_TOKEN:-}" ] && [ -z "${OMS_TOKEN_FILE:-}" ]; then
  echo "$SCENARIO: set OMS_TOKEN (or OMS_TOKEN_FILE) to omsd's admin token" >&2
  exit 2
fi

# A suffix unique to this run, so a scenario can run again on the same store
# (SKUs allow letters, digits, '.', '_' and '-').
RUN_ID=${RUN_ID:-$(date +%s)-$$}

STEP=0
ERR_FILE=$(mktemp)
trap 'rm -f "$ERR_FILE"' EXIT

# Renders a command line, quoting the words that need it.
show_cmd() {
  local line="\$ omsctl" word
  for word in "$@"; do
    if [[ "$word" =~ ^[A-Za-z0-9_./:=@%+-]+$ ]]; then
      line+=" $word"
    else
      line+=" '${word//\'/\'\\\'\'}'"
    fi
  done
  printf '%s\n' "$line"
}

indent() { sed 's/^./    &/'; }

fail() {
  printf '\nFAIL: %s, step %d: %s\n' "$SCENARIO" "$STEP" "$*" >&2
  exit 1
}

step() {
  STEP=$((STEP + 1))
  printf '\n== %d. %s\n' "$STEP" "$*"
}

ok() {
  show_cmd "$@"
  local rc=0
  OUT=$("$OMSCTL" "$@" 2>"$ERR_FILE") || rc=$?
  if [ -n "$OUT" ]; then printf '%s\n' "$OUT" | indent; fi
  if [ -s "$ERR_FILE" ]; then indent <"$ERR_FILE"; fi
  [ "$rc" -eq 0 ] || fail "expected success, omsctl exited $rc"
}

fails() {
  local code=$1
  shift
  show_cmd "$@"
  local rc=0 out
  out=$("$OMSCTL" "$@" 2>"$ERR_FILE") || rc=$?
  if [ -n "$out" ]; then printf '%s\n' "$out" | indent; fi
  if [ -s "$ERR_FILE" ]; then indent <"$ERR_FILE"; fi
  [ "$rc" -ne 0 ] || fail "expected error $code, but the command succeeded"
  grep -q "^error: $code:" "$ERR_FILE" ||
    fail "expected error $code, omsctl exited $rc"
  echo "    -> refused with $code, as expected"
}

get() {
  local field=$1
  shift
  "$OMSCTL" --field "$field" "$@" ||
    fail "could not read $field with: omsctl $*"
}

check() {
  local what=$1 actual=$2 expected=$3
  [ "$actual" = "$expected" ] ||
    fail "$what is '$actual', expected '$expected'"
  echo "    check: $what = $actual"
}

finish() {
  printf '\nPASS: %s (%d steps)\n' "$SCENARIO" "$STEP"
}

# The address the scenarios ship to.
# shellcheck disable=SC2034 # used by the scenarios
SHIP_TO=(--line1 "1 MG Road" --city Bengaluru --postal-code 560001
  --country IN)
