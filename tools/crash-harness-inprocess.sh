#!/usr/bin/env bash
# Kills the order system with SIGKILL at random moments under concurrent
# traffic, restarts it, and checks after every kill that nothing
# acknowledged was lost and nothing unrequested appeared.
#   tools/crash-harness-inprocess.sh [CYCLES] [BUILD_DIR]     (default: 20 build)
# The test command runs it with a few cycles; run it by hand with many.
# Ends with a corrupted-store check: the start must fail, naming the file.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cycles=${1:-20}
build=${2:-build}
bin="$build/oms-durability"
require_built crash-harness "$bin"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/data/oms.db"
log="$dir/acks.log"
bad=0
for i in $(seq 1 "$cycles"); do
  "$bin" run --db "$db" --log "$log" --clients 8 >"$dir/run.out" 2>&1 &
  pid=$!
  # Killed only once it is up and its clients run (it says "ready"),
  # however slow the start: a wait on that, never on the clock alone.
  for _ in $(seq 1200); do
    grep -q '^ready' "$dir/run.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '^ready' "$dir/run.out" 2>/dev/null; then
    echo "cycle $i: the system did not come up within 120 s:"; cat "$dir/run.out"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    bad=$((bad + 1))
    continue
  fi
  sleep_before_kill
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "cycle $i: the system exited before the kill:"; cat "$dir/run.out"
    bad=$((bad + 1))
    continue
  fi
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  verify_cycle "$i" "$dir/verify.out" "$bin" verify --db "$db" --log "$log"
done
acked=$(grep -c '^ack ' "$log" || true)
echo "crash harness: $cycles kill cycles, $acked acknowledgements logged, $bad cycles with violations"

# A store damaged beyond what WAL recovery repairs fails the verification.
cp "$db" "$dir/damaged.db"
damage_store "$dir/damaged.db"
"$bin" verify --db "$dir/damaged.db" --log "$log" >"$dir/damaged.out" 2>&1
expect_refused "$?" 2 "damaged.db" "$dir/damaged.out" "oms-durability verify"
[ "$bad" -eq 0 ]
