#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 cluster on 127.0.0.1 and
# OMS_TEST_PG set to its connection string; stops and removes the cluster
# afterwards, whatever the command's outcome.
#   tools/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir=$(mktemp -d /tmp/oms-pg-XXXXXX)
cleanup() {
  pg_down "$dir"
  rm -rf "$dir"
}
trap cleanup EXIT
pg_up "$dir"
export OMS_TEST_PG="host=127.0.0.1 port=$pg_port user=oms dbname=postgres"
echo "with-postgres: PostgreSQL 15 on 127.0.0.1:$pg_port"
# The EXIT trap stops the cluster even when a TERM or INT ends the command.
run_and_exit "$@"
