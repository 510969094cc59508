#!/usr/bin/env bash
# Configures and builds one build tree.
#   tools/build.sh [DIR] [extra cmake args...]   (default DIR: build)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
# A tree configured with another compiler than the one asked for starts
# afresh: CMake would otherwise empty its cache itself and drop every other
# -D given here (a sanitizer tree would quietly build without sanitizers).
for arg in "$@"; do
  case $arg in
    -DCMAKE_CXX_COMPILER=*)
      wanted=$(command -v "${arg#*=}" || echo "${arg#*=}")
      cached=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' \
        "$dir/CMakeCache.txt" 2>/dev/null || true)
      if [ -n "$cached" ] && [ "$cached" != "$wanted" ]; then
        echo "build: $dir was configured with $cached; configuring it afresh"
        rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
      fi
      ;;
  esac
done
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
