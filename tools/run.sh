#!/usr/bin/env bash
# The main job: install what is missing, build, and run omsd, the order
# system's HTTP daemon, on its embedded SQLite store in ./data (JSON over
# HTTP on 127.0.0.1:8080; stop it with Ctrl-C, it exits cleanly).
#   tools/run.sh [omsd flags...]        (see: build/omsd --help)
# Without --admin-token, the admin token is generated into DATA_DIR/admin.token.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh build -DOMS_BUILD_TESTS=OFF
data=${OMS_DATA_DIR:-./data}
cat >&2 <<INFO
omsd: starting on the SQLite store in $data. In another shell:
  export OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=\$(cat $data/admin.token)
  build/omsctl inventory receive BOOK-1 --qty 10 --price 49900
  examples/http/run-all.sh          (the scripted scenarios)
INFO
exec build/omsd --data-dir "$data" --config config/omsd.conf "$@"
