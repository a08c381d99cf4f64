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
  # The sanitizer run uses POCL's basic driver alone: it runs kernels on the calling thread, and
  # clnn's host code takes the same paths on both CPU drivers, which the main run compares.
  export CLNN_BUILD_DIR=${CLNN_BUILD_DIR:-$root/build-sanitize}
  export CC=clang
  export CLNN_BUILD_TYPE=RelWithDebInfo
  # Kernels do not change with the host's sanitizers: reuse the main build's kernel caches.
  "$root/scripts/build.sh" -DCLNN_SANITIZE=ON -DCLNN_TEST_CACHE_DIR="$root/build" \
    -DCLNN_TEST_MATRIX=basic
  # intercept_tls_get_addr=0: POCL loads each compiled kernel as a shared object and unloads it
  # later; LeakSanitizer's record of the dynamic TLS blocks it saw through __tls_get_addr then
  # points at freed memory, and its tracer crashes reading it at exit ("Tracer caught signal 11",
  # "DTLS 9 at 0x000000000d8c" with verbosity=1; test_mlp, 5 runs in 15). Static TLS, stacks,
  # globals and the heap are still scanned.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-"detect_leaks=1:abort_on_error=0:halt_on_error=1:intercept_tls_get_addr=0"}
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
