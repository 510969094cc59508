#!/usr/bin/env bash
# tools/cluster.sh as a user runs it: up 2 nodes over its own PostgreSQL,
# each holds half the shards; one killed, the other holds them all; a
# third added takes its share; down leaves no process and no directory
# behind.
#   tests/cluster_script_test.sh OMSD
set -euo pipefail
export OMSD=$1
export OMS_CLUSTER_DIR
OMS_CLUSTER_DIR=$(mktemp -u /tmp/oms-cluster-test-XXXXXX)
script="$(dirname "$0")/../tools/cluster.sh"
trap 'bash "$script" down' EXIT
fail() { echo "cluster_script_test: $*" >&2; bash "$script" status >&2 || true; exit 1; }

# Waits at most 30 s until `status` prints a line matching each pattern.
wait_status() {
  local out
  for _ in $(seq 150); do
    out=$(bash "$script" status 2>/dev/null || true)
    local all=1 p
    for p in "$@"; do grep -q "$p" <<<"$out" || all=0; done
    [ "$all" -eq 1 ] && return 0
    sleep 0.2
  done
  fail "status never showed: $*"
}

bash "$script" up 2 --cluster-shards 8 --lease-ttl 1s
wait_status "^n1: owns 4 of 8 shards" "^n2: owns 4 of 8 shards"
bash "$script" kill 1
wait_status "^n1: not running" "^n2: owns 8 of 8 shards; sees n1 (not live) holding 0, n2 holding 8"
bash "$script" start 1
wait_status "^n1: owns 4 of 8 shards" "^n2: owns 4 of 8 shards"
# A node that never ran joins and takes its share from the others.
bash "$script" add
wait_status "^n3: owns [23] of 8 shards" "^n1: owns [23] of 8 shards" \
  "^n2: owns [23] of 8 shards"
pids=$(cat "$OMS_CLUSTER_DIR"/n*/pid)
bash "$script" down
trap - EXIT
[ ! -e "$OMS_CLUSTER_DIR" ] || fail "down left $OMS_CLUSTER_DIR"
for p in $pids; do
  if [ -e "/proc/$p" ] && [ "$(awk '{ print $3 }' "/proc/$p/stat")" != Z ]; then
    fail "down left node pid $p running"
  fi
done
echo "cluster_script_test: ok"
