#!/usr/bin/env bash
# Renders the fixture results (bench/testdata/results.jsonl: made-up figures
# chosen so that every ratio has a known value) and checks the table: the
# ratio lines against the targets with MET and MISSED, the flash and memory
# sections, the plot files; a failed run makes the renderer exit 1 and the
# table say so; malformed input exits 2.
#   bench/test-report.sh PROGRAM
set -euo pipefail
prog=${1:?the oms-bench-report program}
data=$(cd "$(dirname "$0")/testdata" && pwd)
dir=$(mktemp -d /tmp/oms-bench-report-XXXXXX)
trap 'rm -rf "$dir"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
has() { grep -qF -- "$2" "$1" || fail "$(basename "$1") lacks: $2"; }

echo "== the fixture renders with every ratio line and its verdict"
rc=0
"$prog" "$data/results.jsonl" --table "$dir/table.md" --plot-dir "$dir" \
  >"$dir/stdout.md" || rc=$?
[ "$rc" -eq 0 ] || fail "renderer exited $rc on the fixture"
cmp -s "$dir/stdout.md" "$dir/table.md" || fail "stdout and --table differ"
t="$dir/table.md"
# The performance issue's targets, in its order, with their verdicts.
has "$t" "| OMS in-process ÷ caf-rtt: oms-sqlite ÷ caf-rtt, hot | 0.60× | ≥ 0.1× | MET |"
has "$t" "| SQLite journal ÷ memory journal: oms-sqlite ÷ oms-memory, hot | 260.9× | ≥ 0.7× | MET |"
has "$t" "| CPU per order: oms-memory, hot | 12.5 µs | ≤ 10 µs | MISSED |"
has "$t" "| OMS ÷ Redis(always): oms-http ÷ redis-always, hot | 0.80× | ≥ 1× | MISSED |"
has "$t" "| OMS ÷ PostgreSQL: oms-http ÷ postgres, spread | 5.00× | ≥ 3× | MET |"
has "$t" "| OMS ÷ PostgreSQL: oms-http ÷ postgres, multiline | 11.0× | ≥ 3× | MET |"
has "$t" "| OMS over HTTP p99: oms-http, hot | 4.50 ms | < 5 ms | MET |"
has "$t" "| OMS over HTTP p99: oms-http, spread | 12.0 ms | < 5 ms | MISSED |"
has "$t" "| omsd's front ÷ nginx: omsd-healthz ÷ nginx-static, http-ceiling | 0.85× | ≥ 0.8× | MET |"
has "$t" "| order route ÷ omsd's /healthz: oms-http ÷ omsd-healthz, hot ÷ http-ceiling | 0.28× | — | info |"
has "$t" "| order route ÷ omsd's inventory read: oms-http ÷ omsd-inventory, hot ÷ http-ceiling | 0.96× | — | info |"
has "$t" "| OMS ÷ PostgreSQL: oms-http ÷ postgres, hot | 12.0× | — | info |"
has "$t" "| OMS ÷ Redis(always): oms-http ÷ redis-always, multiline | 1.65× | — | info |"
has "$t" "| OMS ÷ PostgreSQL: oms-http ÷ postgres, flash | 12.0× | — | info |"
has "$t" "| OMS in-process ÷ caf-rtt, memory store: oms-memory ÷ caf-rtt, hot | 0.0023× | — | info |"
has "$t" "| nginx-static |"
# Nothing ran for the one-call PostgreSQL form: said, not guessed.
has "$t" "| OMS ÷ PostgreSQL (one-call function): oms-http ÷ postgres-fn, hot | n/a | — | NOT RUN |"
has "$t" "| postgres | 2,000 (32) | 7,000 (32) | 3,000 (32) | 2,100 (32) | — |"
has "$t" "| redis-always | 0.750 / 3.00 / 6.00 |"
has "$t" "| postgres | 32 | 10,000 | 10,000 | 32 | 0 | 4.800 | 2,083 | — | ok |"
# A flash sale at 256 clients is a row of its own, with the refusals' p99.
has "$t" "| oms-http | 256 | 10,000 | 10,000 | 256 | 0 | 0.500 | 20,000 | 7.50 | ok |"
has "$t" "| bytesPerOpenOrder | 812 |"
has "$t" "- redis-everysec: fixture: not part of this file"
has "$t" "None: every run's invariants held and every bench ended well."
has "$t" "Machine: 2 cores, Test CPU, kernel 6.1.0-test"
has "$t" "Synced 8 KiB writes per second before each series: postgres 1,200, redis-always 950."
for f in throughput.dat latency.dat plot.gp; do
  [ -s "$dir/$f" ] || fail "no $f"
done
has "$dir/throughput.dat" "system hot spread multiline lifecycle rtt"
has "$dir/throughput.dat" "caf-rtt ? ? ? ? 1000000.0"
if command -v gnuplot >/dev/null; then
  (cd "$dir" && gnuplot plot.gp) || fail "gnuplot rejected plot.gp"
  grep -q "<svg" "$dir/throughput.svg" || fail "no throughput.svg"
  grep -q "<svg" "$dir/latency.svg" || fail "no latency.svg"
fi

echo "== a run whose invariants failed fails the report and is named"
rc=0
"$prog" "$data/results-failed.jsonl" >"$dir/failed.md" || rc=$?
[ "$rc" -eq 1 ] || fail "renderer exited $rc on a failed run, expected 1"
has "$dir/failed.md" "- **postgres hot**"
has "$dir/failed.md" "- **memory: oms-bench-memory exited 124 after its result line**"
has "$dir/failed.md" "| OMS ÷ PostgreSQL: oms-http ÷ postgres, hot | n/a | — | FAILED RUN |"
has "$dir/failed.md" "| postgres | **FAILED** |"

echo "== malformed or missing input is refused"
printf '%s\n' '{"machine":{}}' 'not json' >"$dir/bad.jsonl"
rc=0
"$prog" "$dir/bad.jsonl" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "malformed line: exit $rc, expected 2"
printf '%s\n' '{"what":"ever"}' >"$dir/odd.jsonl"
rc=0
"$prog" "$dir/odd.jsonl" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "line of no known kind: exit $rc, expected 2"
rc=0
"$prog" "$dir/absent.jsonl" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "missing file: exit $rc, expected 2"

[ "$failures" -eq 0 ] || { echo "test-report: $failures failures"; exit 1; }
echo "test-report: all checks passed"
