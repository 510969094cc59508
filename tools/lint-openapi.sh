#!/usr/bin/env bash
# Lints docs/openapi.yaml (or the spec given as $1) with Redocly CLI: its
# `recommended` rules as tools/openapi-lint/redocly.yaml sets them. Exits
# non-zero on any error; warnings are printed.
#
# The linter's version is pinned by tools/openapi-lint/package.json and
# package-lock.json and installed with `npm ci` into a cache outside the
# source tree, one directory per lockfile:
#   ${OMS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oms-tools}/openapi-lint-HASH
# Once it is there, a run needs no network. A change of the lockfile installs
# into a new directory; older ones can be deleted at will.
#
# Needs node >= 18.17 and npm: when either command is missing, installs
# Debian's nodejs and npm packages, and ca-certificates if it is missing
# (run as root, or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

spec=${1:-docs/openapi.yaml}
pins=tools/openapi-lint

# --- node and npm --------------------------------------------------------
missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# npm reaches the registry over TLS, with the system's CA certificates
# (nodejs only recommends the package).
if command -v dpkg-query >/dev/null 2>&1 &&
  ! dpkg-query -W -f='${Status}' ca-certificates 2>/dev/null |
    grep -q "install ok installed"; then
  missing+=(ca-certificates)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "lint-openapi: installing ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
# @redocly/cli 1.x asks for node >= 18.17 (Debian 12 has 18.20).
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
              process.exit(a > 18 || (a === 18 && b >= 17) ? 0 : 1)'; then
  echo "lint-openapi: node $(node --version) is too old: 18.17 or later needed" >&2
  exit 1
fi

# --- the pinned linter ---------------------------------------------------
pinned=$(node -p "require('./$pins/package.json').dependencies['@redocly/cli']")
cache=${OMS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oms-tools}
key=$(cat "$pins/package.json" "$pins/package-lock.json" | sha256sum | cut -c1-16)
dir=$cache/openapi-lint-$key

installed_version() {
  [ -f "$1/node_modules/@redocly/cli/package.json" ] || return 0
  node -p "require('$1/node_modules/@redocly/cli/package.json').version"
}

if [ "$(installed_version "$dir")" != "$pinned" ]; then
  echo "lint-openapi: installing @redocly/cli $pinned into $dir"
  mkdir -p "$cache"
  # Install beside the final directory and move it in place when complete:
  # an interrupted install leaves no half tree, and two runs at once (two
  # work trees) do not write into the same one.
  tmp=$(mktemp -d "$dir.tmp.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  cp "$pins/package.json" "$pins/package-lock.json" "$tmp/"
  # The linter needs no install scripts (the only one in the tree is
  # core-js's banner).
  npm ci --prefix "$tmp" --no-audit --no-fund --ignore-scripts \
    --loglevel=error >/dev/null
  if [ "$(installed_version "$tmp")" != "$pinned" ]; then
    echo "lint-openapi: npm ci did not install @redocly/cli $pinned" >&2
    exit 1
  fi
  # Another run may have put it in place meanwhile: then keep that one.
  if [ "$(installed_version "$dir")" != "$pinned" ]; then
    rm -rf "$dir"
    mv -T "$tmp" "$dir"
  fi
  rm -rf "$tmp"
  trap - EXIT
fi

# --- lint ----------------------------------------------------------------
# No usage data sent, no check for a newer version: the run stays offline.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
exec node "$dir/node_modules/@redocly/cli/bin/cli.js" lint \
  --config "$pins/redocly.yaml" --lint-config error "$spec"
