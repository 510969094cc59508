#!/usr/bin/env bash
# Kills omsd with SIGKILL at random moments while HTTP clients create, pay,
# ship and cancel orders, restarts it on the same SQLite store, and checks
# after every kill that every acknowledged step is there and nothing
# unrequested appeared (oms-http-load verify: orders, customers' order
# counts, stock conservation, the audit).
#   tools/crash-harness.sh [CYCLES] [BUILD_DIR]     (default: 20 build)
# The test command runs it with a few cycles; run it by hand with many.
# Ends with a damaged-store check: omsd must refuse to start, naming the file.
# (tools/crash-harness-inprocess.sh does the same to the actor system without
# HTTP.)
set -uo pipefail
cycles=${1:-20}
build=${2:-build}
omsd="$build/omsd"
load="$build/oms-http-load"
for b in "$omsd" "$load"; do
  [ -x "$b" ] || { echo "crash-harness: $b not built" >&2; exit 2; }
done
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
  "$omsd" --port "$port" --data-dir "$dir/data" --admin-token "$token" \
    --log-level warn >>"$dir/omsd.log" 2>&1 &
  pid=$!
  "$load" wait --url "$url" --seconds 30 || { tail -n 5 "$dir/omsd.log"; return 1; }
}
bad=0
for i in $(seq 1 "$cycles"); do
  start || { echo "cycle $i: omsd did not start"; bad=$((bad + 1)); break; }
  "$load" run --url "$url" --token "$token" --clients 8 --seconds 30 \
    --workload mixed --skus 4 --ack-log "$acks" --quiet >>"$dir/load.out" 2>&1 &
  client=$!
  # 0.3 .. 1.5 s of traffic, then SIGKILL.
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 120) / 100 }')"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  pid=
  wait "$client" 2>/dev/null
  start || { echo "cycle $i: omsd did not restart"; bad=$((bad + 1)); break; }
  if "$load" verify --url "$url" --token "$token" --ack-log "$acks" >"$dir/verify.out" 2>&1; then
    echo "cycle $i: $(tail -n 1 "$dir/verify.out")"
  else
    echo "cycle $i: FAILED"; cat "$dir/verify.out"
    bad=$((bad + 1))
  fi
  kill -TERM "$pid"
  wait "$pid"
  code=$?
  pid=
  if [ "$code" -ne 0 ]; then
    echo "cycle $i: omsd exited $code on SIGTERM"; bad=$((bad + 1))
  fi
done
acked=$(grep -cE '^(created|confirmed|paid|shipped|delivered|cancelled) ' "$acks" || true)
echo "crash harness (omsd): $cycles kill cycles, $acked acknowledged steps, $bad cycles with violations"

# A store damaged beyond what WAL recovery repairs must stop the start.
mkdir -p "$dir/damaged"
cp "$dir/data/oms.db" "$dir/damaged/oms.db"
size=$(stat -c %s "$dir/damaged/oms.db")
dd if=/dev/urandom of="$dir/damaged/oms.db" bs=4096 seek=$((size / 8192)) count=2 conv=notrunc status=none
"$omsd" --port "$port" --data-dir "$dir/damaged" --admin-token "$token" >"$dir/damaged.out" 2>&1
code=$?
if [ "$code" -eq 2 ] && grep -q "damaged/oms.db" "$dir/damaged.out"; then
  echo "damaged store: start refused with exit $code: $(head -n 1 "$dir/damaged.out")"
else
  echo "damaged store: expected exit 2 naming the file, got exit $code:"
  cat "$dir/damaged.out"
  bad=$((bad + 1))
fi
[ "$bad" -eq 0 ]
