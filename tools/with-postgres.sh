#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 cluster on 127.0.0.1 and
# OMS_TEST_PG set to its connection string; stops and removes the cluster
# afterwards, whatever the command's outcome.
#   tools/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail
pgbin=/usr/lib/postgresql/15/bin
[ -x "$pgbin/initdb" ] || { echo "with-postgres: PostgreSQL 15 is not installed" >&2; exit 2; }
dir=$(mktemp -d /tmp/oms-pg-XXXXXX)
chmod 755 "$dir"
# initdb refuses to run as root: use the postgres system user then.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
port=$(( 20000 + RANDOM % 20000 ))
while (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
cleanup() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U oms --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log"; exit 2; }
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c synchronous_commit=on -c max_connections=300" start >/dev/null \
  || { cat "$dir/server.log"; exit 2; }
export OMS_TEST_PG="host=127.0.0.1 port=$port user=oms dbname=postgres"
echo "with-postgres: PostgreSQL 15 on 127.0.0.1:$port"
# In the background, so that a TERM or INT reaches the traps at once (bash
# runs traps only between foreground commands) and the cluster still goes.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; exit 143' TERM
trap 'kill -INT "$child" 2>/dev/null; exit 130' INT
status=0
wait "$child" || status=$?
exit "$status"
