#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 cluster on 127.0.0.1 and
# OMS_TEST_PG set to its connection string; stops and removes the cluster
# afterwards, whatever the command's outcome.
#   tools/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
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
port=$(free_port)
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
# The EXIT trap stops the cluster even when a TERM or INT ends the command.
run_and_exit "$@"
