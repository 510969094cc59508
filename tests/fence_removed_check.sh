#!/usr/bin/env bash
# The cluster's tests catch a missing fence (issue item: "the fence check
# removed on purpose in a test build"). Runs the e2e case of a node frozen
# on its link with a reservation in flight against omsd-unfenced, the test
# build whose fence lets every commit through (system/daemon/shard_fence.cpp,
# OMS_FENCE_REMOVED), and passes only if that case fails the way a double
# grant does: the frozen node's order acknowledged, and more units held in
# PostgreSQL than the SKU received. The same case passes against omsd (it
# runs in the e2e suite).
#
#   tests/fence_removed_check.sh OMS_E2E OMSD_UNFENCED
# Needs the PostgreSQL the e2e cluster cases use (OMS_TEST_PG, as set by
# tools/with-postgres.sh).
set -u
e2e=$1
unfenced=$2
case_name='e2e cluster: a node frozen on its link with a reservation in flight*'

if [ -z "${OMS_TEST_PG:-}" ]; then
  echo "fence_removed_check: no PostgreSQL (OMS_TEST_PG): nothing shown" >&2
  exit 1
fi
out=$(OMS_E2E_OMSD="$unfenced" "$e2e" --test-case="$case_name" 2>&1)
status=$?
printf '%s\n' "$out"
if [ "$status" -eq 0 ]; then
  echo "fence_removed_check: FAILED: without its fence the case still passed" >&2
  exit 1
fi
ok=1
# The frozen node's stale order was acknowledged...
grep -q 'CHECK( stale.status != 201 ) is NOT correct' <<<"$out" || ok=0
# ...and PostgreSQL holds the 5 units twice.
grep -q 'CHECK( held == 5 ) is NOT correct' <<<"$out" || ok=0
grep -q 'values: CHECK( 10 == 5 )' <<<"$out" || ok=0
if [ "$ok" -ne 1 ]; then
  echo "fence_removed_check: FAILED: the case failed, but not as a double" \
       "grant does (see above)" >&2
  exit 1
fi
echo "fence_removed_check: without its fence, the double grant is caught" \
     "(acknowledged at the frozen node; 10 units held of 5)"
