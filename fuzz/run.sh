#!/usr/bin/env bash
# Runs every libFuzzer target of the sanitizer build for a fixed time each, over its committed
# seeds (fuzz/corpus/<target>/, read only) plus a scratch corpus, and fails on the first finding.
#   fuzz/run.sh                       10 s per target (what CI runs, about a minute in all)
#   fuzz/run.sh --seconds 600         a longer run: 10 minutes per target
#   fuzz/run.sh --seconds 60 tuning   chosen targets only (idx idx_gzip tuning cache_entry
#                                     checkpoint layers)
# Build first: ./scripts/test.sh --sanitize (or configure with CC=clang -DCLNN_SANITIZE=ON).
# $CLNN_BUILD_DIR names the build (default build-sanitize/). A finding is kept as
# fuzz-findings/<target>/crash-* in the build directory; rerun it with
# build-sanitize/fuzz/fuzz_<target> FILE. The last lines of each run (execs, cov, ft) are printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CLNN_BUILD_DIR:-$root/build-sanitize}
seconds=10
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(idx idx_gzip tuning cache_entry checkpoint layers)

# POCL's basic driver runs kernels on the calling thread (the checkpoint target builds a model
# at start-up); clnn's and POCL's kernel caches live in the build directory.
export POCL_DEVICES=${POCL_DEVICES:-basic}
export CLNN_CACHE_DIR=${CLNN_CACHE_DIR:-$build/fuzz-cache}
export POCL_CACHE_DIR=${POCL_CACHE_DIR:-$build/fuzz-pocl-cache}
export ASAN_OPTIONS=${ASAN_OPTIONS:-"detect_leaks=1:abort_on_error=0"}
export LSAN_OPTIONS=${LSAN_OPTIONS:-"suppressions=$root/tests/lsan.supp:print_suppressions=0"}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-"print_stacktrace=1:halt_on_error=1"}

status=0
for t in "${targets[@]}"; do
  exe=$build/fuzz/fuzz_$t
  seeds=$root/fuzz/corpus/$t
  if [ ! -x "$exe" ] || [ ! -d "$seeds" ]; then
    echo "fuzz/run.sh: no target $t ($exe, $seeds); build with ./scripts/test.sh --sanitize" >&2
    exit 2
  fi
  work=$build/fuzz-corpus/$t
  findings=$build/fuzz-findings/$t
  mkdir -p "$work" "$findings"
  log=$build/fuzz-findings/$t.log
  echo "fuzz $t: $seconds s"
  if "$exe" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
       -artifact_prefix="$findings/" "$work" "$seeds" >"$log" 2>&1; then
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true
  else
    status=1
    echo "fuzz $t FOUND A PROBLEM (log: $log):" >&2
    grep -vE '^#[0-9]+[[:space:]]' "$log" | tail -40 >&2 || true
  fi
done
exit $status
