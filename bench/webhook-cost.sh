#!/usr/bin/env bash
# What webhooks cost the order path, and how fast one subscription delivers.
# Runs omsd (SQLite) on a throwaway data dir and the order load generator
# against it, in rounds back to back: without webhooks, then with four
# subscriptions to every event type (a receiver that answers at once, one
# that hangs, one that answers 500, and a port where nothing listens), and
# so on. Prints the orders/s of each round, the ratio with/without (medians),
# and the deliveries/s of the fast receiver's subscription, as one JSON line
# last.
# With SLOW_ONLY=1, only the three that never acknowledge (the order path's
# cost of receivers that hang, fail or are gone).
#   bench/webhook-cost.sh [BUILD_DIR] [ROUNDS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-3}
seconds=${3:-5}
work=$(mktemp -d /tmp/oms-webhook-cost-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

token=bench-token-1234
port=$(free_port)
"$build/omsd" --port "$port" --data-dir "$work/data" --admin-token "$token" \
  --log-level warn --webhook-retry-base 1s --webhook-retry-max 2s \
  --webhook-failures-max 10000 >"$work/omsd.log" 2>&1 &
pids+=($!)
url=http://127.0.0.1:$port
"$build/oms-http-load" wait --url "$url" >/dev/null

receiver() { # NAME: starts a receiver, prints its port
  python3 tests/e2e/webhook_receiver.py "$work/$1.port" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -f "$work/$1.port" ] && break; sleep 0.05; done
  cat "$work/$1.port"
}
fast=$(receiver fast)
hang=$(receiver hang)
fail=$(receiver fail)
curl -s -XPOST "http://127.0.0.1:$hang/_mode" -d '{"hang": 3600, "count": 1000000}'
curl -s -XPOST "http://127.0.0.1:$fail/_mode" -d '{"status": 500, "count": 1000000}'
dead=$(free_port)

subscribe() { # URL
  curl -sf "$url/v1/webhooks" -H "Authorization: Bearer $token" \
    -d "{\"url\": \"$1\", \"types\": [\"oms.order.*\", \"oms.stock.*\", \"oms.sku.*\", \"oms.customer.*\"]}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
unsubscribe() {
  curl -sf -XDELETE "$url/v1/webhooks/$1" -H "Authorization: Bearer $token" >/dev/null
}

load() {
  OMS_TOKEN=$token "$build/oms-http-load" run --url "$url" --clients 16 \
    --seconds "$seconds" --workload hot --quiet | tail -1 |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["opsPerSecond"])'
}
delivered() {
  curl -s "$url/metrics" |
    sed -n 's/^oms_webhook_deliveries_total{outcome="delivered"} //p'
}

without=()
with=()
rates=()
for r in $(seq "$rounds"); do
  without+=("$(load)")
  ids=()
  targets=("http://127.0.0.1:$hang/h" "http://127.0.0.1:$fail/h"
    "http://127.0.0.1:$dead/h")
  [ "${SLOW_ONLY:-0}" = 1 ] || targets+=("http://127.0.0.1:$fast/h")
  for target in "${targets[@]}"; do
    ids+=("$(subscribe "$target")")
  done
  d0=$(delivered)
  t0=$(date +%s.%N)
  with+=("$(load)")
  d1=$(delivered)
  t1=$(date +%s.%N)
  rates+=("$(python3 -c "print(round(($d1 - $d0) / ($t1 - $t0)))")")
  for id in "${ids[@]}"; do unsubscribe "$id"; done
  echo "round $r: without ${without[-1]}/s, with ${with[-1]}/s, fast receiver ${rates[-1]} deliveries/s" >&2
done

python3 - "${without[*]}" "${with[*]}" "${rates[*]}" <<'EOF'
import json, os, statistics, sys
without = [float(x) for x in sys.argv[1].split()]
with_ = [float(x) for x in sys.argv[2].split()]
rates = [float(x) for x in sys.argv[3].split()]
print(json.dumps({
    "workload": "hot, 16 clients, SQLite",
    "subscriptions": "hanging, failing, unreachable" + ("" if os.environ.get("SLOW_ONLY") == "1" else ", fast"),
    "ordersPerSecondWithout": without,
    "ordersPerSecondWith": with_,
    "ratioWithToWithout": round(statistics.median(with_) / statistics.median(without), 3),
    "fastReceiverDeliveriesPerSecond": rates,
}))
EOF
