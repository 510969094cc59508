#!/usr/bin/env bash
# The main job: install what is missing, build, and run the scripted
# scenarios against the real actors on the embedded SQLite store in ./data
# (prints every step and its result; a second run continues on the same
# store).
#   tools/run.sh [scenario names...]    (see: build/oms-scenarios --list)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh build -DOMS_BUILD_TESTS=OFF
exec build/oms-scenarios --data-dir "${OMS_DATA_DIR:-./data}" "$@"
