#!/usr/bin/env bash
# Runs a baseline bench once per workload on a tiny setup so that it cannot
# rot, and checks what it reports: the shared result line, all-or-nothing
# multi-line orders under scarce stock, a flash sale that sells exactly its
# stock, an invariant check that catches tampered data, and bad input
# refused. Never asserts speed.
#   bench/test-baseline.sh pg PROGRAM      (needs OMS_TEST_PG: with-postgres.sh)
#   bench/test-baseline.sh redis PROGRAM   (needs OMS_TEST_REDIS_PORT: with-redis.sh)
# Exit 77 (skipped) when the server's variable is unset.
set -euo pipefail
kind=${1:?pg or redis}
prog=${2:?the bench program}
case "$kind" in
  pg)
    if [ -z "${OMS_TEST_PG:-}" ]; then
      echo "bench.pg_baseline: SKIPPED: OMS_TEST_PG is unset; run ctest under tools/with-postgres.sh"
      exit 77
    fi
    system=postgres
    scratch=(--schema oms_bench_test)
    ;;
  redis)
    if [ -z "${OMS_TEST_REDIS_PORT:-}" ]; then
      echo "bench.redis_baseline: SKIPPED: OMS_TEST_REDIS_PORT is unset; run under bench/with-redis.sh"
      exit 77
    fi
    system=redis-always
    scratch=(--prefix oms_bench_test:)
    ;;
  *) echo "test-baseline: pg or redis, not $kind" >&2; exit 2 ;;
esac
command -v jq >/dev/null || { echo "test-baseline: jq is not installed" >&2; exit 2; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
tiny=(--clients 4 --seconds 0.3 --warmup 0.1 --quiet)

# Runs the bench; sets $rc and $line (its last stdout line).
bench() {
  rc=0
  out=$("$prog" "$@" 2>/tmp/test-baseline-$$.err) || rc=$?
  line=$(printf '%s\n' "$out" | tail -n 1)
}
field() { printf '%s' "$line" | jq -r "$1"; }
expect() { # expect WHAT JQ-EXPR EXPECTED
  local got
  got=$(field "$2" 2>/dev/null || echo "(not JSON: $line)")
  [ "$got" = "$3" ] || fail "$1: $2 is $got, expected $3"
}
trap 'rm -f /tmp/test-baseline-$$.err' EXIT

echo "== every workload answers the shared line with its invariants holding"
for w in hot spread multiline; do
  bench --workload "$w" --skus 50 "${tiny[@]}"
  [ "$rc" -eq 0 ] || { fail "$w exited $rc: $(cat /tmp/test-baseline-$$.err)"; continue; }
  expect "$w" .system "$system"
  expect "$w" .workload "$w"
  expect "$w" .clients 4
  expect "$w" .invariantsOk true
  expect "$w" .errors 0
  expect "$w" '.granted > 0' true
  expect "$w" '.operations == .granted + .refused' true
  expect "$w" '.latencyMs.p50 <= .latencyMs.p99 and .latencyMs.p99 <= .latencyMs.max' true
  expect "$w" '[.bench, .seconds, .opsPerSecond, .latencyMs.p999, .extra] | all(. != null)' true
done

echo "== a flash sale grants exactly its stock and refuses every client after"
bench --workload flash --stock 40 --skus 5 "${tiny[@]}"
[ "$rc" -eq 0 ] || fail "flash exited $rc: $(cat /tmp/test-baseline-$$.err)"
expect flash .granted 40
expect flash '.refused >= 4' true
expect flash .extra.soldOut true
expect flash .extra.stock 40
expect flash '.extra.sellOutSeconds > 0' true

echo "== three-line orders under scarce stock are all or nothing"
# 4 SKUs of 2 units, orders of one unit on 3 of them: at most 2 orders fit,
# and orders that find their last SKU empty must leave the others untouched.
forms=("")
[ "$kind" = pg ] && forms=("--form transaction" "--form function")
for f in "${forms[@]}"; do
  # shellcheck disable=SC2086
  bench --workload multiline --skus 4 --stock 2 --clients 4 --seconds 0.3 \
    --warmup 0 --quiet $f
  [ "$rc" -eq 0 ] || fail "scarce multiline $f exited $rc"
  expect "scarce $f" .invariantsOk true
  expect "scarce $f" '.granted >= 1 and .granted <= 2' true
  expect "scarce $f" '.refused > 0' true
  expect "scarce $f" '.extra.unitsReserved == 3 * .granted' true
done

echo "== the invariant check catches a reserved count that its records do not explain"
bench --workload spread --skus 20 --keep "${scratch[@]}" "${tiny[@]}"
[ "$rc" -eq 0 ] || fail "spread --keep exited $rc"
bench --check-only --skus 20 "${scratch[@]}"
[ "$rc" -eq 0 ] || fail "check of untouched data exited $rc: $line"
expect untouched .invariantsOk true
if [ "$kind" = pg ]; then
  psql -q "$OMS_TEST_PG" -c \
    "UPDATE oms_bench_test.stock SET reserved = reserved + 1 WHERE sku = 'SKU-00003'"
else
  redis-cli -p "$OMS_TEST_REDIS_PORT" HINCRBY oms_bench_test:stock:SKU-00003 reserved 1 >/dev/null
fi
bench --check-only --skus 20 "${scratch[@]}"
[ "$rc" -eq 1 ] || fail "check of tampered data exited $rc, expected 1"
expect tampered .invariantsOk false
expect tampered '[.violations[]] | add' 1
if [ "$kind" = pg ]; then
  psql -q "$OMS_TEST_PG" -c "DROP SCHEMA oms_bench_test CASCADE"
else
  redis-cli -p "$OMS_TEST_REDIS_PORT" EVAL \
    "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" \
    0 'oms_bench_test:*' >/dev/null
fi

echo "== bad input is refused before anything runs"
for bad in "--workload nonsense" "--clients 0" "--seconds 0" "--skus 2 --workload multiline" \
           "--stock -5" "--form sometimes"; do
  [ "$kind" = redis ] && [ "$bad" = "--form sometimes" ] && bad="--prefix ''"
  # shellcheck disable=SC2086
  eval bench $bad --quiet
  [ "$rc" -ne 0 ] || fail "'$bad' was accepted"
  [ -z "$line" ] || [ "$(printf '%s' "$line" | jq -r '.bench? // empty' 2>/dev/null)" = "" ] \
    || fail "'$bad' printed a result line"
done
if [ "$kind" = pg ]; then
  bench --conn "host=127.0.0.1 port=1 connect_timeout=2" --quiet
else
  bench --port 1 --quiet
fi
[ "$rc" -eq 2 ] || fail "an unreachable server exited $rc, expected 2"

[ "$failures" -eq 0 ] || { echo "test-baseline $kind: $failures failures"; exit 1; }
echo "test-baseline $kind: all checks passed"
