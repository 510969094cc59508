#!/usr/bin/env bash
# Installs what is missing, builds the normal and the sanitizer (ASan +
# UBSan) trees, checks formatting, lints docs/openapi.yaml, and runs every
# test in both trees, with a throwaway PostgreSQL 15 cluster on 127.0.0.1
# for the store suites; then each fuzz target for a fixed number of inputs
# (tools/fuzz.sh --all-short, its own clang tree build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
last=$start
# Each phase's wall time, so a slow CI run says where the time went.
phase() {
  local now
  now=$(date +%s)
  echo "== $1  (the step before: $(( now - last )) s; $(( now - start )) s in all)"
  last=$now
}
bash tools/install-deps.sh

phase "format check"
bash tools/format.sh --check
phase "OpenAPI lint"
bash tools/lint-openapi.sh
phase "test names"
python3 tools/check-test-names.py .

# Both trees compile their largest targets in batches (OMS_UNITY_BUILD:
# about half the compile CPU of those targets) and link with lld (the
# sanitizer tree's links took 106 s of CPU with the default linker).
lean_build=(-DOMS_UNITY_BUILD=ON -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld)
# The test suites are forced on: tools/run.sh configures the same build/ tree
# with them off, and CMake would otherwise keep that cached choice.
phase "build (RelWithDebInfo)"
bash tools/build.sh build -DOMS_BUILD_TESTS=ON "${lean_build[@]}"
phase "build (ASan + UBSan)"
# clang at -O0 with line tables only: reports keep file and line, and the
# tree compiles in 0.38x the CPU of GCC at -O1 (700 s against 1,848 s here),
# while its tests run about as long (143-176 s against 167 s).
bash tools/build.sh build-asan -DCMAKE_CXX_COMPILER=clang++ \
  -DOMS_SANITIZE=ON -DOMS_BUILD_TESTS=ON \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g1 -DNDEBUG" "${lean_build[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# A leak inside libpqxx on a lost session, see tools/lsan.supp.
export LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp"
# The store suites run against SQLite and memory always, and against a
# throwaway PostgreSQL cluster on loopback (OMS_TEST_PG) started here.
phase "tests (RelWithDebInfo, with PostgreSQL)"
# --no-tests=error: a tree that found no tests fails instead of passing; and
# each test binary fails a run whose filter selects no test case
# (tests/main.cpp), so a case whose name ctest got wrong cannot pass
# unrun.
bash tools/with-postgres.sh ctest --test-dir build --output-on-failure \
  --no-tests=error -j "$(nproc)"
phase "tests (ASan + UBSan, with PostgreSQL)"
bash tools/with-postgres.sh ctest --test-dir build-asan --output-on-failure \
  --no-tests=error -j "$(nproc)"
phase "fuzz targets (short runs)"
bash tools/fuzz.sh --all-short
phase "done"
echo "== all tests passed in $(( $(date +%s) - start )) s"
