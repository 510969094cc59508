#!/usr/bin/env bash
# Kills omsd with SIGKILL at random moments while HTTP clients create, pay,
# ship and cancel orders, restarts it on the same SQLite store, and checks
# after every kill that every acknowledged step is there and nothing
# unrequested appeared (oms-http-load verify: orders, customers' order
# counts, stock conservation, the audit).
#   tools/crash-harness.sh [CYCLES] [BUILD_DIR]     (default: 20 build)
# The test command runs it with a few cycles; run it by hand with many.
# After every cycle `omsd --check` must find every page sound. Ends with a
# damaged store: `omsd --check` must name the file (exit 1), and omsd started
# on it must either refuse to start (exit 2, naming the file: the damage is
# where the start reads) or serve and turn /readyz to not ready once its
# background check finds the damage.
# (tools/crash-harness-inprocess.sh does the same to the actor system without
# HTTP.)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cycles=${1:-20}
build=${2:-build}
omsd="$build/omsd"
load="$build/oms-http-load"
require_built crash-harness "$omsd" "$load"
dir=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
token=crash-harness-admin-token
port=$(( 20000 + RANDOM % 20000 ))
url="http://127.0.0.1:$port"
acks="$dir/acks.log"
start() {
  start_omsd "$omsd" "$load" "$port" "$dir/data" "$token" "$dir/omsd.log" ||
    { tail -n 5 "$dir/omsd.log"; return 1; }
  url="http://127.0.0.1:$port" # start_omsd may have moved to another port
}
bad=0
for i in $(seq 1 "$cycles"); do
  start || { echo "cycle $i: omsd did not start"; bad=$((bad + 1)); break; }
  "$load" run --url "$url" --token "$token" --clients 8 --seconds 30 \
    --workload mixed --skus 4 --ack-log "$acks" --quiet >>"$dir/load.out" 2>&1 &
  client=$!
  sleep_before_kill
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  pid=
  wait "$client" 2>/dev/null
  start || { echo "cycle $i: omsd did not restart"; bad=$((bad + 1)); break; }
  verify_cycle "$i" "$dir/verify.out" \
    "$load" verify --url "$url" --token "$token" --ack-log "$acks"
  kill -TERM "$pid"
  wait "$pid"
  code=$?
  pid=
  if [ "$code" -ne 0 ]; then
    echo "cycle $i: omsd exited $code on SIGTERM"; bad=$((bad + 1))
  fi
  if ! "$omsd" --check --data-dir "$dir/data" >"$dir/check.out" 2>&1; then
    echo "cycle $i: omsd --check after the kill:"; cat "$dir/check.out"
    bad=$((bad + 1))
  fi
done
acked=$(grep -cE '^(created|confirmed|paid|shipped|delivered|cancelled) ' "$acks" || true)
echo "crash harness (omsd): $cycles kill cycles, $acked acknowledged steps, $bad cycles with violations"

# A store damaged beyond what WAL recovery repairs: found by the check, and
# never served as ready.
mkdir -p "$dir/damaged"
cp "$dir/data/oms.db" "$dir/damaged/oms.db"
damage_store "$dir/damaged/oms.db"
"$omsd" --check --data-dir "$dir/damaged" >"$dir/damaged-check.out" 2>&1
expect_refused "$?" 1 "damaged/oms.db" "$dir/damaged-check.out" "omsd --check"
"$omsd" --port "$port" --data-dir "$dir/damaged" --admin-token "$token" \
  >"$dir/damaged.out" 2>&1 &
pid=$!
answer=
for _ in $(seq 1 600); do
  kill -0 "$pid" 2>/dev/null || break
  answer=$(curl -s "$url/readyz" || true)
  [[ "$answer" == *'"storeCheck":"damaged"'* ]] && break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  if [[ "$answer" == *'"storeCheck":"damaged"'* ]]; then
    echo "damaged store: served not ready: $answer"
  else
    echo "damaged store: still not reported after 60 s: $answer"
    bad=$((bad + 1))
  fi
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
else
  wait "$pid"
  expect_refused "$?" 2 "damaged/oms.db" "$dir/damaged.out" "start"
fi
pid=
[ "$bad" -eq 0 ]
