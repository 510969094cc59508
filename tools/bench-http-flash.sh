#!/usr/bin/env bash
# A tiny flash sale against a real omsd: starts omsd on a temporary SQLite
# data dir, lets 4 HTTP clients buy 1 unit each until 200 units are sold
# out, and requires the one-line summary to show exactly 200 units granted,
# no 5xx and every invariant holding; then a short lifecycle run must pass
# its exact per-SKU check, and a wrong admin token must be refused.
#   tools/bench-http-flash.sh [BUILD_DIR] [PORT]    (default: build 28931)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
build=${1:-build}
port=${2:-28931}
omsd="$build/omsd"
load="$build/oms-http-load"
require_built bench-http-flash "$omsd" "$load"
dir=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
token=bench-http-flash-admin-token
start_omsd "$omsd" "$load" "$port" "$dir/data" "$token" "$dir/omsd.log" ||
  { cat "$dir/omsd.log"; exit 1; }
url="http://127.0.0.1:$port" # start_omsd may have moved to another port

bad=0
# Prints field $2 of the JSON line $1 (a number, or true/false).
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"; }
expect() {
  if [ "$2" = "$3" ]; then
    echo "  $1 = $2"
  else
    echo "  FAIL: $1 is '$2', expected '$3'"
    bad=$((bad + 1))
  fi
}

echo "== flash: 200 units, 4 clients"
"$load" run --url "$url" --token "$token" --workload flash --stock 200 \
  --clients 4 --seconds 30 --quiet >"$dir/flash.out"
code=$?
line=$(tail -n 1 "$dir/flash.out")
echo "$line"
expect "exit status" "$code" 0
expect "granted" "$(field "$line" granted)" 200
expect "grantedUnits" "$(field "$line" grantedUnits)" 200
expect "serverErrors" "$(field "$line" serverErrors)" 0
expect "invariantsOk" "$(field "$line" invariantsOk)" true
refused=$(field "$line" refused)
[ "${refused:-0}" -ge 4 ] && echo "  refused = $refused (every client at least once)" ||
  { echo "  FAIL: refused is '$refused', expected at least 4"; bad=$((bad + 1)); }

echo "== lifecycle: 0.5 s on 20 SKUs"
"$load" run --url "$url" --token "$token" --workload lifecycle --skus 20 \
  --clients 4 --seconds 0.5 --warmup 0.1 --quiet >"$dir/lifecycle.out"
code=$?
line=$(tail -n 1 "$dir/lifecycle.out")
echo "$line"
expect "exit status" "$code" 0
expect "invariantsOk" "$(field "$line" invariantsOk)" true
expect "exactCheck" "$(field "$line" exactCheck)" true
ops=$(field "$line" operations)
[ "${ops:-0}" -gt 0 ] && echo "  operations = $ops" ||
  { echo "  FAIL: no order was delivered"; bad=$((bad + 1)); }

echo "== a wrong admin token is refused before any load"
"$load" run --url "$url" --token wrong-token-123 --workload hot \
  --seconds 0.2 --quiet >"$dir/wrong.out" 2>&1
expect "exit status" "$?" 3

echo "bench-http-flash: $bad failed checks"
[ "$bad" -eq 0 ]
