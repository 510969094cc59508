#!/usr/bin/env bash
# The one command that compares the order system with the designs a team
# would otherwise build, on this machine in one run (docs/benchmarks.md):
# installs what is missing (as root), builds the bench programs and omsd in a
# Release tree build-bench/, starts the servers on 127.0.0.1 in temp dirs
# (PostgreSQL 15, Redis with appendfsync always and then everysec, a fresh
# omsd on SQLite per HTTP run), runs the matrix workload by workload, every
# system back to back (the disk is shared and its speed drifts: a workload's
# figures are taken minutes apart at most), stops every server it started,
# and writes bench/results/<UTC time>/: results.jsonl, table.md,
# throughput.svg, latency.svg. Prints the table at the end. Exits 1 when a
# run's invariants failed or a bench could not run.
#   bash bench/run-comparison.sh [--seconds 5] [--clients 32] [--quick]
#                                [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# -- what the matrix runs with (the script calls itself for it, under
# tools/with-postgres.sh and bench/with-redis.sh; settings in OMS_CMP_*) -----

status=0

# Appends a line to the results.
keep() { printf '%s\n' "$1" >>"$OMS_CMP_RESULTS"; }

record() { # record LABEL PROGRAM ARGS...: runs one bench, keeps its result line
  local label=$1 prog=$2
  shift 2
  local bin="$OMS_CMP_BIN/$prog"
  if [ ! -x "$bin" ]; then
    echo "-- $label: skipped, $prog is not built on this branch" >&2
    keep "$(jq -cn --arg s "$label" --arg r "$prog is not built on this branch" \
      '{skipped: $s, reason: $r}')"
    return 0
  fi
  echo "== $label: $prog $*" >&2
  local out rc=0
  # --foreground keeps the bench in our process group: Ctrl-C and a TERM to
  # the group reach it.
  out=$(timeout --foreground --signal=TERM "$OMS_CMP_LIMIT" "$bin" "$@") || rc=$?
  local line
  line=$(printf '%s\n' "$out" | tail -n 1)
  if [ -n "$line" ] && printf '%s' "$line" \
    | jq -e 'type == "object" and has("bench") and has("system") and has("workload")' \
      >/dev/null 2>&1; then
    # OMS_CMP_AS names the workload of a series of its own (flash-256).
    keep "$(printf '%s' "$line" | jq -c --arg series "${OMS_CMP_AS:-}" \
      'if $series != "" then .workload = $series else . end')"
    if [ "$(printf '%s' "$line" | jq -r .invariantsOk)" != true ]; then
      echo "!! $label: invariants FAILED" >&2
      status=1
    elif [ "$rc" -ne 0 ]; then
      # Its figures stand, but the program did not end well.
      echo "!! $label: exited $rc after its result line" >&2
      keep "$(jq -cn --arg s "$label" \
        --arg r "$prog exited $rc after its result line$([ "$rc" -eq 124 ] && echo ' (stopped after '"$OMS_CMP_LIMIT"' s)')" \
        '{problem: $s, reason: $r}')"
      status=1
    fi
  elif [ "$rc" -eq 0 ]; then
    echo "-- $label: $prog printed no shared result line; not counted" >&2
    keep "$(jq -cn --arg s "$label" --arg r "$prog printed no shared result line" \
      '{skipped: $s, reason: $r}')"
  else
    echo "!! $label: $prog exited $rc without a result line" >&2
    keep "$(jq -cn --arg s "$label" --arg r "$prog exited $rc without a result line" \
      '{problem: $s, reason: $r}')"
    status=1
  fi
}

common_args() { # the flags every reservation bench takes
  echo --clients "$OMS_CMP_CLIENTS" --seconds "$OMS_CMP_SECONDS" \
    --warmup "$OMS_CMP_WARMUP" --skus 10000
}

# What one durable write costs now (the disk is shared): 8 KiB written with
# O_DSYNC 200 times in /tmp, where every server keeps its files.
probe_disk() { # probe_disk LABEL
  local dir rate
  dir=$(mktemp -d /tmp/oms-cmp-sync-XXXXXX)
  rate=$(dd if=/dev/zero of="$dir/f" bs=8k count=200 oflag=dsync 2>&1 \
    | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) { print int(200 / $(i - 1)); exit } }')
  rm -rf "$dir"
  echo "== disk before $1: ${rate:-?} synced 8 KiB writes/s" >&2
  keep "$(jq -cn --arg b "$1" --arg r "${rate:-}" \
    '{probe: "disk", before: $b, syncedWritesPerSecond: ($r | tonumber? // null)}')"
}

# A fresh omsd on a fresh SQLite store for each HTTP run, as every baseline
# run starts on fresh tables or keys: no run pays for the orders of another.
omsd_pid=
omsd_dir=
start_omsd() { # sets url and token, or fails with omsd's log
  omsd_dir=$(mktemp -d /tmp/oms-cmp-omsd-XXXXXX)
  local port=$((20000 + RANDOM % 20000))
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  "$OMS_CMP_BIN/omsd" --listen 127.0.0.1 --port "$port" --store sqlite \
    --data-dir "$omsd_dir" --admin-token "$token" --log-level warn \
    2>"$omsd_dir/omsd.log" &
  omsd_pid=$!
  url="http://127.0.0.1:$port"
  for _ in $(seq 200); do
    curl -fs "$url/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$omsd_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "!! omsd did not become ready:" >&2
  tail -20 "$omsd_dir/omsd.log" >&2 || true
  return 1
}
stop_omsd() {
  if [ -n "$omsd_pid" ]; then
    kill -TERM "$omsd_pid" 2>/dev/null || true
    wait "$omsd_pid" 2>/dev/null || true
  fi
  omsd_pid=
  [ -n "$omsd_dir" ] && rm -rf "$omsd_dir"
  omsd_dir=
  return 0
}

oms_http() { # oms_http WORKLOAD ARGS...
  local w=$1
  shift
  if [ ! -x "$OMS_CMP_BIN/omsd" ] || [ ! -x "$OMS_CMP_BIN/oms-http-load" ]; then
    record "oms-http $w" oms-http-load # says it is not built
    return 0
  fi
  if start_omsd; then
    record "oms-http $w" oms-http-load run --url "$url" --token "$token" \
      --workload "$w" "$@"
  else
    keep "$(jq -cn --arg s "oms-http $w" '{problem: $s, reason: "omsd did not become ready"}')"
    status=1
  fi
  stop_omsd
}

# -- the HTTP ceiling: what HTTP on this machine can do at all (nginx, one
# worker, a static 200), what omsd's front does with no actor asked
# (/healthz) and with one actor read (/v1/inventory/{sku}), each under wrk, a
# load generator none of us wrote, with the same threads and connections as
# one another; the order routes' runs above are the rest of the picture.
wrk_run() { # wrk_run SYSTEM URL [wrk args...]: keeps a shared result line
  local system=$1 target=$2
  shift 2
  echo "== $system: wrk $target" >&2
  local out rc=0 line
  out=$(timeout --foreground --signal=TERM "$OMS_CMP_LIMIT" wrk -t 2 \
    -c "$OMS_CMP_CLIENTS" -d "${OMS_CMP_SECONDS}s" \
    -s "$root/bench/wrk-summary.lua" "$@" "$target" 2>&1) || rc=$?
  line=$(printf '%s\n' "$out" | grep '^{"requests"' | tail -n 1 || true)
  if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
    echo "!! $system: wrk exited $rc without its figures: $out" >&2
    keep "$(jq -cn --arg s "$system http-ceiling" --arg r "wrk exited $rc without its figures" \
      '{problem: $s, reason: $r}')"
    status=1
    return 0
  fi
  # Every answer must have been a 2xx, on every connection.
  keep "$(printf '%s' "$line" | jq -c --arg s "$system" --argjson c "$OMS_CMP_CLIENTS" '
    (.durationUs / 1e6) as $secs
    | {bench: "wrk", system: $s, workload: "http-ceiling", clients: $c,
       seconds: $secs, operations: .requests,
       opsPerSecond: (.requests / $secs),
       latencyMs: {p50: (.p50Us / 1000), p99: (.p99Us / 1000),
                   p999: (.p999Us / 1000), max: (.maxUs / 1000)},
       granted: 0, refused: 0, errors: (.socketErrors + .non2xx),
       invariantsOk: ((.socketErrors + .non2xx) == 0)}')"
  if [ "$(printf '%s' "$line" | jq '.socketErrors + .non2xx')" != 0 ]; then
    echo "!! $system: wrk saw errors or answers other than 2xx: $line" >&2
    status=1
  fi
}

http_ceiling() {
  local dir port
  dir=$(mktemp -d /tmp/oms-cmp-nginx-XXXXXX)
  port=$((20000 + RANDOM % 20000))
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  mkdir -p "$dir/tmp"
  cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
NGINX
  nginx -p "$dir" -c "$dir/nginx.conf" &
  local nginx_pid=$!
  local up=0
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && { up=1; break; }
    sleep 0.1
  done
  if [ "$up" -eq 1 ]; then
    wrk_run nginx-static "http://127.0.0.1:$port/"
  else
    echo "!! nginx did not start: $(cat "$dir/error.log" 2>/dev/null)" >&2
    keep "$(jq -cn '{problem: "nginx-static http-ceiling", reason: "nginx did not start"}')"
    status=1
  fi
  kill -TERM "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  rm -rf "$dir"
  if start_omsd; then
    wrk_run omsd-healthz "$url/healthz"
    curl -fs -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d '{"quantity":1000,"unitPrice":100}' "$url/v1/inventory/CEILING-1/receipts" >/dev/null
    wrk_run omsd-inventory "$url/v1/inventory/CEILING-1" -H "Authorization: Bearer $token"
  else
    keep "$(jq -cn '{problem: "omsd http-ceiling", reason: "omsd did not become ready"}')"
    status=1
  fi
  stop_omsd
}

redis_fsync() { # switches the running Redis between always and everysec
  redis-cli -p "$OMS_TEST_REDIS_PORT" CONFIG SET appendfsync "$1" >/dev/null
}

matrix() {
  local w flash
  # The order system's programs take --seconds as a flash sale's time limit.
  flash=(--stock "$OMS_CMP_FLASH_STOCK" --clients "$OMS_CMP_CLIENTS" --skus 1)
  for w in hot spread multiline flash; do
    probe_disk "$w"
    local args
    # shellcheck disable=SC2207
    args=($(common_args))
    [ "$w" = flash ] && args=("${flash[@]}")
    record "postgres $w" oms-bench-pg --workload "$w" "${args[@]}"
    # The same reservation as one call to a PL/pgSQL function: one round trip
    # instead of four, so PostgreSQL is not judged by its protocol alone.
    [ "$w" != flash ] \
      && record "postgres-fn $w" oms-bench-pg --form function --workload "$w" "${args[@]}"
    redis_fsync always
    record "redis-always $w" oms-bench-redis --workload "$w" "${args[@]}"
    redis_fsync everysec
    record "redis-everysec $w" oms-bench-redis --workload "$w" "${args[@]}"
    redis_fsync always
    [ "$w" = flash ] && args=("${flash[@]}" --seconds 120)
    record "oms-sqlite $w" oms-bench-inprocess --store sqlite --workload "$w" "${args[@]}"
    record "oms-memory $w" oms-bench-inprocess --store memory --workload "$w" "${args[@]}"
    oms_http "$w" "${args[@]}"
  done
  # The flash sale again at 256 clients, each system back to back: refusals
  # must stay fast and exact when the crowd is eight times larger.
  probe_disk "flash-256"
  local f256=(--stock "$OMS_CMP_FLASH_STOCK" --clients 256 --skus 1)
  OMS_CMP_AS=flash-256 record "postgres flash-256" oms-bench-pg --workload flash "${f256[@]}"
  redis_fsync always
  OMS_CMP_AS=flash-256 record "redis-always flash-256" oms-bench-redis --workload flash "${f256[@]}"
  OMS_CMP_AS=flash-256 record "oms-sqlite flash-256" oms-bench-inprocess --store sqlite \
    --workload flash "${f256[@]}" --seconds 120
  OMS_CMP_AS=flash-256 oms_http flash "${f256[@]}" --seconds 120
  probe_disk "lifecycle, cancel"
  for w in lifecycle cancel; do
    # shellcheck disable=SC2046
    record "oms-sqlite $w" oms-bench-inprocess --store sqlite --workload "$w" $(common_args)
    # shellcheck disable=SC2046
    record "oms-memory $w" oms-bench-inprocess --store memory --workload "$w" $(common_args)
    # shellcheck disable=SC2046
    oms_http "$w" $(common_args)
  done
  http_ceiling
  record "caf-rtt" oms-bench-actor-rtt --clients "$OMS_CMP_CLIENTS" \
    --seconds "$OMS_CMP_SECONDS" --warmup "$OMS_CMP_WARMUP"
  # Creating a million orders takes one to five minutes here (more on
  # SQLite, and on a busy day), the orders rest within two idle timeouts
  # (omsd's default, a minute) of their last use at a few thousand a second,
  # and the audit of the 900,000 still open takes seconds to a minute; a
  # memory run still going after twenty minutes is stuck.
  OMS_CMP_LIMIT=1200 record "memory" oms-bench-memory \
    --orders "$OMS_CMP_MEMORY_ORDERS" --skus 10000
  # omsd's default store, where #14's target for memory is set.
  OMS_CMP_LIMIT=1200 record "memory sqlite" oms-bench-memory --store sqlite \
    --orders "$OMS_CMP_MEMORY_ORDERS" --skus 10000
}

if [ "${1:-}" = "--matrix" ]; then
  trap stop_omsd EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  [ -n "${OMS_TEST_PG:-}" ] && [ -n "${OMS_TEST_REDIS_PORT:-}" ] \
    || { echo "run-comparison: --matrix runs under with-postgres.sh and with-redis.sh" >&2; exit 2; }
  matrix
  exit "$status"
fi

# -- the command ---------------------------------------------------------------

seconds=5
clients=32
quick=0
out=
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --clients) clients=${2:?--clients needs a number}; shift 2 ;;
    --quick) quick=1; shift ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "run-comparison: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$clients" =~ ^[0-9]+$ ]] && [ "$clients" -ge 1 ] \
  || { echo "run-comparison: --clients must be a positive integer" >&2; exit 2; }
[[ "$seconds" =~ ^[0-9]+([.][0-9]+)?$ ]] \
  || { echo "run-comparison: --seconds must be a positive number" >&2; exit 2; }
warmup=1
flash_stock=5000
memory_orders=1000000
if [ "$quick" -eq 1 ]; then
  # --quick: a smoke run (a few minutes of runs after the build); the
  # figures are rough.
  [ "$seconds" = 5 ] && seconds=1
  warmup=0.3
  flash_stock=1000
  memory_orders=100000
fi
started=$(date +%s)

echo "== installing what is missing"
if [ "$(id -u)" -eq 0 ]; then
  bash tools/install-deps.sh
  if ! command -v gnuplot >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      gnuplot-nox >/dev/null
  fi
  if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
    # nginx's package would start a server on port 80 for everyone: no
    # service starts during this install (policy-rc.d says no), and the
    # bench runs its own nginx on loopback.
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy"
      chmod 755 "$policy"
      made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      wrk nginx-light >/dev/null
    [ "$made_policy" -eq 1 ] && rm -f "$policy"
  fi
else
  for c in cmake ninja redis-server redis-cli jq gnuplot wrk nginx /usr/lib/postgresql/15/bin/initdb; do
    command -v "$c" >/dev/null || { echo "run-comparison: $c is missing; run as root to install it" >&2; exit 2; }
  done
fi

echo "== building the bench programs and omsd (Release, build-bench/)"
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=1
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DOMS_BUILD_TESTS=OFF >/dev/null
wanted=(oms-bench-pg oms-bench-redis oms-bench-report omsd oms-http-load
        oms-bench-inprocess oms-bench-actor-rtt oms-bench-memory)
known=$(ninja -C build-bench -t targets all 2>/dev/null | sed 's/:.*//')
targets=()
for t in "${wanted[@]}"; do
  grep -qx "$t" <<<"$known" && targets+=("$t")
done
cmake --build build-bench -j 2 --target "${targets[@]}"

stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
out=${out:-bench/results/$stamp}
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
export OMS_CMP_RESULTS=$results OMS_CMP_BIN=$root/build-bench
export OMS_CMP_SECONDS=$seconds OMS_CMP_CLIENTS=$clients OMS_CMP_WARMUP=$warmup
export OMS_CMP_FLASH_STOCK=$flash_stock OMS_CMP_MEMORY_ORDERS=$memory_orders
# A run that hangs is stopped: its time plus generous setup and a sell-out.
OMS_CMP_LIMIT=$(awk -v s="$seconds" -v w="$warmup" 'BEGIN { printf "%d", s + w + 600 }')
export OMS_CMP_LIMIT

loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
# The busiest processes over one second (other people's work shares the
# machine): the second of two top frames.
busy_before=$(top -b -n 2 -d 1 -o %CPU -w 200 | awk '/^top -/ { frame++ } frame == 2 && $1 ~ /^[0-9]+$/ && shown < 5 { printf "%s%s %s%%", (shown ? ", " : ""), $12, $9; shown++ }')
echo "== machine: $(nproc) cores, load $loadavg_before, busiest: $busy_before"

# Both servers for the whole matrix, each stopped and removed by its wrapper
# whatever happens; the matrix in the background, so that a TERM or INT
# reaches the traps at once.
echo "== PostgreSQL 15 (fsync on, synchronous_commit on) and Redis (appendonly yes)"
child=
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; exit 143' TERM
trap '[ -n "$child" ] && kill -INT "$child" 2>/dev/null; exit 130' INT
bash tools/with-postgres.sh bash bench/with-redis.sh --appendfsync always \
  bash "$0" --matrix &
child=$!
wait "$child" || status=1
child=

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
keep "$(jq -cn --argjson nproc "$(nproc)" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" \
  --arg kernel "$(uname -r)" --arg date "$stamp" \
  --arg before "$loadavg_before" --arg after "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg busy "$busy_before" --arg commit "$commit" \
  --argjson seconds "$seconds" --argjson clients "$clients" --argjson quick "$quick" \
  '{machine: {nproc: $nproc, cpu: $cpu, kernel: $kernel, date: $date,
              loadavgBefore: $before, loadavgAfter: $after,
              busiestProcessesBefore: $busy, commit: $commit,
              secondsPerRun: $seconds, clients: $clients, quick: ($quick == 1)}}')"

echo "== report"
report_rc=0
build-bench/oms-bench-report "$results" --table "$out/table.md" --plot-dir "$out" \
  >/dev/null || report_rc=$?
if [ "$report_rc" -eq 2 ]; then
  echo "!! the report could not be rendered" >&2
  exit 2
fi
(cd "$out" && gnuplot plot.gp 2>/dev/null) || echo "!! gnuplot failed; no SVG" >&2
cat "$out/table.md"
echo
echo "== written to $out (results.jsonl, table.md, throughput.svg, latency.svg) in $(($(date +%s) - started)) s"
if [ "$report_rc" -ne 0 ] || [ "$status" -ne 0 ]; then
  echo "!! some runs failed (see above and the table)" >&2
  exit 1
fi
