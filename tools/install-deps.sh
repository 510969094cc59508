#!/usr/bin/env bash
# Installs the Debian 12 packages the order system needs to build and test,
# skipping those already present. Run as root (or through sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libcaf-dev nlohmann-json3-dev doctest-dev libsqlite3-dev sqlite3
  libpqxx-dev postgresql-15
  libcli11-dev libboost1.81-dev libmimalloc-dev
  libssl-dev libcurl4-openssl-dev libyaml-cpp-dev curl
  # the throwaway certificates of the cluster's TLS tests
  openssl
  clang-format
  # clang with libFuzzer and the sanitizer runtimes: the fuzz targets
  # (tools/fuzz.sh, which times them with /usr/bin/time)
  clang libclang-rt-14-dev time
  # the linker of the test command's trees (tools/test.sh)
  lld
  redis-server libhiredis-dev jq
  # the webhook receiver of the end-to-end tests, which checks signatures
  # with code of its own
  python3
  # the console's browser tests (console/tests), driven by playwright-core
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Node.js and npm build the console (console/package-lock.json): Debian's
# unless a node with npm is there already (another packaging of it would
# conflict with Debian's npm).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a default cluster when it installs PostgreSQL; the tests run
  # their own throwaway cluster, so nothing of ours is left listening.
  if printf '%s\n' "${missing[@]}" | grep -qx postgresql-15; then
    "${as_root[@]}" pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
  fi
  # Likewise the default Redis: the bench tests start their own (bench/with-redis.sh).
  if printf '%s\n' "${missing[@]}" | grep -qx redis-server; then
    "${as_root[@]}" service redis-server stop >/dev/null 2>&1 || true
  fi
fi

# The console's libraries, exactly as locked, unless already there.
cd "$(dirname "$0")/../console"
if ! npm ls --all >/dev/null 2>&1 || [ ! -d node_modules/uplot ]; then
  echo "install-deps: npm ci in console/"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "install-deps: done"
