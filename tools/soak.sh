#!/usr/bin/env bash
# A bounded soak: mixed HTTP traffic (carts and orders created, paid,
# shipped, delivered and cancelled, stock received; oms-http-load's `mixed`
# workload) against one omsd on a SQLite store for SECONDS, with a graceful
# restart (SIGTERM, exit 0 required, same store) every RESTART_EVERY seconds.
# Every few seconds it samples omsd's resident memory, open file descriptors
# and threads into CSV. At every restart and at the end it checks that
# nothing acknowledged was lost and nothing unrequested appeared
# (oms-http-load verify: orders, stock conservation, the audit).
#
#   tools/soak.sh [SECONDS] [BUILD_DIR] [OUT_DIR]   (default: 1800 build, a
#                                                   temporary dir)
#   RESTART_EVERY=300 CLIENTS=8 tools/soak.sh 3600
#   OMSD_ARGS="--idempotency-window 2m --customer-idle-timeout 30s" \
#     tools/soak.sh 900       (retention windows shorter than the run, so
#                              that memory reaches its plateau within it)
#
# Prints one line per sample, then a summary: per process lifetime, the RSS,
# fd and thread counts after warm-up and at the end. It fails (exit 1) on a
# lost acknowledgement, a failed audit, an unclean exit, or file descriptors
# left open (more open at a lifetime's end than after its warm-up, beyond
# the clients' own connections); memory is reported, not judged, since its
# growth depends on the machine (see docs/reliability.md for a 30-minute run).
# OUT_DIR/samples.csv keeps the samples and OUT_DIR/rss.mmd a chart of them.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
seconds=${1:-1800}
build=${2:-build}
out=${3:-}
restart_every=${RESTART_EVERY:-$(( seconds < 600 ? seconds / 2 : 300 ))}
clients=${CLIENTS:-8}
sample_every=${SAMPLE_EVERY:-$(( seconds < 600 ? 2 : 10 ))}
omsd="$build/omsd"
load="$build/oms-http-load"
require_built soak "$omsd" "$load"
dir=$(mktemp -d)
[ -n "$out" ] || out="$dir/out"
mkdir -p "$out"
pid=
client=
cleanup() {
  [ -n "$client" ] && kill "$client" 2>/dev/null
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$dir/data"
  [[ "$out" == "$dir/out" ]] && rm -rf "$dir"
}
trap cleanup EXIT
token=soak-admin-token-0123456789
port=$(free_port)
url="http://127.0.0.1:$port"
acks="$out/acks.log"
: >"$acks"
csv="$out/samples.csv"
echo "second,lifetime,rss_kib,fds,threads" >"$csv"

# RSS (KiB), open fds and threads of omsd now.
sample() {
  local rss threads fds
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
  echo "${rss:-0},$fds,${threads:-0}"
}

bad=0
lifetime=0
start=$(date +%s)
deadline=$((start + seconds))
summary=()
while [ "$(date +%s)" -lt "$deadline" ]; do
  lifetime=$((lifetime + 1))
  start_omsd "$omsd" "$load" "$port" "$dir/data" "$token" "$out/omsd.log" ||
    { echo "lifetime $lifetime: omsd did not start"; tail -n 5 "$out/omsd.log"; bad=$((bad + 1)); break; }
  url="http://127.0.0.1:$port" # start_omsd may have moved to another port
  until_restart=$(( $(date +%s) + restart_every ))
  [ "$until_restart" -gt "$deadline" ] && until_restart=$deadline
  run_for=$(( until_restart - $(date +%s) ))
  [ "$run_for" -lt 2 ] && run_for=2
  "$load" run --url "$url" --token "$token" --clients "$clients" \
    --seconds "$run_for" --warmup 0 --workload mixed --skus 50 \
    --ack-log "$acks" --quiet >>"$out/load.out" 2>&1 &
  client=$!
  warm=
  last=
  while kill -0 "$client" 2>/dev/null; do
    sleep "$sample_every"
    s=$(sample)
    now=$(( $(date +%s) - start ))
    echo "$now,$lifetime,$s" >>"$csv"
    echo "soak: t=${now}s lifetime $lifetime rss_kib,fds,threads=$s"
    # The first sample a third of the way in is the warm-up mark.
    [ -z "$warm" ] && [ $(( $(date +%s) + 2 * run_for / 3 )) -ge "$until_restart" ] && warm=$s
    last=$s
  done
  wait "$client"
  load_status=$?
  client=
  [ "$load_status" -eq 0 ] ||
    { echo "lifetime $lifetime: the traffic's own checks failed"; tail -n 3 "$out/load.out"; bad=$((bad + 1)); }
  # With the clients gone, their connections are closed: what is open now
  # is omsd's own.
  sleep 1
  idle=$(sample)
  [ -n "$warm" ] || warm=$idle
  [ -n "$last" ] || last=$idle
  summary+=("lifetime $lifetime: after warm-up rss_kib,fds,threads=$warm; at the end $last; idle $idle")
  verify_cycle "$lifetime" "$out/verify.out" \
    "$load" verify --url "$url" --token "$token" --ack-log "$acks"
  idle_fds=$(echo "$idle" | cut -d, -f2)
  warm_fds=$(echo "$warm" | cut -d, -f2)
  if [ "$idle_fds" -gt $(( warm_fds + 4 )) ]; then
    echo "lifetime $lifetime: $idle_fds descriptors open when idle, $warm_fds under load after warm-up"
    bad=$((bad + 1))
  fi
  kill -TERM "$pid"
  wait "$pid"
  code=$?
  pid=
  [ "$code" -eq 0 ] || { echo "lifetime $lifetime: omsd exited $code on SIGTERM"; bad=$((bad + 1)); }
done

# A chart of the samples (Mermaid), for docs/reliability.md.
{
  echo '```mermaid'
  echo 'xychart-beta'
  echo "  title \"omsd resident memory (MiB) during a ${seconds}s soak, restart every ${restart_every}s\""
  echo "  x-axis \"seconds\" [$(tail -n +2 "$csv" | cut -d, -f1 | paste -sd, -)]"
  echo "  y-axis \"MiB\""
  echo "  line [$(tail -n +2 "$csv" | awk -F, '{printf "%s%.1f", (NR>1?",":""), $3/1024}')]"
  echo '```'
} >"$out/rss.mmd"

acked=$(grep -cE '^(created|confirmed|paid|shipped|delivered|cancelled) ' "$acks" || true)
printf '%s\n' "${summary[@]}"
echo "soak: ${seconds}s, $lifetime lifetimes, $acked acknowledged steps, $bad problems; samples in $csv"
[ "$bad" -eq 0 ]
