#!/usr/bin/env bash
# The fuzz targets of tests/fuzz/ (docs/reliability.md, "Fuzzing"): built
# with clang in build-fuzz (libFuzzer, AddressSanitizer, UBSan; configured
# and built here when needed), each run with its seed corpus
# (tests/fuzz/corpus/TARGET) and dictionaries (tests/fuzz/dict).
#   tools/fuzz.sh TARGET SECONDS [LIBFUZZER ARGS...]
#       fuzzes TARGET for SECONDS; what it finds goes to a scratch
#       directory, FUZZ_SCRATCH (default build-fuzz/scratch/TARGET): new
#       inputs in corpus/, crashing ones as crash-*, never into the
#       repository. Exit status 1 when an input crashed.
#   tools/fuzz.sh --all-short [RUNS]
#       every target for a fixed number of inputs from its seed corpus (its
#       own, see short_runs, about 40 s of CPU in all; or RUNS each), in a
#       throwaway directory; fails on any crash (tools/test.sh).
#   tools/fuzz.sh --build    configures and builds the fuzz tree only
#   tools/fuzz.sh --list     names the targets
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dir=$root/build-fuzz
targets=(strict_json_fuzz request_body_fuzz http_route_fuzz store_event_fuzz
  wms_answer_fuzz omsd_config_fuzz wms_sim_config_fuzz wms_sim_request_fuzz)

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Inputs per target in --all-short: the cheap parsers get more, the ones
# that build a CLI11 app or a warehouse per input fewer.
short_runs() {
  case $1 in
    strict_json_fuzz | http_route_fuzz) echo 100000 ;;
    wms_answer_fuzz | store_event_fuzz) echo 60000 ;;
    request_body_fuzz) echo 40000 ;;
    wms_sim_config_fuzz) echo 6000 ;;
    omsd_config_fuzz) echo 3000 ;;
    *) echo 4000 ;;
  esac
}

# The dictionaries of a target.
dicts_of() {
  case $1 in
    http_route_fuzz) echo http ;;
    store_event_fuzz) echo json store ;;
    omsd_config_fuzz) echo config ;;
    wms_sim_config_fuzz) echo config json ;;
    wms_sim_request_fuzz) echo http json ;;
    *) echo json ;;
  esac
}

build() {
  if ! command -v clang++ >/dev/null; then
    echo "fuzz: clang++ is missing (tools/install-deps.sh installs it)" >&2
    exit 1
  fi
  if [ ! -f "$dir/build.ninja" ]; then
    # Line tables and assertions on: a report names file and line, and an
    # assert in a parser is a finding too.
    cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOMS_FUZZ=ON -DOMS_BUILD_TESTS=OFF \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" >/dev/null
  fi
  cmake --build "$dir" --target fuzz -j "$(nproc)"
}

# Writes the dictionaries of target $1 into file $2.
merge_dicts() {
  local d
  : >"$2"
  for d in $(dicts_of "$1"); do
    cat "tests/fuzz/dict/$d.dict" >>"$2"
  done
}

known() {
  local t
  for t in "${targets[@]}"; do
    [ "$t" = "$1" ] && return 0
  done
  return 1
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case ${1:-} in
  --list)
    printf '%s\n' "${targets[@]}"
    ;;
  --build)
    build
    ;;
  --all-short)
    build >/dev/null
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    failed=()
    for t in "${targets[@]}"; do
      runs=${2:-$(short_runs "$t")}
      mkdir -p "$scratch/$t/corpus"
      merge_dicts "$t" "$scratch/$t/dict"
      # -seed=1: the same inputs every time, so a failure repeats.
      if (cd "$scratch/$t" && TMPDIR="$scratch/$t" /usr/bin/time -o cpu \
        -f '%U %S' "$dir/tests/fuzz/$t" -runs="$runs" -seed=1 -timeout=25 \
        -dict=dict -artifact_prefix="$scratch/$t/" corpus \
        "$root/tests/fuzz/corpus/$t" >log 2>&1); then
        read -r user sys <"$scratch/$t/cpu"
        printf 'fuzz: %-22s %6d runs  ok  (CPU %s s user, %s s sys)\n' "$t" \
          "$runs" "$user" "$sys"
      else
        echo "fuzz: $t FAILED; the end of its log:" >&2
        tail -40 "$scratch/$t/log" >&2
        for crash in "$scratch/$t"/crash-* "$scratch/$t"/leak-* \
          "$scratch/$t"/timeout-*; do
          [ -e "$crash" ] && cp "$crash" "$root/build-fuzz/" &&
            echo "fuzz: input kept as build-fuzz/$(basename "$crash")" >&2
        done
        failed+=("$t")
      fi
    done
    if [ ${#failed[@]} -gt 0 ]; then
      echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
      exit 1
    fi
    ;;
  -* | "")
    usage
    ;;
  *)
    t=$1
    secs=${2:-}
    known "$t" || { echo "fuzz: no target $t (tools/fuzz.sh --list)" >&2; exit 2; }
    [[ $secs =~ ^[0-9]+$ ]] || usage
    shift 2
    build >/dev/null
    scratch=${FUZZ_SCRATCH:-$dir/scratch/$t}
    mkdir -p "$scratch/corpus"
    merge_dicts "$t" "$scratch/dict"
    cd "$scratch"
    TMPDIR=$scratch exec "$dir/tests/fuzz/$t" -max_total_time="$secs" \
      -timeout=25 -dict=dict -artifact_prefix="$scratch/" "$@" corpus \
      "$root/tests/fuzz/corpus/$t"
    ;;
esac
