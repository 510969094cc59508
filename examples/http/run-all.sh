#!/usr/bin/env bash
# Runs every HTTP scenario against one omsd and prints a summary; exits 1 if
# any failed.
#
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/run-all.sh
#   examples/http/run-all.sh --start   # starts its own omsd: build/omsd on a
#                                      # temporary data dir with the default
#                                      # hold, and a second one with
#                                      # --hold-ttl 5s for the expiry scenario
#
# Against an omsd whose holds last longer than a minute (the default is 15
# minutes), the expiry scenario is skipped with a message (exit 77 of
# expiry.sh), and the others still run.
#
# Environment: OMSCTL (default build/omsctl), OMSD (default build/omsd, for
# --start), PORT (default 18080, for --start; the expiry omsd takes PORT+1;
# "auto": two free ports).
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=examples/http
SCENARIOS=(lifecycle race cart cancel expiry batches returns)
OMSCTL=${OMSCTL:-build/omsctl}

# The expiry scenario's own omsd, when --start gives it one.
EXPIRY_URL=
if [ "${1:-}" = "--start" ]; then
  OMSD=${OMSD:-build/omsd}
  [ -x "$OMSD" ] || { echo "run-all: no omsd at $OMSD (set OMSD)" >&2; exit 2; }
  WORK=$(mktemp -d)
  OMS_TOKEN="demo-$(date +%s)-$$"
  export OMS_TOKEN
  PIDS=()
  trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
  # Starts omsd on port $1 with data dir $2 and extra flags; returns once it
  # answers (polling, up to 60 s), or exits with its log.
  start_omsd() {
    local port=$1 data=$2
    shift 2
    echo "run-all: starting $OMSD on http://127.0.0.1:$port $*, data in $data"
    "$OMSD" --port "$port" --data-dir "$data" --admin-token "$OMS_TOKEN" \
      --log-level warn "$@" >"$data.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 600); do
      OMS_URL="http://127.0.0.1:$port" "$OMSCTL" health >/dev/null 2>&1 && return 0
      kill -0 "$pid" 2>/dev/null ||
        { echo "run-all: omsd exited:" >&2; cat "$data.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "run-all: omsd did not answer within 60 s:" >&2
    cat "$data.log" >&2
    exit 1
  }
  port=${PORT:-18080}
  if [ "$port" != auto ]; then
    expiry_port=$((port + 1))
  else
    # Two ports free now (the tests run beside other servers, and beside
    # other runs of themselves).
    read -r port expiry_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
  fi
  start_omsd "$port" "$WORK/main"
  start_omsd "$expiry_port" "$WORK/expiry" --hold-ttl 5s
  export OMS_URL="http://127.0.0.1:$port"
  EXPIRY_URL="http://127.0.0.1:$expiry_port"
  "$OMSCTL" health
fi

declare -A verdict
failed=0
skipped=0
for name in "${SCENARIOS[@]}"; do
  printf '\n######## %s\n' "$name"
  url=${OMS_URL:-http://127.0.0.1:8080}
  [ "$name" != expiry ] || [ -z "$EXPIRY_URL" ] || url=$EXPIRY_URL
  rc=0
  OMS_URL=$url OMSCTL=$OMSCTL bash "$HERE/$name.sh" || rc=$?
  case $rc in
    0) verdict[$name]=PASS ;;
    77) verdict[$name]="SKIPPED (see above)"; skipped=$((skipped + 1)) ;;
    *) verdict[$name]="FAIL (exit $rc)"; failed=$((failed + 1)) ;;
  esac
done

printf '\n######## summary\n'
for name in "${SCENARIOS[@]}"; do
  printf '%-10s %s\n' "$name" "${verdict[$name]}"
done
# With --start every scenario has the omsd it needs: a skip is a failure.
if [ -n "$EXPIRY_URL" ] && [ "$skipped" -gt 0 ]; then
  echo "$skipped scenarios skipped against the omsd started for them"
  exit 1
fi
if [ "$failed" -gt 0 ]; then
  echo "$failed of ${#SCENARIOS[@]} scenarios failed"
  exit 1
fi
echo "$((${#SCENARIOS[@]} - skipped)) scenarios passed, $skipped skipped"
