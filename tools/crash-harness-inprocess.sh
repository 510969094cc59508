#!/usr/bin/env bash
# Kills the order system with SIGKILL at random moments under concurrent
# traffic, restarts it, and checks after every kill that nothing
# acknowledged was lost and nothing unrequested appeared.
#   tools/crash-harness-inprocess.sh [CYCLES] [BUILD_DIR]     (default: 20 build)
# The test command runs it with a few cycles; run it by hand with many.
# Ends with a corrupted-store check: the start must fail, naming the file.
set -uo pipefail
cycles=${1:-20}
build=${2:-build}
bin="$build/oms-durability"
[ -x "$bin" ] || { echo "crash-harness: $bin not built" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
db="$dir/data/oms.db"
log="$dir/acks.log"
bad=0
for i in $(seq 1 "$cycles"); do
  "$bin" run --db "$db" --log "$log" --clients 8 >"$dir/run.out" 2>&1 &
  pid=$!
  # 0.3 .. 1.5 s of traffic, then SIGKILL.
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 120) / 100 }')"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "cycle $i: the system exited before the kill:"; cat "$dir/run.out"
    bad=$((bad + 1))
    continue
  fi
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  if "$bin" verify --db "$db" --log "$log" >"$dir/verify.out" 2>&1; then
    echo "cycle $i: $(tail -n 1 "$dir/verify.out")"
  else
    echo "cycle $i: FAILED"; cat "$dir/verify.out"
    bad=$((bad + 1))
  fi
done
acked=$(grep -c '^ack ' "$log" || true)
echo "crash harness: $cycles kill cycles, $acked acknowledgements logged, $bad cycles with violations"

# A store damaged beyond what WAL recovery repairs must stop the start.
cp "$db" "$dir/damaged.db"
size=$(stat -c %s "$dir/damaged.db")
dd if=/dev/urandom of="$dir/damaged.db" bs=4096 seek=$((size / 8192)) count=2 conv=notrunc status=none
"$bin" verify --db "$dir/damaged.db" --log "$log" >"$dir/damaged.out" 2>&1
code=$?
if [ "$code" -eq 2 ] && grep -q "damaged.db" "$dir/damaged.out"; then
  echo "damaged store: start refused with exit $code: $(head -n 1 "$dir/damaged.out")"
else
  echo "damaged store: expected exit 2 naming the file, got exit $code:"
  cat "$dir/damaged.out"
  bad=$((bad + 1))
fi
[ "$bad" -eq 0 ]
