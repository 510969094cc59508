#!/usr/bin/env bash
# How long a dead node's shards stay without an owner: starts a local
# cluster (tools/cluster.sh, its own PostgreSQL), and ROUNDS times SIGKILLs
# one node, polls a survivor's GET /v1/cluster until a survivor holds the
# first and then every one of the dead node's shards (each with a new
# epoch), starts the node again and waits until the shares are even.
# Prints one line per round and the p50 / p99 / max of both times.
#   bench/cluster-failover.sh [ROUNDS] [NODES] [OMSD_FLAGS...]
#   (defaults: 10 rounds, 3 nodes, --lease-ttl 3s --cluster-shards 256)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=${1:-10}
nodes=${2:-3}
shift $(($# < 2 ? $# : 2))
flags=("$@")
[ ${#flags[@]} -gt 0 ] || flags=(--lease-ttl 3s --cluster-shards 256)
export OMS_CLUSTER_DIR
OMS_CLUSTER_DIR=$(mktemp -u /tmp/oms-failover-XXXXXX)
cluster() { bash "$root/tools/cluster.sh" "$@"; }
trap 'cluster down' EXIT
cluster up "$nodes" "${flags[@]}" >/dev/null
token=$(cat "$OMS_CLUSTER_DIR/admin.token")
port_of() { cat "$OMS_CLUSTER_DIR/n$1/port"; }
view() { curl -sS --max-time 2 -H "Authorization: Bearer $token" "http://127.0.0.1:$(port_of "$1")/v1/cluster"; }
ms() { echo $(($(date +%s%N) / 1000000)); }

# Waits (at most 60 s) until node $1 sees every node live, every shard held
# and the shares even (at most one apart).
wait_even() {
  for _ in $(seq 600); do
    if view "$1" | jq -e --argjson n "$nodes" '([.nodes[] | select(.live)] | length) == $n and
        ([.leases[] | select(.state == "held")] | length) == .shards and
        ([.nodes[] | select(.live) | .shardsHeld] | (max - min) <= 1)' >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  echo "cluster-failover: the shares never evened out" >&2
  exit 1
}

firsts=()
alls=()
wait_even 1
for r in $(seq "$rounds"); do
  victim=$(((r - 1) % nodes + 1))
  witness=$((victim % nodes + 1))
  # The victim's shards and epochs, as the witness sees them.
  before=$(view "$witness" | jq -c --arg v "n$victim" \
    '[.leases[] | select(.owner == $v and .state == "held") | {shard, epoch}]')
  count=$(jq length <<<"$before")
  t0=$(ms)
  cluster kill "$victim"
  first=
  while :; do
    now=$(ms)
    moved=$(view "$witness" | jq --argjson was "$before" --arg v "n$victim" '
      [.leases[] | select(.state == "held" and .owner != $v)] as $held |
      [$was[] | . as $w | select(any($held[]; .shard == $w.shard and .epoch > $w.epoch))] | length' 2>/dev/null || echo 0)
    [ -z "$first" ] && [ "$moved" -gt 0 ] && first=$((now - t0))
    [ "$moved" -eq "$count" ] && break
    if [ $((now - t0)) -gt 60000 ]; then
      echo "cluster-failover: round $r: $moved of $count shards moved after 60 s" >&2
      exit 1
    fi
    sleep 0.02
  done
  all=$((now - t0))
  firsts+=("$first")
  alls+=("$all")
  echo "round $r: killed n$victim holding $count shards; first moved after $first ms, all after $all ms"
  cluster start "$victim" >/dev/null
  wait_even "$witness"
done

# p50 / p99 / max of the numbers given (nearest rank).
summary() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
    p50 = v[int((NR * 50 + 99) / 100)]; p99 = v[int((NR * 99 + 99) / 100)]
    printf "p50 %d ms, p99 %d ms, max %d ms (%d rounds)", p50, p99, v[NR], NR }'
}
echo "first shard of a killed node held again: $(summary "${firsts[@]}")"
echo "every shard of a killed node held again:  $(summary "${alls[@]}")"
echo "settings: $nodes nodes, ${flags[*]}"
