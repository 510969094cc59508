#!/usr/bin/env bash
# A local cluster of omsd nodes on loopback, over a throwaway PostgreSQL 15
# that holds the shard leases and the store the nodes share: for trying the
# cluster out and for tests (docs/cluster.md).
#   tools/cluster.sh up N [OMSD_FLAGS...]   start PostgreSQL and nodes n1..nN
#   tools/cluster.sh status                 each node, and who holds what
#   tools/cluster.sh kill|stop|pause|resume|start I
#                                           SIGKILL, SIGTERM (waits for the
#                                           exit), SIGSTOP, SIGCONT, start
#                                           node nI again
#   tools/cluster.sh add                    a node that never ran, n(N+1),
#                                           joins (the others hand it its
#                                           share of the shards)
#   tools/cluster.sh pg-restart             PostgreSQL stopped at once (as
#                                           a crash) and started again
#   tools/cluster.sh pg-cut|pg-freeze|pg-heal I
#   tools/cluster.sh link-cut|link-freeze|link-heal I
#                                           with OMS_CLUSTER_LINKS=1 at up:
#                                           node nI's link to PostgreSQL, or
#                                           the other nodes' links to its
#                                           region, cut (reset, refused),
#                                           frozen (no byte moves) or healed
#   tools/cluster.sh down                   stop every node and PostgreSQL,
#                                           remove the cluster's directory
# The cluster lives in $OMS_CLUSTER_DIR (default /tmp/oms-cluster, made
# here, mode 0711): node logs (nI/omsd.log), the admin token (admin.token),
# the PostgreSQL server (on its socket in pg/ only). Every node listens on
# 127.0.0.1 only. OMSD_FLAGS go to
# every node, e.g. --cluster-shards 16 --lease-ttl 1s. With
# OMS_CLUSTER_LINKS=1 at up, each node reaches PostgreSQL through a proxy of
# its own (tools/tcp-proxy.py on a private Unix socket in nI/pglink/), and
# the other nodes reach its region through another (on loopback, advertised
# with --cluster-advertise): the faults a network makes, one node at a time.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/tools/lib.sh"
dir=${OMS_CLUSTER_DIR:-/tmp/oms-cluster}
omsd=${OMSD:-$root/build/omsd}

usage() {
  sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# PostgreSQL listens on its socket only (in pg/, private): no other local
# user reaches the cluster's tables.
conninfo() { echo "host=$dir/pg port=$(cat "$dir/pg.port") user=oms dbname=postgres"; }
links() { [ -f "$dir/links" ]; }
# Node I's connection string: PostgreSQL's socket, or its link's.
node_conninfo() {
  if links; then
    echo "host=$dir/n$1/pglink port=5432 user=oms dbname=postgres"
  else
    conninfo
  fi
}

# Starts a proxy (tools/tcp-proxy.py ARGS...) whose pid goes to FILE.pid and
# whose port to FILE.port; waits until it listens.
#   start_proxy FILE ARGS...
start_proxy() {
  local file=$1
  shift
  python3 "$root/tools/tcp-proxy.py" "$@" >"$file.port" 2>"$file.err" &
  echo $! >"$file.pid"
  for _ in $(seq 100); do
    [ -s "$file.port" ] && return 0
    sleep 0.05
  done
  echo "cluster: a link proxy did not start: $(cat "$file.err")" >&2
  return 1
}

stop_proxy() {
  [ -f "$1.pid" ] && kill "$(cat "$1.pid")" 2>/dev/null || true
  rm -f "$1.pid"
}

# Node I's links (OMS_CLUSTER_LINKS=1): to PostgreSQL, on a Unix socket in
# its private directory; and to its region, on a loopback port it
# advertises.
start_links() {
  local i=$1
  mkdir -p -m 700 "$dir/n$i/pglink"
  start_proxy "$dir/n$i/pglink" "$dir/pg/.s.PGSQL.$(cat "$dir/pg.port")" 0 \
    --listen-unix "$dir/n$i/pglink/.s.PGSQL.5432"
  start_proxy "$dir/n$i/regionlink" 127.0.0.1 "$(cat "$dir/n$i/region")"
}

# Sends SIGNAL to node I's link proxy NAME (pglink, regionlink).
signal_link() {
  local sig=$1 i=$2 name=$3
  [[ "$i" =~ ^[0-9]+$ ]] && [ -f "$dir/n$i/$name.pid" ] ||
    { echo "cluster: node n$i has no $name (up with OMS_CLUSTER_LINKS=1)" >&2; exit 2; }
  kill "-$sig" "$(cat "$dir/n$i/$name.pid")"
}
node_port() { cat "$dir/n$1/port"; }
node_pid() { cat "$dir/n$1/pid" 2>/dev/null || true; }
# Node I's process runs (or is stopped by SIGSTOP): not gone, and not a
# zombie nobody reaped.
running() {
  local p state
  p=$(node_pid "$1")
  [[ "$p" =~ ^[0-9]+$ ]] || return 1
  state=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) && [ "$state" != Z ]
}

# running, and still the omsd this cluster started (a pid is reused once
# it is gone). Not right after the start: until the child has exec'd omsd,
# its command line is the shell's.
alive() {
  running "$1" || return 1
  tr '\0' ' ' <"/proc/$(node_pid "$1")/cmdline" 2>/dev/null | grep -q -- "--node-id n$1 "
}

# Sends SIGNAL to node I if it is still the omsd this cluster started.
#   signal_pid SIGNAL I
signal_pid() {
  alive "$2" && kill "-$1" "$(node_pid "$2")" 2>/dev/null
}
nodes() { cat "$dir/nodes"; }

# Starts node I (its ports, data dir and flags as recorded) and waits at
# most 30 s for its /readyz. A port found free can be taken by another
# process before omsd binds it: then the node gets new ones (at most 5
# tries), recorded for the other commands.
start_node() {
  local i=$1 port flags try mark
  mapfile -t flags <"$dir/flags"
  for try in 1 2 3 4 5; do
    port=$(node_port "$i")
    mark=$({ wc -c <"$dir/n$i/omsd.log"; } 2>/dev/null || echo 0)
    local via=()
    links && via=(--cluster-advertise "127.0.0.1:$(cat "$dir/n$i/regionlink.port")")
    "$omsd" --port "$port" --data-dir "$dir/n$i" --admin-token-file "$dir/admin.token" \
      --cluster "$(node_conninfo "$i")" --node-id "n$i" --store-check off \
      --cluster-listen "127.0.0.1:$(cat "$dir/n$i/region")" "${via[@]}" "${flags[@]}" \
      >>"$dir/n$i/omsd.log" 2>&1 &
    echo $! >"$dir/n$i/pid"
    for _ in $(seq 300); do
      curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && return 0
      running "$i" || break
      sleep 0.1
    done
    running "$i" && break # up, never ready
    tail -c +"$((mark + 1))" "$dir/n$i/omsd.log" | grep -q "Address already in use\|cannot_open_port" || break
    echo "cluster: a port of n$i was taken before it bound it (try $try); others" >&2
    free_port >"$dir/n$i/port"
    free_port >"$dir/n$i/region"
    if links; then
      stop_proxy "$dir/n$i/regionlink"
      start_proxy "$dir/n$i/regionlink" 127.0.0.1 "$(cat "$dir/n$i/region")"
    fi
  done
  echo "cluster: node n$i did not become ready; its log:" >&2
  tail -n 20 "$dir/n$i/omsd.log" >&2
  return 1
}

up() {
  local n=${1:-}
  [[ "$n" =~ ^[1-9][0-9]?$ ]] || { echo "cluster: up N: N is 1..99" >&2; exit 2; }
  shift
  require_built cluster "$omsd"
  # Made here, not found: another user's directory of that name is refused
  # (mkdir fails on anything that exists). Traversable (PostgreSQL's user
  # needs to reach pg/), not listable; the token and the nodes' directories
  # are private.
  if ! mkdir -m 711 "$dir" 2>/dev/null; then
    echo "cluster: $dir exists: run tools/cluster.sh down first (or set OMS_CLUSTER_DIR)" >&2
    exit 2
  fi
  mkdir "$dir/pg"
  pg_up "$dir/pg" socket
  echo "$pg_port" >"$dir/pg.port"
  printf '%s\n' "$@" >"$dir/flags"
  [ $# -gt 0 ] || : >"$dir/flags"
  (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' >"$dir/admin.token")
  echo "$n" >"$dir/nodes"
  [ "${OMS_CLUSTER_LINKS:-0}" = 1 ] && : >"$dir/links"
  for i in $(seq "$n"); do
    mkdir -m 700 "$dir/n$i"
    free_port >"$dir/n$i/port"
    free_port >"$dir/n$i/region"
    links && start_links "$i"
  done
  for i in $(seq "$n"); do
    start_node "$i"
    echo "cluster: node n$i on http://127.0.0.1:$(node_port "$i") (pid $(node_pid "$i"))"
  done
  echo "cluster: PostgreSQL on its socket in $dir/pg; admin token in $dir/admin.token"
  echo "  curl -H \"Authorization: Bearer \$(cat $dir/admin.token)\" http://127.0.0.1:$(node_port 1)/v1/cluster"
}

# A node that never ran joins: n(N+1), its ports (and links) its own, the
# cluster counting it from then on.
add_node() {
  [ -f "$dir/nodes" ] || { echo "cluster: no cluster in $dir" >&2; exit 2; }
  local i=$(($(nodes) + 1))
  [ "$i" -le 99 ] || { echo "cluster: 99 nodes at most" >&2; exit 2; }
  mkdir -m 700 "$dir/n$i"
  free_port >"$dir/n$i/port"
  free_port >"$dir/n$i/region"
  links && start_links "$i"
  echo "$i" >"$dir/nodes"
  start_node "$i"
  echo "cluster: node n$i on http://127.0.0.1:$(node_port "$i") (pid $(node_pid "$i"))"
}

status() {
  [ -d "$dir" ] || { echo "cluster: no cluster in $dir" >&2; exit 2; }
  local token i
  token=$(cat "$dir/admin.token")
  for i in $(seq "$(nodes)"); do
    if ! alive "$i"; then
      echo "n$i: not running"
      continue
    fi
    curl -sS --max-time 5 -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$(node_port "$i")/v1/cluster?leases=none" |
      jq -r '"\(.node): owns \(.owned | length) of \(.shards) shards; sees " +
             ([.nodes[] | "\(.id)\(if .live then "" else " (not live)" end) holding \(.shardsHeld)" +
               (if .link == null then "" elif .link.reachable then " (reached in \(.link.rttMs * 100 | round / 100) ms)"
                else " (unreachable: \(.link.lastError // "not yet"))" end)] | join(", "))' ||
      echo "n$i: running (pid $(node_pid "$i")), not answering"
  done
}

signal_node() {
  local what=$1 i=${2:-}
  [[ "$i" =~ ^[0-9]+$ ]] && [ -d "$dir/n$i" ] || { echo "cluster: no node n$i" >&2; exit 2; }
  case "$what" in
    kill) signal_pid KILL "$i" ;;
    pause) signal_pid STOP "$i" ;;
    resume) signal_pid CONT "$i" ;;
    stop)
      signal_pid TERM "$i" || return 0
      signal_pid CONT "$i" || true
      for _ in $(seq 300); do alive "$i" || return 0; sleep 0.1; done
      echo "cluster: n$i did not exit within 30 s" >&2
      return 1
      ;;
    start)
      if alive "$i"; then echo "cluster: n$i is running" >&2; exit 2; fi
      start_node "$i"
      ;;
  esac
}

# PostgreSQL stopped without a checkpoint (what a crash leaves) and started
# again on the same socket and port: what was committed survives.
pg_restart() {
  [ -d "$dir/pg/data" ] || { echo "cluster: no cluster in $dir" >&2; exit 2; }
  local as=()
  [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
  "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/pg/data" -m immediate -w \
    -l "$dir/pg/server.log" restart >/dev/null
}

down() {
  [ -d "$dir" ] || return 0
  local i
  if [ -f "$dir/nodes" ]; then
    for i in $(seq "$(nodes)"); do
      signal_pid TERM "$i" || true
      signal_pid CONT "$i" || true
    done
    for i in $(seq "$(nodes)"); do
      for _ in $(seq 100); do alive "$i" || break; sleep 0.1; done
      signal_pid KILL "$i" || true
    done
  fi
  if [ -f "$dir/nodes" ]; then
    for i in $(seq "$(nodes)"); do
      stop_proxy "$dir/n$i/pglink"
      stop_proxy "$dir/n$i/regionlink"
    done
  fi
  [ -d "$dir/pg/data" ] && pg_down "$dir/pg"
  rm -rf "$dir"
}

case "${1:-}" in
  up) shift; up "$@" ;;
  status) status ;;
  add) add_node ;;
  kill | stop | pause | resume | start) signal_node "$1" "${2:-}" ;;
  pg-restart) pg_restart ;;
  pg-cut) signal_link USR1 "${2:-}" pglink ;;
  pg-freeze) signal_link USR2 "${2:-}" pglink ;;
  pg-heal) signal_link HUP "${2:-}" pglink ;;
  link-cut) signal_link USR1 "${2:-}" regionlink ;;
  link-freeze) signal_link USR2 "${2:-}" regionlink ;;
  link-heal) signal_link HUP "${2:-}" regionlink ;;
  down) down ;;
  *) usage ;;
esac
