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
port=
cleanup() {
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U oms --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log"; exit 2; }
# A port found free can be taken by another process before the server binds
# it (a test that just ended, any client's ephemeral port): then try another.
started=0
for _ in 1 2 3 4 5; do
  port=$(free_port)
  if "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=on -c synchronous_commit=on -c max_connections=300" start >/dev/null; then
    started=1
    break
  fi
  grep -q "Address already in use" "$dir/server.log" || break
  echo "with-postgres: port $port was taken before the server bound it; another" >&2
done
[ "$started" -eq 1 ] || { cat "$dir/server.log"; exit 2; }
export OMS_TEST_PG="host=127.0.0.1 port=$port user=oms dbname=postgres"
echo "with-postgres: PostgreSQL 15 on 127.0.0.1:$port"
# The EXIT trap stops the cluster even when a TERM or INT ends the command.
run_and_exit "$@"
