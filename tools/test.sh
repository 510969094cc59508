#!/usr/bin/env bash
# Installs what is missing, builds the normal and the sanitizer (ASan +
# UBSan) trees, checks formatting, and runs every test in both trees.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash tools/install-deps.sh

echo "== format check"
bash tools/format.sh --check

echo "== build (RelWithDebInfo)"
bash tools/build.sh build
echo "== build (ASan + UBSan)"
bash tools/build.sh build-asan -DOMS_SANITIZE=ON

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== tests (RelWithDebInfo)"
ctest --test-dir build --output-on-failure -j "$(nproc)"
echo "== tests (ASan + UBSan)"
ctest --test-dir build-asan --output-on-failure -j "$(nproc)"
echo "== all tests passed in $(( $(date +%s) - start )) s"
