#!/usr/bin/env bash
# Fails (exit 1, naming file and line) when an include points up a layer.
# The layers, bottom to top, each a library of its own:
#   messages/  the vocabulary: includes messages/ only
#   actors/    includes messages/, actors/ and the logging header system/log.hpp
#   system/    stores, adapters, the HTTP front and the programs: includes any
#              of the above, never tests/, bench/ or examples/
# The build runs it before compiling anything (target check_layers).
#   tools/check-layers.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# Prints the includes of the files under $1 whose target matches none of the
# allowed patterns that follow.
violations() {
  local dir=$1
  shift
  local allowed
  allowed=$(printf '%s|' "$@")
  grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$dir" \
    --include='*.hpp' --include='*.cpp' --include='*.h' |
    grep -vE "#[[:space:]]*include[[:space:]]*\"(${allowed%|})\"" || true
}

bad=$(
  violations messages 'messages/[^"]+'
  violations actors 'messages/[^"]+' 'actors/[^"]+' 'system/log\.hpp'
  violations system 'messages/[^"]+' 'actors/[^"]+' 'system/[^"]+'
)
if [ -n "$bad" ]; then
  echo "check-layers: includes that point up a layer (see tools/check-layers.sh):" >&2
  printf '%s\n' "$bad" | sed 's/^/  /' >&2
  exit 1
fi
