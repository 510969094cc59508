#!/usr/bin/env bash
# Runs every HTTP scenario against one omsd and prints a summary; exits 1 if
# any failed.
#
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/run-all.sh
#   examples/http/run-all.sh --start   # starts its own omsd (build/omsd, a
#                                      # temporary data dir, --hold-ttl 2s)
#
# Environment: OMSCTL (default build/omsctl), OMSD (default build/omsd, for
# --start), PORT (default 18080, for --start).
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=examples/http
SCENARIOS=(lifecycle race cart cancel expiry batches)

if [ "${1:-}" = "--start" ]; then
  OMSD=${OMSD:-build/omsd}
  [ -x "$OMSD" ] || { echo "run-all: no omsd at $OMSD (set OMSD)" >&2; exit 2; }
  DATA=$(mktemp -d)
  export OMS_URL="http://127.0.0.1:${PORT:-18080}"
  OMS_TOKEN="demo-$(date +%s)-$$"
  export OMS_TOKEN
  echo "run-all: starting $OMSD on $OMS_URL, data in $DATA"
  "$OMSD" --port "${PORT:-18080}" --data-dir "$DATA" --admin-token "$OMS_TOKEN" \
    --hold-ttl 2s --log-level warn >"$DATA/omsd.log" 2>&1 &
  OMSD_PID=$!
  trap 'kill "$OMSD_PID" 2>/dev/null; wait "$OMSD_PID" 2>/dev/null; rm -rf "$DATA"' EXIT
  # Ready within 15 s, or give up (polling, not a fixed sleep).
  for _ in $(seq 1 150); do
    "${OMSCTL:-build/omsctl}" health >/dev/null 2>&1 && break
    kill -0 "$OMSD_PID" 2>/dev/null ||
      { echo "run-all: omsd exited:" >&2; cat "$DATA/omsd.log" >&2; exit 1; }
    sleep 0.1
  done
  "${OMSCTL:-build/omsctl}" health
fi

declare -A verdict
failed=0
for name in "${SCENARIOS[@]}"; do
  printf '\n######## %s\n' "$name"
  if bash "$HERE/$name.sh"; then
    verdict[$name]=PASS
  else
    verdict[$name]="FAIL (exit $?)"
    failed=$((failed + 1))
  fi
done

printf '\n######## summary\n'
for name in "${SCENARIOS[@]}"; do
  printf '%-10s %s\n' "$name" "${verdict[$name]}"
done
if [ "$failed" -gt 0 ]; then
  echo "$failed of ${#SCENARIOS[@]} scenarios failed"
  exit 1
fi
echo "all ${#SCENARIOS[@]} scenarios passed"
