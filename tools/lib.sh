# shellcheck shell=bash
# What the scripts under tools/ and bench/ share; they source it:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Functions only: sourcing it runs nothing.

# Exits 2 with "NAME: BIN not built" on stderr unless every BIN is executable.
#   require_built NAME BIN...
require_built() {
  local name=$1 b
  shift
  for b in "$@"; do
    [ -x "$b" ] || { echo "$name: $b not built" >&2; exit 2; }
  done
}

# Prints a TCP port on 127.0.0.1 that nothing listens on: the first free one
# from a random start in 20000..39999.
free_port() {
  local port=$((20000 + RANDOM % 20000))
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# Runs COMMAND in the background and exits with its status. In the
# background so that a TERM or INT reaches the traps at once (bash runs traps
# only between foreground commands): the signal is passed on to COMMAND and
# the caller's EXIT trap still cleans up.
#   run_and_exit COMMAND [ARGS...]
run_and_exit() {
  "$@" &
  lib_child=$!
  trap 'kill -TERM "$lib_child" 2>/dev/null; exit 143' TERM
  trap 'kill -INT "$lib_child" 2>/dev/null; exit 130' INT
  local status=0
  wait "$lib_child" || status=$?
  exit "$status"
}

# Starts omsd on PORT with DATA_DIR and the admin TOKEN, its output appended
# to LOG, sets pid to its process id and waits (at most 30 s) until LOAD
# (oms-http-load) finds it ready; returns 1 when it never was, or exited.
# If another process took PORT since it was found free (omsd exits: address
# already in use), it starts again on another free port, at most 5 times,
# and sets the caller's `port` to the one it serves on: read it after.
#   start_omsd OMSD LOAD PORT DATA_DIR TOKEN LOG   (OMSD_ARGS: more flags)
start_omsd() {
  local omsd=$1 load=$2 data=$4 token=$5 log=$6 try second
  port=$3
  for try in 1 2 3 4 5; do
    local mark
    mark=$({ wc -c <"$log"; } 2>/dev/null || echo 0)
    # shellcheck disable=SC2086 # OMSD_ARGS: extra flags, split on spaces
    "$omsd" --port "$port" --data-dir "$data" --admin-token "$token" \
      --log-level warn ${OMSD_ARGS:-} >>"$log" 2>&1 &
    # shellcheck disable=SC2034 # the caller's
    pid=$!
    for second in $(seq 30); do
      "$load" wait --url "http://127.0.0.1:$port" --seconds 1 >/dev/null 2>&1 && return 0
      kill -0 "$pid" 2>/dev/null || break
    done
    kill -0 "$pid" 2>/dev/null && return 1 # up, never ready
    tail -c +"$((mark + 1))" "$log" | grep -q "Address already in use" || return 1
    echo "port $port was taken before omsd bound it (try $try); another" >&2
    port=$(free_port)
  done
  return 1
}

# Sleeps 0.3 .. 1.5 s, drawn at random: the traffic before a SIGKILL.
sleep_before_kill() {
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 120) / 100 }')"
}

# Runs the VERIFY command with its output in OUT and prints "cycle CYCLE:"
# with the output's last line, or FAILED and all of it, adding 1 to bad.
#   verify_cycle CYCLE OUT VERIFY [ARGS...]
verify_cycle() {
  local cycle=$1 out=$2
  shift 2
  if "$@" >"$out" 2>&1; then
    echo "cycle $cycle: $(tail -n 1 "$out")"
  else
    echo "cycle $cycle: FAILED"; cat "$out"
    bad=$((bad + 1))
  fi
}

# Overwrites two 4 KiB pages in the middle of the SQLite file FILE with
# random bytes: damage beyond what WAL recovery repairs.
damage_store() {
  local size
  size=$(stat -c %s "$1")
  dd if=/dev/urandom of="$1" bs=4096 seek=$((size / 8192)) count=2 conv=notrunc status=none
}

# Checks that WHAT on a damaged store stopped with exit WANT and OUT naming
# NAME; else says what happened and adds 1 to bad.
#   expect_refused CODE WANT NAME OUT WHAT
expect_refused() {
  local code=$1 want=$2 name=$3 out=$4 what=$5
  if [ "$code" -eq "$want" ] && grep -q "$name" "$out"; then
    echo "damaged store: $what refused it with exit $code: $(head -n 1 "$out")"
  else
    echo "damaged store: $what: expected exit $want naming the file, got exit $code:"
    cat "$out"
    bad=$((bad + 1))
  fi
}

# Makes and starts a throwaway PostgreSQL 15 cluster in DIR (which must
# exist) on a free port of 127.0.0.1, trusting local users, fsync on; sets
# pg_port and pg_as (the command prefix that runs as its owner: initdb
# refuses root, so root runs it as the postgres user). With "socket", it
# listens on no TCP port, only on its socket in DIR, which only its owner
# (and root) can reach: no other local user gets in. Exits 2 with the
# server's log when it cannot start. Stop it with pg_down DIR.
#   pg_up DIR [socket]
pg_up() {
  local dir=$1 pgbin=/usr/lib/postgresql/15/bin started=0 listen=127.0.0.1
  [ -x "$pgbin/initdb" ] || { echo "PostgreSQL 15 is not installed" >&2; exit 2; }
  if [ "${2:-}" = socket ]; then
    listen=
    chmod 700 "$dir"
  else
    chmod 755 "$dir"
  fi
  pg_as=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
    pg_as=(runuser -u postgres --)
  fi
  "${pg_as[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U oms --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log"; exit 2; }
  # A port found free can be taken by another process before the server
  # binds it (a test that just ended, any client's ephemeral port): then try
  # another.
  for _ in 1 2 3 4 5; do
    pg_port=$(free_port)
    if "${pg_as[@]}" "$pgbin/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" \
      -o "-c listen_addresses='$listen' -p $pg_port -k $dir -c fsync=on -c synchronous_commit=on -c max_connections=300" start >/dev/null; then
      started=1
      break
    fi
    grep -q "Address already in use" "$dir/server.log" || break
    echo "port $pg_port was taken before PostgreSQL bound it; another" >&2
  done
  [ "$started" -eq 1 ] || { cat "$dir/server.log"; exit 2; }
}

# Stops the PostgreSQL cluster pg_up made in DIR at once (no checkpoint:
# it is thrown away).
#   pg_down DIR
pg_down() {
  local as=()
  [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
  "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$1/data" -m immediate stop >/dev/null 2>&1 || true
}
