#!/usr/bin/env bash
# Runs a command with a throwaway redis-server on 127.0.0.1 (append-only file
# in a temp dir) and OMS_TEST_REDIS_PORT set to its port; stops it and
# removes the dir afterwards, whatever the command's outcome.
#   bench/with-redis.sh [--appendfsync always|everysec] COMMAND [ARGS...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../tools/lib.sh"
fsync=always
if [ "${1:-}" = "--appendfsync" ]; then
  fsync=${2:?--appendfsync needs always or everysec}
  shift 2
fi
case "$fsync" in
  always|everysec) ;;
  *) echo "with-redis: --appendfsync must be always or everysec" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "usage: with-redis.sh [--appendfsync always|everysec] COMMAND..." >&2; exit 2; }
command -v redis-server >/dev/null || { echo "with-redis: redis-server is not installed" >&2; exit 2; }
dir=$(mktemp -d /tmp/oms-redis-XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
# A port found free can be taken by another process before Redis binds it
# (a test started beside this one): then another port, at most 5 tries.
# Up means answering PING, waited for up to 30 s however slow the machine.
up=0
for _ in 1 2 3 4 5; do
  port=$(free_port)
  : >"$dir/redis.log"
  # No snapshots: the append-only file is the durability under test.
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --appendonly yes --appendfsync "$fsync" --save "" \
    --daemonize no --logfile "$dir/redis.log" &
  pid=$!
  for _ in $(seq 600); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && { up=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ "$up" -eq 1 ] && break
  wait "$pid" 2>/dev/null || true
  pid=
  grep -q "Address already in use" "$dir/redis.log" || break
  echo "with-redis: port $port was taken before Redis bound it; another" >&2
done
[ "$up" -eq 1 ] || { cat "$dir/redis.log" >&2; exit 2; }
export OMS_TEST_REDIS_PORT=$port
echo "with-redis: Redis on 127.0.0.1:$port (appendfsync $fsync)" >&2
# The EXIT trap stops Redis even when a TERM or INT ends the command.
run_and_exit "$@"
