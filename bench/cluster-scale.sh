#!/usr/bin/env bash
# One node against three on the same cores, with the cluster's data path
# (shared fenced store, forwarding): starts a local cluster of 1 node, runs
# oms-http-load's spread workload (one unit of a SKU among --skus) against
# it, then a cluster of 3 nodes with the same clients split over the three
# (each client at one node: about 2/3 of its orders are forwarded), and
# with every client at one node. Prints each run's orders/s and latency and
# the ratios to the single node (the machine is shared: only ratios within
# one run of this script mean anything).
#   bench/cluster-scale.sh [SECONDS] [CLIENTS] [SKUS]
#   (defaults: 5 s, 24 clients, 1000 SKUs)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-5}
clients=${2:-24}
skus=${3:-1000}
build=${OMS_BUILD:-$root/build}
load=$build/oms-http-load
[ -x "$load" ] || { echo "cluster-scale: build $load first" >&2; exit 2; }
export OMS_CLUSTER_DIR
cluster() { bash "$root/tools/cluster.sh" "$@"; }
trap '[ -n "${KEEP:-}" ] || cluster down >/dev/null 2>&1 || true' EXIT
shards=48

start() { # nodes
  OMS_CLUSTER_DIR=$(mktemp -u /tmp/oms-scale-XXXXXX)
  cluster up "$1" --cluster-shards "$shards" --lease-ttl 3s >/dev/null
  token=$(cat "$OMS_CLUSTER_DIR/admin.token")
  # Every shard served, the shares even (a node that joins takes its share
  # from the others: a run under way would see that move), and every node's
  # view showing every lease held and every other region reached.
  local even=$((shards / $1))
  for _ in $(seq 300); do
    local served=0 seen=0 i n
    for i in $(seq "$1"); do
      view=$(curl -sS --max-time 2 -H "Authorization: Bearer $token" "$(url "$i")/v1/cluster")
      n=$(jq '.served | length' <<<"$view")
      [ "$n" -ge "$even" ] && [ "$n" -le $((even + 1)) ] || continue
      served=$((served + n))
      if jq -e --argjson s "$shards" '([.leases[] | select(.state == "held")] | length) == $s and
          ([.nodes[] | select(.link != null and .link.reachable != true)] | length) == 0' \
        <<<"$view" >/dev/null; then
        seen=$((seen + 1))
      fi
    done
    [ "$served" -eq "$shards" ] && [ "$seen" -eq "$1" ] && return 0
    sleep 0.2
  done
  echo "cluster-scale: the shards were never all served" >&2
  exit 1
}
url() { echo "http://127.0.0.1:$(cat "$OMS_CLUSTER_DIR/n$1/port")"; }
run() { # node clients
  OMS_TOKEN=$token "$load" run --url "$(url "$1")" --workload spread --skus "$skus" \
    --clients "$2" --seconds "$seconds" --warmup 2 --quiet | tail -n 1
}
# Runs the loads given as "node:clients" at once; one JSON line: the sum of
# their orders/s and the worst p99.
together() {
  local dir pids=() k=0 spec
  dir=$(mktemp -d)
  for spec in "$@"; do
    run "${spec%%:*}" "${spec##*:}" >"$dir/$k" &
    pids+=($!)
    k=$((k + 1))
  done
  wait "${pids[@]}"
  jq -s -c '{opsPerSecond: (map(.opsPerSecond) | add | round),
             p50: (map(.latencyMs.p50) | max), p99: (map(.latencyMs.p99) | max),
             errors: (map(.errors) | add)}' "$dir"/*
  rm -rf "$dir"
}

start 1
one=$(together "1:$clients")
cluster down >/dev/null
echo "1 node, $clients clients: $one"
start 3
third=$((clients / 3))
spread3=$(together "1:$third" "2:$third" "3:$((clients - 2 * third))")
echo "3 nodes, clients split over them: $spread3"
at1=$(together "1:$clients")
echo "3 nodes, every client at n1: $at1"
forwarded=$(curl -sS -H "Authorization: Bearer $token" "$(url 1)/v1/cluster?leases=none" | jq -c .forwarded)
echo "n1 forwarded: $forwarded"
jq -n -c --argjson a "$one" --argjson b "$spread3" --argjson c "$at1" \
  '{threeSplitOverOne: ((($b.opsPerSecond / $a.opsPerSecond) * 100 | round) / 100),
    threeAtOneNodeOverOne: ((($c.opsPerSecond / $a.opsPerSecond) * 100 | round) / 100)}'
