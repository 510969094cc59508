#!/usr/bin/env bash
# What a forwarded request costs, over HTTP: starts a local 2-node cluster
# (tools/cluster.sh, its own PostgreSQL, regions on loopback), picks a hot
# SKU on a shard n1 owns, and ROUNDS times runs oms-http-load's hot
# workload against n1 (the owner: served where it arrives) and then against
# n2 (forwarded to n1 through CAF's middleman and back), back to back.
# Prints each run's orders/s and latency and, per round, forwarded ÷ local
# (the machine is shared: only ratios within a round mean anything).
#   bench/cluster-forward.sh [ROUNDS] [SECONDS] [CLIENTS]
#   (defaults: 3 rounds, 5 s, 16 clients)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-3}
seconds=${2:-5}
clients=${3:-16}
build=${OMS_BUILD:-$root/build}
load=$build/oms-http-load
[ -x "$load" ] || { echo "cluster-forward: build $load first" >&2; exit 2; }
export OMS_CLUSTER_DIR
OMS_CLUSTER_DIR=$(mktemp -u /tmp/oms-forward-XXXXXX)
cluster() { bash "$root/tools/cluster.sh" "$@"; }
trap 'cluster down >/dev/null 2>&1' EXIT
shards=16
cluster up 2 --cluster-shards "$shards" --lease-ttl 3s >/dev/null
token=$(cat "$OMS_CLUSTER_DIR/admin.token")
url() { echo "http://127.0.0.1:$(cat "$OMS_CLUSTER_DIR/n$1/port")"; }
view() { curl -sS --max-time 2 -H "Authorization: Bearer $token" "$(url "$1")/v1/cluster?leases=none"; }

# Both nodes hold their half, both serve it, and each reaches the other.
for _ in $(seq 300); do
  if [ "$(view 1 | jq '.served | length')" = $((shards / 2)) ] &&
    [ "$(view 2 | jq '.served | length')" = $((shards / 2)) ] &&
    view 2 | jq -e '.nodes[] | select(.id == "n1") | .link.reachable' >/dev/null; then
    break
  fi
  sleep 0.2
done
owned=$(view 1 | jq -c '[.served[].shard]')
# One prefix per run (the load checks its SKU's stock against what the run
# gave it), each SKU PREFIX-0 on a shard n1 serves (FNV-1a, as omsd).
mapfile -t prefixes < <(python3 - "$owned" "$shards" "$((2 * rounds))" "$$" <<'EOF'
import json, sys
owned, shards, want = set(json.loads(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
def shard(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) % (1 << 64)
    return h % shards
k = 0
while want > 0:
    p = "FWD%s-%d" % (sys.argv[4], k)
    if shard(p + "-0") in owned:
        print(p)
        want -= 1
    k += 1
EOF
)
run() { # node label index-of-its-prefix
  local prefix=${prefixes[$3]}
  OMS_TOKEN=$token "$load" run --url "$(url "$1")" --workload hot --sku-prefix "$prefix" \
    --clients "$clients" --seconds "$seconds" --warmup 1 --quiet | tail -n 1 |
    jq -c --arg l "$2" '{run: $l, opsPerSecond, p50: .latencyMs.p50, p99: .latencyMs.p99, errors}'
}
echo "cluster-forward: a SKU on a shard n1 owns per run; $clients clients, ${seconds} s per run"
for r in $(seq "$rounds"); do
  local_line=$(run 1 local $((2 * r - 2)))
  fwd_line=$(run 2 forwarded $((2 * r - 1)))
  echo "$local_line"
  echo "$fwd_line"
  jq -n -c --argjson a "$local_line" --argjson b "$fwd_line" --arg r "$r" \
    '{round: ($r | tonumber), forwardedOverLocal: ((($b.opsPerSecond / $a.opsPerSecond) * 100 | round) / 100),
      p50: {local: $a.p50, forwarded: $b.p50}, p99: {local: $a.p99, forwarded: $b.p99}}'
done
echo "cluster-forward: n2's forwarded counters:"
view 2 | jq -c '.forwarded'
