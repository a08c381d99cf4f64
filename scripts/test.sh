#!/usr/bin/env bash
# Quick start, second command: installs what is missing, builds, and runs the whole test suite
# through ctest on the test matrix (tests/CMakeLists.txt): POCL's pthread and basic drivers,
# Oclgrind and Mesa rusticl on llvmpipe, each test in both kernel forms.
#   --sanitize   build with clang, AddressSanitizer and UndefinedBehaviorSanitizer into
#                build-sanitize/ and run the suite there on POCL's basic driver, then each fuzz
#                target for 10 s (CLNN_FUZZ_SECONDS; CI does both runs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"

if [ "${1:-}" = "--sanitize" ]; then
  # POCL's pthread driver keeps worker threads alive until exit (it never joins them), and
  # LeakSanitizer's stop-the-world tracer intermittently crashes on them at exit ("Tracer caught
  # signal 11", seen in CI dry runs). The basic driver runs kernels on the calling thread, so the
  # sanitizer run uses it alone: clnn's host code takes the same paths on both CPU drivers, and
  # the main run above exercises and compares both.
  export CLNN_BUILD_DIR=${CLNN_BUILD_DIR:-$root/build-sanitize}
  export CC=clang
  export CLNN_BUILD_TYPE=RelWithDebInfo
  # Kernels do not change with the host's sanitizers: reuse the main build's kernel caches.
  "$root/scripts/build.sh" -DCLNN_SANITIZE=ON -DCLNN_TEST_CACHE_DIR="$root/build" \
    -DCLNN_TEST_MATRIX=basic
  export ASAN_OPTIONS=${ASAN_OPTIONS:-"detect_leaks=1:abort_on_error=0:halt_on_error=1"}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-"suppressions=$root/tests/lsan.supp:print_suppressions=0"}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-"print_stacktrace=1:halt_on_error=1"}
else
  "$root/scripts/build.sh"
fi
cd "${CLNN_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)" --timeout 900
if [ "${1:-}" = "--sanitize" ]; then
  # Each libFuzzer target for a few seconds over its seeds (a longer run: fuzz/run.sh --seconds N).
  "$root/fuzz/run.sh" --seconds "${CLNN_FUZZ_SECONDS:-10}"
fi
